//! Server quirks seen in the field (README "Servers seen in the field"):
//! each test bends the test server into one and runs the real binary.

use crate::support::*;

const URL: &str = "https://git.example.com/";

fn token_of(env: &Env) -> String {
    env.run(&["token", URL], "")
        .ok()
        .stdout
        .trim_end()
        .to_string()
}

#[test]
fn rfc8414_metadata_appended_to_the_issuer_path_is_found() {
    let server = TestServer::start().unwrap();
    server.set_issuer_path("/tenant");
    server.set_metadata_mode(MetadataMode::Rfc8414PathAppended);
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let token = token_of(&env);
    assert!(server.is_active(&token));
    assert_eq!(server.count("metadata"), 1, "the RFC 8414 place first");
    assert_eq!(server.count("metadata_appended"), 1);
    assert_eq!(server.count("oidc"), 0, "the OAuth document wins");
}

#[test]
fn logout_says_without_v_that_the_server_offers_no_revocation() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    server.add_client("ci", Some("ci-secret"));
    // Explicit endpoints: no discovery, so no revocation endpoint.
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"ci\"\nurl = \"{URL}\"\nissuer = \"{0}\"\n\
         token_endpoint = \"{0}/token\"\nclient_id = \"ci\"\nclient_secret = \"ci-secret\"\n\
         grant = \"client_credentials\"\n",
        server.issuer()
    ));
    let token = token_of(&env);
    let logout = env.run(&["logout", URL], "");
    logout.ok();
    let lines: Vec<&str> = logout.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{logout}");
    assert!(lines[1].contains("not revoked"), "{logout}");
    assert!(lines[1].contains("revocation_endpoint"), "{logout}");
    assert!(!logout.stderr.contains(&token), "{logout}");
    assert_eq!(server.count("revoke"), 0);
    assert!(env.stored_entries().is_empty());
}

#[test]
fn logout_revokes_the_access_token_and_the_refresh_token() {
    let server = TestServer::start().unwrap();
    server.set_client_credentials_refresh(true);
    server.set_revocation_keeps_access_tokens(true);
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let access = token_of(&env);
    let refresh = env.only_token_entry()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(server.is_active(&access) && server.is_active(&refresh));
    let logout = env.run(&["logout", URL], "");
    logout.ok();
    assert_eq!(logout.stderr.lines().count(), 1, "{logout}");
    assert_eq!(server.count("revoke"), 2, "{logout}");
    assert!(!server.is_active(&refresh), "{logout}");
    assert!(!server.is_active(&access), "{logout}");
}

#[test]
fn a_refused_revocation_of_one_token_is_reported_and_the_other_still_revoked() {
    let server = TestServer::start().unwrap();
    server.set_client_credentials_refresh(true);
    server.set_revocation_keeps_access_tokens(true);
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let access = token_of(&env);
    let refresh = env.only_token_entry()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    server.fail_next_on(
        "/revoke",
        1,
        Fault::json(400, r#"{"error":"unsupported_token_type"}"#),
    );
    let logout = env.run(&["logout", URL], "");
    logout.ok();
    let lines: Vec<&str> = logout.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{logout}");
    assert!(
        lines[1].contains("could not revoke the access token"),
        "{logout}"
    );
    assert!(lines[1].contains("unsupported_token_type"), "{logout}");
    assert!(!logout.stderr.contains(&access), "{logout}");
    assert!(!logout.stderr.contains(&refresh), "{logout}");
    assert_eq!(server.count("revoke"), 2, "{logout}");
    assert!(!server.is_active(&refresh), "the second request was sent");
    assert!(env.stored_entries().is_empty());
}

#[test]
fn a_server_that_requires_pkce_on_the_device_grant_gets_it() {
    let server = TestServer::start().unwrap();
    server.set_device_pkce_required(true);
    let env = device_env(&server, URL, "device_code", "");
    let mut run = env.spawn_at_terminal(&["token", URL], "");
    let line = run.wait_for_line("user_code=", 20);
    let code = line.trim_start_matches("user_code=");
    let (status, _) = http_get(&format!("{}/device?user_code={code}", server.issuer()));
    assert_eq!(status, 200);
    let out = run.finish();
    out.ok();
    assert!(server.is_active(out.stdout.trim()), "{out}");
    let start = server.last_request("/device_authorization").unwrap();
    assert_eq!(start.param("code_challenge_method"), Some("S256"));
    let poll = server.last_request("/token").unwrap();
    let verifier = poll.param("code_verifier").unwrap();
    assert!(!out.stderr.contains(verifier), "{out}");
}

#[test]
fn a_device_grant_listed_without_its_endpoint_names_the_config_key() {
    let server = TestServer::start().unwrap();
    server.set_device_endpoint_published(false);
    let env = device_env(&server, URL, "device_code", "");
    let out = env.run_at_terminal(&["token", URL], "");
    out.fails();
    assert!(
        out.stderr
            .contains("set device_authorization_endpoint in the config"),
        "{out}"
    );
    assert_eq!(server.count("device_authorization"), 0);
}
