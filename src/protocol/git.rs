//! git's credential helper format: `key=value` lines up to a blank line or
//! EOF (git-credential(1), "INPUT/OUTPUT FORMAT").

use crate::error::{Error, Result};
use crate::secret::Secret;
use std::fmt;
use std::io::Write;
use url::Url;

/// The ordered `key=value` pairs of one message, exactly as sent. Its
/// `Debug` shows the keys that carry secrets as `<redacted>`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub entries: Vec<(String, String)>,
}

/// Keys whose values are secrets (git-credential(1)): the password, the
/// pre-encoded `authtype` credential and the OAuth refresh token.
const SECRET_KEYS: [&str; 3] = ["password", "credential", "oauth_refresh_token"];

const REDACTED: &str = "<redacted>";

/// What `Debug` may show of the value of `key`: secrets not at all, a URL
/// without the password it may carry in its user information.
fn shown(key: &str, value: &str) -> String {
    if SECRET_KEYS.contains(&key) {
        return REDACTED.to_string();
    }
    if key != "url" {
        return value.to_string();
    }
    match Url::parse(value) {
        Ok(mut url) if url.has_host() => {
            if url.password().is_some() {
                let _ = url.set_password(Some(REDACTED));
            }
            url.to_string()
        }
        // No URL with a host: it may still hold `user:password@`.
        _ if value.contains('@') => REDACTED.to_string(),
        _ => value.to_string(),
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Message { entries } = self;
        f.debug_struct("Message")
            .field(
                "entries",
                &entries
                    .iter()
                    .map(|(k, v)| (k.as_str(), shown(k, v)))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Message {
    /// Parse a message. Keys must be non-empty; a line without `=`, a NUL
    /// byte or invalid UTF-8 is refused. Reading stops at the first blank line.
    pub fn parse(input: &[u8]) -> Result<Message> {
        if input.contains(&0) {
            return Err(Error::Input(
                "credential request contains a NUL byte".into(),
            ));
        }
        let text = std::str::from_utf8(input)
            .map_err(|_| Error::Input("credential request is not valid UTF-8".into()))?;
        let mut entries = Vec::new();
        for (n, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.is_empty() {
                break;
            }
            // A CR left after the line ending's would not survive a round
            // trip, and no credential field holds one.
            if line.contains('\r') {
                return Err(Error::Input(format!(
                    "credential request line {} holds a carriage return",
                    n + 1
                )));
            }
            match line.split_once('=') {
                Some((key, value)) if !key.is_empty() => {
                    entries.push((key.to_string(), value.to_string()))
                }
                _ => {
                    return Err(Error::Input(format!(
                        "credential request line {} is not key=value",
                        n + 1
                    )));
                }
            }
        }
        Ok(Message { entries })
    }

    /// Write the message followed by nothing (git reads to EOF). A key or
    /// value holding a newline or NUL, or a key holding `=`, is refused
    /// before anything is written.
    pub fn write_to(&self, out: &mut dyn Write) -> Result<()> {
        let mut buf = Vec::new();
        for (key, value) in &self.entries {
            if key.is_empty()
                || key.contains(['\n', '\0', '='])
                || value.contains(['\n', '\r', '\0'])
            {
                return Err(Error::Input(format!(
                    "refusing to write credential field {:?}: it holds a newline, carriage return or NUL",
                    key.replace(['\n', '\0'], "?")
                )));
            }
            buf.extend_from_slice(key.as_bytes());
            buf.push(b'=');
            buf.extend_from_slice(value.as_bytes());
            buf.push(b'\n');
        }
        out.write_all(&buf)
            .and_then(|()| out.flush())
            .map_err(|e| Error::Input(format!("cannot write answer: {e}")))
    }

    /// The last value of `key` (git lets a later line override an earlier one).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a multi-valued key such as `capability[]`. An empty
    /// value resets the list, as git does.
    pub fn get_all(&self, key: &str) -> Vec<&str> {
        let mut out = Vec::new();
        for (k, v) in &self.entries {
            if k == key {
                if v.is_empty() {
                    out.clear();
                } else {
                    out.push(v.as_str());
                }
            }
        }
        out
    }
}

/// What git asks about. `Debug` leaves the secrets out.
#[derive(Clone, Default)]
pub struct Request {
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    /// The pre-encoded credential of the `authtype` form (git ≥ 2.46), which
    /// git sends back in place of `password` when erasing a Bearer token.
    pub credential: Option<Secret>,
    pub capabilities: Vec<String>,
    pub wwwauth: Vec<String>,
    pub oauth_refresh_token: Option<Secret>,
}

/// Destructured in full so that a new field has to be judged secret or not
/// here (as gitoxide's `Context::redacted()` does).
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Request {
            protocol,
            host,
            path,
            username,
            password,
            credential,
            capabilities,
            wwwauth,
            oauth_refresh_token,
        } = self;
        let redacted = |s: &Option<Secret>| s.as_ref().map(|_| REDACTED);
        f.debug_struct("Request")
            .field("protocol", protocol)
            .field("host", host)
            .field("path", path)
            .field("username", username)
            .field("password", &redacted(password))
            .field("credential", &redacted(credential))
            .field("capabilities", capabilities)
            .field("wwwauth", wwwauth)
            .field("oauth_refresh_token", &redacted(oauth_refresh_token))
            .finish()
    }
}

impl Request {
    pub fn parse(input: &[u8]) -> Result<Request> {
        Ok(Request::from_message(&Message::parse(input)?))
    }

    pub fn from_message(msg: &Message) -> Request {
        let mut req = Request {
            protocol: msg.get("protocol").map(str::to_string),
            host: msg.get("host").map(str::to_string),
            path: msg.get("path").map(str::to_string),
            username: msg.get("username").map(str::to_string),
            password: msg.get("password").map(Secret::new),
            credential: msg.get("credential").map(Secret::new),
            capabilities: msg
                .get_all("capability[]")
                .into_iter()
                .map(String::from)
                .collect(),
            wwwauth: msg
                .get_all("wwwauth[]")
                .into_iter()
                .map(String::from)
                .collect(),
            oauth_refresh_token: msg.get("oauth_refresh_token").map(Secret::new),
        };
        // `url=` stands for its parts (git-credential(1)); parts named after it win.
        if let Some(url) = msg.get("url").and_then(|u| Url::parse(u).ok()) {
            let url_pos = msg.entries.iter().rposition(|(k, _)| k == "url");
            let later = |key: &str| {
                msg.entries
                    .iter()
                    .rposition(|(k, _)| k == key)
                    .is_some_and(|p| Some(p) > url_pos)
            };
            if !later("protocol") {
                req.protocol = Some(url.scheme().to_string());
            }
            if !later("host") {
                req.host = url
                    .host_str()
                    .map(|h| crate::config::host_and_port(h, url.port()));
            }
            if !later("path") {
                let p = url.path().trim_start_matches('/');
                req.path = (!p.is_empty()).then(|| p.to_string());
            }
            if !later("username") && !url.username().is_empty() {
                req.username = Some(url.username().to_string());
            }
        }
        req.username = req.username.filter(|u| !u.is_empty());
        req
    }

    /// The URL the request is about, when it names an http(s) host.
    pub fn url(&self) -> Option<Url> {
        let protocol = self.protocol.as_deref()?;
        if protocol != "https" && protocol != "http" {
            return None;
        }
        let host = self.host.as_deref().filter(|h| !h.is_empty())?;
        if host.contains(['/', '@', '?', '#', '\\']) {
            return None;
        }
        let path = self.path.as_deref().unwrap_or("").trim_start_matches('/');
        let url = Url::parse(&format!("{protocol}://{host}/{path}")).ok()?;
        Some(url)
    }

    pub fn has_capability(&self, cap: &str) -> bool {
        self.capabilities.iter().any(|c| c == cap)
    }
}

/// What the helper answers to `get`. `Debug` leaves the token out.
#[derive(Clone)]
pub struct Response {
    pub username: String,
    pub token: Secret,
    /// `password_expiry_utc`; `None` for a token used until rejected.
    pub expiry_utc: Option<u64>,
    /// Answer in the `authtype`/`credential` form as well (git ≥ 2.46).
    pub authtype: bool,
}

/// Destructured in full, as [`Request`]'s is.
impl fmt::Debug for Response {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Response {
            username,
            token: _,
            expiry_utc,
            authtype,
        } = self;
        f.debug_struct("Response")
            .field("username", username)
            .field("token", &REDACTED)
            .field("expiry_utc", expiry_utc)
            .field("authtype", authtype)
            .finish()
    }
}

