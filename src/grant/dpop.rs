//! DPoP (RFC 9449): tokens bound to a key pair kept here, so a token that
//! leaks is worth nothing without the private key. One ES256 key per
//! token cache entry, made on first use and stored like a token; every
//! token request carries a proof signed with it, and a caller that can
//! send a fresh proof with each request gets one per request.
//!
//! The signing is ring's, through [`super::assertion::SigningKey`]; the
//! key never leaves this process except into the store, as a [`Secret`].

use super::assertion::SigningKey;
use crate::discovery::authorization_server::Metadata;
use crate::error::{Error, Result};
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use url::Url;

/// RFC 9449 §5: the `token_type` of a bound token, and the scheme it is
/// sent with (§7.1).
pub const TOKEN_TYPE: &str = "DPoP";

/// The one algorithm proofs are signed with: RFC 9449 §4.2 wants an
/// asymmetric one, and ES256 is the one every DPoP server takes.
pub const ALG: &str = "ES256";

/// RFC 9449 §4.2: the `typ` of a proof's header.
const TYP: &str = "dpop+jwt";

/// A server nonce longer than this is not remembered: RFC 9449 §8.1 sets
/// no bound, but a nonce is a short opaque value and it goes into every
/// proof.
const MAX_NONCE: usize = 1024;

/// A DPoP key pair: P-256, signing ES256.
pub struct Key {
    signing: SigningKey,
    /// The PKCS#8 document the pair was made from, as stored.
    pkcs8: Vec<u8>,
    /// The public JWK (RFC 7518 §6.2.1): `kty`, `crv`, `x`, `y`.
    jwk: Value,
    thumbprint: String,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The thumbprint names the public key only.
        write!(f, "dpop::Key(jkt {})", self.thumbprint)
    }
}

/// How a key is kept in the store: the PKCS#8 document, base64url.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    alg: String,
    pkcs8: Secret,
}

impl Key {
    /// A new key pair from the OS RNG.
    pub fn generate() -> Result<Key> {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| Error::Local("cannot make a DPoP key".into()))?;
        Key::from_pkcs8(pkcs8.as_ref().to_vec())
            .ok_or_else(|| Error::Local("cannot read the DPoP key just made".into()))
    }

    fn from_pkcs8(pkcs8: Vec<u8>) -> Option<Key> {
        let rng = ring::rand::SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng).ok()?;
        // An uncompressed point: 0x04, then x and y, 32 bytes each.
        let point = pair.public_key().as_ref();
        if point.len() != 65 || point[0] != 0x04 {
            return None;
        }
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..]),
        });
        let thumbprint = thumbprint(&jwk)?;
        Some(Key {
            signing: SigningKey::Ec(pair),
            pkcs8,
            jwk,
            thumbprint,
        })
    }

    /// A key read back from the store; `None` when the entry is not one
    /// this version writes (then a new key replaces it).
    pub fn from_stored(text: &Secret) -> Option<Key> {
        let stored: Stored = serde_json::from_str(text.expose()).ok()?;
        if stored.alg != ALG {
            return None;
        }
        let pkcs8 = URL_SAFE_NO_PAD.decode(stored.pkcs8.expose()).ok()?;
        Key::from_pkcs8(pkcs8)
    }

    /// The entry the store keeps: the private key, so a [`Secret`].
    pub fn to_stored(&self) -> Secret {
        let stored = Stored {
            alg: ALG.into(),
            pkcs8: Secret::new(URL_SAFE_NO_PAD.encode(&self.pkcs8)),
        };
        Secret::new(serde_json::to_string(&stored).unwrap_or_default())
    }

    /// RFC 7638: the SHA-256 thumbprint of the public key, base64url
    /// (RFC 9449 §6.1 `jkt`).
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public key as a JWK.
    pub fn public_jwk(&self) -> &Value {
        &self.jwk
    }

    /// RFC 9449 §4.2: a proof for one request, `method` to `url`, at
    /// `now`: `typ` `dpop+jwt`, ES256, the public JWK in the header; a
    /// fresh `jti`, `htm`, `htu` (the URL without query and fragment),
    /// `iat`; `nonce` when the server gave one; `ath` when the request
    /// carries `access_token` (§4.2, §7).
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
        access_token: Option<&Secret>,
        now: u64,
    ) -> Result<Secret> {
        let header = json!({"typ": TYP, "alg": ALG, "jwk": self.jwk});
        let mut claims = json!({
            "jti": crate::random::token32(),
            "htm": method,
            "htu": htu(url),
            "iat": now,
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = nonce.into();
        }
        if let Some(token) = access_token {
            claims["ath"] = ath(token).into();
        }
        self.signing.sign_jws(&header, &claims, "the DPoP proof")
    }
}

