//! Client credentials grant (RFC 6749 §4.4): a confidential client gets a
//! token for itself, with no person involved.

use super::{Client, scope_param, token_request};
use crate::discovery::authorization_server::Metadata;
use crate::error::Result;
use crate::http::Http;
use crate::token::Token;

/// RFC 6749 §4.4.2.
pub fn obtain(http: &Http, meta: &Metadata, client: &Client, scopes: &[String]) -> Result<Token> {
    let scope = scope_param(scopes);
    let mut form = vec![("grant_type", "client_credentials")];
    if let Some(s) = &scope {
        form.push(("scope", s));
    }
    token_request(http, meta, client, &form)
}
