//! Finding the authorization server from a git server's challenge:
//! `WWW-Authenticate: Bearer resource_metadata="…"` points at OAuth 2.0
//! Protected Resource Metadata (RFC 9728), whose `authorization_servers`
//! names the issuer. Whether to look at all (only for hosts the user
//! allowed) is the resolver's decision; this is how.

use crate::error::{Error, Result};
use crate::http::challenge::Challenge;
use crate::http::{Http, Transport};
use url::Url;

/// The `resource_metadata` URL of the first Bearer challenge naming one
/// (RFC 9728 §5.1).
pub fn metadata_url(wwwauth: &[String]) -> Option<Url> {
    bearer_param(wwwauth, |v| Url::parse(v).ok(), "resource_metadata")
}

/// Parameter `name` of the first Bearer challenge where `take` accepts it.
fn bearer_param<T>(wwwauth: &[String], take: impl Fn(&str) -> Option<T>, name: &str) -> Option<T> {
    wwwauth
        .iter()
        .filter_map(|v| Challenge::parse(v))
        .filter(|c| c.is("Bearer"))
        .find_map(|c| c.param(name).and_then(&take))
}

/// What a protected resource's metadata says, once checked against the
/// URL git asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The first of `authorization_servers`.
    pub issuer: String,
    /// `resource`, exactly as written: part of the cache key.
    pub resource: String,
    /// `scopes_supported`, the well-formed ones.
    pub scopes_supported: Vec<String>,
}

/// Most scopes taken from a server's document.
const MAX_SCOPES: usize = 32;

/// Check a metadata document against the URL git asked about and take its
/// first authorization server. RFC 9728 §3.3 asks that `resource` be the
/// resource the client accessed; a git server names its origin (or a path
/// above the repository), so `resource` must be the request's origin plus a
/// whole-segment prefix of its path.
pub fn found_in(doc: &serde_json::Value, request: &Url) -> Result<Found> {
    let written = doc
        .get("resource")
        .and_then(|r| r.as_str())
        .ok_or_else(|| Error::BadAnswer("protected resource metadata has no resource".into()))?;
    let resource = Url::parse(written)
        .map_err(|_| Error::BadAnswer("protected resource metadata has no resource".into()))?;
    let covers = resource.origin() == request.origin()
        && crate::config::path_covers(resource.path(), request.path());
    if !covers {
        return Err(Error::BadAnswer(format!(
            "protected resource metadata is for {}, not {} (RFC 9728 §3.3)",
            crate::http::printable(resource.as_str(), 200),
            crate::http::origin(request)
        )));
    }
    let issuer = doc
        .get("authorization_servers")
        .and_then(|a| a.as_array())
        .and_then(|a| a.first())
        .and_then(|s| s.as_str())
        .filter(|s| Url::parse(s).is_ok())
        .map(str::to_string)
        .ok_or_else(|| {
            Error::BadAnswer("protected resource metadata names no authorization server".into())
        })?;
    let scopes_supported = doc
        .get("scopes_supported")
        .and_then(|a| a.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str()).collect::<Vec<_>>())
        .unwrap_or_default();
    Ok(Found {
        issuer,
        resource: written.to_string(),
        scopes_supported: scope_tokens(scopes_supported),
    })
}

/// The scope a Bearer challenge names (RFC 6750 §3 `scope`).
pub fn challenge_scope(wwwauth: &[String]) -> Vec<String> {
    bearer_param(
        wwwauth,
        |s| Some(scope_tokens(s.split(' ').collect())),
        "scope",
    )
    .unwrap_or_default()
}

/// RFC 6749 §3.3 scope-tokens only, at most [`MAX_SCOPES`].
fn scope_tokens(words: Vec<&str>) -> Vec<String> {
    let valid = |w: &&str| {
        !w.is_empty()
            && w.len() <= 200
            && w.bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
    };
    words
        .into_iter()
        .filter(valid)
        .take(MAX_SCOPES)
        .map(str::to_string)
        .collect()
}

/// What the protected resource at `url` says through its challenge: the
/// metadata `resource_metadata` points at (RFC 9728 §5.1), fetched or kept
/// a day, checked to be for `url` (§3.3) and to name an issuer that uses
/// https (loopback excepted). `Ok(None)` when the challenge names no
/// metadata on `url`'s own origin.
pub fn find(
    url: &Url,
    wwwauth: &[String],
    transport: &Transport,
    cache: &super::Cache,
) -> Result<Option<Found>> {
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
    // Kept a day like the authorization server's: a warm `get` with a
    // challenge touches no network.
    let now = crate::token::now();
    let doc = match cache.get::<serde_json::Value>("resource", meta_url.as_str(), now) {
        Some(doc) => doc,
        None => {
            let doc = Http::new(transport)?.get_json(&meta_url)?;
            cache.put("resource", meta_url.as_str(), &doc, now);
            doc
        }
    };
    let found = found_in(&doc, url)?;
    let issuer_url = Url::parse(&found.issuer).map_err(|_| {
        Error::BadAnswer("protected resource metadata names no authorization server".into())
    })?;
    crate::http::check_transport(&issuer_url).map_err(|_| {
        Error::Refused(format!(
            "{}: the authorization server it names, {}, does not use https; refused",
            crate::http::origin(url),
            crate::http::authority(&found.issuer)
        ))
    })?;
    crate::debug!(
        "{url}: authorization server {} from the resource metadata",
        found.issuer
    );
    Ok(Some(found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issuer_from(doc: &serde_json::Value, request: &Url) -> Result<String> {
        found_in(doc, request).map(|f| f.issuer)
    }

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
    fn resource_is_kept_as_written_and_only_scope_tokens_are_taken() {
        let req = Url::parse("https://git.example/org/repo.git").unwrap();
        let f = found_in(
            &json!({"resource": "https://GIT.example/org", "authorization_servers": ["https://as"],
                    "scopes_supported": ["read", "bad scope", "", "q\"x", "write", 7]}),
            &req,
        )
        .unwrap();
        assert_eq!(f.resource, "https://GIT.example/org");
        assert_eq!(f.scopes_supported, ["read", "write"]);
    }

    #[test]
    fn the_challenge_names_the_scope() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            challenge_scope(&v(&[
                "Basic scope=\"no\"",
                "Bearer realm=\"git\", scope=\"repo:read  repo:write\""
            ])),
            ["repo:read", "repo:write"]
        );
        assert!(challenge_scope(&v(&["Bearer realm=\"git\""])).is_empty());
    }
}
