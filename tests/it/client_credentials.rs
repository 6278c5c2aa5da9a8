//! Client credentials: a CI job gets a token with no person involved.

use crate::support::*;

#[test]
fn token_command_prints_a_token_the_server_accepts_and_caches_it() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let first = env.run(&["token", "https://git.example.com/org/repo.git"], "");
    first.ok();
    let token = first.stdout.trim_end().to_string();
    assert!(server.is_active(&token), "{first}");
    assert_eq!(server.count("client_credentials"), 1);

    let second = env.run(&["token", "https://git.example.com/other"], "");
    assert_eq!(second.ok().stdout.trim_end(), token);
    assert_eq!(
        server.count("token"),
        1,
        "second call must be served from the cache"
    );
}

/// Rewrite the one cached entry so that it expired ten seconds ago.
fn expire_cached_token(env: &Env) -> String {
    let entries = env.token_entries();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let mut token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&entries[0]).unwrap()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    token["expires_at"] = (now - 10).into();
    let text = token.to_string();
    std::fs::write(&entries[0], &text).unwrap();
    text
}

#[test]
fn git_get_answers_username_password_and_expiry() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let out = env.run(
        &["get"],
        &git_request("https://git.example.com/org/repo.git"),
    );
    out.ok();
    assert_eq!(out.field("username").as_deref(), Some("oauth2"), "{out}");
    let password = out.field("password").unwrap();
    assert!(server.is_active(&password));
    let expiry: u64 = out.field("password_expiry_utc").unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now + 3500..=now + 3700).contains(&expiry), "{out}");
    assert_eq!(out.field("authtype"), None);
    assert!(out.stderr.is_empty(), "{out}");

    let basic_only = env.run(
        &["get"],
        "protocol=https\nhost=git.example.com\ncapability[]=authtype\nwwwauth[]=Basic realm=\"git\"\n\n",
    );
    assert_eq!(basic_only.ok().field("authtype"), None, "{basic_only}");
    let bearer = env.run(
        &["get"],
        "protocol=https\nhost=git.example.com\ncapability[]=authtype\nwwwauth[]=Bearer realm=\"git\"\n\n",
    );
    assert_eq!(bearer.ok().field("authtype").as_deref(), Some("Bearer"));
    assert_eq!(bearer.field("ephemeral").as_deref(), Some("1"));
    assert_eq!(bearer.field("credential"), Some(password.clone()));
    // No challenge passed: the Bearer form, as the design says.
    let unknown = env.run(
        &["get"],
        "protocol=https\nhost=git.example.com\ncapability[]=authtype\n\n",
    );
    assert_eq!(unknown.ok().field("authtype").as_deref(), Some("Bearer"));
    assert_eq!(unknown.field("credential"), Some(password));
}

#[test]
fn git_get_for_another_host_prints_nothing_and_succeeds() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    for req in [
        "protocol=https\nhost=elsewhere.example.com\n\n",
        "protocol=http\nhost=git.example.com\n\n",
        "protocol=ssh\nhost=git.example.com\n\n",
    ] {
        let out = env.run(&["get"], req);
        out.ok();
        assert_eq!(out.stdout, "", "{out}");
        assert_eq!(out.stderr, "", "{out}");
    }
    assert_eq!(server.count("token"), 0);
}

#[test]
fn bad_git_input_is_one_clear_line() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    // 100 MB on stdin: refused after the first 64 KiB, without reading on.
    let big = "x".repeat(100 << 20);
    for (input, needle) in [
        ("protocol=https\nhost=git.example.com\0\n", "NUL"),
        ("protocol=https\njunk\n", "key=value"),
        (big.as_str(), "larger than"),
    ] {
        let out = env.run(&["get"], input);
        out.fails();
        assert_eq!(out.stdout, "", "{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        assert!(
            out.stderr.starts_with("credential-oauth: ") && out.stderr.contains(needle),
            "{out}"
        );
    }
    assert!(env.token_files().is_empty());
}

