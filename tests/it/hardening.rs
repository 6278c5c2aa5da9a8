//! Hostile surroundings: the token store refuses what it cannot trust.

use crate::support::*;
use std::os::unix::fs::PermissionsExt;

fn setup() -> (TestServer, Env) {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    (server, env)
}

#[test]
fn symlinked_token_directory_is_refused() {
    let (server, env) = setup();
    let elsewhere = env.root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(env.tokens_dir().parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&elsewhere, env.tokens_dir()).unwrap();
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(out.stderr.contains("symbolic link"), "{out}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    assert_eq!(server.count("token"), 0);
}

#[test]
fn symlinked_token_file_is_refused() {
    let (server, env) = setup();
    env.run(&["token", "https://git.example.com/"], "").ok();
    let entry = env.token_entries()[0].clone();
    let decoy = env.root.join("decoy.json");
    std::fs::rename(&entry, &decoy).unwrap();
    std::os::unix::fs::symlink(&decoy, &entry).unwrap();
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(out.stderr.contains("symbolic link"), "{out}");
    assert_eq!(server.count("token"), 1);
}

#[test]
fn loose_modes_are_repaired_with_a_warning() {
    let (_server, env) = setup();
    let token = env
        .run(&["token", "https://git.example.com/"], "")
        .ok()
        .stdout
        .clone();
    let entry = env.token_entries()[0].clone();
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(env.tokens_dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = env.run(&["token", "https://git.example.com/"], "");
    assert_eq!(out.ok().stdout, token);
    assert!(
        out.stderr.contains("warning") && out.stderr.contains("accessible to other users"),
        "{out}"
    );
    assert_eq!(mode(&entry), 0o600);
    assert_eq!(mode(&env.tokens_dir()), 0o700);
}

#[test]
fn token_file_of_another_user_is_refused() {
    let (_server, env) = setup();
    env.run(&["token", "https://git.example.com/"], "").ok();
    let entry = env.token_entries()[0].clone();
    // Changing a file's owner needs root; elsewhere the check cannot be staged.
    let chown = std::process::Command::new("chown")
        .arg("65534")
        .arg(&entry)
        .status();
    if !chown.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and must stage this"
        );
        eprintln!("skipped: chown to another user needs root");
        return;
    }
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(out.stderr.contains("belongs to uid 65534"), "{out}");
}

/// A token entry read while writers are being killed: it must be a whole
/// token, old or new, never torn or empty.
fn assert_whole_entry(path: &std::path::Path) {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let v: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("torn entry ({e}): {text:?}"));
            assert!(
                v["access_token"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("at_")),
                "{text}"
            );
        }
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::NotFound),
    }
}

#[test]
fn writers_killed_at_random_points_never_tear_the_entry_or_block_others() {
    let server = TestServer::start().unwrap();
    // Every call finds the token inside the last minute, so every process
    // refreshes and writes.
    server.set_token_lifetime(Some(30));
    server.set_client_credentials_refresh(true);
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    env.run(&["token", "https://git.example.com/"], "").ok();
    let entry = env.token_entries()[0].clone();

    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut killed = 0;
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        // Readers run throughout; each must get a token the server issued.
        let reader = scope.spawn(|| {
            let mut reads = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let out = env.run(&["token", "https://git.example.com/"], "");
                assert!(out.ok().stdout.starts_with("at_"), "{out}");
                reads += 1;
            }
            reads
        });
        for _ in 0..200 {
            let mut writer = env.command(BIN);
            writer
                .args(["token", "https://git.example.com/"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            let mut writer = writer.spawn().unwrap();
            // Fault injection, not synchronisation: kill somewhere in the run.
            std::thread::sleep(std::time::Duration::from_micros(next() % 4000));
            if writer.kill().is_ok() {
                killed += 1;
            }
            writer.wait().unwrap();
            assert_whole_entry(&entry);
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(reader.join().unwrap() > 0);
    });
    assert!(killed > 0);
    // The lock of every killed holder was released by the kernel, so a
    // reader still gets a working token, and promptly.
    let out = env.run(&["token", "https://git.example.com/"], "");
    assert!(server.is_active(out.ok().stdout.trim_end()), "{out}");
    assert_whole_entry(&entry);
}

