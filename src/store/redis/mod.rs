//! The store on Redis, shared by every `gms` node that names the same server (`redis://HOST:PORT[/DB]`) or Redis
//! Cluster (`redis+cluster://HOST:PORT,HOST:PORT,...`, seed nodes).
//!
//! - **Time** comes from the store's injected clock, not Redis's: every value carries its logical expiry
//!   ([`scripts`]), checked on read, so a test that moves its clock sees keys expire; a real Redis TTL (`PX`) of the
//!   same length collects them.
//! - **Keys** are laid out with hash tags ([`keys`]) so that every multi-key operation stays in one slot of a
//!   Cluster: a value with its prefix index, a booking pool's three keys.
//! - **Prefix scans** read an index per parent (a sorted set kept by the same script that writes the value), since
//!   Redis has no ordered scan of its keyspace.
//! - **Atomicity**: set-if-absent, delete, booking and release are Lua scripts, atomic on the server, so one of two
//!   nodes booking the last number wins. A batch is one script on a single server (all or nothing). On a Cluster a
//!   batch's writes are grouped by slot, each group one script, groups applied in order: not atomic across slots.
//!   The callers order their writes so a cut leaves nothing harmful (an index entry without its record is skipped).
//!   `book_then` books, then writes (the trait's default): a cut leaves a booking that expires at its TTL.
//! - **Pub/sub** goes through one RESP3 connection per store that resubscribes by itself after a reconnect
//!   ([`pubsub`]); on a Cluster, `PUBLISH` reaches every node, so one connection to one node is enough.
//! - **Failures** are bounded: connecting and each reply wait at most [`Options`]' timeouts, then the operation
//!   fails with [`Error::Backend`] naming Redis; the connection comes back by itself when Redis does.

pub mod keys;
mod pubsub;
pub mod scripts;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::Slot;
use redis::{FromRedisValue, Script, ScriptInvocation};

use super::{Candidates, Error, Result, Store, Subscription, WriteOp};
use crate::clock::Clock;

/// Connection timeouts.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The longest wait to connect (or reconnect).
    pub connection_timeout: Duration,
    /// The longest wait for one reply.
    pub response_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            connection_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(2),
        }
    }
}

/// The connection commands go through.
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

/// The scripts, hashed once.
struct Scripts {
    batch: Script,
    scan: Script,
    book: Script,
    release: Script,
}

/// The Redis backend.
pub struct Redis {
    conn: Conn,
    clustered: bool,
    /// The address shown in errors (no password).
    label: String,
    clock: Arc<dyn Clock>,
    scripts: Scripts,
    hub: pubsub::Hub,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis")
            .field("at", &self.label)
            .field("cluster", &self.clustered)
            .finish()
    }
}

/// A URL the Redis backend takes: `redis://` (one server) or `redis+cluster://` (seed nodes, comma-separated).
pub fn is_redis_url(url: &str) -> bool {
    url.starts_with("redis://") || url.starts_with("redis+cluster://")
}

/// `url` as it may be shown in logs and errors: a password in it (`redis://user:secret@host`) is masked.
pub fn shown(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_string(),
    }
}

/// A value's encoding: its logical expiry (16 digits) then its bytes.
fn encode(value: &[u8], deadline: u64) -> Vec<u8> {
    let mut encoded = format!("{deadline:016}").into_bytes();
    encoded.extend_from_slice(value);
    encoded
}

/// The payload of an encoded value, unless it has expired at `now`.
fn decode(encoded: &[u8], now: u64) -> Result<Option<Bytes>> {
    let digits = encoded
        .get(..16)
        .and_then(|digits| std::str::from_utf8(digits).ok())
        .and_then(|digits| digits.parse::<u64>().ok())
        .ok_or_else(|| Error::Corrupt("a Redis value without its expiry prefix".into()))?;
    if digits != 0 && digits <= now {
        return Ok(None);
    }
    Ok(Some(Bytes::copy_from_slice(&encoded[16..])))
}

/// Checks a scan prefix: it ends with `:` and holds at least two `:`.
fn parent_of(prefix: &str) -> Result<&str> {
    match keys::split(prefix) {
        Some((parent, "")) => Ok(parent),
        _ => Err(Error::BadPrefix(prefix.to_string())),
    }
}

/// One write of a batch, as the batch script takes it.
struct Op {
    kind: &'static str,
    key: String,
    index: Option<(String, String)>,
    value: Vec<u8>,
    ttl_ms: u64,
}

impl Op {
    fn new(kind: &'static str, key: &str, value: &[u8], ttl: Option<Duration>, now: u64) -> Op {
        let ttl_ms = ttl.map_or(0, |ttl| (ttl.as_millis() as u64).max(1));
        let deadline = if ttl_ms == 0 { 0 } else { now + ttl_ms };
        Op {
            kind,
            key: keys::data(key),
            index: keys::split(key).map(|(parent, leaf)| (keys::index(parent), leaf.to_string())),
            value: if kind == "D" {
                Vec::new()
            } else {
                encode(value, deadline)
            },
            ttl_ms,
        }
    }

