//! The embedded store's redb file: its tables, the checkpoint that writes memtable or log entries into them, the
//! sweep that purges expired keys and bookings, and reads of single entries.

use bytes::Bytes;
use redb::{
    Database, Durability, ReadTransaction, ReadableTable, Table, TableDefinition, WriteTransaction,
};

use super::memtable::Space;
use super::{backend, booking_key, decode, live, slot};
use crate::store::Result;

/// `key` → 8-byte big-endian expiry (ms since epoch, 0 = never) followed by the value.
pub const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
/// `(expiry slot ms, key)` → nothing: the keys with a TTL by the second they expire in, for the sweeper.
pub const EXPIRY: TableDefinition<(u64, &str), ()> = TableDefinition::new("expiry");
/// `pool` + U+001F + `resource` → 8-byte big-endian expiry followed by the holder.
pub const BOOKINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("bookings");
/// `pool` + U+001F + `holder` → the resource the holder has booked in that pool (at most one).
pub const HOLDERS: TableDefinition<&str, &str> = TableDefinition::new("holders");
/// `key` → counter value.
pub const COUNTERS: TableDefinition<&str, i64> = TableDefinition::new("counters");

/// The tables of one write transaction.
pub struct Tables<'txn> {
    kv: Table<'txn, &'static str, &'static [u8]>,
    expiry: Table<'txn, (u64, &'static str), ()>,
    bookings: Table<'txn, &'static str, &'static [u8]>,
    holders: Table<'txn, &'static str, &'static str>,
    counters: Table<'txn, &'static str, i64>,
}

