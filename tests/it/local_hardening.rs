//! The local attacker and hostile input (security review, issue 11, "Low"):
//! a permissive umask, hostile environment values, core dumps, token values
//! that would inject into a header, terminal escapes in names, and text
//! browsers on git's pipes.

use crate::support::*;

const URL: &str = "https://git.example.com/";

/// Runs `$0 "$@"` with umask 000, the way a careless login shell would.
const UMASK_000: &str = "umask 000; exec \"$0\" \"$@\"";

#[test]
fn every_directory_created_is_0700_even_under_umask_000() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let mut cmd = env.command("sh");
    cmd.args(["-c", UMASK_000, BIN, "token", URL]);
    let out = run_command(cmd, b"");
    out.ok();
    let cache = env.home.join(".cache");
    let ours = cache.join("credential-oauth");
    // The metadata cache is written on discovery, which this config uses.
    let metadata = ours.join("metadata");
    assert!(metadata.is_dir(), "{out}");
    for dir in [&cache, &ours, &env.tokens_dir(), &metadata] {
        assert_eq!(mode(dir), 0o700, "{}\n{out}", dir.display());
    }
    for file in env.token_files() {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}

/// Whether the run ended in a panic: exit 101 or the panic message.
fn panicked(out: &Output) -> bool {
    out.code == Some(101) || out.stderr.contains("panicked")
}

#[test]
fn hostile_environment_values_never_panic() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let server = TestServer::start().unwrap();
    // Inside the 60 s margin: every run asks the server, so the HTTP client
    // and the lock wait (which read the timeouts) are built every time.
    server.set_token_lifetime(Some(30));
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let run = |var: &str, value: &OsStr| {
        let mut cmd = env.command(BIN);
        cmd.env(var, value).args(["token", URL]);
        run_command(cmd, b"")
    };
    // Values that are not a usable number of seconds are ignored and huge
    // ones are capped: the token still comes.
    let ignored_or_capped = [
        "1e20",
        "1e308",
        "1.8e308",
        "inf",
        "-inf",
        "infinity",
        "NaN",
        "-1",
        "0",
        "-0",
        "18446744073709551616",
        "340282366920938463463374607431768211456",
        "99999999999999999999999999999999999999999",
        "",
        " ",
        "0x10",
        "1_000",
        "\u{663}",
        "\u{202e}5",
        "5\u{1b}[31m",
    ];
    for var in [
        "CREDENTIAL_OAUTH_HTTP_TIMEOUT",
        "CREDENTIAL_OAUTH_LOGIN_TIMEOUT",
    ] {
        for value in ignored_or_capped {
            let out = run(var, OsStr::new(value));
            assert!(!panicked(&out), "{var}={value:?}\n{out}");
            assert!(
                server.is_active(out.ok().stdout.trim_end()),
                "{var}={value:?}\n{out}"
            );
        }
        // Tiny but positive: a valid, useless timeout. It may fail; it may
        // not panic.
        for value in ["1e-320", "0.000000001", "5e-324"] {
            let out = run(var, OsStr::new(value));
            assert!(!panicked(&out), "{var}={value:?}\n{out}");
        }
        let out = run(var, OsStr::from_bytes(b"\xff\xfe30"));
        assert!(!panicked(&out), "{var}=<not UTF-8>\n{out}");
        assert!(server.is_active(out.ok().stdout.trim_end()), "{out}");
    }
    // Variables holding words or paths: a wrong value is one line of error
    // or is ignored, never a panic.
    for var in [
        "CREDENTIAL_OAUTH_STORAGE",
        "CREDENTIAL_OAUTH_CONFIG",
        "HOME",
        "CREDENTIAL_OAUTH_LOG",
        "CREDENTIAL_OAUTH_PROTOCOL",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "BROWSER",
        "DISPLAY",
    ] {
        for value in [
            OsStr::new(""),
            OsStr::new("1e20"),
            OsStr::new("\u{1b}]0;x\u{7}"),
            OsStr::new("relative/dir"),
            OsStr::new(":::"),
            OsStr::from_bytes(b"\xff\xfe"),
            OsStr::from_bytes(b"/\xff\xfe"),
        ] {
            let out = run(var, value);
            assert!(!panicked(&out), "{var}={value:?}\n{out}");
            assert!(out.stderr.lines().count() <= 1, "{var}={value:?}\n{out}");
        }
    }
}

#[test]
fn a_home_that_is_not_utf8_is_used_as_it_is() {
    use std::os::unix::ffi::OsStrExt;
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let home = env.root.join(std::ffi::OsStr::from_bytes(b"home-\xff\xfe"));
    std::fs::create_dir_all(home.join(".config")).unwrap();
    std::fs::rename(
        env.home.join(".config/credential-oauth"),
        home.join(".config/credential-oauth"),
    )
    .unwrap();
    let mut cmd = env.command(BIN);
    cmd.env("HOME", &home).args(["token", URL]);
    let out = run_command(cmd, b"");
    assert!(!panicked(&out), "{out}");
    assert!(server.is_active(out.ok().stdout.trim_end()), "{out}");
    assert!(home.join(".cache/credential-oauth/tokens").is_dir());
}

