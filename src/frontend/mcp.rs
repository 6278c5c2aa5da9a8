//! `credential-oauth mcp URL`: a bridge from MCP's stdio transport to its
//! Streamable HTTP transport, for clients that only launch stdio servers.
//!
//! Each line on stdin (one JSON-RPC message) is POSTed to URL on a thread
//! of its own, so a slow tool call never holds up a ping; every message
//! of the answer (a JSON body, or the `data:` of SSE events) is written
//! as one line on stdout, in the order it came. `Mcp-Session-Id` is kept
//! and `MCP-Protocol-Version` sent once `initialize` named it; a stream
//! the server offers on GET is relayed too; at the end of stdin the
//! session is DELETEd where the server gave one.
//!
//! Tokens come from [`super::resource::Access`], which only the main
//! thread touches (it may talk to a person): a request thread that meets a
//! 401 or a 403 `insufficient_scope` asks the main thread, waits, and
//! retries once. Nothing but JSON-RPC goes to stdout.
//!
//! A DPoP-bound token (`dpop = true`, RFC 9449) goes with a proof made for
//! each HTTP request (its method, the URL, the time, the token); the
//! server's `DPoP-Nonce` is kept and carried by the next proofs, and a
//! `use_dpop_nonce` refusal is answered by one retry with it (§9).

use super::resource::{Access, Credential, challenge_error};
use crate::context::Context;
use crate::error::Result;
use crate::http::Method;
use crate::http::stream::{ResourceHttp, Streaming};
use crate::protocol::jsonrpc::{self, Line};
use crate::protocol::sse;
use crate::secret::Secret;
use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use url::Url;

/// What every request sends as `Accept` (Streamable HTTP).
const ACCEPT: &str = "application/json, text/event-stream";
/// The `_meta` key of a request's protocol revision (MCP 2026-07-28, where
/// each request names it and the HTTP headers mirror it).
const PROTOCOL_VERSION_META: &str = "io.modelcontextprotocol/protocolVersion";
/// Most requests answered at once: each has a thread; more wait their turn.
const MAX_IN_FLIGHT: usize = 64;
/// Most bytes of a JSON answer (a batch may hold several messages).
const MAX_BODY: usize = 4 * jsonrpc::MAX_MESSAGE;

/// `mcp URL` as the process runs it: stdin and stdout of the process
/// itself, which the bridge's threads share.
pub fn run(url: &str, ctx: &Context) -> Result<()> {
    let access = Access::new(ctx, url)?;
    let http = ResourceHttp::new(&access.transport())?;
    bridge(
        access,
        http,
        std::io::BufReader::new(std::io::stdin()),
        Box::new(std::io::stdout()),
    )
}

/// What the threads share.
struct Shared {
    url: Url,
    http: ResourceHttp,
    out: Mutex<Box<dyn Write + Send>>,
    session: Mutex<Option<String>>,
    protocol_version: Mutex<Option<String>>,
    token: Mutex<Option<Credential>>,
    /// The nonce the server asks DPoP proofs to carry (RFC 9449 §9).
    dpop_nonce: Mutex<Option<String>>,
    /// A GET stream was tried already.
    listening: Mutex<bool>,
}

/// What the main thread hears.
enum Event {
    Line(Vec<u8>),
    InputError(String),
    Eof,
    /// A request thread needs a (new) token; the answer goes to `reply`.
    Auth {
        refusal: Refusal,
        presented: Option<Secret>,
        reply: Sender<std::result::Result<(), String>>,
    },
    /// A request thread is done; `true` for `initialize`.
    Done(bool),
}

