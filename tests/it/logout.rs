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
    assert!(env.stored_entries().is_empty());
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
    assert!(env.stored_entries().is_empty());
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

/// Two providers with the same issuer, client and scopes: one token.
fn sharing_config(env: &Env, server: &TestServer, second_scopes: &str) {
    server.add_client("ci", Some("ci-secret"));
    let provider = |name: &str, url: &str, scopes: &str| {
        format!(
            "[[provider]]\nname = \"{name}\"\nurl = \"{url}\"\nissuer = \"{}\"\nclient_id = \"ci\"\n\
             client_secret = \"ci-secret\"\ngrant = \"client_credentials\"\nscopes = {scopes}\n\n",
            server.issuer()
        )
    };
    env.write_config(&format!(
        "storage = \"file\"\n\n{}{}",
        provider("ci", URL, "[\"read\", \"write\"]"),
        provider("mirror", "https://mirror.example.com/", second_scopes)
    ));
}

#[test]
fn status_says_who_shares_a_token_in_words_and_logout_names_them_all() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    sharing_config(&env, &server, "[\"write\", \"read\"]");
    let token = env.run(&["token", URL], "").ok().stdout.clone();
    let status = env.run(&["status"], "");
    status.ok();
    for words in [
        "grant:   client_credentials",
        "scopes:  read write",
        "shares its token with: mirror (same issuer, client and scopes)",
        "shares its token with: ci (same issuer, client and scopes)",
        "token:   expires in ",
        "stored:  file",
    ] {
        assert!(status.stdout.contains(words), "{words:?}\n{status}");
    }
    let key = Env::client_credentials_key(&server);
    assert!(
        !status.stdout.contains(&key),
        "the key only with -v\n{status}"
    );
    assert!(!status.stdout.contains(token.trim()), "{status}");
    assert!(!status.stdout.contains("ClientCredentials"), "{status}");
    let verbose = env.run(&["-v", "status"], "");
    assert!(
        verbose.ok().stdout.contains(&format!("key:     {key}")),
        "{verbose}"
    );
    let logout = env.run(&["logout", "https://mirror.example.com/"], "");
    assert!(
        logout
            .ok()
            .stderr
            .contains("credential-oauth: ci, mirror logged out (they share one token"),
        "{logout}"
    );
    assert!(env.stored_entries().is_empty());
}

#[test]
fn logout_all_removes_and_revokes_every_cached_token() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    sharing_config(&env, &server, "[\"read\"]");
    let first = env.run(&["token", URL], "").ok().stdout.trim().to_string();
    let second = env
        .run(&["token", "https://mirror.example.com/"], "")
        .ok()
        .stdout
        .trim()
        .to_string();
    let out = env.run(&["logout", "--all"], "");
    out.ok();
    assert!(
        out.stderr.contains("credential-oauth: ci logged out"),
        "{out}"
    );
    assert!(
        out.stderr.contains("credential-oauth: mirror logged out"),
        "{out}"
    );
    assert_eq!(server.count("revoke"), 2);
    assert!(!server.is_active(&first) && !server.is_active(&second));
    assert!(env.stored_entries().is_empty());
    let again = env.run(&["logout", "--all"], "");
    assert!(
        again.ok().stderr.contains("no cached token to remove"),
        "{again}"
    );
}

#[test]
fn help_words_are_never_urls() {
    let env = Env::new();
    for (args, first) in [
        (
            &["logout", "help"][..],
            "usage: credential-oauth logout URL",
        ),
        (&["logout", "--help"], "usage: credential-oauth logout URL"),
        (&["help", "doctor"], "usage: credential-oauth doctor"),
        (
            &["token", "-h"],
            "usage: credential-oauth token [--header] URL",
        ),
        (&["help"], "usage: credential-oauth [-v] <command> [args]"),
    ] {
        let out = env.run(args, "");
        out.ok();
        assert!(out.stdout.starts_with(first), "{out}");
        assert!(out.stdout.contains("example"), "{out}");
        assert!(out.stderr.is_empty(), "{out}");
    }
    let out = env.run(&["logout", "--everything"], "");
    assert_eq!(out.code, Some(2), "{out}");
    assert!(!out.stderr.contains("no provider"), "{out}");
}
