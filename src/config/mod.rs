//! The config file (DESIGN.md "Config") and matching a request URL to a provider.

pub mod gitconfig;
pub mod preset;

use crate::error::{Error, Result};
use crate::secret::Secret;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

/// Largest config file read; anything bigger is a mistake.
const MAX_CONFIG: u64 = 1024 * 1024;

pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1:5210/";
pub const DEFAULT_USERNAME: &str = "oauth2";
/// How long an interactive login waits for the browser's redirect.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// The keychain when one answers, else the file.
    Auto,
    Keyring,
    File,
}

impl Storage {
    fn parse(s: &str) -> Option<Storage> {
        match s {
            "auto" => Some(Storage::Auto),
            "keyring" => Some(Storage::Keyring),
            "file" => Some(Storage::File),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantKind {
    AuthorizationCode,
    DeviceCode,
    ClientCredentials,
}

impl GrantKind {
    /// The name used in the config file.
    pub fn as_str(self) -> &'static str {
        match self {
            GrantKind::AuthorizationCode => "authorization_code",
            GrantKind::DeviceCode => "device_code",
            GrantKind::ClientCredentials => "client_credentials",
        }
    }
}

/// How a client proves itself at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    None,
}

/// Endpoints written in the config; each wins over discovery.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExplicitEndpoints {
    pub authorization: Option<Url>,
    pub token: Option<Url>,
    pub device_authorization: Option<Url>,
    pub registration: Option<Url>,
    pub revocation: Option<Url>,
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub name: String,
    pub url: Url,
    /// The issuer exactly as written (it is part of the cache key).
    pub issuer: String,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub grant: GrantKind,
    pub scopes: Vec<String>,
    /// The `redirect_uri` written in the config, used exactly as written;
    /// see [`Provider::redirect_uri`] for the one used when none is.
    pub redirect_uri_written: Option<Url>,
    pub username: String,
    pub auth_method: Option<AuthMethod>,
    pub endpoints: ExplicitEndpoints,
    /// How long a browser login waits for the redirect (`login_timeout`,
    /// seconds; `CREDENTIAL_OAUTH_LOGIN_TIMEOUT` wins).
    pub login_timeout: Duration,
    /// `allow_insecure_http` and `ca_file`.
    pub transport: crate::http::Transport,
    /// `authtype = "bearer"`: answer git in the Bearer form even when the
    /// server's challenge does not offer it.
    pub bearer: bool,
    /// `discover = true`: the issuer may come from the server's challenge
    /// (RFC 9728); `issuer` is then empty when not written.
    pub discover: bool,
    /// For a provider found by RFC 9728 discovery, the protected resource's
    /// identifier (its metadata's `resource`, as written): part of the cache
    /// key, so a token obtained for one resource is never handed to another.
    pub resource: Option<String>,
}

impl Provider {
    /// Where the login's redirect comes back to (RFC 8252 §7.3). A written
    /// `redirect_uri` exactly as written, since servers compare it exactly.
    /// A configured client id without one gets the fixed default its app
    /// was registered with (README). A client we register gets any free
    /// port and a path of its issuer's own: a response another
    /// authorization server steers to this listener finds nobody at its
    /// path (the mix-up defence of RFC 9700 §4.4.2).
    pub fn redirect_uri(&self) -> Url {
        if let Some(written) = &self.redirect_uri_written {
            return written.clone();
        }
        if self.client_id.is_some() {
            return Url::parse(DEFAULT_REDIRECT_URI).expect("the default redirect URI parses");
        }
        Url::parse(&format!(
            "http://127.0.0.1:0/callback/{}",
            issuer_path_segment(&self.issuer)
        ))
        .expect("a hex path segment parses")
    }

