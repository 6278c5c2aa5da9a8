//! One function per endpoint: a recorded request and the state in, an answer out.

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use url::{Host, Url};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::MetadataMode;
use super::state::{
    AuthorizationCode, CODE_LIFETIME, Client, Decision, DeviceAuthorization, RefreshStatus, State,
    TEST_USER, normalize_user_code, random_token, random_user_code, unix_now,
};
use super::wire::{OAuthError, Params, RecordedRequest, Reply, basic_credentials, credentials};

/// RFC 8693 §2.1.
const TOKEN_EXCHANGE_GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// RFC 8628 §3.4.
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Both arms are complete answers; `Err` lets `?` end a handler early.
type Answer = Result<Reply, Reply>;

/// Counts and records a request as it arrives, before any fault or delay,
/// so tests see every request a client made.
pub(crate) fn note(st: &mut State, rq: &RecordedRequest, arrived: Instant) {
    // The discovery documents, which move with the issuer path, are counted
    // apart (see [`document`]).
    if let Some(key) = st.endpoint_at(&rq.path) {
        st.bump(key);
    }
    match document(st, &rq.path) {
        Some(MetadataMode::Rfc8414) => st.bump("metadata"),
        Some(MetadataMode::Rfc8414PathAppended) => st.bump("metadata_appended"),
        Some(_) => st.bump("oidc"),
        None => {}
    }
    if st.endpoint_at(&rq.path) == Some("token") {
        match rq.header("dpop") {
            Some(_) => st.bump("token_with_dpop"),
            None => st.bump("token_without_dpop"),
        }
        let grant_type = rq.form.iter().find(|(n, _)| n == "grant_type");
        match grant_type.map(|(_, v)| v.as_str()) {
            Some(g @ ("client_credentials" | "authorization_code" | "refresh_token")) => st.bump(g),
            Some(TOKEN_EXCHANGE_GRANT) => st.bump("token_exchange"),
            Some(DEVICE_CODE_GRANT) => {
                st.bump("device_code");
                st.poll_times.push(arrived);
            }
            _ => {}
        }
    }
    st.last.insert(rq.path.clone(), rq.clone());
}

pub(crate) fn answer(st: &mut State, rq: &RecordedRequest) -> Reply {
    if let Some(document) = document(st, &rq.path) {
        return metadata(st, rq, document).unwrap_or_else(|reply| reply);
    }
    let answer = match st.endpoint_at(&rq.path) {
        Some("authorize") => authorize(st, rq),
        Some("token") => token(st, rq).map(Reply::no_store).map_err(Reply::no_store),
        Some("device_authorization") => device_authorization(st, rq),
        Some("device_verify") => device_page(st, rq),
        Some("register") => register(st, rq),
        Some("revoke") => revoke(st, rq),
        Some("introspect") => introspect(st, rq),
        Some("par") => par(st, rq).map(Reply::no_store),
        Some("userinfo") => userinfo(st, rq),
        _ => Err(not_found(rq)),
    };
    answer.unwrap_or_else(|reply| reply)
}

fn not_found(rq: &RecordedRequest) -> Reply {
    let description = format!("nothing is served at {}", rq.path);
    Reply::json(
        404,
        &json!({ "error": "not_found", "error_description": description }),
    )
}

fn allow(rq: &RecordedRequest, methods: &[&str]) -> Result<(), Reply> {
    if methods.contains(&rq.method.as_str()) {
        return Ok(());
    }
    let allowed = methods.join(", ");
    let description = format!("{} answers {allowed}", rq.path);
    let error = OAuthError::new(405, "invalid_request", description);
    Err(Reply::from(error).with_header("Allow", &allowed))
}

/// The parameters of a form POST (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1, RFC 8628 §3.1).
fn form_post(rq: &RecordedRequest) -> Result<Params<'_>, Reply> {
    allow(rq, &["POST"])?;
    if !rq.has_content_type("application/x-www-form-urlencoded") {
        let description = "the body must be application/x-www-form-urlencoded";
        return Err(OAuthError::invalid_request(description).into());
    }
    Ok(Params::new(&rq.form)?)
}

/// Which discovery document `path` asks for, under the issuer path: RFC
/// 8414 §3.1 inserts the well-known segment before it (`Rfc8414`), some
/// servers append it instead (`Rfc8414PathAppended`), OpenID Connect
/// Discovery §4 appends its own (`OidcOnly`). Without an issuer path the
/// two RFC 8414 forms are one URL, taken as `Rfc8414`.
fn document(st: &State, path: &str) -> Option<MetadataMode> {
    let issuer_path = &st.settings.issuer_path;
    let rfc8414 = "/.well-known/oauth-authorization-server";
    if path == format!("{rfc8414}{issuer_path}") {
        Some(MetadataMode::Rfc8414)
    } else if path == format!("{issuer_path}{rfc8414}") {
        Some(MetadataMode::Rfc8414PathAppended)
    } else if path == format!("{issuer_path}/.well-known/openid-configuration") {
        Some(MetadataMode::OidcOnly)
    } else {
        None
    }
}

