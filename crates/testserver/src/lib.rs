//! In-memory OAuth 2.0 authorization server for tests and demos.
//!
//! [`TestServer`] listens on a loopback port and serves, from memory, what
//! credential-oauth speaks: discovery (RFC 8414, OpenID Connect Discovery),
//! the authorization code grant with PKCE (RFC 6749 §4.1, RFC 7636, S256
//! only), client credentials (§4.4), refresh with rotation (§6), the device
//! grant (RFC 8628), dynamic registration (RFC 7591), revocation (RFC 7009),
//! introspection (RFC 7662), and `/userinfo` as a protected resource.
//!
//! Knobs bend it into the shapes real servers take (quirks, faults, delays);
//! counters and recorded requests let tests assert what a client did.
//!
//! Every request is answered on its own short-lived thread, so one delayed
//! answer never holds up the others; the state sits behind one mutex that is
//! never held across I/O or a sleep.

#![forbid(unsafe_code)]

pub mod assertion;
pub mod dpop;
mod endpoints;
mod shapes;
mod state;
mod wire;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

pub use wire::RecordedRequest;

use state::{Client, FaultRule, State};

/// Which discovery documents the server publishes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MetadataMode {
    /// Only `/.well-known/oauth-authorization-server` (RFC 8414 §3).
    Rfc8414,
    /// Only `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4).
    OidcOnly,
    /// Both documents.
    #[default]
    Both,
    /// Neither: clients must fall back to guessed endpoints.
    None,
    /// Only `<issuer>/.well-known/oauth-authorization-server`: the well-known
    /// segment appended to the issuer's path, as some servers publish RFC
    /// 8414 metadata (see [`TestServer::set_issuer_path`]; without a path
    /// both forms are the same URL).
    Rfc8414PathAppended,
}

/// RFC 9126 pushed authorization requests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Par {
    /// No PAR endpoint.
    #[default]
    Off,
    /// `pushed_authorization_request_endpoint` published; plain requests still work.
    Offered,
    /// Published with `require_pushed_authorization_requests`: `/authorize`
    /// takes only a `request_uri`.
    Required,
}

/// A canned answer that replaces the normal one (see [`TestServer::fail_next`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub status: u16,
    /// Empty: no `Content-Type` header.
    pub content_type: String,
    pub body: String,
    pub headers: Vec<(String, String)>,
}

impl Fault {
    pub fn json(status: u16, body: &str) -> Fault {
        Fault::with_type(status, "application/json", body)
    }

    pub fn html(status: u16, body: &str) -> Fault {
        Fault::with_type(status, "text/html; charset=utf-8", body)
    }

    pub fn redirect(status: u16, location: &str) -> Fault {
        let mut fault = Fault::with_type(status, "", "");
        fault
            .headers
            .push(("Location".to_owned(), location.to_owned()));
        fault
    }

    fn with_type(status: u16, content_type: &str, body: &str) -> Fault {
        Fault {
            status,
            content_type: content_type.to_owned(),
            body: body.to_owned(),
            headers: Vec::new(),
        }
    }
}

/// An OAuth 2.0 authorization server on a loopback port, for as long as the
/// value lives; dropping it stops the server and joins its threads.
pub struct TestServer {
    shared: Arc<Shared>,
    http: Arc<tiny_http::Server>,
    dispatcher: Option<JoinHandle<()>>,
    issuer: String,
    port: u16,
}

/// What the request threads share with the handle.
struct Shared {
    state: Mutex<State>,
    /// Set on drop; delayed answers wait on `wake` so a drop cuts them short.
    stopping: Mutex<bool>,
    wake: Condvar,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// Locks `mutex`, even when poisoned: a panic on one request must not turn
/// every later request, and the drop, into panics too.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn stopping(&self) -> bool {
        *lock(&self.stopping)
    }

    /// Sleeps for `delay`, or less when the server is being dropped.
    fn pause(&self, delay: Duration) {
        if delay.is_zero() {
            return;
        }
        let stopping = lock(&self.stopping);
        let waited = self.wake.wait_timeout_while(stopping, delay, |stop| !*stop);
        drop(waited);
    }

    fn serve(&self, mut rq: tiny_http::Request) {
        let arrived = Instant::now();
        let reply = match RecordedRequest::read(&mut rq) {
            Ok(recorded) => self.answer(&recorded, arrived),
            Err(reply) => reply,
        };
        // The client may have gone; nobody is left to tell.
        let _ = rq.respond(reply.into_response());
    }

    fn answer(&self, rq: &RecordedRequest, arrived: Instant) -> wire::Reply {
        let (delay, fault) = {
            let mut st = self.state();
            endpoints::note(&mut st, rq, arrived);
            (st.settings.delay, st.take_fault(&rq.path))
        };
        self.pause(delay);
        match fault {
            Some(fault) => fault.into(),
            None => endpoints::answer(&mut self.state(), rq),
        }
    }
}

