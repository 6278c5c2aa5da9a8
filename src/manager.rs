//! The one home of token policy: cache → refresh → login, single-flight
//! per key, for a [`Binding`]. A warm call reads one entry and touches no
//! network; refresh and login run under the per-key lock, so parallel
//! callers do the work once. Logout and status go through here too.

use crate::config::{Config, GrantKind, Provider};
use crate::discovery::{self, authorization_server::Metadata};
use crate::error::{Error, Kind, Result};
use crate::grant::dpop;
use crate::grant::{self, Client};
use crate::http::challenge::StepUp;
use crate::http::{Http, Transport};
use crate::prompt::Prompt;
use crate::resolver::Binding;
use crate::secret::Secret;
use crate::store::file::FileStore;
use crate::store::lock::{Doing, Holder, KeyLock};
use crate::store::{CacheKey, Store};
use crate::token::{self, Credential, Token};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

/// How long a process waits for another one's refresh or login.
const LOCK_WAIT: Duration = Duration::from_secs(330);
/// The cache kind of the DPoP nonces servers gave, by server origin.
const NONCE: &str = "dpop-nonce";
/// How long a server's DPoP nonce is offered to a later process: servers
/// rotate them, and a stale one costs one refused request.
const NONCE_TTL: u64 = 300;
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

/// Where a token handed out came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The store held a fresh one (or another process just renewed it).
    Cached,
    /// Renewed with a refresh token (RFC 6749 §6).
    Refreshed,
    /// A new grant: a login, or client credentials.
    Obtained,
}

/// A usable token and where it came from.
#[derive(Debug)]
pub struct Fetched {
    pub token: Token,
    pub source: Source,
}

pub struct Manager<'p> {
    store: Box<dyn Store>,
    lock_dir: PathBuf,
    http: RefCell<Option<(Transport, Rc<Http>)>>,
    endpoints: discovery::Cache,
    prompt: &'p dyn Prompt,
    /// The nonces DPoP servers gave, for every later proof of this
    /// process (RFC 9449 §8).
    nonces: Rc<dpop::Nonces>,
}

/// A DPoP-bound token and the key it is bound to, for a caller that sends
/// a fresh proof with each request (RFC 9449 §7).
#[derive(Debug)]
pub struct Bound {
    pub fetched: Fetched,
    pub key: Arc<dpop::Key>,
}

