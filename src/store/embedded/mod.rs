//! The embedded backend: a write-ahead log and a redb file under the data directory, durable by default.
//!
//! A write runs on the caller's thread under one writer lock: it reads what it needs (memtables first, then the
//! file), works out the new state of every entry it touches, queues that as one log record ([`wal`]) and makes it
//! visible in the active memtable ([`memtable`]). Then, outside the writer lock, the first writer to take the log
//! lock appends every queued record with a single `write(2)`, for itself and for whoever queued meanwhile (the
//! others wait for the log lock asynchronously, so no worker thread sleeps on it); a write is acknowledged only once
//! its record is in the file. A write(2) that has returned survives `kill -9` (the kernel's page cache outlives the
//! process), so an acknowledged write does too; with [`SyncPolicy::Commit`] the log is also flushed to the disk
//! (one `fdatasync` for every write waiting) before the ack, so it survives power loss as well. Because writers
//! take turns, read-modify-write operations (booking, counters, set-if-absent) are atomic. A write is visible to
//! readers from the moment it is queued, a few microseconds before its ack; if the log cannot be written the store
//! refuses every later write, and what was not logged is gone at the next start.
//!
//! A checkpoint thread, about once a second, freezes the memtable, starts a new log file, writes the frozen
//! entries into the redb file in one durable commit (fsync), purges expired keys and bookings in the same commit,
//! then drops the frozen memtable and the log files it covered ([`file`]). A key rewritten many times between
//! checkpoints reaches the file once. Opening the store replays the log files left by a crash into the file.
//! Reads look at the memtables, then open a redb read transaction; they never wait for the disk. Pub/sub is
//! in-process (one node). The file layout is described in `docs/store.md`.

mod file;
mod memtable;
mod wal;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError, RwLock, mpsc as std_mpsc};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use redb::{Database, ReadTransaction, ReadableTable, ReadableTableMetadata};
use tokio::sync::{mpsc, oneshot, watch};

use super::{BookThen, Candidates, Error, Result, Store, Subscription, WriteOp};
use crate::clock::Clock;
use crate::sync::{lock, read, write};
use memtable::{Memtables, Space};

/// How many messages a slow subscriber may have queued before the oldest new ones are dropped.
const SUBSCRIBER_QUEUE: usize = 1024;
/// Past this much memory in the active memtable a checkpoint starts at once rather than on the next tick.
const MEMTABLE_LIMIT: usize = 64 * 1024 * 1024;
/// Name of the database file inside the data directory.
pub const FILE_NAME: &str = "gms.redb";

/// When an acknowledged write is on the disk, not only in the kernel's page cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncPolicy {
    /// The log is written before the ack and the file is synced at every checkpoint: an acknowledged write
    /// survives `kill -9`; power loss may lose the writes since the last checkpoint.
    #[default]
    Periodic,
    /// The log is also synced (`fdatasync`) before the ack, for every write waiting at once: an acknowledged
    /// write survives power loss too.
    Commit,
}

/// How the embedded store runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// When writes are synced to the disk.
    pub sync: SyncPolicy,
    /// How often the memtable is written into the redb file and expired data is purged.
    pub checkpoint_every: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            sync: SyncPolicy::Periodic,
            checkpoint_every: Duration::from_secs(1),
        }
    }
}

/// The embedded, durable store. Cheap to clone; clones share the file, the log and the memtables.
#[derive(Clone)]
pub struct Embedded {
    inner: Arc<Inner>,
}

struct Inner {
    core: Arc<Core>,
    checkpoints: std_mpsc::Sender<Signal>,
    channels: Mutex<HashMap<String, Vec<mpsc::Sender<Bytes>>>>,
    path: PathBuf,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The checkpoint thread stops when `checkpoints` is dropped; the sync thread when it sees `closed`.
        lock(&self.core.writer).closed = true;
        self.core.sync_wanted.notify_all();
    }
}

