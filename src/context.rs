//! What every caller and command works with, built once per run and only
//! when first asked for: the config, the [`Resolver`], the [`Manager`] and
//! the person as the caller lets us reach them. A caller parses its wire
//! format into a [`Request`], asks [`Context::answer`], and writes the
//! [`Answer`] in its own words; "not mine", "not found" and "nobody to
//! ask" are decided here, the same way for every caller.
//!
//! Lazily, so the warm path costs what it did before there was a context:
//! a `get` no provider serves reads the config and nothing else, and no
//! store is opened until a token is looked for.

use crate::config::Config;
use crate::error::{Error, Kind, Result};
use crate::manager::{Fetched, Manager};
use crate::prompt::Prompt;
use crate::resolver::{Accounts, Binding, Request, Resolver};
use std::cell::{Cell, OnceCell};

/// What a caller gets for its request; it writes each in its own wire
/// format.
// One per run, moved once: a box for the token's side would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Answer {
    /// A token, and what it is for.
    Token(Binding, Fetched),
    /// No provider serves the request: the caller's "not mine", so the
    /// program that called goes on to its other helpers.
    NotMine,
    /// A login is needed and nobody may be asked (DESIGN.md "People in the
    /// loop"). The person has been told, in this one line naming
    /// `credential-oauth login URL`; the caller answers "not found".
    NotFound(String),
}

pub struct Context<'p> {
    person: &'p dyn Prompt,
    /// The same person when the caller forbids asking them anything.
    unattended: &'p dyn Prompt,
    asking: Cell<Asking>,
    resolver: OnceCell<Resolver>,
    manager: OnceCell<Manager<'p>>,
}

/// Whether the caller lets anyone be asked.
#[derive(Clone, Copy)]
enum Asking {
    Anyone,
    Nobody,
    /// Nobody when the caller's rule says so, looked at only once it
    /// matters (a "not mine" never reads it).
    NobodyIf(fn() -> bool),
}

