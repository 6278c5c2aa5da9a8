//! `credential-oauth token [--header] URL`: the access token for scripts,
//! and for cargo's `cargo:token-from-stdout`.

use crate::context::{Answer, Context};
use crate::error::{Error, Result};
use crate::manager::Manager;
use crate::resolver::Request;
use std::io::Write;

/// `token URL`: the access token alone, for scripts; with `header`,
/// `Bearer <token>`, the whole value of an `Authorization` header, as
/// `cargo:token-from-stdout credential-oauth token --header {index_url}`
/// wants it. cargo's `{index_url}` of a sparse registry starts with
/// `sparse+`: cargo is the caller, and sends the token where the index's
/// `config.json` says, so those places are checked as for
/// `--cargo-plugin` (DESIGN.md "Trust").
pub fn run(url: &str, header: bool, ctx: &Context, stdout: &mut dyn Write) -> Result<()> {
    let request = Request::command(crate::protocol::cargo::strip_sparse(url))?;
    let Some(mut binding) = ctx.binding(&request)? else {
        return Err(Error::NoProvider(request.url.to_string()));
    };
    if url.starts_with("sparse+") {
        binding = super::cargo::registry_binding(ctx, &binding, url)?;
    }
    let fetched = match ctx.token(binding, Manager::token)? {
        Answer::Token(_, fetched) => fetched,
        Answer::NotMine => return Err(Error::NoProvider(request.url.to_string())),
        Answer::NotFound(line) => return Err(Error::NotFound(line)),
    };
    let scheme = if header { "Bearer " } else { "" };
    let line = format!("{scheme}{}\n", fetched.token.access_token.expose());
    crate::protocol::write_answer(stdout, line.as_bytes())
}
