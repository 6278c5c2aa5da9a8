//! The Linux kernel keyring (keyrings(7)): tokens held in kernel memory,
//! never written to disk, readable only by processes of the same user that
//! possess them.
//!
//! Two uses:
//! - [`KernelStore`], `storage = "kernel"`: entries in the user's
//!   *persistent* keyring, which outlives logout and is gone at reboot (and
//!   after `kernel.keys.persistent_keyring_expiry` seconds, three days by
//!   default, in which no process of the user asked for it).
//! - [`Cached`]: a per-login cache in front of the Secret Service, in the
//!   *user* keyring, each entry with a timeout. A warm `get` then reads one
//!   key with three system calls instead of a D-Bus conversation.
//!
//! Every entry is a `user` key. A [`KernelStore`] entry is described
//! `credential-oauth:<dir>:<key>`, where `<dir>` is the token directory: a
//! second `XDG_CACHE_HOME` keeps tokens apart in the kernel as it does on
//! disk. A [`Cached`] copy is described `credential-oauth:keychain:<bus>:<key>`,
//! where `<bus>` is the first 16 hex digits of the SHA-256 of the session bus
//! address (which names the Secret Service that holds the entry): every process
//! that talks to one keychain shares one copy, whatever its cache
//! directory, so a logout in one reaches the copy another serves
//! (DESIGN.md "Trust"). Copies that earlier versions kept per directory
//! (`credential-oauth:<dir>:<key>` in the user keyring) are never read;
//! `erase` and `logout` drop them too, for every directory.
//!
//! One of the four places that need `unsafe` (listed in lib.rs): add_key(2)
//! and keyctl(2) have no wrapper in std or libc.

use super::{CacheKey, Store};
use crate::error::{Error, Result};
use crate::secret::Secret;
use sha2::{Digest, Sha256};
use std::cell::OnceCell;
use std::ffi::CString;
use std::io;
use std::path::Path;
use std::time::Duration;

/// The largest payload of a `user` key (keyrings(7)); larger values go to
/// the file (see [`super::layered`]).
pub const VALUE_LIMIT: usize = 32767;

/// How long an entry of the keychain cache lives: a token changed behind
/// our back (another program editing the Secret Service) is seen again
/// after at most this long.
pub const CACHE_TTL: Duration = Duration::from_secs(3600);

/// One keyring, by the special or real serial number keyctl(2) takes.
#[derive(Clone, Copy, Debug)]
struct Ring(i32);

impl Ring {
    /// The user's persistent keyring, linked into this process's keyring
    /// so that its keys are possessed (and readable) here.
    fn persistent() -> io::Result<Ring> {
        // uid -1: the caller's own.
        let id = sys::keyctl(
            libc::KEYCTL_GET_PERSISTENT,
            u32::MAX as libc::c_ulong,
            libc::KEY_SPEC_PROCESS_KEYRING as libc::c_ulong,
            0,
            0,
        )?;
        Ok(Ring(id as i32))
    }

    /// The user keyring, shared by the user's processes while any of them runs.
    fn user() -> Ring {
        Ring(libc::KEY_SPEC_USER_KEYRING)
    }

