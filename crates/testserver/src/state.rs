//! Everything the server knows: knobs, clients, grants in flight, tokens.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::rngs::SysRng;
use rand::{Rng, TryRng};
use serde_json::{Map, Value};

use super::{Fault, MetadataMode, RecordedRequest};

/// The subject a browser login approves when the client names no `login_hint`.
pub(crate) const TEST_USER: &str = "test-user";

/// RFC 6749 §4.1.2 recommends at most ten minutes.
pub(crate) const CODE_LIFETIME: Duration = Duration::from_secs(600);

pub(crate) struct Settings {
    pub token_lifetime: Option<i64>,
    pub expires_in_as_string: bool,
    pub client_credentials_refresh: bool,
    pub rotate_refresh_tokens: bool,
    pub auth_methods: Vec<String>,
    pub metadata_mode: MetadataMode,
    pub metadata_issuer: Option<String>,
    /// Appended to the origin to make the issuer identifier; empty by default.
    pub issuer_path: String,
    pub device_grant: bool,
    /// Whether the metadata names the device authorization endpoint when
    /// it lists the device grant.
    pub device_endpoint_published: bool,
    pub device_pkce_required: bool,
    pub revocation_keeps_access_tokens: bool,
    pub registration: bool,
    pub authorize_deny: bool,
    pub device_deny: bool,
    pub device_interval: u64,
    pub device_slow_down: usize,
    pub device_code_lifetime: u64,
    pub delay: Duration,
    /// RFC 9207: `iss` in every authorization response, announced in the metadata.
    pub authorization_response_iss: bool,
    /// RFC 9126: whether the PAR endpoint is published, and required.
    pub par: crate::Par,
    /// OAuth Client ID Metadata Documents announced as supported.
    pub client_id_metadata_documents: bool,
    /// The `exp` of new ID tokens, in seconds from issue.
    pub id_token_lifetime: i64,
    /// Whether a refresh answer carries a new ID token (OpenID Connect
    /// Core §12.2: it might not).
    pub id_token_on_refresh: bool,
    /// Where each endpoint is served, by its counter name (see
    /// [`ENDPOINTS`]); `None`: not served, and not named in the metadata.
    pub paths: HashMap<&'static str, Option<String>>,
    /// The `token_type` of token answers (RFC 6749 §7.1: case-insensitive).
    pub token_type: String,
    /// The name of the granted scope in token answers: `scope` (RFC 6749
    /// §5.1), or what a server uses instead.
    pub scope_field: String,
    /// Fields every token answer carries beyond RFC 6749 §5.1.
    pub token_answer_extra: Vec<(String, Value)>,
    /// Whether `/authorize` demands a PKCE challenge and the token endpoint
    /// checks the verifier; off, both are ignored (RFC 6749 §3.1), as by a
    /// server that does not know PKCE.
    pub pkce_required: bool,
    /// A refresh token is issued only when the granted scope holds this
    /// one (as `offline_access` with some OpenID providers).
    pub refresh_token_scope: Option<String>,
    /// Whether device authorization answers carry `verification_uri_complete`.
    pub device_uri_complete: bool,
    /// Whether device authorization answers carry a `message` for the person.
    pub device_message: bool,
    /// RFC 9449: announce DPoP in the metadata. A token request with a
    /// proof gets a bound token whether announced or not; without, the
    /// proof is ignored as a server that does not know DPoP ignores it.
    pub dpop: bool,
    /// RFC 9449 §8: proofs at the token endpoint must carry the server's
    /// nonce.
    pub dpop_nonce_required: bool,
    /// Proofs are ignored, as a server that does not know DPoP ignores
    /// them: the tokens are bearer tokens.
    pub dpop_ignored: bool,
    /// The acr values the simulated login can reach, the first the default.
    pub acr_values_supported: Vec<String>,
    /// Refuse `acr_values` in an authorization request without `openid`
    /// in its scope, as some servers do.
    pub acr_needs_openid: bool,
}

