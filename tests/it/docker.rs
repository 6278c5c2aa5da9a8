//! docker-credential-oauth: docker's credential-helper protocol through the
//! real binary, and a real OCI client (skopeo) pulling a manifest from a
//! registry that accepts only a live token.

use crate::support::registry::{REPO, Registry, TAG};
use crate::support::*;
use std::path::Path;
use std::sync::Arc;

const HELPER: &str = "docker-credential-oauth";
const NOT_FOUND: &str = "credentials not found in native keychain\n";
const USAGE: &str = "Usage: docker-credential-oauth <store|get|erase|list|version>\n";
const REGISTRY_USER: &str = "oauth2accesstoken";

/// A config whose client-credentials providers are the registries at `urls`,
/// handing out tokens with docker's usual username. Each asks for a scope of
/// its own: providers sharing issuer, client and scopes share a token.
fn registry_config(env: &Env, server: &TestServer, urls: &[&str]) {
    server.add_client("ci", Some("ci-secret"));
    let mut text = String::from("storage = \"file\"\n");
    for (n, url) in urls.iter().enumerate() {
        text.push_str(&format!(
            "\n[[provider]]\nname = \"registry{n}\"\nurl = \"{url}\"\nissuer = \"{}\"\n\
             client_id = \"ci\"\nclient_secret = \"ci-secret\"\ngrant = \"client_credentials\"\n\
             username = \"{REGISTRY_USER}\"\nscopes = [\"registry{n}\"]\n",
            server.issuer()
        ));
    }
    env.write_config(&text);
}

/// `get`'s exact answer.
fn answer(server_url: &str, username: &str, secret: &str) -> String {
    format!(
        "{{\"ServerURL\":\"{server_url}\",\"Username\":\"{username}\",\"Secret\":\"{secret}\"}}\n"
    )
}

fn store_json(server_url: &str, username: &str, secret: &str) -> String {
    format!(
        "{{\"ServerURL\":\"{server_url}\",\"Username\":\"{username}\",\"Secret\":\"{secret}\"}}"
    )
}

/// The Secret of a `get` answer.
fn secret_of(out: &Output) -> String {
    let v: serde_json::Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("get answered no JSON ({e})\n{out}"));
    v["Secret"].as_str().unwrap().to_string()
}

