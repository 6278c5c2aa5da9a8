//! A private Python package index on a loopback port (PEP 503, the simple
//! repository API) that wants credentials for everything: `/simple/`, one
//! project's page and that project's wheel. A request without HTTP Basic
//! credentials whose password is a token the [`TestServer`] says is live
//! gets 401 with `WWW-Authenticate: Basic`, so a download that succeeds
//! proves a real token arrived, as pip and uv send a keyring password.
//!
//! The wheel is a real one, a pure-Python `py3-none-any` wheel with a
//! correct RECORD, written once per test process by Python's own
//! `zipfile` (python3 is there wherever pip is).

use base64::Engine as _;
use oauth_test_server::TestServer;
use sha2::{Digest as _, Sha256};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use super::run_command;

/// The one project the index holds.
pub const PROJECT: &str = "corppkg";
pub const VERSION: &str = "0.1.0";

/// The wheel's file name.
pub fn wheel_name() -> String {
    format!("{PROJECT}-{VERSION}-py3-none-any.whl")
}

#[derive(Default)]
struct Seen {
    granted: AtomicUsize,
    refused: AtomicUsize,
    downloads: AtomicUsize,
    /// The Basic user names of granted requests.
    usernames: Mutex<Vec<String>>,
}

pub struct PackageIndex {
    port: u16,
    http: Arc<tiny_http::Server>,
    seen: Arc<Seen>,
    thread: Option<JoinHandle<()>>,
}

