//! Tokens for a resource server a person named on the command line (an MCP
//! server: `mcp URL`, `headers URL`, `login URL`), per the MCP
//! authorization spec: a configured provider covering the URL is used as
//! configured; else the provider found by RFC 9728 discovery earlier (kept
//! in the store); else the server is asked (its 401), its metadata read,
//! and the issuer it names gets a public client. Every token is bound to
//! the server's canonical URL (RFC 8707) and cached under it.
//!
//! What the server says later is acted on here too: 401 `invalid_token`
//! (the token is dropped, then refreshed or obtained once), 401
//! `insufficient_user_authentication` (RFC 9470: a token from a login
//! with the acr values and `max_age` asked for) and 403
//! `insufficient_scope` (one login for the union of the scopes).
//!
//! A `dpop = true` provider's token comes as a [`Credential::Dpop`] with
//! the key it is bound to: each request to the server then carries a
//! proof of its own (RFC 9449 §7).

use crate::config::Provider;
use crate::context::Context;
use crate::discovery::{self, resource_server};
use crate::error::{Error, Result};
use crate::grant::dpop;
use crate::http::challenge::StepUp;
use crate::http::stream::ResourceHttp;
use crate::http::{Http, Method, Transport};
use crate::manager::Manager;
use crate::resolver::{Binding, Request, Resolver};
use crate::secret::Secret;
use crate::token::Token;
use std::sync::Arc;
use url::Url;

/// What a request to the server carries: a bearer token, or a DPoP-bound
/// token and the key that signs each request's proof.
#[derive(Debug, Clone)]
pub enum Credential {
    Bearer(Secret),
    Dpop { token: Secret, key: Arc<dpop::Key> },
}

impl PartialEq for Credential {
    /// The same token: keys go with tokens.
    fn eq(&self, other: &Credential) -> bool {
        self.token() == other.token()
    }
}

impl Credential {
    pub fn token(&self) -> &Secret {
        match self {
            Credential::Bearer(token) | Credential::Dpop { token, .. } => token,
        }
    }

    /// The headers of one request, `method` to `url`: `Authorization:
    /// Bearer`, or `Authorization: DPoP` and a fresh `DPoP` proof for
    /// exactly that request, with the server's `nonce` when it gave one
    /// (RFC 9449 §7.1, §9).
    pub fn headers(
        &self,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
    ) -> Result<Vec<(&'static str, String)>> {
        Ok(match self {
            Credential::Bearer(token) => {
                vec![("Authorization", format!("Bearer {}", token.expose()))]
            }
            Credential::Dpop { token, key } => {
                let proof = key.proof(method, url, nonce, Some(token), crate::token::now())?;
                vec![
                    (
                        "Authorization",
                        format!("{} {}", dpop::TOKEN_TYPE, token.expose()),
                    ),
                    ("DPoP", proof.expose().to_string()),
                ]
            }
        })
    }
}

/// The token for one resource server, and how it was found.
pub struct Access<'c, 'p> {
    /// The server's canonical URL: where the token goes, and what it is for.
    url: Url,
    ctx: &'c Context<'p>,
    binding: Option<Binding>,
}

impl<'c, 'p> Access<'c, 'p> {
    /// `arg` as typed; the binding is looked up without any network.
    pub fn new(ctx: &'c Context<'p>, arg: &str) -> Result<Access<'c, 'p>> {
        let typed = parse_url(arg)?;
        let mut access = Access {
            url: resource_server::canonical(&typed),
            ctx,
            binding: None,
        };
        access.binding = access.known()?;
        Ok(access)
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    fn resolver(&self) -> Result<&'c Resolver> {
        self.ctx.resolver()
    }

    fn manager(&self) -> Result<&'c Manager<'p>> {
        self.ctx.manager()
    }

    /// How the server is reached: the configured provider's transport
    /// (`ca_file`, `allow_insecure_http`), else the default.
    pub fn transport(&self) -> Transport {
        self.binding
            .as_ref()
            .map(|b| b.provider.transport.clone())
            .unwrap_or_default()
    }

