//! Device authorization grant (RFC 8628): for sessions with no browser. The
//! person opens the verification URI elsewhere and enters the user code while
//! this process polls the token endpoint.

use super::authorization_code::Pkce;
use super::{Client, post_as_client, scope_param, token_request};
use crate::discovery::authorization_server::Metadata;
use crate::error::{Error, Result};
use crate::http::{Http, authority, printable};
use crate::secret::Secret;
use crate::token::{Token, parse_expires_in};
use std::time::{Duration, Instant};

/// RFC 8628 §3.4.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// RFC 8628 §3.2: the interval when the server names none.
const DEFAULT_INTERVAL: u64 = 5;
/// RFC 8628 §3.5: what `slow_down` adds to the interval.
const SLOW_DOWN_STEP: u64 = 5;
/// A server that says `interval: 0` is still not polled in a tight loop.
const MIN_PAUSE: Duration = Duration::from_millis(200);
/// Lifetime assumed for a device code when the server states none.
const DEFAULT_LIFETIME: u64 = 600;

/// The device authorization response (RFC 8628 §3.2).
#[derive(Debug)]
pub struct Authorization {
    pub device_code: Secret,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: u64,
    pub interval: u64,
}

impl Authorization {
    pub fn from_response(body: &serde_json::Value) -> Result<Authorization> {
        let bad = |what: &str| Error::BadAnswer(format!("device authorization answer {what}"));
        let text = |name: &str| {
            body.get(name)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        };
        let device_code = text("device_code").ok_or_else(|| bad("has no device_code"))?;
        let user_code = text("user_code").ok_or_else(|| bad("has no user_code"))?;
        // Some servers (Google) spell it verification_url.
        let verification_uri = text("verification_uri")
            .or_else(|| text("verification_url"))
            .ok_or_else(|| bad("has no verification_uri"))?;
        let interval = match body.get("interval") {
            None | Some(serde_json::Value::Null) => DEFAULT_INTERVAL,
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .ok_or_else(|| bad("has an interval that is not a number of seconds"))?,
        };
        Ok(Authorization {
            device_code: Secret::new(device_code),
            user_code: printable(user_code, 64),
            verification_uri: printable(verification_uri, 500),
            verification_uri_complete: text("verification_uri_complete").map(|s| printable(s, 600)),
            expires_in: body
                .get("expires_in")
                .and_then(parse_expires_in)
                .unwrap_or(DEFAULT_LIFETIME),
            interval: interval.min(300),
        })
    }

    /// RFC 8628 §3.3: what the person is asked to do, on stderr, naming
    /// the authorization server that asks (RFC 8628 §5.4: the person should
    /// know whom they are authorizing). The code stands on a line of its
    /// own, saying which tool put it on the clipboard, if one did. The
    /// `user_code=` line is for scripts (DESIGN.md "People in the loop").
    pub fn instructions(&self, provider: &str, authority: &str, clipboard: Option<&str>) -> String {
        let mut s = format!(
            "credential-oauth: to log in to {provider} at the authorization server {authority}, \
             open {} and enter the code\n\n    {}",
            self.verification_uri, self.user_code
        );
        if let Some(tool) = clipboard {
            s.push_str(&format!("    (copied to the clipboard with {tool})"));
        }
        s.push_str("\n\n");
        if let Some(complete) = &self.verification_uri_complete {
            s.push_str(&format!(
                "credential-oauth: or open {complete} (the code is filled in)\n"
            ));
        }
        s.push_str(&format!("user_code={}\n", self.user_code));
        s
    }
}

/// One poll's outcome (RFC 8628 §3.5), decided from the token endpoint's answer.
#[derive(Debug)]
pub enum Poll {
    Pending,
    SlowDown,
    Done(Token),
    Fail(Error),
}

/// RFC 8628 §3.5: which answers mean "keep polling".
pub fn decide(answer: Result<Token>) -> Poll {
    match answer {
        Ok(token) => Poll::Done(token),
        Err(e) => match e.oauth_code() {
            Some("authorization_pending") => Poll::Pending,
            Some("slow_down") => Poll::SlowDown,
            Some("access_denied") => Poll::Fail(Error::Login(
                "the login was denied on the verification page (access_denied)".into(),
            )),
            Some("expired_token") => Poll::Fail(Error::Login(
                "the user code expired before the login was approved (expired_token); run the command again".into(),
            )),
            _ => Poll::Fail(e),
        },
    }
}

/// The pause before the next poll, after `poll`, from the current `interval`.
pub fn next_interval(interval: u64, poll: &Poll) -> u64 {
    match poll {
        Poll::SlowDown => interval.saturating_add(SLOW_DOWN_STEP),
        _ => interval,
    }
}

