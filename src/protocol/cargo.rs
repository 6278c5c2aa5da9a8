//! cargo's credential-provider protocol, version 1 (cargo ≥ 1.74), as the
//! Cargo Book's "Credential Provider Protocol" and cargo's own
//! `credential/cargo-credential/src/lib.rs` define it.
//!
//! cargo runs the provider as `PROGRAM --cargo-plugin` with stdin and stdout
//! as pipes (stderr stays the person's). The provider writes a hello
//! (`{"v":[1]}`), cargo writes one request line, the provider answers one
//! line: `{"Ok":{…}}` or `{"Err":{…}}`, each a single line of JSON.
//!
//! The types are shaped like the wire, as cargo's are: `kind` and
//! `operation` are serde tags, and every enum has an `Unknown` variant so a
//! kind, operation or cache mode added to cargo later never breaks an older
//! helper. Unknown fields are ignored.

use crate::error::{Error, Result};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read, Write};

/// The argument cargo always runs a provider with.
pub const FLAG: &str = "--cargo-plugin";

/// The one protocol version spoken here.
pub const VERSION: u32 = 1;

/// Longest request line read. Real ones are a few hundred bytes; headers of
/// a 401 answer can add a few KiB.
pub const MAX_LINE: u64 = 64 * 1024;

/// The provider's first line: the protocol versions it speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    pub v: Vec<u32>,
}

impl Hello {
    /// `{"v":[1]}`.
    pub fn current() -> Hello {
        Hello { v: vec![VERSION] }
    }

    pub fn parse(line: &[u8]) -> Result<Hello> {
        parse_line(line, "hello")
    }

    pub fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        write_line(self, out)
    }
}

/// What cargo asks, after the hello.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Request {
    /// The protocol version cargo chose from the hello.
    pub v: u32,
    pub registry: Registry,
    #[serde(flatten)]
    pub action: Action,
    /// Arguments from cargo's config (`credential-provider = ["credential-oauth -v"]`)
    /// and from `cargo login -- ARGS`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
}

/// The registry a request is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Registry {
    /// As cargo writes it: `sparse+https://…/` for a sparse registry.
    pub index_url: String,
    /// The registry's name in cargo's config (`crates-io` for crates.io),
    /// when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Every header of the HTTP 401 answer that made cargo ask, `Name: value`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
}

impl Registry {
    /// The index URL without cargo's `sparse+` prefix: the http(s) URL a
    /// provider's `url` is matched against.
    pub fn url(&self) -> &str {
        strip_sparse(&self.index_url)
    }

    /// The values of the `WWW-Authenticate` headers cargo passed on, as
    /// git passes `wwwauth[]`.
    pub fn challenges(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter_map(|h| h.split_once(':'))
            .filter(|(name, _)| name.trim().eq_ignore_ascii_case("www-authenticate"))
            .map(|(_, value)| value.trim().to_string())
            .collect()
    }
}

/// An index URL without cargo's `sparse+` prefix (which
/// `cargo:token-from-stdout`'s `{index_url}` also carries).
pub fn strip_sparse(index_url: &str) -> &str {
    index_url.strip_prefix("sparse+").unwrap_or(index_url)
}

/// The request's `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Action {
    /// A token for an operation.
    Get(Operation),
    /// `cargo login`.
    Login(LoginOptions),
    /// `cargo logout`.
    Logout,
    /// A kind this helper does not know.
    #[serde(other)]
    Unknown,
}

/// What a `get` is for, in its `operation` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "operation", rename_all = "kebab-case")]
pub enum Operation {
    /// Fetching the index or a crate.
    Read,
    Publish {
        name: String,
        vers: String,
        cksum: String,
    },
    Yank {
        name: String,
        vers: String,
    },
    Unyank {
        name: String,
        vers: String,
    },
    Owners {
        name: String,
    },
    /// An operation this helper does not know.
    #[serde(other)]
    Unknown,
}

/// The fields of a `login` request.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct LoginOptions {
    /// A token given to `cargo login` (argument or stdin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// The page where a person could get a token for the registry: the
    /// `login_url` of its `WWW-Authenticate: Cargo` challenge, or the API
    /// host's `/me`. A web page for people, not an OAuth endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_url: Option<String>,
}