/// RFC 8414 §2 (and OpenID Connect Discovery 1.0 §3, which shares the fields).
fn metadata(st: &State, rq: &RecordedRequest, document: MetadataMode) -> Answer {
    allow(rq, &["GET"])?;
    let served = st.settings.metadata_mode;
    let appended_here =
        served == MetadataMode::Rfc8414PathAppended && st.settings.issuer_path.is_empty();
    let serves = served == document
        || (served == MetadataMode::Both && document != MetadataMode::Rfc8414PathAppended)
        || (appended_here && document == MetadataMode::Rfc8414);
    if !serves {
        return Err(not_found(rq));
    }
    let mut grant_types = vec!["authorization_code", "refresh_token", "client_credentials"];
    if st.settings.device_grant {
        grant_types.push(DEVICE_CODE_GRANT);
    }
    let issuer = st.settings.metadata_issuer.clone();
    let issuer = issuer.unwrap_or_else(|| st.issuer_id());
    let mut doc = json!({
        "issuer": issuer,
        "token_endpoint_auth_methods_supported": st.settings.auth_methods,
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": grant_types,
        "response_types_supported": ["code"],
        "scopes_supported": ["openid", "profile", "email", "read", "write"],
    });
    // Only what is served is named.
    let mut name = |field: &str, endpoint: &str| {
        if let Some(url) = st.url_of(endpoint) {
            doc[field] = url.into();
        }
    };
    name("authorization_endpoint", "authorize");
    name("token_endpoint", "token");
    name("revocation_endpoint", "revoke");
    name("introspection_endpoint", "introspect");
    name("userinfo_endpoint", "userinfo");
    if st.settings.device_grant && st.settings.device_endpoint_published {
        name("device_authorization_endpoint", "device_authorization");
    }
    if st.settings.registration {
        name("registration_endpoint", "register");
    }
    if st.settings.par != crate::Par::Off {
        name("pushed_authorization_request_endpoint", "par");
        doc["require_pushed_authorization_requests"] =
            (st.settings.par == crate::Par::Required).into();
    }
    if st.settings.authorization_response_iss {
        doc["authorization_response_iss_parameter_supported"] = true.into();
    }
    if st.settings.dpop {
        doc["dpop_signing_alg_values_supported"] = json!(["ES256"]);
    }
    // OpenID Connect Discovery §3: it issues ID tokens (with `openid`).
    doc["id_token_signing_alg_values_supported"] = json!(["RS256"]);
    doc["acr_values_supported"] = json!(st.settings.acr_values_supported);
    if st.settings.client_id_metadata_documents {
        doc["client_id_metadata_document_supported"] = true.into();
    }
    Ok(Reply::json(200, &doc))
}

/// The client a request authenticated as.
struct Authenticated {
    id: String,
    confidential: bool,
}

/// RFC 6749 §2.3.1: `client_secret_basic`, `client_secret_post`, or a public
/// client naming itself with `client_id` (method `none`, RFC 7591 §2).
fn authenticate(
    st: &mut State,
    rq: &RecordedRequest,
    form: &Params,
) -> Result<Authenticated, Reply> {
    if let Some(kind) = form.get("client_assertion_type") {
        return authenticate_by_assertion(st, rq, form, kind);
    }
    let (id, secret, method) = match credentials(rq, "Basic") {
        Some(encoded) => {
            let (id, secret) = basic_credentials(encoded)
                .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            // RFC 6749 §2.3: one authentication method per request.
            if form.get("client_secret").is_some() {
                let description = "client_secret sent both in Basic and in the body";
                return Err(OAuthError::invalid_request(description).into());
            }
            if form.get("client_id").is_some_and(|body_id| body_id != id) {
                let description = "client_id in the body differs from the Basic credentials";
                return Err(OAuthError::invalid_request(description).into());
            }
            (id, Some(secret), "client_secret_basic")
        }
        None => match (form.get("client_id"), form.get("client_secret")) {
            (Some(id), secret) => {
                let method = if secret.is_some() {
                    "client_secret_post"
                } else {
                    "none"
                };
                (id.to_owned(), secret.map(str::to_owned), method)
            }
            (None, _) => return Err(OAuthError::invalid_client("no client authentication").into()),
        },
    };
    metadata_document_client(st, &id);
    let Some(client) = st.clients.get(&id) else {
        return Err(OAuthError::invalid_client(format!("unknown client {id}")).into());
    };
    if !client.jwks.is_empty() {
        let description = format!("{id} must authenticate with private_key_jwt");
        return Err(OAuthError::invalid_client(description).into());
    }
    let confidential = match (&client.secret, secret) {
        (None, None) => false,
        (None, Some(_)) => {
            let description = format!("{id} is a public client and has no secret");
            return Err(OAuthError::invalid_client(description).into());
        }
        (Some(_), None) => {
            let description = format!("{id} is a confidential client and must authenticate");
            return Err(OAuthError::invalid_client(description).into());
        }
        (Some(expected), Some(given)) => {
            if !st.settings.auth_methods.iter().any(|m| m == method) {
                let description = format!("{method} is not an accepted authentication method");
                return Err(OAuthError::invalid_client(description).into());
            }
            if *expected != given {
                return Err(OAuthError::invalid_client("wrong client secret").into());
            }
            true
        }
    };
    Ok(Authenticated { id, confidential })
}

/// RFC 7523 §2.2, §3: a JWT that one of the client's registered keys
/// signed, for this server, unexpired, and not seen before.
fn authenticate_by_assertion(
    st: &mut State,
    rq: &RecordedRequest,
    form: &Params,
    kind: &str,
) -> Result<Authenticated, Reply> {
    use super::assertion::{JWT_BEARER, check_client_claims, verified_claims};
    let refuse = |d: String| -> Reply { OAuthError::invalid_client(d).into() };
    if kind != JWT_BEARER {
        return Err(refuse(format!(
            "client_assertion_type {kind} is not supported"
        )));
    }
    if credentials(rq, "Basic").is_some() || form.get("client_secret").is_some() {
        let description = "a client assertion and a secret in one request";
        return Err(OAuthError::invalid_request(description).into());
    }
    let jwt = form
        .get("client_assertion")
        .ok_or_else(|| refuse("client_assertion is missing".into()))?;
    let Some(id) = form.get("client_id").map(str::to_owned) else {
        return Err(refuse("client_id is missing".into()));
    };
    let Some(client) = st.clients.get(&id) else {
        return Err(refuse(format!("unknown client {id}")));
    };
    if client.jwks.is_empty() {
        return Err(refuse(format!("{id} has no registered keys")));
    }
    let claims = verified_claims(jwt, &client.jwks).map_err(refuse)?;
    let audiences = [format!("{}/token", st.issuer), st.issuer_id()];
    let jti = check_client_claims(&claims, &id, &audiences, unix_now()).map_err(refuse)?;
    if !st.seen_jtis.insert(jti) {
        return Err(refuse(
            "the assertion was used before (jti replayed)".into(),
        ));
    }
    Ok(Authenticated {
        id,
        confidential: true,
    })
}

