//! Shell completions and the man page (share/): they know every command,
//! bash completes with them, and groff reads the page without a warning.

use crate::support::*;
use std::path::PathBuf;

fn share(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("share")
        .join(path)
}

fn text(path: &str) -> String {
    std::fs::read_to_string(share(path)).unwrap()
}

/// The commands a person runs, as `help` lists them.
fn commands() -> Vec<&'static str> {
    credential_oauth::commands::help::TOPICS
        .iter()
        .copied()
        .chain(["get", "store", "erase"])
        .collect()
}

#[test]
fn every_command_is_in_each_completion_and_in_the_man_page() {
    for file in [
        "completions/credential-oauth.bash",
        "completions/_credential-oauth",
        "completions/credential-oauth.fish",
        "man/credential-oauth.1",
    ] {
        let body = text(file);
        for command in commands() {
            assert!(body.contains(command), "{file} does not know `{command}`");
        }
    }
}

#[test]
fn bash_completes_commands_and_their_options() {
    require_tools(&["bash"]).unwrap();
    let complete = |words: &str, cword: usize| {
        let script = format!(
            "source '{}'; COMP_WORDS=({words}); COMP_CWORD={cword}; _credential_oauth; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            share("completions/credential-oauth.bash").display()
        );
        let out = std::process::Command::new("bash")
            .args(["--noprofile", "--norc", "-c", &script])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("credential-oauth lo", 1), "login\nlogout\n");
    assert_eq!(complete("credential-oauth -v do", 2), "doctor\n");
    assert_eq!(complete("credential-oauth logout --", 2), "--all\n--help\n");
    assert_eq!(
        complete("credential-oauth init --preset git", 3),
        "github\ngitlab\ngitea\n"
    );
}

#[test]
fn the_man_page_reads_without_a_warning() {
    if require_tools(&["groff"]).is_none() {
        return;
    }
    let out = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(share("man/credential-oauth.1"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "groff warned");
}

#[test]
fn zsh_and_fish_read_their_completions() {
    for (shell, file) in [
        ("zsh", "completions/_credential-oauth"),
        ("fish", "completions/credential-oauth.fish"),
    ] {
        if optional_tool(shell).is_none() {
            continue;
        }
        let out = std::process::Command::new(shell)
            .arg("-n")
            .arg(share(file))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
