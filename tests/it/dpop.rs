//! DPoP (RFC 9449): a `dpop = true` provider's tokens are bound to a key
//! the helper keeps; every token request carries a proof the test server
//! checks for real, with its nonce; callers that can only send a fixed
//! header get one line and no token.

use crate::support::*;

const URL: &str = "https://git.example.com/";

/// A client-credentials provider `corp` for [`URL`] with `dpop = true`,
/// at a server that announces DPoP and wants its nonce in every proof.
fn dpop_env(server: &TestServer) -> Env {
    dpop_env_for(server, URL)
}

/// [`dpop_env`] for a provider serving `url`.
fn dpop_env_for(server: &TestServer, url: &str) -> Env {
    server.add_client("ci", Some("ci-secret"));
    server.set_dpop(true);
    server.set_dpop_nonce_required(true);
    let env = Env::new();
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"corp\"\nurl = \"{url}\"\nissuer = \"{}\"\n\
         client_id = \"ci\"\nclient_secret = \"ci-secret\"\ngrant = \"client_credentials\"\n\
         dpop = true\n",
        server.issuer()
    ));
    env
}

/// The token entry and the key entry, in that order.
fn entries(env: &Env) -> (serde_json::Value, String) {
    let mut token = None;
    let mut key = None;
    for path in env.token_entries() {
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("access_token") {
            token = Some(serde_json::from_str(&text).unwrap());
        } else if text.contains("pkcs8") {
            assert_eq!(mode(&path), 0o600, "{}", path.display());
            key = Some(text);
        }
    }
    (token.expect("a token entry"), key.expect("a key entry"))
}

#[test]
fn a_login_binds_the_token_to_a_key_kept_with_it_after_the_servers_nonce() {
    let server = TestServer::start().unwrap();
    let env = dpop_env(&server);
    let out = env.run(&["-v", "login", URL], "");
    out.ok();
    // The first proof had no nonce; the server said which; one retry.
    assert_eq!(server.count("token_with_dpop"), 2, "{out}");
    assert_eq!(server.count("token_without_dpop"), 0);
    let jkts = server.proof_thumbprints();
    assert_eq!(jkts.len(), 1, "one proof accepted");
    let (token, key) = entries(&env);
    assert_eq!(token["token_type"], "DPoP");
    assert_eq!(token["dpop_jkt"], jkts[0].as_str());
    let access_token = token["access_token"].as_str().unwrap();
    assert_eq!(
        server.token_checker().bound_key(access_token).as_deref(),
        Some(jkts[0].as_str())
    );
    // The private key is never shown, not even under -v.
    let stored: serde_json::Value = serde_json::from_str(&key).unwrap();
    let pkcs8 = stored["pkcs8"].as_str().unwrap();
    assert!(!out.stderr.contains(pkcs8) && !out.stdout.contains(pkcs8));

    let status = env.run(&["status"], "");
    status.ok();
    assert!(status.stdout.contains("bound to a DPoP key"), "{status}");
    assert!(!status.stdout.contains(pkcs8) && !status.stdout.contains(access_token));

    // A second login proves possession of the same key, and sends the
    // nonce it was given at once.
    env.run(&["login", URL], "").ok();
    assert_eq!(server.count("token_with_dpop"), 3, "no refusal this time");
    assert_eq!(server.proof_thumbprints(), vec![jkts[0].clone(); 2]);
    let (_, key_again) = entries(&env);
    assert_eq!(key_again, key);

    // logout forgets both.
    env.run(&["logout", URL], "").ok();
    assert!(env.token_entries().is_empty(), "{:?}", env.token_entries());
}

