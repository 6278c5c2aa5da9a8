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
//!
//! Before step 1, [`git_may_hold_scoped_keys`] reads (without a process) the
//! files git would read and the `-c` environment, and proves there is no
//! scoped key when none of them mentions `oauth` and none can pull in
//! another file: then "not ours" costs no git process. Any doubt spawns git
//! as before.

use crate::config::Provider;
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
    // CI and workloads without a stored secret. A git-config provider
    // always has its issuer written (discover is no key here), so none of
    // these can reach an issuer found by discovery (DESIGN.md "Trust").
    ("oauthtokenendpointauthmethod", "token_endpoint_auth_method"),
    ("oauthprivatekeyfile", "private_key_file"),
    ("oauthkeyid", "key_id"),
    ("oauthclientassertion", "client_assertion"),
    ("oauthclientassertionaudience", "client_assertion_audience"),
    ("oauthclientassertionvariable", "client_assertion_variable"),
    ("oauthclientassertionfile", "client_assertion_file"),
    ("oauthsubjecttoken", "subject_token"),
    ("oauthsubjecttokenaudience", "subject_token_audience"),
    ("oauthsubjecttokenvariable", "subject_token_variable"),
    ("oauthsubjecttokenfile", "subject_token_file"),
    ("oauthsubjecttokentype", "subject_token_type"),
    ("oauthaudience", "audience"),
    ("oauthresource", "resource"),
    ("oauthrequestedtokentype", "requested_token_type"),
];

