//! docker's credential-helper format, as docker/docker-credential-helpers
//! (`credentials/credentials.go`, `credentials/error.go`) defines it and
//! docker, podman, skopeo, buildah, crane and oras speak it.
//!
//! The helper is run as `docker-credential-<name> ACTION`:
//! `get` and `erase` read a bare server URL, `store` reads
//! `{"ServerURL","Username","Secret"}`, `list` answers a JSON map of server
//! URL to username, `version` a line. Every answer, errors included, goes to
//! stdout: callers read nothing else, and tell "not found" apart from a
//! failure only by [`NOT_FOUND`]'s exact text.
//!
//! JSON is written the way Go's `encoding/json` writes it (compact, a
//! trailing newline, `<`, `>` and `&` escaped), so the answers are
//! byte-for-byte what a reference helper would print.

use crate::error::{Error, Result};
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

/// The program name docker looks for (`credsStore: "oauth"`).
pub const NAME: &str = "docker-credential-oauth";

/// The package named in `version`'s answer.
pub const PACKAGE: &str = "credential-oauth";

/// What callers match to tell "no credentials here" from a failure.
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// The server URL was empty or missing.
pub const MISSING_SERVER_URL: &str = "no credentials server URL";

/// `store` was given no username.
pub const MISSING_USERNAME: &str = "no credentials username";

/// The answer to a wrong number of arguments (and to `--help`).
pub fn usage() -> String {
    format!("Usage: {NAME} <store|get|erase|list|version>")
}

/// What the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Get,
    Store,
    Erase,
    List,
    Version,
    Help,
}

impl Action {
    /// The action named by the arguments after the program name: exactly one.
    /// `-v`/`--version` and `-h`/`--help` are accepted as newer reference
    /// helpers accept them.
    pub fn from_args(args: &[String]) -> Result<Action> {
        let [word] = args else {
            return Err(Error::Usage(usage()));
        };
        Ok(match word.as_str() {
            "get" => Action::Get,
            "store" => Action::Store,
            "erase" => Action::Erase,
            "list" => Action::List,
            "version" | "--version" | "-v" => Action::Version,
            "--help" | "-h" => Action::Help,
            other => {
                return Err(Error::Usage(format!(
                    "Unknown credential action `{}`",
                    other.escape_debug()
                )));
            }
        })
    }
}

/// The server URL that `get` and `erase` read: all of stdin, surrounding
/// whitespace trimmed (docker sends no newline; people typing do).
pub fn parse_server_url(input: &[u8]) -> Result<String> {
    let text = std::str::from_utf8(input)
        .map_err(|_| Error::Input("the server URL is not valid UTF-8".into()))?;
    let url = text.trim();
    if url.is_empty() {
        return Err(Error::Input(MISSING_SERVER_URL.into()));
    }
    if url.contains(char::is_control) {
        return Err(Error::Input(
            "the server URL holds a control character".into(),
        ));
    }
    Ok(url.to_string())
}

/// One set of credentials: what `store` reads and `get` answers. `Debug`
/// leaves the secret out.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub server_url: String,
    /// `<token>` says that the secret is an identity token (docker's own
    /// convention); it is kept and handed back unchanged.
    pub username: String,
    pub secret: Secret,
}

