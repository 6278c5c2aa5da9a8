//! One error type for the whole crate, its variants saying what happened,
//! and its [`Kind`] what a caller does about it (cargo's
//! `Error { kind, source }` is the model): the answers first (not mine,
//! not found, nobody to ask), then the failures (usage, bad input, a rule
//! of trust, the server's refusal, something passing, the rest). A failure
//! that came from an I/O, HTTP or config parser error keeps it as its
//! `source`, which `-v` shows. Every message is a single line that holds
//! no secret: values are redacted before an error is built. Exit codes are
//! decided in one place, by the frontend's protocol
//! (`frontend::Protocol::exit_code`), for `main`.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What lies under an error: the I/O, HTTP or parser error it came from.
pub type Source = Box<dyn std::error::Error + Send + Sync>;

/// What a caller does about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Answer: no provider serves what was asked (the caller's "not mine").
    NotMine,
    /// Answer: there is nothing for it, and the caller has said so in its
    /// own words (docker's "credentials not found", nobody to ask).
    NotFound,
    /// Answer: a login is needed and nobody may be asked; the caller's
    /// "not found", with a line naming `credential-oauth login URL`.
    NeedsPerson,
    /// Answer: the provider's tokens are DPoP-bound (RFC 9449) and the
    /// caller cannot send the proof each request needs; the caller's "not
    /// found", with a line naming the provider and `dpop`.
    NeedsProof,
    /// The command line was wrong.
    Usage,
    /// The caller sent something its wire format does not allow.
    Input,
    /// A rule of trust refused to go on (DESIGN.md "Trust").
    Refused,
    /// The server said no (an OAuth error, a 4xx), whatever its code, and
    /// not "later": a grant refused so is gone.
    Rejected,
    /// Passing: the network, a 5xx or 429, `temporarily_unavailable`,
    /// `server_error`, `slow_down`; worth trying again later.
    Transient,
    /// Everything else: the local environment, the config, an answer that
    /// made no sense, a login that could not finish.
    Other,
}

impl Kind {
    /// Whether this is one of the answers a caller gives, not a failure.
    pub fn is_answer(self) -> bool {
        matches!(
            self,
            Kind::NotMine | Kind::NotFound | Kind::NeedsPerson | Kind::NeedsProof
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No provider is configured for the URL: "not mine", not a failure for
    /// the git protocol (which then prints nothing).
    #[error("no provider is configured for {0}; add one with: credential-oauth init {0}")]
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

    /// A `dpop = true` provider's tokens are bound to a key (RFC 9449),
    /// and the caller can send only a fixed header, not the fresh proof
    /// each request needs: no token is handed out, and the caller gets
    /// its "not found" answer.
    #[error(
        "{provider}: dpop = true binds its tokens to a key, and this caller cannot send the fresh DPoP proof each request needs; no token is handed out"
    )]
    NeedsProof { provider: String },

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
    Config {
        path: PathBuf,
        message: String,
        #[source]
        source: Option<Source>,
    },

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
    Network {
        server: String,
        detail: String,
        #[source]
        source: Option<Source>,
    },

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

    /// A file or directory could not be used: `doing` says what was
    /// attempted on which path, the source why.
    #[error("{doing}: {source}")]
    Io {
        doing: String,
        #[source]
        source: std::io::Error,
    },

    /// An interactive login could not finish.
    #[error("{0}")]
    Login(String),
}

