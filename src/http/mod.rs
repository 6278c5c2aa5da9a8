//! The one HTTP client. It sends `Accept: application/json`, follows no
//! redirect, bounds time and body size, speaks only HTTPS to non-loopback
//! hosts, and turns OAuth error bodies (RFC 6749 §5.2) into [`Error::OAuth`].
//!
//! [`Http`] holds that policy and builds each [`HttpRequest`]; an
//! [`HttpClient`] sends it. The real one is reqwest's blocking client (the
//! only place reqwest is named); a closure is another, which is how unit
//! tests assert a grant's exact request without a server.
//!
//! The rules for URLs (https except loopback, and how a server is named in
//! messages) are in [`trust`]; reading an answer (an OAuth error body, a
//! `Date`) in [`answer`]; a server's `WWW-Authenticate` challenges in
//! [`challenge`]; the reqwest client in `reqwest_client`; answers read as
//! they arrive (the MCP bridge's), for a resource server, in [`stream`].

pub mod answer;
pub mod challenge;
mod reqwest_client;
pub mod stream;
pub mod trust;

pub use answer::{interpret, parse_http_date};
pub use trust::{
    authority, check_transport, check_transport_allowing, is_loopback, origin, printable,
};

use crate::error::{Error, Result};
use crate::secret::Secret;
use base64::Engine;
use url::Url;

/// Largest response body read.
pub const MAX_BODY: u64 = 1024 * 1024;

/// How a provider's server is reached: the transport options of its config entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transport {
    pub allow_insecure_http: bool,
    /// PEM file of extra trust anchors (a private CA), added to the system's.
    pub ca_file: Option<std::path::PathBuf>,
}

/// Client authentication sent with a form (RFC 6749 §2.3.1).
pub enum ClientAuth<'a> {
    /// `Authorization: Basic` with the form-urlencoded id and secret.
    Basic { id: &'a str, secret: &'a Secret },
    /// Nothing in the header; the caller puts what is needed in the form.
    None,
}

/// The request method. Only what the protocols here use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    /// Ending an MCP session (Streamable HTTP).
    Delete,
}

/// One request as it goes on the wire, built by [`Http`] and sent by an
/// [`HttpClient`]. Its `Debug` names the server and the header names but
/// never the `Authorization` value or the body, which carry secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: Url,
    /// Header names and values, in the order they are sent.
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The value of header `name` (ASCII case-insensitive), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured so a new field cannot slip into Debug unredacted.
        let HttpRequest {
            method,
            url,
            headers,
            body,
        } = self;
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(name, value)| {
                if name.eq_ignore_ascii_case("authorization") {
                    (*name, "<redacted>")
                } else {
                    (*name, value.as_str())
                }
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", method)
            .field("url", &origin(url))
            .field("headers", &headers)
            .field("body", &format_args!("<{} bytes redacted>", body.len()))
            .finish()
    }
}

/// What came back: the status, the headers (names lowercased) and the
/// body (read at most [`MAX_BODY`] + 1 bytes by the real client). Its
/// `Debug` leaves the body out: a token answer carries the tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The value of response header `name` (lowercase), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }
}

fn header_in<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let HttpResponse {
            status,
            headers,
            body,
        } = self;
        f.debug_struct("HttpResponse")
            .field("status", status)
            .field("headers", headers)
            .field("body", &format_args!("<{} bytes redacted>", body.len()))
            .finish()
    }
}

/// The seam between [`Http`]'s policy and the network (in the manner of
/// oauth2-rs's `SyncHttpClient`): send one request as given, follow no
/// redirect, and return the status and body. An error names the server,
/// never the request's secrets. Any `Fn(HttpRequest) -> Result<HttpResponse>`
/// is one, so a unit test passes a closure that records the request and
/// answers from a script.
pub trait HttpClient {
    fn execute(&self, request: HttpRequest) -> Result<HttpResponse>;

    /// The `Date` header (RFC 9110 §6.6.1) of a HEAD of `url`, for
    /// `doctor`'s clock check; `None` when the server sends none. A client
    /// that cannot tell (a unit test's closure) answers `None`.
    fn date_of(&self, url: &Url) -> Result<Option<String>> {
        let _ = url;
        Ok(None)
    }
}

