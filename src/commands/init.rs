//! `credential-oauth init [URL] [--preset NAME] [flags]`: add a provider to
//! the config file and log in, in one command. It asks a person only what it
//! cannot find out (the URL, the issuer, a client id where the server offers
//! no registration), on the terminal (`/dev/tty`, through [`Prompt`]; never
//! stdin or stdout, which may be pipes); flags answer the same questions for
//! scripts. The entry is added with `toml_edit`, the `toml` family's
//! format-preserving editor, so the person's comments, order and spacing
//! stay byte for byte.

use crate::config::{Config, Provider};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::prompt::Prompt;
use crate::prompt::escape;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;
use url::Url;

/// Largest client-secret file read.
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// Forge hosts whose preset `init` takes without asking.
const KNOWN_FORGES: &[(&str, &str)] = &[
    ("github.com", "github"),
    ("gitlab.com", "gitlab"),
    ("bitbucket.org", "bitbucket"),
    ("codeberg.org", "codeberg"),
];

pub const USAGE: &str = "\
usage: credential-oauth init [URL] [--preset NAME] [--issuer URL] [--client-id ID]
                             [--client-secret-file PATH] [--grant GRANT] [--scope S]...
                             [--name NAME] [--no-login]";

/// What the command line said; whatever is missing is found out or asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub url: Option<String>,
    pub preset: Option<String>,
    pub name: Option<String>,
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    /// A file holding the client secret: a secret on the command line would
    /// show in `ps` and in shell history.
    pub client_secret_file: Option<PathBuf>,
    pub grant: Option<String>,
    pub scopes: Vec<String>,
    /// `--no-login`: write the entry only.
    pub no_login: bool,
}

impl Options {
    /// The words after `init`: flags as `--flag VALUE` or `--flag=VALUE`.
    pub fn parse(words: &[&str]) -> Result<Options> {
        let usage = |m: String| Error::Usage(format!("{m}\n{USAGE}"));
        let mut o = Options::default();
        let mut words = words.iter();
        while let Some(&word) = words.next() {
            let (flag, inline) = match word.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v)),
                _ => (word, None),
            };
            if flag == "--no-login" && inline.is_none() {
                o.no_login = true;
                continue;
            }
            if !flag.starts_with("--") {
                if o.url.is_some() {
                    return Err(usage(format!("one URL only, not also {word:?}")));
                }
                o.url = Some(word.to_string());
                continue;
            }
            let value = match inline {
                Some(v) => v.to_string(),
                None => words
                    .next()
                    .map(|v| v.to_string())
                    .ok_or_else(|| usage(format!("{flag} needs a value")))?,
            };
            if value.is_empty() {
                return Err(usage(format!("{flag} needs a value")));
            }
            match flag {
                "--preset" => o.preset = Some(value),
                "--name" => o.name = Some(value),
                "--issuer" => o.issuer = Some(value),
                "--client-id" => o.client_id = Some(value),
                "--client-secret-file" => o.client_secret_file = Some(PathBuf::from(value)),
                "--grant" => o.grant = Some(value),
                "--scope" => o
                    .scopes
                    .extend(value.split_whitespace().map(str::to_string)),
                other => return Err(usage(format!("unknown flag {other:?}"))),
            }
        }
        Ok(o)
    }
}

/// Questions for the person at the terminal, when there is one.
struct Questions<'p> {
    prompt: &'p dyn Prompt,
    lines: Option<Receiver<String>>,
}

impl Questions<'_> {
    /// Ask `question`; `None` when nobody can answer here. An empty answer
    /// takes `default`.
    fn ask(&mut self, question: &str, default: Option<&str>) -> Option<String> {
        let lines = self.lines.as_ref()?;
        let shown = match default {
            Some(d) => format!("{question} [{}]: ", escape(d)),
            None => format!("{question}: "),
        };
        loop {
            self.prompt.say(&shown);
            let answer = lines.recv().ok()?;
            let answer = answer.trim();
            match (answer.is_empty(), default) {
                (false, _) => return Some(answer.to_string()),
                (true, Some(d)) => return Some(d.to_string()),
                (true, None) => {}
            }
        }
    }

    /// Ask, or fail with the flag that answers it.
    fn need(&mut self, question: &str, default: Option<&str>, flag: &str) -> Result<String> {
        self.ask(question, default).ok_or_else(|| {
            Error::Usage(format!(
                "{question}: no terminal to ask here; pass {flag}\n{USAGE}"
            ))
        })
    }
}

