//! A scripted Streamable HTTP server on a loopback port, for what the SDK
//! server will not do on demand: answers in small pieces, a
//! server-to-client stream, refusals that never end. Every request is
//! answered on a thread of its own and recorded.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the server got it.
#[derive(Debug, Clone)]
pub struct Got {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The JSON-RPC body, parsed.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

/// An answer: status, headers, and the body in pieces sent apart.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub pieces: Vec<Vec<u8>>,
    /// After the pieces, hold the connection open this long.
    pub hold: Duration,
}

impl Answer {
    pub fn json(value: &serde_json::Value) -> Answer {
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            pieces: vec![value.to_string().into_bytes()],
            hold: Duration::ZERO,
        }
    }

    pub fn sse(pieces: &[&[u8]]) -> Answer {
        Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "text/event-stream".into())],
            pieces: pieces.iter().map(|p| p.to_vec()).collect(),
            hold: Duration::ZERO,
        }
    }

    pub fn status(status: u16) -> Answer {
        Answer {
            status,
            headers: Vec::new(),
            pieces: Vec::new(),
            hold: Duration::ZERO,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Answer {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = dyn Fn(&Got) -> Answer + Send + Sync;

/// Plain std networking, a thread per connection, one request each
/// (`Connection: close`), the pieces written apart: many requests at once
/// are all served, which tiny_http's pool did not always do.
pub struct FakeMcp {
    pub url: String,
    got: Arc<Mutex<Vec<Got>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    port: u16,
}

impl FakeMcp {
    /// Serves `/mcp` (and anything else) with `handler`.
    pub fn start(handler: impl Fn(&Got) -> Answer + Send + Sync + 'static) -> FakeMcp {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        {
            let (got, stop) = (Arc::clone(&got), Arc::clone(&stop));
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (got, handler) = (Arc::clone(&got), Arc::clone(&handler));
                    std::thread::spawn(move || serve(stream, &got, &*handler));
                }
            });
        }
        FakeMcp {
            url: format!("http://127.0.0.1:{port}/mcp"),
            got,
            stop,
            port,
        }
    }

    /// Every request so far.
    pub fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }
}

/// One request read and answered on `stream`.
fn serve(mut stream: std::net::TcpStream, got: &Mutex<Vec<Got>>, handler: &Handler) {
    use std::io::{BufRead, BufReader, Write};
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    );
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.trim_end().split_once(':') {
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let seen = Got {
        method,
        path,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    got.lock().unwrap().push(seen.clone());
    let answer = handler(&seen);
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", answer.status);
    for (n, v) in &answer.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    if stream.write_all(head.as_bytes()).is_err() {
        return;
    }
    for piece in &answer.pieces {
        std::thread::sleep(Duration::from_millis(20));
        if stream
            .write_all(piece)
            .and_then(|()| stream.flush())
            .is_err()
        {
            return;
        }
    }
    std::thread::sleep(answer.hold);
}

impl Drop for FakeMcp {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        // Wakes the accept loop, which then sees the stop.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}