impl<'txn> Tables<'txn> {
    fn open(txn: &'txn WriteTransaction) -> Result<Tables<'txn>> {
        Ok(Tables {
            kv: txn.open_table(KV).map_err(backend)?,
            expiry: txn.open_table(EXPIRY).map_err(backend)?,
            bookings: txn.open_table(BOOKINGS).map_err(backend)?,
            holders: txn.open_table(HOLDERS).map_err(backend)?,
            counters: txn.open_table(COUNTERS).map_err(backend)?,
        })
    }

    /// Gives `key` of `space` the state `value` (`None`: removed), keeping the expiry index in step.
    pub fn apply(&mut self, space: Space, key: &str, value: Option<&[u8]>) -> Result<()> {
        match (space, value) {
            (Space::Kv, Some(record)) => self.put_record(key, record),
            (Space::Kv, None) => self.remove_record(key),
            (Space::Bookings, Some(record)) => {
                self.bookings.insert(key, record).map_err(backend)?;
                Ok(())
            }
            (Space::Bookings, None) => {
                self.bookings.remove(key).map_err(backend)?;
                Ok(())
            }
            (Space::Holders, Some(resource)) => {
                let resource = std::str::from_utf8(resource).map_err(backend)?;
                self.holders.insert(key, resource).map_err(backend)?;
                Ok(())
            }
            (Space::Holders, None) => {
                self.holders.remove(key).map_err(backend)?;
                Ok(())
            }
            (Space::Counters, Some(value)) => {
                self.counters
                    .insert(key, counter(value)?)
                    .map_err(backend)?;
                Ok(())
            }
            (Space::Counters, None) => {
                self.counters.remove(key).map_err(backend)?;
                Ok(())
            }
        }
    }

    fn put_record(&mut self, key: &str, record: &[u8]) -> Result<()> {
        let expires = decode(record)?.0;
        // `insert` hands back the old record, so replacing a key costs one tree walk, not a remove and an insert.
        let old_expiry = match self.kv.insert(key, record).map_err(backend)? {
            Some(guard) => decode(guard.value())?.0,
            None => 0,
        };
        // The index only has to hold an entry at or before the record's expiry (see `sweep`): a rewrite that
        // expires in the same second or later, as every save of a service record does, leaves the index alone.
        if expires != 0 && (old_expiry == 0 || slot(expires) < slot(old_expiry)) {
            self.expiry
                .insert((slot(expires), key), ())
                .map_err(backend)?;
        }
        if old_expiry != 0 && expires == 0 {
            self.expiry
                .remove((slot(old_expiry), key))
                .map_err(backend)?;
        }
        Ok(())
    }

    fn remove_record(&mut self, key: &str) -> Result<()> {
        let old_expiry = match self.kv.remove(key).map_err(backend)? {
            Some(guard) => decode(guard.value())?.0,
            None => return Ok(()),
        };
        if old_expiry != 0 {
            self.expiry
                .remove((slot(old_expiry), key))
                .map_err(backend)?;
        }
        Ok(())
    }

    /// Purges keys and bookings that have expired by `now`.
    ///
    /// An expiry entry `(slot, key)` promises only that `key` expires no earlier than `slot`: a rewrite that
    /// expires later keeps the old entry, and a delete may leave one behind. Every entry of a slot that has fully
    /// passed is looked at once: its key is purged when it has expired, or indexed again at its current expiry.
    pub fn sweep(&mut self, now: u64) -> Result<()> {
        let mut due = Vec::new();
        for item in self
            .expiry
            .range((0u64, "")..(slot(now), ""))
            .map_err(backend)?
        {
            let (entry, _) = item.map_err(backend)?;
            let (at, key) = entry.value();
            due.push((at, key.to_string()));
            if due.len() >= 10_000 {
                break;
            }
        }
        for (at, key) in due {
            self.expiry.remove((at, key.as_str())).map_err(backend)?;
            let expires = match self.kv.get(key.as_str()).map_err(backend)? {
                Some(guard) => decode(guard.value())?.0,
                None => continue,
            };
            if expires == 0 {
                continue;
            }
            if live(expires, now) {
                self.expiry
                    .insert((slot(expires), key.as_str()), ())
                    .map_err(backend)?;
            } else {
                self.kv.remove(key.as_str()).map_err(backend)?;
            }
        }
        let mut stale = Vec::new();
        for item in self.bookings.iter().map_err(backend)? {
            let (key, value) = item.map_err(backend)?;
            let (expires, holder) = decode(value.value())?;
            if !live(expires, now) {
                stale.push((
                    key.value().to_string(),
                    String::from_utf8_lossy(holder).into_owned(),
                ));
            }
        }
        for (key, holder) in stale {
            self.bookings.remove(key.as_str()).map_err(backend)?;
            if let Some((pool, resource)) = key.split_once('\u{1f}') {
                let index = booking_key(pool, &holder);
                let points_here = self
                    .holders
                    .get(index.as_str())
                    .map_err(backend)?
                    .is_some_and(|guard| guard.value() == resource);
                if points_here {
                    self.holders.remove(index.as_str()).map_err(backend)?;
                }
            }
        }
        Ok(())
    }
}

fn counter(bytes: &[u8]) -> Result<i64> {
    let word: [u8; 8] = bytes
        .try_into()
        .map_err(|_| crate::store::Error::Corrupt("counter is not 8 bytes".into()))?;
    Ok(i64::from_be_bytes(word))
}

/// Creates the tables of a new file.
pub fn create_tables(db: &Database) -> Result<()> {
    write(db, |_| Ok(()))
}

/// Runs `work` in one write transaction and commits it durably (fsync); on error nothing is written.
pub fn write(db: &Database, work: impl FnOnce(&mut Tables<'_>) -> Result<()>) -> Result<()> {
    let mut txn = db.begin_write().map_err(backend)?;
    txn.set_durability(Durability::Immediate);
    let result = {
        let mut tables = Tables::open(&txn)?;
        work(&mut tables)
    };
    match result {
        Ok(()) => txn.commit().map_err(backend),
        Err(error) => {
            txn.abort().map_err(backend)?;
            Err(error)
        }
    }
}

/// The file's state of `key` in `space`, in the memtables' form (see [`Space`]).
pub fn get(txn: &ReadTransaction, space: Space, key: &str) -> Result<Option<Bytes>> {
    match space {
        Space::Kv | Space::Bookings => {
            let table = txn
                .open_table(if space == Space::Kv { KV } else { BOOKINGS })
                .map_err(backend)?;
            let value = table.get(key).map_err(backend)?;
            Ok(value.map(|guard| Bytes::copy_from_slice(guard.value())))
        }
        Space::Holders => {
            let table = txn.open_table(HOLDERS).map_err(backend)?;
            let value = table.get(key).map_err(backend)?;
            Ok(value.map(|guard| Bytes::copy_from_slice(guard.value().as_bytes())))
        }
        Space::Counters => {
            let table = txn.open_table(COUNTERS).map_err(backend)?;
            let value = table.get(key).map_err(backend)?;
            Ok(value.map(|guard| Bytes::copy_from_slice(&guard.value().to_be_bytes())))
        }
    }
}
