//! Load → refresh → login: hands out a usable token for a provider, doing as
//! little as possible. A warm call reads one entry and touches no network.

use crate::config::{Config, GrantKind, Provider, Storage};
use crate::error::{Error, Result};
use crate::grant::{self, Client};
use crate::http::Http;
use crate::metadata::{self, Metadata};
use crate::secret::Secret;
use crate::store::file::FileStore;
use crate::store::lock::KeyLock;
use crate::store::{CacheKey, Store};
use crate::token::{self, Token};
use std::cell::OnceCell;
use std::path::PathBuf;
use std::time::Duration;

/// How long a process waits for another one's refresh or login.
const LOCK_WAIT: Duration = Duration::from_secs(330);

pub struct Manager {
    store: Box<dyn Store>,
    lock_dir: PathBuf,
    http: OnceCell<Http>,
}

impl Manager {
    pub fn new(config: &Config) -> Result<Manager> {
        let file = FileStore::default_location()?;
        let lock_dir = file.dir().to_path_buf();
        let store: Box<dyn Store> = match config.storage {
            Storage::Auto | Storage::File => Box::new(file),
            Storage::Keyring => {
                return Err(Error::Store(
                    "storage = \"keyring\": no keychain backend is available in this build".into(),
                ));
            }
        };
        crate::debug!("storage: {}", store.name());
        Ok(Manager {
            store,
            lock_dir,
            http: OnceCell::new(),
        })
    }

    pub fn store_name(&self) -> &'static str {
        self.store.name()
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The HTTP client, built on first use only.
    fn http(&self) -> Result<&Http> {
        if let Some(h) = self.http.get() {
            return Ok(h);
        }
        let h = Http::new()?;
        Ok(self.http.get_or_init(|| h))
    }

    pub fn key(provider: &Provider, account: &str) -> CacheKey {
        CacheKey::new(
            &provider.issuer,
            provider.client_id.as_deref().unwrap_or(""),
            &provider.scopes,
            account,
        )
    }

    /// The cached token, if any. A corrupt entry reads as none.
    pub fn cached(&self, key: &CacheKey) -> Result<Option<Token>> {
        Ok(self.store.load(key)?.and_then(|text| {
            serde_json::from_str::<Token>(&text)
                .inspect_err(|_| {
                    crate::debug!("cache entry {} is corrupt; ignoring it", key.as_str())
                })
                .ok()
        }))
    }

    /// A token with more than a minute left: from the cache, else refreshed,
    /// else from a new grant.
    pub fn token(&self, provider: &Provider, account: &str) -> Result<Token> {
        let key = Manager::key(provider, account);
        let seen = self.cached(&key)?;
        let now = token::now();
        if let Some(t) = seen.as_ref().filter(|t| t.is_fresh(now)) {
            crate::debug!(
                "{}: cache hit ({} s left)",
                provider.name,
                t.deadline() - now
            );
            return Ok(t.clone());
        }
        crate::debug!(
            "{}: cache {}",
            provider.name,
            if seen.is_some() { "stale" } else { "miss" }
        );
        let _lock = KeyLock::acquire(&self.lock_dir, &key, LOCK_WAIT)?;
        // Someone may have done the work while we waited. Their token is good
        // until it actually expires, or short-lived tokens would make every
        // waiter refresh again.
        let current = self.cached(&key)?;
        if let Some(t) = current.filter(|t| Some(t) != seen.as_ref() && !t.is_expired(token::now()))
        {
            crate::debug!("{}: another process renewed the token", provider.name);
            return Ok(t);
        }
        let token = self.obtain(provider)?;
        self.save(&key, &token)?;
        Ok(token)
    }

    /// Like [`Manager::token`], but when the cache has no fresh token and no
    /// refresh token of its own, first try `hint`: a refresh token the caller
    /// brought (git's `oauth_refresh_token`). If the server refuses it, the
    /// usual path runs.
    pub fn token_with_refresh_hint(
        &self,
        provider: &Provider,
        account: &str,
        hint: Option<&Secret>,
    ) -> Result<Token> {
        let Some(hint) = hint else {
            return self.token(provider, account);
        };
        let key = Manager::key(provider, account);
        let seen = self.cached(&key)?;
        let usable = |t: &Token| t.is_fresh(token::now()) || t.refresh_token.is_some();
        if seen.as_ref().is_none_or(|t| !usable(t)) {
            let lock = KeyLock::acquire(&self.lock_dir, &key, LOCK_WAIT)?;
            if self.cached(&key)?.as_ref().is_none_or(|t| !usable(t)) {
                let meta = self.metadata(provider)?;
                let client = Client {
                    id: provider.client_id.clone().unwrap_or_default(),
                    secret: provider.client_secret.clone(),
                    method: meta.auth_method(provider.auth_method),
                };
                let got = grant::refresh_hint::obtain(
                    self.http()?,
                    &meta,
                    &client,
                    hint,
                    &provider.scopes,
                );
                match got {
                    Ok(t) => {
                        crate::debug!("{}: used the refresh token git brought", provider.name);
                        self.save(&key, &t)?;
                        return Ok(t);
                    }
                    Err(e) => crate::debug!(
                        "{}: the refresh token git brought was refused: {e}",
                        provider.name
                    ),
                }
            }
            drop(lock);
        }
        self.token(provider, account)
    }

    /// Run the grant now, whatever the cache holds.
    pub fn login(&self, provider: &Provider, account: &str) -> Result<Token> {
        let key = Manager::key(provider, account);
        let _lock = KeyLock::acquire(&self.lock_dir, &key, LOCK_WAIT)?;
        let token = self.obtain(provider)?;
        self.save(&key, &token)?;
        Ok(token)
    }

    /// Drop the cached token. With `presented`, only when it is that token:
    /// a newer token written by another process is left alone.
    pub fn erase(
        &self,
        provider: &Provider,
        account: &str,
        presented: Option<&Secret>,
    ) -> Result<bool> {
        let key = Manager::key(provider, account);
        if let Some(p) = presented {
            match self.cached(&key)? {
                Some(t) if t.access_token == *p => {}
                _ => return Ok(false),
            }
        }
        self.store.delete(&key)
    }

    fn save(&self, key: &CacheKey, token: &Token) -> Result<()> {
        let text = serde_json::to_string(token)
            .map_err(|e| Error::Store(format!("cannot encode token: {e}")))?;
        self.store.save(key, &text)
    }

    fn metadata(&self, provider: &Provider) -> Result<Metadata> {
        if metadata::explicit_is_enough(provider) {
            crate::debug!("{}: endpoints from the config", provider.name);
            let base = Metadata {
                issuer: provider.issuer.clone(),
                ..Metadata::default()
            };
            return Ok(base.with_explicit(&provider.endpoints));
        }
        let meta = metadata::discover(self.http()?, &provider.issuer)?;
        Ok(meta.with_explicit(&provider.endpoints))
    }

    fn obtain(&self, provider: &Provider) -> Result<Token> {
        let meta = self.metadata(provider)?;
        let http = self.http()?;
        match provider.grant {
            GrantKind::ClientCredentials => {
                let client = Client {
                    id: provider.client_id.clone().unwrap_or_default(),
                    secret: provider.client_secret.clone(),
                    method: meta.auth_method(provider.auth_method),
                };
                grant::client_credentials::obtain(http, &meta, &client, &provider.scopes)
            }
            GrantKind::AuthorizationCode | GrantKind::DeviceCode => Err(Error::Login(format!(
                "{}: interactive grants are not available in this build",
                provider.name
            ))),
        }
    }
}