enum Refusal {
    Unauthorized(Vec<String>),
    InsufficientScope(Vec<String>),
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The bridge over any input and output: the main thread keeps the token
/// (and the person), a thread reads the input, one thread per message talks
/// to the server. Returns at the end of input once every answer is out.
pub fn bridge(
    mut access: Access,
    http: ResourceHttp,
    input: impl BufRead + Send + 'static,
    output: Box<dyn Write + Send>,
) -> Result<()> {
    // A cached token goes with the first request; none is sought yet
    // (the server's 401 says where, and whether one is needed at all).
    let token = match access.token() {
        Ok(t) => t,
        Err(e) => {
            crate::debug!("no token yet: {e}");
            None
        }
    };
    let shared = Arc::new(Shared {
        url: access.url().clone(),
        http,
        out: Mutex::new(output),
        session: Mutex::new(None),
        protocol_version: Mutex::new(None),
        token: Mutex::new(token),
        dpop_nonce: Mutex::new(None),
        listening: Mutex::new(false),
    });
    let (tx, rx) = mpsc::channel();
    read_input(input, tx.clone());
    serve(&mut access, &shared, &tx, rx);
    end_session(&shared);
    Ok(())
}

/// Lines from `input` as events, on a thread of its own (it may block on
/// the input for ever; the process ends without it).
fn read_input(mut input: impl BufRead + Send + 'static, tx: Sender<Event>) {
    std::thread::spawn(move || {
        loop {
            let event = match jsonrpc::read_line(&mut input, jsonrpc::MAX_MESSAGE) {
                Ok(Some(line)) => Event::Line(line),
                Ok(None) => Event::Eof,
                Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
                    Event::InputError(e.to_string())
                }
                Err(_) => Event::Eof,
            };
            let end = matches!(event, Event::Eof);
            if tx.send(event).is_err() || end {
                break;
            }
        }
    });
}

/// The main thread: start a request thread per message, answer their
/// token needs, until the input ended and every request is answered.
fn serve(access: &mut Access, shared: &Arc<Shared>, tx: &Sender<Event>, rx: Receiver<Event>) {
    let mut in_flight = 0usize;
    let mut ended = false;
    // Messages wait while `initialize` is unanswered (they need the
    // session it starts), and while MAX_IN_FLIGHT are being answered.
    let mut initializing = false;
    let mut waiting: VecDeque<Line> = VecDeque::new();
    let start = |line: Line| {
        let (shared, tx) = (Arc::clone(shared), tx.clone());
        std::thread::spawn(move || {
            deliver(&shared, &line, &tx);
            let _ = tx.send(Event::Done(line.method.as_deref() == Some("initialize")));
        });
    };
    while !(ended && in_flight == 0 && waiting.is_empty()) {
        let Ok(event) = rx.recv() else { break };
        match event {
            Event::Line(bytes) => match Line::parse(&bytes) {
                Ok(line) => waiting.push_back(line),
                Err(answer) => write_message(shared, &answer),
            },
            Event::InputError(e) => write_message(
                shared,
                &jsonrpc::error_response(&Value::Null, -32600, &format!("Invalid Request: {e}")),
            ),
            Event::Eof => ended = true,
            Event::Done(initialize) => {
                in_flight -= 1;
                initializing &= !initialize;
            }
            Event::Auth {
                refusal,
                presented,
                reply,
            } => {
                let answer = renew(access, shared, refusal, presented);
                let _ = reply.send(answer.map_err(|e| e.to_string()));
            }
        }
        while !initializing && in_flight < MAX_IN_FLIGHT {
            let Some(line) = waiting.pop_front() else {
                break;
            };
            initializing = line.method.as_deref() == Some("initialize");
            in_flight += 1;
            start(line);
        }
    }
}

/// A new token after a refusal. A refusal of a token already replaced
/// (another request met it first) is answered with the current one.
fn renew(
    access: &mut Access,
    shared: &Shared,
    refusal: Refusal,
    presented: Option<Secret>,
) -> Result<()> {
    let current = lock(&shared.token).as_ref().map(|c| c.token().clone());
    if current.is_some() && current != presented {
        return Ok(());
    }
    let token = match refusal {
        Refusal::Unauthorized(wwwauth) => access.unauthorized(&wwwauth, presented.as_ref())?,
        Refusal::InsufficientScope(wwwauth) => access.insufficient_scope(&wwwauth)?,
    };
    *lock(&shared.token) = Some(token);
    Ok(())
}