/// A client id that is the URL of a Client ID Metadata Document, where
/// they are supported: known from then on as a public client (the
/// document is not fetched; any loopback redirect is accepted).
fn metadata_document_client(st: &mut State, id: &str) {
    let is_url = Url::parse(id).is_ok_and(|u| u.scheme() == "https" || is_loopback(&u));
    if st.settings.client_id_metadata_documents && is_url && !st.clients.contains_key(id) {
        let client = Client {
            secret: None,
            redirect_uris: Vec::new(),
            jwks: Vec::new(),
        };
        st.clients.insert(id.to_owned(), client);
    }
}

/// RFC 8707 §2: `resource` is an absolute URI without a fragment.
fn requested_resource(params: &Params) -> Result<Option<String>, OAuthError> {
    let Some(raw) = params.get("resource") else {
        return Ok(None);
    };
    match Url::parse(raw) {
        Ok(u) if u.fragment().is_none() => Ok(Some(raw.to_owned())),
        _ => Err(OAuthError::new(
            400,
            "invalid_target",
            "resource must be an absolute URI without a fragment",
        )),
    }
}

/// RFC 8707 §2.2: a token request may name the resource the grant is
/// for, and no other.
fn bound_resource(
    granted: Option<&str>,
    asked: Option<String>,
) -> Result<Option<String>, OAuthError> {
    match (granted, asked) {
        (Some(g), Some(a)) if g != a => Err(OAuthError::new(
            400,
            "invalid_target",
            "resource differs from the one the grant is for",
        )),
        (Some(g), _) => Ok(Some(g.to_owned())),
        (None, asked) => Ok(asked),
    }
}

/// RFC 6749 §3.3: space-delimited scope tokens of NQCHAR; `None` when absent.
fn requested_scope(params: &Params) -> Result<Option<String>, OAuthError> {
    let Some(raw) = params.get("scope") else {
        return Ok(None);
    };
    let tokens: Vec<&str> = raw.split(' ').filter(|t| !t.is_empty()).collect();
    let nqchar = |b: u8| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E);
    if tokens.iter().any(|t| !t.bytes().all(nqchar)) {
        return Err(OAuthError::new(400, "invalid_scope", "malformed scope"));
    }
    Ok((!tokens.is_empty()).then(|| tokens.join(" ")))
}

fn is_subset(requested: &str, granted: Option<&str>) -> bool {
    let granted = granted.unwrap_or_default();
    requested
        .split(' ')
        .all(|t| granted.split(' ').any(|g| g == t))
}

/// RFC 6749 §3.2, with DPoP (RFC 9449 §5): a proof, checked before
/// anything is redeemed, binds what is issued to its key.
fn token(st: &mut State, rq: &RecordedRequest) -> Answer {
    let form = form_post(rq)?;
    let jkt = token_endpoint_proof(st, rq)?;
    let answer = token_grant(st, rq, &form, jkt.as_deref());
    if !st.settings.dpop_nonce_required {
        return answer;
    }
    // RFC 9449 §8.2: the nonce to use next comes with every answer.
    let nonce = st.dpop_nonce.clone();
    match answer {
        Ok(reply) => Ok(reply.with_header("DPoP-Nonce", &nonce)),
        Err(reply) => Err(reply.with_header("DPoP-Nonce", &nonce)),
    }
}

/// RFC 9449 §4.3 at the token endpoint: the thumbprint of the key the
/// `DPoP` header proves, `None` without one (or when the server is set to
/// ignore proofs); a bad proof, a replayed one, or one without the
/// current nonce (when nonces are required) is refused.
fn token_endpoint_proof(st: &mut State, rq: &RecordedRequest) -> Result<Option<String>, Reply> {
    let proofs: Vec<&str> = rq
        .headers
        .iter()
        .filter(|(n, _)| n == "dpop")
        .map(|(_, v)| v.as_str())
        .collect();
    let proof = match proofs[..] {
        [] => return Ok(None),
        [_] if st.settings.dpop_ignored => return Ok(None),
        [one] => one,
        _ => {
            let e = OAuthError::new(400, "invalid_dpop_proof", "more than one DPoP header");
            return Err(e.into());
        }
    };
    // The URL the request was made to: the token endpoint, wherever it is.
    let url = format!("{}{}", st.issuer, rq.path);
    let nonce = st.dpop_nonce.clone();
    let expected = super::dpop::Expected {
        method: &rq.method,
        url: &url,
        access_token: None,
        nonce: st.settings.dpop_nonce_required.then_some(nonce.as_str()),
        now: unix_now(),
    };
    let verified = super::dpop::verify(proof, &expected).map_err(|refused| {
        let reply: Reply = OAuthError::new(400, refused.error, refused.description).into();
        match refused.error {
            "use_dpop_nonce" => reply.with_header("DPoP-Nonce", &nonce),
            _ => reply,
        }
    })?;
    if !st.dpop_jtis.insert(verified.jti) {
        let e = OAuthError::new(400, "invalid_dpop_proof", "the proof was used before");
        return Err(e.into());
    }
    st.proof_jkts.push(verified.jkt.clone());
    Ok(Some(verified.jkt))
}