/// The effective uid of the test process, from /proc.
fn test_euid() -> u32 {
    proc_uid(&std::fs::read_to_string("/proc/self/status").unwrap())
}

/// The effective uid on the `Uid:` line of a /proc/<pid>/status.
fn proc_uid(status: &str) -> u32 {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|u| u.parse().ok())
        .unwrap()
}

/// Raise the soft core limit as far as the hard one allows, so the check
/// below sees what the program did rather than what the test runner had.
const CORE_LIMIT_UP: &str = "ulimit -S -c \"$(ulimit -H -c)\" 2>/dev/null; exec \"$0\" \"$@\"";

#[test]
fn a_process_waiting_for_a_login_writes_no_core_and_is_not_dumpable() {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    let server = TestServer::start().unwrap();
    server.add_client("app", None);
    let mut env = Env::new();
    env.write_config(&interactive_provider(
        &server,
        URL,
        "client_id = \"app\"\nlogin_timeout = 60\n",
    ));
    // A browser that opens nothing: the login waits for a redirect.
    env.browser("exit 0");
    let mut cmd = env.command("sh");
    cmd.args(["-c", CORE_LIMIT_UP, BIN, "login", URL]);
    // A process that is not dumpable has its /proc files owned by root
    // (proc(5)). Root owns its own either way, so under root the program runs
    // as nobody, where the owner tells the two apart.
    if test_euid() == 0 {
        let chown = std::process::Command::new("chown")
            .args(["-R", "65534:65534"])
            .arg(&env.root)
            .status()
            .unwrap();
        assert!(chown.success());
        cmd.uid(65534).gid(65534);
    }
    let mut run = spawn_command(cmd, "");
    run.wait_for_line("  http://", 20);
    let pid = run.pid();
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let status_path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&status_path).unwrap();
    let owner = std::fs::metadata(&status_path).unwrap().uid();
    let out = run.kill();
    let core: Vec<&str> = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max core file size"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(core[..2], ["0", "0"], "{limits}\n{out}");
    assert_ne!(
        proc_uid(&status),
        0,
        "the check needs a process not run as root"
    );
    assert_eq!(
        owner, 0,
        "/proc/{pid} is not owned by root: the process is dumpable\n{out}"
    );
}

/// Each body replaces the token endpoint's answer once.
const NOT_B64TOKEN: [&str; 5] = [
    r#"{"access_token":"evil\nInjected: 1","token_type":"Bearer","expires_in":3600}"#,
    r#"{"access_token":"evil token","token_type":"Bearer","expires_in":3600}"#,
    r#"{"access_token":"evil\u0000token","token_type":"Bearer","expires_in":3600}"#,
    r#"{"access_token":"evil=token","token_type":"Bearer","expires_in":3600}"#,
    r#"{"access_token":"at_good","token_type":"Bearer","expires_in":3600,"refresh_token":"evil refresh"}"#,
];

#[test]
fn a_token_that_is_not_a_b64token_is_neither_printed_nor_cached() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    for body in NOT_B64TOKEN {
        server.fail_next_on("/token", 1, Fault::json(200, body));
        let out = env.run(&["token", URL], "");
        assert_eq!(out.code, Some(1), "{body}\n{out}");
        assert_eq!(out.stdout, "", "{body}\n{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{body}\n{out}");
        assert!(out.stderr.starts_with("credential-oauth: "), "{out}");
        assert!(
            !out.stderr.contains("evil") && !out.stderr.contains("Injected"),
            "the value is not shown\n{out}"
        );
        assert!(env.stored_entries().is_empty(), "{body}\n{out}");
    }
}

#[test]
fn a_cached_token_that_is_not_a_b64token_is_a_miss_and_is_replaced() {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    // An entry as an older version (or anyone who can write the store) left it.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(env.tokens_dir())
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let entry = env
        .tokens_dir()
        .join(format!("{}.json", Env::client_credentials_key(&server)));
    for evil in ["evil\nInjected: 1", "evil token", "évil"] {
        let stored = serde_json::json!({
            "access_token": evil,
            "token_type": "Bearer",
            "obtained_at": now,
            "expires_at": now + 3600,
        });
        let _ = std::fs::remove_file(&entry);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&entry)
            .unwrap();
        std::io::Write::write_all(&mut f, stored.to_string().as_bytes()).unwrap();
        drop(f);
        let before = server.count("token");
        let out = env.run(&["token", URL], "");
        let token = out.ok().stdout.trim_end().to_string();
        assert!(server.is_active(&token), "{evil:?}\n{out}");
        assert_eq!(server.count("token"), before + 1, "{out}");
        assert!(!out.stdout.contains("evil"), "{out}");
        let replaced: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
        assert_eq!(replaced["access_token"], token.as_str());
    }
}

