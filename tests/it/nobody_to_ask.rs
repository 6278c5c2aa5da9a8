//! Nobody to ask (DESIGN.md "People in the loop"): with neither a browser
//! that can open nor a terminal, or with git told not to prompt, no login
//! starts: one line naming `credential-oauth login URL`, the caller's "not
//! found" answer, at once. A refresh still runs; `login` always may ask.

use crate::support::*;

const URL: &str = "https://git.example.com/";
const HINT: &str = "credential-oauth: corp: no cached token and nobody to ask here; \
                    run: credential-oauth login https://git.example.com/";

#[test]
fn git_get_with_no_browser_and_no_terminal_answers_not_found_at_once() {
    let server = TestServer::start().unwrap();
    let env = device_env(&server, URL, "device_code", "");
    let out = env.run_detached(&["get"], &git_request(URL));
    out.ok();
    assert_eq!(out.stdout, "", "git goes on to its other helpers\n{out}");
    assert_eq!(out.stderr.trim_end(), HINT, "{out}");
    assert_eq!(server.count("device_authorization"), 0);
}

#[test]
fn git_terminal_prompt_0_starts_no_login_even_where_a_browser_could_open() {
    let server = TestServer::start().unwrap();
    server.add_client("app", None);
    let mut env = Env::new();
    env.write_config(&interactive_provider(&server, URL, "client_id = \"app\"\n"));
    env.browser(r#"echo run >> "$DIR/browser-runs"; curl -sS -L -o /dev/null "$1""#);
    env.var("GIT_TERMINAL_PROMPT", "0");
    let out = env.run_at_terminal(&["get"], &git_request(URL));
    out.ok();
    assert_eq!(out.stdout, "", "{out}");
    assert!(out.stderr.contains(HINT), "{out}");
    assert!(
        env.lines_of("browser-runs").is_empty(),
        "no browser was opened"
    );
    assert_eq!(server.count("authorize"), 0);
}

#[test]
fn docker_with_nobody_to_ask_answers_not_found() {
    let server = TestServer::start().unwrap();
    let env = device_env(&server, URL, "device_code", "");
    // No terminal: as the docker CLI runs it from a GUI or a CI job.
    let mut cmd = env.command(env.link_as("docker-credential-oauth"));
    cmd.arg("get");
    let out = run_detached_command(cmd, "git.example.com\n");
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(
        out.stdout, "credentials not found in native keychain\n",
        "{out}"
    );
    assert!(out.stderr.contains("nobody to ask here"), "{out}");
    assert_eq!(server.count("device_authorization"), 0);
}

#[test]
fn a_refresh_still_runs_with_nobody_to_ask() {
    let server = TestServer::start().unwrap();
    // Shorter than the 60 s margin: the next call refreshes.
    server.set_token_lifetime(Some(30));
    let env = device_env(&server, URL, "device_code", "");
    // The person logs in once, at a terminal.
    let mut login = env.spawn_at_terminal(&["login", URL], "");
    let line = login.wait_for_line("user_code=", 20);
    let code = line.trim_start_matches("user_code=");
    http_get(&format!("{}/device?user_code={code}", server.issuer()));
    login.finish().ok();
    // Later, with nobody there, the token is renewed silently.
    let out = env.run_detached(&["get"], &git_request(URL));
    let token = out.ok().field("password").unwrap_or_default();
    assert!(server.is_active(&token), "{out}");
    assert_eq!(server.count("refresh_token"), 1);
    assert_eq!(server.count("device_authorization"), 1);
}

#[test]
fn login_is_the_explicit_way_in_even_with_nobody_at_a_terminal() {
    let server = TestServer::start().unwrap();
    let env = device_env(&server, URL, "device_code", "");
    let mut login = env.spawn_detached(&["login", URL], "");
    let line = login.wait_for_line("user_code=", 20);
    let code = line.trim_start_matches("user_code=");
    http_get(&format!("{}/device?user_code={code}", server.issuer()));
    let out = login.finish();
    out.ok();
    assert!(out.stderr.contains("logged in to corp"), "{out}");
}
