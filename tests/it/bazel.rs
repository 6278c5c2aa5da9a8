//! Bazel's credential-helper protocol through the binary linked as
//! `bazel-credential-oauth`. Bazel itself cannot be installed here, so the
//! exact format is what is tested: the request Bazel writes, the answer it
//! parses (EngFlow's credential-helper spec), and the failures it reports.

use crate::support::*;
use credential_oauth::protocol::bazel::Response;

const NAME: &str = "bazel-credential-oauth";
const URL: &str = "https://cache.example.com/";

fn setup() -> (TestServer, Env) {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    (server, env)
}

fn get(env: &Env, uri: &str) -> Output {
    env.run_as(NAME, &["get"], format!("{{\"uri\":\"{uri}\"}}"))
}

#[test]
fn a_providers_uri_gets_a_bearer_header_that_expires_when_the_helper_stops_using_it() {
    let (server, env) = setup();
    let out = get(&env, "https://cache.example.com/cas/0123abcd");
    out.ok();
    assert_eq!(out.stderr, "", "{out}");
    let entry = env.only_token_entry();
    let token = entry["access_token"].as_str().unwrap();
    let expires = entry["expires_at"].as_u64().unwrap() - 60;
    assert_eq!(
        out.stdout,
        format!(
            "{{\"headers\":{{\"Authorization\":[\"Bearer {token}\"]}},\"expires\":\"{}\"}}\n",
            credential_oauth::calendar::format_utc(expires)
        )
    );
    assert!(server.is_active(token));
    assert!(matches!(
        Response::parse(out.stdout.as_bytes()).unwrap(),
        Response::Bearer { .. }
    ));
    // Bazel asks again for the next URI: the cache answers.
    let again = get(&env, "https://cache.example.com/ac/ffff");
    assert_eq!(again.ok().stdout, out.stdout);
    assert_eq!(server.count("token"), 1);
}

#[test]
fn a_remote_cache_at_a_grpcs_uri_matches_the_https_provider() {
    let (_server, env) = setup();
    let out = get(&env, "grpcs://cache.example.com");
    assert!(
        out.ok()
            .stdout
            .starts_with("{\"headers\":{\"Authorization\":[\"Bearer "),
        "{out}"
    );
}

#[test]
fn a_uri_no_provider_serves_gets_no_headers() {
    let (server, env) = setup();
    for uri in [
        "https://mirror.example.org/archive.tar.gz",
        "http://cache.example.com/",
        "https://cache.example.com:8443/",
        "file:///tmp/x",
    ] {
        let out = get(&env, uri);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (Some(0), "{}\n", ""),
            "{out}"
        );
    }
    // Extra properties in the request and extra parameters are ignored.
    let out = env.run_as(
        NAME,
        &["get", "--future-flag"],
        r#"{"uri":"https://other.example/","other":{"x":1}}"#,
    );
    assert_eq!(out.ok().stdout, "{}\n");
    assert_eq!(server.count("token"), 0);
}

#[test]
fn malformed_input_and_commands_fail_with_one_line_and_nothing_on_stdout() {
    let (_server, env) = setup();
    for (args, stdin, code) in [
        (&[][..], "", 2),
        (&["store"][..], "", 2),
        (&["get"][..], "", 1),
        (&["get"][..], "{\"uri\":", 1),
        (&["get"][..], "{\"uri\":42}", 1),
        (&["get"][..], "[\"https://cache.example.com/\"]", 1),
        (
            &["get"][..],
            "{\"uri\":\"https://cache.example.com/\\u0000\"}",
            1,
        ),
    ] {
        let out = env.run_as(NAME, args, stdin);
        assert_eq!(out.code, Some(code), "{out}");
        assert_eq!(out.stdout, "", "{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        assert!(out.stderr.starts_with("credential-oauth: "), "{out}");
    }
    let big = format!("{{\"uri\":\"https://a/{}\"}}", "x".repeat(70 * 1024));
    let out = env.run_as(NAME, &["get"], big);
    assert_eq!(out.code, Some(1), "{out}");
    assert!(out.stderr.contains("larger than 64 KiB"), "{out}");
}

#[test]
fn a_needed_login_is_never_started_and_the_failure_names_the_command() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    server.add_client("app", None);
    env.write_config(&interactive_provider(
        &server,
        URL,
        "client_id = \"app\"\nscopes = [\"read\"]\n",
    ));
    // A browser that could log in: Bazel still gets no login.
    env.browser("echo run >> \"$DIR/browser-runs\"");
    let out = get(&env, "https://cache.example.com/x");
    assert_eq!((out.code, out.stdout.as_str()), (Some(1), ""), "{out}");
    assert_eq!(
        out.stderr,
        format!(
            "credential-oauth: corp: no cached token and nobody to ask here; run: credential-oauth login {URL}\n"
        )
    );
    assert!(env.lines_of("browser-runs").is_empty());
    assert_eq!(server.count("authorize"), 0);
}
