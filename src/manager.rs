//! Load → refresh → login: hands out a usable token for a provider, doing as
//! little as possible. A warm call reads one entry and touches no network.

use crate::config::{Config, GrantKind, Provider};
use crate::discovery::authorization_server::{self as metadata, Metadata};
use crate::error::{Error, Result};
use crate::grant::registration::Registration;
use crate::grant::{self, Client};
use crate::http::{Http, Transport};
use crate::secret::Secret;
use crate::store::file::FileStore;
use crate::store::lock::KeyLock;
use crate::store::{CacheKey, Store};
use crate::token::{self, Token};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

/// How long a process waits for another one's refresh or login.
const LOCK_WAIT: Duration = Duration::from_secs(330);
/// The usual lifetime of a device code (RFC 8628 §3.2 `expires_in`).
const DEVICE_LOGIN: Duration = Duration::from_secs(600);

/// What `logout` did.
#[derive(Debug)]
pub struct Logout {
    /// Whether a cached token was removed.
    pub removed: bool,
    /// `None` when no token was cached, so there was nothing to revoke.
    pub revocation: Option<Result<grant::revocation::Outcome>>,
}

pub struct Manager {
    store: Box<dyn Store>,
    lock_dir: PathBuf,
    http: RefCell<Option<(Transport, Rc<Http>)>>,
}

impl Manager {
    pub fn new(config: &Config) -> Result<Manager> {
        let file = FileStore::default_location()?;
        let lock_dir = file.dir().to_path_buf();
        let store = crate::store::open(config.storage, file)?;
        crate::debug!("storage: {}", store.name());
        Ok(Manager {
            store,
            lock_dir,
            http: RefCell::new(None),
        })
    }