/// Destructured in full so that a new field has to be judged secret or not
/// here (as gitoxide's `Context::redacted()` does).
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Credentials {
            server_url,
            username,
            secret: _,
        } = self;
        f.debug_struct("Credentials")
            .field("server_url", server_url)
            .field("username", username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// Parse `store`'s input: one JSON object with string fields `ServerURL`,
    /// `Username` and `Secret` (names matched without regard to case, as Go
    /// does; other fields ignored). Errors never quote the input.
    pub fn parse(input: &[u8]) -> Result<Credentials> {
        let bad = |what: &str| Error::Input(format!("store: {what}"));
        if input.iter().all(u8::is_ascii_whitespace) {
            return Err(bad(
                "standard input is empty; expected {\"ServerURL\",\"Username\",\"Secret\"}",
            ));
        }
        let value: serde_json::Value = serde_json::from_slice(input)
            .map_err(|e| bad(&format!("standard input is not JSON ({e})")))?;
        let serde_json::Value::Object(map) = value else {
            return Err(bad(
                "expected a JSON object with ServerURL, Username and Secret",
            ));
        };
        let field = |name: &str| -> Result<Option<String>> {
            let found = map.get(name).or_else(|| {
                map.iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            });
            match found {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(bad(&format!("{name} must be a string"))),
            }
        };
        let server_url = field("ServerURL")?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| Error::Input(MISSING_SERVER_URL.into()))?;
        let username = field("Username")?
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::Input(MISSING_USERNAME.into()))?;
        let secret = field("Secret")?.ok_or_else(|| bad("the JSON has no Secret"))?;
        if server_url.contains(char::is_control) {
            return Err(bad("ServerURL holds a control character"));
        }
        Ok(Credentials {
            server_url: server_url.trim().to_string(),
            username,
            secret: Secret::new(secret),
        })
    }

    /// `get`'s answer: `{"ServerURL":…,"Username":…,"Secret":…}` and a newline.
    pub fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        let mut buf = String::from("{\"ServerURL\":");
        push_json_string(&mut buf, &self.server_url);
        buf.push_str(",\"Username\":");
        push_json_string(&mut buf, &self.username);
        buf.push_str(",\"Secret\":");
        push_json_string(&mut buf, self.secret.expose());
        buf.push_str("}\n");
        write_all(out, &buf)
    }
}

/// `list`'s answer: `{"<ServerURL>":"<Username>",…}` in key order, as Go
/// writes a map, and a newline.
pub fn write_list(entries: &BTreeMap<String, String>, out: &mut dyn Write) -> Result<()> {
    let mut buf = String::from("{");
    for (n, (server, username)) in entries.iter().enumerate() {
        if n > 0 {
            buf.push(',');
        }
        push_json_string(&mut buf, server);
        buf.push(':');
        push_json_string(&mut buf, username);
    }
    buf.push_str("}\n");
    write_all(out, &buf)
}

/// `version`'s answer.
pub fn write_version(out: &mut dyn Write) -> Result<()> {
    write_all(
        out,
        &format!("{NAME} ({PACKAGE}) {}\n", env!("CARGO_PKG_VERSION")),
    )
}

/// An error or the usage line: one line on stdout, where callers look.
pub fn write_message(message: &str, out: &mut dyn Write) -> Result<()> {
    let line: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    write_all(out, &format!("{line}\n"))
}

fn write_all(out: &mut dyn Write, text: &str) -> Result<()> {
    super::write_answer(out, text.as_bytes())
}

