//! The grants that obtain tokens, one file each, and the token endpoint
//! request they share (RFC 6749 §3.2, §5).

pub mod assertion;
pub mod authorization_code;
pub mod callback;
pub mod client;
pub mod client_credentials;
pub mod device_code;
pub mod dpop;
pub mod interactive;
pub mod loopback;
pub mod refresh;
pub mod registration;
pub mod revocation;
pub mod token_exchange;

use crate::config::{AuthMethod, Provider};
use crate::discovery::authorization_server::Metadata;
use crate::error::{Error, Result};
use crate::http::challenge::StepUp;
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
    /// For a `dpop = true` provider: the key its token requests prove
    /// possession of (RFC 9449 §5).
    pub dpop: Option<dpop::Proofs>,
    /// RFC 8707 §2: the resource its authorization and token requests
    /// name (the provider's `resource_indicator`), so the tokens are bound
    /// to it.
    pub resource: Option<String>,
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
    let body = post_to_token_endpoint(http, url, Some(client), client.dpop.as_ref(), form)?;
    let token = Token::from_response(&body, crate::token::now())?;
    bound_as_asked(token, client.dpop.as_ref(), url)
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
    add_resource(Some(client), &mut form);
    let auth = client.authenticate(assertion.as_ref(), &mut form);
    http.post_form(url, &form, auth)
}

/// RFC 8707 §2.1, §2.2: every request of a client bound to a resource
/// names it (a pushed authorization request, the token request, a
/// refresh); a token exchange that names its own keeps it.
fn add_resource<'a>(client: Option<&'a Client>, form: &mut Vec<(&'a str, &'a str)>) {
    if let Some(resource) = client.and_then(|c| c.resource.as_deref())
        && !form.iter().any(|(k, _)| *k == "resource")
    {
        form.push(("resource", resource));
    }
}

/// POST `form` to the token endpoint `url`, as `client` or (a token
/// exchange that needs none) as nobody, with a DPoP proof when `dpop`
/// (RFC 9449 §5). A server that answers `use_dpop_nonce` with a new
/// `DPoP-Nonce` gets the request once more, with a fresh proof carrying
/// it (§8); every nonce a server sends is kept for the next proof.
pub fn post_to_token_endpoint(
    http: &Http,
    url: &url::Url,
    client: Option<&Client>,
    dpop: Option<&dpop::Proofs>,
    form: &[(&str, &str)],
) -> Result<serde_json::Value> {
    let send = |extra: &[(&'static str, String)]| -> Result<crate::http::Answer> {
        // A fresh assertion for each request: a server refuses a jti it saw.
        let assertion = match client {
            Some(c) => c.assertion(http)?,
            None => None,
        };
        let mut form = form.to_vec();
        add_resource(client, &mut form);
        let auth = match client {
            Some(c) => c.authenticate(assertion.as_ref(), &mut form),
            None => ClientAuth::None,
        };
        Ok(http.post_form_with(url, &form, auth, extra))
    };
    let Some(dpop) = dpop else {
        return send(&[])?.result;
    };
    let mut retried = false;
    loop {
        let proof = dpop.proof("POST", url, None)?;
        let answer = send(&[("DPoP", proof.expose().to_string())])?;
        let new_nonce = answer
            .header("dpop-nonce")
            .is_some_and(|n| dpop.nonces.remember(url, n));
        match answer.result {
            Err(e) if e.oauth_code() == Some("use_dpop_nonce") && new_nonce && !retried => {
                crate::debug!(
                    "{}: the server asks for its DPoP nonce; sending the request again",
                    crate::http::origin(url)
                );
                retried = true;
            }
            other => return other,
        }
    }
}

/// RFC 9449 §5: a token asked for with a proof comes back as `DPoP`, bound
/// to our key; one asked for without comes back as a bearer token. A
/// server that ignored the proof (and so handed out a bearer token to a
/// provider that asked for bound ones), or that bound a JWT access token
/// to another key (§6.1 `cnf.jkt`), is refused; the bound token records
/// the key's thumbprint, so it is never used with another key.
pub fn bound_as_asked(
    mut token: Token,
    dpop: Option<&dpop::Proofs>,
    url: &url::Url,
) -> Result<Token> {
    let server = crate::http::origin(url);
    match dpop {
        None if token.is_dpop() => Err(Error::BadAnswer(format!(
            "{server}: answered with a DPoP-bound token, but none was asked for (set dpop = true \
             for this provider)"
        ))),
        None => Ok(token),
        Some(_) if !token.is_dpop() => Err(Error::BadAnswer(format!(
            "{server}: answered with a bearer token: it ignored the DPoP proof, so the token \
             is not bound to a key (set dpop = false to use bearer tokens)"
        ))),
        Some(proofs) => {
            let jkt = proofs.key.thumbprint();
            if let Some(other) = dpop::bound_thumbprint(&token.access_token)
                && other != jkt
            {
                return Err(Error::BadAnswer(format!(
                    "{server}: answered with a token bound to another DPoP key than ours; \
                     refusing it"
                )));
            }
            token.dpop_jkt = Some(jkt.to_string());
            Ok(token)
        }
    }
}

/// Record on a token just obtained the authentication it came with
/// (RFC 9470 §6 has the resource server judge it; this helper only needs
/// it to know whether a cached token answers a challenge again): the ID
/// token's `acr` and `auth_time`, else, for a login that asked for
/// `asked`, its acr values (the server used one of them) and the moment
/// of the login.
pub fn note_authentication(token: &mut Token, asked: Option<&StepUp>) {
    let (acr, auth_time) = token
        .id_token
        .as_ref()
        .map(crate::token::id_token_authentication)
        .unwrap_or_default();
    token.acr = acr.or_else(|| asked.and_then(StepUp::acr_values_param));
    token.auth_time = auth_time.or_else(|| asked.map(|_| token.obtained_at));
}

/// What a login adds to its authorization request (and, where they
/// apply, to a device authorization request): the authentication a
/// resource server's step-up challenge asked for (RFC 9470 §4:
/// `acr_values`, `max_age`), and the DPoP key the code is to be bound to
/// (RFC 9449 §10: `dpop_jkt`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoginExtras {
    /// OpenID Connect Core §3.1.2.1: the account asked for.
    pub login_hint: Option<String>,
    pub acr_values: Option<String>,
    pub max_age: Option<u64>,
    pub dpop_jkt: Option<String>,
}

impl LoginExtras {
    /// For the authorization request (RFC 6749 §4.1.1).
    pub fn authorization_params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if let Some(hint) = self.login_hint.as_ref().filter(|h| !h.is_empty()) {
            params.push(("login_hint", hint.clone()));
        }
        params.extend(self.device_params());
        if let Some(jkt) = &self.dpop_jkt {
            params.push(("dpop_jkt", jkt.clone()));
        }
        params
    }

    /// For the device authorization request (RFC 8628 §3.1), which takes
    /// the authentication asked for too; `dpop_jkt` belongs to the
    /// authorization request only, the device code being bound at the
    /// token endpoint by its proof.
    pub fn device_params(&self) -> Vec<(&'static str, String)> {
        let mut params = Vec::new();
        if let Some(acr) = &self.acr_values {
            params.push(("acr_values", acr.clone()));
        }
        if let Some(age) = self.max_age {
            params.push(("max_age", age.to_string()));
        }
        params
    }
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
            dpop: None,
            resource: None,
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
            dpop: None,
            resource: None,
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
            dpop: None,
            resource: None,
        }
    }
}
