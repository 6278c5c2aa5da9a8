//! The one HTTP client. It sends `Accept: application/json`, follows no
//! redirect, bounds time and body size, speaks only HTTPS to non-loopback
//! hosts, and turns OAuth error bodies (RFC 6749 §5.2) into [`Error::OAuth`].
//!
//! [`Http`] holds that policy and builds each [`HttpRequest`]; an
//! [`HttpClient`] sends it. The real one is reqwest's blocking client (the
//! only place reqwest is named); a closure is another, which is how unit
//! tests assert a grant's exact request without a server.

use crate::error::{Error, Result};
use crate::secret::Secret;
use base64::Engine;
use std::io::Read;
use std::net::IpAddr;
use std::time::Duration;
use url::Url;

/// Largest response body read.
pub const MAX_BODY: u64 = 1024 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether the URL's host is a loopback address (127.0.0.0/8, ::1, localhost).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// HTTPS everywhere except loopback (tests, demos, and the redirect listener).
pub fn check_transport(url: &Url) -> Result<()> {
    check_transport_allowing(url, false)
}

/// [`check_transport`], or any http URL when the provider set
/// `allow_insecure_http = true`.
pub fn check_transport_allowing(url: &Url, allow_insecure_http: bool) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(url) => Ok(()),
        _ => Err(Error::Refused(format!(
            "refusing {}: endpoints must use https (plain http only on loopback, \
             or with allow_insecure_http = true)",
            origin(url)
        ))),
    }
}

/// How a provider's server is reached: the transport options of its config entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transport {
    pub allow_insecure_http: bool,
    /// PEM file of extra trust anchors (a private CA), added to the system's.
    pub ca_file: Option<std::path::PathBuf>,
}

/// The system roots are loaded by the TLS stack, which reads
/// `SSL_CERT_FILE` to its end: `/dev/zero` there grew memory without bound.
/// Only a regular file of at most [`MAX_CA_FILE`] bytes is let through.
fn check_cert_file_env() -> Result<()> {
    let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let path = std::path::Path::new(&path);
    match std::fs::metadata(path) {
        Ok(m) if m.is_file() && m.len() <= MAX_CA_FILE => Ok(()),
        _ => Err(Error::Local(format!(
            "SSL_CERT_FILE={} is not a readable certificate file of at most {} MiB",
            crate::prompt::escape(&path.display().to_string()),
            MAX_CA_FILE / (1024 * 1024)
        ))),
    }
}

/// Largest CA file read.
const MAX_CA_FILE: u64 = 4 * 1024 * 1024;

