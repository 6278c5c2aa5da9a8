//! `configure` / `unconfigure` through the real binary in a private HOME.

use crate::support::*;

fn global_helpers(env: &Env) -> Vec<String> {
    let mut cmd = env.command("git");
    cmd.args(["config", "--global", "--get-all", "credential.helper"]);
    let out = run_command(cmd, b"");
    out.stdout.lines().map(str::to_string).collect()
}

#[test]
fn configure_adds_the_git_helper_once_and_unconfigure_removes_only_it() {
    let mut env = Env::new();
    env.var("GIT_CONFIG_NOSYSTEM", "1");
    let mut cmd = env.command("git");
    cmd.args(["config", "--global", "--add", "credential.helper", "cache"]);
    run_command(cmd, b"").ok();

    let first = env.run(&["configure"], "");
    assert!(first.ok().stdout.contains("added"), "{first}");
    let second = env.run(&["configure"], "");
    assert!(second.ok().stdout.contains("already"), "{second}");
    assert_eq!(global_helpers(&env), ["cache", "oauth"]);

    let gone = env.run(&["unconfigure"], "");
    assert!(gone.ok().stdout.contains("removed"), "{gone}");
    assert_eq!(global_helpers(&env), ["cache"]);
    let again = env.run(&["unconfigure"], "");
    assert!(again.ok().stdout.contains("already"), "{again}");
    assert_eq!(global_helpers(&env), ["cache"]);
}

#[test]
fn configure_docker_keeps_other_keys_and_the_file_mode() {
    let mut env = Env::new();
    let dir = env.root.join("docker");
    std::fs::create_dir_all(&dir).unwrap();
    env.var("DOCKER_CONFIG", dir.to_str().unwrap());
    let path = dir.join("config.json");
    std::fs::write(
        &path,
        r#"{"auths":{"old.example":{"auth":"eA=="}},"psFormat":"table","credHelpers":{"gcr.io":"gcloud"}}"#,
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let read = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    };

    let out = env.run(&["configure", "--docker"], "");
    assert!(out.ok().stdout.contains("added credsStore"), "{out}");
    let reg = env.run(&["configure", "--docker=registry.example.com"], "");
    assert!(reg.ok().stdout.contains("added credHelpers"), "{reg}");
    let doc = read();
    assert_eq!(doc["credsStore"], "oauth");
    assert_eq!(doc["credHelpers"]["registry.example.com"], "oauth");
    assert_eq!(doc["auths"]["old.example"]["auth"], "eA==");
    assert_eq!(doc["psFormat"], "table");
    assert_eq!(mode(&path), 0o600);
    let same = env.run(&["configure", "--docker"], "");
    assert!(same.ok().stdout.contains("already"), "{same}");

    // unconfigure --docker takes the helper out everywhere: credsStore and
    // the credHelpers entry configure --docker=REGISTRY added; another
    // helper's entry stays.
    let gone = env.run(&["unconfigure", "--docker"], "");
    assert!(
        gone.ok()
            .stdout
            .contains("removed credHelpers[\"registry.example.com\"]"),
        "{gone}"
    );
    let doc = read();
    assert!(doc.get("credsStore").is_none(), "{doc}");
    assert!(
        doc["credHelpers"].get("registry.example.com").is_none(),
        "{doc}"
    );
    assert_eq!(doc["credHelpers"]["gcr.io"], "gcloud", "{doc}");
    assert_eq!(doc["psFormat"], "table");
    // No stray temporary files next to the config.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

const URL: &str = "https://git.example.com/";

/// An env whose git knows only its own global config, with a
/// client-credentials provider for [`URL`].
fn git_env(server: &TestServer) -> Env {
    let mut env = Env::new();
    env.var("GIT_CONFIG_NOSYSTEM", "1");
    env.client_credentials_config(server, URL);
    env
}

fn git_config(env: &Env, args: &[&str]) -> Output {
    let mut cmd = env.command("git");
    cmd.arg("config").args(args);
    run_command(cmd, b"")
}

#[test]
fn configure_puts_oauth_alone_first_for_its_hosts_over_a_storage_helper() {
    let server = TestServer::start().unwrap();
    let mut env = git_env(&server);
    git_config(&env, &["--global", "--add", "credential.helper", "store"]).ok();
    env.link_as("git-credential-oauth");
    let path = env.path_with_bin_dir();
    env.set_var("PATH", path.to_str().unwrap());

    let out = env.run(&["configure"], "");
    out.ok();
    assert!(
        out.stdout
            .contains("other credential helpers are configured too: store"),
        "{out}"
    );
    assert!(out.stdout.contains(".git-credentials"), "{out}");
    assert!(!out.stdout.contains("not on PATH"), "{out}");
    let scoped = format!("credential.{URL}.helper");
    let values = git_config(&env, &["--global", "--get-all", &scoped]);
    assert_eq!(values.ok().stdout, "\noauth\n");
    assert_eq!(global_helpers(&env), ["store", "oauth"]);
    let again = env.run(&["configure"], "");
    assert!(again.ok().stdout.contains("already only oauth"), "{again}");

    // git asks oauth, and approving the answer hands it to no storage helper.
    let mut fill = env.command("git");
    fill.args(["credential", "fill"]);
    let filled = run_command(fill, b"protocol=https\nhost=git.example.com\n\n");
    let password = filled.ok().field("password").unwrap();
    assert!(server.is_active(&password), "{filled}");
    let mut approve = env.command("git");
    approve.args(["credential", "approve"]);
    run_command(approve, filled.stdout.as_bytes()).ok();
    assert!(!env.home.join(".git-credentials").exists());

    let gone = env.run(&["unconfigure"], "");
    assert!(
        gone.ok().stdout.contains(&format!("removed {scoped}")),
        "{gone}"
    );
    git_config(&env, &["--global", "--get-all", &scoped]).fails();
    assert_eq!(global_helpers(&env), ["store"]);
}

#[test]
fn configure_warns_when_the_link_is_not_on_path_or_is_another_binary() {
    let server = TestServer::start().unwrap();
    let mut env = git_env(&server);
    // Only git on PATH: no link of ours, nor another program by that name
    // (Debian packages a git-credential-oauth of its own).
    let tools = env.root.join("tools");
    std::fs::create_dir_all(&tools).unwrap();
    std::os::unix::fs::symlink(find_on_path("git").unwrap(), tools.join("git")).unwrap();
    env.set_var("PATH", tools.to_str().unwrap());
    let out = env.run(&["configure"], "");
    assert!(
        out.ok()
            .stdout
            .contains("git-credential-oauth is not on PATH"),
        "{out}"
    );
    // A link to something else: named, with what it runs.
    let bin = env.bin_dir();
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink("/bin/true", bin.join("docker-credential-oauth")).unwrap();
    env.set_var("PATH", &format!("{}:{}", bin.display(), tools.display()));
    env.var("DOCKER_CONFIG", env.root.join("docker").to_str().unwrap());
    let out = env.run(&["configure", "--docker"], "");
    assert!(out.ok().stdout.contains("not this binary"), "{out}");
}

/// A `docker-credential-desktop` that records its calls and knows one registry.
fn fake_desktop(env: &Env) {
    use std::os::unix::fs::PermissionsExt;
    let bin = env.bin_dir();
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        r#"#!/bin/sh
input=$(cat)
printf '%s %s\n' "$1" "$input" >> '{root}/desktop-calls'
case "$1" in
  get) case "$input" in
         other.example) printf '{{"ServerURL":"other.example","Username":"bob","Secret":"desk-secret"}}\n' ;;
         *) echo 'credentials not found in native keychain'; exit 1 ;;
       esac ;;
  list) printf '{{"other.example":"bob"}}\n' ;;
  store|erase) ;;
  *) exit 1 ;;