impl<F> HttpClient for F
where
    F: Fn(HttpRequest) -> Result<HttpResponse>,
{
    fn execute(&self, request: HttpRequest) -> Result<HttpResponse> {
        self(request)
    }
}

pub(crate) const USER_AGENT: &str = concat!("credential-oauth/", env!("CARGO_PKG_VERSION"));

/// The HTTP policy every grant and discovery goes through: https except
/// loopback, `Accept: application/json`, no redirect followed, bounded
/// answers, OAuth errors interpreted. It sends through an [`HttpClient`].
pub struct Http {
    client: Box<dyn HttpClient>,
    allow_insecure_http: bool,
}

impl Http {
    /// The same policy over another client: a closure in unit tests.
    /// `allow_insecure_http` is the provider's setting, as in [`Transport`].
    pub fn with_client(client: impl HttpClient + 'static, allow_insecure_http: bool) -> Http {
        Http {
            client: Box::new(client),
            allow_insecure_http,
        }
    }

    /// GET a JSON document.
    pub fn get_json(&self, url: &Url) -> Result<serde_json::Value> {
        let req = self.request(Method::Get, url, None, None, Vec::new())?;
        self.send(req)
    }

    /// GET a JSON document with `Authorization: Bearer <token>` (a CI
    /// platform's ID token service, which takes its own request token).
    pub fn get_json_with_bearer(&self, url: &Url, token: &Secret) -> Result<serde_json::Value> {
        let authorization = format!("Bearer {}", token.expose());
        let req = self.request(Method::Get, url, None, Some(authorization), Vec::new())?;
        self.send(req)
    }

    /// POST a form and read a JSON answer.
    pub fn post_form(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        auth: ClientAuth<'_>,
    ) -> Result<serde_json::Value> {
        let req = self.form_request(url, form, auth)?;
        self.send(req)
    }

