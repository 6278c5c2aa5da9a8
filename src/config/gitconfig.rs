//! Providers written in git's own config, for people who keep everything
//! there:
//!
//! ```text
//! [credential "https://gitlab.example.com"]
//!     helper = oauth
//!     oauthPreset = gitlab
//!     oauthClientId = 0123abcd
//! ```
//!
//! Only consulted when git calls us (`get`/`erase`) and the config file has
//! no provider for the URL: the config file wins, and a warm `get` for a
//! config-file provider never spawns git.
//!
//! Only URL-scoped keys (`credential.<url>.oauth*`) count (DESIGN.md,
//! "Trust"). A plain `[credential]` section applies to every host git talks
//! to, so an origin-relative preset there would send the client id and
//! secret to whatever host a remote, a submodule or a redirect names.
//! `git config --get-urlmatch credential URL` returns those keys too, so:
//!
//! 1. `git config --null --get-regexp '^credential\..+\.oauth[^.]*$'` lists
//!    the scoped keys from everything git reads (system, global, repository,
//!    includes, `-c`), in git's order. A key without a subsection does not
//!    match. None (the common case): not ours, after one git process, as
//!    before.
//! 2. Those entries, and only those, are written back as config text, and
//!    git matches the URL against them:
//!    `git config --file - --null --get-urlmatch credential URL` with the
//!    text on stdin (never in a file: it may hold a client secret). So git's
//!    own URL matching (scheme, `*` in host names, port, path prefix, user,
//!    most specific wins, the later one among equals) is kept exactly.

use crate::config::{Config, Provider};
use std::io::Write;
use std::process::{Command, Stdio};
use url::Url;

/// The scoped keys git is asked for: section `credential`, a subsection
/// (the URL as written), a variable starting with `oauth`. git lowercases
/// section and variable names before matching; the subsection keeps its case.
pub const SCOPED_KEYS: &str = r"^credential\..+\.oauth[^.]*$";

/// Most we read from one `git config`. Real configs are a few KiB.
const MAX_GIT_OUTPUT: u64 = 1024 * 1024;

/// git config keys (lowercased, as `--get-urlmatch` prints them) and the
/// config file keys they stand for.
const KEYS: &[(&str, &str)] = &[
    ("oauthclientid", "client_id"),
    ("oauthclientsecret", "client_secret"),
    ("oauthissuer", "issuer"),
    ("oauthpreset", "preset"),
    ("oauthscopes", "scopes"),
    ("oauthgrant", "grant"),
    ("oauthusername", "username"),
    ("oauthredirecturi", "redirect_uri"),
    ("oauthauthtype", "authtype"),
    ("oauthname", "name"),
    ("oauthauthorizationendpoint", "authorization_endpoint"),
    ("oauthtokenendpoint", "token_endpoint"),
    (
        "oauthdeviceauthorizationendpoint",
        "device_authorization_endpoint",
    ),
    ("oauthrevocationendpoint", "revocation_endpoint"),
    ("oauthkubernetestoken", "kubernetes_token"),
    ("oauthtokenlifetime", "token_lifetime"),
];

/// The provider for `url`: the config file's, else one written in git's
/// config for that URL, else none.
pub fn provider_for(config: &Config, url: &Url) -> Option<Provider> {
    if let Some(p) = config.provider_for(url) {
        return Some(p.clone());
    }
    let listed = git_config(&["--null", "--get-regexp", SCOPED_KEYS], None)?;
    let scoped = parse_scoped(&listed);
    if scoped.is_empty() {
        return None;
    }
    let text = scoped_config_text(&scoped);
    let matched = git_config(
        &[
            "--file",
            "-",
            "--null",
            "--get-urlmatch",
            "credential",
            url.as_str(),
        ],
        Some(text.as_bytes()),
    )?;
    let entries = parse_urlmatch(&matched);
    match synthesise(&entries, url)? {
        Ok(p) => {
            crate::debug!("provider {:?} from git config for {url}", p.name);
            Some(p)
        }
        Err(m) => {
            // Someone wrote oauth* keys for this URL; a silent miss would
            // leave them guessing, so say why (only under -v, as git may
            // be asking for a URL this helper is not meant to serve).
            crate::debug!("git config credential.<url>.oauth* for {url}: {m}");
            None
        }
    }
}

