//! docker's credential-helper protocol (`docker-credential-oauth
//! get|store|erase|list|version`), which podman, skopeo, buildah and helm
//! speak too. Every error, usage included, is one line on stdout with exit
//! status 1: docker reads only stdout and recognises "not found" by its
//! exact text.

use super::Caller;
use crate::context::{Answer, Context};
use crate::error::{Error, Result};
use crate::manager::Manager;
use crate::protocol::{self, docker};
use crate::resolver::{Binding, Request};
use std::io::{Read, Write};

/// One docker action, with what it read on stdin.
pub struct Docker {
    action: docker::Action,
    input: Vec<u8>,
}

impl Caller for Docker {
    fn parse(
        words: &[String],
        stdin: &mut dyn Read,
        _stdout: &mut dyn Write,
        _ctx: &Context,
    ) -> Result<(Self, bool)> {
        let action = docker::Action::from_args(words)?;
        // docker writes a throwaway line for `list`; like the reference
        // helpers, leave it unread so a person at a terminal is not kept
        // waiting.
        let input = match action {
            docker::Action::Get | docker::Action::Store | docker::Action::Erase => {
                protocol::read_bounded(stdin)?
            }
            _ => Vec::new(),
        };
        // docker's `-v` is the version: diagnostics only from the environment.
        Ok((Docker { action, input }, false))
    }

    fn answer(self, ctx: &Context, _stdin: &mut dyn Read, stdout: &mut dyn Write) -> Result<()> {
        let input = &self.input;
        let found = match self.action {
            docker::Action::Version => docker::write_version(stdout).map(|()| Found::Yes),
            docker::Action::Help => {
                docker::write_message(&docker::usage(), stdout).map(|()| Found::Yes)
            }
            docker::Action::Get => get(ctx, input, stdout),
            docker::Action::Store => store(ctx, input, stdout),
            docker::Action::Erase => erase(ctx, input, stdout),
            docker::Action::List => list(ctx, stdout),
        }?;
        match found {
            Found::Yes => Ok(()),
            Found::No => Err(Error::NotFound(docker::NOT_FOUND.to_string())),
        }
    }

    /// docker reads only stdout: every failure, "not found" included, is
    /// one line there.
    fn failed(error: &Error, _ctx: &Context, stdout: &mut dyn Write) {
        let _ = docker::write_message(&error.to_string(), stdout);
    }
}

/// Whether a docker request found what it asked about; "not found" is an
/// answer of its own in docker's protocol, not a failure.
enum Found {
    Yes,
    No,
}

/// A fresh token for an OAuth provider's registry (docker and the OCI
/// clients send it to the whole host), else the static credentials stored
/// for it.
fn get(ctx: &Context, input: &[u8], stdout: &mut dyn Write) -> Result<Found> {
    let server = docker::parse_server_url(input)?;
    let answer = match Request::host(&server) {
        Some(request) => ctx.answer(&request)?,
        None => Answer::NotMine,
    };
    let answer = match answer {
        Answer::Token(binding, fetched) => docker::Credentials {
            server_url: server,
            username: binding.provider.username.clone(),
            secret: fetched.token.access_token,
        },
        // docker's "not found"; the person was told why.
        Answer::NotFound(_) => return Ok(Found::No),
        Answer::NotMine => match previous::answer("get", input, stdout)? {
            Some(found) => return Ok(found),
            None => match ctx.manager()?.static_credentials().get(&server)? {
                Some(stored) => docker::Credentials {
                    server_url: stored.server_url,
                    username: stored.username,
                    secret: stored.secret,
                },
                None => {
                    crate::debug!(
                        "no provider and no stored credentials for {}",
                        crate::store::static_credentials::registry_name(&server)
                            .unwrap_or_else(|| "that server URL".into())
                    );
                    return Ok(Found::No);
                }
            },
        },
    };
    answer.write_to(stdout)?;
    Ok(Found::Yes)
}

/// Keep static credentials for a registry that is not an OAuth provider.
/// For a provider's registry the token is ours to keep: accepted, not written.
fn store(ctx: &Context, input: &[u8], stdout: &mut dyn Write) -> Result<Found> {
    let creds = docker::Credentials::parse(input)?;
    if let Some(request) = Request::host(&creds.server_url)
        && let Some(binding) = ctx.binding(&request)?
    {
        crate::debug!(
            "{} is served by provider {:?}; not storing static credentials for it",
            creds.server_url,
            binding.provider.name
        );
        return Ok(Found::Yes);
    }
    if let Some(found) = previous::answer("store", input, stdout)? {
        return Ok(found);
    }
    let docker::Credentials {
        server_url,
        username,
        secret,
    } = creds;
    let stored = crate::store::static_credentials::Credentials {
        server_url,
        username,
        secret,
    };
    ctx.manager()?.static_credentials().put(&stored)?;
    crate::debug!("stored credentials for {}", stored.server_url);
    Ok(Found::Yes)
}