/// `scheme://host[:port]/path` with no query: how a server is named in messages.
pub fn origin(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// How an authorization server is named to a person: the `scheme://host[:port]`
/// of its issuer, with an internationalised host in its ASCII form, so a
/// look-alike name cannot pass for another.
pub fn authority(issuer: &str) -> String {
    match Url::parse(issuer) {
        Ok(u) if u.host().is_some() => u.origin().ascii_serialization(),
        _ => printable(issuer, 200),
    }
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

/// What came back: the status and the body (read at most [`MAX_BODY`] + 1
/// bytes by the real client). No response header is used. Its `Debug`
/// leaves the body out: a token answer carries the tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let HttpResponse { status, body } = self;
        f.debug_struct("HttpResponse")
            .field("status", status)
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

/// The real client: built by [`Http::new`] with the timeouts, the trust
/// anchors and no redirect policy; the body read is bounded here, so a
/// server cannot make this process hold more than [`MAX_BODY`] + 1 bytes.
impl HttpClient for reqwest::blocking::Client {
    fn execute(&self, request: HttpRequest) -> Result<HttpResponse> {
        let HttpRequest {
            method,
            url,
            headers,
            body,
        } = request;
        let server = origin(&url);
        let mut req = match method {
            Method::Get => self.get(url),
            Method::Post => self.post(url).body(body),
        };
        for (name, value) in headers {
            req = req.header(name, value);
        }
        let resp = req.send().map_err(|e| Error::Network {
            server: server.clone(),
            detail: one_line(&e),
        })?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        resp.take(MAX_BODY + 1)
            .read_to_end(&mut body)
            .map_err(|e| Error::Network {
                server: server.clone(),
                detail: format!("reading the answer failed: {e}"),
            })?;
        Ok(HttpResponse { status, body })
    }

    fn date_of(&self, url: &Url) -> Result<Option<String>> {
        let server = origin(url);
        let resp = self
            .head(url.clone())
            .header("User-Agent", USER_AGENT)
            .send()
            .map_err(|e| Error::Network {
                server,
                detail: one_line(&e),
            })?;
        Ok(resp
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string))
    }
}

const USER_AGENT: &str = concat!("credential-oauth/", env!("CARGO_PKG_VERSION"));

/// Where a proxy is never used: loopback, whatever `NO_PROXY` says. A
/// token or a code for a server on this machine must not cross a proxy,
/// and many users' `NO_PROXY` does not name 127.0.0.1.
const NEVER_PROXIED: &str = "localhost,127.0.0.0/8,::1";

/// The proxies the environment names (`HTTPS_PROXY`, `HTTP_PROXY`,
/// `ALL_PROXY`, each also in lower case), for every host but loopback and
/// those in `NO_PROXY`.
fn with_env_proxies(builder: reqwest::blocking::ClientBuilder) -> reqwest::blocking::ClientBuilder {
    let var = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
    };
    let exempt = match var(["NO_PROXY", "no_proxy"]) {
        Some(listed) => format!("{NEVER_PROXIED},{listed}"),
        None => NEVER_PROXIED.to_string(),
    };
    type MakeProxy = fn(String) -> reqwest::Result<reqwest::Proxy>;
    let kinds: [([&str; 2], MakeProxy); 3] = [
        (["HTTPS_PROXY", "https_proxy"], reqwest::Proxy::https),
        (["HTTP_PROXY", "http_proxy"], reqwest::Proxy::http),
        (["ALL_PROXY", "all_proxy"], reqwest::Proxy::all),
    ];
    let mut builder = builder.no_proxy();
    for (names, make) in kinds {
        match var(names).map(make) {
            Some(Ok(proxy)) => {
                builder = builder.proxy(proxy.no_proxy(reqwest::NoProxy::from_string(&exempt)));
            }
            Some(Err(_)) => crate::debug!("{}: not a proxy URL; ignored", names[0]),
            None => {}
        }
    }
    builder
}

/// The HTTP policy every grant and discovery goes through: https except
/// loopback, `Accept: application/json`, no redirect followed, bounded
/// answers, OAuth errors interpreted. It sends through an [`HttpClient`].
pub struct Http {
    client: Box<dyn HttpClient>,
    allow_insecure_http: bool,
}

impl Http {
    /// Build the client. This is the expensive part (TLS roots, a runtime
    /// thread), so it is done only when a request is about to be sent.
    pub fn new(transport: &Transport) -> Result<Http> {
        // Several crates may pull in a provider; ours is ring. An error here
        // means one is already installed, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Bounded there: 1e20 used to overflow Duration::from_secs_f64 and abort.
        let timeout =
            crate::env::seconds_from("CREDENTIAL_OAUTH_HTTP_TIMEOUT").unwrap_or(DEFAULT_TIMEOUT);
        check_cert_file_env()?;
        let mut builder = with_env_proxies(reqwest::blocking::Client::builder());
        if let Some(path) = &transport.ca_file {
            builder = builder.tls_certs_merge(read_ca_file(path)?);
        }
        let client = builder
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Local(format!("cannot set up HTTP client: {}", one_line(&e))))?;
        Ok(Http::with_client(client, transport.allow_insecure_http))
    }

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
        let HttpResponse { status, body } = self.client.execute(req)?;
        crate::debug!("{server}: HTTP {status}");
        if body.len() as u64 > MAX_BODY {
            return Err(Error::BadAnswer(format!(
                "{server}: answer is larger than {} KiB",
                MAX_BODY / 1024
            )));
        }
        Ok((server, status, body))
    }
}

fn read_ca_file(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>> {
    use std::io::Read;
    let err = |what: String| Error::Local(format!("ca_file {}: {what}", path.display()));
    let mut pem = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_CA_FILE + 1).read_to_end(&mut pem))
        .map_err(|e| err(e.to_string()))?;
    if pem.len() as u64 > MAX_CA_FILE {
        return Err(err("larger than 4 MiB".into()));
    }
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|_| err("not a PEM certificate bundle".into()))?;
    if certs.is_empty() {
        return Err(err("holds no certificate".into()));
    }
    Ok(certs)
}

