//! git itself, over smart HTTP, through the helper: clone, push, a rejected
//! token erased and replaced, and the Basic and Bearer answers.

use crate::support::git_server::{GitServer, Settings};
use crate::support::*;
use std::path::Path;
use std::sync::Arc;

struct Forge {
    auth: Arc<TestServer>,
    git: GitServer,
    env: Env,
}

fn git(env: &Env, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = env.command("git");
    cmd.current_dir(dir).args(args);
    run_command(cmd, b"")
}

/// An authorization server, a git server holding `repo.git` (one commit on
/// main) that wants tokens from it, and a HOME whose git uses the helper.
fn forge(challenges: &[&str]) -> Forge {
    forge_from(TestServer::start().unwrap(), challenges, None)
}

fn forge_from(auth: TestServer, challenges: &[&str], resource_metadata: Option<String>) -> Forge {
    let auth = Arc::new(auth);
    let mut env = Env::new();
    for (k, v) in [
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_TERMINAL_PROMPT", "0"),
        ("GIT_AUTHOR_NAME", "T"),
        ("GIT_AUTHOR_EMAIL", "t@example.com"),
        ("GIT_COMMITTER_NAME", "T"),
        ("GIT_COMMITTER_EMAIL", "t@example.com"),
    ] {
        env.var(k, v);
    }
    let srv = env.root.join("srv");
    let seed = env.root.join("seed");
    std::fs::create_dir_all(&srv).unwrap();
    git(&env, &env.root, &["init", "-q", "-b", "main", "seed"]).ok();
    std::fs::write(seed.join("README"), "hello\n").unwrap();
    git(&env, &seed, &["add", "README"]).ok();
    git(&env, &seed, &["commit", "-q", "-m", "first"]).ok();
    git(
        &env,
        &env.root,
        &["clone", "-q", "--bare", "seed", "srv/repo.git"],
    )
    .ok();

    let valid = {
        let auth = Arc::clone(&auth);
        Arc::new(move |t: &str| auth.is_active(t))
    };
    let git_server = GitServer::start(
        &srv,
        valid,
        Settings {
            challenges: challenges.iter().map(|c| c.to_string()).collect(),
            resource_metadata,
            step_up: None,
        },
    );
    env.client_credentials_config(&auth, &format!("http://127.0.0.1:{}/", git_server.port));
    git(
        &env,
        &env.root,
        &["config", "--global", "credential.helper", BIN],
    )
    .ok();
    Forge {
        auth,
        git: git_server,
        env,
    }
}

#[test]
fn clone_and_push_succeed_with_a_token_from_the_helper() {
    let f = forge(&["Basic realm=\"git\""]);
    let clone = git(
        &f.env,
        &f.env.root,
        &["clone", &f.git.url("repo.git"), "work"],
    );
    clone.ok();
    let work = f.env.root.join("work");
    assert_eq!(
        std::fs::read_to_string(work.join("README")).unwrap(),
        "hello\n"
    );
    std::fs::write(work.join("more"), "more\n").unwrap();
    git(&f.env, &work, &["add", "more"]).ok();
    git(&f.env, &work, &["commit", "-q", "-m", "second"]).ok();
    git(&f.env, &work, &["push", "origin", "main"]).ok();

    let pushed = git(
        &f.env,
        &f.env.root.join("srv/repo.git"),
        &["log", "--format=%s", "main"],
    );
    assert_eq!(pushed.ok().stdout, "second\nfirst\n");
    // One grant for the clone and the push: the second run hit the cache.
    assert_eq!(f.auth.count("client_credentials"), 1);
    let schemes = f.git.schemes();
    assert!(schemes.contains(&Some("Basic".into())), "{schemes:?}");
    assert!(!schemes.contains(&Some("Bearer".into())), "{schemes:?}");
    assert!(f.git.tokens().iter().all(|t| f.auth.is_active(t)));
}