impl PackageIndex {
    /// Listening on `127.0.0.1` at a free port when this returns.
    pub fn start(auth: Arc<TestServer>) -> PackageIndex {
        let http = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = http.server_addr().to_ip().unwrap().port();
        let seen = Arc::new(Seen::default());
        let wheel: &'static [u8] = wheel_file();
        let thread = {
            let (http, seen) = (Arc::clone(&http), Arc::clone(&seen));
            std::thread::spawn(move || {
                // recv fails once unblock() is called on drop.
                while let Ok(rq) = http.recv() {
                    let (auth, seen) = (Arc::clone(&auth), Arc::clone(&seen));
                    std::thread::spawn(move || serve(rq, wheel, &auth, &seen));
                }
            })
        };
        PackageIndex {
            port,
            http,
            seen,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT/simple/`: the index URL, and a provider's `url`.
    pub fn index_url(&self) -> String {
        format!("http://127.0.0.1:{}/simple/", self.port)
    }

    /// The index URL with a user name, which older pip needs before it asks
    /// a keyring: `http://USER@127.0.0.1:PORT/simple/`.
    pub fn index_url_as(&self, user: &str) -> String {
        format!("http://{user}@127.0.0.1:{}/simple/", self.port)
    }

    /// `127.0.0.1:PORT`, as pip and uv name the host to a keyring.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn granted(&self) -> usize {
        self.seen.granted.load(Ordering::SeqCst)
    }

    pub fn refused(&self) -> usize {
        self.seen.refused.load(Ordering::SeqCst)
    }

    /// Wheel downloads served.
    pub fn downloads(&self) -> usize {
        self.seen.downloads.load(Ordering::SeqCst)
    }

    /// The user names the granted requests carried.
    pub fn usernames(&self) -> Vec<String> {
        self.seen.usernames.lock().unwrap().clone()
    }
}

impl Drop for PackageIndex {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The Basic credentials of a request, decoded.
fn basic_credentials(rq: &tiny_http::Request) -> Option<(String, String)> {
    let value = rq
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))?
        .value
        .as_str()
        .to_string();
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn serve(rq: tiny_http::Request, wheel: &[u8], auth: &TestServer, seen: &Seen) {
    let credentials = basic_credentials(&rq).filter(|(_, password)| auth.is_active(password));
    let Some((user, _)) = credentials else {
        seen.refused.fetch_add(1, Ordering::SeqCst);
        let _ = rq.respond(
            tiny_http::Response::from_string("credentials required")
                .with_status_code(401)
                .with_header(header("WWW-Authenticate", "Basic realm=\"corp\"")),
        );
        return;
    };
    seen.granted.fetch_add(1, Ordering::SeqCst);
    seen.usernames.lock().unwrap().push(user);
    let path = rq.url().split('?').next().unwrap_or_default().to_string();
    let file = format!("/files/{}", wheel_name());
    let (body, content_type): (Vec<u8>, &str) = if path == "/simple/" {
        (
            format!(
                "<!DOCTYPE html>\n<html><body><a href=\"{PROJECT}/\">{PROJECT}</a></body></html>\n"
            )
            .into_bytes(),
            "text/html",
        )
    } else if path == format!("/simple/{PROJECT}/") {
        (
            format!(
                "<!DOCTYPE html>\n<html><body><a href=\"{file}#sha256={}\">{}</a></body></html>\n",
                sha256_hex(wheel),
                wheel_name()
            )
            .into_bytes(),
            "text/html",
        )
    } else if path == file {
        seen.downloads.fetch_add(1, Ordering::SeqCst);
        (wheel.to_vec(), "application/octet-stream")
    } else {
        let _ = rq.respond(tiny_http::Response::from_string("not found").with_status_code(404));
        return;
    };
    let _ = rq.respond(
        tiny_http::Response::from_data(body).with_header(header("Content-Type", content_type)),
    );
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Writes a wheel: the package, METADATA, WHEEL and a RECORD with every
/// file's sha256 and size, as installers check them.
const MAKE_WHEEL: &str = r#"
import base64, hashlib, sys, zipfile
name, version, out = sys.argv[1], sys.argv[2], sys.argv[3]
info = f"{name}-{version}.dist-info"
files = {
    f"{name}/__init__.py": "ANSWER = 42\n",
    f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: credential-oauth-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
record = []
for path, text in files.items():
    data = text.encode()
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{path},sha256={digest},{len(data)}")
record.append(f"{info}/RECORD,,")
files[f"{info}/RECORD"] = "\n".join(record) + "\n"
with zipfile.ZipFile(out, "w") as z:
    for path, text in files.items():
        z.writestr(path, text)
"#;

/// The wheel of `corppkg 0.1.0`, written once per test process.
fn wheel_file() -> &'static [u8] {
    static WHEEL: OnceLock<Vec<u8>> = OnceLock::new();
    WHEEL.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("python-wheel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(wheel_name());
        let mut cmd = Command::new("python3");
        cmd.args(["-c", MAKE_WHEEL, PROJECT, VERSION])
            .arg(&file)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        let out = run_command(cmd, b"");
        out.ok();
        let bytes =
            std::fs::read(&file).unwrap_or_else(|e| panic!("no {}: {e}\n{out}", file.display()));
        let _ = std::fs::remove_dir_all(&dir);
        bytes
    })
}

impl PackageIndex {
    /// The same index over https: a TLS front on another loopback port,
    /// with a certificate from a private CA made in `dir`, that passes each
    /// request (its path and `Authorization`) to the plain index and its
    /// answer back. Returns the front and the CA's PEM file, which pip is
    /// given with `--cert`.
    pub fn https_front(&self, dir: &std::path::Path) -> (super::tls::TlsServer, PathBuf) {
        std::fs::create_dir_all(dir).unwrap();
        let ca = super::tls::make_ca(dir, "index-ca");
        let (cert, key) = super::tls::make_server_cert(dir, "index-ca");
        let port = self.port;
        let front = super::tls::TlsServer::start(&cert, &key, move |rq| forward(port, rq));
        (front, ca)
    }
}

/// One request to the plain index on `port`, as HTTP/1.0 so the answer
/// ends with the connection.
fn forward(port: u16, rq: &super::tls::TlsRequest) -> super::tls::TlsReply {
    use std::io::{Read as _, Write as _};
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let auth = rq
        .header("authorization")
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    write!(
        tcp,
        "{} {} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n{auth}\r\n",
        rq.method, rq.path
    )
    .unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).unwrap();
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP answer");
    let head = String::from_utf8_lossy(&answer[..split]).to_string();
    let body = answer[split + 4..].to_vec();
    let status = match head.split(' ').nth(1) {
        Some("200") => "200 OK",
        Some("401") => "401 Unauthorized",
        _ => "404 Not Found",
    };
    let field = |name: &str| {
        head.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        })
    };
    let content_type = match field("content-type").as_deref() {
        Some("text/html") => "text/html",
        _ => "application/octet-stream",
    };
    let reply = super::tls::TlsReply::bytes(status, content_type, body);
    match field("www-authenticate") {
        Some(challenge) => reply.with_header("WWW-Authenticate", challenge),
        None => reply,
    }
}
