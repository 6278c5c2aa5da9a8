//! A smart-HTTP git server on a loopback port: git's own `git http-backend`
//! run as CGI behind a check that the request carries a live token.

use base64::Engine;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// Decides whether a token opens the repositories.
pub type Validator = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// The acr value and the authentication time behind a token.
pub type Authentication = Arc<dyn Fn(&str) -> Option<(String, i64)> + Send + Sync>;

#[derive(Default)]
struct Seen {
    /// `Authorization` schemes of the requests, in order (`None` if absent).
    schemes: Vec<Option<String>>,
    /// Tokens presented, in order.
    tokens: Vec<String>,
    metadata_requests: usize,
}

pub struct GitServer {
    pub port: u16,
    http: Arc<tiny_http::Server>,
    seen: Arc<Mutex<Seen>>,
    thread: Option<JoinHandle<()>>,
}

/// `{port}` in either field stands for the server's port.
#[derive(Default)]
pub struct Settings {
    /// `WWW-Authenticate` values sent with a 401.
    pub challenges: Vec<String>,
    /// Served at `/.well-known/oauth-protected-resource` when set.
    pub resource_metadata: Option<String>,
    /// The repositories need a stronger or more recent login (RFC 9470).
    pub step_up: Option<StepUp>,
}

/// What the repositories ask of the login behind a token (RFC 9470 §3):
/// until a token obtained with `acr` arrives, authenticated no longer
/// than `max_age` ago, every 401 (to a request with a token or without)
/// carries the step-up challenge instead of [`Settings::challenges`].
pub struct StepUp {
    pub acr: String,
    pub max_age: Option<i64>,
    /// The acr and authentication time behind a token, as the
    /// authorization server tells (introspection, RFC 9470 §6.2).
    pub authentication: Authentication,
}

impl StepUp {
    /// The `WWW-Authenticate` value of RFC 9470 §3.
    pub fn challenge(&self) -> String {
        let mut c = format!(
            "Bearer error=\"insufficient_user_authentication\", \
             error_description=\"A different authentication level is required\", \
             acr_values=\"{}\"",
            self.acr
        );
        if let Some(age) = self.max_age {
            c.push_str(&format!(", max_age={age}"));
        }
        c
    }

    fn is_met_by(&self, token: &str) -> bool {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        (self.authentication)(token).is_some_and(|(acr, auth_time)| {
            acr == self.acr && self.max_age.is_none_or(|max| now - auth_time <= max)
        })
    }
}

impl GitServer {
    /// Serve the bare repositories under `root`.
    pub fn start(root: &Path, valid: Validator, settings: Settings) -> GitServer {
        let http = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = http.server_addr().to_ip().unwrap().port();
        let seen = Arc::new(Mutex::new(Seen::default()));
        let thread = {
            let (http, seen, root) = (Arc::clone(&http), Arc::clone(&seen), root.to_path_buf());
            let fill = |s: &str| s.replace("{port}", &port.to_string());
            let settings = Arc::new(Settings {
                challenges: settings.challenges.iter().map(|c| fill(c)).collect(),
                resource_metadata: settings.resource_metadata.as_deref().map(fill),
                step_up: settings.step_up,
            });
            std::thread::spawn(move || {
                // recv fails once unblock() is called on drop.
                while let Ok(rq) = http.recv() {
                    let (seen, root, valid, settings) = (
                        Arc::clone(&seen),
                        root.clone(),
                        Arc::clone(&valid),
                        Arc::clone(&settings),
                    );
                    std::thread::spawn(move || serve(rq, &root, &valid, &settings, &seen));
                }
            })
        };
        GitServer {
            port,
            http,
            seen,
            thread: Some(thread),
        }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("http://127.0.0.1:{}/{repo}", self.port)
    }

    pub fn schemes(&self) -> Vec<Option<String>> {
        self.seen.lock().unwrap().schemes.clone()
    }

    pub fn tokens(&self) -> Vec<String> {
        self.seen.lock().unwrap().tokens.clone()
    }