/// Every endpoint but the discovery documents: its counter name and the
/// path it is served at unless moved (see [`Settings::paths`]).
pub(crate) const ENDPOINTS: &[(&str, &str)] = &[
    ("authorize", "/authorize"),
    ("token", "/token"),
    ("device_authorization", "/device_authorization"),
    ("device_verify", "/device"),
    ("register", "/register"),
    ("revoke", "/revoke"),
    ("introspect", "/introspect"),
    ("par", "/par"),
    ("userinfo", "/userinfo"),
];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            token_lifetime: Some(3600),
            expires_in_as_string: false,
            client_credentials_refresh: false,
            rotate_refresh_tokens: true,
            auth_methods: ["client_secret_basic", "client_secret_post", "none"]
                .map(String::from)
                .to_vec(),
            metadata_mode: MetadataMode::Both,
            metadata_issuer: None,
            issuer_path: String::new(),
            device_grant: true,
            device_endpoint_published: true,
            device_pkce_required: false,
            revocation_keeps_access_tokens: false,
            registration: true,
            authorize_deny: false,
            device_deny: false,
            device_interval: 5,
            device_slow_down: 0,
            device_code_lifetime: 600,
            delay: Duration::ZERO,
            authorization_response_iss: false,
            par: crate::Par::Off,
            client_id_metadata_documents: false,
            id_token_lifetime: 3600,
            id_token_on_refresh: true,
            paths: ENDPOINTS
                .iter()
                .map(|(name, path)| (*name, Some((*path).to_owned())))
                .collect(),
            token_type: "Bearer".to_owned(),
            scope_field: "scope".to_owned(),
            token_answer_extra: Vec::new(),
            pkce_required: true,
            refresh_token_scope: None,
            device_uri_complete: true,
            device_message: false,
            dpop: false,
            dpop_nonce_required: false,
            dpop_ignored: false,
            acr_values_supported: ["pwd", "phr", "phrh"].map(String::from).to_vec(),
            acr_needs_openid: false,
        }
    }
}

pub(crate) struct Client {
    /// `None` for a public client (RFC 6749 §2.1).
    pub secret: Option<String>,
    pub redirect_uris: Vec<String>,
    /// Public keys (JWKs) for `private_key_jwt` (RFC 7523): a client with
    /// any must authenticate with an assertion one of them verifies.
    pub jwks: Vec<Value>,
}

/// RFC 6749 §4.1.2 with the RFC 7636 §4.4 challenge bound to it.
pub(crate) struct AuthorizationCode {
    pub client_id: String,
    /// As the client wrote it, for the exact comparison of RFC 6749 §4.1.3.
    pub redirect_uri: String,
    pub redirect_uri_given: bool,
    /// `None` when PKCE is not required and none was sent.
    pub challenge: Option<String>,
    pub scope: Option<String>,
    pub subject: String,
    pub expires_at: Instant,
    /// RFC 9449 §10: the key the code is bound to (`dpop_jkt`).
    pub dpop_jkt: Option<String>,
    /// The authentication the simulated login made (RFC 9470).
    pub authentication: Authentication,
    /// RFC 8707 `resource` of the authorization request.
    pub resource: Option<String>,
}

/// How the person authenticated: an acr value and when (RFC 9470 §6,
/// OpenID Connect Core §2 `acr`, `auth_time`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authentication {
    pub acr: String,
    pub auth_time: i64,
}

/// RFC 9126: an authorization request pushed ahead, until used or expired.
pub(crate) struct PushedRequest {
    pub client_id: String,
    pub params: Vec<(String, String)>,
    pub expires_at: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Pending,
    Approved,
    Denied,
}

/// RFC 8628 §3.2: one device authorization, keyed by its device_code.
pub(crate) struct DeviceAuthorization {
    pub client_id: String,
    pub user_code: String,
    pub scope: Option<String>,
    pub expires_at: Instant,
    pub decision: Decision,
    /// The S256 `code_challenge`, when PKCE is required of device logins.
    pub challenge: Option<String>,
    /// The `acr_values` and `max_age` asked for (RFC 9470 §4).
    pub acr_values: Option<String>,
    pub max_age: Option<i64>,
}

