//! Where tokens live: a [`Store`] of small [`Secret`]s addressed by [`CacheKey`],
//! and a per-key lock that serialises refresh and login across processes.
//! [`open`] picks the backend: the OS keychain ([`keyring`]) or, on Linux,
//! the kernel's persistent keyring (`kernel`) in front of the file
//! ([`file`]), or the file alone; on Linux the keychain sits behind a cache
//! in the user's kernel keyring.

pub mod accounts;
pub mod chunked;
pub mod discovered;
pub mod file;
#[cfg(target_os = "linux")]
pub mod kernel;
pub mod keyring;
pub mod layered;
pub mod lock;
#[cfg(test)]
pub mod memory;
pub mod static_credentials;

use crate::config::Storage;
use crate::error::{Error, Result};
use crate::secret::Secret;
use file::FileStore;
use md5::{Digest, Md5};
use std::path::PathBuf;
use std::time::Duration;

/// The name of one cache entry: lowercase hex MD5 of
/// `issuer "\n" client_id "\n" scopes (sorted, space-joined) "\n" account`
/// (DESIGN.md "Where tokens live").
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey(String);

impl CacheKey {
    pub fn new(issuer: &str, client_id: &str, scopes: &[String], account: &str) -> CacheKey {
        CacheKey::hashed(&CacheKey::token_input(issuer, client_id, scopes, account))
    }

    /// The key of a token for a provider found by RFC 9728 discovery: the
    /// protected resource's identifier is added (`"\n" resource`), so a
    /// token obtained for one resource is never handed to another, nor to a
    /// configured provider of the same issuer.
    pub fn for_resource(
        issuer: &str,
        client_id: &str,
        scopes: &[String],
        account: &str,
        resource: &str,
    ) -> CacheKey {
        let input = CacheKey::token_input(issuer, client_id, scopes, account);
        CacheKey::hashed(&format!("{input}\n{resource}"))
    }

    fn token_input(issuer: &str, client_id: &str, scopes: &[String], account: &str) -> String {
        let mut sorted: Vec<&str> = scopes.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        format!("{issuer}\n{client_id}\n{}\n{account}", sorted.join(" "))
    }

