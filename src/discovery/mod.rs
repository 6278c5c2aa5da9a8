//! Where the endpoints are: RFC 8414 / OpenID Connect authorization-server
//! metadata ([`authorization_server`]) and, from a git server's challenge,
//! RFC 9728 protected-resource metadata ([`protected_resource`]). Both are
//! public and change rarely, so one [`Cache`] keeps each document for a
//! day: a warm `get`, challenge or not, touches no network.

pub mod authorization_server;
pub mod protected_resource;
pub mod resource_server;

use crate::config::Provider;
use crate::error::Result;
use crate::http::Http;
use crate::store::file::FileStore;
use crate::store::{CacheKey, Store};
use authorization_server::Metadata;
use serde::{Deserialize, Serialize};

/// How long a discovered document is reused before it is fetched again.
pub const CACHE_TTL: u64 = 24 * 3600;

/// Discovered documents, kept in the cache directory's `metadata/`. A cache
/// that cannot be read or written only costs a fetch.
pub struct Cache {
    /// Found on first use: a warm `get` never looks for it.
    files: std::cell::OnceCell<Option<FileStore>>,
}

/// One cached document, with what it was fetched for and when.
#[derive(Serialize, Deserialize)]
struct Entry<T> {
    fetched_at: u64,
    id: String,
    document: T,
}

impl Cache {
    /// The cache in its usual place.
    pub fn open() -> Cache {
        Cache {
            files: std::cell::OnceCell::new(),
        }
    }

    /// No cache: every document is fetched (`doctor`, which checks that
    /// the server answers now).
    pub fn bypassed() -> Cache {
        Cache {
            files: std::cell::OnceCell::from(None),
        }
    }

    fn files(&self) -> Option<&FileStore> {
        self.files
            .get_or_init(|| crate::store::cache_dir().map(|d| FileStore::new(d.join("metadata"))))
            .as_ref()
    }

    /// The `kind` document for `id`, unless it is older than [`CACHE_TTL`],
    /// from the future, corrupt, or for another id.
    pub fn get<T: for<'de> Deserialize<'de>>(&self, kind: &str, id: &str, now: u64) -> Option<T> {
        self.get_within(kind, id, now, CACHE_TTL)
    }

    /// [`Cache::get`] for a document kept `ttl` seconds instead of a day.
    pub fn get_within<T: for<'de> Deserialize<'de>>(
        &self,
        kind: &str,
        id: &str,
        now: u64,
        ttl: u64,
    ) -> Option<T> {
        let text = self.files()?.load(&key(kind, id)).ok()??;
        let entry: Entry<T> = serde_json::from_str(text.expose()).ok()?;
        let fresh = entry.fetched_at <= now && now - entry.fetched_at < ttl;
        (fresh && entry.id == id).then_some(entry.document)
    }

    pub fn put<T: Serialize>(&self, kind: &str, id: &str, document: &T, now: u64) {
        let Some(files) = self.files() else {
            return;
        };
        let entry = Entry {
            fetched_at: now,
            id: id.to_string(),
            document,
        };
        let written = serde_json::to_string(&entry)
            .map_err(|e| crate::error::Error::Local(e.to_string()))
            // Public documents; the store takes every value as a secret.
            .and_then(|text| files.save(&key(kind, id), &crate::secret::Secret::new(text)));
        if let Err(e) = written {
            crate::debug!("metadata cache not written: {e}");
        }
    }
}

fn key(kind: &str, id: &str) -> CacheKey {
    CacheKey::hashed(&format!("{kind}\n{id}"))
}

/// The metadata's kind in the cache. Named anew whenever [`Metadata`]
/// reads a field it did not read before: a document cached by an earlier
/// version lacks it, and reading that as "the server does not say" (DPoP,
/// for one) would be wrong for up to a day.
const METADATA: &str = "metadata.2";

/// The endpoints `provider`'s grant talks to, resolved once: the config's
/// when they cover the grant, else the issuer's metadata from the cache,
/// else discovered (RFC 8414, inserted then appended, then OpenID Connect,
/// then the conventional paths) and cached; explicit endpoints win either way. `http` is only
/// built when something must be fetched.
pub fn endpoints(
    provider: &Provider,
    cache: &Cache,
    http: impl FnOnce() -> Result<std::rc::Rc<Http>>,
) -> Result<Metadata> {
    if authorization_server::explicit_is_enough(provider) {
        crate::debug!("{}: endpoints from the config", provider.name);
        let base = Metadata {
            issuer: provider.issuer.clone(),
            ..Metadata::default()
        };
        return Ok(base.with_explicit(&provider.endpoints));
    }
    let now = crate::token::now();
    if let Some(meta) = cache.get::<Metadata>(METADATA, &provider.issuer, now) {
        crate::debug!("{}: endpoints from the metadata cache", provider.name);
        return Ok(meta.with_explicit(&provider.endpoints));
    }
    let meta = authorization_server::discover(&*http()?, &provider.issuer)?;
    cache.put(METADATA, &provider.issuer, &meta, now);
    Ok(meta.with_explicit(&provider.endpoints))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_kept_a_day_for_their_own_id() {
        let dir = std::env::temp_dir().join(format!("co-discovery-cache-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = Cache {
            files: std::cell::OnceCell::from(Some(FileStore::new(dir.clone()))),
        };
        let doc = serde_json::json!({"resource": "https://git.example/"});
        cache.put("resource", "https://git.example/.well-known/x", &doc, 1000);
        let get = |id: &str, now: u64| cache.get::<serde_json::Value>("resource", id, now);
        assert_eq!(
            get("https://git.example/.well-known/x", 1000),
            Some(doc.clone())
        );
        assert_eq!(
            get("https://git.example/.well-known/x", 1000 + CACHE_TTL - 1),
            Some(doc)
        );
        assert_eq!(
            get("https://git.example/.well-known/x", 1000 + CACHE_TTL),
            None
        );
        assert_eq!(
            get("https://git.example/.well-known/x", 999),
            None,
            "from the future"
        );
        assert_eq!(get("https://other.example/", 1000), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
