//! `logout URL` and `logout --all`: forget cached tokens and revoke them
//! at the server; also what the callers' own logouts (keyring `del`,
//! Terraform `forget`, `cargo logout`) tell the person.

use crate::context::Context;
use crate::error::Result;
use crate::grant::revocation::{Outcome as RevocationOutcome, Revoked};
use crate::manager::Manager;
use crate::prompt::{Prompt, escape};
use crate::resolver::{Accounts, Binding};
use crate::store::CacheKey;

/// `logout URL`: forget the token here and revoke it at the server.
pub fn run(url: &str, ctx: &Context) -> Result<()> {
    let binding = ctx.command_binding(url)?;
    logout_and_say(ctx, &binding)
}

/// Log `binding` out and tell the person: every provider that shared the
/// token, or that there was none, and whether the server revoked it.
pub fn logout_and_say(ctx: &Context, binding: &Binding) -> Result<()> {
    let (manager, prompt) = (ctx.manager()?, ctx.prompt());
    let outcome = manager.logout(binding)?;
    let name = escape(&binding.provider.name);
    if outcome.removed {
        prompt.say(&logged_out(&sharing_binding(ctx, binding)?));
    } else {
        prompt.say(&format!("credential-oauth: {name} had no cached token"));
    }
    report_revocation(&name, outcome.revocation, prompt);
    Ok(())
}

/// `logout --all`: every cached token of every provider, configured or
/// found by discovery, and every account; each revoked where offered.
pub fn all(ctx: &Context) -> Result<()> {
    let (manager, prompt) = (ctx.manager()?, ctx.prompt());
    let bindings = ctx.bindings(Accounts::All)?;
    let defaults: Vec<Binding> = bindings
        .iter()
        .filter(|b| b.account.is_empty())
        .cloned()
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    let mut any = false;
    for binding in &bindings {
        let key = Manager::key(binding);
        if !seen.insert(key.as_str().to_string()) {
            continue;
        }
        let account = &binding.account;
        let outcome = manager.logout(binding)?;
        if outcome.removed {
            any = true;
            let mut names = sharing(&defaults, &key, account);
            if !account.is_empty() {
                names = names
                    .iter()
                    .map(|n| format!("{n} ({})", escape(account)))
                    .collect();
            }
            prompt.say(&logged_out(&names));
        }
        report_revocation(&escape(&binding.provider.name), outcome.revocation, prompt);
    }
    // Entries of a cache directory someone deleted are nobody's to log out
    // through a provider, but hold tokens until reboot: removed too.
    #[cfg(target_os = "linux")]
    match crate::store::kernel::remove_orphans() {
        Ok(0) => {}
        Ok(n) => {
            any = true;
            prompt.say(&format!(
                "credential-oauth: removed {n} kernel keyring entr{} of cache directories that \
                 no longer exist",
                if n == 1 { "y" } else { "ies" }
            ));
        }
        Err(e) => crate::debug!("kernel keyring: {e}"),
    }
    if !any {
        prompt.say("credential-oauth: no cached token to remove");
    }
    Ok(())
}

/// The names (escaped) of the providers (`defaults`: their default
/// accounts' bindings) whose token for `account` is the one under `key`:
/// providers with the same issuer, client and scopes share one.
pub(super) fn sharing(defaults: &[Binding], key: &CacheKey, account: &str) -> Vec<String> {
    let mut names: Vec<String> = defaults
        .iter()
        .filter(|b| {
            let for_account = Binding {
                account: account.to_string(),
                ..(*b).clone()
            };
            Manager::key(&for_account) == *key
        })
        .map(|b| escape(&b.provider.name))
        .collect();
    names.dedup();
    names
}

/// The names (escaped) of every provider, configured or discovered, that
/// shared `binding`'s token.
pub fn sharing_binding(ctx: &Context, binding: &Binding) -> Result<Vec<String>> {
    let key = Manager::key(binding);
    Ok(sharing(
        &ctx.bindings(Accounts::Default)?,
        &key,
        &binding.account,
    ))
}

/// "X logged out", naming every provider that shared the token.
pub fn logged_out(names: &[String]) -> String {
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
