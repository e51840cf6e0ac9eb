//! The embedded backend: one redb file under the data directory, durable by default.
//!
//! Writes go to one writer thread that applies whatever jobs are waiting in a single redb write transaction and
//! commits once (group commit): under load many writes share one fsync, and each caller is answered only after
//! the commit returned, so an acknowledged write survives `kill -9`. Because the writer is alone, read-modify-write
//! operations (booking, counters, set-if-absent) are atomic without locks. Reads open a redb read transaction on
//! the caller's thread; redb's MVCC lets them run beside the writer. Pub/sub is in-process (one node).
//! The file layout is described in `docs/store.md`.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use redb::{Database, ReadableTable, ReadableTableMetadata, Table, TableDefinition};
use tokio::sync::{mpsc, oneshot};

use super::{BookThen, Candidates, Clock, Error, Result, Store, Subscription, WriteOp};

/// `key` → 8-byte big-endian expiry (ms since epoch, 0 = never) followed by the value.
const KV: TableDefinition<&str, &[u8]> = TableDefinition::new("kv");
/// `(expiry ms, key)` → nothing: the keys with a TTL in expiry order, for the sweeper.
const EXPIRY: TableDefinition<(u64, &str), ()> = TableDefinition::new("expiry");
/// `pool` + U+001F + `resource` → 8-byte big-endian expiry followed by the holder.
const BOOKINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("bookings");
/// `pool` + U+001F + `holder` → the resource the holder has booked in that pool (at most one).
const HOLDERS: TableDefinition<&str, &str> = TableDefinition::new("holders");
/// `key` → counter value.
const COUNTERS: TableDefinition<&str, i64> = TableDefinition::new("counters");

/// The most jobs committed together.
const MAX_BATCH: usize = 512;
/// How often expired keys are purged from the file.
const SWEEP_EVERY: Duration = Duration::from_secs(1);
/// How many messages a slow subscriber may have queued before the oldest new ones are dropped.
const SUBSCRIBER_QUEUE: usize = 1024;
/// Name of the database file inside the data directory.
pub const FILE_NAME: &str = "gms.redb";

/// The embedded, durable store. Cheap to clone; clones share the file and the writer.
#[derive(Clone)]
pub struct Embedded {
    inner: Arc<Inner>,
}

struct Inner {
    db: Arc<Database>,
    writer: std_mpsc::Sender<Job>,
    clock: Arc<dyn Clock>,
    channels: Mutex<HashMap<String, Vec<mpsc::Sender<Bytes>>>>,
    path: PathBuf,
}

impl fmt::Debug for Embedded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Embedded")
            .field("path", &self.inner.path)
            .finish()
    }
}

enum Op {
    Batch(Vec<WriteOp>),
    SetIfAbsent {
        key: String,
        value: Bytes,
        ttl: Option<Duration>,
    },
    Delete {
        key: String,
    },
    Book {
        pool: String,
        candidates: Candidates,
        holder: String,
        ttl: Duration,
        then: Option<BookThen>,
    },
    Release {
        pool: String,
        resource: String,
        holder: String,
    },
    Incr {
        key: String,
        delta: i64,
    },
    Sweep,
}

enum Reply {
    Done,
    Flag(bool),
    Booked(Option<String>),
    Counter(i64),
}

struct Job {
    op: Op,
    reply: oneshot::Sender<Result<Reply>>,
}

fn backend(error: impl fmt::Display) -> Error {
    Error::Backend(error.to_string())
}