#[test]
fn version_names_the_helper_and_the_package() {
    let env = Env::new();
    let out = env.run_as(HELPER, &["version"], "");
    assert_eq!(
        out.ok().stdout,
        format!(
            "docker-credential-oauth (credential-oauth) {}\n",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn wrong_arguments_answer_on_stdout_with_status_one() {
    let env = Env::new();
    for args in [&[][..], &["get", "extra"][..]] {
        let out = env.run_as(HELPER, args, "");
        assert_eq!(out.code, Some(1), "{out}");
        assert_eq!(out.stdout, USAGE, "{out}");
    }
    let out = env.run_as(HELPER, &["frob"], "");
    assert_eq!(out.code, Some(1), "{out}");
    assert_eq!(out.stdout, "Unknown credential action `frob`\n", "{out}");
}

#[test]
fn unknown_registry_is_not_found() {
    let env = Env::new();
    for server in ["registry.example.com", "https://index.docker.io/v1/"] {
        let out = env.run_as(HELPER, &["get"], server);
        assert_eq!(out.code, Some(1), "{out}");
        assert_eq!(out.stdout, NOT_FOUND, "{out}");
    }
    let out = env.run_as(HELPER, &["erase"], "registry.example.com");
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (Some(1), NOT_FOUND),
        "{out}"
    );
    assert_eq!(env.run_as(HELPER, &["list"], "unused").ok().stdout, "{}\n");
}

#[test]
fn get_hands_out_a_live_token_for_every_form_of_the_server_address() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    registry_config(
        &env,
        &server,
        &[
            "https://registry.example.com/",
            "http://127.0.0.1:5000/",
            "https://index.docker.io/",
        ],
    );
    let first = env.run_as(HELPER, &["get"], "registry.example.com");
    let token = secret_of(first.ok());
    assert!(server.is_active(&token), "{first}");
    assert_eq!(
        first.stdout,
        answer("registry.example.com", REGISTRY_USER, &token)
    );
    for (sent, named) in [
        ("registry.example.com:443", "registry.example.com:443"),
        (
            "https://registry.example.com",
            "https://registry.example.com",
        ),
        (
            "https://registry.example.com/v2/",
            "https://registry.example.com/v2/",
        ),
        ("  registry.example.com\n", "registry.example.com"),
    ] {
        let out = env.run_as(HELPER, &["get"], sent);
        assert_eq!(
            out.ok().stdout,
            answer(named, REGISTRY_USER, &token),
            "{out}"
        );
    }
    assert_eq!(
        server.count("client_credentials"),
        1,
        "later gets use the cache"
    );

    for server_url in ["http://127.0.0.1:5000", "https://index.docker.io/v1/"] {
        let out = env.run_as(HELPER, &["get"], server_url);
        let token = secret_of(out.ok());
        assert!(server.is_active(&token), "{out}");
        assert_eq!(out.stdout, answer(server_url, REGISTRY_USER, &token));
    }
    // The provider's scheme and port count for URLs; a bare host is https,
    // so an http provider never serves one (DESIGN.md "Trust").
    for other in [
        "127.0.0.1:5000",
        "https://127.0.0.1:5000",
        "http://registry.example.com",
        "registry.example.com:5000",
    ] {
        let out = env.run_as(HELPER, &["get"], other);
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (Some(1), NOT_FOUND),
            "{out}"
        );
    }
}

/// docker sends the token to the whole registry host, over https for a
/// bare host: a provider scoped to a path, or speaking http, never serves
/// one. No token is obtained, and docker hears "not found".
#[test]
fn a_bare_host_gets_nothing_from_a_provider_with_a_path_or_plain_http() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    registry_config(
        &env,
        &server,
        &["https://forge.example.com/team/", "http://127.0.0.1:5000/"],
    );
    for bare in [
        "forge.example.com",
        "forge.example.com:443",
        "127.0.0.1:5000",
        "https://forge.example.com/team/app",
    ] {
        let out = env.run_as(HELPER, &["get"], bare);
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (Some(1), NOT_FOUND),
            "{out}"
        );
    }
    assert_eq!(server.count("client_credentials"), 0);
}

#[test]
fn static_credentials_round_trip_through_store_get_list_erase() {
    let env = Env::new();
    let stored = env.run_as(
        HELPER,
        &["store"],
        store_json("https://other.example.com", "alice", "pa$$word"),
    );
    assert_eq!(stored.ok().stdout, "");
    assert!(!stored.stderr.contains("pa$$word"), "{stored}");
    for entry in env.token_entries() {
        assert_eq!(mode(&entry), 0o600, "{}", entry.display());
    }

    for asked in ["other.example.com", "https://other.example.com/"] {
        let out = env.run_as(HELPER, &["get"], asked);
        assert_eq!(out.ok().stdout, answer(asked, "alice", "pa$$word"));
    }
    let list = env.run_as(HELPER, &["list"], "unused");
    assert_eq!(
        list.ok().stdout,
        "{\"https://other.example.com\":\"alice\"}\n"
    );

    env.run_as(HELPER, &["erase"], "other.example.com").ok();
    let gone = env.run_as(HELPER, &["get"], "other.example.com");
    assert_eq!(
        (gone.code, gone.stdout.as_str()),
        (Some(1), NOT_FOUND),
        "{gone}"
    );
    let again = env.run_as(HELPER, &["erase"], "other.example.com");
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (Some(1), NOT_FOUND),
        "{again}"
    );
    assert_eq!(env.run_as(HELPER, &["list"], "unused").ok().stdout, "{}\n");
}

