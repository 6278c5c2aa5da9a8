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
//! config-file provider never spawns git. Otherwise one
//! `git config --null --get-urlmatch credential URL` reads every
//! `credential.*` key that applies to the URL (git's own URL matching, with
//! `-c` options and the repository's config included since we run where git
//! runs us).

use crate::config::{Config, Provider};
use std::process::Command;
use url::Url;

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
];

/// The provider for `url`: the config file's, else one written in git's
/// config, else none.
pub fn provider_for(config: &Config, url: &Url) -> Option<Provider> {
    if let Some(p) = config.provider_for(url) {
        return Some(p.clone());
    }
    let out = Command::new("git")
        .args([
            "config",
            "--null",
            "--get-urlmatch",
            "credential",
            url.as_str(),
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .inspect_err(|e| crate::debug!("cannot run git config: {e}"))
        .ok()?;
    // Exit 1: nothing set for this URL.
    if !out.status.success() {
        return None;
    }
    let entries = parse_urlmatch(&out.stdout);
    match synthesise(&entries, url)? {
        Ok(p) => {
            crate::debug!("provider {:?} from git config for {url}", p.name);
            Some(p)
        }
        Err(m) => {
            // Someone wrote oauth* keys for this URL; a silent miss would
            // leave them guessing, so say why (only under -v, as git may
            // be asking for a URL this helper is not meant to serve).
            crate::debug!("git config credential.oauth* for {url}: {m}");
            None
        }
    }
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

/// A provider from `credential.oauth*` entries; `None` when there are none
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
}
