//! `WWW-Authenticate` challenges as git hands them over in `wwwauth[]`
//! (RFC 9110 §11.6.1): an auth-scheme followed by auth-params, whose values
//! are tokens or quoted strings.

/// One challenge: its scheme and its parameters (names lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// Parse one `wwwauth[]` value. git sends one challenge per value, so a
    /// comma only separates parameters. Returns `None` for an empty value.
    pub fn parse(value: &str) -> Option<Challenge> {
        let value = value.trim();
        let (scheme, rest) = match value.find(|c: char| c.is_ascii_whitespace()) {
            Some(i) => (&value[..i], &value[i..]),
            None => (value, ""),
        };
        if scheme.is_empty() {
            return None;
        }
        Some(Challenge {
            scheme: scheme.to_string(),
            params: parse_params(rest),
        })
    }

    /// Whether the scheme is `name` (schemes are case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(name)
    }

    /// The value of parameter `name` (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Whether any of git's `wwwauth[]` values offers the Bearer scheme.
pub fn offers_bearer(wwwauth: &[String]) -> bool {
    wwwauth
        .iter()
        .filter_map(|v| Challenge::parse(v))
        .any(|c| c.is("Bearer"))
}

/// RFC 9470 §3: what a resource server's `insufficient_user_authentication`
/// challenge asks of the authentication behind a token: one of
/// `acr_values` (in order of preference), and at most `max_age` seconds
/// since the person authenticated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepUp {
    pub acr_values: Vec<String>,
    pub max_age: Option<u64>,
}

impl StepUp {
    /// The step-up a set of challenges asks for (a Bearer or DPoP one
    /// with `error="insufficient_user_authentication"`), if any. An
    /// `acr_values` that is not a list of b64tokens, or a `max_age` that
    /// is not a number, is not taken: it would go on the authorization
    /// request.
    pub fn from_challenges(values: &[String]) -> Option<StepUp> {
        let challenge = values
            .iter()
            .filter_map(|v| Challenge::parse(v))
            .find(|c| {
                (c.is("Bearer") || c.is("DPoP"))
                    && c.param("error") == Some("insufficient_user_authentication")
            })?;
        let acr_values: Vec<String> = challenge
            .param("acr_values")
            .unwrap_or_default()
            .split(' ')
            .filter(|a| !a.is_empty())
            .map(str::to_string)
            .collect();
        let acr_ok = |a: &String| {
            a.len() <= 200
                && a.bytes()
                    .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\')
        };
        if acr_values.len() > 20 || !acr_values.iter().all(acr_ok) {
            return None;
        }
        let max_age = match challenge.param("max_age") {
            None => None,
            Some(v) => Some(v.trim().parse::<u64>().ok()?),
        };
        Some(StepUp {
            acr_values,
            max_age,
        })
    }

    /// `acr_values` as the authorization request carries it (OpenID
    /// Connect Core §3.1.2.1): space-separated, in the challenge's order.
    pub fn acr_values_param(&self) -> Option<String> {
        (!self.acr_values.is_empty()).then(|| self.acr_values.join(" "))
    }

    /// Whether a token obtained with `acr` (space-separated: one of these)
    /// and authenticated at `auth_time` meets this challenge at `now`:
    /// whichever of its acr values the server used is one the challenge
    /// names, and the authentication is no older than `max_age`.
    pub fn is_met_by(&self, acr: Option<&str>, auth_time: Option<u64>, now: u64) -> bool {
        let acr_met = self.acr_values.is_empty()
            || acr.is_some_and(|acr| {
                let mut had = acr.split(' ').filter(|a| !a.is_empty()).peekable();
                had.peek().is_some() && had.all(|a| self.acr_values.iter().any(|v| v == a))
            });
        let age_met = self
            .max_age
            .is_none_or(|max| auth_time.is_some_and(|at| now.saturating_sub(at) <= max));
        acr_met && age_met
    }
}