#[test]
fn every_grant_sends_its_token_requests_with_a_proof() {
    // The device grant: its polls too.
    let server = TestServer::start().unwrap();
    server.set_dpop(true);
    server.set_dpop_nonce_required(true);
    let env = device_env(&server, URL, "device_code", "dpop = true\n");
    let mut login = env.spawn_at_terminal(&["login", URL], "");
    let line = login.wait_for_line("user_code=", 20);
    let code = line.trim_start_matches("user_code=");
    http_get(&format!("{}/device?user_code={code}", server.issuer()));
    login.finish().ok();
    assert!(server.count("device_code") >= 1);
    assert_eq!(server.count("token_without_dpop"), 0);
    assert_eq!(entries(&env).0["token_type"], "DPoP");

    // The authorization code: the code is bound to the key too (dpop_jkt).
    let server = TestServer::start().unwrap();
    server.set_dpop(true);
    server.add_client("app", None);
    let mut env = Env::new();
    env.write_config(&interactive_provider(
        &server,
        URL,
        "client_id = \"app\"\ndpop = true\n",
    ));
    env.browser(r#"curl -sS -L -o /dev/null "$1""#);
    env.run(&["login", URL], "").ok();
    let jkt = &server.proof_thumbprints()[0];
    let authorize = server.last_request("/authorize").unwrap();
    assert_eq!(authorize.param("dpop_jkt"), Some(jkt.as_str()));
    assert_eq!(server.count("authorization_code"), 1);
    assert_eq!(server.count("token_without_dpop"), 0);
    assert_eq!(entries(&env).0["dpop_jkt"], jkt.as_str());
}

#[test]
fn callers_that_send_a_fixed_header_get_one_line_and_no_token() {
    let server = TestServer::start().unwrap();
    let mut env = dpop_env(&server);
    let named = |out: &Output| {
        assert!(
            out.stderr.contains("corp: dpop = true") && out.stderr.contains("DPoP proof"),
            "{out}"
        );
    };
    // git: nothing at all, exit 0: it goes on to its other helpers.
    let out = env.run(&["get"], &git_request(URL));
    out.ok();
    assert_eq!(out.stdout, "", "{out}");
    named(&out);
    // Scripts, kubectl, Terraform, Go, Bazel: a failure and the line.
    let out = env.run(&["token", URL], "");
    out.fails();
    assert_eq!(out.stdout, "", "{out}");
    named(&out);
    let out = env.run(&["token", "--header", URL], "");
    assert_eq!((out.code, out.stdout.as_str()), (Some(1), ""), "{out}");
    let out = env.run_as(
        "terraform-credentials-oauth",
        &["get", "git.example.com"],
        "",
    );
    assert_eq!((out.code, out.stdout.as_str()), (Some(1), ""), "{out}");
    named(&out);
    let out = env.run(
        &["goauth", "https://git.example.com/mod/@v/list"],
        &go_401_stdin("Bearer realm=\"x\""),
    );
    assert_eq!((out.code, out.stdout.as_str()), (Some(1), ""), "{out}");
    named(&out);
    let out = env.run_as(
        "bazel-credential-oauth",
        &["get"],
        r#"{"uri":"https://git.example.com/x"}"#,
    );
    assert_eq!((out.code, out.stdout.as_str()), (Some(1), ""), "{out}");
    named(&out);
    let out = env.run_as("keyring", &["get", URL, "oauth2"], "");
    assert_eq!((out.code, out.stdout.as_str()), (Some(1), ""), "{out}");
    named(&out);
    // docker and cargo answer "not found" in their own protocols.
    let out = env.run_as("docker-credential-oauth", &["get"], "git.example.com\n");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(1), "credentials not found in native keychain\n"),
        "{out}"
    );
    named(&out);
    let out = env.run(
        &["--cargo-plugin"],
        "{\"v\":1,\"registry\":{\"index-url\":\"sparse+https://git.example.com/index/\",\
         \"name\":\"corp\"},\"kind\":\"get\",\"operation\":\"read\",\"args\":[]}\n",
    );
    out.ok();
    assert!(
        out.stdout.contains("\"not-found\"") && !out.stdout.contains("Bearer"),
        "{out}"
    );
    named(&out);
    env.set_var(
        "KUBERNETES_EXEC_INFO",
        r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#,
    );
    let out = env.run(&["kubernetes", URL], "");
    assert_eq!((out.code, out.stdout.as_str()), (Some(1), ""), "{out}");
    named(&out);
    // Not one of them asked the server for anything.
    assert_eq!(server.count("token"), 0);
    assert!(env.token_entries().is_empty());
    // Go's own listing offers no set for it either.
    env.run(&["login", URL], "").ok();
    let out = env.run(&["goauth"], "");
    out.ok();
    assert_eq!(out.stdout, "", "{out}");
}

