//! The private HOME every test runs in: its config, its token cache and
//! the environment each command gets.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use oauth_test_server::TestServer;

/// A private HOME with its own config and cache, removed on drop.
pub struct Env {
    pub root: PathBuf,
    pub home: PathBuf,
    /// Extra environment for every command.
    pub vars: Vec<(String, String)>,
    /// Every command runs where the kernel refuses keyrings (see
    /// [`super::kernel::refuse_keyrings`]).
    pub no_kernel_keyring: bool,
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
            no_kernel_keyring: false,
        }
    }

    pub fn config_path(&self) -> PathBuf {
        self.home.join(".config/credential-oauth/config.toml")
    }

    pub fn tokens_dir(&self) -> PathBuf {
        self.home.join(".cache/credential-oauth/tokens")
    }

    pub fn var(&mut self, k: &str, v: &str) {
        self.vars.push((k.to_string(), v.to_string()));
    }

    /// A command for `program` with a clean, private environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("HOME", &self.home)
            .env("PATH", super::test_path())
            .env("LANG", "C")
            .current_dir(&self.root);
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        if self.no_kernel_keyring {
            super::kernel::refuse_keyrings(&mut cmd);
        }
        cmd
    }

    /// Set `k` for every command, replacing an earlier value.
    pub fn set_var(&mut self, k: &str, v: &str) {
        self.unset_var(k);
        self.var(k, v);
    }

    pub fn unset_var(&mut self, k: &str) {
        self.vars.retain(|(name, _)| name != k);
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
}

impl Drop for Env {
    fn drop(&mut self) {
        self.purge_kernel_keys();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

// The config file.
impl Env {
    pub fn write_config(&self, text: &str) {
        let path = self.config_path();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// A config with one client-credentials provider for `url` on `server`.
    pub fn client_credentials_config(&self, server: &TestServer, url: &str) {
        self.client_credentials_config_with_storage(server, url, "file");
    }

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

/// An Env whose provider `corp` serves `url` with `grant` (the device
/// grant, or the authorization code falling back to it) as the public
/// client `app`, the server polled every 0 s (at least 200 ms); `extra`
/// adds keys.
pub fn device_env(server: &TestServer, url: &str, grant: &str, extra: &str) -> Env {
    server.add_client("app", None);
    server.set_device_interval(0);
    let env = Env::new();
    env.write_config(&interactive_provider(
        server,
        url,
        &format!("client_id = \"app\"\ngrant = \"{grant}\"\n{extra}"),
    ));
    env
}

/// The Unix mode bits of `path`.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A copy of the test key `tests/keys/<name>` in `env`, mode 0600 as a
/// private key must be (the checkout's copy is world-readable).
pub fn private_key_file(env: &Env, name: &str) -> PathBuf {
    use std::os::unix::fs::OpenOptionsExt;
    let pem = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/keys")
            .join(name),
    )
    .unwrap();
    let path = env.root.join(format!("key-{name}"));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .unwrap();
    std::io::Write::write_all(&mut file, &pem).unwrap();
    path
}
