//! credential-oauth: OAuth 2.0 access tokens for git, docker, cargo, kubectl, pip and uv,
//! Bazel, Terraform, Go, MCP clients and scripts.
//!
//! A request comes in through a [`frontend`], one file per calling program
//! and each a [`frontend::Caller`]: a parse of its wire format
//! ([`protocol`]) into a [`resolver::Request`], and a write of the answer.
//! Everything between is the [`context::Context`] each caller is handed,
//! built once per run and only as far as needed. The [`resolver`] turns the
//! request into a [`resolver::Binding`] (provider, account, resource) from
//! an ordered list of sources, the first to say "mine" winning: the
//! [`config`] file, git's config, the discoveries remembered with their
//! tokens, RFC 9728 [`discovery`]; [`resolver::Resolver::bind`] is the one
//! audience check. [`manager::Manager`], the one home of token policy,
//! answers with a token from the [`store`], refreshed or obtained anew
//! through a [`grant`] with endpoints from [`discovery`]. The context turns
//! that into a [`context::Answer`] (a token, "not mine", or "not found"
//! when nobody may be asked), which the frontend writes. The commands
//! people type (`login`, `logout`, `status`, `init`, `configure`,
//! `doctor`, `help`) are [`commands`], apart from the callers.
//!
//! Only [`http`] speaks HTTP, only [`prompt`] talks to a person, only the
//! frontends know a wire format, only `main` turns an error into an exit
//! code (by its [`error::Kind`]), and every secret travels as a
//! [`secret::Secret`], which cannot be printed.
//!
//! Layers, each importing only those below it: [`secret`], [`error`],
//! [`env`](mod@env), [`log`], [`random`], [`bounded`], [`calendar`] →
//! [`token`], [`prompt`], [`http`] → [`config`] → [`store`] → [`discovery`]
//! → [`grant`] → [`resolver`], [`manager`] → [`context`] → [`protocol`]
//! (wire formats, for the callers alone) → [`commands`] → [`frontend`]
//! (whose `run` picks a caller or a command; keyring's `del`, Terraform's
//! `forget` and `cargo logout` are `logout`, and tell the person what it
//! did).
//!
//! docker asks one helper for every registry, so for registries that are not
//! OAuth providers [`store::static_credentials`] keeps the static
//! credentials `docker login` stores, in the same [`store`] as the tokens.
//!
//! Homes beyond the design's map: [`context`] (what every caller and
//! command is handed), [`store::keyring`] (the OS keychain),
//! [`store::layered`] (keychain in front of the file, so tokens written
//! before the keychain existed keep working), [`store::chunked`] (entries
//! split for platforms with small credentials), [`grant::callback`]
//! (judging the authorization response, redirected or pasted),
//! [`grant::loopback`] (the redirect listener and its pages),
//! [`grant::revocation`] (RFC 7009 at logout), [`grant::client`] (the
//! configured or registered client), [`grant::assertion`] (RFC 7523 client
//! assertions: signed here, read from a file, or a CI platform's OIDC
//! token), [`grant::dpop`] (RFC 9449: the key a `dpop = true` provider's
//! tokens are bound to, and its proofs), [`grant::interactive`] (browser,
//! device or paste), [`frontend::resource`] (tokens for a resource server
//! a person named, per the MCP authorization spec, shared by `mcp`,
//! `headers` and `login`), [`discovery::resource_server`] (RFC 9728 for
//! such a server), [`http::stream`] (answers read as they arrive),
//! [`protocol::sse`] and [`protocol::jsonrpc`] (the MCP bridge's wire
//! formats), [`resolver`]
//! (the data flow's Resolver), [`env`](mod@env) (environment values that
//! cannot panic), [`random`] (the OS RNG), [`bounded`] (the one bounded
//! read), [`calendar`] (Unix seconds as RFC 3339, local times, spans) and
//! [`log`] (`-v`).
//!
//! The in-memory authorization server of the tests and the quick start is
//! not in this crate: it is the `oauth-test-server` workspace member in
//! `crates/testserver/`, a dev-dependency only.
// Four exceptions: in store::file, geteuid(2), to refuse token files that
// belong to another user; in secret::protect_process_memory, setrlimit(2)
// and prctl(2), so no core file holds a secret; in calendar::local_offset,
// localtime_r(3), for local times in `status`; in store::kernel, add_key(2)
// and keyctl(2), for tokens in the kernel keyring. Everything else is safe
// code.
#![deny(unsafe_code)]

pub mod bounded;
pub mod calendar;
pub mod commands;
pub mod config;
pub mod context;
pub mod discovery;
pub mod env;
pub mod error;
pub mod frontend;
pub mod grant;
pub mod http;
pub mod log;
pub mod manager;
pub mod prompt;
pub mod protocol;
pub mod random;
pub mod resolver;
pub mod secret;
pub mod store;
pub mod token;
