//! The bridge against a scripted server (support::fake_mcp): answers in
//! pieces, the server-to-client stream, the session's headers, refusals
//! that never end, and resource metadata that lies.

use std::io::{BufRead, Write};
use std::process::Stdio;

use serde_json::{Value, json};

use crate::support::fake_mcp::{Answer, FakeMcp, Got};
use crate::support::*;

const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const CALL: &str =
    r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}"#;

/// A headless agent: a configured client-credentials provider covering
/// `url`'s origin, so no person is needed.
fn agent(issuer: &TestServer, url: &str) -> Env {
    issuer.add_client("agent", Some("agent-secret"));
    let origin = url.trim_end_matches("/mcp");
    let env = Env::new();
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"agent\"\nurl = \"{origin}/\"\nissuer = \"{}\"\n\
         client_id = \"agent\"\nclient_secret = \"agent-secret\"\ngrant = \"client_credentials\"\n\
         scopes = [\"tools\"]\n",
        issuer.issuer()
    ));
    env
}

fn initialize_answer() -> Answer {
    Answer::json(&json!({"jsonrpc": "2.0", "id": 1, "result": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "serverInfo": {"name": "fake", "version": "1"}}}))
    .with_header("Mcp-Session-Id", "s-123")
}

fn rpc_method(got: &Got) -> String {
    got.json()["method"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn lines(out: &Output) -> Vec<Value> {
    out.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}\n{out}")))
        .collect()
}

#[test]
fn sse_in_pieces_the_session_headers_and_the_server_stream_reach_the_client_line_by_line() {
    let issuer = TestServer::start().unwrap();
    let fake = FakeMcp::start(|got| {
        match (got.method.as_str(), rpc_method(got).as_str()) {
        ("POST", "initialize") => initialize_answer(),
        ("POST", "notifications/initialized") => Answer::status(202),
        ("POST", "tools/call") => Answer::sse(&[
            b": a comment\r\n",
            b"event: message\r\nid: e1\r\nda",
            b"ta: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"progress\":1}}\r",
            b"\n\r\n",
            b"data: {\"jsonrpc\":\"2.0\",\n",
            b"data:  \"id\":2,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"a\\nb\"}]}}\n\n",
        ]),
        ("GET", _) => {
            let mut a = Answer::sse(&[
                b"retry: 100\n\n",
                b"data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}\n\n",
            ]);
            a.hold = std::time::Duration::from_secs(5);
            a
        }
        ("DELETE", _) => Answer::status(200),
        _ => Answer::status(400),
    }
    });
    let env = agent(&issuer, &fake.url);
    let mut cmd = env.command(BIN);
    cmd.args(["mcp", &fake.url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{INIT}\n{INITIALIZED}\n{CALL}").unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let mut line = String::new();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "ended early: {seen:?}"
        );
        seen.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert_eq!(seen[0]["result"]["serverInfo"]["name"], "fake");
    let position = |m: &str| seen.iter().position(|l| l["method"] == m);
    let result = seen.iter().position(|l| l["id"] == 2).unwrap();
    assert!(
        position("notifications/progress").unwrap() < result,
        "{seen:?}"
    );
    assert_eq!(seen[result]["result"]["content"][0]["text"], "a\nb");
    assert!(
        position("notifications/tools/list_changed").is_some(),
        "{seen:?}"
    );
    let got = fake.got();
    let init = got.iter().find(|g| rpc_method(g) == "initialize").unwrap();
    assert_eq!(init.header("Mcp-Session-Id"), None);
    assert_eq!(init.header("MCP-Protocol-Version"), None);
    assert_eq!(
        init.header("Accept"),
        Some("application/json, text/event-stream")
    );
    assert!(
        init.header("Authorization")
            .unwrap()
            .starts_with("Bearer at_")
    );
    let call = got.iter().find(|g| rpc_method(g) == "tools/call").unwrap();
    assert_eq!(call.header("Mcp-Session-Id"), Some("s-123"));
    assert_eq!(call.header("MCP-Protocol-Version"), Some("2025-06-18"));
    let stream = got.iter().find(|g| g.method == "GET").unwrap();
    assert_eq!(stream.header("Accept"), Some("text/event-stream"));
    assert_eq!(stream.header("Mcp-Session-Id"), Some("s-123"));
    let end = got.last().unwrap();
    assert_eq!(end.method, "DELETE", "{got:?}");
    assert_eq!(end.header("Mcp-Session-Id"), Some("s-123"));
    let token = issuer.last_request("/token").unwrap();
    assert_eq!(token.param("resource"), Some(fake.url.as_str()));
}

#[test]
fn a_second_insufficient_scope_goes_to_the_client_after_one_step_up() {
    let issuer = TestServer::start().unwrap();
    let fake = FakeMcp::start(|got| match rpc_method(got).as_str() {
        "initialize" => initialize_answer(),
        "tools/call" => Answer::status(403).with_header(
            "WWW-Authenticate",
            "Bearer error=\"insufficient_scope\", scope=\"tools admin\"",
        ),
        _ => Answer::status(202),
    });
    let env = agent(&issuer, &fake.url);
    let out = env.run_detached(&["mcp", &fake.url], &format!("{INIT}\n{CALL}\n"));
    out.ok();
    let answers = lines(&out);
    let error = answers.iter().find(|l| l["id"] == 2).expect("answered");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 403"),
        "{out}"
    );
    let calls = fake
        .got()
        .iter()
        .filter(|g| rpc_method(g) == "tools/call")
        .count();
    assert_eq!(calls, 2, "one retry, no loop");
    assert_eq!(issuer.count("client_credentials"), 2);
    let stepped = issuer.last_request("/token").unwrap();
    assert_eq!(stepped.param("scope"), Some("tools admin"));
}

#[test]
fn a_token_refused_twice_is_renewed_once_and_the_refusal_passed_on() {
    let issuer = TestServer::start().unwrap();
    let fake = FakeMcp::start(|got| match rpc_method(got).as_str() {
        "initialize" => initialize_answer(),
        "tools/call" => {
            Answer::status(401).with_header("WWW-Authenticate", "Bearer error=\"invalid_token\"")
        }
        _ => Answer::status(202),
    });
    let env = agent(&issuer, &fake.url);
    let out = env.run_detached(&["mcp", &fake.url], &format!("{INIT}\n{CALL}\n"));
    out.ok();
    let answers = lines(&out);
    let error = answers.iter().find(|l| l["id"] == 2).expect("answered");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 401"),
        "{out}"
    );
    let calls: Vec<Got> = fake
        .got()
        .into_iter()
        .filter(|g| rpc_method(g) == "tools/call")
        .collect();
    assert_eq!(calls.len(), 2, "one retry, no loop");
    assert_ne!(
        calls[0].header("Authorization"),
        calls[1].header("Authorization"),
        "the retry carries the new token"
    );
    assert_eq!(issuer.count("client_credentials"), 2);
}

