//! A per-key advisory lock (`tokens/<key>.lock`, flock) so that parallel
//! processes refresh or log in once, not once each. The kernel drops the
//! lock when its holder dies, so a killed process never blocks anyone.

use super::CacheKey;
use crate::error::{Error, Result};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

pub struct KeyLock {
    // Held for its lock; released on drop when the file is closed.
    _file: fs::File,
}

impl KeyLock {
    /// Take the lock for `key`, waiting at most `wait`.
    pub fn acquire(dir: &Path, key: &CacheKey, wait: Duration) -> Result<KeyLock> {
        super::file::create_private_dir(dir)?;
        let path = dir.join(format!("{}.lock", key.as_str()));
        let mut opts = fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = opts
            .open(&path)
            .map_err(|e| Error::Store(format!("cannot open lock {}: {e}", path.display())))?;
        let deadline = Instant::now() + wait;
        let mut pause = Duration::from_millis(5);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(KeyLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    // Polling keeps the wait bounded without a helper thread;
                    // the pause grows so a long login costs few wake-ups.
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::Store(format!(
                        "another credential-oauth process has held {} for {} s; giving up",
                        path.display(),
                        wait.as_secs()
                    )));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Error::Store(format!("cannot lock {}: {e}", path.display())));
                }
            }
        }
    }
}