esac
"#,
        root = env.root.display()
    );
    let path = bin.join("docker-credential-desktop");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn configure_docker_over_desktop_keeps_it_serving_other_registries_and_restores_it() {
    let server = TestServer::start().unwrap();
    let mut env = Env::new();
    env.client_credentials_config(&server, "https://registry.example.com/");
    let dir = env.root.join("docker");
    std::fs::create_dir_all(&dir).unwrap();
    env.var("DOCKER_CONFIG", dir.to_str().unwrap());
    let config = dir.join("config.json");
    std::fs::write(&config, r#"{"credsStore":"desktop","auths":{}}"#).unwrap();
    fake_desktop(&env);
    let path = env.path_with_bin_dir();
    env.set_var("PATH", path.to_str().unwrap());
    let calls = || env.lines_of("desktop-calls");

    let out = env.run(&["configure", "--docker"], "");
    assert!(
        out.ok()
            .stdout
            .contains("still use docker-credential-desktop"),
        "{out}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(doc["credsStore"], "oauth");

    // A registry no provider serves: desktop's answer, passed through.
    let other = env.run_as("docker-credential-oauth", &["get"], "other.example");
    assert_eq!(
        other.ok().stdout,
        "{\"ServerURL\":\"other.example\",\"Username\":\"bob\",\"Secret\":\"desk-secret\"}\n"
    );
    let missing = env.run_as("docker-credential-oauth", &["get"], "none.example");
    assert_eq!(
        missing.fails().stdout,
        "credentials not found in native keychain\n"
    );
    // The provider's registry: our token, desktop not asked.
    let ours = env.run_as("docker-credential-oauth", &["get"], "registry.example.com");
    assert!(ours.ok().stdout.contains("\"Secret\":"), "{ours}");
    assert_eq!(calls(), ["get other.example", "get none.example"]);

    let stored = r#"{"ServerURL":"new.example","Username":"u","Secret":"s"}"#;
    env.run_as("docker-credential-oauth", &["store"], stored)
        .ok();
    env.run_as("docker-credential-oauth", &["erase"], "new.example")
        .ok();
    let list = env.run_as("docker-credential-oauth", &["list"], "");
    let listed: serde_json::Value = serde_json::from_str(&list.ok().stdout).unwrap();
    assert_eq!(listed["other.example"], "bob", "{list}");
    assert_eq!(listed["https://registry.example.com/"], "oauth2", "{list}");
    assert_eq!(
        &calls()[2..],
        [
            format!("store {stored}"),
            "erase new.example".into(),
            "list ".into()
        ]
    );

    let out = env.run(&["unconfigure", "--docker"], "");
    assert!(
        out.ok()
            .stdout
            .contains("restored credsStore = \"desktop\""),
        "{out}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(doc["credsStore"], "desktop");
    // Nothing recorded any more: a later configure starts afresh.
    let again = env.run(&["unconfigure", "--docker"], "");
    assert!(
        again.ok().stdout.contains("already no credsStore"),
        "{again}"
    );
}