#[test]
fn status_escapes_control_and_format_characters_in_account_names() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    let url = format!("http://127.0.0.1:{}/", server.port());
    env.client_credentials_config(&server, &url);
    // An OSC that retitles the terminal, a bell, a right-to-left override,
    // a zero-width space, a byte order mark and a soft hyphen.
    let account = "\u{1b}]0;pwned\u{7}\u{202e}x\u{200b}y\u{feff}z\u{ad}";
    let request = format!(
        "protocol=http\nhost=127.0.0.1:{}\nusername={account}\n\n",
        server.port()
    );
    let get = env.run(&["get"], &request);
    assert!(
        server.is_active(&get.ok().field("password").unwrap()),
        "{get}"
    );
    let out = env.run(&["status"], "");
    out.ok();
    for c in [
        '\u{1b}', '\u{7}', '\u{202e}', '\u{200b}', '\u{feff}', '\u{ad}',
    ] {
        assert!(!out.stdout.contains(c), "{c:?} shown raw\n{out}");
    }
    assert!(
        out.stdout.contains(
            r"account \x1b]0;pwned\x07\u{202e}x\u{200b}y\u{feff}z\u{ad}: token expires in"
        ),
        "{out}"
    );
}

#[test]
fn text_browsers_are_skipped_and_no_browser_touches_gits_pipes() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().unwrap();
    server.add_client("app", None);
    let mut env = Env::new();
    env.write_config(&interactive_provider(
        &server,
        URL,
        "client_id = \"app\"\nlogin_timeout = 20\n",
    ));
    // A `lynx` first on PATH: were it run on git's stdout, git would read
    // its output as the credential.
    std::fs::create_dir_all(env.bin_dir()).unwrap();
    let lynx = env.bin_dir().join("lynx");
    std::fs::write(
        &lynx,
        format!(
            "#!/bin/sh\ntouch '{}'\necho password=stolen\n",
            env.root.join("lynx-ran").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&lynx, std::fs::Permissions::from_mode(0o755)).unwrap();
    // A graphical browser that follows the URL, says something on stdout and
    // reads stdin.
    env.browser(
        r#"echo password=from-the-browser
cat > "$DIR/browser-stdin"
curl -sS -L -o "$DIR/page.html" -w '%{http_code}' "$1" > "$DIR/status.tmp"
mv "$DIR/status.tmp" "$DIR/status""#,
    );
    let script = env.root.join("browser.sh").display().to_string();
    env.set_var("BROWSER", &format!("lynx:{script}"));
    let path = env.path_with_bin_dir().into_string().unwrap();
    env.set_var("PATH", &path);
    // Something after the request that a browser on our stdin could read.
    let stdin = format!("url={URL}\n\nleftover=1\n");
    let out = env.run(&["get"], &stdin);
    out.ok();
    assert!(server.is_active(&out.field("password").unwrap()), "{out}");
    assert!(
        out.stdout.lines().all(|l| l.contains('=')) && !out.stdout.contains("stolen"),
        "{out}"
    );
    assert!(!out.stdout.contains("from-the-browser"), "{out}");
    assert!(!env.root.join("lynx-ran").exists(), "lynx was run\n{out}");
    assert!(wait_for_file(&env.root.join("status"), 10));
    assert_eq!(env.lines_of("status"), ["200"]);
    // git's stdin is read to its end before a browser starts; `token` does
    // not read its stdin, so there a browser on our stdin would get it.
    env.run(&["logout", URL], "").ok();
    std::fs::remove_file(env.root.join("browser-stdin")).unwrap();
    let out = env.run(&["token", URL], "typed-by-the-person\n");
    assert!(server.is_active(out.ok().stdout.trim_end()), "{out}");
    assert_eq!(
        std::fs::read_to_string(env.root.join("browser-stdin")).unwrap(),
        "",
        "the browser read our stdin"
    );
    assert!(!env.root.join("lynx-ran").exists(), "lynx was run\n{out}");
}

#[test]
fn a_browser_that_fails_to_start_is_skipped_for_the_next_one() {
    let server = TestServer::start().unwrap();
    server.add_client("app", None);
    let mut env = Env::new();
    env.write_config(&interactive_provider(
        &server,
        URL,
        "client_id = \"app\"\nlogin_timeout = 20\n",
    ));
    env.browser(
        r#"curl -sS -L -o /dev/null -w '%{http_code}' "$1" > "$DIR/status.tmp"
mv "$DIR/status.tmp" "$DIR/status""#,
    );
    let script = env.root.join("browser.sh").display().to_string();
    env.set_var("BROWSER", &format!("false:{script} %s"));
    let out = env.run(&["token", URL], "");
    assert!(server.is_active(out.ok().stdout.trim_end()), "{out}");
    // The browser writes the page's status after the login has its code.
    assert!(wait_for_file(&env.root.join("status"), 10));
    assert_eq!(env.lines_of("status"), ["200"]);
}

#[test]
fn a_certificate_file_that_never_ends_is_refused_not_read() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    for value in ["/dev/zero", "/", "/nonexistent/ca.pem"] {
        let mut cmd = env.command(BIN);
        cmd.env("SSL_CERT_FILE", value).args(["token", URL]);
        let out = run_command(cmd, b"");
        out.fails();
        assert!(out.stderr.contains("SSL_CERT_FILE"), "{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        assert!(out.stdout.is_empty(), "{out}");
    }
    assert_eq!(server.count("token"), 0);
}
