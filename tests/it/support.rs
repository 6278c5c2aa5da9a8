//! Shared helpers: run the real binary in a private HOME against the test
//! server, and show command, stdout and stderr when an assertion fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub use oauth_test_server::{Fault, MetadataMode, TestServer};

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
        // No test may reach the developer's own keychain: the session bus
        // points nowhere unless a test starts its own.
        let no_bus = format!("unix:path={}", root.join("no-bus").display());
        Env {
            root,
            home,
            vars: vec![("DBUS_SESSION_BUS_ADDRESS".to_string(), no_bus)],
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

    /// stdout and stderr, to keep after the Output is gone.
    pub fn clone_parts(&self) -> (String, String) {
        (self.stdout.clone(), self.stderr.clone())
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

/// The provider block for an interactive grant on `server`: redirect port 0
/// so parallel tests never collide; `extra` adds or overrides keys.
pub fn interactive_provider(server: &TestServer, url: &str, extra: &str) -> String {
    format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"corp\"\nurl = \"{url}\"\nissuer = \"{}\"\n\
         redirect_uri = \"http://127.0.0.1:0/\"\n{extra}",
        server.issuer()
    )
}

impl Env {
    /// Install `body` as the `$BROWSER` program (a shell script that gets
    /// the URL as `$1`; `$DIR` is this Env's root directory).
    pub fn browser(&mut self, body: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.root.join("browser.sh");
        let script = format!("#!/bin/sh\nDIR='{}'\n{body}\n", self.root.display());
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let shown = path.display().to_string();
        self.var("BROWSER", &shown);
    }

    /// Lines of `$DIR/<name>`, or none when it does not exist.
    pub fn lines_of(&self, name: &str) -> Vec<String> {
        std::fs::read_to_string(self.root.join(name))
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// The one token entry, parsed.
    pub fn only_token_entry(&self) -> serde_json::Value {
        let entries: Vec<PathBuf> = self
            .token_entries()
            .into_iter()
            .filter(|p| {
                std::fs::read_to_string(p)
                    .map(|t| t.contains("access_token"))
                    .unwrap_or(false)
            })
            .collect();
        assert_eq!(entries.len(), 1, "{entries:?}");
        serde_json::from_str(&std::fs::read_to_string(&entries[0]).unwrap()).unwrap()
    }

    /// Start the binary and return at once; stderr is read line by line.
    pub fn spawn(&self, args: &[&str], stdin: &str) -> Running {
        let mut cmd = self.command(BIN);
        cmd.args(args);
        spawn_command(cmd, stdin)
    }
}

/// Start `cmd` and return at once; stderr is read line by line.
pub fn spawn_command(mut cmd: Command, stdin: &str) -> Running {
    use std::io::BufRead;
    let shown = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let mut pipe = child.stdin.take().unwrap();
    let input = stdin.as_bytes().to_vec();
    std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            all.push_str(&line);
            all.push('\n');
            let _ = tx.send(line);
        }
        all
    });
    Running {
        cmd: shown,
        child,
        lines: rx,
        reader: Some(reader),
    }
}

/// A running binary whose stderr can be waited on line by line.
pub struct Running {
    cmd: String,
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    reader: Option<std::thread::JoinHandle<String>>,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kill the process (by its handle, so by its PID) and collect its output.
    pub fn kill(&mut self) -> Output {
        let _ = self.child.kill();
        self.finish()
    }

    /// The first stderr line starting with `prefix`, waiting at most `secs`.
    pub fn wait_for_line(&mut self, prefix: &str, secs: u64) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => {}
                Err(_) => {
                    let _ = self.child.kill();
                    let out = self.finish();
                    panic!("no stderr line starting with {prefix:?} within {secs} s\n{out}");
                }
            }
        }
    }

    pub fn finish(&mut self) -> Output {
        use std::io::Read;
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = out.read_to_string(&mut stdout);
        }
        let status = self.child.wait().unwrap();
        let stderr = self
            .reader
            .take()
            .map(|r| r.join().unwrap())
            .unwrap_or_default();
        Output {
            cmd: self.cmd.clone(),
            code: status.code(),
            stdout,
            stderr,
        }
    }
}

