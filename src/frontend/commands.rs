//! The commands people and scripts run: `token`, `login`, `logout`,
//! `status` (`configure` is in [`super::configure`]).

use super::{Prompt, write_out};
use crate::config::Config;
use crate::error::Result;
use crate::grant::revocation::{Outcome as RevocationOutcome, Revoked};
use crate::manager::Manager;
use crate::prompt::escape;
use crate::resolver::Resolver;
use crate::token;
use std::io::Write;

/// `token URL`: the access token alone, for scripts; with `header`,
/// `Bearer <token>`, the whole value of an `Authorization` header, as
/// `cargo:token-from-stdout credential-oauth token --header {index_url}`
/// wants it. cargo's `{index_url}` of a sparse registry starts with
/// `sparse+`, which is not part of the URL matched.
pub fn token(url: &str, header: bool, stdout: &mut dyn Write, prompt: &dyn Prompt) -> Result<()> {
    let url = crate::protocol::cargo::strip_sparse(url);
    let config = Config::load()?;
    let manager = Manager::new(&config, prompt)?;
    let binding = Resolver::new(&config).for_command(url, manager.store())?;
    let fetched = manager.token(&binding)?;
    let scheme = if header { "Bearer " } else { "" };
    write_out(
        stdout,
        &format!("{scheme}{}\n", fetched.token.access_token.expose()),
    )
}

/// `login URL`: the grant now, whatever the cache holds.
pub fn login(url: &str, prompt: &dyn Prompt) -> Result<()> {
    let config = Config::load()?;
    let manager = Manager::new(&config, prompt)?;
    let binding = Resolver::new(&config).for_command(url, manager.store())?;
    let token = manager.login(&binding)?;
    prompt.say(&format!(
        "credential-oauth: logged in to {} (token {})",
        escape(&binding.provider.name),
        super::valid_until(&token)
    ));
    Ok(())
}

/// `logout URL`: forget the token here and revoke it at the server.
pub fn logout(url: &str, prompt: &dyn Prompt) -> Result<()> {
    let config = Config::load()?;
    let manager = Manager::new(&config, prompt)?;
    let binding = Resolver::new(&config).for_command(url, manager.store())?;
    let outcome = manager.logout(&binding)?;
    let name = escape(&binding.provider.name);
    prompt.say(&format!(
        "credential-oauth: {name} {}",
        if outcome.removed {
            "logged out"
        } else {
            "had no cached token"
        }
    ));
    report_revocation(&name, outcome.revocation, prompt);
    Ok(())
}

/// A token not revoked at the server is worth a line, even without `-v`,
/// but not a failed logout: the token is gone from this machine either way.
pub(super) fn report_revocation(
    name: &str,
    revocation: Option<Result<RevocationOutcome>>,
    prompt: &dyn Prompt,
) {
    let kind = |which: Revoked| match which {
        Revoked::RefreshToken => "refresh token",
        Revoked::AccessToken => "access token",
    };
    match revocation {
        None => {}
        Some(Ok(RevocationOutcome::NotOffered)) => prompt.say(&format!(
            "credential-oauth: {name}: the token was not revoked at the server, which names no \
             revocation endpoint (revocation_endpoint in the config sets one); \
             it was removed from this machine only"
        )),
        Some(Ok(RevocationOutcome::Tried { endpoint, attempts })) => {
            let mut refused = Vec::new();
            for (which, result) in attempts {
                match result {
                    Ok(()) => crate::debug!("{name}: revoked the {} at {endpoint}", kind(which)),
                    Err(e) => refused.push(format!("the {} ({e})", kind(which))),
                }
            }
            let removed = match refused.len() {
                0 => return,
                1 => "it was",
                _ => "both were",
            };
            prompt.say(&format!(
                "credential-oauth: {name}: the server could not revoke {}; \
                 {removed} removed from this machine anyway",
                refused.join(" nor ")
            ));
        }
        Some(Err(e)) => prompt.say(&format!(
            "credential-oauth: {name}: the server could not revoke the token ({e}); \
             it was removed from this machine anyway"
        )),
    }
}

/// `status`: configured providers and those found by discovery, their
/// cached tokens and accounts; never a secret.
pub fn status(stdout: &mut dyn Write, prompt: &dyn Prompt) -> Result<()> {
    let config = Config::load()?;
    let mut out = String::new();
    // Names below come from the config, git's config, git's requests (the
    // accounts) and servers: every one is escaped for the terminal.
    let shown = crate::prompt::escape;
    match &config.path {
        Some(p) => out.push_str(&format!("config: {}\n", shown(&p.display().to_string()))),
        None => out.push_str("config: none (no providers)\n"),
    }
    let manager = Manager::new(&config, prompt)?;
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
            Some(t) => match t.deadline() {
                Some(d) if d <= now => format!(
                    "token expired {}{}",
                    token::format_utc(d),
                    if t.refresh_token.is_some() {
                        " (refreshable)"
                    } else {
                        ""
                    }
                ),
                Some(d) => format!(
                    "token valid until {} ({} min left){}",
                    token::format_utc(d),
                    (d - now) / 60,
                    if t.expires_at.is_none() {
                        ", lifetime assumed"
                    } else {
                        ""
                    }
                ),
                None => "token used until the server rejects it (no expiry given)".into(),
            },
        };
        let stored = found.map_or(String::new(), |(_, backend)| {
            format!("\n  stored: {backend}")
        });
        let resource = p.resource.as_ref().map_or(String::new(), |r| {
            format!("  found by discovery for the resource {}\n", shown(r))
        });
        out.push_str(&format!(
            "\n{}\n{resource}  url:    {}\n  issuer: {}\n  grant:  {:?}\n  token lifetime: {}\n  key:    {}\n  {}{stored}\n",
            shown(&p.name),
            shown(p.url.as_str()),
            shown(&p.issuer),
            p.grant,
            p.token_lifetime.describe(),
            key.as_str(),
            state
        ));
        for name in crate::store::accounts::list(manager.store(), p)? {
            let t = manager.cached(&Manager::key(p, &name))?;
            let state = match t {
                None => "no token".to_string(),
                Some(t) => match t.deadline() {
                    Some(d) if d <= now => format!("token expired {}", token::format_utc(d)),
                    _ => format!("token {}", super::valid_until(&t)),
                },
            };
            out.push_str(&format!("  account {}: {state}\n", shown(&name)));
        }
    }
    write_out(stdout, &out)
}
