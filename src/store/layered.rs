//! The keychain first, the file behind it.
//!
//! Reads try the keychain, then the file: a token written to the file before
//! the keychain was available (or by an older version) keeps working, so an
//! upgrade logs nobody out. Writes go to the keychain and then remove the
//! file's copy, which moves an entry over the first time it is renewed.
//! Entries larger than the keychain takes (even split over several items),
//! and (unless the keychain was asked for explicitly) every call after the
//! keychain fails, use the file.
//! Deleting removes the entry from both.

use super::file::FileStore;
use super::{CacheKey, Store};
use crate::error::Result;
use crate::secret::Secret;
use std::cell::Cell;

pub struct Layered {
    keychain: Box<dyn Store>,
    file: FileStore,
    /// Largest value the keychain takes, in bytes.
    limit: Option<usize>,
    /// `storage = "keyring"`: a keychain failure is an error, not a reason
    /// to use the file.
    strict: bool,
    /// The keychain failed once in this process; it is not asked again.
    failed: Cell<bool>,
}

impl Layered {
    pub fn new(
        keychain: Box<dyn Store>,
        file: FileStore,
        limit: Option<usize>,
        strict: bool,
    ) -> Layered {
        Layered {
            keychain,
            file,
            limit,
            strict,
            failed: Cell::new(false),
        }
    }

    /// Whether `value` fits in one keychain entry.
    pub fn fits(value: &str, limit: Option<usize>) -> bool {
        limit.is_none_or(|max| value.len() <= max)
    }

    /// Run `op` on the keychain unless it failed before. `None` means "use
    /// the file instead"; in strict mode a failure is returned as it is.
    fn keychain<T>(&self, op: impl FnOnce(&dyn Store) -> Result<T>) -> Result<Option<T>> {
        if self.failed.get() {
            return Ok(None);
        }
        match op(self.keychain.as_ref()) {
            Ok(v) => Ok(Some(v)),
            Err(e) if self.strict => Err(e),
            Err(e) => {
                crate::debug!("{e}; using the file from now on");
                self.failed.set(true);
                Ok(None)
            }
        }
    }
}

impl Store for Layered {
    fn load(&self, key: &CacheKey) -> Result<Option<Secret>> {
        Ok(self.find(key)?.map(|(value, _)| value))
    }

    fn find(&self, key: &CacheKey) -> Result<Option<(Secret, &'static str)>> {
        if let Some(Some(value)) = self.keychain(|k| k.load(key))? {
            crate::debug!("{}: served by the {}", key.as_str(), self.keychain.name());
            return Ok(Some((value, self.keychain.name())));
        }
        let found = self.file.load(key)?;
        if found.is_some() {
            crate::debug!("{}: served by the file", key.as_str());
        }
        Ok(found.map(|value| (value, self.file.name())))
    }

    fn save(&self, key: &CacheKey, value: &Secret) -> Result<()> {
        if !Layered::fits(value.expose(), self.limit) {
            crate::debug!(
                "{}: {} bytes is more than the keychain takes; using the file",
                key.as_str(),
                value.expose().len()
            );
            // A smaller, older token left in the keychain would be read first.
            self.keychain(|k| k.delete(key))?;
            return self.file.save(key, value);
        }
        if self.keychain(|k| k.save(key, value))?.is_some() {
            if let Err(e) = self.file.delete(key) {
                crate::debug!("cannot remove the file entry the keychain replaced: {e}");
            }
            return Ok(());
        }
        self.file.save(key, value)
    }

    fn delete(&self, key: &CacheKey) -> Result<bool> {
        let in_keychain = self.keychain(|k| k.delete(key))?.unwrap_or(false);
        let in_file = self.file.delete(key)?;
        Ok(in_keychain || in_file)
    }

    fn name(&self) -> &'static str {
        self.keychain.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::{MemoryStore, Op};
    use std::path::PathBuf;
    use std::rc::Rc;