/// `init`: add the provider, then log in.
pub fn run(options: &Options, ctx: &Context, stdout: &mut dyn Write) -> Result<()> {
    let prompt = ctx.prompt();
    let (path, _) = crate::config::config_path()
        .ok_or_else(|| Error::Local("HOME is not set; cannot find the config file".into()))?;
    let existing = read_existing(&path)?;
    let mut questions = Questions {
        prompt,
        lines: crate::prompt::terminal_lines(),
    };
    let entry = decide(options, &mut questions)?;
    let provider = entry.provider()?;
    if let Some(text) = &existing
        && let Some(same) = Config::parse(text, &path)?
            .providers
            .iter()
            .find(|p| p.url == provider.url)
    {
        // An entry with no token yet is most often an init that stopped
        // before its login (Ctrl-C, a closed browser): finish that login.
        let binding = ctx.command_binding(same.url.as_str())?;
        let has_token = ctx
            .manager()?
            .cached(&crate::manager::Manager::key(&binding))?
            .is_some();
        if has_token || options.no_login {
            return Err(Error::Usage(format!(
                "{}: provider {:?} already serves {}; edit that entry, or remove it first",
                path.display(),
                escape(&same.name),
                escape(provider.url.as_str())
            )));
        }
        prompt.say(&format!(
            "credential-oauth: {}: provider {:?} already serves {} and holds no token yet; \
             logging in with that entry (edit it to change it)",
            escape(&path.display().to_string()),
            escape(&same.name),
            escape(same.url.as_str())
        ));
        return log_in(ctx, &same.url, &same.name);
    }
    let text = add_entry(existing.as_deref().unwrap_or(""), &entry)?;
    // The new text must still be a valid config before it replaces the old.
    Config::parse(&text, &path)?;
    super::configure::write_atomically(&path, text.as_bytes())?;
    super::write_out(
        stdout,
        &format!(
            "added provider {:?} for {} to {}\n",
            escape(&provider.name),
            escape(provider.url.as_str()),
            escape(&path.display().to_string())
        ),
    )?;
    if options.no_login {
        return Ok(());
    }
    log_in(ctx, &provider.url, &provider.name)
}

/// The first login of the provider for `url`, said as init says it. The
/// config is read only now, with the entry in it.
fn log_in(ctx: &Context, url: &url::Url, name: &str) -> Result<()> {
    let prompt = ctx.prompt();
    let login = || -> Result<crate::token::Token> {
        let binding = ctx.command_binding(url.as_str())?;
        ctx.manager()?.login(&binding)
    };
    match login() {
        Ok(token) => {
            prompt.say(&format!(
                "credential-oauth: logged in to {} (token {})",
                escape(name),
                super::valid_until(&token)
            ));
            Ok(())
        }
        Err(e) => {
            prompt.say(&format!(
                "credential-oauth: the entry is written, but the first login failed; \
                 try again with: credential-oauth login {url}"
            ));
            Err(e)
        }
    }
}

fn read_existing(path: &Path) -> Result<Option<String>> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|e| Error::Config {
                path: path.to_path_buf(),
                message: "not UTF-8".into(),
                source: Some(Box::new(e)),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::Config {
            path: path.to_path_buf(),
            message: format!("cannot read: {e}"),
            source: Some(Box::new(e)),
        }),
    }
}

/// The keys of the new entry, as they will be written.
#[derive(Debug, Default)]
struct Entry {
    name: Option<String>,
    url: String,
    preset: Option<String>,
    issuer: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    grant: Option<String>,
    scopes: Vec<String>,
}

impl Entry {
    fn keys(&self) -> Vec<(&'static str, EntryValue<'_>)> {
        let text = [
            ("name", &self.name),
            ("url", &Some(self.url.clone())),
            ("preset", &self.preset),
            ("issuer", &self.issuer),
            ("client_id", &self.client_id),
            ("client_secret", &self.client_secret),
            ("grant", &self.grant),
        ];
        let mut keys: Vec<(&'static str, EntryValue<'_>)> = Vec::new();
        for (k, v) in text {
            if let Some(v) = v {
                keys.push((k, EntryValue::Text(v.clone())));
            }
        }
        if !self.scopes.is_empty() {
            keys.push(("scopes", EntryValue::Words(&self.scopes)));
        }
        keys
    }

