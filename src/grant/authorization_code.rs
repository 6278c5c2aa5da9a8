//! Authorization code grant (RFC 6749 §4.1) for a native app (RFC 8252):
//! PKCE with S256 (RFC 7636), a random `state`, the browser sent to the
//! authorization endpoint, and the code caught by a loopback listener.

use super::callback::ExpectedIssuer;
use super::loopback::{About, Listener};
use super::{Client, LoginExtras, scope_param, token_request};
use crate::discovery::authorization_server::Metadata;
use crate::error::{Error, Result};
use crate::http::Http;
use crate::secret::Secret;
use crate::token::Token;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::mpsc::Receiver;
use std::time::Duration;
use url::Url;

/// RFC 7636 §4.1, §4.2: a 32-byte verifier from the OS RNG, base64url (43
/// characters), and its S256 challenge.
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        Pkce::from_verifier(Secret::new(crate::random::token32()))
    }

    /// RFC 7636 §4.2: `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`.
    pub fn from_verifier(verifier: Secret) -> Pkce {
        let digest = Sha256::digest(verifier.expose().as_bytes());
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
        Pkce {
            verifier,
            challenge,
        }
    }
}

impl Default for Pkce {
    fn default() -> Self {
        Pkce::new()
    }
}

/// One login in progress: the listener is up, the URL is ready to open.
pub struct Session {
    listener: Listener,
    pkce: Pkce,
    state: Secret,
    issuer: ExpectedIssuer,
    url: Url,
}

impl Session {
    /// Listen on `redirect_uri` and build the authorization request
    /// (RFC 6749 §4.1.1, RFC 7636 §4.3) with `extras`: the account
    /// asked for, a step-up's authentication, the DPoP key.
    pub fn start(
        meta: &Metadata,
        client: &Client,
        scopes: &[String],
        redirect_uri: &Url,
        extras: &LoginExtras,
        allow_insecure_http: bool,
        http: Option<&Http>,
    ) -> Result<Session> {
        let endpoint = meta.authorization_endpoint.as_ref().ok_or_else(|| {
            Error::Login(format!(
                "issuer {:?} has no authorization_endpoint",
                meta.issuer
            ))
        })?;
        crate::http::check_transport_allowing(endpoint, allow_insecure_http)?;
        let listener = Listener::bind(redirect_uri)?;
        let pkce = Pkce::new();
        let state = Secret::new(crate::random::token32());
        let mut url = authorization_url(
            endpoint,
            client,
            scopes,
            listener.redirect_uri(),
            &state,
            &pkce.challenge,
            extras,
        );
        if let (Some(par), Some(http)) = (&meta.pushed_authorization_request_endpoint, http) {
            url = pushed(http, par, endpoint, client, &url)?;
        } else if meta.require_pushed_authorization_requests {
            return Err(Error::Login(format!(
                "issuer {:?} requires pushed authorization requests but names no endpoint for them",
                meta.issuer
            )));
        }
        Ok(Session {
            listener,
            pkce,
            state,
            issuer: ExpectedIssuer {
                issuer: meta.issuer.clone(),
                required: meta.authorization_response_iss_parameter_supported,
            },
            url,
        })
    }

    /// The URL the person opens.
    pub fn url(&self) -> &Url {
        &self.url
    }

    pub fn redirect_uri(&self) -> &Url {
        self.listener.redirect_uri()
    }

    /// Name the provider and account on the page the browser ends on.
    pub fn set_about(&mut self, about: About) {
        self.listener.set_about(about);
    }

    /// Wait for the redirect (or a pasted URL), then exchange the code with
    /// the verifier at the token endpoint (RFC 6749 §4.1.3, RFC 7636 §4.5).
    pub fn finish(
        self,
        http: &Http,
        meta: &Metadata,
        client: &Client,
        timeout: Duration,
        pasted: Option<&Receiver<String>>,
        prompt: &dyn crate::prompt::Prompt,
    ) -> Result<Token> {
        let code = self
            .listener
            .wait(&self.state, &self.issuer, timeout, pasted, prompt)?;
        exchange(
            http,
            meta,
            client,
            &code,
            self.listener.redirect_uri(),
            &self.pkce.verifier,
        )
    }
}

/// RFC 6749 §4.1.3 with RFC 7636 §4.5: trade `code` for a token. The
/// `redirect_uri` is the one the authorization request carried, exactly.
pub fn exchange(
    http: &Http,
    meta: &Metadata,
    client: &Client,
    code: &Secret,
    redirect_uri: &Url,
    verifier: &Secret,
) -> Result<Token> {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.expose()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", verifier.expose()),
    ];
    token_request(http, meta, client, &form)
}