#[test]
fn a_server_that_does_not_support_dpop_is_named_and_asked_nothing() {
    let server = TestServer::start().unwrap();
    let env = dpop_env(&server);
    server.set_dpop(false);
    let out = env.run(&["login", URL], "");
    out.fails();
    assert!(
        out.stderr.contains(&format!(
            "corp: dpop = true, but the authorization server {} does not support DPoP",
            server.issuer()
        )),
        "{out}"
    );
    assert_eq!(server.count("token"), 0);
}

#[test]
fn a_bearer_token_from_a_server_that_ignored_the_proof_is_refused() {
    let server = TestServer::start().unwrap();
    let env = dpop_env(&server);
    server.set_dpop_ignored(true);
    let out = env.run(&["login", URL], "");
    out.fails();
    assert!(out.stderr.contains("ignored the DPoP proof"), "{out}");
    assert!(
        !env.token_entries()
            .iter()
            .any(|p| std::fs::read_to_string(p).unwrap().contains("access_token")),
        "no bearer token kept"
    );
}

/// The resource server the tests use checks proofs for real: with the
/// key the helper keeps (read from its store here, as only a test may),
/// a right proof opens it once; a replay, another URL or method, an old
/// `iat`, another token's `ath`, another key, and a bearer token do not.
#[test]
fn the_test_resource_server_refuses_every_proof_it_must() {
    use crate::support::resource_server::{ResourceServer, proof_by, request, stored_key};
    let server = TestServer::start().unwrap();
    let env = dpop_env(&server);
    env.run(&["login", URL], "").ok();
    let (token, key_entry) = entries(&env);
    let token = token["access_token"].as_str().unwrap().to_string();
    let key = stored_key(&key_entry);
    let rs = ResourceServer::start(server.token_checker(), None);
    let url = rs.url("/api/items");
    let authorization = format!("DPoP {token}");
    let send = |method: &str, proof: &str| {
        request(
            method,
            &url,
            &[("Authorization", &authorization), ("DPoP", proof)],
        )
    };

    let good = proof_by(&key, "GET", &url, &token, 0);
    assert_eq!(send("GET", &good).0, 200, "{:?}", rs.outcomes());
    let (status, challenge) = send("GET", &good);
    assert_eq!(status, 401, "a replayed proof");
    assert!(challenge.unwrap().contains("invalid_dpop_proof"));
    for (method, proof) in [
        ("GET", proof_by(&key, "GET", &rs.url("/other"), &token, 0)),
        ("POST", proof_by(&key, "GET", &url, &token, 0)),
        ("GET", proof_by(&key, "GET", &url, &token, -600)),
        ("GET", proof_by(&key, "GET", &url, "another-token", 0)),
    ] {
        assert_eq!(send(method, &proof).0, 401, "{:?}", rs.outcomes());
    }
    let stranger = oauth_test_server::assertion::TestKey::from_pem(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/keys/ec-pkcs8.pem"),
        )
        .unwrap(),
    );
    let (status, challenge) = send("GET", &proof_by(&stranger, "GET", &url, &token, 0));
    assert_eq!(status, 401);
    assert!(challenge.unwrap().contains("invalid_token"));
    let bearer = format!("Bearer {token}");
    assert_eq!(request("GET", &url, &[("Authorization", &bearer)]).0, 401);
    let outcomes = rs.outcomes();
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
}

