//! The grants that obtain tokens, one file each, and the token endpoint
//! request they share (RFC 6749 §3.2, §5).

pub mod authorization_code;
pub mod client;
pub mod client_credentials;
pub mod device_code;
pub mod interactive;
pub mod loopback;
pub mod refresh;
pub mod registration;
pub mod revocation;

use crate::config::AuthMethod;
use crate::discovery::authorization_server::Metadata;
use crate::error::Result;
use crate::http::{ClientAuth, Http};
use crate::secret::Secret;
use crate::token::Token;

/// The client as the token endpoint sees it.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: Option<Secret>,
    pub method: AuthMethod,
}

impl Client {
    /// Add the client's credentials to a token endpoint request: Basic in the
    /// header, or in the body for `client_secret_post` and public clients.
    fn authenticate<'a>(&'a self, form: &mut Vec<(&'a str, &'a str)>) -> ClientAuth<'a> {
        match (&self.secret, self.method) {
            (Some(secret), AuthMethod::ClientSecretBasic) => ClientAuth::Basic {
                id: &self.id,
                secret,
            },
            (Some(secret), AuthMethod::ClientSecretPost) => {
                form.push(("client_id", &self.id));
                form.push(("client_secret", secret.expose()));
                ClientAuth::None
            }
            _ => {
                form.push(("client_id", &self.id));
                ClientAuth::None
            }
        }
    }
}

/// POST `form` to the token endpoint as `client` and parse the token.
pub fn token_request(
    http: &Http,
    meta: &Metadata,
    client: &Client,
    form: &[(&str, &str)],
) -> Result<Token> {
    let url = meta.token_endpoint()?;
    crate::debug!(
        "POST {} grant_type={}",
        crate::http::origin(url),
        form.iter()
            .find(|(k, _)| *k == "grant_type")
            .map_or("", |(_, v)| v)
    );
    let body = post_as_client(http, url, client, form)?;
    Token::from_response(&body, crate::token::now())
}

/// POST `form` to `url` with the client's authentication added.
fn post_as_client(
    http: &Http,
    url: &url::Url,
    client: &Client,
    form: &[(&str, &str)],
) -> Result<serde_json::Value> {
    let mut form = form.to_vec();
    let auth = client.authenticate(&mut form);
    http.post_form(url, &form, auth)
}

/// `scope` as one space-separated value (RFC 6749 §3.3), or none.
pub fn scope_param(scopes: &[String]) -> Option<String> {
    (!scopes.is_empty()).then(|| scopes.join(" "))
}

/// What the grants' unit tests send requests as and to.
#[cfg(test)]
pub(crate) mod examples {
    use super::Client;
    use crate::config::AuthMethod;
    use crate::discovery::authorization_server::Metadata;
    use crate::secret::Secret;
    use url::Url;

    /// A token endpoint's answer.
    pub const TOKEN: &[u8] = br#"{"access_token":"at","token_type":"Bearer","expires_in":3600}"#;

    /// `Authorization` for `app` with the secret `s3cret`: base64 of `app:s3cret`.
    pub const BASIC: &str = "Basic YXBwOnMzY3JldA==";

    pub fn metadata() -> Metadata {
        let at = |path: &str| Some(Url::parse(&format!("https://as.example{path}")).unwrap());
        Metadata {
            issuer: "https://as.example".into(),
            authorization_endpoint: at("/authorize"),
            token_endpoint: at("/token"),
            device_authorization_endpoint: at("/device"),
            registration_endpoint: at("/register"),
            revocation_endpoint: at("/revoke"),
            ..Metadata::default()
        }
    }

    /// Client `app`, with the secret `s3cret` sent by `method`.
    pub fn confidential(method: AuthMethod) -> Client {
        Client {
            id: "app".into(),
            secret: Some(Secret::new("s3cret")),
            method,
        }
    }

    /// Client `app` with no secret.
    pub fn public() -> Client {
        Client {
            id: "app".into(),
            secret: None,
            method: AuthMethod::None,
        }
    }
}
