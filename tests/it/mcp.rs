//! MCP (DESIGN.md "Wire formats": mcp, headers): against a server built
//! with the official MCP Python SDK, protected by audience-bound tokens of
//! the test server, driven by the SDK's own stdio client through
//! `credential-oauth mcp URL`, and by `credential-oauth headers URL`.

use std::io::{BufRead, Write};

use crate::support::mcp_sdk::{McpServer, mcp_python, step};
use crate::support::*;

/// The test "browser": follows the login to the loopback redirect.
const FOLLOW: &str = r#"echo run >> "$DIR/browser-runs"; curl -sS -L -o /dev/null "$1""#;

/// An Env with a browser, no config: the server names its issuer.
fn person() -> Env {
    let mut env = Env::new();
    env.write_config("storage = \"file\"\n");
    env.browser(FOLLOW);
    env
}

fn token_of(headers: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(headers.trim()).unwrap();
    let value = v["Authorization"].as_str().unwrap().to_string();
    assert_eq!(v.as_object().unwrap().len(), 1, "{headers}");
    value.strip_prefix("Bearer ").unwrap().to_string()
}

#[test]
fn headers_discovers_the_issuer_logs_in_once_and_prints_an_audience_bound_token() {
    let Some(python) = mcp_python() else { return };
    let issuer = TestServer::start().unwrap();
    let mcp = McpServer::start(&python, &issuer, false);
    let other = McpServer::start(&python, &issuer, false);
    let env = person();
    let out = env.run(&["headers", &mcp.url], "");
    out.ok();
    let token = token_of(&out.stdout);
    assert_eq!(
        issuer.resource_of(&token).as_deref(),
        Some(mcp.url.as_str())
    );
    assert_eq!(issuer.scope_of(&token).as_deref(), Some("tools"));
    let authorize = issuer.last_request("/authorize").unwrap();
    assert_eq!(authorize.param("resource"), Some(mcp.url.as_str()));
    let exchange = issuer.last_request("/token").unwrap();
    assert_eq!(exchange.param("resource"), Some(mcp.url.as_str()));
    // From the cache: no second login.
    let again = env.run(&["headers", &mcp.url], "");
    again.ok();
    assert_eq!(token_of(&again.stdout), token);
    assert_eq!(env.lines_of("browser-runs").len(), 1);
    // Another server at the same issuer gets a token of its own.
    let theirs = env.run(&["headers", &other.url], "");
    theirs.ok();
    let other_token = token_of(&theirs.stdout);
    assert_ne!(other_token, token);
    assert_eq!(
        issuer.resource_of(&other_token).as_deref(),
        Some(other.url.as_str())
    );
    assert_eq!(env.lines_of("browser-runs").len(), 2);
}

#[test]
fn headers_with_nobody_to_ask_fails_naming_login_and_prints_nothing() {
    let Some(python) = mcp_python() else { return };
    let issuer = TestServer::start().unwrap();
    let mcp = McpServer::start(&python, &issuer, false);
    let env = Env::new();
    env.write_config("storage = \"file\"\n");
    let out = env.run_detached(&["headers", &mcp.url], "");
    out.fails();
    assert_eq!(out.stdout, "", "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert!(
        out.stderr
            .contains(&format!("run: credential-oauth login {}", mcp.url)),
        "{out}"
    );
    assert_eq!(issuer.count("authorize"), 0);
    // `login URL` discovers the same way, and then headers needs nobody.
    let mut env = env;
    env.browser(FOLLOW);
    env.run(&["login", &mcp.url], "").ok();
    let out = env.run_detached(&["headers", &mcp.url], "");
    out.ok();
    let token = token_of(&out.stdout);
    assert_eq!(
        issuer.resource_of(&token).as_deref(),
        Some(mcp.url.as_str())
    );
    // status lists it; logout finds it by the URL, and revokes the token.
    let status = env.run(&["status"], "");
    status.ok();
    assert!(status.stdout.contains(&mcp.url), "{status}");
    env.run(&["logout", &mcp.url], "").ok();
    assert!(!issuer.is_active(&token));
    env.unset_var("BROWSER");
    env.run_detached(&["headers", &mcp.url], "").fails();
}

#[test]
fn the_sdk_client_initializes_lists_and_calls_tools_through_the_bridge_then_runs_from_the_cache() {
    let Some(python) = mcp_python() else { return };
    let issuer = TestServer::start().unwrap();
    for json in [false, true] {
        let mcp = McpServer::start(&python, &issuer, json);
        let env = person();
        let out = env.mcp_client(&python, "basic", &mcp.url, "");
        out.ok();
        assert_eq!(step(&out, "initialize")["server"], "credential-oauth-test");
        assert_eq!(
            step(&out, "tools/list")["tools"],
            serde_json::json!(["admin_op", "echo", "slow"])
        );
        assert_eq!(step(&out, "tools/call")["text"], "hello", "{out}");
        assert!(out.stderr.contains("session started"), "{out}");
        assert!(out.stderr.contains("session ended (HTTP 200)"), "{out}");
        assert_eq!(env.lines_of("browser-runs").len(), 1);
        // A second run: the cached token, no login.
        let logins = issuer.count("authorize");
        let again = env.mcp_client(&python, "basic", &mcp.url, "");
        again.ok();
        assert_eq!(step(&again, "tools/call")["text"], "hello", "{again}");
        assert_eq!(issuer.count("authorize"), logins);
        assert_eq!(env.lines_of("browser-runs").len(), 1);
    }
}