/// The grant a token request asks for; `jkt` binds what it issues.
fn token_grant(st: &mut State, rq: &RecordedRequest, form: &Params, jkt: Option<&str>) -> Answer {
    // RFC 8693 §2.1: client authentication is optional for a token
    // exchange (security token services take none).
    let anonymous = credentials(rq, "Basic").is_none()
        && form.get("client_id").is_none()
        && form.get("client_assertion").is_none();
    if anonymous && form.get("grant_type") == Some(TOKEN_EXCHANGE_GRANT) {
        return Ok(Reply::json(200, &token_exchange(st, None, form, jkt)?));
    }
    let client = authenticate(st, rq, form)?;
    let answer = match form.get("grant_type") {
        Some(TOKEN_EXCHANGE_GRANT) => token_exchange(st, Some(&client), form, jkt)?,
        None => return Err(OAuthError::invalid_request("grant_type is required").into()),
        Some("client_credentials") => client_credentials(st, &client, form, jkt)?,
        Some("authorization_code") => authorization_code(st, &client, form, jkt)?,
        Some("refresh_token") => refresh(st, &client, form, jkt)?,
        Some(DEVICE_CODE_GRANT) => device_code(st, &client, form, jkt)?,
        Some(other) => {
            let description = format!("grant_type {other} is not supported");
            return Err(OAuthError::new(400, "unsupported_grant_type", description).into());
        }
    };
    Ok(Reply::json(200, &answer))
}

/// RFC 6749 §4.4.
fn client_credentials(
    st: &mut State,
    client: &Authenticated,
    form: &Params,
    jkt: Option<&str>,
) -> Result<Value, OAuthError> {
    if !client.confidential {
        let description = "client_credentials needs a confidential client";
        return Err(OAuthError::new(400, "unauthorized_client", description));
    }
    let scope = requested_scope(form)?;
    let mut grant = st.grant(&client.id, &client.id, scope.as_deref());
    grant.jkt = jkt.map(str::to_owned);
    grant.resource = requested_resource(form)?;
    // RFC 6749 §4.4.3: a refresh token SHOULD NOT be included; the knob models servers that do.
    let refresh = st.settings.client_credentials_refresh;
    Ok(st.issue(&grant, scope.as_deref(), refresh))
}

/// RFC 8693 §2: a JWT subject token signed by a trusted issuer's key, for
/// this server (`aud`), unexpired, exchanged for an access token of its
/// `sub`.
fn token_exchange(
    st: &mut State,
    client: Option<&Authenticated>,
    form: &Params,
    jkt: Option<&str>,
) -> Result<Value, OAuthError> {
    use super::assertion::verified_claims;
    let bad = |d: String| OAuthError::invalid_request(d);
    let subject = form
        .get("subject_token")
        .ok_or_else(|| bad("subject_token is required".into()))?;
    match form.get("subject_token_type") {
        Some(
            "urn:ietf:params:oauth:token-type:jwt" | "urn:ietf:params:oauth:token-type:id_token",
        ) => {}
        Some(other) => return Err(bad(format!("subject_token_type {other} is not supported"))),
        None => return Err(bad("subject_token_type is required".into())),
    }
    let claims = st
        .subject_issuers
        .iter()
        .find_map(|(issuer, jwks)| {
            verified_claims(subject, jwks)
                .ok()
                .filter(|c| c["iss"].as_str() == Some(issuer))
        })
        .ok_or_else(|| bad("the subject token is not signed by a trusted issuer".into()))?;
    let aud_ok = match &claims["aud"] {
        Value::String(a) => *a == st.issuer_id(),
        Value::Array(a) => a.iter().any(|v| v.as_str() == Some(&st.issuer_id())),
        _ => false,
    };
    if !aud_ok {
        return Err(bad("the subject token's audience is not this server".into()));
    }
    if claims["exp"].as_i64().is_none_or(|exp| exp <= unix_now()) {
        return Err(bad("the subject token has expired".into()));
    }
    let sub = claims["sub"]
        .as_str()
        .ok_or_else(|| bad("the subject token has no sub".into()))?;
    let scope = requested_scope(form)?;
    let client_id = client.map_or("token-exchange", |c| c.id.as_str());
    let mut grant = st.grant(client_id, sub, scope.as_deref());
    grant.jkt = jkt.map(str::to_owned);
    let mut answer = st.issue(&grant, scope.as_deref(), false);
    answer["issued_token_type"] = "urn:ietf:params:oauth:token-type:access_token".into();
    Ok(answer)
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.6.
fn authorization_code(
    st: &mut State,
    client: &Authenticated,
    form: &Params,
    jkt: Option<&str>,
) -> Result<Value, OAuthError> {
    let code = form
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    // RFC 6749 §4.1.2: single use; a second use revokes what the first one issued.
    let Some(issued) = st.codes.remove(code) else {
        if let Some(family) = st.redeemed_codes.get(code).copied() {
            st.revoke_family(family);
            return Err(OAuthError::invalid_grant("authorization code already used"));
        }
        return Err(OAuthError::invalid_grant("unknown authorization code"));
    };
    if issued.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the code was issued to another client",
        ));
    }
    if Instant::now() >= issued.expires_at {
        return Err(OAuthError::invalid_grant("the authorization code expired"));
    }
    match form.get("redirect_uri") {
        Some(uri) if uri != issued.redirect_uri => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri differs from the authorization request",
            ));
        }
        None if issued.redirect_uri_given => {
            return Err(OAuthError::invalid_grant(
                "redirect_uri is required: the authorization request had one",
            ));
        }
        _ => {}
    }
    // Without PKCE required, a verifier is ignored like any unknown parameter.
    if let Some(challenge) = issued
        .challenge
        .as_ref()
        .filter(|_| st.settings.pkce_required)
    {
        check_verifier(form, challenge)?;
    }
    // RFC 9449 §10.1: a code bound to a key is redeemed only with it.
    if let Some(bound) = &issued.dpop_jkt
        && jkt != Some(bound.as_str())
    {
        return Err(OAuthError::invalid_grant(
            "the code is bound to another DPoP key (dpop_jkt)",
        ));
    }
    let resource = bound_resource(issued.resource.as_deref(), requested_resource(form)?)?;
    let mut grant = st.grant(&client.id, &issued.subject, issued.scope.as_deref());
    grant.jkt = jkt.map(str::to_owned);
    grant.authentication = Some(issued.authentication.clone());
    grant.resource = resource;
    st.redeemed_codes.insert(code.to_owned(), grant.family);
    Ok(st.issue(&grant, issued.scope.as_deref(), true))
}

