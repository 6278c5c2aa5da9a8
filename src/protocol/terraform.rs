//! Terraform's (and OpenTofu's) credentials-helper protocol, as
//! terraform-svchost's `auth/helper_program.go` speaks it: the helper
//! `terraform-credentials-<name>` is run with the `args` of the CLI
//! config's `credentials_helper` block, then a verb and a hostname:
//!
//! - `get HOST`: stdout is a JSON object, the body of a `credentials`
//!   block (`{"token":"…"}`), or `{}` when the helper has nothing for HOST;
//! - `store HOST`: that object on stdin, nothing on stdout;
//! - `forget HOST`: nothing on stdin or stdout.
//!
//! Any failure is a plain-text message on stderr and a non-zero exit;
//! Terraform shows the helper's stderr only then. HOST is the hostname in
//! its ASCII (punycode) form, with `:port` when the port is not 443.

use crate::error::{Error, Result};
use crate::secret::Secret;
use std::io::Write;

/// The program name Terraform looks for (`credentials_helper "oauth" {}`).
pub const NAME: &str = "terraform-credentials-oauth";

/// The usage line, for a wrong command line.
pub fn usage() -> String {
    format!("usage: {NAME} [-v] get|store|forget HOST")
}

/// What Terraform asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Store,
    Forget,
}

/// One request: the verb, the host, and whether `-v` came before the verb
/// (the block's `args` come first, so options go there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub verb: Verb,
    pub host: String,
    pub verbose: bool,
}

impl Request {
    /// The words after the program name: options (`-v`), the verb, HOST.
    pub fn from_args(args: &[String]) -> Result<Request> {
        let mut verbose = false;
        let mut words = Vec::new();
        for a in args {
            match a.as_str() {
                "-v" | "--verbose" if words.is_empty() => verbose = true,
                s if s.starts_with('-') && words.is_empty() => {
                    return Err(Error::Usage(format!("unknown option {:?}; {}", s, usage())));
                }
                s => words.push(s),
            }
        }
        let verb = match words.first().copied() {
            Some("get") => Verb::Get,
            Some("store") => Verb::Store,
            Some("forget") => Verb::Forget,
            Some(other) => {
                return Err(Error::Usage(format!("unknown verb {other:?}; {}", usage())));
            }
            None => return Err(Error::Usage(usage())),
        };
        let [_, host] = words.as_slice() else {
            return Err(Error::Usage(usage()));
        };
        Ok(Request {
            verb,
            host: parse_host(host)?,
            verbose,
        })
    }
}

/// A hostname with an optional `:port`, as Terraform names a host: no
/// scheme, path, user name or whitespace. Lowercased, as Terraform compares.
pub fn parse_host(host: &str) -> Result<String> {
    let bad = |why: &str| Error::Usage(format!("{:?} is not a hostname: {why}", host));
    if host.is_empty() {
        return Err(bad("it is empty"));
    }
    if host.contains("://") {
        return Err(bad("give the host alone, without a scheme"));
    }
    if host.contains(|c: char| {
        c.is_whitespace() || c.is_control() || matches!(c, '/' | '\\' | '@' | '?' | '#')
    }) {
        return Err(bad("it holds a character no hostname has"));
    }
    let parsed = url::Url::parse(&format!("https://{host}/"))
        .ok()
        .filter(|u| u.host().is_some())
        .ok_or_else(|| bad("it is not host[:port]"))?;
    Ok(crate::config::host_and_port(
        parsed.host_str().unwrap_or_default(),
        parsed.port(),
    ))
}