impl<'p> Manager<'p> {
    pub fn new(config: &Config, prompt: &'p dyn Prompt) -> Result<Manager<'p>> {
        let file = FileStore::default_location()?;
        let lock_dir = file.dir().to_path_buf();
        let store = crate::store::open(config.storage, file)?;
        Ok(Manager {
            store,
            lock_dir,
            http: RefCell::new(None),
            endpoints: discovery::Cache::open(),
            prompt,
            nonces: Rc::default(),
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

    /// The cache key of the token for `binding` (DESIGN.md "Where tokens
    /// live"); a provider found by RFC 9728 discovery adds its resource,
    /// and a `dpop = true` provider adds `"\n" "dpop"`, so a bearer token
    /// cached earlier is never taken for a bound one, nor the other way
    /// round.
    pub fn key(binding: &Binding) -> CacheKey {
        let Binding {
            provider,
            account,
            resource,
        } = binding;
        let client_id = provider.client_id.as_deref().unwrap_or("");
        // A token exchange is for its audience, resource and subject: two
        // exchanges at one issuer must never share a token.
        let exchange = provider.exchange.as_ref().map(|x| {
            format!(
                "token-exchange\n{:?}\n{}\n{}\n{}\n{}",
                x.subject,
                x.subject_token_type,
                x.audience.as_deref().unwrap_or(""),
                x.resource.as_deref().unwrap_or(""),
                x.requested_token_type.as_deref().unwrap_or("")
            )
        });
        // An RFC 8707 resource the tokens are asked for (an MCP server's
        // URL) is what they are bound to, before the metadata's `resource`.
        let bound = provider
            .resource_indicator
            .as_ref()
            .or(resource.as_ref())
            .or(exchange.as_ref());
        let bound_to = match (bound, provider.dpop) {
            (Some(bound_to), true) => Some(format!("{bound_to}\ndpop")),
            (None, true) => Some("dpop".to_string()),
            (bound_to, false) => bound_to.cloned(),
        };
        match bound_to {
            Some(bound_to) => CacheKey::for_resource(
                &provider.issuer,
                client_id,
                &provider.scopes,
                account,
                &bound_to,
            ),
            None => CacheKey::new(&provider.issuer, client_id, &provider.scopes, account),
        }
    }

    /// Where the DPoP key of the tokens under `key` is kept: the same
    /// store, an entry of its own (DESIGN.md "Where tokens live").
    pub fn dpop_key_entry(key: &CacheKey) -> CacheKey {
        CacheKey::hashed(&format!("dpop-key\n{}", key.as_str()))
    }

    /// The DPoP key stored for the tokens under `key`; a corrupt entry
    /// reads as none.
    fn stored_dpop_key(&self, key: &CacheKey) -> Result<Option<dpop::Key>> {
        Ok(self
            .store
            .load(&Manager::dpop_key_entry(key))?
            .and_then(|text| dpop::Key::from_stored(&text)))
    }

    /// The DPoP key for the tokens under `key`, made and kept now when
    /// there is none. Called under the key's lock, so two processes never
    /// make two keys.
    fn dpop_key(&self, key: &CacheKey) -> Result<Arc<dpop::Key>> {
        if let Some(k) = self.stored_dpop_key(key)? {
            return Ok(Arc::new(k));
        }
        let k = dpop::Key::generate()?;
        crate::debug!("made a DPoP key (jkt {})", k.thumbprint());
        self.store
            .save(&Manager::dpop_key_entry(key), &k.to_stored())?;
        Ok(Arc::new(k))
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
    /// else from a new grant. For a caller that sends it as a fixed header:
    /// a `dpop = true` provider's tokens are not handed out
    /// ([`Error::NeedsProof`]).
    pub fn token(&self, binding: &Binding) -> Result<Fetched> {
        self.bearer(binding, None, Credential::AccessToken, None)
    }

    /// [`Manager::token`], where the caller may bring a refresh token
    /// (git's `oauth_refresh_token`): it stands in for the cache's when the
    /// cache holds none, and a refusal only means the usual way in. Such a
    /// token was obtained from whoever served the URL then; it goes only
    /// to an issuer someone configured for it, never to one the server's
    /// challenge named.
    pub fn token_with_hint(&self, binding: &Binding, hint: Option<&Secret>) -> Result<Fetched> {
        self.token_for_challenge(binding, hint, None)
    }

    /// [`Manager::token_with_hint`] for a request the server refused with
    /// a step-up challenge (RFC 9470): the token must have been obtained
    /// with one of its acr values and recently enough for its `max_age`;
    /// a cached one that was is used, else the person logs in again asking
    /// for them.
    pub fn token_for_challenge(
        &self,
        binding: &Binding,
        hint: Option<&Secret>,
        step_up: Option<&StepUp>,
    ) -> Result<Fetched> {
        let hint = hint.filter(|_| !binding.provider.issuer_discovered);
        self.bearer(binding, hint, Credential::AccessToken, step_up)
    }

    /// [`Manager::token`] for a caller that hands on `which` credential:
    /// for the ID token, the cached entry is used only while its ID token
    /// is fresh too (see [`Token::deadline_of`]), so a refresh (or a login)
    /// renews it. The caller checks that the token returned holds one: a
    /// server may answer without.
    pub fn token_for(&self, binding: &Binding, which: Credential) -> Result<Fetched> {
        self.bearer(binding, None, which, None)
    }

    /// A `dpop = true` provider's token and the key it is bound to, for a
    /// caller that sends a fresh proof with each request (RFC 9449 §7),
    /// meeting `step_up` when a server asked for one.
    pub fn dpop_token(&self, binding: &Binding, step_up: Option<&StepUp>) -> Result<Bound> {
        if !binding.provider.dpop {
            return Err(Error::Usage(format!(
                "{}: not a dpop = true provider; its tokens are bearer tokens",
                crate::prompt::escape(&binding.provider.name)
            )));
        }
        let (fetched, key) = self.fetch(binding, None, Credential::AccessToken, step_up)?;
        let key = key.ok_or_else(|| Error::Local("no DPoP key for a DPoP token".into()))?;
        Ok(Bound { fetched, key })
    }

    /// Whether a caller that sends the token as a fixed header may have
    /// `binding`'s token: not a `dpop = true` provider's
    /// ([`Error::NeedsProof`]). Every token for such a caller is checked
    /// here; a caller with work to do before it asks (cargo reads the
    /// index's `config.json`) checks first.
    pub fn check_fixed_header(binding: &Binding) -> Result<()> {
        match binding.provider.dpop {
            true => Err(Error::NeedsProof {
                provider: crate::prompt::escape(&binding.provider.name),
            }),
            false => Ok(()),
        }
    }

    /// A token for a caller that can only send it as it is: none for a
    /// `dpop = true` provider, before anything is read or asked.
    fn bearer(
        &self,
        binding: &Binding,
        hint: Option<&Secret>,
        which: Credential,
        step_up: Option<&StepUp>,
    ) -> Result<Fetched> {
        Manager::check_fixed_header(binding)?;
        self.fetch(binding, hint, which, step_up).map(|(f, _)| f)
    }

    fn fetch(
        &self,
        binding: &Binding,
        hint: Option<&Secret>,
        which: Credential,
        step_up: Option<&StepUp>,
    ) -> Result<(Fetched, Option<Arc<dpop::Key>>)> {
        let Binding {
            provider, account, ..
        } = binding;
        // A hint that is not a b64token could never have come from us; it is
        // ignored rather than sent, or carried into the store.
        let hint = hint.filter(|h| token::is_b64token(h.expose()));
        // Only a person can step up; a workload's grant gets what it gets.
        let step_up = match step_up {
            Some(_) if !is_a_persons(provider) => {
                crate::debug!(
                    "{}: the server asks for a step-up, which a {} grant cannot give",
                    provider.name,
                    provider.grant.as_str()
                );
                None
            }
            other => other,
        };
        let key = Manager::key(binding);
        let seen = self.cached(&key)?;
        let stored_key = match provider.dpop {
            true => self.stored_dpop_key(&key)?.map(Arc::new),
            false => None,
        };
        let now = token::now();
        let meets = |t: &Token, dpop_key: Option<&dpop::Key>, now: u64| {
            bound_to(t, dpop_key) && meets_step_up(t, step_up, now)
        };
        if let Some(t) = seen
            .as_ref()
            .filter(|t| t.is_fresh_for(which, now) && meets(t, stored_key.as_deref(), now))
        {
            crate::debug!(
                "{}: cache hit ({} s left)",
                provider.name,
                t.deadline_of(which).unwrap_or(now).saturating_sub(now)
            );
            return Ok((fetched(t.clone(), Source::Cached), stored_key));
        }
        crate::debug!(
            "{}: cache {}",
            provider.name,
            match &seen {
                None => "miss",
                Some(t) if !bound_to(t, stored_key.as_deref()) => {
                    "holds a token bound to no key here"
                }
                Some(t) if !meets_step_up(t, step_up, now) => {
                    "holds a token without the authentication the server asks for"
                }
                Some(_) => "stale",
            }
        );
        let doing = if seen.as_ref().is_some_and(|t| t.refresh_token.is_some()) {
            Doing::Refreshing
        } else {
            Doing::LoggingIn
        };
        let lock = self.lock(provider, &key, doing)?;
        // Someone may have done the work while we waited. Their token is good
        // until it actually expires, or short-lived tokens would make every
        // waiter refresh again.
        let current = self.cached(&key)?;
        let dpop_key = match provider.dpop {
            true => Some(self.dpop_key(&key)?),
            false => None,
        };
        let now = token::now();
        if let Some(t) = current.as_ref().filter(|t| {
            Some(*t) != seen.as_ref()
                && !t.is_expired_for(which, now)
                && meets(t, dpop_key.as_deref(), now)
        }) {
            crate::debug!("{}: another process renewed the token", provider.name);
            return Ok((fetched(t.clone(), Source::Cached), dpop_key));
        }
        // Resolved once for both the refresh and a login after it.
        let meta = self.endpoints(provider)?;
        let proofs = self.proofs(provider, &meta, dpop_key.as_ref())?;
        let with_key = |f: Fetched| (f, dpop_key.clone());
        // A refresh keeps the authentication the token was obtained with,
        // and its refresh token is bound to the key it was obtained with:
        // it helps only a token that meets both.
        if let Some(old) =
            current.filter(|t| t.refresh_token.is_some() && meets(t, dpop_key.as_deref(), now))
        {
            lock.now_doing(Doing::Refreshing);
            let refreshed = self.refresh(provider, &meta, &old, proofs.as_ref());
            self.keep_nonce(&meta);
            match refreshed {
                Ok(token) => {
                    return self
                        .keep(binding, &key, token, Source::Refreshed)
                        .map(with_key);
                }
                // Any refusal the server states is final, whatever its code
                // or status (`invalid_grant`; GitHub's `bad_refresh_token`
                // with HTTP 200; a 401 without a body), but those that say
                // "later" (DESIGN.md "Where tokens live").
                Err(e) if e.kind() == Kind::Rejected => {
                    crate::debug!("{}: refresh refused ({e}); logging in again", provider.name);
                    // A dead refresh token must not be tried again should the
                    // login below fail.
                    self.store.delete(&key)?;
                }
                // A passing fault: the old token still serves while it lasts.
                Err(e) if !old.is_expired_for(which, token::now()) => {
                    crate::debug!(
                        "{}: refresh failed ({e}); using the old token",
                        provider.name
                    );
                    return Ok(with_key(fetched(old, Source::Cached)));
                }
                Err(e) => return Err(e),
            }
        } else if let Some(hint) = hint.filter(|_| step_up.is_none()) {
            let refreshed = self.refresh(provider, &meta, &brought(hint), proofs.as_ref());
            self.keep_nonce(&meta);
            match refreshed {
                Ok(token) => {
                    crate::debug!("{}: used the refresh token git brought", provider.name);
                    return self
                        .keep(binding, &key, token, Source::Refreshed)
                        .map(with_key);
                }
                Err(e) => crate::debug!(
                    "{}: the refresh token git brought was refused: {e}",
                    provider.name
                ),
            }
        }
        lock.now_doing(Doing::LoggingIn);
        let token = self.obtain(provider, &meta, account, false, step_up, proofs.as_ref());
        self.keep_nonce(&meta);
        let token = token?;
        self.keep(binding, &key, token, Source::Obtained)
            .map(with_key)
    }

    /// What a `dpop = true` provider's token requests carry: its key and
    /// this process's nonces, once the server is known to take DPoP
    /// (RFC 9449 §5.1); nothing for another provider.
    fn proofs(
        &self,
        provider: &Provider,
        meta: &Metadata,
        dpop_key: Option<&Arc<dpop::Key>>,
    ) -> Result<Option<dpop::Proofs>> {
        let Some(key) = dpop_key else {
            return Ok(None);
        };
        dpop::check_offered(&crate::prompt::escape(&provider.name), meta)?;
        // The nonce the server gave an earlier process, while it may
        // still be current: the first request need not be refused for it.
        let endpoint = meta.token_endpoint()?;
        if self.nonces.for_url(endpoint).is_none()
            && let Some(nonce) = self.endpoints.get_within::<String>(
                NONCE,
                &endpoint.origin().ascii_serialization(),
                token::now(),
                NONCE_TTL,
            )
        {
            self.nonces.remember(endpoint, &nonce);
        }
        Ok(Some(dpop::Proofs {
            key: Arc::clone(key),
            nonces: Rc::clone(&self.nonces),
        }))
    }

    /// The per-key lock, showing the person a wait for another process.
    fn lock(&self, provider: &Provider, key: &CacheKey, doing: Doing) -> Result<KeyLock> {
        let name = crate::prompt::escape(&provider.name);
        KeyLock::acquire_showing(
            &self.lock_dir,
            key,
            lock_wait(provider),
            doing,
            |holder, until| {
                self.prompt
                    .waiting(&held_by(holder, &name), "waiting up to", until)
            },
        )
    }

    /// Keep the nonce the token endpoint gave last (RFC 9449 §8) for the
    /// next process: it is no secret, and it spares that process a
    /// refused request.
    fn keep_nonce(&self, meta: &Metadata) {
        if let Ok(endpoint) = meta.token_endpoint()
            && let Some(nonce) = self.nonces.for_url(endpoint)
        {
            let origin = endpoint.origin().ascii_serialization();
            self.endpoints.put(NONCE, &origin, &nonce, token::now());
        }
    }

    /// Run the grant now, whatever the cache holds.
    pub fn login(&self, binding: &Binding) -> Result<Token> {
        let key = Manager::key(binding);
        let _lock = self.lock(&binding.provider, &key, Doing::LoggingIn)?;
        let meta = self.endpoints(&binding.provider)?;
        let dpop_key = match binding.provider.dpop {
            true => Some(self.dpop_key(&key)?),
            false => None,
        };
        let proofs = self.proofs(&binding.provider, &meta, dpop_key.as_ref())?;
        // `login` is the explicit way in: it may always ask.
        let token = self.obtain(
            &binding.provider,
            &meta,
            &binding.account,
            true,
            None,
            proofs.as_ref(),
        );
        self.keep_nonce(&meta);
        let token = token?;
        Ok(self.keep(binding, &key, token, Source::Obtained)?.token)
    }

    /// Save a token just refreshed or obtained, and record what `status`
    /// and `logout` need to find it again: its account, and a provider
    /// found by discovery.
    fn keep(
        &self,
        binding: &Binding,
        key: &CacheKey,
        mut token: Token,
        source: Source,
    ) -> Result<Fetched> {
        binding.provider.token_lifetime.apply(&mut token);
        self.save(key, &token)?;
        crate::store::accounts::remember(self.store(), &binding.provider, &binding.account)?;
        crate::store::discovered::remember(
            self.store(),
            &binding.provider,
            binding.resource.as_deref(),
        )?;
        Ok(fetched(token, source))
    }

    /// Drop the cached token. With `presented`, only when it is that token:
    /// a newer token written by another process is left alone.
    pub fn erase(&self, binding: &Binding, presented: Option<&Secret>) -> Result<bool> {
        let key = Manager::key(binding);
        if let Some(p) = presented {
            match self.cached(&key)? {
                Some(t) if t.access_token == *p => {}
                _ => return Ok(false),
            }
        }
        self.store.delete(&key)
    }

    /// The server refused `presented` (RFC 6750 §3.1 `invalid_token`): the
    /// cached entry, while it still holds that token, is marked expired, so
    /// the next [`Manager::token`] refreshes it (the refresh token is kept)
    /// or logs in. A newer token another process stored is left alone.
    pub fn rejected(&self, binding: &Binding, presented: &Secret) -> Result<()> {
        let key = Manager::key(binding);
        match self.cached(&key)? {
            Some(mut t) if t.access_token == *presented => {
                t.expires_at = Some(0);
                t.until_rejected = false;
                self.save(&key, &t)
            }
            _ => Ok(()),
        }
    }

    /// `provider`'s endpoints resolved now, past the metadata cache, by
    /// the same discovery as every grant: `doctor`'s check that the
    /// server answers.
    pub fn discover_now(&self, provider: &Provider) -> Result<Metadata> {
        discovery::endpoints(provider, &discovery::Cache::bypassed(), || {
            self.http(provider)
        })
    }

    /// The clock of `provider`'s authorization server (the `Date` of a
    /// HEAD of its RFC 8414 metadata), for `doctor`.
    pub fn server_date(&self, provider: &Provider) -> Result<Option<u64>> {
        let url = discovery::authorization_server::rfc8414_url(&provider.issuer)?;
        self.http(provider)?.server_date(&url)
    }

    /// The cached token and the backend that holds it, for `status`.
    pub fn cached_with_backend(&self, key: &CacheKey) -> Result<Option<(Token, &'static str)>> {
        Ok(self
            .store
            .find(key)?
            .and_then(|(text, backend)| Token::from_stored(text.expose()).map(|t| (t, backend))))
    }

    /// Forget the cached token wherever it is, and revoke it (access and
    /// refresh token both) at the server when the server offers RFC 7009
    /// revocation. The local entry goes even
    /// when revocation fails; so does the record of a discovered provider.
    pub fn logout(&self, binding: &Binding) -> Result<Logout> {
        let Binding {
            provider,
            account,
            resource,
        } = binding;
        let key = Manager::key(binding);
        let token = self.cached(&key)?;
        let removed = self.store.delete(&key);
        // The key goes with the token it was bound to; a new login makes
        // a new one.
        self.store.delete(&Manager::dpop_key_entry(&key))?;
        if account.is_empty() {
            crate::store::discovered::forget(self.store(), provider, resource.as_deref())?;
        }
        let revocation = token.map(|t| self.revoke(provider, &t));
        Ok(Logout {
            removed: removed?,
            revocation,
        })
    }

    /// RFC 7009, as the client the grant was made as (never a new
    /// registration, which could not revoke the old one's grant).
    fn revoke(&self, provider: &Provider, token: &Token) -> Result<grant::revocation::Outcome> {
        let meta = self.endpoints(provider)?;
        if meta.revocation_endpoint.is_none() {
            return Ok(grant::revocation::Outcome::NotOffered);
        }
        let client = grant::client::known(provider, &meta, self.store())?.ok_or_else(|| {
            Error::Login(format!(
                "{}: the registration this token was obtained with is gone",
                provider.name
            ))
        })?;
        let http = self.http(provider)?;
        Ok(grant::revocation::at_logout(&http, &meta, &client, token))
    }

    fn save(&self, key: &CacheKey, token: &Token) -> Result<()> {
        let text = serde_json::to_string(token)
            .map(Secret::new)
            .map_err(|e| Error::Local(format!("cannot encode token: {e}")))?;
        self.store.save(key, &text)
    }

    fn endpoints(&self, provider: &Provider) -> Result<Metadata> {
        discovery::endpoints(provider, &self.endpoints, || self.http(provider))
    }

    /// The client the grants go as, proving possession of the DPoP key
    /// when there is one.
    fn client(
        &self,
        provider: &Provider,
        meta: &Metadata,
        proofs: Option<&dpop::Proofs>,
    ) -> Result<Client> {
        let mut client = grant::client::known_or_registered(
            provider,
            meta,
            self.store(),
            &*self.http(provider)?,
        )?;
        client.dpop = proofs.cloned();
        Ok(client)
    }

    /// RFC 6749 §6, as the client that obtained the token.
    fn refresh(
        &self,
        provider: &Provider,
        meta: &Metadata,
        old: &Token,
        proofs: Option<&dpop::Proofs>,
    ) -> Result<Token> {
        let client = self.client(provider, meta, proofs)?;
        crate::debug!("{}: refreshing the token", provider.name);
        grant::refresh::obtain(&*self.http(provider)?, meta, &client, old, &provider.scopes)
    }

    /// RFC 8693, as the configured client; without a client_id no client
    /// authenticates (a cloud's security token service) and nothing is
    /// registered.
    fn exchange(
        &self,
        provider: &Provider,
        meta: &Metadata,
        http: &Http,
        proofs: Option<&dpop::Proofs>,
    ) -> Result<Token> {
        let client = match provider.client_id {
            Some(_) => Some(self.client(provider, meta, proofs)?),
            None => None,
        };
        grant::token_exchange::obtain(http, meta, client.as_ref(), proofs, provider)
    }

    /// A new token from the provider's grant; a person's login asks for
    /// the authentication `step_up` names, and binds the code to the DPoP
    /// key (RFC 9449 §10).
    fn obtain(
        &self,
        provider: &Provider,
        meta: &Metadata,
        account: &str,
        explicit: bool,
        step_up: Option<&StepUp>,
        proofs: Option<&dpop::Proofs>,
    ) -> Result<Token> {
        if !matches!(
            provider.grant,
            GrantKind::ClientCredentials | GrantKind::TokenExchange
        ) && !explicit
            && !self.prompt.someone_to_ask()
        {
            return Err(Error::NeedsPerson {
                provider: crate::prompt::escape(&provider.name),
                url: provider.url.to_string(),
            });
        }
        let http = &*self.http(provider)?;
        let with_openid;
        let provider = match step_up {
            Some(_)
                if !provider.scopes.iter().any(|s| s == "openid") && meta.is_openid_provider() =>
            {
                crate::debug!(
                    "{}: asking for the openid scope too: some servers take acr_values and \
                     max_age only in an OpenID Connect request",
                    provider.name
                );
                with_openid = Provider {
                    scopes: provider
                        .scopes
                        .iter()
                        .cloned()
                        .chain(["openid".to_string()])
                        .collect(),
                    ..provider.clone()
                };
                &with_openid
            }
            _ => provider,
        };
        let extras = grant::LoginExtras {
            login_hint: None,
            acr_values: step_up.and_then(StepUp::acr_values_param),
            max_age: step_up.and_then(|s| s.max_age),
            dpop_jkt: proofs.map(|p| p.key.thumbprint().to_string()),
        };
        if step_up.is_some() {
            crate::debug!(
                "{}: logging in again for the authentication the server asks for (acr_values \
                 {}, max_age {})",
                provider.name,
                extras.acr_values.as_deref().unwrap_or("none"),
                extras
                    .max_age
                    .map_or_else(|| "none".to_string(), |a| a.to_string())
            );
        }
        let token = match self.run_grant(provider, meta, account, http, &extras, proofs) {
            // A client this helper registered that the server no longer
            // knows (a restarted server, one that expires dynamic clients):
            // drop it and register once more, then go on. A configured
            // client is the person's to fix.
            Err(e) if e.oauth_code() == Some("invalid_client") && provider.client_id.is_none() => {
                grant::client::forget_registration(provider, self.store())?;
                crate::debug!(
                    "{}: the server no longer knows our registration ({e})",
                    provider.name
                );
                self.prompt.say(&format!(
                    "credential-oauth: {}: the authorization server no longer knows this helper's \
                     registration; registering again",
                    crate::prompt::escape(&provider.name)
                ));
                self.run_grant(provider, meta, account, http, &extras, proofs)
            }
            other => other,
        };
        let mut token = match token {
            Err(e) if e.oauth_code() == Some("invalid_client") => {
                grant::client::forget_registration(provider, self.store())?;
                return Err(e);
            }
            other => other?,
        };
        // RFC 6749 §5.1: no scope in the answer means the scope requested.
        if token.scope.is_none() {
            token.scope = grant::scope_param(&provider.scopes);
        }
        grant::note_authentication(&mut token, step_up);
        Ok(token)
    }

    /// One run of the provider's grant, as the client it is configured or
    /// registered with (registering when it has none).
    fn run_grant(
        &self,
        provider: &Provider,
        meta: &Metadata,
        account: &str,
        http: &crate::http::Http,
        extras: &grant::LoginExtras,
        proofs: Option<&dpop::Proofs>,
    ) -> Result<Token> {
        match provider.grant {
            GrantKind::TokenExchange => self.exchange(provider, meta, http, proofs),
            GrantKind::ClientCredentials => grant::client_credentials::obtain(
                http,
                meta,
                &self.client(provider, meta, proofs)?,
                &provider.scopes,
            ),
            GrantKind::DeviceCode => grant::device_code::obtain(
                http,
                meta,
                &self.client(provider, meta, proofs)?,
                &provider.scopes,
                &grant::interactive::device_login(provider, extras),
                self.prompt,
            ),
            GrantKind::AuthorizationCode => grant::interactive::login(
                http,
                meta,
                &self.client(provider, meta, proofs)?,
                provider,
                account,
                extras,
                self.prompt,
            ),
        }
    }
}

/// Whether `provider`'s grant has a person log in, who can step up.
fn is_a_persons(provider: &Provider) -> bool {
    matches!(
        provider.grant,
        GrantKind::AuthorizationCode | GrantKind::DeviceCode
    )
}

/// Whether `token` may be used with `dpop_key`: a bound token only with
/// the key it is bound to, a bearer token only without one.
fn bound_to(token: &Token, dpop_key: Option<&dpop::Key>) -> bool {
    match dpop_key {
        Some(k) => token.is_dpop() && token.dpop_jkt.as_deref() == Some(k.thumbprint()),
        None => !token.is_dpop() && token.dpop_jkt.is_none(),
    }
}

/// Whether `token` was obtained with the authentication `step_up` asks
/// for, recently enough at `now` (RFC 9470 §3); any token meets none.
fn meets_step_up(token: &Token, step_up: Option<&StepUp>, now: u64) -> bool {
    step_up.is_none_or(|s| s.is_met_by(token.acr.as_deref(), token.auth_time, now))
}

fn fetched(token: Token, source: Source) -> Fetched {
    Fetched { token, source }
}

/// A refresh token the caller brought, as the refresh token of an entry.
fn brought(hint: &Secret) -> Token {
    Token {
        access_token: Secret::new(""),
        token_type: "Bearer".into(),
        refresh_token: Some(hint.clone()),
        scope: None,
        obtained_at: 0,
        expires_at: Some(0),
        until_rejected: false,
        id_token: None,
        refresh_token_obtained_at: None,
        dpop_jkt: None,
        acr: None,
        auth_time: None,
    }
}

/// What another process holding the lock for `provider` is doing, as the
/// person waiting for it is told.
fn held_by(holder: &Holder, provider: &str) -> String {
    let who = match holder.pid {
        Some(pid) => format!("another credential-oauth (pid {pid})"),
        None => "another credential-oauth process".to_string(),
    };
    let what = match holder.doing {
        Some(Doing::LoggingIn) => format!("is logging in to {provider}"),
        Some(Doing::Refreshing) => format!("is refreshing the token for {provider}"),
        Some(Doing::Updating) | None => format!("holds the token for {provider}"),
    };
    format!("{who} {what}")
}

/// How long a process waits for another one's refresh or login: longer than
/// a browser login may take, and than a device code usually lives.
fn lock_wait(provider: &Provider) -> Duration {
    let login = provider.login_timeout().max(DEVICE_LOGIN);
    LOCK_WAIT.max(login + Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_exchanges_at_one_issuer_never_share_a_key() {
        let config = Config::parse(
            "[[provider]]\nurl = \"https://a.example/\"\nissuer = \"https://as.example\"\n\
             grant = \"token_exchange\"\nsubject_token_file = \"/run/token\"\naudience = \"a\"\n\n\
             [[provider]]\nurl = \"https://b.example/\"\nissuer = \"https://as.example\"\n\
             grant = \"token_exchange\"\nsubject_token_file = \"/run/token\"\naudience = \"b\"\n\n\
             [[provider]]\nurl = \"https://c.example/\"\nissuer = \"https://as.example\"\n",
            std::path::Path::new("/c.toml"),
        )
        .unwrap();
        let key = |i: usize| Manager::key(&Binding::new(config.providers[i].clone(), None));
        assert_ne!(key(0), key(1));
        assert_ne!(key(0), key(2));
        assert_eq!(key(2), CacheKey::new("https://as.example", "", &[], ""));
    }

    #[test]
    fn a_dpop_provider_keeps_its_tokens_apart_from_bearer_tokens_and_its_key_apart_from_both() {
        let config = Config::parse(
            "[[provider]]\nurl = \"https://a.example/\"\nissuer = \"https://as.example\"\n\n\
             [[provider]]\nurl = \"https://b.example/\"\nissuer = \"https://as.example\"\n\
             dpop = true\n",
            std::path::Path::new("/c.toml"),
        )
        .unwrap();
        let key = |i: usize, account: Option<&str>| {
            Manager::key(&Binding::new(config.providers[i].clone(), account))
        };
        let (bearer, bound) = (key(0, None), key(1, None));
        assert_ne!(bearer, bound);
        assert_eq!(
            bound,
            CacheKey::for_resource("https://as.example", "", &[], "", "dpop")
        );
        let entry = Manager::dpop_key_entry(&bound);
        assert_ne!(entry, bound);
        assert_ne!(entry, Manager::dpop_key_entry(&key(1, Some("alice"))));
    }
}