impl TestServer {
    /// Starts on `127.0.0.1` at a free port.
    pub fn start() -> std::io::Result<TestServer> {
        TestServer::start_on("127.0.0.1:0")
    }

    /// Starts on `addr` (`host:port`); ready for requests when this returns.
    pub fn start_on(addr: &str) -> std::io::Result<TestServer> {
        let listener = TcpListener::bind(addr)?;
        let local = listener.local_addr()?;
        let http = tiny_http::Server::from_listener(listener, None)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let http = Arc::new(http);
        // A wildcard bind is still reached through loopback.
        let host = match local.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let issuer = format!("http://{}", SocketAddr::new(host, local.port()));
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(issuer.clone())),
            stopping: Mutex::new(false),
            wake: Condvar::new(),
            workers: Mutex::new(Vec::new()),
        });
        let dispatcher = {
            let (http, shared) = (Arc::clone(&http), Arc::clone(&shared));
            thread::Builder::new()
                .name("oauth-test-server".to_owned())
                .spawn(move || dispatch(&http, &shared))?
        };
        Ok(TestServer {
            shared,
            http,
            dispatcher: Some(dispatcher),
            issuer,
            port: local.port(),
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash, then the path
    /// set by [`TestServer::set_issuer_path`].
    pub fn issuer(&self) -> String {
        format!("{}{}", self.issuer, self.state().settings.issuer_path)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.state()
    }

    /// Adds (or replaces) a client; `None` makes it public (auth method `none`).
    /// It has no registered redirect URIs, so any loopback one is accepted.
    pub fn add_client(&self, id: &str, secret: Option<&str>) {
        let client = Client {
            secret: secret.map(str::to_owned),
            redirect_uris: Vec::new(),
            jwks: Vec::new(),
        };
        self.state().clients.insert(id.to_owned(), client);
    }

    /// Adds (or replaces) a client that registered `redirect_uris`: a
    /// loopback one then matches whatever its port (RFC 8252 §7.3), any
    /// other only exactly, as strict servers do.
    pub fn add_client_with_redirect_uris(&self, id: &str, secret: Option<&str>, uris: &[&str]) {
        let client = Client {
            secret: secret.map(str::to_owned),
            redirect_uris: uris.iter().map(|u| (*u).to_owned()).collect(),
            jwks: Vec::new(),
        };
        self.state().clients.insert(id.to_owned(), client);
    }

    /// Adds (or replaces) a client that authenticates with `private_key_jwt`
    /// (RFC 7523): `jwks` are its public keys, as a JWKS's `keys` (see
    /// [`assertion::TestKey::jwk`]).
    pub fn add_client_with_jwks(&self, id: &str, jwks: &[serde_json::Value]) {
        let client = Client {
            secret: None,
            redirect_uris: Vec::new(),
            jwks: jwks.to_vec(),
        };
        self.state().clients.insert(id.to_owned(), client);
    }

    /// RFC 9207: put `iss` into every authorization response and announce
    /// `authorization_response_iss_parameter_supported` in the metadata.
    pub fn set_authorization_response_iss(&self, on: bool) {
        self.state().settings.authorization_response_iss = on;
    }

    /// RFC 9126: publish a PAR endpoint (`/par`), and require it.
    pub fn set_par(&self, par: Par) {
        self.state().settings.par = par;
    }

    /// Announce `client_id_metadata_document_supported`: a client id that
    /// is an https URL is then taken as the client's metadata document
    /// (not fetched: any loopback redirect is accepted for it).
    pub fn set_client_id_metadata_documents(&self, on: bool) {
        self.state().settings.client_id_metadata_documents = on;
    }

    /// The `expires_in` of new access tokens; `None` omits it, and the tokens never expire.
    pub fn set_token_lifetime(&self, secs: Option<i64>) {
        self.state().settings.token_lifetime = secs;
    }

    /// The lifetime of new ID tokens (their `exp`), one hour by default.
    pub fn set_id_token_lifetime(&self, secs: i64) {
        self.state().settings.id_token_lifetime = secs;
    }

    /// Whether a refresh answer carries a new ID token (default: yes);
    /// OpenID Connect Core §12.2 lets a server leave it out.
    pub fn set_id_token_on_refresh(&self, on: bool) {
        self.state().settings.id_token_on_refresh = on;
    }

    /// A quirk of some servers: `"expires_in":"3600"`.
    pub fn set_expires_in_as_string(&self, on: bool) {
        self.state().settings.expires_in_as_string = on;
    }

    /// Whether client_credentials answers carry a refresh token
    /// (RFC 6749 §4.4.3: they should not).
    pub fn set_client_credentials_refresh(&self, on: bool) {
        self.state().settings.client_credentials_refresh = on;
    }

    /// With rotation (default) a refresh answer carries a new refresh token and
    /// the old one dies; without, the answer has none and the old one lives on.
    pub fn set_rotate_refresh_tokens(&self, on: bool) {
        self.state().settings.rotate_refresh_tokens = on;
    }

    /// `token_endpoint_auth_methods_supported`; a confidential client using
    /// another method gets `invalid_client`.
    pub fn set_auth_methods_supported(&self, methods: &[&str]) {
        self.state().settings.auth_methods = methods.iter().map(|m| (*m).to_owned()).collect();
    }

    pub fn set_metadata_mode(&self, mode: MetadataMode) {
        self.state().settings.metadata_mode = mode;
    }

    /// The issuer identifier becomes `http://127.0.0.1:PORT<path>` (e.g.
    /// `/tenant`, no trailing slash), as for a server hosting several
    /// issuers: the discovery documents move under it (RFC 8414 §3.1,
    /// OpenID Connect Discovery §4) and `iss` names it; every other endpoint
    /// stays where it was.
    pub fn set_issuer_path(&self, path: &str) {
        self.state().settings.issuer_path = path.to_owned();
    }

    /// Publishes this `issuer` in the metadata instead of the real one.
    pub fn set_metadata_issuer(&self, issuer: Option<&str>) {
        self.state().settings.metadata_issuer = issuer.map(str::to_owned);
    }

    pub fn set_device_grant(&self, on: bool) {
        self.state().settings.device_grant = on;
    }

    /// With `false`, the metadata lists the device grant in
    /// `grant_types_supported` but names no `device_authorization_endpoint`,
    /// as some servers do; the endpoint still answers.
    pub fn set_device_endpoint_published(&self, on: bool) {
        self.state().settings.device_endpoint_published = on;
    }

    /// The device authorization request must carry an S256 `code_challenge`
    /// and every poll its `code_verifier` (RFC 7636 applied to RFC 8628, as
    /// some servers do for clients that require PKCE). Off (default), the
    /// parameters are ignored, as RFC 6749 §3.1 asks of servers that do not
    /// know them.
    pub fn set_device_pkce_required(&self, on: bool) {
        self.state().settings.device_pkce_required = on;
    }

    /// Revoking a refresh token leaves the access tokens of its grant
    /// alive, which RFC 7009 §2.1 allows (default: they die with it).
    pub fn set_revocation_keeps_access_tokens(&self, on: bool) {
        self.state().settings.revocation_keeps_access_tokens = on;
    }

    pub fn set_registration(&self, on: bool) {
        self.state().settings.registration = on;
    }

    /// `/authorize` redirects back with `error=access_denied`.
    pub fn set_authorize_deny(&self, on: bool) {
        self.state().settings.authorize_deny = on;
    }

    /// Visiting the verification page denies instead of approving.
    pub fn set_device_deny(&self, on: bool) {
        self.state().settings.device_deny = on;
    }

    /// The `interval` of new device authorizations (RFC 8628 §3.2).
    pub fn set_device_interval(&self, secs: u64) {
        self.state().settings.device_interval = secs;
    }

    /// The next `n` device polls answer `slow_down` (RFC 8628 §3.5).
    pub fn set_device_slow_down(&self, n: usize) {
        self.state().settings.device_slow_down = n;
    }

    /// The lifetime of new device codes; 0 makes them expire at once.
    pub fn set_device_code_lifetime(&self, secs: u64) {
        self.state().settings.device_code_lifetime = secs;
    }

    /// RFC 9449: announce DPoP (`dpop_signing_alg_values_supported`).
    /// Proofs are honoured either way, unless [`TestServer::set_dpop_ignored`].
    pub fn set_dpop(&self, on: bool) {
        self.state().settings.dpop = on;
    }

    /// RFC 9449 §8: proofs at the token endpoint must carry the server's
    /// nonce; one without is answered `use_dpop_nonce` with the nonce.
    pub fn set_dpop_nonce_required(&self, on: bool) {
        self.state().settings.dpop_nonce_required = on;
    }

    /// Ignore DPoP proofs, as a server that does not know DPoP does: its
    /// tokens are bearer tokens.
    pub fn set_dpop_ignored(&self, on: bool) {
        self.state().settings.dpop_ignored = on;
    }

    /// The nonce proofs at the token endpoint must carry now.
    pub fn dpop_nonce(&self) -> String {
        self.state().dpop_nonce.clone()
    }

    /// A new nonce: proofs with the old one are answered `use_dpop_nonce`.
    pub fn rotate_dpop_nonce(&self) {
        self.state().dpop_nonce = state::random_token("nonce_");
    }

    /// The thumbprints of the DPoP proofs accepted at the token endpoint,
    /// oldest first.
    pub fn proof_thumbprints(&self) -> Vec<String> {
        self.state().proof_jkts.clone()
    }

    /// The acr values the simulated login can reach, the first the default
    /// (default: `pwd`, `phr`, `phrh`).
    pub fn set_acr_values_supported(&self, values: &[&str]) {
        self.state().settings.acr_values_supported =
            values.iter().map(|v| (*v).to_owned()).collect();
    }

    /// Refuse `acr_values` without `openid` in the scope, as some servers do.
    pub fn set_acr_needs_openid(&self, on: bool) {
        self.state().settings.acr_needs_openid = on;
    }

    /// The simulated person forgets every login: the next one authenticates.
    pub fn end_sessions(&self) {
        self.state().sessions.clear();
    }

    /// The next `n` requests, to any path, get `fault` instead of their answer.
    /// Faults queue: each call's requests come after the earlier calls'.
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.queue_fault(None, n, fault);
    }

    /// Like [`fail_next`](Self::fail_next), for requests to `path` only.
    pub fn fail_next_on(&self, path: &str, n: usize, fault: Fault) {
        self.queue_fault(Some(path.to_owned()), n, fault);
    }

    fn queue_fault(&self, path: Option<String>, remaining: usize, fault: Fault) {
        if remaining > 0 {
            let rule = FaultRule {
                path,
                remaining,
                fault,
            };
            self.state().faults.push_back(rule);
        }
    }

    /// Serves `endpoint` at `path` instead of its usual one, or not at all
    /// (`None`: 404, and the metadata no longer names it), as real servers
    /// place their endpoints. `endpoint` is a counter name of
    /// [`TestServer::count`] (`authorize`, `token`, `device_authorization`,
    /// `device_verify`, `register`, `revoke`, `introspect`, `userinfo`),
    /// which stays the same wherever the endpoint is.
    pub fn set_endpoint_path(&self, endpoint: &str, path: Option<&str>) {
        let known = state::ENDPOINTS.iter().find(|(name, _)| *name == endpoint);
        let (name, _) = known.unwrap_or_else(|| panic!("no endpoint is called {endpoint}"));
        let path = path.map(str::to_owned);
        self.state().settings.paths.insert(name, path);
    }

    /// The `token_type` of token answers, `Bearer` by default; several
    /// servers write it in lower case, which RFC 6749 §7.1 allows.
    pub fn set_token_type(&self, token_type: &str) {
        self.state().settings.token_type = token_type.to_owned();
    }

    /// The name under which token answers carry the granted scope: `scope`
    /// (RFC 6749 §5.1) by default, or what a server uses instead.
    pub fn set_scope_field(&self, name: &str) {
        self.state().settings.scope_field = name.to_owned();
    }

    /// A field every token answer carries from now on, beyond RFC 6749 §5.1.
    pub fn add_token_answer_field(&self, name: &str, value: serde_json::Value) {
        let extra = &mut self.state().settings.token_answer_extra;
        extra.retain(|(n, _)| n != name);
        extra.push((name.to_owned(), value));
    }

    /// With `false`, `/authorize` takes a request without a PKCE challenge
    /// and the token endpoint ignores `code_verifier`, as a server that
    /// does not know RFC 7636 does (RFC 6749 §3.1). Default: required.
    pub fn set_pkce_required(&self, on: bool) {
        self.state().settings.pkce_required = on;
    }

    /// A refresh token comes only with a granted scope that holds `scope`
    /// (some OpenID providers: `offline_access`); `None` (default): always.
    pub fn set_refresh_token_scope(&self, scope: Option<&str>) {
        self.state().settings.refresh_token_scope = scope.map(str::to_owned);
    }

    /// Whether device authorization answers carry `verification_uri_complete`
    /// (RFC 8628 §3.2 makes it optional; default: yes).
    pub fn set_device_uri_complete(&self, on: bool) {
        self.state().settings.device_uri_complete = on;
    }

    /// Whether device authorization answers carry a `message` to show the
    /// person, as some servers add (default: no).
    pub fn set_device_message(&self, on: bool) {
        self.state().settings.device_message = on;
    }

    /// Every answer waits this long first.
    pub fn set_delay(&self, d: Duration) {
        self.state().settings.delay = d;
    }

    /// Requests counted under `key`: an endpoint (`token`, `metadata`,
    /// `metadata_appended` (the path-appended RFC 8414 location), `oidc`,
    /// `authorize`, `device_authorization`, `device_verify`, `register`,
    /// `revoke`, `introspect`, `userinfo`) or a grant at `/token`
    /// (`client_credentials`, `authorization_code`, `refresh_token`,
    /// `device_code`), `token_with_dpop` and `token_without_dpop` (token
    /// requests with and without a proof), or `authenticate` (a login at
    /// which the simulated person authenticated anew). Failed and faulted
    /// requests count too.
    pub fn count(&self, key: &str) -> usize {
        self.state().counts.get(key).copied().unwrap_or(0)
    }

    pub fn reset_counts(&self) {
        self.state().counts.clear();
    }

    /// The RFC 8707 resource an active token was issued for.
    pub fn resource_of(&self, token: &str) -> Option<String> {
        self.state().active_token(token).and_then(|t| t.resource)
    }

    /// The scope an active token was issued with.
    pub fn scope_of(&self, token: &str) -> Option<String> {
        self.state().active_token(token).and_then(|t| t.scope)
    }

    /// Whether `token` is an access token or refresh token that is valid now.
    pub fn is_active(&self, token: &str) -> bool {
        self.state().active_token(token).is_some()
    }

    /// The subject (`sub`) an active token was issued for.
    pub fn subject_of(&self, token: &str) -> Option<String> {
        self.state().active_token(token).map(|t| t.subject)
    }

    /// Trusts JWTs from `issuer`, signed by one of `jwks`, as subject
    /// tokens of a token exchange (RFC 8693); their `aud` must be this
    /// server's issuer identifier.
    pub fn trust_subject_issuer(&self, issuer: &str, jwks: &[serde_json::Value]) {
        self.state()
            .subject_issuers
            .push((issuer.to_owned(), jwks.to_vec()));
    }

    /// Whether `token` is an ID token this server issued (with `openid` in
    /// the scope) that has not expired.
    pub fn is_id_token(&self, token: &str) -> bool {
        self.state().is_id_token(token)
    }

    /// A handle that answers whether an access token is active and
    /// [`TestServer::is_id_token`] from another thread, for a fake
    /// resource server that checks the tokens it is shown.
    pub fn token_checker(&self) -> TokenChecker {
        TokenChecker(Arc::clone(&self.shared))
    }

    pub fn expire_access_tokens(&self) {
        self.state().expire_access_tokens();
    }

    pub fn revoke_all_refresh_tokens(&self) {
        self.state().revoke_all_refresh_tokens();
    }

    /// Forgets every client `/register` handed out, as a server that
    /// restarts or expires dynamic clients does.
    pub fn forget_registered_clients(&self) {
        let mut st = self.state();
        let ids = st.registered.clone();
        for id in ids {
            st.clients.remove(&id);
        }
    }

    /// The client ids handed out by `/register`, oldest first.
    pub fn registered_clients(&self) -> Vec<String> {
        self.state().registered.clone()
    }

    /// The latest request to `path` (no query), as the server received it;
    /// an endpoint moved by [`TestServer::set_endpoint_path`] is asked for
    /// at its new path.
    pub fn last_request(&self, path: &str) -> Option<RecordedRequest> {
        self.state().last.get(path).cloned()
    }

    /// When each device-code token poll arrived, oldest first.
    pub fn device_poll_times(&self) -> Vec<Instant> {
        self.state().poll_times.clone()
    }
}