    /// The provider this entry makes: every check of the config file.
    fn provider(&self) -> Result<Provider> {
        let mut table = toml::Table::new();
        for (k, v) in self.keys() {
            let value = match v {
                EntryValue::Text(s) => toml::Value::String(s),
                EntryValue::Words(w) => {
                    toml::Value::Array(w.iter().map(|s| toml::Value::String(s.clone())).collect())
                }
            };
            table.insert(k.into(), value);
        }
        Provider::from_table(table).map_err(|m| Error::Usage(format!("init: {m}")))
    }
}

enum EntryValue<'a> {
    Text(String),
    Words(&'a [String]),
}

/// Fill in what the flags left open: a known forge's preset, the issuer,
/// a client id where the server cannot register one.
fn decide(options: &Options, questions: &mut Questions) -> Result<Entry> {
    let url_text = match &options.url {
        Some(u) => u.clone(),
        None => questions.need(
            "URL of the server (e.g. https://git.example.com/)",
            None,
            "URL",
        )?,
    };
    let url = Url::parse(&url_text)
        .or_else(|_| Url::parse(&format!("https://{url_text}")))
        .map_err(|_| Error::Usage(format!("{url_text:?} is not a URL")))?;
    let mut entry = Entry {
        name: options.name.clone(),
        url: url.to_string(),
        grant: options.grant.clone(),
        scopes: options.scopes.clone(),
        ..Entry::default()
    };
    let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
    entry.preset = options.preset.clone().or_else(|| {
        let (_, preset) = KNOWN_FORGES.iter().find(|(h, _)| *h == host)?;
        if options.issuer.is_none() {
            questions.prompt.say(&format!(
                "credential-oauth: {host} is a known forge: using preset {preset:?} (--preset to choose another)"
            ));
            Some(preset.to_string())
        } else {
            None
        }
    });
    if let Some(name) = &entry.preset {
        crate::config::preset::expand(name, &url).map_err(Error::Usage)?;
    }
    entry.issuer = match (&options.issuer, &entry.preset) {
        (Some(i), _) => Some(i.clone()),
        (None, Some(_)) => None,
        (None, None) => Some(questions.need(
            "issuer (the authorization server's URL)",
            Some(&url.origin().ascii_serialization()),
            "--issuer URL",
        )?),
    };
    if let Some(file) = &options.client_secret_file {
        entry.client_secret = Some(read_secret_file(file)?);
    }
    entry.client_id = match &options.client_id {
        Some(id) => Some(id.clone()),
        None => {
            let registration = match &entry.issuer {
                Some(issuer) if entry.preset.is_none() => offers_registration(issuer, &url)?,
                _ => false,
            };
            if registration {
                questions.prompt.say(
                    "credential-oauth: the server offers dynamic registration: no client id needed",
                );
                None
            } else {
                let origin = url.origin().ascii_serialization();
                let hint = match entry.preset.as_deref() {
                    Some("github") => {
                        " (an OAuth app at https://github.com/settings/developers, with Device Flow enabled)"
                            .to_string()
                    }
                    Some("gitlab") => format!(
                        " (an application at {}/-/user_settings/applications, not confidential)",
                        escape(&origin)
                    ),
                    Some("bitbucket") => " (an OAuth consumer in the workspace settings)".into(),
                    Some("entra") => " (an app registration in Microsoft Entra ID)".into(),
                    Some(_) => " (an OAuth2 application in your user settings)".into(),
                    None => " (the server offers no dynamic registration)".into(),
                };
                Some(questions.need(&format!("client id{hint}"), None, "--client-id ID")?)
            }
        }
    };
    Ok(entry)
}

fn read_secret_file(path: &Path) -> Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SECRET_FILE).read_to_string(&mut text))
        .map_err(|e| Error::io(path.display().to_string(), e))?;
    let secret = text.trim();
    if secret.is_empty() || secret.contains(['\n', '\r', '\0']) {
        return Err(Error::Usage(format!(
            "{}: must hold the client secret on one line",
            path.display()
        )));
    }
    Ok(secret.to_string())
}