    /// A key for something other than a token, in its own namespace.
    pub fn hashed(input: &str) -> CacheKey {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = Md5::digest(input.as_bytes());
        let mut hex = String::with_capacity(2 * digest.len());
        for b in digest {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        CacheKey(hex)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A place for cache entries. Values are the JSON the manager writes, held
/// as [`Secret`]s on both sides of the interface (DESIGN.md "Rules that hold
/// everywhere"): the store neither parses nor logs them, and a backend
/// exposes a value only where it hands it to the keychain or the file.
pub trait Store {
    /// The entry for `key`, or `None` when there is none.
    fn load(&self, key: &CacheKey) -> Result<Option<Secret>>;
    /// Replace the entry for `key` atomically: readers see the old or the new value.
    fn save(&self, key: &CacheKey, value: &Secret) -> Result<()>;
    /// Remove the entry; `true` when there was one.
    fn delete(&self, key: &CacheKey) -> Result<bool>;
    /// A short name for diagnostics and `status`.
    fn name(&self) -> &'static str;
    /// The entry and the name of the backend that holds it.
    fn find(&self, key: &CacheKey) -> Result<Option<(Secret, &'static str)>> {
        Ok(self.load(key)?.map(|value| (value, self.name())))
    }
}

/// How long `auto` waits for a keychain to answer before it settles for the file.
const PROBE: Duration = Duration::from_millis(1500);
/// How long one keychain call may take under `auto`: enough for a D-Bus
/// round trip on a loaded machine, too little for a prompt someone must answer
/// (a locked collection then means the file).
const AUTO_CALL: Duration = Duration::from_secs(3);
/// Under `storage = "keyring"` a keychain that is slow to start (a Secret
/// Service activated on demand) is waited for: it was asked for by name.
const STRICT_PROBE: Duration = Duration::from_secs(10);
/// Under `storage = "keyring"` an unlock prompt may be answered.
const STRICT_CALL: Duration = Duration::from_secs(120);

/// The store for `storage`:
/// - `file`: the file alone;
/// - `kernel` (Linux): the persistent kernel keyring, failing when the
///   kernel offers none;
/// - `keyring`: the keychain, failing when none answers within
///   [`STRICT_PROBE`];
/// - `auto`: the keychain when one answers within [`PROBE`], else the
///   kernel keyring where there is one, else the file.
///
/// With the keychain or the kernel keyring, entries still in the file are
/// read and moved over. On Linux the keychain sits behind a cache in the
/// user's kernel keyring ([`kernel::Cached`]) and is connected to only on a
/// miss: a warm `get` starts no thread and opens no socket.
pub fn open(storage: Storage, file: FileStore) -> Result<Box<dyn Store>> {
    match storage {
        Storage::File => Ok(opened(Box::new(file))),
        Storage::Kernel => kernel_store(file, true).map(opened),
        Storage::Keyring => behind_a_cache(file, true, || {
            self::keyring::KeyringStore::connect(STRICT_PROBE, STRICT_CALL)
                .map(Some)
                .map_err(|e| {
                    Error::Local(format!(
                        "storage = \"keyring\" but no keychain is available ({e}); \
                         use storage = \"auto\", \"kernel\" or \"file\""
                    ))
                })
        }),
        Storage::Auto => behind_a_cache(file, false, || {
            Ok(self::keyring::KeyringStore::connect(PROBE, AUTO_CALL)
                .inspect_err(|e| crate::debug!("no keychain ({e})"))
                .ok())
        }),
    }
}

/// The keychain `connect` finds in front of the file (`strict`: its
/// failures are errors), or, when it finds none, the kernel keyring or the
/// file; connected to on first use, behind the kernel cache where there is
/// one.
fn behind_a_cache(
    file: FileStore,
    strict: bool,
    connect: impl Fn() -> Result<Option<self::keyring::KeyringStore>> + 'static,
) -> Result<Box<dyn Store>> {
    let dir = file.dir().to_path_buf();
    let open = move || -> Result<Box<dyn Store>> {
        let file = FileStore::new(dir.clone());
        match connect()? {
            Some(keychain) => Ok(Box::new(layered::Layered::new(
                split_when_needed(keychain),
                file,
                self::keyring::VALUE_LIMIT,
                strict,
            )) as Box<dyn Store>),
            None => kernel_store(file, false),
        }
        .map(opened)
    };
    // Keyed by the keychain, not by `file`'s directory: a process with
    // another cache directory that asks the same keychain shares the copy.
    #[cfg(target_os = "linux")]
    return Ok(Box::new(kernel::Cached::new(
        &self::keyring::session_bus_address(),
        kernel::CACHE_TTL,
        open,
    )));
    #[cfg(not(target_os = "linux"))]
    open()
}

/// `store`, said under `-v` once it is known.
fn opened(store: Box<dyn Store>) -> Box<dyn Store> {
    crate::debug!("storage: {}", store.name());
    store
}

/// The persistent kernel keyring in front of the file. `required`
/// (`storage = "kernel"`): its failures are errors; otherwise (`auto`
/// without a keychain) a kernel that offers none means the file.
#[cfg(target_os = "linux")]
fn kernel_store(file: FileStore, required: bool) -> Result<Box<dyn Store>> {
    match kernel::KernelStore::open(file.dir()) {
        // Asked for by name, the kernel keeps every token or none: a value
        // larger than a key holds is an error there, not a file on disk.
        Ok(ring) => Ok(Box::new(layered::Layered::new(
            Box::new(ring),
            file,
            (!required).then_some(kernel::VALUE_LIMIT),
            required,
        ))),
        Err(e) if required => Err(Error::Local(format!(
            "storage = \"kernel\" but {e}; use storage = \"auto\" or \"file\""
        ))),
        Err(e) => {
            crate::debug!("{e}; tokens go to {}", file.dir().display());
            Ok(Box::new(file))
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn kernel_store(file: FileStore, required: bool) -> Result<Box<dyn Store>> {
    if required {
        return Err(Error::Local(
            "storage = \"kernel\" is the Linux kernel keyring; use storage = \"auto\" or \"file\" here"
                .into(),
        ));
    }
    crate::debug!("no keychain; tokens go to {}", file.dir().display());
    Ok(Box::new(file))
}

/// Whether the kernel offers a persistent keyring; the error says why not.
pub fn kernel_status() -> Result<()> {
    #[cfg(target_os = "linux")]
    return kernel::KernelStore::open(std::path::Path::new("/")).map(|_| ());
    #[cfg(not(target_os = "linux"))]
    Err(Error::Local("the kernel keyring is Linux's".into()))
}

/// Whether a keychain answers, as `auto` asks it; the error says why not.
pub fn keychain_status() -> Result<()> {
    self::keyring::KeyringStore::connect(PROBE, AUTO_CALL).map(|_| ())
}

/// The keychain, splitting values where one entry holds too little.
fn split_when_needed(keychain: self::keyring::KeyringStore) -> Box<dyn Store> {
    match self::keyring::ENTRY_SIZE {
        Some(size) => Box::new(chunked::Chunked::new(keychain, size)),
        None => Box::new(keychain),
    }
}

/// `$XDG_CACHE_HOME/credential-oauth`, else `~/.cache/credential-oauth`.
pub fn cache_dir() -> Option<PathBuf> {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| crate::env::home_dir().map(|h| h.join(".cache")))
        .map(|base| base.join("credential-oauth"))
}

/// The directory holding token files and lock files.
pub fn tokens_dir() -> Option<PathBuf> {
    cache_dir().map(|d| d.join("tokens"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_key_is_md5_of_the_documented_string() {
        let scopes = vec!["write".to_string(), "read".to_string()];
        let key = CacheKey::new("https://auth.example.com", "abc", &scopes, "");
        // md5("https://auth.example.com\nabc\nread write\n")
        let expected = CacheKey::hashed("https://auth.example.com\nabc\nread write\n");
        assert_eq!(key, expected);
        assert_eq!(key.as_str().len(), 32);
        assert!(
            key.as_str()
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_eq!(
            CacheKey::hashed("").as_str(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
    }

    #[test]
    fn account_and_scope_order_matter_as_documented() {
        let a = CacheKey::new("i", "c", &["x".into(), "y".into()], "");
        let b = CacheKey::new("i", "c", &["y".into(), "x".into()], "");
        let c = CacheKey::new("i", "c", &["x".into(), "y".into()], "alice");
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn storage_kernel_never_puts_a_token_on_disk_even_one_too_large_for_it() {
        let dir = std::env::temp_dir().join(format!(
            "credential-oauth-kernel-{}-{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let store = match kernel_store(FileStore::new(dir.clone()), true) {
            Ok(store) => store,
            Err(e) => {
                eprintln!("skipped: {e}");
                return;
            }
        };
        let key = CacheKey::hashed("large");
        let large = Secret::new("x".repeat(kernel::VALUE_LIMIT + 1));
        let e = store.save(&key, &large).unwrap_err();
        assert!(
            e.to_string().contains("more than a kernel key holds"),
            "{e}"
        );
        assert!(!dir.exists(), "something was written to {}", dir.display());

        // Under auto the same value goes to the file, which holds it.
        let auto = kernel_store(FileStore::new(dir.clone()), false).unwrap();
        auto.save(&key, &large).unwrap();
        assert!(dir.join(format!("{}.json", key.as_str())).exists());
        assert!(auto.delete(&key).unwrap());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_discovered_resource_has_a_key_of_its_own() {
        let key = CacheKey::for_resource("https://as", "", &[], "", "https://git.example/");
        assert_eq!(
            key,
            CacheKey::hashed("https://as\n\n\n\nhttps://git.example/")
        );
        assert_ne!(key, CacheKey::new("https://as", "", &[], ""));
    }
}
