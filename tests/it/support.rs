//! Shared helpers: run the real binary in a private HOME against the test
//! server, and show command, stdout and stderr when an assertion fails.

#![allow(dead_code, unused_imports)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub use credential_oauth::testserver::{Fault, MetadataMode, TestServer};

pub const BIN: &str = env!("CARGO_BIN_EXE_credential-oauth");

/// A private HOME with its own config and cache, removed on drop.
pub struct Env {
    pub root: PathBuf,
    pub home: PathBuf,
    /// Extra environment for every command.
    pub vars: Vec<(String, String)>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Env {
    pub fn new() -> Env {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("it-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let home = root.join("home");
        std::fs::create_dir_all(&home).unwrap();
        Env {
            root,
            home,
            vars: Vec::new(),
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.home.join(".config/credential-oauth/config.toml")
    }

    pub fn tokens_dir(&self) -> PathBuf {
        self.home.join(".cache/credential-oauth/tokens")
    }

    pub fn write_config(&self, text: &str) {
        let path = self.config_path();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A config with one client-credentials provider for `url` on `server`.
    pub fn client_credentials_config(&self, server: &TestServer, url: &str) {
        server.add_client("ci", Some("ci-secret"));
        self.write_config(&format!(
            "storage = \"file\"\n\n[[provider]]\nname = \"ci\"\nurl = \"{url}\"\nissuer = \"{}\"\n\
             client_id = \"ci\"\nclient_secret = \"ci-secret\"\ngrant = \"client_credentials\"\n\
             scopes = [\"read\", \"write\"]\n",
            server.issuer()
        ));
    }

    pub fn var(&mut self, k: &str, v: &str) {
        self.vars.push((k.to_string(), v.to_string()));
    }

    /// A command for `program` with a clean, private environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("HOME", &self.home)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LANG", "C")
            .current_dir(&self.root);
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd
    }

    /// Run the binary with `args`, writing `stdin` on a thread.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut cmd = self.command(BIN);
        cmd.args(args);
        run_command(cmd, stdin.as_bytes())
    }

    /// Every file in the token directory, temporary and lock files included.
    pub fn token_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.tokens_dir())
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
    }

    /// The token entries (`<key>.json`).
    pub fn token_entries(&self) -> Vec<PathBuf> {
        self.token_files()
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

pub struct Output {
    pub cmd: String,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(&self) -> &Output {
        assert_eq!(self.code, Some(0), "expected success\n{self}");
        self
    }

    pub fn fails(&self) -> &Output {
        assert!(
            self.code.is_some_and(|c| c != 0),
            "expected failure\n{self}"
        );
        self
    }

    /// The value of `key` in git-format output.
    pub fn field(&self, key: &str) -> Option<String> {
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")).map(str::to_string))
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "command: {}\nexit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.cmd, self.code, self.stdout, self.stderr
        )
    }
}

pub fn run_command(mut cmd: Command, stdin: &[u8]) -> Output {
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.to_vec();
    // A writer thread, so a child that stops reading early cannot deadlock us.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    Output {
        cmd: shown,
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The Unix mode bits of `path`.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A git credential request for `url`.
pub fn git_request(url: &str) -> String {
    let u = url::Url::parse(url).unwrap();
    let host = match u.port() {
        Some(p) => format!("{}:{p}", u.host_str().unwrap()),
        None => u.host_str().unwrap().to_string(),
    };
    let mut req = format!("protocol={}\nhost={host}\n", u.scheme());
    let path = u.path().trim_start_matches('/');
    if !path.is_empty() {
        req.push_str(&format!("path={path}\n"));
    }
    req.push('\n');
    req
}

/// Whether the test server accepts `token` at its protected resource.
pub fn server_accepts(server: &TestServer, token: &str) -> bool {
    server.is_active(token)
}

impl Env {
    /// `root/bin`: where [`Env::link_as`] puts the binary under other names.
    pub fn bin_dir(&self) -> PathBuf {
        self.root.join("bin")
    }

    /// The binary under the program name `name`, as a symlink in
    /// [`Env::bin_dir`], the way an install puts `docker-credential-oauth`
    /// on PATH.
    pub fn link_as(&self, name: &str) -> PathBuf {
        let dir = self.bin_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let link = dir.join(name);
        // Tests run commands from several threads; the first one links.
        match std::os::unix::fs::symlink(BIN, &link) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                panic!("cannot link {}: {e}", link.display())
            }
            _ => link,
        }
    }

    /// Run the binary through a symlink named `name`, writing `stdin` on a thread.
    pub fn run_as(&self, name: &str, args: &[&str], stdin: impl AsRef<[u8]>) -> Output {
        let mut cmd = self.command(self.link_as(name));
        cmd.args(args);
        run_command(cmd, stdin.as_ref())
    }

    /// [`Env::bin_dir`] ahead of the inherited PATH, so the programs the
    /// tests run find the helpers linked there.
    pub fn path_with_bin_dir(&self) -> std::ffi::OsString {
        let inherited = std::env::var_os("PATH").unwrap_or_default();
        let dirs = std::iter::once(self.bin_dir()).chain(std::env::split_paths(&inherited));
        std::env::join_paths(dirs).unwrap()
    }
}
