//! JWTs as an authorization server checks them: client assertions
//! (RFC 7523 §3) against the keys a client registered as a JWKS
//! (RFC 7517), and the signing and JWK helpers the tests need to make
//! good and bad ones. Signatures are ring's, as in the product.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

/// RFC 7523 §2.2.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A private key read from PEM (PKCS#8 RSA or P-256), for tests.
pub struct TestKey(Key);

enum Key {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl TestKey {
    /// Parse a PKCS#8 PEM private key (RSA or EC P-256).
    pub fn from_pem(pem: &str) -> TestKey {
        use rustls_pki_types::PrivatePkcs8KeyDer;
        use rustls_pki_types::pem::PemObject;
        let der = PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes()).expect("a PKCS#8 PEM key");
        let der = der.secret_pkcs8_der();
        match RsaKeyPair::from_pkcs8(der) {
            Ok(k) => TestKey(Key::Rsa(k)),
            Err(_) => TestKey(Key::Ec(
                EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    der,
                    &ring::rand::SystemRandom::new(),
                )
                .expect("an RSA or P-256 key"),
            )),
        }
    }

    /// The public key as a JWK (RFC 7518 §6.2, §6.3), with `kid` if given.
    pub fn jwk(&self, kid: Option<&str>) -> Value {
        let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
        let mut jwk = match &self.0 {
            Key::Rsa(k) => {
                let c = signature::RsaPublicKeyComponents::<Vec<u8>>::from(k.public());
                json!({"kty": "RSA", "alg": "RS256", "n": b64(&c.n), "e": b64(&c.e)})
            }
            Key::Ec(k) => {
                // The uncompressed point: 0x04, x, y.
                let point = k.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "alg": "ES256",
                       "x": b64(&point[1..33]), "y": b64(&point[33..65])})
            }
        };
        if let Some(kid) = kid {
            jwk["kid"] = kid.into();
        }
        jwk
    }

    /// A compact JWS of `claims` with `header` (its `alg` filled in).
    pub fn sign(&self, mut header: Value, claims: &Value) -> String {
        let rng = ring::rand::SystemRandom::new();
        header["alg"] = match self.0 {
            Key::Rsa(_) => "RS256",
            Key::Ec(_) => "ES256",
        }
        .into();
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let sig = match &self.0 {
            Key::Rsa(k) => {
                let mut sig = vec![0; k.public().modulus_len()];
                k.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &rng,
                    input.as_bytes(),
                    &mut sig,
                )
                .expect("RSA signing");
                sig
            }
            Key::Ec(k) => k
                .sign(&rng, input.as_bytes())
                .expect("ECDSA signing")
                .as_ref()
                .to_vec(),
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    }
}

/// A JWT whose signature verified against one of `jwks`: its claims.
/// Errors say what is wrong, for `error_description`.
pub(crate) fn verified_claims(jwt: &str, jwks: &[Value]) -> Result<Value, String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, sig] = parts[..] else {
        return Err("the assertion is not a compact JWS".into());
    };
    let decode = |part: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "the assertion is not base64url".to_string())?;
        serde_json::from_slice(&bytes).map_err(|_| "the assertion is not JSON".to_string())
    };
    let header = decode(header)?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig)
        .map_err(|_| "the assertion's signature is not base64url".to_string())?;
    let input = &jwt[..jwt.rfind('.').unwrap_or(0)];
    let alg = header["alg"].as_str().unwrap_or_default();
    let kid = header["kid"].as_str();
    let candidates = jwks
        .iter()
        .filter(|k| kid.is_none() || k["kid"].as_str() == kid);
    for key in candidates {
        if verifies(key, alg, input.as_bytes(), &sig) {
            return decode(claims);
        }
    }
    Err(format!(
        "the assertion's signature ({alg}) does not verify with any registered key"
    ))
}

fn verifies(jwk: &Value, alg: &str, input: &[u8], sig: &[u8]) -> bool {
    let field = |name: &str| {
        jwk[name]
            .as_str()
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .unwrap_or_default()
    };
    match (jwk["kty"].as_str(), alg) {
        (Some("RSA"), "RS256") => signature::RsaPublicKeyComponents {
            n: field("n"),
            e: field("e"),
        }
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input, sig)
        .is_ok(),
        (Some("EC"), "ES256") if jwk["crv"] == "P-256" => {
            let mut point = vec![4];
            point.extend(field("x"));
            point.extend(field("y"));
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                .verify(input, sig)
                .is_ok()
        }
        _ => false,
    }
}

/// RFC 7523 §3 checks past the signature: `iss` and `sub` are the client,
/// `aud` names this server (its token endpoint or its issuer identifier,
/// the two values the RFC and OpenID Connect Core §9 allow), `exp` is in
/// the future and `jti` is present (the caller checks it was not seen).
pub(crate) fn check_client_claims(
    claims: &Value,
    client_id: &str,
    audiences: &[String],
    now: i64,
) -> Result<String, String> {
    for name in ["iss", "sub"] {
        if claims[name].as_str() != Some(client_id) {
            return Err(format!("the assertion's {name} is not {client_id}"));
        }
    }
    let aud: Vec<&str> = match &claims["aud"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if !aud.iter().any(|a| audiences.iter().any(|ok| ok == a)) {
        return Err(format!(
            "the assertion's audience {aud:?} is not this server ({})",
            audiences.join(" or ")
        ));
    }
    match claims["exp"].as_i64() {
        Some(exp) if exp > now => {}
        Some(_) => return Err("the assertion has expired".into()),
        None => return Err("the assertion has no exp".into()),
    }
    match claims["jti"].as_str() {
        Some(jti) if !jti.is_empty() => Ok(jti.to_owned()),
        _ => Err("the assertion has no jti".into()),
    }
}
