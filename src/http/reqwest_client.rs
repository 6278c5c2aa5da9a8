//! The real [`HttpClient`]: reqwest's blocking client, with the timeouts,
//! the trust anchors and no redirect policy; the only place reqwest is
//! named.

use super::stream::{ResourceHttp, StreamClient, Streaming};
use super::{
    Http, HttpClient, HttpRequest, HttpResponse, MAX_BODY, Method, Transport, USER_AGENT, origin,
    printable,
};
use crate::error::{Error, Result};
use std::io::Read;
use std::time::Duration;
use url::Url;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

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

/// The reqwest client every policy sends through: the ring provider, a
/// bounded `SSL_CERT_FILE`, the environment's proxies (never for
/// loopback), `ca_file` added to the roots, `timeout` for each wait and
/// no redirect followed.
fn client(transport: &Transport, timeout: Duration) -> Result<reqwest::blocking::Client> {
    // Several crates may pull in a provider; ours is ring. An error here
    // means one is already installed, which is just as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
    check_cert_file_env()?;
    let mut builder = with_env_proxies(reqwest::blocking::Client::builder());
    if let Some(path) = &transport.ca_file {
        builder = builder.tls_certs_merge(read_ca_file(path)?);
    }
    builder
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Local(format!("cannot set up HTTP client: {}", one_line(&e))))
}

impl Http {
    /// Build the client. This is the expensive part (TLS roots, a runtime
    /// thread), so it is done only when a request is about to be sent.
    pub fn new(transport: &Transport) -> Result<Http> {
        // Bounded there: 1e20 used to overflow Duration::from_secs_f64 and abort.
        let timeout =
            crate::env::seconds_from("CREDENTIAL_OAUTH_HTTP_TIMEOUT").unwrap_or(DEFAULT_TIMEOUT);
        Ok(Http::with_client(
            client(transport, timeout)?,
            transport.allow_insecure_http,
        ))
    }
}

/// How long the bridge waits on a resource server: for an answer's head,
/// and for each read of a streamed body (a tool may think a while).
const RESOURCE_TIMEOUT: Duration = Duration::from_secs(300);

impl ResourceHttp {
    /// The real client for a resource server: as [`Http::new`]'s, but each
    /// wait is [`RESOURCE_TIMEOUT`] (or `CREDENTIAL_OAUTH_HTTP_TIMEOUT` when
    /// longer).
    pub fn new(transport: &Transport) -> Result<ResourceHttp> {
        let timeout = crate::env::seconds_from("CREDENTIAL_OAUTH_HTTP_TIMEOUT")
            .unwrap_or(RESOURCE_TIMEOUT)
            .max(DEFAULT_TIMEOUT);
        Ok(ResourceHttp::with_client(
            client(transport, timeout)?,
            transport.allow_insecure_http,
        ))
    }
}

/// The real [`StreamClient`]: the answer's head, and its body left to read.
impl StreamClient for reqwest::blocking::Client {
    fn open(&self, request: HttpRequest) -> Result<Streaming> {
        let resp = send(self, request)?;
        let headers = resp
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok(Streaming {
            status: resp.status().as_u16(),
            headers,
            body: Box::new(resp),
        })
    }
}

/// Send `request` and take the answer's head: the one place a request
/// leaves through reqwest, for whole answers and streamed ones alike.
fn send(
    client: &reqwest::blocking::Client,
    request: HttpRequest,
) -> Result<reqwest::blocking::Response> {
    let HttpRequest {
        method,
        url,
        headers,
        body,
    } = request;
    let server = origin(&url);
    let mut req = match method {
        Method::Get => client.get(url),
        Method::Post => client.post(url).body(body),
        Method::Delete => client.delete(url),
    };
    for (name, value) in headers {
        req = req.header(name, value);
    }
    req.send().map_err(|e| Error::Network {
        server,
        detail: one_line(&e),
        // Its message names the URL, whose query could carry a code.
        source: Some(Box::new(e.without_url())),
    })
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

/// The real client: built by [`Http::new`] with the timeouts, the trust
/// anchors and no redirect policy; the body read is bounded here, so a
/// server cannot make this process hold more than [`MAX_BODY`] + 1 bytes.
impl HttpClient for reqwest::blocking::Client {
    fn execute(&self, request: HttpRequest) -> Result<HttpResponse> {
        let server = origin(&request.url);
        let resp = send(self, request)?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                Some((name.as_str().to_string(), value.to_str().ok()?.to_string()))
            })
            .collect();
        let mut body = Vec::new();
        resp.take(MAX_BODY + 1)
            .read_to_end(&mut body)
            .map_err(|e| Error::Network {
                server: server.clone(),
                detail: format!("reading the answer failed: {e}"),
                source: Some(Box::new(e)),
            })?;
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
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
                source: Some(Box::new(e.without_url())),
            })?;
        Ok(resp
            .headers()
            .get("date")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string))
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

/// reqwest errors chain their causes; one line, no URL query (which could
/// carry a code): reqwest's own message, which names the URL, is left out.
fn one_line(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    printable(&crate::error::with_causes(what, e.source()), 400)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

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
}
