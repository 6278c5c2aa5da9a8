//! The credential-helper protocol of Bazel (EngFlow's Credential Helpers
//! Specification, `spec.md` and its JSON schemas; Bazel's
//! `--credential_helper`). The tool runs `HELPER get`, writes
//! `{"uri":"…"}` on stdin (GetCredentialsRequest: `uri` required, other
//! properties ignored) and reads one JSON object from stdout
//! (GetCredentialsResponse): `headers`, a map of header name to a list of
//! values, and `expires`, an RFC 3339 time before which the tool does not
//! ask again. `{}` means "no headers". A non-zero exit is a failure, whose
//! stderr Bazel shows.

use crate::error::{Error, Result};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;

/// The program name of the helper (`--credential_helper=bazel-credential-oauth`).
pub const NAME: &str = "bazel-credential-oauth";

/// The one command of the spec every helper implements.
pub const GET: &str = "get";

/// The answer to no command, `--help` or an unknown one.
pub fn usage() -> String {
    format!(
        "usage: {NAME} get   (reads {{\"uri\":\"…\"}} on stdin; Bazel's --credential_helper, \
         EngFlow's credential-helper spec)"
    )
}

/// GetCredentialsRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub uri: String,
}

#[derive(Serialize, Deserialize)]
struct WireRequest {
    uri: String,
}

/// GetCredentialsResponse as this helper writes it: an `Authorization`
/// value and when to ask again, or nothing (`{}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// `{}`: no headers for this URI.
    Nothing,
    Bearer {
        /// The access token, sent as `Authorization: Bearer <token>`.
        token: Secret,
        /// Unix seconds, written as RFC 3339 UTC; `None` for a token used
        /// until the server rejects it (Bazel then keeps it for its run).
        expires: Option<u64>,
    },
}

#[derive(Serialize, Deserialize, Default)]
struct WireResponse {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    headers: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires: Option<String>,
}

/// A JSON fault, said without quoting the input.
fn json_fault(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Eof => "truncated JSON",
        serde_json::error::Category::Data => "not an object with a string \"uri\"",
        serde_json::error::Category::Io => "unreadable",
    }
}

impl Request {
    /// Parse stdin: one JSON object with a string `uri`; unknown properties
    /// are ignored (the spec lets tools add them).
    pub fn parse(input: &[u8]) -> Result<Request> {
        let fault = |what: &str| {
            Error::Input(format!(
                "the request on standard input is not {{\"uri\":\"…\"}} ({what})"
            ))
        };
        let value: serde_json::Value = serde_json::from_slice(input).map_err(|e| {
            fault(&format!(
                "{} at line {}, column {}",
                json_fault(&e),
                e.line(),
                e.column()
            ))
        })?;
        // serde would also take a struct from an array (`["…"]`).
        if !value.is_object() {
            return Err(fault("not a JSON object"));
        }
        let wire: WireRequest = serde_json::from_value(value).map_err(|e| fault(json_fault(&e)))?;
        let uri = wire.uri.trim();
        if uri.is_empty() {
            return Err(Error::Input("the request's uri is empty".into()));
        }
        if uri.contains(char::is_control) {
            return Err(Error::Input(
                "the request's uri holds a control character".into(),
            ));
        }
        Ok(Request {
            uri: uri.to_string(),
        })
    }

    /// The request as Bazel writes it (for tests and the fuzzer).
    pub fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        write_json(
            &WireRequest {
                uri: self.uri.clone(),
            },
            out,
        )
    }
}