#[test]
fn expired_entry_leads_to_a_new_token() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let old = env
        .run(&["token", "https://git.example.com/"], "")
        .ok()
        .stdout
        .clone();
    expire_cached_token(&env);
    let new = env
        .run(&["token", "https://git.example.com/"], "")
        .ok()
        .stdout
        .clone();
    assert_ne!(old, new);
    assert!(server.is_active(new.trim_end()));
    assert_eq!(server.count("client_credentials"), 2);
}

#[test]
fn short_lived_token_is_not_served_within_the_last_minute() {
    let server = TestServer::start().unwrap();
    server.set_token_lifetime(Some(30));
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    env.run(&["token", "https://git.example.com/"], "").ok();
    env.run(&["token", "https://git.example.com/"], "").ok();
    assert_eq!(server.count("client_credentials"), 2);
}

#[test]
fn server_failures_give_one_line_and_leave_the_cache_alone() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.var("CREDENTIAL_OAUTH_HTTP_TIMEOUT", "0.5");
    env.client_credentials_config(&server, "https://git.example.com/");
    env.run(&["token", "https://git.example.com/"], "").ok();
    let before = expire_cached_token(&env);
    let entry = env.token_entries()[0].clone();

    let cases: Vec<(Fault, &str)> = vec![
        (
            Fault::json(
                401,
                r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
            ),
            "invalid_client: Client authentication failed",
        ),
        (Fault::json(500, ""), "HTTP 500"),
        (
            Fault::html(503, "<html><body>Down for maintenance</body></html>"),
            "HTTP 503: an HTML page",
        ),
        (Fault::json(200, "{\"access_token\": "), "not a JSON object"),
        (
            Fault::json(200, r#"{"token_type":"Bearer"}"#),
            "no access_token",
        ),
        (
            Fault::redirect(302, "https://elsewhere.example/token"),
            "redirects are not followed",
        ),
        (
            Fault::json(200, r#"{"access_token":"at_x","token_type":"mac"}"#),
            "only Bearer and DPoP are supported",
        ),
        (
            Fault::json(
                200,
                r#"{"access_token":"at_x","token_type":"Bearer","expires_in":-30}"#,
            ),
            "expires_in",
        ),
        (
            Fault::json(
                200,
                r#"{"access_token":"at_x","token_type":"Bearer","expires_in":1e300}"#,
            ),
            "expires_in",
        ),
        (
            Fault::json(
                200,
                &format!("{{\"access_token\":\"{}\"}}", "a".repeat(2 << 20)),
            ),
            "larger than 1024 KiB",
        ),
    ];
    for (fault, needle) in cases {
        server.fail_next_on("/token", 1, fault);
        let out = env.run(&["token", "https://git.example.com/"], "");
        out.fails();
        assert_eq!(out.stdout, "", "{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        assert!(out.stderr.contains(needle), "wanted {needle:?}\n{out}");
        assert!(!out.stderr.contains("ci-secret"), "{out}");
        assert_eq!(std::fs::read_to_string(&entry).unwrap(), before);
    }

    let out = env.run(&["token", "https://git.example.com/"], "");
    assert!(
        server.is_active(out.ok().stdout.trim_end()),
        "recovers once the server does"
    );
    let before = expire_cached_token(&env);

    server.set_delay(std::time::Duration::from_secs(5));
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(out.stderr.contains("timed out"), "{out}");
    assert_eq!(std::fs::read_to_string(&entry).unwrap(), before);

    // Nothing listens any more: connection refused.
    drop(server);
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(out.stderr.contains("cannot connect"), "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "{out}");
    assert_eq!(std::fs::read_to_string(&entry).unwrap(), before);
}

#[test]
fn corrupt_cache_entry_is_replaced() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    env.run(&["token", "https://git.example.com/"], "").ok();
    let entry = env.token_entries()[0].clone();
    std::fs::write(&entry, "{\"access_token\": tru").unwrap();
    let out = env.run(&["token", "https://git.example.com/"], "");
    let token = out.ok().stdout.trim_end();
    assert!(server.is_active(token));
    let stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    assert_eq!(stored["access_token"], token);
}

#[test]
fn token_file_is_0600_in_a_0700_directory_whatever_the_umask() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let mut cmd = env.command("sh");
    cmd.args([
        "-c",
        "umask 000 && exec \"$0\" token https://git.example.com/",
        BIN,
    ]);
    run_command(cmd, b"").ok();
    let files = env.token_files();
    let entries = env.token_entries();
    assert_eq!(entries.len(), 1, "{files:?}");
    assert_eq!(mode(&env.tokens_dir()), 0o700);
    for f in &files {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    assert!(!files.iter().any(|f| f.to_string_lossy().ends_with(".tmp")));
}

#[test]
fn discovery_falls_back_to_openid_and_then_to_guessed_endpoints() {
    for mode in [MetadataMode::OidcOnly, MetadataMode::None] {
        let server = TestServer::start().unwrap();
        server.set_metadata_mode(mode);
        let env = Env::new();
        env.client_credentials_config(&server, "https://git.example.com/");
        let out = env.run(&["token", "https://git.example.com/"], "");
        assert!(server.is_active(out.ok().stdout.trim_end()), "{mode:?}");
    }
}

#[test]
fn metadata_for_another_issuer_is_refused() {
    let server = TestServer::start().unwrap();
    server.set_metadata_issuer(Some("https://evil.example"));
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(out.stderr.contains("evil.example"), "{out}");
    assert_eq!(server.count("token"), 0);
}

#[test]
fn client_secret_post_is_used_when_the_server_offers_only_that() {
    let server = TestServer::start().unwrap();
    server.set_auth_methods_supported(&["client_secret_post"]);
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    env.run(&["token", "https://git.example.com/"], "").ok();
    let req = server.last_request("/token").unwrap();
    assert_eq!(req.param("client_id"), Some("ci"));
    assert_eq!(req.header("authorization"), None);
    assert_eq!(req.param("scope"), Some("read write"));
    assert_eq!(req.header("accept"), Some("application/json"));
}

#[test]
fn token_for_an_unconfigured_url_is_an_error() {
    let env = Env::new();
    let out = env.run(&["token", "https://nowhere.example.com/"], "");
    out.fails();
    assert!(
        out.stderr
            .contains("no provider is configured for https://nowhere.example.com/"),
        "{out}"
    );
}

#[test]
fn bad_config_names_file_entry_and_field() {
    let env = Env::new();
    env.write_config("[[provider]]\nname = \"x\"\nurl = \"https://a/\"\nissuer = \"https://a\"\nclientid = \"c\"\n");
    let out = env.run(&["get"], "protocol=https\nhost=a\n\n");
    out.fails();
    let path = env.config_path();
    assert!(
        out.stderr
            .contains(&format!("{}: provider #1 (\"x\"): ", path.display())),
        "{out}"
    );
    assert!(out.stderr.contains("clientid"), "{out}");
}

#[test]
fn erase_drops_only_the_token_git_names() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let token = env
        .run(&["token", "https://git.example.com/"], "")
        .ok()
        .stdout
        .trim_end()
        .to_string();
    let req = |password: &str| {
        format!("protocol=https\nhost=git.example.com\nusername=oauth2\npassword={password}\n\n")
    };
    env.run(&["store"], &req(&token)).ok();
    env.run(&["erase"], &req("some-older-token")).ok();
    assert_eq!(env.token_entries().len(), 1);
    env.run(&["erase"], &req(&token)).ok();
    assert_eq!(env.token_entries().len(), 0);
}

#[test]
fn real_git_fills_the_token_for_its_host_only() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let fill = |url: &str| {
        let mut cmd = env.command("git");
        cmd.args([
            "-c",
            &format!("credential.helper={BIN}"),
            "credential",
            "fill",
        ])
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0");
        run_command(cmd, format!("url={url}\n\n").as_bytes())
    };
    let out = fill("https://git.example.com/org/repo.git");
    out.ok();
    assert!(server.is_active(&out.field("password").unwrap()), "{out}");
    assert_eq!(out.field("username").as_deref(), Some("oauth2"));

    let other = fill("https://elsewhere.example.com/x.git");
    other.fails();
    assert_eq!(other.field("password"), None, "{other}");
    assert_eq!(server.count("token"), 1);
}