/// RFC 7636 §4.6: the verifier (43 to 128 unreserved characters, §4.1)
/// whose S256 digest is `challenge`.
fn check_verifier(form: &Params, challenge: &str) -> Result<(), OAuthError> {
    let verifier = form
        .get("code_verifier")
        .ok_or_else(|| OAuthError::invalid_grant("code_verifier is required"))?;
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || b"-._~".contains(&b);
    if !(43..=128).contains(&verifier.len()) || !verifier.bytes().all(unreserved) {
        return Err(OAuthError::invalid_grant(
            "code_verifier must be 43 to 128 unreserved characters",
        ));
    }
    if s256(verifier) != challenge {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    Ok(())
}

/// RFC 7636 §4.2: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))).
fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// RFC 6749 §6, with rotation and reuse detection (OAuth 2.0 Security BCP, RFC 9700 §4.14.2).
fn refresh(
    st: &mut State,
    client: &Authenticated,
    form: &Params,
    jkt: Option<&str>,
) -> Result<Value, OAuthError> {
    let presented = form
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let Some(token) = st.refresh_tokens.get(presented) else {
        return Err(OAuthError::invalid_grant("unknown refresh token"));
    };
    let (mut grant, status) = (token.grant.clone(), token.status);
    if grant.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    // RFC 9449 §5: a bound refresh token is used only with its key.
    if let Some(bound) = &grant.jkt
        && jkt != Some(bound.as_str())
    {
        return Err(OAuthError::new(
            400,
            "invalid_dpop_proof",
            "the refresh token is bound to another DPoP key",
        ));
    }
    match status {
        RefreshStatus::Active => {}
        RefreshStatus::Rotated => {
            st.revoke_family(grant.family);
            return Err(OAuthError::invalid_grant(
                "refresh token reused; all its tokens are revoked",
            ));
        }
        RefreshStatus::Revoked => return Err(OAuthError::invalid_grant("refresh token revoked")),
    }
    let scope = match requested_scope(form)? {
        Some(asked) if !is_subset(&asked, grant.scope.as_deref()) => {
            let description = "scope exceeds the scope originally granted";
            return Err(OAuthError::new(400, "invalid_scope", description));
        }
        Some(asked) => Some(asked),
        None => grant.scope.clone(),
    };
    grant.resource = bound_resource(grant.resource.as_deref(), requested_resource(form)?)?;
    let rotate = st.settings.rotate_refresh_tokens;
    if rotate && let Some(token) = st.refresh_tokens.get_mut(presented) {
        token.status = RefreshStatus::Rotated;
    }
    Ok(st.issue_refreshed(&grant, scope.as_deref(), rotate))
}

/// RFC 8628 §3.4, §3.5.
fn device_code(
    st: &mut State,
    client: &Authenticated,
    form: &Params,
    jkt: Option<&str>,
) -> Result<Value, OAuthError> {
    let code = form
        .get("device_code")
        .ok_or_else(|| OAuthError::invalid_request("device_code is required"))?;
    let Some(device) = st.devices.get(code) else {
        return Err(OAuthError::invalid_grant("unknown device_code"));
    };
    if device.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the device_code was issued to another client",
        ));
    }
    if st.settings.device_slow_down > 0 {
        st.settings.device_slow_down -= 1;
        return Err(OAuthError::new(400, "slow_down", "poll less often"));
    }
    if Instant::now() >= device.expires_at {
        return Err(OAuthError::new(
            400,
            "expired_token",
            "the device_code expired",
        ));
    }
    if let Some(challenge) = &device.challenge {
        let verifier = form
            .get("code_verifier")
            .ok_or_else(|| OAuthError::invalid_grant("code_verifier is required"))?;
        if s256(verifier) != *challenge {
            return Err(OAuthError::invalid_grant(
                "code_verifier does not match the code_challenge",
            ));
        }
    }
    match device.decision {
        Decision::Pending => {
            let description = "the user has not answered yet";
            Err(OAuthError::new(400, "authorization_pending", description))
        }
        Decision::Denied => Err(OAuthError::new(
            400,
            "access_denied",
            "the user denied the request",
        )),
        Decision::Approved => {
            let scope = device.scope.clone();
            let (acr_values, max_age) = (device.acr_values.clone(), device.max_age);
            st.devices.remove(code);
            let authentication = st.authenticate(TEST_USER, acr_values.as_deref(), max_age);
            let mut grant = st.grant(&client.id, TEST_USER, scope.as_deref());
            grant.jkt = jkt.map(str::to_owned);
            grant.authentication = Some(authentication);
            Ok(st.issue(&grant, scope.as_deref(), true))
        }
    }
}

