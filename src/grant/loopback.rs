//! The one-shot loopback redirect listener of RFC 8252 §7.3: it listens on
//! the host and port of `redirect_uri` (loopback only), answers the browser's
//! redirect with a small page, and hands the authorization code back.
//!
//! Stray requests (a favicon, another path) and redirects whose `state` does
//! not match (a stale tab, or a forged request) are answered and ignored: they
//! must neither end the login nor be believed (RFC 6749 §10.12).

use crate::error::{Error, Result};
use crate::secret::Secret;
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use url::{Host, Url};

/// Longest request target (path and query) looked at; a real redirect is a
/// few hundred bytes.
pub const MAX_QUERY: usize = 8 * 1024;

/// How often a wait looks at pasted input while no request arrives.
const PASTE_POLL: Duration = Duration::from_millis(200);

/// What the authorization server sent back (RFC 6749 §4.1.2, §4.1.2.1).
#[derive(Debug)]
pub enum Callback {
    Code {
        code: Secret,
        state: Option<String>,
    },
    Error {
        error: String,
        description: Option<String>,
        state: Option<String>,
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
        if matches!(k.as_str(), "code" | "state" | "error" | "error_description") {
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
    if let Some(error) = get("error") {
        return Callback::Error {
            error: crate::http::printable(&error, 100),
            description: get("error_description").map(|d| crate::http::printable(&d, 300)),
            state,
        };
    }
    match get("code") {
        Some(code) => Callback::Code {
            code: Secret::new(code),
            state,
        },
        None => Callback::Malformed,
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
/// compared in constant time.
pub fn judge(callback: Callback, state: &Secret) -> Step {
    let ours = |s: &Option<String>| s.as_deref().is_some_and(|s| state.constant_time_eq(s));
    match callback {
        Callback::Malformed => Step::Ignore("the redirect carries neither a code nor an error"),
        Callback::Code { state: s, .. } | Callback::Error { state: s, .. } if !ours(&s) => {
            Step::Ignore("the state does not match this login (a stale tab, or a forged request)")
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
    server: tiny_http::Server,
    redirect_uri: Url,
    path: String,
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
        let listener = TcpListener::bind((ip, port)).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                Error::Login(format!(
                    "cannot listen for the login redirect on {ip}:{port}: port {port} is busy \
                     (another login running?); set redirect_uri to another port, or port 0 for any free one"
                ))
            } else {
                Error::Login(format!("cannot listen on {ip}:{port} for the login redirect: {e}"))
            }
        })?;
        let actual = listener
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
        let server = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| Error::Login(format!("cannot serve on {ip}:{actual}: {e}")))?;
        let path = redirect_uri.path().to_string();
        Ok(Listener {
            server,
            redirect_uri,
            path,
        })
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
        timeout: Duration,
        pasted: Option<&Receiver<String>>,
    ) -> Result<Secret> {
        let deadline = Instant::now() + timeout;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Login(format!(
                    "no answer from the browser within {} s; the login timed out \
                     (login_timeout in the config sets how long to wait)",
                    timeout.as_secs()
                )));
            }
            let mut slice = deadline - now;
            if let Some(rx) = pasted {
                slice = slice.min(PASTE_POLL);
                while let Ok(line) = rx.try_recv() {
                    if let Some(done) = self.pasted(&line, state) {
                        return done;
                    }
                }
            }
            let request = self
                .server
                .recv_timeout(slice)
                .map_err(|e| Error::Login(format!("the redirect listener failed: {e}")))?;
            if let Some(rq) = request
                && let Some(done) = self.answer(rq, state)
            {
                return done;
            }
        }
    }

    /// Handle one request; `Some` ends the wait.
    fn answer(&self, rq: tiny_http::Request, state: &Secret) -> Option<Result<Secret>> {
        let target = rq.url();
        if target.len() > MAX_QUERY {
            respond(rq, 414, "Request too long", "The address is too long.");
            return None;
        }
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if *rq.method() != tiny_http::Method::Get || path != self.path {
            crate::debug!("redirect listener: ignoring a request for another path");
            respond(rq, 404, "Not found", "Nothing is served here.");
            return None;
        }
        match judge(parse_callback(query), state) {
            Step::Ignore(why) => {
                crate::debug!("redirect listener: ignoring a redirect: {why}");
                respond(rq, 400, "Login not accepted", &format!("Refused: {why}."));
                None
            }
            Step::Finish(Ok(code)) => {
                respond(
                    rq,
                    200,
                    "Login complete",
                    "credential-oauth received the authorization. You can close this tab.",
                );
                Some(Ok(code))
            }
            Step::Finish(Err(e)) => {
                respond(
                    rq,
                    400,
                    "Login failed",
                    &format!("{e}. You can close this tab."),
                );
                Some(Err(e))
            }
        }
    }

    /// A URL pasted on the terminal, held to the same checks as a redirect.
    fn pasted(&self, line: &str, state: &Secret) -> Option<Result<Secret>> {
        let line = line.trim();
        if line.is_empty() {
            return None;
        }
        let query = match Url::parse(line) {
            Ok(u) if u.path() == self.path => u.query().unwrap_or("").to_string(),
            _ => {
                eprintln!(
                    "credential-oauth: that is not the address the browser was sent back to \
                     ({}...); try again",
                    self.redirect_uri
                );
                return None;
            }
        };
        match judge(parse_callback(&query), state) {
            Step::Ignore(why) => {
                eprintln!("credential-oauth: not accepted: {why}; try again");
                None
            }
            Step::Finish(done) => Some(done),
        }
    }
}

fn respond(rq: tiny_http::Request, status: u16, title: &str, message: &str) {
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{t}</title></head>\n\
         <body><h1>{t}</h1><p>{m}</p></body></html>\n",
        t = html_escape(title),
        m = html_escape(message)
    );
    let mut response = tiny_http::Response::from_string(html).with_status_code(status);
    for (k, v) in [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Cache-Control", "no-store"),
        ("Connection", "close"),
    ] {
        if let Ok(h) = tiny_http::Header::from_bytes(k, v) {
            response = response.with_header(h);
        }
    }
    // The browser may have gone away; the login's outcome does not depend on it.
    let _ = rq.respond(response);
}

/// Text made safe to place in an HTML page.
pub fn html_escape(s: &str) -> String {
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

/// Lines typed or pasted on the terminal (`/dev/tty`, never stdin, which git
/// uses for the protocol), when there is one. The reader thread lives until
/// the process ends; it only ever blocks on the terminal.
pub fn terminal_lines() -> Option<Receiver<String>> {
    use std::io::{BufRead, Read};
    let tty = std::fs::File::open("/dev/tty").ok()?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("tty-paste".into())
        .spawn(move || {
            let mut reader = std::io::BufReader::new(tty);
            loop {
                let mut line = String::new();
                match (&mut reader).take(MAX_QUERY as u64).read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                }
            }
        })
        .ok()?;
    Some(rx)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> Secret {
        Secret::new("s-123")
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
    fn page_text_is_escaped() {
        assert_eq!(html_escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
    }
}
