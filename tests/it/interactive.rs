//! People in the loop: the browser login with PKCE and a loopback redirect,
//! the device grant, refresh with rotation, one login at a time, and
//! dynamic client registration. `$BROWSER` is a shell script driving curl.

use crate::support::*;

const URL: &str = "https://git.example.com/";

/// A browser that follows the authorization URL to the loopback listener,
/// counting its runs and keeping the page it ends on.
const FOLLOW: &str = r#"echo run >> "$DIR/browser-runs"
curl -sS -L -o "$DIR/page.html" -w '%{http_code}' "$1" > "$DIR/status.tmp"
mv "$DIR/status.tmp" "$DIR/status""#;

/// The redirect URI of the authorization URL in `$1`, in `$redirect`.
const REDIRECT: &str = r#"redirect=$(printf '%s\n' "$1" | sed -n 's/.*[?&]redirect_uri=\([^&]*\).*/\1/p' | sed -e 's/%3A/:/g' -e 's/%2F/\//g')"#;

/// An env whose provider is the public client `app` using the browser.
fn browser_env(server: &TestServer, extra: &str) -> Env {
    server.add_client("app", None);
    let mut env = Env::new();
    env.write_config(&interactive_provider(
        server,
        URL,
        &format!("client_id = \"app\"\nscopes = [\"read\"]\n{extra}"),
    ));
    env.browser(FOLLOW);
    env
}

fn token(env: &Env) -> Output {
    env.run(&["token", URL], "")
}

#[test]
fn browser_login_with_pkce_gives_a_token_the_server_accepts() {
    let server = TestServer::start().unwrap();
    let env = browser_env(&server, "");
    let out = env.run(&["get"], &format!("url={URL}\nusername=alice\n\n"));
    out.ok();
    let password = out.field("password").unwrap();
    assert!(server.is_active(&password), "{out}");
    assert!(
        out.stdout.lines().all(|l| l.contains('=')),
        "stdout carries only the protocol\n{out}"
    );
    assert!(out.stderr.contains("/authorize?"), "URL printed\n{out}");

    let authorize = server.last_request("/authorize").unwrap();
    let q = |k: &str| {
        authorize
            .query
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(q("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(q("login_hint").as_deref(), Some("alice"));
    assert_eq!(q("state").map(|s| s.len()), Some(43));
    let redirect = q("redirect_uri").unwrap();
    assert!(
        redirect.starts_with("http://127.0.0.1:") && !redirect.starts_with("http://127.0.0.1:0/"),
        "the actual port is sent: {redirect}"
    );
    let exchange = server.last_request("/token").unwrap();
    assert_eq!(exchange.param("code_verifier").map(str::len), Some(43));
    assert_eq!(exchange.param("redirect_uri"), Some(redirect.as_str()));

    assert!(wait_for_file(&env.root.join("status"), 10));
    assert_eq!(env.lines_of("status"), ["200"]);
    let page = std::fs::read_to_string(env.root.join("page.html")).unwrap();
    assert!(page.contains("close this tab"), "{page}");
}

#[test]
fn stray_requests_before_the_callback_are_ignored() {
    let server = TestServer::start().unwrap();
    let mut env = browser_env(&server, "");
    env.browser(&format!(
        "{REDIRECT}\ncurl -s -o /dev/null -w '%{{http_code}}' \"${{redirect}}favicon.ico\" > \"$DIR/stray\"\n{FOLLOW}"
    ));
    let out = token(&env);
    out.ok();
    assert!(server.is_active(out.stdout.trim()), "{out}");
    assert_eq!(env.lines_of("stray"), ["404"], "{out}");
}

#[test]
fn a_redirect_with_a_foreign_state_is_refused() {
    let server = TestServer::start().unwrap();
    let mut env = browser_env(&server, "");
    env.browser(&format!(
        "{REDIRECT}\ncurl -s -o \"$DIR/forged.html\" -w '%{{http_code}}' \"${{redirect}}?code=forged&state=forged\" > \"$DIR/forged\"\n{FOLLOW}"
    ));
    let out = token(&env);
    out.ok();
    assert!(server.is_active(out.stdout.trim()), "{out}");
    assert_eq!(env.lines_of("forged"), ["400"], "{out}");
    let page = std::fs::read_to_string(env.root.join("forged.html")).unwrap();
    assert!(page.contains("state does not match"), "{page}");
    assert_eq!(
        server.count("authorization_code"),
        1,
        "the forged code was never exchanged"
    );
}

#[test]
fn access_denied_in_the_browser_is_a_clear_error() {
    let server = TestServer::start().unwrap();
    server.set_authorize_deny(true);
    let env = browser_env(&server, "");
    let out = token(&env);
    out.fails();
    assert!(
        out.stderr.contains("denied in the browser (access_denied"),
        "{out}"
    );
    assert!(!out.stderr.contains("timed out"), "{out}");
    assert_eq!(server.count("token"), 0, "{out}");
    assert!(env.stored_entries().is_empty());
}

#[test]
fn no_redirect_times_out_with_a_clear_message() {
    let server = TestServer::start().unwrap();
    let mut env = browser_env(&server, "login_timeout = 1\n");
    env.browser("true");
    let out = token(&env);
    out.fails();
    assert!(
        out.stderr.contains("within 1 s; the login timed out"),
        "{out}"
    );
}

#[test]
fn a_busy_redirect_port_is_named() {
    let server = TestServer::start().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    server.add_client("app", None);
    let mut env = Env::new();
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nurl = \"{URL}\"\nissuer = \"{}\"\nclient_id = \"app\"\n\
         redirect_uri = \"http://127.0.0.1:{port}/\"\n",
        server.issuer()
    ));
    env.browser(FOLLOW);
    let out = token(&env);
    out.fails();
    assert!(
        out.stderr.contains(&format!("port {port} is busy")),
        "{out}"
    );
    assert!(env.lines_of("browser-runs").is_empty(), "no browser opened");
}

/// Start `token`, read the user code from stderr and visit the page.
fn approve(server: &TestServer, env: &Env) -> (Output, u16) {
    approve_run(server, env, &["token", URL])
}

/// [`approve`] for the command `args`.
fn approve_run(server: &TestServer, env: &Env, args: &[&str]) -> (Output, u16) {
    // Someone at a terminal, who can read the code.
    let mut run = env.spawn_at_terminal(args, "");
    let line = run.wait_for_line("user_code=", 20);
    let code = line.trim_start_matches("user_code=");
    let (status, _) = http_get(&format!("{}/device?user_code={code}", server.issuer()));
    (run.finish(), status)
}

#[test]
fn device_grant_polls_until_approved() {
    let server = TestServer::start().unwrap();
    let env = device_env(&server, URL, "device_code", "");
    let (out, status) = approve(&server, &env);
    assert_eq!(status, 200);
    out.ok();
    assert!(server.is_active(out.stdout.trim()), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "open {}/device and enter the code",
            server.issuer()
        )),
        "{out}"
    );
}

