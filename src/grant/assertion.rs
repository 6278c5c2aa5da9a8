//! Client authentication with a JWT instead of a secret (RFC 7523 §2.2,
//! OpenID Connect Core §9 `private_key_jwt`): an assertion signed here with
//! the configured key, or one issued to this workload by its platform and
//! read from a file on every use.
//!
//! The signing is ring's (already in the tree through rustls); PEM is read
//! by rustls-pki-types. Nothing here is a cryptographic primitive of its own.

use crate::config::{CiPlatform, ClientAssertion};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{self, EcdsaKeyPair, RsaKeyPair};
use std::path::Path;
use url::Url;

/// RFC 7523 §2.2 `client_assertion_type`.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion signed here is valid. OpenID Connect Core §9 asks
/// for a short `exp`; five minutes covers clock skew between us and the
/// server without leaving a replayable assertion around for long.
pub const LIFETIME: u64 = 300;

/// Largest key or assertion file read: both are a few KiB at most.
const MAX_FILE: u64 = 64 * 1024;

/// A client's assertion source and the audience it signs for.
#[derive(Debug, Clone)]
pub struct Assertion {
    pub source: ClientAssertion,
    /// The `aud` of assertions signed here: the token endpoint URL, the
    /// value OpenID Connect Core §9 says it SHOULD be and RFC 7523 §3
    /// allows, accepted by the servers that take `private_key_jwt`. The
    /// same assertion goes to revocation and device authorization, which
    /// belong to the same authorization server.
    pub audience: Url,
}

impl Assertion {
    /// A fresh assertion for `client_id`: signed now, or the file's
    /// current content.
    pub fn make(&self, http: &Http, client_id: &str) -> Result<Secret> {
        match &self.source {
            ClientAssertion::PrivateKey { file, key_id } => {
                let key = SigningKey::read(file)?;
                key.sign_assertion(
                    client_id,
                    self.audience.as_str(),
                    key_id.as_deref(),
                    crate::token::now(),
                )
            }
            ClientAssertion::File(file) => read_assertion_file(file),
            ClientAssertion::Platform(platform) => platform_token(http, platform),
        }
    }
}

/// The CI platform's OIDC token for this job, or an error naming what is
/// missing when not run there.
pub fn platform_token(http: &Http, platform: &CiPlatform) -> Result<Secret> {
    match platform {
        CiPlatform::GitHubActions { audience } => {
            let url = crate::env::non_empty("ACTIONS_ID_TOKEN_REQUEST_URL");
            let token = crate::env::non_empty("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
            let (Some(url), Some(token)) = (url, token) else {
                return Err(Error::Local(
                    "client_assertion = \"github-actions\": ACTIONS_ID_TOKEN_REQUEST_URL and \
                     ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set: this is not a GitHub Actions \
                     job, or the job lacks `permissions: id-token: write`"
                        .into(),
                ));
            };
            github_actions_token(http, &url, &Secret::new(token), audience.as_deref())
        }
        CiPlatform::GitLabCi { variable } => match crate::env::non_empty(variable) {
            Some(jwt) if is_compact_jwt(jwt.trim()) => Ok(Secret::new(jwt.trim())),
            Some(_) => Err(Error::Local(format!(
                "client_assertion = \"gitlab-ci\": ${variable} does not hold a JWT"
            ))),
            None => Err(Error::Local(format!(
                "client_assertion = \"gitlab-ci\": ${variable} is not set: this is not a GitLab \
                 CI job, or the job has no `id_tokens: {variable}:` entry"
            ))),
        },
    }
}

/// GitHub Actions' ID token service: GET the request URL with `audience`
/// added, authorized by the job's request token; the answer is
/// `{"value": JWT}`.
pub fn github_actions_token(
    http: &Http,
    request_url: &str,
    request_token: &Secret,
    audience: Option<&str>,
) -> Result<Secret> {
    let what = "GitHub Actions ID token";
    let mut url = Url::parse(request_url)
        .map_err(|_| Error::Local(format!("{what}: ACTIONS_ID_TOKEN_REQUEST_URL is not a URL")))?;
    if let Some(audience) = audience {
        url.query_pairs_mut().append_pair("audience", audience);
    }
    crate::debug!("GET {} ({what})", crate::http::origin(&url));
    let answer = http.get_json_with_bearer(&url, request_token)?;
    match answer.get("value").and_then(|v| v.as_str()) {
        Some(jwt) if is_compact_jwt(jwt) => Ok(Secret::new(jwt)),
        _ => Err(Error::Local(format!(
            "{what}: {} answered without a JWT in `value`",
            crate::http::origin(&url)
        ))),
    }
}

/// A JWT read from `path`: one line of three base64url parts, nothing else.
pub fn read_assertion_file(path: &Path) -> Result<Secret> {
    let bytes = read_bounded(path, "client assertion")?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::Local(format!(
            "client assertion {}: not a JWT (not UTF-8)",
            path.display()
        ))
    })?;
    let jwt = text.trim();
    if !is_compact_jwt(jwt) {
        return Err(Error::Local(format!(
            "client assertion {}: not a JWT (three base64url parts separated by dots)",
            path.display()
        )));
    }
    Ok(Secret::new(jwt))
}

