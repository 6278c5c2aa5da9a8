//! Token revocation (RFC 7009): at logout the server is told to forget the
//! grant, so a copy of the token left anywhere stops working.

use super::Client;
use crate::discovery::authorization_server::Metadata;
use crate::error::Result;
use crate::http::Http;
use crate::token::Token;
use url::Url;

/// Which token was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    RefreshToken,
    AccessToken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server publishes no `revocation_endpoint` and none is configured.
    NotOffered,
    /// Revoked at this endpoint (named without query).
    Revoked { which: Revoked, endpoint: String },
}

/// Revoke `token` at logout, as `client` (the client the grant was made
/// as: configured or registered), at the revocation endpoint of `meta`.
pub fn at_logout(http: &Http, meta: &Metadata, client: &Client, token: &Token) -> Result<Outcome> {
    let Some(endpoint) = &meta.revocation_endpoint else {
        return Ok(Outcome::NotOffered);
    };
    let which = revoke(http, endpoint, client, token)?;
    Ok(Outcome::Revoked {
        which,
        endpoint: crate::http::origin(endpoint),
    })
}

/// RFC 7009 §2.1: revoke the refresh token when there is one, which also
/// ends the access tokens of its grant; else the access token. The client
/// authenticates as it does at the token endpoint.
pub fn revoke(http: &Http, endpoint: &Url, client: &Client, token: &Token) -> Result<Revoked> {
    let (value, hint, revoked) = match &token.refresh_token {
        Some(r) => (r, "refresh_token", Revoked::RefreshToken),
        None => (&token.access_token, "access_token", Revoked::AccessToken),
    };
    let mut form = vec![("token", value.expose()), ("token_type_hint", hint)];
    let auth = client.authenticate(&mut form);
    crate::debug!(
        "POST {} token_type_hint={hint}",
        crate::http::origin(endpoint)
    );
    http.post_form_no_content(endpoint, &form, auth)?;
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AuthMethod;
    use crate::discovery::authorization_server::Metadata;
    use crate::grant::examples::{BASIC, confidential, metadata};
    use crate::http::scripted::{self, COMMON, body, headers};
    use serde_json::json;

    fn token(refresh_token: Option<&str>) -> Token {
        let mut doc = json!({"access_token": "at-1"});
        if let Some(r) = refresh_token {
            doc["refresh_token"] = json!(r);
        }
        Token::from_response(&doc, 0).unwrap()
    }

    #[test]
    fn logout_revokes_the_refresh_token_with_its_hint_as_the_client() {
        // RFC 7009 §2.2: the body of a 200 is not read.
        let (http, sent) = scripted::http(&[(200, b"")]);
        let client = confidential(AuthMethod::ClientSecretBasic);
        let outcome = at_logout(&http, &metadata(), &client, &token(Some("rt-1"))).unwrap();
        assert_eq!(
            outcome,
            Outcome::Revoked {
                which: Revoked::RefreshToken,
                endpoint: "https://as.example/revoke".into(),
            }
        );
        let req = sent.only();
        assert_eq!(req.url.as_str(), "https://as.example/revoke");
        let mut expected = vec![
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", BASIC),
        ];
        expected.extend(COMMON);
        assert_eq!(headers(&req), expected);
        assert_eq!(body(&req), "token=rt-1&token_type_hint=refresh_token");
    }

    #[test]
    fn without_a_refresh_token_the_access_token_is_revoked() {
        let (http, sent) = scripted::http(&[(200, b"")]);
        let client = confidential(AuthMethod::ClientSecretPost);
        let endpoint = Url::parse("https://as.example/revoke").unwrap();
        let which = revoke(&http, &endpoint, &client, &token(None)).unwrap();
        assert_eq!(which, Revoked::AccessToken);
        let req = sent.only();
        assert_eq!(req.header("Authorization"), None);
        assert_eq!(
            body(&req),
            "token=at-1&token_type_hint=access_token&client_id=app&client_secret=s3cret"
        );
    }

    #[test]
    fn a_refusal_is_the_oauth_error_and_no_endpoint_sends_nothing() {
        let (http, _) = scripted::http(&[(400, br#"{"error":"unsupported_token_type"}"#)]);
        let client = confidential(AuthMethod::ClientSecretBasic);
        let e = at_logout(&http, &metadata(), &client, &token(Some("rt-1"))).unwrap_err();
        assert_eq!(e.oauth_code(), Some("unsupported_token_type"));
        assert!(!e.to_string().contains("rt-1"), "{e}");
        let (http, sent) = scripted::http(&[]);
        let bare = Metadata {
            revocation_endpoint: None,
            ..metadata()
        };
        let outcome = at_logout(&http, &bare, &client, &token(Some("rt-1"))).unwrap();
        assert_eq!(outcome, Outcome::NotOffered);
        assert!(sent.all().is_empty());
    }
}
