//! Providers written in git config: only URL-scoped `credential.<url>.oauth*`
//! keys make one (DESIGN.md, "Trust: where secrets may go"). A plain
//! `[credential]` section applies to every host git talks to, so keys there
//! must never send a client secret anywhere.

use crate::support::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A host the person never configured: it records every request it gets
/// (head and body) before answering `400 invalid_grant`, so once a client
/// process has exited, everything it sent here is in [`Recorder::requests`].
struct Recorder {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (requests, stop) = (Arc::clone(&requests), Arc::clone(&stop));
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(conn) = conn {
                        let seen = read_request(&conn);
                        requests.lock().unwrap().push(seen);
                        answer(conn);
                    }
                }
            })
        };
        Recorder {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Head and body of one HTTP/1.x request, bounded in size and time.
fn read_request(conn: &TcpStream) -> String {
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut reader = BufReader::new(conn.take(256 * 1024));
    let mut text = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return text,
            Ok(_) => {}
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
        let end = line == "\r\n" || line == "\n";
        text.push_str(&line);
        if end {
            break;
        }
    }
    let mut body = vec![0; length.min(64 * 1024)];
    if reader.read_exact(&mut body).is_ok() {
        text.push_str(&String::from_utf8_lossy(&body));
    }
    text
}

fn answer(mut conn: TcpStream) {
    let body = r#"{"error":"invalid_grant"}"#;
    let _ = write!(
        conn,
        "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Every distinct git executable on PATH (this machine may have several
/// versions; each must keep unscoped keys out).
fn gits() -> Vec<PathBuf> {
    let path = test_path();
    let mut found: Vec<PathBuf> = Vec::new();
    let mut seen = Vec::new();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join("git");
        let Ok(real) = std::fs::canonicalize(&candidate) else {
            continue;
        };
        if real.is_file() && !seen.contains(&real) {
            seen.push(real);
            found.push(candidate);
        }
    }
    found
}

/// A private HOME whose global git config is `gitconfig`, with `git`
/// resolving to `git_exe` for git and for the helper alike.
fn env_with_git(git_exe: &std::path::Path, gitconfig: &str) -> Env {
    let mut env = Env::new();
    let bin = env.root.join("gitbin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(git_exe, bin.join("git")).unwrap();
    let path = format!("{}:{}", bin.display(), test_path().to_string_lossy());
    env.set_var("PATH", &path);
    let global = env.root.join("gitconfig");
    std::fs::write(&global, gitconfig).unwrap();
    let global = global.display().to_string();
    env.var("GIT_CONFIG_GLOBAL", &global);
    env.var("GIT_CONFIG_NOSYSTEM", "1");
    env.var("GIT_TERMINAL_PROMPT", "0");
    env.write_config("storage = \"file\"\n");
    env
}

fn version(env: &Env) -> String {
    let mut cmd = env.command("git");
    cmd.arg("--version");
    run_command(cmd, b"").ok().stdout.trim().to_string()
}

/// The attacker's view: a person who keeps the helper's settings in a
/// plain `[credential]` section (it applies to every host).
fn unscoped_section(extra: &str) -> String {
    format!(
        "[credential]\n\thelper = \"{BIN}\"\n\toauthPreset = gitlab\n\
         \toauthClientId = app\n\toauthClientSecret = s3cret\n{extra}"
    )
}

/// Whether `text` (a request's head and body) carries the secret `s3cret`,
/// as a form value or inside HTTP Basic credentials.
fn carries_secret(text: &str) -> bool {
    use base64::Engine;
    let basic = text
        .split_whitespace()
        .skip_while(|w| !w.eq_ignore_ascii_case("basic"));
    text.contains("s3cret")
        || basic.skip(1).take(1).any(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .is_ok_and(|raw| String::from_utf8_lossy(&raw).contains("s3cret"))
        })
}

fn assert_nothing_reached(attacker: &Recorder, out: &Output, git: &str) {
    let seen = attacker.requests();
    assert!(
        !seen.iter().any(|r| carries_secret(r)),
        "{git}: the client secret reached an unconfigured host\n{seen:#?}\n{out}"
    );
    assert!(
        seen.is_empty(),
        "{git}: an unconfigured host was contacted\n{seen:#?}\n{out}"
    );
}

#[test]
fn unscoped_oauth_keys_make_no_provider_for_the_helper() {
    let Some(()) = require_tools(&["git"]) else {
        return;
    };
    for git_exe in gits() {
        let attacker = Recorder::start();
        let env = env_with_git(&git_exe, &unscoped_section(""));
        let git = version(&env);
        // A refresh token from an earlier helper in git's chain: with a
        // provider, the helper would spend it (and the secret) at once.
        let request = format!(
            "protocol=http\nhost=127.0.0.1:{}\npath=repo.git\noauth_refresh_token=rt\n\n",
            attacker.port
        );
        let out = env.run(&["get"], &request);
        assert_nothing_reached(&attacker, &out, &git);
        out.ok();
        assert_eq!(out.stdout, "", "{git}: the helper answered\n{out}");
    }
}

#[test]
fn git_credential_fill_sends_no_secret_to_a_host_named_only_by_unscoped_keys() {
    let Some(()) = require_tools(&["git"]) else {
        return;
    };
    for git_exe in gits() {
        let attacker = Recorder::start();
        // A CI-style grant that needs nobody: before the fix, every host
        // git was pointed at got the client secret straight away.
        let env = env_with_git(
            &git_exe,
            &unscoped_section("\toauthGrant = client_credentials\n"),
        );
        let git = version(&env);
        let mut cmd = env.command("git");
        cmd.args(["credential", "fill"]);
        let out = run_command(cmd, git_request(&attacker.url("repo.git")).as_bytes());
        assert_nothing_reached(&attacker, &out, &git);
        // git falls through to its own prompt, which is disabled.
        assert!(!out.stdout.contains("password="), "{git}\n{out}");
        assert!(!out.stderr.contains("credential-oauth"), "{git}\n{out}");
    }
}

#[test]
fn unscoped_keys_given_with_dash_c_make_no_provider_either() {
    let Some(()) = require_tools(&["git"]) else {
        return;
    };
    let git_exe = gits().remove(0);
    let attacker = Recorder::start();
    let env = env_with_git(&git_exe, &format!("[credential]\n\thelper = \"{BIN}\"\n"));
    let git = version(&env);
    let mut cmd = env.command("git");
    for kv in [
        "credential.oauthIssuer=http://127.0.0.1:1".to_string(),
        format!("credential.oauthTokenEndpoint={}", attacker.url("token")),
        "credential.oauthGrant=client_credentials".to_string(),
        "credential.oauthClientId=app".to_string(),
        "credential.oauthClientSecret=s3cret".to_string(),
    ] {
        cmd.arg("-c").arg(kv);
    }
    cmd.args(["credential", "fill"]);
    let out = run_command(cmd, git_request(&attacker.url("repo.git")).as_bytes());
    assert_nothing_reached(&attacker, &out, &git);
    assert!(!out.stdout.contains("password="), "{git}\n{out}");
}

#[test]
fn scoped_keys_given_with_dash_c_make_a_provider() {
    let Some(()) = require_tools(&["git"]) else {
        return;
    };
    for git_exe in gits() {
        let server = TestServer::start().unwrap();
        server.add_client("ci", Some("ci-secret"));
        let env = env_with_git(&git_exe, &format!("[credential]\n\thelper = \"{BIN}\"\n"));
        let git = version(&env);
        let mut cmd = env.command("git");
        let section = format!("credential.{}", server.issuer());
        for (k, v) in [
            ("oauthIssuer", server.issuer()),
            ("oauthClientId", "ci".to_string()),
            ("oauthClientSecret", "ci-secret".to_string()),
            ("oauthGrant", "client_credentials".to_string()),
        ] {
            cmd.arg("-c").arg(format!("{section}.{k}={v}"));
        }
        cmd.args(["credential", "fill"]);
        let url = format!("{}/repo.git", server.issuer());
        let out = run_command(cmd, git_request(&url).as_bytes());
        let password = out.ok().field("password").unwrap_or_default();
        assert!(server.is_active(&password), "{git}\n{out}");
    }
}

/// A scoped client-credentials provider for the test server's origin, and
/// an unscoped `oauthClientSecret` next to it.
fn scoped_section(server: &TestServer, scoped_secret: Option<&str>) -> String {
    let secret = scoped_secret
        .map(|s| format!("\toauthClientSecret = {s}\n"))
        .unwrap_or_default();
    format!(
        "[credential]\n\thelper = \"{BIN}\"\n\toauthClientSecret = s3cret\n\
         [credential \"{}\"]\n\toauthIssuer = {}\n\toauthClientId = ci\n\
         \toauthGrant = client_credentials\n\toauthScopes = read write\n{secret}",
        server.issuer(),
        server.issuer()
    )
}

fn token_request_text(server: &TestServer) -> String {
    server
        .last_request("/token")
        .map(|r| {
            let head: Vec<String> = r.headers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!("{}\n\n{}", head.join("\n"), r.body)
        })
        .unwrap_or_default()
}

#[test]
fn a_scoped_section_still_makes_a_provider_and_wins_over_an_unscoped_secret() {
    let Some(()) = require_tools(&["git"]) else {
        return;
    };
    for git_exe in gits() {
        let server = TestServer::start().unwrap();
        server.add_client("ci", Some("ci-secret"));
        let env = env_with_git(&git_exe, &scoped_section(&server, Some("ci-secret")));
        let git = version(&env);
        let mut cmd = env.command("git");
        cmd.args(["credential", "fill"]);
        let url = format!("{}/group/repo.git", server.issuer());
        let out = run_command(cmd, git_request(&url).as_bytes());
        out.ok();
        let password = out.field("password").unwrap_or_default();
        assert!(server.is_active(&password), "{git}\n{out}");
        assert_eq!(server.count("client_credentials"), 1, "{git}\n{out}");
        let sent = token_request_text(&server);
        assert!(!carries_secret(&sent), "{git}: {sent}");
    }
}

#[test]
fn an_unscoped_secret_is_not_added_to_a_scoped_provider() {
    let Some(()) = require_tools(&["git"]) else {
        return;
    };
    for git_exe in gits() {
        let server = TestServer::start().unwrap();
        // Were the unscoped secret used, the grant would succeed.
        server.add_client("ci", Some("s3cret"));
        let env = env_with_git(&git_exe, &scoped_section(&server, None));
        let git = version(&env);
        let url = format!("{}/group/repo.git", server.issuer());
        let out = env.run(&["get"], &git_request(&url));
        // A client-credentials provider without its secret is incomplete:
        // no request at all, or one without any secret, never the unscoped one.
        let sent = token_request_text(&server);
        assert!(!carries_secret(&sent), "{git}: {sent}\n{out}");
        assert!(out.field("password").is_none(), "{git}\n{out}");
        assert!(!out.stderr.contains("s3cret"), "{git}\n{out}");
    }
}

#[test]
fn git_config_output_beyond_one_mib_is_not_read_and_makes_no_provider() {
    let Some(()) = require_tools(&["git"]) else {
        return;
    };
    let server = TestServer::start().unwrap();
    server.add_client("ci", Some("ci-secret"));
    let huge = "x".repeat(1024 * 1024 + 1);
    let env = env_with_git(
        &gits().remove(0),
        &format!(
            "[credential \"{0}\"]\n\toauthIssuer = {0}\n\toauthClientId = ci\n\
             \toauthClientSecret = ci-secret\n\toauthGrant = client_credentials\n\
             \toauthName = {huge}\n",
            server.issuer()
        ),
    );
    let url = format!("{}/repo.git", server.issuer());
    let out = env.run(&["-v", "get"], &git_request(&url));
    out.ok();
    assert_eq!(out.stdout, "", "{out}");
    assert!(out.stderr.contains("more than 1024 KiB"), "{out}");
    assert_eq!(server.count("token"), 0, "{out}");
}

/// `git config ARGS` in `env`, with `stdin`.
fn git_config(env: &Env, args: &[&str], stdin: &str) -> Output {
    let mut cmd = env.command("git");
    cmd.arg("config").args(args);
    run_command(cmd, stdin.as_bytes())
}

#[test]
fn rebuilt_config_text_matches_urls_exactly_as_git_matches_the_original() {
    use credential_oauth::config::gitconfig::{SCOPED_KEYS, parse_scoped, scoped_config_text};
    let Some(()) = require_tools(&["git"]) else {
        return;
    };
    let tricky = " lead \"q\" back\\slash #; \n line\ttab trail ";
    for git_exe in gits() {
        let env = env_with_git(&git_exe, "");
        let git = version(&env);
        // The original, written by git itself.
        let original = env.root.join("original.cfg");
        let original = original.to_str().unwrap();
        for (key, value) in [
            ("credential.oauthClientSecret", "unscoped"),
            ("credential.https://*.example.com.oauthClientId", "wild"),
            (
                "credential.https://git.example.com/group.oauthClientId",
                "group",
            ),
            (
                "credential.https://alice@git.example.com.oauthClientId",
                "alice",
            ),
            (
                "credential.https://git.example.com:8443.oauthClientId",
                "port",
            ),
            ("credential.http://git.example.com.oauthClientId", "plain"),
            (
                "credential.https://git.example.com.oauthIssuer",
                "https://i.example",
            ),
            (
                "credential.https://git.example.com.oauthClientSecret",
                tricky,
            ),
            (
                "credential.HTTPS://Git.Example.COM/Group.oauthScopes",
                "a b",
            ),
            ("credential.https://git.example.com.helper", "cache"),
        ] {
            git_config(&env, &["--file", original, key, value], "").ok();
        }
        let listed = git_config(
            &env,
            &["--file", original, "--null", "--get-regexp", SCOPED_KEYS],
            "",
        );
        let text = scoped_config_text(&parse_scoped(listed.ok().stdout.as_bytes()));
        assert!(!text.contains("unscoped"), "{git}\n{text}");

        let urlmatch = |file: &str, stdin: &str, url: &str| -> Vec<(String, String)> {
            let out = git_config(
                &env,
                &[
                    "--file",
                    file,
                    "--null",
                    "--get-urlmatch",
                    "credential",
                    url,
                ],
                stdin,
            );
            credential_oauth::config::gitconfig::parse_urlmatch(out.stdout.as_bytes())
                .into_iter()
                // The original's plain `[credential]` key is what must go.
                .filter(|(k, v)| k.starts_with("credential.oauth") && v != "unscoped")
                .collect()
        };
        let value = |entries: &[(String, String)], key: &str| {
            entries
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        for (url, client_id) in [
            ("https://git.example.com/group/repo.git", Some("group")),
            ("https://git.example.com/groupie/repo.git", Some("wild")),
            ("https://other.example.com/x", Some("wild")),
            ("https://a.b.example.com/x", None),
            ("https://alice@git.example.com/x", Some("alice")),
            ("https://alice@git.example.com/group/r", Some("group")),
            ("https://git.example.com:8443/x", Some("port")),
            ("http://git.example.com/group/r", Some("plain")),
            ("https://example.org/", None),
        ] {
            let ours = urlmatch("-", &text, url);
            let theirs = urlmatch(original, "", url);
            assert_eq!(ours, theirs, "{git}: {url}\n{text}");
            assert_eq!(
                value(&ours, "credential.oauthclientid").as_deref(),
                client_id,
                "{git}: {url}"
            );
        }
        let exact = urlmatch("-", &text, "https://git.example.com/Group/x");
        assert_eq!(
            value(&exact, "credential.oauthclientsecret").as_deref(),
            Some(tricky),
            "{git}"
        );
        assert_eq!(
            value(&exact, "credential.oauthscopes").as_deref(),
            Some("a b"),
            "{git}"
        );
    }
}
