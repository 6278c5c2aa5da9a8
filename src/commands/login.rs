//! `login URL`: run the provider's grant now, whatever the cache holds.

use crate::config::Config;
use crate::error::Result;
use crate::manager::Manager;
use crate::prompt::{Prompt, escape};
use crate::resolver::Resolver;

/// `login URL`: the grant now, whatever the cache holds.
pub fn run(url: &str, prompt: &dyn Prompt) -> Result<()> {
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
