//! The callers' side: which program called (argv\[0\] or the first word),
//! and one file per calling program, a [`Caller`]: it parses its wire
//! format into a request, asks the [`Context`] (the resolver and the
//! manager behind it), and writes the answer in its own words. The words a
//! person types go to [`crate::commands`]. `main` turns an error into an
//! exit code, through [`Protocol::exit_code`].
//!
//! A new caller is one file of parse and write. Run by a verb of the main
//! program (`credential-oauth headers URL`), it is a [`Command`] arm in
//! [`parse_args`] and a line in `CommandLine::answer` calling, say:
//!
//! ```text
//! pub fn run(url: &str, ctx: &Context, stdout: &mut dyn Write) -> Result<()> {
//!     let request = Request::to(parse(url)?); // its Lookup names the sources
//!     match ctx.answer(&request)? {
//!         Answer::Token(_, fetched) => write_headers(&fetched.token, stdout),
//!         Answer::NotMine => Err(Error::NoProvider(request.url.to_string())),
//!         // The person has been told how to log in; exit 1, nothing said again.
//!         Answer::NotFound(line) => Err(Error::NotFound(line)),
//!     }
//! }
//! ```
//!
//! Run under its own name (`docker-credential-oauth`), it is a [`Caller`]
//! and a [`Protocol`], one line in [`run`].

pub mod bazel;
pub mod cargo;
pub mod docker;
pub mod git;
pub mod goauth;
pub mod headers;
pub mod keyring;
pub mod kubernetes;
pub mod mcp;
pub mod resource;
pub mod terraform;
pub mod token;

use crate::commands::{self, help};
use crate::context::Context;
use crate::error::{Error, Kind, Result};
use crate::prompt::{Prompt, Unattended};
use std::io::{Read, Write};

/// The wire protocol spoken on stdin/stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// Called as `credential-oauth`: git's format plus the extra commands.
    Main,
    /// Called as `git-credential-oauth`: git's format only.
    Git,
    /// Called as `docker-credential-oauth`: docker's credential-helper protocol.
    Docker,
    /// `credential-oauth --cargo-plugin`: cargo's credential-provider protocol.
    Cargo,
    /// Called as `keyring`: the command line of Python's keyring, for pip and uv.
    Keyring,
    /// Called as `bazel-credential-oauth`: Bazel's credential-helper protocol.
    Bazel,
    /// Called as `terraform-credentials-oauth`: Terraform's and OpenTofu's
    /// credentials-helper protocol.
    Terraform,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `help [COMMAND]`, `COMMAND --help`: the usage, or one command's help.
    Help(Option<&'static str>),
    Version,
    GitGet,
    GitStore,
    GitErase,
    /// An operation git may add later: ignored, as git-credential(1) asks.
    GitIgnore,
    /// `token URL`; `header`: `token --header URL`, the Authorization value.
    Token {
        url: String,
        header: bool,
    },
    /// `kubernetes [URL]`: kubectl's exec credential plugin.
    Kubernetes(Option<String>),
    /// `goauth [URL]`: Go's GOAUTH command mode.
    Goauth(Option<String>),
    /// `headers URL`: the headers a request to URL needs, as JSON.
    /// `headers [--method METHOD] URL`: with a method, a `dpop = true`
    /// provider's token comes with a proof for that one request.
    Headers {
        url: String,
        method: Option<String>,
    },
    /// `mcp URL`: the stdio ↔ Streamable HTTP bridge.
    Mcp(String),
    Login(String),
    /// `init [URL] [flags]`: add a provider and log in.
    Init(commands::init::Options),
    Logout(String),
    /// `logout --all`: every cached token of every provider.
    LogoutAll,
    Status,
    /// `doctor`: check the set-up, one line per finding.
    Doctor,
    /// `configure` (false) or `unconfigure` (true).
    Configure(commands::configure::Targets, bool),
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
        (_, crate::protocol::keyring_cli::NAME) => Protocol::Keyring,
        (_, crate::protocol::bazel::NAME) => Protocol::Bazel,
        (_, crate::protocol::terraform::NAME) => Protocol::Terraform,
        _ => Protocol::Main,
    }
}

