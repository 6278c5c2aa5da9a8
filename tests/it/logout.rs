//! Logout revokes at the server (RFC 7009) and forgets the token locally,
//! even when the server cannot revoke it.

use crate::support::*;

const URL: &str = "https://git.example.com/";

#[test]
fn logout_revokes_the_access_token_when_there_is_no_refresh_token() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let token = env
        .run(&["token", URL], "")
        .ok()
        .stdout
        .trim_end()
        .to_string();
    assert!(server.is_active(&token));
    let logout = env.run(&["-v", "logout", URL], "");
    logout.ok();
    assert!(
        logout
            .stderr
            .contains("ci: revoked the access token at http://127.0.0.1:"),
        "{logout}"
    );
    assert!(!logout.stderr.contains(&token), "{logout}");
    assert_eq!(server.count("revoke"), 1);
    let form = server.last_request("/revoke").unwrap();
    assert!(
        form.header("authorization")
            .is_some_and(|h| h.starts_with("Basic ")),
        "the client authenticates as at the token endpoint"
    );
    assert_eq!(form.param("token"), Some(token.as_str()));
    assert_eq!(form.param("token_type_hint"), Some("access_token"));
    assert!(!server.is_active(&token), "{logout}");
    assert!(env.token_entries().is_empty());
}

#[test]
fn a_failed_revocation_is_reported_and_the_token_is_removed_anyway() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let token = env
        .run(&["token", URL], "")
        .ok()
        .stdout
        .trim_end()
        .to_string();
    server.fail_next_on(
        "/revoke",
        1,
        Fault::json(503, r#"{"error":"temporarily_unavailable"}"#),
    );
    let logout = env.run(&["logout", URL], "");
    logout.ok();
    assert!(logout.stderr.contains("could not revoke"), "{logout}");
    assert!(
        logout.stderr.contains("temporarily_unavailable"),
        "{logout}"
    );
    assert!(!logout.stderr.contains(&token), "{logout}");
    assert!(env.token_entries().is_empty());
    assert!(
        server.is_active(&token),
        "the server really did not revoke it"
    );
}

#[test]
fn logout_without_a_cached_token_revokes_nothing() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let logout = env.run(&["logout", URL], "");
    assert!(
        logout.ok().stderr.contains("had no cached token"),
        "{logout}"
    );
    assert_eq!(server.count("revoke"), 0);
}