#[test]
fn a_cold_get_reuses_discovered_metadata_for_a_day() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    env.run(&["token", "https://git.example.com/"], "").ok();
    assert_eq!(server.count("metadata"), 1);
    for entry in env.token_entries() {
        std::fs::remove_file(entry).unwrap();
    }
    env.run(&["token", "https://git.example.com/"], "").ok();
    assert_eq!(server.count("metadata") + server.count("oidc"), 1);
    assert_eq!(server.count("token"), 2);
}

#[test]
fn a_user_name_in_the_command_line_url_selects_its_own_account() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let default = env
        .run(&["token", "https://git.example.com/"], "")
        .ok()
        .stdout
        .clone();
    let alice = env
        .run(&["token", "https://alice@git.example.com/"], "")
        .ok()
        .stdout
        .clone();
    assert_ne!(default, alice);
    let again = env.run(&["token", "https://alice@git.example.com/x"], "");
    assert_eq!(again.ok().stdout, alice);
    assert_eq!(server.count("token"), 2);
    // The account's token is the one git gets for alice, too.
    let git = env.run(&["get"], "url=https://alice@git.example.com/\n\n");
    assert_eq!(git.ok().field("password").unwrap(), alice.trim_end());

    let out = env.run(&["token", "https://bob:hunter2@nowhere.example/"], "");
    out.fails();
    assert!(out.stderr.contains("https://nowhere.example/"), "{out}");
    assert!(
        !out.stderr.contains("hunter2") && !out.stderr.contains("bob"),
        "{out}"
    );
}

