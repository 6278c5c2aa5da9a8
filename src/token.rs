//! Access tokens, their lifetime arithmetic, and the token endpoint's answer
//! (RFC 6749 §5.1).

use crate::error::{Error, Result};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};

/// A token is used only while more than this many seconds remain.
pub const REFRESH_MARGIN: u64 = 60;

/// Lifetime assumed when the server sends no `expires_in` but a refresh
/// token (RFC 6749 §5.1 lets it omit the lifetime): an hour, the most common
/// server default, after which renewal is silent. Without a refresh token
/// no lifetime is assumed: the token (GitHub's OAuth apps, several forges)
/// is used until the server rejects it (DESIGN.md "Where tokens live").
pub const ASSUMED_LIFETIME: u64 = 3600;

/// Longest `expires_in` taken at face value; anything longer is a server bug.
const MAX_LIFETIME: u64 = 10 * 365 * 24 * 3600;

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub access_token: Secret,
    pub token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// The scopes granted, space-separated, when the server said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When the token was obtained (Unix seconds).
    pub obtained_at: u64,
    /// When the server said it expires (Unix seconds); `None` when it did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// `token_lifetime = "until_rejected"`: used until the server rejects it
    /// even though a refresh token came with it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub until_rejected: bool,
    /// The OpenID Connect ID token that came with the access token (with
    /// `openid` in the scope), for callers that hand on an ID token
    /// (Kubernetes clusters validate one); a JWS compact serialization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<Secret>,
    /// When the refresh token was obtained (Unix seconds). A refresh that
    /// brings no new refresh token keeps it, so its age is known where a
    /// server limits that (see [`Token::refresh_token_obtained`]). `None`
    /// without a refresh token, and in entries written before it was kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_obtained_at: Option<u64>,
    /// RFC 9449 §6.1 `jkt`: the thumbprint of the DPoP key the token is
    /// bound to; `None` for a bearer token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// RFC 9470 §3, §6: the authentication context class the person
    /// logged in with (the ID token's `acr`, else the `acr_values` asked
    /// for, space-separated: one of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// When the person last authenticated (Unix seconds): the ID token's
    /// `auth_time`, else the moment of a login that asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
}

/// When a refresh token was obtained, as far as the entry tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Obtained {
    /// At this moment (Unix seconds).
    At(u64),
    /// At this moment or before: an entry written before the moment was
    /// kept knows only when its access token was obtained, and a refresh
    /// token is never younger than the access token it came with or
    /// renewed.
    NoLaterThan(u64),
}

/// Which credential of a token answer a caller hands on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// The access token (RFC 6749 §5.1): what every caller but kubectl gets.
    AccessToken,
    /// The OpenID Connect ID token (OpenID Connect Core §2).
    IdToken,
}

impl Token {
    /// The moment after which the token is no longer used: the server's
    /// expiry; else, with a refresh token, the assumed lifetime; `None`
    /// when it is used until the server rejects it (no `expires_in` and no
    /// refresh token, or `token_lifetime = "until_rejected"`).
    pub fn deadline(&self) -> Option<u64> {
        match (self.expires_at, &self.refresh_token) {
            (Some(at), _) => Some(at),
            _ if self.until_rejected => None,
            (None, Some(_)) => Some(self.obtained_at.saturating_add(ASSUMED_LIFETIME)),
            (None, None) => None,
        }
    }

    /// The moment this helper stops handing the token out from its cache:
    /// [`REFRESH_MARGIN`] before the deadline. Callers that cache a token
    /// themselves (cargo's `expiration`) keep it no longer than this.
    pub fn usable_until(&self) -> Option<u64> {
        self.deadline().map(|d| d.saturating_sub(REFRESH_MARGIN))
    }

    /// Fresh while more than [`REFRESH_MARGIN`] seconds remain, or for good
    /// when it has no deadline.
    pub fn is_fresh(&self, now: u64) -> bool {
        self.deadline()
            .is_none_or(|d| d > now.saturating_add(REFRESH_MARGIN))
    }

    /// When the refresh token was obtained; `None` without one.
    pub fn refresh_token_obtained(&self) -> Option<Obtained> {
        self.refresh_token.as_ref()?;
        Some(match self.refresh_token_obtained_at {
            Some(at) => Obtained::At(at),
            None => Obtained::NoLaterThan(self.obtained_at),
        })
    }