/// A server that forgot the client this helper registered (restarted, or
/// expiring dynamic clients) answers `invalid_client`: the helper drops
/// that registration, registers again and the login goes on.
#[test]
fn a_registration_the_server_forgot_is_made_again_and_the_login_goes_on() {
    let server = TestServer::start().unwrap();
    server.set_device_interval(0);
    let env = Env::new();
    env.write_config(&interactive_provider(
        &server,
        URL,
        "grant = \"device_code\"\n",
    ));
    let (first, _) = approve_run(&server, &env, &["login", URL]);
    first.ok();
    assert_eq!(server.registered_clients().len(), 1, "{first}");

    server.forget_registered_clients();
    let (second, status) = approve_run(&server, &env, &["login", URL]);
    assert_eq!(status, 200);
    second.ok();
    assert_eq!(server.registered_clients().len(), 2, "{second}");
    assert!(second.stderr.contains("registering again"), "{second}");
    let token = env.run(&["token", URL], "");
    assert!(server.is_active(token.ok().stdout.trim()), "{token}");
}

#[test]
fn device_grant_denied_is_a_clear_error() {
    let server = TestServer::start().unwrap();
    server.set_device_deny(true);
    let env = device_env(&server, URL, "device_code", "");
    let (out, _) = approve(&server, &env);
    out.fails();
    assert!(out.stderr.contains("denied"), "{out}");
}

#[test]
fn device_grant_expired_code_is_a_clear_error() {
    let server = TestServer::start().unwrap();
    server.set_device_code_lifetime(0);
    let env = device_env(&server, URL, "device_code", "");
    let out = env.run_at_terminal(&["token", URL], "");
    out.fails();
    assert!(out.stderr.contains("expired"), "{out}");
    assert!(out.stderr.contains("user_code="), "{out}");
}

#[test]
fn device_grant_slow_down_adds_five_seconds() {
    let server = TestServer::start().unwrap();
    server.set_device_slow_down(1);
    let env = device_env(&server, URL, "device_code", "");
    let (out, _) = approve(&server, &env);
    out.ok();
    let polls = server.device_poll_times();
    assert_eq!(polls.len(), 2, "{out}");
    assert!(
        polls[1] - polls[0] >= std::time::Duration::from_secs(5),
        "{:?}",
        polls[1] - polls[0]
    );
}

#[test]
fn without_a_browser_the_device_grant_is_used() {
    let server = TestServer::start().unwrap();
    // No BROWSER, DISPLAY or WAYLAND_DISPLAY: the Env's environment is clean.
    let env = device_env(&server, URL, "authorization_code", "");
    let (out, _) = approve(&server, &env);
    out.ok();
    assert!(server.is_active(out.stdout.trim()), "{out}");
    assert!(out.stderr.contains("device login instead"), "{out}");
    assert_eq!(server.count("authorize"), 0);
}