#[test]
fn identity_tokens_are_kept_and_returned_unchanged() {
    let env = Env::new();
    env.run_as(
        HELPER,
        &["store"],
        store_json("https://index.docker.io/v1/", "<token>", "identity-token"),
    )
    .ok();
    // Go writes `<` and `>` escaped; docker's own helpers answer the same bytes.
    let expected_user = "\\u003ctoken\\u003e";
    let out = env.run_as(HELPER, &["get"], "https://index.docker.io/v1/");
    assert_eq!(
        out.ok().stdout,
        answer(
            "https://index.docker.io/v1/",
            expected_user,
            "identity-token"
        )
    );
    // podman and skopeo name Docker Hub `docker.io`.
    let out = env.run_as(HELPER, &["get"], "docker.io");
    assert_eq!(
        out.ok().stdout,
        answer("docker.io", expected_user, "identity-token")
    );
    let list = env.run_as(HELPER, &["list"], "unused");
    assert_eq!(
        list.ok().stdout,
        format!("{{\"https://index.docker.io/v1/\":\"{expected_user}\"}}\n")
    );
}

#[test]
fn store_for_an_oauth_registry_keeps_its_token() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    registry_config(&env, &server, &["https://registry.example.com/"]);
    let token = secret_of(env.run_as(HELPER, &["get"], "registry.example.com").ok());

    let stored = env.run_as(
        HELPER,
        &["store"],
        store_json("registry.example.com", "bob", "static-secret"),
    );
    assert_eq!(stored.ok().stdout, "");
    let out = env.run_as(HELPER, &["get"], "registry.example.com");
    assert_eq!(
        out.ok().stdout,
        answer("registry.example.com", REGISTRY_USER, &token)
    );
    assert_eq!(
        env.run_as(HELPER, &["list"], "unused").ok().stdout,
        format!("{{\"https://registry.example.com/\":\"{REGISTRY_USER}\"}}\n")
    );
}

#[test]
fn list_shows_static_entries_and_providers_with_a_cached_token() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    registry_config(
        &env,
        &server,
        &[
            "https://registry.example.com/",
            "https://quiet.example.com/",
        ],
    );
    env.run_as(
        HELPER,
        &["store"],
        store_json("other.example.com", "alice", "pw"),
    )
    .ok();
    assert_eq!(
        env.run_as(HELPER, &["list"], "unused").ok().stdout,
        "{\"other.example.com\":\"alice\"}\n",
        "no provider has a token yet"
    );
    env.run_as(HELPER, &["get"], "registry.example.com").ok();
    assert_eq!(
        env.run_as(HELPER, &["list"], "").ok().stdout,
        format!(
            "{{\"https://registry.example.com/\":\"{REGISTRY_USER}\",\"other.example.com\":\"alice\"}}\n"
        )
    );
}

#[test]
fn erase_for_an_oauth_registry_drops_its_token() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    registry_config(&env, &server, &["https://registry.example.com/"]);
    let first = secret_of(env.run_as(HELPER, &["get"], "registry.example.com").ok());
    env.run_as(HELPER, &["erase"], "https://registry.example.com")
        .ok();
    let second = secret_of(env.run_as(HELPER, &["get"], "registry.example.com").ok());
    assert_ne!(first, second);
    assert_eq!(server.count("client_credentials"), 2);
}