#[test]
fn a_slow_tool_call_does_not_hold_up_a_ping() {
    let Some(python) = mcp_python() else { return };
    let issuer = TestServer::start().unwrap();
    let mcp = McpServer::start(&python, &issuer, false);
    let env = person();
    let out = env.mcp_client(&python, "concurrent", &mcp.url, "");
    out.ok();
    let s = step(&out, "concurrent");
    assert_eq!(s["slow"]["text"], "slept 2.0", "{out}");
    assert!(s["ping_at"].as_f64().unwrap() < 1.5, "{out}");
    assert!(s["slow_at"].as_f64().unwrap() >= 2.0, "{out}");
}

#[test]
fn insufficient_scope_logs_in_once_for_the_union_of_scopes_and_retries_once() {
    let Some(python) = mcp_python() else { return };
    let issuer = TestServer::start().unwrap();
    let mcp = McpServer::start(&python, &issuer, false);
    let env = person();
    let out = env.mcp_client(&python, "stepup", &mcp.url, "");
    out.ok();
    assert_eq!(step(&out, "admin_op")["text"], "admin done", "{out}");
    assert_eq!(step(&out, "admin_op again")["text"], "admin done", "{out}");
    // The first login for `tools`, one more for `tools admin`.
    assert_eq!(env.lines_of("browser-runs").len(), 2, "{out}");
    let authorize = issuer.last_request("/authorize").unwrap();
    assert_eq!(authorize.param("scope"), Some("tools admin"));
    assert_eq!(authorize.param("resource"), Some(mcp.url.as_str()));
}

#[test]
fn nobody_to_ask_answers_each_request_with_an_error_naming_login_and_the_bridge_goes_on() {
    let Some(python) = mcp_python() else { return };
    let issuer = TestServer::start().unwrap();
    let mcp = McpServer::start(&python, &issuer, false);
    let env = Env::new();
    env.write_config("storage = \"file\"\n");
    let input = concat!(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        "\n",
        "not json\n",
        r#"{"jsonrpc":"2.0","id":"two","method":"ping"}"#,
        "\n",
    );
    let out = env.run_detached(&["mcp", &mcp.url], input);
    out.ok();
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("only JSON-RPC on stdout"))
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    let hint = format!("credential-oauth login {}", mcp.url);
    for id in [serde_json::json!(1), serde_json::json!("two")] {
        let answer = lines.iter().find(|l| l["id"] == id).expect("answered");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(&hint), "{message}");
    }
    assert!(lines.iter().any(|l| l["error"]["code"] == -32700), "{out}");
    assert_eq!(out.stderr, "", "diagnostics only with -v\n{out}");
    assert_eq!(issuer.count("authorize"), 0);
}

#[test]
fn an_expired_token_is_refreshed_mid_session_and_the_call_retried() {
    let Some(python) = mcp_python() else { return };
    let issuer = TestServer::start().unwrap();
    let mcp = McpServer::start(&python, &issuer, false);
    let env = person();
    let mut client = env.spawn_mcp_client(&python, "expire", &mcp.url);
    let mut stdout = std::io::BufReader::new(client.stdout.take().unwrap());
    let mut line = String::new();
    while !line.starts_with("waiting") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "the client ended");
    }
    assert_eq!(issuer.count("refresh_token"), 0);
    issuer.expire_access_tokens();
    client.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = client.wait().unwrap();
    assert!(status.success(), "{rest}");
    assert!(
        rest.contains(r#""step": "second", "text": "two""#),
        "{rest}"
    );
    assert_eq!(issuer.count("refresh_token"), 1);
    let refresh = issuer.last_request("/token").unwrap();
    assert_eq!(refresh.param("resource"), Some(mcp.url.as_str()));
    assert_eq!(env.lines_of("browser-runs").len(), 1, "no second login");
}

#[test]
fn pushed_authorization_requests_are_used_where_the_server_requires_them() {
    let Some(python) = mcp_python() else { return };
    let issuer = TestServer::start().unwrap();
    issuer.set_par(oauth_test_server::Par::Required);
    let mcp = McpServer::start(&python, &issuer, false);
    let env = person();
    let out = env.run(&["headers", &mcp.url], "");
    out.ok();
    assert_eq!(issuer.count("par"), 1);
    let pushed = issuer.last_request("/par").unwrap();
    assert_eq!(pushed.param("resource"), Some(mcp.url.as_str()));
    assert!(pushed.param("code_challenge").is_some());
    let authorize = issuer.last_request("/authorize").unwrap();
    assert!(authorize.param("request_uri").is_some());
    assert_eq!(authorize.param("code_challenge"), None, "only in the push");
    let token = token_of(&out.stdout);
    assert_eq!(
        issuer.resource_of(&token).as_deref(),
        Some(mcp.url.as_str())
    );
}

#[test]
fn a_configured_client_credentials_provider_serves_a_headless_agent() {
    let Some(python) = mcp_python() else { return };
    let issuer = TestServer::start().unwrap();
    let mcp = McpServer::start(&python, &issuer, true);
    let env = Env::new();
    issuer.add_client("agent", Some("agent-secret"));
    let origin = mcp.url.trim_end_matches("/mcp");
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"agent\"\nurl = \"{origin}/\"\nissuer = \"{}\"\n\
         client_id = \"agent\"\nclient_secret = \"agent-secret\"\ngrant = \"client_credentials\"\n\
         scopes = [\"tools\"]\n",
        issuer.issuer()
    ));
    let input = concat!(
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#,
        "\n",
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        "\n",
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#,
        "\n",
    );
    let out = env.run_detached(&["mcp", &mcp.url], input);
    out.ok();
    assert!(out.stdout.contains(r#""text":"hi""#), "{out}");
    let grant = issuer.last_request("/token").unwrap();
    assert_eq!(grant.param("grant_type"), Some("client_credentials"));
    assert_eq!(grant.param("resource"), Some(mcp.url.as_str()));
    assert_eq!(issuer.count("register"), 0);
}