impl<'p> Context<'p> {
    /// `unattended` is `person` when nobody may be asked
    /// ([`crate::prompt::Unattended`]).
    pub fn new(person: &'p dyn Prompt, unattended: &'p dyn Prompt) -> Context<'p> {
        Context {
            person,
            unattended,
            asking: Cell::new(Asking::Anyone),
            resolver: OnceCell::new(),
            manager: OnceCell::new(),
        }
    }

    /// The caller forbids asking anyone (git's `GIT_TERMINAL_PROMPT=0`,
    /// kubectl's `interactive: false`, a caller that never shows stderr):
    /// things are still said, but no login starts. Said while parsing,
    /// before the manager is built, which keeps the prompt it was built with.
    pub fn forbid_prompts(&self) {
        debug_assert!(self.manager.get().is_none(), "the manager is built");
        self.asking.set(Asking::Nobody);
    }

    /// [`Context::forbid_prompts`] when `rule` says so (git's
    /// `GIT_TERMINAL_PROMPT=0`), asked the first time someone might be.
    pub fn forbid_prompts_if(&self, rule: fn() -> bool) {
        debug_assert!(self.manager.get().is_none(), "the manager is built");
        self.asking.set(Asking::NobodyIf(rule));
    }

    /// The person, as the caller lets us reach them.
    pub fn prompt(&self) -> &'p dyn Prompt {
        let asking = match self.asking.get() {
            Asking::NobodyIf(rule) if rule() => Asking::Nobody,
            Asking::NobodyIf(_) => Asking::Anyone,
            settled => settled,
        };
        self.asking.set(asking);
        match asking {
            Asking::Nobody => self.unattended,
            _ => self.person,
        }
    }

    /// The config file (and the environment), loaded on first use.
    pub fn config(&self) -> Result<&Config> {
        Ok(self.resolver()?.config())
    }

    /// The config as `doctor` wants it: one that cannot be loaded is
    /// handed to `report` and the run goes on with no providers.
    pub fn config_or_empty(&self, report: impl FnOnce(&Error)) -> &Config {
        match self.resolver() {
            Ok(resolver) => resolver.config(),
            Err(e) => {
                report(&e);
                self.resolver
                    .get_or_init(|| Resolver::new(Config::empty()))
                    .config()
            }
        }
    }

    pub fn resolver(&self) -> Result<&Resolver> {
        if let Some(resolver) = self.resolver.get() {
            return Ok(resolver);
        }
        let config = Config::load()?;
        Ok(self.resolver.get_or_init(|| Resolver::new(config)))
    }

    /// The manager and its store, opened on first use.
    pub fn manager(&self) -> Result<&Manager<'p>> {
        if let Some(manager) = self.manager.get() {
            return Ok(manager);
        }
        let manager = Manager::new(self.config()?, self.prompt())?;
        Ok(self.manager.get_or_init(|| manager))
    }

    /// What `request`'s token is for; `None`: not ours.
    pub fn binding(&self, request: &Request) -> Result<Option<Binding>> {
        let found = self
            .resolver()?
            .resolve(request, &|| Ok(self.manager()?.store()))?;
        match &found {
            Some(b) => crate::debug!("provider {:?} matches {}", b.provider.name, request.url),
            None => crate::debug!("no provider for {}", request.url),
        }
        Ok(found)
    }

    /// What a URL typed on the command line (`login`, `logout`) is for:
    /// there, no provider is a failure.
    pub fn command_binding(&self, url: &str) -> Result<Binding> {
        let request = Request::command(url)?;
        self.binding(&request)?
            .ok_or_else(|| Error::NoProvider(request.url.to_string()))
    }

    /// Every binding that may hold a token (see [`Resolver::bindings`]).
    pub fn bindings(&self, accounts: Accounts) -> Result<Vec<Binding>> {
        self.resolver()?.bindings(self.manager()?.store(), accounts)
    }

    /// The one path from a caller's request to its answer: the binding,
    /// then a token from the manager.
    pub fn answer(&self, request: &Request) -> Result<Answer> {
        self.answer_with(request, Manager::token)
    }

    /// [`Context::answer`], where the caller says which of the manager's
    /// ways to a token it takes (a refresh token it brings, the ID token).
    pub fn answer_with(
        &self,
        request: &Request,
        fetch: impl FnOnce(&Manager<'p>, &Binding) -> Result<Fetched>,
    ) -> Result<Answer> {
        match self.binding(request)? {
            Some(binding) => self.token(binding, fetch),
            None => Ok(Answer::NotMine),
        }
    }

    /// A token for `binding`, or the caller's "not found" when a login is
    /// needed and nobody may be asked.
    pub fn token(
        &self,
        binding: Binding,
        fetch: impl FnOnce(&Manager<'p>, &Binding) -> Result<Fetched>,
    ) -> Result<Answer> {
        match self.attempt(|| fetch(self.manager()?, &binding))? {
            Ok(fetched) => Ok(Answer::Token(binding, fetched)),
            Err(line) => Ok(Answer::NotFound(line)),
        }
    }

    /// `work`, where "a login is needed and nobody may be asked" is an
    /// answer: the person is told in one line how to log in, and that
    /// line comes back as `Err` for the caller's "not found". So is "this
    /// caller cannot use the provider's DPoP-bound tokens".
    pub fn attempt<T>(
        &self,
        work: impl FnOnce() -> Result<T>,
    ) -> Result<std::result::Result<T, String>> {
        match work() {
            Ok(value) => Ok(Ok(value)),
            Err(e) if matches!(e.kind(), Kind::NeedsPerson | Kind::NeedsProof) => {
                let line = e.to_string();
                self.prompt().say(&format!("credential-oauth: {line}"));
                Ok(Err(line))
            }
            Err(e) => Err(e),
        }
    }
}