/// The provider written in git's config for `url` (URL-scoped
/// `credential.<url>.oauth*` keys), else none.
pub fn provider_for(url: &Url) -> Option<Provider> {
    if !git_may_hold_scoped_keys() {
        return None;
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
        Ok(mut p) => {
            p.url = written_scope(&scoped, url);
            crate::debug!(
                "provider {:?} from git config for {url}, scoped to {}",
                p.name,
                p.url
            );
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

/// Most we read from one config file while looking for `oauth`; a larger
/// one means "ask git".
const MAX_CONFIG_FILE: u64 = 1024 * 1024;

/// Whether `git config --get-regexp` could list a `credential.<url>.oauth*`
/// key; `false` only when that is proven from the environment and the files
/// `git config` reads: [`may_hold_scoped_keys`] with this process's
/// environment and working directory.
pub fn git_may_hold_scoped_keys() -> bool {
    let Ok(cwd) = std::env::current_dir() else {
        return true;
    };
    let may = may_hold_scoped_keys(&|k: &str| std::env::var_os(k), &cwd);
    if !may {
        crate::debug!("no git config mentions oauth; git config not run");
    }
    may
}

/// The rule behind [`git_may_hold_scoped_keys`], for any environment and
/// working directory. A scoped key is `credential.<url>.oauth…`: its
/// variable name cannot be escaped or continued, so the bytes `oauth` (in
/// any case) are in the file or the `-c` environment that sets it. Files
/// are read, never parsed: any `include` (`[include]`, `[includeIf …]`,
/// `-c include.path`) could name another file, so its mere mention means
/// "ask git", as do a file that cannot be read or exceeds
/// [`MAX_CONFIG_FILE`], a `.git` file (worktree, submodule), `commondir`,
/// `GIT_COMMON_DIR` and `GIT_CONFIG`. Reading more files than git does
/// (the whole way up to `/` or a ceiling, every prefix's system file) can
/// only mean asking git more often, never less.
pub fn may_hold_scoped_keys(
    var: &dyn Fn(&str) -> Option<std::ffi::OsString>,
    cwd: &std::path::Path,
) -> bool {
    use std::os::unix::ffi::OsStrExt;
    use std::path::{Path, PathBuf};
    // `-c`: GIT_CONFIG_PARAMETERS, and GIT_CONFIG_KEY_n for each n below
    // GIT_CONFIG_COUNT, as git reads them.
    let suspicious = |b: &[u8]| mentions(b, b"oauth") || mentions(b, b"include");
    if var("GIT_CONFIG_PARAMETERS").is_some_and(|v| suspicious(v.as_bytes())) {
        return true;
    }
    if let Some(count) = var("GIT_CONFIG_COUNT") {
        let Some(count) = count.to_str().and_then(|c| c.parse::<u16>().ok()) else {
            return true;
        };
        for n in 0..count {
            match var(&format!("GIT_CONFIG_KEY_{n}")) {
                Some(key) if !suspicious(key.as_bytes()) => {}
                _ => return true,
            }
        }
    }
    // `git config` reads $GIT_CONFIG alone; a separate common dir is a
    // layout this rule does not follow.
    if var("GIT_CONFIG").is_some() || var("GIT_COMMON_DIR").is_some() {
        return true;
    }
    let set = |k: &str| var(k).filter(|v| !v.is_empty());
    let mut files: Vec<PathBuf> = Vec::new();
    // System: $GIT_CONFIG_SYSTEM, else <sysconfdir>/gitconfig, which is
    // /etc for a git in /usr and <prefix>/etc for one elsewhere (for each
    // name the `git` on PATH goes by).
    // GIT_CONFIG_NOSYSTEM counts only when it is plainly true; git reads
    // the system file for anything else (or refuses to run).
    let nosystem = var("GIT_CONFIG_NOSYSTEM").is_some_and(|v| {
        ["1", "true", "yes", "on"]
            .iter()
            .any(|t| v.eq_ignore_ascii_case(t))
    });
    if !nosystem {
        match var("GIT_CONFIG_SYSTEM") {
            Some(v) if v.is_empty() => return true,
            Some(v) => files.push(cwd.join(v)),
            None => {
                files.push("/etc/gitconfig".into());
                let path = var("PATH").unwrap_or_default();
                if let Some(git) = std::env::split_paths(&path)
                    .map(|d| d.join("git"))
                    .find(|p| p.is_file())
                {
                    let real = std::fs::canonicalize(&git).unwrap_or_else(|_| git.clone());
                    for exe in [git, real] {
                        if let Some(prefix) = exe.parent().and_then(Path::parent)
                            && prefix != Path::new("/usr")
                            && prefix.is_absolute()
                        {
                            files.push(prefix.join("etc/gitconfig"));
                        }
                    }
                }
            }
        }
    }
    // Global: $GIT_CONFIG_GLOBAL alone, else the XDG file and ~/.gitconfig.
    match var("GIT_CONFIG_GLOBAL") {
        Some(v) if v.is_empty() => return true,
        Some(v) => files.push(cwd.join(v)),
        None => {
            let Some(home) = set("HOME") else {
                return true;
            };
            let home = PathBuf::from(home);
            match set("XDG_CONFIG_HOME") {
                Some(x) => files.push(PathBuf::from(x).join("git/config")),
                None => files.push(home.join(".config/git/config")),
            }
            files.push(home.join(".gitconfig"));
        }
    }
    // Repository: $GIT_DIR, else every `.git` directory (or directory that
    // is itself a git directory) from here up to `/` or the deepest ceiling.
    let mut git_dirs: Vec<PathBuf> = Vec::new();
    if let Some(dir) = var("GIT_DIR") {
        if dir.is_empty() {
            return true;
        }
        git_dirs.push(cwd.join(dir));
    } else {
        let ceiling = ceiling(var("GIT_CEILING_DIRECTORIES"), cwd);
        for dir in cwd.ancestors() {
            let dot_git = dir.join(".git");
            match std::fs::symlink_metadata(&dot_git) {
                Ok(m) if m.is_dir() => git_dirs.push(dot_git),
                Ok(_) => return true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(_) => return true,
            }
            if dir.join("HEAD").exists() {
                git_dirs.push(dir.to_path_buf());
            }
            if let (Some(c), Some(parent)) = (&ceiling, dir.parent())
                && c.starts_with(parent)
            {
                break;
            }
        }
    }
    for dir in git_dirs {
        if dir.join("commondir").exists() {
            return true;
        }
        files.push(dir.join("config"));
        files.push(dir.join("config.worktree"));
    }
    files.iter().any(|f| match read_bounded(f) {
        Ok(Some(text)) => mentions(&text, b"include") || names_oauth_key(&text),
        Ok(None) => false,
        Err(()) => true,
    })
}

/// The deepest of `GIT_CEILING_DIRECTORIES` that is a proper ancestor of
/// `cwd`, counting only absolute entries that are already canonical (so
/// git, which canonicalises most of them, agrees on each one we keep).
fn ceiling(value: Option<std::ffi::OsString>, cwd: &std::path::Path) -> Option<std::path::PathBuf> {
    let value = value?;
    std::env::split_paths(&value)
        .filter(|c| c.is_absolute() && std::fs::canonicalize(c).is_ok_and(|r| &r == c))
        .filter(|c| cwd.starts_with(c) && cwd != c.as_path())
        .max_by_key(|c| c.components().count())
}

/// `path`'s bytes: `Ok(None)` when there is no such file, `Err` when it
/// cannot be read or is larger than [`MAX_CONFIG_FILE`].
fn read_bounded(path: &std::path::Path) -> Result<Option<Vec<u8>>, ()> {
    use std::io::Read;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => return Ok(None),
        Err(_) => return Err(()),
    };
    let mut text = Vec::new();
    match file.take(MAX_CONFIG_FILE + 1).read_to_end(&mut text) {
        Ok(n) if (n as u64) <= MAX_CONFIG_FILE => Ok(Some(text)),
        _ => Err(()),
    }
}

/// Whether config `text` may set a variable whose name starts with
/// `oauth`: the bytes `oauth` (any case) with only whitespace before them
/// since the line's start or a `]` (a variable follows a section header on
/// its line or starts one). `helper = oauth`, a path such as
/// `/usr/bin/credential-oauth` or a comment do not count. A value that holds
/// `]` or continues onto the next line may count; that only means asking git.
pub fn names_oauth_key(text: &[u8]) -> bool {
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c);
    (0..text.len().saturating_sub(4)).any(|i| {
        text[i..i + 5].eq_ignore_ascii_case(b"oauth")
            && text[..i]
                .iter()
                .rev()
                .find(|b| !blank(**b))
                .is_none_or(|b| matches!(b, b'\n' | b']'))
    })
}

/// Whether `haystack` holds `needle` (lowercase ASCII), in any case.
fn mentions(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
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
        let read = output.map(|o| crate::bounded::read_at_most(o, MAX_GIT_OUTPUT));
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

/// What a git-config provider covers (DESIGN.md "Trust", the audience
/// rule): the longest `credential.<url>` section URL written for `url`
/// that covers it by this crate's rules, so a section scoped to
/// `https://forge/org/` does not serve places elsewhere on the forge. A
/// section git matched by its looser rules (a `*` in the host, a user
/// name) gives no such URL, and then the request's own URL, without query
/// or fragment, is all the provider covers.
pub fn written_scope(scoped: &[ScopedEntry], url: &Url) -> Url {
    let covering = scoped
        .iter()
        .filter_map(|e| Url::parse(&e.url).ok())
        .filter(|u| u.username().is_empty() && u.password().is_none())
        .filter(|u| crate::config::covers(u, url))
        .max_by_key(|u| u.path().trim_end_matches('/').len());
    covering.unwrap_or_else(|| {
        let mut own = url.clone();
        own.set_query(None);
        own.set_fragment(None);
        own
    })
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
    fn a_git_config_provider_covers_the_section_written_for_the_url_and_no_more() {
        let entry = |url: &str| ScopedEntry {
            url: url.into(),
            variable: "oauthclientid".into(),
            value: Some("x".into()),
        };
        let request = Url::parse("https://forge.example/org/idx/config.json?x=1").unwrap();
        let scope = |urls: &[&str]| {
            let scoped: Vec<ScopedEntry> = urls.iter().map(|u| entry(u)).collect();
            written_scope(&scoped, &request).to_string()
        };
        assert_eq!(scope(&["https://forge.example"]), "https://forge.example/");
        assert_eq!(
            scope(&[
                "https://forge.example",
                "https://forge.example/org",
                "https://other.example/"
            ]),
            "https://forge.example/org"
        );
        // Sections git matched by rules of its own: the request alone.
        for looser in ["https://*.example/org", "https://alice@forge.example/org"] {
            assert_eq!(
                scope(&[looser]),
                "https://forge.example/org/idx/config.json"
            );
        }
    }

    #[test]
    fn git_config_cannot_write_discover_so_a_workload_credential_stays_with_its_issuer() {
        // A workload credential may be written in git config because its
        // provider always names its issuer; were discover added, the
        // refusal of a workload credential with discover = true would need
        // a git config test of its own.
        assert!(KEYS.iter().all(|(_, f)| *f != "discover"));
        let entries: Vec<(String, String)> = [
            ("credential.oauthissuer", "https://as.example"),
            ("credential.oauthclientid", "ci"),
            ("credential.oauthgrant", "token_exchange"),
            (
                "credential.oauthsubjecttokenfile",
                "/var/run/secrets/tokens/oidc",
            ),
            (
                "credential.oauthsubjecttokentype",
                "urn:ietf:params:oauth:token-type:jwt",
            ),
            ("credential.oauthaudience", "https://api.example"),
            ("credential.oauthprivatekeyfile", "/etc/ci/key.pem"),
            ("credential.oauthkeyid", "k1"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = Url::parse("https://git.example/").unwrap();
        let p = synthesise(&entries, &url).unwrap().unwrap();
        assert_eq!(p.issuer, "https://as.example");
        assert!(p.exchange.is_some() && p.assertion.is_some(), "{p:?}");
        // discover written in git config is not a key: ignored.
        let mut with_discover = entries.clone();
        with_discover.retain(|(k, _)| k != "credential.oauthissuer");
        with_discover.push(("credential.oauthdiscover".into(), "true".into()));
        assert!(synthesise(&with_discover, &url).unwrap().is_err());
    }

    #[test]
    fn only_oauth_where_a_variable_name_starts_counts_as_a_key() {
        for key in [
            "[credential \"https://a\"]\n\toauthClientId = x\n",
            "[credential \"https://a\"] OAUTHissuer = x\n",
            "[credential.https://a]\r\n  \x0b oauthgrant\n",
            "oauthpreset",
        ] {
            assert!(names_oauth_key(key.as_bytes()), "{key:?}");
        }
        for not_key in [
            "[credential]\n\thelper = oauth\n",
            "[credential]\n\thelper = /usr/bin/git-credential-oauth\n",
            "# oauthClientId = x\n; oauthIssuer\n",
            "[credential \"https://oauth.example\"]\n\tusername = x\n",
            "oaut",
            "",
        ] {
            assert!(!names_oauth_key(not_key.as_bytes()), "{not_key:?}");
        }
    }

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
