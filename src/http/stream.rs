//! Answers read as they arrive, from a protected resource this helper
//! talks to for a caller (the MCP bridge): the head at once, the body (a
//! Server-Sent Events stream) left to read. [`ResourceHttp`] holds the
//! policy (https except loopback, no redirect, a User-Agent, bounded
//! waits) and is shared by threads; a [`StreamClient`] sends.

use super::{HttpRequest, Method, USER_AGENT, check_transport_allowing, origin};
use crate::error::{Error, Result};
use std::io::Read;
use url::Url;

/// An answer whose body is read as it arrives (a Server-Sent Events
/// stream), from a protected resource this helper talks to for a caller
/// (the MCP bridge). Header names are lowercase.
pub struct Streaming {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Box<dyn Read + Send>,
}

impl Streaming {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (lowercase), in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The media type of the body, lowercase, without parameters.
    pub fn media_type(&self) -> String {
        self.header("content-type")
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase()
    }

    /// The whole body, refused when larger than `limit`.
    pub fn read_body(self, limit: usize) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        self.body
            .take(limit as u64 + 1)
            .read_to_end(&mut body)
            .map_err(|e| Error::Network {
                server: String::new(),
                detail: format!("reading the answer failed: {e}"),
                source: Some(Box::new(e)),
            })?;
        if body.len() > limit {
            return Err(Error::BadAnswer(format!(
                "an answer is larger than {} KiB",
                limit / 1024
            )));
        }
        Ok(body)
    }
}

/// The seam for streamed answers, shared by threads: send one request as
/// given, follow no redirect, hand back the head and the body unread.
pub trait StreamClient: Send + Sync {
    fn open(&self, request: HttpRequest) -> Result<Streaming>;
}

impl<F> StreamClient for F
where
    F: Fn(HttpRequest) -> Result<Streaming> + Send + Sync,
{
    fn open(&self, request: HttpRequest) -> Result<Streaming> {
        self(request)
    }
}

/// The HTTP policy for the protected resource a caller reaches through
/// this helper (an MCP server): https except loopback (or the provider's
/// `allow_insecure_http`), no redirect followed, a User-Agent, bounded
/// waits. Shared by the bridge's threads.
pub struct ResourceHttp {
    client: Box<dyn StreamClient>,
    allow_insecure_http: bool,
}

impl ResourceHttp {
    /// The same policy over another client: a closure in unit tests.
    pub fn with_client(client: impl StreamClient + 'static, allow_insecure_http: bool) -> Self {
        ResourceHttp {
            client: Box::new(client),
            allow_insecure_http,
        }
    }

    /// Send `headers` (with a User-Agent added) and `body`; the answer's
    /// body is left to read.
    pub fn send(
        &self,
        method: Method,
        url: &Url,
        mut headers: Vec<(&'static str, String)>,
        body: Vec<u8>,
    ) -> Result<Streaming> {
        check_transport_allowing(url, self.allow_insecure_http)?;
        headers.push(("User-Agent", USER_AGENT.to_string()));
        let answer = self.client.open(HttpRequest {
            method,
            url: url.clone(),
            headers,
            body,
        })?;
        crate::debug!("{}: HTTP {}", origin(url), answer.status);
        Ok(answer)
    }
}
