//! The embedded store's memtables: the writes logged since the last checkpoint, kept in memory in key order so
//! reads see them before they reach the redb file.
//!
//! `active` takes new writes; a checkpoint freezes it (`frozen`), writes it into the file, and drops it once the
//! file's commit is durable. Each entry is the entry's whole new state (its bytes as the file would hold them),
//! or `None` for a removal, so the newest of active, frozen and the file is always the truth.

use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The memtable's hash: keys are the store's own (ids it generated, resource names), so a fast non-keyed hash is
/// enough, and every read and write looks a key up several times.
type FastHash = foldhash::fast::RandomState;
use std::sync::Arc;

use bytes::Bytes;

/// The tables of the store, as the log and the memtables name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Space {
    /// Key/value records: 8-byte expiry then the value.
    Kv = 0,
    /// Bookings by pool and resource: 8-byte expiry then the holder.
    Bookings = 1,
    /// The resource each holder has booked in a pool (UTF-8).
    Holders = 2,
    /// Counters: 8-byte big-endian `i64`.
    Counters = 3,
}

impl Space {
    /// Every space, in byte order.
    pub const ALL: [Space; 4] = [Space::Kv, Space::Bookings, Space::Holders, Space::Counters];

    /// The space a log byte names.
    pub fn from_byte(byte: u8) -> Option<Space> {
        Space::ALL.get(byte as usize).copied()
    }
}

/// The entries of one space: states by key, and the keys in order for prefix ranges. A key rewritten while it is
/// in the memtable (a service record, a booking) only touches the hash map; the ordered set grows by new keys.
#[derive(Debug, Default)]
struct Entries {
    states: HashMap<String, Option<Bytes>, FastHash>,
    order: BTreeSet<String>,
}

/// One memtable: per space, key → new state (`None`: removed).
#[derive(Debug, Default)]
pub struct Memtable {
    spaces: [Entries; 4],
    bytes: usize,
}

impl Memtable {
    /// The state `key` has here: `None` when this memtable does not know it, `Some(None)` when it was removed.
    pub fn get(&self, space: Space, key: &str) -> Option<Option<Bytes>> {
        self.spaces[space as usize].states.get(key).cloned()
    }

    /// Records the new state of `key`.
    pub fn put(&mut self, space: Space, key: String, value: Option<Bytes>) {
        self.bytes += key.len() + value.as_ref().map_or(0, Bytes::len) + 48;
        let entries = &mut self.spaces[space as usize];
        match entries.states.get_mut(key.as_str()) {
            Some(state) => *state = value,
            None => {
                entries.order.insert(key.clone());
                entries.states.insert(key, value);
            }
        }
    }

    /// Entries of `space` whose key starts with `prefix`, in key order.
    pub fn prefixed<'a>(
        &'a self,
        space: Space,
        prefix: &'a str,
    ) -> impl Iterator<Item = (&'a String, &'a Option<Bytes>)> + 'a {
        let entries = &self.spaces[space as usize];
        entries
            .order
            .range::<str, _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Unbounded,
            ))
            .take_while(move |key| key.starts_with(prefix))
            .filter_map(move |key| entries.states.get(key).map(|state| (key, state)))
    }

    /// Every entry, space by space, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (Space, &String, &Option<Bytes>)> {
        Space::ALL.into_iter().flat_map(move |space| {
            let entries = &self.spaces[space as usize];
            entries
                .order
                .iter()
                .filter_map(move |key| entries.states.get(key).map(|state| (space, key, state)))
        })
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.spaces.iter().all(|entries| entries.states.is_empty())
    }

    /// About how much memory it holds (keys, values and per-entry overhead, counting rewrites).
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

/// The memtables readers consult before the file.
#[derive(Debug, Default)]
pub struct Memtables {
    /// Writes since the last freeze.
    pub active: Memtable,
    /// The writes a checkpoint is putting into the file.
    pub frozen: Option<Arc<Memtable>>,
}

impl Memtables {
    /// The newest state of `key` the memtables know (see [`Memtable::get`]).
    pub fn get(&self, space: Space, key: &str) -> Option<Option<Bytes>> {
        self.active.get(space, key).or_else(|| {
            self.frozen
                .as_ref()
                .and_then(|frozen| frozen.get(space, key))
        })
    }

    /// The newest state of every key of `space` starting with `prefix` the memtables know, in key order.
    pub fn prefixed(&self, space: Space, prefix: &str) -> BTreeMap<String, Option<Bytes>> {
        let mut found = BTreeMap::new();
        if let Some(frozen) = &self.frozen {
            for (key, value) in frozen.prefixed(space, prefix) {
                found.insert(key.clone(), value.clone());
            }
        }
        for (key, value) in self.active.prefixed(space, prefix) {
            found.insert(key.clone(), value.clone());
        }
        found
    }
}

/// Merges the file's entries (`file`, in key order) with the memtables' (`memory`, newer), yielding the live
/// state of each key in key order; removed keys are skipped.
pub fn merge<E>(
    memory: BTreeMap<String, Option<Bytes>>,
    file: impl Iterator<Item = std::result::Result<(String, Bytes), E>>,
) -> impl Iterator<Item = std::result::Result<(String, Bytes), E>> {
    let mut memory = memory.into_iter().peekable();
    let mut file = file.peekable();
    std::iter::from_fn(move || {
        loop {
            let take_memory = match (memory.peek(), file.peek()) {
                (None, None) => return None,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(_), Some(Err(_))) => false,
                (Some((mem_key, _)), Some(Ok((file_key, _)))) => {
                    if mem_key == file_key {
                        // The memtables' state replaces the file's.
                        file.next();
                        true
                    } else {
                        mem_key < file_key
                    }
                }
            };
            if take_memory {
                match memory.next() {
                    Some((key, Some(value))) => return Some(Ok((key, value))),
                    Some((_, None)) => continue,
                    None => return None,
                }
            }
            return file.next();
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(text: &str) -> Bytes {
        Bytes::copy_from_slice(text.as_bytes())
    }

    #[test]
    fn active_overrides_frozen_and_merge_overrides_the_file() {
        let mut frozen = Memtable::default();
        frozen.put(Space::Kv, "a".into(), Some(b("old")));
        frozen.put(Space::Kv, "b".into(), Some(b("kept")));
        let mut tables = Memtables {
            frozen: Some(Arc::new(frozen)),
            ..Memtables::default()
        };
        tables.active.put(Space::Kv, "a".into(), None);
        tables.active.put(Space::Kv, "d".into(), Some(b("new")));
        assert_eq!(tables.get(Space::Kv, "a"), Some(None));
        assert_eq!(tables.get(Space::Kv, "b"), Some(Some(b("kept"))));
        assert_eq!(tables.get(Space::Bookings, "b"), None);
        let file = vec![
            Ok::<_, ()>(("a".to_string(), b("file"))),
            Ok(("c".to_string(), b("file"))),
            Ok(("d".to_string(), b("file"))),
        ];
        let merged: Vec<_> = merge(tables.prefixed(Space::Kv, ""), file.into_iter())
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            merged,
            vec![
                ("b".to_string(), b("kept")),
                ("c".to_string(), b("file")),
                ("d".to_string(), b("new")),
            ]
        );
    }
}