    /// A provider for an issuer that RFC 9728 discovery found for `origin`
    /// (`scheme://host[:port]`): a public client that registers itself,
    /// bound to `resource`, asking for `scopes` (DESIGN.md "Trust").
    pub fn discovered(
        origin: &str,
        issuer: &str,
        resource: &str,
        scopes: Vec<String>,
    ) -> std::result::Result<Provider, String> {
        let mut table = toml::Table::new();
        table.insert("url".into(), toml::Value::String(format!("{origin}/")));
        table.insert("issuer".into(), toml::Value::String(issuer.to_string()));
        let mut provider = Provider::from_table(table)?;
        provider.resource = Some(resource.to_string());
        provider.scopes = scopes;
        Ok(provider)
    }

    /// The login timeout, with `CREDENTIAL_OAUTH_LOGIN_TIMEOUT` (seconds)
    /// taking precedence over the config.
    pub fn login_timeout(&self) -> Duration {
        env_seconds("CREDENTIAL_OAUTH_LOGIN_TIMEOUT").unwrap_or(self.login_timeout)
    }
}

/// Longest wait an environment variable can ask for; more is capped. The
/// config's `login_timeout` has the same bound.
const MAX_ENV_WAIT: Duration = Duration::from_secs(24 * 3600);

/// A number of seconds from the environment (`CREDENTIAL_OAUTH_*_TIMEOUT`):
/// `None` when unset or not a positive number (NaN, infinities, negative,
/// zero, not UTF-8, garbage); capped at [`MAX_ENV_WAIT`], so no value can
/// overflow a `Duration` or an `Instant` later.
pub fn env_seconds(name: &str) -> Option<Duration> {
    seconds(&non_empty_env(name)?)
}

fn seconds(text: &str) -> Option<Duration> {
    let secs = text.trim().parse::<f64>().ok()?;
    if !(secs.is_finite() && secs > 0.0) {
        return None;
    }
    Duration::try_from_secs_f64(secs.min(MAX_ENV_WAIT.as_secs_f64()))
        .ok()
        .filter(|d| !d.is_zero())
}

#[derive(Debug, Clone)]
pub struct Config {
    pub path: Option<PathBuf>,
    pub storage: Storage,
    pub providers: Vec<Provider>,
    /// Hosts (`host` or `host:port`) whose challenges may name an
    /// authorization server for a provider that is not configured (RFC 9728).
    pub discover_hosts: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    storage: Option<String>,
    #[serde(default)]
    discover_hosts: Vec<String>,
    #[serde(default)]
    provider: Vec<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    name: Option<String>,
    url: String,
    issuer: Option<String>,
    preset: Option<String>,
    authtype: Option<String>,
    discover: Option<bool>,
    client_id: Option<String>,
    client_secret: Option<String>,
    grant: Option<GrantKind>,
    scopes: Option<Vec<String>>,
    redirect_uri: Option<String>,
    username: Option<String>,
    token_endpoint_auth_method: Option<AuthMethod>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    device_authorization_endpoint: Option<String>,
    registration_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    login_timeout: Option<u64>,
    #[serde(default)]
    allow_insecure_http: bool,
    ca_file: Option<PathBuf>,
}