    /// The key described as `description`, if there is one.
    fn search(self, description: &str) -> io::Result<Option<i32>> {
        let description = c_string(description)?;
        let found = sys::keyctl(
            libc::KEYCTL_SEARCH,
            self.0 as libc::c_ulong,
            c"user".as_ptr() as libc::c_ulong,
            description.as_ptr() as libc::c_ulong,
            0,
        );
        match found {
            Ok(id) => Ok(Some(id as i32)),
            // ENOKEY: none; EKEYEXPIRED / EKEYREVOKED: one that is as good as none.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ENOKEY | libc::EKEYEXPIRED | libc::EKEYREVOKED)
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The payload of `description`, if there is such a key.
    fn read(self, description: &str) -> io::Result<Option<String>> {
        let Some(id) = self.search(description)? else {
            return Ok(None);
        };
        let mut buffer = vec![0u8; 4096];
        loop {
            // None: removed between the search and the read.
            let Some(len) = fill(libc::KEYCTL_READ, id, &mut buffer)? else {
                return Ok(None);
            };
            if len <= buffer.len() {
                buffer.truncate(len);
                // Not UTF-8: nothing we wrote, and it reads as a corrupt
                // entry, which the next save replaces.
                return Ok(Some(String::from_utf8(buffer).unwrap_or_default()));
            }
            if len > VALUE_LIMIT {
                return Err(io::Error::other("a key larger than any we write"));
            }
            buffer = vec![0u8; len];
        }
    }

    /// Create or replace `description` atomically (add_key(2) updates a key
    /// of the same type and description in place); `timeout`, when given,
    /// makes the kernel drop it after that long.
    fn write(self, description: &str, value: &str, timeout: Option<Duration>) -> io::Result<()> {
        if value.len() > VALUE_LIMIT {
            return Err(io::Error::other(format!(
                "{} bytes is more than a kernel key holds ({VALUE_LIMIT})",
                value.len()
            )));
        }
        let description = c_string(description)?;
        let id = sys::add_key(&description, value.as_bytes(), self.0)?;
        if let Some(timeout) = timeout {
            sys::keyctl(
                libc::KEYCTL_SET_TIMEOUT,
                id as libc::c_ulong,
                timeout.as_secs() as libc::c_ulong,
                0,
                0,
            )?;
        }
        Ok(())
    }

    /// Invalidate `description`: gone at once for every process. `true`
    /// when there was such a key.
    fn remove(self, description: &str) -> io::Result<bool> {
        let Some(id) = self.search(description)? else {
            return Ok(false);
        };
        invalidate(id)
    }

    /// Invalidate every `user` key linked in this keyring (not in keyrings
    /// below it) whose description `matches`; how many there were. One
    /// that cannot be invalidated does not keep the others: the first such
    /// error is returned once all were tried.
    fn remove_matching(self, matches: impl Fn(&str) -> bool) -> io::Result<usize> {
        let (mut removed, mut failed) = (0, None);
        for (id, description) in self.user_keys()? {
            if !matches(&description) {
                continue;
            }
            match invalidate(id) {
                Ok(true) => removed += 1,
                Ok(false) => {}
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        failed.map_or(Ok(removed), Err)
    }

    /// The descriptions of the `user` keys linked in this keyring.
    fn descriptions(self) -> io::Result<Vec<String>> {
        Ok(self.user_keys()?.into_iter().map(|(_, d)| d).collect())
    }

    /// The `user` keys linked in this keyring, with their descriptions. A
    /// key that went, or that we may not see, is none of ours.
    fn user_keys(self) -> io::Result<Vec<(i32, String)>> {
        let mut found = Vec::new();
        for id in self.links()? {
            let Ok(Some(described)) = describe_key(id) else {
                continue;
            };
            // type;uid;gid;perm;description (keyctl_describe(3)).
            let mut fields = described.splitn(5, ';');
            if fields.next() == Some("user")
                && let Some(description) = fields.nth(3)
            {
                found.push((id, description.to_string()));
            }
        }
        Ok(found)
    }

    /// The serial numbers of the keys linked in this keyring.
    fn links(self) -> io::Result<Vec<i32>> {
        let mut buffer = vec![0u8; 4 * 64];
        loop {
            let len = sys::keyctl(
                libc::KEYCTL_READ,
                self.0 as libc::c_ulong,
                buffer.as_mut_ptr() as libc::c_ulong,
                buffer.len() as libc::c_ulong,
                0,
            )? as usize;
            if len <= buffer.len() {
                return Ok(buffer[..len]
                    .chunks_exact(4)
                    .map(|id| i32::from_ne_bytes([id[0], id[1], id[2], id[3]]))
                    .collect());
            }
            // `len` is what all of them take: read again with that room.
            buffer = vec![0u8; len];
        }
    }
}

/// Invalidate the key `id`: `true` when it was there to invalidate.
fn invalidate(id: i32) -> io::Result<bool> {
    match sys::keyctl(libc::KEYCTL_INVALIDATE, id as libc::c_ulong, 0, 0, 0) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOKEY) => Ok(false),
        Err(e) => Err(e),
    }
}

/// keyctl(2) `op` (READ, DESCRIBE) of the key `id` into `buffer`: the
/// length the whole answer needs (more than `buffer` holds when it did not
/// fit), or `None` when the key is gone (removed, expired, revoked).
fn fill(op: u32, id: i32, buffer: &mut [u8]) -> io::Result<Option<usize>> {
    match sys::keyctl(
        op,
        id as libc::c_ulong,
        buffer.as_mut_ptr() as libc::c_ulong,
        buffer.len() as libc::c_ulong,
        0,
    ) {
        Ok(len) => Ok(Some(len as usize)),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::ENOKEY | libc::EKEYEXPIRED | libc::EKEYREVOKED)
            ) =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// keyctl_describe(3) of the key `id`, if it is still there.
fn describe_key(id: i32) -> io::Result<Option<String>> {
    // Room for the longest description (4095 bytes) and the fields before it.
    let mut buffer = vec![0u8; 4096 + 64];
    let Some(len) = fill(libc::KEYCTL_DESCRIBE, id, &mut buffer)? else {
        return Ok(None);
    };
    if len > buffer.len() {
        return Err(io::Error::other(
            "a key description longer than the kernel allows",
        ));
    }
    // The length counts the closing NUL.
    buffer.truncate(len.saturating_sub(1));
    Ok(Some(String::from_utf8_lossy(&buffer).into_owned()))
}

fn c_string(text: &str) -> io::Result<CString> {
    CString::new(text).map_err(|_| io::Error::other("a NUL byte in a key description"))
}

/// The description of `key`'s [`KernelStore`] entry for the token directory `dir`.
fn description(dir: &str, key: &CacheKey) -> String {
    format!("credential-oauth:{dir}:{}", key.as_str())
}

/// The start of the descriptions of [`Cached`] copies of entries in the
/// keychain on the session bus `bus` (its address), the key follows: no
/// cache directory in it, so every process of the user that asks that
/// keychain finds (and drops) the same copy; the address hashed, so it
/// stays short and names no path.
fn keychain_prefix(bus: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::from("credential-oauth:keychain:");
    for b in &Sha256::digest(bus.as_bytes())[..8] {
        text.push(char::from(HEX[usize::from(b >> 4)]));
        text.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    text.push(':');
    text
}

/// The token directory a per-directory entry (`credential-oauth:<dir>:<key>`)
/// was made for, when that directory is under `home` and no longer exists:
/// nobody reaches the entry through the helper any more, and it lasts
/// until reboot. Only under `home`: the user's own cache directories, not
/// those of another login of the same user (a CI job's workspace, another
/// test's home), which may still be coming to be.
fn orphaned_dir<'d>(description: &'d str, home: &Path) -> Option<&'d str> {
    let rest = description.strip_prefix("credential-oauth:")?;
    if rest.starts_with("keychain:") {
        return None;
    }
    let (dir, key) = rest.rsplit_once(':')?;
    let is_key = key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit());
    let dir_path = Path::new(dir);
    (is_key && dir_path.is_absolute() && dir_path.starts_with(home) && !dir_path.exists())
        .then_some(dir)
}