impl Request {
    /// Parse one request line. Errors never quote the input (a `login`
    /// line may hold a token); they name where the line went wrong.
    pub fn parse(line: &[u8]) -> Result<Request> {
        let request: Request = parse_line(line, "request")?;
        if request.v != VERSION {
            return Err(Error::Input(format!(
                "cargo asked for credential protocol version {}; credential-oauth speaks version {VERSION}",
                request.v
            )));
        }
        Ok(request)
    }

    pub fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        write_line(self, out)
    }
}

/// The answer line: `{"Ok":{…}}` or `{"Err":{…}}`, serde's form of a
/// `Result`, as cargo reads it.
pub type Response = std::result::Result<Success, Failure>;

/// What a request achieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Success {
    /// cargo sends `token` as the `Authorization` header's whole value.
    Get {
        token: Secret,
        #[serde(flatten)]
        cache: Cache,
        /// Whether the token serves every operation, not only the one asked.
        operation_independent: bool,
    },
    Login,
    Logout,
    #[serde(other)]
    Unknown,
}

/// How long cargo may keep a token in memory for the rest of its run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cache", rename_all = "kebab-case")]
pub enum Cache {
    Never,
    Session,
    /// Until `expiration`, in Unix seconds (cargo itself stops a minute before).
    Expires {
        expiration: u64,
    },
    #[serde(other)]
    Unknown,
}

/// Why a request achieved nothing. `url-not-supported` and `not-found`
/// make cargo try its next provider; the others end cargo's command with
/// `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Failure {
    pub kind: FailureKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub caused_by: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// Not this provider's registry.
    UrlNotSupported,
    /// No credential here (for `get`, and `logout` with nothing to forget).
    NotFound,
    /// A kind of request this provider does not handle.
    OperationNotSupported,
    Other,
    #[serde(other)]
    Unknown,
}

impl Failure {
    /// A failure of `kind`; `message` becomes one line, control characters
    /// replaced, since cargo shows it to the person as it is.
    pub fn new(kind: FailureKind, message: Option<&str>) -> Failure {
        Failure {
            kind,
            message: message.map(crate::error::one_line),
            caused_by: Vec::new(),
        }
    }

    /// `{"kind":"url-not-supported"}`: cargo tries its next provider.
    pub fn url_not_supported() -> Failure {
        Failure::new(FailureKind::UrlNotSupported, None)
    }

    pub fn other(message: &str) -> Failure {
        Failure::new(FailureKind::Other, Some(message))
    }
}

/// Parse the answer line (for tests and tools that play cargo's side).
pub fn parse_response(line: &[u8]) -> Result<Response> {
    parse_line(line, "answer")
}

/// Write the answer line.
pub fn write_response(response: &Response, out: &mut dyn Write) -> Result<()> {
    write_line(response, out)
}

/// Read cargo's one request line, at most [`MAX_LINE`] bytes. cargo keeps
/// stdin open until it has the answer, so this reads to the newline, never
/// to the end.
pub fn read_line(input: &mut dyn Read) -> Result<Vec<u8>> {
    let mut line = Vec::new();
    std::io::BufReader::new(input)
        .take(MAX_LINE + 1)
        .read_until(b'\n', &mut line)
        .map_err(|e| Error::Input(format!("cannot read cargo's request: {e}")))?;
    if line.len() as u64 > MAX_LINE {
        return Err(Error::Input(format!(
            "cargo's request is longer than {} KiB",
            MAX_LINE / 1024
        )));
    }
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Input("cargo sent no request".into()));
    }
    Ok(line)
}

/// One JSON value on one line. serde_json's messages can quote a value
/// (`invalid type: string "…"`), which could be a token, so only the kind
/// of fault and its column are reported.
fn parse_line<T: serde::de::DeserializeOwned>(line: &[u8], what: &str) -> Result<T> {
    serde_json::from_slice(line).map_err(|e| {
        use serde_json::error::Category;
        let fault = match e.classify() {
            Category::Syntax | Category::Eof | Category::Io => "is not valid JSON",
            Category::Data => "is not a credential-provider protocol v1 message",
        };
        Error::Input(format!(
            "cargo's {what} {fault} (line {}, column {})",
            e.line(),
            e.column()
        ))
    })
}

