//! The OS keychain, through the `keyring` crate: the Secret Service over
//! D-Bus (pure-Rust zbus, no libdbus) on Linux and the BSDs, Keychain
//! Services on macOS, the Credential Manager on Windows. Service
//! `credential-oauth`, account = the cache key, secret = the token JSON
//! (DESIGN.md "Where tokens live").
//!
//! Every call runs on a helper thread and is waited for at most a bound: a
//! keychain that hangs (a D-Bus service being activated, an unlock prompt
//! nobody answers) must not hang git with it.

use super::{CacheKey, Store};
use crate::error::{Error, Result};
use crate::secret::Secret;
use std::sync::mpsc;
use std::time::Duration;

pub const SERVICE: &str = "credential-oauth";

/// The largest value one keychain entry holds, in UTF-8 bytes; larger
/// values are split over several entries (see [`super::chunked`]). A
/// Windows credential holds 2560 bytes (`CRED_MAX_CREDENTIAL_BLOB_SIZE`) of
/// UTF-16, which is at most twice the UTF-8 length; JWT access tokens with
/// many claims exceed that.
#[cfg(windows)]
pub const ENTRY_SIZE: Option<usize> = Some(1280);
/// The Secret Service and Keychain Services have no limit that a token reaches.
#[cfg(not(windows))]
pub const ENTRY_SIZE: Option<usize> = None;

/// The largest value kept in the keychain at all, split or not; anything
/// larger goes to the file (see [`super::layered`]).
#[cfg(windows)]
pub const VALUE_LIMIT: Option<usize> = Some(16 * 1280);
#[cfg(not(windows))]
pub const VALUE_LIMIT: Option<usize> = None;

pub struct KeyringStore {
    /// How long one call may take.
    bound: Duration,
}

impl KeyringStore {
    /// Connect to the platform's keychain, waiting at most `probe`. Connecting
    /// is the work the first lookup needs anyway (on Linux: the bus, then a
    /// Secret Service session), so a keychain that answers costs no extra
    /// round trip for being probed.
    pub fn connect(probe: Duration, bound: Duration) -> Result<KeyringStore> {
        if let Some(why) = no_session_bus() {
            return Err(Error::Local(format!("keychain: {why}")));
        }
        bounded(probe, || match ::keyring::Entry::store_status() {
            Ok(()) => Ok(()),
            Err(e) => Err(describe(e)),
        })?;
        Ok(KeyringStore { bound })
    }
}

impl Store for KeyringStore {
    fn load(&self, key: &CacheKey) -> Result<Option<Secret>> {
        let account = key.as_str().to_string();
        bounded(self.bound, move || {
            match ::keyring::Entry::new(SERVICE, &account).and_then(|e| e.get_password()) {
                Ok(text) => Ok(Some(Secret::new(text))),
                Err(::keyring::Error::NoEntry) => Ok(None),
                // Not text, or several items for one key: a corrupt entry,
                // which reads as a miss and is replaced by the next save.
                Err(
                    ::keyring::Error::BadEncoding(_)
                    | ::keyring::Error::BadDataFormat(..)
                    | ::keyring::Error::Ambiguous(_),
                ) => Ok(Some(Secret::new(""))),
                Err(e) => Err(describe(e)),
            }
        })
    }

    fn save(&self, key: &CacheKey, value: &Secret) -> Result<()> {
        let account = key.as_str().to_string();
        let value = value.clone();
        bounded(self.bound, move || {
            let entry = ::keyring::Entry::new(SERVICE, &account).map_err(describe)?;
            match entry.set_password(value.expose()) {
                Err(::keyring::Error::Ambiguous(duplicates)) => {
                    for d in duplicates {
                        d.delete_credential().map_err(describe)?;
                    }
                    entry.set_password(value.expose()).map_err(describe)?;
                }
                other => other.map_err(describe)?,
            }
            label_account(&entry, &account);
            Ok(())
        })
    }

    fn delete(&self, key: &CacheKey) -> Result<bool> {
        let account = key.as_str().to_string();
        bounded(self.bound, move || {
            match ::keyring::Entry::new(SERVICE, &account).and_then(|e| e.delete_credential()) {
                Ok(()) => Ok(true),
                Err(::keyring::Error::NoEntry) => Ok(false),
                Err(::keyring::Error::Ambiguous(duplicates)) => {
                    for d in duplicates {
                        d.delete_credential().map_err(describe)?;
                    }
                    Ok(true)
                }
                Err(e) => Err(describe(e)),
            }
        })
    }

    fn name(&self) -> &'static str {
        "keyring"
    }
}

