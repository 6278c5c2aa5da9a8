//! Go's `GOAUTH` command mode (Go ≥ 1.24, `go help goauth`): the go
//! command runs `credential-oauth goauth` with no argument before its
//! first HTTPS fetch, and `credential-oauth goauth URL` after a 4xx, with
//! the response's status line and headers on stdin:
//!
//! ```text
//! Response   = StatusLine { HeaderLine } BlankLine .
//! StatusLine = Protocol Space Status '\n' .      e.g. "HTTP/1.1 401 Unauthorized"
//! ```
//!
//! It reads back credential sets:
//!
//! ```text
//! Response      = { CredentialSet } .
//! CredentialSet = URLLine { URLLine } BlankLine { HeaderLine } BlankLine .
//! ```
//!
//! Go strips `https://` and a trailing `/` from each URL line and uses the
//! headers for every request URL under that prefix (whole path segments),
//! so a URL line is a promise about everything below it.

use crate::error::{Error, Result};
use crate::secret::Secret;
use std::io::Write;

/// The word after the program name: `credential-oauth goauth [URL]`.
pub const COMMAND: &str = "goauth";

/// The 4xx response Go writes on stdin (its status line and headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `HTTP/1.1`, `HTTP/2.0`.
    pub protocol: String,
    pub status: u16,
    /// The reason phrase, possibly empty.
    pub reason: String,
    /// In the order given; Go joins repeated headers with `", "`.
    pub headers: Vec<(String, String)>,
}

impl Response {
    /// Parse Go's stdin: a status line, header lines, and a blank line or
    /// the end of input. CRLF is taken as LF. Errors never quote header
    /// values (a server may echo anything there).
    pub fn parse(input: &[u8]) -> Result<Response> {
        let bad = |what: &str| Error::Input(format!("goauth: the response on stdin {what}"));
        let text = std::str::from_utf8(input).map_err(|_| bad("is not valid UTF-8"))?;
        if text.contains('\0') {
            return Err(bad("holds a NUL byte"));
        }
        let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let status_line = lines.next().filter(|l| !l.is_empty()).ok_or_else(|| {
            bad("is empty; expected a status line such as \"HTTP/1.1 401 Unauthorized\"")
        })?;
        let (protocol, rest) = status_line
            .split_once(' ')
            .ok_or_else(|| bad("has no status code on its first line"))?;
        if !protocol.starts_with("HTTP/") || protocol.len() > 16 {
            return Err(bad("does not start with an HTTP version"));
        }
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status = Some(code)
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|c| c.parse::<u16>().ok())
            .filter(|c| (100..600).contains(c))
            .ok_or_else(|| bad("has no three-digit status code"))?;
        let mut headers = Vec::new();
        for line in lines {
            if line.is_empty() {
                break;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or_else(|| bad("has a header line without a colon"))?;
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(bad("has a header line with an invalid name"));
            }
            if value.contains(|c: char| c.is_control() && c != '\t') {
                return Err(bad("has a header value with a control character"));
            }
            headers.push((name.to_string(), value.trim().to_string()));
        }
        Ok(Response {
            protocol: protocol.to_string(),
            status,
            reason: reason.to_string(),
            headers,
        })
    }

    /// Go's form of the response: what [`Response::parse`] reads.
    pub fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        let mut text = format!("{} {} {}\n", self.protocol, self.status, self.reason);
        for (name, value) in &self.headers {
            text.push_str(&format!("{name}: {value}\n"));
        }
        text.push('\n');
        write_all(out, &text)
    }

    /// The `WWW-Authenticate` challenges, one per element: Go joins every
    /// header's values with `", "`, so the challenges of several headers
    /// (or of one) are split again where a new auth-scheme starts.
    pub fn challenges(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("www-authenticate"))
            .flat_map(|(_, value)| split_challenges(value))
            .collect()
    }
}

/// RFC 9110 §11.6.1: `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`
/// in a comma-separated list. An element that is `name=value` (or empty)
/// continues the current challenge; anything else starts a new one.
/// Commas inside quoted strings separate nothing.
pub fn split_challenges(value: &str) -> Vec<String> {
    let mut elements = Vec::new();
    let (mut current, mut quoted, mut escaped) = (String::new(), false, false);
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                elements.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    elements.push(current);
    let mut challenges: Vec<String> = Vec::new();
    for element in elements {
        let element = element.trim();
        if element.is_empty() {
            continue;
        }
        let first = element
            .split(|c: char| c == '=' || c.is_ascii_whitespace())
            .next()
            .unwrap_or_default();
        let is_param = element[first.len()..].trim_start().starts_with('=');
        match challenges.last_mut() {
            Some(last) if is_param => {
                last.push_str(if last.contains(' ') { ", " } else { " " });
                last.push_str(element);
            }
            _ => challenges.push(element.to_string()),
        }
    }
    challenges
}

