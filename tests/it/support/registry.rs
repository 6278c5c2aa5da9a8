//! A tiny OCI registry on a loopback port, enough for `skopeo inspect`:
//! `/v2/`, one image manifest, its config blob and the tag list. Every
//! request needs Basic auth whose password is an access token the
//! [`TestServer`] says is live, so a success proves a real token arrived.
//!
//! It speaks just enough HTTP/1.1 itself (one request per connection)
//! because OCI clients told `--tls-verify=false` try TLS first: a TLS hello
//! is answered by closing the connection, so the client falls back to plain
//! HTTP at once instead of waiting out its handshake timeout.

use oauth_test_server::TestServer;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

pub const REPO: &str = "team/app";
pub const TAG: &str = "v1";

const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// The image: a config blob and a manifest naming it (no layers).
struct Image {
    config: String,
    config_digest: String,
    manifest: String,
    manifest_digest: String,
}

impl Image {
    fn new() -> Image {
        let config = r#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#.to_string();
        let config_digest = sha256(config.as_bytes());
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{MANIFEST_TYPE}","config":{{"mediaType":"{CONFIG_TYPE}","digest":"{config_digest}","size":{}}},"layers":[]}}"#,
            config.len()
        );
        let manifest_digest = sha256(manifest.as_bytes());
        Image {
            config,
            config_digest,
            manifest,
            manifest_digest,
        }
    }
}

fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[derive(Default)]
struct Counts {
    granted: AtomicUsize,
    refused: AtomicUsize,
}

/// What a request's answer is made of.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

pub struct Registry {
    port: u16,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    counts: Arc<Counts>,
    manifest_digest: String,
}

impl Registry {
    /// Listening on `127.0.0.1` at a free port when this returns. Basic auth
    /// must name `username` and a token that `auth` accepts.
    pub fn start(auth: Arc<TestServer>, username: &str) -> Registry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let counts = Arc::new(Counts::default());
        let stopping = Arc::new(AtomicBool::new(false));
        let image = Arc::new(Image::new());
        let manifest_digest = image.manifest_digest.clone();
        let thread = {
            let (counts, stopping, username) = (
                Arc::clone(&counts),
                Arc::clone(&stopping),
                username.to_string(),
            );
            std::thread::spawn(move || {
                let mut workers = Vec::new();
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (auth, counts, image, username) = (
                        Arc::clone(&auth),
                        Arc::clone(&counts),
                        Arc::clone(&image),
                        username.clone(),
                    );
                    workers.push(std::thread::spawn(move || {
                        serve(stream, &auth, &username, &counts, &image)
                    }));
                }
                for w in workers {
                    let _ = w.join();
                }
            })
        };
        Registry {
            port,
            stopping,
            thread: Some(thread),
            counts,
            manifest_digest,
        }
    }

    /// `127.0.0.1:PORT`, as docker names a registry.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Requests answered because their token was live.
    pub fn granted(&self) -> usize {
        self.counts.granted.load(Ordering::SeqCst)
    }

    /// Requests refused with 401.
    pub fn refused(&self) -> usize {
        self.counts.refused.load(Ordering::SeqCst)
    }

    pub fn manifest_digest(&self) -> &str {
        &self.manifest_digest
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Answer one request on `stream`, then close it.
fn serve(stream: TcpStream, auth: &TestServer, username: &str, counts: &Counts, image: &Image) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut first = [0u8; 1];
    // 0x16 opens a TLS handshake record: not for this plain-HTTP server.
    if stream.peek(&mut first).map_or(true, |n| n == 0) || first[0] == 0x16 {
        return;
    }
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream).take(64 * 1024);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let mut authorization = None;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line.trim_end().is_empty() => break,
            Ok(_) => {
                if let Some((name, value)) = line.split_once(':')
                    && name.trim().eq_ignore_ascii_case("authorization")
                {
                    authorization = Some(value.trim().to_string());
                }
            }
        }
    }
    let authorized = authorization
        .as_deref()
        .and_then(basic_credentials)
        .is_some_and(|(user, pass)| user == username && auth.is_active(&pass));
    let reply = if authorized {
        counts.granted.fetch_add(1, Ordering::SeqCst);
        route(image, target)
    } else {
        counts.refused.fetch_add(1, Ordering::SeqCst);
        unauthorized()
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n\
         Docker-Distribution-API-Version: registry/2.0\r\n",
        reply.status,
        reason(reply.status),
        reply.body.len()
    );
    for (name, value) in &reply.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let body = if method == "HEAD" { "" } else { &reply.body };
    let _ = writer
        .write_all(head.as_bytes())
        .and_then(|()| writer.write_all(body.as_bytes()));
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        401 => "Unauthorized",
        _ => "Not Found",
    }
}

/// User name and password of an `Authorization: Basic …` value.
fn basic_credentials(value: &str) -> Option<(String, String)> {
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

fn reply(status: u16, content_type: &str, body: &str) -> Reply {
    Reply {
        status,
        headers: vec![("Content-Type", content_type.to_string())],
        body: body.to_string(),
    }
}

fn with_header(mut reply: Reply, name: &'static str, value: &str) -> Reply {
    reply.headers.push((name, value.to_string()));
    reply
}

fn unauthorized() -> Reply {
    with_header(
        reply(
            401,
            "application/json",
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
        ),
        "WWW-Authenticate",
        r#"Basic realm="test-registry""#,
    )
}

fn route(image: &Image, target: &str) -> Reply {
    let path = target.split('?').next().unwrap_or(target);
    let Some(rest) = path.strip_prefix("/v2/") else {
        return not_found();
    };
    if rest.is_empty() {
        return reply(200, "application/json", "{}");
    }
    let Some(rest) = rest.strip_prefix(REPO).and_then(|r| r.strip_prefix('/')) else {
        return not_found();
    };
    match rest.split_once('/') {
        Some(("manifests", r)) if r == TAG || r == image.manifest_digest => with_header(
            reply(200, MANIFEST_TYPE, &image.manifest),
            "Docker-Content-Digest",
            &image.manifest_digest,
        ),
        Some(("blobs", d)) if d == image.config_digest => with_header(
            reply(200, "application/octet-stream", &image.config),
            "Docker-Content-Digest",
            &image.config_digest,
        ),
        Some(("tags", "list")) => reply(
            200,
            "application/json",
            &format!(r#"{{"name":"{REPO}","tags":["{TAG}"]}}"#),
        ),
        _ => not_found(),
    }
}

fn not_found() -> Reply {
    reply(
        404,
        "application/json",
        r#"{"errors":[{"code":"NAME_UNKNOWN","message":"not here"}]}"#,
    )
}