impl Response {
    pub fn to_message(&self) -> Message {
        let mut entries = Vec::new();
        if self.authtype {
            entries.push(("capability[]".into(), "authtype".into()));
            entries.push(("authtype".into(), "Bearer".into()));
            entries.push(("credential".into(), self.token.expose().into()));
            // The token is git's to use for this one request; git should not
            // hand it to `store` helpers, which would keep it past expiry.
            entries.push(("ephemeral".into(), "1".into()));
        }
        entries.push(("username".into(), self.username.clone()));
        entries.push(("password".into(), self.token.expose().into()));
        if let Some(expiry) = self.expiry_utc {
            entries.push(("password_expiry_utc".into(), expiry.to_string()));
        }
        Message { entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_every_message_type_shows_no_secret() {
        let input = b"protocol=https\nhost=git.example\nusername=alice\npassword=pw_hunter2\n\
credential=cr_hunter2\noauth_refresh_token=rt_hunter2\nurl=https://alice:url_hunter2@git.example/\n";
        let msg = Message::parse(input).unwrap();
        let req = Request::from_message(&msg);
        let resp = Response {
            username: "alice".into(),
            token: Secret::new("at_hunter2"),
            expiry_utc: Some(1),
            authtype: true,
        };
        for shown in [
            format!("{msg:?}"),
            format!("{req:?}"),
            format!("{resp:?}"),
            format!("{:?}", resp.to_message()),
            format!("{req:#?}"),
        ] {
            assert!(!shown.contains("hunter2"), "{shown}");
            assert!(shown.contains("alice"), "{shown}");
        }
        assert!(format!("{req:?}").contains(r#"password: Some("<redacted>")"#));
        assert!(format!("{msg:?}").contains("git.example"));
        let unparsable = Message {
            entries: vec![("url".into(), "alice:url_hunter2@git example".into())],
        };
        assert!(!format!("{unparsable:?}").contains("hunter2"));
    }

    #[test]
    fn message_round_trips_byte_for_byte() {
        let input = b"protocol=https\nhost=example.com:8443\npath=a/b=c\ncapability[]=authtype\n";
        let msg = Message::parse(input).unwrap();
        let mut out = Vec::new();
        msg.write_to(&mut out).unwrap();
        assert_eq!(out, input);
    }

    #[test]
    fn parse_stops_at_blank_line_and_accepts_crlf() {
        let msg = Message::parse(b"protocol=https\r\nhost=a\n\nhost=b\n").unwrap();
        assert_eq!(msg.get("host"), Some("a"));
        assert_eq!(msg.entries.len(), 2);
    }

    #[test]
    fn parse_refuses_nul_bad_utf8_and_lines_without_equals() {
        assert!(Message::parse(b"host=a\0b\n").is_err());
        assert!(Message::parse(b"host=\xff\n").is_err());
        assert!(Message::parse(b"host\n").is_err());
        assert!(Message::parse(b"=value\n").is_err());
        assert!(Message::parse(b"url=x\r\r\n").is_err());
    }

    #[test]
    fn write_refuses_newline_or_nul_and_writes_nothing() {
        for bad in ["a\nb", "a\0b"] {
            let msg = Message {
                entries: vec![
                    ("username".into(), "u".into()),
                    ("password".into(), bad.into()),
                ],
            };
            let mut out = Vec::new();
            assert!(msg.write_to(&mut out).is_err());
            assert!(out.is_empty());
        }
    }

    #[test]
    fn unknown_keys_are_ignored_and_later_values_win() {
        let req =
            Request::parse(b"protocol=https\nhost=a\nfrobnicate=1\nhost=b\nusername=\n").unwrap();
        assert_eq!(req.host.as_deref(), Some("b"));
        assert_eq!(req.username, None);
    }

    #[test]
    fn multi_valued_keys_collect_and_reset_on_empty() {
        let req = Request::parse(
            b"wwwauth[]=Basic\nwwwauth[]=\nwwwauth[]=Bearer x\ncapability[]=authtype\n",
        )
        .unwrap();
        assert_eq!(req.wwwauth, vec!["Bearer x"]);
        assert!(req.has_capability("authtype"));
    }

    #[test]
    fn url_is_built_from_parts() {
        let req = Request::parse(b"protocol=https\nhost=git.example.com:8443\npath=org/repo.git\n")
            .unwrap();
        assert_eq!(
            req.url().unwrap().as_str(),
            "https://git.example.com:8443/org/repo.git"
        );
        let v6 = Request::parse(b"protocol=http\nhost=[::1]:9000\n").unwrap();
        assert_eq!(v6.url().unwrap().as_str(), "http://[::1]:9000/");
        let ssh = Request::parse(b"protocol=ssh\nhost=a\n").unwrap();
        assert!(ssh.url().is_none());
        let sneaky = Request::parse(b"protocol=https\nhost=a@b\n").unwrap();
        assert!(sneaky.url().is_none());
    }

    #[test]
    fn url_key_stands_for_its_parts() {
        let req = Request::parse(b"url=https://alice@example.com/x/y.git\n").unwrap();
        assert_eq!(req.protocol.as_deref(), Some("https"));
        assert_eq!(req.host.as_deref(), Some("example.com"));
        assert_eq!(req.path.as_deref(), Some("x/y.git"));
        assert_eq!(req.username.as_deref(), Some("alice"));
        let overridden = Request::parse(b"url=https://example.com/\nhost=other\n").unwrap();
        assert_eq!(overridden.host.as_deref(), Some("other"));
    }

    #[test]
    fn response_lists_authtype_only_when_asked() {
        let mut r = Response {
            username: "oauth2".into(),
            token: Secret::new("tok"),
            expiry_utc: Some(42),
            authtype: false,
        };
        let mut out = Vec::new();
        r.to_message().write_to(&mut out).unwrap();
        assert_eq!(
            out,
            b"username=oauth2\npassword=tok\npassword_expiry_utc=42\n"
        );
        r.authtype = true;
        let mut out = Vec::new();
        r.to_message().write_to(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "capability[]=authtype\nauthtype=Bearer\ncredential=tok\nephemeral=1\nusername=oauth2\npassword=tok\npassword_expiry_utc=42\n"
        );
    }
}