struct AccessToken {
    grant: Grant,
    /// Narrower than the grant's after a refresh that asked for less.
    scope: Option<String>,
    /// Unix seconds; `None` when the server states no lifetime.
    exp: Option<i64>,
    revoked: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefreshStatus {
    Active,
    /// Replaced by a newer token; presenting it again means it leaked.
    Rotated,
    Revoked,
}

/// What one authorization established; every token issued from it (its
/// family) shares this, so revocation and reuse detection act on all of them.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub client_id: String,
    pub subject: String,
    /// The scope granted; RFC 6749 §6: a refresh may narrow it, never widen it.
    pub scope: Option<String>,
    pub family: u64,
    /// RFC 9449 §5, §6: the key the grant's tokens are bound to; a refresh
    /// must prove possession of it.
    pub jkt: Option<String>,
    /// The person's authentication behind the grant; `None` for a client's.
    pub authentication: Option<Authentication>,
    /// RFC 8707: the resource the tokens are for (their audience).
    pub resource: Option<String>,
}

pub(crate) struct RefreshToken {
    pub grant: Grant,
    pub status: RefreshStatus,
}

/// What introspection (RFC 7662 §2.2) may tell about an active token.
pub(crate) struct ActiveToken {
    pub client_id: String,
    pub subject: String,
    pub scope: Option<String>,
    pub exp: Option<i64>,
    pub is_access_token: bool,
    /// RFC 9449 §6.2 `cnf.jkt`.
    pub jkt: Option<String>,
    pub authentication: Option<Authentication>,
    /// RFC 8707: the resource it was issued for.
    pub resource: Option<String>,
}

/// Answers queued by `fail_next` / `fail_next_on`, used in order.
pub(crate) struct FaultRule {
    pub path: Option<String>,
    pub remaining: usize,
    pub fault: Fault,
}

pub(crate) struct State {
    pub issuer: String,
    pub settings: Settings,
    pub clients: HashMap<String, Client>,
    pub registered: Vec<String>,
    pub faults: VecDeque<FaultRule>,
    pub counts: HashMap<String, usize>,
    pub last: HashMap<String, RecordedRequest>,
    pub poll_times: Vec<Instant>,
    pub codes: HashMap<String, AuthorizationCode>,
    /// Codes already exchanged, with the token family they started (RFC 6749 §4.1.2).
    pub redeemed_codes: HashMap<String, u64>,
    pub devices: HashMap<String, DeviceAuthorization>,
    pub refresh_tokens: HashMap<String, RefreshToken>,
    access_tokens: HashMap<String, AccessToken>,
    /// ID tokens issued, with their `exp` (Unix seconds).
    id_tokens: HashMap<String, i64>,
    next_family: u64,
    /// `jti`s of client assertions accepted, refused when seen again
    /// (RFC 7523 §3 item 7).
    pub seen_jtis: std::collections::HashSet<String>,
    /// Issuers whose JWTs a token exchange accepts as subject tokens
    /// (RFC 8693), with their keys.
    pub subject_issuers: Vec<(String, Vec<Value>)>,
    /// RFC 9449 §8: the nonce proofs at the token endpoint must carry.
    pub dpop_nonce: String,
    /// The `jti`s of DPoP proofs accepted at the token endpoint.
    pub dpop_jtis: std::collections::HashSet<String>,
    /// The thumbprint of every proof accepted at the token endpoint, in order.
    pub proof_jkts: Vec<String>,
    /// The simulated person's last authentication, per subject: a login
    /// reuses it (single sign-on) unless an acr value or `max_age` asks
    /// for another.
    pub sessions: HashMap<String, Authentication>,
    /// RFC 9126 pushed requests, by `request_uri`.
    pub pushed: HashMap<String, PushedRequest>,
}

