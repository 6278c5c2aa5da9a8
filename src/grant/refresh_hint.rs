//! A refresh token handed over by the caller (git's `oauth_refresh_token`,
//! which other helpers such as git-credential-oauth store), used when we
//! hold none of our own: RFC 6749 §6.
//!
//! Same shape as the refresh grant of src/grant/refresh.rs; once both are on
//! one branch this can delegate to it.

use super::{Client, scope_param, token_request};
use crate::error::Result;
use crate::http::Http;
use crate::metadata::Metadata;
use crate::secret::Secret;
use crate::token::Token;

/// RFC 6749 §6. A server that sends no new refresh token lets the client
/// keep the one it used, so that one is kept.
pub fn obtain(
    http: &Http,
    meta: &Metadata,
    client: &Client,
    refresh_token: &Secret,
    scopes: &[String],
) -> Result<Token> {
    let scope = scope_param(scopes);
    let mut form = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.expose()),
    ];
    if let Some(s) = &scope {
        form.push(("scope", s));
    }
    let mut token = token_request(http, meta, client, &form)?;
    if token.refresh_token.is_none() {
        token.refresh_token = Some(refresh_token.clone());
    }
    Ok(token)
}