/// RFC 9126 §2: push the authorization request's parameters (what `url`
/// carries beyond the endpoint's own) as the client, and send the browser
/// with the `request_uri` the server answers and the client id alone
/// (§4). Used wherever the server offers it, not only where it requires
/// it: the request then never shows in the browser's history or logs.
fn pushed(http: &Http, par: &Url, endpoint: &Url, client: &Client, url: &Url) -> Result<Url> {
    let own: Vec<(String, String)> = endpoint.query_pairs().into_owned().collect();
    let params: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|p| !own.contains(p) && p.0 != "client_id")
        .collect();
    let form: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    crate::debug!(
        "POST {} (pushed authorization request)",
        crate::http::origin(par)
    );
    let answer = super::post_as_client(http, par, client, &form)?;
    let request_uri = answer
        .get("request_uri")
        .and_then(|v| v.as_str())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Error::BadAnswer(format!(
                "{}: the pushed authorization request was answered without a request_uri",
                crate::http::origin(par)
            ))
        })?;
    let mut sent = endpoint.clone();
    sent.query_pairs_mut()
        .append_pair("client_id", &client.id)
        .append_pair("request_uri", request_uri);
    Ok(sent)
}

/// RFC 6749 §4.1.1 with the RFC 7636 §4.3 challenge, and `extras`;
/// parameters the endpoint URL already carries are kept.
pub fn authorization_url(
    endpoint: &Url,
    client: &Client,
    scopes: &[String],
    redirect_uri: &Url,
    state: &Secret,
    challenge: &str,
    extras: &LoginExtras,
) -> Url {
    let mut url = endpoint.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &client.id)
            .append_pair("redirect_uri", redirect_uri.as_str());
        if let Some(scope) = scope_param(scopes) {
            q.append_pair("scope", &scope);
        }
        q.append_pair("state", state.expose())
            .append_pair("code_challenge", challenge)
            .append_pair("code_challenge_method", "S256");
        for (name, value) in extras.authorization_params() {
            q.append_pair(name, &value);
        }
        // RFC 8707 §2.1.
        if let Some(resource) = &client.resource {
            q.append_pair("resource", resource);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AuthMethod;

    #[test]
    /// RFC 7636 Appendix B (checked against `openssl dgst -sha256 | base64url`).
    fn s256_matches_rfc7636_appendix_b() {
        let p = Pkce::from_verifier(Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"));
        assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifiers_are_43_unreserved_characters_and_differ() {
        let a = Pkce::new();
        let b = Pkce::new();
        assert_eq!(a.verifier.expose().len(), 43);
        assert!(
            a.verifier
                .expose()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_ne!(a.verifier, b.verifier);
        assert_eq!(a.challenge.len(), 43);
    }

    use crate::grant::examples::{BASIC, TOKEN, confidential, metadata, public};
    use crate::http::scripted::{self, COMMON, body, headers};

    #[test]
    fn code_exchange_sends_code_redirect_uri_and_verifier_exactly() {
        let (http, sent) = scripted::http(&[(200, TOKEN)]);
        let redirect = Url::parse("http://127.0.0.1:5210/cb").unwrap();
        let verifier = Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let client = confidential(AuthMethod::ClientSecretBasic);
        let token = exchange(
            &http,
            &metadata(),
            &client,
            &Secret::new("c+/="),
            &redirect,
            &verifier,
        )
        .unwrap();
        assert_eq!(token.access_token.expose(), "at");
        let req = sent.only();
        assert_eq!(req.url.as_str(), "https://as.example/token");
        let mut expected = vec![
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", BASIC),
        ];
        expected.extend(COMMON);
        assert_eq!(headers(&req), expected);
        assert_eq!(
            body(&req),
            "grant_type=authorization_code&code=c%2B%2F%3D\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A5210%2Fcb\
             &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        );
    }

    #[test]
    fn finish_exchanges_the_pasted_code_with_the_listeners_redirect_uri() {
        let meta = metadata();
        let client = public();
        let redirect = Url::parse("http://127.0.0.1:0/").unwrap();
        let session = Session::start(
            &meta,
            &client,
            &[],
            &redirect,
            &LoginExtras::default(),
            false,
            None,
        )
        .unwrap();
        let sent_in_url = |name: &str| {
            session
                .url()
                .query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap()
        };
        let state = sent_in_url("state");
        let challenge = sent_in_url("code_challenge");
        // The listener took a free port; the exchange names it, as the
        // authorization request did.
        let redirect_uri = session.redirect_uri().clone();
        assert_ne!(redirect_uri.port(), Some(0));
        let (tx, rx) = std::sync::mpsc::channel();
        tx.send(format!("{redirect_uri}?code=the-code&state={state}"))
            .unwrap();
        let (http, sent) = scripted::http(&[(200, TOKEN)]);
        session
            .finish(
                &http,
                &meta,
                &client,
                Duration::from_secs(5),
                Some(&rx),
                &crate::prompt::Terminal,
            )
            .unwrap();
        let req = sent.only();
        let form: Vec<(String, String)> = url::form_urlencoded::parse(&req.body)
            .into_owned()
            .collect();
        let names: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "grant_type",
                "code",
                "redirect_uri",
                "code_verifier",
                "client_id"
            ]
        );
        let get = |k: &str| form.iter().find(|(n, _)| n == k).unwrap().1.as_str();
        assert_eq!(get("code"), "the-code");
        assert_eq!(get("redirect_uri"), redirect_uri.as_str());
        assert_eq!(get("client_id"), "app");
        // The verifier is the one whose challenge went out in the URL.
        assert_eq!(
            Pkce::from_verifier(Secret::new(get("code_verifier"))).challenge,
            challenge
        );
    }

    #[test]
    fn authorization_url_carries_pkce_state_and_hint() {
        let client = Client {
            id: "app".into(),
            secret: None,
            method: AuthMethod::ClientSecretBasic,
            assertion: None,
            dpop: None,
            resource: None,
        };
        let endpoint = Url::parse("https://a.example/authorize?tenant=x").unwrap();
        let redirect = Url::parse("http://127.0.0.1:5210/").unwrap();
        let url = authorization_url(
            &endpoint,
            &client,
            &["read".into(), "write".into()],
            &redirect,
            &Secret::new("st"),
            "ch",
            &LoginExtras {
                login_hint: Some("alice".into()),
                ..LoginExtras::default()
            },
        );
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("tenant"), Some("x"));
        assert_eq!(get("response_type"), Some("code"));
        assert_eq!(get("client_id"), Some("app"));
        assert_eq!(get("redirect_uri"), Some("http://127.0.0.1:5210/"));
        assert_eq!(get("scope"), Some("read write"));
        assert_eq!(get("state"), Some("st"));
        assert_eq!(get("code_challenge"), Some("ch"));
        assert_eq!(get("code_challenge_method"), Some("S256"));
        assert_eq!(get("login_hint"), Some("alice"));
        assert_eq!(get("acr_values"), None);
        let none = authorization_url(
            &endpoint,
            &client,
            &[],
            &redirect,
            &Secret::new("st"),
            "ch",
            &LoginExtras {
                login_hint: Some(String::new()),
                ..LoginExtras::default()
            },
        );
        assert!(!none.as_str().contains("login_hint") && !none.as_str().contains("scope"));
        assert!(!none.as_str().contains("resource"));
        let bound = Client {
            resource: Some("https://mcp.example/mcp".into()),
            ..client
        };
        let url = authorization_url(
            &endpoint,
            &bound,
            &[],
            &redirect,
            &Secret::new("st"),
            "ch",
            &LoginExtras::default(),
        );
        assert!(
            url.as_str()
                .ends_with("&resource=https%3A%2F%2Fmcp.example%2Fmcp"),
            "{url}"
        );
    }

    /// RFC 9470 §4 and RFC 9449 §10: a step-up's authentication and the
    /// DPoP key's thumbprint go on the authorization request.
    #[test]
    fn authorization_url_carries_a_step_up_and_the_dpop_key() {
        let endpoint = Url::parse("https://a.example/authorize").unwrap();
        let redirect = Url::parse("http://127.0.0.1:5210/").unwrap();
        let url = authorization_url(
            &endpoint,
            &crate::grant::examples::public(),
            &["openid".into()],
            &redirect,
            &Secret::new("st"),
            "ch",
            &LoginExtras {
                login_hint: None,
                acr_values: Some("phr phrh".into()),
                max_age: Some(300),
                dpop_jkt: Some("jkt-1".into()),
            },
        );
        let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("acr_values"), Some("phr phrh"));
        assert_eq!(get("max_age"), Some("300"));
        assert_eq!(get("dpop_jkt"), Some("jkt-1"));
    }
}