    /// Expired once the deadline has passed (no margin); never without one.
    pub fn is_expired(&self, now: u64) -> bool {
        self.deadline().is_some_and(|d| d <= now)
    }

    /// The moment after which `which` is no longer handed out: for the ID
    /// token, the earlier of [`Token::deadline`] and the ID token's own
    /// `exp`, since a cluster refuses an expired ID token whatever the
    /// access token's lifetime. `None` when there is no ID token.
    pub fn deadline_of(&self, which: Credential) -> Option<u64> {
        match which {
            Credential::AccessToken => self.deadline(),
            Credential::IdToken => {
                let exp = self.id_token.as_ref().and_then(id_token_expiry)?;
                Some(self.deadline().map_or(exp, |d| exp.min(d)))
            }
        }
    }

    /// [`Token::is_fresh`] for `which`. A token without the ID token asked
    /// for is not fresh for it: a refresh or a login may bring one.
    pub fn is_fresh_for(&self, which: Credential, now: u64) -> bool {
        match which {
            Credential::AccessToken => self.is_fresh(now),
            Credential::IdToken => self
                .deadline_of(which)
                .is_some_and(|d| d > now.saturating_add(REFRESH_MARGIN)),
        }
    }

    /// [`Token::is_expired`] for `which`.
    pub fn is_expired_for(&self, which: Credential, now: u64) -> bool {
        match which {
            Credential::AccessToken => self.is_expired(now),
            Credential::IdToken => self.deadline_of(which).is_none_or(|d| d <= now),
        }
    }

    /// Parse a successful token endpoint answer (RFC 6749 §5.1), obtained at `now`.
    pub fn from_response(body: &serde_json::Value, now: u64) -> Result<Token> {
        let bad = |what: &str| Error::BadAnswer(format!("token endpoint answer {what}"));
        let obj = body
            .as_object()
            .ok_or_else(|| bad("is not a JSON object"))?;
        // The value is not named in these errors: it may be a working token.
        let not_b64token = |what: &str| {
            bad(&format!(
                "has {what} that is not an RFC 6750 b64token (letters, digits, -._~+/ \
                 and trailing =); refusing it"
            ))
        };
        let access_token = match obj.get("access_token") {
            Some(serde_json::Value::String(s)) if is_b64token(s) => Secret::new(s.clone()),
            Some(serde_json::Value::String(s)) if !s.is_empty() => {
                return Err(not_b64token("an access_token"));
            }
            _ => return Err(bad("has no access_token")),
        };
        // RFC 6749 §7.1: the type is case-insensitive. A few servers omit it;
        // what they hand out is a bearer token all the same. A DPoP-bound
        // token (RFC 9449 §5) is taken here; whoever asked for it checks
        // that it asked.
        let token_type = match obj.get("token_type") {
            None | Some(serde_json::Value::Null) => "Bearer".to_string(),
            Some(serde_json::Value::String(t)) if t.eq_ignore_ascii_case("bearer") => {
                "Bearer".to_string()
            }
            Some(serde_json::Value::String(t)) if t.eq_ignore_ascii_case(DPOP) => DPOP.to_string(),
            Some(serde_json::Value::String(t)) => {
                return Err(bad(&format!(
                    "has token_type {:?}; only Bearer and DPoP are supported",
                    truncate(t, 40)
                )));
            }
            Some(_) => return Err(bad("has a token_type that is not a string")),
        };
        let expires_at = match obj.get("expires_in") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(now.saturating_add(parse_expires_in(v).ok_or_else(|| {
                bad("has an expires_in that is not a positive number of seconds")
            })?)),
        };
        // RFC 6749 §A.17 would allow spaces in a refresh token; none is seen
        // in practice, and one that is not a b64token is refused with the
        // answer, so nothing unchecked reaches the store.
        let refresh_token = match obj.get("refresh_token") {
            Some(serde_json::Value::String(s)) if is_b64token(s) => Some(Secret::new(s.clone())),
            Some(serde_json::Value::String(s)) if !s.is_empty() => {
                return Err(not_b64token("a refresh_token"));
            }
            _ => None,
        };
        let scope = match obj.get("scope") {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        // An ID token is extra: one this helper cannot hand on (encrypted,
        // unsigned, or not a b64token) is left out rather than failing a
        // login whose access token is fine; a caller that asks for it
        // then says there is none.
        let id_token = match obj.get("id_token") {
            Some(serde_json::Value::String(s)) if is_jws_compact(s) => Some(Secret::new(s.clone())),
            Some(serde_json::Value::Null) | None => None,
            Some(_) => {
                crate::debug!(
                    "the token endpoint's id_token is not a signed JWT (header.payload.signature \
                     in base64url); leaving it out"
                );
                None
            }
        };
        Ok(Token {
            access_token,
            token_type,
            refresh_token_obtained_at: refresh_token.as_ref().map(|_| now),
            refresh_token,
            scope,
            obtained_at: now,
            expires_at,
            until_rejected: false,
            id_token,
            dpop_jkt: None,
            acr: None,
            auth_time: None,
        })
    }

