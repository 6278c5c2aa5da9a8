//! The one-shot loopback redirect listener of RFC 8252 §7.3: it listens on
//! the host and port of `redirect_uri` (loopback only), answers the browser's
//! redirect with a small page, and hands the authorization code back.
//!
//! Stray requests (a favicon, another path) and redirects whose `state` does
//! not match (a stale tab, or a forged request) are answered and ignored: they
//! must neither end the login nor be believed (RFC 6749 §10.12).

use crate::error::{Error, Result};
use crate::prompt::Prompt;
use crate::secret::Secret;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use url::{Host, Url};

/// Longest request target (path and query) looked at; a real redirect is a
/// few hundred bytes.
pub const MAX_QUERY: usize = 8 * 1024;

/// What the authorization server sent back (RFC 6749 §4.1.2, §4.1.2.1),
/// with the issuer it names (RFC 9207 `iss`) when it names one.
#[derive(Debug)]
pub enum Callback {
    Code {
        code: Secret,
        state: Option<String>,
        iss: Option<String>,
    },
    Error {
        error: String,
        description: Option<String>,
        state: Option<String>,
        iss: Option<String>,
    },
    /// Neither a code nor an error, or a parameter repeated.
    Malformed,
}

/// Parse the query of a redirect. Repeated parameters are refused (RFC 6749 §3.1).
pub fn parse_callback(query: &str) -> Callback {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let mut seen = Vec::new();
    for (k, _) in &pairs {
        if matches!(
            k.as_str(),
            "code" | "state" | "error" | "error_description" | "iss"
        ) {
            if seen.contains(&k.as_str()) {
                return Callback::Malformed;
            }
            seen.push(k.as_str());
        }
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    let state = get("state");
    let iss = get("iss");
    if let Some(error) = get("error") {
        return Callback::Error {
            error: crate::http::printable(&error, 100),
            description: get("error_description").map(|d| crate::http::printable(&d, 300)),
            state,
            iss,
        };
    }
    match get("code") {
        Some(code) => Callback::Code {
            code: Secret::new(code),
            state,
            iss,
        },
        None => Callback::Malformed,
    }
}

/// The authorization server a login started at, as RFC 9207 checks it: a
/// response naming another issuer was steered here by a mix-up (RFC 9700
/// §4.4), and one naming none is refused where the server announced that it
/// always names itself (`authorization_response_iss_parameter_supported`).
#[derive(Debug, Clone)]
pub struct ExpectedIssuer {
    pub issuer: String,
    pub required: bool,
}

impl ExpectedIssuer {
    /// `None` when `iss` is acceptable, else why not.
    fn refuses(&self, iss: Option<&str>) -> Option<String> {
        let expected = &self.issuer;
        match iss {
            // RFC 9207 §2.4 compares strings; one trailing slash is spelling,
            // as in the metadata check of RFC 8414 §3.3.
            Some(i) if i.trim_end_matches('/') == expected.trim_end_matches('/') => None,
            Some(i) => Some(format!(
                "the authorization response comes from issuer {:?}, not from {expected:?}, \
                 where this login started (RFC 9207); refused",
                crate::http::printable(i, 200)
            )),
            None if self.required => Some(format!(
                "the authorization response names no issuer although {expected:?} announces \
                 that it always does (RFC 9207); refused"
            )),
            None => None,
        }
    }
}

/// What one redirect means for the login.
#[derive(Debug)]
pub enum Step {
    /// Keep waiting; tell the browser why this request was refused.
    Ignore(&'static str),
    /// The login is over: with a code, or with the server's refusal.
    Finish(Result<Secret>),
}

/// RFC 6749 §4.1.2 and §10.12: only a redirect carrying our `state` counts,
/// compared in constant time; RFC 9207: and only from our issuer.
pub fn judge(callback: Callback, state: &Secret, issuer: &ExpectedIssuer) -> Step {
    let ours = |s: &Option<String>| s.as_deref().is_some_and(|s| state.constant_time_eq(s));
    match callback {
        Callback::Malformed => Step::Ignore("the redirect carries neither a code nor an error"),
        Callback::Code { state: s, .. } | Callback::Error { state: s, .. } if !ours(&s) => {
            Step::Ignore("the state does not match this login (a stale tab, or a forged request)")
        }
        Callback::Code { iss, .. } | Callback::Error { iss, .. }
            if issuer.refuses(iss.as_deref()).is_some() =>
        {
            let why = issuer.refuses(iss.as_deref()).unwrap_or_default();
            Step::Finish(Err(Error::Login(why)))
        }
        Callback::Code { code, .. } => Step::Finish(Ok(code)),
        Callback::Error {
            error, description, ..
        } => {
            let detail = description.map(|d| format!(": {d}")).unwrap_or_default();
            let message = if error == "access_denied" {
                format!("the login was denied in the browser (access_denied{detail})")
            } else {
                format!("the authorization server refused the login: {error}{detail}")
            };
            Step::Finish(Err(Error::Login(message)))
        }
    }
}

pub struct Listener {
    socket: TcpListener,
    redirect_uri: Url,
    path: String,
    about: About,
}

/// Whose login the pages the browser lands on are about.
#[derive(Debug, Clone, Default)]
pub struct About {
    /// The provider's name, as the person knows it.
    pub provider: String,
    /// The account asked for, or empty.
    pub account: String,
    /// The URL `credential-oauth login` takes to try again.
    pub url: String,
}

/// Most connections held open at once; the oldest goes when another comes.
const MAX_CONNECTIONS: usize = 64;
/// Longest request head (request line and headers) read from a connection.
const MAX_HEAD: usize = MAX_QUERY + 4 * 1024;
/// A connection that has not sent a whole request head by then is dropped.
const CONNECTION_IDLE: Duration = Duration::from_secs(10);
/// How long the wait sleeps when no connection had anything to say.
const TICK: Duration = Duration::from_millis(10);

/// A browser connection whose request head is still arriving.
struct Connection {
    stream: TcpStream,
    head: Vec<u8>,
    since: Instant,
}

impl Listener {
    /// Listen on the host and port of `configured` (port 0: any free port,
    /// which then goes into [`Listener::redirect_uri`]). `localhost` is
    /// served on 127.0.0.1 (RFC 8252 §8.3).
    pub fn bind(configured: &Url) -> Result<Listener> {
        let ip = match configured.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(d)) if d.eq_ignore_ascii_case("localhost") => {
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            }
            _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        };
        if !ip.is_loopback() {
            return Err(Error::Login(format!(
                "redirect_uri {} is not a loopback address",
                crate::http::origin(configured)
            )));
        }
        let port = configured.port_or_known_default().unwrap_or(80);
        let socket = TcpListener::bind((ip, port)).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                Error::Login(format!(
                    "cannot listen for the login redirect on {ip}:{port}: port {port} is busy \
                     (another login running?); set redirect_uri to another port, or port 0 for any free one"
                ))
            } else {
                Error::Login(format!("cannot listen on {ip}:{port} for the login redirect: {e}"))
            }
        })?;
        let actual = socket
            .local_addr()
            .map_err(|e| Error::Login(format!("cannot listen on {ip}:{port}: {e}")))?
            .port();
        let mut redirect_uri = configured.clone();
        if port == 0 && redirect_uri.set_port(Some(actual)).is_err() {
            return Err(Error::Login(format!(
                "redirect_uri {} cannot carry a port",
                crate::http::origin(configured)
            )));
        }
        // One thread serves every connection without blocking on any of
        // them, so a connection that never finishes its request (slowloris)
        // costs a slot and a bounded buffer, never the login.
        socket
            .set_nonblocking(true)
            .map_err(|e| Error::Login(format!("cannot serve on {ip}:{actual}: {e}")))?;
        let path = redirect_uri.path().to_string();
        Ok(Listener {
            socket,
            redirect_uri,
            path,
            about: About::default(),
        })
    }

    /// Name the provider and account on the pages the browser is shown.
    pub fn set_about(&mut self, about: About) {
        self.about = about;
    }

    /// The redirect URI to send, with the port actually listened on.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// Wait up to `timeout` for the redirect that carries `state`, or for the
    /// same URL pasted on `pasted` (a line read from the terminal).
    pub fn wait(
        &self,
        state: &Secret,
        issuer: &ExpectedIssuer,
        timeout: Duration,
        pasted: Option<&Receiver<String>>,
        prompt: &dyn Prompt,
    ) -> Result<Secret> {
        let deadline = Instant::now() + timeout;
        let mut connections: Vec<Connection> = Vec::new();
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Login(format!(
                    "no answer from the browser within {} s; the login timed out \
                     (login_timeout in the config sets how long to wait)",
                    timeout.as_secs()
                )));
            }
            if let Some(rx) = pasted {
                while let Ok(line) = rx.try_recv() {
                    if let Some(done) = self.pasted(&line, state, issuer, prompt) {
                        return done;
                    }
                }
            }
            let mut busy = self.accept(&mut connections);
            let mut i = 0;
            while i < connections.len() {
                match read_some(&mut connections[i]) {
                    Progress::Waiting => i += 1,
                    Progress::Read => {
                        busy = true;
                        i += 1;
                    }
                    Progress::Gone => {
                        connections.swap_remove(i);
                    }
                    Progress::Head(head) => {
                        busy = true;
                        let connection = connections.swap_remove(i);
                        if let Some(done) = self.answer(connection.stream, &head, state, issuer) {
                            return done;
                        }
                    }
                }
            }
            if !busy {
                std::thread::sleep(TICK.min(deadline.saturating_duration_since(now)));
            }
        }
    }

    /// Take every pending connection; `true` when there was one.
    fn accept(&self, connections: &mut Vec<Connection>) -> bool {
        let mut any = false;
        while let Ok((stream, _)) = self.socket.accept() {
            any = true;
            if stream.set_nonblocking(true).is_err() {
                continue;
            }
            if connections.len() >= MAX_CONNECTIONS {
                connections.remove(0);
            }
            connections.push(Connection {
                stream,
                head: Vec::new(),
                since: Instant::now(),
            });
        }
        any
    }

    /// Handle one request head; `Some` ends the wait.
    fn answer(
        &self,
        stream: TcpStream,
        head: &[u8],
        state: &Secret,
        issuer: &ExpectedIssuer,
    ) -> Option<Result<Secret>> {
        let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let line = String::from_utf8_lossy(line);
        let mut words = line.trim_end().split(' ');
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        if target.len() > MAX_QUERY {
            respond(stream, 414, &Page::plain("The address is too long."));
            return None;
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if method != "GET" || path != self.path {
            crate::debug!("redirect listener: ignoring a request for another path");
            respond(stream, 404, &Page::plain("Nothing is served here."));
            return None;
        }
        let about = &self.about;
        let provider = if about.provider.is_empty() {
            "the provider"
        } else {
            &about.provider
        };
        let retry = format!("credential-oauth login {}", about.url);
        match judge(parse_callback(query), state, issuer) {
            Step::Ignore(why) => {
                crate::debug!("redirect listener: ignoring a redirect: {why}");
                let page = Page {
                    ok: false,
                    heading: "Not the login in progress".into(),
                    lines: vec![
                        format!("This tab was refused: {why}."),
                        format!(
                            "The login to {provider} is still waiting: finish it in the tab \
                             credential-oauth opened, or run in a terminal:"
                        ),
                    ],
                    command: Some(retry),
                };
                respond(stream, 400, &page);
                None
            }
            Step::Finish(Ok(code)) => {
                let mut lines = Vec::new();
                if !about.account.is_empty() {
                    lines.push(format!("Account: {}", about.account));
                }
                lines.push(
                    "credential-oauth received the authorization. You can close this tab \
                     and return to the terminal."
                        .into(),
                );
                let page = Page {
                    ok: true,
                    heading: format!("Logged in to {provider}"),
                    lines,
                    command: None,
                };
                respond(stream, 200, &page);
                Some(Ok(code))
            }
            Step::Finish(Err(e)) => {
                let mut lines = vec![sentence(&format!("{e}."))];
                if !about.account.is_empty() {
                    lines.push(format!("Account: {}", about.account));
                }
                lines.push("You can close this tab. To try again, run in a terminal:".into());
                let page = Page {
                    ok: false,
                    heading: format!("The login to {provider} failed"),
                    lines,
                    command: Some(retry),
                };
                respond(stream, 400, &page);
                Some(Err(e))
            }
        }
    }

    /// A URL pasted on the terminal, held to the same checks as a redirect.
    fn pasted(
        &self,
        line: &str,
        state: &Secret,
        issuer: &ExpectedIssuer,
        prompt: &dyn Prompt,
    ) -> Option<Result<Secret>> {
        let line = line.trim();
        if line.is_empty() {
            return None;
        }
        let query = match Url::parse(line) {
            Ok(u) if u.path() == self.path => u.query().unwrap_or("").to_string(),
            _ => {
                prompt.say(&format!(
                    "credential-oauth: that is not the address the browser was sent back to \
                     ({}...); try again",
                    self.redirect_uri
                ));
                return None;
            }
        };
        match judge(parse_callback(&query), state, issuer) {
            Step::Ignore(why) => {
                prompt.say(&format!("credential-oauth: not accepted: {why}; try again"));
                None
            }
            Step::Finish(done) => Some(done),
        }
    }
}

