//! Providers found by RFC 9728 discovery that hold tokens, so `status` can
//! list them and `logout URL` can reach them: nothing in any config names
//! them. Also configured providers whose tokens are bound to a resource
//! server a person named (MCP): their cache keys hold that server's URL,
//! which no config says. One store entry, a JSON array; it holds no
//! secret, and losing it only hides those tokens from `status` and
//! `logout`.

use crate::config::{Config, Provider};
use crate::error::Result;
use crate::secret::Secret;
use crate::store::{CacheKey, Store};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Most providers kept: a git server cannot grow the index without bound.
const MAX_ENTRIES: usize = 256;

/// What makes a discovered provider again: the rest follows from these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// `scheme://host[:port]/` of the git server.
    pub url: String,
    pub issuer: String,
    pub resource: String,
    pub scopes: Vec<String>,
    /// For a resource server a person named (MCP): the RFC 8707 resource
    /// its tokens are bound to; `url` is then that server's URL itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_indicator: Option<String>,
    /// The provider is the config's one for `url` (then the resource
    /// server's URL), its tokens bound to `resource_indicator`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub configured: bool,
}

impl Entry {
    /// The entry for `provider`'s tokens: bound to `resource` (found by
    /// discovery), or a configured provider bound to a resource server;
    /// none for any other.
    fn of(provider: &Provider, resource: Option<&str>) -> Option<Entry> {
        let (url, resource, configured) = match (resource, &provider.resource_indicator) {
            (Some(resource), _) => (provider.url.to_string(), resource.to_string(), false),
            (None, Some(indicator)) => (indicator.clone(), String::new(), true),
            (None, None) => return None,
        };
        Some(Entry {
            url,
            issuer: provider.issuer.clone(),
            resource,
            scopes: provider.scopes.clone(),
            resource_indicator: provider.resource_indicator.clone(),
            configured,
        })
    }

    /// The provider this entry was made from (its tokens are bound to
    /// [`Entry::resource`]); none for a configured one (see
    /// [`Entry::provider_in`]).
    pub fn provider(&self) -> Option<Provider> {
        if self.configured {
            return None;
        }
        let Some(indicator) = &self.resource_indicator else {
            let origin = self.url.trim_end_matches('/');
            return Provider::discovered(origin, &self.issuer, self.scopes.clone()).ok();
        };
        let url = url::Url::parse(&self.url).ok()?;
        Provider::for_resource_server(&url, &self.issuer, self.scopes.clone())
            .ok()
            .filter(|p| p.resource_indicator.as_ref() == Some(indicator))
    }

    /// [`Entry::provider`], or for a configured entry the config's
    /// provider bound as recorded (none when the config no longer has it
    /// with that issuer).
    pub fn provider_in(&self, config: &Config) -> Option<Provider> {
        if !self.configured {
            return self.provider();
        }
        let url = url::Url::parse(&self.url).ok()?;
        let mut provider = Arc::unwrap_or_clone(
            config
                .provider_for(&url)
                .filter(|p| p.issuer == self.issuer)?
                .clone(),
        );
        provider
            .resource_indicator
            .clone_from(&self.resource_indicator);
        provider.scopes.clone_from(&self.scopes);
        Some(provider)
    }
}

fn index_key() -> CacheKey {
    CacheKey::hashed("discovered providers")
}

/// The discovered providers recorded, oldest first. A corrupt index reads as empty.
pub fn list(store: &dyn Store) -> Result<Vec<Entry>> {
    Ok(store
        .load(&index_key())?
        .and_then(|text| serde_json::from_str::<Vec<Entry>>(text.expose()).ok())
        .unwrap_or_default())
}

/// The discovered providers recorded for `url` (matched as configured
/// providers are), best match first, each with the resource its tokens
/// are bound to.
pub fn providers_for(store: &dyn Store, url: &url::Url) -> Result<Vec<(Arc<Provider>, String)>> {
    let (mut providers, mut resources): (Vec<Arc<Provider>>, Vec<String>) = list(store)?
        .into_iter()
        .filter_map(|e| Some((Arc::new(e.provider()?), e.resource)))
        .unzip();
    let mut config = Config::empty();
    let mut found = Vec::new();
    loop {
        config.providers = providers;
        let best = config
            .provider_for(url)
            .and_then(|p| config.providers.iter().position(|q| std::ptr::eq(p, q)));
        providers = std::mem::take(&mut config.providers);
        let Some(i) = best else {
            return Ok(found);
        };
        found.push((providers.remove(i), resources.remove(i)));
    }
}