/// A `credentials` block's body: what `get` prints and `store` reads.
/// `Debug` leaves the token out.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    /// `None`: `{}`, nothing for this host.
    pub token: Option<Secret>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Credentials { token } = self;
        f.debug_struct("Credentials")
            .field("token", &token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Credentials {
    /// `store`'s input: one JSON object; `token`, when present, a string;
    /// other keys ignored (a newer Terraform may add some). Errors never
    /// quote the input, which holds a token.
    pub fn parse(input: &[u8]) -> Result<Credentials> {
        let bad = |what: &str| Error::Input(format!("store: {what}"));
        let value: serde_json::Value = serde_json::from_slice(input).map_err(|e| {
            bad(&format!(
                "standard input is not a JSON object (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        let serde_json::Value::Object(map) = value else {
            return Err(bad("expected a JSON object such as {\"token\":\"…\"}"));
        };
        let token = match map.get("token") {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(Secret::new(s.clone())),
            Some(_) => return Err(bad("token must be a string")),
        };
        Ok(Credentials { token })
    }

    /// `get`'s answer: `{"token":"…"}` or `{}`, and a newline.
    pub fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        let text = match &self.token {
            Some(token) => {
                // serde_json escapes whatever the value holds; a token is a
                // b64token anyway (DESIGN.md "Trust").
                let value = serde_json::to_string(token.expose())
                    .map_err(|e| Error::Input(format!("cannot write the answer: {e}")))?;
                format!("{{\"token\":{value}}}\n")
            }
            None => "{}\n".to_string(),
        };
        super::write_answer(out, text.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn verbs_take_exactly_one_host_after_options() {
        let r = Request::from_args(&args(&["get", "App.Example.com"])).unwrap();
        assert_eq!(
            r,
            Request {
                verb: Verb::Get,
                host: "app.example.com".into(),
                verbose: false
            }
        );
        let r = Request::from_args(&args(&["-v", "forget", "127.0.0.1:8443"])).unwrap();
        assert_eq!(
            (r.verb, r.host.as_str(), r.verbose),
            (Verb::Forget, "127.0.0.1:8443", true)
        );
        assert_eq!(
            Request::from_args(&args(&["store", "h.example:443"]))
                .unwrap()
                .host,
            "h.example"
        );
        for bad in [
            &[][..],
            &["get"][..],
            &["get", "a.example", "b.example"][..],
            &["list", "a.example"][..],
            &["--frob", "get", "a.example"][..],
            &["get", "https://a.example/"][..],
            &["get", "a.example/path"][..],
            &["get", "user@a.example"][..],
            &["get", "a example"][..],
            &["get", ""][..],
            &["get", "a.example:99999"][..],
        ] {
            let e = Request::from_args(&args(bad)).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{bad:?}: {e}");
        }
        let e = Request::from_args(&args(&["frob", "a.example"])).unwrap_err();
        assert!(
            e.to_string().starts_with("unknown verb \"frob\"; usage: "),
            "{e}"
        );
    }

    #[test]
    fn get_answers_are_byte_exact() {
        let mut out = Vec::new();
        Credentials {
            token: Some(Secret::new("at.1-2_3~4+5/6=")),
        }
        .write_to(&mut out)
        .unwrap();
        assert_eq!(out, b"{\"token\":\"at.1-2_3~4+5/6=\"}\n");
        let mut out = Vec::new();
        Credentials::default().write_to(&mut out).unwrap();
        assert_eq!(out, b"{}\n");
    }

    #[test]
    fn store_input_round_trips_through_the_get_answer() {
        for creds in [
            Credentials {
                token: Some(Secret::new("tok\"en\\\n")),
            },
            Credentials::default(),
        ] {
            let mut out = Vec::new();
            creds.write_to(&mut out).unwrap();
            assert_eq!(Credentials::parse(&out).unwrap(), creds);
        }
        // Terraform writes cty JSON: other keys are ignored.
        let c = Credentials::parse(br#"{"token":"t","other":{"x":1}}"#).unwrap();
        assert_eq!(c.token.unwrap().expose(), "t");
    }

    #[test]
    fn malformed_store_input_is_refused_without_quoting_it() {
        for input in [
            &b""[..],
            b"hunter2",
            b"[\"hunter2\"]",
            b"{\"token\":42}",
            b"{\"token\":\"hunter2\"",
            b"\xff\xfe",
        ] {
            let e = Credentials::parse(input).unwrap_err();
            assert!(matches!(e, Error::Input(_)), "{e}");
            assert!(!e.to_string().contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn debug_shows_no_token() {
        let c = Credentials {
            token: Some(Secret::new("hunter2")),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
