//! Providers found by RFC 9728 discovery that hold tokens, so `status` can
//! list them and `logout URL` can reach them: nothing in any config names
//! them. One store entry, a JSON array; it holds no secret, and losing it
//! only hides those tokens from `status` and `logout`.

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
}

impl Entry {
    fn of(provider: &Provider, resource: &str) -> Entry {
        Entry {
            url: provider.url.to_string(),
            issuer: provider.issuer.clone(),
            resource: resource.to_string(),
            scopes: provider.scopes.clone(),
        }
    }

    /// The provider this entry was made from (its tokens are bound to
    /// [`Entry::resource`]).
    pub fn provider(&self) -> Option<Provider> {
        let origin = self.url.trim_end_matches('/');
        Provider::discovered(origin, &self.issuer, self.scopes.clone()).ok()
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

/// Record a provider found by discovery (`resource`: what its tokens are
/// bound to; others are not recorded). Only writes when the entry is new.
pub fn remember(store: &dyn Store, provider: &Provider, resource: Option<&str>) -> Result<()> {
    let Some(resource) = resource else {
        return Ok(());
    };
    let entry = Entry::of(provider, resource);
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
    let Some(resource) = resource else {
        return Ok(());
    };
    let entry = Entry::of(provider, resource);
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
}
