//! A string that must never be printed: tokens, refresh tokens, client secrets,
//! authorization codes and PKCE verifiers.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Keep the secrets this process holds out of core files and away from
/// other processes of the same user: no core file may be written (hard limit
/// 0, so nothing in the process can raise it again), and on Linux the
/// process is not dumpable, which also refuses ptrace attach and
/// `/proc/<pid>/mem` to anyone without CAP_SYS_PTRACE (prctl(2), proc(5)).
/// Called first thing in `main`; failures are ignored, since a system that
/// refuses these calls is no worse off than before.
///
/// One of the four places that need `unsafe` (listed in lib.rs): the libc
/// calls have no safe wrapper in std.
#[cfg(unix)]
#[allow(unsafe_code)]
pub fn protect_process_memory() {
    let no_core = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: setrlimit(2) only reads the struct passed, which lives for the call.
    let _ = unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: PR_SET_DUMPABLE takes integer arguments only and touches no
        // memory of ours; the variadic arguments are passed as the unsigned
        // longs prctl(2) reads.
        let _ = unsafe {
            libc::prctl(
                libc::PR_SET_DUMPABLE,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
                0 as libc::c_ulong,
            )
        };
    }
}

/// Elsewhere there is nothing to do here (Windows writes no core files
/// unless configured system-wide).
#[cfg(not(unix))]
pub fn protect_process_memory() {}

/// Holds a secret value. `Debug` is redacted and there is no `Display`: the
/// value leaves only through [`Secret::expose`], at the one place it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself. Call it only where the value is put on the wire or
    /// into the store.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Equality that takes the same time whatever the position of the first
    /// difference, for comparing values an attacker may choose (`state`).
    pub fn constant_time_eq(&self, other: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), other.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("at_hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(!format!("{:?}", Some(&s)).contains("hunter2"));
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        let s = Secret::new("abc");
        assert!(s.constant_time_eq("abc"));
        assert!(!s.constant_time_eq("abd"));
        assert!(!s.constant_time_eq("ab"));
        assert!(!s.constant_time_eq("abcd"));
    }
}
