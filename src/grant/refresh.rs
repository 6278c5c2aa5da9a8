//! Refreshing an access token (RFC 6749 §6), with rotation: a new refresh
//! token replaces the old one, and the old one is kept when none comes back.

use super::{Client, scope_param, token_request};
use crate::discovery::authorization_server::Metadata;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::token::Token;

/// RFC 6749 §6: trade `old`'s refresh token for a new access token with the
/// configured `scopes`.
pub fn obtain(
    http: &Http,
    meta: &Metadata,
    client: &Client,
    old: &Token,
    scopes: &[String],
) -> Result<Token> {
    let refresh_token = old
        .refresh_token
        .as_ref()
        .ok_or_else(|| Error::Login("the cached token has no refresh token".into()))?;
    let scope = scope_param(scopes);
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
    ];
    if let Some(s) = &scope {
        form.push(("scope", s));
    }
    let new = match token_request(http, meta, client, &form) {
        // The server granted less than the config asks for: what it granted
        // is still worth renewing (omitting scope asks for the same again).
        Err(e) if scope.is_some() && e.oauth_code() == Some("invalid_scope") => {
            crate::debug!("refresh: scope refused; asking for the scope granted before");
            form.pop();
            token_request(http, meta, client, &form)?
        }
        other => other?,
    };
    Ok(carry_over(old, new))
}

