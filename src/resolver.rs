//! From a request to what a token is for: a [`Binding`] of the provider,
//! the account, and, for a provider found by discovery, the resource it
//! is bound to. Frontends never resolve providers themselves.
//!
//! The provider comes from an ordered list of `Source`s (a configured
//! provider an MCP client bound to the URL, the config file, git's
//! config, the discoveries remembered with their tokens, RFC 9728
//! discovery), each answering "mine" or "not mine"; the first "mine"
//! wins. How the caller named the place ([`Lookup`]) says which sources
//! are asked. The same resolver lists every binding that may hold a token
//! ([`Resolver::bindings`]), for `status`, `logout --all` and `doctor`.
//!
//! This is also where the audience rule holds (DESIGN.md "Trust"): a
//! request names every place its caller will send the token, and a
//! binding is made only when each of them lies inside the provider's
//! `url`. Every way to a binding goes through [`Resolver::bind`], so no
//! frontend can widen a match on its own.

use crate::config::host_and_port;
use crate::config::{Config, Provider};
use crate::discovery::{self, protected_resource};
use crate::error::{Error, Result};
use crate::store::Store;
use std::sync::Arc;
use url::Url;

/// What a caller asks about.
pub struct Request<'a> {
    /// What the provider is looked up by: the URL the caller names.
    pub url: Url,
    /// Every other place the caller will send the token (cargo's `dl` and
    /// `api`, kubectl's cluster server); the token goes to `url` too.
    pub destinations: Vec<Url>,
    /// The user name the caller names (git's `username`, a URL's `alice@`).
    pub username: Option<String>,
    /// The server's `WWW-Authenticate` challenges, when the caller passes
    /// them on (git's `wwwauth[]`).
    pub challenges: &'a [String],
    /// How the caller named the place, which decides where its provider
    /// may come from.
    pub lookup: Lookup,
}

/// How a caller names what it asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// A URL a calling program asks about (git, cargo, pip and uv, Go,
    /// Bazel): the config file, then git's config, then, for hosts the
    /// user allowed, the authorization server the challenge names.
    Url,
    /// A whole host (docker and the OCI clients, Terraform): only a
    /// provider whose `url` is that host over https (DESIGN.md "Config",
    /// Matching).
    Host,
    /// A URL typed on a command line (`token`, `login`, `logout`, kubectl's
    /// argument): a configured provider bound to that very URL (MCP), the
    /// config file, else a provider found by discovery earlier.
    Command,
}

impl Lookup {
    /// The sources asked, in order.
    fn sources(self) -> &'static [Source] {
        match self {
            Lookup::Url => &[Source::ConfigFile, Source::GitConfig, Source::Discovery],
            Lookup::Host => &[Source::ConfigFile],
            Lookup::Command => &[Source::Bound, Source::ConfigFile, Source::Remembered],
        }
    }
}

/// Where a provider may come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A configured provider an MCP client used for this very URL, bound
    /// to it (RFC 8707), as recorded with its tokens.
    Bound,
    /// The config file's providers (DESIGN.md "Config", Matching).
    ConfigFile,
    /// `credential.<url>.oauth*` in git's config (URL-scoped sections only).
    GitConfig,
    /// Providers RFC 9728 discovery found earlier, recorded with their
    /// tokens (no config names them).
    Remembered,
    /// The authorization server the server's challenge names (RFC 9728),
    /// for a host the user allowed (`discover_hosts`).
    Discovery,
}

/// Which accounts [`Resolver::bindings`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accounts {
    /// Each provider's default account only.
    Default,
    /// The default account, then every account recorded for the provider.
    All,
}

/// What a token is for: the provider, the account, and the resource.
#[derive(Debug, Clone)]
pub struct Binding {
    /// Shared with the config it came from.
    pub provider: Arc<Provider>,
    /// The user name the request names, empty for the default account.
    pub account: String,
    /// For a provider found by RFC 9728 discovery, the protected
    /// resource's identifier (its metadata's `resource`, as written): part
    /// of the cache key, so a token obtained for one resource is never
    /// handed to another.
    pub resource: Option<String>,
}

