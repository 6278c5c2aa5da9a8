//! A sparse cargo registry on a loopback port that wants a token for
//! everything (`"auth-required": true`): `config.json`, one crate's index
//! file at its sparse path, and that crate's `.crate`. A request without
//! `Authorization: Bearer <token>` naming a token the [`TestServer`] says
//! is live gets 401 with `WWW-Authenticate: Cargo login_url="…"`, as
//! cargo's registry-authentication RFC describes, so a fetch that succeeds
//! proves a real token arrived.
//!
//! The `.crate` is a real one: `cargo package` of a tiny library, built
//! once per test process; its sha256 is the index entry's `cksum`.

use oauth_test_server::TestServer;
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

use super::{Output, run_command};

/// The one crate the registry holds.
pub const CRATE: &str = "corplib";
pub const VERSION: &str = "0.1.0";

#[derive(Default)]
struct Counts {
    granted: AtomicUsize,
    refused: AtomicUsize,
    downloads: AtomicUsize,
}

pub struct CargoRegistry {
    port: u16,
    http: Arc<tiny_http::Server>,
    counts: Arc<Counts>,
    thread: Option<JoinHandle<()>>,
}

impl CargoRegistry {
    /// Listening on `127.0.0.1` at a free port when this returns; its
    /// `config.json` sends cargo to its own `/dl` and `/`.
    pub fn start(auth: Arc<TestServer>) -> CargoRegistry {
        CargoRegistry::start_with_dl(auth, None)
    }

    /// [`CargoRegistry::start`] whose `config.json` names `dl` as the
    /// download URL (an index whose owner sends cargo elsewhere).
    pub fn start_with_dl(auth: Arc<TestServer>, dl: Option<String>) -> CargoRegistry {
        let http = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = http.server_addr().to_ip().unwrap().port();
        let dl: &'static str = Box::leak(
            dl.unwrap_or_else(|| format!("http://127.0.0.1:{port}/dl"))
                .into_boxed_str(),
        );
        let counts = Arc::new(Counts::default());
        let krate: &'static [u8] = crate_file();
        let thread = {
            let (http, counts) = (Arc::clone(&http), Arc::clone(&counts));
            std::thread::spawn(move || {
                // recv fails once unblock() is called on drop.
                while let Ok(rq) = http.recv() {
                    let (auth, counts) = (Arc::clone(&auth), Arc::clone(&counts));
                    std::thread::spawn(move || serve(rq, port, dl, krate, &auth, &counts));
                }
            })
        };
        CargoRegistry {
            port,
            http,
            counts,
            thread: Some(thread),
        }
    }

    /// The index URL as cargo's config names it: `sparse+http://127.0.0.1:PORT/index/`.
    pub fn index_url(&self) -> String {
        format!("sparse+{}", self.http_index_url())
    }

    /// The index URL without `sparse+`.
    pub fn http_index_url(&self) -> String {
        format!("http://127.0.0.1:{}/index/", self.port)
    }

    /// The whole registry, `http://127.0.0.1:PORT/`: the index, `dl` and
    /// `api`, what a provider's `url` must cover.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// Requests answered because their token was live.
    pub fn granted(&self) -> usize {
        self.counts.granted.load(Ordering::SeqCst)
    }

    /// Requests refused with 401.
    pub fn refused(&self) -> usize {
        self.counts.refused.load(Ordering::SeqCst)
    }

    /// `.crate` downloads served.
    pub fn downloads(&self) -> usize {
        self.counts.downloads.load(Ordering::SeqCst)
    }
}