impl Response {
    /// One line of JSON: `{}`, or
    /// `{"headers":{"Authorization":["Bearer <token>"]},"expires":"<RFC 3339>"}`.
    /// A token that is not a b64token is refused (DESIGN.md "Trust").
    pub fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        let wire = match self {
            Response::Nothing => WireResponse::default(),
            Response::Bearer { token, expires } => {
                if !crate::token::is_b64token(token.expose()) {
                    return Err(Error::Input(
                        "refusing to hand Bazel a token that is not an RFC 6750 b64token".into(),
                    ));
                }
                WireResponse {
                    headers: BTreeMap::from([(
                        "Authorization".to_string(),
                        vec![format!("Bearer {}", token.expose())],
                    )]),
                    expires: expires.map(crate::calendar::format_utc),
                }
            }
        };
        write_json(&wire, out)
    }

    /// Read an answer back as a tool would (for tests and the fuzzer):
    /// `Nothing` for no `Authorization` header, else its one Bearer value
    /// and an `expires` exactly as [`Response::write_to`] writes it.
    pub fn parse(input: &[u8]) -> Result<Response> {
        let wire: WireResponse = serde_json::from_slice(input).map_err(|e| {
            Error::Input(format!("not a GetCredentialsResponse ({})", json_fault(&e)))
        })?;
        let Some(values) = wire.headers.get("Authorization") else {
            return Ok(Response::Nothing);
        };
        let token = match values.as_slice() {
            [one] => one
                .strip_prefix("Bearer ")
                .filter(|t| crate::token::is_b64token(t)),
            _ => None,
        }
        .ok_or_else(|| Error::Input("Authorization is not one Bearer b64token".into()))?;
        let expires = wire
            .expires
            .as_deref()
            .map(|e| {
                crate::calendar::parse_utc(e)
                    .ok_or_else(|| Error::Input("expires is not YYYY-MM-DDTHH:MM:SSZ".into()))
            })
            .transpose()?;
        Ok(Response::Bearer {
            token: Secret::new(token),
            expires,
        })
    }
}

fn write_json<T: Serialize>(value: &T, out: &mut dyn Write) -> Result<()> {
    super::write_json_line(value, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(r: &Response) -> String {
        let mut out = Vec::new();
        r.write_to(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn requests_parse_with_unknown_properties_ignored() {
        assert_eq!(
            Request::parse(br#"{"uri":"https://cache.example/ac/0a"}"#).unwrap(),
            Request {
                uri: "https://cache.example/ac/0a".into()
            }
        );
        let extra = br#"{ "uri" : "grpcs://remote.example", "future": {"x": [1]} }"#;
        assert_eq!(Request::parse(extra).unwrap().uri, "grpcs://remote.example");
        let r = Request {
            uri: "https://a.example/x?y=1".into(),
        };
        let mut out = Vec::new();
        r.write_to(&mut out).unwrap();
        assert_eq!(out, b"{\"uri\":\"https://a.example/x?y=1\"}\n");
        assert_eq!(Request::parse(&out).unwrap(), r);
    }

    #[test]
    fn malformed_requests_are_one_line_errors_that_quote_nothing() {
        for input in [
            &b""[..],
            b"{",
            b"null",
            b"[]",
            b"{}",
            b"\xff",
            br#"{"uri":42}"#,
            br#"{"uri":"s3cret-value\u0001"}"#,
            br#"{"uri":"  "}"#,
            br#"{"uri":"https://a\nb"}"#,
            br#"["https://a.example/"]"#,
            br#"{"url":"https://a.example/"}"#,
        ] {
            let e = Request::parse(input).unwrap_err().to_string();
            assert!(!e.contains('\n') && !e.contains("s3cret"), "{e}");
        }
    }

    #[test]
    fn the_answer_is_a_bearer_header_and_an_rfc_3339_expiry_or_nothing() {
        let bearer = Response::Bearer {
            token: Secret::new("at_x.y-z"),
            expires: Some(1_796_000_000),
        };
        let text = written(&bearer);
        assert_eq!(
            text,
            "{\"headers\":{\"Authorization\":[\"Bearer at_x.y-z\"]},\"expires\":\"2026-11-30T00:53:20Z\"}\n"
        );
        assert_eq!(Response::parse(text.as_bytes()).unwrap(), bearer);
        assert_eq!(written(&Response::Nothing), "{}\n");
        assert_eq!(Response::parse(b"{}").unwrap(), Response::Nothing);
        assert_eq!(
            Response::parse(br#"{"headers":{}}"#).unwrap(),
            Response::Nothing
        );
    }

    #[test]
    fn a_token_that_is_not_a_b64token_is_never_written() {
        let r = Response::Bearer {
            token: Secret::new("evil\"]},\"x\":[\""),
            expires: Some(1),
        };
        let mut out = Vec::new();
        let e = r.write_to(&mut out).unwrap_err().to_string();
        assert!(out.is_empty() && !e.contains("evil"), "{e}");
    }
}