/// `git config ARGS`, given `stdin` (or nothing): its stdout when it exits
/// 0 and printed at most [`MAX_GIT_OUTPUT`] bytes. Exit 1 is "no such key";
/// any other failure (no git, a broken config) is "not ours" too, said under
/// `-v` only.
fn git_config(args: &[&str], stdin: Option<&[u8]>) -> Option<Vec<u8>> {
    let mut cmd = Command::new("git");
    cmd.arg("config")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if stdin.is_some() {
        // With `--file`, git reads that file alone (2.39 and 2.47 checked);
        // dropping `-c` options as well means no git could ever mix unscoped
        // `-c credential.oauth*` keys into the match.
        cmd.env_remove("GIT_CONFIG_PARAMETERS")
            .env_remove("GIT_CONFIG_COUNT");
    }
    let mut child = cmd
        .spawn()
        .inspect_err(|e| crate::debug!("cannot run git config: {e}"))
        .ok()?;
    let input = child.stdin.take();
    let output = child.stdout.take();
    let (read, too_large) = std::thread::scope(|scope| {
        if let (Some(mut pipe), Some(text)) = (input, stdin) {
            // On a thread, so a git that answers before reading all of its
            // input cannot deadlock us; one that stops reading ends it (EPIPE).
            scope.spawn(move || {
                let _ = pipe.write_all(text);
            });
        }
        let read = output.map(|o| crate::protocol::read_at_most(o, MAX_GIT_OUTPUT));
        let too_large =
            matches!(&read, Some(Err(e)) if e.kind() == std::io::ErrorKind::FileTooLarge);
        if too_large {
            // Before the writer is joined: a git blocked on its full stdout
            // would never read the rest of its stdin.
            let _ = child.kill();
        }
        (read, too_large)
    });
    if too_large {
        crate::debug!(
            "git config printed more than {} KiB; git config ignored",
            MAX_GIT_OUTPUT / 1024
        );
        let _ = child.wait();
        return None;
    }
    let status = child
        .wait()
        .inspect_err(|e| crate::debug!("git config: {e}"))
        .ok()?;
    match read {
        Some(Ok(out)) if status.success() => Some(out),
        _ => None,
    }
}

/// One `credential.<url>.<variable>` key as `--get-regexp --null` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopedEntry {
    /// The subsection exactly as written: git matches it as a URL pattern.
    pub url: String,
    /// Lowercase, as git prints variable names.
    pub variable: String,
    /// `None` for a key written without `=` (git's boolean true).
    pub value: Option<String>,
}

/// `--get-regexp --null` output (`key\nvalue\0`, or `key\0` without a
/// value) as scoped `oauth*` entries, in git's order. Keys without a
/// subsection, or whose variable does not start with `oauth`, are dropped
/// here as well, whatever pattern git was given.
pub fn parse_scoped(out: &[u8]) -> Vec<ScopedEntry> {
    const SECTION: &str = "credential.";
    String::from_utf8_lossy(out)
        .split('\0')
        .filter(|e| !e.is_empty())
        .filter_map(|e| {
            let (key, value) = match e.split_once('\n') {
                Some((k, v)) => (k, Some(v.to_string())),
                None => (e, None),
            };
            let rest = key
                .get(..SECTION.len())
                .filter(|s| s.eq_ignore_ascii_case(SECTION))
                .and_then(|_| key.get(SECTION.len()..))?;
            // A variable name cannot hold a dot; a subsection can.
            let (url, variable) = rest.rsplit_once('.')?;
            let variable = variable.to_ascii_lowercase();
            (!url.is_empty() && variable.starts_with("oauth")).then(|| ScopedEntry {
                url: url.to_string(),
                variable,
                value,
            })
        })
        .collect()
}

/// `entries` as git config text, one `[credential "URL"]` section per entry
/// in the given order, which git reads back as exactly these keys and values
/// (and so matches exactly as it matched the originals). The subsection
/// escapes `\` and `"`; a value is quoted and escapes `\`, `"`, newline, tab
/// and backspace, the escapes git's parser knows. An entry git could not
/// have printed (a newline in the subsection, an invalid variable name) is
/// left out.
pub fn scoped_config_text(entries: &[ScopedEntry]) -> String {
    let mut text = String::new();
    for ScopedEntry {
        url,
        variable,
        value,
    } in entries
    {
        let valid_variable = variable.starts_with("oauth")
            && variable
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if url.is_empty() || url.contains('\n') || !valid_variable {
            continue;
        }
        text.push_str("[credential \"");
        for c in url.chars() {
            if matches!(c, '\\' | '"') {
                text.push('\\');
            }
            text.push(c);
        }
        text.push_str("\"]\n\t");
        text.push_str(variable);
        if let Some(value) = value {
            text.push_str(" = \"");
            for c in value.chars() {
                match c {
                    '\\' => text.push_str("\\\\"),
                    '"' => text.push_str("\\\""),
                    '\n' => text.push_str("\\n"),
                    '\t' => text.push_str("\\t"),
                    '\u{8}' => text.push_str("\\b"),
                    c => text.push(c),
                }
            }
            text.push('"');
        }
        text.push('\n');
    }
    text
}

/// `--null` output: `key\nvalue\0` per entry (a key without value has no
/// newline).
pub fn parse_urlmatch(out: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(out)
        .split('\0')
        .filter(|e| !e.is_empty())
        .map(|e| match e.split_once('\n') {
            Some((k, v)) => (k.to_ascii_lowercase(), v.to_string()),
            None => (e.to_ascii_lowercase(), String::new()),
        })
        .collect()
}

