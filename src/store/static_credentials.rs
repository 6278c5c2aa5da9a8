//! Static docker registry credentials: what `docker login` hands to
//! `docker-credential-oauth store` for a registry that is not an OAuth
//! provider, kept so that one helper serves every registry.
//!
//! They live in the same [`Store`] as tokens (keychain or file), one entry per
//! registry, plus one index entry listing them, because a `Store` cannot
//! enumerate its entries and docker's `list` must. Index updates happen under
//! the index's [`KeyLock`], so parallel `docker login`s lose no entry.
//!
//! A registry is named by its host and port: `https://registry.example.com/`,
//! `registry.example.com` and `registry.example.com:443` are one registry, as
//! they are to docker, and `docker.io` is `index.docker.io`.

use crate::config::server_host;
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::store::lock::KeyLock;
use crate::store::{CacheKey, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// How long an index update waits for another one. Updates take
/// milliseconds; only a stuck process holds the lock longer.
const INDEX_LOCK_WAIT: Duration = Duration::from_secs(30);

/// What `docker login` stored for a registry, as the store keeps it (the
/// docker frontend turns it into the wire type and back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub server_url: String,
    pub username: String,
    pub secret: Secret,
}

/// The static credentials in a store.
pub struct StaticCredentials<'a> {
    store: &'a dyn Store,
    lock_dir: &'a Path,
}

/// One stored entry.
#[derive(Serialize, Deserialize)]
struct Entry {
    #[serde(rename = "ServerURL")]
    server_url: String,
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: Secret,
}

/// The index: registry name → what `list` shows for it. No secret here.
#[derive(Serialize, Deserialize, Default)]
struct Index {
    registries: BTreeMap<String, IndexEntry>,
}

#[derive(Serialize, Deserialize)]
struct IndexEntry {
    server_url: String,
    username: String,
    /// The entry's key, so the index alone says where everything is.
    key: String,
}

/// The registry a server address names: `host[:port]`, lowercase, the
/// https port left out. `None` when the address names no host.
pub fn registry_name(server: &str) -> Option<String> {
    let url = server_host(server)?;
    let host = url.host_str()?;
    // Docker Hub answers to several names; docker itself says
    // `https://index.docker.io/v1/`, podman and skopeo say `docker.io`.
    let host = match host {
        "docker.io" | "registry-1.docker.io" => "index.docker.io",
        h => h,
    };
    Some(crate::config::host_and_port(host, url.port()))
}

fn entry_key(registry: &str) -> CacheKey {
    CacheKey::hashed(&format!("docker-credential\n{registry}"))
}

fn index_key() -> CacheKey {
    CacheKey::hashed("docker-index")
}