/// Where orphans are looked for: HOME, less this process's own token
/// directory, whose entries are this config's own, reachable whether or
/// not the directory is on disk (`storage = "kernel"` needs none).
struct Orphans {
    home: std::path::PathBuf,
    own: Option<String>,
}

impl Orphans {
    fn here() -> Option<Orphans> {
        Some(Orphans {
            home: crate::env::home_dir()?,
            own: super::tokens_dir().map(|d| d.to_string_lossy().into_owned()),
        })
    }

    fn of<'d>(&self, description: &'d str) -> Option<&'d str> {
        orphaned_dir(description, &self.home).filter(|d| Some(*d) != self.own.as_deref())
    }

    fn dirs(&self) -> Result<Vec<String>> {
        let mut dirs = std::collections::BTreeSet::new();
        for ring in [persistent_ring()?, Ring::user()] {
            let descriptions = ring
                .descriptions()
                .map_err(|e| describe("cannot list entries", e))?;
            dirs.extend(
                descriptions
                    .iter()
                    .filter_map(|d| self.of(d))
                    .map(str::to_string),
            );
        }
        Ok(dirs.into_iter().collect())
    }

    fn remove(&self) -> Result<usize> {
        let mut removed = 0;
        for ring in [persistent_ring()?, Ring::user()] {
            removed += ring
                .remove_matching(|d| self.of(d).is_some())
                .map_err(|e| describe("cannot remove entries", e))?;
        }
        Ok(removed)
    }
}

fn persistent_ring() -> Result<Ring> {
    Ring::persistent().map_err(|e| describe("no persistent keyring", e))
}

/// The token directories, under HOME and no longer on disk, that entries
/// in the kernel keyrings were made for: [`KernelStore`] entries in the
/// persistent keyring and per-directory cache copies of earlier versions
/// in the user keyring, this process's own directory excepted. A cache
/// directory someone deleted (or an `XDG_CACHE_HOME` no longer used)
/// leaves its entries behind.
pub fn orphaned_dirs() -> Result<Vec<String>> {
    Orphans::here().map_or(Ok(Vec::new()), |o| o.dirs())
}

