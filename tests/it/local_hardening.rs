//! The local attacker and hostile input (security review, issue 11, "Low"):
//! a permissive umask, hostile environment values, core dumps, token values
//! that would inject into a header, terminal escapes in names, and text
//! browsers on git's pipes.

use crate::support::*;

const URL: &str = "https://git.example.com/";

/// Runs `$0 "$@"` with umask 000, the way a careless login shell would.
const UMASK_000: &str = "umask 000; exec \"$0\" \"$@\"";

#[test]
fn every_directory_created_is_0700_even_under_umask_000() {
    let server = TestServer::start().unwrap();
    let env = Env::new();
    env.client_credentials_config(&server, URL);
    let mut cmd = env.command("sh");
    cmd.args(["-c", UMASK_000, BIN, "token", URL]);
    let out = run_command(cmd, b"");
    out.ok();
    let cache = env.home.join(".cache");
    let ours = cache.join("credential-oauth");
    // The metadata cache is written on discovery, which this config uses.
    let metadata = ours.join("metadata");
    assert!(metadata.is_dir(), "{out}");
    for dir in [&cache, &ours, &env.tokens_dir(), &metadata] {
        assert_eq!(mode(dir), 0o700, "{}\n{out}", dir.display());
    }
    for file in env.token_files() {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
}
