//! `logout URL` and `logout --all`: forget cached tokens and revoke them
//! at the server; also what the callers' own logouts (keyring `del`,
//! Terraform `forget`, `cargo logout`) tell the person.

use crate::config::Config;
use crate::context::Context;
use crate::error::Result;
use crate::grant::revocation::{Outcome as RevocationOutcome, Revoked};
use crate::manager::Manager;
use crate::prompt::{Prompt, escape};
use crate::store::CacheKey;

/// `logout URL`: forget the token here and revoke it at the server.
pub fn run(url: &str, ctx: &Context) -> Result<()> {
    let binding = ctx.command_binding(url)?;
    logout_and_say(ctx, &binding)
}

/// Log `binding` out and tell the person: every provider that shared the
/// token, or that there was none, and whether the server revoked it.
pub fn logout_and_say(ctx: &Context, binding: &crate::resolver::Binding) -> Result<()> {
    let (config, manager, prompt) = (ctx.config()?, ctx.manager()?, ctx.prompt());
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
pub fn all(ctx: &Context) -> Result<()> {
    let (config, manager, prompt) = (ctx.config()?, ctx.manager()?, ctx.prompt());
    let providers = all_providers(config, manager)?;
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
pub(super) fn all_providers(
    config: &Config,
    manager: &Manager,
) -> Result<Vec<crate::config::Provider>> {
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
pub(super) fn sharing(
    providers: &[crate::config::Provider],
    key: &CacheKey,
    account: &str,
) -> Vec<String> {
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
pub fn report_revocation(
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