/// A JSON string as Go's `encoding/json` writes it: HTML-sensitive
/// characters and the JavaScript line separators escaped as `\u00XX`.
fn push_json_string(buf: &mut String, s: &str) {
    buf.push('"');
    for c in s.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\t' => buf.push_str("\\t"),
            '\u{8}' => buf.push_str("\\b"),
            '\u{c}' => buf.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(buf, "\\u{:04x}", u32::from(c));
            }
            c if u32::from(c) < 0x20 => {
                let _ = write!(buf, "\\u{:04x}", u32::from(c));
            }
            c => buf.push(c),
        }
    }
    buf.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_credentials_shows_no_secret() {
        let creds =
            Credentials::parse(br#"{"ServerURL":"r.example","Username":"u","Secret":"hunter2"}"#)
                .unwrap();
        for shown in [format!("{creds:?}"), format!("{creds:#?}")] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("r.example") && shown.contains("<redacted>"));
        }
    }

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exactly_one_known_action_is_accepted() {
        assert_eq!(Action::from_args(&args(&["get"])).unwrap(), Action::Get);
        assert_eq!(Action::from_args(&args(&["list"])).unwrap(), Action::List);
        assert_eq!(
            Action::from_args(&args(&["version"])).unwrap(),
            Action::Version
        );
        for wrong in [&[][..], &["get", "extra"][..]] {
            let e = Action::from_args(&args(wrong)).unwrap_err().to_string();
            assert_eq!(
                e,
                "Usage: docker-credential-oauth <store|get|erase|list|version>"
            );
        }
        let e = Action::from_args(&args(&["frob"])).unwrap_err().to_string();
        assert_eq!(e, "Unknown credential action `frob`");
    }

    #[test]
    fn server_url_is_trimmed_and_must_not_be_empty() {
        assert_eq!(
            parse_server_url(b"registry.example.com").unwrap(),
            "registry.example.com"
        );
        assert_eq!(
            parse_server_url(b"  https://index.docker.io/v1/\r\n").unwrap(),
            "https://index.docker.io/v1/"
        );
        for bad in [&b""[..], b" \n", b"\xff", b"a\0b", b"a\nb"] {
            assert!(parse_server_url(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            parse_server_url(b"\n").unwrap_err().to_string(),
            MISSING_SERVER_URL
        );
    }

    #[test]
    fn get_answer_is_byte_exact_go_json() {
        let c = Credentials {
            server_url: "127.0.0.1:5000".into(),
            username: "<token>".into(),
            secret: Secret::new("a\"b\\c&\n\u{1}\u{2028}é"),
        };
        let mut out = Vec::new();
        c.write_to(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"ServerURL\":\"127.0.0.1:5000\",\"Username\":\"\\u003ctoken\\u003e\",\
             \"Secret\":\"a\\\"b\\\\c\\u0026\\n\\u0001\\u2028é\"}\n"
        );
    }

    #[test]
    fn store_input_round_trips_through_get_answer() {
        let input = br#"{"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"s3<cr>et"}"#;
        let c = Credentials::parse(input).unwrap();
        assert_eq!(c.username, "<token>");
        let mut out = Vec::new();
        c.write_to(&mut out).unwrap();
        let again = Credentials::parse(&out).unwrap();
        assert_eq!(again, c);
        assert_eq!(again.secret.expose(), "s3<cr>et");
    }

    #[test]
    fn store_input_field_names_ignore_case_and_extra_fields() {
        let c = Credentials::parse(
            br#"{"serverurl":"r.example.com","USERNAME":"u","secret":"","Extra":1}"#,
        )
        .unwrap();
        assert_eq!(c.server_url, "r.example.com");
        assert_eq!(c.username, "u");
        assert!(c.secret.is_empty());
    }

    #[test]
    fn bad_store_input_is_refused_without_quoting_it() {
        let cases: [(&[u8], &str); 9] = [
            (b"", "empty"),
            (b" \n", "empty"),
            (b"hunter2", "not JSON"),
            (b"[\"hunter2\"]", "JSON object"),
            (
                br#"{"Username":"u","Secret":"hunter2"}"#,
                MISSING_SERVER_URL,
            ),
            (
                br#"{"ServerURL":" ","Username":"u","Secret":"hunter2"}"#,
                MISSING_SERVER_URL,
            ),
            (br#"{"ServerURL":"r","Secret":"hunter2"}"#, MISSING_USERNAME),
            (br#"{"ServerURL":"r","Username":"u"}"#, "Secret"),
            (
                br#"{"ServerURL":"r","Username":"u","Secret":7}"#,
                "must be a string",
            ),
        ];
        for (input, needle) in cases {
            let e = Credentials::parse(input).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
            assert!(!e.contains("hunter2"), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn list_answer_is_sorted_go_json() {
        let mut m = BTreeMap::new();
        assert_eq!(list_text(&m), "{}\n");
        m.insert("registry.example.com".into(), "alice".into());
        m.insert("127.0.0.1:5000".into(), "<token>".into());
        assert_eq!(
            list_text(&m),
            "{\"127.0.0.1:5000\":\"\\u003ctoken\\u003e\",\"registry.example.com\":\"alice\"}\n"
        );
    }

    fn list_text(m: &BTreeMap<String, String>) -> String {
        let mut out = Vec::new();
        write_list(m, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn version_and_messages_are_single_lines() {
        let mut out = Vec::new();
        write_version(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!(
                "docker-credential-oauth (credential-oauth) {}\n",
                env!("CARGO_PKG_VERSION")
            )
        );
        let mut out = Vec::new();
        write_message("two\nlines", &mut out).unwrap();
        assert_eq!(out, b"two lines\n");
    }
}