/// Where the config file is: `$CREDENTIAL_OAUTH_CONFIG`, else
/// `$XDG_CONFIG_HOME/credential-oauth/config.toml`, else
/// `~/.config/credential-oauth/config.toml`. The flag says whether the path
/// was named explicitly (then it must exist).
pub fn config_path() -> Option<(PathBuf, bool)> {
    if let Some(p) = non_empty_env_path("CREDENTIAL_OAUTH_CONFIG") {
        return Some((p, true));
    }
    let base = non_empty_env_path("XDG_CONFIG_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| home_dir().map(|h| h.join(".config")))?;
    Some((base.join("credential-oauth").join("config.toml"), false))
}

pub fn home_dir() -> Option<PathBuf> {
    non_empty_env_path("HOME")
}

/// A variable holding words; one that is not UTF-8 counts as unset.
fn non_empty_env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// A variable holding a path, taken as the bytes it is: a path need not be
/// UTF-8, and reading it as a string would silently drop it.
fn non_empty_env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

impl Config {
    /// Load the config from its usual place and apply the environment.
    pub fn load() -> Result<Config> {
        let mut config = match config_path() {
            Some((path, explicit)) => match read_bounded(&path) {
                Ok(text) => Config::parse(&text, &path)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => Config::empty(),
                Err(e) => {
                    return Err(Error::Config {
                        path,
                        message: format!("cannot read: {e}"),
                    });
                }
            },
            None => Config::empty(),
        };
        if let Some(s) = non_empty_env("CREDENTIAL_OAUTH_STORAGE") {
            config.storage = Storage::parse(&s).ok_or_else(|| {
                Error::Usage(format!(
                    "CREDENTIAL_OAUTH_STORAGE={s:?} is not one of auto, keyring, file"
                ))
            })?;
        }
        Ok(config)
    }

    pub fn empty() -> Config {
        Config {
            path: None,
            storage: Storage::Auto,
            providers: Vec::new(),
            discover_hosts: Vec::new(),
        }
    }

    /// Parse config text; errors name the file, the entry and the field.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let err = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| err(one_line(&e.to_string())))?;
        let storage = match raw.storage.as_deref() {
            None => Storage::Auto,
            Some(s) => Storage::parse(s)
                .ok_or_else(|| err(format!("storage: {s:?} is not one of auto, keyring, file")))?,
        };
        let mut providers = Vec::with_capacity(raw.provider.len());
        for (i, value) in raw.provider.into_iter().enumerate() {
            let label = match value.get("name").and_then(|n| n.as_str()) {
                Some(name) => format!("provider #{} ({name:?})", i + 1),
                None => format!("provider #{}", i + 1),
            };
            let raw: RawProvider = value
                .try_into()
                .map_err(|e: toml::de::Error| err(format!("{label}: {}", field_error(&e))))?;
            providers.push(Provider::from_raw(raw).map_err(|m| err(format!("{label}: {m}")))?);
        }
        Ok(Config {
            path: Some(path.to_path_buf()),
            storage,
            providers,
            discover_hosts: raw.discover_hosts,
        })
    }

    /// The provider for `url`: scheme, host and port equal, the provider's
    /// path a prefix of the request's (whole segments), longest match wins.
    pub fn provider_for(&self, url: &Url) -> Option<&Provider> {
        self.providers
            .iter()
            .filter(|p| url_matches(&p.url, url))
            .max_by_key(|p| p.url.path().trim_end_matches('/').len())
    }

    /// The provider for a docker server address (DESIGN.md "Config"). A URL
    /// (`https://index.docker.io/v1/`) matches as in [`Config::provider_for`].
    /// A bare `host[:port]` (`registry.example.com`, `127.0.0.1:5000`) matches
    /// a provider with that host and port whatever its scheme, the port being
    /// 443 when absent. A bare host names no path, so among providers on that
    /// host and port the one with the shortest path wins (the first on a tie).
    pub fn provider_for_server(&self, server: &str) -> Option<&Provider> {
        let server = server.trim();
        if server.contains("://") {
            let url = Url::parse(server).ok()?;
            // A registry address holds no user name or password; one that
            // does belongs to no provider (and is not echoed anywhere).
            if !url.username().is_empty() || url.password().is_some() {
                return None;
            }
            return self.provider_for(&url);
        }
        let bare = server_host(server)?;
        self.providers
            .iter()
            .filter(|p| {
                p.url.host() == bare.host()
                    && p.url.port_or_known_default() == bare.port_or_known_default()
            })
            .min_by_key(|p| p.url.path().trim_end_matches('/').len())
    }
}

/// The `https://host[:port]/` a docker server address names: its scheme and
/// path dropped, as docker's `ConvertToHostname` does; `None` when what is
/// left is not a host (empty, or holding a user name or stray characters).
pub fn server_host(server: &str) -> Option<Url> {
    let server = server.trim();
    let rest = server.split_once("://").map_or(server, |(_, rest)| rest);
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() || host.contains(['@', '?', '#', '\\']) || host.contains(char::is_whitespace)
    {
        return None;
    }
    let url = Url::parse(&format!("https://{host}/")).ok()?;
    url.host().is_some().then_some(url)
}

