//! The one trait for shared state (key/value with TTL, atomic booking, counters, pub/sub) and its backends.
