//! A [`Store`] in memory for unit tests, in the spirit of keyring-rs's mock
//! store: entries in a map, an optional size limit per entry (as a Windows
//! credential has), errors injected per operation, and calls counted, so a
//! test can say what a layer above asked of its store.

use super::{CacheKey, Store};
use crate::error::{Error, Result};
use crate::secret::Secret;
use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

/// One operation of the [`Store`] interface (`find` counts as the `load` it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Load,
    Save,
    Delete,
}

impl Op {
    fn index(self) -> usize {
        match self {
            Op::Load => 0,
            Op::Save => 1,
            Op::Delete => 2,
        }
    }
}

pub struct MemoryStore {
    entries: RefCell<BTreeMap<String, Secret>>,
    name: &'static str,
    /// Largest value one entry takes, in bytes; a larger save is an error.
    limit: Option<usize>,
    /// The error each operation answers with, when one is injected.
    failures: RefCell<[Option<String>; 3]>,
    calls: [Cell<usize>; 3],
}

impl Default for MemoryStore {
    fn default() -> MemoryStore {
        MemoryStore::new("memory")
    }
}

impl MemoryStore {
    /// An empty store that calls itself `name` (say `"keyring"` to stand in
    /// for the keychain).
    pub fn new(name: &'static str) -> MemoryStore {
        MemoryStore {
            entries: RefCell::new(BTreeMap::new()),
            name,
            limit: None,
            failures: RefCell::new([None, None, None]),
            calls: Default::default(),
        }
    }

    /// Refuse values larger than `bytes`, as a Windows credential does.
    pub fn with_limit(mut self, bytes: usize) -> MemoryStore {
        self.limit = Some(bytes);
        self
    }

    /// From now on `op` fails with `Error::Local(message)`.
    pub fn fail(&self, op: Op, message: &str) {
        self.failures.borrow_mut()[op.index()] = Some(message.to_string());
    }

    /// From now on every operation fails with `Error::Local(message)`.
    pub fn fail_all(&self, message: &str) {
        for op in [Op::Load, Op::Save, Op::Delete] {
            self.fail(op, message);
        }
    }

    /// Stop failing `op`.
    pub fn heal(&self, op: Op) {
        self.failures.borrow_mut()[op.index()] = None;
    }

    /// How often `op` was called, failed calls included.
    pub fn calls(&self, op: Op) -> usize {
        self.calls[op.index()].get()
    }

    /// How often the store was called at all.
    pub fn total_calls(&self) -> usize {
        self.calls.iter().map(Cell::get).sum()
    }

    /// The value stored under the raw key `key`, exposed for assertions.
    pub fn get(&self, key: &str) -> Option<String> {
        self.entries
            .borrow()
            .get(key)
            .map(|s| s.expose().to_string())
    }

    /// Every key held, in order.
    pub fn keys(&self) -> Vec<String> {
        self.entries.borrow().keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.entries.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.borrow().is_empty()
    }

    /// Put `value` under `key` behind the store's back (no count, no failure,
    /// no limit): a corrupt or stray entry for a test to start from.
    pub fn insert(&self, key: &CacheKey, value: &str) {
        self.entries
            .borrow_mut()
            .insert(key.as_str().to_string(), Secret::new(value));
    }

    /// Remove the raw key `key` behind the store's back.
    pub fn remove(&self, key: &str) -> bool {
        self.entries.borrow_mut().remove(key).is_some()
    }

    fn enter(&self, op: Op) -> Result<()> {
        let count = &self.calls[op.index()];
        count.set(count.get() + 1);
        match &self.failures.borrow()[op.index()] {
            Some(message) => Err(Error::Local(message.clone())),
            None => Ok(()),
        }
    }
}

impl Store for MemoryStore {
    fn load(&self, key: &CacheKey) -> Result<Option<Secret>> {
        self.enter(Op::Load)?;
        Ok(self.entries.borrow().get(key.as_str()).cloned())
    }

    fn save(&self, key: &CacheKey, value: &Secret) -> Result<()> {
        self.enter(Op::Save)?;
        let len = value.expose().len();
        if let Some(max) = self.limit.filter(|max| len > *max) {
            return Err(Error::Local(format!(
                "{}: {len} bytes is more than an entry holds ({max})",
                self.name
            )));
        }
        self.entries
            .borrow_mut()
            .insert(key.as_str().to_string(), value.clone());
        Ok(())
    }

    fn delete(&self, key: &CacheKey) -> Result<bool> {
        self.enter(Op::Delete)?;
        Ok(self.entries.borrow_mut().remove(key.as_str()).is_some())
    }

    fn name(&self) -> &'static str {
        self.name
    }
}

/// Shared with the layer under test, which owns its store, while the test
/// keeps a handle to look inside and inject failures.
impl Store for Rc<MemoryStore> {
    fn load(&self, key: &CacheKey) -> Result<Option<Secret>> {
        self.as_ref().load(key)
    }
    fn save(&self, key: &CacheKey, value: &Secret) -> Result<()> {
        self.as_ref().save(key, value)
    }
    fn delete(&self, key: &CacheKey) -> Result<bool> {
        self.as_ref().delete(key)
    }
    fn name(&self) -> &'static str {
        self.as_ref().name()
    }
}

/// Borrowed by the layer under test.
impl Store for &MemoryStore {
    fn load(&self, key: &CacheKey) -> Result<Option<Secret>> {
        (*self).load(key)
    }
    fn save(&self, key: &CacheKey, value: &Secret) -> Result<()> {
        (*self).save(key, value)
    }
    fn delete(&self, key: &CacheKey) -> Result<bool> {
        (*self).delete(key)
    }
    fn name(&self) -> &'static str {
        (*self).name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CacheKey {
        CacheKey::hashed("memory")
    }

    #[test]
    fn entries_round_trip_and_calls_are_counted() {
        let store = MemoryStore::default();
        assert_eq!(store.load(&key()).unwrap(), None);
        store.save(&key(), &Secret::new("v")).unwrap();
        assert_eq!(store.load(&key()).unwrap(), Some(Secret::new("v")));
        assert_eq!(
            store.find(&key()).unwrap(),
            Some((Secret::new("v"), "memory"))
        );
        assert!(store.delete(&key()).unwrap());
        assert!(!store.delete(&key()).unwrap());
        assert_eq!(
            (
                store.calls(Op::Load),
                store.calls(Op::Save),
                store.calls(Op::Delete)
            ),
            (3, 1, 2)
        );
        assert_eq!(store.total_calls(), 6);
    }

    #[test]
    fn injected_failures_hit_only_their_operation_until_healed() {
        let store = MemoryStore::new("keyring");
        store.fail(Op::Save, "keychain: locked");
        let e = store.save(&key(), &Secret::new("v")).unwrap_err();
        assert!(
            matches!(&e, Error::Local(m) if m == "keychain: locked"),
            "{e}"
        );
        assert_eq!(store.load(&key()).unwrap(), None);
        store.heal(Op::Save);
        store.save(&key(), &Secret::new("v")).unwrap();
        store.fail_all("gone");
        assert!(store.load(&key()).is_err());
        assert!(store.delete(&key()).is_err());
        assert_eq!(store.calls(Op::Save), 2);
    }

    #[test]
    fn a_value_over_the_limit_is_refused_and_not_stored() {
        let store = MemoryStore::default().with_limit(4);
        store.save(&key(), &Secret::new("1234")).unwrap();
        assert!(store.save(&key(), &Secret::new("12345")).is_err());
        assert_eq!(store.get(key().as_str()).as_deref(), Some("1234"));
    }
}
