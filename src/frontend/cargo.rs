//! cargo's credential-provider protocol (`credential-oauth --cargo-plugin`,
//! cargo ≥ 1.74): a hello, one request line, one answer line, exit 0 —
//! also after an `Err` answer, since cargo treats any other exit status as
//! fatal and reads the failure from the answer.
//!
//! stdin and stdout are cargo's pipes: everything for the person goes
//! through the [`Prompt`](crate::prompt::Prompt) (stderr and the terminal).
//!
//! `login` runs the provider's grant now. cargo's `login-url` is a web page
//! where a person gets a registry token, not an OAuth authorization server,
//! so it never becomes an issuer (DESIGN.md "Trust": only configuration, or
//! discovery on an allowed host, names an issuer). With no provider for the
//! registry, `login` answers `url-not-supported`, so cargo can try its next
//! provider, with a message that names the index URL and that page.

use super::Caller;
use crate::context::{Answer, Context};
use crate::error::{Error, Result};
use crate::manager::Manager;
use crate::protocol::cargo::{
    self, Action, Cache, Failure, FailureKind, Hello, Request, Response, Success,
};
use crate::resolver::Binding;
use crate::secret::Secret;
use std::io::{Read, Write};
use url::Url;

/// One exchange with cargo. A failure is answered to cargo as
/// `{"Err":{"kind":"other",…}}`; "not mine" and "nothing here" are
/// answers, not failures.
pub struct Cargo(Request);

impl Caller for Cargo {
    /// The hello, then cargo's one request line; its `args` may ask for
    /// diagnostics.
    fn parse(
        _words: &[String],
        stdin: &mut dyn Read,
        stdout: &mut dyn Write,
        _ctx: &Context,
    ) -> Result<(Self, bool)> {
        Hello::current().write_to(stdout)?;
        let request = Request::parse(&cargo::read_line(stdin)?)?;
        let verbose = request.args.iter().any(|a| a == "-v" || a == "--verbose");
        Ok((Cargo(request), verbose))
    }

