//! Bazel's credential helper (`--credential_helper=bazel-credential-oauth`):
//! the binary called as `bazel-credential-oauth get`, EngFlow's
//! credential-helper spec, in [`crate::protocol::bazel`].
//!
//! A URI a provider serves gets `Authorization: Bearer <token>` and
//! `expires`, the moment this helper would stop handing the token out, so
//! Bazel asks again in time. Any other URI gets `{}`, no headers, as
//! DESIGN.md asks (the spec would allow an error; `{}` lets one helper be
//! configured for every host). `grpcs://` and `grpc://` URIs (remote
//! caches and executors) are matched as `https://` and `http://`.
//!
//! People in the loop: Bazel waits for a helper a few seconds at most
//! (`--credential_helper_timeout`) and shows its stderr only when it
//! fails, so nobody is asked here: a refresh runs, but a needed login is
//! one line naming `credential-oauth login URL` and a failure, which Bazel
//! reports with that line.

use super::Caller;
use crate::context::{Answer, Context};
use crate::error::{Error, Result};
use crate::protocol::bazel::{self, Request, Response};
use crate::protocol::read_bounded;
use std::io::{Read, Write};
use url::Url;

/// `get` and its request, or `--help`.
pub enum Bazel {
    Get(Request),
    Help,
}

impl Caller for Bazel {
    /// Further parameters of `get` are ignored, as the spec allows, but `-v`.
    fn parse(
        words: &[String],
        stdin: &mut dyn Read,
        _stdout: &mut dyn Write,
        ctx: &Context,
    ) -> Result<(Self, bool)> {
        let verbose = words.iter().skip(1).any(|a| a == "-v" || a == "--verbose");
        match words.first().map(String::as_str) {
            Some(bazel::GET) => {}
            Some("-h" | "--help") => return Ok((Bazel::Help, verbose)),
            _ => return Err(Error::Usage(bazel::usage())),
        }
        ctx.forbid_prompts();
        let request = Request::parse(&read_bounded(stdin)?)?;
        Ok((Bazel::Get(request), verbose))
    }

    fn answer(self, ctx: &Context, _stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<()> {
        let request = match self {
            Bazel::Get(request) => request,
            Bazel::Help => {
                let usage = format!("{}\n", bazel::usage());
                return crate::protocol::write_answer(stdout, usage.as_bytes());
            }
        };
        let Some(url) = matched_url(&request.uri) else {
            crate::debug!("the uri is not an http(s) or grpc(s) URL; no headers");
            return Response::Nothing.write_to(stdout);
        };
        match ctx.answer(&crate::resolver::Request::to(url))? {
            Answer::Token(_, fetched) => Response::Bearer {
                expires: fetched
                    .token
                    .deadline()
                    .map(|d| super::kubernetes::ask_again_at(d, crate::token::now())),
                token: fetched.token.access_token,
            }
            .write_to(stdout),
            Answer::NotMine => Response::Nothing.write_to(stdout),
            Answer::NotFound(line) => Err(Error::NotFound(line)),
        }
    }
}

/// The URL a provider's `url` is matched against: http(s) as it is,
/// grpc(s) as http(s) on the same host and port; user name and password
/// dropped (they name nothing here and must appear in no message).
fn matched_url(uri: &str) -> Option<Url> {
    let (scheme, rest) = uri.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "https" | "grpcs" => "https",
        "http" | "grpc" => "http",
        _ => return None,
    };
    let mut url = Url::parse(&format!("{scheme}://{rest}")).ok()?;
    if !url.has_host() {
        return None;
    }
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_uris_match_as_http_and_credentials_are_dropped() {
        let u = |s: &str| matched_url(s).map(|u| u.to_string());
        assert_eq!(
            u("grpcs://cache.example:8980/x").as_deref(),
            Some("https://cache.example:8980/x")
        );
        assert_eq!(
            u("grpc://127.0.0.1:9092").as_deref(),
            Some("http://127.0.0.1:9092/")
        );
        assert_eq!(
            u("https://alice:pw@a.example/f.tar.gz").as_deref(),
            Some("https://a.example/f.tar.gz")
        );
        assert_eq!(u("file:///tmp/x"), None);
        assert_eq!(u("not a uri"), None);
        assert_eq!(u("https://"), None);
    }

    fn run(args: &[&str], stdin: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let args: Vec<String> = std::iter::once(bazel::NAME)
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect();
        crate::frontend::run(&args, &mut &stdin[..], out, &crate::prompt::Terminal).result
    }

    #[test]
    fn only_get_is_a_command() {
        for args in [&[][..], &["store"], &["--frob"]] {
            let mut out = Vec::new();
            let e = run(args, b"", &mut out).unwrap_err();
            assert!(matches!(e, Error::Usage(_)) && out.is_empty(), "{e}");
        }
    }

    #[test]
    fn a_malformed_request_is_refused_before_anything_else() {
        let mut out = Vec::new();
        let e = run(&["get"], b"{\"uri\":", &mut out).unwrap_err();
        assert!(matches!(e, Error::Input(_)) && out.is_empty(), "{e}");
    }
}
