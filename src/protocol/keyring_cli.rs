//! The command line of Python's `keyring` program, as pip and uv run it
//! with `--keyring-provider subprocess` (an executable named `keyring` found
//! on PATH):
//!
//! - pip ≤ 26.1: `keyring get SERVICE USERNAME`, the password on stdout;
//!   `keyring set SERVICE USERNAME` with the password on stdin.
//! - pip ≥ 26.2: `keyring --mode=creds --output=json get SERVICE [USERNAME]`,
//!   `{"username":…,"password":…}` on stdout.
//! - uv: `keyring get SERVICE USERNAME`, or without a user name
//!   `keyring get SERVICE --mode creds`: the user name and the password on
//!   two lines.
//!
//! As in keyring's own argparse-based CLI, options may come before or after
//! the positionals, `--opt value` and `--opt=value` alike, and `--` ends the
//! options. SERVICE is an index URL (credentials removed) or `host[:port]`.
//! Exit status 1 with nothing on stdout means "no such credential"; 2 is a
//! usage error (argparse's). Nothing here knows OAuth.

use crate::error::{Error, Result};
use crate::secret::Secret;
use std::io::Write;

/// The program name pip and uv run.
pub const NAME: &str = "keyring";

/// The answer to `--help` and to a wrong command line.
pub const USAGE: &str = "\
usage: keyring [--mode password|creds] [--output plain|json] get|set|del SERVICE [USERNAME]

credential-oauth as the `keyring` program of pip and uv (--keyring-provider subprocess):
  get SERVICE [USERNAME]   the access token for an index URL or host[:port]
                           (--mode creds: user name and token on two lines;
                           --output json: {\"username\":…,\"password\":…})
  set SERVICE USERNAME     reads the password on stdin; kept nowhere (tokens come
                           from the authorization server); exit 1 for a service
                           that is no provider's
  del SERVICE [USERNAME]   forget and revoke the cached token (credential-oauth logout)
exit status: 0 found, 1 not found or failed, 2 usage
";

/// What `get` prints: the password alone, or the user name too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Password,
    Creds,
}

/// How `get` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Output {
    #[default]
    Plain,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Get,
    Set,
    Del,
}

/// One command line, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Help,
    Run(Invocation),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub operation: Operation,
    /// An index URL or `host[:port]`, as given.
    pub service: String,
    /// The user name, when one was given and is not empty.
    pub username: Option<String>,
    pub mode: Mode,
    pub output: Output,
}

fn usage(what: &str) -> Error {
    Error::Usage(format!("keyring: {what} (see keyring --help)"))
}

/// An argument as it may appear in a message: short, control characters
/// escaped. Arguments are the caller's; none of them is a secret (`set`
/// reads its password on stdin).
fn shown(arg: &str) -> String {
    let cut: String = arg.chars().take(60).collect();
    format!("{:?}", cut)
}

impl Command {
    /// Parse the arguments after the program name.
    pub fn parse(args: &[String]) -> Result<Command> {
        let mut mode = Mode::default();
        let mut output = Output::default();
        let mut positionals: Vec<&str> = Vec::new();
        let mut options_end = false;
        let mut rest = args.iter();
        while let Some(arg) = rest.next() {
            let arg = arg.as_str();
            if options_end || arg == "-" || !arg.starts_with('-') {
                positionals.push(arg);
                continue;
            }
            if arg == "--" {
                options_end = true;
                continue;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value)),
                _ => (arg, None),
            };
            match name {
                "-h" | "--help" => return Ok(Command::Help),
                "--mode" | "--output" => {
                    let value = match inline {
                        Some(v) => v,
                        None => rest
                            .next()
                            .map(String::as_str)
                            .ok_or_else(|| usage(&format!("{name} needs a value")))?,
                    };
                    match (name, value) {
                        ("--mode", "password") => mode = Mode::Password,
                        ("--mode", "creds") => mode = Mode::Creds,
                        ("--output", "plain") => output = Output::Plain,
                        ("--output", "json") => output = Output::Json,
                        _ => {
                            return Err(usage(&format!(
                                "{name} takes {}, not {}",
                                if name == "--mode" {
                                    "password or creds"
                                } else {
                                    "plain or json"
                                },
                                shown(value)
                            )));
                        }
                    }
                }
                _ => return Err(usage(&format!("unknown option {}", shown(arg)))),
            }
        }
        let (operation, service, username) = match positionals.as_slice() {
            [] => return Err(usage("no operation given")),
            [op, rest @ ..] => {
                let operation = match *op {
                    "get" => Operation::Get,
                    "set" => Operation::Set,
                    "del" => Operation::Del,
                    other => {
                        return Err(usage(&format!(
                            "unknown operation {}; expected get, set or del",
                            shown(other)
                        )));
                    }
                };
                match rest {
                    [] => return Err(usage("no SERVICE given")),
                    [service] => (operation, *service, None),
                    [service, user] => (operation, *service, Some(*user)),
                    _ => return Err(usage("more than SERVICE and USERNAME given")),
                }
            }
        };
        if service.trim().is_empty() {
            return Err(usage("SERVICE is empty"));
        }
        if service.contains(char::is_control) {
            return Err(usage("SERVICE holds a control character"));
        }
        if username.is_some_and(|u| u.contains(char::is_control)) {
            return Err(usage("USERNAME holds a control character"));
        }
        if operation == Operation::Set && username.is_none_or(str::is_empty) {
            return Err(usage("set needs SERVICE and USERNAME"));
        }
        Ok(Command::Run(Invocation {
            operation,
            service: service.trim().to_string(),
            username: username.filter(|u| !u.is_empty()).map(str::to_string),
            mode,
            output,
        }))
    }
}

