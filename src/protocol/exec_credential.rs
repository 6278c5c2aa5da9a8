//! client-go's exec credential plugin format (`client.authentication.k8s.io`
//! `ExecCredential`, v1 and v1beta1), as kubectl speaks it: the request in
//! the environment variable `KUBERNETES_EXEC_INFO`, the answer on stdout.
//! <https://kubernetes.io/docs/reference/config-api/client-authentication.v1/>
//!
//! Only what this helper uses is read (`spec.interactive`,
//! `spec.cluster.server`); every other field, `certificate-authority-data`
//! included, is ignored, as are fields a later Kubernetes adds.

use crate::error::{Error, Result};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use std::io::Write;

/// The environment variable client-go passes the request in.
pub const EXEC_INFO: &str = "KUBERNETES_EXEC_INFO";

/// Most `KUBERNETES_EXEC_INFO` may hold. A request with cluster
/// information carries the cluster's CA bundle, a few KiB; a megabyte is
/// a mistake or an attack.
pub const MAX_EXEC_INFO: usize = 1024 * 1024;

const KIND: &str = "ExecCredential";

/// The versions of the format client-go still speaks (v1alpha1 was removed
/// in Kubernetes 1.24). The answer is written in the request's version:
/// client-go refuses any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1,
    V1Beta1,
}

impl ApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V1 => "client.authentication.k8s.io/v1",
            ApiVersion::V1Beta1 => "client.authentication.k8s.io/v1beta1",
        }
    }

    fn parse(s: &str) -> Option<ApiVersion> {
        [ApiVersion::V1, ApiVersion::V1Beta1]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// What kubectl asks (the `spec` of its ExecCredential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub api_version: ApiVersion,
    /// `spec.interactive`: whether the plugin may talk to a person
    /// (kubeconfig `interactiveMode`, and whether kubectl's stdin is a
    /// terminal). `None` when the request does not say.
    pub interactive: Option<bool>,
    /// `spec.cluster.server`, sent with `provideClusterInfo: true`.
    pub server: Option<String>,
}

/// The answer: a bearer token and when client-go should ask again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub api_version: ApiVersion,
    /// `status.token`, a b64token (DESIGN.md "Trust").
    pub token: Secret,
    /// `status.expirationTimestamp`, Unix seconds, written as RFC 3339 UTC.
    pub expiration: Option<u64>,
}

/// The ExecCredential as it is on the wire; serde ignores unknown fields.
#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(rename = "apiVersion")]
    api_version: String,
    kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spec: Option<WireSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<WireStatus>,
}

#[derive(Serialize, Deserialize, Default)]
struct WireSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cluster: Option<WireCluster>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    interactive: Option<bool>,
}

#[derive(Serialize, Deserialize)]
struct WireCluster {
    #[serde(default)]
    server: String,
}

#[derive(Serialize, Deserialize)]
struct WireStatus {
    #[serde(default)]
    token: String,
    #[serde(
        rename = "expirationTimestamp",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    expiration_timestamp: Option<String>,
}

/// A value from the request, cut short for a message.
fn shown(value: &str) -> String {
    value.chars().take(60).collect()
}

/// Parse the common envelope: JSON, an apiVersion this helper speaks, and
/// the kind.
fn envelope(input: &[u8]) -> Result<(Wire, ApiVersion)> {
    if input.len() > MAX_EXEC_INFO {
        return Err(Error::Input(format!(
            "{EXEC_INFO} is larger than {} KiB",
            MAX_EXEC_INFO / 1024
        )));
    }
    // serde_json's own message may quote a value (a type error does), and
    // the request may hold secrets in `spec.cluster.config`: say only what
    // kind of fault it is and where.
    let wire: Wire = serde_json::from_slice(input).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Syntax => "malformed JSON",
            serde_json::error::Category::Eof => "truncated JSON",
            serde_json::error::Category::Data => "a field of the wrong type",
            serde_json::error::Category::Io => "unreadable",
        };
        Error::Input(format!(
            "{EXEC_INFO} is not an ExecCredential ({what} at line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let version = ApiVersion::parse(&wire.api_version).ok_or_else(|| {
        Error::Input(format!(
            "{EXEC_INFO}: apiVersion {:?} is not one of {} or {}",
            shown(&wire.api_version),
            ApiVersion::V1.as_str(),
            ApiVersion::V1Beta1.as_str()
        ))
    })?;
    if wire.kind != KIND {
        return Err(Error::Input(format!(
            "{EXEC_INFO}: kind {:?} is not {KIND}",
            shown(&wire.kind)
        )));
    }
    Ok((wire, version))
}

