//! Which accounts (usernames named in git requests, `https://alice@host/`)
//! hold tokens for a provider, so `status` can list them. The index is one
//! store entry per issuer and client, a JSON array of names: it holds no
//! secret, and losing it only hides accounts from `status`.

use crate::config::Provider;
use crate::error::Result;
use crate::secret::Secret;
use crate::store::{CacheKey, Store};

fn index_key(provider: &Provider) -> CacheKey {
    CacheKey::hashed(&format!(
        "accounts\n{}\n{}",
        provider.issuer,
        provider.client_id.as_deref().unwrap_or("")
    ))
}

/// The accounts recorded for `provider`, sorted. A corrupt index reads as empty.
pub fn list(store: &dyn Store, provider: &Provider) -> Result<Vec<String>> {
    Ok(store
        .load(&index_key(provider))?
        .and_then(|text| serde_json::from_str::<Vec<String>>(text.expose()).ok())
        .unwrap_or_default())
}

/// Record `account` (the default account, `""`, is not recorded). Only
/// writes when the name is new, so the warm path reads one small entry.
pub fn remember(store: &dyn Store, provider: &Provider, account: &str) -> Result<()> {
    if account.is_empty() {
        return Ok(());
    }
    let mut names = list(store, provider)?;
    if names.iter().any(|n| n == account) {
        return Ok(());
    }
    names.push(account.to_string());
    names.sort();
    let text = serde_json::to_string(&names).unwrap_or_else(|_| "[]".into());
    // No secret here; the store takes every value as one.
    store.save(&index_key(provider), &Secret::new(text))
}
