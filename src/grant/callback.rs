//! Judging the authorization server's redirect (RFC 6749 §4.1.2,
//! §4.1.2.1, RFC 9207), wherever it arrives: at the loopback listener or
//! pasted on the terminal. A redirect whose `state` does not match (a
//! stale tab, or a forged request) is ignored: it must neither end the
//! login nor be believed (RFC 6749 §10.12).

use crate::error::{Error, Result};
use crate::secret::Secret;

/// Longest request target (path and query) looked at; a real redirect is a
/// few hundred bytes.
pub const MAX_QUERY: usize = 8 * 1024;

/// What the authorization server sent back (RFC 6749 §4.1.2, §4.1.2.1),
/// with the issuer it names (RFC 9207 `iss`) when it names one.
#[derive(Debug)]
pub enum Callback {
    Code {
        code: Secret,
        state: Option<String>,
        iss: Option<String>,
    },
    Error {
        error: String,
        description: Option<String>,
        state: Option<String>,
        iss: Option<String>,
    },
    /// Neither a code nor an error, or a parameter repeated.
    Malformed,
}

/// Parse the query of a redirect. Repeated parameters are refused (RFC 6749 §3.1).
pub fn parse_callback(query: &str) -> Callback {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut seen = Vec::new();
    for (k, _) in &pairs {
        if matches!(
            k.as_str(),
            "code" | "state" | "error" | "error_description" | "iss"
        ) {
            if seen.contains(&k.as_str()) {
                return Callback::Malformed;
            }
            seen.push(k.as_str());
        }
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let state = get("state");
    let iss = get("iss");
    if let Some(error) = get("error") {
        return Callback::Error {
            error: crate::http::printable(&error, 100),
            description: get("error_description").map(|d| crate::http::printable(&d, 300)),
            state,
            iss,
        };
    }
    match get("code") {
        Some(code) => Callback::Code {
            code: Secret::new(code),
            state,
            iss,
        },
        None => Callback::Malformed,
    }
}

/// The authorization server a login started at, as RFC 9207 checks it: a
/// response naming another issuer was steered here by a mix-up (RFC 9700
/// §4.4), and one naming none is refused where the server announced that it
/// always names itself (`authorization_response_iss_parameter_supported`).
#[derive(Debug, Clone)]
pub struct ExpectedIssuer {
    pub issuer: String,
    pub required: bool,
}

impl ExpectedIssuer {
    /// `None` when `iss` is acceptable, else why not.
    fn refuses(&self, iss: Option<&str>) -> Option<String> {
        let expected = &self.issuer;
        match iss {
            // RFC 9207 §2.4 compares strings; one trailing slash is spelling,
            // as in the metadata check of RFC 8414 §3.3.
            Some(i) if i.trim_end_matches('/') == expected.trim_end_matches('/') => None,
            Some(i) => Some(format!(
                "the authorization response comes from issuer {:?}, not from {expected:?}, \
                 where this login started (RFC 9207); refused",
                crate::http::printable(i, 200)
            )),
            None if self.required => Some(format!(
                "the authorization response names no issuer although {expected:?} announces \
                 that it always does (RFC 9207); refused"
            )),
            None => None,
        }
    }
}

/// What one redirect means for the login.
#[derive(Debug)]
pub enum Step {
    /// Keep waiting; tell the browser why this request was refused.
    Ignore(&'static str),
    /// The login is over: with a code, or with the server's refusal.
    Finish(Result<Secret>),
}

/// RFC 6749 §4.1.2 and §10.12: only a redirect carrying our `state` counts,
/// compared in constant time; RFC 9207: and only from our issuer.
pub fn judge(callback: Callback, state: &Secret, issuer: &ExpectedIssuer) -> Step {
    let ours = |s: &Option<String>| s.as_deref().is_some_and(|s| state.constant_time_eq(s));
    match callback {
        Callback::Malformed => Step::Ignore("the redirect carries neither a code nor an error"),
        Callback::Code { state: s, .. } | Callback::Error { state: s, .. } if !ours(&s) => {
            Step::Ignore("the state does not match this login (a stale tab, or a forged request)")
        }
        Callback::Code { iss, .. } | Callback::Error { iss, .. }
            if issuer.refuses(iss.as_deref()).is_some() =>
        {
            let why = issuer.refuses(iss.as_deref()).unwrap_or_default();
            Step::Finish(Err(Error::Login(why)))
        }
        Callback::Code { code, .. } => Step::Finish(Ok(code)),
        Callback::Error {
            error, description, ..
        } => {
            let detail = description.map(|d| format!(": {d}")).unwrap_or_default();
            let message = if error == "access_denied" {
                format!("the login was denied in the browser (access_denied{detail})")
            } else {
                format!("the authorization server refused the login: {error}{detail}")
            };
            Step::Finish(Err(Error::Login(message)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Secret {
        Secret::new("s-123")
    }

    fn judge(callback: Callback, state: &Secret) -> Step {
        super::judge(callback, state, &issuer(false))
    }

    fn issuer(required: bool) -> ExpectedIssuer {
        ExpectedIssuer {
            issuer: "https://as.example".into(),
            required,
        }
    }

    #[test]
    fn code_with_our_state_finishes() {
        let step = judge(parse_callback("code=abc&state=s-123"), &state());
        match step {
            Step::Finish(Ok(code)) => assert_eq!(code.expose(), "abc"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_or_missing_state_is_ignored() {
        for q in [
            "code=abc&state=s-124",
            "code=abc",
            "error=access_denied&state=x",
        ] {
            assert!(
                matches!(judge(parse_callback(q), &state()), Step::Ignore(_)),
                "{q}"
            );
        }
    }

    #[test]
    fn repeated_or_missing_parameters_are_malformed() {
        assert!(matches!(
            parse_callback("code=a&code=b&state=s-123"),
            Callback::Malformed
        ));
        assert!(matches!(parse_callback("state=s-123"), Callback::Malformed));
        assert!(matches!(parse_callback(""), Callback::Malformed));
    }

    #[test]
    fn error_wins_over_code_and_becomes_a_clear_message() {
        let q = "error=access_denied&error_description=User%20said%0Ano&state=s-123&code=x";
        match judge(parse_callback(q), &state()) {
            Step::Finish(Err(e)) => {
                let m = e.to_string();
                assert!(m.contains("denied") && m.contains("User said no"), "{m}");
                assert!(!m.contains('\n'));
            }
            other => panic!("{other:?}"),
        }
        match judge(parse_callback("error=server_error&state=s-123"), &state()) {
            Step::Finish(Err(e)) => assert!(e.to_string().contains("server_error")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_response_from_another_issuer_ends_the_login_unredeemed() {
        let q = "code=abc&state=s-123&iss=https%3A%2F%2Fevil.example";
        for required in [false, true] {
            match super::judge(parse_callback(q), &state(), &issuer(required)) {
                Step::Finish(Err(e)) => {
                    let m = e.to_string();
                    assert!(m.contains("evil.example") && m.contains("RFC 9207"), "{m}");
                    assert!(!m.contains("abc"), "{m}");
                }
                other => panic!("{other:?}"),
            }
        }
        let err = "error=access_denied&state=s-123&iss=https%3A%2F%2Fevil.example";
        assert!(matches!(
            super::judge(parse_callback(err), &state(), &issuer(false)),
            Step::Finish(Err(e)) if e.to_string().contains("RFC 9207")
        ));
    }

    #[test]
    fn iss_is_required_only_where_the_server_announces_it() {
        let ours = "code=abc&state=s-123&iss=https%3A%2F%2Fas.example%2F";
        let none = "code=abc&state=s-123";
        for (q, required, accepted) in [
            (ours, true, true),
            (ours, false, true),
            (none, false, true),
            (none, true, false),
        ] {
            let step = super::judge(parse_callback(q), &state(), &issuer(required));
            assert_eq!(
                matches!(step, Step::Finish(Ok(_))),
                accepted,
                "{q} {required}: {step:?}"
            );
        }
        assert!(matches!(
            parse_callback("code=a&state=s-123&iss=x&iss=y"),
            Callback::Malformed
        ));
    }
}
