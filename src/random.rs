//! Random values from the operating system's generator.

use rand::TryRng;
use rand::rngs::SysRng;

/// `n` bytes from the OS RNG. Without a working OS RNG nothing here is safe,
/// so failure aborts the process rather than falling back to something weaker.
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    if SysRng.try_fill_bytes(&mut buf).is_err() {
        crate::log::warn("the operating system's random generator failed; stopping");
        std::process::exit(1);
    }
    buf
}

pub fn u64() -> u64 {
    u64::from_le_bytes(bytes::<8>())
}

/// 32 random bytes as base64url without padding (43 characters).
pub fn token32() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes::<32>())
}