/// RFC 6749 §4.1.1 with RFC 7636 §4.3; approves at once as the test user.
fn authorize(st: &mut State, rq: &RecordedRequest) -> Answer {
    allow(rq, &["GET"])?;
    // RFC 6749 §4.1.2.1: until client and redirect URI are known good, errors
    // go to the person, never to a redirect.
    let bad = |message: &str| Reply::page(400, "Bad authorization request", message);
    let pairs = pushed_or_given(st, rq).map_err(bad)?;
    let query = Params::new(&pairs).map_err(|_| bad("a parameter is repeated"))?;
    let client_id = query
        .get("client_id")
        .ok_or_else(|| bad("client_id is required"))?;
    metadata_document_client(st, client_id);
    let client = st
        .clients
        .get(client_id)
        .ok_or_else(|| bad(&format!("unknown client {client_id}")))?;
    let (redirect_uri, written) = redirect_uri(client, query.get("redirect_uri")).map_err(bad)?;
    let state = query.get("state");
    // RFC 9207 §2: the issuer identifier goes with every response, errors too.
    let iss = st
        .settings
        .authorization_response_iss
        .then(|| st.issuer_id());
    let back = |pairs: &[(&str, &str)]| {
        let mut location = redirect_uri.clone();
        {
            let mut query = location.query_pairs_mut();
            query.extend_pairs(pairs);
            if let Some(state) = state {
                query.append_pair("state", state);
            }
            if let Some(iss) = &iss {
                query.append_pair("iss", iss);
            }
        }
        Reply::found(location.as_str())
    };
    let refuse = |error: &str, description: &str| {
        back(&[("error", error), ("error_description", description)])
    };
    match query.get("response_type") {
        Some("code") => {}
        None => return Err(refuse("invalid_request", "response_type is required")),
        Some(_) => {
            return Err(refuse(
                "unsupported_response_type",
                "only response_type=code is supported",
            ));
        }
    }
    let challenge = match query.get("code_challenge") {
        // A server that does not know PKCE ignores its parameters.
        _ if !st.settings.pkce_required => None,
        None => {
            return Err(refuse(
                "invalid_request",
                "code_challenge is required (PKCE, RFC 7636)",
            ));
        }
        Some(challenge) => Some(challenge),
    };
    if let Some(challenge) = challenge {
        if query.get("code_challenge_method") != Some("S256") {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
        // RFC 7636 §4.2: a SHA-256 digest in base64url is 43 characters.
        let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        if challenge.len() != 43 || !challenge.bytes().all(base64url) {
            return Err(refuse(
                "invalid_request",
                "code_challenge is not a base64url SHA-256 digest",
            ));
        }
    }
    let scope = requested_scope(&query).map_err(|_| refuse("invalid_scope", "malformed scope"))?;
    let resource = requested_resource(&query)
        .map_err(|_| refuse("invalid_target", "resource must be an absolute URI"))?;
    if st.settings.authorize_deny {
        return Err(refuse("access_denied", "the test user denied the request"));
    }
    let acr_values = query.get("acr_values");
    let has_openid = scope
        .as_deref()
        .is_some_and(|s| s.split(' ').any(|w| w == "openid"));
    if acr_values.is_some() && st.settings.acr_needs_openid && !has_openid {
        return Err(refuse(
            "invalid_request",
            "acr_values is an OpenID Connect parameter: the scope must include openid",
        ));
    }
    let max_age = match query.get("max_age").map(str::parse::<i64>) {
        None => None,
        Some(Ok(age)) if age >= 0 => Some(age),
        Some(_) => {
            return Err(refuse(
                "invalid_request",
                "max_age is not a number of seconds",
            ));
        }
    };
    let subject = query.get("login_hint").unwrap_or(TEST_USER).to_owned();
    let authentication = st.authenticate(&subject, acr_values, max_age);
    let code = random_token("ac_");
    let issued = AuthorizationCode {
        client_id: client_id.to_owned(),
        redirect_uri: written,
        redirect_uri_given: query.get("redirect_uri").is_some(),
        challenge: challenge.map(str::to_owned),
        scope,
        subject,
        expires_at: Instant::now() + CODE_LIFETIME,
        dpop_jkt: query.get("dpop_jkt").map(str::to_owned),
        authentication,
        resource,
    };
    let reply = back(&[("code", &code)]);
    st.codes.insert(code, issued);
    Ok(reply)
}

/// The parameters of an authorization request: those pushed earlier
/// (RFC 9126 §4, named by `request_uri`, single use, for the `client_id`
/// given), else the query's, which a server that requires PAR refuses.
fn pushed_or_given(
    st: &mut State,
    rq: &RecordedRequest,
) -> Result<Vec<(String, String)>, &'static str> {
    let given = |name: &str| {
        rq.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(uri) = given("request_uri") else {
        if st.settings.par == crate::Par::Required {
            return Err("this server takes pushed authorization requests only (request_uri)");
        }
        return Ok(rq.query.clone());
    };
    let pushed = st
        .pushed
        .remove(uri)
        .ok_or("request_uri is unknown or used")?;
    if Instant::now() >= pushed.expires_at {
        return Err("request_uri has expired");
    }
    if given("client_id") != Some(pushed.client_id.as_str()) {
        return Err("client_id differs from the pushed request's");
    }
    Ok(pushed.params)
}

/// RFC 9126 §2: an authorization request pushed by an authenticated
/// client, answered with the `request_uri` that names it.
fn par(st: &mut State, rq: &RecordedRequest) -> Answer {
    if st.settings.par == crate::Par::Off {
        return Err(not_found(rq));
    }
    let form = form_post(rq)?;
    if form.get("request_uri").is_some() {
        let description = "request_uri must not be pushed (RFC 9126 §2.1)";
        return Err(OAuthError::invalid_request(description).into());
    }
    let client = authenticate(st, rq, &form)?;
    let request_uri = random_token("urn:ietf:params:oauth:request_uri:");
    let mut params: Vec<(String, String)> = rq
        .form
        .iter()
        .filter(|(n, _)| {
            !matches!(
                n.as_str(),
                "client_id" | "client_secret" | "client_assertion" | "client_assertion_type"
            )
        })
        .cloned()
        .collect();
    params.push(("client_id".to_owned(), client.id.clone()));
    let lifetime = 60;
    st.pushed.insert(
        request_uri.clone(),
        super::state::PushedRequest {
            client_id: client.id,
            params,
            expires_at: Instant::now() + Duration::from_secs(lifetime),
        },
    );
    Ok(Reply::json(
        201,
        &json!({ "request_uri": request_uri, "expires_in": lifetime }),
    ))
}

/// RFC 6749 §3.1.2.3: an exact match with a registered URI, except that a
/// loopback URI matches whatever its port (RFC 8252 §7.3); a client that
/// registered none accepts any loopback URI. Returns the URI parsed and as
/// written, for the exact comparison at the token endpoint.
fn redirect_uri(client: &Client, given: Option<&str>) -> Result<(Url, String), &'static str> {
    let raw = match (given, client.redirect_uris.as_slice()) {
        (Some(given), _) => given,
        (None, [only]) => only,
        (None, _) => return Err("redirect_uri is required"),
    };
    let url = Url::parse(raw).map_err(|_| "redirect_uri is not an absolute URI")?;
    if url.fragment().is_some() {
        return Err("redirect_uri must not contain a fragment");
    }
    let registered = || {
        client
            .redirect_uris
            .iter()
            .filter_map(|r| Url::parse(r).ok())
    };
    let allowed = if is_loopback(&url) {
        client.redirect_uris.is_empty() || registered().any(|r| same_but_port(&r, &url))
    } else {
        client.redirect_uris.iter().any(|r| r == raw)
    };
    if !allowed {
        return Err("redirect_uri is not registered for this client");
    }
    Ok((url, raw.to_owned()))
}

