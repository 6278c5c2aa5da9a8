//! Go's `GOAUTH` command mode (Go ≥ 1.24): `GOAUTH="credential-oauth
//! goauth"`. The go command runs `credential-oauth goauth` before its
//! first HTTPS fetch, and `credential-oauth goauth URL` with the 4xx
//! response on stdin when a server refuses.
//!
//! The go command keeps the helper's stderr to itself (it shows it only
//! with `go -x`, and only when the helper fails), so nobody could see a
//! device code or a "waiting for the browser" line: both modes are
//! [`Unattended`](crate::prompt::Unattended). Without a URL nothing but the cache is read (this runs
//! before every go command's first download, public ones included): a
//! set for each provider holding a fresh token. With a URL, a refresh may
//! run; a login is left to `credential-oauth login URL`, and the line
//! naming it comes with a failed exit so that `go -x` shows it.

use crate::config::Provider;
use crate::context::{Answer, Context};
use crate::error::{Error, Result};
use crate::manager::Manager;
use crate::protocol::{self, goauth};
use crate::resolver::{Accounts, Request};
use crate::token;
use std::io::{Read, Write};

/// Answer the go command: `url` is the argument, `stdin` the response.
pub fn run(
    url: Option<&str>,
    ctx: &Context,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
) -> Result<()> {
    ctx.forbid_prompts();
    match url {
        None => fresh_sets(ctx, stdout),
        Some(url) => for_url(url, ctx, stdin, stdout),
    }
}

/// The prefix Go gets for `provider`: its `url` exactly, so Go never sends
/// the token anywhere the provider does not cover; `None` for a provider
/// that is not https (Go asks only for https).
fn prefix(provider: &Provider) -> Option<&str> {
    (provider.url.scheme() == "https").then_some(provider.url.as_str())
}

/// No argument: a set for every provider (configured, or found by
/// discovery earlier) whose default account holds a fresh token.
fn fresh_sets(ctx: &Context, stdout: &mut dyn Write) -> Result<()> {
    let config = ctx.config()?;
    // Nothing configured: no store is opened (no keychain is woken).
    if config.providers.is_empty() && config.discover_hosts.is_empty() {
        return Ok(());
    }
    let manager = ctx.manager()?;
    let now = token::now();
    let mut sets = Vec::new();
    for binding in ctx.bindings(Accounts::Default)? {
        let provider = &binding.provider;
        let Some(prefix) = prefix(provider) else {
            continue;
        };
        // Go sends a set as a fixed header: a DPoP-bound token is no use.
        if provider.dpop {
            crate::debug!("provider {:?}: dpop = true; no set for Go", provider.name);
            continue;
        }
        match manager.cached(&Manager::key(&binding))? {
            Some(t) if t.is_fresh(now) => {
                crate::debug!("provider {:?}: a fresh token for {prefix}", provider.name);
                sets.push(goauth::CredentialSet::bearer(prefix, &t.access_token));
            }
            _ => crate::debug!("provider {:?}: no fresh token cached", provider.name),
        }
    }
    goauth::CredentialSet::write_all(&sets, stdout)
}

/// `goauth URL`: the set for the provider serving URL, or nothing.
fn for_url(arg: &str, ctx: &Context, stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<()> {
    let response = goauth::Response::parse(&protocol::read_bounded(stdin)?)?;
    let url = url::Url::parse(arg).map_err(|_| {
        Error::Usage(format!(
            "goauth: {:?} is not a URL",
            arg.escape_debug().to_string()
        ))
    })?;
    if url.scheme() != "https" || !url.username().is_empty() || url.password().is_some() {
        crate::debug!("goauth: not an https URL without credentials; answering nothing");
        return Ok(());
    }
    crate::debug!("goauth: {url} answered HTTP {}", response.status);
    let challenges = response.challenges();
    let request = Request {
        challenges: &challenges,
        ..Request::to(url)
    };
    let Some(binding) = ctx.binding(&request)? else {
        return Ok(());
    };
    let Some(prefix) = prefix(&binding.provider).map(str::to_string) else {
        return Ok(());
    };
    // The response Go got may be a step-up challenge (RFC 9470).
    let step_up = crate::http::challenge::StepUp::from_challenges(&challenges);
    let fetched = match ctx.token(binding, |manager, binding| {
        manager.token_for_challenge(binding, None, step_up.as_ref())
    })? {
        Answer::Token(_, fetched) => fetched,
        Answer::NotMine => return Ok(()),
        Answer::NotFound(line) => return Err(Error::NotFound(line)),
    };
    goauth::CredentialSet::write_all(
        &[goauth::CredentialSet::bearer(
            &prefix,
            &fetched.token.access_token,
        )],
        stdout,
    )
}