impl State {
    pub(crate) fn new(issuer: String) -> State {
        State {
            issuer,
            settings: Settings::default(),
            clients: HashMap::new(),
            registered: Vec::new(),
            faults: VecDeque::new(),
            counts: HashMap::new(),
            last: HashMap::new(),
            poll_times: Vec::new(),
            codes: HashMap::new(),
            redeemed_codes: HashMap::new(),
            devices: HashMap::new(),
            refresh_tokens: HashMap::new(),
            access_tokens: HashMap::new(),
            id_tokens: HashMap::new(),
            next_family: 0,
            seen_jtis: Default::default(),
            subject_issuers: Vec::new(),
            dpop_nonce: random_token("nonce_"),
            dpop_jtis: Default::default(),
            proof_jkts: Vec::new(),
            sessions: HashMap::new(),
            pushed: HashMap::new(),
        }
    }

    /// The simulated login of `subject` asked for `acr_values` and
    /// `max_age` (RFC 9470 §4, OpenID Connect Core §3.1.2.1): the first
    /// acr value it can reach (else the one of the person's session, else
    /// the default); the session's authentication when it has that acr
    /// and is recent enough, else a new one, now. Counted under
    /// `authenticate` when the person had to authenticate.
    pub(crate) fn authenticate(
        &mut self,
        subject: &str,
        acr_values: Option<&str>,
        max_age: Option<i64>,
    ) -> Authentication {
        let now = unix_now();
        let supported = &self.settings.acr_values_supported;
        let asked = acr_values
            .unwrap_or_default()
            .split(' ')
            .find(|a| supported.iter().any(|s| s == a))
            .map(str::to_owned);
        let session = self.sessions.get(subject).cloned();
        let acr = asked
            .or_else(|| session.as_ref().map(|s| s.acr.clone()))
            .or_else(|| supported.first().cloned())
            .unwrap_or_else(|| "pwd".to_owned());
        if let Some(s) = session
            && s.acr == acr
            && max_age.is_none_or(|max| now - s.auth_time <= max)
        {
            return s;
        }
        self.bump("authenticate");
        let fresh = Authentication {
            acr,
            auth_time: now,
        };
        self.sessions.insert(subject.to_owned(), fresh.clone());
        fresh
    }

    /// The issuer identifier: the origin and the issuer path, if any.
    pub(crate) fn issuer_id(&self) -> String {
        format!("{}{}", self.issuer, self.settings.issuer_path)
    }

    /// The path `endpoint` (a counter name of [`ENDPOINTS`]) is served at.
    pub(crate) fn path_of(&self, endpoint: &str) -> Option<&str> {
        self.settings.paths.get(endpoint)?.as_deref()
    }

    /// The absolute URL of `endpoint`, when it is served.
    pub(crate) fn url_of(&self, endpoint: &str) -> Option<String> {
        self.path_of(endpoint)
            .map(|path| format!("{}{path}", self.issuer))
    }