/// Remove the entries [`orphaned_dirs`] finds; how many there were.
pub fn remove_orphans() -> Result<usize> {
    Orphans::here().map_or(Ok(0), |o| o.remove())
}

/// A kernel error as one line, naming the setting to change where there is one.
fn describe(what: &str, e: io::Error) -> Error {
    let hint = match e.raw_os_error() {
        Some(libc::EDQUOT) => {
            " (the user's kernel key quota is full: see kernel.keys.maxbytes and maxkeys)"
        }
        Some(libc::ENOSYS | libc::EPERM | libc::EACCES) => {
            " (the kernel keyring is not allowed here)"
        }
        Some(libc::EOPNOTSUPP) => " (this kernel has no persistent keyrings)",
        _ => "",
    };
    Error::Local(format!("kernel keyring: {what}: {e}{hint}"))
}

/// The token directory as it goes into descriptions.
fn dir_text(dir: &Path) -> Result<String> {
    let text = dir.to_string_lossy().into_owned();
    // Descriptions hold at most 4095 bytes; the key and prefix need 50.
    if text.len() > 4000 {
        return Err(Error::Local(
            "kernel keyring: the cache directory's path is too long for a key description".into(),
        ));
    }
    Ok(text)
}

/// `storage = "kernel"`: entries in the persistent keyring.
pub struct KernelStore {
    ring: Ring,
    dir: String,
}

impl KernelStore {
    /// The persistent keyring, or why there is none (a kernel without
    /// persistent keyrings, a seccomp filter that refuses keyctl(2)).
    pub fn open(dir: &Path) -> Result<KernelStore> {
        let dir = dir_text(dir)?;
        let ring = Ring::persistent().map_err(|e| describe("no persistent keyring", e))?;
        Ok(KernelStore { ring, dir })
    }
}

impl Store for KernelStore {
    fn load(&self, key: &CacheKey) -> Result<Option<Secret>> {
        self.ring
            .read(&description(&self.dir, key))
            .map(|found| found.map(Secret::new))
            .map_err(|e| describe("cannot read a key", e))
    }

    fn save(&self, key: &CacheKey, value: &Secret) -> Result<()> {
        self.ring
            .write(&description(&self.dir, key), value.expose(), None)
            .map_err(|e| describe("cannot store a key", e))
    }

    fn delete(&self, key: &CacheKey) -> Result<bool> {
        self.ring
            .remove(&description(&self.dir, key))
            .map_err(|e| describe("cannot remove a key", e))
    }

    fn name(&self) -> &'static str {
        "kernel"
    }
}

/// The keychain behind a cache in the user keyring. The keychain is opened
/// by `open` only on a miss, so a warm `get` starts no thread and opens no
/// socket. Only what the keychain itself held or took is cached; a cache
/// that cannot be used (no keyring, quota full) is skipped, never an error.
/// Copies are keyed by the keychain (its session bus address), not by the
/// token directory: see [`keychain_prefix`].
pub struct Cached<F: Fn() -> Result<Box<dyn Store>>> {
    prefix: String,
    ttl: Duration,
    open: F,
    inner: OnceCell<Box<dyn Store>>,
}

impl<F: Fn() -> Result<Box<dyn Store>>> Cached<F> {
    /// A cache for the keychain on the session bus `bus` (its address).
    pub fn new(bus: &str, ttl: Duration, open: F) -> Cached<F> {
        Cached {
            prefix: keychain_prefix(bus),
            ttl,
            open,
            inner: OnceCell::new(),
        }
    }

    fn description(&self, key: &CacheKey) -> String {
        format!("{}{}", self.prefix, key.as_str())
    }

    fn inner(&self) -> Result<&dyn Store> {
        if let Some(inner) = self.inner.get() {
            return Ok(inner.as_ref());
        }
        let opened = (self.open)()?;
        Ok(self.inner.get_or_init(|| opened).as_ref())
    }

    fn remember(&self, key: &CacheKey, value: &Secret) {
        if let Err(e) = Ring::user().write(&self.description(key), value.expose(), Some(self.ttl)) {
            crate::debug!("{}: not cached in the kernel keyring: {e}", key.as_str());
            self.forget(key);
        }
    }

