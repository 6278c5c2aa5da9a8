//! The Linux kernel keyrings, as a test sees them: what the helper left in
//! the user's persistent keyring (`storage = "kernel"`) and in its cache in
//! the user keyring, and a kernel that refuses keyrings altogether (a
//! seccomp filter like a container runtime's default profile).
//!
//! `storage = "kernel"` entries are described `credential-oauth:<token
//! dir>:<key>`, the keychain cache's copies `credential-oauth:keychain:<first
//! 16 hex digits of the SHA-256 of the session bus address>:<key>`, so every
//! test, with a token directory and a session bus address of its own, sees
//! only its own; `Env`'s drop removes them.
//!
//! The system calls need `unsafe`; each is commented.
#![allow(unsafe_code)]

use super::Env;
use sha2::{Digest, Sha256};
use std::ffi::CString;

const USER: i32 = libc::KEY_SPEC_USER_KEYRING;

/// The persistent keyring, linked into the test process's keyring so its
/// keys are possessed here; `None` (with a line on stderr) where the kernel
/// has none.
fn persistent() -> Option<i32> {
    // SAFETY: integer arguments only.
    let id = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_GET_PERSISTENT as libc::c_long,
            -1 as libc::c_long,
            libc::KEY_SPEC_PROCESS_KEYRING as libc::c_long,
        )
    };
    if id < 0 {
        eprintln!(
            "no persistent kernel keyring: {}",
            std::io::Error::last_os_error()
        );
        return None;
    }
    Some(id as i32)
}

/// Whether this machine offers what `storage = "kernel"` needs; `false`
/// outside CI means "skipped" (see [`super::require_tools`]).
pub fn kernel_keyring_available() -> bool {
    let available = persistent().is_some();
    if !available && std::env::var_os("CI").is_some() {
        panic!("CI needs the kernel's persistent keyring");
    }
    if !available {
        eprintln!("skipped: no kernel persistent keyring here");
    }
    available
}

fn search(ring: i32, description: &str) -> Option<i32> {
    let description = CString::new(description).unwrap();
    // SAFETY: two NUL-terminated strings that outlive the call.
    let id = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_SEARCH as libc::c_long,
            ring as libc::c_long,
            c"user".as_ptr(),
            description.as_ptr(),
            0 as libc::c_long,
        )
    };
    (id >= 0).then_some(id as i32)
}

fn read(id: i32) -> Option<String> {
    let mut buffer = vec![0u8; 65536];
    // SAFETY: the kernel writes at most `buffer.len()` bytes into `buffer`.
    let len = unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_READ as libc::c_long,
            id as libc::c_long,
            buffer.as_mut_ptr(),
            buffer.len() as libc::c_long,
        )
    };
    if len < 0 {
        return None;
    }
    buffer.truncate(len as usize);
    Some(String::from_utf8(buffer).unwrap())
}

/// A `user` key in `ring`, expiring after an hour as the cache's do.
fn add(ring: i32, description: &str, payload: &str) {
    let description = CString::new(description).unwrap();
    // SAFETY: two NUL-terminated strings and `payload` with its exact
    // length, all alive for the call; the kernel copies them.
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
    assert!(id >= 0, "add_key: {}", std::io::Error::last_os_error());
    // SAFETY: integer arguments only.
    unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_SET_TIMEOUT as libc::c_long,
            id,
            3600 as libc::c_long,
        )
    };
}

fn invalidate(id: i32) {
    // SAFETY: integer arguments only.
    unsafe {
        libc::syscall(
            libc::SYS_keyctl,
            libc::KEYCTL_INVALIDATE as libc::c_long,
            id as libc::c_long,
        )
    };
}

impl Env {
    fn kernel_prefix(&self) -> String {
        format!("credential-oauth:{}:", self.tokens_dir().display())
    }

    fn kernel_description(&self, key: &str) -> String {
        format!("{}{key}", self.kernel_prefix())
    }