/// RFC 8252 §7.3 (and §8.3, which tolerates `localhost`).
fn is_loopback(url: &Url) -> bool {
    url.scheme() == "http"
        && match url.host() {
            Some(Host::Ipv4(ip)) => ip.is_loopback(),
            Some(Host::Ipv6(ip)) => ip.is_loopback(),
            Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            None => false,
        }
}

fn same_but_port(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.path() == b.path()
        && a.query() == b.query()
}

/// RFC 8628 §3.1, §3.2.
fn device_authorization(st: &mut State, rq: &RecordedRequest) -> Answer {
    if !st.settings.device_grant {
        return Err(not_found(rq));
    }
    let form = form_post(rq)?;
    let client = authenticate(st, rq, &form)?;
    let scope = requested_scope(&form)?;
    let challenge = match st.settings.device_pkce_required {
        true => Some(device_challenge(&form)?),
        false => None,
    };
    let device_code = random_token("dc_");
    let user_code = loop {
        let candidate = random_user_code();
        if st.devices.values().all(|d| d.user_code != candidate) {
            break candidate;
        }
    };
    let lifetime = st.settings.device_code_lifetime;
    let verification_uri = st.url_of("device_verify").unwrap_or_default();
    let mut body = json!({
        "device_code": device_code,
        "user_code": user_code,
        "verification_uri": verification_uri,
        "expires_in": lifetime,
        "interval": st.settings.device_interval,
    });
    if st.settings.device_uri_complete {
        body["verification_uri_complete"] =
            format!("{verification_uri}?user_code={user_code}").into();
    }
    if st.settings.device_message {
        body["message"] = format!(
            "Open {verification_uri} in a browser and enter the code {user_code} to sign in."
        )
        .into();
    }
    let device = DeviceAuthorization {
        client_id: client.id,
        user_code,
        scope,
        expires_at: Instant::now() + Duration::from_secs(lifetime),
        decision: Decision::Pending,
        challenge,
        acr_values: form.get("acr_values").map(str::to_owned),
        max_age: form.get("max_age").and_then(|a| a.parse().ok()),
    };
    st.devices.insert(device_code, device);
    Ok(Reply::json(200, &body).no_store())
}

/// RFC 7636 §4.3 on a device authorization request, for servers that
/// require PKCE there: an S256 challenge, a base64url SHA-256 digest.
fn device_challenge(form: &Params) -> Result<String, OAuthError> {
    let Some(challenge) = form.get("code_challenge") else {
        let description = "code_challenge is required (PKCE, RFC 7636)";
        return Err(OAuthError::invalid_request(description));
    };
    if form.get("code_challenge_method") != Some("S256") {
        return Err(OAuthError::invalid_request(
            "code_challenge_method must be S256",
        ));
    }
    let base64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    if challenge.len() != 43 || !challenge.bytes().all(base64url) {
        let description = "code_challenge is not a base64url SHA-256 digest";
        return Err(OAuthError::invalid_request(description));
    }
    Ok(challenge.to_owned())
}

/// Where a person types the code shown on the device; the form comes back
/// to `path`, wherever the page is served.
fn code_form(path: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Device login</title></head>\n\
         <body><form method=\"get\" action=\"{path}\"><label>Code \
         <input name=\"user_code\" autofocus></label> <button>Continue</button></form></body></html>\n"
    )
}

/// RFC 8628 §3.3: the page a person opens; visiting it with a code answers
/// for them (approve, or deny under `set_device_deny`).
fn device_page(st: &mut State, rq: &RecordedRequest) -> Answer {
    allow(rq, &["GET"])?;
    let query = Params::new(&rq.query)?;
    let Some(user_code) = query.get("user_code") else {
        let form = code_form(&rq.path);
        return Ok(Reply::new(200, "text/html; charset=utf-8", form));
    };
    let wanted = normalize_user_code(user_code);
    let deny = st.settings.device_deny;
    let found = st
        .devices
        .values_mut()
        .find(|d| normalize_user_code(&d.user_code) == wanted);
    let Some(device) = found else {
        return Err(Reply::page(
            404,
            "Unknown code",
            "No device is waiting for this code.",
        ));
    };
    if Instant::now() >= device.expires_at {
        return Err(Reply::page(
            400,
            "Code expired",
            "This code has expired; start again on the device.",
        ));
    }
    if device.decision == Decision::Pending {
        device.decision = if deny {
            Decision::Denied
        } else {
            Decision::Approved
        };
    }
    Ok(match device.decision {
        Decision::Denied => Reply::page(200, "Access denied", "The device was denied access."),
        _ => Reply::page(200, "Device approved", "You can return to your device."),
    })
}