impl<'a> Request<'a> {
    /// A calling program's request whose token goes to `url` and nowhere else.
    pub fn to(url: Url) -> Request<'a> {
        Request {
            url,
            destinations: Vec::new(),
            username: None,
            challenges: &[],
            lookup: Lookup::Url,
        }
    }

    /// A caller that sends the token to a whole host: a bare
    /// `host[:port]` is that host over https, a URL its scheme, host and
    /// port. `None`: no host, so nobody's.
    pub fn host(server: &str) -> Option<Request<'a>> {
        let url = crate::config::host_url(server)?;
        Some(Request {
            lookup: Lookup::Host,
            ..Request::to(url)
        })
    }

    /// A URL given on the command line: as in git, a user name in it
    /// (`https://alice@host/`) names the account; neither it nor a
    /// password appears in messages.
    pub fn command(arg: &str) -> Result<Request<'a>> {
        let mut url = parse_command_url(arg)?;
        let username = percent_decoded(url.username());
        let _ = url.set_username("");
        let _ = url.set_password(None);
        Ok(Request {
            username: Some(username),
            lookup: Lookup::Command,
            ..Request::to(url)
        })
    }
}

impl Binding {
    /// The account is the user name the request names, unless that is the
    /// provider's fixed username (which every request of the default
    /// account carries).
    pub fn new(provider: impl Into<Arc<Provider>>, username: Option<&str>) -> Binding {
        let provider = provider.into();
        let account = match username {
            Some(u) if u != provider.username => u.to_string(),
            _ => String::new(),
        };
        Binding {
            provider,
            account,
            resource: None,
        }
    }
}

pub struct Resolver {
    config: Config,
    documents: discovery::Cache,
}