    pub fn store_name(&self) -> &'static str {
        self.store.name()
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// The store and lock directory, for entries that are not tokens: docker's
    /// static credentials live where the tokens do (see [`crate::store::static_credentials`]).
    pub fn static_credentials(&self) -> crate::store::static_credentials::StaticCredentials<'_> {
        crate::store::static_credentials::StaticCredentials::new(
            self.store.as_ref(),
            &self.lock_dir,
        )
    }

    /// The HTTP client for `provider`'s transport, built on first use only:
    /// a warm `get` never pays for TLS set-up.
    fn http(&self, provider: &Provider) -> Result<Rc<Http>> {
        let mut slot = self.http.borrow_mut();
        if let Some((transport, http)) = slot.as_ref()
            && *transport == provider.transport
        {
            return Ok(Rc::clone(http));
        }
        let http = Rc::new(Http::new(&provider.transport)?);
        *slot = Some((provider.transport.clone(), Rc::clone(&http)));
        Ok(http)
    }

    /// The cache key of `provider`'s token for `account` (DESIGN.md "Where
    /// tokens live"); a provider found by RFC 9728 discovery adds its resource.
    pub fn key(provider: &Provider, account: &str) -> CacheKey {
        let client_id = provider.client_id.as_deref().unwrap_or("");
        match &provider.resource {
            Some(resource) => CacheKey::for_resource(
                &provider.issuer,
                client_id,
                &provider.scopes,
                account,
                resource,
            ),
            None => CacheKey::new(&provider.issuer, client_id, &provider.scopes, account),
        }
    }

    /// The cached token, if any. A corrupt entry reads as none.
    pub fn cached(&self, key: &CacheKey) -> Result<Option<Token>> {
        Ok(self.store.load(key)?.and_then(|text| {
            let token = Token::from_stored(text.expose());
            if token.is_none() {
                crate::debug!("cache entry {} is corrupt; ignoring it", key.as_str());
            }
            token
        }))
    }

    /// A token with more than a minute left: from the cache, else refreshed,
    /// else from a new grant. Refresh and login run under the per-key lock,
    /// so parallel callers do the work once.
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
        let _lock = KeyLock::acquire(&self.lock_dir, &key, lock_wait(provider))?;
        // Someone may have done the work while we waited. Their token is good
        // until it actually expires, or short-lived tokens would make every
        // waiter refresh again.
        let current = self.cached(&key)?;
        if let Some(t) = current
            .as_ref()
            .filter(|t| Some(*t) != seen.as_ref() && !t.is_expired(token::now()))
        {
            crate::debug!("{}: another process renewed the token", provider.name);
            return Ok(t.clone());
        }
        // Discovered once for both the refresh and a login after it.
        let meta = self.metadata(provider)?;
        if let Some(old) = current.filter(|t| t.refresh_token.is_some()) {
            match self.refresh(provider, &meta, &old) {
                Ok(token) => {
                    self.save(&key, &token)?;
                    return Ok(token);
                }
                Err(e) if grant::refresh::grant_is_gone(&e) => {
                    crate::debug!("{}: refresh refused ({e}); logging in again", provider.name);
                    // A dead refresh token must not be tried again should the
                    // login below fail.
                    self.store.delete(&key)?;
                }
                // A passing fault: the old token still serves while it lasts.
                Err(e) if !old.is_expired(token::now()) => {
                    crate::debug!(
                        "{}: refresh failed ({e}); using the old token",
                        provider.name
                    );
                    return Ok(old);
                }
                Err(e) => return Err(e),
            }
        }
        let token = self.obtain(provider, &meta, account)?;
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
        // A hint that is not a b64token could never have come from us; it is
        // ignored rather than sent, or carried into the store.
        let Some(hint) = hint.filter(|h| token::is_b64token(h.expose())) else {
            return self.token(provider, account);
        };
        let key = Manager::key(provider, account);
        let seen = self.cached(&key)?;
        let usable = |t: &Token| t.is_fresh(token::now()) || t.refresh_token.is_some();
        if seen.as_ref().is_none_or(|t| !usable(t)) {
            let lock = KeyLock::acquire(&self.lock_dir, &key, lock_wait(provider))?;
            if self.cached(&key)?.as_ref().is_none_or(|t| !usable(t)) {
                let meta = self.metadata(provider)?;
                // The hint stands in for the refresh token of a cached entry.
                let brought = Token {
                    access_token: Secret::new(""),
                    token_type: "Bearer".into(),
                    refresh_token: Some(hint.clone()),
                    scope: None,
                    obtained_at: 0,
                    expires_at: Some(0),
                };
                let got = self.refresh(provider, &meta, &brought);
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
        let _lock = KeyLock::acquire(&self.lock_dir, &key, lock_wait(provider))?;
        let meta = self.metadata(provider)?;
        let token = self.obtain(provider, &meta, account)?;
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

    /// The cached token and the backend that holds it, for `status`.
    pub fn cached_with_backend(&self, key: &CacheKey) -> Result<Option<(Token, &'static str)>> {
        Ok(self
            .store
            .find(key)?
            .and_then(|(text, backend)| Token::from_stored(text.expose()).map(|t| (t, backend))))
    }

    /// Forget the cached token wherever it is, and revoke it at the server
    /// when the server offers RFC 7009 revocation. The local entry goes even
    /// when revocation fails.
    pub fn logout(&self, provider: &Provider, account: &str) -> Result<Logout> {
        let key = Manager::key(provider, account);
        let token = self.cached(&key)?;
        let removed = self.store.delete(&key);
        let revocation = token.map(|t| self.revoke(provider, &t));
        Ok(Logout {
            removed: removed?,
            revocation,
        })
    }

    /// RFC 7009, as the client the grant was made as: the configured one or
    /// the registration made for it. Never registers anew: a new client
    /// could not revoke the old one's grant.
    fn revoke(&self, provider: &Provider, token: &Token) -> Result<grant::revocation::Outcome> {
        let meta = self.metadata(provider)?;
        if meta.revocation_endpoint.is_none() {
            return Ok(grant::revocation::Outcome::NotOffered);
        }
        let client = self.known_client(provider, &meta)?.ok_or_else(|| {
            Error::Login(format!(
                "{}: the registration this token was obtained with is gone",
                provider.name
            ))
        })?;
        grant::revocation::at_logout(&*self.http(provider)?, &meta, &client, token)
    }

    fn save(&self, key: &CacheKey, token: &Token) -> Result<()> {
        let text = serde_json::to_string(token)
            .map(Secret::new)
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
        // Metadata is public and changes rarely: one discovery per issuer a
        // day keeps a cold `get` to a single request.
        let cache = crate::store::cache_dir().map(|d| FileStore::new(d.join("metadata")));
        let key = CacheKey::hashed(&format!("metadata\n{}", provider.issuer));
        let now = token::now();
        if let Some(meta) = cache
            .as_ref()
            .and_then(|c| c.load(&key).ok().flatten())
            .and_then(|text| metadata::Cached::parse(text.expose(), &provider.issuer, now))
        {
            crate::debug!("{}: endpoints from the metadata cache", provider.name);
            return Ok(meta.with_explicit(&provider.endpoints));
        }
        let meta = metadata::discover(&*self.http(provider)?, &provider.issuer)?;
        if let Some(c) = &cache {
            // A cache that cannot be written only costs a discovery next time.
            // Public metadata; the store takes every value as a secret.
            let text = Secret::new(metadata::Cached::encode(&meta, now));
            if let Err(e) = c.save(&key, &text) {
                crate::debug!("metadata cache not written: {e}");
            }
        }
        Ok(meta.with_explicit(&provider.endpoints))
    }

    /// RFC 6749 §6, as the client that obtained the token.
    fn refresh(&self, provider: &Provider, meta: &Metadata, old: &Token) -> Result<Token> {
        let client = self.client(provider, meta)?;
        crate::debug!("{}: refreshing the token", provider.name);
        grant::refresh::obtain(&*self.http(provider)?, meta, &client, old, &provider.scopes)
    }

    /// A new token from the provider's grant.
    fn obtain(&self, provider: &Provider, meta: &Metadata, account: &str) -> Result<Token> {
        let client = self.client(provider, meta)?;
        let http = &*self.http(provider)?;
        let token = match provider.grant {
            GrantKind::ClientCredentials => {
                grant::client_credentials::obtain(http, meta, &client, &provider.scopes)
            }
            GrantKind::DeviceCode => grant::device_code::obtain(
                http,
                meta,
                &client,
                &provider.scopes,
                &device_login(provider),
            ),
            GrantKind::AuthorizationCode => self.browser_login(provider, meta, &client, account),
        };
        let mut token = match token {
            Err(e) if e.oauth_code() == Some("invalid_client") => {
                // A registration the server no longer knows is dropped, so
                // the next run registers again.
                if provider.client_id.is_none() {
                    let key = grant::registration::key(&provider.issuer, &provider.redirect_uri());
                    self.store.delete(&key)?;
                }
                return Err(e);
            }
            other => other?,
        };
        // RFC 6749 §5.1: no scope in the answer means the scope requested.
        if token.scope.is_none() {
            token.scope = grant::scope_param(&provider.scopes);
        }
        Ok(token)
    }

    /// RFC 8252: the browser and a loopback redirect; the device grant when
    /// no browser can open and the server offers it; otherwise the URL is
    /// printed and a pasted redirect URL is accepted on the terminal.
    fn browser_login(
        &self,
        provider: &Provider,
        meta: &Metadata,
        client: &Client,
        account: &str,
    ) -> Result<Token> {
        use grant::authorization_code::{Session, browser_available, open_browser};
        let http = &*self.http(provider)?;
        let device = |why: &str| {
            eprintln!("credential-oauth: {why}; using the device login instead");
            grant::device_code::obtain(
                http,
                meta,
                client,
                &provider.scopes,
                &device_login(provider),
            )
        };
        let has_device = meta.device_authorization_endpoint.is_some();
        let browser = browser_available();
        if !browser && has_device {
            return device("no browser can open here (no $BROWSER, DISPLAY or WAYLAND_DISPLAY)");
        }
        let hint = (!account.is_empty()).then_some(account);
        let session = Session::start(
            meta,
            client,
            &provider.scopes,
            &provider.redirect_uri(),
            hint,
            provider.transport.allow_insecure_http,
        )?;
        let authority = crate::http::authority(&meta.issuer);
        let opened = if browser {
            eprintln!(
                "credential-oauth: opening the browser to log in to {} at the authorization server \
                 {authority}; if it does not open, visit:\n  {}",
                crate::prompt::escape(&provider.name),
                session.url()
            );
            open_browser(session.url())
        } else {
            Err(Error::Login("no browser can open here".into()))
        };
        let pasted = match opened {
            Ok(()) => None,
            Err(e) if has_device => {
                drop(session);
                return device(&e.to_string());
            }
            Err(e) => {
                crate::debug!("{e}");
                eprintln!(
                    "credential-oauth: no browser could be opened. To log in to {} at the \
                     authorization server {authority}, visit:\n  {}",
                    crate::prompt::escape(&provider.name),
                    session.url()
                );
                let pasted = grant::loopback::terminal_lines();
                eprintln!(
                    "credential-oauth: waiting for the redirect to {}{}",
                    session.redirect_uri(),
                    if pasted.is_some() {
                        "; or paste here the address the browser ends on"
                    } else {
                        ""
                    }
                );
                pasted
            }
        };
        session.finish(
            http,
            meta,
            client,
            provider.login_timeout(),
            pasted.as_ref(),
        )
    }

    /// The client the provider's requests are made as: the configured one,
    /// else the one registered earlier, else a new registration (RFC 7591).
    fn client(&self, provider: &Provider, meta: &Metadata) -> Result<Client> {
        if let Some(client) = self.known_client(provider, meta)? {
            return Ok(client);
        }
        let redirect_uri = provider.redirect_uri();
        let key = grant::registration::key(&provider.issuer, &redirect_uri);
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
            grant_types.push(grant::device_code::GRANT_TYPE);
        }
        let registration = grant::registration::register(
            &*self.http(provider)?,
            endpoint,
            &redirect_uri,
            &grant_types,
        )?;
        let text = serde_json::to_string(&registration)
            .map(Secret::new)
            .map_err(|e| Error::Store(format!("cannot encode registration: {e}")))?;
        self.store.save(&key, &text)?;
        crate::debug!("{}: registered as a new client", provider.name);
        Ok(registration.client())
    }
}