    /// A configured provider covering the URL (the config file, then git's
    /// config), bound to the URL; else the provider discovery found for it
    /// before.
    fn known(&self) -> Result<Option<Binding>> {
        let config = self.resolver()?.config();
        let configured = config
            .provider_for(&self.url)
            .cloned()
            .or_else(|| crate::config::gitconfig::provider_for(&self.url).map(Arc::new))
            .filter(|p| !p.issuer.is_empty());
        let (provider, resource) = match configured {
            Some(p) => {
                crate::debug!("provider {:?} matches {}", p.name, self.url);
                let mut p = Arc::unwrap_or_clone(p);
                p.resource_indicator = Some(self.url.to_string());
                (Arc::new(p), None)
            }
            None => {
                let recorded =
                    crate::store::discovered::providers_for(self.manager()?.store(), &self.url)?;
                match recorded
                    .into_iter()
                    .find(|(p, _)| p.resource_indicator.as_deref() == Some(self.url.as_str()))
                {
                    Some((p, resource)) => {
                        let mut p = Arc::unwrap_or_clone(p);
                        p.client_metadata_url
                            .clone_from(&config.client_metadata_url);
                        (Arc::new(p), Some(resource))
                    }
                    None => return Ok(None),
                }
            }
        };
        self.resolver()?
            .bind(provider, resource, &Request::to(self.url.clone()))
            .map(Some)
    }

    /// The token while a provider is known: cached, refreshed or obtained.
    /// `None` when none is known yet: the server must be asked first.
    pub fn token(&self) -> Result<Option<Credential>> {
        match &self.binding {
            Some(b) => self.fetch(b, None).map(Some),
            None => Ok(None),
        }
    }

    /// The token for `binding`, meeting `step_up` when a server asked for
    /// one: a bearer token, or a DPoP-bound one with its key.
    fn fetch(&self, binding: &Binding, step_up: Option<&StepUp>) -> Result<Credential> {
        let manager = self.manager()?;
        let fetched = match binding.provider.dpop {
            true => manager
                .dpop_token(binding, step_up)
                .map(|b| Credential::Dpop {
                    token: b.fetched.token.access_token,
                    key: b.key,
                }),
            false => manager
                .token_for_challenge(binding, None, step_up)
                .map(|f| Credential::Bearer(f.token.access_token)),
        };
        fetched.map_err(|e| self.named(e))
    }

    /// "Run `credential-oauth login URL`" names the URL the person typed,
    /// which binds as this one did, not the provider's wider url.
    fn named(&self, e: Error) -> Error {
        match e {
            Error::NeedsPerson { provider, .. } => Error::NeedsPerson {
                provider,
                url: self.url.to_string(),
            },
            other => other,
        }
    }

    /// The server answered 401 with `wwwauth`. With no provider known yet,
    /// its metadata names the issuer (the URL typed is the consent);
    /// a token it refused (`presented`) is dropped, then refreshed or
    /// obtained anew, once.
    pub fn unauthorized(
        &mut self,
        wwwauth: &[String],
        presented: Option<&Secret>,
    ) -> Result<Credential> {
        let binding = match &self.binding {
            Some(b) => b.clone(),
            None => {
                let b = self.discover(wwwauth)?;
                self.binding = Some(b.clone());
                b
            }
        };
        // RFC 9470: the token is good but its login was not strong or
        // recent enough; one that was (cached, or a new login asking for
        // it) answers, and the refused one stays for other requests.
        if let Some(step_up) = StepUp::from_challenges(wwwauth) {
            crate::debug!("{}: the server asks for a stronger login", self.url);
            return self.fetch(&binding, Some(&step_up));
        }
        if let Some(old) = presented {
            crate::debug!("{}: the server refused the token", self.url);
            self.manager()?.rejected(&binding, old)?;
        }
        self.fetch(&binding, None)
    }