    fn answer(self, ctx: &Context, _stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<()> {
        let response = answer(&self.0, ctx)?;
        cargo::write_response(&response, stdout)
    }

    fn failed(error: &Error, _ctx: &Context, stdout: &mut dyn Write) {
        let _ = cargo::write_response(&Err(Failure::other(&error.to_string())), stdout);
    }
}

fn answer(request: &Request, ctx: &Context) -> Result<Response> {
    for arg in request
        .args
        .iter()
        .filter(|a| *a != "-v" && *a != "--verbose")
    {
        crate::debug!("ignoring the argument {arg:?} from cargo");
    }
    let registry = &request.registry;
    let Some(url) = index_url(registry.url()) else {
        crate::debug!("cargo's index URL is not an http(s) URL; not ours");
        return Ok(Err(Failure::url_not_supported()));
    };
    let challenges = registry.challenges();
    crate::debug!(
        "cargo asks for {} at {url} with {} challenge(s)",
        kind(&request.action),
        challenges.len()
    );
    let found = ctx.binding(&crate::resolver::Request {
        challenges: &challenges,
        ..crate::resolver::Request::to(url.clone())
    })?;
    let Some(binding) = found else {
        crate::debug!("leaving {url} to cargo's other providers");
        return Ok(Err(match &request.action {
            Action::Login(options) => not_ours_at_login(&url, options.login_url.as_deref()),
            _ => Failure::url_not_supported(),
        }));
    };
    match &request.action {
        Action::Get(_) => get(ctx, binding, &request.registry),
        Action::Login(options) => login(ctx, &binding, options.token.as_ref()),
        Action::Logout => logout(ctx, &binding),
        Action::Unknown => Ok(Err(Failure::new(
            FailureKind::OperationNotSupported,
            Some("credential-oauth does not know this kind of cargo request"),
        ))),
    }
}

/// Our token, whatever the operation: `operation_independent`, and kept by
/// cargo until the moment we would stop handing it out ourselves; only
/// when every place the registry's `config.json` sends it lies inside the
/// provider's `url` (see [`registry_binding`]).
fn get(ctx: &Context, binding: Binding, registry: &cargo::Registry) -> Result<Response> {
    // DESIGN.md "Nobody to ask": the caller's "not found", at once, and
    // the line naming the login command. cargo shows no message of a
    // `not-found`, so the line goes to the person too.
    let not_found = |line: String| Ok(Err(Failure::new(FailureKind::NotFound, Some(&line))));
    let binding = match ctx.attempt(|| registry_binding(ctx, &binding, &registry.index_url)) {
        Ok(Ok(binding)) => binding,
        Ok(Err(line)) => return not_found(line),
        Err(e @ (Error::Outside { .. } | Error::BadAnswer(_))) => {
            return Ok(Err(Failure::other(&e.to_string())));
        }
        Err(e) => return Err(e),
    };
    let fetched = match ctx.token(binding, Manager::token)? {
        Answer::Token(_, fetched) => fetched,
        Answer::NotFound(line) => return not_found(line),
        Answer::NotMine => return Ok(Err(Failure::url_not_supported())),
    };
    let token = &fetched.token;
    Ok(Ok(Success::Get {
        token: Secret::new(format!("Bearer {}", token.access_token.expose())),
        // A token used until the server rejects it is kept for cargo's
        // session only.
        cache: match token.usable_until() {
            Some(expiration) => Cache::Expires { expiration },
            None => Cache::Session,
        },
        operation_independent: true,
    }))
}

/// How long the places an index's `config.json` names are trusted before
/// it is read again. cargo reads it on every run; a short time keeps the
/// window small in which an index owner could move `dl` elsewhere after
/// the check.
const INDEX_CONFIG_TTL: u64 = 300;

/// The binding for a sparse index once the places cargo will send the token
/// to are known: the index, and the `dl` and `api` of its `config.json`
/// (DESIGN.md "Trust"). The helper reads `config.json` itself, without a
/// token first and, when the index wants one, with the token sent to the
/// index alone (which the provider covers; redirects are never followed);
/// the places are remembered per index URL for [`INDEX_CONFIG_TTL`].
/// `index_url` is as cargo writes it: a git index (no `sparse+`) is
/// refused, since its `config.json` is inside a git repository this helper
/// cannot read.
pub(super) fn registry_binding(
    ctx: &Context,
    binding: &Binding,
    index_url: &str,
) -> Result<Binding> {
    // A token cargo could not use is not worth reading the index for.
    Manager::check_fixed_header(binding)?;
    let provider = &binding.provider;
    let name = crate::prompt::escape(&provider.name);
    let Some(url) = index_url.strip_prefix("sparse+").and_then(self::index_url) else {
        return Err(Error::Refused(format!(
            "{name}: credential-oauth serves sparse registries only (sparse+https://…): a git \
             index's config.json, which says where cargo sends the token, cannot be checked"
        )));
    };
    let places = index_places(ctx, binding, &url)?;
    ctx.resolver()?.bind(
        provider.clone(),
        binding.resource.clone(),
        &crate::resolver::Request {
            destinations: places,
            username: (!binding.account.is_empty()).then(|| binding.account.clone()),
            ..crate::resolver::Request::to(url)
        },
    )
}

/// The places the index's `config.json` names, from the cache or read now.
fn index_places(ctx: &Context, binding: &Binding, index: &Url) -> Result<Vec<Url>> {
    use crate::protocol::cargo_index::IndexConfig;
    let now = crate::token::now();
    let cache = ctx.resolver()?.documents();
    let config =
        match cache.get_within::<IndexConfig>("cargo-index", index.as_str(), now, INDEX_CONFIG_TTL)
        {
            Some(config) => config,
            None => {
                let mut base = index.clone();
                if !base.path().ends_with('/') {
                    base.set_path(&format!("{}/", base.path()));
                }
                let at = base
                    .join("config.json")
                    .map_err(|e| Error::Input(format!("cargo's index URL: {e}")))?;
                let http = crate::http::Http::new(&binding.provider.transport)?;
                let doc = match http.get_json(&at) {
                    Err(Error::Status { status: 401, .. } | Error::OAuth { status: 401, .. }) => {
                        crate::debug!("{at} wants a token; reading it with the provider's");
                        let token = ctx.manager()?.token(binding)?.token.access_token;
                        http.get_json_with_bearer(&at, &token)?
                    }
                    other => other?,
                };
                let config = IndexConfig::parse(&doc)?;
                cache.put("cargo-index", index.as_str(), &config, now);
                config
            }
        };
    crate::debug!(
        "index {index}: dl {:?}, api {:?}",
        crate::http::printable(&config.dl, 200),
        config
            .api
            .as_deref()
            .map(|a| crate::http::printable(a, 200))
    );
    config.places()
}

/// `cargo login`: the provider's grant now. A token given to `cargo login`
/// (argument or stdin) is refused rather than ignored: ours come from the
/// authorization server, and silently dropping one the person typed would
/// leave them wondering which is used.
fn login(ctx: &Context, binding: &Binding, given: Option<&Secret>) -> Result<Response> {
    if given.is_some_and(|t| !t.expose().trim().is_empty()) {
        return Ok(Err(Failure::other(&format!(
            "{}: credential-oauth gets its tokens by OAuth and does not keep a token given to `cargo login`; \
             run `cargo login` without one",
            crate::prompt::escape(&binding.provider.name)
        ))));
    }
    let token = ctx.manager()?.login(binding)?;
    ctx.prompt().say(&format!(
        "credential-oauth: logged in to {} (token {})",
        crate::prompt::escape(&binding.provider.name),
        crate::commands::valid_until(&token)
    ));
    Ok(Ok(Success::Login))
}

/// `cargo logout`: forget and revoke, as `credential-oauth logout`. With
/// nothing cached, `not-found`: cargo then says "not currently logged in".
fn logout(ctx: &Context, binding: &Binding) -> Result<Response> {
    let outcome = ctx.manager()?.logout(binding)?;
    let name = crate::prompt::escape(&binding.provider.name);
    crate::commands::logout::report_revocation(&name, outcome.revocation, ctx.prompt());
    Ok(if outcome.removed {
        // Every provider that shared the token lost it too: say so, as
        // `credential-oauth logout` does.
        let names = crate::commands::logout::sharing_binding(ctx, binding)?;
        ctx.prompt()
            .say(&crate::commands::logout::logged_out(&names));
        Ok(Success::Logout)
    } else {
        Err(Failure::new(
            FailureKind::NotFound,
            Some(&format!("{name} had no cached token")),
        ))
    })
}

/// `url-not-supported` at `cargo login`, saying why: cargo may have no
/// other provider, and then the person wants to know what to configure.
fn not_ours_at_login(url: &Url, login_url: Option<&str>) -> Failure {
    let page = login_url
        .and_then(|u| Url::parse(u).ok())
        .map(|u| format!(" (the registry's login page, {u}, is for people, not an OAuth issuer)"))
        .unwrap_or_default();
    Failure::new(
        FailureKind::UrlNotSupported,
        Some(&format!(
            "no credential-oauth provider is configured for {url}; add one whose url covers the index, dl and api: credential-oauth init {url}{page}"
        )),
    )
}

/// The request's kind as cargo names it, for diagnostics.
fn kind(action: &Action) -> &'static str {
    match action {
        Action::Get(_) => "get",
        Action::Login(_) => "login",
        Action::Logout => "logout",
        Action::Unknown => "an unknown kind",
    }
}

/// The index URL when it is an http(s) URL: a git index (`https://…`)
/// can be a provider's too; `file://` or a bare path cannot.
fn index_url(raw: &str) -> Option<Url> {
    let url = Url::parse(raw).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.has_host()).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_index_urls_can_be_ours() {
        assert!(index_url("https://r.example/index/").is_some());
        assert!(index_url("http://127.0.0.1:1/index/").is_some());
        assert!(index_url("file:///srv/index").is_none());
        assert!(index_url("sparse+https://r.example/").is_none());
        assert!(index_url("not a url").is_none());
    }

    #[test]
    fn login_without_a_provider_names_the_index_and_the_page() {
        let url = Url::parse("https://r.example/index/").unwrap();
        let f = not_ours_at_login(&url, Some("https://r.example/me"));
        assert_eq!(f.kind, FailureKind::UrlNotSupported);
        let m = f.message.unwrap();
        assert!(m.contains("https://r.example/index/") && m.contains("https://r.example/me"));
        let m = not_ours_at_login(&url, Some("\u{1b}[2J")).message.unwrap();
        assert!(!m.contains('\u{1b}'), "{m}");
    }
}
