//! Providers found by RFC 9728 discovery that hold tokens, so `status` can
//! list them and `logout URL` can reach them: nothing in any config names
//! them. One store entry, a JSON array; it holds no secret, and losing it
//! only hides those tokens from `status` and `logout`.

use crate::config::{Config, Provider};
use crate::error::Result;
use crate::secret::Secret;
use crate::store::{CacheKey, Store};
use serde::{Deserialize, Serialize};

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
    fn of(provider: &Provider) -> Option<Entry> {
        Some(Entry {
            url: provider.url.to_string(),
            issuer: provider.issuer.clone(),
            resource: provider.resource.clone()?,
            scopes: provider.scopes.clone(),
        })
    }

    /// The provider this entry was made from.
    pub fn provider(&self) -> Option<Provider> {
        let origin = self.url.trim_end_matches('/');
        Provider::discovered(origin, &self.issuer, &self.resource, self.scopes.clone()).ok()
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
/// providers are), best match first.
pub fn providers_for(store: &dyn Store, url: &url::Url) -> Result<Vec<Provider>> {
    let mut config = Config::empty();
    config.providers = list(store)?.iter().filter_map(Entry::provider).collect();
    let mut found = Vec::new();
    while let Some(p) = config.provider_for(url).cloned() {
        config.providers.retain(|q| Entry::of(q) != Entry::of(&p));
        found.push(p);
    }
    Ok(found)
}

/// Record a provider found by discovery (others are not recorded). Only
/// writes when the entry is new.
pub fn remember(store: &dyn Store, provider: &Provider) -> Result<()> {
    let Some(entry) = Entry::of(provider) else {
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
pub fn forget(store: &dyn Store, provider: &Provider) -> Result<()> {
    let Some(entry) = Entry::of(provider) else {
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

    fn provider(origin: &str, scopes: &[&str]) -> Provider {
        Provider::discovered(
            origin,
            "https://as.example",
            &format!("{origin}/"),
            scopes.iter().map(|s| s.to_string()).collect(),
        )
        .unwrap()
    }

    #[test]
    fn remembered_providers_are_found_by_url_and_forgotten() {
        let store = MemoryStore::default();
        let a = provider("https://git.example", &["read"]);
        let b = provider("https://other.example", &[]);
        remember(&store, &a).unwrap();
        remember(&store, &a).unwrap();
        remember(&store, &b).unwrap();
        assert_eq!(list(&store).unwrap().len(), 2);
        let url = url::Url::parse("https://git.example/org/repo.git").unwrap();
        let found = providers_for(&store, &url).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].resource.as_deref(), Some("https://git.example/"));
        assert_eq!(found[0].scopes, ["read"]);
        forget(&store, &a).unwrap();
        assert!(providers_for(&store, &url).unwrap().is_empty());
        // A configured provider is never recorded.
        let mut configured = a.clone();
        configured.resource = None;
        remember(&store, &configured).unwrap();
        assert_eq!(list(&store).unwrap().len(), 1);
    }
}