fn url_matches(provider: &Url, request: &Url) -> bool {
    if provider.scheme() != request.scheme()
        || provider.host() != request.host()
        || provider.port_or_known_default() != request.port_or_known_default()
    {
        return false;
    }
    path_covers(provider.path(), request.path())
}

/// Whether the URL path `prefix` is `path` or a prefix of it on whole
/// segments: `/org` covers `/org` and `/org/repo`, not `/organisation`. A
/// trailing `/` on `prefix` changes nothing (DESIGN.md "Matching"; RFC 9728
/// §3.3 for a resource's path).
pub fn path_covers(prefix: &str, path: &str) -> bool {
    path.strip_prefix(prefix.trim_end_matches('/'))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

impl Provider {
    /// A provider from a table with the config file's keys (used for
    /// providers written in git's config, see src/gitconfig.rs).
    pub fn from_table(table: toml::Table) -> std::result::Result<Provider, String> {
        let raw: RawProvider = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| field_error(&e))?;
        Provider::from_raw(raw)
    }

    fn from_raw(mut raw: RawProvider) -> std::result::Result<Provider, String> {
        let url = parse_url("url", &raw.url)?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(format!("url: {:?} is not an http(s) URL", raw.url));
        }
        if let Some(name) = raw.preset.take() {
            apply_preset(&mut raw, &crate::config::preset::expand(&name, &url)?);
        }
        let bearer = match raw.authtype.as_deref() {
            None | Some("auto") => false,
            Some(s) if s.eq_ignore_ascii_case("bearer") => true,
            Some(s) => return Err(format!("authtype: {s:?} is not one of auto, bearer")),
        };
        let discover = raw.discover.unwrap_or(false);
        let issuer = match raw.issuer.take() {
            Some(issuer) => {
                parse_url("issuer", &issuer)?;
                issuer
            }
            // A configured client belongs to its configured issuer: an
            // issuer named by a git server's metadata must never see its id
            // or secret (DESIGN.md "Trust").
            None if discover && (raw.client_id.is_some() || raw.client_secret.is_some()) => {
                return Err(
                    "discover = true without issuer registers a public client at the issuer the                      server names, so it cannot be combined with client_id or client_secret;                      set issuer for a configured client"
                        .into(),
                );
            }
            None if discover => String::new(),
            None => {
                return Err(
                    "missing field `issuer` (or a preset that sets it, or discover = true)".into(),
                );
            }
        };
        let scopes = raw.scopes.take().unwrap_or_default();
        let endpoint =
            |field: &str, v: &Option<String>| -> std::result::Result<Option<Url>, String> {
                v.as_deref().map(|s| parse_url(field, s)).transpose()
            };
        let redirect_uri = raw
            .redirect_uri
            .as_deref()
            .map(|s| parse_url("redirect_uri", s))
            .transpose()?;
        if let Some(uri) = &redirect_uri
            && (uri.scheme() != "http" || !crate::http::is_loopback(uri))
        {
            return Err(format!(
                "redirect_uri: {:?} must be an http:// loopback address (RFC 8252 §7.3)",
                uri.as_str()
            ));
        }
        // git would send the token in clear to such a server.
        if url.scheme() == "http" && !crate::http::is_loopback(&url) && !raw.allow_insecure_http {
            return Err(format!(
                "url: {:?} is plain http to a host that is not loopback, so the token would                  cross the network in clear; use https, or set allow_insecure_http = true",
                raw.url
            ));
        }
        if let Some(s) = &raw.client_id
            && s.is_empty()
        {
            return Err("client_id: must not be empty (omit it to register dynamically)".into());
        }
        let grant = raw.grant.unwrap_or(GrantKind::AuthorizationCode);
        if grant == GrantKind::ClientCredentials
            && (raw.client_id.is_none() || raw.client_secret.is_none())
        {
            return Err("grant = \"client_credentials\" needs client_id and client_secret".into());
        }
        if scopes.iter().any(|s| s.is_empty() || s.contains(' ')) {
            return Err("scopes: each scope must be one non-empty word".into());
        }
        if let Some(ca) = &raw.ca_file
            && !ca.is_absolute()
        {
            return Err(format!(
                "ca_file: {:?} must be an absolute path",
                ca.display()
            ));
        }
        let login_timeout = match raw.login_timeout {
            None => DEFAULT_LOGIN_TIMEOUT,
            Some(0) => return Err("login_timeout: must be at least 1 second".into()),
            Some(secs) => Duration::from_secs(secs.min(24 * 3600)),
        };
        Ok(Provider {
            name: raw
                .name
                .unwrap_or_else(|| url.host_str().unwrap_or_default().to_string()),
            issuer,
            client_id: raw.client_id,
            client_secret: raw.client_secret.map(Secret::new),
            grant,
            scopes,
            redirect_uri_written: redirect_uri,
            username: raw.username.unwrap_or_else(|| DEFAULT_USERNAME.to_string()),
            auth_method: raw.token_endpoint_auth_method,
            endpoints: ExplicitEndpoints {
                authorization: endpoint("authorization_endpoint", &raw.authorization_endpoint)?,
                token: endpoint("token_endpoint", &raw.token_endpoint)?,
                device_authorization: endpoint(
                    "device_authorization_endpoint",
                    &raw.device_authorization_endpoint,
                )?,
                registration: endpoint("registration_endpoint", &raw.registration_endpoint)?,
                revocation: endpoint("revocation_endpoint", &raw.revocation_endpoint)?,
            },
            login_timeout,
            transport: crate::http::Transport {
                allow_insecure_http: raw.allow_insecure_http,
                ca_file: raw.ca_file,
            },
            bearer,
            discover,
            resource: None,
            url,
        })
    }
}