impl Resolver {
    pub fn new(config: Config) -> Resolver {
        Resolver {
            config,
            documents: discovery::Cache::open(),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The cache of documents fetched from servers (metadata, cargo's
    /// index configs).
    pub fn documents(&self) -> &discovery::Cache {
        &self.documents
    }

    /// What `request`'s token is for: the first source its [`Lookup`]
    /// names that says "mine"; `Ok(None)`: not ours. `store` holds the
    /// discoveries remembered; it is opened only when they are asked.
    pub fn resolve<'s>(
        &self,
        request: &Request,
        store: &dyn Fn() -> Result<&'s dyn Store>,
    ) -> Result<Option<Binding>> {
        let sources = request.lookup.sources();
        for &source in sources {
            let Some(mut mine) = self.ask(source, request, store)? else {
                continue;
            };
            // `discover = true` without an issuer: the issuer comes from the
            // server's challenge, where the lookup passes one on.
            if mine.provider.discover
                && mine.provider.issuer.is_empty()
                && sources.contains(&Source::Discovery)
            {
                match self.discovered(Some(mine.provider), request)? {
                    Some(completed) => mine = completed,
                    None => return Ok(None),
                }
            }
            return self.bind(mine.provider, mine.resource, request).map(Some);
        }
        Ok(None)
    }

    /// One source's answer: "mine" (with the provider), or "not mine".
    fn ask<'s>(
        &self,
        source: Source,
        request: &Request,
        store: &dyn Fn() -> Result<&'s dyn Store>,
    ) -> Result<Option<Mine>> {
        let url = &request.url;
        Ok(match source {
            Source::Bound => crate::store::discovered::bound_to(store()?, &self.config, url)?
                .into_iter()
                .next()
                .map(Mine::configured),
            Source::ConfigFile => self.config.provider_for(url).cloned().map(Mine::configured),
            Source::GitConfig => crate::config::gitconfig::provider_for(url)
                .map(Arc::new)
                .map(Mine::configured),
            Source::Remembered => crate::store::discovered::providers_for(store()?, url)?
                .into_iter()
                .next()
                .map(|(provider, resource)| Mine {
                    provider,
                    resource: Some(resource),
                }),
            Source::Discovery => self.discovered(None, request)?,
        })
    }

    /// RFC 9728: the authorization server the challenge names, for
    /// `provider` (`discover = true` without issuer), or, for a host the
    /// user allowed, a provider of its own. Either way it is a public
    /// client that registers itself (config refuses a client id or secret
    /// there), its token is bound to the resource, and it asks for the
    /// scope the challenge names, else the resource's `scopes_supported`.
    fn discovered(
        &self,
        provider: Option<Arc<Provider>>,
        request: &Request,
    ) -> Result<Option<Mine>> {
        let url = &request.url;
        if provider.is_none() && !self.host_allowed(url) {
            return Ok(None);
        }
        let transport = provider
            .as_ref()
            .map(|p| p.transport.clone())
            .unwrap_or_default();
        let Some(found) =
            protected_resource::find(url, request.challenges, &transport, &self.documents)?
        else {
            return Ok(None);
        };
        let scopes = match protected_resource::challenge_scope(request.challenges) {
            named if !named.is_empty() => named,
            _ => found.scopes_supported,
        };
        let provider = match provider {
            Some(p) => {
                let mut p = Arc::unwrap_or_clone(p);
                p.issuer = found.issuer;
                p.issuer_discovered = true;
                if p.scopes.is_empty() {
                    p.scopes = scopes;
                }
                p
            }
            None => {
                Provider::discovered(&url.origin().ascii_serialization(), &found.issuer, scopes)
                    .map_err(Error::BadAnswer)?
            }
        };
        Ok(Some(Mine {
            provider: Arc::new(provider),
            resource: Some(found.resource),
        }))
    }

    /// Whether the user allowed discovery for `url`'s host (`discover_hosts`).
    fn host_allowed(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let with_port = host_and_port(host, url.port());
        self.config
            .discover_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&with_port))
    }

    /// Every binding that may hold a token: the configured providers, then
    /// those found by discovery that hold tokens (no config names them),
    /// each for its default account and, with [`Accounts::All`], then for
    /// every account recorded for it. For `status`, `logout --all`,
    /// `doctor` and Go's credential sets.
    pub fn bindings(&self, store: &dyn Store, accounts: Accounts) -> Result<Vec<Binding>> {
        let configured = self.config.providers.iter().cloned().map(Mine::configured);
        let discovered = crate::store::discovered::list(store)?
            .into_iter()
            .filter_map(|e| {
                let provider = Arc::new(e.provider_in(&self.config)?);
                // A configured provider bound to a resource server is bound
                // by its `resource_indicator`, not by a metadata `resource`.
                let resource = (!e.configured).then_some(e.resource);
                Some(Mine { provider, resource })
            })
            .collect::<Vec<_>>();
        let mut all = Vec::new();
        for Mine { provider, resource } in configured.chain(discovered) {
            let names = match accounts {
                Accounts::Default => Vec::new(),
                Accounts::All => crate::store::accounts::list(store, &provider)?,
            };
            let default = Binding {
                resource,
                ..Binding::new(provider, None)
            };
            let others: Vec<Binding> = names
                .into_iter()
                .map(|account| Binding {
                    account,
                    ..default.clone()
                })
                .collect();
            all.push(default);
            all.extend(others);
        }
        Ok(all)
    }

    /// The one way from a request to a binding: the audience rule (DESIGN.md
    /// "Trust"). Every place the request names lies inside the provider's
    /// `url`, and no other configured provider is the one for that place
    /// (kubectl's cluster must be served by the provider that serves the
    /// URL it was given); else [`Error::Outside`], and no token.
    pub fn bind(
        &self,
        provider: Arc<Provider>,
        resource: Option<String>,
        request: &Request,
    ) -> Result<Binding> {
        for place in std::iter::once(&request.url).chain(&request.destinations) {
            let inside = crate::config::covers(&provider.url, place)
                && self
                    .config
                    .provider_for(place)
                    .is_none_or(|other| other.url == provider.url);
            if !inside {
                crate::debug!(
                    "provider {:?} does not cover {}; no token",
                    provider.name,
                    place_text(place)
                );
                return Err(Error::Outside {
                    provider: crate::prompt::escape(&provider.name),
                    url: place_text(&provider.url),
                    place: place_text(place),
                });
            }
        }
        Ok(Binding {
            resource,
            ..Binding::new(provider, request.username.as_deref())
        })
    }
}

/// A source's "mine": the provider, and the resource its tokens are bound
/// to (for one found by discovery).
struct Mine {
    provider: Arc<Provider>,
    resource: Option<String>,
}

impl Mine {
    /// A provider someone configured: bound to no resource.
    fn configured(provider: Arc<Provider>) -> Mine {
        Mine {
            provider,
            resource: None,
        }
    }
}

/// A place as messages show it: no user name, password, query or
/// fragment, and nothing a terminal would act on.
fn place_text(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    crate::http::printable(shown.as_str(), 200)
}