    /// The server answered 403 `insufficient_scope` naming the scope it
    /// wants: one token for the scopes held and those named together (a
    /// login, unless one is cached for exactly that). The scopes taken
    /// from a challenge are RFC 6749 scope tokens, and few.
    pub fn insufficient_scope(&mut self, wwwauth: &[String]) -> Result<Credential> {
        let Some(binding) = self.binding.clone() else {
            return Err(Error::Refused(format!(
                "{}: refused for lack of scope before any token was sent",
                self.url
            )));
        };
        let named = discovery::protected_resource::challenge_scope(wwwauth);
        let mut scopes = binding.provider.scopes.clone();
        let before = scopes.len();
        for s in named {
            if !scopes.contains(&s) {
                scopes.push(s);
            }
        }
        if scopes.len() == before {
            return Err(Error::Refused(format!(
                "{}: the server wants more scope but names none this token lacks",
                self.url
            )));
        }
        crate::debug!("{}: step-up to scope {:?}", self.url, scopes.join(" "));
        let mut provider = Provider::clone(&binding.provider);
        provider.scopes = scopes;
        let stepped = Binding {
            provider: Arc::new(provider),
            ..binding
        };
        let token = self.fetch(&stepped, None)?;
        self.binding = Some(stepped);
        Ok(token)
    }

    /// `login URL`: the grant now, after asking the server who issues
    /// its tokens when no provider is known.
    pub fn login(&mut self) -> Result<(Binding, Token)> {
        let binding = match &self.binding {
            Some(b) => b.clone(),
            None => {
                let b = self.discover(&[])?;
                self.binding = Some(b.clone());
                b
            }
        };
        let token = self.manager()?.login(&binding)?;
        Ok((binding, token))
    }

    /// Ask the server (a request without a token: its 401 names the
    /// metadata) unless its challenge is at hand, read the metadata, and
    /// bind the provider it makes.
    fn discover(&self, wwwauth: &[String]) -> Result<Binding> {
        let probed;
        let wwwauth = if wwwauth.is_empty() {
            probed = self.probe()?;
            &probed[..]
        } else {
            wwwauth
        };
        let resolver = self.resolver()?;
        let http = Http::new(&Transport::default())?;
        let found = resource_server::discover(&http, resolver.documents(), &self.url, wwwauth)?;
        let resource = found.resource.clone();
        let mut provider: Provider = resource_server::provider(&self.url, found, wwwauth)?;
        provider
            .client_metadata_url
            .clone_from(&resolver.config().client_metadata_url);
        crate::debug!(
            "{}: authorization server {} from the resource metadata",
            self.url,
            provider.issuer
        );
        resolver.bind(
            Arc::new(provider),
            Some(resource),
            &Request::to(self.url.clone()),
        )
    }

    /// The `WWW-Authenticate` values of a request to the server without a
    /// token; none when it did not answer 401.
    fn probe(&self) -> Result<Vec<String>> {
        let http = ResourceHttp::new(&Transport::default())?;
        let answer = http.send(
            Method::Get,
            &self.url,
            vec![("Accept", "application/json, text/event-stream".into())],
            Vec::new(),
        )?;
        Ok(if answer.status == 401 {
            answer.all("www-authenticate")
        } else {
            Vec::new()
        })
    }
}

/// `login URL` for a resource server no provider is known for yet: the
/// server names its issuer, and the grant runs now.
pub fn login(url: &str, ctx: &Context) -> Result<()> {
    let mut access = Access::new(ctx, url)?;
    let (binding, token) = access.login()?;
    ctx.prompt().say(&format!(
        "credential-oauth: logged in to {} (token {})",
        crate::prompt::escape(&binding.provider.name),
        crate::commands::valid_until(&token)
    ));
    Ok(())
}

/// Whether `wwwauth` is a Bearer (or, for a DPoP-bound token, DPoP,
/// RFC 9449 §7.1) challenge with `error="<code>"`.
pub fn challenge_error(wwwauth: &[String], code: &str) -> bool {
    wwwauth
        .iter()
        .filter_map(|v| crate::http::challenge::Challenge::parse(v))
        .any(|c| (c.is("Bearer") || c.is(dpop::TOKEN_TYPE)) && c.param("error") == Some(code))
}

fn parse_url(s: &str) -> Result<Url> {
    let url = Url::parse(s).map_err(|_| Error::Usage(format!("{s:?} is not a URL")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::Usage(format!("{s:?} is not an http(s) URL")));
    }
    Ok(url)
}
