//! Token exchange (RFC 8693): a token this workload already holds (a
//! Kubernetes service-account token, a CI job's OIDC token) is traded for
//! an access token. The subject token is read anew for every exchange,
//! since its platform rotates it; the result is cached like any token and
//! exchanged again when it expires.

use super::{Client, dpop, scope_param};
use crate::config::{Provider, SubjectToken};
use crate::discovery::authorization_server::Metadata;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::Secret;
use crate::token::Token;

/// RFC 8693 §2.1.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// RFC 8693 §2.1: exchange the provider's subject token for its scopes.
/// `client` authenticates when one is configured; a server that needs none
/// (a cloud's security token service) gets none. With `dpop`, the request
/// carries a proof and the token comes back bound (RFC 9449 §5).
pub fn obtain(
    http: &Http,
    meta: &Metadata,
    client: Option<&Client>,
    dpop: Option<&dpop::Proofs>,
    provider: &Provider,
) -> Result<Token> {
    let exchange = provider.exchange.as_ref().ok_or_else(|| {
        Error::Login(format!(
            "{}: grant = \"token_exchange\" without a subject token",
            provider.name
        ))
    })?;
    super::refuse_at_discovered_issuer(provider, "a subject token")?;
    let subject = subject_token(http, &exchange.subject)?;
    let scope = scope_param(&provider.scopes);
    let mut form = vec![
        ("grant_type", GRANT_TYPE),
        ("subject_token", subject.expose()),
        ("subject_token_type", exchange.subject_token_type.as_str()),
    ];
    for (name, value) in [
        ("audience", &exchange.audience),
        ("resource", &exchange.resource),
        ("requested_token_type", &exchange.requested_token_type),
        ("scope", &scope),
    ] {
        if let Some(v) = value {
            form.push((name, v));
        }
    }
    let url = meta.token_endpoint()?;
    crate::debug!("POST {} grant_type={GRANT_TYPE}", crate::http::origin(url));
    let mut body = super::post_to_token_endpoint(http, url, client, dpop, &form)?;
    // RFC 8693 §2.2.1: `N_A` when the issued token is not an access token
    // (an ID token or a JWT asked for with requested_token_type); it is
    // handed out as a bearer credential all the same.
    if body.get("token_type").and_then(|t| t.as_str()) == Some("N_A") {
        body["token_type"] = "Bearer".into();
    }
    let mut token = Token::from_response(&body, crate::token::now())?;
    token = super::bound_as_asked(token, dpop, url)?;
    // The subject token is the lasting credential: when this one expires,
    // a new exchange (with the subject token read again) replaces it.
    token.refresh_token = None;
    Ok(token)
}

