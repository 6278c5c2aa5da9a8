//! A CI job or service authenticates with a JWT instead of a stored
//! secret (RFC 7523): signed here with its key (`private_key_jwt`), or
//! issued to it by its platform and read from a file on every use. The
//! test server verifies each one for real.

use crate::support::*;
use oauth_test_server::assertion::TestKey;
use serde_json::json;
use std::path::{Path, PathBuf};

fn key_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name)
}

fn key(name: &str) -> TestKey {
    TestKey::from_pem(&std::fs::read_to_string(key_path(name)).unwrap())
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A client_credentials provider for client `ci` authenticating with `auth`.
fn config(env: &Env, server: &TestServer, auth: &str) {
    env.write_config(&format!(
        "storage = \"file\"\n\n[[provider]]\nname = \"ci\"\nurl = \"https://git.example.com/\"\n\
         issuer = \"{}\"\nclient_id = \"ci\"\ngrant = \"client_credentials\"\n{auth}\n",
        server.issuer()
    ));
}

/// Claims of an assertion for client `ci` at `server`, valid for a minute.
fn claims(server: &TestServer) -> serde_json::Value {
    let now = now();
    json!({
        "iss": "ci", "sub": "ci",
        "aud": format!("{}/token", server.issuer()),
        "jti": format!("jti-{}", rand_suffix()),
        "iat": now, "exp": now + 60,
    })
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// The assertion file `env` is configured with, holding `jwt`.
fn assertion_file(env: &Env, jwt: &str) -> PathBuf {
    let path = env.root.join("oidc-token");
    std::fs::write(&path, jwt).unwrap();
    path
}

/// Configure `env` with an assertion file holding `claims` signed by `signer`.
fn with_assertion(env: &Env, server: &TestServer, signer: &TestKey, claims: &serde_json::Value) {
    let file = assertion_file(env, &signer.sign(json!({"typ": "JWT"}), claims));
    config(
        env,
        server,
        &format!("client_assertion_file = \"{}\"\n", file.display()),
    );
}

fn token(env: &Env) -> Output {
    env.run(&["token", "https://git.example.com/org/repo.git"], "")
}

fn refused(out: &Output, env: &Env, needle: &str) {
    out.fails();
    assert!(out.stderr.contains("invalid_client"), "{out}");
    assert!(out.stderr.contains(needle), "{needle}\n{out}");
    assert!(out.stdout.is_empty(), "{out}");
    assert!(env.stored_entries().is_empty(), "nothing cached\n{out}");
}

#[test]
fn a_signed_assertion_gets_a_token_that_is_cached() {
    for (file, registered) in [
        ("rsa-pkcs1.pem", "rsa-pkcs8.pem"),
        ("ec-sec1.pem", "ec-pkcs8.pem"),
    ] {
        let server = TestServer::start().unwrap();
        server.add_client_with_jwks(
            "ci",
            &[
                key("ec-other.pem").jwk(Some("old")),
                key(registered).jwk(Some("k1")),
            ],
        );
        let env = Env::new();
        config(
            &env,
            &server,
            &format!(
                "private_key_file = \"{}\"\nkey_id = \"k1\"\n",
                private_key_file(&env, file).display()
            ),
        );
        let first = token(&env);
        first.ok();
        assert!(server.is_active(first.stdout.trim_end()), "{first}");
        let sent = server.last_request("/token").unwrap();
        assert_eq!(sent.header("Authorization"), None);
        assert!(
            !first.stderr.contains("eyJ"),
            "no assertion in messages\n{first}"
        );
        assert_eq!(token(&env).ok().stdout, first.stdout);
        assert_eq!(server.count("token"), 1, "the second from the cache");
    }
}

#[test]
fn an_assertion_signed_by_another_key_is_refused_and_nothing_cached() {
    let server = TestServer::start().unwrap();
    server.add_client_with_jwks("ci", &[key("ec-other.pem").jwk(None)]);
    let env = Env::new();
    config(
        &env,
        &server,
        &format!(
            "private_key_file = \"{}\"\n",
            private_key_file(&env, "ec-pkcs8.pem").display()
        ),
    );
    refused(&token(&env), &env, "does not verify");
}

#[test]
fn a_private_key_others_can_read_is_refused_and_nothing_is_sent() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start().unwrap();
    server.add_client_with_jwks("ci", &[key("ec-pkcs8.pem").jwk(None)]);
    let env = Env::new();
    let file = private_key_file(&env, "ec-pkcs8.pem");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    config(
        &env,
        &server,
        &format!("private_key_file = \"{}\"\n", file.display()),
    );
    let out = token(&env);
    out.fails();
    assert_eq!(
        out.stderr,
        format!(
            "credential-oauth: private_key_file {}: mode 0644 lets others read it; chmod 600 it\n",
            file.display()
        ),
        "{out}"
    );
    assert_eq!(server.count("token"), 0);
    assert!(env.stored_entries().is_empty(), "nothing cached\n{out}");
}

#[test]
fn an_expired_assertion_is_refused_and_nothing_cached() {
    let server = TestServer::start().unwrap();
    let signer = key("ec-pkcs8.pem");
    server.add_client_with_jwks("ci", &[signer.jwk(None)]);
    let env = Env::new();
    let mut c = claims(&server);
    c["iat"] = json!(now() - 600);
    c["exp"] = json!(now() - 300);
    with_assertion(&env, &server, &signer, &c);
    refused(&token(&env), &env, "expired");
}

#[test]
fn an_assertion_for_another_audience_is_refused_and_nothing_cached() {
    let server = TestServer::start().unwrap();
    let signer = key("rsa-pkcs8.pem");
    server.add_client_with_jwks("ci", &[signer.jwk(None)]);
    let env = Env::new();
    let mut c = claims(&server);
    c["aud"] = json!("https://other-as.example/token");
    with_assertion(&env, &server, &signer, &c);
    refused(&token(&env), &env, "audience");
}

#[test]
fn an_assertion_file_used_twice_is_refused_as_replayed() {
    let server = TestServer::start().unwrap();
    let signer = key("ec-pkcs8.pem");
    server.add_client_with_jwks("ci", &[signer.jwk(None)]);
    let env = Env::new();
    with_assertion(&env, &server, &signer, &claims(&server));
    token(&env).ok();
    for entry in env.token_entries() {
        std::fs::remove_file(entry).unwrap();
    }
    refused(&token(&env), &env, "replayed");
}

#[test]
fn a_rotated_assertion_file_is_read_again() {
    let server = TestServer::start().unwrap();
    let signer = key("rsa-pkcs8.pem");
    server.add_client_with_jwks("ci", &[signer.jwk(None)]);
    let env = Env::new();
    with_assertion(&env, &server, &signer, &claims(&server));
    let first = token(&env);
    first.ok();
    for entry in env.token_entries() {
        std::fs::remove_file(entry).unwrap();
    }
    // The platform rotates the token; the old one would be a replay.
    assertion_file(&env, &signer.sign(json!({"typ": "JWT"}), &claims(&server)));
    let second = token(&env);
    second.ok();
    assert_ne!(second.stdout, first.stdout);
    assert_eq!(server.count("token"), 2);
}

#[test]
fn a_missing_assertion_file_is_named_and_nothing_is_sent() {
    let server = TestServer::start().unwrap();
    server.add_client_with_jwks("ci", &[key("ec-pkcs8.pem").jwk(None)]);
    let env = Env::new();
    let file = env.root.join("no-such-token");
    config(
        &env,
        &server,
        &format!("client_assertion_file = \"{}\"\n", file.display()),
    );
    let out = token(&env);
    out.fails();
    assert!(out.stderr.contains("no-such-token"), "{out}");
    assert_eq!(server.count("token"), 0);
}

/// A small fake of GitHub Actions' ID token service on a loopback port:
/// with the right request token it answers `{"value": JWT}`, a JWT for
/// client `ci` signed by `signer` for the `audience` asked for.
struct GitHubTokenService {
    url: String,
    http: std::sync::Arc<tiny_http::Server>,
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GitHubTokenService {
    const REQUEST_TOKEN: &str = "gh-request-token";

    fn start(signer: TestKey) -> GitHubTokenService {
        use std::sync::{Arc, Mutex};
        let http = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
        let port = http.server_addr().to_ip().unwrap().port();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (http, asked) = (Arc::clone(&http), Arc::clone(&asked));
            std::thread::spawn(move || {
                while let Ok(rq) = http.recv() {
                    let url = url::Url::parse(&format!("http://x{}", rq.url())).unwrap();
                    asked
                        .lock()
                        .unwrap()
                        .push(url.query().unwrap_or("").to_string());
                    let authorized = rq.headers().iter().any(|h| {
                        h.field.equiv("Authorization")
                            && h.value.as_str() == format!("Bearer {}", Self::REQUEST_TOKEN)
                    });
                    let audience = url
                        .query_pairs()
                        .find(|(k, _)| k == "audience")
                        .map(|(_, v)| v.into_owned());
                    let answer = match (authorized, audience) {
                        (true, Some(aud)) => {
                            let now = now();
                            let jwt = signer.sign(
                                json!({"typ": "JWT", "kid": "gh"}),
                                &json!({"iss": "ci", "sub": "ci", "aud": aud,
                                        "jti": format!("gh-{}", rand_suffix()),
                                        "iat": now, "exp": now + 300}),
                            );
                            tiny_http::Response::from_string(
                                json!({"count": 1, "value": jwt}).to_string(),
                            )
                        }
                        _ => tiny_http::Response::from_string(r#"{"message":"Unauthorized"}"#)
                            .with_status_code(401),
                    };
                    let _ = rq.respond(answer);
                }
            })
        };
        GitHubTokenService {
            url: format!("http://127.0.0.1:{port}/_apis/distributedtask/idtoken?api-version=2.0"),
            http,
            asked,
            thread: Some(thread),
        }
    }
}

impl Drop for GitHubTokenService {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn github_actions_id_token_is_fetched_for_the_audience_and_accepted() {
    let server = TestServer::start().unwrap();
    server.add_client_with_jwks("ci", &[key("ec-pkcs8.pem").jwk(Some("gh"))]);
    let github = GitHubTokenService::start(key("ec-pkcs8.pem"));
    let mut env = Env::new();
    env.set_var("ACTIONS_ID_TOKEN_REQUEST_URL", &github.url);
    env.set_var(
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        GitHubTokenService::REQUEST_TOKEN,
    );
    let audience = format!("{}/token", server.issuer());
    config(
        &env,
        &server,
        &format!(
            "client_assertion = \"github-actions\"\nclient_assertion_audience = \"{audience}\"\n"
        ),
    );
    let out = token(&env);
    out.ok();
    assert!(server.is_active(out.stdout.trim_end()), "{out}");
    let asked = github.asked.lock().unwrap().clone();
    let expected = format!(
        "api-version=2.0&audience={}",
        url::form_urlencoded::byte_serialize(audience.as_bytes()).collect::<String>()
    );
    assert_eq!(asked, [expected]);
    assert!(
        !out.stderr.contains(GitHubTokenService::REQUEST_TOKEN),
        "{out}"
    );
}

#[test]
fn outside_github_actions_the_missing_variables_are_named() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    config(&env, &server, "client_assertion = \"github-actions\"\n");
    let out = token(&env);
    out.fails();
    assert!(out.stderr.contains("ACTIONS_ID_TOKEN_REQUEST_URL"), "{out}");
    assert!(out.stderr.contains("id-token: write"), "{out}");
    assert_eq!(server.count("token"), 0);
}

#[test]
fn gitlab_ci_takes_the_id_token_the_job_names_or_says_it_is_missing() {
    let server = TestServer::start().unwrap();
    let signer = key("rsa-pkcs8.pem");
    server.add_client_with_jwks("ci", &[signer.jwk(None)]);
    let mut env = Env::new();
    config(
        &env,
        &server,
        "client_assertion = \"gitlab-ci\"\nclient_assertion_variable = \"AS_ID_TOKEN\"\n",
    );
    let out = token(&env);
    out.fails();
    assert!(out.stderr.contains("$AS_ID_TOKEN is not set"), "{out}");
    assert!(out.stderr.contains("id_tokens"), "{out}");
    let jwt = signer.sign(json!({"typ": "JWT"}), &claims(&server));
    env.set_var("AS_ID_TOKEN", &jwt);
    let out = token(&env);
    out.ok();
    assert!(server.is_active(out.stdout.trim_end()), "{out}");
}