/// `header.payload.signature`, each part base64url without padding.
fn is_compact_jwt(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn read_bounded(path: &Path, what: &str) -> Result<Vec<u8>> {
    read_open(open(path, what)?, path, what)
}

fn open(path: &Path, what: &str) -> Result<std::fs::File> {
    std::fs::File::open(path)
        .map_err(|e| Error::io(format!("{what} {}: cannot read", path.display()), e))
}

/// A key another user could read or replace is refused, as ssh refuses
/// one: a mode that lets the group or others in, or an owner that is not
/// this user. Checked on the open file, so what is checked is what is read.
#[cfg(unix)]
fn check_private_key(path: &Path, file: &std::fs::File) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().map_err(|e| {
        Error::Local(format!(
            "private_key_file {}: cannot inspect: {e}",
            path.display()
        ))
    })?;
    let uid = crate::store::file::effective_uid();
    if meta.uid() != uid {
        return Err(Error::Local(format!(
            "private_key_file {}: it belongs to uid {}, not to uid {uid} (this user); chown it",
            path.display(),
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        let lets = if mode & 0o044 != 0 {
            "lets others read it"
        } else if mode & 0o022 != 0 {
            "lets others change it"
        } else {
            "gives others access to it"
        };
        return Err(Error::Local(format!(
            "private_key_file {}: mode {mode:04o} {lets}; chmod 600 it",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private_key(_: &Path, _: &std::fs::File) -> Result<()> {
    Ok(())
}

fn read_open(file: std::fs::File, path: &Path, what: &str) -> Result<Vec<u8>> {
    crate::bounded::read_at_most(file, MAX_FILE).map_err(|e| {
        Error::Local(format!(
            "{what} {}: cannot read: {}",
            path.display(),
            match e.kind() {
                std::io::ErrorKind::FileTooLarge => "file is larger than 64 KiB".to_string(),
                _ => e.to_string(),
            }
        ))
    })
}

/// A private key from a PEM file: RSA (PKCS#8 or PKCS#1) signs RS256,
/// EC P-256 (PKCS#8 or SEC1) signs ES256.
pub enum SigningKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SigningKey::Rsa(_) => "SigningKey::Rsa(…)",
            SigningKey::Ec(_) => "SigningKey::Ec(…)",
        })
    }
}

impl SigningKey {
    /// Read and parse the key in `path`, which only this user may read.
    /// Errors name the file and what is wrong, never its content.
    pub fn read(path: &Path) -> Result<SigningKey> {
        let file = open(path, "private key")?;
        check_private_key(path, &file)?;
        let pem = read_open(file, path, "private key")?;
        SigningKey::from_pem(&pem)
            .map_err(|m| Error::Local(format!("private key {}: {m}", path.display())))
    }

    /// Parse a PEM private key.
    pub fn from_pem(pem: &[u8]) -> std::result::Result<SigningKey, String> {
        use rustls_pki_types::PrivateKeyDer;
        use rustls_pki_types::pem::PemObject;
        let rng = ring::rand::SystemRandom::new();
        let ec = |pkcs8: &[u8]| {
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &rng)
        };
        // The pki-types error can quote a line of the file; it is not shown.
        let der = PrivateKeyDer::from_pem_slice(pem).map_err(|_| {
            "no PEM private key (PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY) in the file"
                .to_string()
        })?;
        let refused = |e: ring::error::KeyRejected| {
            format!(
                "not an RSA (2048 bits or more) or EC P-256 private key ({e}); an encrypted key must be decrypted first"
            )
        };
        match der {
            PrivateKeyDer::Pkcs8(d) => {
                let der = d.secret_pkcs8_der();
                match RsaKeyPair::from_pkcs8(der) {
                    Ok(k) => Ok(SigningKey::Rsa(k)),
                    Err(_) => ec(der).map(SigningKey::Ec).map_err(refused),
                }
            }
            PrivateKeyDer::Pkcs1(d) => RsaKeyPair::from_der(d.secret_pkcs1_der())
                .map(SigningKey::Rsa)
                .map_err(refused),
            PrivateKeyDer::Sec1(d) => ec(&p256_pkcs8_of_sec1(d.secret_sec1_der()))
                .map(SigningKey::Ec)
                .map_err(refused),
            _ => Err("unsupported private key format".into()),
        }
    }

    /// The JWS `alg` (RFC 7518 §3.1).
    pub fn alg(&self) -> &'static str {
        match self {
            SigningKey::Rsa(_) => "RS256",
            SigningKey::Ec(_) => "ES256",
        }
    }

    /// RFC 7523 §2.2 / §3: `iss` = `sub` = the client id, `aud`, a random
    /// `jti`, `iat` = `now` and `exp` = `now` + [`LIFETIME`]; `kid` in the
    /// header when the key has an id.
    pub fn sign_assertion(
        &self,
        client_id: &str,
        audience: &str,
        key_id: Option<&str>,
        now: u64,
    ) -> Result<Secret> {
        let mut header = serde_json::json!({"alg": self.alg(), "typ": "JWT"});
        if let Some(kid) = key_id {
            header["kid"] = kid.into();
        }
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": crate::random::token32(),
            "iat": now,
            "exp": now + LIFETIME,
        });
        self.sign_jws(&header, &claims, "the client assertion")
    }

    /// A JWS in compact serialization (RFC 7515 §7.1) of `claims` under
    /// `header`, which names this key's `alg`: the one place a JWT is
    /// signed here (client assertions, DPoP proofs). `what` names it in
    /// the error should the signing fail.
    pub fn sign_jws(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
        what: &str,
    ) -> Result<Secret> {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.sign(input.as_bytes(), what)?;
        Ok(Secret::new(format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }

    fn sign(&self, message: &[u8], what: &str) -> Result<Vec<u8>> {
        let rng = ring::rand::SystemRandom::new();
        let failed = |_| Error::Local(format!("cannot sign {what}"));
        match self {
            SigningKey::Rsa(key) => {
                let mut signature = vec![0; key.public().modulus_len()];
                key.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut signature)
                    .map_err(failed)?;
                Ok(signature)
            }
            SigningKey::Ec(key) => Ok(key.sign(&rng, message).map_err(failed)?.as_ref().to_vec()),
        }
    }
}

/// A SEC1 `EC PRIVATE KEY` (RFC 5915) wrapped as the PKCS#8 (RFC 5208)
/// `PrivateKeyInfo` of a P-256 key, the form ring reads: the key bytes are
/// untouched, only DER framing is added. ring checks the curve named inside
/// against P-256 and refuses anything else.
fn p256_pkcs8_of_sec1(sec1: &[u8]) -> Vec<u8> {
    // AlgorithmIdentifier { id-ecPublicKey, prime256v1 }.
    const ALGORITHM: &[u8] = &[
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    let mut inner = vec![0x02, 0x01, 0x00];
    inner.extend_from_slice(ALGORITHM);
    inner.push(0x04);
    der_length(sec1.len(), &mut inner);
    inner.extend_from_slice(sec1);
    let mut out = vec![0x30];
    der_length(inner.len(), &mut out);
    out.extend_from_slice(&inner);
    out
}

/// A DER length (X.690 §8.1.3); the values here are well under 64 KiB.
fn der_length(n: usize, out: &mut Vec<u8>) {
    match n {
        0..=0x7f => out.push(n as u8),
        0x80..=0xff => out.extend_from_slice(&[0x81, n as u8]),
        _ => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::Value;

    /// Test keys made with `openssl genpkey` / `openssl ec`; used only here.
    pub const RSA_PKCS8: &str = include_str!("../../tests/keys/rsa-pkcs8.pem");
    pub const RSA_PKCS1: &str = include_str!("../../tests/keys/rsa-pkcs1.pem");
    pub const EC_PKCS8: &str = include_str!("../../tests/keys/ec-pkcs8.pem");
    pub const EC_SEC1: &str = include_str!("../../tests/keys/ec-sec1.pem");

    fn part(jwt: &str, i: usize) -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    /// Verify with ring's public-key verification.
    pub fn verifies(key: &SigningKey, jwt: &str) -> bool {
        let (input, sig) = jwt.rsplit_once('.').unwrap();
        let sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
        match key {
            SigningKey::Rsa(k) => {
                let c = signature::RsaPublicKeyComponents::<Vec<u8>>::from(k.public());
                c.verify(
                    &signature::RSA_PKCS1_2048_8192_SHA256,
                    input.as_bytes(),
                    &sig,
                )
                .is_ok()
            }
            SigningKey::Ec(k) => {
                use ring::signature::KeyPair;
                signature::UnparsedPublicKey::new(
                    &signature::ECDSA_P256_SHA256_FIXED,
                    k.public_key().as_ref(),
                )
                .verify(input.as_bytes(), &sig)
                .is_ok()
            }
        }
    }

    #[test]
    fn each_pem_form_gives_its_algorithm_and_a_signature_that_verifies() {
        for (pem, alg) in [
            (RSA_PKCS8, "RS256"),
            (RSA_PKCS1, "RS256"),
            (EC_PKCS8, "ES256"),
            (EC_SEC1, "ES256"),
        ] {
            let key = SigningKey::from_pem(pem.as_bytes()).unwrap();
            let jwt = key
                .sign_assertion("app", "https://as.example/token", Some("k1"), 1000)
                .unwrap();
            let jwt = jwt.expose();
            assert_eq!(
                part(jwt, 0),
                serde_json::json!({"alg": alg, "typ": "JWT", "kid": "k1"})
            );
            let claims = part(jwt, 1);
            assert_eq!(claims["iss"], "app");
            assert_eq!(claims["sub"], "app");
            assert_eq!(claims["aud"], "https://as.example/token");
            assert_eq!(claims["iat"], 1000);
            assert_eq!(claims["exp"], 1000 + LIFETIME);
            assert_eq!(claims["jti"].as_str().unwrap().len(), 43);
            assert!(verifies(&key, jwt), "{alg}");
            let other =
                SigningKey::from_pem(if alg == "RS256" { EC_PKCS8 } else { RSA_PKCS8 }.as_bytes())
                    .unwrap();
            assert!(!verifies(&other, jwt));
        }
    }

    #[test]
    fn each_assertion_has_its_own_jti_and_no_kid_unless_configured() {
        let key = SigningKey::from_pem(EC_PKCS8.as_bytes()).unwrap();
        let a = key.sign_assertion("app", "https://a/t", None, 5).unwrap();
        let b = key.sign_assertion("app", "https://a/t", None, 5).unwrap();
        assert_ne!(part(a.expose(), 1)["jti"], part(b.expose(), 1)["jti"]);
        assert_eq!(part(a.expose(), 0).get("kid"), None);
    }

    /// `content` in a new file `name` with `mode`, in a directory of its own.
    pub fn file_with_mode(name: &str, content: &str, mode: u32) -> std::path::PathBuf {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let dir = std::env::temp_dir().join(format!("co-key-{}", crate::random::u64()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut file, content.as_bytes()).unwrap();
        // The umask may have taken bits away; the test means this mode.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        path
    }

    /// The test key `tests/keys/<key>` in a file of its own, mode 0600 as a
    /// key must be (the checkout's copy is readable by all); a key that is
    /// not there stays a path to nothing.
    pub fn private_copy(key: &str) -> std::path::PathBuf {
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/keys")
            .join(key);
        match std::fs::read_to_string(&source) {
            Ok(pem) => file_with_mode(key, &pem, 0o600),
            Err(_) => source,
        }
    }

    #[test]
    fn a_private_key_others_can_read_is_refused_with_its_mode() {
        let loose = file_with_mode("key.pem", EC_PKCS8, 0o644);
        let e = SigningKey::read(&loose).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "private_key_file {}: mode 0644 lets others read it; chmod 600 it",
                loose.display()
            )
        );
        let e = SigningKey::read(&file_with_mode("key.pem", EC_PKCS8, 0o620))
            .unwrap_err()
            .to_string();
        assert!(e.contains("mode 0620") && e.contains("chmod 600"), "{e}");
        for mode in [0o600, 0o400] {
            let tight = file_with_mode("key.pem", EC_PKCS8, mode);
            assert_eq!(SigningKey::read(&tight).unwrap().alg(), "ES256", "{mode:o}");
        }
    }

    #[test]
    fn a_private_key_of_another_user_is_refused() {
        let key = file_with_mode("key.pem", EC_PKCS8, 0o600);
        let me = crate::store::file::effective_uid();
        // Only root can give a file away; elsewhere this proves nothing.
        if me != 0 {
            return;
        }
        std::os::unix::fs::chown(&key, Some(65534), None).unwrap();
        let e = SigningKey::read(&key).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "private_key_file {}: it belongs to uid 65534, not to uid 0 (this user); \
                 chown it",
                key.display()
            )
        );
    }

    #[test]
    fn a_bad_key_file_is_named_without_its_content() {
        let path = file_with_mode(
            "key.pem",
            "-----BEGIN CERTIFICATE-----\nc2VjcmV0LWJ5dGVz\n-----END CERTIFICATE-----\n",
            0o600,
        );
        let dir = path.parent().unwrap().to_path_buf();
        let e = SigningKey::read(&path).unwrap_err().to_string();
        assert!(
            e.contains("key.pem") && e.contains("no PEM private key"),
            "{e}"
        );
        assert!(!e.contains("c2VjcmV0"), "{e}");
        let e = SigningKey::read(&dir.join("missing.pem"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("missing.pem") && e.contains("cannot read"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_of_a_key_shows_only_its_kind() {
        let key = SigningKey::from_pem(RSA_PKCS8.as_bytes()).unwrap();
        assert_eq!(format!("{key:?}"), "SigningKey::Rsa(…)");
    }

    #[test]
    fn github_actions_token_is_asked_for_the_audience_with_the_request_token() {
        use crate::http::scripted::{self, COMMON, headers};
        let (http, sent) = scripted::http(&[(200, br#"{"count":1,"value":"eyJh.eyJi.c2ln"}"#)]);
        let jwt = github_actions_token(
            &http,
            "https://pipelines.example/idtoken?api-version=2.0",
            &Secret::new("req-token"),
            Some("api://AzureADTokenExchange"),
        )
        .unwrap();
        assert_eq!(jwt.expose(), "eyJh.eyJi.c2ln");
        let req = sent.only();
        assert_eq!(req.method, crate::http::Method::Get);
        assert_eq!(
            req.url.as_str(),
            "https://pipelines.example/idtoken?api-version=2.0&audience=api%3A%2F%2FAzureADTokenExchange"
        );
        let mut expected = vec![("Authorization", "Bearer req-token")];
        expected.extend(COMMON);
        assert_eq!(headers(&req), expected);
    }

    #[test]
    fn a_github_answer_without_a_jwt_is_an_error_that_shows_no_token() {
        use crate::http::scripted;
        let (http, _) = scripted::http(&[(200, br#"{"value":"not a jwt"}"#)]);
        let e = github_actions_token(
            &http,
            "https://p.example/t",
            &Secret::new("req-token"),
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("without a JWT") && !e.contains("req-token"),
            "{e}"
        );
    }

    #[test]
    fn an_assertion_file_must_hold_one_jwt() {
        assert!(is_compact_jwt("eyJh.eyJi.c2ln"));
        for bad in ["", "a.b", "a.b.c.d", "a..c", "a.b.c d", "a.b.c="] {
            assert!(!is_compact_jwt(bad), "{bad:?}");
        }
    }
}