#[test]
fn without_a_browser_or_device_grant_the_printed_url_still_works() {
    let server = TestServer::start().unwrap();
    server.set_device_grant(false);
    let env = device_env(&server, URL, "authorization_code", "");
    let mut run = env.spawn_at_terminal(&["token", URL], "");
    let url = run.wait_for_line("  http://", 20).trim().to_string();
    assert!(url.contains("/authorize?"), "{url}");
    // The person opens the printed URL in a browser on another screen.
    let visit = std::process::Command::new("curl")
        .args(["-sS", "-L", "-o", "/dev/null", "-w", "%{http_code}", &url])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&visit.stdout), "200");
    let out = run.finish();
    out.ok();
    assert!(server.is_active(out.stdout.trim()), "{out}");
    assert!(out.stderr.contains("no browser could be opened"), "{out}");
}

#[test]
fn stale_token_is_refreshed_once_and_the_refresh_token_rotated() {
    let server = TestServer::start().unwrap();
    // 30 s is inside the 60 s margin: the first token is stale at once.
    server.set_token_lifetime(Some(30));
    let env = browser_env(&server, "");
    let first = token(&env);
    first.ok();
    let rt1 = env.only_token_entry()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    server.set_token_lifetime(Some(3600));

    let second = token(&env);
    second.ok();
    assert_ne!(second.stdout, first.stdout);
    assert!(server.is_active(second.stdout.trim()), "{second}");
    assert_eq!(server.count("refresh_token"), 1);
    assert_eq!(server.count("authorization_code"), 1);
    assert_eq!(env.lines_of("browser-runs").len(), 1, "refresh is silent");
    let entry = env.only_token_entry();
    let rt2 = entry["refresh_token"].as_str().unwrap();
    assert_ne!(rt2, rt1);
    assert!(server.is_active(rt2) && !server.is_active(&rt1));
    assert_eq!(entry["scope"], "read");
    assert!(!second.stderr.contains(rt2) && !second.stderr.contains(&rt1));
}

#[test]
fn invalid_grant_on_refresh_runs_the_login_again() {
    let server = TestServer::start().unwrap();
    server.set_token_lifetime(Some(30));
    let env = browser_env(&server, "");
    token(&env).ok();
    server.revoke_all_refresh_tokens();
    server.set_token_lifetime(Some(3600));
    let out = token(&env);
    out.ok();
    assert!(server.is_active(out.stdout.trim()), "{out}");
    assert_eq!(server.count("refresh_token"), 1);
    assert_eq!(server.count("authorization_code"), 2);
    assert_eq!(env.lines_of("browser-runs").len(), 2);
}

#[test]
fn refused_scope_on_refresh_renews_the_scope_granted_before() {
    let server = TestServer::start().unwrap();
    server.set_token_lifetime(Some(30));
    let env = browser_env(&server, "");
    token(&env).ok();
    server.set_token_lifetime(Some(3600));
    server.fail_next_on(
        "/token",
        1,
        Fault::json(
            400,
            r#"{"error":"invalid_scope","error_description":"narrower grant"}"#,
        ),
    );
    let out = token(&env);
    out.ok();
    assert!(server.is_active(out.stdout.trim()), "{out}");
    assert_eq!(server.count("refresh_token"), 2);
    assert_eq!(server.count("authorization_code"), 1, "no new login");
    assert_eq!(server.last_request("/token").unwrap().param("scope"), None);
}

#[test]
fn client_credentials_tokens_with_a_refresh_token_are_refreshed() {
    let server = TestServer::start().unwrap();
    server.set_client_credentials_refresh(true);
    server.set_token_lifetime(Some(30));
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    token(&env).ok();
    server.set_token_lifetime(Some(3600));
    let out = token(&env);
    out.ok();
    assert!(server.is_active(out.stdout.trim()), "{out}");
    assert_eq!(server.count("refresh_token"), 1);
    assert_eq!(server.count("client_credentials"), 1);
}

/// Run `n` copies of `args` at once.
fn parallel(env: &Env, n: usize, args: &[&str], stdin: &str) -> Vec<Output> {
    std::thread::scope(|s| {
        let runs: Vec<_> = (0..n).map(|_| s.spawn(|| env.run(args, stdin))).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    })
}

#[test]
fn twenty_parallel_gets_after_expiry_refresh_once() {
    let server = TestServer::start().unwrap();
    server.set_token_lifetime(Some(30));
    let env = browser_env(&server, "");
    token(&env).ok();
    server.set_token_lifetime(Some(3600));
    let outs = parallel(&env, 20, &["get"], &git_request(URL));
    for o in &outs {
        o.ok();
    }
    let first = outs[0].field("password").unwrap();
    assert!(
        outs.iter()
            .all(|o| o.field("password").as_ref() == Some(&first))
    );
    assert!(server.is_active(&first));
    assert_eq!(server.count("refresh_token"), 1);
}

