//! The store backends: each instantiates the shared `Store` suite ([`suite`]) and tests what is particular to it.

mod suite;

#[path = "../support/redis.rs"]
mod redis_peer;

mod embedded;
mod redis;
