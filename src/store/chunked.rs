//! Values larger than one keychain entry holds, split over several entries.
//!
//! A value that fits is stored as it is, under the key. A larger one is
//! stored as parts under `<key>.<id>.<i>` (i = 0, 1, …) and a head under
//! the key that names them: `credential-oauth-chunks:<id>:<n>`. The parts
//! are written first and the head last, and a new value gets a new `id`,
//! so a reader sees the old value or the new one, never a mix; the old
//! parts are removed afterwards. A head whose parts are missing reads as a
//! corrupt entry (a miss that the next save replaces).

use super::{CacheKey, Store};
use crate::error::Result;
use crate::secret::Secret;

const MARKER: &str = "credential-oauth-chunks:";

pub struct Chunked<S> {
    inner: S,
    /// Largest value one entry takes, in bytes.
    chunk: usize,
}

/// The parts of a chunked value, as named by its head.
#[derive(Debug, PartialEq, Eq)]
struct Head {
    id: String,
    count: usize,
}

impl Head {
    fn parse(text: &str) -> Option<Head> {
        let (id, count) = text.strip_prefix(MARKER)?.split_once(':')?;
        let count = count.parse().ok().filter(|n| (1..=1024).contains(n))?;
        let id_ok = !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit());
        id_ok.then(|| Head {
            id: id.to_string(),
            count,
        })
    }

    fn render(&self) -> String {
        format!("{MARKER}{}:{}", self.id, self.count)
    }

    fn part(&self, key: &CacheKey, i: usize) -> CacheKey {
        CacheKey(format!("{}.{}.{i}", key.as_str(), self.id))
    }
}

