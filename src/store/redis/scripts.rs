//! The Lua scripts of the Redis backend. Each runs atomically on the server that holds its keys, which is what
//! makes set-if-absent, batches, booking and the prefix indexes safe with several `gms` nodes writing at once.
//!
//! Values start with their logical expiry: 16 decimal digits of ms since the epoch by the store's clock (`0`:
//! never); a value whose expiry is not after the caller's `now` is treated as absent.

/// Applies ops in order. `ARGV`: now, op count, then per op six fields: kind (`S` set, `N` set if absent, `D`
/// delete), position in `KEYS` of the value's key, position of its index (0: none), the index member, the encoded
/// value, the real TTL in ms (0: none). Returns one integer per op: 1 when set (or when a live value was deleted).
pub const BATCH: &str = r#"
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local results = {}
local function live(v)
  if not v then return false end
  local d = tonumber(string.sub(v, 1, 16))
  return d == 0 or d > now
end
local function index_add(idx, member, ttl)
  local existed = redis.call('EXISTS', idx)
  redis.call('ZADD', idx, 0, member)
  local left = redis.call('PTTL', idx)
  if ttl == 0 then
    if left >= 0 then redis.call('PERSIST', idx) end
  elseif existed == 0 or (left >= 0 and left < ttl) then
    redis.call('PEXPIRE', idx, ttl)
  end
end
for i = 0, n - 1 do
  local base = 3 + i * 6
  local kind = ARGV[base]
  local key = KEYS[tonumber(ARGV[base + 1])]
  local xi = tonumber(ARGV[base + 2])
  local member = ARGV[base + 3]
  local ttl = tonumber(ARGV[base + 5])
  if kind == 'D' then
    local was = live(redis.call('GET', key))
    redis.call('DEL', key)
    if xi > 0 then redis.call('ZREM', KEYS[xi], member) end
    results[i + 1] = was and 1 or 0
  elseif kind == 'N' and live(redis.call('GET', key)) then
    results[i + 1] = 0
  else
    if ttl > 0 then
      redis.call('SET', key, ARGV[base + 4], 'PX', ttl)
    else
      redis.call('SET', key, ARGV[base + 4])
    end
    if xi > 0 then index_add(KEYS[xi], member, ttl) end
    results[i + 1] = 1
  end
end
return results
"#;

/// Lists the live values directly under a parent. `KEYS[1]`: its index. `ARGV`: now, limit, the prefix of the
/// children's Redis keys. Returns member, value, member, value...; drops index members whose key is gone.
pub const SCAN: &str = r#"
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local out = {}
local found = 0
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if found >= limit then break end
  local v = redis.call('GET', ARGV[3] .. m)
  if not v then
    redis.call('ZREM', KEYS[1], m)
  else
    local d = tonumber(string.sub(v, 1, 16))
    if d == 0 or d > now then
      out[#out + 1] = m
      out[#out + 1] = v
      found = found + 1
    end
  end
end
return out
"#;

/// Books the first free candidate. `KEYS`: deadlines by resource (sorted set), holder by resource, resource by
/// holder (hashes). `ARGV`: now, the new booking's deadline, holder, garbage-collection TTL in ms, candidates....
/// Purges lapsed bookings, releases the holder's previous one, returns the booked resource or nil.
pub const BOOK: &str = r#"
local now = tonumber(ARGV[1])
local holder = ARGV[3]
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, r in ipairs(lapsed) do
  local h = redis.call('HGET', KEYS[2], r)
  if h and redis.call('HGET', KEYS[3], h) == r then redis.call('HDEL', KEYS[3], h) end
  redis.call('HDEL', KEYS[2], r)
end
if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
local previous = redis.call('HGET', KEYS[3], holder)
if previous then
  if redis.call('HGET', KEYS[2], previous) == holder then
    redis.call('ZREM', KEYS[1], previous)
    redis.call('HDEL', KEYS[2], previous)
  end
  redis.call('HDEL', KEYS[3], holder)
end
for i = 5, #ARGV do
  local c = ARGV[i]
  if not redis.call('ZSCORE', KEYS[1], c) then
    redis.call('ZADD', KEYS[1], ARGV[2], c)
    redis.call('HSET', KEYS[2], c, holder)
    redis.call('HSET', KEYS[3], holder, c)
    local gc = tonumber(ARGV[4])
    for k = 1, 3 do
      if redis.call('PTTL', KEYS[k]) < gc then redis.call('PEXPIRE', KEYS[k], gc) end
    end
    return c
  end
end
return false
"#;

/// Releases a live booking held by the given holder. `KEYS` as [`BOOK`]; `ARGV`: now, resource, holder.
/// Returns 1 when released.
pub const RELEASE: &str = r#"
local d = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not d or tonumber(d) <= tonumber(ARGV[1]) then return 0 end
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
if redis.call('HGET', KEYS[3], ARGV[3]) == ARGV[2] then redis.call('HDEL', KEYS[3], ARGV[3]) end
return 1
"#;