/// `value` as one line of compact JSON (which escapes every control
/// character, so no newline can split it) and a newline, flushed.
fn write_line<T: Serialize>(value: &T, out: &mut dyn Write) -> Result<()> {
    super::write_json_line(value, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written<T: Serialize>(value: &T) -> String {
        let mut out = Vec::new();
        write_line(value, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn hello_is_version_one_on_one_line() {
        assert_eq!(written(&Hello::current()), "{\"v\":[1]}\n");
        assert_eq!(Hello::parse(b"{\"v\":[1]}\n").unwrap(), Hello::current());
    }

    #[test]
    fn a_read_request_as_cargo_sends_it() {
        let line = br#"{"v":1,"registry":{"index-url":"sparse+http://127.0.0.1:8000/index/","name":"corp","headers":["HTTP/1.1 401 Unauthorized","www-authenticate: Cargo login_url=\"http://127.0.0.1:8000/me\"","content-length: 0"]},"kind":"get","operation":"read","args":["-v"]}"#;
        let r = Request::parse(line).unwrap();
        assert_eq!(r.action, Action::Get(Operation::Read));
        assert_eq!(r.registry.url(), "http://127.0.0.1:8000/index/");
        assert_eq!(r.registry.name.as_deref(), Some("corp"));
        assert_eq!(
            r.registry.challenges(),
            ["Cargo login_url=\"http://127.0.0.1:8000/me\""]
        );
        assert_eq!(r.args, ["-v"]);
    }

    #[test]
    fn requests_round_trip_byte_for_byte() {
        let lines = [
            r#"{"v":1,"registry":{"index-url":"sparse+https://r.example/index/"},"kind":"get","operation":"read"}"#,
            r#"{"v":1,"registry":{"index-url":"https://r.example/git-index","name":"corp","headers":["WWW-Authenticate: Cargo"]},"kind":"get","operation":"publish","name":"lib","vers":"0.1.0","cksum":"abc","args":["x"]}"#,
            r#"{"v":1,"registry":{"index-url":"u"},"kind":"get","operation":"yank","name":"lib","vers":"0.1.0"}"#,
            r#"{"v":1,"registry":{"index-url":"u"},"kind":"get","operation":"unyank","name":"lib","vers":"0.1.0"}"#,
            r#"{"v":1,"registry":{"index-url":"u"},"kind":"get","operation":"owners","name":"lib"}"#,
            r#"{"v":1,"registry":{"index-url":"u"},"kind":"login","token":"t0k","login-url":"https://r.example/me"}"#,
            r#"{"v":1,"registry":{"index-url":"u"},"kind":"login"}"#,
            r#"{"v":1,"registry":{"index-url":"u"},"kind":"logout"}"#,
        ];
        for line in lines {
            let r = Request::parse(line.as_bytes()).unwrap();
            assert_eq!(written(&r), format!("{line}\n"));
        }
    }

    #[test]
    fn unknown_fields_kinds_and_operations_are_tolerated() {
        let r = Request::parse(
            br#"{"v":1,"new":true,"registry":{"index-url":"u","new":[1]},"kind":"get","operation":"frobnicate","name":"x","args":[]}"#,
        )
        .unwrap();
        assert_eq!(r.action, Action::Get(Operation::Unknown));
        let r = Request::parse(br#"{"v":1,"registry":{"index-url":"u"},"kind":"renew","x":1}"#)
            .unwrap();
        assert_eq!(r.action, Action::Unknown);
        assert!(r.args.is_empty() && r.registry.headers.is_empty());
    }

    #[test]
    fn the_login_token_stays_out_of_debug() {
        let r = Request::parse(
            br#"{"v":1,"registry":{"index-url":"u"},"kind":"login","token":"hunter2"}"#,
        )
        .unwrap();
        assert!(!format!("{r:?}").contains("hunter2"));
    }

    #[test]
    fn malformed_lines_are_errors_that_quote_nothing() {
        let cases: [&[u8]; 12] = [
            b"",
            b"hunter2\n",
            b"{\"v\":1",
            b"[]",
            b"{\"v\":\"hunter2\",\"registry\":{\"index-url\":\"u\"},\"kind\":\"logout\"}",
            b"{\"v\":1,\"kind\":\"logout\"}",
            b"{\"v\":1,\"registry\":{},\"kind\":\"logout\"}",
            b"{\"v\":1,\"registry\":{\"index-url\":\"u\"}}",
            b"{\"v\":1,\"registry\":{\"index-url\":\"u\"},\"kind\":\"get\"}",
            b"{\"v\":1,\"registry\":{\"index-url\":\"u\"},\"kind\":\"login\",\"token\":[\"hunter2\"]}",
            b"{\"v\":2,\"registry\":{\"index-url\":\"u\"},\"kind\":\"logout\"}",
            b"\xff\xfe",
        ];
        for line in cases {
            let e = Request::parse(line).unwrap_err().to_string();
            assert!(!e.contains("hunter2") && !e.contains('\n'), "{e}");
            assert!(e.starts_with("cargo"), "{e}");
        }
        let e = Request::parse(br#"{"v":2,"registry":{"index-url":"u"},"kind":"logout"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("version 2"), "{e}");
    }

    #[test]
    fn a_get_answer_is_cargos_exact_line() {
        let ok: Response = Ok(Success::Get {
            token: Secret::new("Bearer at-1"),
            cache: Cache::Expires {
                expiration: 1_693_942_857,
            },
            operation_independent: true,
        });
        let line = written(&ok);
        assert_eq!(
            line,
            "{\"Ok\":{\"kind\":\"get\",\"token\":\"Bearer at-1\",\"cache\":\"expires\",\
             \"expiration\":1693942857,\"operation_independent\":true}}\n"
        );
        assert_eq!(parse_response(line.as_bytes()).unwrap(), ok);
    }

    #[test]
    fn other_answers_round_trip() {
        let cases: [(Response, &str); 6] = [
            (Ok(Success::Login), r#"{"Ok":{"kind":"login"}}"#),
            (Ok(Success::Logout), r#"{"Ok":{"kind":"logout"}}"#),
            (
                Err(Failure::url_not_supported()),
                r#"{"Err":{"kind":"url-not-supported"}}"#,
            ),
            (
                Err(Failure::new(FailureKind::NotFound, Some("run: x"))),
                r#"{"Err":{"kind":"not-found","message":"run: x"}}"#,
            ),
            (
                Err(Failure::new(FailureKind::OperationNotSupported, None)),
                r#"{"Err":{"kind":"operation-not-supported"}}"#,
            ),
            (
                Err(Failure {
                    kind: FailureKind::Other,
                    message: Some("two".into()),
                    caused_by: vec!["one".into()],
                }),
                r#"{"Err":{"kind":"other","message":"two","caused-by":["one"]}}"#,
            ),
        ];
        for (response, line) in cases {
            assert_eq!(written(&response), format!("{line}\n"));
            assert_eq!(parse_response(line.as_bytes()).unwrap(), response);
        }
        let r = parse_response(br#"{"Ok":{"kind":"get","token":"t","cache":"fortnight","operation_independent":false,"x":1}}"#).unwrap();
        assert!(matches!(
            r,
            Ok(Success::Get {
                cache: Cache::Unknown,
                ..
            })
        ));
        let r = parse_response(br#"{"Err":{"kind":"on-fire"}}"#).unwrap();
        assert_eq!(r.unwrap_err().kind, FailureKind::Unknown);
    }

    #[test]
    fn a_failure_message_is_one_line() {
        let f = Failure::other("a\nb\rc");
        assert_eq!(f.message.as_deref(), Some("a b c"));
        assert!(!written(&Err::<Success, _>(f)).trim_end().contains('\n'));
    }

    #[test]
    fn read_line_takes_one_line_and_leaves_the_pipe_open() {
        // A reader that fails after the first line, as a pipe cargo keeps
        // open would block: only the line may be read.
        struct OneLineThenBlock(&'static [u8]);
        impl Read for OneLineThenBlock {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.0.is_empty() {
                    panic!("read past the request line");
                }
                let n = buf.len().min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let line = read_line(&mut OneLineThenBlock(b"{\"v\":1}\n")).unwrap();
        assert_eq!(line, b"{\"v\":1}\n");
        assert!(read_line(&mut &b""[..]).is_err());
        assert!(read_line(&mut &b"\n"[..]).is_err());
        let long = vec![b'x'; MAX_LINE as usize + 1];
        let e = read_line(&mut &long[..]).unwrap_err().to_string();
        assert!(e.contains("64 KiB"), "{e}");
    }

    #[test]
    fn sparse_prefix_is_stripped_once() {
        assert_eq!(strip_sparse("sparse+https://r/index/"), "https://r/index/");
        assert_eq!(strip_sparse("https://r/index/"), "https://r/index/");
    }
}