/// A provider from the `credential.oauth*` entries `--get-urlmatch` printed
/// for the URL (only scoped ones reach it); `None` when there are none
/// (the URL is not ours), `Some(Err)` when they do not make a provider.
pub fn synthesise(entries: &[(String, String)], url: &Url) -> Option<Result<Provider, String>> {
    let mut table = toml::Table::new();
    for (key, value) in entries {
        let Some(name) = key.strip_prefix("credential.") else {
            continue;
        };
        let Some((_, field)) = KEYS.iter().find(|(k, _)| *k == name) else {
            continue;
        };
        let v = if *field == "scopes" {
            toml::Value::Array(
                value
                    .split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_string()))
                    .collect(),
            )
        } else if *field == "token_lifetime"
            && let Ok(secs) = value.trim().parse::<i64>()
        {
            // git config values are strings; a number of seconds is one here.
            toml::Value::Integer(secs)
        } else {
            toml::Value::String(value.clone())
        };
        // Later entries are more specific or later in the files: they win.
        table.insert(field.to_string(), v);
    }
    if table.is_empty() {
        return None;
    }
    let origin = format!("{}/", url.origin().ascii_serialization());
    table.insert("url".into(), toml::Value::String(origin));
    Some(Provider::from_table(table))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_output_parses_into_lowercase_keys() {
        let out =
            b"credential.helper\noauth\0credential.oauthClientId\nabc\0credential.usehttppath\0";
        assert_eq!(
            parse_urlmatch(out),
            vec![
                ("credential.helper".to_string(), "oauth".to_string()),
                ("credential.oauthclientid".to_string(), "abc".to_string()),
                ("credential.usehttppath".to_string(), String::new()),
            ]
        );
    }

    #[test]
    fn oauth_keys_make_a_provider_for_the_url_origin() {
        let url = Url::parse("https://gitlab.example.com/group/repo.git").unwrap();
        let entries = parse_urlmatch(
            b"credential.helper\noauth\0credential.oauthpreset\ngitlab\0credential.oauthclientid\nabc\0credential.oauthscopes\nread_repository api\0",
        );
        let p = synthesise(&entries, &url).unwrap().unwrap();
        assert_eq!(p.url.as_str(), "https://gitlab.example.com/");
        assert_eq!(p.client_id.as_deref(), Some("abc"));
        assert_eq!(p.issuer, "https://gitlab.example.com");
        assert_eq!(p.scopes, ["read_repository", "api"]);
    }

    #[test]
    fn no_oauth_keys_means_not_ours_and_bad_ones_are_reported() {
        let url = Url::parse("https://a.example/").unwrap();
        assert!(synthesise(&parse_urlmatch(b"credential.helper\ncache\0"), &url).is_none());
        let bad = synthesise(&parse_urlmatch(b"credential.oauthclientid\nabc\0"), &url).unwrap();
        assert!(bad.unwrap_err().contains("issuer"));
    }

    fn entry(url: &str, variable: &str, value: Option<&str>) -> ScopedEntry {
        ScopedEntry {
            url: url.into(),
            variable: variable.into(),
            value: value.map(Into::into),
        }
    }

    #[test]
    fn only_keys_with_a_url_subsection_are_scoped() {
        let out = b"credential.oauthclientsecret\ns3cret\0\
            credential.HTTPS://Host.Example.com/Path.oauthclientid\napp\0\
            credential.https://*.example.com.oauthissuer\0\
            credential.https://a.oauth.example.helper\ncache\0\
            credential..oauthclientid\nempty\0\
            credential.https://u@x.example/p.q.oauthscopes\na b\nc\0";
        assert_eq!(
            parse_scoped(out),
            vec![
                entry(
                    "HTTPS://Host.Example.com/Path",
                    "oauthclientid",
                    Some("app")
                ),
                entry("https://*.example.com", "oauthissuer", None),
                entry("https://u@x.example/p.q", "oauthscopes", Some("a b\nc")),
            ]
        );
    }

    #[test]
    fn config_text_escapes_subsections_and_values() {
        let text = scoped_config_text(&[
            entry(r#"https://x.example/a"b\c"#, "oauthclientid", Some("plain")),
            entry(
                "https://x.example",
                "oauthclientsecret",
                Some(" lead\"q\\b\nline\ttab\u{8}#;trail "),
            ),
            entry("https://x.example", "oauthissuer", None),
        ]);
        assert_eq!(
            text,
            "[credential \"https://x.example/a\\\"b\\\\c\"]\n\toauthclientid = \"plain\"\n\
             [credential \"https://x.example\"]\n\toauthclientsecret = \
             \" lead\\\"q\\\\b\\nline\\ttab\\b#;trail \"\n\
             [credential \"https://x.example\"]\n\toauthissuer\n"
        );
    }

    #[test]
    fn config_text_leaves_out_what_git_could_not_have_printed() {
        let text = scoped_config_text(&[
            entry(
                "https://x.example\n[credential]",
                "oauthclientid",
                Some("a"),
            ),
            entry("", "oauthclientid", Some("a")),
            entry("https://x.example", "helper", Some("a")),
            entry("https://x.example", "oauth id", Some("a")),
            entry("https://x.example", "oauth\n[x]", Some("a")),
        ]);
        assert_eq!(text, "");
    }
}