    /// The value of `name` this Env's commands get.
    fn var_value(&self, name: &str) -> Option<&str> {
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The session bus address the Env's commands get, as the helper names
    /// the keychain by it: without `guid=`, else the runtime directory's bus.
    fn session_bus(&self) -> String {
        match self.var_value("DBUS_SESSION_BUS_ADDRESS") {
            Some(address) => address
                .split(';')
                .map(|alternative| match alternative.split_once(':') {
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
                .join(";"),
            None => {
                // SAFETY: geteuid takes no arguments and cannot fail.
                let uid = unsafe { libc::geteuid() };
                let runtime = self
                    .var_value("XDG_RUNTIME_DIR")
                    .map_or_else(|| format!("/run/user/{uid}"), str::to_string);
                format!("unix:path={runtime}/bus")
            }
        }
    }

    fn kernel_cache_prefix(&self) -> String {
        let digest = Sha256::digest(self.session_bus().as_bytes());
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("credential-oauth:keychain:{hex}:")
    }

    fn kernel_cache_description(&self, key: &str) -> String {
        format!("{}{key}", self.kernel_cache_prefix())
    }

    /// The token JSON `storage = "kernel"` keeps for `key`.
    pub fn kernel_entry(&self, key: &str) -> Option<String> {
        search(persistent()?, &self.kernel_description(key)).and_then(read)
    }

    /// The keychain's copy of `key` in the kernel cache.
    pub fn kernel_cache_entry(&self, key: &str) -> Option<String> {
        search(USER, &self.kernel_cache_description(key)).and_then(read)
    }

    /// A copy of the keychain's entry for `key` as versions that kept one
    /// per token directory left it, for the token directory `dir`; the
    /// description is returned. Such a copy is no Env's: the test removes
    /// it (or proves it gone).
    pub fn plant_per_directory_cache_entry(
        &self,
        dir: &std::path::Path,
        key: &str,
        value: &str,
    ) -> String {
        let description = format!("credential-oauth:{}:{key}", dir.display());
        add(USER, &description, value);
        description
    }

    /// What the persistent keyring holds under `description`.
    pub fn persistent_keyring_entry(&self, description: &str) -> Option<String> {
        search(persistent()?, description).and_then(read)
    }

    /// What the user keyring holds under `description`.
    pub fn user_keyring_entry(&self, description: &str) -> Option<String> {
        search(USER, description).and_then(read)
    }

    /// The keys of this Env's entries in either keyring, from /proc/keys
    /// (which lists every key the user may view).
    pub fn kernel_keys(&self) -> Vec<String> {
        let prefixes = [self.kernel_prefix(), self.kernel_cache_prefix()];
        let keys = std::fs::read_to_string("/proc/keys").unwrap_or_default();
        let mut found: Vec<String> = keys
            .lines()
            .filter_map(|line| {
                // serial flags usage timeout perm uid gid type description: datalen.
                // An invalidated (i), revoked (R) or dead (D) key is listed
                // until the kernel's garbage collector gets to it.
                let mut fields = line.split_whitespace();
                let flags = fields.nth(1)?;
                let timeout = fields.nth(1)?;
                if flags.contains(['i', 'R', 'D']) || timeout == "expd" {
                    return None;
                }
                prefixes.iter().find_map(|prefix| {
                    let at = line.find(prefix.as_str())?;
                    let rest = &line[at + prefix.len()..];
                    Some(rest.split(':').next()?.to_string())
                })
            })
            .collect();
        found.sort();
        found.dedup();
        found
    }

    /// Every token entry this Env holds, wherever `auto` may have put it:
    /// the files' names and the kernel keyrings' keys. "Nothing cached"
    /// means this is empty.
    pub fn stored_entries(&self) -> Vec<String> {
        let files = self
            .token_entries()
            .into_iter()
            .map(|p| p.display().to_string());
        files.chain(self.kernel_keys()).collect()
    }

    /// Remove this Env's entries from both keyrings.
    pub(super) fn purge_kernel_keys(&self) {
        let keys = self.kernel_keys();
        if keys.is_empty() {
            return;
        }
        let rings = [persistent(), Some(USER)];
        for key in keys {
            for description in [
                self.kernel_description(&key),
                self.kernel_cache_description(&key),
            ] {
                for ring in rings.iter().flatten() {
                    if let Some(id) = search(*ring, &description) {
                        invalidate(id);
                    }
                }
            }
        }
    }
}

/// Make `cmd` run where add_key(2), keyctl(2) and request_key(2) fail with
/// EPERM, as under a container runtime's default seccomp profile.
pub fn refuse_keyrings(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec the closure only makes two prctl(2)
    // calls on data it owns (no allocation, no locks).
    unsafe {
        cmd.pre_exec(|| {
            let deny = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
            let nr_offset = 0; // offsetof(struct seccomp_data, nr)
            let stmt = |code: u32, k: u32| libc::sock_filter {
                code: code as u16,
                jt: 0,
                jf: 0,
                k,
            };
            let jump_if = |nr: libc::c_long, to_deny: u8| libc::sock_filter {
                code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
                jt: to_deny,
                jf: 0,
                k: nr as u32,
            };
            let mut program = [
                stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, nr_offset),
                jump_if(libc::SYS_add_key, 3),
                jump_if(libc::SYS_keyctl, 2),
                jump_if(libc::SYS_request_key, 1),
                stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW),
                stmt(libc::BPF_RET | libc::BPF_K, deny),
            ];
            let filter = libc::sock_fprog {
                len: program.len() as u16,
                filter: program.as_mut_ptr(),
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &filter as *const libc::sock_fprog,
                ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
