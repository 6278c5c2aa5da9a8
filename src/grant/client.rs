//! The client a provider's requests are made as, in one place for every
//! grant and for revocation: the configured one, else the registration
//! kept for the provider's issuer and redirect, else a new registration
//! (RFC 7591).

use super::Client;
use super::registration::{self, Registration};
use crate::config::{GrantKind, Provider};
use crate::discovery::authorization_server::Metadata;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::store::Store;

/// The configured client, else the registration stored for the provider;
/// `None` when neither exists. Revocation uses only this: a new client
/// could not revoke the old one's grant.
pub fn known(provider: &Provider, meta: &Metadata, store: &dyn Store) -> Result<Option<Client>> {
    if provider.assertion.is_some() {
        super::refuse_at_discovered_issuer(provider, "a client assertion")?;
    }
    if let Some(id) = &provider.client_id {
        // Config refuses this; the check stays where the secret would leave.
        if provider.issuer_discovered {
            return Err(Error::Login(format!(
                "{}: a configured client is never used at an issuer found by discovery",
                provider.name
            )));
        }
        let assertion = match &provider.assertion {
            Some(source) => Some(super::assertion::Assertion {
                source: source.clone(),
                audience: meta.token_endpoint()?.clone(),
            }),
            None => None,
        };
        return Ok(Some(Client {
            id: id.clone(),
            secret: provider.client_secret.clone(),
            method: meta.auth_method(provider.auth_method),
            assertion,
            dpop: None,
            resource: provider.resource_indicator.clone(),
        }));
    }
    if let Some(url) = provider
        .client_metadata_url
        .as_ref()
        .filter(|_| meta.client_id_metadata_document_supported)
    {
        // The document's URL is the client id; it has no secret.
        return Ok(Some(Client {
            id: url.to_string(),
            secret: None,
            method: crate::config::AuthMethod::None,
            assertion: None,
            resource: provider.resource_indicator.clone(),
            dpop: None,
        }));
    }
    let key = registration::key(&provider.issuer, &provider.redirect_uri()?);
    match store.load(&key)? {
        Some(text) => match serde_json::from_str::<Registration>(text.expose()) {
            Ok(r) => Ok(Some(Client {
                resource: provider.resource_indicator.clone(),
                ..r.client()
            })),
            Err(_) => {
                crate::debug!(
                    "registration entry {} is corrupt; ignoring it",
                    key.as_str()
                );
                Ok(None)
            }
        },
        None => Ok(None),
    }
}

/// [`known`], else register a public native client now and keep the
/// registration next to the tokens.
pub fn known_or_registered(
    provider: &Provider,
    meta: &Metadata,
    store: &dyn Store,
    http: &Http,
) -> Result<Client> {
    if let Some(client) = known(provider, meta, store)? {
        return Ok(client);
    }
    let redirect_uri = provider.redirect_uri()?;
    let endpoint = meta.registration_endpoint.as_ref().ok_or_else(|| {
        Error::Login(format!(
            "{}: no client_id is configured and the server offers no registration endpoint; set client_id",
            provider.name
        ))
    })?;
    let mut grant_types = vec!["authorization_code", "refresh_token"];
    if provider.grant == GrantKind::DeviceCode
        || (provider.grant == GrantKind::AuthorizationCode
            && meta.device_authorization_endpoint.is_some())
    {
        grant_types.push(super::device_code::GRANT_TYPE);
    }
    let registration = registration::register(http, endpoint, &redirect_uri, &grant_types)?;
    let text = serde_json::to_string(&registration)
        .map(crate::secret::Secret::new)
        .map_err(|e| Error::Local(format!("cannot encode registration: {e}")))?;
    store.save(&registration::key(&provider.issuer, &redirect_uri), &text)?;
    crate::debug!("{}: registered as a new client", provider.name);
    Ok(Client {
        resource: provider.resource_indicator.clone(),
        ..registration.client()
    })
}

/// Drop a registration the server no longer knows (`invalid_client`), so
/// the next run registers again. A configured client is left alone.
pub fn forget_registration(provider: &Provider, store: &dyn Store) -> Result<()> {
    if provider.client_id.is_none() {
        store.delete(&registration::key(
            &provider.issuer,
            &provider.redirect_uri()?,
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AuthMethod, ClientAssertion};
    use crate::grant::examples::{metadata, provider};
    use crate::http::scripted;
    use crate::store::memory::MemoryStore;

    #[test]
    fn a_provider_found_by_discovery_makes_no_client_assertion_and_sends_nothing() {
        let (http, sent) = scripted::http(&[(200, crate::grant::examples::TOKEN)]);
        for client_id in [Some("app"), None] {
            let mut p = provider();
            p.client_id = client_id.map(str::to_string);
            p.auth_method = Some(AuthMethod::PrivateKeyJwt);
            p.assertion = Some(ClientAssertion::File("/var/run/oidc".into()));
            p.issuer_discovered = true;
            let e = known_or_registered(&p, &metadata(), &MemoryStore::default(), &http)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("client assertion") && e.contains("discovery"),
                "{client_id:?}: {e}"
            );
        }
        assert!(sent.all().is_empty(), "{:?}", sent.all());
    }
}
