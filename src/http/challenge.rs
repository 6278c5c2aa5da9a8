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
    fn bearer_offer_is_detected_among_challenges() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(offers_bearer(&v(&["Basic realm=\"x\"", "bearer"])));
        assert!(!offers_bearer(&v(&["Basic realm=\"Bearer\""])));
        assert!(!offers_bearer(&[]));
    }
}