/// RFC 9449 §4.2 `htu`: the target URI without query and fragment.
pub fn htu(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// RFC 9449 §4.2 `ath`: base64url of the SHA-256 of the access token's
/// ASCII form.
pub fn ath(access_token: &Secret) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.expose().as_bytes()))
}

/// RFC 7638 §3: the SHA-256 thumbprint of a public JWK, base64url: the
/// required members of its `kty` (EC: `crv`, `kty`, `x`, `y`; RSA: `e`,
/// `kty`, `n`), in that order, as JSON without whitespace. `None` for any
/// other key type or a member missing.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let members: &[&str] = match jwk.get("kty")?.as_str()? {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        _ => return None,
    };
    // serde_json's map keeps keys sorted, which is the order RFC 7638
    // asks for; each value is a string, written as JSON writes it.
    let mut canonical = serde_json::Map::new();
    for m in members {
        canonical.insert((*m).into(), Value::String(jwk.get(*m)?.as_str()?.into()));
    }
    let text = Value::Object(canonical).to_string();
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes())))
}

/// RFC 9449 §5.1: the server announces DPoP in its metadata
/// (`dpop_signing_alg_values_supported`); a provider with `dpop = true`
/// at a server that does not, or not with ES256, is told so rather than
/// handed a Bearer token it asked not to have.
pub fn check_offered(provider: &str, meta: &Metadata) -> Result<()> {
    let algs = &meta.dpop_signing_alg_values_supported;
    if algs.iter().any(|a| a == ALG) {
        return Ok(());
    }
    let server = crate::http::authority(&meta.issuer);
    Err(Error::Refused(if algs.is_empty() {
        format!(
            "{provider}: dpop = true, but the authorization server {server} does not support \
             DPoP (its metadata has no dpop_signing_alg_values_supported); set dpop = false \
             for bearer tokens"
        )
    } else {
        format!(
            "{provider}: dpop = true, but the authorization server {server} takes DPoP proofs \
             signed with {} only, not {ALG}",
            crate::http::printable(&algs.join(", "), 200)
        )
    }))
}

/// The nonces servers asked proofs to carry (RFC 9449 §8, §9), the
/// latest per server origin, kept for the process: the next proof to the
/// same server carries it without being refused first.
#[derive(Debug, Default)]
pub struct Nonces(RefCell<HashMap<String, String>>);

impl Nonces {
    /// The nonce `url`'s server gave last.
    pub fn for_url(&self, url: &Url) -> Option<String> {
        self.0.borrow().get(&origin_of(url)).cloned()
    }

    /// Keep `nonce` (a `DPoP-Nonce` header of `url`'s answer) for the next
    /// proof to that server; `true` when it is new. RFC 9449 §8.1: a nonce
    /// is 1*NQCHAR; one that is not, or is absurdly long, is not kept.
    pub fn remember(&self, url: &Url, nonce: &str) -> bool {
        let nqchar = |b: u8| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E);
        if nonce.is_empty() || nonce.len() > MAX_NONCE || !nonce.bytes().all(nqchar) {
            crate::debug!(
                "{}: a DPoP-Nonce that is not a nonce; ignored",
                origin_of(url)
            );
            return false;
        }
        let previous = self.0.borrow_mut().insert(origin_of(url), nonce.into());
        previous.as_deref() != Some(nonce)
    }
}

