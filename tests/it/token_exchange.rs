//! Token exchange (RFC 8693): a workload trades the token its platform
//! gave it for an access token, cached like any other and exchanged again
//! (the subject token read anew) when it expires.

use crate::support::*;
use oauth_test_server::assertion::TestKey;
use serde_json::json;
use std::path::{Path, PathBuf};

const PLATFORM: &str = "https://kubernetes.default.svc";

fn key(name: &str) -> TestKey {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name);
    TestKey::from_pem(&std::fs::read_to_string(path).unwrap())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A service-account-like JWT for `sub`, for `server`, from [`PLATFORM`].
fn subject_jwt(server: &TestServer, sub: &str, exp: i64) -> String {
    key("ec-other.pem").sign(
        json!({"typ": "JWT"}),
        &json!({"iss": PLATFORM, "sub": sub, "aud": server.issuer(), "iat": now(), "exp": exp}),
    )
}

fn setup(extra: &str) -> (TestServer, Env, PathBuf) {
    let server = TestServer::start().unwrap();
    server.trust_subject_issuer(PLATFORM, &[key("ec-other.pem").jwk(None)]);
    let env = Env::new();
    let file = env.root.join("sa-token");
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"sts\"\nurl = \"https://git.example.com/\"\n\
         issuer = \"{}\"\ngrant = \"token_exchange\"\nsubject_token_file = \"{}\"\n\
         audience = \"https://git.example.com/\"\n{extra}",
        server.issuer(),
        file.display()
    ));
    (server, env, file)
}

fn token(env: &Env) -> Output {
    env.run(&["token", "https://git.example.com/org/repo.git"], "")
}

/// Rewrite the one cached entry so that it expired ten seconds ago.
fn expire_cached_token(env: &Env) {
    let entries = env.token_entries();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let mut token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&entries[0]).unwrap()).unwrap();
    token["expires_at"] = (now() - 10).into();
    std::fs::write(&entries[0], token.to_string()).unwrap();
}

#[test]
fn a_subject_token_is_exchanged_cached_and_exchanged_again_when_expired() {
    let (server, env, file) = setup("");
    std::fs::write(
        &file,
        subject_jwt(&server, "system:serviceaccount:ci:builder", now() + 600),
    )
    .unwrap();
    let first = token(&env);
    first.ok();
    let at = first.stdout.trim_end().to_string();
    assert_eq!(
        server.subject_of(&at).as_deref(),
        Some("system:serviceaccount:ci:builder")
    );
    let sent = server.last_request("/token").unwrap();
    assert_eq!(sent.param("audience"), Some("https://git.example.com/"));
    assert_eq!(
        sent.param("subject_token_type"),
        Some("urn:ietf:params:oauth:token-type:jwt")
    );
    assert_eq!(
        sent.param("client_id"),
        None,
        "no client configured, none sent"
    );
    assert_eq!(token(&env).ok().stdout, first.stdout);
    assert_eq!(
        server.count("token_exchange"),
        1,
        "the second from the cache"
    );

    // The platform rotated the file; the expired token is replaced by a
    // new exchange of what the file holds now.
    std::fs::write(
        &file,
        subject_jwt(&server, "system:serviceaccount:ci:deployer", now() + 600),
    )
    .unwrap();
    expire_cached_token(&env);
    let again = token(&env);
    again.ok();
    assert_eq!(
        server.subject_of(again.stdout.trim_end()).as_deref(),
        Some("system:serviceaccount:ci:deployer")
    );
    assert_eq!(server.count("token_exchange"), 2);
}

#[test]
fn an_expired_subject_token_is_refused_and_nothing_cached() {
    let (server, env, file) = setup("");
    std::fs::write(&file, subject_jwt(&server, "sa", now() - 60)).unwrap();
    let out = token(&env);
    out.fails();
    assert!(
        out.stderr.contains("invalid_request") && out.stderr.contains("expired"),
        "{out}"
    );
    assert!(env.stored_entries().is_empty(), "{out}");
}

#[test]
fn a_configured_client_authenticates_its_exchange_with_an_assertion() {
    let (server, env, file) = setup("client_id = \"exchanger\"\nprivate_key_file = \"$KEY\"\n");
    let key_file = private_key_file(&env, "rsa-pkcs8.pem");
    let text = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&text.replace("$KEY", &key_file.display().to_string()));
    server.add_client_with_jwks("exchanger", &[key("rsa-pkcs8.pem").jwk(None)]);
    std::fs::write(&file, subject_jwt(&server, "sa", now() + 600)).unwrap();
    let out = token(&env);
    out.ok();
    assert!(server.is_active(out.stdout.trim_end()), "{out}");
    let sent = server.last_request("/token").unwrap();
    assert_eq!(sent.param("client_id"), Some("exchanger"));
    assert!(sent.param("client_assertion").is_some());
}

/// The same exchange written in git's config (`credential.<url>.oauth*`),
/// as a CI job that keeps its settings there would: git's `get` is
/// answered with the exchanged token.
#[test]
fn a_token_exchange_written_in_git_config_answers_git() {
    let Some(()) = require_tools(&["git"]) else {
        return;
    };
    let server = TestServer::start().unwrap();
    server.trust_subject_issuer(PLATFORM, &[key("ec-other.pem").jwk(None)]);
    let mut env = Env::new();
    env.write_config("storage = \"file\"\n");
    let file = env.root.join("sa-token");
    std::fs::write(
        &file,
        subject_jwt(&server, "system:serviceaccount:ci:builder", now() + 600),
    )
    .unwrap();
    let global = env.root.join("gitconfig");
    std::fs::write(
        &global,
        format!(
            "[credential \"https://git.example.com\"]\n\toauthIssuer = {}\n\
             \toauthGrant = token_exchange\n\toauthSubjectTokenFile = {}\n\
             \toauthAudience = https://git.example.com/\n",
            server.issuer(),
            file.display()
        ),
    )
    .unwrap();
    env.set_var("GIT_CONFIG_GLOBAL", global.to_str().unwrap());
    env.set_var("GIT_CONFIG_NOSYSTEM", "1");
    let out = env.run(&["get"], "protocol=https\nhost=git.example.com\n\n");
    let password = out
        .ok()
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("password="))
        .unwrap_or_else(|| panic!("no password\n{out}"))
        .to_string();
    assert!(server.is_active(&password), "{out}");
    assert_eq!(server.count("token_exchange"), 1, "{out}");
}