    fn forget(&self, key: &CacheKey) {
        if let Err(e) = Ring::user().remove(&self.description(key)) {
            crate::debug!(
                "{}: cannot drop the kernel keyring's copy: {e}",
                key.as_str()
            );
        }
    }

    /// Drop the copies of `key` kept per token directory
    /// (`credential-oauth:<dir>:<key>` in the user keyring), by versions
    /// before copies were keyed by the keychain, for whatever directory.
    /// This version never reads them, but each still holds the token until
    /// its hour is up, and an older helper installed beside this one may
    /// still serve it: logout and erase remove every copy (DESIGN.md
    /// "Trust"). Copies for another keychain are left alone. Only on
    /// delete: it lists the user keyring, which a warm `get` must not pay.
    fn forget_per_directory_copies(&self, key: &CacheKey) {
        let suffix = format!(":{}", key.as_str());
        let per_directory = |description: &str| {
            description
                .strip_prefix("credential-oauth:")
                .is_some_and(|rest| !rest.starts_with("keychain:") && rest.ends_with(&suffix))
        };
        match Ring::user().remove_matching(per_directory) {
            Ok(0) => {}
            Ok(n) => crate::debug!(
                "{}: dropped {n} per-directory kernel keyring copies",
                key.as_str()
            ),
            Err(e) => crate::debug!(
                "{}: cannot drop per-directory kernel keyring copies: {e}",
                key.as_str()
            ),
        }
    }
}

/// The backends whose entries are worth caching: the keychain (and its
/// entries split over several items).
fn worth_caching(backend: &str) -> bool {
    backend == "keyring"
}

impl<F: Fn() -> Result<Box<dyn Store>>> Store for Cached<F> {
    fn load(&self, key: &CacheKey) -> Result<Option<Secret>> {
        Ok(self.find(key)?.map(|(value, _)| value))
    }

    fn find(&self, key: &CacheKey) -> Result<Option<(Secret, &'static str)>> {
        match Ring::user().read(&self.description(key)) {
            Ok(Some(value)) => {
                crate::debug!("{}: served by the keyring's kernel cache", key.as_str());
                return Ok(Some((Secret::new(value), "keyring")));
            }
            Ok(None) => {}
            Err(e) => crate::debug!("kernel keyring cache unavailable: {e}"),
        }
        let found = self.inner()?.find(key)?;
        if let Some((value, backend)) = &found
            && worth_caching(backend)
        {
            self.remember(key, value);
        }
        Ok(found)
    }

    fn save(&self, key: &CacheKey, value: &Secret) -> Result<()> {
        // Dropped first: a failed save must not leave the old value cached
        // over a keychain that may hold the new one.
        self.forget(key);
        let inner = self.inner()?;
        inner.save(key, value)?;
        if worth_caching(inner.name()) {
            self.remember(key, value);
        }
        Ok(())
    }

    fn delete(&self, key: &CacheKey) -> Result<bool> {
        self.forget(key);
        self.forget_per_directory_copies(key);
        self.inner()?.delete(key)
    }

    fn name(&self) -> &'static str {
        match self.inner() {
            Ok(inner) => inner.name(),
            Err(_) => "keyring",
        }
    }
}

/// The system calls, each a thin safe wrapper.
#[allow(unsafe_code)]
mod sys {
    use std::ffi::CStr;
    use std::io;