#[test]
fn two_parallel_gets_without_a_token_open_one_browser() {
    let server = TestServer::start().unwrap();
    let env = browser_env(&server, "");
    let outs = parallel(&env, 2, &["get"], &git_request(URL));
    let a = outs[0].ok().field("password").unwrap();
    let b = outs[1].ok().field("password").unwrap();
    assert_eq!(a, b);
    assert_eq!(env.lines_of("browser-runs").len(), 1);
    assert_eq!(server.count("authorization_code"), 1);
}

#[test]
fn login_command_forces_a_new_grant() {
    let server = TestServer::start().unwrap();
    let env = browser_env(&server, "");
    let first = token(&env);
    first.ok();
    env.run(&["login", URL], "").ok();
    assert_eq!(server.count("authorization_code"), 2);
    let second = token(&env);
    assert_ne!(second.ok().stdout, first.stdout);
    assert_eq!(server.count("token"), 2, "the new token is cached");
}

#[test]
fn registration_happens_once_and_is_reused() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.write_config(&interactive_provider(&server, URL, ""));
    env.browser(FOLLOW);
    let first = token(&env);
    first.ok();
    assert!(server.is_active(first.stdout.trim()), "{first}");
    let registered = server.registered_clients();
    assert_eq!(registered.len(), 1);
    let body: serde_json::Value =
        serde_json::from_str(&server.last_request("/register").unwrap().body).unwrap();
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert_eq!(body["client_name"], "credential-oauth");
    // Port 0 (any free port) is registered without a port (RFC 8252 §7.3).
    assert_eq!(body["redirect_uris"][0], "http://127.0.0.1/");

    env.run(&["logout", URL], "").ok();
    let second = token(&env);
    second.ok();
    assert_ne!(second.stdout, first.stdout);
    assert_eq!(server.registered_clients(), registered);
    let exchange = server.last_request("/token").unwrap();
    assert_eq!(exchange.param("client_id"), Some(registered[0].as_str()));
}

#[test]
fn a_redirect_url_pasted_on_the_terminal_completes_the_login() {
    use std::io::{BufRead, Write};
    use std::process::Stdio;
    let server = TestServer::start().unwrap();
    server.set_device_grant(false);
    let mut env = device_env(&server, URL, "authorization_code", "");
    // Bounds the test should the paste be ignored.
    env.var("CREDENTIAL_OAUTH_LOGIN_TIMEOUT", "20");
    // script(1) gives the helper a terminal of its own, fed from our pipe;
    // everything the helper writes comes back on script's stdout.
    let mut child = env
        .command("script")
        .args(["-qec", &format!("{BIN} token {URL}"), "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let line = line.trim_end_matches('\r').to_string();
            let _ = tx.send(line.clone());
            all.push(line);
        }
        all
    });
    let timeout = std::time::Duration::from_secs(20);
    let url = loop {
        let line = rx
            .recv_timeout(timeout)
            .expect("no authorization URL shown");
        if line.starts_with("  http://") && line.contains("/authorize?") {
            break line.trim().to_string();
        }
    };
    loop {
        let line = rx.recv_timeout(timeout).expect("no paste prompt shown");
        if line.contains("paste here the address") {
            break;
        }
    }
    // The person logs in on another machine, where the redirect goes nowhere,
    // and copies the address the browser ends on.
    let visit = std::process::Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-w", "%{redirect_url}", &url])
        .output()
        .unwrap();
    let landed = String::from_utf8(visit.stdout).unwrap();
    assert!(landed.contains("code="), "{landed}");
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{landed}").unwrap();
    let status = child.wait().unwrap();
    drop(stdin);
    let lines = reader.join().unwrap();
    assert!(status.success(), "{lines:#?}");
    let token = lines.iter().find(|l| l.starts_with("at_")).unwrap();
    assert!(server.is_active(token), "{lines:#?}");
}

#[test]
fn device_errors_sent_with_http_200_keep_the_poll_going() {
    // GitHub answers authorization_pending and slow_down with HTTP 200.
    let server = TestServer::start().unwrap();
    let env = device_env(&server, URL, "device_code", "");
    server.fail_next_on(
        "/token",
        2,
        Fault::json(
            200,
            r#"{"error":"authorization_pending","error_description":"wait"}"#,
        ),
    );
    let (out, status) = approve(&server, &env);
    assert_eq!(status, 200);
    assert!(server.is_active(out.ok().stdout.trim()), "{out}");
    assert!(server.count("device_code") >= 3, "{out}");
}