/// `--output json`, in keyring's field order.
#[derive(serde::Serialize)]
struct JsonCredential<'a> {
    username: &'a str,
    password: &'a str,
}

/// `get`'s answer: the password alone (`--mode password`, plain), the user
/// name and the password on two lines (`--mode creds`, plain), or
/// `{"username":…,"password":…}` (`--output json`, either mode: pip reads
/// both fields). Each ends with a newline, as keyring's `print` does.
pub fn write_credential(
    mode: Mode,
    output: Output,
    username: &str,
    password: &Secret,
    out: &mut dyn Write,
) -> Result<()> {
    if !crate::token::is_b64token(password.expose()) {
        return Err(Error::Input(
            "refusing to hand out a token that is not an RFC 6750 b64token".into(),
        ));
    }
    if username.contains(char::is_control) {
        return Err(Error::Input(
            "the user name holds a control character".into(),
        ));
    }
    let text = match (output, mode) {
        (Output::Plain, Mode::Password) => format!("{}\n", password.expose()),
        (Output::Plain, Mode::Creds) => format!("{username}\n{}\n", password.expose()),
        (Output::Json, _) => {
            let wire = JsonCredential {
                username,
                password: password.expose(),
            };
            let json = serde_json::to_string(&wire)
                .map_err(|e| Error::Local(format!("cannot encode the answer: {e}")))?;
            format!("{json}\n")
        }
    };
    super::write_answer(out, text.as_bytes())
}

