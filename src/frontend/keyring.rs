//! pip's and uv's `keyring` program (`--keyring-provider subprocess`): the
//! binary called as `keyring`, through a link that `install.sh --keyring`
//! makes (never by default: it would shadow a real keyring installation).
//! The command line is in [`crate::protocol::keyring_cli`].
//!
//! - `get SERVICE [USERNAME]`: the access token for a provider's index
//!   URL; USERNAME names the account as git's username does. A bare
//!   `host[:port]` (pip's and uv's retry) gets nothing: it names neither
//!   scheme nor path, so it could carry the token to an `http://` index or
//!   to another path on that host (DESIGN.md "Trust").
//!   No provider: exit 1 and nothing on stdout or stderr, as keyring
//!   itself answers "no such password", so pip and uv go on.
//! - `set SERVICE USERNAME`: the password on stdin is read and dropped. For
//!   a provider's service that is success without effect (its tokens come
//!   from the authorization server, not from what pip prompted for); for
//!   any other service, exit 1 with a line: nothing is kept for it.
//! - `del SERVICE [USERNAME]`: `credential-oauth logout` for a provider's
//!   service (forget, and revoke where offered); exit 1 for any other.
//!
//! People in the loop: pip and uv run the program with stdin closed, and
//! pip ≥ 26.2 (and uv without a user name) capture its stderr and never
//! show it, so a device code printed there could reach nobody. A login
//! therefore starts only where a browser can open (the person sees the
//! browser; pip and uv wait without a time limit); otherwise it is "nobody
//! to ask" (DESIGN.md): one line naming `credential-oauth login URL`, and
//! exit status 1. A refresh, which needs nobody, always runs. This
//! frontend reports its own errors (through the [`Prompt`](crate::prompt::Prompt), on stderr), so
//! that "not found" stays silent.

use super::Caller;
use crate::context::{Answer, Context};
use crate::error::{Error, Kind, Result};
use crate::prompt::escape;
use crate::protocol::keyring_cli::{self, Command, Invocation, Operation};
use crate::protocol::read_bounded;
use crate::resolver::{Binding, Request};
use std::io::{Read, Write};
use url::Url;

/// One keyring command.
pub struct Keyring(Command);

impl Caller for Keyring {
    fn parse(
        words: &[String],
        stdin: &mut dyn Read,
        _stdout: &mut dyn Write,
        ctx: &Context,
    ) -> Result<(Self, bool)> {
        let command = Command::parse(words)?;
        if let Command::Run(invocation) = &command {
            match invocation.operation {
                // A login only where the person sees the browser.
                Operation::Get if !ctx.prompt().can_open_browser() => ctx.forbid_prompts(),
                // Read to the end so pip's write never fails, and dropped at once.
                Operation::Set => drop(read_bounded(stdin)?),
                _ => {}
            }
        }
        Ok((Keyring(command), false))
    }

    fn answer(self, ctx: &Context, _stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<()> {
        match self.0 {
            Command::Help => crate::protocol::write_answer(stdout, keyring_cli::USAGE.as_bytes()),
            Command::Run(invocation) => match invocation.operation {
                Operation::Get => get(ctx, &invocation, stdout),
                Operation::Set => set(ctx, &invocation),
                Operation::Del => del(ctx, &invocation),
            },
        }
    }

    /// keyring's own way: "not found" is silent, so pip and uv go on;
    /// anything else is one line for the person.
    fn failed(error: &Error, ctx: &Context, _stdout: &mut dyn Write) {
        match error {
            _ if error.kind() == Kind::NotFound => crate::debug!("{error}"),
            _ => ctx.prompt().say(&format!("credential-oauth: {error}")),
        }
    }
}

fn not_found(service: &str) -> Error {
    Error::NotFound(format!(
        "keyring: no provider serves {}; exit 1, so pip or uv go on",
        escape(service)
    ))
}

/// The provider and account for SERVICE, an index URL resolved as git's
/// URLs are (config file, git's config). A bare `host[:port]` is nobody's
/// (DESIGN.md "Trust"): pip and uv ask with the index URL first, and only
/// then with the bare host, which an `http://` index or another path on
/// that host would reach too. A config file that cannot be read is said
/// whatever the service.
fn request(ctx: &Context, invocation: &Invocation) -> Result<Option<Request<'static>>> {
    ctx.config()?;
    let service = invocation.service.as_str();
    if !service.contains("://") {
        crate::debug!(
            "keyring: {} is a bare host, which names neither scheme nor path; not ours",
            escape(service)
        );
        return Ok(None);
    }
    // pip and uv remove credentials from the URL; one that still holds
    // some, or is not http(s), is no index of ours.
    Ok(match Url::parse(service) {
        Ok(url)
            if matches!(url.scheme(), "http" | "https")
                && url.has_host()
                && url.username().is_empty()
                && url.password().is_none() =>
        {
            Some(Request {
                username: invocation.username.clone(),
                ..Request::to(url)
            })
        }
        _ => None,
    })
}

fn binding_for(ctx: &Context, invocation: &Invocation) -> Result<Option<Binding>> {
    match request(ctx, invocation)? {
        Some(request) => ctx.binding(&request),
        None => Ok(None),
    }
}

fn get(ctx: &Context, invocation: &Invocation, stdout: &mut dyn Write) -> Result<()> {
    let answer = match request(ctx, invocation)? {
        Some(request) => ctx.answer(&request)?,
        None => Answer::NotMine,
    };
    let (binding, fetched) = match answer {
        Answer::Token(binding, fetched) => (binding, fetched),
        Answer::NotMine => return Err(not_found(&invocation.service)),
        Answer::NotFound(line) => return Err(Error::NotFound(line)),
    };
    let username = invocation
        .username
        .clone()
        .unwrap_or_else(|| binding.provider.username.clone());
    keyring_cli::write_credential(
        invocation.mode,
        invocation.output,
        &username,
        &fetched.token.access_token,
        stdout,
    )
}

fn set(ctx: &Context, invocation: &Invocation) -> Result<()> {
    match binding_for(ctx, invocation)? {
        Some(binding) => {
            crate::debug!(
                "{}: tokens come from the authorization server; the password given is not kept",
                binding.provider.name
            );
            Ok(())
        }
        None => Err(Error::Refused(format!(
            "keyring set: no provider serves {}, and credential-oauth keeps no passwords",
            escape(&invocation.service)
        ))),
    }
}

fn del(ctx: &Context, invocation: &Invocation) -> Result<()> {
    let Some(binding) = binding_for(ctx, invocation)? else {
        return Err(not_found(&invocation.service));
    };
    crate::commands::logout::logout_and_say(ctx, &binding)
}