/// A URL's user name, percent-decoded; a '+' is itself, not a space as in a form.
fn percent_decoded(raw: &str) -> String {
    url::form_urlencoded::parse(format!("u={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn parse_command_url(s: &str) -> Result<Url> {
    let url = Url::parse(s)
        .or_else(|_| Url::parse(&format!("https://{s}")))
        .map_err(|_| Error::Usage(format!("{s:?} is not a URL")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::Usage(format!("{s:?} is not an http(s) URL")));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> Arc<Provider> {
        Config::parse(
            "[[provider]]\nurl = \"https://git.example/\"\nissuer = \"https://as.example\"\nusername = \"oauth2\"\n",
            std::path::Path::new("/c.toml"),
        )
        .unwrap()
        .providers
        .remove(0)
    }

    #[test]
    fn the_account_is_the_user_name_unless_it_is_the_providers_own() {
        assert_eq!(Binding::new(provider(), None).account, "");
        assert_eq!(Binding::new(provider(), Some("oauth2")).account, "");
        assert_eq!(Binding::new(provider(), Some("alice")).account, "alice");
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn a_binding_needs_every_place_inside_the_providers_url() {
        let config = Config::parse(
            "[[provider]]\nname = \"forge\"\nurl = \"https://forge.example/\"\nissuer = \"https://as.example\"\n\n\
             [[provider]]\nname = \"team\"\nurl = \"https://forge.example/team/\"\nissuer = \"https://as.example\"\n",
            std::path::Path::new("/c.toml"),
        )
        .unwrap();
        let forge = config.providers[0].clone();
        let resolver = Resolver::new(config);
        let bind = |places: &[&str]| {
            resolver.bind(
                forge.clone(),
                None,
                &Request {
                    destinations: places.iter().map(|p| url(p)).collect(),
                    ..Request::to(url("https://forge.example/mallory/idx/"))
                },
            )
        };
        assert!(bind(&[]).is_ok());
        assert!(bind(&["https://forge.example/dl/", "https://forge.example/"]).is_ok());
        for outside in [
            "https://evil.example/dl/",
            "http://forge.example/dl/",
            "https://forge.example:8443/dl/",
            // Inside the url, but another provider's place.
            "https://forge.example/team/dl/",
        ] {
            let e = bind(&["https://forge.example/dl/", outside]).unwrap_err();
            assert!(matches!(e, Error::Outside { .. }), "{outside}: {e}");
            let text = e.to_string();
            assert!(
                text.contains("forge serves https://forge.example/"),
                "{text}"
            );
            assert!(text.contains(outside), "{text}");
        }
        // What a message shows of a place: no credentials, query or fragment.
        let e = bind(&["https://u:pw@evil.example/x?token=1#f"]).unwrap_err();
        assert!(e.to_string().contains("https://evil.example/x,"), "{e}");
        assert!(!e.to_string().contains("pw") && !e.to_string().contains("token=1"));
    }

    #[test]
    fn command_urls_decode_the_user_name_and_need_http() {
        assert_eq!(percent_decoded("a%40b+c"), "a@b+c");
        assert!(parse_command_url("git.example/x").is_ok());
        assert!(parse_command_url("ftp://git.example/").is_err());
    }

    #[test]
    fn only_listed_hosts_are_allowed() {
        let mut c = Config::empty();
        c.discover_hosts = vec!["git.example".into(), "127.0.0.1:8080".into()];
        let resolver = Resolver::new(c);
        let ok = |u: &str| resolver.host_allowed(&Url::parse(u).unwrap());
        assert!(ok("https://git.example/x"));
        assert!(ok("http://127.0.0.1:8080/"));
        assert!(!ok("http://127.0.0.1:8081/"));
        assert!(!ok("https://other.example/"));
    }

    #[test]
    fn a_configured_provider_on_a_discover_host_keeps_its_issuer() {
        // Its workload credential (here a subject token) stays with the
        // issuer written: config checks only `discover = true` without
        // issuer for that reason.
        let config = Config::parse(
            "discover_hosts = [\"git.example\"]\n\n[[provider]]\nurl = \"https://git.example/\"\n\
             issuer = \"https://sts.example\"\ndiscover = true\ngrant = \"token_exchange\"\n\
             subject_token_file = \"/var/run/sa\"\n",
            std::path::Path::new("/c.toml"),
        )
        .unwrap();
        let challenge = [
            "Bearer resource_metadata=\"https://git.example/.well-known/oauth-protected-resource\""
                .to_string(),
        ];
        let request = Request {
            challenges: &challenge,
            ..Request::to(url("https://git.example/org/repo.git"))
        };
        let store = crate::store::memory::MemoryStore::default();
        let b = Resolver::new(config)
            .resolve(&request, &|| Ok(&store as &dyn Store))
            .unwrap()
            .unwrap();
        assert_eq!(b.provider.issuer, "https://sts.example");
        assert!(!b.provider.issuer_discovered);
        assert_eq!(b.resource, None);
    }
}