#[test]
fn bearer_challenge_makes_git_send_a_bearer_token() {
    let f = forge(&["Bearer realm=\"git\""]);
    git(
        &f.env,
        &f.env.root,
        &["clone", &f.git.url("repo.git"), "work"],
    )
    .ok();
    let schemes = f.git.schemes();
    assert_eq!(schemes.first(), Some(&None), "{schemes:?}");
    assert!(
        schemes[1..].iter().all(|s| s.as_deref() == Some("Bearer")),
        "{schemes:?}"
    );
    assert!(schemes.len() > 1, "{schemes:?}");
    assert!(f.git.tokens().iter().all(|t| f.auth.is_active(t)));
}

#[test]
fn a_rejected_token_is_erased_and_the_next_fetch_gets_a_new_one() {
    let f = forge(&["Basic realm=\"git\""]);
    git(
        &f.env,
        &f.env.root,
        &["clone", "-q", &f.git.url("repo.git"), "work"],
    )
    .ok();
    let work = f.env.root.join("work");
    let first = f.git.tokens().last().cloned().unwrap();
    assert_eq!(f.env.token_entries().len(), 1);

    f.auth.expire_access_tokens();
    // git presents the cached token, the server refuses it, git erases it.
    git(&f.env, &work, &["fetch", "-q"]).fails();
    assert_eq!(f.git.tokens().last(), Some(&first));
    assert!(
        f.env.stored_entries().is_empty(),
        "the rejected token stayed"
    );

    git(&f.env, &work, &["fetch", "-q"]).ok();
    let second = f.git.tokens().last().cloned().unwrap();
    assert_ne!(second, first);
    assert!(f.auth.is_active(&second));
    assert_eq!(f.auth.count("client_credentials"), 2);
}

#[test]
fn a_host_without_provider_gets_nothing_and_no_message() {
    let f = forge(&["Basic realm=\"git\""]);
    // Point the only provider elsewhere.
    f.env
        .client_credentials_config(&f.auth, "https://git.example.com/");
    let out = git(
        &f.env,
        &f.env.root,
        &["clone", &f.git.url("repo.git"), "work"],
    );
    out.fails();
    assert!(!out.stderr.contains("credential-oauth"), "{out}");
    assert_eq!(f.auth.count("token"), 0);
}

#[test]
fn a_refresh_token_brought_by_git_is_used_when_we_hold_none() {
    let auth = TestServer::start().unwrap();
    auth.set_client_credentials_refresh(true);
    let elsewhere = Env::new();
    elsewhere.client_credentials_config(&auth, "https://git.example.com/");
    elsewhere
        .run(&["token", "https://git.example.com/"], "")
        .ok();
    let entry = &elsewhere.token_entries()[0];
    let cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(entry).unwrap()).unwrap();
    let refresh = cached["refresh_token"].as_str().unwrap().to_string();

    let env = Env::new();
    env.client_credentials_config(&auth, "https://git.example.com/");
    let grants_before = auth.count("client_credentials");
    let out = env.run(
        &["get"],
        &format!("protocol=https\nhost=git.example.com\noauth_refresh_token={refresh}\n\n"),
    );
    let password = out.ok().field("password").unwrap();
    assert!(auth.is_active(&password));
    assert_eq!(auth.count("refresh_token"), 1, "{out}");
    assert_eq!(auth.count("client_credentials"), grants_before);

    // A refused hint falls back to the provider's own grant.
    let fresh = Env::new();
    fresh.client_credentials_config(&auth, "https://git.example.com/");
    let out = fresh.run(
        &["get"],
        "protocol=https\nhost=git.example.com\noauth_refresh_token=bogus\n\n",
    );
    assert!(auth.is_active(&out.ok().field("password").unwrap()));
    assert_eq!(auth.count("client_credentials"), grants_before + 1);
    assert!(!out.stderr.contains("bogus"), "{out}");
}

