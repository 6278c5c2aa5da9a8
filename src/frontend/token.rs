//! `credential-oauth token [--header] URL`: the access token for scripts,
//! and for cargo's `cargo:token-from-stdout`.

use crate::config::Config;
use crate::error::Result;
use crate::manager::Manager;
use crate::prompt::Prompt;
use crate::resolver::Resolver;
use std::io::Write;

/// `token URL`: the access token alone, for scripts; with `header`,
/// `Bearer <token>`, the whole value of an `Authorization` header, as
/// `cargo:token-from-stdout credential-oauth token --header {index_url}`
/// wants it. cargo's `{index_url}` of a sparse registry starts with
/// `sparse+`: cargo is the caller, and sends the token where the index's
/// `config.json` says, so those places are checked as for
/// `--cargo-plugin` (DESIGN.md "Trust").
pub fn run(url: &str, header: bool, stdout: &mut dyn Write, prompt: &dyn Prompt) -> Result<()> {
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
    let line = format!("{scheme}{}\n", fetched.token.access_token.expose());
    crate::protocol::write_answer(stdout, line.as_bytes())
}