/// Whether the issuer's published metadata (RFC 8414, else OpenID) names a
/// registration endpoint (RFC 7591). A server that publishes nothing is not
/// guessed at: its client id is asked.
fn offers_registration(issuer: &str, url: &Url) -> Result<bool> {
    use crate::discovery::authorization_server::{openid_url, rfc8414_url};
    let transport = crate::http::Transport {
        allow_insecure_http: url.scheme() == "http",
        ca_file: None,
    };
    let http = crate::http::Http::new(&transport)?;
    for at in [rfc8414_url(issuer)?, openid_url(issuer)?] {
        match http.get_json(&at) {
            Ok(doc) => {
                return Ok(doc
                    .get("registration_endpoint")
                    .is_some_and(|e| e.is_string()));
            }
            Err(Error::Status { status, .. } | Error::OAuth { status, .. })
                if (400..500).contains(&status) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(false)
}

/// `text` with the entry appended as a `[[provider]]` table: every byte of
/// `text` kept (a trailing comment stays where it was, before the entry).
fn add_entry(text: &str, entry: &Entry) -> Result<String> {
    let mut text = text.to_string();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| Error::Usage(format!("config: {}", e.message())))?;
    let mut table = toml_edit::Table::new();
    for (k, v) in entry.keys() {
        table[k] = match v {
            EntryValue::Text(s) => toml_edit::value(s),
            EntryValue::Words(w) => toml_edit::value(w.iter().collect::<toml_edit::Array>()),
        };
    }
    // What follows the last table (comments, blank lines) is the document's
    // trailing text, which toml_edit writes after every table: it goes in
    // front of the new one instead, so the old text stays a prefix.
    let trailing = doc.trailing().as_str().unwrap_or_default().to_string();
    doc.set_trailing("");
    let gap = if text.trim().is_empty() { "" } else { "\n" };
    table.decor_mut().set_prefix(format!("{trailing}{gap}"));
    match doc.entry("provider") {
        toml_edit::Entry::Vacant(v) => {
            let mut tables = toml_edit::ArrayOfTables::new();
            tables.push(table);
            v.insert(toml_edit::Item::ArrayOfTables(tables));
        }
        toml_edit::Entry::Occupied(mut o) => match o.get_mut().as_array_of_tables_mut() {
            Some(tables) => tables.push(table),
            None => {
                return Err(Error::Usage(
                    "config: `provider` is not written as [[provider]] tables; add the entry by hand"
                        .into(),
                ));
            }
        },
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(url: &str) -> Entry {
        Entry {
            url: url.into(),
            issuer: Some("https://auth.example.com".into()),
            client_id: Some("abc".into()),
            scopes: vec!["read".into(), "write".into()],
            ..Entry::default()
        }
    }

    #[test]
    fn flags_parse_in_both_forms_and_unknown_ones_are_refused() {
        let o = Options::parse(&[
            "https://git.example.com/",
            "--preset=gitlab",
            "--client-id",
            "abc",
            "--scope",
            "read write",
            "--no-login",
        ])
        .unwrap();
        assert_eq!(o.url.as_deref(), Some("https://git.example.com/"));
        assert_eq!(o.preset.as_deref(), Some("gitlab"));
        assert_eq!(o.client_id.as_deref(), Some("abc"));
        assert_eq!(o.scopes, ["read", "write"]);
        assert!(o.no_login);
        assert!(Options::parse(&["--frob", "x"]).is_err());
        assert!(Options::parse(&["--issuer"]).is_err());
        assert!(Options::parse(&["a", "b"]).is_err());
    }

    #[test]
    fn the_entry_is_appended_and_every_old_byte_kept() {
        let old = "# my config\nstorage = \"file\"   # keep this\n\n[[provider]]\n# first\nurl = \"https://a.example/\"\nissuer = \"https://a.example\"\n\n# trailing words\n";
        let new = add_entry(old, &entry("https://b.example/")).unwrap();
        assert!(new.starts_with(old), "{new}");
        assert_eq!(
            &new[old.len()..],
            "\n[[provider]]\nurl = \"https://b.example/\"\nissuer = \"https://auth.example.com\"\nclient_id = \"abc\"\nscopes = [\"read\", \"write\"]\n"
        );
        let config = Config::parse(&new, Path::new("c.toml")).unwrap();
        assert_eq!(config.providers.len(), 2);
    }

    #[test]
    fn an_empty_or_unterminated_file_gets_a_clean_entry() {
        let new = add_entry("", &entry("https://b.example/")).unwrap();
        assert!(new.starts_with("[[provider]]\nurl = "), "{new}");
        let new = add_entry("storage = \"file\"", &entry("https://b.example/")).unwrap();
        assert!(
            new.starts_with("storage = \"file\"\n\n[[provider]]\n"),
            "{new}"
        );
        assert!(add_entry("provider = []\n", &entry("https://b.example/")).is_err());
    }
}
