//! From a request to what a token is for: a [`Binding`] of the provider
//! (the config file, then git's config, then RFC 9728 discovery), the
//! account, and, for a provider found by discovery, the resource it is
//! bound to. Frontends never resolve providers themselves.

use crate::config::{Config, Provider};
use crate::discovery::{self, protected_resource};
use crate::error::{Error, Result};
use crate::store::Store;
use url::Url;

/// What a caller asks about.
pub struct Request<'a> {
    pub url: Url,
    /// The user name the caller names (git's `username`, a URL's `alice@`).
    pub username: Option<&'a str>,
    /// The server's `WWW-Authenticate` challenges, when the caller passes
    /// them on (git's `wwwauth[]`).
    pub challenges: &'a [String],
}

/// What a token is for: the provider (a discovered one carries its
/// resource) and the account.
#[derive(Debug, Clone)]
pub struct Binding {
    pub provider: Provider,
    /// The user name the request names, empty for the default account.
    pub account: String,
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

pub struct Resolver<'c> {
    config: &'c Config,
    documents: discovery::Cache,
}

impl<'c> Resolver<'c> {
    pub fn new(config: &'c Config) -> Resolver<'c> {
        Resolver {
            config,
            documents: discovery::Cache::open(),
        }
    }

    pub fn config(&self) -> &'c Config {
        self.config
    }

    /// A caller's request (git): the config file, then git's config, then,
    /// for hosts the user allowed, the authorization server the challenge
    /// names. `Ok(None)`: not ours.
    pub fn for_caller(&self, request: &Request) -> Result<Option<Binding>> {
        let found = crate::config::gitconfig::provider_for(self.config, &request.url);
        let provider = protected_resource::complete(
            self.config,
            found,
            &request.url,
            request.challenges,
            &self.documents,
        )?;
        Ok(provider.map(|p| Binding::new(p, request.username)))
    }

    /// A docker server address (a bare `host[:port]` or a URL).
    pub fn for_server(&self, server: &str) -> Option<Binding> {
        self.config
            .provider_for_server(server)
            .map(|p| Binding::new(p.clone(), None))
    }

    /// A URL given on the command line: as in git, a user name in it
    /// (`https://alice@host/`) names the account. The config file, else a
    /// provider found by discovery earlier (recorded in `store`).
    pub fn for_command(&self, arg: &str, store: &dyn Store) -> Result<Binding> {
        let mut url = parse_command_url(arg)?;
        let username = percent_decoded(url.username());
        // Neither the user name nor a password may appear in messages.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let provider: Provider = match self.config.provider_for(&url) {
            Some(p) => p.clone(),
            None => crate::store::discovered::providers_for(store, &url)?
                .into_iter()
                .next()
                .ok_or_else(|| Error::NoProvider(url.to_string()))?,
        };
        crate::debug!("provider {:?} matches {url}", provider.name);
        Ok(Binding::new(provider, Some(&username)))
    }
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

    #[test]
    fn command_urls_decode_the_user_name_and_need_http() {
        assert_eq!(percent_decoded("a%40b+c"), "a@b+c");
        assert!(parse_command_url("git.example/x").is_ok());
        assert!(parse_command_url("ftp://git.example/").is_err());
    }
}
