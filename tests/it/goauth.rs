//! `credential-oauth goauth [URL]` as Go's GOAUTH command: its output read
//! by a strict parser of Go's grammar, the prefixes it promises checked the
//! way the go command uses them, and the real `go mod download` through a
//! private HTTPS module proxy that accepts only tokens the test
//! authorization server issued (Go >= 1.24; `.ci/run` installs one).

use crate::support::module_hosts::{self, GO_MODULE, GO_VERSION};
use crate::support::*;

/// Two client-credentials providers: `https://go.example/mods/` and
/// `https://other.example/`, on one test server.
fn two_providers(env: &Env) -> TestServer {
    let server = TestServer::start().unwrap();
    server.add_client("ci", Some("ci-secret"));
    let block = |name: &str, url: &str| {
        format!(
            "[[provider]]\nname = \"{name}\"\nurl = \"{url}\"\nissuer = \"{}\"\n\
             client_id = \"ci\"\nclient_secret = \"ci-secret\"\ngrant = \"client_credentials\"\n\
             scopes = [\"{name}\"]\n\n",
            server.issuer()
        )
    };
    env.write_config(&format!(
        "storage = \"file\"\n\n{}{}",
        block("mods", "https://go.example/mods/"),
        block("other", "https://other.example/")
    ));
    server
}

fn sets_of(out: &Output) -> Vec<GoCredentialSet> {
    out.ok();
    parse_goauth_output(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{out}"))
}

fn bearer_of(headers: &[(String, String)]) -> String {
    match headers {
        [(name, value)] if name == "Authorization" => {
            value.strip_prefix("Bearer ").unwrap().to_string()
        }
        other => panic!("{:?}", other.iter().map(|(n, _)| n).collect::<Vec<_>>()),
    }
}

#[test]
fn without_a_url_only_providers_holding_a_fresh_token_get_a_set() {
    let env = Env::new();
    // No config at all: empty output, which Go takes as "nothing".
    let out = env.run(&["goauth"], "");
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), ""), "{out}");

    let server = two_providers(&env);
    assert!(sets_of(&env.run(&["goauth"], "")).is_empty());
    let token = env.run(&["token", "https://go.example/mods/x"], "");
    token.ok();
    let before = server.count("client_credentials");

    let sets = sets_of(&env.run(&["goauth"], ""));
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(sets[0].urls, ["https://go.example/mods/"]);
    assert_eq!(bearer_of(&sets[0].headers), token.stdout.trim());
    assert!(server.is_active(token.stdout.trim()));
    // The cache only: no grant ran, and the other provider got nothing.
    assert_eq!(server.count("client_credentials"), before);
    assert!(headers_go_sends(&sets, "https://other.example/m/@v/list").is_none());
}

#[test]
fn with_a_url_the_set_is_for_that_providers_url_and_never_wider() {
    let env = Env::new();
    let server = two_providers(&env);
    let url = "https://go.example/mods/corp.example/hello/@v/list";
    let sets = sets_of(&env.run(&["goauth", url], &go_401_stdin("Bearer realm=\"goproxy\"")));
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert_eq!(sets[0].urls, ["https://go.example/mods/"]);
    let token = bearer_of(headers_go_sends(&sets, url).unwrap());
    assert!(server.is_active(&token));
    // What Go would do with that set: the provider's URL and below, and
    // nothing beside or above it.
    for elsewhere in [
        "https://go.example/",
        "https://go.example/modsx/m/@v/list",
        "https://go.example/other/m/@v/list",
        "https://go.example.evil/mods/m/@v/list",
        "https://other.example/mods/m/@v/list",
    ] {
        assert!(headers_go_sends(&sets, elsewhere).is_none(), "{elsewhere}");
    }
    assert!(headers_go_sends(&sets, "https://go.example/mods").is_some());
}

#[test]
fn a_url_no_provider_serves_gets_empty_output_and_success() {
    let env = Env::new();
    let server = two_providers(&env);
    for url in [
        "https://go.example/modsx/m/@v/list",
        "https://proxy.golang.org/golang.org/x/text/@v/list",
    ] {
        let out = env.run(&["goauth", url], &go_401_stdin("Bearer"));
        assert_eq!((out.code, out.stdout.as_str()), (Some(0), ""), "{out}");
    }
    assert_eq!(server.count("client_credentials"), 0);
}

