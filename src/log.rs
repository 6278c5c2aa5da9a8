//! Diagnostics on stderr for `-v` and `CREDENTIAL_OAUTH_LOG=debug`.
//!
//! Only decisions are logged (provider, cache hit, endpoint, status), never a
//! value held in a `Secret`: the type has no `Display`, so it cannot be
//! formatted into a message by accident.

use std::sync::atomic::{AtomicBool, Ordering};

static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

pub fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed)
}

/// Whether the environment asks for debug output.
pub fn env_asks_for_debug() -> bool {
    std::env::var("CREDENTIAL_OAUTH_LOG")
        .map(|v| matches!(v.to_ascii_lowercase().as_str(), "debug" | "trace" | "1"))
        .unwrap_or(false)
}

/// A warning that is not part of any dialogue and must be seen even
/// without `-v` (a token file others could read, a failing OS RNG): one
/// line on stderr, never a secret.
pub fn warn(message: &str) {
    eprintln!("credential-oauth: warning: {message}");
}

#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::log::verbose() {
            eprintln!("credential-oauth: {}", format_args!($($arg)*));
        }
    };
}