#[test]
fn a_provider_written_in_git_config_serves_git() {
    let f = forge(&["Basic realm=\"git\""]);
    std::fs::remove_file(f.env.config_path()).unwrap();
    let section = format!("credential.http://127.0.0.1:{}", f.git.port);
    for (k, v) in [
        ("oauthIssuer", f.auth.issuer()),
        ("oauthClientId", "ci".to_string()),
        ("oauthClientSecret", "ci-secret".to_string()),
        ("oauthGrant", "client_credentials".to_string()),
        ("oauthScopes", "read write".to_string()),
    ] {
        git(
            &f.env,
            &f.env.root,
            &["config", "--global", &format!("{section}.{k}"), &v],
        )
        .ok();
    }
    git(
        &f.env,
        &f.env.root,
        &["clone", "-q", &f.git.url("repo.git"), "work"],
    )
    .ok();
    assert_eq!(f.auth.count("client_credentials"), 1);
    assert!(f.git.tokens().iter().all(|t| f.auth.is_active(t)));
}

#[test]
fn a_config_file_provider_never_spawns_git() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    // A `git` first on PATH that leaves a mark when run.
    let bin = env.root.join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    let mark = env.root.join("git-was-run");
    let fake = bin.join("git");
    std::fs::write(
        &fake,
        format!("#!/bin/sh\ntouch '{}'\nexit 1\n", mark.display()),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!("{}:{}", bin.display(), test_path().to_string_lossy());
    env.var("PATH", &path);
    let out = env.run(&["get"], &git_request("https://git.example.com/r.git"));
    assert!(out.ok().field("password").is_some(), "{out}");
    assert!(!mark.exists(), "git was run for a config-file provider");
    // For a URL the file does not cover, git config is asked, once git's
    // config may hold a provider (with none anywhere, no git runs at all:
    // tests/it/not_mine.rs).
    std::fs::write(
        env.home.join(".gitconfig"),
        "[credential \"https://elsewhere.example\"]\n\toauthClientId = x\n",
    )
    .unwrap();
    env.run(&["get"], &git_request("https://elsewhere.example/r.git"))
        .ok();
    assert!(mark.exists(), "git config was not consulted");
}

const RESOURCE_CHALLENGE: &str = "Bearer realm=\"git\", resource_metadata=\"http://127.0.0.1:{port}/.well-known/oauth-protected-resource\"";

/// A forge whose git server names its authorization server only through
/// RFC 9728 resource metadata.
fn forge_with_resource_metadata() -> Forge {
    let auth = TestServer::start().unwrap();
    let doc = format!(
        r#"{{"resource":"http://127.0.0.1:{{port}}/","authorization_servers":["{}"]}}"#,
        auth.issuer()
    );
    let mut f = forge_from(auth, &[RESOURCE_CHALLENGE], Some(doc));
    f.env.browser(FOLLOW);
    f
}

/// A browser that follows the login to the loopback listener.
const FOLLOW: &str = r#"curl -sS -L -o "$DIR/page.html" "$1""#;

/// A provider whose issuer the git server names: a public client that
/// registers itself there (a configured one would stay with its issuer).
fn discover_config(f: &Forge, provider_url: &str) -> String {
    format!(
        "storage = \"file\"\n\n[[provider]]\nurl = \"{provider_url}\"\ndiscover = true\n\
         authtype = \"bearer\"\n# git server on port {}\n",
        f.git.port
    )
}

#[test]
fn the_issuer_is_found_through_resource_metadata_for_an_allowed_host() {
    let mut f = forge_with_resource_metadata();
    // A person is there (the browser logs in): git may prompt.
    f.env.unset_var("GIT_TERMINAL_PROMPT");
    f.env.write_config(&discover_config(
        &f,
        &format!("http://127.0.0.1:{}/", f.git.port),
    ));
    git(
        &f.env,
        &f.env.root,
        &["clone", "-q", &f.git.url("repo.git"), "work"],
    )
    .ok();
    assert!(f.git.metadata_requests() >= 1);
    assert_eq!(f.auth.count("authorization_code"), 1);
    assert_eq!(f.auth.registered_clients().len(), 1);
    assert!(f.git.tokens().iter().all(|t| f.auth.is_active(t)));
}

