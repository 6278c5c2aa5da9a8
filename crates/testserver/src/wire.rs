//! HTTP plumbing: what a request looked like, and how an answer is written.

use std::io::{Cursor, Read};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use url::form_urlencoded;

use super::Fault;

/// Request bodies beyond this are refused unread: nothing OAuth sends is near it.
const MAX_BODY: usize = 64 * 1024;

/// A request as the server saw it, kept so tests can assert what a client sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Every header in arrival order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The decoded query parameters.
    pub query: Vec<(String, String)>,
    /// The decoded body parameters, when the body is `application/x-www-form-urlencoded`.
    pub form: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
}

impl RecordedRequest {
    /// The first header with this name, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first body parameter with this name, else the first query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .chain(&self.query)
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the `Content-Type` media type is `media_type` (parameters ignored).
    pub(crate) fn has_content_type(&self, media_type: &str) -> bool {
        self.header("content-type").is_some_and(|v| {
            let essence = v.split(';').next().unwrap_or_default();
            essence.trim().eq_ignore_ascii_case(media_type)
        })
    }

    /// Reads a tiny_http request, body included; an unreadable or oversized
    /// body gets its answer straight away.
    pub(crate) fn read(rq: &mut tiny_http::Request) -> Result<RecordedRequest, Reply> {
        let url = rq.url().to_owned();
        let (path, query) = url.split_once('?').unwrap_or((&url, ""));
        let headers = rq
            .headers()
            .iter()
            .map(|h| {
                let name = h.field.as_str().as_str().to_ascii_lowercase();
                (name, h.value.as_str().to_owned())
            })
            .collect();
        let too_large = || OAuthError::new(413, "invalid_request", "body over 64 KiB").into();
        if rq.body_length().is_some_and(|n| n > MAX_BODY) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        let limit = MAX_BODY as u64 + 1;
        if rq.as_reader().take(limit).read_to_end(&mut body).is_err() {
            let error = OAuthError::new(400, "invalid_request", "unreadable request body");
            return Err(error.into());
        }
        if body.len() > MAX_BODY {
            return Err(too_large());
        }
        let mut recorded = RecordedRequest {
            method: rq.method().as_str().to_owned(),
            path: path.to_owned(),
            headers,
            query: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            form: Vec::new(),
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        if recorded.has_content_type("application/x-www-form-urlencoded") {
            recorded.form = form_urlencoded::parse(&body).into_owned().collect();
        }
        Ok(recorded)
    }
}

/// Parameters of one request, checked once for repeats.
pub(crate) struct Params<'a>(&'a [(String, String)]);

