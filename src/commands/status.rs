//! `status`: the providers, their cached tokens and accounts, for people.

use super::logout::sharing;
use super::write_out;
use crate::calendar;
use crate::context::Context;
use crate::error::Result;
use crate::manager::Manager;
use crate::resolver::{Accounts, Binding};
use crate::token;
use std::io::Write;

/// `status`: configured providers and those found by discovery, their
/// cached tokens and accounts, for people; never a secret, and the cache
/// key only with `-v`.
pub fn run(ctx: &Context, stdout: &mut dyn Write) -> Result<()> {
    let config = ctx.config()?;
    let mut out = String::new();
    // Names below come from the config, git's config, git's requests (the
    // accounts) and servers: every one is escaped for the terminal.
    let shown = crate::prompt::escape;
    match &config.path {
        Some(p) => out.push_str(&format!("config: {}\n", shown(&p.display().to_string()))),
        None => out.push_str("config: none (no providers)\n"),
    }
    let manager = ctx.manager()?;
    let bindings = ctx.bindings(Accounts::All)?;
    if bindings.is_empty() {
        return write_out(stdout, &out);
    }
    let defaults: Vec<Binding> = bindings
        .iter()
        .filter(|b| b.account.is_empty())
        .cloned()
        .collect();
    out.push_str(&format!("storage: {}\n", manager.store_name()));
    let now = token::now();
    let verbose = crate::log::verbose();
    for binding in &bindings {
        let p = &binding.provider;
        let key = Manager::key(binding);
        if !binding.account.is_empty() {
            let name = &binding.account;
            let state = match manager.cached_with_backend(&key)? {
                None => "no token".to_string(),
                Some((t, backend)) => {
                    format!("token {} (stored: {backend})", describe_token(&t, now))
                }
            };
            out.push_str(&format!("  account {}: {state}\n", shown(name)));
            if verbose {
                out.push_str(&format!("    key: {}\n", key.as_str()));
            }
            continue;
        }
        let found = manager.cached_with_backend(&key)?;
        out.push_str(&format!("\n{}\n", shown(&p.name)));
        if let Some(r) = &binding.resource {
            out.push_str(&format!(
                "  found by discovery for the resource {}\n",
                shown(r)
            ));
        }
        if let Some(r) = p
            .resource_indicator
            .as_ref()
            .filter(|_| binding.resource.is_none())
        {
            out.push_str(&format!(
                "  tokens bound to the resource server {} (RFC 8707)\n",
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
        let others: Vec<String> = sharing(&defaults, &key, "")
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
    }
    write_out(stdout, &out)
}

/// A cached token's state in words: when it expires (in how long, and
/// the local time), whether it can be renewed silently.
fn describe_token(t: &token::Token, now: u64) -> String {
    let state = lifetime(t, now);
    // What binds the token: a DPoP key (RFC 9449), the login it needed (RFC 9470).
    let mut how = Vec::new();
    if t.is_dpop() {
        how.push("bound to a DPoP key".to_string());
    }
    if let Some(acr) = &t.acr {
        how.push(format!("login acr {}", crate::prompt::escape(acr)));
    }
    match how.is_empty() {
        true => state,
        false => format!("{state}; {}", how.join(", ")),
    }
}

/// When a token stops being used, and whether it renews silently.
fn lifetime(t: &token::Token, now: u64) -> String {
    let refresh = if t.refresh_token.is_some() {
        "; refreshable"
    } else {
        ""
    };
    match t.deadline() {
        Some(d) if d <= now => format!(
            "expired {} ago, at {}{}",
            calendar::format_span(now - d),
            calendar::format_local(d),
            if t.refresh_token.is_some() {
                "; refreshable"
            } else {
                "; the next use logs in again"
            }
        ),
        Some(d) => format!(
            "expires in {}, at {}{refresh}{}",
            calendar::format_span(d - now),
            calendar::format_local(d),
            if t.expires_at.is_none() {
                " (lifetime assumed: the server gave none)"
            } else {
                ""
            }
        ),
        None => format!("used until the server rejects it (no expiry given){refresh}"),
    }
}