/// The configured providers bound to the resource server at `url` (MCP),
/// as recorded when they were used: the config's provider with the
/// resource and the scopes its tokens were obtained for.
pub fn bound_to(store: &dyn Store, config: &Config, url: &url::Url) -> Result<Vec<Arc<Provider>>> {
    Ok(list(store)?
        .iter()
        .filter(|e| e.configured && e.resource_indicator.as_deref() == Some(url.as_str()))
        .filter_map(|e| e.provider_in(config))
        .map(Arc::new)
        .collect())
}

/// Record a provider found by discovery (`resource`: what its tokens are
/// bound to; others are not recorded). Only writes when the entry is new.
pub fn remember(store: &dyn Store, provider: &Provider, resource: Option<&str>) -> Result<()> {
    let Some(entry) = Entry::of(provider, resource) else {
        return Ok(());
    };
    let mut entries = list(store)?;
    if entries.contains(&entry) {
        return Ok(());
    }
    entries.push(entry);
    if entries.len() > MAX_ENTRIES {
        entries.remove(0);
    }
    save(store, &entries)
}

/// Drop the record of `provider`, after its token went at logout.
pub fn forget(store: &dyn Store, provider: &Provider, resource: Option<&str>) -> Result<()> {
    let Some(entry) = Entry::of(provider, resource) else {
        return Ok(());
    };
    let mut entries = list(store)?;
    let before = entries.len();
    entries.retain(|e| *e != entry);
    if entries.len() == before {
        return Ok(());
    }
    save(store, &entries)
}

fn save(store: &dyn Store, entries: &[Entry]) -> Result<()> {
    let text = serde_json::to_string(entries).unwrap_or_else(|_| "[]".into());
    // No secret here; the store takes every value as one.
    store.save(&index_key(), &Secret::new(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    fn provider(origin: &str, scopes: &[&str]) -> (Provider, String) {
        let p = Provider::discovered(
            origin,
            "https://as.example",
            scopes.iter().map(|s| s.to_string()).collect(),
        )
        .unwrap();
        (p, format!("{origin}/"))
    }

    #[test]
    fn remembered_providers_are_found_by_url_and_forgotten() {
        let store = MemoryStore::default();
        let (a, a_resource) = provider("https://git.example", &["read"]);
        let (b, b_resource) = provider("https://other.example", &[]);
        remember(&store, &a, Some(&a_resource)).unwrap();
        remember(&store, &a, Some(&a_resource)).unwrap();
        remember(&store, &b, Some(&b_resource)).unwrap();
        assert_eq!(list(&store).unwrap().len(), 2);
        let url = url::Url::parse("https://git.example/org/repo.git").unwrap();
        let found = providers_for(&store, &url).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "https://git.example/");
        assert_eq!(found[0].0.scopes, ["read"]);
        forget(&store, &a, Some(&a_resource)).unwrap();
        assert!(providers_for(&store, &url).unwrap().is_empty());
        // A configured provider (no resource) is never recorded.
        remember(&store, &a, None).unwrap();
        assert_eq!(list(&store).unwrap().len(), 1);
    }

    #[test]
    fn a_resource_server_named_by_a_person_comes_back_for_its_url_alone() {
        let store = MemoryStore::default();
        let url = url::Url::parse("https://mcp.example/a/mcp").unwrap();
        let p = Provider::for_resource_server(&url, "https://as.example", vec!["tools".into()])
            .unwrap();
        remember(&store, &p, Some("https://mcp.example/a/mcp")).unwrap();
        let found = providers_for(&store, &url).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.url, url);
        assert_eq!(found[0].0.resource_indicator.as_deref(), Some(url.as_str()));
        assert_eq!(found[0].0.scopes, ["tools"]);
        assert_eq!(found[0].1, "https://mcp.example/a/mcp");
        let elsewhere = url::Url::parse("https://mcp.example/b/mcp").unwrap();
        assert!(providers_for(&store, &elsewhere).unwrap().is_empty());
    }

    #[test]
    fn a_configured_provider_bound_to_a_server_comes_back_from_the_config() {
        let store = MemoryStore::default();
        let config = Config::parse(
            "[[provider]]\nname = \"agent\"\nurl = \"https://mcp.example/\"\nissuer = \"https://as.example\"\n",
            std::path::Path::new("/c.toml"),
        )
        .unwrap();
        let url = url::Url::parse("https://mcp.example/a/mcp").unwrap();
        let mut p = Provider::clone(&config.providers[0]);
        p.resource_indicator = Some(url.to_string());
        remember(&store, &p, None).unwrap();
        assert!(
            providers_for(&store, &url).unwrap().is_empty(),
            "not a discovery"
        );
        let bound = bound_to(&store, &config, &url).unwrap();
        assert_eq!(bound.len(), 1);
        assert_eq!(bound[0].name, "agent");
        assert_eq!(bound[0].resource_indicator.as_deref(), Some(url.as_str()));
        forget(&store, &p, None).unwrap();
        assert!(bound_to(&store, &config, &url).unwrap().is_empty());
    }
}
