//! git's credential protocol (`git-credential-oauth get|store|erase`, or
//! `credential-oauth get|store|erase`): git-credential(1).

use super::Prompt;
use crate::config::Config;
use crate::error::Result;
use crate::manager::Manager;
use crate::protocol::{self, git};
use crate::resolver::{Binding, Request, Resolver};
use std::io::{Read, Write};

/// `get`: a token for the URL git names, or nothing (exit 0) when no
/// provider serves it, so git asks its other helpers.
pub fn get(stdin: &mut dyn Read, stdout: &mut dyn Write, prompt: &dyn Prompt) -> Result<()> {
    let req = git::Request::parse(&protocol::read_bounded(stdin)?)?;
    let Some((config, binding)) = resolve(&req)? else {
        return Ok(());
    };
    let provider = &binding.provider;
    // A refresh token git kept from another helper was obtained from
    // whoever served this URL then; it goes only to an issuer someone
    // configured for it, never to one the server's challenge named.
    let hint = req
        .oauth_refresh_token
        .as_ref()
        .filter(|_| provider.resource.is_none());
    // GIT_TERMINAL_PROMPT=0: git may not ask anyone, so neither may we.
    let unattended = crate::prompt::Unattended(prompt);
    let prompt: &dyn Prompt = if git_forbids_prompts() {
        &unattended
    } else {
        prompt
    };
    let fetched = match Manager::new(&config, prompt)?.token_with_hint(&binding, hint) {
        Ok(fetched) => fetched,
        // git's "not found" is no answer at all: it goes on to its other
        // helpers, and the person reads why on stderr.
        Err(e @ crate::error::Error::NeedsPerson { .. }) => {
            prompt.say(&format!("credential-oauth: {e}"));
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let answer = git::Response {
        username: req
            .username
            .clone()
            .unwrap_or_else(|| provider.username.clone()),
        expiry_utc: fetched.token.deadline(),
        token: fetched.token.access_token,
        // The Bearer form when git can take it and nothing says the server
        // cannot: the config asks for it, the server's challenge offers it,
        // or git passed no challenge at all (DESIGN.md). A server whose
        // challenges offer only Basic gets username and password.
        authtype: req.has_capability("authtype")
            && (provider.bearer
                || req.wwwauth.is_empty()
                || crate::protocol::challenge::offers_bearer(&req.wwwauth)),
    };
    answer.to_message().write_to(stdout)
}

/// The config and what the request's token is for; `None` when the
/// request names no URL or no provider serves it (not ours: git asks its
/// other helpers).
fn resolve(req: &git::Request) -> Result<Option<(Config, Binding)>> {
    let Some(url) = req.url() else {
        return Ok(None);
    };
    let config = Config::load()?;
    let request = Request {
        url,
        destinations: Vec::new(),
        username: req.username.as_deref(),
        challenges: &req.wwwauth,
    };
    let found = Resolver::new(&config).for_caller(&request)?;
    match &found {
        Some(b) => crate::debug!("provider {:?} matches {}", b.provider.name, request.url),
        None => crate::debug!(
            "no provider for {}; leaving it to other helpers",
            request.url
        ),
    }
    Ok(found.map(|binding| (config, binding)))
}

/// Whether git was told not to prompt (`GIT_TERMINAL_PROMPT=0`, as IDEs
/// and CI set it for background fetches).
fn git_forbids_prompts() -> bool {
    std::env::var_os("GIT_TERMINAL_PROMPT").is_some_and(|v| {
        let v = v.to_string_lossy().to_ascii_lowercase();
        matches!(v.as_str(), "0" | "false" | "no" | "off")
    })
}

/// `store`: tokens are ours to keep; a token we issued needs no storing and
/// other credentials are for other helpers. The request is still read so
/// that bad input is reported.
pub fn store(stdin: &mut dyn Read) -> Result<()> {
    git::Request::parse(&protocol::read_bounded(stdin)?)?;
    Ok(())
}

/// `erase`: git erases after the server refused the credential. Only the
/// token it names is dropped; without one there is nothing to compare.
pub fn erase(stdin: &mut dyn Read, prompt: &dyn Prompt) -> Result<()> {
    let req = git::Request::parse(&protocol::read_bounded(stdin)?)?;
    let Some(password) = req.password.as_ref().or(req.credential.as_ref()) else {
        return Ok(());
    };
    let Some((config, binding)) = resolve(&req)? else {
        return Ok(());
    };
    if Manager::new(&config, prompt)?.erase(&binding, Some(password))? {
        crate::debug!("{}: dropped the rejected token", binding.provider.name);
    }
    Ok(())
}
