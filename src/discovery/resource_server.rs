//! RFC 9728 discovery for a resource server a person named on the command
//! line (an MCP server: `credential-oauth mcp URL`, `headers URL`, `login
//! URL`). The URL typed is the consent to discover for that URL, and for
//! it only: the metadata comes from the 401's `resource_metadata` on the
//! same origin, else from the well-known location for the URL's path
//! (RFC 9728 §3.1); its `resource` must cover the URL; the issuer it names
//! gets a public client only (DESIGN.md "Trust").

use super::protected_resource::{Found, challenge_scope, found_in, metadata_url};
use crate::config::Provider;
use crate::error::{Error, Result};
use crate::http::Http;
use url::Url;

/// The canonical URI of a resource server (MCP "Canonical Server URI",
/// RFC 8707 §2): no user name, password or fragment; scheme and host are
/// lowercase already in a parsed URL.
pub fn canonical(url: &Url) -> Url {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.set_fragment(None);
    u
}

/// RFC 9728 §3.1: the well-known segment goes between the origin and the
/// resource's path (a path of `/` adds nothing).
pub fn well_known_url(resource: &Url) -> Url {
    let mut u = resource.clone();
    let path = resource.path().trim_end_matches('/').to_string();
    u.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
    u.set_query(None);
    u.set_fragment(None);
    u
}

/// Where the metadata for `url` is: the challenge's `resource_metadata`
/// when it is on the URL's origin (RFC 9728 §7.3: another origin's
/// document is not taken on a server's word), else the well-known URL.
pub fn metadata_location(url: &Url, wwwauth: &[String]) -> Url {
    match metadata_url(wwwauth) {
        Some(named) if named.origin() == url.origin() => named,
        Some(_) => {
            crate::debug!("{url}: resource_metadata on another origin; using the well-known URL");
            well_known_url(url)
        }
        None => well_known_url(url),
    }
}

/// The protected resource metadata for `url`, fetched (or from `cache`)
/// and checked against it.
pub fn discover(http: &Http, cache: &super::Cache, url: &Url, wwwauth: &[String]) -> Result<Found> {
    let location = metadata_location(url, wwwauth);
    let now = crate::token::now();
    let doc = match cache.get::<serde_json::Value>("resource", location.as_str(), now) {
        Some(doc) => doc,
        None => {
            crate::debug!("discovery: GET {location}");
            let doc = http.get_json(&location).map_err(|e| match e {
                Error::Status { status: 404, .. } | Error::OAuth { status: 404, .. } => {
                    crate::debug!("{url}: no protected resource metadata at {location}");
                    Error::NoProvider(url.to_string())
                }
                other => other,
            })?;
            cache.put("resource", location.as_str(), &doc, now);
            doc
        }
    };
    found_in(&doc, url)
}

/// The provider for a resource server no config names, from what its
/// metadata says: its url is the server's URL itself (the token goes
/// there and nowhere else), a public client that registers itself at the
/// issuer found, bound to the canonical URL (RFC 8707), asking for the
/// scope the challenge names, else `scopes_supported`. The issuer must use
/// https (loopback excepted).
pub fn provider(url: &Url, found: Found, wwwauth: &[String]) -> Result<Provider> {
    let issuer = Url::parse(&found.issuer).map_err(|_| {
        Error::BadAnswer("protected resource metadata names no authorization server".into())
    })?;
    crate::http::check_transport(&issuer).map_err(|_| {
        Error::Refused(format!(
            "{}: the authorization server it names, {}, does not use https; refused",
            crate::http::origin(url),
            crate::http::authority(&found.issuer)
        ))
    })?;
    let scopes = match challenge_scope(wwwauth) {
        named if !named.is_empty() => named,
        _ => found.scopes_supported,
    };
    Provider::for_resource_server(url, &found.issuer, scopes).map_err(Error::BadAnswer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_well_known_url_inserts_the_segment_before_the_path() {
        assert_eq!(
            well_known_url(&url("https://mcp.example/tools/mcp?x=1#f")).as_str(),
            "https://mcp.example/.well-known/oauth-protected-resource/tools/mcp"
        );
        assert_eq!(
            well_known_url(&url("https://mcp.example/")).as_str(),
            "https://mcp.example/.well-known/oauth-protected-resource"
        );
    }

    #[test]
    fn resource_metadata_on_another_origin_is_not_taken() {
        let u = url("https://mcp.example/mcp");
        let named = |m: &str| vec![format!("Bearer resource_metadata=\"{m}\"")];
        assert_eq!(
            metadata_location(&u, &named("https://mcp.example/meta")).as_str(),
            "https://mcp.example/meta"
        );
        assert_eq!(
            metadata_location(&u, &named("https://evil.example/meta")).as_str(),
            "https://mcp.example/.well-known/oauth-protected-resource/mcp"
        );
        assert_eq!(
            metadata_location(&u, &[]).as_str(),
            "https://mcp.example/.well-known/oauth-protected-resource/mcp"
        );
    }

    #[test]
    fn a_discovered_provider_serves_the_url_alone_bound_to_it() {
        let u = url("https://User:pw@MCP.example/a/mcp#x");
        let found = found_in(
            &json!({"resource": "https://mcp.example/a/mcp", "authorization_servers": ["https://as.example"],
                    "scopes_supported": ["tools"]}),
            &u,
        )
        .unwrap();
        let p = provider(&u, found.clone(), &[]).unwrap();
        assert_eq!(p.url.as_str(), "https://mcp.example/a/mcp");
        assert_eq!(
            p.resource_indicator.as_deref(),
            Some("https://mcp.example/a/mcp")
        );
        assert!(p.issuer_discovered);
        assert_eq!(p.scopes, ["tools"]);
        assert!(p.client_id.is_none() && p.client_secret.is_none());
        assert!(!crate::config::covers(
            &p.url,
            &url("https://mcp.example/b/mcp")
        ));
        let challenged = provider(&u, found, &["Bearer scope=\"admin read\"".into()]).unwrap();
        assert_eq!(challenged.scopes, ["admin", "read"]);
        let plain = found_in(
            &json!({"resource": "https://mcp.example/", "authorization_servers": ["http://as.example"]}),
            &u,
        )
        .unwrap();
        assert!(matches!(provider(&u, plain, &[]), Err(Error::Refused(_))));
    }
}