/// Parse the arguments after argv\[0\] for the main program and for git's
/// (any protocol but [`Protocol::Main`] is read as git's: the others parse
/// their own command lines). Returns the command and whether `-v` was given.
///
/// `help`, `-h` and `--help` after a command word ask for that command's
/// help, and no option-like word is ever taken as a URL: `logout help` is
/// help, `logout --frob` a usage error, never `https://help/`.
pub fn parse_args(protocol: Protocol, args: &[String]) -> Result<(Command, bool)> {
    let mut verbose = false;
    let mut help = false;
    let mut words = Vec::new();
    for a in args {
        match a.as_str() {
            "-v" | "--verbose" => verbose = true,
            "-h" | "--help" => help = true,
            "-V" | "--version" if !help => return Ok((Command::Version, verbose)),
            s if s.starts_with('-') && s.len() > 1 && words.is_empty() && !help => {
                return Err(Error::Usage(format!("unknown option {s:?} (see --help)")));
            }
            s => words.push(s),
        }
    }
    if protocol == Protocol::Main {
        let first = words.first().copied();
        if first == Some("help") {
            return match words.get(1..).unwrap_or_default() {
                [] => Ok((Command::Help(None), verbose)),
                [topic] => match help::topic(topic) {
                    Some(t) => Ok((Command::Help(Some(t)), verbose)),
                    None => Err(Error::Usage(format!(
                        "no help for {topic:?}; commands: {}",
                        help::TOPICS.join(", ")
                    ))),
                },
                _ => Err(Error::Usage(
                    "usage: credential-oauth help [COMMAND]".into(),
                )),
            };
        }
        if help || words.get(1..).unwrap_or_default().contains(&"help") {
            return Ok((Command::Help(first.and_then(help::topic)), verbose));
        }
        // Options after a command word: only the command's own.
        let allowed: Option<&[&str]> = match first {
            Some("token") => Some(&["--header"]),
            Some("headers") => Some(&["--method"]),
            Some("logout") => Some(&["--all"]),
            // configure and init check their own flags.
            Some("configure" | "unconfigure" | "init") => None,
            _ => Some(&[]),
        };
        if let Some(allowed) = allowed
            && let Some(bad) = words
                .iter()
                .skip(1)
                .find(|w| w.starts_with('-') && w.len() > 1 && !allowed.contains(w))
        {
            return Err(Error::Usage(format!(
                "unknown option {bad:?} for {} (see credential-oauth help {})",
                first.unwrap_or_default(),
                first.unwrap_or_default()
            )));
        }
    } else if help {
        return Ok((Command::Help(None), verbose));
    }
    // `token --header URL`: the one option after a command word.
    let header = words.first() == Some(&"token") && words.contains(&"--header");
    words.retain(|w| !(header && *w == "--header"));
    let want = |n: usize, cmd: &str| -> Result<()> {
        if words.len() == n {
            Ok(())
        } else {
            Err(Error::Usage(format!("usage: credential-oauth {cmd}")))
        }
    };
    let cmd = match (protocol, words.first().copied()) {
        (_, None) => return Err(Error::Usage("no command given (see --help)".into())),
        // git passes no arguments after the operation, but tolerate them.
        (_, Some("get")) => Command::GitGet,
        (_, Some("store")) => Command::GitStore,
        (_, Some("erase")) => Command::GitErase,
        (Protocol::Main, Some("token")) => {
            want(2, "token [--header] URL")?;
            Command::Token {
                url: words[1].to_string(),
                header,
            }
        }
        (Protocol::Main, Some("kubernetes")) => match words.len() {
            1 => Command::Kubernetes(None),
            2 => Command::Kubernetes(Some(words[1].to_string())),
            _ => {
                return Err(Error::Usage(
                    "usage: credential-oauth kubernetes [URL]".into(),
                ));
            }
        },
        (Protocol::Main, Some(crate::protocol::goauth::COMMAND)) => match words.len() {
            1 => Command::Goauth(None),
            2 => Command::Goauth(Some(words[1].to_string())),
            _ => {
                return Err(Error::Usage("usage: credential-oauth goauth [URL]".into()));
            }
        },
        (Protocol::Main, Some("headers")) => {
            let usage =
                || Error::Usage("usage: credential-oauth headers [--method METHOD] URL".into());
            let mut rest: Vec<&str> = words[1..].to_vec();
            let method = match rest.iter().position(|w| *w == "--method") {
                Some(i) => {
                    let m = rest.get(i + 1).copied().ok_or_else(usage)?;
                    // RFC 9110 §9.1: a method is a token.
                    if m.is_empty() || !m.bytes().all(|b| b.is_ascii_alphabetic()) {
                        return Err(usage());
                    }
                    rest.drain(i..=i + 1);
                    Some(m.to_ascii_uppercase())
                }
                None => None,
            };
            match rest.as_slice() {
                [url] => Command::Headers {
                    url: url.to_string(),
                    method,
                },
                _ => return Err(usage()),
            }
        }
        (Protocol::Main, Some("mcp")) => {
            want(2, "mcp URL")?;
            Command::Mcp(words[1].to_string())
        }
        (Protocol::Main, Some("login")) => {
            want(2, "login URL")?;
            Command::Login(words[1].to_string())
        }
        (Protocol::Main, Some("init")) => {
            Command::Init(commands::init::Options::parse(&words[1..])?)
        }
        (Protocol::Main, Some("logout")) => match &words[1..] {
            ["--all"] => Command::LogoutAll,
            [url] if !url.starts_with('-') => Command::Logout(url.to_string()),
            _ => {
                return Err(Error::Usage(
                    "usage: credential-oauth logout URL | --all".into(),
                ));
            }
        },
        (Protocol::Main, Some("doctor")) => {
            want(1, "doctor")?;
            Command::Doctor
        }
        (Protocol::Main, Some(verb @ ("configure" | "unconfigure"))) => Command::Configure(
            commands::configure::Targets::parse(&words[1..])?,
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
        // An operation git may add later.
        (_, Some(_)) => Command::GitIgnore,
    };
    Ok((cmd, verbose))
}

impl Protocol {
    /// Whether an error is reported on stderr. docker reads only stdout, so
    /// its frontend writes errors there itself, as its protocol asks; so
    /// does cargo's, in its `Err` answer, which cargo shows. The keyring
    /// frontend reports its own, to keep "not found" silent as keyring does.
    pub fn reports_errors_on_stderr(self) -> bool {
        !matches!(self, Protocol::Docker | Protocol::Cargo | Protocol::Keyring)
    }

    /// Whether `main` says `error` on stderr: a "not found" is an answer
    /// the caller has given already (and the person told why), never a
    /// failure to report again.
    pub fn reports(self, error: &Error) -> bool {
        self.reports_errors_on_stderr() && error.kind() != Kind::NotFound
    }

    /// The exit status for `error`: docker's helpers exit 1 for every
    /// error; a cargo provider exits 0 after its `Err` answer, since cargo
    /// treats any other status as fatal whatever the answer said;
    /// otherwise a usage error is 2 and any other failure 1 (keyring's own
    /// statuses, which pip and uv read as "no credentials": 1 not found, 2
    /// usage; for Bazel, any failure).
    pub fn exit_code(self, error: &Error) -> i32 {
        match (self, error.kind()) {
            (Protocol::Docker, _) => 1,
            (Protocol::Cargo, _) => 0,
            (_, Kind::Usage) => 2,
            _ => 1,
        }
    }
}

/// What a run did: the protocol it spoke, and how it ended.
pub struct Outcome {
    pub protocol: Protocol,
    pub result: Result<()>,
}

/// A calling program: how it asks, and how it is answered. Everything in
/// between (the config, the resolver, the manager, the person, and what
/// is "not mine" or "not found") is the [`Context`]'s, the same for every
/// caller.
pub trait Caller: Sized {
    /// Read the call: `words` (the command line after the program name),
    /// and stdin or the environment where the protocol puts its request.
    /// Returns the call and whether it asks for diagnostics (`-v`). A
    /// caller that lets nobody be asked says so to `ctx` here.
    fn parse(
        words: &[String],
        stdin: &mut dyn Read,
        stdout: &mut dyn Write,
        ctx: &Context,
    ) -> Result<(Self, bool)>;

    /// Answer the call on stdout.
    fn answer(self, ctx: &Context, stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<()>;

    /// A failure, in the caller's own words where its protocol has them
    /// (docker's line on stdout, cargo's `Err` answer); `main` says the
    /// others on stderr (see [`Protocol::reports`]).
    fn failed(_error: &Error, _ctx: &Context, _stdout: &mut dyn Write) {}
}

/// One call, start to end: parse, diagnostics on or off (the one place
/// that decides), answer, and a failure said in the caller's words.
fn serve<C: Caller>(
    words: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    ctx: &Context,
) -> Result<()> {
    let result = C::parse(words, stdin, stdout, ctx).and_then(|(call, verbose)| {
        crate::log::set_verbose(verbose || crate::log::env_asks_for_debug());
        call.answer(ctx, stdin, stdout)
    });
    if let Err(e) = &result {
        C::failed(e, ctx, stdout);
    }
    result
}

/// Run the program: `args[0]` is the program name.
pub fn run(
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    prompt: &dyn Prompt,
) -> Outcome {
    let argv0 = args
        .first()
        .map(String::as_str)
        .unwrap_or("credential-oauth");
    let words = args.get(1..).unwrap_or(&[]);
    // cargo runs every provider as `PROGRAM --cargo-plugin`.
    let protocol = match protocol_for(argv0) {
        Protocol::Main
            if words.first().map(String::as_str) == Some(crate::protocol::cargo::FLAG) =>
        {
            Protocol::Cargo
        }
        other => other,
    };
    let unattended = Unattended(prompt);
    let ctx = Context::new(prompt, &unattended);
    let result = match protocol {
        Protocol::Main => serve::<CommandLine<false>>(words, stdin, stdout, &ctx),
        Protocol::Git => serve::<CommandLine<true>>(words, stdin, stdout, &ctx),
        Protocol::Docker => serve::<docker::Docker>(words, stdin, stdout, &ctx),
        Protocol::Keyring => serve::<keyring::Keyring>(words, stdin, stdout, &ctx),
        Protocol::Bazel => serve::<bazel::Bazel>(words, stdin, stdout, &ctx),
        Protocol::Terraform => serve::<terraform::Terraform>(words, stdin, stdout, &ctx),
        Protocol::Cargo => serve::<cargo::Cargo>(words, stdin, stdout, &ctx),
    };
    Outcome { protocol, result }
}

/// The main program's command line, or (`GIT`) git's, which knows only
/// `get`, `store` and `erase`.
struct CommandLine<const GIT: bool>(Command);

impl<const GIT: bool> Caller for CommandLine<GIT> {
    fn parse(
        words: &[String],
        _stdin: &mut dyn Read,
        _stdout: &mut dyn Write,
        _ctx: &Context,
    ) -> Result<(Self, bool)> {
        let protocol = if GIT { Protocol::Git } else { Protocol::Main };
        parse_args(protocol, words).map(|(cmd, verbose)| (CommandLine(cmd), verbose))
    }

    fn answer(self, ctx: &Context, stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<()> {
        match self.0 {
            Command::Help(topic) => help::run(topic, stdout),
            Command::Version => help::version(stdout),
            Command::GitIgnore => Ok(()),
            Command::GitGet => git::get(ctx, stdin, stdout),
            Command::GitStore => git::store(stdin),
            Command::GitErase => git::erase(ctx, stdin),
            Command::Token { url, header } => token::run(&url, header, ctx, stdout),
            Command::Kubernetes(url) => kubernetes::run(url.as_deref(), ctx, stdout),
            Command::Goauth(url) => goauth::run(url.as_deref(), ctx, stdin, stdout),
            Command::Headers { url, method } => headers::run(&url, method.as_deref(), ctx, stdout),
            // The bridge's threads share the process's own stdin and stdout.
            Command::Mcp(url) => mcp::run(&url, ctx),
            // No provider for it yet: a resource server (MCP) names its own.
            Command::Login(url) => match commands::login::run(&url, ctx) {
                Err(Error::NoProvider(_)) => resource::login(&url, ctx),
                other => other,
            },
            Command::Init(options) => commands::init::run(&options, ctx, stdout),
            Command::Logout(url) => commands::logout::run(&url, ctx),
            Command::LogoutAll => commands::logout::all(ctx),
            Command::Doctor => commands::doctor::run(ctx, stdout),
            Command::Status => commands::status::run(ctx, stdout),
            Command::Configure(targets, remove) => {
                commands::configure::run(&targets, remove, ctx, stdout)
            }
        }
    }
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
        assert_eq!(
            protocol_for("/home/a/.local/bin/keyring"),
            Protocol::Keyring
        );
        assert_eq!(protocol_for("keyring.exe"), Protocol::Keyring);
        assert_eq!(protocol_for("bazel-credential-oauth"), Protocol::Bazel);
        assert_eq!(protocol_for("keyring-other"), Protocol::Main);
        assert_eq!(
            protocol_for("/home/u/.terraform.d/plugins/terraform-credentials-oauth"),
            Protocol::Terraform
        );
    }

    #[test]
    fn goauth_takes_an_optional_url_and_terraform_its_own_verbs() {
        let p = |v: &[&str]| parse_args(Protocol::Main, &args(v));
        assert_eq!(p(&["goauth"]).unwrap().0, Command::Goauth(None));
        assert_eq!(
            p(&["-v", "goauth", "https://proxy.example/m/@v/list"]).unwrap(),
            (
                Command::Goauth(Some("https://proxy.example/m/@v/list".into())),
                true
            )
        );
        assert!(p(&["goauth", "a", "b"]).is_err());
        // Terraform's verbs are not git's: `erase` is no Terraform verb.
        let outcome = run(
            &args(&["terraform-credentials-oauth", "erase", "h.example"]),
            &mut &b""[..],
            &mut Vec::new(),
            &crate::prompt::Terminal,
        );
        assert_eq!(outcome.protocol, Protocol::Terraform);
        assert!(outcome.protocol.reports_errors_on_stderr());
        let e = outcome.result.unwrap_err();
        assert_eq!(outcome.protocol.exit_code(&e), 2);
    }

    #[test]
    fn headers_takes_a_method_before_or_after_the_url() {
        let p = |v: &[&str]| parse_args(Protocol::Main, &args(v)).map(|(c, _)| c);
        let with = |m: Option<&str>| Command::Headers {
            url: "https://a/".into(),
            method: m.map(str::to_string),
        };
        assert_eq!(p(&["headers", "https://a/"]).unwrap(), with(None));
        assert_eq!(
            p(&["headers", "--method", "post", "https://a/"]).unwrap(),
            with(Some("POST"))
        );
        assert_eq!(
            p(&["headers", "https://a/", "--method", "GET"]).unwrap(),
            with(Some("GET"))
        );
        for bad in [
            &["headers", "--method", "https://a/"][..],
            &["headers", "https://a/", "--method"],
            &["headers", "--method", "G-T", "https://a/"],
            &["headers", "--frob", "https://a/"],
            &["headers"],
        ] {
            assert!(matches!(p(bad), Err(Error::Usage(_))), "{bad:?}");
        }
    }

    #[test]
    fn verbs_and_flags_parse() {
        let p = |v: &[&str]| parse_args(Protocol::Main, &args(v));
        assert_eq!(p(&["get"]).unwrap(), (Command::GitGet, false));
        assert_eq!(
            p(&["-v", "token", "https://a/"]).unwrap(),
            (
                Command::Token {
                    url: "https://a/".into(),
                    header: false
                },
                true
            )
        );
        let header = Command::Token {
            url: "https://a/".into(),
            header: true,
        };
        assert_eq!(p(&["token", "--header", "https://a/"]).unwrap().0, header);
        assert_eq!(p(&["token", "https://a/", "--header"]).unwrap().0, header);
        assert!(p(&["token", "--header"]).is_err());
        assert!(p(&["--header", "token", "https://a/"]).is_err());
        assert_eq!(p(&["status", "-v"]).unwrap(), (Command::Status, true));
        assert_eq!(p(&["kubernetes"]).unwrap().0, Command::Kubernetes(None));
        assert_eq!(
            p(&["kubernetes", "https://k8s.example:6443"]).unwrap().0,
            Command::Kubernetes(Some("https://k8s.example:6443".into()))
        );
        assert!(p(&["kubernetes", "a", "b"]).is_err());
        assert_eq!(
            parse_args(Protocol::Git, &args(&["kubernetes"])).unwrap().0,
            Command::GitIgnore
        );
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
    fn help_words_and_options_are_never_urls() {
        let p = |v: &[&str]| parse_args(Protocol::Main, &args(v));
        let help = |t: &'static str| Command::Help(Some(t));
        assert_eq!(p(&["help"]).unwrap().0, Command::Help(None));
        assert_eq!(p(&["--help"]).unwrap().0, Command::Help(None));
        assert_eq!(p(&["-h"]).unwrap().0, Command::Help(None));
        assert_eq!(p(&["help", "logout"]).unwrap().0, help("logout"));
        assert_eq!(p(&["logout", "help"]).unwrap().0, help("logout"));
        assert_eq!(p(&["logout", "--help"]).unwrap().0, help("logout"));
        assert_eq!(p(&["-v", "token", "-h"]).unwrap(), (help("token"), true));
        assert_eq!(p(&["login", "help"]).unwrap().0, help("login"));
        assert_eq!(p(&["token", "--header", "help"]).unwrap().0, help("token"));
        assert_eq!(p(&["status", "--help"]).unwrap().0, help("status"));
        assert_eq!(p(&["doctor", "help"]).unwrap().0, help("doctor"));
        assert_eq!(p(&["configure", "--help"]).unwrap().0, help("configure"));
        assert_eq!(p(&["unconfigure", "help"]).unwrap().0, help("unconfigure"));
        assert_eq!(p(&["help", "erase"]).unwrap().0, help("get"));
        assert_eq!(p(&["help", "help"]).unwrap().0, help("help"));
        // An unknown command's --help is the overview; `help` names only commands.
        assert_eq!(p(&["frob", "--help"]).unwrap().0, Command::Help(None));
        assert!(matches!(p(&["help", "frob"]), Err(Error::Usage(_))));
        assert!(matches!(p(&["help", "a", "b"]), Err(Error::Usage(_))));
        // logout --all, and no other option is taken as a URL.
        assert_eq!(p(&["logout", "--all"]).unwrap().0, Command::LogoutAll);
        assert_eq!(
            p(&["-v", "logout", "--all"]).unwrap(),
            (Command::LogoutAll, true)
        );
        for bad in [
            &["logout", "--all", "https://a/"][..],
            &["logout", "--frob"],
            &["logout", "-x"],
            &["login", "--all"],
            &["token", "--all", "https://a/"],
            &["logout"],
            &["doctor", "x"],
        ] {
            assert!(matches!(p(bad), Err(Error::Usage(_))), "{bad:?}");
        }
        assert_eq!(p(&["doctor"]).unwrap().0, Command::Doctor);
        assert_eq!(
            p(&["logout", "https://a/"]).unwrap().0,
            Command::Logout("https://a/".into())
        );
        // git's protocol knows no topics; docker's `-h` is docker's own.
        assert_eq!(
            parse_args(Protocol::Git, &args(&["get", "--help"]))
                .unwrap()
                .0,
            Command::Help(None)
        );
        for topic in help::TOPICS {
            assert!(help::text(topic).starts_with("usage: "), "{topic}");
            assert!(help::text(topic).contains("example"), "{topic}");
        }
    }

    #[test]
    fn the_cargo_flag_selects_cargo_whose_err_answers_exit_zero() {
        let mut out = Vec::new();
        let outcome = run(
            &args(&["/usr/bin/credential-oauth", "--cargo-plugin"]),
            &mut &b"hunter2\n"[..],
            &mut out,
            &crate::prompt::Terminal,
        );
        assert_eq!(outcome.protocol, Protocol::Cargo);
        assert!(!outcome.protocol.reports_errors_on_stderr());
        let e = outcome.result.unwrap_err();
        assert_eq!(outcome.protocol.exit_code(&e), 0);
        let out = String::from_utf8(out).unwrap();
        let (hello, answer) = out.split_once('\n').unwrap();
        assert_eq!(hello, "{\"v\":[1]}");
        assert!(
            answer.starts_with(
                "{\"Err\":{\"kind\":\"other\",\"message\":\"cargo's request is not valid JSON"
            ) && answer.ends_with("}}\n")
                && !answer.contains("hunter2"),
            "{answer}"
        );
        // Only as the first argument, and only for the main program.
        assert_eq!(
            run(
                &args(&["git-credential-oauth", "--cargo-plugin"]),
                &mut &b""[..],
                &mut Vec::new(),
                &crate::prompt::Terminal
            )
            .protocol,
            Protocol::Git
        );
    }

    #[test]
    fn keyring_and_bazel_usage_errors_exit_two_and_keyring_reports_its_own() {
        let outcome = |argv: &[&str]| {
            let mut out = Vec::new();
            let o = run(
                &args(argv),
                &mut &b""[..],
                &mut out,
                &crate::prompt::Unattended(&crate::prompt::Terminal),
            );
            let e = o.result.unwrap_err();
            assert!(out.is_empty() && matches!(e, Error::Usage(_)), "{e}");
            (o.protocol, o.protocol.exit_code(&e))
        };
        let (protocol, code) = outcome(&["/usr/bin/keyring", "frob", "h"]);
        assert_eq!((protocol, code), (Protocol::Keyring, 2));
        assert!(!protocol.reports_errors_on_stderr());
        assert_eq!(Protocol::Keyring.exit_code(&Error::NotFound("x".into())), 1);
        let (protocol, code) = outcome(&["bazel-credential-oauth"]);
        assert_eq!((protocol, code), (Protocol::Bazel, 2));
        assert!(protocol.reports_errors_on_stderr());
    }

    #[test]
    fn docker_errors_go_to_stdout_with_status_one() {
        let run_docker = |argv: &[&str], input: &[u8]| {
            let mut out = Vec::new();
            let outcome = run(
                &args(argv),
                &mut &input[..],
                &mut out,
                &crate::prompt::Terminal,
            );
            assert!(!outcome.protocol.reports_errors_on_stderr());
            let code = match &outcome.result {
                Ok(()) => 0,
                Err(e) => outcome.protocol.exit_code(e),
            };
            (code, String::from_utf8(out).unwrap(), ())
        };
        let (code, out, err) = run_docker(&["docker-credential-oauth", "frob"], b"");
        assert_eq!(
            (code, out.as_str()),
            (1, "Unknown credential action `frob`\n")
        );
        let () = err;
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
}
