//! JSON-RPC 2.0 as MCP's stdio transport frames it: one message per line,
//! UTF-8, no embedded newline (compact JSON escapes every one). A line is
//! a request (`method` and `id`), a notification (`method`, no `id`), a
//! response (`id`, no `method`), or a batch of them (a JSON array, which
//! older revisions allowed).

use serde_json::{Value, json};
use std::io::{self, BufRead};

/// Most bytes of one message, on stdin or from the server.
pub const MAX_MESSAGE: usize = 4 * 1024 * 1024;

/// JSON-RPC 2.0 §5.1: the server or the bridge could not answer.
pub const SERVER_ERROR: i64 = -32000;
/// JSON-RPC 2.0 §5.1: the line is not JSON.
pub const PARSE_ERROR: i64 = -32700;

/// One line from the client, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The message (or batch) as it came, to be sent on unchanged.
    pub value: Value,
    /// The ids of the requests in it, each to be answered.
    pub request_ids: Vec<Value>,
    /// The method of a single request or notification.
    pub method: Option<String>,
}

impl Line {
    /// Parse one line. `Err` is the JSON-RPC error answer to write back
    /// (a parse error has a null id).
    pub fn parse(text: &[u8]) -> Result<Line, Value> {
        let value: Value = serde_json::from_slice(text)
            .map_err(|_| error_response(&Value::Null, PARSE_ERROR, "Parse error: not JSON"))?;
        let members: Vec<&Value> = match &value {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        if members.is_empty() || !members.iter().all(|m| m.is_object()) {
            return Err(error_response(
                &Value::Null,
                -32600,
                "Invalid Request: not a JSON-RPC message",
            ));
        }
        let request_ids = members
            .iter()
            .filter(|m| m.get("method").is_some())
            .filter_map(|m| m.get("id").cloned())
            .collect();
        let method = match &value {
            Value::Object(o) => o.get("method").and_then(Value::as_str).map(str::to_string),
            _ => None,
        };
        Ok(Line {
            value,
            request_ids,
            method,
        })
    }

    /// `params` of a single message.
    pub fn params(&self) -> Option<&serde_json::Map<String, Value>> {
        self.value.get("params").and_then(Value::as_object)
    }
}

/// JSON-RPC 2.0 §5: an error answer to request `id`.
pub fn error_response(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// The messages of a JSON body: an object is one, an array several.
/// Anything else is no message.
pub fn messages_in(body: &[u8]) -> Option<Vec<Value>> {
    match serde_json::from_slice::<Value>(body).ok()? {
        Value::Array(items) if items.iter().all(Value::is_object) => Some(items),
        one @ Value::Object(_) => Some(vec![one]),
        _ => None,
    }
}

/// `value` as one line: compact JSON and a newline.
pub fn to_line(value: &Value) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
    line.push(b'\n');
    line
}

/// The next non-blank line without its ending (LF or CRLF); `None` at the
/// end of input. A line over `max` bytes is an error of kind
/// `FileTooLarge`, and the rest of it is skipped so the next line reads.
pub fn read_line(input: &mut impl BufRead, max: usize) -> io::Result<Option<Vec<u8>>> {
    loop {
        let mut line = Vec::new();
        let n = io::Read::take(&mut *input, max as u64 + 2).read_until(b'\n', &mut line)?;
        if n == 0 {
            return Ok(None);
        }
        let ended = line.last() == Some(&b'\n');
        if ended {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        if line.len() > max {
            if !ended {
                // Drop the rest of the over-long line.
                let mut rest = Vec::new();
                while input.read_until(b'\n', &mut rest)? > 0 && rest.last() != Some(&b'\n') {
                    rest.clear();
                }
            }
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!("a message is larger than {} KiB", max / 1024),
            ));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        return Ok(Some(line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_requests_notifications_responses_or_batches() {
        let req = Line::parse(br#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#).unwrap();
        assert_eq!(req.request_ids, [json!(7)]);
        assert_eq!(req.method.as_deref(), Some("tools/list"));
        let note =
            Line::parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap();
        assert!(note.request_ids.is_empty());
        let resp = Line::parse(br#"{"jsonrpc":"2.0","id":"s1","result":{}}"#).unwrap();
        assert!(resp.request_ids.is_empty() && resp.method.is_none());
        let batch = Line::parse(
            br#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","method":"b"},{"jsonrpc":"2.0","id":"x","method":"c"}]"#,
        )
        .unwrap();
        assert_eq!(batch.request_ids, [json!(1), json!("x")]);
        assert_eq!(batch.method, None);
    }

    #[test]
    fn bad_lines_get_the_json_rpc_error_with_a_null_id() {
        let e = Line::parse(b"{not json").unwrap_err();
        assert_eq!(e["error"]["code"], PARSE_ERROR);
        assert_eq!(e["id"], Value::Null);
        for bad in [&b"[]"[..], b"7", b"[1,2]", b"\"x\""] {
            assert_eq!(Line::parse(bad).unwrap_err()["error"]["code"], -32600);
        }
    }

    #[test]
    fn bodies_hold_one_message_or_a_batch() {
        assert_eq!(messages_in(br#"{"a":1}"#).unwrap(), [json!({"a":1})]);
        assert_eq!(messages_in(br#"[{"a":1},{"b":2}]"#).unwrap().len(), 2);
        assert!(messages_in(b"").is_none() && messages_in(b"[1]").is_none());
    }

    #[test]
    fn written_lines_are_compact_and_escape_newlines() {
        let line = to_line(&json!({"text": "a\nb\r\u{2028}"}));
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        assert!(line.ends_with(b"}\n"));
    }

    #[test]
    fn read_line_takes_lf_and_crlf_skips_blank_lines_and_bounds_each_line() {
        let mut input = io::Cursor::new(b"\n{\"a\":1}\r\n  \n{\"b\":2}".to_vec());
        assert_eq!(read_line(&mut input, 100).unwrap().unwrap(), b"{\"a\":1}");
        assert_eq!(read_line(&mut input, 100).unwrap().unwrap(), b"{\"b\":2}");
        assert!(read_line(&mut input, 100).unwrap().is_none());
        let mut long = vec![b'x'; 300];
        long.extend_from_slice(b"\n{\"c\":3}\n");
        let mut input = io::Cursor::new(long);
        let e = read_line(&mut input, 100).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(read_line(&mut input, 100).unwrap().unwrap(), b"{\"c\":3}");
        // Exactly at the bound is fine.
        let mut input = io::Cursor::new([vec![b'y'; 100], b"\n".to_vec()].concat());
        assert_eq!(read_line(&mut input, 100).unwrap().unwrap().len(), 100);
    }
}
