//! cargo's credential-provider protocol: the real cargo fetching from an
//! `auth-required` sparse registry through `credential-oauth --cargo-plugin`
//! (and through `cargo:token-from-stdout credential-oauth token --header`),
//! and the protocol's edges through the binary itself.

use crate::support::cargo_registry::{CRATE, CargoRegistry, VERSION, cargo_command};
use crate::support::hostile::{Hostile, Plan};
use crate::support::*;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const PLUGIN: &str = "--cargo-plugin";
const HELLO: &str = "{\"v\":[1]}\n";

/// How the test's cargo config names the provider.
enum Providers {
    /// `[registries.corp] credential-provider = ["credential-oauth"]`.
    Registry,
    /// `[registry] global-credential-providers = ["credential-oauth"]`.
    Global,
    /// `cargo:token-from-stdout credential-oauth token --header {index_url}`.
    TokenFromStdout,
}

/// A registry behind the test server, a client-credentials provider for the
/// whole registry (index, `dl` and `api`), and `credential-oauth` on PATH under its own name, as
/// install.sh puts it there.
fn setup() -> (Arc<TestServer>, CargoRegistry, Env) {
    let server = Arc::new(TestServer::start().unwrap());
    let registry = CargoRegistry::start(Arc::clone(&server));
    let mut env = Env::new();
    env.client_credentials_config(&server, &registry.origin());
    env.link_as("credential-oauth");
    let path = env.path_with_bin_dir();
    env.set_var("PATH", path.to_str().unwrap());
    (server, registry, env)
}

/// A fresh CARGO_HOME under the test's root whose config names `registry`.
fn cargo_home(env: &Env, name: &str, registry: &CargoRegistry, providers: Providers) -> PathBuf {
    let home = env.root.join(name);
    std::fs::create_dir_all(&home).unwrap();
    let index = registry.index_url();
    let config = match providers {
        Providers::Registry => format!(
            "[registries.corp]\nindex = \"{index}\"\ncredential-provider = [\"credential-oauth\"]\n"
        ),
        Providers::Global => format!(
            "[registry]\nglobal-credential-providers = [\"credential-oauth\"]\n\n\
             [registries.corp]\nindex = \"{index}\"\n"
        ),
        Providers::TokenFromStdout => format!(
            "[registries.corp]\nindex = \"{index}\"\ncredential-provider = \
             \"cargo:token-from-stdout credential-oauth token --header {{index_url}}\"\n"
        ),
    };
    std::fs::write(home.join("config.toml"), config).unwrap();
    home
}

