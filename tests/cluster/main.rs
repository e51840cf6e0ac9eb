//! Several real `gms serve` processes on one real `redis-server`: shared state, bookings, matches, CometD and ORS
//! sessions across nodes (`nodes.rs`); node ids, drain and Redis outages (`lifecycle.rs`); the same behind a real
//! Apache `mod_proxy_balancer` (`balancer.rs`).

#[path = "../support/redis.rs"]
mod redis_peer;
#[path = "../support/server.rs"]
mod server;

mod balancer;
mod common;
mod lifecycle;
mod nodes;