    /// The endpoint (its counter name) served at `path`.
    pub(crate) fn endpoint_at(&self, path: &str) -> Option<&'static str> {
        ENDPOINTS
            .iter()
            .map(|(name, _)| *name)
            .find(|name| self.path_of(name) == Some(path))
    }

    /// The next queued fault that applies to `path`, used up by one.
    pub(crate) fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let i = self
            .faults
            .iter()
            .position(|rule| rule.path.as_deref().is_none_or(|p| p == path))?;
        let rule = &mut self.faults[i];
        rule.remaining -= 1;
        let fault = rule.fault.clone();
        if rule.remaining == 0 {
            self.faults.remove(i);
        }
        Some(fault)
    }

    pub(crate) fn bump(&mut self, key: &str) {
        *self.counts.entry(key.to_owned()).or_default() += 1;
    }

    /// Starts a new grant: a new token family.
    pub(crate) fn grant(&mut self, client_id: &str, subject: &str, scope: Option<&str>) -> Grant {
        self.next_family += 1;
        Grant {
            client_id: client_id.to_owned(),
            subject: subject.to_owned(),
            scope: scope.map(str::to_owned),
            family: self.next_family,
            jkt: None,
            authentication: None,
            resource: None,
        }
    }

    /// RFC 6749 §5.1: issues an access token for `scope` (the grant's, or a
    /// narrower one), and a refresh token when asked, and writes the answer.
    /// With `openid` in the scope the answer carries an ID token too
    /// (OpenID Connect Core §3.1.3.3), unless this is a refresh and the
    /// server is set to leave it out there.
    pub(crate) fn issue(&mut self, grant: &Grant, scope: Option<&str>, refresh: bool) -> Value {
        self.issue_answer(grant, scope, refresh, true)
    }

    /// [`State::issue`] for a refresh (RFC 6749 §6).
    pub(crate) fn issue_refreshed(
        &mut self,
        grant: &Grant,
        scope: Option<&str>,
        rotate: bool,
    ) -> Value {
        let id_token = self.settings.id_token_on_refresh;
        self.issue_answer(grant, scope, rotate, id_token)
    }

    fn issue_answer(
        &mut self,
        grant: &Grant,
        scope: Option<&str>,
        refresh: bool,
        id_token: bool,
    ) -> Value {
        let access_token = random_token("at_");
        let lifetime = self.settings.token_lifetime;
        self.access_tokens.insert(
            access_token.clone(),
            AccessToken {
                grant: grant.clone(),
                scope: scope.map(str::to_owned),
                exp: lifetime.map(|secs| unix_now().saturating_add(secs)),
                revoked: false,
            },
        );
        let mut answer = Map::new();
        answer.insert("access_token".into(), access_token.into());
        let token_type = match grant.jkt {
            Some(_) => "DPoP".to_owned(),
            None => self.settings.token_type.clone(),
        };
        answer.insert("token_type".into(), token_type.into());
        if let Some(secs) = lifetime {
            let expires_in = match self.settings.expires_in_as_string {
                true => Value::from(secs.to_string()),
                false => Value::from(secs),
            };
            answer.insert("expires_in".into(), expires_in);
        }
        let offline = match &self.settings.refresh_token_scope {
            Some(needed) => scope.is_some_and(|s| s.split(' ').any(|w| w == needed)),
            None => true,
        };
        if refresh && offline {
            let refresh_token = random_token("rt_");
            let stored = RefreshToken {
                grant: grant.clone(),
                status: RefreshStatus::Active,
            };
            self.refresh_tokens.insert(refresh_token.clone(), stored);
            answer.insert("refresh_token".into(), refresh_token.into());
        }
        if let Some(scope) = scope {
            answer.insert(self.settings.scope_field.clone(), scope.into());
        }
        for (name, value) in &self.settings.token_answer_extra {
            answer.insert(name.clone(), value.clone());
        }
        if id_token && scope.is_some_and(|s| s.split(' ').any(|w| w == "openid")) {
            answer.insert("id_token".into(), self.id_token(grant).into());
        }
        Value::Object(answer)
    }

    /// An ID token's shape (OpenID Connect Core §2): a JWS compact
    /// serialization with `iss`, `sub`, `aud`, `exp` and `iat`. The third
    /// part is random bytes, not a signature: this server publishes no
    /// keys, and its tests check the token by asking the server whether it
    /// issued it ([`State::is_id_token`]), as a relying party checks a
    /// signature.
    fn id_token(&mut self, grant: &Grant) -> String {
        let now = unix_now();
        let exp = now.saturating_add(self.settings.id_token_lifetime);
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "oauth-test-server"});
        let mut claims = serde_json::json!({
            "iss": self.issuer_id(),
            "sub": grant.subject,
            "aud": grant.client_id,
            "exp": exp,
            "iat": now,
        });
        if let Some(a) = &grant.authentication {
            claims["acr"] = a.acr.clone().into();
            claims["auth_time"] = a.auth_time.into();
        }
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            URL_SAFE_NO_PAD.encode(random_bytes::<32>())
        );
        self.id_tokens.insert(token.clone(), exp);
        token
    }

    /// Whether `token` is an ID token this server issued that has not expired.
    pub(crate) fn is_id_token(&self, token: &str) -> bool {
        self.id_tokens
            .get(token)
            .is_some_and(|exp| *exp > unix_now())
    }

    /// RFC 7009 §2.1: revoking a refresh token also revokes the access
    /// tokens of the same grant; here, the whole family.
    pub(crate) fn revoke_family(&mut self, family: u64) {
        for token in self.refresh_tokens.values_mut() {
            if token.grant.family == family {
                token.status = RefreshStatus::Revoked;
            }
        }
        for token in self.access_tokens.values_mut() {
            if token.grant.family == family {
                token.revoked = true;
            }
        }
    }

    /// Revokes the refresh tokens of a family and leaves its access tokens.
    pub(crate) fn revoke_refresh_tokens_of(&mut self, family: u64) {
        for token in self.refresh_tokens.values_mut() {
            if token.grant.family == family {
                token.status = RefreshStatus::Revoked;
            }
        }
    }

    /// Revokes one access token, when it was issued to `client_id`.
    pub(crate) fn revoke_access_token(&mut self, token: &str, client_id: &str) {
        if let Some(token) = self.access_tokens.get_mut(token)
            && token.grant.client_id == client_id
        {
            token.revoked = true;
        }
    }

    pub(crate) fn expire_access_tokens(&mut self) {
        for token in self.access_tokens.values_mut() {
            token.revoked = true;
        }
    }

    pub(crate) fn revoke_all_refresh_tokens(&mut self) {
        for token in self.refresh_tokens.values_mut() {
            token.status = RefreshStatus::Revoked;
        }
    }

    pub(crate) fn active_token(&self, token: &str) -> Option<ActiveToken> {
        if let Some(t) = self.access_tokens.get(token) {
            let live = !t.revoked && t.exp.is_none_or(|exp| exp > unix_now());
            return live.then(|| ActiveToken {
                client_id: t.grant.client_id.clone(),
                subject: t.grant.subject.clone(),
                scope: t.scope.clone(),
                exp: t.exp,
                is_access_token: true,
                jkt: t.grant.jkt.clone(),
                authentication: t.grant.authentication.clone(),
                resource: t.grant.resource.clone(),
            });
        }
        let t = self.refresh_tokens.get(token)?;
        (t.status == RefreshStatus::Active).then(|| ActiveToken {
            client_id: t.grant.client_id.clone(),
            subject: t.grant.subject.clone(),
            scope: t.grant.scope.clone(),
            exp: None,
            is_access_token: false,
            jkt: t.grant.jkt.clone(),
            authentication: t.grant.authentication.clone(),
            resource: t.grant.resource.clone(),
        })
    }
}