fn origin_of(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// What a token request needs to carry proofs: the key its tokens are
/// bound to, and the nonces servers gave.
#[derive(Debug, Clone)]
pub struct Proofs {
    /// Shared with the threads of a caller that sends a proof per request.
    pub key: Arc<Key>,
    pub nonces: Rc<Nonces>,
}

impl Proofs {
    /// A proof for `method` to `url` carrying the nonce that server gave
    /// last, if any.
    pub fn proof(&self, method: &str, url: &Url, access_token: Option<&Secret>) -> Result<Secret> {
        let nonce = self.nonces.for_url(url);
        self.key.proof(
            method,
            url,
            nonce.as_deref(),
            access_token,
            crate::token::now(),
        )
    }
}

/// The `cnf.jkt` (RFC 9449 §6.1) of an access token that is a JWT, read
/// WITHOUT checking its signature: a token the server bound to another
/// key than ours is refused before it is kept. An opaque token says
/// nothing, and nothing is assumed from it.
pub fn bound_thumbprint(access_token: &Secret) -> Option<String> {
    let payload = access_token.expose().split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("cnf")?.get("jkt")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    fn part(jwt: &str, i: usize) -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// The signature checked with the public key the proof carries, as a
    /// server does it.
    fn verifies_with_its_own_jwk(jwt: &str) -> bool {
        let header = part(jwt, 0);
        let coord = |c: &str| {
            URL_SAFE_NO_PAD
                .decode(header["jwk"][c].as_str().unwrap())
                .unwrap()
        };
        let mut point = vec![0x04];
        point.extend(coord("x"));
        point.extend(coord("y"));
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
            .verify(input.as_bytes(), &sig)
            .is_ok()
    }

    /// RFC 7638 §3.1: the example RSA key and its thumbprint; members
    /// beyond the required ones change nothing.
    #[test]
    fn thumbprint_matches_rfc7638_section_3_1() {
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29",
        });
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
        assert_eq!(thumbprint(&json!({"kty": "oct", "k": "x"})), None);
        assert_eq!(thumbprint(&json!({"kty": "EC", "crv": "P-256"})), None);
    }

    /// RFC 9449 §4.2: every field a proof must carry, and nothing of the
    /// private key.
    #[test]
    fn a_proof_has_the_fields_of_rfc9449_section_4_2() {
        let key = Key::generate().unwrap();
        let url = Url::parse("https://rs.example/api/x?q=1#frag").unwrap();
        let token = Secret::new("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU");
        let proof = key
            .proof(
                "GET",
                &url,
                Some("eyJ7S_zG.eyJH0-Z.HX4w-7v"),
                Some(&token),
                1_700_000_000,
            )
            .unwrap();
        let jwt = proof.expose();
        let header = part(jwt, 0);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"], *key.public_jwk());
        assert_eq!(header["jwk"]["kty"], "EC");
        assert_eq!(header["jwk"]["crv"], "P-256");
        assert!(
            header["jwk"].get("d").is_none(),
            "no private part: {header}"
        );
        let claims = part(jwt, 1);
        assert_eq!(claims["htm"], "GET");
        assert_eq!(claims["htu"], "https://rs.example/api/x");
        assert_eq!(claims["iat"], 1_700_000_000);
        assert_eq!(claims["nonce"], "eyJ7S_zG.eyJH0-Z.HX4w-7v");
        assert_eq!(claims["jti"].as_str().unwrap().len(), 43);
        // RFC 9449 §7.1's example: this token's ath.
        assert_eq!(claims["ath"], "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo");
        assert!(verifies_with_its_own_jwk(jwt));
        assert_eq!(
            thumbprint(&header["jwk"]).as_deref(),
            Some(key.thumbprint())
        );
        // A second proof has its own jti; none for a token request has ath or nonce.
        let other = key.proof("POST", &url, None, None, 5).unwrap();
        let claims2 = part(other.expose(), 1);
        assert_ne!(claims2["jti"], claims["jti"]);
        assert!(claims2.get("ath").is_none() && claims2.get("nonce").is_none());
    }

    #[test]
    fn a_stored_key_comes_back_the_same_and_debug_shows_only_its_thumbprint() {
        let key = Key::generate().unwrap();
        let stored = key.to_stored();
        let back = Key::from_stored(&stored).unwrap();
        assert_eq!(back.thumbprint(), key.thumbprint());
        assert_eq!(back.public_jwk(), key.public_jwk());
        assert_ne!(Key::generate().unwrap().thumbprint(), key.thumbprint());
        let shown = format!("{key:?}");
        assert_eq!(shown, format!("dpop::Key(jkt {})", key.thumbprint()));
        assert!(Key::from_stored(&Secret::new("{\"alg\":\"ES256\",\"pkcs8\":\"AAAA\"}")).is_none());
        assert!(Key::from_stored(&Secret::new("not json")).is_none());
    }

    #[test]
    fn nonces_are_kept_per_server_and_only_when_they_are_nonces() {
        let nonces = Nonces::default();
        let a = Url::parse("https://as.example/token").unwrap();
        let a2 = Url::parse("https://as.example/other?x").unwrap();
        let b = Url::parse("https://rs.example/").unwrap();
        assert!(nonces.remember(&a, "n-1"));
        assert!(
            !nonces.remember(&a2, "n-1"),
            "the same nonce again is not new"
        );
        assert_eq!(nonces.for_url(&a2).as_deref(), Some("n-1"));
        assert_eq!(nonces.for_url(&b), None);
        assert!(!nonces.remember(&b, "has space"));
        assert!(!nonces.remember(&b, "quote\""));
        assert!(!nonces.remember(&b, ""));
        assert_eq!(nonces.for_url(&b), None);
    }

    #[test]
    fn a_server_without_dpop_or_without_es256_is_named() {
        let mut meta = Metadata {
            issuer: "https://as.example".into(),
            ..Metadata::default()
        };
        let e = check_offered("corp", &meta).unwrap_err().to_string();
        assert!(
            e.contains("corp: dpop = true")
                && e.contains("https://as.example does not support DPoP"),
            "{e}"
        );
        meta.dpop_signing_alg_values_supported = vec!["PS256".into()];
        let e = check_offered("corp", &meta).unwrap_err().to_string();
        assert!(e.contains("PS256 only, not ES256"), "{e}");
        meta.dpop_signing_alg_values_supported.push("ES256".into());
        assert!(check_offered("corp", &meta).is_ok());
    }

    /// A confidential client proving possession of a new key, and the key.
    fn dpop_client() -> (crate::grant::Client, Arc<Key>, Rc<Nonces>) {
        let key = Arc::new(Key::generate().unwrap());
        let nonces = Rc::new(Nonces::default());
        let mut client =
            crate::grant::examples::confidential(crate::config::AuthMethod::ClientSecretBasic);
        client.dpop = Some(Proofs {
            key: Arc::clone(&key),
            nonces: Rc::clone(&nonces),
        });
        (client, key, nonces)
    }

    const BOUND: &[u8] = br#"{"access_token":"at","token_type":"DPoP","expires_in":60}"#;

    /// RFC 9449 §5 and §8: the token request carries a proof for POST to
    /// the token endpoint; `use_dpop_nonce` with a nonce is answered by
    /// one more request whose fresh proof carries it; the nonce of every
    /// answer is kept; the token records the key it is bound to.
    #[test]
    fn a_token_request_carries_a_proof_and_is_sent_again_once_with_the_servers_nonce() {
        use crate::http::scripted;
        let (http, sent) = scripted::http_with_headers(&[
            (
                400,
                &[("DPoP-Nonce", "n-1")],
                br#"{"error":"use_dpop_nonce","error_description":"nonce required"}"#,
            ),
            (200, &[("DPoP-Nonce", "n-2")], BOUND),
        ]);
        let (client, key, nonces) = dpop_client();
        let meta = crate::grant::examples::metadata();
        let token = crate::grant::client_credentials::obtain(&http, &meta, &client, &[]).unwrap();
        assert_eq!(token.token_type, "DPoP");
        assert_eq!(token.dpop_jkt.as_deref(), Some(key.thumbprint()));
        let all = sent.all();
        assert_eq!(all.len(), 2);
        let proofs: Vec<Value> = all
            .iter()
            .map(|r| part(r.header("DPoP").expect("a DPoP header"), 1))
            .collect();
        for p in &proofs {
            assert_eq!(p["htm"], "POST");
            assert_eq!(p["htu"], "https://as.example/token");
        }
        assert!(proofs[0].get("nonce").is_none());
        assert_eq!(proofs[1]["nonce"], "n-1");
        assert_ne!(proofs[0]["jti"], proofs[1]["jti"]);
        // The client still authenticates as it always does.
        assert_eq!(
            all[1].header("Authorization"),
            Some(crate::grant::examples::BASIC)
        );
        let token_endpoint = Url::parse("https://as.example/token").unwrap();
        assert_eq!(nonces.for_url(&token_endpoint).as_deref(), Some("n-2"));
    }

    #[test]
    fn a_nonce_refusal_is_retried_once_and_not_without_a_new_nonce() {
        use crate::http::scripted;
        let refusal: &[u8] = br#"{"error":"use_dpop_nonce"}"#;
        let (http, sent) = scripted::http_with_headers(&[
            (400, &[("DPoP-Nonce", "n-1")], refusal),
            (400, &[("DPoP-Nonce", "n-2")], refusal),
        ]);
        let (client, _, _) = dpop_client();
        let meta = crate::grant::examples::metadata();
        let e = crate::grant::client_credentials::obtain(&http, &meta, &client, &[]).unwrap_err();
        assert_eq!(e.oauth_code(), Some("use_dpop_nonce"));
        assert_eq!(sent.all().len(), 2, "one retry only");
        let (http, sent) = scripted::http_with_headers(&[(400, &[], refusal)]);
        crate::grant::client_credentials::obtain(&http, &meta, &client, &[]).unwrap_err();
        assert_eq!(sent.all().len(), 1, "no nonce given, nothing to retry with");
    }

    /// RFC 9449 §5: a server that ignores the proof answers with a bearer
    /// token, which a `dpop = true` provider refuses; and a bound token
    /// never comes to a provider that asked for none.
    #[test]
    fn a_bearer_answer_to_a_proof_and_a_bound_answer_without_one_are_refused() {
        use crate::http::scripted;
        let meta = crate::grant::examples::metadata();
        let (client, _, _) = dpop_client();
        let (http, _) = scripted::http(&[(200, crate::grant::examples::TOKEN)]);
        let e = crate::grant::client_credentials::obtain(&http, &meta, &client, &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("ignored the DPoP proof") && e.contains("dpop = false"),
            "{e}"
        );
        let plain =
            crate::grant::examples::confidential(crate::config::AuthMethod::ClientSecretBasic);
        let (http, sent) = scripted::http(&[(200, BOUND)]);
        let e = crate::grant::client_credentials::obtain(&http, &meta, &plain, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("none was asked for"), "{e}");
        assert_eq!(sent.only().header("DPoP"), None);
    }

    /// RFC 9449 §6.1: a JWT access token bound to another key is refused.
    #[test]
    fn a_token_bound_to_another_key_is_refused() {
        use crate::http::scripted;
        let claims = URL_SAFE_NO_PAD.encode(r#"{"cnf":{"jkt":"someone-else"}}"#);
        let answer = format!(
            r#"{{"access_token":"eyJhbGciOiJFUzI1NiJ9.{claims}.c2ln","token_type":"DPoP"}}"#
        );
        let (http, _) = scripted::http(&[(200, answer.as_bytes())]);
        let (client, _, _) = dpop_client();
        let meta = crate::grant::examples::metadata();
        let e = crate::grant::client_credentials::obtain(&http, &meta, &client, &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("another DPoP key"), "{e}");
    }

    #[test]
    fn the_jkt_of_a_jwt_access_token_is_read_and_an_opaque_one_says_nothing() {
        let claims = URL_SAFE_NO_PAD.encode(r#"{"sub":"a","cnf":{"jkt":"abc"}}"#);
        let jwt = Secret::new(format!("eyJhbGciOiJFUzI1NiJ9.{claims}.c2ln"));
        assert_eq!(bound_thumbprint(&jwt).as_deref(), Some("abc"));
        assert_eq!(bound_thumbprint(&Secret::new("at_opaque")), None);
    }
}