/// One message to the server and its answer to the client; a 401 or a
/// 403 `insufficient_scope` gets one new token and one retry each.
fn deliver(shared: &Arc<Shared>, line: &Line, tx: &Sender<Event>) {
    let body = serde_json::to_vec(&line.value).unwrap_or_default();
    let (mut renewed, mut stepped_up, mut nonce_given) = (false, false, false);
    loop {
        let token = lock(&shared.token).clone();
        let answer = match shared.http.send(
            Method::Post,
            &shared.url,
            headers(shared, line, token.as_ref()),
            body.clone(),
        ) {
            Ok(a) => a,
            Err(e) => return fail(shared, line, &e.to_string()),
        };
        let new_nonce = note_nonce(shared, &answer);
        let wwwauth = answer.all("www-authenticate");
        // RFC 9449 §9: the proof lacked the server's nonce, which came
        // with the refusal: once more, with it. Not a refused token.
        if answer.status == 401
            && matches!(token, Some(Credential::Dpop { .. }))
            && challenge_error(&wwwauth, "use_dpop_nonce")
            && new_nonce
            && !nonce_given
        {
            crate::debug!("the server asks for its DPoP nonce; sending the request again");
            nonce_given = true;
            continue;
        }
        let refusal = match answer.status {
            401 if !renewed => {
                renewed = true;
                Refusal::Unauthorized(wwwauth)
            }
            403 if !stepped_up && challenge_error(&wwwauth, "insufficient_scope") => {
                stepped_up = true;
                Refusal::InsufficientScope(wwwauth)
            }
            _ => return relay(shared, line, answer),
        };
        drop(answer);
        let (reply, wait) = mpsc::channel();
        let asked = tx.send(Event::Auth {
            refusal,
            presented: token.map(|c| c.token().clone()),
            reply,
        });
        match (asked, wait.recv()) {
            (Ok(()), Ok(Ok(()))) => continue,
            (_, Ok(Err(why))) => return fail(shared, line, &why),
            _ => return fail(shared, line, "the bridge is stopping"),
        }
    }
}

/// The headers of a POST of `line`.
fn headers(
    shared: &Shared,
    line: &Line,
    token: Option<&Credential>,
) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("Content-Type", "application/json".to_string()),
        ("Accept", ACCEPT.to_string()),
    ];
    h.extend(common_headers(shared, "POST", token));
    let initialize = line.method.as_deref() == Some("initialize");
    // MCP 2026-07-28: a request names its revision in `_meta`, and the
    // headers mirror it with its method and, for tools/call, prompts/get
    // and resources/read, what it names.
    let meta_version = line
        .params()
        .and_then(|p| p.get("_meta"))
        .and_then(|m| m.get(PROTOCOL_VERSION_META))
        .and_then(Value::as_str)
        .filter(|v| header_safe(v));
    if let Some(version) = meta_version {
        h.retain(|(n, _)| *n != "MCP-Protocol-Version");
        h.push(("MCP-Protocol-Version", version.to_string()));
        if let Some(method) = line.method.as_deref().filter(|m| header_safe(m)) {
            h.push(("Mcp-Method", method.to_string()));
            let named = match method {
                "tools/call" | "prompts/get" => Some("name"),
                "resources/read" => Some("uri"),
                _ => None,
            };
            if let Some(name) = named
                .and_then(|k| line.params()?.get(k)?.as_str())
                .filter(|v| header_safe(v))
            {
                h.push(("Mcp-Name", name.to_string()));
            }
        }
    } else if initialize {
        h.retain(|(n, _)| *n != "MCP-Protocol-Version");
    }
    h
}

