//! From a `[[provider]]` entry (the config file's, git's config's, or one
//! discovery makes) to a [`Provider`]: the preset filled in, every value
//! checked, one line naming the key for each mistake.

use super::schema::RawProvider;
use super::workload::{client_assertion, token_exchange};
use super::{
    DEFAULT_LOGIN_TIMEOUT, DEFAULT_USERNAME, ExplicitEndpoints, GrantKind, Provider, TokenLifetime,
    field_error,
};
use crate::secret::Secret;
use std::time::Duration;
use url::Url;

impl Provider {
    /// A provider for an issuer that RFC 9728 discovery found for `origin`
    /// (`scheme://host[:port]`): a public client that registers itself,
    /// asking for `scopes` (DESIGN.md "Trust"); its tokens are bound to the
    /// resource the binding names.
    pub fn discovered(
        origin: &str,
        issuer: &str,
        scopes: Vec<String>,
    ) -> std::result::Result<Provider, String> {
        let mut table = toml::Table::new();
        table.insert("url".into(), toml::Value::String(format!("{origin}/")));
        table.insert("issuer".into(), toml::Value::String(issuer.to_string()));
        let mut provider = Provider::from_table(table)?;
        provider.issuer_discovered = true;
        provider.scopes = scopes;
        Ok(provider)
    }

    /// A provider for a resource server a person named (MCP) whose
    /// metadata names `issuer`: as [`Provider::discovered`], but its url is
    /// the server's URL itself, and its tokens are bound to that URL
    /// (RFC 8707).
    pub fn for_resource_server(
        url: &Url,
        issuer: &str,
        scopes: Vec<String>,
    ) -> std::result::Result<Provider, String> {
        let mut provider =
            Provider::discovered(&url.origin().ascii_serialization(), issuer, scopes)?;
        let mut canonical = url.clone();
        let _ = canonical.set_username("");
        let _ = canonical.set_password(None);
        canonical.set_fragment(None);
        let host = url.host_str().unwrap_or_default();
        provider.name = match url.port() {
            Some(port) => format!("{host}:{port}{}", url.path()),
            None => format!("{host}{}", url.path()),
        };
        provider.resource_indicator = Some(canonical.to_string());
        provider.url = canonical;
        Ok(provider)
    }

    /// A provider from a table with the config file's keys (used for
    /// providers written in git's config, see src/gitconfig.rs).
    pub fn from_table(table: toml::Table) -> std::result::Result<Provider, String> {
        let raw: RawProvider = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| field_error(&e))?;
        Provider::from_raw(raw)
    }

    pub(super) fn from_raw(mut raw: RawProvider) -> std::result::Result<Provider, String> {
        let url = parse_url("url", &raw.url)?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(format!("url: {:?} is not an http(s) URL", raw.url));
        }
        if let Some(name) = raw.preset.take() {
            let preset = crate::config::preset::for_entry(&name, &url, raw.issuer.as_deref())?;
            preset.check_client(&name, raw.client_id.is_some(), raw.client_secret.is_some())?;
            apply_preset(&mut raw, &preset);
        }
        let bearer = match raw.authtype.as_deref() {
            None | Some("auto") => false,
            Some(s) if s.eq_ignore_ascii_case("bearer") => true,
            Some(s) => return Err(format!("authtype: {s:?} is not one of auto, bearer")),
        };
        let discover = raw.discover.unwrap_or(false);
        if discover && raw.issuer.is_none() {
            refuse_workload_credentials(&raw)?;
        }
        let issuer = match raw.issuer.take() {
            Some(issuer) => {
                parse_url("issuer", &issuer)?;
                issuer
            }
            // A configured client belongs to its configured issuer: an
            // issuer named by a git server's metadata must never see its id
            // or secret (DESIGN.md "Trust").
            None if discover && (raw.client_id.is_some() || raw.client_secret.is_some()) => {
                return Err(
                    "discover = true without issuer registers a public client at the issuer the \
                     server names, so it cannot be combined with client_id or client_secret; \
                     set issuer for a configured client"
                        .into(),
                );
            }
            None if discover => String::new(),
            None => {
                return Err(
                    "missing field `issuer` (or a preset that sets it, or discover = true)".into(),
                );
            }
        };
        let scopes = raw.scopes.take().unwrap_or_default();
        let endpoint =
            |field: &str, v: &Option<String>| -> std::result::Result<Option<Url>, String> {
                v.as_deref().map(|s| parse_url(field, s)).transpose()
            };
        let redirect_uri = raw
            .redirect_uri
            .as_deref()
            .map(|s| parse_url("redirect_uri", s))
            .transpose()?;
        if let Some(uri) = &redirect_uri
            && (uri.scheme() != "http" || !crate::http::is_loopback(uri))
        {
            return Err(format!(
                "redirect_uri: {:?} must be an http:// loopback address (RFC 8252 §7.3)",
                uri.as_str()
            ));
        }
        // git would send the token in clear to such a server.
        if url.scheme() == "http" && !crate::http::is_loopback(&url) && !raw.allow_insecure_http {
            return Err(format!(
                "url: {:?} is plain http to a host that is not loopback, so the token would \
                 cross the network in clear; use https, or set allow_insecure_http = true",
                raw.url
            ));
        }
        if let Some(s) = &raw.client_id
            && s.is_empty()
        {
            return Err("client_id: must not be empty (omit it to register dynamically)".into());
        }
        let assertion = client_assertion(&mut raw)?;
        let grant = raw.grant.unwrap_or(GrantKind::AuthorizationCode);
        let exchange = token_exchange(&mut raw, grant)?;
        if grant == GrantKind::ClientCredentials
            && (raw.client_id.is_none() || (raw.client_secret.is_none() && assertion.is_none()))
        {
            return Err(
                "grant = \"client_credentials\" needs client_id and client_secret (or private_key_file, or client_assertion_file)"
                    .into(),
            );
        }
        if scopes.iter().any(|s| s.is_empty() || s.contains(' ')) {
            return Err("scopes: each scope must be one non-empty word".into());
        }
        if let Some(ca) = &raw.ca_file
            && !ca.is_absolute()
        {
            return Err(format!(
                "ca_file: {:?} must be an absolute path",
                ca.display()
            ));
        }
        let login_timeout = match raw.login_timeout {
            None => DEFAULT_LOGIN_TIMEOUT,
            Some(0) => return Err("login_timeout: must be at least 1 second".into()),
            Some(secs) => Duration::from_secs(secs.min(24 * 3600)),
        };
        Ok(Provider {
            name: raw
                .name
                .unwrap_or_else(|| url.host_str().unwrap_or_default().to_string()),
            issuer,
            client_id: raw.client_id,
            client_secret: raw.client_secret.map(Secret::new),
            grant,
            scopes,
            redirect_uri_written: redirect_uri,
            username: raw.username.unwrap_or_else(|| DEFAULT_USERNAME.to_string()),
            auth_method: raw.token_endpoint_auth_method,
            assertion,
            exchange,
            endpoints: ExplicitEndpoints {
                authorization: endpoint("authorization_endpoint", &raw.authorization_endpoint)?,
                token: endpoint("token_endpoint", &raw.token_endpoint)?,
                device_authorization: endpoint(
                    "device_authorization_endpoint",
                    &raw.device_authorization_endpoint,
                )?,
                registration: endpoint("registration_endpoint", &raw.registration_endpoint)?,
                revocation: endpoint("revocation_endpoint", &raw.revocation_endpoint)?,
            },
            login_timeout,
            transport: crate::http::Transport {
                allow_insecure_http: raw.allow_insecure_http,
                ca_file: raw.ca_file,
            },
            bearer,
            discover,
            issuer_discovered: false,
            resource_indicator: None,
            client_metadata_url: raw
                .client_metadata_url
                .as_deref()
                .map(client_metadata_url)
                .transpose()?,
            kubernetes_token: raw.kubernetes_token,
            token_lifetime: raw
                .token_lifetime
                .as_ref()
                .map(TokenLifetime::parse)
                .transpose()?
                .unwrap_or_default(),
            dpop: raw.dpop,
            url,
        })
    }
}