/// `value` cut into pieces of at most `max` bytes, on character boundaries.
pub fn split(value: &str, max: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = value;
    while !rest.is_empty() {
        let mut end = rest.len().min(max);
        while end > 0 && !rest.is_char_boundary(end) {
            end -= 1;
        }
        if end == 0 {
            // A character wider than `max`: it cannot be cut, so it goes whole.
            end = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (part, tail) = rest.split_at(end);
        parts.push(part);
        rest = tail;
    }
    parts
}

impl<S: Store> Chunked<S> {
    pub fn new(inner: S, chunk: usize) -> Chunked<S> {
        Chunked { inner, chunk }
    }

    /// The head stored under `key`, if the entry there is one.
    fn head(&self, key: &CacheKey) -> Option<Head> {
        // Only for cleaning up: an unreadable old entry leaves parts behind,
        // which is untidy but harmless.
        self.inner
            .load(key)
            .ok()
            .flatten()
            .and_then(|t| Head::parse(t.expose()))
    }

    fn remove_parts(&self, key: &CacheKey, head: &Head) {
        for i in 0..head.count {
            if let Err(e) = self.inner.delete(&head.part(key, i)) {
                crate::debug!("cannot remove part {i} of {}: {e}", key.as_str());
            }
        }
    }
}

impl<S: Store> Store for Chunked<S> {
    fn load(&self, key: &CacheKey) -> Result<Option<Secret>> {
        let Some(text) = self.inner.load(key)? else {
            return Ok(None);
        };
        let Some(head) = Head::parse(text.expose()) else {
            return Ok(Some(text));
        };
        let mut value = String::new();
        for i in 0..head.count {
            match self.inner.load(&head.part(key, i))? {
                Some(part) => value.push_str(part.expose()),
                None => {
                    crate::debug!("{}: part {i} is missing", key.as_str());
                    return Ok(Some(Secret::new("")));
                }
            }
        }
        Ok(Some(Secret::new(value)))
    }

    fn save(&self, key: &CacheKey, value: &Secret) -> Result<()> {
        let old = self.head(key);
        let text = value.expose();
        if text.len() <= self.chunk && Head::parse(text).is_none() {
            self.inner.save(key, value)?;
        } else {
            let parts = split(text, self.chunk);
            let head = Head {
                id: format!("{:016x}", crate::random::u64()),
                count: parts.len(),
            };
            for (i, part) in parts.iter().enumerate() {
                self.inner.save(&head.part(key, i), &Secret::new(*part))?;
            }
            // The head names parts, not the value: it is no secret, but the
            // store takes every value in one type.
            self.inner.save(key, &Secret::new(head.render()))?;
        }
        if let Some(old) = old {
            self.remove_parts(key, &old);
        }
        Ok(())
    }

    fn delete(&self, key: &CacheKey) -> Result<bool> {
        let old = self.head(key);
        let removed = self.inner.delete(key)?;
        if let Some(old) = old {
            self.remove_parts(key, &old);
        }
        Ok(removed)
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    /// Entries in memory that refuse values over a size, as Windows does.
    fn limited() -> MemoryStore {
        MemoryStore::new("keyring").with_limit(64)
    }

    fn secret(value: &str) -> Secret {
        Secret::new(value)
    }

    fn key() -> CacheKey {
        CacheKey::hashed("chunked")
    }

    #[test]
    fn split_respects_the_size_and_character_boundaries() {
        assert_eq!(split("abcdefgh", 3), ["abc", "def", "gh"]);
        assert!(split("", 3).is_empty());
        let text = "é".repeat(10); // 2 bytes each
        let parts = split(&text, 5);
        assert!(parts.iter().all(|p| p.len() <= 5), "{parts:?}");
        assert_eq!(parts.concat(), text);
        assert_eq!(split("ab", 0), ["a", "b"], "always makes progress");
    }

    #[test]
    fn a_value_that_fits_is_stored_as_it_is() {
        let backend = limited();
        let store = Chunked::new(&backend, 64);
        store
            .save(&key(), &secret(r#"{"access_token":"a"}"#))
            .unwrap();
        assert_eq!(backend.len(), 1);
        assert_eq!(
            backend.get(key().as_str()).unwrap(),
            r#"{"access_token":"a"}"#
        );
    }

    #[test]
    fn a_large_value_round_trips_through_parts_and_leaves_nothing_behind() {
        let backend = limited();
        let store = Chunked::new(&backend, 64);
        let big: String = (0..300)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        store.save(&key(), &secret(&big)).unwrap();
        assert_eq!(backend.len(), 1 + 5, "head and 5 parts");
        assert_eq!(store.load(&key()).unwrap(), Some(secret(&big)));

        // Replacing it with another large value drops the old parts.
        let bigger = big.repeat(2);
        store.save(&key(), &secret(&bigger)).unwrap();
        assert_eq!(backend.len(), 1 + 10);
        assert_eq!(store.load(&key()).unwrap(), Some(secret(&bigger)));

        // A small value replaces the head and the parts go.
        store.save(&key(), &secret("small")).unwrap();
        assert_eq!(backend.len(), 1);
        assert_eq!(store.load(&key()).unwrap(), Some(secret("small")));

        store.save(&key(), &secret(&big)).unwrap();
        assert!(store.delete(&key()).unwrap());
        assert!(backend.is_empty());
        assert_eq!(store.load(&key()).unwrap(), None);
    }

    #[test]
    fn a_head_with_a_missing_part_reads_as_corrupt() {
        let backend = limited();
        let store = Chunked::new(&backend, 64);
        store.save(&key(), &secret(&"x".repeat(200))).unwrap();
        let part = backend
            .keys()
            .into_iter()
            .find(|k| k.ends_with(".1"))
            .unwrap();
        backend.remove(&part);
        assert_eq!(store.load(&key()).unwrap(), Some(secret("")));
    }

    #[test]
    fn heads_parse_strictly() {
        let h = Head::parse("credential-oauth-chunks:00ff:3").unwrap();
        assert_eq!(h.count, 3);
        assert_eq!(Head::parse(&h.render()), Some(h));
        for bad in [
            "credential-oauth-chunks:00ff:0",
            "credential-oauth-chunks::3",
            "credential-oauth-chunks:xyz:3",
            "credential-oauth-chunks:00ff",
            r#"{"access_token":"credential-oauth-chunks:1:1"}"#,
        ] {
            assert_eq!(Head::parse(bad), None, "{bad}");
        }
    }
}