impl<'a> StaticCredentials<'a> {
    /// The entries in `store`, locking through lock files in `lock_dir`.
    pub fn new(store: &'a dyn Store, lock_dir: &'a Path) -> StaticCredentials<'a> {
        StaticCredentials { store, lock_dir }
    }

    /// The credentials stored for `server`'s registry; the answer names
    /// `server` as asked. A corrupt entry reads as none.
    pub fn get(&self, server: &str) -> Result<Option<Credentials>> {
        let Some(registry) = registry_name(server) else {
            return Ok(None);
        };
        let Some(text) = self.store.load(&entry_key(&registry))? else {
            return Ok(None);
        };
        let Ok(entry) = serde_json::from_str::<Entry>(text.expose()) else {
            crate::debug!("stored credentials for {registry} are corrupt; ignoring them");
            return Ok(None);
        };
        Ok(Some(Credentials {
            server_url: server.to_string(),
            username: entry.username,
            secret: entry.secret,
        }))
    }

    /// Keep `creds`, replacing what was stored for the same registry.
    pub fn put(&self, creds: &Credentials) -> Result<()> {
        // Not quoted: an address that is no host may hold a password.
        let registry = registry_name(&creds.server_url)
            .ok_or_else(|| Error::Input("store: ServerURL does not name a registry host".into()))?;
        let key = entry_key(&registry);
        let entry = Entry {
            server_url: creds.server_url.clone(),
            username: creds.username.clone(),
            secret: creds.secret.clone(),
        };
        let text = serde_json::to_string(&entry)
            .map(Secret::new)
            .map_err(|e| Error::Local(format!("cannot encode credentials: {e}")))?;
        let _lock = KeyLock::acquire(self.lock_dir, &index_key(), INDEX_LOCK_WAIT)?;
        self.store.save(&key, &text)?;
        let mut index = self.index()?;
        index.registries.insert(
            registry,
            IndexEntry {
                server_url: creds.server_url.clone(),
                username: creds.username.clone(),
                key: key.as_str().to_string(),
            },
        );
        self.save_index(&index)
    }

    /// Forget what is stored for `server`'s registry; `true` when there was something.
    pub fn erase(&self, server: &str) -> Result<bool> {
        let Some(registry) = registry_name(server) else {
            return Ok(false);
        };
        let _lock = KeyLock::acquire(self.lock_dir, &index_key(), INDEX_LOCK_WAIT)?;
        let removed = self.store.delete(&entry_key(&registry))?;
        let mut index = self.index()?;
        let listed = index.registries.remove(&registry).is_some();
        if listed {
            self.save_index(&index)?;
        }
        Ok(removed || listed)
    }

    /// Server URL → username of every stored entry.
    pub fn list(&self) -> Result<BTreeMap<String, String>> {
        Ok(self
            .index()?
            .registries
            .into_values()
            .map(|e| (e.server_url, e.username))
            .collect())
    }

    /// The index; a corrupt one reads as empty and is replaced by the next update.
    fn index(&self) -> Result<Index> {
        Ok(self
            .store
            .load(&index_key())?
            .and_then(|text| {
                serde_json::from_str(text.expose())
                    .inspect_err(|_| crate::debug!("the docker index is corrupt; ignoring it"))
                    .ok()
            })
            .unwrap_or_default())
    }

    fn save_index(&self, index: &Index) -> Result<()> {
        let text = serde_json::to_string(index)
            .map_err(|e| Error::Local(format!("cannot encode the docker index: {e}")))?;
        // No secret in the index; the store takes every value as one.
        self.store.save(&index_key(), &Secret::new(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;
    use std::path::PathBuf;

    fn lock_dir(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "credential-oauth-docker-store-{}-{name}",
            std::process::id()
        ))
    }

    fn creds(server: &str, username: &str, secret: &str) -> Credentials {
        Credentials {
            server_url: server.into(),
            username: username.into(),
            secret: Secret::new(secret),
        }
    }

    #[test]
    fn registry_names_fold_the_ways_docker_writes_a_host() {
        let n = |s: &str| registry_name(s);
        assert_eq!(
            n("registry.example.com").as_deref(),
            Some("registry.example.com")
        );
        assert_eq!(
            n("https://Registry.example.com/").as_deref(),
            Some("registry.example.com")
        );
        assert_eq!(
            n("registry.example.com:443").as_deref(),
            Some("registry.example.com")
        );
        assert_eq!(
            n("http://127.0.0.1:5000").as_deref(),
            Some("127.0.0.1:5000")
        );
        assert_eq!(
            n("https://index.docker.io/v1/").as_deref(),
            Some("index.docker.io")
        );
        assert_eq!(n("docker.io").as_deref(), Some("index.docker.io"));
        assert_eq!(n("a@b"), None);
    }

    #[test]
    fn put_get_list_erase_round_trip() {
        let store = MemoryStore::default();
        let dir = lock_dir("round-trip");
        let s = StaticCredentials::new(&store, &dir);
        assert!(s.get("registry.example.com").unwrap().is_none());
        s.put(&creds("https://registry.example.com", "alice", "pw1"))
            .unwrap();
        s.put(&creds("https://index.docker.io/v1/", "<token>", "idt"))
            .unwrap();

        let got = s.get("registry.example.com").unwrap().unwrap();
        assert_eq!(got.server_url, "registry.example.com");
        assert_eq!(got.username, "alice");
        assert_eq!(got.secret.expose(), "pw1");
        let hub = s.get("docker.io").unwrap().unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.secret.expose()),
            ("<token>", "idt")
        );

        let list = s.list().unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list["https://registry.example.com"], "alice");
        assert_eq!(list["https://index.docker.io/v1/"], "<token>");
        // The index holds no secret.
        let index = store.get(index_key().as_str()).unwrap();
        assert!(!index.contains("pw1") && !index.contains("idt"), "{index}");

        // Storing again replaces, under the newest spelling.
        s.put(&creds("registry.example.com", "bob", "pw2")).unwrap();
        assert_eq!(
            s.get("https://registry.example.com/")
                .unwrap()
                .unwrap()
                .username,
            "bob"
        );
        assert_eq!(s.list().unwrap()["registry.example.com"], "bob");
        assert_eq!(s.list().unwrap().len(), 2);

        assert!(s.erase("https://registry.example.com/").unwrap());
        assert!(!s.erase("registry.example.com").unwrap());
        assert!(s.get("registry.example.com").unwrap().is_none());
        assert_eq!(s.list().unwrap().len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn corrupt_entries_and_index_read_as_missing() {
        let store = MemoryStore::default();
        let dir = lock_dir("corrupt");
        let s = StaticCredentials::new(&store, &dir);
        store.insert(&entry_key("r.example.com"), "{not json");
        store.insert(&index_key(), "[]");
        assert!(s.get("r.example.com").unwrap().is_none());
        assert!(s.list().unwrap().is_empty());
        s.put(&creds("r.example.com", "u", "p")).unwrap();
        assert_eq!(s.list().unwrap()["r.example.com"], "u");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_server_that_names_no_host_is_refused_and_nothing_written() {
        let store = MemoryStore::default();
        let dir = lock_dir("no-host");
        let s = StaticCredentials::new(&store, &dir);
        let e = s
            .put(&creds("https://user:hunter2@host", "u", "p"))
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
        assert!(store.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_store_that_fails_is_an_error_and_the_index_is_left_alone() {
        let store = MemoryStore::default();
        let dir = lock_dir("failing");
        let s = StaticCredentials::new(&store, &dir);
        store.fail(crate::store::memory::Op::Save, "disk full");
        let e = s.put(&creds("r.example.com", "u", "hunter2")).unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
        assert!(store.is_empty());
        store.fail(crate::store::memory::Op::Load, "locked");
        assert!(s.get("r.example.com").is_err(), "not a silent miss");
        assert!(s.list().is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
