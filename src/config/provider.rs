//! What a provider is: the types the config file, presets, git config and
//! discovery all produce, with no parsing of their own.

use crate::secret::Secret;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;
use url::Url;

pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:5210/";
pub const DEFAULT_USERNAME: &str = "oauth2";
/// How long an interactive login waits for the browser's redirect.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    AuthorizationCode,
    DeviceCode,
    ClientCredentials,
    /// RFC 8693.
    TokenExchange,
}

impl GrantKind {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::AuthorizationCode => "authorization_code",
            GrantKind::DeviceCode => "device_code",
            GrantKind::ClientCredentials => "client_credentials",
            GrantKind::TokenExchange => "token_exchange",
        }
    }
}

/// How a client proves itself at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    /// A signed JWT instead of a secret (RFC 7523 §2.2, OpenID Connect
    /// Core §9): signed here with `private_key_file`, or issued to this
    /// workload by its platform (`client_assertion_file`).
    PrivateKeyJwt,
    None,
}

/// Where the JWT a client authenticates with comes from (RFC 7523 §2.2).
/// Paths only: the key and the assertions are read when they are used, so
/// no secret is held here and a rotated file is picked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAssertion {
    /// `private_key_file` (PEM) and `key_id`: an assertion signed here.
    PrivateKey {
        file: PathBuf,
        key_id: Option<String>,
    },
    /// `client_assertion_file`: a JWT someone else issued to this workload
    /// (a Kubernetes projected service-account token, a cloud's workload
    /// identity file), re-read on every use because the platform rotates it.
    File(PathBuf),
    /// `client_assertion`: the CI platform's OIDC token for this job.
    Platform(CiPlatform),
}

/// `grant = "token_exchange"` (RFC 8693 §2.1): what is exchanged and for what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenExchange {
    pub subject: SubjectToken,
    /// `subject_token_type`; `urn:ietf:params:oauth:token-type:jwt` when
    /// not written.
    pub subject_token_type: String,
    pub audience: Option<String>,
    pub resource: Option<String>,
    pub requested_token_type: Option<String>,
}

/// Where the subject token comes from; read anew for every exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubjectToken {
    /// `subject_token_file`.
    File(PathBuf),
    /// `subject_token = "github-actions" | "gitlab-ci"`.
    Platform(CiPlatform),
}

/// A CI platform that issues each job an OIDC ID token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiPlatform {
    /// `"github-actions"`: asked of the runner's token service
    /// (`ACTIONS_ID_TOKEN_REQUEST_URL`), for `audience` when written
    /// (`client_assertion_audience`), else GitHub's default audience.
    GitHubActions { audience: Option<String> },
    /// `"gitlab-ci"`: the job's `id_tokens:` entry, a variable named by
    /// `client_assertion_variable`; its audience is set in the job.
    GitLabCi { variable: String },
}

/// Endpoints written in the config; each wins over discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExplicitEndpoints {
    pub authorization: Option<Url>,
    pub token: Option<Url>,
    pub device_authorization: Option<Url>,
    pub registration: Option<Url>,
    pub revocation: Option<Url>,
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub name: String,
    pub url: Url,
    /// The issuer exactly as written (it is part of the cache key).
    pub issuer: String,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub grant: GrantKind,
    pub scopes: Vec<String>,
    /// The `redirect_uri` written in the config, used exactly as written;
    /// see [`Provider::redirect_uri`] for the one used when none is.
    pub redirect_uri_written: Option<Url>,
    pub username: String,
    pub auth_method: Option<AuthMethod>,
    /// How the client proves itself with a JWT instead of a secret.
    pub assertion: Option<ClientAssertion>,
    /// For `grant = "token_exchange"`.
    pub exchange: Option<TokenExchange>,
    pub endpoints: ExplicitEndpoints,
    /// How long a browser login waits for the redirect (`login_timeout`,
    /// seconds; `CREDENTIAL_OAUTH_LOGIN_TIMEOUT` wins).
    pub login_timeout: Duration,
    /// `allow_insecure_http` and `ca_file`.
    pub transport: crate::http::Transport,
    /// `authtype = "bearer"`: answer git in the Bearer form even when the
    /// server's challenge does not offer it.
    pub bearer: bool,
    /// `discover = true`: the issuer may come from the server's challenge
    /// (RFC 9728); `issuer` is then empty when not written.
    pub discover: bool,
    /// The issuer came from RFC 9728 discovery (a server's challenge named
    /// it), not from configuration: this workload's own credentials never
    /// go to it (DESIGN.md "Trust"). What such a provider's tokens are
    /// bound to is the binding's `resource`.
    pub issuer_discovered: bool,
    /// RFC 8707: the resource every authorization, token and refresh
    /// request names, so the token is bound to it (the canonical URL of an
    /// MCP server). Part of the cache key too.
    pub resource_indicator: Option<String>,
    /// `client_metadata_url`: with no `client_id`, the client is known by
    /// this Client ID Metadata Document's URL where the authorization
    /// server takes one, instead of registering.
    pub client_metadata_url: Option<Url>,
    /// `kubernetes_token`: which credential `credential-oauth kubernetes`
    /// hands to kubectl; see [`Provider::kubernetes_token`] for the default.
    pub kubernetes_token: Option<crate::token::Credential>,
    /// `token_lifetime`: how long a token is used when the server gives no
    /// `expires_in`.
    pub token_lifetime: TokenLifetime,
    /// `dpop = true`: tokens bound to a key kept here (RFC 9449), handed
    /// only to callers that send a fresh proof with each request.
    pub dpop: bool,
}