/// What a resource server asks the authorization server about a token,
/// from any thread (see [`TestServer::token_checker`]).
#[derive(Clone)]
pub struct TokenChecker(Arc<Shared>);

impl TokenChecker {
    /// Whether `token` is an access token that is valid now (a refresh
    /// token opens no resource).
    pub fn is_access_token(&self, token: &str) -> bool {
        let state = self.0.state();
        state.active_token(token).is_some_and(|t| t.is_access_token)
    }

    /// The scope of an active access token (`None`: unknown, inactive, or
    /// no scope) and the RFC 8707 resource it is for.
    pub fn access_token(&self, token: &str) -> Option<(Option<String>, Option<String>)> {
        let state = self.0.state();
        state
            .active_token(token)
            .filter(|t| t.is_access_token)
            .map(|t| (t.scope, t.resource))
    }

    pub fn is_id_token(&self, token: &str) -> bool {
        self.0.state().is_id_token(token)
    }

    /// RFC 9449 §6.2: the thumbprint of the key an active access token is
    /// bound to (`cnf.jkt`), `None` for a bearer token or one not active.
    pub fn bound_key(&self, token: &str) -> Option<String> {
        let state = self.0.state();
        let active = state.active_token(token).filter(|t| t.is_access_token)?;
        active.jkt
    }