/// What reading from a connection brought.
enum Progress {
    /// Nothing yet.
    Waiting,
    /// More of the head, not all of it.
    Read,
    /// The whole request head.
    Head(Vec<u8>),
    /// Closed, broken, too long or too slow: dropped.
    Gone,
}

fn read_some(connection: &mut Connection) -> Progress {
    let mut chunk = [0u8; 2048];
    match connection.stream.read(&mut chunk) {
        Ok(0) => Progress::Gone,
        Ok(n) => {
            connection.head.extend_from_slice(&chunk[..n]);
            if let Some(end) = end_of_head(&connection.head) {
                connection.head.truncate(end);
                Progress::Head(std::mem::take(&mut connection.head))
            } else if connection.head.len() > MAX_HEAD {
                let stream = connection.stream.try_clone();
                if let Ok(stream) = stream {
                    respond(stream, 431, &Page::plain("The request is too large."));
                }
                Progress::Gone
            } else {
                Progress::Read
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
            if connection.since.elapsed() > CONNECTION_IDLE {
                Progress::Gone
            } else {
                Progress::Waiting
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Progress::Waiting,
        Err(_) => Progress::Gone,
    }
}

/// Where the request head ends: the first empty line.
fn end_of_head(buf: &[u8]) -> Option<usize> {
    buf.windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| buf.windows(2).position(|w| w == b"\n\n"))
}

/// A page for the browser: a heading, a few lines, a command to run. All
/// text, escaped; the page is whole in itself (inline CSS, no script, no
/// other resource), which its Content-Security-Policy holds it to.
struct Page {
    ok: bool,
    heading: String,
    lines: Vec<String>,
    command: Option<String>,
}

/// The look of every page: a card in the middle, light or dark as the
/// browser prefers.
const STYLE: &str = "body{margin:0;min-height:100vh;display:flex;align-items:center;\
justify-content:center;background:#f3f4f6;color:#1f2328;font:16px/1.5 system-ui,sans-serif}\
main{max-width:30rem;margin:1rem;padding:2rem 2.25rem;background:#fff;border-radius:12px;\
box-shadow:0 1px 4px #0002}\
.mark{width:2.5rem;height:2.5rem;border-radius:50%;color:#fff;font-size:1.5rem;\
line-height:2.5rem;text-align:center;background:#cf222e}.ok .mark{background:#1a7f37}\
h1{font-size:1.35rem;margin:1rem 0 .5rem}p{margin:.5rem 0}\
code{display:block;margin:.5rem 0;padding:.5rem .75rem;border-radius:6px;background:#f6f8fa;\
font:14px ui-monospace,monospace;overflow-wrap:anywhere}\
footer{margin-top:1.25rem;font-size:.85rem;color:#656d76}\
@media(prefers-color-scheme:dark){body{background:#0d1117;color:#e6edf3}\
main{background:#161b22;box-shadow:none}code{background:#0d1117}footer{color:#8d96a0}}";

impl Page {
    /// A page about a request that is no part of any login.
    fn plain(line: &str) -> Page {
        Page {
            ok: false,
            heading: "Nothing here".into(),
            lines: vec![line.into()],
            command: None,
        }
    }

    fn html(&self) -> String {
        let mut body = String::new();
        for line in &self.lines {
            body.push_str(&format!("<p>{}</p>", html_escape(line)));
        }
        if let Some(command) = &self.command {
            body.push_str(&format!("<code>{}</code>", html_escape(command)));
        }
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>{h} \u{b7} credential-oauth</title><style>{STYLE}</style></head>\n\
             <body><main class=\"{class}\"><div class=\"mark\">{mark}</div><h1>{h}</h1>{body}\
             <footer>credential-oauth</footer></main></body></html>\n",
            h = html_escape(&self.heading),
            class = if self.ok { "ok" } else { "no" },
            mark = if self.ok { "\u{2713}" } else { "\u{2715}" },
        )
    }
}

fn respond(mut stream: TcpStream, status: u16, page: &Page) {
    let html = page.html();
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        414 => "URI Too Long",
        _ => "Request Header Fields Too Large",
    };
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         Referrer-Policy: no-referrer\r\n\
         Cache-Control: no-store\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{html}",
        html.len()
    );
    // The page is small enough for the socket buffer; a browser that has
    // gone away changes nothing about the login's outcome.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let _ = stream.write_all(answer.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