/// How long a token whose answer had no `expires_in` is used (DESIGN.md
/// "Where tokens live": Lifetime). The server's `expires_in` always wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenLifetime {
    /// The rule: an hour when a refresh token makes renewal silent, else
    /// until the server rejects it (GitHub's OAuth apps, several forges).
    #[default]
    Auto,
    /// Until the server rejects it (`"until_rejected"`), refresh token or not.
    UntilRejected,
    /// This many seconds.
    Seconds(u64),
}

impl TokenLifetime {
    /// The value as written in the config: `"until_rejected"` or seconds.
    pub fn parse(value: &toml::Value) -> Result<TokenLifetime, String> {
        match value {
            toml::Value::String(s) if s == "until_rejected" => Ok(TokenLifetime::UntilRejected),
            toml::Value::String(s) if s == "auto" => Ok(TokenLifetime::Auto),
            toml::Value::Integer(n) if *n > 0 => Ok(TokenLifetime::Seconds(*n as u64)),
            _ => Err(
                "token_lifetime: must be \"until_rejected\", \"auto\" or a positive number of seconds"
                    .into(),
            ),
        }
    }

    /// Apply to a token just obtained or refreshed.
    pub fn apply(self, token: &mut crate::token::Token) {
        if token.expires_at.is_some() {
            return;
        }
        match self {
            TokenLifetime::Auto => {}
            TokenLifetime::UntilRejected => token.until_rejected = true,
            TokenLifetime::Seconds(n) => {
                token.expires_at = Some(token.obtained_at.saturating_add(n));
            }
        }
    }

    /// For `status`.
    pub fn describe(self) -> String {
        match self {
            TokenLifetime::Auto => {
                "the server's expires_in, else 1 h with a refresh token, else until rejected".into()
            }
            TokenLifetime::UntilRejected => {
                "the server's expires_in, else until the server rejects it".into()
            }
            TokenLifetime::Seconds(n) => format!("the server's expires_in, else {n} s"),
        }
    }
}

impl Provider {
    /// Where the login's redirect comes back to (RFC 8252 §7.3). A written
    /// `redirect_uri` exactly as written, since servers compare it exactly.
    /// A configured client id without one gets the fixed default its app
    /// was registered with (README). A client we register gets any free
    /// port and a path of its issuer's own: a response another
    /// authorization server steers to this listener finds nobody at its
    /// path (the mix-up defence of RFC 9700 §4.4.2).
    pub fn redirect_uri(&self) -> crate::error::Result<Url> {
        if let Some(written) = &self.redirect_uri_written {
            return Ok(written.clone());
        }
        // A constant (the unit tests parse it); the path is set without
        // parsing anything else.
        let mut uri = Url::parse(DEFAULT_REDIRECT_URI).map_err(|e| {
            crate::error::Error::Local(format!("the redirect URI {DEFAULT_REDIRECT_URI}: {e}"))
        })?;
        if self.client_id.is_none() {
            // `set_port` fails only for URLs that cannot have a port: not http.
            let _ = uri.set_port(Some(0));
            uri.set_path(&format!("/callback/{}", issuer_path_segment(&self.issuer)));
        }
        Ok(uri)
    }

    /// The credential kubectl gets: `kubernetes_token` when written, else
    /// the ID token when the provider asks for the `openid` scope (a
    /// cluster configured for OIDC validates an ID token, and the access
    /// token of most OpenID providers is not meant for it), else the
    /// access token.
    pub fn kubernetes_token(&self) -> crate::token::Credential {
        use crate::token::Credential;
        self.kubernetes_token
            .unwrap_or(if self.scopes.iter().any(|s| s == "openid") {
                Credential::IdToken
            } else {
                Credential::AccessToken
            })
    }

    /// The login timeout, with `CREDENTIAL_OAUTH_LOGIN_TIMEOUT` (seconds)
    /// taking precedence over the config.
    pub fn login_timeout(&self) -> Duration {
        crate::env::seconds_from("CREDENTIAL_OAUTH_LOGIN_TIMEOUT").unwrap_or(self.login_timeout)
    }
}

/// 16 hex digits of SHA-256 of the issuer: a redirect path per issuer.
fn issuer_path_segment(issuer: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(issuer.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