/// A crate that depends on the registry's crate and nothing else, so no
/// other registry (crates.io) is ever asked.
fn consumer(env: &Env) -> PathBuf {
    let dir = env.root.join("consumer");
    if !dir.exists() {
        std::fs::create_dir_all(dir.join("src")).unwrap();
        std::fs::write(
            dir.join("Cargo.toml"),
            format!(
                "[package]\nname = \"consumer\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [dependencies]\n{CRATE} = {{ version = \"{VERSION}\", registry = \"corp\" }}\n\n\
                 [workspace]\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("src/lib.rs"), "").unwrap();
    }
    dir
}

/// The real cargo in `consumer`, with `cargo_home`, the test's HOME (the
/// helper's config and token cache) and PATH.
fn cargo(env: &Env, cargo_home: &Path, args: &[&str]) -> Output {
    let mut cmd = cargo_command(cargo_home);
    cmd.current_dir(consumer(env)).args(args);
    for (k, v) in &env.vars {
        cmd.env(k, v);
    }
    cmd.env("HOME", &env.home);
    run_command(cmd, b"")
}

/// The `.crate` cargo keeps once fetched, under `cargo_home`.
fn fetched_crates(cargo_home: &Path) -> Vec<PathBuf> {
    let cache = cargo_home.join("registry/cache");
    let mut found = Vec::new();
    for dir in std::fs::read_dir(&cache).into_iter().flatten().flatten() {
        let file = dir.path().join(format!("{CRATE}-{VERSION}.crate"));
        if file.exists() {
            found.push(file);
        }
    }
    found
}

/// generate-lockfile and fetch through the provider; what cargo printed.
fn lock_and_fetch(env: &Env, home: &Path) -> String {
    let lock = cargo(env, home, &["generate-lockfile"]);
    lock.ok();
    let fetch = cargo(env, home, &["fetch"]);
    fetch.ok();
    assert_eq!(fetched_crates(home).len(), 1, "{fetch}");
    format!(
        "{}{}{}{}",
        lock.stdout, lock.stderr, fetch.stdout, fetch.stderr
    )
}

#[test]
fn cargo_fetches_from_an_auth_required_sparse_registry_through_the_provider() {
    let (server, registry, env) = setup();
    let home = cargo_home(&env, "cargo-home", &registry, Providers::Registry);
    let printed = lock_and_fetch(&env, &home);
    // cargo asked without a token first (the 401 that names the provider's
    // job), then every request carried a live one.
    assert!(registry.refused() >= 1, "{printed}");
    assert!(registry.granted() >= 3, "{printed}");
    assert_eq!(registry.downloads(), 1);
    assert_eq!(server.count("token"), 1, "one token for the whole run");
    let lock = std::fs::read_to_string(consumer(&env).join("Cargo.lock")).unwrap();
    assert!(lock.contains(&format!("name = \"{CRATE}\"")), "{lock}");
    let token = env.only_token_entry()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !printed.contains(&token),
        "cargo printed the token\n{printed}"
    );
}

#[test]
fn a_fresh_cargo_home_is_served_from_our_cache() {
    let (server, registry, env) = setup();
    lock_and_fetch(
        &env,
        &cargo_home(&env, "first", &registry, Providers::Registry),
    );
    let (tokens, granted) = (server.count("token"), registry.granted());
    let second = cargo_home(&env, "second", &registry, Providers::Registry);
    let fetch = cargo(&env, &second, &["fetch"]);
    fetch.ok();
    assert_eq!(fetched_crates(&second).len(), 1, "{fetch}");
    assert!(registry.granted() > granted, "{fetch}");
    assert_eq!(
        server.count("token"),
        tokens,
        "the second cargo must get our cached token"
    );
}

#[test]
fn global_credential_providers_serve_the_registry_too() {
    let (server, registry, env) = setup();
    lock_and_fetch(
        &env,
        &cargo_home(&env, "cargo-home", &registry, Providers::Global),
    );
    assert_eq!(server.count("token"), 1);
    assert_eq!(registry.downloads(), 1);
}

#[test]
fn token_from_stdout_with_token_header_serves_cargo() {
    let (server, registry, env) = setup();
    lock_and_fetch(
        &env,
        &cargo_home(&env, "cargo-home", &registry, Providers::TokenFromStdout),
    );
    assert_eq!(server.count("token"), 1);
    assert_eq!(registry.downloads(), 1);
}

#[test]
fn token_header_prints_the_authorization_value() {
    let (server, registry, env) = setup();
    let bare = env.run(&["token", &registry.http_index_url()], "");
    let token = bare.ok().stdout.trim_end().to_string();
    assert!(server.is_active(&token), "{bare}");
    // cargo's {index_url} keeps the sparse+ prefix.
    let header = env.run(&["token", "--header", &registry.index_url()], "");
    assert_eq!(header.ok().stdout, format!("Bearer {token}\n"));
    assert_eq!(server.count("token"), 1);
}

/// One request line as cargo writes it.
fn request(index_url: &str, kind: &str) -> String {
    format!("{{\"v\":1,\"registry\":{{\"index-url\":\"{index_url}\",\"name\":\"corp\"}},{kind}}}\n")
}

const READ: &str = "\"kind\":\"get\",\"operation\":\"read\",\"args\":[]";

#[test]
fn get_answers_a_bearer_token_cargo_keeps_until_we_would_stop_using_it() {
    let (server, registry, env) = setup();
    let out = env.run(&[PLUGIN], &request(&registry.index_url(), READ));
    out.ok();
    let (hello, answer) = out.stdout.split_once('\n').unwrap();
    assert_eq!(format!("{hello}\n"), HELLO);
    let answer: serde_json::Value = serde_json::from_str(answer).unwrap();
    let ok = &answer["Ok"];
    assert_eq!(ok["kind"], "get", "{out}");
    let token = ok["token"]
        .as_str()
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap();
    assert!(server.is_active(token));
    assert_eq!(ok["cache"], "expires");
    assert_eq!(ok["operation_independent"], true);
    let expires_at = env.only_token_entry()["expires_at"].as_u64().unwrap();
    assert_eq!(ok["expiration"].as_u64(), Some(expires_at - 60));
    assert!(out.stderr.is_empty(), "{out}");
    // A publish, with the headers of a 401, gets the same cached token.
    let publish = "\"kind\":\"get\",\"operation\":\"publish\",\"name\":\"corplib\",\
                   \"vers\":\"0.2.0\",\"cksum\":\"00\"";
    let line = request(&registry.index_url(), publish).replace(
        "\"name\":\"corp\"}",
        "\"name\":\"corp\",\"headers\":[\"WWW-Authenticate: Cargo login_url=\\\"http://x/me\\\"\"]}",
    );
    let again = env.run(&[PLUGIN], &line);
    assert!(again.ok().stdout.contains(token), "{again}");
    assert_eq!(server.count("token"), 1);
}

#[test]
fn an_index_url_no_provider_matches_is_url_not_supported() {
    let (server, _registry, env) = setup();
    for index in [
        "sparse+https://index.crates.io/",
        "https://github.com/rust-lang/crates.io-index",
        "file:///srv/index",
    ] {
        let out = env.run(&[PLUGIN], &request(index, READ));
        assert_eq!(
            out.ok().stdout,
            format!("{HELLO}{{\"Err\":{{\"kind\":\"url-not-supported\"}}}}\n"),
            "{out}"
        );
        assert!(out.stderr.is_empty(), "{out}");
    }
    assert_eq!(server.count("token"), 0);
}

#[test]
fn login_without_a_provider_is_url_not_supported_naming_the_login_page() {
    let (_server, _registry, env) = setup();
    let line = request(
        "sparse+https://r.example/index/",
        "\"kind\":\"login\",\"login-url\":\"https://r.example/me\"",
    );
    let out = env.run(&[PLUGIN], &line);
    let answer: serde_json::Value =
        serde_json::from_str(out.ok().stdout.strip_prefix(HELLO).unwrap()).unwrap();
    assert_eq!(answer["Err"]["kind"], "url-not-supported", "{out}");
    let message = answer["Err"]["message"].as_str().unwrap();
    assert!(
        message.contains("https://r.example/index/") && message.contains("https://r.example/me"),
        "{message}"
    );
}

#[test]
fn malformed_and_unknown_requests_get_err_answers_and_exit_zero() {
    let (_server, registry, env) = setup();
    let malformed = env.run(&[PLUGIN], "{\"v\":1,\"token\":\"hunter2\"\n");
    let answer = malformed
        .ok()
        .stdout
        .strip_prefix(HELLO)
        .unwrap()
        .to_string();
    assert!(
        answer.starts_with("{\"Err\":{\"kind\":\"other\",\"message\":\"cargo's request")
            && answer.ends_with("}}\n"),
        "{malformed}"
    );
    assert!(!answer.contains("hunter2") && malformed.stderr.is_empty());

    let nothing = env.run(&[PLUGIN], "");
    assert!(
        nothing.ok().stdout.contains("cargo sent no request"),
        "{nothing}"
    );

    let unknown = env.run(
        &[PLUGIN],
        &request(&registry.index_url(), "\"kind\":\"renew\""),
    );
    assert!(
        unknown
            .ok()
            .stdout
            .contains("{\"Err\":{\"kind\":\"operation-not-supported\""),
        "{unknown}"
    );
}

#[test]
fn cargo_login_and_logout_run_our_login_and_logout() {
    let (server, registry, env) = setup();
    let home = cargo_home(&env, "cargo-home", &registry, Providers::Registry);
    let login = cargo(&env, &home, &["login", "--registry", "corp"]);
    login.ok();
    assert!(
        login.stderr.contains("credential-oauth: logged in to ci"),
        "{login}"
    );
    let tokens = server.count("token");
    assert!(tokens >= 1, "{login}");
    assert_eq!(env.token_entries().len(), 1);

    let logout = cargo(&env, &home, &["logout", "--registry", "corp"]);
    logout.ok();
    assert!(logout.stderr.contains("ci logged out"), "{logout}");
    assert!(env.stored_entries().is_empty(), "{logout}");
    let again = cargo(&env, &home, &["logout", "--registry", "corp"]);
    assert!(
        again.ok().stderr.contains("not currently logged in"),
        "{again}"
    );

    // A token typed at `cargo login` is refused, not silently dropped.
    let given = env.run(
        &[PLUGIN],
        &request(
            &registry.index_url(),
            "\"kind\":\"login\",\"token\":\"hunter2\"",
        ),
    );
    let answer = given.ok().stdout.strip_prefix(HELLO).unwrap().to_string();
    assert!(
        answer.starts_with("{\"Err\":{\"kind\":\"other\""),
        "{given}"
    );
    assert!(!answer.contains("hunter2"), "{given}");
    assert_eq!(server.count("token"), tokens);
}

/// The audience rule (DESIGN.md "Trust"): an index under the forge whose
/// owner points `dl` at their own host. The forge-wide provider covers the
/// index, so cargo asks; the helper reads `config.json` itself, finds `dl`
/// outside the provider's url, and hands cargo no token: mallory's host
/// receives nothing, through the plugin and through token-from-stdout.
#[test]
fn an_index_whose_dl_leaves_the_provider_gets_no_token_and_that_host_sees_none() {
    let server = Arc::new(TestServer::start().unwrap());
    let mallory = Hostile::start(Plan::default());
    let registry = CargoRegistry::start_with_dl(Arc::clone(&server), Some(mallory.url("dl")));
    let mut env = Env::new();
    env.client_credentials_config(&server, &registry.origin());
    env.link_as("credential-oauth");
    let path = env.path_with_bin_dir();
    env.set_var("PATH", path.to_str().unwrap());
    for (name, providers) in [
        ("plugin", Providers::Registry),
        ("stdout", Providers::TokenFromStdout),
    ] {
        let home = cargo_home(&env, name, &registry, providers);
        let fetch = cargo(&env, &home, &["fetch"]);
        fetch.fails();
        assert!(fetched_crates(&home).is_empty(), "{fetch}");
        let seen = mallory.seen();
        assert!(
            seen.iter().all(|s| s.authorization.is_none()),
            "mallory's host received a credential: {seen:?}\n{fetch}"
        );
        assert!(fetch.stderr.contains(&mallory.url("dl")), "{fetch}");
    }
    let token = env.only_token_entry()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let seen = mallory.seen();
    assert!(seen.iter().all(|s| !s.carries(&token)), "{seen:?}");
    assert_eq!(registry.downloads(), 0);

    // Through the protocol: one Err answer naming the place and the provider.
    let out = env.run(&[PLUGIN], &request(&registry.index_url(), READ));
    let answer = out.ok().stdout.strip_prefix(HELLO).unwrap().to_string();
    assert!(
        answer.starts_with("{\"Err\":{\"kind\":\"other\"")
            && answer.contains(&mallory.url("dl"))
            && answer.contains("ci serves"),
        "{out}"
    );
    assert!(!answer.contains(&token), "{out}");
}

/// The positive control of the test above: `dl` and `api` inside a
/// provider whose url is the index alone are still outside it; the same
/// registry under a provider for all of it works (the tests above).
#[test]
fn a_provider_for_the_index_alone_does_not_cover_dl_elsewhere_on_the_host() {
    let server = Arc::new(TestServer::start().unwrap());
    let registry = CargoRegistry::start(Arc::clone(&server));
    let env = Env::new();
    env.client_credentials_config(&server, &registry.http_index_url());
    let out = env.run(&[PLUGIN], &request(&registry.index_url(), READ));
    let answer = out.ok().stdout.strip_prefix(HELLO).unwrap().to_string();
    assert!(
        answer.starts_with("{\"Err\":{\"kind\":\"other\"")
            && answer.contains(&format!("{}dl", registry.origin())),
        "{out}"
    );
    assert!(!answer.contains("Bearer"), "{out}");
}

/// A git index keeps `config.json` in a repository the helper cannot read,
/// so where cargo would send the token is unknown: an error, no token.
#[test]
fn a_git_index_under_a_provider_gets_an_error_and_no_token() {
    let (server, registry, env) = setup();
    let out = env.run(&[PLUGIN], &request(&registry.http_index_url(), READ));
    let answer = out.ok().stdout.strip_prefix(HELLO).unwrap().to_string();
    assert!(
        answer.starts_with("{\"Err\":{\"kind\":\"other\"") && answer.contains("sparse"),
        "{out}"
    );
    assert_eq!(server.count("token"), 0);
}

/// A provider written in git's config covers the section URL written for
/// it, not the whole origin: scoped to the index, it does not cover the
/// registry's `dl` elsewhere on the host; scoped to the registry, it does.
#[test]
fn a_git_config_provider_covers_its_section_url_and_no_more() {
    let Some(()) = require_tools(&["git"]) else {
        return;
    };
    let server = Arc::new(TestServer::start().unwrap());
    let registry = CargoRegistry::start(Arc::clone(&server));
    server.add_client("ci", Some("ci-secret"));
    for (scope, served) in [
        (registry.http_index_url(), false),
        (registry.origin(), true),
    ] {
        let mut env = Env::new();
        env.write_config("storage = \"file\"\n");
        let global = env.root.join("gitconfig");
        std::fs::write(
            &global,
            format!(
                "[credential \"{scope}\"]\n\toauthIssuer = {}\n\toauthClientId = ci\n\
                 \toauthClientSecret = ci-secret\n\toauthGrant = client_credentials\n",
                server.issuer()
            ),
        )
        .unwrap();
        env.set_var("GIT_CONFIG_GLOBAL", global.to_str().unwrap());
        env.set_var("GIT_CONFIG_NOSYSTEM", "1");
        let out = env.run(&[PLUGIN], &request(&registry.index_url(), READ));
        let answer = out.ok().stdout.strip_prefix(HELLO).unwrap().to_string();
        if served {
            assert!(answer.starts_with("{\"Ok\":{\"kind\":\"get\""), "{out}");
        } else {
            assert!(
                answer.starts_with("{\"Err\":{\"kind\":\"other\"")
                    && answer.contains(&format!("{}dl", registry.origin())),
                "{scope}: {out}"
            );
        }
    }
}

/// `cargo logout` names every provider that shared the token it removed,
/// as `credential-oauth logout` does: the git provider with the same
/// issuer, client and scopes lost its token too.
#[test]
fn cargo_logout_names_every_provider_that_shared_the_token() {
    let (server, registry, env) = setup();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    env.write_config(&format!(
        "{config}\n[[provider]]\nname = \"forge-git\"\nurl = \"https://git.example.com/\"\n\
         issuer = \"{}\"\nclient_id = \"ci\"\nclient_secret = \"ci-secret\"\n\
         grant = \"client_credentials\"\nscopes = [\"write\", \"read\"]\n",
        server.issuer()
    ));
    env.run(&[PLUGIN], &request(&registry.index_url(), READ))
        .ok();
    let out = env.run(
        &[PLUGIN],
        &request(&registry.index_url(), "\"kind\":\"logout\""),
    );
    assert!(
        out.ok().stdout.contains("{\"Ok\":{\"kind\":\"logout\"}}"),
        "{out}"
    );
    assert!(
        out.stderr
            .contains("ci, forge-git logged out (they share one token"),
        "{out}"
    );
}