/// Authorization (with a DPoP proof for this request, `method` to the
/// server's URL), session and protocol version: what every request of
/// the session carries.
fn common_headers(
    shared: &Shared,
    method: &str,
    token: Option<&Credential>,
) -> Vec<(&'static str, String)> {
    let mut h = Vec::new();
    if let Some(t) = token {
        let nonce = lock(&shared.dpop_nonce).clone();
        match t.headers(method, &shared.url, nonce.as_deref()) {
            Ok(auth) => h.extend(auth),
            Err(e) => crate::debug!("no Authorization: {e}"),
        }
    }
    if let Some(id) = lock(&shared.session).as_ref() {
        h.push(("Mcp-Session-Id", id.clone()));
    }
    if let Some(v) = lock(&shared.protocol_version).as_ref() {
        h.push(("MCP-Protocol-Version", v.clone()));
    }
    h
}

/// Keep the `DPoP-Nonce` an answer carries (RFC 9449 §9: the server may
/// send a new one with any answer) for the next proofs; `true` when it is
/// new. Only a nonce: 1*NQCHAR (§8.1), and short.
fn note_nonce(shared: &Shared, answer: &Streaming) -> bool {
    let nqchar = |b: u8| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E);
    let Some(nonce) = answer
        .header("dpop-nonce")
        .filter(|n| !n.is_empty() && n.len() <= 1024 && n.bytes().all(nqchar))
    else {
        return false;
    };
    let mut kept = lock(&shared.dpop_nonce);
    if kept.as_deref() == Some(nonce) {
        return false;
    }
    *kept = Some(nonce.to_string());
    true
}

/// Visible ASCII only: what a server hands us goes into headers only then.
fn header_safe(v: &str) -> bool {
    !v.is_empty() && v.len() <= 1024 && v.bytes().all(|b| (0x20..0x7f).contains(&b))
}

/// The server's answer to `line`, to the client.
fn relay(shared: &Arc<Shared>, line: &Line, answer: Streaming) {
    if let Some(id) = answer.header("mcp-session-id").filter(|v| header_safe(v)) {
        let mut session = lock(&shared.session);
        if session.as_deref() != Some(id) {
            crate::debug!("session started");
            *session = Some(id.to_string());
        }
    }
    let status = answer.status;
    let media = answer.media_type();
    let mut unanswered = line.request_ids.clone();
    let mut take = |message: Value| {
        note_initialized(shared, line, &message);
        if let Some(id) = message.get("id")
            && (message.get("result").is_some() || message.get("error").is_some())
        {
            unanswered.retain(|u| u != id);
        }
        write_message(shared, &message);
    };
    if (200..300).contains(&status) && media == "text/event-stream" {
        let mut events = sse::Reader::new(answer.body, jsonrpc::MAX_MESSAGE);
        loop {
            match events.next_event() {
                Ok(Some(e)) if e.is_message() => match serde_json::from_str::<Value>(&e.data) {
                    Ok(message) if message.is_object() => take(message),
                    _ => crate::debug!("an event that is no JSON-RPC message; skipped"),
                },
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(e) => {
                    crate::debug!("the event stream broke: {e}");
                    break;
                }
            }
        }
    } else if status != 202 && status != 204 {
        let body = answer.read_body(MAX_BODY).unwrap_or_default();
        match jsonrpc::messages_in(&body) {
            Some(messages) if messages.iter().any(|m| m.get("jsonrpc").is_some()) => {
                messages.into_iter().for_each(&mut take)
            }
            _ if (200..300).contains(&status) => {}
            _ => {
                let said = refusal_text(shared, status, &body);
                for id in &unanswered {
                    write_message(
                        shared,
                        &jsonrpc::error_response(id, jsonrpc::SERVER_ERROR, &said),
                    );
                }
                unanswered.clear();
            }
        }
    }
    for id in &unanswered {
        let said = format!(
            "{} ended the answer without a response",
            shared.url.origin().ascii_serialization()
        );
        write_message(
            shared,
            &jsonrpc::error_response(id, jsonrpc::SERVER_ERROR, &said),
        );
    }
    if line.method.as_deref() == Some("notifications/initialized") && (200..300).contains(&status) {
        listen(shared);
    }
}