    /// add_key(2) of a `user` key.
    pub fn add_key(description: &CStr, payload: &[u8], ring: i32) -> io::Result<i32> {
        // SAFETY: every pointer is valid for the call: two NUL-terminated
        // strings and `payload` with its exact length; the kernel copies them
        // and keeps no reference.
        let id = unsafe {
            libc::syscall(
                libc::SYS_add_key,
                c"user".as_ptr(),
                description.as_ptr(),
                payload.as_ptr(),
                payload.len(),
                ring as libc::c_long,
            )
        };
        if id < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(id as i32)
        }
    }

    /// keyctl(2). Callers pass pointers only for operations that read a
    /// NUL-terminated string (SEARCH) or write at most the length given
    /// beside the buffer (READ, DESCRIBE), both alive for the call.
    pub fn keyctl(
        op: u32,
        a2: libc::c_ulong,
        a3: libc::c_ulong,
        a4: libc::c_ulong,
        a5: libc::c_ulong,
    ) -> io::Result<libc::c_long> {
        // SAFETY: see above; the other operations take integers only.
        let r = unsafe { libc::syscall(libc::SYS_keyctl, op as libc::c_long, a2, a3, a4, a5) };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::{MemoryStore, Op};
    use std::cell::Cell;
    use std::rc::Rc;

    /// A token directory no other test uses, so the tests share nothing in
    /// the user's kernel keyrings; its entries are removed at the end.
    fn dir(name: &str) -> std::path::PathBuf {
        std::path::PathBuf::from(format!(
            "/nonexistent/credential-oauth-test/{}/{name}/{}",
            std::process::id(),
            rand::random::<u64>()
        ))
    }

    fn kernel_available() -> bool {
        match Ring::persistent() {
            Ok(_) => true,
            Err(e) => {
                eprintln!("kernel keyring tests skipped: {e}");
                false
            }
        }
    }

    #[test]
    fn the_persistent_keyring_holds_replaces_and_removes_an_entry() {
        if !kernel_available() {
            return;
        }
        let store = KernelStore::open(&dir("store")).unwrap();
        let key = CacheKey::hashed("k");
        assert_eq!(store.load(&key).unwrap(), None);
        store.save(&key, &Secret::new("{\"a\":1}")).unwrap();
        assert_eq!(store.load(&key).unwrap(), Some(Secret::new("{\"a\":1}")));
        let long = "x".repeat(10_000);
        store.save(&key, &Secret::new(long.clone())).unwrap();
        assert_eq!(store.load(&key).unwrap(), Some(Secret::new(long)));
        assert!(store.delete(&key).unwrap());
        assert_eq!(store.load(&key).unwrap(), None);
        assert!(!store.delete(&key).unwrap());
    }

    #[test]
    fn entries_of_a_deleted_token_directory_are_found_and_removed_and_no_others() {
        if !kernel_available() {
            return;
        }
        let root = std::env::temp_dir().join(format!(
            "credential-oauth-orphans-{}-{}",
            std::process::id(),
            crate::random::u64()
        ));
        // The test's own "home", so no other test's entries are touched.
        let orphans = Orphans {
            home: root.clone(),
            own: Some(root.join("own/tokens").to_string_lossy().into_owned()),
        };
        let (gone, kept, own) = (
            root.join("gone/tokens"),
            root.join("kept/tokens"),
            root.join("own/tokens"),
        );
        std::fs::create_dir_all(&gone).unwrap();
        std::fs::create_dir_all(&kept).unwrap();
        let key = CacheKey::hashed("orphans");
        let value = Secret::new(String::from("v"));
        for dir in [&gone, &kept, &own] {
            KernelStore::open(dir).unwrap().save(&key, &value).unwrap();
        }
        let text = |p: &std::path::PathBuf| p.to_string_lossy().into_owned();
        assert!(
            orphans.dirs().unwrap().is_empty(),
            "own is the process's own"
        );
        std::fs::remove_dir_all(root.join("gone")).unwrap();
        assert_eq!(orphans.dirs().unwrap(), [text(&gone)]);
        assert_eq!(orphans.remove().unwrap(), 1);
        assert!(orphans.dirs().unwrap().is_empty());
        for dir in [&kept, &own] {
            let store = KernelStore::open(dir).unwrap();
            assert!(store.load(&key).unwrap().is_some(), "{}", text(dir));
            store.delete(&key).unwrap();
        }
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn only_per_directory_descriptions_of_missing_absolute_dirs_are_orphans() {
        let key = "0123456789abcdef0123456789abcdef";
        let home = Path::new("/nonexistent");
        let missing = format!("credential-oauth:/nonexistent/co-test/tokens:{key}");
        assert_eq!(
            orphaned_dir(&missing, home),
            Some("/nonexistent/co-test/tokens")
        );
        for not in [
            format!("credential-oauth:/:{key}"),
            format!("credential-oauth:/elsewhere/tokens:{key}"),
            format!("credential-oauth:keychain:0123456789abcdef:{key}"),
            format!("credential-oauth:relative/dir:{key}"),
            "credential-oauth:/nonexistent/x:notakey".to_string(),
            format!("other:/nonexistent/x:{key}"),
        ] {
            assert_eq!(orphaned_dir(&not, home), None, "{not}");
        }
    }

    #[test]
    fn a_value_larger_than_a_key_holds_is_refused_and_the_old_one_kept() {
        if !kernel_available() {
            return;
        }
        let store = KernelStore::open(&dir("large")).unwrap();
        let key = CacheKey::hashed("k");
        store.save(&key, &Secret::new("old")).unwrap();
        let e = store
            .save(&key, &Secret::new("y".repeat(VALUE_LIMIT + 1)))
            .unwrap_err();
        assert!(
            e.to_string().contains("more than a kernel key holds"),
            "{e}"
        );
        assert_eq!(store.load(&key).unwrap(), Some(Secret::new("old")));
        store.delete(&key).unwrap();
    }

    #[test]
    fn two_token_directories_never_see_each_others_entries() {
        if !kernel_available() {
            return;
        }
        let a = KernelStore::open(&dir("a")).unwrap();
        let b = KernelStore::open(&dir("b")).unwrap();
        let key = CacheKey::hashed("k");
        a.save(&key, &Secret::new("a's")).unwrap();
        assert_eq!(b.load(&key).unwrap(), None);
        assert!(!b.delete(&key).unwrap());
        assert_eq!(a.load(&key).unwrap(), Some(Secret::new("a's")));
        a.delete(&key).unwrap();
    }

    /// A session bus address no other test uses.
    fn bus(name: &str) -> String {
        format!("unix:path={}", dir(name).join("bus").display())
    }

    /// A keychain stand-in (a memory store called `backend`) that counts how
    /// often it is opened, on a session bus of the test's own, and a key no
    /// other test uses (so no test's sweep of per-directory copies reaches
    /// another's entries).
    struct Fixture {
        keychain: Rc<MemoryStore>,
        opened: Rc<Cell<usize>>,
        bus: String,
        key: CacheKey,
    }

    impl Fixture {
        fn new(backend: &'static str, name: &str) -> Fixture {
            Fixture {
                keychain: Rc::new(MemoryStore::new(backend)),
                opened: Rc::new(Cell::new(0)),
                bus: bus(name),
                key: CacheKey::hashed(&format!("{name} {}", rand::random::<u64>())),
            }
        }

        /// The store one process would open.
        fn process(&self) -> Cached<impl Fn() -> Result<Box<dyn Store>> + use<>> {
            let (keychain, opened) = (Rc::clone(&self.keychain), Rc::clone(&self.opened));
            let open = move || {
                opened.set(opened.get() + 1);
                Ok(Box::new(Rc::clone(&keychain)) as Box<dyn Store>)
            };
            Cached::new(&self.bus, CACHE_TTL, open)
        }

        fn description(&self) -> String {
            format!("{}{}", keychain_prefix(&self.bus), self.key.as_str())
        }

        fn cached_copy(&self) -> Option<String> {
            Ring::user().read(&self.description()).unwrap()
        }
    }

    #[test]
    fn a_keychain_copy_is_named_by_the_session_bus_and_the_key_alone() {
        let key = CacheKey::hashed("k");
        let on = |bus: &str| format!("{}{}", keychain_prefix(bus), key.as_str());
        let bus = "unix:path=/run/user/1000/bus";
        // The first 8 bytes of sha256("unix:path=/run/user/1000/bus"), as
        // `sha256sum` prints them. No cache directory goes in: processes with
        // different ones on one bus share the copy (tests/it/kernel_storage.rs
        // plays that with two processes).
        assert_eq!(
            on(bus),
            format!(
                "credential-oauth:keychain:8ff4574dec892711:{}",
                key.as_str()
            )
        );
        assert_ne!(on(bus), on("unix:path=/run/user/1001/bus"));
        assert_ne!(on(bus), on("unix:abstract=/tmp/dbus-x"));
        assert!(!on(bus).contains("/run/user"), "{}", on(bus));
    }

    #[test]
    fn a_cached_entry_is_served_without_opening_the_keychain() {
        if !kernel_available() {
            return;
        }
        let f = Fixture::new("keyring", "cache");

        // A process that saves: the keychain takes it, the cache too.
        f.process().save(&f.key, &Secret::new("v1")).unwrap();
        assert_eq!(f.keychain.get(f.key.as_str()).as_deref(), Some("v1"));
        assert_eq!(f.opened.get(), 1);

        // The next process reads it from the kernel alone.
        let second = f.process();
        assert_eq!(
            second.find(&f.key).unwrap(),
            Some((Secret::new("v1"), "keyring"))
        );
        assert_eq!(f.opened.get(), 1, "the keychain was opened");
        assert_eq!(f.keychain.total_calls(), 1);

        // Deleting drops both copies; the next read asks the keychain.
        assert!(second.delete(&f.key).unwrap());
        assert_eq!(f.cached_copy(), None);
        assert_eq!(f.process().load(&f.key).unwrap(), None);
        assert_eq!(f.opened.get(), 3);
    }

    #[test]
    fn a_miss_fills_the_cache_from_the_keychain_and_a_failed_save_empties_it() {
        if !kernel_available() {
            return;
        }
        let f = Fixture::new("keyring", "fill");
        f.keychain.insert(&f.key, "stored");

        let first = f.process();
        assert_eq!(first.load(&f.key).unwrap(), Some(Secret::new("stored")));
        assert_eq!(f.cached_copy().as_deref(), Some("stored"));

        f.keychain.fail(Op::Save, "the keychain is locked");
        let second = f.process();
        let e = second.save(&f.key, &Secret::new("new")).unwrap_err();
        assert!(e.to_string().contains("locked"), "{e}");
        assert_eq!(
            f.cached_copy(),
            None,
            "a failed save left the old value cached"
        );
        assert_eq!(second.load(&f.key).unwrap(), Some(Secret::new("stored")));
        first.delete(&f.key).unwrap();
    }

    #[test]
    fn entries_of_other_backends_are_not_cached() {
        if !kernel_available() {
            return;
        }
        let f = Fixture::new("file", "file");
        let store = f.process();
        store.save(&f.key, &Secret::new("v")).unwrap();
        assert_eq!(store.load(&f.key).unwrap(), Some(Secret::new("v")));
        assert_eq!(f.cached_copy(), None);
        store.delete(&f.key).unwrap();
    }

    #[test]
    fn a_cached_entry_carries_its_timeout_and_a_stored_one_none() {
        if !kernel_available() {
            return;
        }
        // /proc/keys: serial (hex), flags, usage, timeout ("perm" for none), ...
        let timeout_of = |ring: Ring, description: &str| -> String {
            let id = ring.search(description).unwrap().expect("the key");
            let keys = std::fs::read_to_string("/proc/keys").unwrap();
            let line = keys
                .lines()
                .find(|l| l.split_whitespace().next() == Some(&format!("{id:08x}")))
                .expect("the key in /proc/keys");
            line.split_whitespace().nth(3).unwrap().to_string()
        };
        let f = Fixture::new("keyring", "ttl");
        let cache = f.process();
        cache.save(&f.key, &Secret::new("v")).unwrap();
        let timeout = timeout_of(Ring::user(), &f.description());
        assert!(timeout == "1h" || timeout.ends_with('m'), "{timeout}");
        cache.delete(&f.key).unwrap();

        let dir = dir("ttl");
        let store = KernelStore::open(&dir).unwrap();
        store.save(&f.key, &Secret::new("v")).unwrap();
        let stored = description(&dir.to_string_lossy(), &f.key);
        assert_eq!(timeout_of(store.ring, &stored), "perm");
        store.delete(&f.key).unwrap();
    }

    #[test]
    fn delete_drops_the_per_directory_copies_earlier_versions_cached() {
        if !kernel_available() {
            return;
        }
        let f = Fixture::new("keyring", "per-directory");
        f.keychain.insert(&f.key, "v");
        let other_key = CacheKey::hashed(&format!("other {}", rand::random::<u64>()));
        // What earlier versions cached, for two cache directories.
        let (a, b) = (dir("old-a"), dir("old-b"));
        let (a, b) = (a.to_string_lossy(), b.to_string_lossy());
        let old = [
            description(&a, &f.key),
            description(&b, &f.key),
            description(&a, &other_key),
        ];
        for copy in &old {
            Ring::user().write(copy, "v", Some(CACHE_TTL)).unwrap();
        }
        // The copy of another keychain.
        let elsewhere = format!("{}{}", keychain_prefix(&bus("elsewhere")), f.key.as_str());
        Ring::user()
            .write(&elsewhere, "v", Some(CACHE_TTL))
            .unwrap();

        assert!(f.process().delete(&f.key).unwrap());
        let left = |description: &str| Ring::user().read(description).unwrap();
        assert_eq!(left(&old[0]), None);
        assert_eq!(left(&old[1]), None);
        assert_eq!(left(&old[2]).as_deref(), Some("v"), "another key's copy");
        assert_eq!(left(&elsewhere).as_deref(), Some("v"), "another keychain's");
        Ring::user().remove(&old[2]).unwrap();
        Ring::user().remove(&elsewhere).unwrap();
    }
}