/// An IMF-fixdate (RFC 9110 §5.6.7, `Sun, 06 Nov 1994 08:49:37 GMT`) as
/// Unix seconds; the obsolete forms are not read.
pub fn parse_http_date(text: &str) -> Option<u64> {
    let mut parts = text.split_ascii_whitespace();
    let (_weekday, day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if zone != "GMT" || parts.next().is_some() || day.len() != 2 {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    crate::token::parse_utc(&format!("{year}-{month:02}-{day}T{time}Z"))
}

/// Turn a status and body into a JSON value or a clear error.
pub fn interpret(server: String, status: u16, body: &[u8]) -> Result<serde_json::Value> {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    // GitHub's token endpoint sends its errors (authorization_pending
    // included) with HTTP 200; an `error` and no `access_token` is an error
    // whatever the status.
    let is_error_body = |obj: &serde_json::Map<String, serde_json::Value>| {
        obj.get("error").is_some_and(|e| e.is_string()) && !obj.contains_key("access_token")
    };
    if (200..300).contains(&status) {
        return match json {
            Some(serde_json::Value::Object(obj)) if is_error_body(&obj) => {
                Err(oauth_error(server, status, &obj))
            }
            Some(v) if v.is_object() => Ok(v),
            _ => Err(Error::BadAnswer(format!(
                "{server}: HTTP {status} but the answer is not a JSON object{}",
                describe_body(body)
            ))),
        };
    }
    // RFC 6749 §5.2 error body, sent by most servers with 400 or 401.
    if let Some(obj) = json.as_ref().and_then(|v| v.as_object())
        && obj.get("error").is_some_and(|e| e.is_string())
    {
        return Err(oauth_error(server, status, obj));
    }
    let detail = match status {
        300..=399 => Some("redirects are not followed".to_string()),
        _ => {
            Some(describe_body(body).trim_start_matches(", ").to_string()).filter(|s| !s.is_empty())
        }
    };
    Err(Error::Status {
        server,
        status,
        detail,
    })
}

/// RFC 6749 §5.2: the error code and description, made printable.
fn oauth_error(
    server: String,
    status: u16,
    obj: &serde_json::Map<String, serde_json::Value>,
) -> Error {
    Error::OAuth {
        server,
        status,
        error: printable(obj.get("error").and_then(|e| e.as_str()).unwrap_or(""), 100),
        description: obj
            .get("error_description")
            .and_then(|d| d.as_str())
            .map(|d| printable(d, 300)),
    }
}

fn describe_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(512)]);
    let lower = text.trim_start().to_ascii_lowercase();
    if body.is_empty() {
        ", empty body".into()
    } else if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        ", an HTML page".into()
    } else {
        ", not JSON".into()
    }
}