pub(crate) fn unix_now() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH);
    since_epoch.map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0; N];
    // The OS RNG answers on every platform the tests run on; should it ever
    // fail, the thread RNG (a CSPRNG seeded from it) beats a panicking server.
    if SysRng.try_fill_bytes(&mut bytes).is_err() {
        rand::rng().fill_bytes(&mut bytes);
    }
    bytes
}

/// 256 bits from the OS RNG, base64url: 43 characters after the prefix.
pub(crate) fn random_token(prefix: &str) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

/// RFC 8628 §6.1: eight characters from 20 consonants (no vowels, so no
/// words), shown as `XXXX-XXXX`; about 34 bits.
pub(crate) fn random_user_code() -> String {
    const ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
    let mut code = String::with_capacity(9);
    while code.len() < 9 {
        for byte in random_bytes::<16>() {
            // 240 is the largest multiple of 20 below 256: no bias.
            if byte >= 240 || code.len() == 9 {
                continue;
            }
            if code.len() == 4 {
                code.push('-');
            }
            code.push(char::from(ALPHABET[usize::from(byte % 20)]));
        }
    }
    code
}

/// RFC 8628 §6.1: user codes compare without case or dashes.
pub(crate) fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_look_like_the_rfc_example() {
        let code = random_user_code();
        assert_eq!(code.len(), 9, "{code}");
        assert_eq!(code.as_bytes()[4], b'-', "{code}");
        assert_eq!(
            normalize_user_code(&code.to_lowercase()),
            code.replace('-', "")
        );
    }

    #[test]
    fn tokens_carry_256_bits() {
        let token = random_token("at_");
        assert_eq!(token.len(), 3 + 43);
        assert_ne!(token, random_token("at_"));
    }
}