impl Drop for CargoRegistry {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    rq: tiny_http::Request,
    port: u16,
    dl: &str,
    krate: &[u8],
    auth: &TestServer,
    counts: &Counts,
) {
    let token = rq
        .headers()
        .iter()
        .find(|h| h.field.equiv("Authorization"))
        .and_then(|h| h.value.as_str().strip_prefix("Bearer ").map(str::to_string));
    if !token.is_some_and(|t| auth.is_active(&t)) {
        counts.refused.fetch_add(1, Ordering::SeqCst);
        let challenge = format!("Cargo login_url=\"http://127.0.0.1:{port}/me\"");
        let _ = rq.respond(
            tiny_http::Response::from_string("token required")
                .with_status_code(401)
                .with_header(header("WWW-Authenticate", &challenge)),
        );
        return;
    }
    counts.granted.fetch_add(1, Ordering::SeqCst);
    let path = rq.url().split('?').next().unwrap_or_default().to_string();
    let download = format!("/dl/{CRATE}/{VERSION}/download");
    let body: Vec<u8> = if path == "/index/config.json" {
        format!(r#"{{"dl":"{dl}","api":"http://127.0.0.1:{port}/","auth-required":true}}"#)
            .into_bytes()
    } else if path == format!("/index/{}", sparse_path(CRATE)) {
        format!(
            "{{\"name\":\"{CRATE}\",\"vers\":\"{VERSION}\",\"deps\":[],\"cksum\":\"{}\",\
             \"features\":{{}},\"yanked\":false}}\n",
            sha256_hex(krate)
        )
        .into_bytes()
    } else if path == download {
        counts.downloads.fetch_add(1, Ordering::SeqCst);
        krate.to_vec()
    } else {
        let _ = rq.respond(tiny_http::Response::from_string("not found").with_status_code(404));
        return;
    };
    let _ = rq.respond(tiny_http::Response::from_data(body));
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
}

/// Where a sparse index keeps a crate's file (the Cargo Book, "Index
/// format"): `1/a`, `2/ab`, `3/a/abc`, else `ab/cd/abcd…`.
fn sparse_path(name: &str) -> String {
    let name = name.to_ascii_lowercase();
    match name.len() {
        1 => format!("1/{name}"),
        2 => format!("2/{name}"),
        3 => format!("3/{}/{name}", &name[..1]),
        _ => format!("{}/{}/{name}", &name[..2], &name[2..4]),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The cargo that runs these tests, the real toolchain binary (not a rustup
/// proxy, which would look for its toolchains under the tests' private HOME).
pub fn cargo_program() -> PathBuf {
    PathBuf::from(env!("CARGO"))
}

/// A command for the real cargo with `cargo_home` as its CARGO_HOME, for
/// commands that need no helper (`cargo package`).
pub fn cargo_command(cargo_home: &Path) -> Command {
    let mut cmd = Command::new(cargo_program());
    cmd.env_clear()
        .env("PATH", super::test_path())
        .env("CARGO_HOME", cargo_home)
        .env("CARGO_TERM_COLOR", "never")
        .env("CARGO_NET_RETRY", "0");
    // cargo asks rustc about the host; the toolchain's own rustc sits
    // next to its cargo.
    if let Some(rustc) = cargo_program()
        .parent()
        .map(|d| d.join("rustc"))
        .filter(|p| p.exists())
    {
        cmd.env("RUSTC", rustc);
    }
    cmd
}

/// The `.crate` of `corplib 0.1.0`, made by `cargo package` once per
/// test process.
fn crate_file() -> &'static [u8] {
    static CRATE_FILE: OnceLock<Vec<u8>> = OnceLock::new();
    CRATE_FILE.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("cargo-crate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src")).unwrap();
        // `[workspace]`: its own workspace, not a stray member of the one
        // whose target directory it lives in.
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"{CRATE}\"\nversion = \"{VERSION}\"\nedition = \"2021\"\n\
                 description = \"A crate only the test registry has\"\nlicense = \"MIT\"\n\n[workspace]\n"
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("src/lib.rs"),
            "pub fn answer() -> u32 {\n    42\n}\n",
        )
        .unwrap();
        let mut cmd = cargo_command(&dir.join("cargo-home"));
        cmd.current_dir(&dir)
            .args(["package", "--no-verify", "--allow-dirty", "--offline"]);
        let out: Output = run_command(cmd, b"");
        out.ok();
        let file = dir.join(format!("target/package/{CRATE}-{VERSION}.crate"));
        let bytes = std::fs::read(&file)
            .unwrap_or_else(|e| panic!("no {}: {e}\n{out}", file.display()));
        let _ = std::fs::remove_dir_all(&dir);
        bytes
    })
}

#[test]
fn sparse_paths_follow_the_index_format() {
    assert_eq!(sparse_path("a"), "1/a");
    assert_eq!(sparse_path("ab"), "2/ab");
    assert_eq!(sparse_path("abc"), "3/a/abc");
    assert_eq!(sparse_path("CorpLib"), "co/rp/corplib");
}