/// 16 hex digits of SHA-256 of the issuer: a redirect path per issuer.
fn issuer_path_segment(issuer: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(issuer.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Fill in what the entry leaves out from the preset; the entry's own keys win.
fn apply_preset(raw: &mut RawProvider, preset: &crate::config::preset::Preset) {
    let fill = |slot: &mut Option<String>, value: Option<&Url>| {
        if slot.is_none() {
            *slot = value.map(|u| u.to_string());
        }
    };
    raw.issuer.get_or_insert_with(|| preset.issuer.clone());
    raw.grant.get_or_insert(preset.grant);
    raw.scopes.get_or_insert_with(|| preset.scopes.clone());
    raw.username.get_or_insert_with(|| preset.username.clone());
    fill(
        &mut raw.authorization_endpoint,
        Some(&preset.authorization_endpoint),
    );
    fill(&mut raw.token_endpoint, Some(&preset.token_endpoint));
    fill(
        &mut raw.device_authorization_endpoint,
        preset.device_authorization_endpoint.as_ref(),
    );
    fill(
        &mut raw.revocation_endpoint,
        preset.revocation_endpoint.as_ref(),
    );
}

fn parse_url(field: &str, s: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(s).map_err(|e| format!("{field}: {s:?} is not a URL ({e})"))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{field}: must not hold a user name or password"));
    }
    Ok(url)
}

fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind};
    let bytes = crate::protocol::read_at_most(std::fs::File::open(path)?, MAX_CONFIG).map_err(
        |e| match e.kind() {
            ErrorKind::FileTooLarge => Error::other("file is larger than 1 MiB"),
            _ => e,
        },
    )?;
    String::from_utf8(bytes)
        .map_err(|_| Error::new(ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
}

/// A provider table's type error as one line that names its key, as the
/// checks in `from_raw` do (`grant: unknown variant ...`): toml's message
/// alone says what was wrong but not where.
fn field_error(e: &toml::de::Error) -> String {
    let message = one_line(e.message());
    let shown = e.to_string();
    match shown
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("in `")?.strip_suffix('`'))
    {
        Some(key) => format!("{key}: {message}"),
        None => message,
    }
}