#[test]
fn a_failing_token_server_is_an_error_not_a_miss() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    registry_config(&env, &server, &["https://registry.example.com/"]);
    server.fail_next_on("/token", 1, Fault::json(500, r#"{"error":"server_error"}"#));
    let out = env.run_as(HELPER, &["get"], "registry.example.com");
    assert_eq!(out.code, Some(1), "{out}");
    assert_ne!(out.stdout, NOT_FOUND, "{out}");
    assert!(out.stdout.contains("server_error"), "{out}");
    assert_eq!(out.stdout.lines().count(), 1, "{out}");
    assert!(!out.stdout.contains("ci-secret"), "{out}");
}

#[test]
fn debug_output_shows_decisions_and_no_secret() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    registry_config(&env, &server, &["https://registry.example.com/"]);
    env.var("CREDENTIAL_OAUTH_LOG", "debug");
    let out = env.run_as(HELPER, &["get"], "registry.example.com");
    let token = secret_of(out.ok());
    assert!(out.stderr.contains("\"registry0\" matches"), "{out}");
    assert!(!out.stderr.contains(&token), "{out}");
    assert!(!out.stderr.contains("ci-secret"), "{out}");

    let stored = env.run_as(
        HELPER,
        &["store"],
        store_json("other.example.com", "alice", "hunter2"),
    );
    assert!(
        stored.ok().stderr.contains("stored credentials"),
        "{stored}"
    );
    let got = env.run_as(HELPER, &["get"], "other.example.com");
    assert!(got.ok().stdout.contains("hunter2"));
    // A password in the address is neither matched nor echoed.
    let miss = env.run_as(HELPER, &["get"], "https://user:hunter2@other.example.com/");
    assert_eq!(miss.stdout, NOT_FOUND, "{miss}");
    for out in [&stored, &got, &miss] {
        assert!(!out.stderr.contains("hunter2"), "{out}");
    }
}

#[test]
fn bad_stdin_is_a_clear_error_and_writes_nothing() {
    let env = Env::new();
    let huge = format!(
        "{{\"ServerURL\":\"r.example.com\",\"Username\":\"u\",\"Secret\":\"{}\"}}",
        "x".repeat(100 * 1024)
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("store", String::new(), "empty"),
        ("store", "hunter2".into(), "not JSON"),
        ("store", "[]".into(), "JSON object"),
        ("store", "{}".into(), "no credentials server URL"),
        (
            "store",
            r#"{"ServerURL":"r.example.com","Secret":"hunter2"}"#.into(),
            "no credentials username",
        ),
        (
            "store",
            r#"{"ServerURL":"r.example.com","Username":"u"}"#.into(),
            "Secret",
        ),
        ("store", huge.clone(), "larger than"),
        ("get", String::new(), "no credentials server URL"),
        ("get", huge.clone(), "larger than"),
        ("erase", "\n".into(), "no credentials server URL"),
    ];
    for (action, input, needle) in cases {
        let out = env.run_as(HELPER, &[action], &input);
        assert_eq!(out.code, Some(1), "{out}");
        assert_eq!(out.stdout.lines().count(), 1, "{out}");
        assert!(out.stdout.contains(needle), "{needle}\n{out}");
        assert!(!out.stdout.contains("hunter2"), "{out}");
    }
    assert!(env.token_files().is_empty(), "{:?}", env.token_files());
}

#[test]
fn parallel_stores_all_reach_the_list() {
    let env = Env::new();
    let hosts: Vec<String> = (0..8).map(|n| format!("r{n}.example.com")).collect();
    std::thread::scope(|s| {
        for host in &hosts {
            let env = &env;
            s.spawn(move || {
                env.run_as(HELPER, &["store"], store_json(host, "u", "p"))
                    .ok();
            });
        }
    });
    let list = env.run_as(HELPER, &["list"], "unused");
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&list.ok().stdout).unwrap();
    let listed: Vec<&String> = map.keys().collect();
    assert_eq!(listed, hosts.iter().collect::<Vec<_>>(), "{list}");
}

