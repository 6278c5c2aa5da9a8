//! The one-shot loopback redirect listener of RFC 8252 §7.3: it listens on
//! the host and port of `redirect_uri` (loopback only), answers the browser's
//! redirect with a small page, and hands the authorization code back.
//!
//! Stray requests (a favicon, another path) and redirects whose `state` does
//! not match (a stale tab, or a forged request) are answered and ignored: they
//! must neither end the login nor be believed (RFC 6749 §10.12). What a
//! redirect means is judged in [`super::callback`]; the pages are in `page`.

mod page;

use super::callback::{ExpectedIssuer, MAX_QUERY, Step, judge, parse_callback};
use crate::error::{Error, Result};
use crate::prompt::Prompt;
use crate::secret::Secret;
use page::{Page, respond};
use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};
use url::{Host, Url};

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
                respond(stream, 400, &Page::refused(why, provider, retry));
                None
            }
            Step::Finish(Ok(code)) => {
                respond(stream, 200, &Page::logged_in(provider, &about.account));
                Some(Ok(code))
            }
            Step::Finish(Err(e)) => {
                respond(
                    stream,
                    400,
                    &Page::failed(&e, provider, &about.account, retry),
                );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_head_ends_at_the_first_empty_line() {
        assert_eq!(
            end_of_head(b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody"),
            Some(23)
        );
        assert_eq!(end_of_head(b"GET / HTTP/1.0\n\n"), Some(14));
        assert_eq!(end_of_head(b"GET / HTTP/1.1\r\nHost: x\r\n"), None);
    }
}