impl Manager {
    /// The configured client, else the registration stored for the
    /// provider's issuer and redirect; `None` when neither exists.
    fn known_client(&self, provider: &Provider, meta: &Metadata) -> Result<Option<Client>> {
        if let Some(id) = &provider.client_id {
            // Config refuses this; the check stays where the secret leaves.
            if provider.resource.is_some() {
                return Err(Error::Login(format!(
                    "{}: a configured client is never used at an issuer found by discovery",
                    provider.name
                )));
            }
            return Ok(Some(Client {
                id: id.clone(),
                secret: provider.client_secret.clone(),
                method: meta.auth_method(provider.auth_method),
            }));
        }
        let key = grant::registration::key(&provider.issuer, &provider.redirect_uri());
        match self.store.load(&key)? {
            Some(text) => match serde_json::from_str::<Registration>(text.expose()) {
                Ok(r) => Ok(Some(r.client())),
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
}

/// What a device login shows and how long it waits.
fn device_login(provider: &Provider) -> grant::device_code::Login<'_> {
    grant::device_code::Login {
        provider: &provider.name,
        timeout: provider.login_timeout(),
        allow_insecure_http: provider.transport.allow_insecure_http,
    }
}

/// How long a process waits for another one's refresh or login: longer than
/// a browser login may take, and than a device code usually lives.
fn lock_wait(provider: &Provider) -> Duration {
    let login = provider.login_timeout().max(DEVICE_LOGIN);
    LOCK_WAIT.max(login + Duration::from_secs(30))
}
