//! A fake Kubernetes API server for kubectl: HTTPS on 127.0.0.1 (kubectl
//! runs exec plugins only for https clusters) with a certificate from a
//! private CA made at test time, serving `/api` only to a bearer token the
//! test authorization server issued, and the kubeconfig that points
//! kubectl at it.

use super::tls::{TlsReply, TlsRequest, TlsServer, make_ca, make_server_cert};
use oauth_test_server::TokenChecker;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What a request to the API server carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Presented {
    /// An active access token of the test authorization server.
    AccessToken(String),
    /// An unexpired ID token the test authorization server issued.
    IdToken(String),
    /// Anything else, or nothing: answered 401.
    Refused,
}

pub struct KubeApi {
    tls: TlsServer,
    ca_pem: PathBuf,
    /// Each request's path (no query) and what it carried.
    presented: Arc<Mutex<Vec<(String, Presented)>>>,
}

impl KubeApi {
    /// Certificates are made in `dir`; tokens are checked with `checker`.
    pub fn start(dir: &Path, checker: TokenChecker) -> KubeApi {
        std::fs::create_dir_all(dir).unwrap();
        let ca_pem = make_ca(dir, "kube-ca");
        let (cert, key) = make_server_cert(dir, "kube-ca");
        let presented = Arc::new(Mutex::new(Vec::new()));
        let tls = {
            let presented = presented.clone();
            TlsServer::start(&cert, &key, move |rq: &TlsRequest| {
                let bearer = rq
                    .header("authorization")
                    .and_then(|v| v.strip_prefix("Bearer "));
                let seen = match bearer {
                    Some(t) if checker.is_access_token(t) => Presented::AccessToken(t.into()),
                    Some(t) if checker.is_id_token(t) => Presented::IdToken(t.into()),
                    _ => Presented::Refused,
                };
                let path = rq.path.split('?').next().unwrap_or_default().to_string();
                presented.lock().unwrap().push((path, seen.clone()));
                answer(rq, &seen)
            })
        };
        KubeApi {
            tls,
            ca_pem,
            presented,
        }
    }

    /// The cluster's `server`: `https://127.0.0.1:PORT`, no path, as
    /// kubeconfigs write it.
    pub fn server(&self) -> String {
        self.tls.origin()
    }

    /// Each request as "METHOD /path", oldest first.
    pub fn requests(&self) -> Vec<String> {
        self.tls.requests()
    }

    /// What each request for `/api` carried, oldest first. (kubectl asks
    /// for `/version` first as well; those requests are left out.)
    pub fn presented(&self) -> Vec<Presented> {
        let all = self.presented.lock().unwrap();
        all.iter()
            .filter(|(path, _)| path == "/api")
            .map(|(_, p)| p.clone())
            .collect()
    }

    /// Whether any request at all reached the server with a credential.
    pub fn saw_a_credential(&self) -> bool {
        let all = self.presented.lock().unwrap();
        all.iter().any(|(_, p)| *p != Presented::Refused)
    }

    /// Write a kubeconfig for this cluster whose user runs `exec` (the
    /// kubeconfig's `users[].user.exec` object).
    pub fn write_kubeconfig(&self, path: &Path, exec: serde_json::Value) {
        use base64::Engine;
        let ca = std::fs::read(&self.ca_pem).unwrap();
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "test", "cluster": {
                "server": self.server(),
                "certificate-authority-data": base64::engine::general_purpose::STANDARD.encode(ca),
            }}],
            "users": [{"name": "oauth", "user": {"exec": exec}}],
            "contexts": [{"name": "test", "context": {"cluster": "test", "user": "oauth"}}],
            "current-context": "test",
        });
        // JSON is YAML: kubectl reads it as it is.
        std::fs::write(path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    }
}

/// `/api` as an API server answers it (the core group's versions), and
/// `/version`, which kubectl asks for first; a Status object for
/// everything else.
fn answer(rq: &TlsRequest, seen: &Presented) -> TlsReply {
    let status = |code: u16, reason: &str| {
        json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": reason, "reason": reason, "code": code,
        })
    };
    if *seen == Presented::Refused {
        return TlsReply::json("401 Unauthorized", status(401, "Unauthorized"));
    }
    let path = rq.path.split('?').next().unwrap_or_default();
    match (rq.method.as_str(), path) {
        ("GET", "/version") => TlsReply::json(
            "200 OK",
            json!({
                "major": "1", "minor": "32", "gitVersion": "v1.32.0",
                "platform": "linux/amd64",
            }),
        ),
        ("GET", "/api" | "/api/") => TlsReply::json(
            "200 OK",
            json!({
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:443"}
                ],
            }),
        ),
        _ => TlsReply::json("404 Not Found", status(404, "NotFound")),
    }
}