/// One credential set: the URL prefixes and the headers for them. `Debug`
/// leaves the header values out: they are credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct CredentialSet {
    /// `https://` URLs.
    pub urls: Vec<String>,
    pub headers: Vec<(String, Secret)>,
}

impl std::fmt::Debug for CredentialSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let CredentialSet { urls, headers } = self;
        let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("CredentialSet")
            .field("urls", urls)
            .field("headers", &names)
            .finish()
    }
}

impl CredentialSet {
    /// The set that sends `Authorization: Bearer <token>` to `url`.
    pub fn bearer(url: &str, token: &Secret) -> CredentialSet {
        CredentialSet {
            urls: vec![url.to_string()],
            headers: vec![(
                "Authorization".to_string(),
                Secret::new(format!("Bearer {}", token.expose())),
            )],
        }
    }

    /// The sets in Go's grammar, every set checked before anything is
    /// written: a URL must start with `https://`, a line must hold no
    /// control character, a header must have a name and a value.
    pub fn write_all(sets: &[CredentialSet], out: &mut dyn Write) -> Result<()> {
        let mut text = String::new();
        for set in sets {
            if set.urls.is_empty() {
                return Err(Error::Input("goauth: a credential set needs a URL".into()));
            }
            for url in &set.urls {
                if !url.starts_with("https://")
                    || url.contains(char::is_control)
                    || url.contains(' ')
                {
                    return Err(Error::Input(format!(
                        "goauth: {:?} is not an https URL Go can take",
                        url.escape_debug().to_string()
                    )));
                }
                text.push_str(url);
                text.push('\n');
            }
            text.push('\n');
            for (name, value) in &set.headers {
                if name.is_empty() || !name.bytes().all(is_token_byte) {
                    return Err(Error::Input("goauth: a header name is not a token".into()));
                }
                let v = value.expose();
                if v.trim().is_empty() || v.contains(|c: char| c.is_control()) {
                    return Err(Error::Input(format!(
                        "goauth: the value of {name} is empty or holds a control character"
                    )));
                }
                text.push_str(&format!("{name}: {v}\n"));
            }
            text.push('\n');
        }
        write_all(out, &text)
    }