impl Embedded {
    /// Opens (or creates) the store in `dir`, creating the directory when needed.
    pub fn open(dir: &Path, clock: Arc<dyn Clock>) -> Result<Embedded> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Backend(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(FILE_NAME);
        let db = Database::create(&path)
            .map_err(|e| Error::Backend(format!("cannot open {}: {e}", path.display())))?;
        let txn = db.begin_write().map_err(backend)?;
        {
            txn.open_table(KV).map_err(backend)?;
            txn.open_table(EXPIRY).map_err(backend)?;
            txn.open_table(BOOKINGS).map_err(backend)?;
            txn.open_table(HOLDERS).map_err(backend)?;
            txn.open_table(COUNTERS).map_err(backend)?;
        }
        txn.commit().map_err(backend)?;
        let db = Arc::new(db);
        let (sender, receiver) = std_mpsc::channel();
        let writer_db = db.clone();
        let writer_clock = clock.clone();
        std::thread::Builder::new()
            .name("gms-store-writer".into())
            .spawn(move || run_writer(&writer_db, writer_clock.as_ref(), &receiver))
            .map_err(backend)?;
        Ok(Embedded {
            inner: Arc::new(Inner {
                db,
                writer: sender,
                clock,
                channels: Mutex::new(HashMap::new()),
                path,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Purges expired keys and bookings from the file now, as the writer does about once a second (reads skip
    /// expired data either way; this is for diagnostics and tests).
    pub async fn purge_expired(&self) -> Result<()> {
        self.submit(Op::Sweep).await.map(|_| ())
    }

    async fn submit(&self, op: Op) -> Result<Reply> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .writer
            .send(Job { op, reply })
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    fn now(&self) -> u64 {
        self.inner.clock.now_ms()
    }
}

fn expires_at(now: u64, ttl: Option<Duration>) -> u64 {
    ttl.map(|ttl| now.saturating_add((ttl.as_millis() as u64).max(1)))
        .unwrap_or(0)
}

fn encode(expires: u64, payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(8 + payload.len());
    bytes.extend_from_slice(&expires.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

fn decode(bytes: &[u8]) -> Result<(u64, &[u8])> {
    if bytes.len() < 8 {
        return Err(Error::Corrupt(
            "record shorter than its expiry header".into(),
        ));
    }
    let (head, payload) = bytes.split_at(8);
    let mut expiry = [0u8; 8];
    expiry.copy_from_slice(head);
    Ok((u64::from_be_bytes(expiry), payload))
}

/// The expiry index slot of an expiry time: the start of its second. Rewrites that expire within the same second
/// share a slot, so they need no index update.
fn slot(expires: u64) -> u64 {
    expires - expires % 1000
}

fn live(expires: u64, now: u64) -> bool {
    expires == 0 || expires > now
}

fn booking_key(pool: &str, resource: &str) -> String {
    format!("{pool}\u{1f}{resource}")
}

struct Tables<'txn> {
    kv: Table<'txn, &'static str, &'static [u8]>,
    expiry: Table<'txn, (u64, &'static str), ()>,
    bookings: Table<'txn, &'static str, &'static [u8]>,
    holders: Table<'txn, &'static str, &'static str>,
    counters: Table<'txn, &'static str, i64>,
}

impl Tables<'_> {
    /// Removes `key` and its expiry entry; returns whether the removed value was live.
    fn remove(&mut self, key: &str, now: u64) -> Result<bool> {
        let old_expiry = match self.kv.remove(key).map_err(backend)? {
            Some(guard) => decode(guard.value())?.0,
            None => return Ok(false),
        };
        if old_expiry != 0 {
            self.expiry
                .remove((slot(old_expiry), key))
                .map_err(backend)?;
        }
        Ok(live(old_expiry, now))
    }

    fn put(&mut self, key: &str, value: &[u8], ttl: Option<Duration>, now: u64) -> Result<()> {
        let expires = expires_at(now, ttl);
        // `insert` hands back the old record, so replacing a key costs one tree walk, not a remove and an insert.
        let old_expiry = match self
            .kv
            .insert(key, encode(expires, value).as_slice())
            .map_err(backend)?
        {
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

    fn is_live(&self, key: &str, now: u64) -> Result<bool> {
        match self.kv.get(key).map_err(backend)? {
            Some(guard) => Ok(live(decode(guard.value())?.0, now)),
            None => Ok(false),
        }
    }

    fn apply(&mut self, op: Op, now: u64) -> Result<Reply> {
        match op {
            Op::Batch(ops) => {
                self.write_all(&ops, now)?;
                Ok(Reply::Done)
            }
            Op::SetIfAbsent { key, value, ttl } => {
                if self.is_live(&key, now)? {
                    return Ok(Reply::Flag(false));
                }
                self.put(&key, &value, ttl, now)?;
                Ok(Reply::Flag(true))
            }
            Op::Delete { key } => self.remove(&key, now).map(Reply::Flag),
            Op::Book {
                pool,
                candidates,
                holder,
                ttl,
                then,
            } => {
                // A holder keeps at most one resource per pool: its previous booking is released first. Its
                // `holders` entry is overwritten by the new booking, or removed when nothing could be booked.
                let index = booking_key(&pool, &holder);
                let held = self
                    .holders
                    .get(index.as_str())
                    .map_err(backend)?
                    .map(|guard| guard.value().to_string());
                if let Some(previous) = &held {
                    self.release_resource(&pool, previous, &holder, now)?;
                }
                for candidate in candidates.iter() {
                    let key = booking_key(&pool, candidate);
                    let taken = match self.bookings.get(key.as_str()).map_err(backend)? {
                        Some(guard) => live(decode(guard.value())?.0, now),
                        None => false,
                    };
                    if !taken {
                        let record = encode(expires_at(now, Some(ttl)), holder.as_bytes());
                        self.bookings
                            .insert(key.as_str(), record.as_slice())
                            .map_err(backend)?;
                        if held.as_ref() != Some(candidate) {
                            self.holders
                                .insert(index.as_str(), candidate.as_str())
                                .map_err(backend)?;
                        }
                        if let Some(then) = then {
                            self.write_all(&then(candidate), now)?;
                        }
                        return Ok(Reply::Booked(Some(candidate.clone())));
                    }
                }
                if held.is_some() {
                    self.holders.remove(index.as_str()).map_err(backend)?;
                }
                Ok(Reply::Booked(None))
            }
            Op::Release {
                pool,
                resource,
                holder,
            } => self
                .release_booking(&pool, &resource, &holder, now)
                .map(Reply::Flag),
            Op::Incr { key, delta } => {
                let current = self
                    .counters
                    .get(key.as_str())
                    .map_err(backend)?
                    .map(|g| g.value())
                    .unwrap_or(0);
                let next = current.saturating_add(delta);
                self.counters.insert(key.as_str(), next).map_err(backend)?;
                Ok(Reply::Counter(next))
            }
            Op::Sweep => {
                self.sweep(now)?;
                Ok(Reply::Done)
            }
        }
    }

    fn write_all(&mut self, ops: &[WriteOp], now: u64) -> Result<()> {
        for op in ops {
            match op {
                WriteOp::Set { key, value, ttl } => self.put(key, value, *ttl, now)?,
                WriteOp::Delete { key } => {
                    self.remove(key, now)?;
                }
            }
        }
        Ok(())
    }

    /// Removes the booking of `resource` when `holder` holds it, and the holder's index entry when it points
    /// there; returns whether the booking was removed.
    fn release_booking(
        &mut self,
        pool: &str,
        resource: &str,
        holder: &str,
        now: u64,
    ) -> Result<bool> {
        let held = self.release_resource(pool, resource, holder, now)?;
        let index = booking_key(pool, holder);
        let points_here = self
            .holders
            .get(index.as_str())
            .map_err(backend)?
            .is_some_and(|guard| guard.value() == resource);
        if points_here {
            self.holders.remove(index.as_str()).map_err(backend)?;
        }
        Ok(held)
    }

    /// Removes the booking of `resource` when `holder` holds it (leaving the `holders` index to the caller);
    /// returns whether it did.
    fn release_resource(
        &mut self,
        pool: &str,
        resource: &str,
        holder: &str,
        now: u64,
    ) -> Result<bool> {
        let key = booking_key(pool, resource);
        // Remove first, as the holder almost always still has it: one tree walk instead of a lookup and a removal.
        // Someone else's booking is put back; an expired one of this holder's stays gone.
        let removed = match self.bookings.remove(key.as_str()).map_err(backend)? {
            Some(guard) => {
                let (expires, owner) = decode(guard.value())?;
                let ours = owner == holder.as_bytes();
                Some((
                    ours,
                    live(expires, now),
                    (!ours).then(|| guard.value().to_vec()),
                ))
            }
            None => None,
        };
        match removed {
            Some((true, live, _)) => Ok(live),
            Some((false, _, Some(record))) => {
                self.bookings
                    .insert(key.as_str(), record.as_slice())
                    .map_err(backend)?;
                Ok(false)
            }
            _ => Ok(false),
        }
    }

    /// Purges keys and bookings that have expired by `now`.
    ///
    /// An expiry entry `(slot, key)` promises only that `key` expires no earlier than `slot`: a rewrite that
    /// expires later keeps the old entry, and a delete may leave one behind. Every entry of a slot that has fully
    /// passed is looked at once: its key is purged when it has expired, or indexed again at its current expiry.
    fn sweep(&mut self, now: u64) -> Result<()> {
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

fn with_tables<T>(db: &Database, work: impl FnOnce(&mut Tables<'_>) -> Result<T>) -> Result<T> {
    let txn = db.begin_write().map_err(backend)?;
    let result = {
        let mut tables = Tables {
            kv: txn.open_table(KV).map_err(backend)?,
            expiry: txn.open_table(EXPIRY).map_err(backend)?,
            bookings: txn.open_table(BOOKINGS).map_err(backend)?,
            holders: txn.open_table(HOLDERS).map_err(backend)?,
            counters: txn.open_table(COUNTERS).map_err(backend)?,
        };
        work(&mut tables)
    };
    match result {
        Ok(value) => {
            txn.commit().map_err(backend)?;
            Ok(value)
        }
        Err(error) => {
            txn.abort().map_err(backend)?;
            Err(error)
        }
    }
}

fn run_writer(db: &Database, clock: &dyn Clock, receiver: &std_mpsc::Receiver<Job>) {
    let mut last_sweep = Instant::now();
    loop {
        let first = match receiver.recv_timeout(SWEEP_EVERY) {
            Ok(job) => Some(job),
            Err(std_mpsc::RecvTimeoutError::Timeout) => None,
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if let Some(first) = first {
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match receiver.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            let now = clock.now_ms();
            let (ops, senders): (Vec<Op>, Vec<_>) =
                jobs.into_iter().map(|job| (job.op, job.reply)).unzip();
            let outcome = with_tables(db, |tables| {
                ops.into_iter()
                    .map(|op| tables.apply(op, now))
                    .collect::<Result<Vec<_>>>()
            });
            match outcome {
                Ok(replies) => {
                    for (sender, reply) in senders.into_iter().zip(replies) {
                        let _ = sender.send(Ok(reply));
                    }
                }
                Err(error) => {
                    tracing::error!(%error, "store commit failed");
                    for sender in senders {
                        let _ = sender.send(Err(error.clone()));
                    }
                }
            }
        }
        if last_sweep.elapsed() >= SWEEP_EVERY {
            last_sweep = Instant::now();
            let now = clock.now_ms();
            if let Err(error) = with_tables(db, |tables| tables.sweep(now)) {
                tracing::error!(%error, "store sweep failed");
            }
        }
    }
}

#[async_trait]
impl Store for Embedded {
    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        let now = self.now();
        let txn = self.inner.db.begin_read().map_err(backend)?;
        let table = txn.open_table(KV).map_err(backend)?;
        let Some(guard) = table.get(key).map_err(backend)? else {
            return Ok(None);
        };
        let (expires, payload) = decode(guard.value())?;
        Ok(live(expires, now).then(|| Bytes::copy_from_slice(payload)))
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.write_batch(vec![WriteOp::Set {
            key: key.to_string(),
            value,
            ttl,
        }])
        .await
    }

    async fn set_if_absent(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        match self
            .submit(Op::SetIfAbsent {
                key: key.to_string(),
                value,
                ttl,
            })
            .await?
        {
            Reply::Flag(set) => Ok(set),
            _ => Err(Error::Backend("unexpected writer reply".into())),
        }
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        match self
            .submit(Op::Delete {
                key: key.to_string(),
            })
            .await?
        {
            Reply::Flag(removed) => Ok(removed),
            _ => Err(Error::Backend("unexpected writer reply".into())),
        }
    }

    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        self.submit(Op::Batch(ops)).await.map(|_| ())
    }

    async fn scan_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<(String, Bytes)>> {
        let now = self.now();
        let txn = self.inner.db.begin_read().map_err(backend)?;
        let table = txn.open_table(KV).map_err(backend)?;
        let mut found = Vec::new();
        for item in table.range(prefix..).map_err(backend)? {
            if found.len() >= limit {
                break;
            }
            let (key, value) = item.map_err(backend)?;
            let key = key.value();
            if !key.starts_with(prefix) {
                break;
            }
            let (expires, payload) = decode(value.value())?;
            if live(expires, now) {
                found.push((key.to_string(), Bytes::copy_from_slice(payload)));
            }
        }
        Ok(found)
    }

    async fn book(
        &self,
        pool: &str,
        candidates: &Candidates,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<String>> {
        let op = Op::Book {
            pool: pool.to_string(),
            candidates: candidates.clone(),
            holder: holder.to_string(),
            ttl,
            then: None,
        };
        match self.submit(op).await? {
            Reply::Booked(resource) => Ok(resource),
            _ => Err(Error::Backend("unexpected writer reply".into())),
        }
    }

    async fn book_then(
        &self,
        pool: &str,
        candidates: &Candidates,
        holder: &str,
        ttl: Duration,
        then: BookThen,
    ) -> Result<Option<String>> {
        let op = Op::Book {
            pool: pool.to_string(),
            candidates: candidates.clone(),
            holder: holder.to_string(),
            ttl,
            then: Some(then),
        };
        match self.submit(op).await? {
            Reply::Booked(resource) => Ok(resource),
            _ => Err(Error::Backend("unexpected writer reply".into())),
        }
    }

    async fn release(&self, pool: &str, resource: &str, holder: &str) -> Result<bool> {
        let op = Op::Release {
            pool: pool.to_string(),
            resource: resource.to_string(),
            holder: holder.to_string(),
        };
        match self.submit(op).await? {
            Reply::Flag(released) => Ok(released),
            _ => Err(Error::Backend("unexpected writer reply".into())),
        }
    }

    async fn count_booked(&self, pool: &str) -> Result<usize> {
        let now = self.now();
        let prefix = booking_key(pool, "");
        let txn = self.inner.db.begin_read().map_err(backend)?;
        let table = txn.open_table(BOOKINGS).map_err(backend)?;
        let mut count = 0;
        for item in table.range(prefix.as_str()..).map_err(backend)? {
            let (key, value) = item.map_err(backend)?;
            if !key.value().starts_with(&prefix) {
                break;
            }
            if live(decode(value.value())?.0, now) {
                count += 1;
            }
        }
        Ok(count)
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        match self
            .submit(Op::Incr {
                key: key.to_string(),
                delta,
            })
            .await?
        {
            Reply::Counter(value) => Ok(value),
            _ => Err(Error::Backend("unexpected writer reply".into())),
        }
    }

    async fn publish(&self, channel: &str, payload: Bytes) -> Result<usize> {
        let mut channels = self.inner.channels.lock().map_err(|_| Error::Closed)?;
        let Some(senders) = channels.get_mut(channel) else {
            return Ok(0);
        };
        senders.retain(|sender| !sender.is_closed());
        let mut delivered = 0;
        for sender in senders.iter() {
            if sender.try_send(payload.clone()).is_ok() {
                delivered += 1;
            }
        }
        if senders.is_empty() {
            channels.remove(channel);
        }
        Ok(delivered)
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription> {
        let (sender, receiver) = mpsc::channel(SUBSCRIBER_QUEUE);
        let mut channels = self.inner.channels.lock().map_err(|_| Error::Closed)?;
        channels
            .entry(channel.to_string())
            .or_default()
            .push(sender);
        Ok(Subscription::new(receiver))
    }
}

/// How many live keys the file holds (for diagnostics and tests).
pub fn key_count(store: &Embedded) -> Result<u64> {
    let txn = store.inner.db.begin_read().map_err(backend)?;
    let table = txn.open_table(KV).map_err(backend)?;
    table.len().map_err(backend)
}