/// `name=value` pairs separated by commas; values are tokens or quoted
/// strings with `\` escapes. A malformed tail (or a token68) is skipped.
fn parse_params(input: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let trimmed = input.trim();
    let is_token68 = !trimmed.is_empty()
        && !trimmed.trim_end_matches('=').contains('=')
        && trimmed.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/' | '=')
        });
    if is_token68 {
        return out;
    }
    let mut chars = input.chars().peekable();
    loop {
        while chars
            .peek()
            .is_some_and(|c| c.is_ascii_whitespace() || *c == ',')
        {
            chars.next();
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c == ',' || c.is_ascii_whitespace() {
                break;
            }
            name.push(c);
            chars.next();
        }
        if name.is_empty() {
            return out;
        }
        while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            chars.next();
        }
        if chars.peek() != Some(&'=') {
            // A token68 or garbage: no parameter to read here.
            continue;
        }
        chars.next();
        while chars.peek().is_some_and(|c| c.is_ascii_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => {
                        if let Some(e) = chars.next() {
                            value.push(e);
                        }
                    }
                    c => value.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' || c.is_ascii_whitespace() {
                    break;
                }
                value.push(c);
                chars.next();
            }
        }
        out.push((name.to_ascii_lowercase(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_with_quoted_params_and_escapes() {
        let c = Challenge::parse(
            r#"Bearer realm="git, the server", error="invalid_token", resource_metadata="https://h/.well-known/oauth-protected-resource", note="a \"q\" b""#,
        )
        .unwrap();
        assert!(c.is("bearer"));
        assert_eq!(c.param("realm"), Some("git, the server"));
        assert_eq!(c.param("ERROR"), Some("invalid_token"));
        assert_eq!(
            c.param("resource_metadata"),
            Some("https://h/.well-known/oauth-protected-resource")
        );
        assert_eq!(c.param("note"), Some(r#"a "q" b"#));
    }

    #[test]
    fn token_values_and_bare_schemes() {
        let c = Challenge::parse("Basic realm=git ,charset=UTF-8").unwrap();
        assert_eq!(c.scheme, "Basic");
        assert_eq!(
            c.params,
            vec![
                ("realm".to_string(), "git".to_string()),
                ("charset".to_string(), "UTF-8".to_string())
            ]
        );
        assert_eq!(Challenge::parse("Negotiate").unwrap().params, vec![]);
        assert_eq!(Challenge::parse("  "), None);
        // A token68 carries no parameters and must not derail parsing.
        assert_eq!(Challenge::parse("Negotiate YWJj==").unwrap().params, vec![]);
        // An unterminated quote ends the value at the end of input.
        assert_eq!(
            Challenge::parse("Bearer realm=\"open")
                .unwrap()
                .param("realm"),
            Some("open")
        );
    }

    #[test]
    fn a_step_up_challenge_names_its_acr_values_and_max_age() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        // RFC 9470 §3's examples.
        let s = StepUp::from_challenges(&v(&[
            "Basic realm=\"x\"",
            r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR""#,
        ]))
        .unwrap();
        assert_eq!(s.acr_values, ["myACR"]);
        assert_eq!(s.max_age, None);
        assert_eq!(s.acr_values_param().as_deref(), Some("myACR"));
        let s = StepUp::from_challenges(&v(&[
            r#"Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="5""#,
        ]))
        .unwrap();
        assert_eq!((s.acr_values.len(), s.max_age), (0, Some(5)));
        assert_eq!(s.acr_values_param(), None);
        let s = StepUp::from_challenges(&v(&[
            r#"DPoP error="insufficient_user_authentication", acr_values="phr phrh", max_age=300"#,
        ]))
        .unwrap();
        assert_eq!(s.acr_values, ["phr", "phrh"]);
        assert_eq!(s.max_age, Some(300));
        // No step-up: another error, no error, or values that could not be sent.
        for other in [
            r#"Bearer error="invalid_token""#,
            "Bearer realm=\"git\"",
            r#"Bearer error="insufficient_user_authentication", max_age="soon""#,
            r#"Bearer error="insufficient_user_authentication", acr_values="a\"b""#,
        ] {
            assert_eq!(StepUp::from_challenges(&v(&[other])), None, "{other}");
        }
    }

    #[test]
    fn a_token_meets_a_step_up_with_one_of_its_acr_values_while_max_age_allows() {
        let s = StepUp {
            acr_values: vec!["phr".into(), "phrh".into()],
            max_age: Some(300),
        };
        assert!(s.is_met_by(Some("phrh"), Some(1000), 1300));
        assert!(!s.is_met_by(Some("phrh"), Some(1000), 1301), "too old");
        assert!(!s.is_met_by(Some("pwd"), Some(1000), 1000), "another acr");
        assert!(!s.is_met_by(None, Some(1000), 1000));
        assert!(!s.is_met_by(Some("phr"), None, 1000), "no auth_time");
        // Asked for several and not told which: only if every one would do.
        assert!(s.is_met_by(Some("phr phrh"), Some(1000), 1000));
        assert!(!s.is_met_by(Some("phr pwd"), Some(1000), 1000));
        let any_acr = StepUp {
            acr_values: vec![],
            max_age: Some(10),
        };
        assert!(any_acr.is_met_by(None, Some(1000), 1005));
        let no_age = StepUp {
            acr_values: vec!["phr".into()],
            max_age: None,
        };
        assert!(no_age.is_met_by(Some("phr"), None, u64::MAX));
    }

    #[test]
    fn bearer_offer_is_detected_among_challenges() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(offers_bearer(&v(&["Basic realm=\"x\"", "bearer"])));
        assert!(!offers_bearer(&v(&["Basic realm=\"Bearer\""])));
        assert!(!offers_bearer(&[]));
    }
}
