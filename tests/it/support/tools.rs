//! The external programs some tests need (git, dbus-daemon, secret-tool…):
//! finding them, and skipping or failing when they are missing.

use std::path::PathBuf;

/// Where `program` is on PATH, as an executable file.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
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
