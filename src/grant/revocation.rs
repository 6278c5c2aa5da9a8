//! Token revocation (RFC 7009): at logout the server is told to forget the
//! grant, so a copy of the token left anywhere stops working.

use super::Client;
use crate::discovery::authorization_server::Metadata;
use crate::error::Result;
use crate::http::Http;
use crate::token::Token;
use url::Url;

/// Which token was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    RefreshToken,
    AccessToken,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server publishes no `revocation_endpoint` and none is configured.
    NotOffered,
    /// Revoked at this endpoint (named without query).
    Revoked { which: Revoked, endpoint: String },
}

/// Revoke `token` at logout, as `client` (the client the grant was made
/// as: configured or registered), at the revocation endpoint of `meta`.
pub fn at_logout(http: &Http, meta: &Metadata, client: &Client, token: &Token) -> Result<Outcome> {
    let Some(endpoint) = &meta.revocation_endpoint else {
        return Ok(Outcome::NotOffered);
    };
    let which = revoke(http, endpoint, client, token)?;
    Ok(Outcome::Revoked {
        which,
        endpoint: crate::http::origin(endpoint),
    })
}

/// RFC 7009 §2.1: revoke the refresh token when there is one, which also
/// ends the access tokens of its grant; else the access token. The client
/// authenticates as it does at the token endpoint.
pub fn revoke(http: &Http, endpoint: &Url, client: &Client, token: &Token) -> Result<Revoked> {
    let (value, hint, revoked) = match &token.refresh_token {
        Some(r) => (r, "refresh_token", Revoked::RefreshToken),
        None => (&token.access_token, "access_token", Revoked::AccessToken),
    };
    let mut form = vec![("token", value.expose()), ("token_type_hint", hint)];
    let auth = client.authenticate(&mut form);
    crate::debug!(
        "POST {} token_type_hint={hint}",
        crate::http::origin(endpoint)
    );
    http.post_form_no_content(endpoint, &form, auth)?;
    Ok(revoked)
}