/// A proxy the environment names never carries a request to a loopback
/// server, whatever `NO_PROXY` says: the token request (with the client
/// secret) goes direct, and the proxy, a recorder here, receives nothing.
#[test]
fn proxies_from_the_environment_never_see_a_loopback_request() {
    let server = TestServer::start().unwrap();
    let proxy = crate::support::hostile::Hostile::start(Default::default());
    let mut env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    for name in ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "ALL_PROXY"] {
        env.set_var(name, &proxy.origin());
    }
    env.set_var("NO_PROXY", "example.org");
    let out = env.run(&["token", "https://git.example.com/"], "");
    let token = out.ok().stdout.trim().to_string();
    assert!(server.is_active(&token), "{out}");
    let seen = proxy.seen();
    assert!(seen.is_empty(), "the proxy received {seen:?}");
}

/// Config mistakes a person makes, said the way they are fixed: a slip in
/// a key names the key meant (the list only with -v), and `[provider]`
/// names `[[provider]]`. Nothing is asked of the server.
#[test]
fn config_mistakes_say_what_to_write() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.write_config(&format!(
        "[[provider]]\nurl = \"https://git.example.com/\"\nisuer = \"{}\"\n",
        server.issuer()
    ));
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(
        out.stderr
            .ends_with("provider #1: unknown key `isuer`; did you mean `issuer`?\n"),
        "{out}"
    );
    let verbose = env.run(&["-v", "token", "https://git.example.com/"], "");
    assert!(
        verbose.stderr.contains("(keys: name, url, issuer"),
        "{verbose}"
    );

    env.write_config(&format!(
        "[provider]\nurl = \"https://git.example.com/\"\nissuer = \"{}\"\n",
        server.issuer()
    ));
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(
        out.stderr
            .contains("[provider] must be written [[provider]]"),
        "{out}"
    );
    assert_eq!(server.count("token"), 0);
}