    /// POST a form with `extra` headers (RFC 9449's `DPoP` proof) and read
    /// the JSON answer together with the response's headers, which carry
    /// what the next request needs (RFC 9449 §8 `DPoP-Nonce`), success or
    /// not.
    pub fn post_form_with(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        auth: ClientAuth<'_>,
        extra: &[(&'static str, String)],
    ) -> Answer {
        let mut req = match self.form_request(url, form, auth) {
            Ok(req) => req,
            Err(e) => return Answer::failed(e),
        };
        // Before Accept and User-Agent, after what names the body.
        let at = req.headers.len() - 2;
        for (i, header) in extra.iter().enumerate() {
            req.headers.insert(at + i, header.clone());
        }
        let server = origin(&req.url);
        match self.exchange_full(req) {
            Ok(HttpResponse {
                status,
                headers,
                body,
            }) => Answer {
                result: interpret(server, status, &body),
                headers,
            },
            Err(e) => Answer::failed(e),
        }
    }

    /// POST a JSON document (RFC 7591 registration) and read a JSON answer.
    pub fn post_json(&self, url: &Url, doc: &serde_json::Value) -> Result<serde_json::Value> {
        let req = self.request(
            Method::Post,
            url,
            Some("application/json"),
            None,
            doc.to_string().into_bytes(),
        )?;
        self.send(req)
    }

    /// POST a form to an endpoint whose success has no body to read
    /// (RFC 7009 §2.2: revocation answers 200 and the client ignores the body).
    pub fn post_form_no_content(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        auth: ClientAuth<'_>,
    ) -> Result<()> {
        let req = self.form_request(url, form, auth)?;
        let (server, status, body) = self.exchange(req)?;
        if (200..300).contains(&status) {
            return Ok(());
        }
        interpret(server, status, &body).map(|_| ())
    }

    /// The server's clock, from the `Date` header of a HEAD of `url`, as
    /// Unix seconds: `None` when it sends none or one that is not an
    /// IMF-fixdate. Used by `doctor` only.
    pub fn server_date(&self, url: &Url) -> Result<Option<u64>> {
        check_transport_allowing(url, self.allow_insecure_http)?;
        Ok(self
            .client
            .date_of(url)?
            .as_deref()
            .and_then(parse_http_date))
    }

    fn form_request(
        &self,
        url: &Url,
        form: &[(&str, &str)],
        auth: ClientAuth<'_>,
    ) -> Result<HttpRequest> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let authorization = match auth {
            ClientAuth::Basic { id, secret } => Some(basic_auth(id, secret)),
            ClientAuth::None => None,
        };
        self.request(
            Method::Post,
            url,
            Some("application/x-www-form-urlencoded"),
            authorization,
            body.into_bytes(),
        )
    }

    /// The request with the headers every one carries; refused before
    /// anything is sent when the URL breaks the transport rule.
    fn request(
        &self,
        method: Method,
        url: &Url,
        content_type: Option<&str>,
        authorization: Option<String>,
        body: Vec<u8>,
    ) -> Result<HttpRequest> {
        check_transport_allowing(url, self.allow_insecure_http)?;
        let mut headers = Vec::with_capacity(4);
        if let Some(ct) = content_type {
            headers.push(("Content-Type", ct.to_string()));
        }
        if let Some(value) = authorization {
            headers.push(("Authorization", value));
        }
        headers.push(("Accept", "application/json".to_string()));
        headers.push(("User-Agent", USER_AGENT.to_string()));
        Ok(HttpRequest {
            method,
            url: url.clone(),
            headers,
            body,
        })
    }

    fn send(&self, req: HttpRequest) -> Result<serde_json::Value> {
        let (server, status, body) = self.exchange(req)?;
        interpret(server, status, &body)
    }

    /// Send `req` and take the status and the body, refused when larger
    /// than [`MAX_BODY`] whichever client read it.
    fn exchange(&self, req: HttpRequest) -> Result<(String, u16, Vec<u8>)> {
        let server = origin(&req.url);
        let HttpResponse { status, body, .. } = self.exchange_full(req)?;
        Ok((server, status, body))
    }

    /// [`Http::exchange`], the response's headers kept.
    fn exchange_full(&self, req: HttpRequest) -> Result<HttpResponse> {
        let server = origin(&req.url);
        let response = self.client.execute(req)?;
        crate::debug!("{server}: HTTP {}", response.status);
        if response.body.len() as u64 > MAX_BODY {
            return Err(Error::BadAnswer(format!(
                "{server}: answer is larger than {} KiB",
                MAX_BODY / 1024
            )));
        }
        Ok(response)
    }
}

/// A JSON answer (or the error it means) with the response's headers:
/// see [`Http::post_form_with`]. A request that got no answer has none.
#[derive(Debug)]
pub struct Answer {
    pub result: Result<serde_json::Value>,
    pub headers: Vec<(String, String)>,
}

impl Answer {
    fn failed(e: Error) -> Answer {
        Answer {
            result: Err(e),
            headers: Vec::new(),
        }
    }

    /// The value of response header `name`, if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.headers, name)
    }
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before being joined.
pub fn basic_auth(id: &str, secret: &Secret) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = format!("{}:{}", enc(id), enc(secret.expose()));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// For unit tests: [`Http`] over a closure that keeps every request and
/// answers from a script, so a test asserts the exact request a grant makes.
#[cfg(test)]
pub(crate) mod scripted {
    use super::*;
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::rc::Rc;

    /// The requests sent so far, in order.
    #[derive(Clone, Default)]
    pub struct Sent(Rc<RefCell<Vec<HttpRequest>>>);

    impl Sent {
        pub fn all(&self) -> Vec<HttpRequest> {
            self.0.borrow().clone()
        }

        /// The one request sent; fails the test if there were more or none.
        pub fn only(&self) -> HttpRequest {
            let all = self.all();
            assert_eq!(all.len(), 1, "expected exactly one request: {all:?}");
            all.into_iter().next().unwrap()
        }
    }

    /// `Http` (https required, as by default) answering the n-th request
    /// with the n-th `(status, body)`; a request beyond the script fails.
    pub fn http(answers: &[(u16, &[u8])]) -> (Http, Sent) {
        let answers: Vec<Scripted> = answers
            .iter()
            .map(|(status, body)| (*status, &[][..], *body))
            .collect();
        http_with_headers(&answers)
    }