impl<'a> Params<'a> {
    /// RFC 6749 §3.1, §3.2: parameters must not be included more than once.
    pub(crate) fn new(pairs: &'a [(String, String)]) -> Result<Params<'a>, OAuthError> {
        for (i, (name, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(earlier, _)| earlier == name) {
                let description = format!("parameter {name} is repeated");
                return Err(OAuthError::new(400, "invalid_request", description));
            }
        }
        Ok(Params(pairs))
    }

    /// RFC 6749 §3.1: a parameter sent without a value counts as omitted.
    pub(crate) fn get(&self, name: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(n, v)| n == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

/// The credentials of an `Authorization` header of `scheme`, or `None` when
/// the header is absent or uses another scheme.
pub(crate) fn credentials<'a>(rq: &'a RecordedRequest, scheme: &str) -> Option<&'a str> {
    let value = rq.header("authorization")?.trim();
    let (given, rest) = value.split_once(' ').unwrap_or((value, ""));
    given.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before they are
/// joined and Base64-encoded (RFC 7617), so both are decoded here.
pub(crate) fn basic_credentials(encoded: &str) -> Option<(String, String)> {
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a space
/// and `%XX` a byte; a malformed escape or invalid UTF-8 is refused.
fn form_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// An OAuth error answer: RFC 6749 §5.2 and the extensions that reuse it.
#[derive(Debug)]
pub(crate) struct OAuthError {
    status: u16,
    error: &'static str,
    description: String,
}

impl OAuthError {
    pub(crate) fn new(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
        }
    }

    pub(crate) fn invalid_request(description: impl Into<String>) -> Self {
        OAuthError::new(400, "invalid_request", description)
    }

    /// RFC 6749 §5.2: 401 with a challenge for the scheme clients may use.
    pub(crate) fn invalid_client(description: impl Into<String>) -> Self {
        OAuthError::new(401, "invalid_client", description)
    }

    pub(crate) fn invalid_grant(description: impl Into<String>) -> Self {
        OAuthError::new(400, "invalid_grant", description)
    }
}

impl From<OAuthError> for Reply {
    fn from(e: OAuthError) -> Reply {
        let body = json!({ "error": e.error, "error_description": e.description });
        let reply = Reply::json(e.status, &body);
        match (e.status, e.error) {
            (401, "invalid_client") => reply.with_header("WWW-Authenticate", "Basic"),
            (401, "invalid_token") => {
                reply.with_header("WWW-Authenticate", "Bearer error=\"invalid_token\"")
            }
            _ => reply,
        }
    }
}

/// An answer about to be written.
#[derive(Debug)]
pub(crate) struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    pub(crate) fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        let reply = Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
        };
        if content_type.is_empty() {
            reply
        } else {
            reply.with_header("Content-Type", content_type)
        }
    }

    pub(crate) fn json(status: u16, value: &Value) -> Reply {
        Reply::new(status, "application/json", value.to_string())
    }

    /// A small page for a person in a browser; `message` is escaped.
    pub(crate) fn page(status: u16, title: &str, message: &str) -> Reply {
        let (title, message) = (html_escape(title), html_escape(message));
        let body = format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
             <body><h1>{title}</h1><p>{message}</p></body></html>\n"
        );
        Reply::new(status, "text/html; charset=utf-8", body)
    }

    pub(crate) fn found(location: &str) -> Reply {
        Reply::new(302, "", "").with_header("Location", location)
    }

    pub(crate) fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// RFC 6749 §5.1: answers that carry tokens must not be cached.
    pub(crate) fn no_store(self) -> Reply {
        self.with_header("Cache-Control", "no-store")
            .with_header("Pragma", "no-cache")
    }

    pub(crate) fn into_response(self) -> tiny_http::Response<Cursor<Vec<u8>>> {
        let mut response = tiny_http::Response::from_data(self.body).with_status_code(self.status);
        for (name, value) in &self.headers {
            // A control character would let a fault split the header block.
            if value.bytes().any(|b| b.is_ascii_control()) {
                continue;
            }
            if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(header);
            }
        }
        response
    }
}

impl From<Fault> for Reply {
    fn from(fault: Fault) -> Reply {
        let Fault {
            status,
            content_type,
            body,
            headers,
        } = fault;
        let mut reply = Reply::new(status, &content_type, body);
        reply.headers.extend(headers);
        reply
    }
}

/// Text made safe to place in an HTML page. A copy of the helper's own
/// (`grant::loopback`), so this crate needs nothing from credential-oauth.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_decoded() {
        // RFC 6749 §2.3.1: "a b" and "p:w%" encode as "a+b" and "p%3Aw%25".
        let encoded = STANDARD.encode("a+b:p%3Aw%25");
        let decoded = basic_credentials(&encoded);
        assert_eq!(decoded, Some(("a b".to_owned(), "p:w%".to_owned())));
    }

    #[test]
    fn malformed_basic_credentials_are_refused() {
        assert_eq!(basic_credentials("not base64!"), None);
        assert_eq!(basic_credentials(&STANDARD.encode("no-colon")), None);
        assert_eq!(basic_credentials(&STANDARD.encode("id:%zz")), None);
        assert_eq!(basic_credentials(&STANDARD.encode("id:%4")), None);
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let pairs = [("a", "1"), ("b", ""), ("a", "2")].map(|(n, v)| (n.into(), v.into()));
        assert!(Params::new(&pairs).is_err());
        let params = Params::new(&pairs[..2]).expect("no repeats");
        assert_eq!((params.get("a"), params.get("b")), (Some("1"), None));
    }
}