/// What a client is told of a refusal that was no JSON-RPC answer.
fn refusal_text(shared: &Shared, status: u16, body: &[u8]) -> String {
    let server = crate::http::origin(&shared.url);
    let oauth = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        v.get("error")
            .and_then(Value::as_str)
            .map(|e| crate::http::printable(e, 100))
    });
    match oauth {
        Some(code) => format!("{server}: HTTP {status}: {code}"),
        None => format!("{server}: HTTP {status}"),
    }
}

/// `initialize`'s answer names the protocol revision later requests carry.
fn note_initialized(shared: &Shared, line: &Line, message: &Value) {
    if line.method.as_deref() != Some("initialize") {
        return;
    }
    if let Some(v) = message
        .get("result")
        .and_then(|r| r.get("protocolVersion"))
        .and_then(Value::as_str)
        .filter(|v| header_safe(v))
    {
        *lock(&shared.protocol_version) = Some(v.to_string());
    }
}

/// A request the bridge could not get answered: a JSON-RPC error for each
/// of its ids (a notification gets nothing), and the bridge goes on.
fn fail(shared: &Shared, line: &Line, why: &str) {
    crate::debug!("{why}");
    let message = format!("credential-oauth: {why}");
    for id in &line.request_ids {
        write_message(
            shared,
            &jsonrpc::error_response(id, jsonrpc::SERVER_ERROR, &message),
        );
    }
}

fn write_message(shared: &Shared, message: &Value) {
    let mut out = lock(&shared.out);
    let _ = out
        .write_all(&jsonrpc::to_line(message))
        .and_then(|()| out.flush());
}

/// The server-to-client stream (GET), where the server offers one, relayed
/// on a thread of its own until it ends or the process does.
fn listen(shared: &Arc<Shared>) {
    {
        let mut listening = lock(&shared.listening);
        if *listening || lock(&shared.session).is_none() {
            return;
        }
        *listening = true;
    }
    let shared = Arc::clone(shared);
    // Not waited for: the end of input ends the bridge, stream or not.
    std::thread::spawn(move || {
        let token = lock(&shared.token).clone();
        let mut headers = vec![("Accept", "text/event-stream".to_string())];
        headers.extend(common_headers(&shared, "GET", token.as_ref()));
        let answer = match shared
            .http
            .send(Method::Get, &shared.url, headers, Vec::new())
        {
            Ok(a) => a,
            Err(e) => return crate::debug!("no server-to-client stream: {e}"),
        };
        if answer.status != 200 || answer.media_type() != "text/event-stream" {
            return crate::debug!("no server-to-client stream (HTTP {})", answer.status);
        }
        let mut events = sse::Reader::new(answer.body, jsonrpc::MAX_MESSAGE);
        while let Ok(Some(e)) = events.next_event() {
            if let Ok(message) = serde_json::from_str::<Value>(&e.data)
                && e.is_message()
                && message.is_object()
            {
                write_message(&shared, &message);
            }
        }
    });
}

