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
        r#"{"auths":{"old.example":{"auth":"eA=="}},"psFormat":"table"}"#,
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

    env.run(&["unconfigure", "--docker"], "").ok();
    let doc = read();
    assert!(doc.get("credsStore").is_none(), "{doc}");
    assert_eq!(doc["credHelpers"]["registry.example.com"], "oauth");
    assert_eq!(doc["psFormat"], "table");
    // No stray temporary files next to the config.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}
