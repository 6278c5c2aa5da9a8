//! The commands people and scripts run: `token`, `login`, `logout`,
//! `status` (`configure` is in [`super::configure`]).

use super::{Prompt, write_out};
use crate::config::Config;
use crate::error::Result;
use crate::grant::revocation::{Outcome as RevocationOutcome, Revoked};
use crate::manager::Manager;
use crate::prompt::escape;
use crate::resolver::Resolver;
use crate::store::CacheKey;
use crate::token;
use std::io::Write;

/// `token URL`: the access token alone, for scripts; with `header`,
/// `Bearer <token>`, the whole value of an `Authorization` header, as
/// `cargo:token-from-stdout credential-oauth token --header {index_url}`
/// wants it. cargo's `{index_url}` of a sparse registry starts with
/// `sparse+`: cargo is the caller, and sends the token where the index's
/// `config.json` says, so those places are checked as for
/// `--cargo-plugin` (DESIGN.md "Trust").
pub fn token(url: &str, header: bool, stdout: &mut dyn Write, prompt: &dyn Prompt) -> Result<()> {
    let from_cargo = url.starts_with("sparse+");
    let config = Config::load()?;
    let manager = Manager::new(&config, prompt)?;
    let resolver = Resolver::new(&config);
    let mut binding = resolver.for_command(
        crate::protocol::cargo::strip_sparse(url),
        Vec::new(),
        manager.store(),
    )?;
    if from_cargo {
        binding = super::cargo::registry_binding(&resolver, &manager, &binding, url)?;
    }
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
    let binding = Resolver::new(&config).for_command(url, Vec::new(), manager.store())?;
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
    let binding = Resolver::new(&config).for_command(url, Vec::new(), manager.store())?;
    logout_and_say(&config, &manager, &binding, prompt)
}

/// Log `binding` out and tell the person: every provider that shared the
/// token, or that there was none, and whether the server revoked it.
pub(super) fn logout_and_say(
    config: &Config,
    manager: &Manager,
    binding: &crate::resolver::Binding,
    prompt: &dyn Prompt,
) -> Result<()> {
    let outcome = manager.logout(binding)?;
    let name = escape(&binding.provider.name);
    if outcome.removed {
        let key = Manager::key(&binding.provider, &binding.account);
        let names = sharing(&all_providers(config, manager)?, &key, &binding.account);
        prompt.say(&logged_out(&names));
    } else {
        prompt.say(&format!("credential-oauth: {name} had no cached token"));
    }
    report_revocation(&name, outcome.revocation, prompt);
    Ok(())
}

/// `logout --all`: every cached token of every provider, configured or
/// found by discovery, and every account; each revoked where offered.
pub fn logout_all(prompt: &dyn Prompt) -> Result<()> {
    let config = Config::load()?;
    let manager = Manager::new(&config, prompt)?;
    let providers = all_providers(&config, &manager)?;
    let mut seen = std::collections::BTreeSet::new();
    let mut any = false;
    for p in &providers {
        let accounts = crate::store::accounts::list(manager.store(), p)?;
        for account in std::iter::once(String::new()).chain(accounts) {
            let key = Manager::key(p, &account);
            if !seen.insert(key.as_str().to_string()) {
                continue;
            }
            let binding = crate::resolver::Binding {
                provider: p.clone(),
                account: account.clone(),
            };
            let outcome = manager.logout(&binding)?;
            if outcome.removed {
                any = true;
                let mut names = sharing(&providers, &key, &account);
                if !account.is_empty() {
                    names = names
                        .iter()
                        .map(|n| format!("{n} ({})", escape(&account)))
                        .collect();
                }
                prompt.say(&logged_out(&names));
            }
            report_revocation(&escape(&p.name), outcome.revocation, prompt);
        }
    }
    if !any {
        prompt.say("credential-oauth: no cached token to remove");
    }
    Ok(())
}

/// The configured providers, then those found by RFC 9728 discovery that
/// hold tokens (no config names them).
fn all_providers(config: &Config, manager: &Manager) -> Result<Vec<crate::config::Provider>> {
    let discovered = crate::store::discovered::list(manager.store())?;
    Ok(config
        .providers
        .iter()
        .cloned()
        .chain(
            discovered
                .iter()
                .filter_map(crate::store::discovered::Entry::provider),
        )
        .collect())
}