    /// Read sets in Go's grammar, as strictly as Go's `parseUserAuth`.
    pub fn parse_all(input: &[u8]) -> Result<Vec<CredentialSet>> {
        let bad = |what: &str| Error::Input(format!("goauth output: {what}"));
        let mut data = std::str::from_utf8(input).map_err(|_| bad("not valid UTF-8"))?;
        let mut sets = Vec::new();
        let next_line = |data: &mut &str, missing: &str| -> Result<String> {
            let (line, rest) = data.split_once('\n').ok_or_else(|| bad(missing))?;
            *data = rest;
            Ok(line.to_string())
        };
        while !data.is_empty() {
            let mut urls = Vec::new();
            loop {
                let line = next_line(&mut data, "missing empty line after URLs")?;
                if line.is_empty() {
                    break;
                }
                if !line.starts_with("https://") || line.contains(char::is_control) {
                    return Err(bad("a URL line is not an https URL"));
                }
                urls.push(line);
            }
            if urls.is_empty() {
                return Err(bad("a credential set has no URL"));
            }
            let mut headers = Vec::new();
            loop {
                let line = next_line(&mut data, "missing empty line after headers")?;
                if line.is_empty() {
                    break;
                }
                let (name, value) = line
                    .split_once(": ")
                    .ok_or_else(|| bad("invalid header line"))?;
                if name.is_empty() || !name.bytes().all(is_token_byte) {
                    return Err(bad("invalid header line"));
                }
                headers.push((name.to_string(), Secret::new(value.trim())));
            }
            sets.push(CredentialSet { urls, headers });
        }
        Ok(sets)
    }
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn write_all(out: &mut dyn Write, text: &str) -> Result<()> {
    super::write_answer(out, text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO_STDIN: &[u8] = b"HTTP/1.1 401 Unauthorized\n\
        Content-Length: 19\n\
        Content-Type: text/plain; charset=utf-8\n\
        Www-Authenticate: Basic realm=\"proxy, here\", Bearer realm=\"corp\", scope=\"read\"\n\
        \n";

    #[test]
    fn gos_response_parses_with_its_challenges() {
        let r = Response::parse(GO_STDIN).unwrap();
        assert_eq!((r.protocol.as_str(), r.status), ("HTTP/1.1", 401));
        assert_eq!(r.reason, "Unauthorized");
        assert_eq!(r.headers.len(), 3);
        assert_eq!(
            r.challenges(),
            [
                "Basic realm=\"proxy, here\"",
                "Bearer realm=\"corp\", scope=\"read\""
            ]
        );
        // CRLF, no reason phrase, no blank line at the end.
        let r = Response::parse(b"HTTP/2.0 403\r\nX-A: b\r\n").unwrap();
        assert_eq!((r.status, r.reason.as_str()), (403, ""));
        assert_eq!(r.headers, [("X-A".to_string(), "b".to_string())]);
    }

    #[test]
    fn the_response_round_trips() {
        let r = Response::parse(GO_STDIN).unwrap();
        let mut out = Vec::new();
        r.write_to(&mut out).unwrap();
        assert_eq!(Response::parse(&out).unwrap(), r);
    }

    #[test]
    fn a_malformed_response_is_refused_without_quoting_values() {
        for input in [
            &b""[..],
            b"\n",
            b"hunter2",
            b"HTTP/1.1\n",
            b"HTTP/1.1 40 Bad\n",
            b"HTTP/1.1 abc Bad\n",
            b"SPDY/3 401 Unauthorized\n",
            b"HTTP/1.1 401 Unauthorized\nhunter2\n",
            b"HTTP/1.1 401 Unauthorized\nBad Name: hunter2\n",
            b"HTTP/1.1 401 Unauthorized\nX: hunter2\x01\n",
            b"HTTP/1.1 401 Unauthorized\0\n",
            b"HTTP/1.1 401 \xff\n",
        ] {
            let e = Response::parse(input).unwrap_err();
            assert!(matches!(e, Error::Input(_)), "{e}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn challenges_split_where_a_scheme_starts() {
        assert_eq!(
            split_challenges("Bearer resource_metadata=\"https://h/x\",error=\"invalid_token\""),
            ["Bearer resource_metadata=\"https://h/x\", error=\"invalid_token\""]
        );
        assert_eq!(
            split_challenges("Negotiate, Basic realm=x, Bearer"),
            ["Negotiate", "Basic realm=x", "Bearer"]
        );
        assert_eq!(
            split_challenges("Negotiate YWJj==, Bearer a=\"x,\\\"y\""),
            ["Negotiate YWJj==", "Bearer a=\"x,\\\"y\""]
        );
        assert!(split_challenges(" , ").is_empty());
    }

    #[test]
    fn credential_sets_are_written_in_gos_grammar_and_read_back() {
        let sets = vec![
            CredentialSet::bearer("https://corp.example/go/", &Secret::new("at-1")),
            CredentialSet {
                urls: vec!["https://a.example".into(), "https://b.example/x".into()],
                headers: vec![
                    ("Authorization".into(), Secret::new("Bearer at-2")),
                    ("X-Extra".into(), Secret::new("v")),
                ],
            },
        ];
        let mut out = Vec::new();
        CredentialSet::write_all(&sets, &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "https://corp.example/go/\n\nAuthorization: Bearer at-1\n\n\
             https://a.example\nhttps://b.example/x\n\nAuthorization: Bearer at-2\nX-Extra: v\n\n"
        );
        assert_eq!(CredentialSet::parse_all(&out).unwrap(), sets);
        let mut empty = Vec::new();
        CredentialSet::write_all(&[], &mut empty).unwrap();
        assert!(empty.is_empty());
        assert!(CredentialSet::parse_all(b"").unwrap().is_empty());
    }

    #[test]
    fn nothing_is_written_when_a_set_is_wrong() {
        let token = Secret::new("hunter2");
        for set in [
            CredentialSet::bearer("http://corp.example/", &token),
            CredentialSet::bearer("https://corp.example/\nhttps://evil.example/", &token),
            CredentialSet::bearer("https://corp.example/", &Secret::new("a\nEvil: 1")),
            CredentialSet {
                urls: vec![],
                headers: vec![],
            },
        ] {
            let mut out = Vec::new();
            let e = CredentialSet::write_all(&[set], &mut out).unwrap_err();
            assert!(out.is_empty());
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn malformed_output_is_refused() {
        for input in [
            &b"https://a.example\n"[..],
            b"https://a.example\n\nAuthorization: x\n",
            b"\n\n",
            b"http://a.example\n\n\n",
            b"https://a.example\n\nno-colon\n\n",
        ] {
            assert!(CredentialSet::parse_all(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn debug_shows_no_header_value() {
        let set = CredentialSet::bearer("https://a.example/", &Secret::new("hunter2"));
        assert!(!format!("{set:?}").contains("hunter2"));
    }
}
