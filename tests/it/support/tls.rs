//! Certificates and HTTPS servers for tests: a private CA and a server
//! certificate for 127.0.0.1 made at test time with the `openssl` tool, and
//! a small HTTPS server in the test process (rustls, ring) that answers
//! each request with a handler the test gives.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Run `openssl` with the whitespace-separated `args` in `dir`; panic with
/// its stderr if it fails.
fn openssl(dir: &Path, args: &str) {
    let out = std::process::Command::new("openssl")
        .args(args.split_whitespace())
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// EC P-256 keys, unencrypted, and no system openssl.cnf.
const NEW_KEY: &str = "-config /dev/null -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

/// A self-signed CA: `<name>.pem` and `<name>.key` in `dir`.
pub fn make_ca(dir: &Path, name: &str) -> PathBuf {
    openssl(
        dir,
        &format!(
            "req -x509 {NEW_KEY} -keyout {name}.key -out {name}.pem -days 2 \
             -subj /CN=credential-oauth-test-{name} \
             -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign,cRLSign"
        ),
    );
    dir.join(format!("{name}.pem"))
}

/// A server certificate for 127.0.0.1 and localhost signed by CA `ca`:
/// `server.pem` and `server.key` (PKCS#8) in `dir`.
pub fn make_server_cert(dir: &Path, ca: &str) -> (PathBuf, PathBuf) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n\
         basicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &format!("req -new {NEW_KEY} -keyout server.key -out server.csr -subj /CN=localhost"),
    );
    openssl(
        dir,
        &format!(
            "x509 -req -in server.csr -CA {ca}.pem -CAkey {ca}.key -set_serial 2 -days 1 \
             -extfile server.ext -out server.pem"
        ),
    );
    (dir.join("server.pem"), dir.join("server.key"))
}

/// One request as the HTTPS server read it.
pub struct TlsRequest {
    pub method: String,
    pub path: String,
    /// Header names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl TlsRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A handler's answer: status line (`"200 OK"`), extra headers, the
/// body and its content type.
pub struct TlsReply {
    pub status: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl TlsReply {
    pub fn json(status: &'static str, json: serde_json::Value) -> TlsReply {
        TlsReply::bytes(status, "application/json", json.to_string().into_bytes())
    }

    /// Any body: a module archive, a text listing.
    pub fn bytes(status: &'static str, content_type: &'static str, body: Vec<u8>) -> TlsReply {
        TlsReply {
            status,
            headers: Vec::new(),
            content_type,
            body,
        }
    }

    /// `self` with one more header.
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> TlsReply {
        self.headers.push((name, value.into()));
        self
    }
}

type Handler = dyn Fn(&TlsRequest) -> TlsReply + Send + Sync;

/// What the HTTPS server saw.
#[derive(Default)]
struct Seen {
    /// TCP connections accepted.
    connections: AtomicUsize,
    /// Requests read in full, as "METHOD /path".
    requests: Mutex<Vec<String>>,
    /// Why connections ended without a request (TLS errors and the like).
    errors: Mutex<Vec<String>>,
}

/// A tiny HTTPS server on 127.0.0.1: one thread per connection, one request
/// per connection (`Connection: close`), each answered by the handler.
/// Ready when `start` returns; stopped and joined on drop.
pub struct TlsServer {
    addr: SocketAddr,
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl TlsServer {
    pub fn start(
        cert: &Path,
        key: &Path,
        handler: impl Fn(&TlsRequest) -> TlsReply + Send + Sync + 'static,
    ) -> TlsServer {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
        let config = Arc::new(config);
        let handler: Arc<Handler> = Arc::new(handler);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut workers = Vec::new();
                for tcp in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(tcp) = tcp else { continue };
                    seen.connections.fetch_add(1, Ordering::SeqCst);
                    let (config, seen, handler) = (config.clone(), seen.clone(), handler.clone());
                    workers.push(std::thread::spawn(move || {
                        if let Err(e) = serve(config, tcp, &seen, &*handler) {
                            seen.errors.lock().unwrap().push(e.to_string());
                        }
                    }));
                }
                for w in workers {
                    let _ = w.join();
                }
            })
        };
        TlsServer {
            addr,
            seen,
            stop,
            accept: Some(accept),
        }
    }

    /// `https://127.0.0.1:PORT`, without a trailing slash.
    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    pub fn requests(&self) -> Vec<String> {
        self.seen.requests.lock().unwrap().clone()
    }

    pub fn connections(&self) -> usize {
        self.seen.connections.load(Ordering::SeqCst)
    }

    pub fn errors(&self) -> Vec<String> {
        self.seen.errors.lock().unwrap().clone()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocked accept; the loop sees the flag and ends.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

const MAX_REQUEST: usize = 64 * 1024;

/// One connection: TLS handshake, one request, one answer, close.
fn serve(
    config: Arc<rustls::ServerConfig>,
    tcp: TcpStream,
    seen: &Seen,
    handler: &Handler,
) -> std::io::Result<()> {
    // Every wait is bounded, so a client that stalls cannot hang the test.
    tcp.set_read_timeout(Some(Duration::from_secs(5)))?;
    tcp.set_write_timeout(Some(Duration::from_secs(5)))?;
    let conn = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_REQUEST {
            return Err(std::io::Error::other("request head too large"));
        }
        let n = tls.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("closed before a request"));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut words = lines.next().unwrap_or_default().split_whitespace();
    let (method, path) = (
        words.next().unwrap_or("").to_string(),
        words.next().unwrap_or("").to_string(),
    );
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_REQUEST {
        return Err(std::io::Error::other("request body too large"));
    }
    while buf.len() < head_end + length {
        let n = tls.read(&mut chunk)?;
        if n == 0 {
            return Err(std::io::Error::other("closed inside the body"));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + length]).into_owned();
    seen.requests
        .lock()
        .unwrap()
        .push(format!("{method} {path}"));
    let request = TlsRequest {
        method,
        path,
        headers,
        body,
    };
    let reply = handler(&request);
    let extra: String = reply
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        tls,
        "HTTP/1.1 {}\r\nContent-Type: {}\r\n{extra}\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        reply.status,
        reply.content_type,
        reply.body.len()
    )?;
    tls.write_all(&reply.body)?;
    tls.conn.send_close_notify();
    tls.flush()
}
