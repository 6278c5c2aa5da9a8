//! Token revocation (RFC 7009): at logout the server is told to forget the
//! grant, so a copy of the token left anywhere stops working.

use super::Client;
use crate::discovery::authorization_server::Metadata;
use crate::error::Result;
use crate::http::Http;
use crate::secret::Secret;
use crate::token::Token;
use url::Url;

/// Which token a revocation request names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    RefreshToken,
    AccessToken,
}

impl Revoked {
    /// RFC 7009 §2.1 `token_type_hint`.
    fn hint(self) -> &'static str {
        match self {
            Revoked::RefreshToken => "refresh_token",
            Revoked::AccessToken => "access_token",
        }
    }
}

#[derive(Debug)]
pub enum Outcome {
    /// The server publishes no `revocation_endpoint` and none is configured.
    NotOffered,
    /// Each token the entry held was sent to this endpoint (named without
    /// query), in this order, with what the server answered.
    Tried {
        endpoint: String,
        attempts: Vec<(Revoked, Result<()>)>,
    },
}

/// Revoke `token` at logout, as `client` (the client the grant was made
/// as: configured or registered), at the revocation endpoint of `meta`.
/// RFC 7009 §2.1 lets a server keep the access tokens of a grant alive
/// when its refresh token is revoked (and the refresh token when an access
/// token is), so each is revoked by a request of its own; one refused does
/// not keep the other from being tried. The access token goes first, so
/// neither request names a token the other has just ended.
pub fn at_logout(http: &Http, meta: &Metadata, client: &Client, token: &Token) -> Outcome {
    let Some(endpoint) = &meta.revocation_endpoint else {
        return Outcome::NotOffered;
    };
    let mut attempts = vec![(
        Revoked::AccessToken,
        revoke(
            http,
            endpoint,
            client,
            &token.access_token,
            Revoked::AccessToken,
        ),
    )];
    if let Some(refresh) = &token.refresh_token {
        let result = revoke(http, endpoint, client, refresh, Revoked::RefreshToken);
        attempts.push((Revoked::RefreshToken, result));
    }
    Outcome::Tried {
        endpoint: crate::http::origin(endpoint),
        attempts,
    }
}

/// RFC 7009 §2.1: revoke one token, `which` it is given as the hint. The
/// client authenticates as it does at the token endpoint.
pub fn revoke(
    http: &Http,
    endpoint: &Url,
    client: &Client,
    value: &Secret,
    which: Revoked,
) -> Result<()> {
    let hint = which.hint();
    let assertion = client.assertion(http)?;
    let mut form = vec![("token", value.expose()), ("token_type_hint", hint)];
    let auth = client.authenticate(assertion.as_ref(), &mut form);
    crate::debug!(
        "POST {} token_type_hint={hint}",
        crate::http::origin(endpoint)
    );
    http.post_form_no_content(endpoint, &form, auth)
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

    /// The requests' bodies, in order.
    fn bodies(sent: &scripted::Sent) -> Vec<String> {
        sent.all().iter().map(|r| body(r).to_string()).collect()
    }

    #[test]
    fn logout_revokes_the_access_token_then_the_refresh_token_each_with_its_hint() {
        // RFC 7009 §2.2: the body of a 200 is not read.
        let (http, sent) = scripted::http(&[(200, b""), (200, b"")]);
        let client = confidential(AuthMethod::ClientSecretBasic);
        let outcome = at_logout(&http, &metadata(), &client, &token(Some("rt-1")));
        let Outcome::Tried { endpoint, attempts } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(endpoint, "https://as.example/revoke");
        let which: Vec<_> = attempts.iter().map(|(w, r)| (*w, r.is_ok())).collect();
        assert_eq!(
            which,
            [(Revoked::AccessToken, true), (Revoked::RefreshToken, true)]
        );
        for req in sent.all() {
            assert_eq!(req.url.as_str(), "https://as.example/revoke");
            let mut expected = vec![
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", BASIC),
            ];
            expected.extend(COMMON);
            assert_eq!(headers(&req), expected);
        }
        assert_eq!(
            bodies(&sent),
            [
                "token=at-1&token_type_hint=access_token",
                "token=rt-1&token_type_hint=refresh_token",
            ]
        );
    }

    #[test]
    fn without_a_refresh_token_only_the_access_token_is_revoked() {
        let (http, sent) = scripted::http(&[(200, b"")]);
        let client = confidential(AuthMethod::ClientSecretPost);
        let outcome = at_logout(&http, &metadata(), &client, &token(None));
        let Outcome::Tried { attempts, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(attempts.len(), 1);
        assert!(matches!(attempts[0], (Revoked::AccessToken, Ok(()))));
        let req = sent.only();
        assert_eq!(req.header("Authorization"), None);
        assert_eq!(
            body(&req),
            "token=at-1&token_type_hint=access_token&client_id=app&client_secret=s3cret"
        );
    }

    #[test]
    fn a_refusal_is_kept_and_the_other_token_still_tried() {
        let (http, sent) =
            scripted::http(&[(400, br#"{"error":"unsupported_token_type"}"#), (200, b"")]);
        let client = confidential(AuthMethod::ClientSecretBasic);
        let outcome = at_logout(&http, &metadata(), &client, &token(Some("rt-1")));
        let Outcome::Tried { attempts, .. } = outcome else {
            panic!("{outcome:?}")
        };
        let (which, refused) = &attempts[0];
        assert_eq!(*which, Revoked::AccessToken);
        let e = refused.as_ref().unwrap_err();
        assert_eq!(e.oauth_code(), Some("unsupported_token_type"));
        assert!(!e.to_string().contains("at-1"), "{e}");
        assert!(matches!(attempts[1], (Revoked::RefreshToken, Ok(()))));
        assert_eq!(sent.all().len(), 2);
    }

    #[test]
    fn private_key_jwt_revokes_with_an_assertion_for_the_token_endpoint() {
        use crate::grant::assertion::JWT_BEARER;
        let (http, sent) = scripted::http(&[(200, b"")]);
        let client = crate::grant::examples::private_key_jwt("ec-sec1.pem", None);
        let outcome = at_logout(&http, &metadata(), &client, &token(None));
        assert!(matches!(outcome, Outcome::Tried { .. }), "{outcome:?}");
        let req = sent.only();
        assert_eq!(req.url.as_str(), "https://as.example/revoke");
        assert_eq!(req.header("Authorization"), None);
        let form: Vec<(String, String)> = url::form_urlencoded::parse(body(&req).as_bytes())
            .into_owned()
            .collect();
        let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("token"), Some("at-1"));
        assert_eq!(get("client_id"), Some("app"));
        assert_eq!(get("client_assertion_type"), Some(JWT_BEARER));
        let jwt = get("client_assertion").unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                jwt.split('.').nth(1).unwrap(),
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["aud"], "https://as.example/token");
    }

    #[test]
    fn no_endpoint_sends_nothing() {
        let (http, sent) = scripted::http(&[]);
        let client = confidential(AuthMethod::ClientSecretBasic);
        let bare = Metadata {
            revocation_endpoint: None,
            ..metadata()
        };
        let outcome = at_logout(&http, &bare, &client, &token(Some("rt-1")));
        assert!(matches!(outcome, Outcome::NotOffered), "{outcome:?}");
        assert!(sent.all().is_empty());
    }
}
