//! pip and uv for the keyring tests: the machine's own pip (`python3 -m
//! pip`, which speaks keyring's older command line), and a recent pip and
//! uv from PyPI in a virtual environment that `.ci/run` makes at
//! `target/python-tools` (`CREDENTIAL_OAUTH_PYTHON_TOOLS` names another).
//! Missing ones are skipped on a developer's machine and fail under CI, as
//! [`super::require_tools`] does.

use std::path::PathBuf;

/// The virtual environment's `bin` directory.
fn tools_bin() -> PathBuf {
    let root = std::env::var_os("CREDENTIAL_OAUTH_PYTHON_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/python-tools"));
    root.join("bin")
}

fn found(path: PathBuf, what: &str) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path);
    }
    let why = format!(
        "{what} not found at {} (python3 -m venv target/python-tools && \
         target/python-tools/bin/pip install --upgrade pip uv, as .ci/run does)",
        path.display()
    );
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{why}; CI is set, so this is a failure, not a skip");
    }
    eprintln!("skipped: {why}");
    None
}

/// The virtual environment's python, whose pip is a recent one.
pub fn recent_pip_python() -> Option<PathBuf> {
    found(tools_bin().join("python"), "a recent pip's python")
}

/// uv, from the virtual environment.
pub fn uv() -> Option<PathBuf> {
    found(tools_bin().join("uv"), "uv")
}