/// The session bus the Secret Service is asked on, which names the
/// keychain: the address zbus connects to (`DBUS_SESSION_BUS_ADDRESS`, else
/// `unix:path=$XDG_RUNTIME_DIR/bus`, else `unix:path=/run/user/<uid>/bus`),
/// without the optional `guid=` of each alternative, which only confirms
/// the server and is written by some launchers and not others. Reads the
/// environment alone (no connection), so the kernel cache can be keyed by
/// it on a warm `get`.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
pub fn session_bus_address() -> String {
    match std::env::var("DBUS_SESSION_BUS_ADDRESS") {
        Ok(address) => without_guid(&address),
        Err(_) => {
            let runtime = std::env::var("XDG_RUNTIME_DIR")
                .unwrap_or_else(|_| format!("/run/user/{}", super::file::effective_uid()));
            format!("unix:path={runtime}/bus")
        }
    }
}

/// `address` without the `guid=` key of each of its alternatives.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn without_guid(address: &str) -> String {
    address
        .split(';')
        .map(|alternative| match alternative.split_once(':') {
            // transport:key=value,key=value (D-Bus specification, "Server Addresses").
            Some((transport, keys)) => {
                let keys: Vec<&str> = keys
                    .split(',')
                    .filter(|k| !k.starts_with("guid="))
                    .collect();
                format!("{transport}:{}", keys.join(","))
            }
            None => alternative.to_string(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// Why no session bus can be reached, when that is plain without trying:
/// the address D-Bus clients would use ([`session_bus_address`]) is a
/// socket path that does not exist. A headless box then learns "no
/// keychain" without starting a thread. Addresses of other forms are left
/// to the D-Bus client.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn no_session_bus() -> Option<String> {
    let address = session_bus_address();
    let path = address.strip_prefix("unix:path=")?;
    if path.contains(';') {
        return None;
    }
    let socket = path.split(',').next()?;
    match std::fs::symlink_metadata(socket) {
        Ok(_) => None,
        Err(_) => Some(format!(
            "no session bus ({} does not exist)",
            crate::http::printable(socket, 200)
        )),
    }
}

#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
fn no_session_bus() -> Option<String> {
    None
}

/// The Secret Service store files items under `service` and `username`;
/// `account` is the attribute other tools look for (`secret-tool lookup
/// service credential-oauth account KEY`), so it is added too.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn label_account(entry: &::keyring::Entry, account: &str) {
    let attributes = std::collections::HashMap::from([("account", account)]);
    if let Err(e) = entry.inner.update_attributes(&attributes) {
        crate::debug!(
            "keychain: cannot add the account attribute: {}",
            describe(e)
        );
    }
}

#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
fn label_account(_entry: &::keyring::Entry, _account: &str) {}

/// A keychain error as one line. keyring's messages hold no secret (the
/// variants that carry the stored bytes are handled before this).
fn describe(e: impl std::fmt::Display) -> Error {
    Error::Local(format!(
        "keychain: {}",
        crate::http::printable(&e.to_string(), 300)
    ))
}

/// Run `op` on a helper thread and wait at most `wait` for it. A call that
/// overruns is left behind; the process ends soon and takes it along.
fn bounded<T: Send + 'static>(
    wait: Duration,
    op: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("keychain".into())
        .spawn(move || {
            let _ = tx.send(op());
        })
        .map_err(|e| Error::Local(format!("keychain: cannot start a thread: {e}")))?;
    match rx.recv_timeout(wait) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::Local(format!(
            "keychain: no answer within {:.1} s",
            wait.as_secs_f64()
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(Error::Local("keychain: the call failed".into()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_that_overruns_its_bound_is_an_error() {
        let (tx, rx) = mpsc::channel::<()>();
        let started = std::time::Instant::now();
        let r = bounded(Duration::from_millis(50), move || {
            // Blocks until the test ends and drops the sender.
            let _ = rx.recv();
            Ok(())
        });
        let e = r.unwrap_err().to_string();
        assert!(e.contains("no answer within"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
        drop(tx);
    }

    #[test]
    fn a_call_within_its_bound_answers() {
        assert_eq!(bounded(Duration::from_secs(5), || Ok(7)).unwrap(), 7);
    }

    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    #[test]
    fn a_bus_address_names_its_server_without_the_guid() {
        assert_eq!(
            without_guid("unix:path=/run/user/1000/bus,guid=0123abcd"),
            "unix:path=/run/user/1000/bus"
        );
        assert_eq!(
            without_guid("unix:guid=1,abstract=/tmp/dbus-x;tcp:host=localhost,port=1,guid=2"),
            "unix:abstract=/tmp/dbus-x;tcp:host=localhost,port=1"
        );
        assert_eq!(
            without_guid("unix:path=/run/user/1000/bus"),
            "unix:path=/run/user/1000/bus"
        );
    }
}