/// At the end of input: DELETE the session the server gave (a server that
/// does not allow it answers 405, which is fine).
fn end_session(shared: &Shared) {
    let Some(_) = lock(&shared.session).clone() else {
        return;
    };
    let token = lock(&shared.token).clone();
    match shared.http.send(
        Method::Delete,
        &shared.url,
        common_headers(shared, "DELETE", token.as_ref()),
        Vec::new(),
    ) {
        Ok(a) => crate::debug!("session ended (HTTP {})", a.status),
        Err(e) => crate::debug!("session not ended: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn shared() -> Shared {
        let refuse = |_: crate::http::HttpRequest| -> Result<Streaming> {
            Err(Error::Local("no network in unit tests".into()))
        };
        Shared {
            url: Url::parse("https://mcp.example/mcp").unwrap(),
            http: ResourceHttp::with_client(refuse, false),
            out: Mutex::new(Box::new(Vec::new())),
            session: Mutex::new(Some("s-1".into())),
            protocol_version: Mutex::new(Some("2025-06-18".into())),
            token: Mutex::new(None),
            dpop_nonce: Mutex::new(None),
            listening: Mutex::new(false),
        }
    }

    fn sent(line: &str, token: Option<&str>) -> Vec<(&'static str, String)> {
        let line = Line::parse(line.as_bytes()).unwrap();
        let token = token.map(|t| Credential::Bearer(Secret::new(t)));
        headers(&shared(), &line, token.as_ref())
    }

    fn get<'a>(h: &'a [(&'static str, String)], name: &str) -> Option<&'a str> {
        h.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn a_request_carries_the_session_the_version_and_the_token() {
        let h = sent(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, Some("tok"));
        assert_eq!(get(&h, "Accept"), Some(ACCEPT));
        assert_eq!(get(&h, "Content-Type"), Some("application/json"));
        assert_eq!(get(&h, "Authorization"), Some("Bearer tok"));
        assert_eq!(get(&h, "Mcp-Session-Id"), Some("s-1"));
        assert_eq!(get(&h, "MCP-Protocol-Version"), Some("2025-06-18"));
        let init = sent(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#,
            None,
        );
        assert_eq!(
            get(&init, "MCP-Protocol-Version"),
            None,
            "initialize negotiates it"
        );
        assert_eq!(get(&init, "Authorization"), None);
    }

    /// RFC 9449 §7.1, §9: a DPoP-bound token goes as `DPoP`, with a proof
    /// for each request's own method and the server's nonce.
    #[test]
    fn a_bound_token_goes_with_a_proof_per_request_carrying_the_servers_nonce() {
        use base64::Engine;
        let claims = |jwt: &str| -> Value {
            let part = jwt.split('.').nth(1).unwrap();
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(part)
                .unwrap();
            serde_json::from_slice(&bytes).unwrap()
        };
        let shared = shared();
        *lock(&shared.dpop_nonce) = Some("n-1".into());
        let token = Credential::Dpop {
            token: Secret::new("at-1"),
            key: Arc::new(crate::grant::dpop::Key::generate().unwrap()),
        };
        let line = Line::parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap();
        let post = headers(&shared, &line, Some(&token));
        assert_eq!(get(&post, "Authorization"), Some("DPoP at-1"));
        let posted = claims(get(&post, "DPoP").unwrap());
        assert_eq!(posted["htm"], "POST");
        assert_eq!(posted["htu"], "https://mcp.example/mcp");
        assert_eq!(posted["nonce"], "n-1");
        assert_eq!(
            posted["ath"],
            crate::grant::dpop::ath(&Secret::new("at-1")).as_str()
        );
        let stream = common_headers(&shared, "GET", Some(&token));
        let got = claims(get(&stream, "DPoP").unwrap());
        assert_eq!(got["htm"], "GET");
        assert_ne!(got["jti"], posted["jti"]);
    }

    #[test]
    fn a_request_with_the_meta_envelope_has_it_mirrored_in_headers() {
        let h = sent(
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
            None,
        );
        assert_eq!(get(&h, "MCP-Protocol-Version"), Some("2026-07-28"));
        assert_eq!(
            h.iter()
                .filter(|(n, _)| *n == "MCP-Protocol-Version")
                .count(),
            1
        );
        assert_eq!(get(&h, "Mcp-Method"), Some("tools/call"));
        assert_eq!(get(&h, "Mcp-Name"), Some("echo"));
        let read = sent(
            r#"{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"file:///a","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#,
            None,
        );
        assert_eq!(get(&read, "Mcp-Name"), Some("file:///a"));
    }

    #[test]
    fn values_that_could_split_a_header_are_never_sent() {
        let h = sent(
            "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"a\\r\\nX-Evil: 1\",\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\\r\\nX: y\"}}}",
            None,
        );
        assert!(
            h.iter()
                .all(|(_, v)| !v.contains('\r') && !v.contains('\n')),
            "{h:?}"
        );
        assert_eq!(get(&h, "Mcp-Name"), None);
        assert_eq!(get(&h, "MCP-Protocol-Version"), Some("2025-06-18"));
        assert!(!header_safe("é") && !header_safe("") && header_safe("2025-06-18"));
    }
}