    /// One scripted answer: status, response headers, body.
    pub type Scripted<'a> = (u16, &'a [(&'a str, &'a str)], &'a [u8]);

    /// [`http`] with response headers.
    pub fn http_with_headers(answers: &[Scripted]) -> (Http, Sent) {
        let sent = Sent::default();
        let log = sent.clone();
        let answers: RefCell<VecDeque<HttpResponse>> = RefCell::new(
            answers
                .iter()
                .map(|(status, headers, body)| HttpResponse {
                    status: *status,
                    headers: headers
                        .iter()
                        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
                        .collect(),
                    body: body.to_vec(),
                })
                .collect(),
        );
        let client = move |request: HttpRequest| {
            log.0.borrow_mut().push(request);
            answers
                .borrow_mut()
                .pop_front()
                .ok_or_else(|| Error::BadAnswer("the script has no answer left".into()))
        };
        (Http::with_client(client, false), sent)
    }

    /// The body as text (forms and JSON are ASCII here).
    pub fn body(request: &HttpRequest) -> &str {
        std::str::from_utf8(&request.body).expect("a text body")
    }

    /// The headers as `(name, value)` pairs, for comparing whole lists.
    pub fn headers(request: &HttpRequest) -> Vec<(&str, &str)> {
        request
            .headers
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .collect()
    }