/// A server whose 401 points at metadata that says `doc`.
fn lying(doc: impl Fn(&str) -> Value + Send + Sync + 'static) -> FakeMcp {
    FakeMcp::start(move |got| {
        let host = got.header("Host").unwrap_or_default().to_string();
        if got
            .path
            .starts_with("/.well-known/oauth-protected-resource")
        {
            return Answer::json(&doc(&format!("http://{host}")));
        }
        Answer::status(401).with_header(
            "WWW-Authenticate",
            &format!(
                "Bearer resource_metadata=\"http://{host}/.well-known/oauth-protected-resource/mcp\""
            ),
        )
    })
}

#[test]
fn metadata_for_another_resource_or_an_issuer_without_https_gets_no_login() {
    let issuer = TestServer::start().unwrap();
    let as_url = issuer.issuer();
    let elsewhere = lying(
        move |origin| json!({"resource": format!("{origin}/other"), "authorization_servers": [as_url]}),
    );
    let plain = lying(
        |origin| json!({"resource": format!("{origin}/mcp"), "authorization_servers": ["http://as.example"]}),
    );
    let mut env = Env::new();
    env.write_config("storage = \"file\"\n");
    env.browser(r#"echo run >> "$DIR/browser-runs"; curl -sS -L -o /dev/null "$1""#);
    let out = env.run(&["headers", &elsewhere.url], "");
    out.fails();
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("protected resource metadata is for"),
        "{out}"
    );
    let out = env.run(&["headers", &plain.url], "");
    out.fails();
    assert!(out.stderr.contains("does not use https; refused"), "{out}");
    assert!(env.lines_of("browser-runs").is_empty());
    for counter in ["metadata", "register", "authorize", "token"] {
        assert_eq!(issuer.count(counter), 0, "{counter}");
    }
}

