//! A per-key advisory lock (`tokens/<key>.lock`, flock) so that parallel
//! processes refresh or log in once, not once each. The kernel drops the
//! lock when its holder dies, so a killed process never blocks anyone.
//!
//! The holder writes its pid and what it is doing into the lock file, so a
//! process that has to wait can tell the person whom it waits for. The
//! file only informs: the flock alone decides who holds the lock.

use super::CacheKey;
use crate::error::{Error, Result};
use std::fs;
use std::io::{Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// A wait shorter than this is not shown: parallel callers waiting for one
/// refresh wait a few milliseconds, and nobody needs to read about it.
const UNSHOWN_WAIT: Duration = Duration::from_secs(1);
/// How often a waiter looks again at what the holder is doing.
const LOOK_AGAIN: Duration = Duration::from_secs(1);

pub struct KeyLock {
    // Held for its lock; released on drop when the file is closed.
    file: fs::File,
}

/// What the holder of a lock is doing, as written into the lock file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doing {
    LoggingIn,
    Refreshing,
    Updating,
}

impl Doing {
    fn word(self) -> &'static str {
        match self {
            Doing::LoggingIn => "login",
            Doing::Refreshing => "refresh",
            Doing::Updating => "update",
        }
    }

    fn from_word(word: &str) -> Option<Doing> {
        [Doing::LoggingIn, Doing::Refreshing, Doing::Updating]
            .into_iter()
            .find(|d| d.word() == word)
    }
}

/// Who holds a lock, as far as its file tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Holder {
    pub pid: Option<u32>,
    pub doing: Option<Doing>,
}

impl Holder {
    /// Parse a lock file: `<pid> <doing>`; anything else tells nothing.
    fn parse(text: &str) -> Holder {
        let mut words = text.split_whitespace();
        Holder {
            pid: words.next().and_then(|p| p.parse().ok()),
            doing: words.next().and_then(Doing::from_word),
        }
    }

    fn read(path: &Path) -> Holder {
        Holder::parse(&fs::read_to_string(path).unwrap_or_default())
    }
}

impl KeyLock {
    /// Take the lock for `key`, waiting at most `wait`, without a word.
    pub fn acquire(dir: &Path, key: &CacheKey, wait: Duration) -> Result<KeyLock> {
        KeyLock::acquire_showing(dir, key, wait, Doing::Updating, |_, _| ())
    }

    /// Take the lock for `key` to do `doing`, waiting at most `wait`. A wait
    /// longer than a moment is shown: `show` is called with the holder and
    /// the deadline, again whenever the holder changes what it does, and what
    /// it returns lives as long as that is shown.
    pub fn acquire_showing<W>(
        dir: &Path,
        key: &CacheKey,
        wait: Duration,
        doing: Doing,
        mut show: impl FnMut(&Holder, Instant) -> W,
    ) -> Result<KeyLock> {
        let deadline = Instant::now() + wait;
        super::file::create_private_dir(dir)?;
        let path = dir.join(format!("{}.lock", key.as_str()));
        let mut opts = fs::OpenOptions::new();
        opts.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let file = opts
            .open(&path)
            .map_err(|e| Error::io(format!("cannot open lock {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => return Ok(KeyLock::held(file, doing)),
            Err(fs::TryLockError::WouldBlock) => {}
            Err(fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("cannot lock {}", path.display()), e));
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
        // Woken every second to look at what the holder is doing; a change
        // (a refresh refused, a login after it) is shown anew.
        let mut shown: Option<(Holder, W)> = None;
        let mut next = UNSHOWN_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(next.min(left)) {
                Ok(Ok(file)) => {
                    drop(shown);
                    return Ok(KeyLock::held(file, doing));
                }
                Ok(Err(e)) => {
                    return Err(Error::io(format!("cannot lock {}", path.display()), e));
                }
                Err(_) if left.is_zero() => {
                    // The blocked thread goes away with the process.
                    return Err(Error::Local(format!(
                        "another credential-oauth process has held {} for {} s; giving up",
                        path.display(),
                        wait.as_secs()
                    )));
                }
                Err(_) => {}
            }
            next = LOOK_AGAIN;
            let holder = Holder::read(&path);
            if shown.as_ref().is_none_or(|(h, _)| *h != holder) {
                // The old line ends before the new one starts.
                drop(shown.take());
                shown = Some((holder, show(&holder, deadline)));
            }
        }
    }

    /// The lock just taken: say who holds it and what for.
    fn held(file: fs::File, doing: Doing) -> KeyLock {
        let lock = KeyLock { file };
        lock.now_doing(doing);
        lock
    }

    /// Tell waiters that the holder now does `doing`. Best effort: the file
    /// only informs.
    pub fn now_doing(&self, doing: Doing) {
        let text = format!("{} {}\n", std::process::id(), doing.word());
        let mut file = &self.file;
        let _ = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(text.as_bytes()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_names_the_holder_and_what_it_does() {
        let dir = std::env::temp_dir().join(format!("lock-test-{}", std::process::id()));
        let key = CacheKey::new("https://as.example", "app", &[], "");
        let lock =
            KeyLock::acquire_showing(&dir, &key, Duration::ZERO, Doing::Refreshing, |_, _| ())
                .unwrap();
        let path = dir.join(format!("{}.lock", key.as_str()));
        let me = Some(std::process::id());
        assert_eq!(
            Holder::read(&path),
            Holder {
                pid: me,
                doing: Some(Doing::Refreshing)
            }
        );
        lock.now_doing(Doing::LoggingIn);
        assert_eq!(
            Holder::read(&path),
            Holder {
                pid: me,
                doing: Some(Doing::LoggingIn)
            }
        );
        drop(lock);
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(Holder::parse(""), Holder::default());
        assert_eq!(
            Holder::parse("12 dance"),
            Holder {
                pid: Some(12),
                doing: None
            }
        );
    }
}