/// RFC 7591 §3.1, §3.2.
fn register(st: &mut State, rq: &RecordedRequest) -> Answer {
    if !st.settings.registration {
        return Err(not_found(rq));
    }
    allow(rq, &["POST"])?;
    let invalid = |description: &str| {
        Reply::from(OAuthError::new(400, "invalid_client_metadata", description))
    };
    if !rq.has_content_type("application/json") {
        return Err(invalid("the body must be application/json"));
    }
    let Ok(Value::Object(meta)) = serde_json::from_str::<Value>(&rq.body) else {
        return Err(invalid("the body must be a JSON object"));
    };
    let strings = |name: &str| -> Result<Option<Vec<String>>, Reply> {
        match meta.get(name) {
            None => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| invalid(&format!("{name} must be an array of strings"))),
            Some(_) => Err(invalid(&format!("{name} must be an array of strings"))),
        }
    };
    let redirect_uris = strings("redirect_uris")?.unwrap_or_default();
    let absolute = |uri: &String| Url::parse(uri).is_ok_and(|u| u.fragment().is_none());
    if !redirect_uris.iter().all(absolute) {
        let description = "redirect_uris must be absolute URIs without a fragment";
        return Err(OAuthError::new(400, "invalid_redirect_uri", description).into());
    }
    // RFC 7591 §2: the defaults when a field is omitted.
    let grant_types =
        strings("grant_types")?.unwrap_or_else(|| vec!["authorization_code".to_owned()]);
    let method = match meta.get("token_endpoint_auth_method") {
        None => "client_secret_basic",
        Some(Value::String(m))
            if ["none", "client_secret_basic", "client_secret_post"].contains(&m.as_str()) =>
        {
            m
        }
        Some(_) => {
            let known = "none, client_secret_basic or client_secret_post";
            return Err(invalid(&format!(
                "token_endpoint_auth_method must be {known}"
            )));
        }
    };
    let client_name = match meta.get("client_name") {
        None => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => return Err(invalid("client_name must be a string")),
    };
    let client_id = random_token("client_");
    let secret = (method != "none").then(|| random_token("secret_"));
    let mut body = Map::new();
    body.insert("client_id".into(), client_id.clone().into());
    if let Some(secret) = &secret {
        body.insert("client_secret".into(), secret.clone().into());
        body.insert("client_secret_expires_at".into(), 0.into());
    }
    body.insert("client_id_issued_at".into(), unix_now().into());
    body.insert("redirect_uris".into(), redirect_uris.clone().into());
    body.insert("grant_types".into(), grant_types.into());
    body.insert("token_endpoint_auth_method".into(), method.into());
    if let Some(name) = client_name {
        body.insert("client_name".into(), name.into());
    }
    st.clients.insert(
        client_id.clone(),
        Client {
            secret,
            redirect_uris,
            jwks: Vec::new(),
        },
    );
    st.registered.push(client_id);
    Ok(Reply::json(201, &Value::Object(body)).no_store())
}

/// RFC 7009 §2.1, §2.2: 200 whether or not the token was known.
fn revoke(st: &mut State, rq: &RecordedRequest) -> Answer {
    let form = form_post(rq)?;
    let client = authenticate(st, rq, &form)?;
    // RFC 7009 §2.1: `token_type_hint` only speeds a search; both kinds are searched.
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    match st.refresh_tokens.get(token) {
        Some(refresh) if refresh.grant.client_id == client.id => {
            let family = refresh.grant.family;
            match st.settings.revocation_keeps_access_tokens {
                true => st.revoke_refresh_tokens_of(family),
                false => st.revoke_family(family),
            }
        }
        Some(_) => {}
        None => st.revoke_access_token(token, &client.id),
    }
    Ok(Reply::new(200, "", ""))
}

/// RFC 7662 §2.1, §2.2; any registered client may ask.
fn introspect(st: &mut State, rq: &RecordedRequest) -> Answer {
    let form = form_post(rq)?;
    authenticate(st, rq, &form)?;
    let token = form
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let Some(active) = st.active_token(token) else {
        return Ok(Reply::json(200, &json!({ "active": false })));
    };
    let mut body = Map::new();
    body.insert("active".into(), true.into());
    body.insert("client_id".into(), active.client_id.into());
    body.insert("sub".into(), active.subject.into());
    if let Some(scope) = active.scope {
        body.insert("scope".into(), scope.into());
    }
    if active.is_access_token {
        let token_type = if active.jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        };
        body.insert("token_type".into(), token_type.into());
    }
    // RFC 9449 §6.2 and RFC 9470 §6.2.
    if let Some(jkt) = &active.jkt {
        body.insert("cnf".into(), json!({ "jkt": jkt }));
    }
    if let Some(a) = &active.authentication {
        body.insert("acr".into(), a.acr.clone().into());
        body.insert("auth_time".into(), a.auth_time.into());
    }
    if let Some(exp) = active.exp {
        body.insert("exp".into(), exp.into());
    }
    if let Some(resource) = active.resource {
        body.insert("aud".into(), resource.into());
    }
    Ok(Reply::json(200, &Value::Object(body)))
}

/// A protected resource (RFC 6750 §2.1, §3.1).
fn userinfo(st: &mut State, rq: &RecordedRequest) -> Answer {
    allow(rq, &["GET", "POST"])?;
    let Some(token) = credentials(rq, "Bearer") else {
        // RFC 6750 §3.1: a request without credentials gets no error code.
        let challenge = "Bearer realm=\"oauth-test-server\"";
        return Err(Reply::new(401, "", "").with_header("WWW-Authenticate", challenge));
    };
    let active = st.active_token(token).filter(|t| t.is_access_token);
    let Some(active) = active else {
        let description = "the access token is unknown, expired or revoked";
        return Err(OAuthError::new(401, "invalid_token", description).into());
    };
    // RFC 9449 §7.2: a bound token is no bearer token.
    if active.jkt.is_some() {
        let description = "the access token is DPoP-bound and was sent as a bearer token";
        return Err(OAuthError::new(401, "invalid_token", description).into());
    }
    Ok(Reply::json(
        200,
        &json!({ "sub": active.subject, "client_id": active.client_id }),
    ))
}
