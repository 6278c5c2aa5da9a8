//! docker's credential-helper protocol (`docker-credential-oauth
//! get|store|erase|list|version`), which podman, skopeo, buildah and helm
//! speak too. Every error, usage included, is one line on stdout with exit
//! status 1: docker reads only stdout and recognises "not found" by its
//! exact text.

use super::Prompt;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::manager::Manager;
use crate::protocol::{self, docker};
use crate::resolver::Resolver;
use std::io::{Read, Write};

/// Run one docker action; `args` are the words after the program name.
pub fn run(
    args: &[String],
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    prompt: &dyn Prompt,
) -> Result<()> {
    crate::log::set_verbose(crate::log::env_asks_for_debug());
    let outcome =
        docker::Action::from_args(args).and_then(|action| execute(action, stdin, stdout, prompt));
    let error = match outcome {
        Ok(Found::Yes) => return Ok(()),
        Ok(Found::No) => Error::NotFound(docker::NOT_FOUND.to_string()),
        Err(e) => e,
    };
    let _ = docker::write_message(&error.to_string(), stdout);
    Err(error)
}

/// Whether a docker request found what it asked about; "not found" is an
/// answer of its own in docker's protocol, not a failure.
enum Found {
    Yes,
    No,
}

fn execute(
    action: docker::Action,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    prompt: &dyn Prompt,
) -> Result<Found> {
    match action {
        docker::Action::Version => docker::write_version(stdout).map(|()| Found::Yes),
        docker::Action::Help => {
            docker::write_message(&docker::usage(), stdout).map(|()| Found::Yes)
        }
        docker::Action::Get => get(stdin, stdout, prompt),
        docker::Action::Store => store(stdin, prompt),
        docker::Action::Erase => erase(stdin, prompt),
        // docker writes a throwaway line for `list`; like the reference
        // helpers, leave it unread so a person at a terminal is not kept waiting.
        docker::Action::List => list(stdout, prompt),
    }
}

/// A fresh token for an OAuth provider's registry, else the static
/// credentials stored for it.
fn get(stdin: &mut dyn Read, stdout: &mut dyn Write, prompt: &dyn Prompt) -> Result<Found> {
    let server = docker::parse_server_url(&protocol::read_bounded(stdin)?)?;
    let config = Config::load()?;
    let manager = Manager::new(&config, prompt)?;
    let answer = match Resolver::new(&config).for_server(&server) {
        Some(binding) => {
            crate::debug!("provider {:?} matches {server}", binding.provider.name);
            let fetched = match manager.token(&binding) {
                Ok(fetched) => fetched,
                // docker's "not found", and the reason for the person.
                Err(e @ Error::NeedsPerson { .. }) => {
                    prompt.say(&format!("credential-oauth: {e}"));
                    return Ok(Found::No);
                }
                Err(e) => return Err(e),
            };
            docker::Credentials {
                server_url: server,
                username: binding.provider.username.clone(),
                secret: fetched.token.access_token,
            }
        }
        None => match manager.static_credentials().get(&server)? {
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
    };
    answer.write_to(stdout)?;
    Ok(Found::Yes)
}

/// Keep static credentials for a registry that is not an OAuth provider.
/// For a provider's registry the token is ours to keep: accepted, not written.
fn store(stdin: &mut dyn Read, prompt: &dyn Prompt) -> Result<Found> {
    let creds = docker::Credentials::parse(&protocol::read_bounded(stdin)?)?;
    let config = Config::load()?;
    if let Some(binding) = Resolver::new(&config).for_server(&creds.server_url) {
        crate::debug!(
            "{} is served by provider {:?}; not storing static credentials for it",
            creds.server_url,
            binding.provider.name
        );
        return Ok(Found::Yes);
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
    Manager::new(&config, prompt)?
        .static_credentials()
        .put(&stored)?;
    crate::debug!("stored credentials for {}", stored.server_url);
    Ok(Found::Yes)
}

/// Forget a provider's cached token (`docker logout`), or the static
/// credentials stored for a registry.
fn erase(stdin: &mut dyn Read, prompt: &dyn Prompt) -> Result<Found> {
    let server = docker::parse_server_url(&protocol::read_bounded(stdin)?)?;
    let config = Config::load()?;
    let manager = Manager::new(&config, prompt)?;
    let removed = match Resolver::new(&config).for_server(&server) {
        Some(binding) => manager.erase(&binding, None)?,
        None => manager.static_credentials().erase(&server)?,
    };
    Ok(if removed { Found::Yes } else { Found::No })
}

/// Every stored static entry and every provider with a cached token.
fn list(stdout: &mut dyn Write, prompt: &dyn Prompt) -> Result<Found> {
    let config = Config::load()?;
    let manager = Manager::new(&config, prompt)?;
    let mut entries = manager.static_credentials().list()?;
    for provider in &config.providers {
        if manager.cached(&Manager::key(provider, ""))?.is_some() {
            entries.insert(provider.url.to_string(), provider.username.clone());
        }
    }
    docker::write_list(&entries, stdout)?;
    Ok(Found::Yes)
}