/// `text` with its first letter capitalised: error messages start in lower
/// case to be quoted in a line, but stand alone on a page.
fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Text made safe to place in an HTML page.
fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
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

    fn state() -> Secret {
        Secret::new("s-123")
    }

    fn judge(callback: Callback, state: &Secret) -> Step {
        super::judge(callback, state, &issuer(false))
    }

    fn issuer(required: bool) -> ExpectedIssuer {
        ExpectedIssuer {
            issuer: "https://as.example".into(),
            required,
        }
    }

    #[test]
    fn code_with_our_state_finishes() {
        let step = judge(parse_callback("code=abc&state=s-123"), &state());
        match step {
            Step::Finish(Ok(code)) => assert_eq!(code.expose(), "abc"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_or_missing_state_is_ignored() {
        for q in [
            "code=abc&state=s-124",
            "code=abc",
            "error=access_denied&state=x",
        ] {
            assert!(
                matches!(judge(parse_callback(q), &state()), Step::Ignore(_)),
                "{q}"
            );
        }
    }

    #[test]
    fn repeated_or_missing_parameters_are_malformed() {
        assert!(matches!(
            parse_callback("code=a&code=b&state=s-123"),
            Callback::Malformed
        ));
        assert!(matches!(parse_callback("state=s-123"), Callback::Malformed));
        assert!(matches!(parse_callback(""), Callback::Malformed));
    }

    #[test]
    fn error_wins_over_code_and_becomes_a_clear_message() {
        let q = "error=access_denied&error_description=User%20said%0Ano&state=s-123&code=x";
        match judge(parse_callback(q), &state()) {
            Step::Finish(Err(e)) => {
                let m = e.to_string();
                assert!(m.contains("denied") && m.contains("User said no"), "{m}");
                assert!(!m.contains('\n'));
            }
            other => panic!("{other:?}"),
        }
        match judge(parse_callback("error=server_error&state=s-123"), &state()) {
            Step::Finish(Err(e)) => assert!(e.to_string().contains("server_error")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_response_from_another_issuer_ends_the_login_unredeemed() {
        let q = "code=abc&state=s-123&iss=https%3A%2F%2Fevil.example";
        for required in [false, true] {
            match super::judge(parse_callback(q), &state(), &issuer(required)) {
                Step::Finish(Err(e)) => {
                    let m = e.to_string();
                    assert!(m.contains("evil.example") && m.contains("RFC 9207"), "{m}");
                    assert!(!m.contains("abc"), "{m}");
                }
                other => panic!("{other:?}"),
            }
        }
        let err = "error=access_denied&state=s-123&iss=https%3A%2F%2Fevil.example";
        assert!(matches!(
            super::judge(parse_callback(err), &state(), &issuer(false)),
            Step::Finish(Err(e)) if e.to_string().contains("RFC 9207")
        ));
    }

    #[test]
    fn iss_is_required_only_where_the_server_announces_it() {
        let ours = "code=abc&state=s-123&iss=https%3A%2F%2Fas.example%2F";
        let none = "code=abc&state=s-123";
        for (q, required, accepted) in [
            (ours, true, true),
            (ours, false, true),
            (none, false, true),
            (none, true, false),
        ] {
            let step = super::judge(parse_callback(q), &state(), &issuer(required));
            assert_eq!(
                matches!(step, Step::Finish(Ok(_))),
                accepted,
                "{q} {required}: {step:?}"
            );
        }
        assert!(matches!(
            parse_callback("code=a&state=s-123&iss=x&iss=y"),
            Callback::Malformed
        ));
    }

    #[test]
    fn request_head_ends_at_the_first_empty_line() {
        assert_eq!(
            end_of_head(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody"),
            Some(23)
        );
        assert_eq!(end_of_head(b"GET / HTTP/1.0\n\n"), Some(14));
        assert_eq!(end_of_head(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
    }

    #[test]
    fn page_text_is_escaped() {
        assert_eq!(html_escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        let page = Page {
            ok: false,
            heading: "The login to <corp> failed".into(),
            lines: vec!["a & b".into()],
            command: Some("credential-oauth login https://x/?a=1&b=<2>".into()),
        }
        .html();
        assert!(page.contains("<h1>The login to &lt;corp&gt; failed</h1><p>a &amp; b</p>"));
        assert!(
            page.contains("<code>credential-oauth login https://x/?a=1&amp;b=&lt;2&gt;</code>")
        );
        assert!(!page.contains("<script") && !page.contains("src=") && !page.contains("href="));
    }
}