/// A `get` answer read back as pip and uv read it (for tests and the
/// fuzzer's round trip): the user name, when the format carries one, and
/// the password.
pub fn parse_credential(
    mode: Mode,
    output: Output,
    text: &str,
) -> Option<(Option<String>, String)> {
    match (output, mode) {
        (Output::Plain, Mode::Password) => {
            let password = text.strip_suffix('\n')?;
            (!password.contains('\n')).then(|| (None, password.to_string()))
        }
        (Output::Plain, Mode::Creds) => {
            let (user, password) = text.strip_suffix('\n')?.split_once('\n')?;
            (!password.contains('\n')).then(|| (Some(user.to_string()), password.to_string()))
        }
        (Output::Json, _) => {
            let value: serde_json::Value = serde_json::from_str(text.strip_suffix('\n')?).ok()?;
            Some((
                Some(value.get("username")?.as_str()?.to_string()),
                value.get("password")?.as_str()?.to_string(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command> {
        Command::parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    fn run(args: &[&str]) -> Invocation {
        match parse(args).unwrap() {
            Command::Run(i) => i,
            Command::Help => panic!("help for {args:?}"),
        }
    }

    #[test]
    fn what_pip_and_uv_pass_parses() {
        // pip ≤ 26.1 and uv with a user name.
        assert_eq!(
            run(&["get", "https://pypi.example/simple/", "oauth2"]),
            Invocation {
                operation: Operation::Get,
                service: "https://pypi.example/simple/".into(),
                username: Some("oauth2".into()),
                mode: Mode::Password,
                output: Output::Plain,
            }
        );
        // pip ≥ 26.2, with and without a user name.
        let pip = run(&["--mode=creds", "--output=json", "get", "pypi.example:8443"]);
        assert_eq!(
            (pip.mode, pip.output, pip.service.as_str(), pip.username),
            (Mode::Creds, Output::Json, "pypi.example:8443", None)
        );
        let pip = run(&["--mode=creds", "--output=json", "get", "h", "alice"]);
        assert_eq!(pip.username.as_deref(), Some("alice"));
        // uv without a user name: the option after the positionals.
        let uv = run(&["get", "https://pypi.example/simple/x/", "--mode", "creds"]);
        assert_eq!((uv.mode, uv.output), (Mode::Creds, Output::Plain));
        // Spaced and `=` forms, in any place, the last one winning.
        let i = run(&[
            "--output",
            "json",
            "get",
            "--mode",
            "creds",
            "h",
            "--mode=password",
        ]);
        assert_eq!((i.mode, i.output), (Mode::Password, Output::Json));
        // `--` ends the options; an empty user name is no user name.
        let i = run(&["get", "--", "-odd-host", ""]);
        assert_eq!((i.service.as_str(), i.username), ("-odd-host", None));
        assert_eq!(run(&["del", "h"]).operation, Operation::Del);
        assert_eq!(run(&["set", "h", "u"]).operation, Operation::Set);
        assert_eq!(parse(&["get", "-h"]).unwrap(), Command::Help);
        assert_eq!(parse(&["--help"]).unwrap(), Command::Help);
    }

    #[test]
    fn malformed_command_lines_are_usage_errors_of_one_line() {
        for args in [
            &[][..],
            &["get"],
            &["frob", "h"],
            &["get", "h", "u", "extra"],
            &["--mode"],
            &["get", "h", "--mode"],
            &["--mode=secret", "get", "h"],
            &["--output", "yaml", "get", "h"],
            &["-m", "creds", "get", "h"],
            &["--keyring-backend", "x", "get", "h"],
            &["get", " "],
            &["get", "a\nb"],
            &["get", "h", "u\u{1b}[2J"],
            &["set", "h"],
        ] {
            let e = parse(args).unwrap_err();
            assert!(matches!(e, Error::Usage(_)), "{args:?}: {e}");
            let text = e.to_string();
            assert!(
                !text.contains('\n') && !text.contains('\u{1b}'),
                "{args:?}: {text}"
            );
            // pip ≥ 26.2 takes this pair for a keyring too old for --mode=creds.
            assert!(!text.contains("unrecognized arguments"), "{text}");
        }
    }

    fn written(mode: Mode, output: Output) -> String {
        let mut out = Vec::new();
        write_credential(mode, output, "oauth2", &Secret::new("at_1.x-y"), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn each_format_is_exact_and_reads_back() {
        let cases = [
            (Mode::Password, Output::Plain, "at_1.x-y\n", None),
            (
                Mode::Creds,
                Output::Plain,
                "oauth2\nat_1.x-y\n",
                Some("oauth2"),
            ),
            (
                Mode::Creds,
                Output::Json,
                "{\"username\":\"oauth2\",\"password\":\"at_1.x-y\"}\n",
                Some("oauth2"),
            ),
            (
                Mode::Password,
                Output::Json,
                "{\"username\":\"oauth2\",\"password\":\"at_1.x-y\"}\n",
                Some("oauth2"),
            ),
        ];
        for (mode, output, text, user) in cases {
            assert_eq!(written(mode, output), text);
            assert_eq!(
                parse_credential(mode, output, text),
                Some((user.map(str::to_string), "at_1.x-y".to_string()))
            );
        }
    }

    #[test]
    fn a_token_or_name_that_would_break_the_format_is_never_written() {
        let mut out = Vec::new();
        let e = write_credential(
            Mode::Creds,
            Output::Plain,
            "oauth2",
            &Secret::new("evil\nline"),
            &mut out,
        )
        .unwrap_err();
        assert!(out.is_empty() && !e.to_string().contains("evil"), "{e}");
        let e = write_credential(
            Mode::Creds,
            Output::Plain,
            "a\nb",
            &Secret::new("tok"),
            &mut out,
        );
        assert!(e.is_err() && out.is_empty());
    }
}