#[test]
fn plain_http_to_a_remote_issuer_is_refused_before_any_request() {
    let env = Env::new();
    env.write_config(
        "storage = \"file\"\n[[provider]]\nurl = \"https://git.example.com/\"\n\
         issuer = \"http://auth.internal.example\"\nclient_id = \"c\"\nclient_secret = \"s\"\n\
         grant = \"client_credentials\"\n",
    );
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(out.stderr.contains("must use https"), "{out}");
    assert!(out.stderr.contains("allow_insecure_http"), "{out}");
}

#[test]
fn a_ca_file_that_is_missing_or_not_pem_is_a_clear_error() {
    let server = TestServer::start().unwrap();
    server.add_client("ci", Some("ci-secret"));
    let env = Env::new();
    let not_pem = env.root.join("ca.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    for (ca, needle) in [
        (env.root.join("missing.pem"), "No such file"),
        (not_pem, "holds no certificate"),
    ] {
        env.write_config(&format!(
            "storage = \"file\"\n[[provider]]\nurl = \"https://git.example.com/\"\nissuer = \"{}\"\n\
             client_id = \"ci\"\nclient_secret = \"ci-secret\"\ngrant = \"client_credentials\"\n\
             ca_file = \"{}\"\n",
            server.issuer(),
            ca.display()
        ));
        let out = env.run(&["token", "https://git.example.com/"], "");
        out.fails();
        assert!(
            out.stderr.contains("ca_file") && out.stderr.contains(needle),
            "{out}"
        );
    }
    assert_eq!(server.count("token"), 0);
}