impl Request {
    /// Parse `KUBERNETES_EXEC_INFO`.
    pub fn parse(input: &[u8]) -> Result<Request> {
        let (wire, api_version) = envelope(input)?;
        let spec = wire.spec.unwrap_or_default();
        let server = match spec.cluster {
            Some(c) if c.server.is_empty() => None,
            Some(c) if c.server.contains(['\0', '\r', '\n']) => {
                return Err(Error::Input(format!(
                    "{EXEC_INFO}: spec.cluster.server holds a control character"
                )));
            }
            Some(c) => Some(c.server),
            None => None,
        };
        Ok(Request {
            api_version,
            interactive: spec.interactive,
            server,
        })
    }

    /// The request as client-go writes it (for tests and the fuzzer's
    /// round trip).
    pub fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        let wire = Wire {
            api_version: self.api_version.as_str().to_string(),
            kind: KIND.to_string(),
            spec: Some(WireSpec {
                cluster: self
                    .server
                    .as_ref()
                    .map(|s| WireCluster { server: s.clone() }),
                interactive: self.interactive,
            }),
            status: None,
        };
        write_json(&wire, out)
    }
}

impl Response {
    /// Write the answer, one line of JSON. A token that is not a b64token
    /// is refused: it could not be sent as `Authorization: Bearer`.
    pub fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        if !crate::token::is_b64token(self.token.expose()) {
            return Err(Error::Input(
                "refusing to hand kubectl a token that is not an RFC 6750 b64token".into(),
            ));
        }
        let wire = Wire {
            api_version: self.api_version.as_str().to_string(),
            kind: KIND.to_string(),
            spec: None,
            status: Some(WireStatus {
                token: self.token.expose().to_string(),
                expiration_timestamp: self.expiration.map(crate::calendar::format_utc),
            }),
        };
        write_json(&wire, out)
    }

    /// Parse an answer as client-go reads it (for tests and the fuzzer):
    /// a b64token, and a timestamp exactly as [`Response::write_to`] writes it.
    pub fn parse(input: &[u8]) -> Result<Response> {
        let (wire, api_version) = envelope(input)?;
        let status = wire
            .status
            .ok_or_else(|| Error::Input("ExecCredential without status".into()))?;
        if !crate::token::is_b64token(&status.token) {
            return Err(Error::Input(
                "ExecCredential status.token is not an RFC 6750 b64token".into(),
            ));
        }
        let expiration = match status.expiration_timestamp.as_deref() {
            None => None,
            Some(t) => Some(crate::calendar::parse_utc(t).ok_or_else(|| {
                Error::Input(format!(
                    "ExecCredential status.expirationTimestamp {:?} is not YYYY-MM-DDTHH:MM:SSZ",
                    shown(t)
                ))
            })?),
        };
        Ok(Response {
            api_version,
            token: Secret::new(status.token),
            expiration,
        })
    }
}

