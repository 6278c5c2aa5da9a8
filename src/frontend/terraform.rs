//! Terraform's and OpenTofu's credentials helper
//! (`terraform-credentials-oauth get|store|forget HOST`, found in the
//! plugin directories for `credentials_helper "oauth" {}`).
//!
//! Terraform runs the helper with no stdin for `get` and keeps its stderr
//! unless the helper fails, so nobody could see a device code or a
//! "waiting for the browser" line: the helper is [`Unattended`](crate::prompt::Unattended). A refresh
//! still runs; a login is left to `credential-oauth login`, and the line
//! naming that command comes with a failed exit, the only way Terraform
//! shows it (DESIGN.md "People in the loop" asks for the line to reach the
//! person; `{}` would silently send the request without credentials).

use super::Caller;
use crate::context::{Answer, Context};
use crate::error::{Error, Result};
use crate::protocol::{self, terraform};
use crate::resolver::Request;
use std::io::{Read, Write};

/// One request: its verb and host.
pub struct Terraform(terraform::Request);

impl Caller for Terraform {
    fn parse(
        words: &[String],
        stdin: &mut dyn Read,
        _stdout: &mut dyn Write,
        ctx: &Context,
    ) -> Result<(Self, bool)> {
        let request = terraform::Request::from_args(words)?;
        match request.verb {
            terraform::Verb::Get => ctx.forbid_prompts(),
            terraform::Verb::Store => {
                terraform::Credentials::parse(&protocol::read_bounded(stdin)?)?;
            }
            terraform::Verb::Forget => {}
        }
        let verbose = request.verbose;
        Ok((Terraform(request), verbose))
    }

    fn answer(self, ctx: &Context, _stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<()> {
        let host = &self.0.host;
        match self.0.verb {
            terraform::Verb::Get => get(ctx, host, stdout),
            terraform::Verb::Store => store(ctx, host),
            terraform::Verb::Forget => forget(ctx, host),
        }
    }
}

/// `{"token":…}` for a provider's host, `{}` for any other.
fn get(ctx: &Context, host: &str, stdout: &mut dyn Write) -> Result<()> {
    let answer = match Request::host(host) {
        Some(request) => ctx.answer(&request)?,
        None => Answer::NotMine,
    };
    match answer {
        Answer::Token(_, fetched) => terraform::Credentials {
            token: Some(fetched.token.access_token),
        }
        .write_to(stdout),
        Answer::NotMine => {
            crate::debug!("answering {{}}");
            terraform::Credentials::default().write_to(stdout)
        }
        Answer::NotFound(line) => Err(Error::NotFound(line)),
    }
}

/// `terraform login` hands over the token it obtained. For a provider's
/// host the token is ours to obtain and keep: accepted, not written. For
/// any other host this helper keeps nothing, and says so rather than let
/// the token vanish: Terraform reports the failure, and the person can put
/// the token in a `credentials` block instead.
fn store(ctx: &Context, host: &str) -> Result<()> {
    let found = match Request::host(host) {
        Some(request) => ctx.binding(&request)?,
        None => None,
    };
    match found {
        Some(binding) => {
            crate::debug!(
                "{host} is served by provider {:?}; its tokens come from there, not from store",
                binding.provider.name
            );
            Ok(())
        }
        None => Err(Error::Refused(format!(
            "no provider is configured for {host}, and this helper keeps only the tokens \
             it obtains itself; the token was not stored (use a credentials \"{host}\" block \
             in the CLI config, or add a provider: credential-oauth init https://{host}/)"
        ))),
    }
}

/// `terraform logout HOST`: our logout (the cached token forgotten and
/// revoked). A host no provider serves has nothing to forget.
fn forget(ctx: &Context, host: &str) -> Result<()> {
    let found = match Request::host(host) {
        Some(request) => ctx.binding(&request)?,
        None => None,
    };
    let Some(binding) = found else {
        crate::debug!("nothing to forget");
        return Ok(());
    };
    let outcome = ctx.manager()?.logout(&binding)?;
    let name = crate::prompt::escape(&binding.provider.name);
    crate::debug!(
        "{name}: {}",
        if outcome.removed {
            "forgot the cached token"
        } else {
            "had no cached token"
        }
    );
    crate::commands::logout::report_revocation(&name, outcome.revocation, ctx.prompt());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_command_line_fails_before_anything_is_read() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut out = Vec::new();
        let e = crate::frontend::run(
            &args(&["terraform-credentials-oauth", "list", "a.example"]),
            &mut &b"{}"[..],
            &mut out,
            &crate::prompt::Terminal,
        )
        .result
        .unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e}");
        assert!(out.is_empty());
    }
}
