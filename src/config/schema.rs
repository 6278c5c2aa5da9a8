//! The config file as written: the serde shape of the file and of each
//! `[[provider]]` entry, before any check. Unknown keys are refused.

use super::{AuthMethod, GrantKind};
use serde::Deserialize;
use std::path::PathBuf;

/// The file as written, with each `[[provider]]` as a `P`: a [`RawProvider`]
/// when the whole file is read in one pass, a [`toml::Value`] when a file
/// with a mistake in it is read again so the error can name the entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig<P> {
    pub(super) storage: Option<String>,
    #[serde(default)]
    pub(super) discover_hosts: Vec<String>,
    pub(super) client_metadata_url: Option<String>,
    // Not `default`, which would ask `P: Default`.
    #[serde(default = "Vec::new")]
    pub(super) provider: Vec<P>,
}

/// A `[[provider]]` entry as [`RawConfig`] holds it.
pub(super) trait ProviderEntry {
    /// The entry's fields; an error comes with the `name` written, for its label.
    fn into_raw(self) -> std::result::Result<RawProvider, (Option<String>, toml::de::Error)>;
}

impl ProviderEntry for RawProvider {
    fn into_raw(self) -> std::result::Result<RawProvider, (Option<String>, toml::de::Error)> {
        Ok(self)
    }
}

impl ProviderEntry for toml::Value {
    fn into_raw(self) -> std::result::Result<RawProvider, (Option<String>, toml::de::Error)> {
        let name = self.get("name").and_then(|n| n.as_str()).map(str::to_owned);
        self.try_into().map_err(|e| (name, e))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawProvider {
    pub(super) name: Option<String>,
    pub(super) url: String,
    pub(super) issuer: Option<String>,
    pub(super) preset: Option<String>,
    pub(super) authtype: Option<String>,
    pub(super) discover: Option<bool>,
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<String>,
    pub(super) grant: Option<GrantKind>,
    pub(super) scopes: Option<Vec<String>>,
    pub(super) redirect_uri: Option<String>,
    pub(super) username: Option<String>,
    pub(super) token_endpoint_auth_method: Option<AuthMethod>,
    pub(super) private_key_file: Option<PathBuf>,
    pub(super) key_id: Option<String>,
    pub(super) client_assertion_file: Option<PathBuf>,
    pub(super) client_assertion: Option<String>,
    pub(super) client_assertion_audience: Option<String>,
    pub(super) client_assertion_variable: Option<String>,
    pub(super) subject_token_file: Option<PathBuf>,
    pub(super) subject_token: Option<String>,
    pub(super) subject_token_audience: Option<String>,
    pub(super) subject_token_variable: Option<String>,
    pub(super) subject_token_type: Option<String>,
    pub(super) audience: Option<String>,
    pub(super) resource: Option<String>,
    pub(super) requested_token_type: Option<String>,
    pub(super) authorization_endpoint: Option<String>,
    pub(super) token_endpoint: Option<String>,
    pub(super) device_authorization_endpoint: Option<String>,
    pub(super) registration_endpoint: Option<String>,
    pub(super) revocation_endpoint: Option<String>,
    pub(super) login_timeout: Option<u64>,
    #[serde(default)]
    pub(super) allow_insecure_http: bool,
    pub(super) ca_file: Option<PathBuf>,
    pub(super) kubernetes_token: Option<crate::token::Credential>,
    pub(super) token_lifetime: Option<toml::Value>,
    #[serde(default)]
    pub(super) dpop: bool,
    pub(super) client_metadata_url: Option<String>,
}
