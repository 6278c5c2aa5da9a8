//! `ca_file` against a real TLS server: a private CA generated at test time
//! (with the `openssl` tool), and a small HTTPS authorization server in the
//! test process (rustls, ring) whose certificate that CA signed.

use crate::support::*;
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
fn make_ca(dir: &Path, name: &str) -> PathBuf {
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
fn make_server_cert(dir: &Path, ca: &str) -> (PathBuf, PathBuf) {
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

/// A tiny HTTPS authorization server on 127.0.0.1: RFC 8414 metadata and a
/// token endpoint for the client-credentials grant, one thread per
/// connection, `Connection: close`. Stopped and joined on drop.
struct TlsServer {
    addr: SocketAddr,
    seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl TlsServer {
    fn start(cert: &Path, key: &Path) -> TlsServer {
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
                    let (config, seen) = (config.clone(), seen.clone());
                    workers.push(std::thread::spawn(move || {
                        if let Err(e) = serve(config, tcp, addr.port(), &seen) {
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

    fn issuer(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    fn requests(&self) -> Vec<String> {
        self.seen.requests.lock().unwrap().clone()
    }

    fn connections(&self) -> usize {
        self.seen.connections.load(Ordering::SeqCst)
    }

    fn errors(&self) -> Vec<String> {
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
    port: u16,
    seen: &Seen,
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
    let mut words = head.split_whitespace();
    let (method, path) = (
        words.next().unwrap_or("").to_string(),
        words.next().unwrap_or("").to_string(),
    );
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
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

    let issuer = format!("https://127.0.0.1:{port}");
    let (status, json) = match (method.as_str(), path.as_str()) {
        ("GET", "/.well-known/oauth-authorization-server") => (
            "200 OK",
            serde_json::json!({
                "issuer": issuer,
                "token_endpoint": format!("{issuer}/token"),
                "grant_types_supported": ["client_credentials"],
            }),
        ),
        ("POST", "/token") if body.contains("grant_type=client_credentials") => (
            "200 OK",
            serde_json::json!({
                "access_token": "at_tls_ok",
                "token_type": "Bearer",
                "expires_in": 3600,
            }),
        ),
        ("POST", "/token") => (
            "400 Bad Request",
            serde_json::json!({ "error": "unsupported_grant_type" }),
        ),
        _ => ("404 Not Found", serde_json::json!({ "error": "not_found" })),
    };
    let json = json.to_string();
    write!(
        tls,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    )?;
    tls.conn.send_close_notify();
    tls.flush()
}

fn provider(issuer: &str, ca_file: Option<&Path>) -> String {
    let ca = ca_file
        .map(|p| format!("ca_file = \"{}\"\n", p.display()))
        .unwrap_or_default();
    format!(
        "storage = \"file\"\n[[provider]]\nurl = \"https://git.example.com/\"\nissuer = \"{issuer}\"\n\
         client_id = \"ci\"\nclient_secret = \"ci-secret\"\ngrant = \"client_credentials\"\n{ca}"
    )
}

#[test]
fn a_private_ca_in_ca_file_is_trusted_and_nothing_else_is() {
    if require_tools(&["openssl"]).is_none() {
        return;
    }
    let env = Env::new();
    let pki = env.root.join("pki");
    std::fs::create_dir_all(&pki).unwrap();
    let ca = make_ca(&pki, "ca");
    let other_ca = make_ca(&pki, "other-ca");
    let (cert, key) = make_server_cert(&pki, "ca");
    let server = TlsServer::start(&cert, &key);

    // Neither the system's roots nor an unrelated private CA vouch for the
    // server: the handshake fails, with one line naming the certificate
    // problem, and no request reaches the server.
    for ca_file in [None, Some(other_ca.as_path())] {
        let before = server.connections();
        env.write_config(&provider(&server.issuer(), ca_file));
        let out = env.run(&["token", "https://git.example.com/"], "");
        out.fails();
        assert!(out.stdout.is_empty(), "{out}");
        assert_eq!(out.stderr.trim_end().lines().count(), 1, "{out}");
        assert!(out.stderr.contains(&server.issuer()), "{out}");
        assert!(
            out.stderr.contains("certificate") && out.stderr.contains("UnknownIssuer"),
            "{out}"
        );
        assert!(
            server.connections() > before,
            "never reached the server: {out}"
        );
        assert_eq!(server.requests(), Vec::<String>::new(), "{out}");
    }

    // The CA that signed it, in ca_file: discovery and the token request
    // both go over verified TLS.
    env.write_config(&provider(&server.issuer(), Some(&ca)));
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.ok();
    assert_eq!(out.stdout.trim_end(), "at_tls_ok", "{out}");
    assert_eq!(
        server.requests(),
        ["GET /.well-known/oauth-authorization-server", "POST /token"],
        "server errors: {:?}",
        server.errors()
    );
}