#[test]
fn a_client_id_metadata_document_stands_in_for_registration_where_the_server_takes_one() {
    let issuer = TestServer::start().unwrap();
    issuer.set_client_id_metadata_documents(true);
    let as_url = issuer.issuer();
    let honest = lying(move |origin| {
        json!({"resource": format!("{origin}/mcp"), "authorization_servers": [as_url],
               "scopes_supported": ["tools"]})
    });
    let mut env = Env::new();
    let document = "https://app.example/credential-oauth.json";
    env.write_config(&format!(
        "storage = \"file\"\nclient_metadata_url = \"{document}\"\n"
    ));
    env.browser(r#"curl -sS -L -o /dev/null "$1""#);
    let out = env.run(&["headers", &honest.url], "");
    out.ok();
    assert_eq!(issuer.count("register"), 0, "{out}");
    let authorize = issuer.last_request("/authorize").unwrap();
    assert_eq!(authorize.param("client_id"), Some(document));
    let token = issuer.last_request("/token").unwrap();
    assert_eq!(token.param("client_id"), Some(document));
    assert_eq!(token.param("resource"), Some(honest.url.as_str()));
    // Without the server's word, registration as before.
    let other = TestServer::start().unwrap();
    let as_url = other.issuer();
    let second = lying(
        move |origin| json!({"resource": format!("{origin}/mcp"), "authorization_servers": [as_url]}),
    );
    env.run(&["headers", &second.url], "").ok();
    assert_eq!(other.count("register"), 1);
}

#[test]
fn a_configured_providers_server_bound_token_is_found_by_login_status_and_logout() {
    let issuer = TestServer::start().unwrap();
    let fake = FakeMcp::start(|got| match rpc_method(got).as_str() {
        "initialize" => initialize_answer(),
        _ => Answer::status(202),
    });
    let env = agent(&issuer, &fake.url);
    let out = env.run(&["headers", &fake.url], "");
    out.ok();
    let bound = out.stdout.clone();
    // The provider's own token (for its whole url) is another one.
    let origin = fake.url.trim_end_matches("/mcp").to_string();
    env.run(&["token", &format!("{origin}/elsewhere")], "").ok();
    let status = env.run(&["status"], "");
    status.ok();
    assert!(
        status
            .stdout
            .contains(&format!("tokens bound to the resource server {}", fake.url)),
        "{status}"
    );
    // `login URL` renews the bound token, not the provider's own.
    env.run(&["login", &fake.url], "").ok();
    let renewed = env.run(&["headers", &fake.url], "");
    assert_ne!(renewed.stdout, bound, "login replaced the bound token");
    let token = issuer.last_request("/token").unwrap();
    assert_eq!(token.param("resource"), Some(fake.url.as_str()));
    env.run(&["logout", "--all"], "").ok();
    let after = env.run(&["status"], "");
    assert!(
        !after.stdout.contains("expires in"),
        "every token gone\n{after}"
    );
}

#[test]
fn requests_run_side_by_side_up_to_a_bound_and_every_one_is_answered() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let issuer = TestServer::start().unwrap();
    let (active, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (a, m) = (Arc::clone(&active), Arc::clone(&most));
    let fake = FakeMcp::start(move |got| match rpc_method(got).as_str() {
        "initialize" => initialize_answer(),
        "tools/call" => {
            let now = a.fetch_add(1, Ordering::SeqCst) + 1;
            m.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(std::time::Duration::from_millis(300));
            a.fetch_sub(1, Ordering::SeqCst);
            Answer::json(&json!({"jsonrpc": "2.0", "id": got.json()["id"], "result": {}}))
        }
        _ => Answer::status(202),
    });
    let env = agent(&issuer, &fake.url);
    let mut input = format!("{INIT}\n");
    for id in 2..102 {
        input.push_str(&format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"slow\"}}}}\n"
        ));
    }
    let started = std::time::Instant::now();
    let out = env.run_detached(&["mcp", &fake.url], &input);
    out.ok();
    let mut ids: Vec<i64> = lines(&out)
        .iter()
        .filter_map(|l| l["id"].as_i64())
        .collect();
    ids.sort();
    assert_eq!(ids, (1..102).collect::<Vec<_>>(), "{out}");
    let most = most.load(Ordering::SeqCst);
    assert!(most > 8 && most <= 64, "{most} at once");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
}

#[test]
fn a_step_up_challenge_logs_in_once_with_the_acr_asked_for_and_the_call_goes_through() {
    let issuer = TestServer::start().unwrap();
    let checker = issuer.token_checker();
    let as_url = issuer.issuer();
    let fake = FakeMcp::start(move |got| {
        let host = got.header("Host").unwrap_or_default().to_string();
        if got
            .path
            .starts_with("/.well-known/oauth-protected-resource")
        {
            return Answer::json(&json!({"resource": format!("http://{host}/mcp"),
                "authorization_servers": [as_url], "scopes_supported": ["openid", "tools"]}));
        }
        let token = got
            .header("Authorization")
            .and_then(|a| a.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_string();
        let Some((acr, _)) = checker.authentication(&token) else {
            return Answer::status(401).with_header(
                "WWW-Authenticate",
                &format!(
                    "Bearer resource_metadata=\"http://{host}/.well-known/oauth-protected-resource/mcp\""
                ),
            );
        };
        match rpc_method(got).as_str() {
            "initialize" => initialize_answer(),
            "tools/call" if acr != "phrh" => Answer::status(401).with_header(
                "WWW-Authenticate",
                "Bearer error=\"insufficient_user_authentication\", acr_values=\"phrh\"",
            ),
            "tools/call" => Answer::json(&json!({"jsonrpc": "2.0", "id": 2, "result": {}})),
            _ => Answer::status(202),
        }
    });
    let mut env = Env::new();
    env.write_config("storage = \"file\"\n");
    env.browser(r#"echo run >> "$DIR/browser-runs"; curl -sS -L -o /dev/null "$1""#);
    let out = env.run(&["mcp", &fake.url], &format!("{INIT}\n{CALL}\n"));
    out.ok();
    let answers = lines(&out);
    let call = answers.iter().find(|l| l["id"] == 2).expect("answered");
    assert_eq!(call["result"], json!({}), "{out}");
    assert_eq!(
        env.lines_of("browser-runs").len(),
        2,
        "one login, then one step-up"
    );
    let authorize = issuer.last_request("/authorize").unwrap();
    assert_eq!(authorize.param("acr_values"), Some("phrh"));
    assert_eq!(authorize.param("resource"), Some(fake.url.as_str()));
}
