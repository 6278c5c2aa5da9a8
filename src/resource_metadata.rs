//! Finding the authorization server from a git server's challenge:
//! `WWW-Authenticate: Bearer resource_metadata="…"` points at OAuth 2.0
//! Protected Resource Metadata (RFC 9728), whose `authorization_servers`
//! names the issuer. Only for hosts the user allowed: a provider with
//! `discover = true`, or a host in `discover_hosts`; never for any host.

use crate::challenge::Challenge;
use crate::config::{Config, Provider};
use crate::error::{Error, Result};
use crate::http::Http;
use url::Url;

/// The `resource_metadata` URL of the first Bearer challenge naming one
/// (RFC 9728 §5.1).
pub fn metadata_url(wwwauth: &[String]) -> Option<Url> {
    wwwauth
        .iter()
        .filter_map(|v| Challenge::parse(v))
        .filter(|c| c.is("Bearer"))
        .find_map(|c| {
            c.param("resource_metadata")
                .and_then(|u| Url::parse(u).ok())
        })
}

/// Whether the user allowed discovery for `url`'s host.
pub fn host_allowed(config: &Config, url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let with_port = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    config
        .discover_hosts
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&with_port))
}

/// Check a metadata document against the URL git asked about and take its
/// first authorization server. RFC 9728 §3.3 asks that `resource` be the
/// resource the client accessed; a git server names its origin (or a path
/// above the repository), so `resource` must be the request's origin plus a
/// whole-segment prefix of its path.
pub fn issuer_from(doc: &serde_json::Value, request: &Url) -> Result<String> {
    let resource = doc
        .get("resource")
        .and_then(|r| r.as_str())
        .and_then(|r| Url::parse(r).ok())
        .ok_or_else(|| Error::Http("protected resource metadata has no resource".into()))?;
    let prefix = resource.path().trim_end_matches('/');
    let covers = resource.origin() == request.origin()
        && request
            .path()
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
    if !covers {
        return Err(Error::Http(format!(
            "protected resource metadata is for {}, not {} (RFC 9728 §3.3)",
            crate::http::printable(resource.as_str(), 200),
            crate::http::origin(request)
        )));
    }
    doc.get("authorization_servers")
        .and_then(|a| a.as_array())
        .and_then(|a| a.first())
        .and_then(|s| s.as_str())
        .filter(|s| Url::parse(s).is_ok())
        .map(str::to_string)
        .ok_or_else(|| {
            Error::Http("protected resource metadata names no authorization server".into())
        })
}

/// The provider for a request once the challenge is known: a `discover`
/// provider without issuer gets the one the resource metadata names; an
/// unconfigured host in `discover_hosts` gets a provider of its own (no
/// client id: registered dynamically). `Ok(None)` when nothing applies.
pub fn complete(
    config: &Config,
    provider: Option<Provider>,
    url: &Url,
    wwwauth: &[String],
) -> Result<Option<Provider>> {
    let needs_issuer = |p: &Provider| p.discover && p.issuer.is_empty();
    match provider {
        Some(p) if !needs_issuer(&p) => return Ok(Some(p)),
        None if !host_allowed(config, url) => return Ok(None),
        _ => {}
    }
    let Some(meta_url) = metadata_url(wwwauth) else {
        crate::debug!("{url}: no resource_metadata in the challenge; cannot find the issuer");
        return Ok(None);
    };
    if meta_url.origin() != url.origin() {
        // RFC 9728 §7.3 warns of a resource pointing at someone else's
        // metadata; the allowance was for this host only.
        crate::debug!("{url}: resource_metadata on another origin; ignored");
        return Ok(None);
    }
    let transport = provider
        .as_ref()
        .map(|p| p.transport.clone())
        .unwrap_or_default();
    let doc = Http::new(&transport)?.get_json(&meta_url)?;
    let issuer = issuer_from(&doc, url)?;
    crate::debug!("{url}: authorization server {issuer} from the resource metadata");
    let provider = match provider {
        Some(mut p) => {
            p.issuer = issuer;
            p
        }
        None => {
            let mut table = toml::Table::new();
            table.insert(
                "url".into(),
                toml::Value::String(format!("{}/", url.origin().ascii_serialization())),
            );
            table.insert("issuer".into(), toml::Value::String(issuer));
            Provider::from_table(table).map_err(Error::Http)?
        }
    };
    Ok(Some(provider))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn metadata_url_comes_from_a_bearer_challenge_only() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let u = metadata_url(&v(&[
            "Basic realm=\"x\", resource_metadata=\"https://evil/\"",
            "Bearer realm=\"git\", resource_metadata=\"https://git.example/.well-known/oauth-protected-resource\"",
        ]));
        assert_eq!(
            u.unwrap().as_str(),
            "https://git.example/.well-known/oauth-protected-resource"
        );
        assert!(metadata_url(&v(&["Bearer realm=\"git\""])).is_none());
    }

    #[test]
    fn resource_must_cover_the_request() {
        let req = Url::parse("https://git.example/org/repo.git").unwrap();
        let doc =
            |r: &str| json!({"resource": r, "authorization_servers": ["https://auth.example"]});
        assert_eq!(
            issuer_from(&doc("https://git.example/"), &req).unwrap(),
            "https://auth.example"
        );
        assert!(issuer_from(&doc("https://git.example/org"), &req).is_ok());
        assert!(issuer_from(&doc("https://git.example/or"), &req).is_err());
        assert!(issuer_from(&doc("https://other.example/"), &req).is_err());
        assert!(issuer_from(&json!({"resource": "https://git.example/"}), &req).is_err());
    }

    #[test]
    fn only_listed_hosts_are_allowed() {
        let mut c = Config::empty();
        c.discover_hosts = vec!["git.example".into(), "127.0.0.1:8080".into()];
        let ok = |u: &str| host_allowed(&c, &Url::parse(u).unwrap());
        assert!(ok("https://git.example/x"));
        assert!(ok("http://127.0.0.1:8080/"));
        assert!(!ok("http://127.0.0.1:8081/"));
        assert!(!ok("https://other.example/"));
    }
}