/// `text` fit for one line: every control character (a newline too) a
/// space.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `what`, then each message down `source`'s chain that `what` does not
/// already hold, joined by ": " on one line (a library's error often
/// repeats its cause's text).
pub fn with_causes(what: &str, source: Option<&(dyn std::error::Error + 'static)>) -> String {
    let mut line = what.to_string();
    let mut next = source;
    while let Some(cause) = next {
        let text = one_line(&cause.to_string());
        if !text.is_empty() && !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        next = cause.source();
    }
    line
}

impl Error {
    /// `doing` (what was attempted, on which path) failed with `source`.
    pub fn io(doing: String, source: std::io::Error) -> Error {
        Error::Io { doing, source }
    }

    /// What a caller does about this error.
    pub fn kind(&self) -> Kind {
        // The statuses and codes that say "later" (RFC 6749 §5.2, RFC 8628
        // §3.5, RFC 9110 §15.5.9, RFC 6585 §4).
        let later = |status: u16| status >= 500 || status == 429 || status == 408;
        match self {
            Error::NoProvider(_) => Kind::NotMine,
            Error::NotFound(_) => Kind::NotFound,
            Error::NeedsPerson { .. } => Kind::NeedsPerson,
            Error::NeedsProof { .. } => Kind::NeedsProof,
            Error::Usage(_) => Kind::Usage,
            Error::Input(_) => Kind::Input,
            Error::Outside { .. } | Error::Refused(_) => Kind::Refused,
            Error::OAuth { status, error, .. } => {
                let passing = matches!(
                    error.as_str(),
                    "temporarily_unavailable" | "server_error" | "slow_down"
                );
                if later(*status) || passing {
                    Kind::Transient
                } else {
                    Kind::Rejected
                }
            }
            Error::Status { status, .. } if later(*status) => Kind::Transient,
            Error::Status { status, .. } if (400..500).contains(status) => Kind::Rejected,
            Error::Network { .. } => Kind::Transient,
            Error::Status { .. }
            | Error::Config { .. }
            | Error::BadAnswer(_)
            | Error::Local(_)
            | Error::Io { .. }
            | Error::Login(_) => Kind::Other,
        }
    }

    /// Whether trying again later may succeed (the manager keeps a token
    /// whose refresh failed so, while it lasts).
    pub fn is_transient(&self) -> bool {
        self.kind() == Kind::Transient
    }

    /// The causes under this error that its message does not already say
    /// (a message often sums up its source's first line), outermost first,
    /// each on one line: what `-v` adds to a failure.
    pub fn causes(&self) -> Vec<String> {
        let shown = self.to_string();
        let mut causes: Vec<String> = Vec::new();
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            let text = cause.to_string();
            let first = text.lines().next().unwrap_or_default().trim();
            let line = one_line(&text);
            if !first.is_empty() && !shown.contains(first) && !causes.contains(&line) {
                causes.push(line);
            }
            next = cause.source();
        }
        causes
    }

    /// The OAuth error code, if the server sent one.
    pub fn oauth_code(&self) -> Option<&str> {
        match self {
            Error::OAuth { error, .. } => Some(error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_but_a_passing_one_drops_the_grant() {
        let e = |status: u16, code: &str| Error::OAuth {
            server: "s".into(),
            status,
            error: code.into(),
            description: None,
        };
        let status = |status: u16| Error::Status {
            server: "s".into(),
            status,
            detail: None,
        };
        for gone in [
            e(400, "invalid_grant"),
            e(400, "invalid_client"),
            e(200, "bad_refresh_token"),
            e(401, "unauthorized_client"),
            status(401),
            status(400),
        ] {
            assert_eq!(gone.kind(), Kind::Rejected, "{gone:?}");
        }
        for passing in [
            e(503, "invalid_grant"),
            e(400, "temporarily_unavailable"),
            e(200, "server_error"),
            e(400, "slow_down"),
            e(429, "invalid_request"),
            status(500),
            status(429),
            Error::Network {
                server: "https://as.example/".into(),
                detail: "timed out".into(),
                source: None,
            },
        ] {
            assert!(passing.is_transient(), "{passing:?}");
        }
        let nonsense = Error::BadAnswer("token endpoint answer is not a JSON object".into());
        assert_eq!(nonsense.kind(), Kind::Other);
    }

    #[test]
    fn answers_are_not_failures_and_causes_say_only_what_is_new() {
        assert!(Error::NoProvider("https://a/".into()).kind().is_answer());
        assert!(Error::NotFound("x".into()).kind().is_answer());
        assert!(!Error::Local("x".into()).kind().is_answer());
        let io = std::io::Error::other("disk on fire");
        let e = Error::io("cannot write /t/x.json".into(), io);
        assert_eq!(e.to_string(), "cannot write /t/x.json: disk on fire");
        assert!(e.causes().is_empty(), "the message already says it");
        let e = Error::Network {
            server: "https://as.example/".into(),
            detail: "cannot connect".into(),
            source: Some(Box::new(std::io::Error::other("connection\nrefused"))),
        };
        assert_eq!(e.causes(), ["connection refused"]);
    }
}