#[test]
fn resource_metadata_is_not_fetched_for_a_host_nobody_allowed() {
    let f = forge_with_resource_metadata();
    // discover = true, but for another host; and no discover_hosts.
    f.env
        .write_config(&discover_config(&f, "http://127.0.0.1:1/"));
    let out = git(
        &f.env,
        &f.env.root,
        &["clone", "-q", &f.git.url("repo.git"), "work"],
    );
    out.fails();
    assert_eq!(f.git.metadata_requests(), 0, "{out}");
    assert_eq!(f.auth.count("token"), 0);
    assert!(!out.stderr.contains("credential-oauth"), "{out}");
}

#[test]
fn resource_metadata_for_another_resource_is_refused() {
    let auth = TestServer::start().unwrap();
    let doc = format!(
        r#"{{"resource":"https://elsewhere.example/","authorization_servers":["{}"]}}"#,
        auth.issuer()
    );
    let mut f = forge_from(auth, &[RESOURCE_CHALLENGE], Some(doc));
    f.env.browser(FOLLOW);
    f.env.write_config(&discover_config(
        &f,
        &format!("http://127.0.0.1:{}/", f.git.port),
    ));
    let out = git(
        &f.env,
        &f.env.root,
        &["clone", "-q", &f.git.url("repo.git"), "work"],
    );
    out.fails();
    assert!(out.stderr.contains("RFC 9728"), "{out}");
    assert_eq!(f.auth.count("token"), 0);
}

#[test]
fn each_account_on_a_host_gets_its_own_token_and_status_lists_them() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let get = |user: &str| {
        let out = env.run(
            &["get"],
            &format!("url=https://{user}@git.example.com/r.git\n\n"),
        );
        out.ok();
        assert_eq!(out.field("username").as_deref(), Some(user), "{out}");
        out.field("password").unwrap()
    };
    let alice = get("alice");
    let bob = get("bob");
    assert_ne!(alice, bob);
    assert_eq!(get("alice"), alice, "alice's token comes from the cache");
    assert_eq!(server.count("client_credentials"), 2);

    let status = env.run(&["status"], "");
    status.ok();
    assert!(
        status.stdout.contains("account alice: token expires in"),
        "{status}"
    );
    assert!(
        status.stdout.contains("account bob: token expires in"),
        "{status}"
    );
    assert!(!status.stdout.contains(&alice), "{status}");
}

#[test]
fn a_rejected_bearer_token_is_erased_too() {
    let f = forge(&["Bearer realm=\"git\""]);
    git(
        &f.env,
        &f.env.root,
        &["clone", "-q", &f.git.url("repo.git"), "work"],
    )
    .ok();
    let work = f.env.root.join("work");
    let first = f.git.tokens().last().cloned().unwrap();
    f.auth.expire_access_tokens();
    git(&f.env, &work, &["fetch", "-q"]).fails();
    assert!(
        f.env.stored_entries().is_empty(),
        "the rejected token stayed"
    );
    git(&f.env, &work, &["fetch", "-q"]).ok();
    let second = f.git.tokens().last().cloned().unwrap();
    assert_ne!(second, first);
    assert_eq!(f.git.schemes().last(), Some(&Some("Bearer".to_string())));
}

#[test]
fn erase_naming_the_token_as_credential_drops_it() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    let out = env.run(
        &["get"],
        "protocol=https\nhost=git.example.com\ncapability[]=authtype\nwwwauth[]=Bearer\n\n",
    );
    let token = out.ok().field("credential").unwrap();
    env.run(
        &["erase"],
        "protocol=https\nhost=git.example.com\nauthtype=Bearer\ncredential=not-ours\n\n",
    )
    .ok();
    assert_eq!(env.token_entries().len(), 1, "another token was erased");
    env.run(
        &["erase"],
        &format!("protocol=https\nhost=git.example.com\nauthtype=Bearer\ncredential={token}\n\n"),
    )
    .ok();
    assert!(env.stored_entries().is_empty());
}