    fn slot(&self) -> Slot {
        Slot::for_key(&self.key)
    }
}

impl Redis {
    /// Connects to the server or Cluster at `url`; fails with a clear error when the URL is bad or nothing answers.
    pub async fn open(url: &str, clock: Arc<dyn Clock>, options: Options) -> Result<Redis> {
        let (conn, clustered, label, first) =
            if let Some(seeds) = url.strip_prefix("redis+cluster://") {
                let seeds: Vec<String> = seeds
                    .split(',')
                    .map(str::trim)
                    .filter(|seed| !seed.is_empty())
                    .map(|seed| format!("redis://{seed}"))
                    .collect();
                let first = seeds.first().cloned().ok_or_else(|| {
                    Error::Backend(format!("`{url}` names no Redis Cluster node"))
                })?;
                let label = format!(
                    "the Redis Cluster at {}",
                    url.trim_start_matches("redis+cluster://")
                );
                let client = redis::cluster::ClusterClient::builder(seeds)
                    .connection_timeout(options.connection_timeout)
                    .response_timeout(options.response_timeout)
                    .retries(1)
                    .build()
                    .map_err(|error| {
                        Error::Backend(format!("bad Redis Cluster URL `{url}`: {error}"))
                    })?;
                let conn = client
                    .get_async_connection()
                    .await
                    .map_err(|error| Error::Backend(format!("{label} is unreachable: {error}")))?;
                (Conn::Cluster(conn), true, label, first)
            } else {
                let client = redis::Client::open(url).map_err(|error| {
                    Error::Backend(format!("bad Redis URL `{}`: {error}", shown(url)))
                })?;
                let label = format!("Redis at {}", client.get_connection_info().addr());
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(options.connection_timeout))
                    .set_response_timeout(Some(options.response_timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_millis(500));
                let conn = client
                    .get_connection_manager_with_config(config)
                    .await
                    .map_err(|error| Error::Backend(format!("{label} is unreachable: {error}")))?;
                (Conn::Single(conn), false, label, url.to_string())
            };
        let hub = pubsub::Hub::open(&first, options)
            .await
            .map_err(|error| Error::Backend(format!("{label} refused pub/sub: {error}")))?;
        Ok(Redis {
            conn,
            clustered,
            label,
            clock,
            scripts: Scripts {
                batch: Script::new(scripts::BATCH),
                scan: Script::new(scripts::SCAN),
                book: Script::new(scripts::BOOK),
                release: Script::new(scripts::RELEASE),
            },
            hub,
        })
    }

    fn failed(&self, error: redis::RedisError) -> Error {
        Error::Backend(format!("{} failed: {error}", self.label))
    }

    async fn query<T: FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T> {
        let result = match self.conn.clone() {
            Conn::Single(mut conn) => cmd.query_async(&mut conn).await,
            Conn::Cluster(mut conn) => cmd.query_async(&mut conn).await,
        };
        result.map_err(|error| self.failed(error))
    }

    async fn invoke<T: FromRedisValue>(&self, invocation: &ScriptInvocation<'_>) -> Result<T> {
        let result = match self.conn.clone() {
            Conn::Single(mut conn) => invocation.invoke_async(&mut conn).await,
            Conn::Cluster(mut conn) => invocation.invoke_async(&mut conn).await,
        };
        result.map_err(|error| self.failed(error))
    }

    /// Applies `ops` in order (one script per slot on a Cluster, one in all otherwise); one result per op.
    async fn apply(&self, ops: Vec<Op>) -> Result<Vec<i64>> {
        let count = ops.len();
        let mut groups: Vec<(Slot, Vec<(usize, Op)>)> = Vec::new();
        for (position, op) in ops.into_iter().enumerate() {
            let slot = op.slot();
            let group = if self.clustered {
                groups.iter_mut().position(|(known, _)| *known == slot)
            } else if groups.is_empty() {
                None
            } else {
                Some(0)
            };
            match group {
                Some(group) => groups[group].1.push((position, op)),
                None => groups.push((slot, vec![(position, op)])),
            }
        }
        let now = self.clock.now_ms();
        let mut results = vec![0; count];
        for (_, group) in groups {
            let mut invocation = self.scripts.batch.prepare_invoke();
            let mut positions: HashMap<String, usize> = HashMap::new();
            let mut key_position = |key: &str, invocation: &mut ScriptInvocation<'_>| -> usize {
                let next = positions.len() + 1;
                *positions.entry(key.to_string()).or_insert_with(|| {
                    invocation.key(key);
                    next
                })
            };
            invocation.arg(now).arg(group.len());
            for (_, op) in &group {
                let key = key_position(&op.key, &mut invocation);
                let (index, member) = match &op.index {
                    Some((index, member)) => {
                        (key_position(index, &mut invocation), member.as_str())
                    }
                    None => (0, ""),
                };
                invocation
                    .arg(op.kind)
                    .arg(key)
                    .arg(index)
                    .arg(member)
                    .arg(op.value.as_slice())
                    .arg(op.ttl_ms);
            }
            let answers: Vec<i64> = self.invoke(&invocation).await?;
            for ((position, _), answer) in group.iter().zip(answers) {
                results[*position] = answer;
            }
        }
        Ok(results)
    }

    async fn one(&self, op: Op) -> Result<bool> {
        Ok(self.apply(vec![op]).await?.first().copied() == Some(1))
    }
}