/// The names (escaped) of the providers whose token for `account` is the
/// one under `key`: providers with the same issuer, client and scopes
/// share one.
fn sharing(providers: &[crate::config::Provider], key: &CacheKey, account: &str) -> Vec<String> {
    let mut names: Vec<String> = providers
        .iter()
        .filter(|p| Manager::key(p, account) == *key)
        .map(|p| escape(&p.name))
        .collect();
    names.dedup();
    names
}

fn logged_out(names: &[String]) -> String {
    match names {
        [one] => format!("credential-oauth: {one} logged out"),
        many => format!(
            "credential-oauth: {} logged out (they share one token: same issuer, client and scopes)",
            many.join(", ")
        ),
    }
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
/// cached tokens and accounts, for people; never a secret, and the cache
/// key only with `-v`.
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
    let providers = all_providers(&config, &manager)?;
    if providers.is_empty() {
        return write_out(stdout, &out);
    }
    out.push_str(&format!("storage: {}\n", manager.store_name()));
    let now = token::now();
    let verbose = crate::log::verbose();
    for p in &providers {
        let key = Manager::key(p, "");
        let found = manager.cached_with_backend(&key)?;
        out.push_str(&format!("\n{}\n", shown(&p.name)));
        if let Some(r) = &p.resource {
            out.push_str(&format!(
                "  found by discovery for the resource {}\n",
                shown(r)
            ));
        }
        let scopes = if p.scopes.is_empty() {
            "(none)".to_string()
        } else {
            shown(&p.scopes.join(" "))
        };
        out.push_str(&format!(
            "  url:     {}\n  issuer:  {}\n  grant:   {}\n  scopes:  {scopes}\n  \
             token lifetime: {}\n  account: default (user name {})\n",
            shown(p.url.as_str()),
            shown(&p.issuer),
            p.grant.as_str(),
            p.token_lifetime.describe(),
            shown(&p.username),
        ));
        let others: Vec<String> = sharing(&providers, &key, "")
            .into_iter()
            .filter(|n| *n != shown(&p.name))
            .collect();
        if !others.is_empty() {
            out.push_str(&format!(
                "  shares its token with: {} (same issuer, client and scopes)\n",
                others.join(", ")
            ));
        }
        match found {
            None => out.push_str("  token:   none\n"),
            Some((t, backend)) => out.push_str(&format!(
                "  token:   {}\n  stored:  {backend}\n",
                describe_token(&t, now)
            )),
        }
        if verbose {
            out.push_str(&format!("  key:     {}\n", key.as_str()));
        }
        for name in crate::store::accounts::list(manager.store(), p)? {
            let account_key = Manager::key(p, &name);
            let state = match manager.cached_with_backend(&account_key)? {
                None => "no token".to_string(),
                Some((t, backend)) => {
                    format!("token {} (stored: {backend})", describe_token(&t, now))
                }
            };
            out.push_str(&format!("  account {}: {state}\n", shown(&name)));
            if verbose {
                out.push_str(&format!("    key: {}\n", account_key.as_str()));
            }
        }
    }
    write_out(stdout, &out)
}

/// A cached token's state in words: when it expires (in how long, and
/// the local time), whether it can be renewed silently.
fn describe_token(t: &token::Token, now: u64) -> String {
    let refresh = if t.refresh_token.is_some() {
        "; refreshable"
    } else {
        ""
    };
    match t.deadline() {
        Some(d) if d <= now => format!(
            "expired {} ago, at {}{}",
            token::format_span(now - d),
            token::format_local(d),
            if t.refresh_token.is_some() {
                "; refreshable"
            } else {
                "; the next use logs in again"
            }
        ),
        Some(d) => format!(
            "expires in {}, at {}{refresh}{}",
            token::format_span(d - now),
            token::format_local(d),
            if t.expires_at.is_none() {
                " (lifetime assumed: the server gave none)"
            } else {
                ""
            }
        ),
        None => format!("used until the server rejects it (no expiry given){refresh}"),
    }
}
