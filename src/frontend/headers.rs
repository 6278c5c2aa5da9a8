//! `credential-oauth headers URL`: the headers a request to URL needs, as
//! one JSON object (`{"Authorization":"Bearer <token>"}`), the form MCP
//! clients' "headers helper" settings read, and handy for any script. No
//! token: a non-zero exit, one line naming `credential-oauth login URL`,
//! and nothing on stdout. `headers --method METHOD URL` for a `dpop = true`
//! provider prints `{"Authorization":"DPoP <token>","DPoP":"<proof>"}`, a
//! proof for that one request (RFC 9449); without `--method` such a
//! provider's token is not handed out.

use super::resource::Access;
use crate::context::Context;
use crate::error::Result;
use std::io::Write;
use url::Url;

pub fn run(url: &str, method: Option<&str>, ctx: &Context, stdout: &mut dyn Write) -> Result<()> {
    let access = Access::new(ctx, url)?;
    let mut answer = serde_json::Map::new();
    // A DPoP-bound token goes out only with a proof for the one request
    // the caller names (RFC 9449 §7): `--method`, and the URL typed.
    if let Some(method) = method {
        let target = Url::parse(url)
            .map_err(|_| crate::error::Error::Usage(format!("{url:?} is not a URL")))?;
        if let Some((token, proof)) = access.dpop(method, &target)? {
            answer.insert(
                "Authorization".into(),
                format!("DPoP {}", token.expose()).into(),
            );
            answer.insert("DPoP".into(), proof.expose().into());
            return crate::protocol::write_json_line(&answer, stdout);
        }
    }
    let mut access = access;
    let token = match access.token()? {
        Some(token) => token,
        // No provider known yet: the server names its authorization server.
        None => access.unauthorized(&[], None)?,
    };
    answer.insert(
        "Authorization".into(),
        format!("Bearer {}", token.expose()).into(),
    );
    crate::protocol::write_json_line(&answer, stdout)
}