/// A plain HTTP/1.0 GET to a loopback URL: status and body.
pub fn http_get(url: &str) -> (u16, String) {
    use std::io::Read;
    let u = url::Url::parse(url).unwrap();
    let mut target = u.path().to_string();
    if let Some(q) = u.query() {
        target = format!("{target}?{q}");
    }
    let addr = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap());
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        s,
        "GET {target} HTTP/1.0\r\nHost: {}\r\n\r\n",
        u.host_str().unwrap()
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_string())
}

/// Wait until `path` exists (something another process writes when done).
pub fn wait_for_file(path: &Path, secs: u64) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while std::time::Instant::now() < deadline {
        if path.exists() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    path.exists()
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

impl Env {
    /// Like [`Env::client_credentials_config`], with `storage = "<storage>"`.
    pub fn client_credentials_config_with_storage(
        &self,
        server: &TestServer,
        url: &str,
        storage: &str,
    ) {
        server.add_client("ci", Some("ci-secret"));
        self.write_config(&format!(
            "storage = \"{storage}\"\n\n[[provider]]\nname = \"ci\"\nurl = \"{url}\"\nissuer = \"{}\"\n\
             client_id = \"ci\"\nclient_secret = \"ci-secret\"\ngrant = \"client_credentials\"\n\
             scopes = [\"read\", \"write\"]\n",
            server.issuer()
        ));
    }

    /// The cache key of the provider [`Env::client_credentials_config`] writes.
    pub fn client_credentials_key(server: &TestServer) -> String {
        credential_oauth::store::CacheKey::new(
            &server.issuer(),
            "ci",
            &["read".to_string(), "write".to_string()],
            "",
        )
        .as_str()
        .to_string()
    }

    /// Set `k` for every command, replacing an earlier value.
    pub fn set_var(&mut self, k: &str, v: &str) {
        self.unset_var(k);
        self.var(k, v);
    }

    pub fn unset_var(&mut self, k: &str) {
        self.vars.retain(|(name, _)| name != k);
    }
}

/// Where `program` is on PATH, as an executable file.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether `program` is an executable file on PATH.
pub fn on_path(program: &str) -> bool {
    find_on_path(program).is_some()
}

/// `None` (after saying "skipped: <why>") when a tool is missing on a
/// developer machine; under CI (`CI` set) a missing tool is a failure.
pub fn require_tools(tools: &[&str]) -> Option<()> {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !on_path(t)).collect();
    if missing.is_empty() {
        return Some(());
    }
    let why = format!("{} not found on PATH", missing.join(", "));
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{why}; CI is set, so this is a failure, not a skip");
    }
    eprintln!("skipped: {why}");
    None
}

/// A private D-Bus session bus, optionally with gnome-keyring's Secret
/// Service on it (its login collection unlocked), for one test. Its
/// address is put into the `Env`; the daemons are killed on drop.
pub struct SessionBus {
    children: Vec<std::process::Child>,
}

impl SessionBus {
    /// Start the bus, and gnome-keyring-daemon when `secret_service`.
    /// `None` when the tools are missing outside CI (see [`require_tools`]).
    pub fn start(env: &mut Env, secret_service: bool) -> Option<SessionBus> {
        let tools: &[&str] = if secret_service {
            &[
                "dbus-daemon",
                "dbus-send",
                "gnome-keyring-daemon",
                "secret-tool",
            ]
        } else {
            &["dbus-daemon"]
        };
        require_tools(tools)?;
        // No service directories: nothing is activated behind the test's back,
        // so "no Secret Service" really means none.
        let mut bus = SessionBus::start_bus(env, "");
        if secret_service {
            let run = env.root.join("run");
            bus.start_keyring(env, &run);
        }
        Some(bus)
    }