fn write_json(wire: &Wire, out: &mut dyn Write) -> Result<()> {
    super::write_json_line(wire, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const V1_REQUEST: &str = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://127.0.0.1:6443","certificate-authority-data":"LS0tLS1CRUdJTg==","config":{"audience":"x"},"tls-server-name":"kube"},"interactive":false}}"#;

    fn written(f: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_v1_request_with_cluster_info_parses_and_unknown_fields_are_ignored() {
        let r = Request::parse(V1_REQUEST.as_bytes()).unwrap();
        assert_eq!(
            r,
            Request {
                api_version: ApiVersion::V1,
                interactive: Some(false),
                server: Some("https://127.0.0.1:6443".into()),
            }
        );
        let extra = r#"{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","metadata":{"creationTimestamp":null},"spec":{"interactive":true,"future":[1,2]},"status":{}}"#;
        let r = Request::parse(extra.as_bytes()).unwrap();
        assert_eq!(
            (r.api_version, r.interactive, r.server),
            (ApiVersion::V1Beta1, Some(true), None)
        );
        let bare = r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"}"#;
        let r = Request::parse(bare.as_bytes()).unwrap();
        assert_eq!((r.interactive, r.server), (None, None));
    }

    #[test]
    fn requests_round_trip_byte_for_byte() {
        for r in [
            Request {
                api_version: ApiVersion::V1,
                interactive: Some(true),
                server: Some("https://k8s.example:6443/prefix".into()),
            },
            Request {
                api_version: ApiVersion::V1Beta1,
                interactive: None,
                server: None,
            },
        ] {
            let text = written(|o| r.write_to(o));
            assert_eq!(Request::parse(text.as_bytes()).unwrap(), r);
            let again = Request::parse(text.as_bytes()).unwrap();
            assert_eq!(written(|o| again.write_to(o)), text);
        }
    }

    #[test]
    fn the_answer_is_the_requests_version_with_token_and_utc_expiry() {
        let response = Response {
            api_version: ApiVersion::V1,
            token: Secret::new("at_x.y-z"),
            expiration: Some(1_796_000_000),
        };
        let text = written(|o| response.write_to(o));
        assert_eq!(
            text,
            "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\
             \"status\":{\"token\":\"at_x.y-z\",\"expirationTimestamp\":\"2026-11-30T00:53:20Z\"}}\n"
        );
        assert_eq!(Response::parse(text.as_bytes()).unwrap(), response);
        let beta = Response {
            api_version: ApiVersion::V1Beta1,
            token: Secret::new("t"),
            expiration: None,
        };
        let text = written(|o| beta.write_to(o));
        assert_eq!(
            text,
            "{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}\n"
        );
        assert_eq!(Response::parse(text.as_bytes()).unwrap(), beta);
    }

    #[test]
    fn a_token_that_is_not_a_b64token_is_never_written() {
        let r = Response {
            api_version: ApiVersion::V1,
            token: Secret::new("evil\"},\"x\":{\""),
            expiration: None,
        };
        let mut out = Vec::new();
        let e = r.write_to(&mut out).unwrap_err().to_string();
        assert!(out.is_empty() && !e.contains("evil"), "{e}");
    }

    #[test]
    fn malformed_requests_are_errors_that_name_no_secret() {
        let cases: &[&[u8]] = &[
            b"",
            b"null",
            b"[]",
            b"{",
            b"\xff\xfe",
            br#"{"kind":"ExecCredential"}"#,
            br#"{"apiVersion":"client.authentication.k8s.io/v1alpha1","kind":"ExecCredential"}"#,
            br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"Secret"}"#,
            br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"interactive":"yes"}}"#,
            br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"cluster":{"server":"https://a\nb"}}}"#,
            br#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","spec":{"cluster":"s3cret-value"}}"#,
        ];
        for input in cases {
            let e = Request::parse(input).unwrap_err().to_string();
            assert!(!e.contains('\n') && !e.contains("s3cret"), "{e}");
        }
        let big = format!(
            r#"{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","pad":"{}"}}"#,
            "x".repeat(MAX_EXEC_INFO)
        );
        let e = Request::parse(big.as_bytes()).unwrap_err().to_string();
        assert!(e.contains("larger than 1024 KiB"), "{e}");
    }

    #[test]
    fn malformed_answers_are_errors() {
        for input in [
            r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential"}"#,
            r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"a b"}}"#,
            r#"{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"soon"}}"#,
        ] {
            assert!(Response::parse(input.as_bytes()).is_err(), "{input}");
        }
    }
}
