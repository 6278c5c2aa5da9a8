//! `credential-oauth headers URL`: the headers a request to URL needs, as
//! one JSON object (`{"Authorization":"Bearer <token>"}`), the form MCP
//! clients' "headers helper" settings read, and handy for any script. No
//! token: a non-zero exit, one line naming `credential-oauth login URL`,
//! and nothing on stdout.

use super::resource::Access;
use crate::context::Context;
use crate::error::Result;
use std::io::Write;

pub fn run(url: &str, ctx: &Context, stdout: &mut dyn Write) -> Result<()> {
    let mut access = Access::new(ctx, url)?;
    let token = match access.token()? {
        Some(token) => token,
        // No provider known yet: the server names its authorization server.
        None => access.unauthorized(&[], None)?,
    };
    let mut answer = serde_json::Map::new();
    answer.insert(
        "Authorization".into(),
        format!("Bearer {}", token.expose()).into(),
    );
    crate::protocol::write_json_line(&answer, stdout)
}