/// toml's messages span several lines (position, source excerpt, caret,
/// message); keep the position and the message so the error stays one line.
fn one_line(msg: &str) -> String {
    let lines: Vec<&str> = msg
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let is_excerpt = |l: &&str| {
        l.contains('|')
            && l.split('|')
                .next()
                .is_some_and(|n| n.trim().chars().all(|c| c.is_ascii_digit()))
    };
    match lines.split_first() {
        Some((first, rest)) if first.starts_with("TOML parse error") => {
            let detail: Vec<&str> = rest.iter().filter(|l| !is_excerpt(l)).copied().collect();
            format!("{first}: {}", detail.join("; "))
        }
        Some((first, _)) => first.to_string(),
        None => "invalid TOML".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config> {
        Config::parse(text, Path::new("/etc/co.toml"))
    }

    #[test]
    fn path_covers_whole_segments_only() {
        assert!(path_covers("/org", "/org"));
        assert!(path_covers("/org/", "/org/repo.git"));
        assert!(path_covers("/", "/anything"));
        assert!(path_covers("", "/"));
        assert!(!path_covers("/org", "/organisation"));
        assert!(!path_covers("/org/repo", "/org"));
    }

    #[test]
    fn seconds_from_the_environment_are_positive_finite_and_capped() {
        assert_eq!(seconds(" 2.5 "), Some(Duration::from_millis(2500)));
        assert_eq!(seconds("1e20"), Some(MAX_ENV_WAIT));
        assert_eq!(seconds("1e308"), Some(MAX_ENV_WAIT));
        for bad in [
            "", "inf", "-inf", "NaN", "-1", "0", "-0", "1e-320", "0x10", "5s",
        ] {
            assert_eq!(seconds(bad), None, "{bad:?}");
        }
    }

    const TWO: &str = r#"
        [[provider]]
        name = "root"
        url = "https://git.example.com/"
        issuer = "https://auth.example.com"
        client_id = "abc"

        [[provider]]
        name = "team"
        url = "https://git.example.com/team"
        issuer = "https://auth.example.com/team"
        client_id = "def"
        client_secret = "s3cret"
        grant = "client_credentials"
        scopes = ["read", "write"]
    "#;

    #[test]
    fn longest_path_prefix_wins_and_whole_segments_only() {
        let c = parse(TWO).unwrap();
        let name = |u: &str| {
            c.provider_for(&Url::parse(u).unwrap())
                .map(|p| p.name.as_str())
        };
        assert_eq!(name("https://git.example.com/team/repo.git"), Some("team"));
        assert_eq!(name("https://git.example.com/team"), Some("team"));
        assert_eq!(name("https://git.example.com/teammate/x"), Some("root"));
        assert_eq!(name("https://git.example.com/"), Some("root"));
        assert_eq!(name("https://git.example.com:443/x"), Some("root"));
        assert_eq!(name("https://GIT.example.com/x"), Some("root"));
        assert_eq!(name("http://git.example.com/x"), None);
        assert_eq!(name("https://git.example.com:8443/x"), None);
        assert_eq!(name("https://other.example.com/"), None);
    }

    #[test]
    fn docker_server_addresses_match_by_host_and_port() {
        let c = parse(
            r#"
            [[provider]]
            name = "registry"
            url = "https://registry.example.com/"
            issuer = "https://auth.example.com"
            client_id = "abc"

            [[provider]]
            name = "registry-team"
            url = "https://registry.example.com/team"
            issuer = "https://auth.example.com"
            client_id = "abc"

            [[provider]]
            name = "local"
            url = "http://127.0.0.1:5000/"
            issuer = "https://auth.example.com"
            client_id = "abc"

            [[provider]]
            name = "hub"
            url = "https://index.docker.io/"
            issuer = "https://auth.example.com"
            client_id = "abc"
        "#,
        )
        .unwrap();
        let name = |s: &str| c.provider_for_server(s).map(|p| p.name.as_str());
        // Bare hosts: https's port when none is given, scheme not compared.
        assert_eq!(name("registry.example.com"), Some("registry"));
        assert_eq!(name(" Registry.Example.COM\n"), Some("registry"));
        assert_eq!(name("registry.example.com:443"), Some("registry"));
        assert_eq!(name("registry.example.com:5000"), None);
        assert_eq!(name("127.0.0.1:5000"), Some("local"));
        assert_eq!(name("127.0.0.1"), None);
        assert_eq!(name("127.0.0.1:5001"), None);
        // URLs: the ordinary rules, scheme and path included.
        assert_eq!(name("https://index.docker.io/v1/"), Some("hub"));
        assert_eq!(name("https://registry.example.com"), Some("registry"));
        assert_eq!(
            name("https://registry.example.com/team/x"),
            Some("registry-team")
        );
        assert_eq!(name("http://registry.example.com"), None);
        assert_eq!(name("http://127.0.0.1:5000"), Some("local"));
        assert_eq!(name("https://127.0.0.1:5000"), None);
        // Not a host at all.
        for bad in [
            "",
            "   ",
            "user@registry.example.com",
            "https://user:pw@registry.example.com/",
            "a b",
            "https://",
            "/v2/",
        ] {
            assert_eq!(name(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn server_host_drops_scheme_and_path() {
        let host = |s: &str| server_host(s).map(|u| u.as_str().to_string());
        assert_eq!(
            host("https://index.docker.io/v1/").as_deref(),
            Some("https://index.docker.io/")
        );
        assert_eq!(
            host("127.0.0.1:5000").as_deref(),
            Some("https://127.0.0.1:5000/")
        );
        assert_eq!(
            host("http://REG.example.com:443/x").as_deref(),
            Some("https://reg.example.com/")
        );
        assert_eq!(host("[::1]:5000").as_deref(), Some("https://[::1]:5000/"));
        assert_eq!(host("a@b"), None);
        assert_eq!(host(""), None);
    }

    #[test]
    fn defaults_are_filled_in() {
        let c = parse(TWO).unwrap();
        let p = &c.providers[0];
        assert_eq!(c.storage, Storage::Auto);
        assert_eq!(p.grant, GrantKind::AuthorizationCode);
        assert_eq!(p.username, "oauth2");
        assert_eq!(p.redirect_uri().as_str(), DEFAULT_REDIRECT_URI);
        assert_eq!(c.providers[1].scopes, ["read", "write"]);
    }

    #[test]
    fn unknown_key_names_file_entry_and_field() {
        let e = parse(
            "[[provider]]\nname = \"x\"\nurl = \"https://a/\"\nissuer = \"https://a\"\nclient_idd = \"c\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("/etc/co.toml: provider #1 (\"x\"): "), "{e}");
        assert!(e.contains("client_idd"), "{e}");
        assert!(!e.contains('\n'), "{e}");
    }

    #[test]
    fn bad_values_are_named() {
        let cases = [
            ("storage = \"cloud\"\n", "storage"),
            ("colour = 1\n", "colour"),
            ("[[provider]]\nurl = \"https://a/\"\n", "issuer"),
            (
                "[[provider]]\nurl = \"nope\"\nissuer = \"https://a\"\n",
                "url",
            ),
            (
                "[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\ngrant = \"password\"\n",
                "password",
            ),
            (
                "[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\nredirect_uri = \"https://evil.example/\"\n",
                "redirect_uri",
            ),
            (
                "[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\ngrant = \"client_credentials\"\n",
                "client_credentials",
            ),
            (
                "[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\ntoken_endpoint = \"::\"\n",
                "token_endpoint",
            ),
            ("[[provider]\n", "line 1, column 12: unclosed array table"),
        ];
        for (text, needle) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.starts_with("/etc/co.toml: "), "{e}");
            assert!(e.contains(needle), "{needle}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn debug_of_a_provider_shows_no_client_secret() {
        let c = parse(TWO).unwrap();
        let shown = format!("{:?}", c.providers[1]);
        assert!(
            shown.contains("def") && !shown.contains("s3cret"),
            "{shown}"
        );
    }

    #[test]
    fn preset_fills_in_and_explicit_keys_win() {
        let c = parse(
            "[[provider]]\nurl = \"https://gitlab.corp.example/\"\npreset = \"gitlab\"\nclient_id = \"c\"\n\n\
             [[provider]]\nurl = \"https://github.com/\"\npreset = \"github\"\nclient_id = \"g\"\n\
             grant = \"authorization_code\"\nscopes = [\"repo\", \"workflow\"]\nusername = \"me\"\n",
        )
        .unwrap();
        let gl = &c.providers[0];
        assert_eq!(gl.issuer, "https://gitlab.corp.example");
        assert_eq!(gl.username, "oauth2");
        assert_eq!(gl.scopes, ["read_repository", "write_repository"]);
        assert_eq!(
            gl.endpoints.token.as_ref().unwrap().as_str(),
            "https://gitlab.corp.example/oauth/token"
        );
        let gh = &c.providers[1];
        assert_eq!(gh.grant, GrantKind::AuthorizationCode);
        assert_eq!(gh.scopes, ["repo", "workflow"]);
        assert_eq!(gh.username, "me");
        assert!(crate::discovery::authorization_server::explicit_is_enough(
            gh
        ));
        let e = parse("[[provider]]\nurl = \"https://a/\"\npreset = \"nope\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("preset"), "{e}");
    }

    #[test]
    fn authtype_bearer_is_read() {
        let c = parse(
            "[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\nauthtype = \"bearer\"\n",
        )
        .unwrap();
        assert!(c.providers[0].bearer);
        assert!(parse("[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\nauthtype = \"digest\"\n").is_err());
    }

    #[test]
    fn secrets_do_not_appear_in_errors() {
        let e = parse("[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\nclient_secret = \"hunter2\"\nbogus = 1\n")
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn discover_without_issuer_refuses_a_configured_client() {
        for extra in ["client_id = \"app\"\n", "client_secret = \"s3cret\"\n"] {
            let e = parse(&format!(
                "[[provider]]\nurl = \"https://a/\"\ndiscover = true\n{extra}"
            ))
            .unwrap_err()
            .to_string();
            assert!(e.contains("discover") && !e.contains("s3cret"), "{e}");
        }
        // With an issuer the client stays with it; discovery has nothing to add.
        assert!(
            parse("[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\ndiscover = true\nclient_id = \"app\"\n")
                .is_ok()
        );
        assert!(parse("[[provider]]\nurl = \"https://a/\"\ndiscover = true\n").is_ok());
    }

    #[test]
    fn plain_http_to_a_remote_host_needs_allow_insecure_http() {
        let e = parse("[[provider]]\nurl = \"http://git.example.com/\"\nissuer = \"https://a\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("allow_insecure_http"), "{e}");
        assert!(parse("[[provider]]\nurl = \"http://git.example.com/\"\nissuer = \"https://a\"\nallow_insecure_http = true\n").is_ok());
        assert!(
            parse("[[provider]]\nurl = \"http://127.0.0.1:8080/\"\nissuer = \"https://a\"\n")
                .is_ok()
        );
    }

    #[test]
    fn redirect_is_written_fixed_for_configured_clients_else_per_issuer() {
        let c = parse(
            "[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\nredirect_uri = \"http://localhost:8000/cb\"\n\n\
             [[provider]]\nurl = \"https://b/\"\nissuer = \"https://b\"\nclient_id = \"app\"\n\n\
             [[provider]]\nurl = \"https://c/\"\nissuer = \"https://c\"\n\n\
             [[provider]]\nurl = \"https://d/\"\nissuer = \"https://d\"\n",
        )
        .unwrap();
        let r = |i: usize| c.providers[i].redirect_uri();
        assert_eq!(r(0).as_str(), "http://localhost:8000/cb");
        assert_eq!(r(1).as_str(), DEFAULT_REDIRECT_URI);
        assert_eq!(r(2).port(), Some(0));
        assert!(r(2).path().starts_with("/callback/"), "{}", r(2));
        assert_ne!(r(2).path(), r(3).path());
        assert_eq!(r(2), c.providers[2].redirect_uri(), "stable");
    }
}
