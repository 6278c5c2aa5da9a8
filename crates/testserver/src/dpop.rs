//! DPoP proofs (RFC 9449) as a server checks them: this server's token
//! endpoint, and any resource server a test stands up. Everything §4.3
//! lists is checked for real: the JWS and its header, the signature with
//! the public key the proof carries, the method and URL, the time, the
//! nonce, and (with an access token) `ath`. Replayed `jti`s are the
//! caller's to refuse, with [`Replays`], since a server keeps its own.
//! This crate shares no code with credential-oauth: the checks here are
//! written against the RFC, not against the client.

use std::collections::HashSet;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// How far a proof's `iat` may lie from the server's clock, either way.
pub const IAT_WINDOW: i64 = 60;

/// What a proof must match: the request it came with.
#[derive(Clone, Copy, Debug)]
pub struct Expected<'a> {
    /// `htm`: the request's method.
    pub method: &'a str,
    /// `htu`: the request's URL; query and fragment are ignored.
    pub url: &'a str,
    /// The access token sent with the proof, whose hash `ath` must be.
    pub access_token: Option<&'a str>,
    /// The nonce the server gave, which `nonce` must be.
    pub nonce: Option<&'a str>,
    /// The server's clock, Unix seconds.
    pub now: i64,
}

/// What a proof that passed says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// RFC 7638 thumbprint of the proof's key: what a token is bound to.
    pub jkt: String,
    pub jti: String,
}

/// Why a proof was refused: `use_dpop_nonce` when only the nonce is
/// missing or stale (the client is to retry with the current one), else
/// `invalid_dpop_proof` (RFC 9449 §7.1, §8, §9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refused {
    pub error: &'static str,
    pub description: String,
}

fn invalid(description: impl Into<String>) -> Refused {
    Refused {
        error: "invalid_dpop_proof",
        description: description.into(),
    }
}

/// RFC 9449 §4.3: check `proof` against the request it came with.
pub fn verify(proof: &str, expected: &Expected) -> Result<Verified, Refused> {
    let parts: Vec<&str> = proof.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(invalid("the proof is not a compact JWS"));
    };
    let json = |part: &str, what: &str| -> Result<Value, Refused> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| invalid(format!("the proof's {what} is not base64url")))?;
        serde_json::from_slice(&bytes)
            .map_err(|_| invalid(format!("the proof's {what} is not JSON")))
    };
    let header = json(header, "header")?;
    let claims = json(claims, "claims")?;
    if header["typ"] != "dpop+jwt" {
        return Err(invalid("typ is not dpop+jwt"));
    }
    if header["alg"] != "ES256" {
        return Err(invalid(format!("alg {} is not ES256", header["alg"])));
    }
    let jwk = &header["jwk"];
    if jwk.get("d").is_some() {
        return Err(invalid("the jwk holds a private key"));
    }
    if jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
        return Err(invalid("the jwk is not a P-256 key"));
    }
    let coordinate = |c: &str| {
        jwk[c]
            .as_str()
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .filter(|b| b.len() == 32)
            .ok_or_else(|| invalid(format!("the jwk's {c} is not a P-256 coordinate")))
    };
    let mut point = vec![0x04];
    point.extend(coordinate("x")?);
    point.extend(coordinate("y")?);
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| invalid("the signature is not base64url"))?;
    let input = &proof[..proof.rfind('.').unwrap_or(0)];
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point)
        .verify(input.as_bytes(), &signature)
        .map_err(|_| invalid("the signature does not verify with the proof's jwk"))?;
    if claims["htm"].as_str() != Some(expected.method) {
        return Err(invalid(format!(
            "htm {} is not {}",
            claims["htm"], expected.method
        )));
    }
    let htu = claims["htu"].as_str().unwrap_or_default();
    if without_query(htu).as_deref() != without_query(expected.url).as_deref() {
        return Err(invalid(format!("htu {htu} is not {}", expected.url)));
    }
    let iat = claims["iat"]
        .as_i64()
        .ok_or_else(|| invalid("iat is missing"))?;
    if (iat - expected.now).abs() > IAT_WINDOW {
        return Err(invalid(format!(
            "iat is {} s from the server's clock",
            iat - expected.now
        )));
    }
    let jti = claims["jti"]
        .as_str()
        .filter(|j| !j.is_empty())
        .ok_or_else(|| invalid("jti is missing"))?;
    match expected.access_token {
        Some(token) if claims["ath"].as_str() != Some(ath(token).as_str()) => {
            return Err(invalid("ath is not the hash of the access token"));
        }
        None if claims.get("ath").is_some() => {
            return Err(invalid("ath without an access token"));
        }
        _ => {}
    }
    if let Some(nonce) = expected.nonce
        && claims["nonce"].as_str() != Some(nonce)
    {
        return Err(Refused {
            error: "use_dpop_nonce",
            description: "the proof must carry the server's current nonce".into(),
        });
    }
    let jkt = thumbprint(jwk).ok_or_else(|| invalid("the jwk has no thumbprint"))?;
    Ok(Verified {
        jkt,
        jti: jti.to_owned(),
    })
}

/// RFC 9449 §4.2 `ath`.
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// A URL without its query and fragment, normalised as the URL standard
/// writes it; `None` when it is not one.
fn without_query(url: &str) -> Option<String> {
    let mut u = url::Url::parse(url).ok()?;
    u.set_query(None);
    u.set_fragment(None);
    Some(u.to_string())
}

/// RFC 7638 thumbprint (SHA-256, base64url) of an EC or RSA public JWK.
pub fn thumbprint(jwk: &Value) -> Option<String> {
    let text = match jwk["kty"].as_str()? {
        "EC" => format!(
            r#"{{"crv":{},"kty":"EC","x":{},"y":{}}}"#,
            Value::from(jwk["crv"].as_str()?),
            Value::from(jwk["x"].as_str()?),
            Value::from(jwk["y"].as_str()?)
        ),
        "RSA" => format!(
            r#"{{"e":{},"kty":"RSA","n":{}}}"#,
            Value::from(jwk["e"].as_str()?),
            Value::from(jwk["n"].as_str()?)
        ),
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes())))
}

/// The `jti`s a server has accepted: a proof seen before is a replay
/// (RFC 9449 §11.1).
#[derive(Debug, Default)]
pub struct Replays(Mutex<HashSet<String>>);

impl Replays {
    /// `true` when `jti` is new (and now seen).
    pub fn first_use(&self, jti: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(jti.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thumbprint_is_rfc7638s_own_example() {
        let jwk = serde_json::json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
        });
        assert_eq!(
            thumbprint(&jwk).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }

    #[test]
    fn a_jti_is_accepted_once() {
        let seen = Replays::default();
        assert!(seen.first_use("a"));
        assert!(!seen.first_use("a"));
        assert!(seen.first_use("b"));
    }
}
