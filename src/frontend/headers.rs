//! `credential-oauth headers [--method METHOD] URL`: the headers a request
//! to URL needs, as one JSON object (`{"Authorization":"Bearer <token>"}`),
//! the form MCP clients' "headers helper" settings read, and handy for any
//! script. For a `dpop = true` provider the token is DPoP-bound (RFC 9449):
//! with `--method`, `{"Authorization":"DPoP <token>","DPoP":"<proof>"}`,
//! the proof made for that one request (its method, URL, time and token);
//! without, no token. No token: a non-zero exit, one line saying why, and
//! nothing on stdout.

use super::resource::{Access, Credential};
use crate::context::Context;
use crate::error::{Error, Result};
use std::io::Write;
use url::Url;

pub fn run(url: &str, method: Option<&str>, ctx: &Context, stdout: &mut dyn Write) -> Result<()> {
    let mut access = Access::new(ctx, url)?;
    let credential = match access.token()? {
        Some(credential) => credential,
        // No provider known yet: the server names its authorization server.
        None => access.unauthorized(&[], None)?,
    };
    // The proof is for the request the caller makes: to URL as typed.
    let target = Url::parse(url).map_err(|_| Error::Usage(format!("{url:?} is not a URL")))?;
    let headers = match (&credential, method) {
        (Credential::Dpop { .. }, None) => {
            return Err(Error::Usage(format!(
                "{}: its tokens are bound to a key (dpop = true), and each request needs a \
                 proof of its own: run credential-oauth headers --method METHOD {}",
                crate::http::origin(access.url()),
                crate::http::printable(url, 200)
            )));
        }
        (credential, method) => credential.headers(method.unwrap_or("GET"), &target, None)?,
    };
    let mut answer = serde_json::Map::new();
    for (name, value) in headers {
        answer.insert(name.into(), value.into());
    }
    crate::protocol::write_json_line(&answer, stdout)
}