/// What a refresh answer leaves out stays as it was: the refresh token
/// (RFC 6749 §6: the server MAY issue a new one) and when it was obtained
/// (also when the answer repeats the same one), the granted scope
/// (§5.1: omitted when identical to the one requested), and the ID token
/// (OpenID Connect Core §12.2: the answer might not contain one) while it
/// is still fresh by its own `exp`. An expired one is dropped, so a caller
/// asking for it hears that there is none rather than getting a token the
/// cluster refuses.
///
/// The authentication behind the token (RFC 9470: `acr`, `auth_time`) is
/// the one the refresh token was obtained with: a new ID token's claims
/// say it again, else the old token's values stand.
pub fn carry_over(old: &Token, mut new: Token) -> Token {
    super::note_authentication(&mut new, None);
    if new.acr.is_none() {
        new.acr.clone_from(&old.acr);
    }
    if new.auth_time.is_none() {
        new.auth_time = old.auth_time;
    }
    if new.refresh_token.is_none() || new.refresh_token == old.refresh_token {
        new.refresh_token.clone_from(&old.refresh_token);
        new.refresh_token_obtained_at = old.refresh_token_obtained_at;
    }
    if new.scope.is_none() {
        new.scope.clone_from(&old.scope);
    }
    if new.id_token.is_none() {
        let now = new.obtained_at.saturating_add(crate::token::REFRESH_MARGIN);
        new.id_token = old
            .id_token
            .clone()
            .filter(|id| crate::token::id_token_expiry(id).is_some_and(|exp| exp > now));
    }
    new
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use serde_json::json;

    #[test]
    fn rotated_refresh_token_replaces_the_old_one() {
        let old = Token::from_response(
            &json!({"access_token":"a1","refresh_token":"r1","scope":"x"}),
            0,
        )
        .unwrap();
        let new =
            Token::from_response(&json!({"access_token":"a2","refresh_token":"r2"}), 1).unwrap();
        let t = carry_over(&old, new);
        assert_eq!(t.refresh_token, Some(Secret::new("r2")));
        assert_eq!(t.scope.as_deref(), Some("x"));
        assert_eq!(t.access_token.expose(), "a2");
    }

    #[test]
    fn the_refresh_token_keeps_its_age_until_a_new_one_comes() {
        let old =
            Token::from_response(&json!({"access_token":"a1","refresh_token":"r1"}), 10).unwrap();
        assert_eq!(old.refresh_token_obtained_at, Some(10));
        let none = Token::from_response(&json!({"access_token":"a2"}), 20).unwrap();
        assert_eq!(none.refresh_token_obtained_at, None);
        assert_eq!(carry_over(&old, none).refresh_token_obtained_at, Some(10));
        let same =
            Token::from_response(&json!({"access_token":"a2","refresh_token":"r1"}), 20).unwrap();
        assert_eq!(carry_over(&old, same).refresh_token_obtained_at, Some(10));
        let rotated =
            Token::from_response(&json!({"access_token":"a2","refresh_token":"r2"}), 20).unwrap();
        assert_eq!(
            carry_over(&old, rotated).refresh_token_obtained_at,
            Some(20)
        );
        // An entry from before the moment was kept stays without one.
        let mut unknown = old.clone();
        unknown.refresh_token_obtained_at = None;
        let none = Token::from_response(&json!({"access_token":"a2"}), 20).unwrap();
        assert_eq!(carry_over(&unknown, none).refresh_token_obtained_at, None);
    }

    #[test]
    fn old_refresh_token_is_kept_when_none_comes_back() {
        let old =
            Token::from_response(&json!({"access_token":"a1","refresh_token":"r1"}), 0).unwrap();
        let new = Token::from_response(&json!({"access_token":"a2","scope":"y"}), 1).unwrap();
        let t = carry_over(&old, new);
        assert_eq!(t.refresh_token, Some(Secret::new("r1")));
        assert_eq!(t.scope.as_deref(), Some("y"));
    }

    #[test]
    fn an_id_token_is_replaced_by_a_new_one_or_kept_while_it_is_fresh() {
        use base64::Engine;
        let jwt = |exp: u64| {
            let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            format!("{}.{}.c2ln", b64("{}"), b64(&format!(r#"{{"exp":{exp}}}"#)))
        };
        let old = Token::from_response(
            &json!({"access_token":"a1","refresh_token":"r1","id_token":jwt(1000)}),
            0,
        )
        .unwrap();
        let with = |id: Option<String>, now: u64| {
            let mut doc = json!({"access_token":"a2"});
            if let Some(id) = id {
                doc["id_token"] = json!(id);
            }
            carry_over(&old, Token::from_response(&doc, now).unwrap())
                .id_token
                .map(|s| s.expose().to_string())
        };
        assert_eq!(with(Some(jwt(2000)), 500), Some(jwt(2000)));
        assert_eq!(with(None, 500), Some(jwt(1000)));
        assert_eq!(with(None, 940), None, "less than the margin left");
        assert_eq!(with(None, 1000), None);
    }

    /// RFC 9470: a refresh does not authenticate the person again, so
    /// the acr and auth_time of the login stand, unless a new ID token
    /// says them anew.
    #[test]
    fn the_authentication_behind_a_token_survives_its_refresh() {
        use base64::Engine;
        let jwt = |claims: &str| {
            let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
            format!("{}.{}.c2ln", b64("{}"), b64(claims))
        };
        let mut old =
            Token::from_response(&json!({"access_token":"a1","refresh_token":"r1"}), 0).unwrap();
        old.acr = Some("phr".into());
        old.auth_time = Some(100);
        let plain = Token::from_response(&json!({"access_token":"a2"}), 500).unwrap();
        let t = carry_over(&old, plain);
        assert_eq!((t.acr.as_deref(), t.auth_time), (Some("phr"), Some(100)));
        let said = Token::from_response(
            &json!({"access_token":"a3","id_token":jwt(r#"{"acr":"phrh","auth_time":400}"#)}),
            500,
        )
        .unwrap();
        let t = carry_over(&old, said);
        assert_eq!((t.acr.as_deref(), t.auth_time), (Some("phrh"), Some(400)));
    }

    use crate::config::AuthMethod;
    use crate::grant::examples::{BASIC, TOKEN, confidential, metadata, public};
    use crate::http::scripted::{self, COMMON, body, headers};

    fn cached(refresh_token: Option<&str>) -> Token {
        let mut doc = json!({"access_token": "old", "scope": "read"});
        if let Some(r) = refresh_token {
            doc["refresh_token"] = json!(r);
        }
        Token::from_response(&doc, 0).unwrap()
    }

    #[test]
    fn refresh_sends_the_refresh_token_and_the_configured_scope() {
        let (http, sent) = scripted::http(&[(200, TOKEN)]);
        let scopes = ["read".to_string(), "write".to_string()];
        let t = obtain(&http, &metadata(), &public(), &cached(Some("r/1")), &scopes).unwrap();
        assert_eq!(t.access_token.expose(), "at");
        assert_eq!(t.refresh_token, Some(Secret::new("r/1")));
        let req = sent.only();
        assert_eq!(req.url.as_str(), "https://as.example/token");
        assert_eq!(
            body(&req),
            "grant_type=refresh_token&refresh_token=r%2F1&scope=read+write&client_id=app"
        );
        let mut expected = vec![("Content-Type", "application/x-www-form-urlencoded")];
        expected.extend(COMMON);
        assert_eq!(headers(&req), expected);
    }

    #[test]
    fn a_confidential_refresh_authenticates_and_no_scope_sends_none() {
        let (http, sent) = scripted::http(&[(200, TOKEN)]);
        let client = confidential(AuthMethod::ClientSecretBasic);
        obtain(&http, &metadata(), &client, &cached(Some("r1")), &[]).unwrap();
        let req = sent.only();
        assert_eq!(req.header("Authorization"), Some(BASIC));
        assert_eq!(body(&req), "grant_type=refresh_token&refresh_token=r1");
    }

    #[test]
    fn a_refused_scope_is_asked_again_without_scope() {
        let (http, sent) = scripted::http(&[(400, br#"{"error":"invalid_scope"}"#), (200, TOKEN)]);
        let scopes = ["admin".to_string()];
        let t = obtain(&http, &metadata(), &public(), &cached(Some("r1")), &scopes).unwrap();
        assert_eq!(t.scope.as_deref(), Some("read"));
        let bodies: Vec<String> = sent.all().iter().map(|r| body(r).to_string()).collect();
        assert_eq!(
            bodies,
            [
                "grant_type=refresh_token&refresh_token=r1&scope=admin&client_id=app",
                "grant_type=refresh_token&refresh_token=r1&client_id=app",
            ]
        );
    }

    #[test]
    fn invalid_grant_comes_back_as_the_oauth_error_whatever_the_status() {
        for status in [400, 200] {
            let (http, sent) = scripted::http(&[(status, br#"{"error":"invalid_grant"}"#)]);
            let e = obtain(&http, &metadata(), &public(), &cached(Some("r1")), &[]).unwrap_err();
            assert!(
                matches!(&e, Error::OAuth { status: s, error, .. } if *s == status && error == "invalid_grant"),
                "{e:?}"
            );
            assert_eq!(e.kind(), crate::error::Kind::Rejected);
            assert!(!e.to_string().contains("r1"), "{e}");
            assert_eq!(sent.all().len(), 1);
        }
    }

    #[test]
    fn without_a_refresh_token_nothing_is_sent() {
        let (http, sent) = scripted::http(&[]);
        assert!(obtain(&http, &metadata(), &public(), &cached(None), &[]).is_err());
        assert!(sent.all().is_empty());
    }
}