    /// A bus on which asking for the Secret Service hangs: its activation
    /// starts a program that never takes the name, as a broken desktop
    /// session does. dbus-daemon holds the call until its own timeout.
    pub fn start_hanging(env: &mut Env) -> Option<SessionBus> {
        require_tools(&["dbus-daemon", "sleep"])?;
        let services = env.root.join("services");
        std::fs::create_dir_all(&services).unwrap();
        std::fs::write(
            services.join("org.freedesktop.secrets.service"),
            format!(
                "[D-BUS Service]\nName=org.freedesktop.secrets\nExec={} 10\n",
                find_on_path("sleep").unwrap().display()
            ),
        )
        .unwrap();
        let extra = format!(
            "<servicedir>{}</servicedir><limit name=\"service_start_timeout\">20000</limit>",
            services.display()
        );
        Some(SessionBus::start_bus(env, &extra))
    }

    fn start_bus(env: &mut Env, extra_config: &str) -> SessionBus {
        let run = env.root.join("run");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::set_permissions(&run, std::os::unix::fs::PermissionsExt::from_mode(0o700))
            .unwrap();
        let config = env.root.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:dir={}</listen><auth>EXTERNAL</auth>\
                 {extra_config}<policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
                run.display()
            ),
        )
        .unwrap();
        let mut dbus = env
            .command("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start dbus-daemon");
        // dbus-daemon prints the address once it listens, or exits.
        let mut address = String::new();
        let stdout = dbus.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut address).unwrap();
        let address = address.trim().to_string();
        let bus = SessionBus {
            children: vec![dbus],
        };
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        env.set_var("DBUS_SESSION_BUS_ADDRESS", &address);
        bus
    }

    fn start_keyring(&mut self, env: &Env, run: &Path) {
        let log = env.root.join("gnome-keyring.log");
        let mut daemon = env
            .command("gnome-keyring-daemon")
            .env("XDG_RUNTIME_DIR", run)
            .args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("cannot start gnome-keyring-daemon");
        // The password of the login keyring it creates, then EOF.
        let mut stdin = daemon.stdin.take().unwrap();
        stdin.write_all(b"test-keyring-password").unwrap();
        drop(stdin);
        self.children.push(daemon);
        // Ready once an item can be stored in the default collection.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let mut probe = env.command("secret-tool");
            probe.args([
                "store",
                "--label=readiness",
                "service",
                "credential-oauth-test",
                "account",
                "readiness",
            ]);
            let out = run_command(probe, b"ready");
            if out.code == Some(0) {
                return;
            }
            if let Some(status) = self.children[1].try_wait().unwrap() {
                panic!(
                    "gnome-keyring-daemon exited ({status}):\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the Secret Service did not come up within 30 s\n{out}\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// `secret-tool lookup service credential-oauth account <key>`: the
    /// secret, or `None` when there is no such item.
    pub fn lookup(&self, env: &Env, key: &str) -> Option<String> {
        let mut cmd = env.command("secret-tool");
        cmd.args(["lookup", "service", "credential-oauth", "account", key]);
        let out = run_command(cmd, b"");
        match out.code {
            Some(0) => Some(out.stdout),
            Some(1) if out.stdout.is_empty() => None,
            _ => panic!("secret-tool lookup failed\n{out}"),
        }
    }

    /// Lock the login collection, as a screen lock or a fresh login does.
    /// Unlocking it again would need a prompt, and this bus offers none.
    pub fn lock(&self, env: &Env) {
        let mut cmd = env.command("dbus-send");
        cmd.args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ]);
        let out = run_command(cmd, b"");
        assert!(
            out.code == Some(0) && out.stdout.contains("collection/login"),
            "cannot lock the login collection\n{out}"
        );
    }

    /// `secret-tool search --all service credential-oauth`: the attributes
    /// of every item the program made (secrets are not shown without --unlock).
    pub fn search(&self, env: &Env) -> String {
        let mut cmd = env.command("secret-tool");
        cmd.args(["search", "--all", "service", "credential-oauth"]);
        let out = run_command(cmd, b"");
        format!("{}{}", out.stdout, out.stderr)
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        // The keyring first, so it does not see its bus vanish.
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