#[test]
fn the_shim_and_the_environment_variable_select_the_docker_protocol() {
    let env = Env::new();
    let shim = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("helpers")
        .join(HELPER);
    let installed = env.bin_dir().join(HELPER);
    env.link_as("credential-oauth");
    std::fs::copy(&shim, &installed).unwrap();
    let version = format!(
        "docker-credential-oauth (credential-oauth) {}\n",
        env!("CARGO_PKG_VERSION")
    );
    let mut cmd = env.command(&installed);
    cmd.arg("version");
    assert_eq!(run_command(cmd, b"").ok().stdout, version);

    let mut cmd = env.command(BIN);
    cmd.env("CREDENTIAL_OAUTH_PROTOCOL", "docker")
        .arg("version");
    assert_eq!(run_command(cmd, b"").ok().stdout, version);
}

/// skopeo, or `None` (and a note) when it is not installed. Under CI a
/// missing skopeo fails the test instead of skipping it.
fn skopeo() -> Option<&'static str> {
    let found = std::process::Command::new("skopeo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some("skopeo");
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "skopeo is needed under CI (Debian: apt-get install skopeo)"
    );
    eprintln!("skipped: skopeo is not installed (Debian: apt-get install skopeo)");
    None
}

#[test]
fn skopeo_reads_a_manifest_with_a_token_from_the_helper() {
    let Some(skopeo) = skopeo() else {
        return;
    };
    let server = Arc::new(TestServer::start().unwrap());
    let registry = Registry::start(Arc::clone(&server), REGISTRY_USER);
    let env = Env::new();
    // skopeo names the registry by its bare host, which is https to the
    // helper; `--tls-verify=false` is skopeo's own choice to fall back to
    // plain http on loopback.
    registry_config(&env, &server, &[&format!("https://{}/", registry.host())]);
    env.link_as(HELPER);

    let inspect = |auth: serde_json::Value| {
        let authfile = env.root.join("auth.json");
        std::fs::write(&authfile, auth.to_string()).unwrap();
        let mut cmd = env.command(skopeo);
        cmd.env("PATH", env.path_with_bin_dir())
            .arg("inspect")
            .arg("--tls-verify=false")
            .arg("--authfile")
            .arg(&authfile)
            .arg(format!("docker://{}/{REPO}:{TAG}", registry.host()));
        run_command(cmd, b"")
    };

    let with_helper = serde_json::json!({ "credHelpers": { registry.host(): "oauth" } });
    let out = inspect(with_helper.clone());
    let image: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    assert_eq!(image["Digest"], registry.manifest_digest(), "{out}");
    assert_eq!(image["RepoTags"], serde_json::json!([TAG]), "{out}");
    assert!(registry.granted() >= 2, "/v2/ and the manifest, at least");
    assert_eq!(server.count("client_credentials"), 1);

    // Without the helper skopeo goes anonymous and the registry says 401.
    let granted = registry.granted();
    let refused = registry.refused();
    let out = inspect(serde_json::json!({ "auths": {} }));
    out.fails();
    assert!(
        out.stderr.contains("401") || out.stderr.to_lowercase().contains("unauthorized"),
        "{out}"
    );
    assert_eq!(registry.granted(), granted);
    assert!(registry.refused() > refused);

    // Named in the config but gone from PATH: no credentials, no access.
    std::fs::remove_file(env.bin_dir().join(HELPER)).unwrap();
    let out = inspect(with_helper);
    out.fails();
    assert!(out.stderr.contains(HELPER), "{out}");
    assert_eq!(registry.granted(), granted, "{out}");
}

/// `list` shows only providers docker could be answered for: a whole
/// registry host, not a cargo or package index with a path, even when
/// those hold tokens.
#[test]
fn list_shows_only_registry_providers() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    registry_config(
        &env,
        &server,
        &[
            "https://registry.example.com/",
            "https://crates.example.com/index/",
        ],
    );
    env.run_as(HELPER, &["get"], "registry.example.com").ok();
    env.run(&["token", "https://crates.example.com/index/"], "")
        .ok();
    assert_eq!(env.token_entries().len(), 2);
    assert_eq!(
        env.run_as(HELPER, &["list"], "").ok().stdout,
        format!("{{\"https://registry.example.com/\":\"{REGISTRY_USER}\"}}\n")
    );
}
