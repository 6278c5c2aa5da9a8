//! Private module hosts for Terraform and Go, on HTTPS (both speak only
//! https to them) with a certificate from a private CA made at test time:
//! a Terraform module registry and a Go module proxy (GOPROXY protocol).
//! Every request without `Authorization: Bearer <token>` naming a live
//! access token of the test authorization server gets 401, so a download
//! that succeeds proves a real token arrived. The one exception is the
//! registry's module package: Terraform sends no credentials to the
//! address in `X-Terraform-Get` (real registries hand out a pre-signed
//! URL), so the package is served at an unguessable path that only the
//! token-guarded download endpoint tells.

use super::tls::{TlsReply, TlsRequest, TlsServer, make_ca, make_server_cert};
use super::zip::zip;
use oauth_test_server::TokenChecker;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Each request's path (no query) and whether it carried a live token.
type Log = Arc<Mutex<Vec<(String, bool)>>>;

/// An HTTPS host whose every answer needs a live token.
pub struct ModuleHost {
    tls: TlsServer,
    ca_pem: PathBuf,
    log: Log,
}

impl ModuleHost {
    fn start(
        dir: &Path,
        checker: TokenChecker,
        challenge: &'static str,
        unguarded: Option<String>,
        answer: impl Fn(&str, &str) -> TlsReply + Send + Sync + 'static,
    ) -> ModuleHost {
        std::fs::create_dir_all(dir).unwrap();
        let ca_pem = make_ca(dir, "modules-ca");
        let (cert, key) = make_server_cert(dir, "modules-ca");
        let log: Log = Arc::default();
        // The handler learns its own origin once the port is known.
        let origin: Arc<Mutex<String>> = Arc::default();
        let tls = {
            let (log, origin) = (log.clone(), origin.clone());
            TlsServer::start(&cert, &key, move |rq: &TlsRequest| {
                let live = rq
                    .header("authorization")
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .is_some_and(|t| checker.is_access_token(t));
                let path = rq.path.split('?').next().unwrap_or_default().to_string();
                log.lock().unwrap().push((path.clone(), live));
                if !live && unguarded.as_ref() != Some(&path) {
                    return TlsReply::bytes(
                        "401 Unauthorized",
                        "text/plain",
                        b"token required\n".to_vec(),
                    )
                    .with_header("WWW-Authenticate", challenge);
                }
                let origin = origin.lock().unwrap().clone();
                answer(&origin, &path)
            })
        };
        *origin.lock().unwrap() = tls.origin();
        ModuleHost { tls, ca_pem, log }
    }

    /// `https://127.0.0.1:PORT`, no trailing slash.
    pub fn origin(&self) -> String {
        self.tls.origin()
    }

    /// `127.0.0.1:PORT`: the host as Terraform names it.
    pub fn host(&self) -> String {
        self.origin().trim_start_matches("https://").to_string()
    }

    /// The private CA's certificate, for `SSL_CERT_FILE`.
    pub fn ca_pem(&self) -> &Path {
        &self.ca_pem
    }

    /// Paths served with a live token, oldest first.
    pub fn granted(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|(_, l)| *l)
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Every path requested, oldest first.
    pub fn requested(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter().map(|(p, _)| p.clone()).collect()
    }

    /// Paths requested without a live token, oldest first (refused, but
    /// for the registry's unguarded package).
    pub fn refused(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.iter()
            .filter(|(_, l)| !*l)
            .map(|(p, _)| p.clone())
            .collect()
    }
}

/// The Terraform module the registry holds: `<host>/corp/network/aws`,
/// version 1.0.0, whose package is a zip with one `main.tf`.
pub const TF_MODULE: &str = "corp/network/aws";
pub const TF_VERSION: &str = "1.0.0";
/// An output of the module, so a test can see the module that was installed.
pub const TF_MARK: &str = "from-the-private-registry";

/// A Terraform module registry (service discovery, module registry
/// protocol `modules.v1`): `/.well-known/terraform.json`, the versions
/// list, the download endpoint answering 204 with `X-Terraform-Get`, and
/// the package it points at.
pub fn terraform_registry(dir: &Path, checker: TokenChecker) -> ModuleHost {
    let package = zip(&[(
        "main.tf",
        format!("output \"mark\" {{\n  value = \"{TF_MARK}\"\n}}\n").as_bytes(),
    )]);
    let versions = format!("/v1/modules/{TF_MODULE}/versions");
    let download = format!("/v1/modules/{TF_MODULE}/{TF_VERSION}/download");
    let package_path = format!("/packages/{}/network.zip", unguessable());
    let served = package_path.clone();
    ModuleHost::start(
        dir,
        checker,
        "Bearer realm=\"terraform\"",
        Some(package_path.clone()),
        move |origin, path| match path {
            "/.well-known/terraform.json" => {
                TlsReply::json("200 OK", json!({"modules.v1": "/v1/modules/"}))
            }
            p if p == versions => TlsReply::json(
                "200 OK",
                json!({"modules": [{"versions": [{"version": TF_VERSION}]}]}),
            ),
            p if p == download => TlsReply::bytes("204 No Content", "text/plain", Vec::new())
                .with_header("X-Terraform-Get", format!("{origin}{package_path}")),
            p if p == served => TlsReply::bytes("200 OK", "application/zip", package.clone()),
            _ => TlsReply::json("404 Not Found", json!({"errors": ["not found"]})),
        },
    )
}

/// The Go module the proxy holds.
pub const GO_MODULE: &str = "corp.example/hello";
pub const GO_VERSION: &str = "v1.0.0";
const GO_MOD: &str = "module corp.example/hello\n\ngo 1.21\n";

/// A Go module proxy (`go help goproxy`): `@v/list`, `.info`, `.mod` and
/// `.zip` of [`GO_MODULE`] at [`GO_VERSION`], the zip laid out as
/// `module@version/…`.
pub fn go_proxy(dir: &Path, checker: TokenChecker) -> ModuleHost {
    let root = format!("{GO_MODULE}@{GO_VERSION}");
    let module_zip = zip(&[
        (&format!("{root}/go.mod"), GO_MOD.as_bytes()),
        (
            &format!("{root}/hello.go"),
            b"package hello\n\n// Hello is what the private module says.\nfunc Hello() string { return \"hello\" }\n",
        ),
    ]);
    let base = format!("/{GO_MODULE}/@v/");
    ModuleHost::start(
        dir,
        checker,
        "Bearer realm=\"goproxy\"",
        None,
        move |_, path| {
            let Some(file) = path.strip_prefix(&base) else {
                return TlsReply::bytes("404 Not Found", "text/plain", b"not found\n".to_vec());
            };
            let text =
                |body: &str| TlsReply::bytes("200 OK", "text/plain", body.as_bytes().to_vec());
            match file.strip_prefix(GO_VERSION) {
                _ if file == "list" => text(&format!("{GO_VERSION}\n")),
                Some(".info") => TlsReply::json(
                    "200 OK",
                    json!({"Version": GO_VERSION, "Time": "2024-01-01T00:00:00Z"}),
                ),
                Some(".mod") => text(GO_MOD),
                Some(".zip") => TlsReply::bytes("200 OK", "application/zip", module_zip.clone()),
                _ => TlsReply::bytes("404 Not Found", "text/plain", b"not found\n".to_vec()),
            }
        },
    )
}

/// 128 bits no test can guess: the std hasher's random keys.
fn unguessable() -> String {
    use std::hash::{BuildHasher, Hasher};
    let part = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        h.finish()
    };
    format!("{:016x}{:016x}", part(), part())
}
