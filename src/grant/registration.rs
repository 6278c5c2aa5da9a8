//! Dynamic client registration (RFC 7591): a provider configured without a
//! `client_id` registers once as a public native client, and the
//! registration is kept in the store next to its tokens.

use super::Client;
use crate::config::AuthMethod;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::Secret;
use crate::store::CacheKey;
use serde::{Deserialize, Serialize};
use url::Url;

/// What the registration endpoint handed out (RFC 7591 §3.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
}

/// Where the registration for `issuer` and the configured `redirect_uri`
/// is stored: its own namespace, apart from token keys.
pub fn key(issuer: &str, redirect_uri: &Url) -> CacheKey {
    CacheKey::hashed(&format!("registration\n{issuer}\n{redirect_uri}"))
}

/// RFC 7591 §2, §3.1: register a public native client (RFC 8252 §8.4) with
/// the loopback redirect URI and the grants it will use.
pub fn register(
    http: &Http,
    endpoint: &Url,
    redirect_uri: &Url,
    grant_types: &[&str],
) -> Result<Registration> {
    // Port 0 stands for "any free port": registered without a port, which
    // RFC 8252 §7.3 has the server match whatever port the login uses.
    let mut registered = redirect_uri.clone();
    if registered.port() == Some(0) {
        let _ = registered.set_port(None);
    }
    let doc = serde_json::json!({
        "client_name": "credential-oauth",
        "redirect_uris": [registered.as_str()],
        "grant_types": grant_types,
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "native",
    });
    crate::debug!("registering a client at {}", crate::http::origin(endpoint));
    let body = http.post_json(endpoint, &doc)?;
    Registration::from_response(&body)
}

impl Registration {
    pub fn from_response(body: &serde_json::Value) -> Result<Registration> {
        let client_id = body
            .get("client_id")
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::BadAnswer("registration answer has no client_id".into()))?;
        Ok(Registration {
            client_id: client_id.to_string(),
            client_secret: body
                .get("client_secret")
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map(Secret::new),
            token_endpoint_auth_method: body
                .get("token_endpoint_auth_method")
                .and_then(|v| v.as_str())
                .map(str::to_string),
        })
    }

    /// The client as the token endpoint sees it. A server that insisted on
    /// a secret gets it the way it said.
    pub fn client(&self) -> Client {
        let method = match self.token_endpoint_auth_method.as_deref() {
            Some("client_secret_post") => AuthMethod::ClientSecretPost,
            _ => AuthMethod::ClientSecretBasic,
        };
        Client {
            id: self.client_id.clone(),
            secret: self.client_secret.clone(),
            method,
            assertion: None,
            dpop: None,
            resource: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::http::scripted::{self, COMMON, body, headers};

    #[test]
    fn registration_posts_a_native_public_client_as_json() {
        let (http, sent) = scripted::http(&[(201, br#"{"client_id":"c1"}"#)]);
        let endpoint = Url::parse("https://as.example/register").unwrap();
        // Port 0 ("any free port") is registered without a port.
        let redirect = Url::parse("http://127.0.0.1:0/cb").unwrap();
        let r = register(
            &http,
            &endpoint,
            &redirect,
            &["authorization_code", "refresh_token"],
        )
        .unwrap();
        assert_eq!(r.client_id, "c1");
        let req = sent.only();
        assert_eq!(req.method, crate::http::Method::Post);
        assert_eq!(req.url, endpoint);
        let mut expected = vec![("Content-Type", "application/json")];
        expected.extend(COMMON);
        assert_eq!(headers(&req), expected);
        let doc: serde_json::Value = serde_json::from_str(body(&req)).unwrap();
        assert_eq!(
            doc,
            json!({
                "client_name": "credential-oauth",
                "redirect_uris": ["http://127.0.0.1/cb"],
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
                "application_type": "native",
            })
        );
    }

    #[test]
    fn a_refused_registration_is_the_oauth_error() {
        let (http, _) = scripted::http(&[(400, br#"{"error":"invalid_redirect_uri"}"#)]);
        let e = register(
            &http,
            &Url::parse("https://as.example/register").unwrap(),
            &Url::parse("http://127.0.0.1:5210/").unwrap(),
            &["authorization_code"],
        )
        .unwrap_err();
        assert_eq!(e.oauth_code(), Some("invalid_redirect_uri"));
    }

    #[test]
    fn answer_parses_and_round_trips_through_the_store_format() {
        let r = Registration::from_response(&json!({
            "client_id": "c1", "token_endpoint_auth_method": "none", "client_id_issued_at": 5
        }))
        .unwrap();
        assert_eq!(r.client_id, "c1");
        assert!(r.client().secret.is_none());
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Registration>(&text).unwrap(), r);
        assert!(Registration::from_response(&json!({"client_id": ""})).is_err());
    }

    #[test]
    fn registration_key_is_apart_from_token_keys() {
        let u = Url::parse("http://127.0.0.1:0/").unwrap();
        assert_eq!(
            key("https://a", &u),
            CacheKey::hashed("registration\nhttps://a\nhttp://127.0.0.1:0/")
        );
        assert_ne!(
            key("https://a", &u),
            CacheKey::new("https://a", "", &[], "")
        );
    }
}