/// RFC 8628 §3.1: ask for a device code, with the RFC 7636 §4.3 challenge
/// of `pkce`: some servers require PKCE here of clients that require it,
/// and those that do not know the parameters ignore them (RFC 6749 §3.1).
pub fn start(
    http: &Http,
    meta: &Metadata,
    client: &Client,
    scopes: &[String],
    pkce: &Pkce,
    extra: &[(&'static str, String)],
) -> Result<Authorization> {
    let url = meta
        .device_authorization_endpoint
        .as_ref()
        .ok_or_else(|| no_endpoint(meta))?;
    let scope = scope_param(scopes);
    let mut form = Vec::new();
    if let Some(s) = &scope {
        form.push(("scope", s.as_str()));
    }
    form.push(("code_challenge", pkce.challenge.as_str()));
    form.push(("code_challenge_method", "S256"));
    for (name, value) in extra {
        form.push((name, value));
    }
    crate::debug!("POST {}", crate::http::origin(url));
    let body = post_as_client(http, url, client, &form)?;
    Authorization::from_response(&body)
}

/// Why there is no device authorization endpoint to ask. A server that
/// lists the grant (RFC 8414 §2 `grant_types_supported`) but names no
/// endpoint has one the config must name.
fn no_endpoint(meta: &Metadata) -> Error {
    if meta.grant_types_supported.iter().any(|g| g == GRANT_TYPE) {
        return Error::Login(format!(
            "issuer {:?} lists the device grant but its metadata names no \
             device_authorization_endpoint; set device_authorization_endpoint in the config \
             (the server's documentation gives the URL)",
            meta.issuer
        ));
    }
    Error::Login(format!(
        "issuer {:?} offers no device_authorization_endpoint",
        meta.issuer
    ))
}

/// RFC 8628 §3.4: ask the token endpoint once whether the login is done,
/// with the RFC 7636 §4.5 verifier of the challenge sent at the start.
pub fn poll(
    http: &Http,
    meta: &Metadata,
    client: &Client,
    device_code: &Secret,
    verifier: &Secret,
) -> Poll {
    let form = [
        ("grant_type", GRANT_TYPE),
        ("device_code", device_code.expose()),
        ("code_verifier", verifier.expose()),
    ];
    decide(token_request(http, meta, client, &form))
}

/// Who a device login is for and how long it may take.
pub struct Login<'a> {
    /// The provider's name, as the person knows it.
    pub provider: &'a str,
    /// `login_timeout`: the wait ends then, even if the code lives longer.
    pub timeout: Duration,
    /// `allow_insecure_http`: a verification page on plain http may be shown.
    pub allow_insecure_http: bool,
    /// What the device authorization request adds (a step-up's
    /// authentication, RFC 9470 §4).
    pub extra: Vec<(&'static str, String)>,
}

/// The whole grant: start, show the code on stderr, poll until done or
/// until the code or `login.timeout` runs out, whichever is first.
pub fn obtain(
    http: &Http,
    meta: &Metadata,
    client: &Client,
    scopes: &[String],
    login: &Login,
    prompt: &dyn crate::prompt::Prompt,
) -> Result<Token> {
    let pkce = Pkce::new();
    let auth = start(http, meta, client, scopes, &pkce, &login.extra)?;
    // The person is sent to these pages; like every endpoint they are
    // https unless loopback, or a phishing page on plain http could take
    // the code (RFC 8628 §5.4).
    for uri in std::iter::once(&auth.verification_uri).chain(&auth.verification_uri_complete) {
        let parsed = url::Url::parse(uri)
            .map_err(|_| Error::Login("the device login's verification_uri is not a URL".into()))?;
        crate::http::check_transport_allowing(&parsed, login.allow_insecure_http).map_err(
            |_| {
                Error::Refused(format!(
                    "the authorization server {} sends the person to {} for the device login, \
                     which is not https; refused",
                    authority(&meta.issuer),
                    crate::http::origin(&parsed)
                ))
            },
        )?;
    }
    let clipboard = prompt.copy_to_clipboard(&auth.user_code);
    let server = authority(&meta.issuer);
    prompt.say(&auth.instructions(&crate::prompt::escape(login.provider), &server, clipboard));
    let started = Instant::now();
    let code_ends = started + Duration::from_secs(auth.expires_in);
    let login_ends = started + login.timeout;
    // Like the instructions, the line that shows the page names whose it
    // is: a page alone could be anyone's (DESIGN.md "People in the loop").
    let _waiting = prompt.waiting(
        &format!(
            "waiting for approval at {} (authorization server {server})",
            auth.verification_uri
        ),
        if code_ends <= login_ends {
            "code expires in"
        } else {
            "gives up in"
        },
        code_ends.min(login_ends),
    );
    let mut interval = auth.interval;
    loop {
        let pause = Duration::from_secs(interval).max(MIN_PAUSE);
        let left = code_ends
            .min(login_ends)
            .saturating_duration_since(Instant::now());
        std::thread::sleep(pause.min(left));
        if Instant::now() >= login_ends && login_ends < code_ends {
            return Err(Error::Login(format!(
                "no approval within {} s; the login timed out \
                 (login_timeout in the config sets how long to wait)",
                login.timeout.as_secs()
            )));
        }
        let poll = poll(http, meta, client, &auth.device_code, &pkce.verifier);
        interval = next_interval(interval, &poll);
        match poll {
            Poll::Done(token) => return Ok(token),
            Poll::Fail(e) => return Err(e),
            Poll::SlowDown => crate::debug!("device grant: slow_down, now every {interval} s"),
            Poll::Pending => {}
        }
        if Instant::now() >= code_ends {
            return Err(Error::Login(
                "the user code expired before the login was approved; run the command again".into(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn oauth(code: &str) -> Error {
        Error::OAuth {
            server: "s".into(),
            status: 400,
            error: code.into(),
            description: None,
        }
    }

    use crate::config::AuthMethod;
    use crate::grant::examples::{BASIC, TOKEN, confidential, metadata, public};
    use crate::http::scripted::{self, COMMON, body, headers};

    /// RFC 7636 Appendix B's verifier and its S256 challenge.
    fn pkce() -> Pkce {
        Pkce::from_verifier(Secret::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
    }
    const CHALLENGE: &str = "code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
                             &code_challenge_method=S256";
    const VERIFIER: &str = "code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    const DEVICE_ANSWER: &[u8] = br#"{"device_code":"dc-1","user_code":"WDJB-MJHT",
        "verification_uri":"https://as.example/activate","expires_in":900,"interval":3}"#;

    #[test]
    fn start_posts_the_scope_and_the_public_client_id() {
        let (http, sent) = scripted::http(&[(200, DEVICE_ANSWER)]);
        let scopes = ["read".to_string(), "offline_access".to_string()];
        let auth = start(&http, &metadata(), &public(), &scopes, &pkce(), &[]).unwrap();
        assert_eq!(auth.device_code.expose(), "dc-1");
        assert_eq!(auth.user_code, "WDJB-MJHT");
        assert_eq!(auth.interval, 3);
        let req = sent.only();
        assert_eq!(req.method, crate::http::Method::Post);
        assert_eq!(req.url.as_str(), "https://as.example/device");
        let mut expected = vec![("Content-Type", "application/x-www-form-urlencoded")];
        expected.extend(COMMON);
        assert_eq!(headers(&req), expected);
        assert_eq!(
            body(&req),
            format!("scope=read+offline_access&{CHALLENGE}&client_id=app")
        );
    }

    #[test]
    fn start_as_a_confidential_client_authenticates_and_no_scope_sends_the_challenge_alone() {
        let (http, sent) = scripted::http(&[(200, DEVICE_ANSWER)]);
        let client = confidential(AuthMethod::ClientSecretBasic);
        start(&http, &metadata(), &client, &[], &pkce(), &[]).unwrap();
        let req = sent.only();
        assert_eq!(req.header("Authorization"), Some(BASIC));
        assert_eq!(body(&req), CHALLENGE);
    }

    #[test]
    fn one_poll_sends_the_device_code_under_the_grant_type_urn_and_the_verifier() {
        let (http, sent) = scripted::http(&[(200, TOKEN)]);
        let verifier = pkce().verifier;
        let poll = poll(
            &http,
            &metadata(),
            &public(),
            &Secret::new("dc-1"),
            &verifier,
        );
        assert!(matches!(poll, Poll::Done(_)), "{poll:?}");
        let req = sent.only();
        assert_eq!(req.url.as_str(), "https://as.example/token");
        assert_eq!(
            body(&req),
            format!(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code\
                 &device_code=dc-1&{VERIFIER}&client_id=app"
            )
        );
    }

    #[test]
    fn pending_and_slow_down_keep_polling_whether_sent_with_400_or_200() {
        let (http, _) = scripted::http(&[
            (400, br#"{"error":"authorization_pending"}"#),
            (200, br#"{"error":"authorization_pending"}"#),
            (400, br#"{"error":"slow_down"}"#),
            (400, br#"{"error":"access_denied"}"#),
        ]);
        let (code, verifier) = (Secret::new("dc-1"), pkce().verifier);
        let next = || poll(&http, &metadata(), &public(), &code, &verifier);
        assert!(matches!(next(), Poll::Pending));
        assert!(matches!(next(), Poll::Pending));
        assert!(matches!(next(), Poll::SlowDown));
        assert!(matches!(next(), Poll::Fail(Error::Login(_))));
    }

    #[test]
    fn a_device_grant_listed_without_its_endpoint_names_the_config_key() {
        let (http, sent) = scripted::http(&[]);
        let mut meta = Metadata {
            device_authorization_endpoint: None,
            ..metadata()
        };
        let e = start(&http, &meta, &public(), &[], &pkce(), &[]).unwrap_err();
        assert!(
            !e.to_string().contains("set device_authorization_endpoint"),
            "{e}"
        );
        meta.grant_types_supported = vec!["authorization_code".into(), GRANT_TYPE.into()];
        let e = start(&http, &meta, &public(), &[], &pkce(), &[]).unwrap_err();
        assert!(
            e.to_string()
                .contains("set device_authorization_endpoint in the config"),
            "{e}"
        );
        assert!(sent.all().is_empty());
    }

    #[test]
    fn polling_decisions_follow_rfc8628_3_5() {
        assert!(matches!(
            decide(Err(oauth("authorization_pending"))),
            Poll::Pending
        ));
        assert!(matches!(decide(Err(oauth("slow_down"))), Poll::SlowDown));
        match decide(Err(oauth("access_denied"))) {
            Poll::Fail(e) => assert!(e.to_string().contains("denied")),
            p => panic!("{p:?}"),
        }
        match decide(Err(oauth("expired_token"))) {
            Poll::Fail(e) => assert!(e.to_string().contains("expired")),
            p => panic!("{p:?}"),
        }
        assert!(matches!(
            decide(Err(oauth("invalid_client"))),
            Poll::Fail(Error::OAuth { .. })
        ));
        assert!(matches!(
            decide(Err(Error::BadAnswer("down".into()))),
            Poll::Fail(_)
        ));
        let t = Token::from_response(&json!({"access_token":"a"}), 0).unwrap();
        assert!(matches!(decide(Ok(t)), Poll::Done(_)));
    }

    #[test]
    fn slow_down_adds_five_seconds() {
        assert_eq!(next_interval(5, &Poll::SlowDown), 10);
        assert_eq!(next_interval(0, &Poll::SlowDown), 5);
        assert_eq!(next_interval(5, &Poll::Pending), 5);
    }

    #[test]
    fn response_defaults_and_quirks() {
        let a = Authorization::from_response(&json!({
            "device_code": "dc", "user_code": "WDJB-MJHT",
            "verification_url": "https://a.example/device", "expires_in": "1800"
        }))
        .unwrap();
        assert_eq!(a.interval, 5);
        assert_eq!(a.expires_in, 1800);
        assert_eq!(a.verification_uri, "https://a.example/device");
        let text = a.instructions("corp", "https://as.example", None);
        assert_eq!(
            text,
            "credential-oauth: to log in to corp at the authorization server https://as.example, \
             open https://a.example/device and enter the code\n\n    WDJB-MJHT\n\nuser_code=WDJB-MJHT\n"
        );
        assert!(!text.contains("dc"), "{text}");
        let text = a.instructions("corp", "https://as.example", Some("xclip"));
        assert!(
            text.contains("\n    WDJB-MJHT    (copied to the clipboard with xclip)\n"),
            "{text}"
        );
        assert!(Authorization::from_response(&json!({"user_code": "x"})).is_err());
    }

    /// A person scripted for a test: everything said, in order.
    #[derive(Default)]
    struct Said(std::cell::RefCell<Vec<String>>);

    impl crate::prompt::Prompt for Said {
        fn can_open_browser(&self) -> bool {
            false
        }
        fn open_browser(&self, _: &url::Url) -> Result<()> {
            Err(Error::Login("no browser".into()))
        }
        fn say(&self, text: &str) {
            self.0.borrow_mut().push(text.to_string());
        }
        fn typed_lines(&self) -> Option<std::sync::mpsc::Receiver<String>> {
            None
        }
    }

    #[test]
    fn the_waiting_line_names_the_authorization_server_next_to_the_verification_uri() {
        let (http, _) = scripted::http(&[
            (
                200,
                br#"{"device_code":"dc-1","user_code":"WDJB-MJHT",
                    "verification_uri":"https://verify.example/activate","expires_in":581,"interval":0}"#,
            ),
            (200, TOKEN),
        ]);
        let person = Said::default();
        let login = Login {
            provider: "corp",
            timeout: Duration::from_secs(900),
            allow_insecure_http: false,
            extra: Vec::new(),
        };
        obtain(&http, &metadata(), &public(), &[], &login, &person).unwrap();
        let said = person.0.borrow();
        let waiting = said
            .iter()
            .find(|l| l.contains("waiting for approval"))
            .unwrap_or_else(|| panic!("no waiting line: {said:?}"));
        assert!(
            waiting.starts_with(
                "credential-oauth: waiting for approval at https://verify.example/activate \
                 (authorization server https://as.example) — code expires in 9:4"
            ),
            "{waiting}"
        );
    }
}
