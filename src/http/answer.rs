//! What a server's answer means: a JSON document, an OAuth error (RFC 6749
//! §5.2, whatever the status), or a status and a printable reason; and
//! the `Date` a server sends.

use super::printable;
use crate::error::{Error, Result};

/// An IMF-fixdate (RFC 9110 §5.6.7, `Sun, 06 Nov 1994 08:49:37 GMT`) as
/// Unix seconds; the obsolete forms are not read.
pub fn parse_http_date(text: &str) -> Option<u64> {
    let mut parts = text.split_ascii_whitespace();
    let (_weekday, day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if zone != "GMT" || parts.next().is_some() || day.len() != 2 {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    crate::calendar::parse_utc(&format!("{year}-{month:02}-{day}T{time}Z"))
}

/// Turn a status and body into a JSON value or a clear error.
pub fn interpret(server: String, status: u16, body: &[u8]) -> Result<serde_json::Value> {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    // GitHub's token endpoint sends its errors (authorization_pending
    // included) with HTTP 200; an `error` and no `access_token` is an error
    // whatever the status.
    let is_error_body = |obj: &serde_json::Map<String, serde_json::Value>| {
        obj.get("error").is_some_and(|e| e.is_string()) && !obj.contains_key("access_token")
    };
    if (200..300).contains(&status) {
        return match json {
            Some(serde_json::Value::Object(obj)) if is_error_body(&obj) => {
                Err(oauth_error(server, status, &obj))
            }
            Some(v) if v.is_object() => Ok(v),
            _ => Err(Error::BadAnswer(format!(
                "{server}: HTTP {status} but the answer is not a JSON object{}",
                describe_body(body)
            ))),
        };
    }
    // RFC 6749 §5.2 error body, sent by most servers with 400 or 401.
    if let Some(obj) = json.as_ref().and_then(|v| v.as_object())
        && obj.get("error").is_some_and(|e| e.is_string())
    {
        return Err(oauth_error(server, status, obj));
    }
    let detail = match status {
        300..=399 => Some("redirects are not followed".to_string()),
        _ => {
            Some(describe_body(body).trim_start_matches(", ").to_string()).filter(|s| !s.is_empty())
        }
    };
    Err(Error::Status {
        server,
        status,
        detail,
    })
}

/// RFC 6749 §5.2: the error code and description, made printable.
fn oauth_error(
    server: String,
    status: u16,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Error {
    Error::OAuth {
        server,
        status,
        error: printable(obj.get("error").and_then(|e| e.as_str()).unwrap_or(""), 100),
        description: obj
            .get("error_description")
            .and_then(|d| d.as_str())
            .map(|d| printable(d, 300)),
    }
}

fn describe_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    let lower = text.trim_start().to_ascii_lowercase();
    if body.is_empty() {
        ", empty body".into()
    } else if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        ", an HTML page".into()
    } else {
        ", not JSON".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_are_read_in_the_imf_fixdate_form_only() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 CET"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date(""), None);
    }

    #[test]
    fn oauth_error_body_becomes_one_line() {
        let e = interpret(
            "https://a/token".into(),
            400,
            br#"{"error":"invalid_client","error_description":"bad\nsecret"}"#,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "https://a/token: invalid_client: bad secret");
        assert_eq!(e.oauth_code(), Some("invalid_client"));
    }

    #[test]
    fn an_error_body_sent_with_200_is_an_error() {
        let e = interpret(
            "s".into(),
            200,
            br#"{"error":"authorization_pending","error_description":"wait"}"#,
        )
        .unwrap_err();
        assert_eq!(e.oauth_code(), Some("authorization_pending"));
        assert!(interpret("s".into(), 200, br#"{"access_token":"a","error":"x"}"#).is_ok());
    }

    #[test]
    fn html_and_garbage_name_the_status() {
        let e = interpret("s".into(), 502, b"<!DOCTYPE html><p>oops</p>").unwrap_err();
        assert_eq!(e.to_string(), "s: HTTP 502: an HTML page");
        let e = interpret("s".into(), 200, b"{not json").unwrap_err();
        assert_eq!(
            e.to_string(),
            "s: HTTP 200 but the answer is not a JSON object, not JSON"
        );
        let e = interpret("s".into(), 302, b"").unwrap_err();
        assert_eq!(e.to_string(), "s: HTTP 302: redirects are not followed");
        assert!(interpret("s".into(), 200, br#"{"a":1}"#).is_ok());
    }
}
