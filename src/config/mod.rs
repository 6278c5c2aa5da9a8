//! The config file (DESIGN.md "Config") and matching a request URL to a provider.
//!
//! Here: finding and loading the file. Its shape as written is in
//! `schema`, an entry made into a checked [`Provider`] in `entry`, the
//! keys of a workload's own credentials (client assertions, token
//! exchange) in `workload`; what a provider is, in `provider`; presets in
//! [`preset`], git's config in [`gitconfig`], matching in `matching`.

mod entry;
pub mod gitconfig;
mod matching;
mod mistakes;
pub mod preset;
mod provider;
mod schema;
mod workload;

pub use matching::{covers, host_and_port, host_url, path_covers, server_host};
pub use provider::{
    AuthMethod, CiPlatform, ClientAssertion, DEFAULT_LOGIN_TIMEOUT, DEFAULT_REDIRECT_URI,
    DEFAULT_USERNAME, ExplicitEndpoints, GrantKind, Provider, SubjectToken, TokenExchange,
    TokenLifetime,
};

use crate::error::{Error, Result};
use schema::{ProviderEntry, RawConfig, RawProvider};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where every config key is documented: an anchor of README.md, named in
/// doctor's fixes and config mistakes (tests/docs.rs checks that the
/// heading exists).
pub const CONFIG_DOCS: &str = "README.md#configuration-reference";

/// Largest config file read; anything bigger is a mistake.
const MAX_CONFIG: u64 = 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Storage {
    /// The keychain when one answers, else the kernel keyring where the
    /// kernel offers one, else the file.
    Auto,
    Keyring,
    /// The Linux kernel's persistent keyring: never on disk, gone at reboot.
    Kernel,
    File,
}