    /// Whether the token is DPoP-bound (RFC 9449 §5): usable only with a
    /// proof per request, never as a bearer token.
    pub fn is_dpop(&self) -> bool {
        self.token_type == DPOP
    }
}

impl Token {
    /// A cache entry read back, or `None` when it is not one this version
    /// writes: not a token's JSON, or holding a value that is not a
    /// b64token (older versions stored what the server sent unchecked). The
    /// caller treats `None` as a miss, and the next save replaces the entry.
    pub fn from_stored(text: &str) -> Option<Token> {
        serde_json::from_str::<Token>(text).ok().filter(|t| {
            is_b64token(t.access_token.expose())
                && t.refresh_token
                    .as_ref()
                    .is_none_or(|r| is_b64token(r.expose()))
                && t.id_token
                    .as_ref()
                    .is_none_or(|i| is_jws_compact(i.expose()))
        })
    }
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" /
/// "+" / "/" ) *"="`. Only such a value can be sent as `Authorization:
/// Bearer <token>` and printed on one line: a newline, space or NUL in a
/// token would inject into the header or the caller's protocol.
pub fn is_b64token(value: &str) -> bool {
    let body = value.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// Whether `value` has the shape of a signed JWT (RFC 7515 §7.1, JWS
/// compact serialization): three non-empty base64url parts joined by dots.
/// Such a value is also an RFC 6750 b64token, so it can be sent as
/// `Authorization: Bearer` and printed on one line.
pub fn is_jws_compact(value: &str) -> bool {
    let base64url = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let parts: Vec<&str> = value.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| base64url(p)) && is_b64token(value)
}

/// RFC 9449 §5: the `token_type` of a DPoP-bound token.
pub const DPOP: &str = "DPoP";

/// The `exp` claim (Unix seconds) of an ID token, read from its payload
/// WITHOUT checking the signature: this helper only uses it to decide
/// when to stop handing the token out and to tell the caller when it
/// expires. Whoever accepts the token (the cluster's API server) checks
/// the signature, the issuer and the audience; nothing here trusts a claim.
pub fn id_token_expiry(id_token: &Secret) -> Option<u64> {
    numeric_date(&id_token_claims(id_token)?["exp"])
}

/// The `acr` and `auth_time` claims of an ID token (OpenID Connect Core
/// §2), read WITHOUT checking the signature, as [`id_token_expiry`] reads
/// `exp`: they only decide whether a cached token is offered again for a
/// step-up challenge (RFC 9470); the resource server decides whether it
/// is enough.
pub fn id_token_authentication(id_token: &Secret) -> (Option<String>, Option<u64>) {
    let Some(claims) = id_token_claims(id_token) else {
        return (None, None);
    };
    let acr = claims["acr"]
        .as_str()
        .filter(|a| !a.is_empty() && is_b64token(&a.replace(' ', "")))
        .map(str::to_string);
    (acr, numeric_date(&claims["auth_time"]))
}

fn id_token_claims(id_token: &Secret) -> Option<serde_json::Value> {
    use base64::Engine;
    let payload = id_token.expose().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// RFC 7519 §2 NumericDate: seconds, possibly with a fraction.
fn numeric_date(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        _ => None,
    }
}

/// `expires_in` as a number of seconds: a JSON number or, as some servers
/// send it, a numeric string. Zero, negative, fractional-negative and absurd
/// values are refused.
pub fn parse_expires_in(v: &serde_json::Value) -> Option<u64> {
    let secs = match v {
        serde_json::Value::Number(n) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    }?;
    (1..=MAX_LIFETIME).contains(&secs).then_some(secs)
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token(obtained_at: u64, expires_at: Option<u64>) -> Token {
        Token {
            access_token: Secret::new("at"),
            token_type: "Bearer".into(),
            refresh_token: None,
            scope: None,
            obtained_at,
            expires_at,
            until_rejected: false,
            id_token: None,
            refresh_token_obtained_at: None,
            dpop_jkt: None,
            acr: None,
            auth_time: None,
        }
    }

    /// A JWS-shaped ID token whose payload holds `claims`; the signature
    /// part is filler (nothing here checks it).
    fn id_token(claims: &str) -> String {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!("{}.{}.c2ln", b64(r#"{"alg":"RS256"}"#), b64(claims))
    }

    #[test]
    fn the_id_token_is_kept_when_it_is_a_signed_jwt_and_left_out_otherwise() {
        let jwt = id_token(r#"{"exp":1500,"sub":"a"}"#);
        let t = Token::from_response(&json!({"access_token":"a","id_token":jwt}), 0).unwrap();
        assert_eq!(t.id_token.as_ref().map(Secret::expose), Some(jwt.as_str()));
        for odd in [
            json!("a.b"),
            json!("a.b.c.d.e"),
            json!("a..c"),
            json!("a.b."),
            json!(
                "a.b.c
X: y"
            ),
            json!("a.b+.c"),
            json!(17),
        ] {
            let t = Token::from_response(&json!({"access_token":"a","id_token":odd}), 0).unwrap();
            assert!(t.id_token.is_none(), "{odd}");
        }
        // A stored entry with one that is not is a corrupt entry: a miss.
        let mut t = token(5, Some(10));
        t.id_token = Some(Secret::new("a b.c.d"));
        assert!(Token::from_stored(&serde_json::to_string(&t).unwrap()).is_none());
        t.id_token = Some(Secret::new(jwt));
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(Token::from_stored(&text), Some(t));
    }

    #[test]
    fn the_id_token_expiry_is_read_from_its_payload() {
        let exp = |claims: &str| id_token_expiry(&Secret::new(id_token(claims)));
        assert_eq!(exp(r#"{"exp":1500}"#), Some(1500));
        assert_eq!(exp(r#"{"exp":1500.7}"#), Some(1500));
        assert_eq!(exp(r#"{"exp":"1500"}"#), None);
        assert_eq!(exp(r#"{"exp":-1}"#), None);
        assert_eq!(exp(r#"{}"#), None);
        assert_eq!(exp("not json"), None);
        assert_eq!(id_token_expiry(&Secret::new("a.%%%.c")), None);
        assert_eq!(id_token_expiry(&Secret::new("")), None);
    }

    #[test]
    fn an_id_token_that_expires_first_decides_when_it_is_handed_out() {
        let mut t = token(1000, Some(5000));
        assert_eq!(t.deadline_of(Credential::IdToken), None);
        assert!(!t.is_fresh_for(Credential::IdToken, 1000));
        assert!(t.is_expired_for(Credential::IdToken, 1000));
        t.id_token = Some(Secret::new(id_token(r#"{"exp":2000}"#)));
        assert_eq!(t.deadline_of(Credential::IdToken), Some(2000));
        assert_eq!(t.deadline_of(Credential::AccessToken), Some(5000));
        assert!(t.is_fresh_for(Credential::IdToken, 1939));
        assert!(!t.is_fresh_for(Credential::IdToken, 1940));
        assert!(t.is_fresh_for(Credential::AccessToken, 1940));
        assert!(t.is_expired_for(Credential::IdToken, 2000));
        // An ID token outliving the access token ends with it.
        t.id_token = Some(Secret::new(id_token(r#"{"exp":9000}"#)));
        assert_eq!(t.deadline_of(Credential::IdToken), Some(5000));
    }

    #[test]
    fn fresh_only_while_more_than_sixty_seconds_remain() {
        let t = token(1000, Some(2000));
        assert!(t.is_fresh(1939));
        assert!(!t.is_fresh(1940));
        assert!(!t.is_expired(1999));
        assert!(t.is_expired(2000));
    }

    #[test]
    fn usable_until_is_when_the_cache_stops_handing_it_out() {
        let t = token(1000, Some(2000));
        assert_eq!(t.usable_until(), Some(1940));
        assert!(t.is_fresh(1939) && !t.is_fresh(1940));
        assert_eq!(token(0, Some(30)).usable_until(), Some(0));
        assert_eq!(token(0, None).usable_until(), None);
    }

    #[test]
    fn missing_expiry_with_a_refresh_token_assumes_one_hour() {
        let mut t = token(1000, None);
        t.refresh_token = Some(Secret::new("rt"));
        assert_eq!(t.deadline(), Some(1000 + ASSUMED_LIFETIME));
        assert!(t.is_fresh(1000));
        assert!(!t.is_fresh(1000 + ASSUMED_LIFETIME - 60));
    }

    #[test]
    fn missing_expiry_without_a_refresh_token_is_used_until_rejected() {
        let t = token(1000, None);
        assert_eq!(t.deadline(), None);
        let years_later = 1000 + 10 * 365 * 24 * 3600;
        assert!(t.is_fresh(years_later) && !t.is_expired(years_later));
        // And with a refresh token, when the provider says so.
        let mut t = token(1000, None);
        t.refresh_token = Some(Secret::new("rt"));
        t.until_rejected = true;
        assert_eq!(t.deadline(), None);
        // A server's expires_in always wins.
        let mut t = token(1000, Some(2000));
        t.until_rejected = true;
        assert_eq!(t.deadline(), Some(2000));
    }

    #[test]
    fn expires_in_as_number_or_numeric_string() {
        assert_eq!(parse_expires_in(&json!(3600)), Some(3600));
        assert_eq!(parse_expires_in(&json!("3600")), Some(3600));
        assert_eq!(parse_expires_in(&json!(" 60 ")), Some(60));
        assert_eq!(parse_expires_in(&json!(59.9)), Some(59));
        assert_eq!(parse_expires_in(&json!(-5)), None);
        assert_eq!(parse_expires_in(&json!(0)), None);
        assert_eq!(parse_expires_in(&json!("soon")), None);
        assert_eq!(parse_expires_in(&json!(u64::MAX)), None);
        assert_eq!(parse_expires_in(&json!(true)), None);
    }

    #[test]
    fn response_parses_with_case_insensitive_type() {
        let body = json!({"access_token":"a","token_type":"bearer","expires_in":"120","refresh_token":"r","scope":"x y"});
        let t = Token::from_response(&body, 100).unwrap();
        assert_eq!(t.access_token.expose(), "a");
        assert_eq!(t.token_type, "Bearer");
        assert_eq!(t.expires_at, Some(220));
        assert_eq!(t.refresh_token.unwrap().expose(), "r");
        assert_eq!(t.scope.as_deref(), Some("x y"));
    }

    #[test]
    fn a_dpop_token_type_is_read_in_any_case_and_marks_the_token_bound() {
        let body = json!({"access_token":"a","token_type":"dpop"});
        let t = Token::from_response(&body, 0).unwrap();
        assert_eq!(t.token_type, "DPoP");
        assert!(t.is_dpop());
        assert!(!token(0, None).is_dpop());
    }

    #[test]
    fn the_authentication_of_an_id_token_is_its_acr_and_auth_time() {
        let id = Secret::new(id_token(r#"{"acr":"phr","auth_time":1700000000,"exp":1}"#));
        assert_eq!(
            id_token_authentication(&id),
            (Some("phr".to_string()), Some(1_700_000_000))
        );
        let none = Secret::new(id_token(r#"{"exp":1}"#));
        assert_eq!(id_token_authentication(&none), (None, None));
        // An acr that could not be printed on one line is not kept.
        let odd = Secret::new(id_token("{\"acr\":\"a\\nb\"}"));
        assert_eq!(id_token_authentication(&odd).0, None);
    }

    #[test]
    fn response_without_token_or_with_other_type_is_refused() {
        assert!(Token::from_response(&json!({"token_type":"Bearer"}), 0).is_err());
        assert!(Token::from_response(&json!({"access_token":""}), 0).is_err());
        let mac = json!({"access_token":"a","token_type":"mac"});
        let err = Token::from_response(&mac, 0).unwrap_err().to_string();
        assert!(err.contains("mac") && !err.contains("\"a\""), "{err}");
        assert!(Token::from_response(&json!({"access_token":"a","expires_in":-1}), 0).is_err());
    }

    #[test]
    fn b64token_is_rfc6750_section_2_1() {
        for ok in ["a", "at_x-y.z~", "A+/9", "abc=", "abc==", "Zm9v", "-"] {
            assert!(is_b64token(ok), "{ok:?}");
        }
        for bad in [
            "",
            "=",
            "==",
            "a=b",
            "a b",
            "a\nb",
            "a\rb",
            "a\0b",
            "a\tb",
            "é",
            "a,b",
            "a:b",
            "\"a\"",
            "a\u{202e}",
        ] {
            assert!(!is_b64token(bad), "{bad:?}");
        }
    }

    #[test]
    fn a_value_that_is_not_a_b64token_is_refused_without_being_shown() {
        for body in [
            json!({"access_token":"evil\nInjected: 1"}),
            json!({"access_token":"evil token"}),
            json!({"access_token":"ok","refresh_token":"evil token"}),
        ] {
            let err = Token::from_response(&body, 0).unwrap_err().to_string();
            assert!(err.contains("b64token") && !err.contains("evil"), "{err}");
            assert_eq!(err.lines().count(), 1);
        }
    }

    #[test]
    fn a_stored_value_that_is_not_a_b64token_reads_as_no_token() {
        let good = serde_json::to_string(&token(5, Some(10))).unwrap();
        assert!(Token::from_stored(&good).is_some());
        for (access, refresh) in [
            ("a b", None),
            ("a\nb", None),
            ("", None),
            ("a", Some("r r")),
        ] {
            let mut t = token(5, Some(10));
            t.access_token = Secret::new(access);
            t.refresh_token = refresh.map(Secret::new);
            let text = serde_json::to_string(&t).unwrap();
            assert!(Token::from_stored(&text).is_none(), "{text}");
        }
        assert!(Token::from_stored("{not json").is_none());
    }

    #[test]
    fn debug_of_a_token_shows_no_secret() {
        let mut t = token(5, Some(10));
        t.access_token = Secret::new("at_visible?");
        t.refresh_token = Some(Secret::new("rt_visible?"));
        let shown = format!("{t:?}");
        assert!(!shown.contains("visible?"), "{shown}");
    }

    #[test]
    fn stored_json_round_trips() {
        let t = token(5, Some(10));
        let s = serde_json::to_string(&t).unwrap();
        assert_eq!(serde_json::from_str::<Token>(&s).unwrap(), t);
    }

    #[test]
    fn an_entry_without_the_refresh_tokens_moment_reads_as_no_later_than_its_access_token() {
        // As versions before the moment was kept wrote it.
        let old =
            r#"{"access_token":"at","token_type":"Bearer","refresh_token":"rt","obtained_at":500}"#;
        let t = Token::from_stored(old).unwrap();
        assert_eq!(t.refresh_token_obtained_at, None);
        assert_eq!(t.refresh_token_obtained(), Some(Obtained::NoLaterThan(500)));
        let new =
            Token::from_response(&json!({"access_token":"a","refresh_token":"r"}), 700).unwrap();
        assert_eq!(new.refresh_token_obtained(), Some(Obtained::At(700)));
        let text = serde_json::to_string(&new).unwrap();
        assert!(
            text.contains(r#""refresh_token_obtained_at":700"#),
            "{text}"
        );
        assert_eq!(Token::from_stored(&text).unwrap(), new);
        let without = Token::from_response(&json!({"access_token":"a"}), 700).unwrap();
        assert_eq!(without.refresh_token_obtained(), None);
        assert!(
            !serde_json::to_string(&without)
                .unwrap()
                .contains("refresh_token_obtained_at")
        );
    }
}