    /// RFC 9470 §6.2: the acr value and authentication time behind an
    /// active access token, as introspection tells a resource server.
    pub fn authentication(&self, token: &str) -> Option<(String, i64)> {
        let state = self.0.state();
        let active = state.active_token(token).filter(|t| t.is_access_token)?;
        active.authentication.map(|a| (a.acr, a.auth_time))
    }
}

/// Hands each request to a thread of its own until the server is dropped.
fn dispatch(http: &tiny_http::Server, shared: &Arc<Shared>) {
    loop {
        match http.recv() {
            Ok(rq) => {
                let worker = Arc::clone(shared);
                let spawned = thread::Builder::new()
                    .name("oauth-test-server-request".to_owned())
                    .spawn(move || worker.serve(rq));
                let mut workers = lock(&shared.workers);
                workers.retain(|w| !w.is_finished());
                // Without a thread the request is dropped, which tiny_http answers with a 500.
                if let Ok(handle) = spawned {
                    workers.push(handle);
                }
            }
            Err(_) if shared.stopping() => break,
            // A failed accept ends tiny_http's listener; keep waiting for the unblock from drop.
            Err(_) => {}
        }
    }
}

/// How long a drop waits for requests still being answered.
const DRAIN: Duration = Duration::from_secs(5);

impl Drop for TestServer {
    fn drop(&mut self) {
        *lock(&self.shared.stopping) = true;
        self.shared.wake.notify_all();
        self.http.unblock();
        if let Some(dispatcher) = self.dispatcher.take() {
            let _ = dispatcher.join();
        }
        let mut workers = lock(&self.shared.workers);
        // A worker blocked reading the body of a client that stalled cannot be
        // woken; after a grace period it is left behind rather than hanging the test.
        let deadline = Instant::now() + DRAIN;
        while workers.iter().any(|w| !w.is_finished()) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        for worker in workers.drain(..).filter(|w| w.is_finished()) {
            let _ = worker.join();
        }
    }
}
