//! The official MCP Python SDK (`mcp` from PyPI), which `.ci/run` installs
//! pinned into `target/mcp-tools` (`CREDENTIAL_OAUTH_MCP_TOOLS` names
//! another venv): a server built with it (tests/mcp/server.py), protected
//! by tokens from the test server, and a client built with it
//! (tests/mcp/client.py) that drives `credential-oauth mcp URL` over stdio.
//! Missing: skipped on a developer's machine, a failure under CI.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use oauth_test_server::TestServer;

use super::{BIN, Env, Output, run_command};

/// The introspection client the server checks tokens as.
const INTROSPECTION: (&str, &str) = ("mcp-server", "mcp-server-secret");

fn scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/mcp")
}

/// The venv's python, with the SDK.
pub fn mcp_python() -> Option<PathBuf> {
    let root = std::env::var_os("CREDENTIAL_OAUTH_MCP_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/mcp-tools"));
    let python = root.join("bin/python");
    let has_sdk = python.is_file()
        && Command::new(&python)
            .args(["-c", "import mcp.server.mcpserver, mcp.client.stdio"])
            .status()
            .is_ok_and(|s| s.success());
    if has_sdk {
        return Some(python);
    }
    let why = format!(
        "the MCP Python SDK not found at {} (python3 -m venv target/mcp-tools && \
         target/mcp-tools/bin/pip install mcp==2.3.0, as .ci/run does)",
        python.display()
    );
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{why}; CI is set, so this is a failure, not a skip");
    }
    eprintln!("skipped: {why}");
    None
}

/// An SDK server on a loopback port, stopped (by its handle) on drop.
pub struct McpServer {
    child: Child,
    pub url: String,
}

impl McpServer {
    /// Started against `issuer`'s tokens; `json`: JSON answers instead of SSE.
    pub fn start(python: &PathBuf, issuer: &TestServer, json: bool) -> McpServer {
        issuer.add_client(INTROSPECTION.0, Some(INTROSPECTION.1));
        let mut cmd = Command::new(python);
        cmd.arg(scripts().join("server.py"))
            .arg(issuer.issuer())
            .arg(format!("{}:{}", INTROSPECTION.0, INTROSPECTION.1))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if json {
            cmd.arg("--json");
        }
        let mut child = cmd.spawn().expect("start the MCP server");
        let mut first = String::new();
        let stdout = child.stdout.take().unwrap();
        std::io::BufReader::new(stdout)
            .read_line(&mut first)
            .unwrap();
        let url = first
            .trim()
            .strip_prefix("url: ")
            .unwrap_or_else(|| panic!("the MCP server said {first:?}"))
            .to_string();
        McpServer { child, url }
    }
}

impl Drop for McpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Env {
    /// The SDK client (`python`) running `scenario` against `mcp URL`,
    /// which it launches as its stdio server with this Env's environment.
    pub fn mcp_client(&self, python: &PathBuf, scenario: &str, url: &str, stdin: &str) -> Output {
        let mut cmd = self.command(python);
        cmd.arg(scripts().join("client.py"))
            .args([scenario, BIN, "-v", "mcp", url]);
        run_command(cmd, stdin.as_bytes())
    }

    /// [`Env::mcp_client`], started and left running (its stdout piped).
    pub fn spawn_mcp_client(&self, python: &PathBuf, scenario: &str, url: &str) -> Child {
        let mut cmd = self.command(python);
        cmd.arg(scripts().join("client.py"))
            .args([scenario, BIN, "-v", "mcp", url])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.spawn().expect("start the MCP client")
    }
}

/// The JSON lines a client scenario printed, by `step`.
pub fn steps(out: &Output) -> Vec<serde_json::Value> {
    out.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .collect()
}

/// The one step named `name`.
pub fn step(out: &Output, name: &str) -> serde_json::Value {
    steps(out)
        .into_iter()
        .find(|s| s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name:?}\n{out}"))
}