/// Resident memory of a process, in KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn junk_half_requests_and_a_wrong_state_do_not_end_the_login() {
    use std::io::Write;
    let server = TestServer::start().unwrap();
    server.add_client("app", None);
    let mut env = Env::new();
    env.write_config(&interactive_provider(
        &server,
        "https://git.example.com/",
        "client_id = \"app\"\nlogin_timeout = 60\n",
    ));
    // A browser that opens nothing: the test plays the browser itself.
    env.browser("exit 0");
    let mut run = env.spawn(&["token", "https://git.example.com/"], "");
    let url = run.wait_for_line("  http://", 20).trim().to_string();
    let authorize = url::Url::parse(&url).unwrap();
    let redirect = authorize
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .map(|(_, v)| url::Url::parse(&v).unwrap())
        .unwrap();
    let addr = format!("127.0.0.1:{}", redirect.port().unwrap());
    let before = rss_kib(run.pid());

    // Slowloris: connections that start a request and never finish it.
    let mut half_open = Vec::new();
    for _ in 0..100 {
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        let _ = c.write_all(b"GET /?code=x&state=y HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
        half_open.push(c);
    }
    // A header that never ends: cut off at the head limit, not buffered.
    {
        let mut c = std::net::TcpStream::connect(&addr).unwrap();
        let _ = c.write_all(b"GET /?state=x HTTP/1.1\r\nX-Endless: ");
        let _ = c.write_all(&vec![b'A'; 4 << 20]);
    }
    // A thousand junk requests: garbage, stray paths, a forged state.
    for i in 0..1000 {
        let Ok(mut c) = std::net::TcpStream::connect(&addr) else {
            continue;
        };
        let junk: &[u8] = match i % 4 {
            0 => b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n",
            1 => b"GET /favicon.ico HTTP/1.1\r\nHost: x\r\n\r\n",
            2 => b"GET /?code=forged&state=not-the-state HTTP/1.1\r\nHost: x\r\n\r\n",
            _ => b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        };
        let _ = c.write_all(junk);
    }
    let during = rss_kib(run.pid());

    // The real browser now completes the login, the half-open connections
    // still hanging.
    let callback = {
        // Follow the authorization server's redirect to the loopback listener.
        let mut c =
            std::net::TcpStream::connect(server.issuer().trim_start_matches("http://")).unwrap();
        let path = format!("{}?{}", authorize.path(), authorize.query().unwrap());
        write!(c, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut answer = String::new();
        std::io::Read::read_to_string(&mut c, &mut answer).unwrap();
        answer
            .lines()
            .find_map(|l| {
                l.strip_prefix("Location: ")
                    .or_else(|| l.strip_prefix("location: "))
            })
            .unwrap()
            .trim()
            .to_string()
    };
    let (status, page) = http_get(&callback);
    assert_eq!(status, 200, "{page}");
    let out = run.finish();
    drop(half_open);
    assert!(server.is_active(out.ok().stdout.trim_end()), "{out}");
    assert!(
        during < before + 8 * 1024,
        "memory grew from {before} KiB to {during} KiB"
    );
}

#[test]
fn malformed_input_to_every_frontend_is_one_line_and_writes_nothing() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let run_bytes = |args: &[&str], stdin: &[u8]| {
        let mut cmd = env.command(BIN);
        cmd.args(args);
        run_command(cmd, stdin)
    };
    // (args, stdin, expected exit code)
    let cases: Vec<(&[&str], Vec<u8>, i32)> = vec![
        (
            &["get"],
            b"protocol=https\nhost=git.example.com\0\n".to_vec(),
            1,
        ),
        (&["get"], b"protocol=https\nhost=git.\xff.com\n".to_vec(), 1),
        (
            &["get"],
            b"protocol=https\nhost=git.example.com\r\r\n".to_vec(),
            1,
        ),
        (&["get"], b"protocol=https\nno equals sign\n".to_vec(), 1),
        (&["erase"], b"\x00\x01\x02".to_vec(), 1),
        (&["store"], vec![b'k'; 200 << 10], 1),
        (&["token", "not a url at all"], Vec::new(), 2),
        (&["token", "ftp://git.example.com/"], Vec::new(), 2),
        (&["token"], Vec::new(), 2),
        (&["frobnicate"], Vec::new(), 2),
    ];
    for (args, stdin, code) in cases {
        let out = run_bytes(args, &stdin);
        assert_eq!(out.code, Some(code), "{out}");
        assert_eq!(out.stdout, "", "{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        assert!(out.stderr.starts_with("credential-oauth: "), "{out}");
    }
    // Hosts git may send that are not ours, or not hosts at all: no answer,
    // success, so git asks its other helpers.
    for stdin in [
        "protocol=https\nhost=\x1b[31mred\n\n",
        "protocol=https\nhost=git.example.com@evil.example\n\n",
        "protocol=https\n\n",
        "host=git.example.com\n\n",
    ] {
        let out = run_bytes(&["get"], stdin.as_bytes());
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(0), "", ""),
            "{out}"
        );
    }
    assert!(env.token_files().is_empty(), "{:?}", env.token_files());
    assert_eq!(server.count("token"), 0);

    // An IPv6 literal and a URL with a user name still work.
    let v6 = Env::new();
    v6.client_credentials_config(&server, &format!("http://[::1]:{}/", server.port()));
    let out = v6.run(
        &["get"],
        &format!("url=http://alice@[::1]:{}/repo.git\n\n", server.port()),
    );
    assert!(
        server.is_active(&out.ok().field("password").unwrap()),
        "{out}"
    );
    assert_eq!(out.field("username").as_deref(), Some("alice"));

    // A config file that is not text, and a store entry that is not JSON.
    let bad = Env::new();
    std::fs::create_dir_all(bad.config_path().parent().unwrap()).unwrap();
    std::fs::write(bad.config_path(), b"storage = \"file\"\n\xff\xfe\0").unwrap();
    let out = bad.run(&["get"], "protocol=https\nhost=git.example.com\n\n");
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(
        out.stderr
            .contains(&bad.config_path().display().to_string()),
        "{out}"
    );
}
