//! The grants that obtain tokens, one file each, and the token endpoint
//! request they share (RFC 6749 §3.2, §5).

pub mod assertion;
pub mod authorization_code;
pub mod callback;
pub mod client;
pub mod client_credentials;
pub mod device_code;
pub mod interactive;
pub mod loopback;
pub mod refresh;
pub mod registration;
pub mod revocation;
pub mod token_exchange;

use crate::config::{AuthMethod, Provider};
use crate::discovery::authorization_server::Metadata;
use crate::error::{Error, Result};
use crate::http::{ClientAuth, Http};
use crate::secret::Secret;
use crate::token::Token;

/// The client as the token endpoint sees it.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: String,
    pub secret: Option<Secret>,
    pub method: AuthMethod,
    /// For `private_key_jwt`: where its assertion comes from.
    pub assertion: Option<assertion::Assertion>,
}

impl Client {
    /// A fresh client assertion when the client authenticates with one:
    /// made for each request, since the server refuses a `jti` it has seen.
    fn assertion(&self, http: &Http) -> Result<Option<Secret>> {
        match (&self.assertion, self.method) {
            (Some(a), AuthMethod::PrivateKeyJwt) => a.make(http, &self.id).map(Some),
            _ => Ok(None),
        }
    }

    /// Add the client's credentials to a token endpoint request: Basic in the
    /// header, or in the body for `client_secret_post` and public clients,
    /// or the assertion from [`Client::assertion`] (RFC 7523 §2.2).
    fn authenticate<'a>(
        &'a self,
        assertion: Option<&'a Secret>,
        form: &mut Vec<(&'a str, &'a str)>,
    ) -> ClientAuth<'a> {
        if let Some(jwt) = assertion {
            form.push(("client_id", &self.id));
            form.push(("client_assertion_type", assertion::JWT_BEARER));
            form.push(("client_assertion", jwt.expose()));
            return ClientAuth::None;
        }
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
    let assertion = client.assertion(http)?;
    let mut form = form.to_vec();
    let auth = client.authenticate(assertion.as_ref(), &mut form);
    http.post_form(url, &form, auth)
}

/// This workload's own credentials (`what`: a subject token, a client
/// assertion) go only to an issuer the config names. One that RFC 9728
/// discovery found was named by a git server, which could replay them at
/// the platform's real authorization server. Config refuses such a
/// provider; this holds where they would be sent, for any path that
/// builds one (DESIGN.md "Trust").
pub fn refuse_at_discovered_issuer(provider: &Provider, what: &str) -> Result<()> {
    if !provider.issuer_discovered {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "{}: {what} is never sent to an authorization server found by discovery ({}); \
         set issuer in the config",
        crate::prompt::escape(&provider.name),
        crate::http::authority(&provider.issuer)
    )))
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
            assertion: None,
        }
    }

    /// Client `app` authenticating with assertions signed by the test key
    /// `tests/keys/<key>` (a private copy), for `https://as.example/token`.
    pub fn private_key_jwt(key: &str, key_id: Option<&str>) -> Client {
        Client {
            id: "app".into(),
            secret: None,
            method: AuthMethod::PrivateKeyJwt,
            assertion: Some(super::assertion::Assertion {
                source: crate::config::ClientAssertion::PrivateKey {
                    file: super::assertion::tests::private_copy(key),
                    key_id: key_id.map(str::to_string),
                },
                audience: Url::parse("https://as.example/token").unwrap(),
            }),
        }
    }

    /// A provider of `https://git.example/` at the issuer `https://as.example`,
    /// as the config file makes one.
    pub fn provider() -> crate::config::Provider {
        let mut table = toml::Table::new();
        table.insert("url".into(), "https://git.example/".into());
        table.insert("issuer".into(), "https://as.example".into());
        crate::config::Provider::from_table(table).unwrap()
    }

    /// Client `app` with no secret.
    pub fn public() -> Client {
        Client {
            id: "app".into(),
            secret: None,
            method: AuthMethod::None,
            assertion: None,
        }
    }
}
