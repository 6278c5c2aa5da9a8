//! A resource server that takes DPoP-bound tokens (RFC 9449 §7) and
//! checks every request for real: `Authorization: DPoP <token>`, one
//! `DPoP` proof whose signature verifies with the key it carries, for this
//! request's method and URL, issued within a minute, never seen before,
//! with `ath` the hash of the token, and the token active and bound to
//! that very key (`cnf.jkt`, asked of the authorization server). With a
//! nonce set, a proof must carry it (§9). A bearer token is refused.

use oauth_test_server::TokenChecker;
use oauth_test_server::dpop::{self, Expected, Replays};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub struct ResourceServer {
    pub port: u16,
    http: Arc<tiny_http::Server>,
    seen: Arc<Mutex<Vec<Result<String, String>>>>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    port: u16,
    checker: TokenChecker,
    replays: Replays,
    nonce: Option<String>,
    seen: Arc<Mutex<Vec<Result<String, String>>>>,
}

impl ResourceServer {
    /// Serve on a loopback port; with `nonce`, proofs must carry it.
    pub fn start(checker: TokenChecker, nonce: Option<&str>) -> ResourceServer {
        let http = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = http.server_addr().to_ip().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let shared = Arc::new(Shared {
            port,
            checker,
            replays: Replays::default(),
            nonce: nonce.map(str::to_string),
            seen: Arc::clone(&seen),
        });
        let thread = {
            let http = Arc::clone(&http);
            std::thread::spawn(move || {
                while let Ok(rq) = http.recv() {
                    let shared = Arc::clone(&shared);
                    std::thread::spawn(move || serve(rq, &shared));
                }
            })
        };
        ResourceServer {
            port,
            http,
            seen,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request's outcome, in order: `Ok(jkt)` or `Err(why)`.
    pub fn outcomes(&self) -> Vec<Result<String, String>> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for ResourceServer {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn headers(rq: &tiny_http::Request, name: &str) -> Vec<String> {
    rq.headers()
        .iter()
        .filter(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_string())
        .collect()
}

/// The check of RFC 9449 §7.1, with the error code a refusal carries.
fn check(rq: &tiny_http::Request, shared: &Shared) -> Result<String, (&'static str, String)> {
    let authorization = headers(rq, "Authorization");
    let token = match authorization.as_slice() {
        [one] => match one.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("DPoP") => token.trim(),
            _ => return Err(("invalid_token", format!("not the DPoP scheme: {one:.12}…"))),
        },
        _ => return Err(("invalid_token", "no single Authorization header".into())),
    };
    let proofs = headers(rq, "DPoP");
    let [proof] = proofs.as_slice() else {
        return Err(("invalid_dpop_proof", "no single DPoP header".into()));
    };
    let url = format!("http://127.0.0.1:{}{}", shared.port, rq.url());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let verified = dpop::verify(
        proof,
        &Expected {
            method: rq.method().as_str(),
            url: &url,
            access_token: Some(token),
            nonce: shared.nonce.as_deref(),
            now,
        },
    )
    .map_err(|r| (r.error, r.description))?;
    if !shared.replays.first_use(&verified.jti) {
        return Err(("invalid_dpop_proof", "the proof was used before".into()));
    }
    match shared.checker.bound_key(token) {
        Some(jkt) if jkt == verified.jkt => Ok(jkt),
        Some(_) => Err(("invalid_token", "the token is bound to another key".into())),
        None => Err(("invalid_token", "not an active DPoP-bound token".into())),
    }
}

fn serve(rq: tiny_http::Request, shared: &Shared) {
    let outcome = check(&rq, shared);
    shared.seen.lock().unwrap().push(
        outcome
            .clone()
            .map_err(|(code, why)| format!("{code}: {why}")),
    );
    let reply = match outcome {
        Ok(_) => tiny_http::Response::from_string("{\"ok\":true}\n").with_header(
            tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap(),
        ),
        Err((code, why)) => {
            let mut reply = tiny_http::Response::from_string(format!("{why}\n"))
                .with_status_code(401)
                .with_header(
                    tiny_http::Header::from_bytes(
                        "WWW-Authenticate",
                        format!("DPoP error=\"{code}\", algs=\"ES256\"").as_bytes(),
                    )
                    .unwrap(),
                );
            if let Some(nonce) = &shared.nonce {
                reply.add_header(
                    tiny_http::Header::from_bytes("DPoP-Nonce", nonce.as_bytes()).unwrap(),
                );
            }
            reply
        }
    };
    let _ = rq.respond(reply);
}

/// A request to `url` with `headers`, as a caller of `headers --method`
/// sends it: the status and the `WWW-Authenticate` value.
pub fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> (u16, Option<String>) {
    use std::io::{Read, Write};
    let u = url::Url::parse(url).unwrap();
    let mut target = u.path().to_string();
    if let Some(q) = u.query() {
        target = format!("{target}?{q}");
    }
    let mut s =
        std::net::TcpStream::connect(format!("{}:{}", u.host_str().unwrap(), u.port().unwrap()))
            .unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.0\r\nHost: {}\r\nContent-Length: 0\r\n",
        u.host_str().unwrap()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let challenge = text.lines().find_map(|l| {
        l.split_once(':')
            .filter(|(n, _)| n.eq_ignore_ascii_case("www-authenticate"))
            .map(|(_, v)| v.trim().to_string())
    });
    (status, challenge)
}

/// A proof signed by `key` (a test's own, or the helper's read from its
/// store), `iat` shifted by `skew` seconds: for requests the helper did
/// not make, to see the server refuse what it must.
pub fn proof_by(
    key: &oauth_test_server::assertion::TestKey,
    method: &str,
    url: &str,
    access_token: &str,
    skew: i64,
) -> String {
    use base64::Engine;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let jti = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{:?}{url}", std::time::Instant::now()));
    let claims = serde_json::json!({
        "jti": jti,
        "htm": method,
        "htu": url,
        "iat": now + skew,
        "ath": dpop::ath(access_token),
    });
    key.sign(
        serde_json::json!({"typ": "dpop+jwt", "jwk": key.jwk(None)}),
        &claims,
    )
}

/// The helper's DPoP key as its store keeps it (`{"alg","pkcs8"}`), as a
/// key a test can sign with.
pub fn stored_key(entry: &str) -> oauth_test_server::assertion::TestKey {
    use base64::Engine;
    let stored: serde_json::Value = serde_json::from_str(entry).unwrap();
    let der = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(stored["pkcs8"].as_str().unwrap())
        .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    oauth_test_server::assertion::TestKey::from_pem(&format!(
        "-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n"
    ))
}
