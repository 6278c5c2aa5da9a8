//! A per-key advisory lock (`tokens/<key>.lock`, flock) so that parallel
//! processes refresh or log in once, not once each. The kernel drops the
//! lock when its holder dies, so a killed process never blocks anyone.

use super::CacheKey;
use crate::error::{Error, Result};
use std::fs;
use std::path::Path;
use std::time::Duration;

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
            .map_err(|e| Error::Local(format!("cannot open lock {}: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => return Ok(KeyLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => {
                return Err(Error::Local(format!("cannot lock {}: {e}", path.display())));
            }
        }
        // Someone else is refreshing or logging in. Block in the kernel on a
        // helper thread, so this process wakes the moment the holder is done
        // (polling would add up to a poll interval to every waiter), while
        // this thread keeps the wait bounded.
        crate::debug!(
            "waiting for another process to finish with {}",
            path.display()
        );
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let locked = file.lock().map(|()| file);
            let _ = tx.send(locked);
        });
        match rx.recv_timeout(wait) {
            Ok(Ok(file)) => Ok(KeyLock { _file: file }),
            Ok(Err(e)) => Err(Error::Local(format!("cannot lock {}: {e}", path.display()))),
            // The blocked thread goes away with the process.
            Err(_) => Err(Error::Local(format!(
                "another credential-oauth process has held {} for {} s; giving up",
                path.display(),
                wait.as_secs()
            ))),
        }
    }
}
