//! From a request to what a token is for: a [`Binding`] of the provider
//! (the config file, then git's config, then RFC 9728 discovery), the
//! account, and, for a provider found by discovery, the resource it is
//! bound to. Frontends never resolve providers themselves.
//!
//! This is also where the audience rule holds (DESIGN.md "Trust"): a
//! request names every place its caller will send the token, and a
//! binding is made only when each of them lies inside the provider's
//! `url`. Every way to a binding goes through [`Resolver::bind`], so no
//! frontend can widen a match on its own.

use crate::config::{Config, Provider};
use crate::discovery::{self, protected_resource};
use crate::error::{Error, Result};
use crate::store::Store;
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
    /// argument): the config file, else a provider found by discovery
    /// earlier.
    Command,
}

/// What a token is for: the provider (a discovered one carries its
/// resource) and the account.
#[derive(Debug, Clone)]
pub struct Binding {
    pub provider: Provider,
    /// The user name the request names, empty for the default account.
    pub account: String,
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
    pub fn new(provider: Provider, username: Option<&str>) -> Binding {
        let account = match username {
            Some(u) if u != provider.username => u.to_string(),
            _ => String::new(),
        };
        Binding { provider, account }
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

    /// What `request`'s token is for, looked up as its [`Lookup`] says;
    /// `Ok(None)`: not ours. `store` holds the providers found by
    /// discovery earlier; it is opened only when they are consulted.
    pub fn resolve<'s>(
        &self,
        request: &Request,
        store: impl FnOnce() -> Result<&'s dyn Store>,
    ) -> Result<Option<Binding>> {
        match request.lookup {
            Lookup::Url => self.for_caller(request),
            Lookup::Host => self.for_host(request),
            Lookup::Command => self.for_command(request, store),
        }
    }

    /// The cache of documents fetched from servers (metadata, cargo's
    /// index configs).
    pub fn documents(&self) -> &discovery::Cache {
        &self.documents
    }

    /// A caller's request (git): the config file, then git's config, then,
    /// for hosts the user allowed, the authorization server the challenge
    /// names. `Ok(None)`: not ours.
    fn for_caller(&self, request: &Request) -> Result<Option<Binding>> {
        let found = crate::config::gitconfig::provider_for(&self.config, &request.url);
        let provider = protected_resource::complete(
            &self.config,
            found,
            &request.url,
            request.challenges,
            &self.documents,
        )?;
        provider.map(|p| self.bind(p, request)).transpose()
    }

    /// A whole host: only a provider whose `url` is that host serves it.
    fn for_host(&self, request: &Request) -> Result<Option<Binding>> {
        let Some(provider) = self.config.provider_for(&request.url) else {
            return Ok(None);
        };
        self.bind(provider.clone(), request).map(Some)
    }

    /// A URL from the command line: the config file, else a provider found
    /// by discovery earlier (recorded in `store`).
    fn for_command<'s>(
        &self,
        request: &Request,
        store: impl FnOnce() -> Result<&'s dyn Store>,
    ) -> Result<Option<Binding>> {
        let provider: Provider = match self.config.provider_for(&request.url) {
            Some(p) => p.clone(),
            None => match crate::store::discovered::providers_for(store()?, &request.url)?
                .into_iter()
                .next()
            {
                Some(p) => p,
                None => return Ok(None),
            },
        };
        self.bind(provider, request).map(Some)
    }

    /// The one way from a request to a binding: the audience rule (DESIGN.md
    /// "Trust"). Every place the request names lies inside the provider's
    /// `url`, and no other configured provider is the one for that place
    /// (kubectl's cluster must be served by the provider that serves the
    /// URL it was given); else [`Error::Outside`], and no token.
    pub fn bind(&self, provider: Provider, request: &Request) -> Result<Binding> {
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
        Ok(Binding::new(provider, request.username.as_deref()))
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

    fn provider() -> Provider {
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
}