    /// What every request carries after its own headers.
    pub const COMMON: [(&str, &str); 2] =
        [("Accept", "application/json"), ("User-Agent", USER_AGENT)];
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::scripted::{COMMON, body, headers};

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn a_get_sends_accept_and_user_agent_and_no_body() {
        let (http, sent) = scripted::http(&[(200, br#"{"issuer":"x"}"#)]);
        let doc = http
            .get_json(&url("https://as.example/.well-known/x?a=1"))
            .unwrap();
        assert_eq!(doc["issuer"], "x");
        let req = sent.only();
        assert_eq!(req.method, Method::Get);
        assert_eq!(req.url.as_str(), "https://as.example/.well-known/x?a=1");
        assert_eq!(headers(&req), COMMON);
        assert!(req.body.is_empty());
    }

    #[test]
    fn a_form_is_urlencoded_with_basic_auth_in_the_header() {
        let (http, sent) = scripted::http(&[(200, br#"{"ok":true}"#)]);
        let secret = Secret::new("p@ss");
        http.post_form(
            &url("https://as.example/token"),
            &[("a", "1 2"), ("b", "&=")],
            ClientAuth::Basic {
                id: "app",
                secret: &secret,
            },
        )
        .unwrap();
        let req = sent.only();
        assert_eq!(req.method, Method::Post);
        assert_eq!(body(&req), "a=1+2&b=%26%3D");
        let mut expected = vec![
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", "Basic YXBwOnAlNDBzcw=="),
        ];
        expected.extend(COMMON);
        assert_eq!(headers(&req), expected);
    }

    #[test]
    fn plain_http_is_refused_before_anything_is_sent() {
        let (http, sent) = scripted::http(&[]);
        let e = http.get_json(&url("http://as.example/meta")).unwrap_err();
        assert!(e.to_string().contains("must use https"), "{e}");
        assert!(sent.all().is_empty());
        // Loopback is allowed, and allow_insecure_http allows any host.
        let (http, sent) = scripted::http(&[(200, b"{}")]);
        http.get_json(&url("http://127.0.0.1:9/meta")).unwrap();
        assert_eq!(sent.all().len(), 1);
        let insecure = Http::with_client(
            |_: HttpRequest| {
                Ok(HttpResponse {
                    status: 200,
                    headers: Vec::new(),
                    body: b"{}".to_vec(),
                })
            },
            true,
        );
        insecure.get_json(&url("http://as.internal/meta")).unwrap();
    }

    #[test]
    fn a_redirect_is_not_followed() {
        let (http, sent) = scripted::http(&[(302, b"")]);
        let e = http
            .post_form(
                &url("https://as.example/token"),
                &[("a", "b")],
                ClientAuth::None,
            )
            .unwrap_err();
        assert!(matches!(e, Error::Status { status: 302, .. }), "{e:?}");
        assert_eq!(
            e.to_string(),
            "https://as.example/token: HTTP 302: redirects are not followed"
        );
        assert_eq!(sent.all().len(), 1);
    }

    #[test]
    fn an_answer_over_one_mib_is_refused_and_one_of_one_mib_is_read() {
        let padded = |len: usize| {
            let mut doc = br#"{"a":""#.to_vec();
            doc.resize(len - 2, b'x');
            doc.extend_from_slice(br#""}"#);
            doc
        };
        let limit = MAX_BODY as usize;
        let (http, _) = scripted::http(&[(200, &padded(limit)), (200, &padded(limit + 1))]);
        let u = url("https://as.example/meta");
        assert!(http.get_json(&u).is_ok());
        let e = http.get_json(&u).unwrap_err();
        assert_eq!(
            e.to_string(),
            "https://as.example/meta: answer is larger than 1024 KiB"
        );
    }

    #[test]
    fn oauth_errors_come_back_with_their_code_whatever_the_status() {
        let (http, _) = scripted::http(&[
            (400, br#"{"error":"invalid_grant"}"#),
            (200, br#"{"error":"slow_down"}"#),
            (401, br#"{"error":"invalid_client"}"#),
        ]);
        let u = url("https://as.example/token");
        let code = |r: Result<serde_json::Value>| r.unwrap_err().oauth_code().map(str::to_string);
        assert_eq!(
            code(http.post_form(&u, &[], ClientAuth::None)).as_deref(),
            Some("invalid_grant")
        );
        assert_eq!(
            code(http.post_form(&u, &[], ClientAuth::None)).as_deref(),
            Some("slow_down")
        );
        // An endpoint with no body to read still reports a refusal.
        let e = http
            .post_form_no_content(&u, &[], ClientAuth::None)
            .unwrap_err();
        assert_eq!(e.oauth_code(), Some("invalid_client"));
    }

    #[test]
    fn a_client_error_is_passed_on() {
        let http = Http::with_client(
            |_: HttpRequest| {
                Err(Error::BadAnswer(
                    "https://as.example/: cannot connect".into(),
                ))
            },
            false,
        );
        let e = http.get_json(&url("https://as.example/")).unwrap_err();
        assert_eq!(e.to_string(), "https://as.example/: cannot connect");
    }

    #[test]
    fn debug_never_shows_the_authorization_value_or_the_body() {
        let (http, sent) = scripted::http(&[(200, br#"{"access_token":"tok-SECRET"}"#)]);
        let secret = Secret::new("client-SECRET");
        http.post_form(
            &url("https://as.example/token?q=code-SECRET"),
            &[("refresh_token", "refresh-SECRET")],
            ClientAuth::Basic {
                id: "app",
                secret: &secret,
            },
        )
        .unwrap();
        let req = sent.only();
        let shown = format!("{req:?}");
        let basic = basic_auth("app", &secret);
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(
            !shown.contains(basic.trim_start_matches("Basic ")),
            "{shown}"
        );
        assert!(
            shown.contains(r#"("Authorization", "<redacted>")"#),
            "{shown}"
        );
        assert!(shown.contains("https://as.example/token"), "{shown}");
        let response = HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: br#"{"access_token":"tok-SECRET"}"#.to_vec(),
        };
        let shown = format!("{response:?}");
        assert!(
            !shown.contains("SECRET") && shown.contains("200"),
            "{shown}"
        );
    }

    /// A one-connection loopback server for the real client: it reads the
    /// request head, writes `answer`, and returns how many connections came

    #[test]
    fn basic_auth_urlencodes_id_and_secret() {
        // "a b:c" and "p@ss/w%rd" encoded, then base64 of "a+b%3Ac:p%40ss%2Fw%25rd".
        let h = basic_auth("a b:c", &Secret::new("p@ss/w%rd"));
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(h.trim_start_matches("Basic "))
            .unwrap();
        assert_eq!(decoded, b"a+b%3Ac:p%40ss%2Fw%25rd");
    }
}