/// A provider whose issuer the git server's metadata names (`discover =
/// true` without `issuer`) must hold none of this workload's own
/// credentials: a subject token, a client assertion or the key that signs
/// one would go to whatever authorization server that names, which could
/// replay it at the platform's real one (a cloud STS). DESIGN.md "Trust".
/// A `discover_hosts` host needs no check here: a configured provider for
/// it keeps its issuer (the resolver's discovery source), and
/// one made by discovery holds no credential.
fn refuse_workload_credentials(raw: &RawProvider) -> std::result::Result<(), String> {
    let written = [
        ("subject_token_file", raw.subject_token_file.is_some()),
        ("subject_token", raw.subject_token.is_some()),
        ("client_assertion_file", raw.client_assertion_file.is_some()),
        ("client_assertion", raw.client_assertion.is_some()),
        ("private_key_file", raw.private_key_file.is_some()),
    ];
    match written.iter().find(|(_, set)| *set) {
        Some((key, _)) => Err(format!(
            "discover = true without issuer cannot be combined with {key}: the workload's \
             credential would go to whatever authorization server the git server names; \
             set issuer"
        )),
        None => Ok(()),
    }
}

/// Fill in what the entry leaves out from the preset; the entry's own keys win.
fn apply_preset(raw: &mut RawProvider, preset: &crate::config::preset::Preset) {
    let fill = |slot: &mut Option<String>, value: Option<&Url>| {
        if slot.is_none() {
            *slot = value.map(|u| u.to_string());
        }
    };
    raw.issuer.get_or_insert_with(|| preset.issuer.clone());
    raw.grant.get_or_insert(preset.grant);
    raw.scopes.get_or_insert_with(|| preset.scopes.clone());
    raw.username.get_or_insert_with(|| preset.username.clone());
    fill(
        &mut raw.authorization_endpoint,
        Some(&preset.authorization_endpoint),
    );
    fill(&mut raw.token_endpoint, Some(&preset.token_endpoint));
    fill(
        &mut raw.device_authorization_endpoint,
        preset.device_authorization_endpoint.as_ref(),
    );
    fill(
        &mut raw.revocation_endpoint,
        preset.revocation_endpoint.as_ref(),
    );
}

/// A Client ID Metadata Document's URL is the client id: https with a
/// path, no fragment (loopback http for tests and demos).
pub(super) fn client_metadata_url(s: &str) -> std::result::Result<Url, String> {
    let url = parse_url("client_metadata_url", s)?;
    let https = url.scheme() == "https" || crate::http::is_loopback(&url);
    if !https || url.path() == "/" || url.fragment().is_some() {
        return Err(format!(
            "client_metadata_url: {s:?} must be an https URL with a path and no fragment"
        ));
    }
    Ok(url)
}

fn parse_url(field: &str, s: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("{field}: {s:?} is not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{field}: must not hold a user name or password"));
    }
    Ok(url)
}