/// `headers --method METHOD URL`: a caller that sends a fresh proof with
/// each request gets the DPoP token and a proof for that one request
/// (htm, htu without the query, ath), which a resource server checking
/// proofs for real accepts once; a second run reuses token and key; without
/// `--method` the token is not handed out.
#[test]
fn headers_with_a_method_prints_a_dpop_token_and_a_proof_a_resource_server_accepts_once() {
    use crate::support::resource_server::{ResourceServer, request};
    let server = TestServer::start().unwrap();
    server.add_client("ci", Some("ci-secret"));
    server.set_dpop(true);
    server.set_dpop_nonce_required(true);
    let rs = ResourceServer::start(server.token_checker(), None);
    let api = rs.url("/api/items");
    let env = Env::new();
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"corp\"\nurl = \"{}\"\nissuer = \"{}\"\n\
         client_id = \"ci\"\nclient_secret = \"ci-secret\"\ngrant = \"client_credentials\"\n\
         dpop = true\n",
        rs.url("/"),
        server.issuer()
    ));
    let headers = |method: &str| -> (String, String) {
        let out = env.run(
            &["headers", "--method", method, &format!("{api}?page=2")],
            "",
        );
        let v: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
        assert_eq!(v.as_object().unwrap().len(), 2, "{out}");
        let authorization = v["Authorization"].as_str().unwrap().to_string();
        assert!(authorization.starts_with("DPoP "), "{out}");
        (authorization, v["DPoP"].as_str().unwrap().to_string())
    };
    let send = |method: &str, (authorization, proof): &(String, String)| {
        request(
            method,
            &api,
            &[("Authorization", authorization), ("DPoP", proof)],
        )
        .0
    };

    let get = headers("GET");
    let token_requests = server.count("client_credentials");
    assert_eq!(send("GET", &get), 200, "{:?}", rs.outcomes());
    assert_eq!(send("GET", &get), 401, "a replayed proof");
    let post = headers("post");
    assert_ne!(post.1, get.1, "a fresh proof for each request");
    assert_eq!(post.0, get.0, "the same token");
    assert_eq!(send("GET", &post), 401, "a POST's proof for a GET");
    let post = headers("POST");
    assert_eq!(send("POST", &post), 200, "{:?}", rs.outcomes());
    assert_eq!(
        server.count("client_credentials"),
        token_requests,
        "token and key reused"
    );

    let bare = env.run(&["headers", &api], "");
    bare.fails();
    assert_eq!(bare.stdout, "", "{bare}");
    assert!(bare.stderr.contains("dpop = true"), "{bare}");
    let bad = env.run(&["headers", "--method", "G E T", &api], "");
    assert_eq!(bad.code, Some(2), "{bad}");
}

/// `headers --method METHOD URL`: what a request to URL sends, as the
/// helper prints it.
fn headers_for(env: &Env, method: &str, url: &str) -> serde_json::Map<String, serde_json::Value> {
    let out = env.run(&["headers", "--method", method, url], "");
    out.ok();
    assert_eq!(out.stdout.lines().count(), 1, "{out}");
    serde_json::from_str(&out.stdout).unwrap()
}

/// `(status, challenge)` of a request with the headers `headers --method` gave.
fn send_with(
    method: &str,
    url: &str,
    headers: &serde_json::Map<String, serde_json::Value>,
) -> (u16, Option<String>) {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str().unwrap()))
        .collect();
    crate::support::resource_server::request(method, url, &pairs)
}

#[test]
fn a_stale_bound_token_is_refreshed_with_a_proof_by_the_same_key() {
    use crate::support::resource_server::ResourceServer;
    let server = TestServer::start().unwrap();
    server.set_client_credentials_refresh(true);
    // Shorter than the helper's 60 s margin: every run renews it.
    server.set_token_lifetime(Some(30));
    let rs = ResourceServer::start(server.token_checker(), None);
    let env = dpop_env_for(&server, &rs.url("/"));
    let url = rs.url("/api");
    let first = headers_for(&env, "GET", &url);
    let second = headers_for(&env, "GET", &url);
    assert_ne!(second["Authorization"], first["Authorization"]);
    assert_eq!(server.count("refresh_token"), 1);
    assert_eq!(server.count("token_without_dpop"), 0);
    assert_eq!(
        send_with("GET", &url, &second).0,
        200,
        "{:?}",
        rs.outcomes()
    );
    let jkts = server.proof_thumbprints();
    assert!(
        jkts.len() >= 2 && jkts.iter().all(|j| *j == jkts[0]),
        "{jkts:?}"
    );
}