impl Storage {
    fn parse(s: &str) -> Option<Storage> {
        match s {
            "auto" => Some(Storage::Auto),
            "keyring" => Some(Storage::Keyring),
            "kernel" => Some(Storage::Kernel),
            "file" => Some(Storage::File),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub path: Option<PathBuf>,
    pub storage: Storage,
    /// Shared, not copied, with the bindings made from them: a warm `get`
    /// pays for one provider's parse, not also for a copy of it.
    pub providers: Vec<Arc<Provider>>,
    /// Hosts (`host` or `host:port`) whose challenges may name an
    /// authorization server for a provider that is not configured (RFC 9728).
    pub discover_hosts: Vec<String>,
    /// `client_metadata_url` at the top of the file: the Client ID
    /// Metadata Document this client is published at, for authorization
    /// servers found by discovery (MCP) that take one.
    pub client_metadata_url: Option<url::Url>,
}

/// Where the config file is: `$CREDENTIAL_OAUTH_CONFIG`, else
/// `$XDG_CONFIG_HOME/credential-oauth/config.toml`, else
/// `~/.config/credential-oauth/config.toml`. The flag says whether the path
/// was named explicitly (then it must exist).
pub fn config_path() -> Option<(PathBuf, bool)> {
    if let Some(p) = crate::env::non_empty_path("CREDENTIAL_OAUTH_CONFIG") {
        return Some((p, true));
    }
    let base = crate::env::non_empty_path("XDG_CONFIG_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| crate::env::home_dir().map(|h| h.join(".config")))?;
    Some((base.join("credential-oauth").join("config.toml"), false))
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
                        source: Some(Box::new(e)),
                    });
                }
            },
            None => Config::empty(),
        };
        if let Some(s) = crate::env::non_empty("CREDENTIAL_OAUTH_STORAGE") {
            config.storage = Storage::parse(&s).ok_or_else(|| {
                Error::Usage(format!(
                    "CREDENTIAL_OAUTH_STORAGE={s:?} is not one of auto, keyring, kernel, file"
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
            client_metadata_url: None,
        }
    }

    /// Parse config text; errors name the file, the entry and the field.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        // Every get reads the file: one pass straight into the providers'
        // fields. Only a file with a mistake is read again, provider by
        // provider, for an error that names the entry.
        match toml::from_str::<RawConfig<RawProvider>>(text) {
            Ok(raw) => Config::from_raw(raw, path),
            Err(_) => match toml::from_str::<RawConfig<toml::Value>>(text) {
                Ok(raw) => Config::from_raw(raw, path),
                Err(e) => Err(Error::Config {
                    path: path.to_path_buf(),
                    message: mistakes::explain(&toml_message(&e.to_string()), text),
                    source: Some(Box::new(e)),
                }),
            },
        }
    }

    fn from_raw<P: ProviderEntry>(raw: RawConfig<P>, path: &Path) -> Result<Config> {
        let err = |message: String| Error::Config {
            path: path.to_path_buf(),
            message,
            source: None,
        };
        let storage = match raw.storage.as_deref() {
            None => Storage::Auto,
            Some(s) => Storage::parse(s).ok_or_else(|| {
                err(format!(
                    "storage: {s:?} is not one of auto, keyring, kernel, file"
                ))
            })?,
        };
        let mut providers = Vec::with_capacity(raw.provider.len());
        for (i, entry) in raw.provider.into_iter().enumerate() {
            let label = |name: Option<&str>| match name {
                Some(name) => format!("provider #{} ({name:?})", i + 1),
                None => format!("provider #{}", i + 1),
            };
            let raw = entry.into_raw().map_err(|(name, e)| {
                err(format!("{}: {}", label(name.as_deref()), field_error(&e)))
            })?;
            let name = raw.name.clone();
            providers
                .push(Arc::new(Provider::from_raw(raw).map_err(|m| {
                    err(format!("{}: {m}", label(name.as_deref())))
                })?));
        }
        Ok(Config {
            path: Some(path.to_path_buf()),
            storage,
            providers,
            discover_hosts: raw.discover_hosts,
            client_metadata_url: raw
                .client_metadata_url
                .as_deref()
                .map(entry::client_metadata_url)
                .transpose()
                .map_err(err)?,
        })
    }
}

fn read_bounded(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind};
    let bytes = crate::bounded::read_at_most(std::fs::File::open(path)?, MAX_CONFIG).map_err(
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
    let message = mistakes::explain(&toml_message(e.message()), "");
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
fn toml_message(msg: &str) -> String {
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

    /// Two providers on one host, the second on a path below the first.
    pub(super) const TWO: &str = r#"
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
    fn one_pass_and_the_error_reporting_pass_read_a_file_alike() {
        let text = format!(
            "{TWO}{}",
            r#"
            [[provider]]
            url = "https://registry.example.com/v2/"
            issuer = "https://auth.example.com"
            client_id = "ci"
            grant = "client_credentials"
            private_key_file = "/etc/key.pem"
            key_id = "k1"
            scopes = ["push"]
            login_timeout = 60
            authtype = "bearer"
            token_endpoint = "https://auth.example.com/oauth/token"
            "#
        );
        let path = Path::new("/etc/co.toml");
        let one_pass = Config::from_raw(
            toml::from_str::<RawConfig<RawProvider>>(&text).unwrap(),
            path,
        )
        .unwrap();
        let by_entry = Config::from_raw(
            toml::from_str::<RawConfig<toml::Value>>(&text).unwrap(),
            path,
        )
        .unwrap();
        assert_eq!(format!("{one_pass:?}"), format!("{by_entry:?}"));
        assert_eq!(one_pass.providers.len(), 3);
    }

    #[test]
    fn defaults_are_filled_in() {
        let c = parse(TWO).unwrap();
        let p = &c.providers[0];
        assert_eq!(c.storage, Storage::Auto);
        assert_eq!(p.grant, GrantKind::AuthorizationCode);
        assert_eq!(p.username, "oauth2");
        assert_eq!(p.redirect_uri().unwrap().as_str(), DEFAULT_REDIRECT_URI);
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
    fn no_config_error_has_a_run_of_spaces() {
        let p = "[[provider]]\nurl = \"https://a/\"\n";
        let i = "issuer = \"https://a\"\n";
        let cc = "client_id = \"app\"\ngrant = \"client_credentials\"\n";
        let texts = [
            "storage = \"cloud\"\n".to_string(),
            "colour = 1\n".into(),
            "[[provider]\n".into(),
            "[[provider]]\nname = \"x\"\nurl = \"https://a/\"\nissuer = \"https://a\"\nbogus = 1\n"
                .into(),
            p.into(),
            "[[provider]]\nurl = \"nope\"\nissuer = \"https://a\"\n".into(),
            "[[provider]]\nurl = \"ftp://a/\"\nissuer = \"https://a\"\n".into(),
            "[[provider]]\nurl = \"http://git.example.com/\"\nissuer = \"https://a\"\n".into(),
            "[[provider]]\nurl = \"https://u:p@a/\"\nissuer = \"https://a\"\n".into(),
            format!("{p}discover = true\nclient_id = \"app\"\n"),
            format!("{p}discover = true\nclient_secret = \"s\"\n"),
            format!(
                "{p}discover = true\ngrant = \"token_exchange\"\nsubject_token_file = \"/t\"\n"
            ),
            format!("{p}discover = true\nclient_assertion_file = \"/a\"\n"),
            format!("{p}preset = \"nope\"\n"),
            format!("{p}{i}authtype = \"digest\"\n"),
            format!("{p}{i}grant = \"password\"\n"),
            format!("{p}{i}redirect_uri = \"https://evil.example/\"\n"),
            format!("{p}{i}client_id = \"\"\n"),
            format!("{p}{i}grant = \"client_credentials\"\n"),
            format!("{p}{i}scopes = [\"two words\"]\n"),
            format!("{p}{i}ca_file = \"ca.pem\"\n"),
            format!("{p}{i}login_timeout = 0\n"),
            format!("{p}{i}token_endpoint = \"::\"\n"),
            format!("{p}{i}kubernetes_token = \"jwt\"\n"),
            format!("{p}{i}token_lifetime = -1\n"),
            format!("{p}{i}{cc}private_key_file = \"k.pem\"\n"),
            format!("{p}{i}{cc}token_endpoint_auth_method = \"private_key_jwt\"\n"),
            format!("{p}{i}{cc}key_id = \"k\"\n"),
            format!("{p}{i}{cc}private_key_file = \"/k\"\nclient_assertion_file = \"/a\"\n"),
            format!("{p}{i}{cc}private_key_file = \"/k\"\nclient_secret = \"s\"\n"),
            format!(
                "{p}{i}{cc}private_key_file = \"/k\"\ntoken_endpoint_auth_method = \"client_secret_post\"\n"
            ),
            format!("{p}{i}grant = \"client_credentials\"\nprivate_key_file = \"/k\"\n"),
            format!("{p}{i}{cc}client_assertion = \"circleci\"\n"),
            format!("{p}{i}{cc}client_assertion = \"gitlab-ci\"\n"),
            format!(
                "{p}{i}{cc}client_assertion = \"gitlab-ci\"\nclient_assertion_variable = \"a-b\"\n"
            ),
            format!(
                "{p}{i}{cc}client_assertion = \"gitlab-ci\"\nclient_assertion_variable = \"A\"\n\
                 client_assertion_audience = \"x\"\n"
            ),
            format!(
                "{p}{i}{cc}client_assertion = \"github-actions\"\nclient_assertion_variable = \"A\"\n"
            ),
            format!("{p}{i}{cc}client_assertion_audience = \"x\"\n"),
            format!("{p}{i}grant = \"token_exchange\"\n"),
            format!("{p}{i}audience = \"api\"\n"),
            format!("{p}{i}grant = \"token_exchange\"\nsubject_token_file = \"t\"\n"),
            format!(
                "{p}{i}grant = \"token_exchange\"\nsubject_token_file = \"/t\"\nsubject_token = \"github-actions\"\n"
            ),
        ];
        for text in &texts {
            let e = parse(text).unwrap_err().to_string();
            assert!(!e.contains("  "), "{text}: {e:?}");
            assert!(!e.contains('\n'), "{text}: {e:?}");
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
    fn kubernetes_gets_the_id_token_when_openid_is_asked_for_unless_told() {
        use crate::token::Credential;
        let c = parse(
            "[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\nscopes = [\"openid\", \"groups\"]\n\n\
             [[provider]]\nurl = \"https://b/\"\nissuer = \"https://b\"\nscopes = [\"read\"]\n\n\
             [[provider]]\nurl = \"https://c/\"\nissuer = \"https://c\"\nscopes = [\"openid\"]\n\
             kubernetes_token = \"access_token\"\n\n\
             [[provider]]\nurl = \"https://d/\"\nissuer = \"https://d\"\nkubernetes_token = \"id_token\"\n",
        )
        .unwrap();
        let which: Vec<Credential> = c.providers.iter().map(|p| p.kubernetes_token()).collect();
        assert_eq!(
            which,
            [
                Credential::IdToken,
                Credential::AccessToken,
                Credential::AccessToken,
                Credential::IdToken
            ]
        );
        let e = parse("[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\nkubernetes_token = \"jwt\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("kubernetes_token"), "{e}");
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
    fn discover_without_issuer_refuses_every_workload_credential() {
        let discovering = "[[provider]]\nurl = \"https://a/\"\ndiscover = true\n";
        let cases = [
            (
                "grant = \"token_exchange\"\nsubject_token_file = \"/var/run/sa\"\n",
                "subject_token_file",
            ),
            (
                "grant = \"token_exchange\"\nsubject_token = \"github-actions\"\n",
                "subject_token",
            ),
            (
                "grant = \"token_exchange\"\nsubject_token = \"gitlab-ci\"\n\
                 subject_token_variable = \"STS_TOKEN\"\n",
                "subject_token",
            ),
            (
                "client_assertion_file = \"/var/run/oidc\"\n",
                "client_assertion_file",
            ),
            (
                "client_id = \"app\"\nclient_assertion_file = \"/var/run/oidc\"\n",
                "client_assertion_file",
            ),
            (
                "client_assertion = \"github-actions\"\n",
                "client_assertion",
            ),
            (
                "client_assertion = \"gitlab-ci\"\nclient_assertion_variable = \"AS_TOKEN\"\n",
                "client_assertion",
            ),
            ("private_key_file = \"/k.pem\"\n", "private_key_file"),
            (
                "client_id = \"app\"\ngrant = \"client_credentials\"\nprivate_key_file = \"/k.pem\"\n",
                "private_key_file",
            ),
            (
                "client_id = \"app\"\ngrant = \"token_exchange\"\nsubject_token_file = \"/var/run/sa\"\n\
                 private_key_file = \"/k.pem\"\n",
                "subject_token_file",
            ),
        ];
        for (extra, key) in cases {
            let e = parse(&format!("{discovering}{extra}"))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!(
                    "discover = true without issuer cannot be combined with {key}: "
                )),
                "{extra}: {e}"
            );
        }
        // With an issuer the credential goes to that issuer alone: discovery
        // has nothing to replace.
        let with_issuer =
            "[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\ndiscover = true\n";
        for extra in [
            "grant = \"token_exchange\"\nsubject_token_file = \"/var/run/sa\"\n",
            "client_id = \"app\"\ngrant = \"client_credentials\"\nclient_assertion_file = \"/var/run/oidc\"\n",
            "client_id = \"app\"\ngrant = \"client_credentials\"\nclient_assertion = \"github-actions\"\n",
            "client_id = \"app\"\ngrant = \"client_credentials\"\nprivate_key_file = \"/k.pem\"\n",
        ] {
            let c = parse(&format!("{with_issuer}{extra}"));
            assert!(c.is_ok(), "{extra}: {:?}", c.err());
        }
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
    fn a_private_key_or_assertion_file_means_private_key_jwt_and_refuses_a_secret() {
        let base = "[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\nclient_id = \"app\"\ngrant = \"client_credentials\"\n";
        let c = parse(&format!(
            "{base}private_key_file = \"/k.pem\"\nkey_id = \"k1\"\n\n{base}client_assertion_file = \"/var/run/oidc\"\n"
        ))
        .unwrap();
        assert_eq!(c.providers[0].auth_method, Some(AuthMethod::PrivateKeyJwt));
        assert_eq!(
            c.providers[0].assertion,
            Some(ClientAssertion::PrivateKey {
                file: "/k.pem".into(),
                key_id: Some("k1".into())
            })
        );
        assert_eq!(
            c.providers[1].assertion,
            Some(ClientAssertion::File("/var/run/oidc".into()))
        );
        let cases = [
            ("private_key_file = \"k.pem\"\n", "absolute"),
            (
                "token_endpoint_auth_method = \"private_key_jwt\"\n",
                "needs private_key_file",
            ),
            ("key_id = \"k\"\n", "key_id"),
            (
                "private_key_file = \"/k\"\nclient_assertion_file = \"/a\"\n",
                "set one",
            ),
            (
                "private_key_file = \"/k\"\nclient_secret = \"hunter2\"\n",
                "set one",
            ),
            (
                "private_key_file = \"/k\"\ntoken_endpoint_auth_method = \"client_secret_post\"\n",
                "private_key_jwt",
            ),
        ];
        for (extra, needle) in cases {
            let e = parse(&format!("{base}{extra}")).unwrap_err().to_string();
            assert!(e.contains(needle), "{extra}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn client_assertion_names_a_ci_platform_with_what_it_needs() {
        let base = "[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\nclient_id = \"app\"\ngrant = \"client_credentials\"\n";
        let c = parse(&format!(
            "{base}client_assertion = \"github-actions\"\nclient_assertion_audience = \"api://x\"\n\n\
             {base}client_assertion = \"gitlab-ci\"\nclient_assertion_variable = \"AS_TOKEN\"\n"
        ))
        .unwrap();
        assert_eq!(
            c.providers[0].assertion,
            Some(ClientAssertion::Platform(CiPlatform::GitHubActions {
                audience: Some("api://x".into())
            }))
        );
        assert_eq!(c.providers[0].auth_method, Some(AuthMethod::PrivateKeyJwt));
        assert_eq!(
            c.providers[1].assertion,
            Some(ClientAssertion::Platform(CiPlatform::GitLabCi {
                variable: "AS_TOKEN".into()
            }))
        );
        let cases = [
            (
                "client_assertion = \"circleci\"\n",
                "github-actions, gitlab-ci",
            ),
            (
                "client_assertion = \"gitlab-ci\"\n",
                "client_assertion_variable",
            ),
            (
                "client_assertion = \"gitlab-ci\"\nclient_assertion_variable = \"A\"\nclient_assertion_audience = \"x\"\n",
                "id_tokens",
            ),
            (
                "client_assertion = \"github-actions\"\nclient_assertion_variable = \"A\"\n",
                "client_assertion_variable",
            ),
            (
                "client_assertion_audience = \"x\"\n",
                "need client_assertion",
            ),
            (
                "client_assertion = \"github-actions\"\nprivate_key_file = \"/k\"\n",
                "set one",
            ),
        ];
        for (extra, needle) in cases {
            let e = parse(&format!("{base}{extra}")).unwrap_err().to_string();
            assert!(e.contains(needle), "{extra}: {e}");
        }
    }

    #[test]
    fn token_exchange_reads_its_subject_and_parameters() {
        let base = "[[provider]]\nurl = \"https://a/\"\nissuer = \"https://a\"\n";
        let c = parse(&format!(
            "{base}grant = \"token_exchange\"\nsubject_token_file = \"/var/run/sa\"\naudience = \"api\"\n\n\
             {base}grant = \"token_exchange\"\nsubject_token = \"github-actions\"\n\
             subject_token_audience = \"sts\"\nsubject_token_type = \"urn:ietf:params:oauth:token-type:id_token\"\n"
        ))
        .unwrap();
        assert_eq!(
            c.providers[0].exchange,
            Some(TokenExchange {
                subject: SubjectToken::File("/var/run/sa".into()),
                subject_token_type: "urn:ietf:params:oauth:token-type:jwt".into(),
                audience: Some("api".into()),
                resource: None,
                requested_token_type: None,
            })
        );
        let x = c.providers[1].exchange.as_ref().unwrap();
        assert_eq!(
            x.subject,
            SubjectToken::Platform(CiPlatform::GitHubActions {
                audience: Some("sts".into())
            })
        );
        let cases = [
            ("grant = \"token_exchange\"\n", "needs subject_token_file"),
            ("audience = \"api\"\n", "only for grant"),
            ("subject_token_file = \"/t\"\n", "only for grant"),
            (
                "grant = \"token_exchange\"\nsubject_token_file = \"t\"\n",
                "absolute",
            ),
            (
                "grant = \"token_exchange\"\nsubject_token = \"gitlab-ci\"\n",
                "subject_token_variable",
            ),
        ];
        for (extra, needle) in cases {
            let e = parse(&format!("{base}{extra}")).unwrap_err().to_string();
            assert!(e.contains(needle), "{extra}: {e}");
        }
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
        let r = |i: usize| c.providers[i].redirect_uri().unwrap();
        assert_eq!(r(0).as_str(), "http://localhost:8000/cb");
        assert_eq!(r(1).as_str(), DEFAULT_REDIRECT_URI);
        assert_eq!(r(2).port(), Some(0));
        assert!(r(2).path().starts_with("/callback/"), "{}", r(2));
        assert_ne!(r(2).path(), r(3).path());
        assert_eq!(r(2), c.providers[2].redirect_uri().unwrap(), "stable");
    }
}