    struct Fixture {
        memory: Rc<MemoryStore>,
        dir: PathBuf,
        store: Layered,
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn fixture(limit: Option<usize>, strict: bool) -> Fixture {
        let dir = std::env::temp_dir().join(format!(
            "credential-oauth-layered-{}-{:x}",
            std::process::id(),
            crate::random::u64()
        ));
        let memory = Rc::new(MemoryStore::new("keyring"));
        let store = Layered::new(
            Box::new(memory.clone()),
            FileStore::new(dir.clone()),
            limit,
            strict,
        );
        Fixture { memory, dir, store }
    }

    fn key() -> CacheKey {
        CacheKey::hashed("layered")
    }

    fn secret(value: &str) -> Secret {
        Secret::new(value)
    }

    #[test]
    fn a_file_entry_keeps_working_and_moves_to_the_keychain_on_the_next_save() {
        let f = fixture(None, false);
        FileStore::new(f.dir.clone())
            .save(&key(), &secret("old"))
            .unwrap();
        assert_eq!(f.store.find(&key()).unwrap(), Some((secret("old"), "file")));
        f.store.save(&key(), &secret("new")).unwrap();
        assert_eq!(f.memory.get(key().as_str()).unwrap(), "new");
        assert_eq!(FileStore::new(f.dir.clone()).load(&key()).unwrap(), None);
        assert_eq!(
            f.store.find(&key()).unwrap(),
            Some((secret("new"), "keyring"))
        );
    }

    #[test]
    fn entries_larger_than_the_limit_go_to_the_file_and_drop_the_keychain_copy() {
        let f = fixture(Some(8), false);
        f.store.save(&key(), &secret("short")).unwrap();
        assert!(f.memory.get(key().as_str()).is_some());
        let big = "x".repeat(9);
        f.store.save(&key(), &secret(&big)).unwrap();
        assert!(f.memory.is_empty());
        assert_eq!(f.store.find(&key()).unwrap(), Some((secret(&big), "file")));
        assert!(Layered::fits("12345678", Some(8)));
        assert!(!Layered::fits("123456789", Some(8)));
        assert!(Layered::fits(&"x".repeat(100_000), None));
    }

    #[test]
    fn delete_removes_the_entry_from_both() {
        let f = fixture(None, false);
        f.store.save(&key(), &secret("in keychain")).unwrap();
        FileStore::new(f.dir.clone())
            .save(&key(), &secret("in file"))
            .unwrap();
        assert!(f.store.delete(&key()).unwrap());
        assert_eq!(f.store.find(&key()).unwrap(), None);
        assert!(!f.store.delete(&key()).unwrap());
    }

    #[test]
    fn a_failing_keychain_falls_back_to_the_file_once_and_for_all() {
        let f = fixture(None, false);
        f.memory.fail_all("keychain: locked");
        f.store.save(&key(), &secret("v")).unwrap();
        assert_eq!(
            FileStore::new(f.dir.clone()).load(&key()).unwrap(),
            Some(secret("v"))
        );
        let calls = f.memory.total_calls();
        assert_eq!(f.store.find(&key()).unwrap(), Some((secret("v"), "file")));
        assert_eq!(
            f.memory.total_calls(),
            calls,
            "a failed keychain is not asked again"
        );
    }

    #[test]
    fn a_keychain_that_fails_only_to_read_also_sends_writes_to_the_file() {
        let f = fixture(None, false);
        f.memory.fail(Op::Load, "keychain: locked");
        assert_eq!(f.store.find(&key()).unwrap(), None);
        f.store.save(&key(), &secret("v")).unwrap();
        assert_eq!(f.memory.calls(Op::Save), 0);
        assert_eq!(f.store.find(&key()).unwrap(), Some((secret("v"), "file")));
    }

    #[test]
    fn a_failing_keychain_is_an_error_when_it_was_asked_for() {
        let f = fixture(None, true);
        f.memory.fail_all("keychain: locked");
        assert!(f.store.save(&key(), &secret("v")).is_err());
        assert!(f.store.find(&key()).is_err());
        assert_eq!(FileStore::new(f.dir.clone()).load(&key()).unwrap(), None);
    }
}