#[async_trait]
impl Store for Redis {
    async fn get(&self, key: &str) -> Result<Option<Bytes>> {
        let value: Option<Vec<u8>> = self.query(redis::cmd("GET").arg(keys::data(key))).await?;
        match value {
            Some(value) => decode(&value, self.clock.now_ms()),
            None => Ok(None),
        }
    }

    async fn set(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.one(Op::new("S", key, &value, ttl, self.clock.now_ms()))
            .await
            .map(|_| ())
    }

    async fn set_if_absent(&self, key: &str, value: Bytes, ttl: Option<Duration>) -> Result<bool> {
        self.one(Op::new("N", key, &value, ttl, self.clock.now_ms()))
            .await
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        self.one(Op::new("D", key, &[], None, self.clock.now_ms()))
            .await
    }

    async fn write_batch(&self, ops: Vec<WriteOp>) -> Result<()> {
        let now = self.clock.now_ms();
        let ops = ops
            .iter()
            .map(|op| match op {
                WriteOp::Set { key, value, ttl } => Op::new("S", key, value, *ttl, now),
                WriteOp::Delete { key } => Op::new("D", key, &[], None, now),
            })
            .collect();
        self.apply(ops).await.map(|_| ())
    }

    async fn scan_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<(String, Bytes)>> {
        let parent = parent_of(prefix)?;
        let now = self.clock.now_ms();
        let mut invocation = self.scripts.scan.prepare_invoke();
        invocation
            .key(keys::index(parent))
            .arg(now)
            .arg(limit)
            .arg(keys::children(parent));
        let flat: Vec<Vec<u8>> = self.invoke(&invocation).await?;
        let mut found = Vec::with_capacity(flat.len() / 2);
        for pair in flat.chunks_exact(2) {
            let member = String::from_utf8_lossy(&pair[0]);
            if let Some(payload) = decode(&pair[1], now)? {
                found.push((format!("{parent}{member}"), payload));
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
        let now = self.clock.now_ms();
        let ttl_ms = (ttl.as_millis() as u64).max(1);
        let mut invocation = self.scripts.book.prepare_invoke();
        for key in keys::pool(pool) {
            invocation.key(key);
        }
        invocation
            .arg(now)
            .arg(now + ttl_ms)
            .arg(holder)
            .arg(ttl_ms);
        for candidate in candidates.iter() {
            invocation.arg(candidate.as_str());
        }
        self.invoke(&invocation).await
    }

    async fn release(&self, pool: &str, resource: &str, holder: &str) -> Result<bool> {
        let mut invocation = self.scripts.release.prepare_invoke();
        for key in keys::pool(pool) {
            invocation.key(key);
        }
        invocation
            .arg(self.clock.now_ms())
            .arg(resource)
            .arg(holder);
        let released: i64 = self.invoke(&invocation).await?;
        Ok(released == 1)
    }

    async fn count_booked(&self, pool: &str) -> Result<usize> {
        let [deadlines, _, _] = keys::pool(pool);
        self.query(
            redis::cmd("ZCOUNT")
                .arg(deadlines)
                .arg(format!("({}", self.clock.now_ms()))
                .arg("+inf"),
        )
        .await
    }

    async fn incr(&self, key: &str, delta: i64) -> Result<i64> {
        self.query(redis::cmd("INCRBY").arg(keys::counter(key)).arg(delta))
            .await
    }

    async fn publish(&self, channel: &str, payload: Bytes) -> Result<usize> {
        self.query(
            redis::cmd("PUBLISH")
                .arg(pubsub::channel(channel))
                .arg(payload.as_ref()),
        )
        .await
    }

    async fn subscribe(&self, channel: &str) -> Result<Subscription> {
        self.hub
            .subscribe(channel)
            .await
            .map_err(|error| self.failed(error))
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn passwords_are_masked_in_shown_urls() {
        assert_eq!(
            shown("redis://127.0.0.1:6379/2"),
            "redis://127.0.0.1:6379/2"
        );
        assert_eq!(
            shown("redis://gms:s3cret@10.0.0.1:6379"),
            "redis://gms:***@10.0.0.1:6379"
        );
        assert_eq!(shown("redis://:s3cret@h:1"), "redis://:***@h:1");
    }
}
