//! `login URL`: run the provider's grant now, whatever the cache holds.

use crate::context::Context;
use crate::error::Result;
use crate::prompt::escape;

/// `login URL`: the grant now, whatever the cache holds.
pub fn run(url: &str, ctx: &Context) -> Result<()> {
    let binding = ctx.command_binding(url)?;
    let token = ctx.manager()?.login(&binding)?;
    ctx.prompt().say(&format!(
        "credential-oauth: logged in to {} (token {})",
        escape(&binding.provider.name),
        super::valid_until(&token)
    ));
    Ok(())
}