/// The subject token: the file's current content, or the CI platform's
/// OIDC token.
fn subject_token(http: &Http, subject: &SubjectToken) -> Result<Secret> {
    match subject {
        SubjectToken::File(path) => {
            let file = std::fs::File::open(path).map_err(|e| {
                Error::Local(format!(
                    "subject token {}: cannot read: {e}",
                    path.display()
                ))
            })?;
            let bytes = crate::bounded::read_at_most(file, 64 * 1024).map_err(|e| {
                Error::Local(format!(
                    "subject token {}: cannot read: {e}",
                    path.display()
                ))
            })?;
            let text = String::from_utf8(bytes).unwrap_or_default();
            let token = text.trim();
            if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Error::Local(format!(
                    "subject token {}: empty, or not one token",
                    path.display()
                )));
            }
            Ok(Secret::new(token))
        }
        SubjectToken::Platform(platform) => super::assertion::platform_token(http, platform),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CiPlatform, GrantKind, TokenExchange};
    use crate::grant::examples::{TOKEN, confidential, metadata};
    use crate::http::scripted::{self, body};

    fn exchange(path: std::path::PathBuf) -> TokenExchange {
        TokenExchange {
            subject: SubjectToken::File(path),
            subject_token_type: "urn:ietf:params:oauth:token-type:jwt".into(),
            audience: Some("https://api.example".into()),
            resource: None,
            requested_token_type: None,
        }
    }

    /// A token-exchange provider trading `exchange`'s subject for `scopes`.
    fn exchanging(exchange: TokenExchange, scopes: &[&str]) -> Provider {
        let mut p = crate::grant::examples::provider();
        p.grant = GrantKind::TokenExchange;
        p.exchange = Some(exchange);
        p.scopes = scopes.iter().map(|s| s.to_string()).collect();
        p
    }

    fn subject_file(content: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("co-subject-{}", crate::random::u64()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn the_subject_token_is_read_for_each_exchange_and_sent_with_its_type() {
        let (http, sent) = scripted::http(&[
            (200, br#"{"access_token":"at","token_type":"Bearer","expires_in":60,"refresh_token":"rt","issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}"#),
            (200, TOKEN),
        ]);
        let path = subject_file("eyJh.eyJi.c2ln\n");
        let x = exchanging(exchange(path.clone()), &["read"]);
        let token = obtain(&http, &metadata(), None, None, &x).unwrap();
        assert_eq!(token.access_token.expose(), "at");
        assert!(
            token.refresh_token.is_none(),
            "a new exchange, not a refresh"
        );
        std::fs::write(&path, "eyJh.eyJj.c2lo").unwrap();
        obtain(
            &http,
            &metadata(),
            None,
            None,
            &exchanging(exchange(path.clone()), &[]),
        )
        .unwrap();
        let all = sent.all();
        assert_eq!(all[0].url.as_str(), "https://as.example/token");
        assert_eq!(all[0].header("Authorization"), None);
        assert_eq!(
            body(&all[0]),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
             &subject_token=eyJh.eyJi.c2ln\
             &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt\
             &audience=https%3A%2F%2Fapi.example&scope=read"
        );
        assert!(body(&all[1]).contains("subject_token=eyJh.eyJj.c2lo&"));
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_configured_client_authenticates_and_n_a_is_taken_as_bearer() {
        let (http, sent) = scripted::http(&[(
            200,
            br#"{"access_token":"jwt","token_type":"N_A","issued_token_type":"urn:ietf:params:oauth:token-type:jwt"}"#,
        )]);
        let path = subject_file("opaque-subject");
        let client = confidential(crate::config::AuthMethod::ClientSecretBasic);
        let token = obtain(
            &http,
            &metadata(),
            Some(&client),
            None,
            &exchanging(exchange(path.clone()), &[]),
        )
        .unwrap();
        assert_eq!(token.token_type, "Bearer");
        assert_eq!(
            sent.only().header("Authorization"),
            Some(crate::grant::examples::BASIC)
        );
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }

    #[test]
    fn a_missing_subject_token_is_named_and_nothing_is_sent() {
        let (http, sent) = scripted::http(&[]);
        let x = exchange("/nonexistent/subject-token".into());
        let e = obtain(&http, &metadata(), None, None, &exchanging(x.clone(), &[])).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/subject-token"), "{e}");
        let x = TokenExchange {
            subject: SubjectToken::Platform(CiPlatform::GitLabCi {
                variable: "CREDENTIAL_OAUTH_TEST_SURELY_UNSET".into(),
            }),
            ..x
        };
        let e = obtain(&http, &metadata(), None, None, &exchanging(x, &[])).unwrap_err();
        assert!(
            e.to_string().contains("CREDENTIAL_OAUTH_TEST_SURELY_UNSET"),
            "{e}"
        );
        assert!(sent.all().is_empty());
    }

    #[test]
    fn a_provider_found_by_discovery_sends_no_subject_token_anywhere() {
        let (http, sent) = scripted::http(&[(200, TOKEN)]);
        let path = subject_file("eyJh.eyJi.c2ln");
        let mut discovered = exchanging(exchange(path.clone()), &[]);
        discovered.issuer_discovered = true;
        let e = obtain(&http, &metadata(), None, None, &discovered)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("subject token") && e.contains("discovery"),
            "{e}"
        );
        assert!(sent.all().is_empty(), "{:?}", sent.all());
        std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    }
}
