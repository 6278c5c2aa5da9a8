//! Terraform's and OpenTofu's credentials helper
//! (`terraform-credentials-oauth get|store|forget HOST`, found in the
//! plugin directories for `credentials_helper "oauth" {}`).
//!
//! Terraform runs the helper with no stdin for `get` and keeps its stderr
//! unless the helper fails, so nobody could see a device code or a
//! "waiting for the browser" line: the helper is [`Unattended`]. A refresh
//! still runs; a login is left to `credential-oauth login`, and the line
//! naming that command comes with a failed exit, the only way Terraform
//! shows it (DESIGN.md "People in the loop" asks for the line to reach the
//! person; `{}` would silently send the request without credentials).

use super::Prompt;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::manager::Manager;
use crate::prompt::Unattended;
use crate::protocol::{self, terraform};
use crate::resolver::Resolver;
use std::io::{Read, Write};

/// Run one request; `args` are the words after the program name.
pub fn run(
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    prompt: &dyn Prompt,
) -> Result<()> {
    let request = terraform::Request::from_args(args)?;
    crate::log::set_verbose(request.verbose || crate::log::env_asks_for_debug());
    let unattended = Unattended(prompt);
    match request.verb {
        terraform::Verb::Get => get(&request.host, stdout, &unattended),
        terraform::Verb::Store => store(&request.host, stdin),
        terraform::Verb::Forget => forget(&request.host, prompt),
    }
}

/// `{"token":…}` for a provider's host, `{}` for any other.
fn get(host: &str, stdout: &mut dyn Write, prompt: &dyn Prompt) -> Result<()> {
    let config = Config::load()?;
    let Some(binding) = Resolver::new(&config).for_host(host)? else {
        crate::debug!("no provider for {host}; answering {{}}");
        return terraform::Credentials::default().write_to(stdout);
    };
    crate::debug!("provider {:?} matches {host}", binding.provider.name);
    let fetched = Manager::new(&config, prompt)?.token(&binding)?;
    terraform::Credentials {
        token: Some(fetched.token.access_token),
    }
    .write_to(stdout)
}

/// `terraform login` hands over the token it obtained. For a provider's
/// host the token is ours to obtain and keep: accepted, not written. For
/// any other host this helper keeps nothing, and says so rather than let
/// the token vanish: Terraform reports the failure, and the person can put
/// the token in a `credentials` block instead.
fn store(host: &str, stdin: &mut dyn Read) -> Result<()> {
    terraform::Credentials::parse(&protocol::read_bounded(stdin)?)?;
    let config = Config::load()?;
    match Resolver::new(&config).for_host(host)? {
        Some(binding) => {
            crate::debug!(
                "{host} is served by provider {:?}; its tokens come from there, not from store",
                binding.provider.name
            );
            Ok(())
        }
        None => Err(Error::NotFound(format!(
            "no provider is configured for {host}, and this helper keeps only the tokens \
             it obtains itself; the token was not stored (use a credentials \"{host}\" block \
             in the CLI config, or add a provider: credential-oauth init https://{host}/)"
        ))),
    }
}

/// `terraform logout HOST`: our logout (the cached token forgotten and
/// revoked). A host no provider serves has nothing to forget.
fn forget(host: &str, prompt: &dyn Prompt) -> Result<()> {
    let config = Config::load()?;
    let Some(binding) = Resolver::new(&config).for_host(host)? else {
        crate::debug!("no provider for {host}; nothing to forget");
        return Ok(());
    };
    let manager = Manager::new(&config, prompt)?;
    let outcome = manager.logout(&binding)?;
    let name = crate::prompt::escape(&binding.provider.name);
    crate::debug!(
        "{name}: {}",
        if outcome.removed {
            "forgot the cached token"
        } else {
            "had no cached token"
        }
    );
    crate::commands::logout::report_revocation(&name, outcome.revocation, prompt);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_command_line_fails_before_anything_is_read() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut out = Vec::new();
        let e = run(
            &args(&["list", "a.example"]),
            &mut &b"{}"[..],
            &mut out,
            &crate::prompt::Terminal,
        )
        .unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e}");
        assert!(out.is_empty());
    }
}
