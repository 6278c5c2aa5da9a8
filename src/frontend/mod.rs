//! Which protocol and command was asked for, and running it. `main` only maps
//! the result to an exit code.

pub mod configure;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::grant::revocation::{Outcome as RevocationOutcome, Revoked};
use crate::manager::Manager;
use crate::protocol::{self, docker, git};
use crate::token;
use std::io::{Read, Write};
use url::Url;

const USAGE: &str = "\
usage: credential-oauth [-v] <command> [args]

OAuth 2.0 access tokens for git, docker and scripts.

git credential helper (reads the request on stdin):
  get | store | erase

docker credential helper: run as docker-credential-oauth (a symlink, or
helpers/docker-credential-oauth) with get | store | erase | list | version

commands:
  token URL     print the access token for URL
  login URL     run the grant now, even if a token is cached
  logout URL    forget the cached token for URL and revoke it at the server
  status        list configured providers and cached tokens (no secrets)
  configure [--git] [--docker[=REGISTRY]]
                add this helper to git's global config (the default) and/or
                docker's config.json (credsStore, or credHelpers[REGISTRY])
  unconfigure [--git] [--docker[=REGISTRY]]
                remove it again

options:
  -v, --verbose   diagnostics on stderr (also CREDENTIAL_OAUTH_LOG=debug)
  -h, --help      this text
  -V, --version   the version

config: $CREDENTIAL_OAUTH_CONFIG, else $XDG_CONFIG_HOME/credential-oauth/config.toml,
        else ~/.config/credential-oauth/config.toml
";

/// The wire protocol spoken on stdin/stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Called as `credential-oauth`: git's format plus the extra commands.
    Main,
    /// Called as `git-credential-oauth`: git's format only.
    Git,
    /// Called as `docker-credential-oauth`: docker's credential-helper protocol.
    Docker,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Version,
    GitGet,
    GitStore,
    GitErase,
    /// An operation git may add later: ignored, as git-credential(1) asks.
    GitIgnore,
    Token(String),
    Login(String),
    Logout(String),
    Status,
    /// `configure` (false) or `unconfigure` (true).
    Configure(crate::frontend::configure::Targets, bool),
}

/// The protocol chosen by the program name (argv[0], so a symlink works), or
/// by `CREDENTIAL_OAUTH_PROTOCOL` as the shims in helpers/ set it.
pub fn protocol_for(argv0: &str) -> Protocol {
    let from_env = std::env::var("CREDENTIAL_OAUTH_PROTOCOL").ok();
    let name = argv0.rsplit(['/', '\\']).next().unwrap_or(argv0);
    let name = name.strip_suffix(".exe").unwrap_or(name);
    match (from_env.as_deref(), name) {
        (Some("git"), _) => Protocol::Git,
        (Some("docker"), _) => Protocol::Docker,
        (_, "git-credential-oauth") => Protocol::Git,
        (_, "docker-credential-oauth") => Protocol::Docker,
        _ => Protocol::Main,
    }
}