/// What the handles, the checkpoint thread and the sync thread share.
struct Core {
    db: Database,
    mem: RwLock<Memtables>,
    writer: Mutex<Writer>,
    /// The log file being appended to; whoever holds it writes every queued record.
    log: tokio::sync::Mutex<wal::Log>,
    /// How far (in [`Writer::queued`] bytes) the records are in the log file.
    written: AtomicU64,
    /// Set when the log could not be written: every later write is refused.
    failed: OnceLock<String>,
    /// Wakes the sync thread when the log has grown ([`SyncPolicy::Commit`]).
    sync_wanted: Condvar,
    /// How far the log is known to be on the disk ([`SyncPolicy::Commit`]).
    synced: watch::Sender<Synced>,
    checkpoint_asked: AtomicBool,
    clock: Arc<dyn Clock>,
    dir: PathBuf,
    options: Options,
}

/// The writer's side: records worked out and not yet in the log file.
struct Writer {
    /// Encoded records waiting for the next `write(2)`.
    pending: Vec<u8>,
    /// Bytes of records queued since the store was opened, over every log file.
    queued: u64,
    /// A handle on the current log file for the sync thread.
    log_file: Arc<std::fs::File>,
    closed: bool,
}

#[derive(Debug, Clone, Default)]
struct Synced {
    upto: u64,
    failed: Option<Arc<str>>,
}

enum Signal {
    /// Checkpoint now and answer.
    Now(oneshot::Sender<Result<()>>),
    /// The memtable is large: checkpoint now.
    Soon,
}

impl fmt::Debug for Embedded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Embedded")
            .field("path", &self.inner.path)
            .field("options", &self.inner.core.options)
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
}

enum Reply {
    Done,
    Flag(bool),
    Booked(Option<String>),
    Counter(i64),
}

fn backend(error: impl fmt::Display) -> Error {
    Error::Backend(error.to_string())
}

/// Locks `mutex`; a panic elsewhere while it was held leaves nothing half-done here (writes are worked out aside
/// and installed whole), so the poison is ignored.
fn unexpected() -> Error {
    Error::Backend("unexpected writer reply".into())
}

impl Embedded {
    /// Opens (or creates) the store in `dir` with the default [`Options`], creating the directory when needed.
    pub fn open(dir: &Path, clock: Arc<dyn Clock>) -> Result<Embedded> {
        Embedded::open_with(dir, clock, Options::default())
    }

