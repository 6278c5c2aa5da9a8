//! git's credential protocol (`git-credential-oauth get|store|erase`, or
//! `credential-oauth get|store|erase`): git-credential(1).

use crate::context::{Answer, Context};
use crate::error::Result;
use crate::protocol::{self, git};
use crate::resolver::Request;
use std::io::{Read, Write};

/// `get`: a token for the URL git names, or nothing (exit 0) when no
/// provider serves it, so git asks its other helpers.
pub fn get(ctx: &Context, stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<()> {
    let req = git::Request::parse(&protocol::read_bounded(stdin)?)?;
    let Some(request) = request(&req) else {
        return Ok(());
    };
    // GIT_TERMINAL_PROMPT=0: git may not ask anyone, so neither may we.
    ctx.forbid_prompts_if(git_forbids_prompts);
    let hint = req.oauth_refresh_token.as_ref();
    // A server that wants a stronger or more recent login says so in its
    // challenge (RFC 9470), which git passes on.
    let step_up = crate::http::challenge::StepUp::from_challenges(&req.wwwauth);
    let answer = ctx.answer_with(&request, |manager, binding| {
        manager.token_for_challenge(binding, hint, step_up.as_ref())
    })?;
    let (binding, fetched) = match answer {
        Answer::Token(binding, fetched) => (binding, fetched),
        // git's "not mine" and "not found" are no answer at all: it goes
        // on to its other helpers (and the person read why on stderr).
        Answer::NotMine | Answer::NotFound(_) => return Ok(()),
    };
    let provider = &binding.provider;
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
                || crate::http::challenge::offers_bearer(&req.wwwauth)),
    };
    answer.to_message().write_to(stdout)
}

/// What git asks about; `None` when it names no URL (not ours: git asks
/// its other helpers).
fn request(req: &git::Request) -> Option<Request<'_>> {
    Some(Request {
        username: req.username.clone(),
        challenges: &req.wwwauth,
        ..Request::to(req.url()?)
    })
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
pub fn erase(ctx: &Context, stdin: &mut dyn Read) -> Result<()> {
    let req = git::Request::parse(&protocol::read_bounded(stdin)?)?;
    let Some(password) = req.password.as_ref().or(req.credential.as_ref()) else {
        return Ok(());
    };
    let Some(request) = request(&req) else {
        return Ok(());
    };
    let Some(binding) = ctx.binding(&request)? else {
        return Ok(());
    };
    if ctx.manager()?.erase(&binding, Some(password))? {
        crate::debug!("{}: dropped the rejected token", binding.provider.name);
    }
    Ok(())
}