/// Parse the arguments after argv[0]. Returns the command and whether `-v` was given.
pub fn parse_args(protocol: Protocol, args: &[String]) -> Result<(Command, bool)> {
    let mut verbose = false;
    let mut words = Vec::new();
    for a in args {
        match a.as_str() {
            "-v" | "--verbose" => verbose = true,
            "-h" | "--help" => return Ok((Command::Help, verbose)),
            "-V" | "--version" => return Ok((Command::Version, verbose)),
            s if s.starts_with('-') && s.len() > 1 && words.is_empty() => {
                return Err(Error::Usage(format!("unknown option {s:?} (see --help)")));
            }
            s => words.push(s),
        }
    }
    let want = |n: usize, cmd: &str| -> Result<()> {
        if words.len() == n {
            Ok(())
        } else {
            Err(Error::Usage(format!("usage: credential-oauth {cmd}")))
        }
    };
    let cmd = match (protocol, words.first().copied()) {
        // docker's rules differ (one word, `-v` is the version): `run` hands
        // its arguments to `run_docker` instead.
        (Protocol::Docker, _) => return Err(Error::Usage(docker::usage())),
        (_, None) => return Err(Error::Usage("no command given (see --help)".into())),
        // git passes no arguments after the operation, but tolerate them.
        (_, Some("get")) => Command::GitGet,
        (_, Some("store")) => Command::GitStore,
        (_, Some("erase")) => Command::GitErase,
        (Protocol::Git, Some(_)) => Command::GitIgnore,
        (Protocol::Main, Some("token")) => {
            want(2, "token URL")?;
            Command::Token(words[1].to_string())
        }
        (Protocol::Main, Some("login")) => {
            want(2, "login URL")?;
            Command::Login(words[1].to_string())
        }
        (Protocol::Main, Some("logout")) => {
            want(2, "logout URL")?;
            Command::Logout(words[1].to_string())
        }
        (Protocol::Main, Some(verb @ ("configure" | "unconfigure"))) => Command::Configure(
            crate::frontend::configure::Targets::parse(&words[1..])?,
            verb == "unconfigure",
        ),
        (Protocol::Main, Some("status")) => {
            want(1, "status")?;
            Command::Status
        }
        (Protocol::Main, Some(other)) => {
            return Err(Error::Usage(format!(
                "unknown command {other:?} (see --help)"
            )));
        }
    };
    Ok((cmd, verbose))
}

/// Run the program: `args[0]` is the program name. Returns the exit code.
pub fn run(
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let argv0 = args
        .first()
        .map(String::as_str)
        .unwrap_or("credential-oauth");
    let protocol = protocol_for(argv0);
    if protocol == Protocol::Docker {
        return run_docker(args.get(1..).unwrap_or(&[]), stdin, stdout);
    }
    let (cmd, verbose) = match parse_args(protocol, args.get(1..).unwrap_or(&[])) {
        Ok(parsed) => parsed,
        Err(e) => {
            let _ = writeln!(stderr, "credential-oauth: {e}");
            return 2;
        }
    };
    crate::log::set_verbose(verbose || crate::log::env_asks_for_debug());
    match execute(&cmd, stdin, stdout) {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(stderr, "credential-oauth: {e}");
            match e {
                Error::Usage(_) => 2,
                _ => 1,
            }
        }
    }
}