    pub fn metadata_requests(&self) -> usize {
        self.seen.lock().unwrap().metadata_requests
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn header(rq: &tiny_http::Request, name: &str) -> Option<String> {
    rq.headers()
        .iter()
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_string())
}

/// The token an `Authorization` header carries: Basic's password or Bearer's.
fn presented(auth: &str) -> Option<(String, String)> {
    let (scheme, rest) = auth.split_once(' ')?;
    let token = if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        text.split_once(':')?.1.to_string()
    } else {
        rest.trim().to_string()
    };
    Some((scheme.to_string(), token))
}

fn serve(
    mut rq: tiny_http::Request,
    root: &Path,
    valid: &Validator,
    settings: &Settings,
    seen: &Mutex<Seen>,
) {
    let url = rq.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    if path == "/.well-known/oauth-protected-resource" {
        seen.lock().unwrap().metadata_requests += 1;
        let reply = match &settings.resource_metadata {
            Some(doc) => tiny_http::Response::from_string(doc.clone())
                .with_header(
                    tiny_http::Header::from_bytes("Content-Type", "application/json").unwrap(),
                )
                .boxed(),
            None => tiny_http::Response::from_string("not found")
                .with_status_code(404)
                .boxed(),
        };
        let _ = rq.respond(reply);
        return;
    }
    let auth = header(&rq, "Authorization").and_then(|a| presented(&a));
    {
        let mut s = seen.lock().unwrap();
        s.schemes
            .push(auth.as_ref().map(|(scheme, _)| scheme.clone()));
        if let Some((_, t)) = &auth {
            s.tokens.push(t.clone());
        }
    }
    let stepped_up = |t: &str| settings.step_up.as_ref().is_none_or(|s| s.is_met_by(t));
    if !auth
        .as_ref()
        .is_some_and(|(_, t)| valid(t) && stepped_up(t))
    {
        let mut reply =
            tiny_http::Response::from_string("authentication required\n").with_status_code(401);
        let challenges = match &settings.step_up {
            Some(s) => vec![s.challenge()],
            None => settings.challenges.clone(),
        };
        for c in &challenges {
            reply.add_header(
                tiny_http::Header::from_bytes("WWW-Authenticate", c.as_bytes()).unwrap(),
            );
        }
        let _ = rq.respond(reply);
        return;
    }
    let mut body = Vec::new();
    rq.as_reader().read_to_end(&mut body).unwrap();
    let backend = PathBuf::from(
        String::from_utf8(
            Command::new("git")
                .arg("--exec-path")
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap()
        .trim(),
    )
    .join("git-http-backend");
    let mut cmd = Command::new(backend);
    cmd.env_clear()
        .env("PATH", super::test_path())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", root)
        .env("REQUEST_METHOD", rq.method().as_str())
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("REMOTE_USER", "tester")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (h, var) in [
        ("Content-Type", "CONTENT_TYPE"),
        ("Content-Encoding", "HTTP_CONTENT_ENCODING"),
        ("Git-Protocol", "GIT_PROTOCOL"),
    ] {
        if let Some(v) = header(&rq, h) {
            cmd.env(var, v);
        }
    }
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    let (head, body) = split_cgi(&out.stdout);
    let mut status = 200;
    let mut headers = Vec::new();
    for line in head.lines() {
        if let Some((k, v)) = line.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("Status") {
                status = v.split(' ').next().unwrap().parse().unwrap();
            } else {
                headers.push(tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()).unwrap());
            }
        }
    }
    let reply = tiny_http::Response::new(
        status.into(),
        headers,
        std::io::Cursor::new(body.to_vec()),
        Some(body.len()),
        None,
    );
    let _ = rq.respond(reply);
}

/// CGI output: headers, a blank line (CRLF or LF), then the body.
fn split_cgi(out: &[u8]) -> (String, &[u8]) {
    for (sep, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(i) = out.windows(len).position(|w| w == sep) {
            return (
                String::from_utf8_lossy(&out[..i]).into_owned(),
                &out[i + len..],
            );
        }
    }
    (String::from_utf8_lossy(out).into_owned(), &[])
}