    /// Opens (or creates) the store in `dir`, replaying the log files a crash left into the redb file first.
    pub fn open_with(dir: &Path, clock: Arc<dyn Clock>, options: Options) -> Result<Embedded> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Backend(format!(
                "cannot create data directory {}: {e}",
                dir.display()
            ))
        })?;
        let path = dir.join(FILE_NAME);
        let db = Database::create(&path)
            .map_err(|e| Error::Backend(format!("cannot open {}: {e}", path.display())))?;
        file::create_tables(&db)?;
        let next_seq = replay(&db, dir)?;
        let log = wal::Log::create(dir, next_seq)?;
        let log_file = Arc::new(log.handle()?);
        let core = Arc::new(Core {
            db,
            mem: RwLock::new(Memtables::default()),
            writer: Mutex::new(Writer {
                pending: Vec::new(),
                queued: 0,
                log_file,
                closed: false,
            }),
            log: tokio::sync::Mutex::new(log),
            written: AtomicU64::new(0),
            failed: OnceLock::new(),
            sync_wanted: Condvar::new(),
            synced: watch::Sender::new(Synced::default()),
            checkpoint_asked: AtomicBool::new(false),
            clock,
            dir: dir.to_path_buf(),
            options,
        });
        let (checkpoints, signals) = std_mpsc::channel();
        let checkpointer = core.clone();
        std::thread::Builder::new()
            .name("gms-store-checkpoint".into())
            .spawn(move || run_checkpoints(&checkpointer, &signals))
            .map_err(backend)?;
        if options.sync == SyncPolicy::Commit {
            let syncer = core.clone();
            std::thread::Builder::new()
                .name("gms-store-sync".into())
                .spawn(move || run_sync(&syncer))
                .map_err(backend)?;
        }
        Ok(Embedded {
            inner: Arc::new(Inner {
                core,
                checkpoints,
                channels: Mutex::new(HashMap::new()),
                path,
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Checkpoints now: writes every logged write into the redb file and purges expired keys and bookings from
    /// it, as the checkpoint thread does about once a second (reads skip expired data either way; this is for
    /// diagnostics and tests).
    pub async fn purge_expired(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.inner
            .checkpoints
            .send(Signal::Now(reply))
            .map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }

    async fn submit(&self, op: Op) -> Result<Reply> {
        let (reply, logged) = self.inner.core.write(op)?;
        self.inner.core.flush(logged).await?;
        if self.inner.core.options.sync == SyncPolicy::Commit {
            self.inner.core.wait_synced(logged).await?;
        }
        if self.inner.core.mem_is_large()
            && !self
                .inner
                .core
                .checkpoint_asked
                .swap(true, Ordering::Relaxed)
        {
            let _ = self.inner.checkpoints.send(Signal::Soon);
        }
        Ok(reply)
    }

    fn now(&self) -> u64 {
        self.inner.core.clock.now_ms()
    }

    fn memtables(&self) -> std::sync::RwLockReadGuard<'_, Memtables> {
        read(&self.inner.core.mem)
    }

    fn begin_read(&self) -> Result<ReadTransaction> {
        self.inner.core.db.begin_read().map_err(backend)
    }
}

/// Replays every log file in `dir` into the file in one durable commit, removes them, and returns the number of
/// the next log file.
fn replay(db: &Database, dir: &Path) -> Result<u64> {
    let logs = wal::list(dir)?;
    let Some((last, _)) = logs.last() else {
        return Ok(0);
    };
    let next = last + 1;
    file::write(db, |tables| {
        for (_, path) in &logs {
            let replay = wal::read(path)?;
            if let Some(at) = replay.torn_at {
                tracing::warn!(
                    log = %path.display(),
                    at,
                    records = replay.records,
                    "store log ends with a cut or corrupt record (a write that was never acknowledged); replaying the records before it"
                );
            }
            for (space, key, value) in &replay.entries {
                tables.apply(*space, key, value.as_deref())?;
            }
        }
        Ok(())
    })?;
    for (_, path) in &logs {
        std::fs::remove_file(path)
            .map_err(|e| Error::Backend(format!("cannot remove {}: {e}", path.display())))?;
    }
    Ok(next)
}

fn expires_at(now: u64, ttl: Option<Duration>) -> u64 {
    ttl.map(|ttl| now.saturating_add((ttl.as_millis() as u64).max(1)))
        .unwrap_or(0)
}

fn encode(expires: u64, payload: &[u8]) -> Bytes {
    let mut bytes = Vec::with_capacity(8 + payload.len());
    bytes.extend_from_slice(&expires.to_be_bytes());
    bytes.extend_from_slice(payload);
    Bytes::from(bytes)
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

/// The live payload of a record in the memtables' form (expiry header first).
fn live_payload(record: &Bytes, now: u64) -> Result<Option<Bytes>> {
    let (expires, _) = decode(record)?;
    Ok(live(expires, now).then(|| record.slice(8..)))
}

/// One write being worked out: what it reads comes from its own earlier entries, the memtables, then the file.
struct View<'a> {
    mem: &'a Memtables,
    db: &'a Database,
    txn: Option<ReadTransaction>,
    entries: Vec<wal::Entry>,
}

impl View<'_> {
    fn get(&mut self, space: Space, key: &str) -> Result<Option<Bytes>> {
        if let Some((_, _, value)) = self
            .entries
            .iter()
            .rev()
            .find(|(s, k, _)| *s == space && k == key)
        {
            return Ok(value.clone());
        }
        if let Some(value) = self.mem.get(space, key) {
            return Ok(value);
        }
        if self.txn.is_none() {
            self.txn = Some(self.db.begin_read().map_err(backend)?);
        }
        match &self.txn {
            Some(txn) => file::get(txn, space, key),
            None => Ok(None),
        }
    }

    fn put(&mut self, space: Space, key: String, value: Option<Bytes>) {
        self.entries.push((space, key, value));
    }

    fn is_live(&mut self, space: Space, key: &str, now: u64) -> Result<bool> {
        match self.get(space, key)? {
            Some(record) => Ok(live(decode(&record)?.0, now)),
            None => Ok(false),
        }
    }

    fn apply(&mut self, op: Op, now: u64) -> Result<Reply> {
        match op {
            Op::Batch(ops) => {
                self.write_all(ops, now);
                Ok(Reply::Done)
            }
            Op::SetIfAbsent { key, value, ttl } => {
                if self.is_live(Space::Kv, &key, now)? {
                    return Ok(Reply::Flag(false));
                }
                self.put(Space::Kv, key, Some(encode(expires_at(now, ttl), &value)));
                Ok(Reply::Flag(true))
            }
            Op::Delete { key } => match self.get(Space::Kv, &key)? {
                Some(record) => {
                    let was_live = live(decode(&record)?.0, now);
                    self.put(Space::Kv, key, None);
                    Ok(Reply::Flag(was_live))
                }
                None => Ok(Reply::Flag(false)),
            },
            Op::Book {
                pool,
                candidates,
                holder,
                ttl,
                then,
            } => self.book(&pool, &candidates, &holder, ttl, then, now),
            Op::Release {
                pool,
                resource,
                holder,
            } => {
                let released = self.release_resource(&pool, &resource, &holder, now)?;
                let index = booking_key(&pool, &holder);
                if self
                    .get(Space::Holders, &index)?
                    .is_some_and(|held| held == resource.as_bytes())
                {
                    self.put(Space::Holders, index, None);
                }
                Ok(Reply::Flag(released))
            }
            Op::Incr { key, delta } => {
                let current = match self.get(Space::Counters, &key)? {
                    Some(bytes) => {
                        let word: [u8; 8] = bytes[..]
                            .try_into()
                            .map_err(|_| Error::Corrupt(format!("counter `{key}`")))?;
                        i64::from_be_bytes(word)
                    }
                    None => 0,
                };
                let next = current.saturating_add(delta);
                self.put(
                    Space::Counters,
                    key,
                    Some(Bytes::copy_from_slice(&next.to_be_bytes())),
                );
                Ok(Reply::Counter(next))
            }
        }
    }

    fn book(
        &mut self,
        pool: &str,
        candidates: &Candidates,
        holder: &str,
        ttl: Duration,
        then: Option<BookThen>,
        now: u64,
    ) -> Result<Reply> {
        // A holder keeps at most one resource per pool: its previous booking is released first. Its `holders`
        // entry is overwritten by the new booking, or removed when nothing could be booked.
        let index = booking_key(pool, holder);
        let held = self.get(Space::Holders, &index)?;
        if let Some(previous) = &held {
            let previous = String::from_utf8_lossy(previous).into_owned();
            self.release_resource(pool, &previous, holder, now)?;
        }
        for candidate in candidates.iter() {
            let key = booking_key(pool, candidate);
            let taken = match self.get(Space::Bookings, &key)? {
                Some(record) => live(decode(&record)?.0, now),
                None => false,
            };
            if !taken {
                let record = encode(expires_at(now, Some(ttl)), holder.as_bytes());
                self.put(Space::Bookings, key, Some(record));
                if held.as_deref() != Some(candidate.as_bytes()) {
                    self.put(
                        Space::Holders,
                        index,
                        Some(Bytes::copy_from_slice(candidate.as_bytes())),
                    );
                }
                if let Some(then) = then {
                    self.write_all(then(candidate), now);
                }
                return Ok(Reply::Booked(Some(candidate.clone())));
            }
        }
        if held.is_some() {
            self.put(Space::Holders, index, None);
        }
        Ok(Reply::Booked(None))
    }

    fn write_all(&mut self, ops: Vec<WriteOp>, now: u64) {
        for op in ops {
            match op {
                WriteOp::Set { key, value, ttl } => {
                    self.put(Space::Kv, key, Some(encode(expires_at(now, ttl), &value)))
                }
                WriteOp::Delete { key } => self.put(Space::Kv, key, None),
            }
        }
    }

    /// Removes the booking of `resource` when `holder` holds it (leaving the `holders` index to the caller);
    /// returns whether a live booking was removed.
    fn release_resource(
        &mut self,
        pool: &str,
        resource: &str,
        holder: &str,
        now: u64,
    ) -> Result<bool> {
        let key = booking_key(pool, resource);
        let Some(record) = self.get(Space::Bookings, &key)? else {
            return Ok(false);
        };
        let (expires, owner) = decode(&record)?;
        if owner != holder.as_bytes() {
            return Ok(false);
        }
        let was_live = live(expires, now);
        self.put(Space::Bookings, key, None);
        Ok(was_live)
    }
}

impl Core {
    /// Works `op` out, queues its log record and installs it in the active memtable; returns its reply and how
    /// far the queued log reaches with it.
    fn write(&self, op: Op) -> Result<(Reply, u64)> {
        self.check_log()?;
        let now = self.clock.now_ms();
        let mut writer = lock(&self.writer);
        if writer.closed {
            return Err(Error::Closed);
        }
        let (reply, entries) = {
            let mem = read(&self.mem);
            let mut view = View {
                mem: &mem,
                db: &self.db,
                txn: None,
                entries: Vec::new(),
            };
            let reply = view.apply(op, now)?;
            (reply, view.entries)
        };
        if !entries.is_empty() {
            let before = writer.pending.len();
            wal::encode(&entries, &mut writer.pending);
            writer.queued += (writer.pending.len() - before) as u64;
            let mut mem = write(&self.mem);
            for (space, key, value) in entries {
                mem.active.put(space, key, value);
            }
        }
        Ok((reply, writer.queued))
    }

    fn check_log(&self) -> Result<()> {
        match self.failed.get() {
            Some(failed) => Err(Error::Backend(failed.clone())),
            None => Ok(()),
        }
    }

    /// Returns once the log file holds the queued records up to `upto`, writing them (and any queued after) when
    /// nobody else is.
    async fn flush(&self, upto: u64) -> Result<()> {
        if self.written.load(Ordering::Acquire) >= upto {
            return Ok(());
        }
        let mut log = self.log.lock().await;
        if self.written.load(Ordering::Acquire) >= upto {
            return Ok(());
        }
        self.check_log()?;
        self.write_pending(&mut log)
    }

    /// Appends every queued record to `log` (whose lock the caller holds) with one `write(2)`.
    fn write_pending(&self, log: &mut wal::Log) -> Result<()> {
        let (mut batch, queued) = {
            let mut writer = lock(&self.writer);
            (std::mem::take(&mut writer.pending), writer.queued)
        };
        if batch.is_empty() {
            return Ok(());
        }
        if let Err(error) = log.append(&batch) {
            let _ = self
                .failed
                .set(format!("the store log cannot be written: {error}"));
            tracing::error!(%error, "store log write failed; the store refuses writes until restarted");
            return Err(error);
        }
        self.written.store(queued, Ordering::Release);
        batch.clear();
        let mut writer = lock(&self.writer);
        if writer.pending.is_empty() {
            // Keep the buffer's capacity for the next batch.
            writer.pending = batch;
        }
        drop(writer);
        if self.options.sync == SyncPolicy::Commit {
            self.sync_wanted.notify_one();
        }
        Ok(())
    }

    fn mem_is_large(&self) -> bool {
        read(&self.mem).active.bytes() > MEMTABLE_LIMIT
    }

    /// Waits until the log is on the disk up to `logged` bytes.
    async fn wait_synced(&self, logged: u64) -> Result<()> {
        let mut synced = self.synced.subscribe();
        let state = synced
            .wait_for(|state| state.failed.is_some() || state.upto >= logged)
            .await
            .map_err(|_| Error::Closed)?;
        match &state.failed {
            Some(failed) => Err(Error::Backend(failed.to_string())),
            None => Ok(()),
        }
    }

    /// Writes the memtable into the file and purges expired data, in one durable commit, then drops the log files
    /// that commit covers.
    fn checkpoint(&self) -> Result<()> {
        self.checkpoint_asked.store(false, Ordering::Relaxed);
        let (frozen, current_log) = {
            let mut log = self.log.blocking_lock();
            // Every record of the memtable about to be frozen goes into the file being left.
            self.check_log()?;
            self.write_pending(&mut log)?;
            let mut writer = lock(&self.writer);
            let mut mem = write(&self.mem);
            // A frozen memtable still there is one a failed checkpoint left: it is written first, alone.
            if mem.frozen.is_none() && !mem.active.is_empty() {
                if self.options.sync == SyncPolicy::Commit {
                    // The sync thread only follows the current file: sync the old one before leaving it.
                    log.sync()?;
                    let upto = self.written.load(Ordering::Acquire);
                    self.synced
                        .send_modify(|state| state.upto = state.upto.max(upto));
                }
                let next = wal::Log::create(&self.dir, log.seq + 1)?;
                writer.log_file = Arc::new(next.handle()?);
                *log = next;
                mem.frozen = Some(Arc::new(std::mem::take(&mut mem.active)));
            }
            (mem.frozen.clone(), log.seq)
        };
        let now = self.clock.now_ms();
        file::write(&self.db, |tables| {
            if let Some(frozen) = &frozen {
                for (space, key, value) in frozen.iter() {
                    tables.apply(space, key, value.as_deref())?;
                }
            }
            tables.sweep(now)
        })?;
        write(&self.mem).frozen = None;
        for (seq, path) in wal::list(&self.dir)? {
            if seq < current_log {
                std::fs::remove_file(&path).map_err(|e| {
                    Error::Backend(format!("cannot remove {}: {e}", path.display()))
                })?;
            }
        }
        Ok(())
    }
}

fn run_checkpoints(core: &Core, signals: &std_mpsc::Receiver<Signal>) {
    loop {
        let reply = match signals.recv_timeout(core.options.checkpoint_every) {
            Ok(Signal::Now(reply)) => Some(reply),
            Ok(Signal::Soon) | Err(std_mpsc::RecvTimeoutError::Timeout) => None,
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
        };
        let result = core.checkpoint();
        if let Err(error) = &result {
            tracing::error!(%error, "store checkpoint failed; the log keeps the writes");
        }
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
    }
}

/// Syncs the log whenever it has grown, and tells the waiting writers how far it is on the disk.
fn run_sync(core: &Core) {
    let mut writer = lock(&core.writer);
    loop {
        let upto = core.synced.borrow().upto;
        if writer.closed {
            return;
        }
        let written = core.written.load(Ordering::Acquire);
        if written <= upto {
            writer = core
                .sync_wanted
                .wait(writer)
                .unwrap_or_else(PoisonError::into_inner);
            continue;
        }
        let target = written;
        let file = writer.log_file.clone();
        drop(writer);
        let outcome = file.sync_data();
        core.synced.send_modify(|state| match outcome {
            Ok(()) => state.upto = state.upto.max(target),
            Err(error) => {
                // After a failed fsync the kernel may have dropped the pages: no later sync can vouch for them.
                tracing::error!(%error, "store log sync failed");
                state.failed = Some(format!("cannot sync the store log: {error}").into());
            }
        });
        writer = lock(&core.writer);
    }
}

#[async_trait]
impl Store for Embedded {
    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        let now = self.now();
        if let Some(state) = self.memtables().get(Space::Kv, key) {
            return match state {
                Some(record) => live_payload(&record, now),
                None => Ok(None),
            };
        }
        let txn = self.begin_read()?;
        let table = txn.open_table(file::KV).map_err(backend)?;
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
            _ => Err(unexpected()),
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
            _ => Err(unexpected()),
        }
    }

    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        self.submit(Op::Batch(ops)).await.map(|_| ())
    }

    async fn scan_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<(String, Bytes)>> {
        if !prefix.ends_with(':') || prefix.bytes().filter(|byte| *byte == b':').count() < 2 {
            return Err(Error::BadPrefix(prefix.to_string()));
        }
        let now = self.now();
        // The memtables first, then the file: a write that moves from one to the other in between is still seen.
        let memory = self.memtables().prefixed(Space::Kv, prefix);
        let txn = self.begin_read()?;
        let table = txn.open_table(file::KV).map_err(backend)?;
        let in_file = table
            .range(prefix..)
            .map_err(backend)?
            .map(|item| {
                item.map_err(backend).map(|(key, value)| {
                    (
                        key.value().to_string(),
                        Bytes::copy_from_slice(value.value()),
                    )
                })
            })
            .take_while(|item| {
                item.as_ref()
                    .map_or(true, |(key, _)| key.starts_with(prefix))
            });
        let mut found = Vec::new();
        for item in memtable::merge(memory, in_file) {
            if found.len() >= limit {
                break;
            }
            let (key, record) = item?;
            // Only the keys directly under the prefix, as every backend lists them.
            if key[prefix.len()..].contains(':') {
                continue;
            }
            if let Some(payload) = live_payload(&record, now)? {
                found.push((key, payload));
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
            _ => Err(unexpected()),
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
            _ => Err(unexpected()),
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
            _ => Err(unexpected()),
        }
    }

    async fn count_booked(&self, pool: &str) -> Result<usize> {
        let now = self.now();
        let prefix = booking_key(pool, "");
        let memory = self.memtables().prefixed(Space::Bookings, &prefix);
        let txn = self.begin_read()?;
        let table = txn.open_table(file::BOOKINGS).map_err(backend)?;
        let in_file = table
            .range(prefix.as_str()..)
            .map_err(backend)?
            .map(|item| {
                item.map_err(backend).map(|(key, value)| {
                    (
                        key.value().to_string(),
                        Bytes::copy_from_slice(value.value()),
                    )
                })
            })
            .take_while(|item| {
                item.as_ref()
                    .map_or(true, |(key, _)| key.starts_with(&prefix))
            });
        let mut count = 0;
        for item in memtable::merge(memory, in_file) {
            let (_, record) = item?;
            if live(decode(&record)?.0, now) {
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
            _ => Err(unexpected()),
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

/// How many keys the store holds, expired ones not yet purged included (for diagnostics and tests).
pub fn key_count(store: &Embedded) -> Result<u64> {
    let memory = store.memtables().prefixed(Space::Kv, "");
    let txn = store.begin_read()?;
    let table = txn.open_table(file::KV).map_err(backend)?;
    if memory.is_empty() {
        return table.len().map_err(backend);
    }
    let in_file = table.iter().map_err(backend)?.map(|item| {
        item.map_err(backend).map(|(key, value)| {
            (
                key.value().to_string(),
                Bytes::copy_from_slice(value.value()),
            )
        })
    });
    let mut count = 0;
    for item in memtable::merge(memory, in_file) {
        item?;
        count += 1;
    }
    Ok(count)
}
