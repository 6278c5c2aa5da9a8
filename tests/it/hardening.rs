//! Hostile surroundings: the token store refuses what it cannot trust.

use crate::support::*;
use std::os::unix::fs::PermissionsExt;

fn setup() -> (TestServer, Env) {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, "https://git.example.com/");
    (server, env)
}

#[test]
fn symlinked_token_directory_is_refused() {
    let (server, env) = setup();
    let elsewhere = env.root.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::create_dir_all(env.tokens_dir().parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&elsewhere, env.tokens_dir()).unwrap();
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(out.stderr.contains("symbolic link"), "{out}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    assert_eq!(server.count("token"), 0);
}

#[test]
fn symlinked_token_file_is_refused() {
    let (server, env) = setup();
    env.run(&["token", "https://git.example.com/"], "").ok();
    let entry = env.token_entries()[0].clone();
    let decoy = env.root.join("decoy.json");
    std::fs::rename(&entry, &decoy).unwrap();
    std::os::unix::fs::symlink(&decoy, &entry).unwrap();
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(out.stderr.contains("symbolic link"), "{out}");
    assert_eq!(server.count("token"), 1);
}

#[test]
fn loose_modes_are_repaired_with_a_warning() {
    let (_server, env) = setup();
    let token = env
        .run(&["token", "https://git.example.com/"], "")
        .ok()
        .stdout
        .clone();
    let entry = env.token_entries()[0].clone();
    std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(env.tokens_dir(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = env.run(&["token", "https://git.example.com/"], "");
    assert_eq!(out.ok().stdout, token);
    assert!(
        out.stderr.contains("warning") && out.stderr.contains("accessible to other users"),
        "{out}"
    );
    assert_eq!(mode(&entry), 0o600);
    assert_eq!(mode(&env.tokens_dir()), 0o700);
}

#[test]
fn token_file_of_another_user_is_refused() {
    let (_server, env) = setup();
    env.run(&["token", "https://git.example.com/"], "").ok();
    let entry = env.token_entries()[0].clone();
    // Changing a file's owner needs root; elsewhere the check cannot be staged.
    let chown = std::process::Command::new("chown")
        .arg("65534")
        .arg(&entry)
        .status();
    if !chown.is_ok_and(|s| s.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and must stage this"
        );
        eprintln!("skipped: chown to another user needs root");
        return;
    }
    let out = env.run(&["token", "https://git.example.com/"], "");
    out.fails();
    assert!(out.stderr.contains("belongs to uid 65534"), "{out}");
}