/// Forget a provider's cached token (`docker logout`), or the static
/// credentials stored for a registry.
fn erase(ctx: &Context, input: &[u8], stdout: &mut dyn Write) -> Result<Found> {
    let server = docker::parse_server_url(input)?;
    let found = match Request::host(&server) {
        Some(request) => ctx.binding(&request)?,
        None => None,
    };
    let removed = match found {
        Some(binding) => ctx.manager()?.erase(&binding, None)?,
        // Both: what the old store holds, and what we kept before.
        None => {
            let delegated = previous::answer("erase", input, stdout)?;
            let ours = ctx.manager()?.static_credentials().erase(&server)?;
            ours || matches!(delegated, Some(Found::Yes))
        }
    };
    Ok(if removed { Found::Yes } else { Found::No })
}

/// Every stored static entry and every provider with a cached token.
fn list(ctx: &Context, stdout: &mut dyn Write) -> Result<Found> {
    let config = ctx.config()?;
    let manager = ctx.manager()?;
    let mut entries = previous::list()?;
    entries.extend(manager.static_credentials().list()?);
    // Only the providers docker could be answered for: a whole registry
    // host (DESIGN.md "Config", Matching), not a cargo index, a package
    // index or any other url with a path.
    for provider in config.providers.iter().filter(|p| p.url.path() == "/") {
        let binding = Binding::new(provider.clone(), None);
        if manager.cached(&Manager::key(&binding))?.is_some() {
            entries.insert(provider.url.to_string(), provider.username.clone());
        }
    }
    docker::write_list(&entries, stdout)?;
    Ok(Found::Yes)
}

/// The credsStore `configure --docker` replaced (`desktop`, `pass`, …):
/// every registry no provider serves is handed to it, as docker would have,
/// by running `docker-credential-<store>` with the same request; its
/// answers are passed through. Nothing recorded: not involved.
mod previous {
    use super::Found;
    use crate::error::{Error, Result};
    use crate::protocol::docker;
    use std::collections::BTreeMap;
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    use std::time::Duration;

    /// Largest answer read from the old store.
    const MAX_ANSWER: u64 = 1024 * 1024;
    /// Longest wait for it: a keychain may ask the person to unlock it.
    const TIMEOUT: Duration = Duration::from_secs(120);

    /// Run `action` at the old store: `None` when none is recorded, else
    /// whether it found what was asked (its answer already written to
    /// `stdout` when it did).
    pub(super) fn answer(
        action: &str,
        input: &[u8],
        stdout: &mut dyn Write,
    ) -> Result<Option<Found>> {
        let Some(store) = crate::commands::configure::previous_docker_store() else {
            return Ok(None);
        };
        let (ok, answer) = run(&store, action, input)?;
        if ok {
            crate::protocol::write_answer(stdout, &answer)?;
            return Ok(Some(Found::Yes));
        }
        let message = String::from_utf8_lossy(&answer).trim().to_string();
        if message == docker::NOT_FOUND {
            return Ok(Some(Found::No));
        }
        Err(Error::Local(message))
    }

    /// The old store's entries (none when none is recorded).
    pub(super) fn list() -> Result<BTreeMap<String, String>> {
        let Some(store) = crate::commands::configure::previous_docker_store() else {
            return Ok(BTreeMap::new());
        };
        let (ok, answer) = run(&store, "list", b"")?;
        if !ok {
            return Err(Error::Local(
                String::from_utf8_lossy(&answer).trim().to_string(),
            ));
        }
        serde_json::from_slice(&answer).map_err(|e| {
            Error::BadAnswer(format!(
                "docker-credential-{store} list: not a JSON object of strings ({e})"
            ))
        })
    }

    /// `docker-credential-<store> <action>` with `input` on stdin: whether it
    /// succeeded, and its stdout (bounded, and waited for at most [`TIMEOUT`]).
    fn run(store: &str, action: &str, input: &[u8]) -> Result<(bool, Vec<u8>)> {
        let program = format!("docker-credential-{store}");
        crate::debug!("docker: {action} for a registry no provider serves: {program}");
        let mut child = Command::new(&program)
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| {
                Error::Local(format!(
                    "cannot run {program} (docker's credsStore before credential-oauth): {e}"
                ))
            })?;
        let piped = || Error::Local(format!("cannot talk to {program}: no pipe"));
        let mut pipe = child.stdin.take().ok_or_else(piped)?;
        let input = input.to_vec();
        // A thread, so a helper that never reads cannot block us.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&input);
        });
        let mut out = child.stdout.take().ok_or_else(piped)?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let read = (&mut out).take(MAX_ANSWER + 1).read_to_end(&mut buf);
            let _ = tx.send(read.map(|_| buf));
        });
        let answer = match rx.recv_timeout(TIMEOUT) {
            Ok(Ok(buf)) if (buf.len() as u64) <= MAX_ANSWER => Ok(buf),
            Ok(Ok(_)) => Err(format!("{program} {action}: answer too large")),
            Ok(Err(e)) => Err(format!("{program} {action}: {e}")),
            Err(_) => Err(format!(
                "{program} {action}: no answer within {} s",
                TIMEOUT.as_secs()
            )),
        };
        let answer = match answer {
            Ok(buf) => buf,
            Err(message) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::Local(message));
            }
        };
        let status = child
            .wait()
            .map_err(|e| Error::Local(format!("{program} {action}: {e}")))?;
        Ok((status.success(), answer))
    }
}