/// A server-chosen string made safe for one terminal line: what
/// [`crate::prompt::is_unsafe_on_a_terminal`] flags (controls, and format
/// characters such as U+202E that would reorder the line) becomes a space.
pub fn printable(s: &str, max: usize) -> String {
    s.chars()
        .take(max)
        .map(|c| {
            if crate::prompt::is_unsafe_on_a_terminal(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
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

/// reqwest errors chain their causes; one line, no URL query (which could
/// carry a code).
fn one_line(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut msg = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    }
    .to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    printable(&msg, 400)
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
        let sent = Sent::default();
        let log = sent.clone();
        let answers: RefCell<VecDeque<HttpResponse>> = RefCell::new(
            answers
                .iter()
                .map(|(status, body)| HttpResponse {
                    status: *status,
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
    /// (a followed redirect would be a second one).
    fn serve_once(answer: Vec<u8>) -> (Url, std::thread::JoinHandle<usize>) {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = url(&format!("http://{}/start", listener.local_addr().unwrap()));
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            // The client hangs up once it has read enough: not an error here.
            let _ = stream.write_all(&answer);
            drop(stream);
            listener.set_nonblocking(true).unwrap();
            std::thread::sleep(Duration::from_millis(200));
            1 + usize::from(listener.accept().is_ok())
        });
        (url, server)
    }

    #[test]
    fn the_real_client_reads_at_most_one_byte_past_the_bound() {
        let size = 2 * MAX_BODY as usize;
        let mut answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n").into_bytes();
        answer.resize(answer.len() + size, b'x');
        let (url, server) = serve_once(answer);
        let client = reqwest::blocking::Client::builder().build().unwrap();
        // The trait's method, not reqwest's inherent `execute`.
        let response = HttpClient::execute(
            &client,
            HttpRequest {
                method: Method::Get,
                url,
                headers: Vec::new(),
                body: Vec::new(),
            },
        )
        .unwrap();
        assert_eq!(response.body.len() as u64, MAX_BODY + 1);
        server.join().unwrap();
    }

    #[test]
    fn the_real_client_does_not_follow_a_redirect() {
        let (url, server) = serve_once(
            b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n".to_vec(),
        );
        let e = Http::new(&Transport::default())
            .unwrap()
            .get_json(&url)
            .unwrap_err();
        assert!(matches!(e, Error::Status { status: 302, .. }), "{e:?}");
        assert_eq!(server.join().unwrap(), 1, "the redirect was followed");
    }

    #[test]
    fn basic_auth_urlencodes_id_and_secret() {
        // "a b:c" and "p@ss/w%rd" encoded, then base64 of "a+b%3Ac:p%40ss%2Fw%25rd".
        let h = basic_auth("a b:c", &Secret::new("p@ss/w%rd"));
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(h.trim_start_matches("Basic "))
            .unwrap();
        assert_eq!(decoded, b"a+b%3Ac:p%40ss%2Fw%25rd");
    }

    #[test]
    fn http_dates_are_read_in_the_imf_fixdate_form_only() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 CET"), None);
        assert_eq!(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date(""), None);
    }

    #[test]
    fn transport_is_https_except_loopback() {
        let ok = [
            "https://a.example/",
            "http://127.0.0.1:8/",
            "http://127.3.4.5/",
            "http://[::1]:9/",
            "http://localhost/",
        ];
        for u in ok {
            assert!(check_transport(&Url::parse(u).unwrap()).is_ok(), "{u}");
        }
        for u in ["http://a.example/", "http://10.0.0.1/", "ftp://a/"] {
            assert!(check_transport(&Url::parse(u).unwrap()).is_err(), "{u}");
        }
        let internal = Url::parse("http://auth.internal.example/").unwrap();
        assert!(check_transport_allowing(&internal, true).is_ok());
        let ftp = Url::parse("ftp://auth.internal.example/").unwrap();
        assert!(check_transport_allowing(&ftp, true).is_err());
    }

    #[test]
    fn oauth_error_body_becomes_one_line() {
        let e = interpret(
            "https://a/token".into(),
            400,
            br#"{"error":"invalid_client","error_description":"bad\nsecret"}"#,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "https://a/token: invalid_client: bad secret");
        assert_eq!(e.oauth_code(), Some("invalid_client"));
    }

    #[test]
    fn an_error_body_sent_with_200_is_an_error() {
        let e = interpret(
            "s".into(),
            200,
            br#"{"error":"authorization_pending","error_description":"wait"}"#,
        )
        .unwrap_err();
        assert_eq!(e.oauth_code(), Some("authorization_pending"));
        assert!(interpret("s".into(), 200, br#"{"access_token":"a","error":"x"}"#).is_ok());
    }

    #[test]
    fn printable_blanks_controls_and_format_characters() {
        assert_eq!(
            printable("a\u{1b}[2Jb\u{202e}c\u{200b}d\u{2028}e", 100),
            "a [2Jb c d e"
        );
        assert_eq!(printable("abcdef", 3), "abc");
    }

    #[test]
    fn html_and_garbage_name_the_status() {
        let e = interpret("s".into(), 502, b"<!DOCTYPE html><p>oops</p>").unwrap_err();
        assert_eq!(e.to_string(), "s: HTTP 502: an HTML page");
        let e = interpret("s".into(), 200, b"{not json").unwrap_err();
        assert_eq!(
            e.to_string(),
            "s: HTTP 200 but the answer is not a JSON object, not JSON"
        );
        let e = interpret("s".into(), 302, b"").unwrap_err();
        assert_eq!(e.to_string(), "s: HTTP 302: redirects are not followed");
        assert!(interpret("s".into(), 200, br#"{"a":1}"#).is_ok());
    }
}