/// The MCP bridge with a DPoP-bound token: every request carries a proof
/// of its own, which a server checks for real, and the server's nonce is
/// asked for once and then carried.
#[test]
fn the_mcp_bridge_sends_a_proof_per_request_and_honours_the_servers_nonce() {
    use crate::support::fake_mcp::{Answer, FakeMcp};
    use oauth_test_server::dpop::{Expected, Replays, verify};
    use std::io::{BufRead, Write};
    let server = TestServer::start().unwrap();
    let checker = server.token_checker();
    let replays = Replays::default();
    let port = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
    let url_of = std::sync::Arc::clone(&port);
    let fake = FakeMcp::start(move |got| {
        let refuse = |code: &str| {
            Answer::status(401)
                .with_header("WWW-Authenticate", &format!("DPoP error=\"{code}\""))
                .with_header("DPoP-Nonce", "rs-nonce-1")
        };
        let Some(token) = got
            .header("Authorization")
            .and_then(|a| a.strip_prefix("DPoP "))
        else {
            return refuse("invalid_token");
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let url = format!("{}{}", url_of.get().unwrap(), got.path);
        let checked = verify(
            got.header("DPoP").unwrap_or_default(),
            &Expected {
                method: &got.method,
                url: &url,
                access_token: Some(token),
                nonce: Some("rs-nonce-1"),
                now,
            },
        );
        match checked {
            Err(r) => return refuse(r.error),
            Ok(v) if !replays.first_use(&v.jti) => return refuse("invalid_dpop_proof"),
            Ok(v) if checker.bound_key(token).as_deref() != Some(v.jkt.as_str()) => {
                return refuse("invalid_token");
            }
            Ok(_) => {}
        }
        let body = got.json();
        match body["method"].as_str() {
            Some("initialize") => Answer::json(&serde_json::json!({"jsonrpc": "2.0", "id": 1,
                "result": {"protocolVersion": "2025-06-18", "capabilities": {},
                "serverInfo": {"name": "dpop", "version": "1"}}})),
            Some("notifications/initialized") => Answer::status(202),
            Some(_) => Answer::json(&serde_json::json!({"jsonrpc": "2.0", "id": body["id"],
                "result": {"content": []}})),
            None => Answer::status(400),
        }
    });
    port.set(fake.url.trim_end_matches("/mcp").to_string())
        .unwrap();
    let env = dpop_env_for(&server, &format!("{}/", fake.url.trim_end_matches("/mcp")));
    let mut cmd = env.command(BIN);
    cmd.args(["mcp", &fake.url])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    const INIT: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
    writeln!(stdin, "{INIT}").unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut answers = Vec::new();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    answers.push(line.clone());
    for id in 2..4 {
        writeln!(
            stdin,
            r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"echo","arguments":{{}}}}}}"#
        )
        .unwrap();
        line.clear();
        stdout.read_line(&mut line).unwrap();
        answers.push(line.clone());
    }
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success());
    for (i, answer) in answers.iter().enumerate() {
        let v: serde_json::Value = serde_json::from_str(answer).unwrap();
        assert!(v.get("result").is_some(), "answer {i}: {answer}");
    }
    let got = fake.got();
    // One refusal for the nonce, then every request proved itself anew.
    let proofs: Vec<&str> = got.iter().filter_map(|g| g.header("DPoP")).collect();
    assert_eq!(proofs.len(), got.len());
    assert_eq!(got.len(), 4, "{got:?}");
    let mut unique = proofs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), proofs.len(), "no proof sent twice");
    assert_eq!(server.proof_thumbprints().len(), 1, "one token");
}
