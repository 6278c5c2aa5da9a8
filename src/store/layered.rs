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
    fn load(&self, key: &CacheKey) -> Result<Option<String>> {
        Ok(self.find(key)?.map(|(value, _)| value))
    }

    fn find(&self, key: &CacheKey) -> Result<Option<(String, &'static str)>> {
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

    fn save(&self, key: &CacheKey, value: &str) -> Result<()> {
        if !Layered::fits(value, self.limit) {
            crate::debug!(
                "{}: {} bytes is more than the keychain takes; using the file",
                key.as_str(),
                value.len()
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
    use crate::error::Error;
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::path::PathBuf;

    /// A keychain in memory that can be told to fail.
    #[derive(Default)]
    struct Memory {
        entries: RefCell<HashMap<String, String>>,
        broken: Cell<bool>,
        calls: Cell<usize>,
    }

    impl Memory {
        fn check(&self) -> Result<()> {
            self.calls.set(self.calls.get() + 1);
            if self.broken.get() {
                return Err(Error::Store("keychain: locked".into()));
            }
            Ok(())
        }
    }

    impl Store for std::rc::Rc<Memory> {
        fn load(&self, key: &CacheKey) -> Result<Option<String>> {
            self.check()?;
            Ok(self.entries.borrow().get(key.as_str()).cloned())
        }
        fn save(&self, key: &CacheKey, value: &str) -> Result<()> {
            self.check()?;
            self.entries
                .borrow_mut()
                .insert(key.as_str().into(), value.into());
            Ok(())
        }
        fn delete(&self, key: &CacheKey) -> Result<bool> {
            self.check()?;
            Ok(self.entries.borrow_mut().remove(key.as_str()).is_some())
        }
        fn name(&self) -> &'static str {
            "keyring"
        }
    }

    struct Fixture {
        memory: std::rc::Rc<Memory>,
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
        let memory = std::rc::Rc::new(Memory::default());
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

    #[test]
    fn a_file_entry_keeps_working_and_moves_to_the_keychain_on_the_next_save() {
        let f = fixture(None, false);
        FileStore::new(f.dir.clone()).save(&key(), "old").unwrap();
        assert_eq!(
            f.store.find(&key()).unwrap(),
            Some(("old".to_string(), "file"))
        );
        f.store.save(&key(), "new").unwrap();
        assert_eq!(
            f.memory.entries.borrow().get(key().as_str()).unwrap(),
            "new"
        );
        assert_eq!(FileStore::new(f.dir.clone()).load(&key()).unwrap(), None);
        assert_eq!(
            f.store.find(&key()).unwrap(),
            Some(("new".to_string(), "keyring"))
        );
    }

    #[test]
    fn entries_larger_than_the_limit_go_to_the_file_and_drop_the_keychain_copy() {
        let f = fixture(Some(8), false);
        f.store.save(&key(), "short").unwrap();
        assert!(f.memory.entries.borrow().contains_key(key().as_str()));
        let big = "x".repeat(9);
        f.store.save(&key(), &big).unwrap();
        assert!(f.memory.entries.borrow().is_empty());
        assert_eq!(f.store.find(&key()).unwrap(), Some((big, "file")));
        assert!(Layered::fits("12345678", Some(8)));
        assert!(!Layered::fits("123456789", Some(8)));
        assert!(Layered::fits(&"x".repeat(100_000), None));
    }

    #[test]
    fn delete_removes_the_entry_from_both() {
        let f = fixture(None, false);
        f.store.save(&key(), "in keychain").unwrap();
        FileStore::new(f.dir.clone())
            .save(&key(), "in file")
            .unwrap();
        assert!(f.store.delete(&key()).unwrap());
        assert_eq!(f.store.find(&key()).unwrap(), None);
        assert!(!f.store.delete(&key()).unwrap());
    }

    #[test]
    fn a_failing_keychain_falls_back_to_the_file_once_and_for_all() {
        let f = fixture(None, false);
        f.memory.broken.set(true);
        f.store.save(&key(), "v").unwrap();
        assert_eq!(
            FileStore::new(f.dir.clone())
                .load(&key())
                .unwrap()
                .as_deref(),
            Some("v")
        );
        let calls = f.memory.calls.get();
        assert_eq!(
            f.store.find(&key()).unwrap(),
            Some(("v".to_string(), "file"))
        );
        assert_eq!(
            f.memory.calls.get(),
            calls,
            "a failed keychain is not asked again"
        );
    }

    #[test]
    fn a_failing_keychain_is_an_error_when_it_was_asked_for() {
        let f = fixture(None, true);
        f.memory.broken.set(true);
        assert!(f.store.save(&key(), "v").is_err());
        assert!(f.store.find(&key()).is_err());
        assert_eq!(FileStore::new(f.dir.clone()).load(&key()).unwrap(), None);
    }
}
