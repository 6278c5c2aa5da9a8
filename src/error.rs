//! One error type for the whole crate, its variants saying what happened in
//! terms a caller can act on: not mine, bad input, the server refused (with
//! its OAuth code), the network, a rule of trust, the local environment.
//! Every message is a single line that holds no secret: values are
//! redacted before an error is built. Exit codes are decided in one place,
//! by the frontend's protocol (`frontend::Protocol::exit_code`), for `main`.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No provider is configured for the URL: "not mine", not a failure for
    /// the git protocol (which then prints nothing).
    #[error("no provider is configured for {0}")]
    NoProvider(String),

    /// The caller asked about something there is nothing for (docker's
    /// "credentials not found", nobody to ask for a login): an answer of
    /// the protocol, already given, not a failure; `main` says nothing more.
    #[error("{0}")]
    NotFound(String),

    /// A login is needed and nobody can be asked here (a caller that
    /// forbids prompts): said at once, with the command that logs in.
    #[error(
        "{provider}: no cached token and nobody to ask here; run: credential-oauth login {url}"
    )]
    NeedsPerson { provider: String, url: String },

    /// The audience rule (DESIGN.md "Trust"): the caller would also send
    /// the token to `place`, which `provider`'s url does not cover, so no
    /// token is handed out.
    #[error(
        "{provider} serves {url}, but the token would also go to {place}, which it does not cover; no token is handed out"
    )]
    Outside {
        provider: String,
        url: String,
        place: String,
    },

    /// The command line was wrong.
    #[error("{0}")]
    Usage(String),

    /// The config file is unreadable or invalid.
    #[error("{}: {message}", path.display())]
    Config { path: PathBuf, message: String },

    /// The caller sent something the wire format does not allow.
    #[error("{0}")]
    Input(String),

    /// The server answered with an OAuth error body (RFC 6749 §5.2).
    #[error("{server}: {error}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    OAuth {
        server: String,
        status: u16,
        error: String,
        description: Option<String>,
    },

    /// The server answered with an unexpected HTTP status and no OAuth error.
    #[error("{server}: HTTP {status}{}", detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Status {
        server: String,
        status: u16,
        detail: Option<String>,
    },

    /// The server could not be reached, or the connection broke: passing,
    /// worth trying again later.
    #[error("{server}: {detail}")]
    Network { server: String, detail: String },

    /// The server's answer made no sense (malformed metadata, a token
    /// answer without a token, another issuer's metadata).
    #[error("{0}")]
    BadAnswer(String),

    /// A rule of trust refused to go on: plain http to a remote host, an
    /// issuer found by discovery without https, a verification page that
    /// is not https (DESIGN.md "Trust").
    #[error("{0}")]
    Refused(String),

    /// The local environment failed: the token store, the keychain, a file,
    /// a certificate file, the HTTP client's set-up.
    #[error("{0}")]
    Local(String),

    /// An interactive login could not finish.
    #[error("{0}")]
    Login(String),
}

impl Error {
    /// The OAuth error code, if the server sent one.
    pub fn oauth_code(&self) -> Option<&str> {
        match self {
            Error::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }
}