#[test]
fn a_malformed_response_on_stdin_is_one_line_and_a_failure() {
    let env = Env::new();
    two_providers(&env);
    for stdin in [
        "",
        "hunter2\n",
        "HTTP/1.1 4O1 Unauthorized\n\n",
        "HTTP/1.1 401 x\nno colon hunter2\n\n",
    ] {
        let out = env.run(&["goauth", "https://go.example/mods/m"], stdin);
        out.fails();
        assert!(out.stdout.is_empty(), "{out}");
        assert_eq!(out.stderr.lines().count(), 1, "{out}");
        assert!(
            out.stderr.starts_with("credential-oauth: goauth: "),
            "{out}"
        );
        assert!(!out.stderr.contains("hunter2"), "{out}");
    }
    let out = env.run(&["goauth", "a", "b"], "");
    assert_eq!(out.code, Some(2), "{out}");
}

#[test]
fn with_nobody_to_ask_no_login_starts_and_the_failure_names_the_login_command() {
    let mut env = Env::new();
    let server = TestServer::start().unwrap();
    server.add_client("app", None);
    env.write_config(&interactive_provider(
        &server,
        "https://go.example/",
        "client_id = \"app\"\n",
    ));
    env.browser("echo run >> \"$DIR/browser-runs\"");

    // Before the first fetch: nothing cached, nothing said, nothing opened.
    let out = env.run(&["goauth"], "");
    assert_eq!((out.code, out.stdout.as_str()), (Some(0), ""), "{out}");
    // After a 401: the line naming the login, with a failure so `go -x` shows it.
    let out = env.run(
        &["goauth", "https://go.example/m/@v/list"],
        &go_401_stdin("Bearer"),
    );
    out.fails();
    assert!(out.stdout.is_empty(), "{out}");
    assert!(
        out.stderr.contains(
            "corp: no cached token and nobody to ask here; run: credential-oauth login https://go.example/"
        ),
        "{out}"
    );
    assert!(env.lines_of("browser-runs").is_empty(), "{out}");
    assert_eq!(server.count("authorize"), 0);
}

/// The real go command: `go mod download` through the private proxy.
/// The first download gets a 401, then the helper's token (`goauth URL`);
/// a second, with an empty module cache, sends the cached token from its
/// first request on (`goauth` without a URL).
#[test]
fn go_mod_download_fetches_a_private_module_through_an_authenticated_proxy() {
    let Some(go) = go_with_goauth() else { return };
    require_tools(&["openssl"]).unwrap();
    let mut env = Env::new();
    let server = TestServer::start().unwrap();
    let proxy = module_hosts::go_proxy(&env.root.join("pki"), server.token_checker());
    env.client_credentials_config(&server, &format!("{}/", proxy.origin()));

    let gopath = env.root.join("gopath");
    env.var("GOAUTH", &format!("'{BIN}' goauth"));
    env.var("GOPROXY", &proxy.origin());
    env.var("GONOSUMDB", GO_MODULE);
    env.var("GOFLAGS", "-mod=mod");
    env.var("GOTOOLCHAIN", "local");
    env.var("GOTELEMETRY", "off");
    env.var("GOENV", "off");
    env.var("CGO_ENABLED", "0");
    env.var("GOPATH", &gopath.display().to_string());
    env.var("GOCACHE", &env.root.join("gocache").display().to_string());
    env.var("SSL_CERT_FILE", &proxy.ca_pem().display().to_string());
    let download = |modcache: &str| {
        let mut cmd = env.command(&go);
        cmd.env("GOMODCACHE", env.root.join(modcache)).args([
            "mod",
            "download",
            "-json",
            &format!("{GO_MODULE}@{GO_VERSION}"),
        ]);
        let out = run_command(cmd, b"");
        out.ok();
        let v: serde_json::Value =
            serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{out}"));
        assert_eq!(v["Version"], GO_VERSION, "{out}");
        let dir = v["Dir"].as_str().unwrap_or_else(|| panic!("{out}"));
        assert!(
            std::path::Path::new(dir).join("hello.go").is_file(),
            "{out}"
        );
        out
    };

    let out = download("modcache-1");
    // One refusal (no token yet), then every file with a live token.
    assert_eq!(proxy.refused().len(), 1, "{:?}\n{out}", proxy.requested());
    let granted = proxy.granted();
    for file in [".mod", ".zip"] {
        let path = format!("/{GO_MODULE}/@v/{GO_VERSION}{file}");
        assert!(granted.contains(&path), "{path} not in {granted:?}\n{out}");
    }
    assert_eq!(server.count("client_credentials"), 1);

    let out = download("modcache-2");
    assert_eq!(proxy.refused().len(), 1, "{:?}\n{out}", proxy.requested());
    assert_eq!(server.count("client_credentials"), 1);
}
