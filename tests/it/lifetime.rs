//! How long a login lasts (DESIGN.md "Where tokens live": Lifetime): a
//! token with no expiry is used until the server rejects it, and a refresh
//! the server refuses for good drops the grant whatever its error code.

use crate::support::*;

const URL: &str = "https://github.com/";

/// Move the cached token's times back by `secs`, as the clock moving on
/// would.
fn age_the_token(env: &Env, secs: u64) {
    let path = env
        .token_entries()
        .into_iter()
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .contains("access_token")
        })
        .expect("a cached token");
    let mut entry: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for field in ["obtained_at", "expires_at"] {
        if let Some(at) = entry[field].as_u64() {
            entry[field] = (at - secs).into();
        }
    }
    std::fs::write(&path, entry.to_string()).unwrap();
}

#[test]
fn a_token_without_expiry_or_refresh_token_is_used_until_the_server_rejects_it() {
    let server = TestServer::start().unwrap();
    // What GitHub's OAuth apps answer: no expires_in, no refresh token.
    server.set_token_lifetime(None);
    server.add_client("app", Some("app-secret"));
    let env = Env::new();
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nurl = \"{URL}\"\npreset = \"github\"\n\
         issuer = \"{i}\"\ntoken_endpoint = \"{i}/token\"\nclient_id = \"app\"\n\
         client_secret = \"app-secret\"\ngrant = \"client_credentials\"\n",
        i = server.issuer()
    ));
    let request = "protocol=https\nhost=github.com\n\n";
    let first = env.run(&["get"], request);
    first.ok();
    let token = first.field("password").unwrap();
    assert_eq!(first.field("password_expiry_utc"), None, "{first}");
    // Two hours on, nobody is asked and the server is not called.
    age_the_token(&env, 2 * 3600);
    let later = env.run(&["get"], request);
    assert_eq!(later.ok().field("password"), Some(token.clone()));
    assert_eq!(server.count("token"), 1);
    let status = env.run(&["status"], "");
    assert!(
        status
            .ok()
            .stdout
            .contains("used until the server rejects it"),
        "{status}"
    );
    // The server rejects it: git erases it, and the next get gets another.
    let erase =
        format!("protocol=https\nhost=github.com\nusername=x-access-token\npassword={token}\n\n");
    env.run(&["erase"], &erase).ok();
    let next = env.run(&["get"], request);
    assert_ne!(next.ok().field("password"), Some(token));
    assert_eq!(server.count("token"), 2);
}

#[test]
fn token_lifetime_in_seconds_applies_when_the_server_gives_none() {
    let server = TestServer::start().unwrap();
    server.set_token_lifetime(None);
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!("{text}token_lifetime = 600\n"));
    let first = env.run(&["get"], "protocol=https\nhost=github.com\n\n");
    let expiry: u64 = first
        .ok()
        .field("password_expiry_utc")
        .unwrap()
        .parse()
        .unwrap();
    let entry = env.only_token_entry();
    assert_eq!(expiry, entry["obtained_at"].as_u64().unwrap() + 600);
    // Aged past it, the next call gets a new token.
    age_the_token(&env, 601);
    env.run(&["get"], "protocol=https\nhost=github.com\n\n")
        .ok();
    assert_eq!(server.count("client_credentials"), 2);
}

#[test]
fn a_refresh_refused_with_any_final_code_drops_the_grant_and_logs_in_again() {
    let server = TestServer::start().unwrap();
    server.add_client("app", None);
    // Shorter than the 60 s margin: every call refreshes.
    server.set_token_lifetime(Some(30));
    let mut env = Env::new();
    env.write_config(&interactive_provider(&server, URL, "client_id = \"app\"\n"));
    env.browser(r#"echo run >> "$DIR/browser-runs"; curl -sS -L -o /dev/null "$1""#);
    env.run(&["token", URL], "").ok();
    assert_eq!(env.lines_of("browser-runs").len(), 1);
    // GitHub answers a dead refresh token with HTTP 200 and its own code.
    server.fail_next_on(
        "/token",
        1,
        Fault::json(
            200,
            r#"{"error":"bad_refresh_token","error_description":"gone"}"#,
        ),
    );
    let out = env.run(&["token", URL], "");
    out.ok();
    assert_eq!(server.count("refresh_token"), 1);
    assert_eq!(
        env.lines_of("browser-runs").len(),
        2,
        "the dead grant was dropped and the person logged in again\n{out}"
    );
    assert!(server.is_active(out.stdout.trim()));
}