fn execute(cmd: &Command, stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<()> {
    match cmd {
        Command::Help => write_out(stdout, USAGE),
        Command::Version => write_out(
            stdout,
            &format!("credential-oauth {}\n", env!("CARGO_PKG_VERSION")),
        ),
        Command::GitIgnore => Ok(()),
        Command::GitGet => git_get(stdin, stdout),
        Command::GitStore => {
            // Tokens are ours to keep; a token we issued needs no storing and
            // other credentials are for other helpers. Still read the request
            // so that bad input is reported.
            git::Request::parse(&protocol::read_bounded(stdin)?)?;
            Ok(())
        }
        Command::GitErase => git_erase(stdin),
        Command::Token(url) => {
            let config = Config::load()?;
            let manager = Manager::new(&config)?;
            let (provider, account) = cli_target(&config, &manager, url)?;
            let token = manager.token(&provider, &account)?;
            write_out(stdout, &format!("{}\n", token.access_token.expose()))
        }
        Command::Login(url) => {
            let config = Config::load()?;
            let manager = Manager::new(&config)?;
            let (provider, account) = cli_target(&config, &manager, url)?;
            let token = manager.login(&provider, &account)?;
            eprintln!(
                "credential-oauth: logged in to {} (token valid until {})",
                crate::prompt::escape(&provider.name),
                format_utc(token.deadline())
            );
            Ok(())
        }
        Command::Logout(url) => {
            let config = Config::load()?;
            let manager = Manager::new(&config)?;
            let (provider, account) = cli_target(&config, &manager, url)?;
            let outcome = manager.logout(&provider, &account)?;
            if account.is_empty() {
                crate::store::discovered::forget(manager.store(), &provider)?;
            }
            eprintln!(
                "credential-oauth: {} {}",
                crate::prompt::escape(&provider.name),
                if outcome.removed {
                    "logged out"
                } else {
                    "had no cached token"
                }
            );
            report_revocation(&crate::prompt::escape(&provider.name), outcome.revocation);
            Ok(())
        }
        Command::Status => status(stdout),
        Command::Configure(targets, remove) => {
            let said = crate::frontend::configure::run(targets, *remove)?;
            write_out(stdout, &(said.join("\n") + "\n"))
        }
    }
}

/// docker's credential-helper protocol: `args` are the words after the
/// program name. Every error, usage included, is one line on stdout with exit
/// status 1, because docker reads only stdout and recognises "not found" by
/// its exact text.
fn run_docker(args: &[String], stdin: &mut dyn Read, stdout: &mut dyn Write) -> i32 {
    crate::log::set_verbose(crate::log::env_asks_for_debug());
    let outcome =
        docker::Action::from_args(args).and_then(|action| docker_execute(action, stdin, stdout));
    let message = match outcome {
        Ok(Found::Yes) => return 0,
        Ok(Found::No) => docker::NOT_FOUND.to_string(),
        Err(e) => e.to_string(),
    };
    let _ = docker::write_message(&message, stdout);
    1
}

/// Whether a docker request found what it asked about; "not found" is an
/// answer of its own in docker's protocol, not a failure.
enum Found {
    Yes,
    No,
}

fn docker_execute(
    action: docker::Action,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
) -> Result<Found> {
    match action {
        docker::Action::Version => docker::write_version(stdout).map(|()| Found::Yes),
        docker::Action::Help => {
            docker::write_message(&docker::usage(), stdout).map(|()| Found::Yes)
        }
        docker::Action::Get => docker_get(stdin, stdout),
        docker::Action::Store => docker_store(stdin),
        docker::Action::Erase => docker_erase(stdin),
        // docker writes a throwaway line for `list`; like the reference
        // helpers, leave it unread so a person at a terminal is not kept waiting.
        docker::Action::List => docker_list(stdout),
    }
}

/// A fresh token for an OAuth provider's registry, else the static
/// credentials stored for it.
fn docker_get(stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<Found> {
    let server = docker::parse_server_url(&protocol::read_bounded(stdin)?)?;
    let config = Config::load()?;
    let manager = Manager::new(&config)?;
    let answer = match config.provider_for_server(&server) {
        Some(provider) => {
            crate::debug!("provider {:?} matches {server}", provider.name);
            let token = manager.token(provider, "")?;
            docker::Credentials {
                server_url: server,
                username: provider.username.clone(),
                secret: token.access_token,
            }
        }
        None => match manager.static_credentials().get(&server)? {
            Some(creds) => creds,
            None => {
                crate::debug!(
                    "no provider and no stored credentials for {}",
                    crate::store::static_credentials::registry_name(&server)
                        .unwrap_or_else(|| "that server URL".into())
                );
                return Ok(Found::No);
            }
        },
    };
    answer.write_to(stdout)?;
    Ok(Found::Yes)
}

/// Keep static credentials for a registry that is not an OAuth provider.
/// For a provider's registry the token is ours to keep: accepted, not written.
fn docker_store(stdin: &mut dyn Read) -> Result<Found> {
    let creds = docker::Credentials::parse(&protocol::read_bounded(stdin)?)?;
    let config = Config::load()?;
    if let Some(provider) = config.provider_for_server(&creds.server_url) {
        crate::debug!(
            "{} is served by provider {:?}; not storing static credentials for it",
            creds.server_url,
            provider.name
        );
        return Ok(Found::Yes);
    }
    Manager::new(&config)?.static_credentials().put(&creds)?;
    crate::debug!("stored credentials for {}", creds.server_url);
    Ok(Found::Yes)
}

/// Forget a provider's cached token (`docker logout`), or the static
/// credentials stored for a registry.
fn docker_erase(stdin: &mut dyn Read) -> Result<Found> {
    let server = docker::parse_server_url(&protocol::read_bounded(stdin)?)?;
    let config = Config::load()?;
    let manager = Manager::new(&config)?;
    let removed = match config.provider_for_server(&server) {
        Some(provider) => manager.erase(provider, "", None)?,
        None => manager.static_credentials().erase(&server)?,
    };
    Ok(if removed { Found::Yes } else { Found::No })
}

/// Every stored static entry and every provider with a cached token.
fn docker_list(stdout: &mut dyn Write) -> Result<Found> {
    let config = Config::load()?;
    let manager = Manager::new(&config)?;
    let mut entries = manager.static_credentials().list()?;
    for provider in &config.providers {
        if manager.cached(&Manager::key(provider, ""))?.is_some() {
            entries.insert(provider.url.to_string(), provider.username.clone());
        }
    }
    docker::write_list(&entries, stdout)?;
    Ok(Found::Yes)
}

/// A failed revocation is worth a line but not a failed logout: the token
/// is gone from this machine either way.
fn report_revocation(name: &str, revocation: Option<Result<RevocationOutcome>>) {
    match revocation {
        None => {}
        Some(Ok(RevocationOutcome::NotOffered)) => {
            crate::debug!("{name}: the server offers no revocation endpoint");
        }
        Some(Ok(RevocationOutcome::Revoked { which, endpoint })) => {
            let which = match which {
                Revoked::RefreshToken => "refresh token",
                Revoked::AccessToken => "access token",
            };
            crate::debug!("{name}: revoked the {which} at {endpoint}");
        }
        Some(Err(e)) => eprintln!(
            "credential-oauth: {name}: the server could not revoke the token ({e}); \
             it was removed from this machine anyway"
        ),
    }
}

fn git_get(stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<()> {
    let req = git::Request::parse(&protocol::read_bounded(stdin)?)?;
    let Some(url) = req.url() else {
        return Ok(());
    };
    let config = Config::load()?;
    let found = crate::config::gitconfig::provider_for(&config, &url);
    let Some(provider) =
        crate::discovery::protected_resource::complete(&config, found, &url, &req.wwwauth)?
    else {
        crate::debug!("no provider for {url}; leaving it to other helpers");
        return Ok(());
    };
    let provider = &provider;
    crate::debug!("provider {:?} matches {url}", provider.name);
    let account = account(provider, req.username.as_deref());
    // `account` (the username git names) selects the cache entry, and the
    // interactive grants send it as login_hint.
    let manager = Manager::new(&config)?;
    let started = crate::token::now();
    // A refresh token git kept from another helper was obtained from
    // whoever served this URL then; it goes only to an issuer someone
    // configured for it, never to one the server's challenge named.
    let hint = req
        .oauth_refresh_token
        .as_ref()
        .filter(|_| provider.resource.is_none());
    let token = manager.token_with_refresh_hint(provider, account, hint)?;
    // Only a token obtained just now can belong to an account not yet
    // listed; a cache hit must not pay for reading the index.
    if token.obtained_at >= started {
        crate::store::accounts::remember(manager.store(), provider, account)?;
        crate::store::discovered::remember(manager.store(), provider)?;
    }
    let answer = git::Response {
        username: req
            .username
            .clone()
            .unwrap_or_else(|| provider.username.clone()),
        expiry_utc: token.deadline(),
        token: token.access_token,
        // The Bearer form when git can take it and nothing says the server
        // cannot: the config asks for it, the server's challenge offers it,
        // or git passed no challenge at all (DESIGN.md). A server whose
        // challenges offer only Basic gets username and password.
        authtype: req.has_capability("authtype")
            && (provider.bearer
                || req.wwwauth.is_empty()
                || crate::protocol::challenge::offers_bearer(&req.wwwauth)),
    };
    answer.to_message().write_to(stdout)
}

fn git_erase(stdin: &mut dyn Read) -> Result<()> {
    let req = git::Request::parse(&protocol::read_bounded(stdin)?)?;
    let Some(url) = req.url() else {
        return Ok(());
    };
    let config = Config::load()?;
    let found = crate::config::gitconfig::provider_for(&config, &url);
    let Some(provider) =
        crate::discovery::protected_resource::complete(&config, found, &url, &req.wwwauth)?
    else {
        return Ok(());
    };
    let provider = &provider;
    // git erases after the server refused the credential. Only the token it
    // names is dropped; without one there is nothing to compare, so nothing.
    let Some(password) = req.password.as_ref().or(req.credential.as_ref()) else {
        return Ok(());
    };
    let account = account(provider, req.username.as_deref());
    if Manager::new(&config)?.erase(provider, account, Some(password))? {
        crate::debug!("{}: dropped the rejected token", provider.name);
    }
    Ok(())
}

/// The account a request names: its username, unless that is the provider's
/// fixed username (which every request of the default account carries).
fn account<'a>(provider: &crate::config::Provider, username: Option<&'a str>) -> &'a str {
    match username {
        Some(u) if u != provider.username => u,
        _ => "",
    }
}

/// The provider and account a command-line URL names: as in git, a user
/// name in the URL (`https://alice@host/`) selects that account. A URL no
/// config names may belong to a provider found by discovery earlier.
fn cli_target(
    config: &Config,
    manager: &Manager,
    arg: &str,
) -> Result<(crate::config::Provider, String)> {
    let mut url = parse_cli_url(arg)?;
    let username = url.username().to_string();
    // Neither the user name nor a password may appear in messages.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let provider = match config.provider_for(&url) {
        Some(p) => p.clone(),
        None => crate::store::discovered::providers_for(manager.store(), &url)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::NoProvider(url.to_string()))?,
    };
    crate::debug!("provider {:?} matches {url}", provider.name);
    // Percent-decoded; a '+' is itself, not a space as in a form.
    let username =
        url::form_urlencoded::parse(format!("u={}", username.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
    let account = account(&provider, Some(&username)).to_string();
    Ok((provider, account))
}

fn parse_cli_url(s: &str) -> Result<Url> {
    let url = Url::parse(s)
        .or_else(|_| Url::parse(&format!("https://{s}")))
        .map_err(|_| Error::Usage(format!("{s:?} is not a URL")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(Error::Usage(format!("{s:?} is not an http(s) URL")));
    }
    Ok(url)
}

fn status(stdout: &mut dyn Write) -> Result<()> {
    let config = Config::load()?;
    let mut out = String::new();
    // Names below come from the config, git's config, git's requests (the
    // accounts) and servers: every one is escaped for the terminal.
    let shown = crate::prompt::escape;
    match &config.path {
        Some(p) => out.push_str(&format!("config: {}\n", shown(&p.display().to_string()))),
        None => out.push_str("config: none (no providers)\n"),
    }
    let manager = Manager::new(&config)?;
    // Providers found by RFC 9728 discovery hold tokens too, though no
    // config names them.
    let discovered: Vec<crate::config::Provider> = crate::store::discovered::list(manager.store())?
        .iter()
        .filter_map(crate::store::discovered::Entry::provider)
        .collect();
    if config.providers.is_empty() && discovered.is_empty() {
        return write_out(stdout, &out);
    }
    out.push_str(&format!("storage: {}\n", manager.store_name()));
    let now = token::now();
    for p in config.providers.iter().chain(&discovered) {
        let key = Manager::key(p, "");
        let found = manager.cached_with_backend(&key)?;
        let state = match found.as_ref().map(|(t, _)| t) {
            None => "no token".to_string(),
            Some(t) if t.is_expired(now) => format!(
                "token expired {}{}",
                format_utc(t.deadline()),
                if t.refresh_token.is_some() {
                    " (refreshable)"
                } else {
                    ""
                }
            ),
            Some(t) => format!(
                "token valid until {} ({} min left){}",
                format_utc(t.deadline()),
                (t.deadline() - now) / 60,
                if t.expires_at.is_none() {
                    ", lifetime assumed"
                } else {
                    ""
                }
            ),
        };
        let stored = found.map_or(String::new(), |(_, backend)| {
            format!("\n  stored: {backend}")
        });
        let resource = p.resource.as_ref().map_or(String::new(), |r| {
            format!("  found by discovery for the resource {}\n", shown(r))
        });
        out.push_str(&format!(
            "\n{}\n{resource}  url:    {}\n  issuer: {}\n  grant:  {:?}\n  key:    {}\n  {}{stored}\n",
            shown(&p.name),
            shown(p.url.as_str()),
            shown(&p.issuer),
            p.grant,
            key.as_str(),
            state
        ));
        for name in crate::store::accounts::list(manager.store(), p)? {
            let t = manager.cached(&Manager::key(p, &name))?;
            let state = match t {
                None => "no token".to_string(),
                Some(t) if t.is_expired(now) => {
                    format!("token expired {}", format_utc(t.deadline()))
                }
                Some(t) => format!("token valid until {}", format_utc(t.deadline())),
            };
            out.push_str(&format!("  account {}: {state}\n", shown(&name)));
        }
    }
    write_out(stdout, &out)
}

fn write_out(stdout: &mut dyn Write, text: &str) -> Result<()> {
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::Input(format!("cannot write to standard output: {e}")))
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn program_name_picks_the_protocol() {
        assert_eq!(protocol_for("/usr/bin/git-credential-oauth"), Protocol::Git);
        assert_eq!(protocol_for("credential-oauth"), Protocol::Main);
        assert_eq!(
            protocol_for("C:\\bin\\git-credential-oauth.exe"),
            Protocol::Git
        );
        assert_eq!(
            protocol_for("/usr/local/bin/docker-credential-oauth"),
            Protocol::Docker
        );
    }

    #[test]
    fn verbs_and_flags_parse() {
        let p = |v: &[&str]| parse_args(Protocol::Main, &args(v));
        assert_eq!(p(&["get"]).unwrap(), (Command::GitGet, false));
        assert_eq!(
            p(&["-v", "token", "https://a/"]).unwrap(),
            (Command::Token("https://a/".into()), true)
        );
        assert_eq!(p(&["status", "-v"]).unwrap(), (Command::Status, true));
        assert!(p(&["token"]).is_err());
        assert!(p(&["frob"]).is_err());
        assert!(p(&["--frob"]).is_err());
        assert!(p(&[]).is_err());
        assert_eq!(
            parse_args(Protocol::Git, &args(&["capability"])).unwrap().0,
            Command::GitIgnore
        );
    }

    #[test]
    fn docker_errors_go_to_stdout_with_status_one() {
        let run_docker = |argv: &[&str], input: &[u8]| {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = run(&args(argv), &mut &input[..], &mut out, &mut err);
            (code, String::from_utf8(out).unwrap(), err)
        };
        let (code, out, err) = run_docker(&["docker-credential-oauth", "frob"], b"");
        assert_eq!(
            (code, out.as_str()),
            (1, "Unknown credential action `frob`\n")
        );
        assert!(err.is_empty());
        let (code, out, _) = run_docker(&["/bin/docker-credential-oauth"], b"");
        assert_eq!(
            (code, out.as_str()),
            (
                1,
                "Usage: docker-credential-oauth <store|get|erase|list|version>\n"
            )
        );
        let (code, out, _) = run_docker(&["docker-credential-oauth", "get"], b" \n");
        assert_eq!((code, out.as_str()), (1, "no credentials server URL\n"));
        let (code, out, _) = run_docker(&["docker-credential-oauth", "-v"], b"");
        assert_eq!(code, 0);
        assert!(out.starts_with("docker-credential-oauth (credential-oauth) "));
    }

    #[test]
    fn utc_formatting() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_796_000_000), "2026-11-30T00:53:20Z");
    }
}
