//! Per-client rate limits on the public listeners (`rate_limit`, `rate_limit_burst`): a token bucket per client
//! address; a request beyond it is answered 429 with `Retry-After` (whole seconds) and the JSON error body.
//!
//! The client is the connection's peer address, so behind a load balancer every request counts against the
//! balancer's address: there, limit at the balancer instead. Buckets that have refilled are forgotten, so the
//! memory held follows the clients active in the last seconds, and the map never holds more than
//! [`MAX_CLIENTS`] addresses (beyond it the full buckets are dropped first, then all).
//! Hand-written rather than taken from a crate: the governor-style crates key their state on types of their own
//! and read the system time, where this one reads the server's injectable clock in a few lines.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::clock::Clock;
use crate::config::security::RateLimit;

/// The most client addresses remembered at once.
pub const MAX_CLIENTS: usize = 100_000;

/// The buckets of every client.
#[derive(Debug)]
pub struct Limiter {
    limit: RateLimit,
    clock: Arc<dyn Clock>,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Requests the client may still make now.
    tokens: f64,
    /// When `tokens` was computed (clock milliseconds).
    at_ms: u64,
}

impl Limiter {
    /// A limiter of `limit` reading time from `clock`.
    pub fn new(limit: RateLimit, clock: Arc<dyn Clock>) -> Arc<Limiter> {
        Arc::new(Limiter {
            limit,
            clock,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one request from `client`'s bucket: `Ok` when it may go on, `Err(seconds)` to wait before the next.
    pub fn take(&self, client: IpAddr) -> Result<(), u64> {
        let now = self.clock.now_ms();
        let rate = f64::from(self.limit.per_second);
        let burst = f64::from(self.limit.burst);
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
            buckets.retain(|_, bucket| refill(*bucket, now, rate, burst) < burst);
            if buckets.len() >= MAX_CLIENTS {
                buckets.clear();
            }
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            at_ms: now,
        });
        let tokens = refill(*bucket, now, rate, burst);
        if tokens >= 1.0 {
            *bucket = Bucket {
                tokens: tokens - 1.0,
                at_ms: now,
            };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at_ms: now };
            Err(((1.0 - tokens) / rate).ceil().max(1.0) as u64)
        }
    }
}

fn refill(bucket: Bucket, now_ms: u64, rate: f64, burst: f64) -> f64 {
    let elapsed = now_ms.saturating_sub(bucket.at_ms) as f64 / 1000.0;
    (bucket.tokens + elapsed * rate).min(burst)
}

/// The middleware: counts the request against its client, answering 429 beyond the limit.
pub async fn limit(State(limiter): State<Arc<Limiter>>, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip());
    let Some(client) = client else {
        return next.run(request).await;
    };
    match limiter.take(client) {
        Ok(()) => next.run(request).await,
        Err(seconds) => {
            let mut response = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                format!(
                    "more than {} requests a second from this address: retry in {seconds} s",
                    limiter.limit.per_second
                ),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn a_burst_then_the_rate() {
        let clock = Arc::new(ManualClock::new(0));
        let limiter = Limiter::new(
            RateLimit {
                per_second: 2,
                burst: 3,
            },
            clock.clone(),
        );
        let a: IpAddr = [127, 0, 0, 1].into();
        let b: IpAddr = [127, 0, 0, 2].into();
        for _ in 0..3 {
            assert_eq!(limiter.take(a), Ok(()));
        }
        assert_eq!(limiter.take(a), Err(1));
        assert_eq!(limiter.take(b), Ok(()), "another client has its own bucket");
        clock.advance(std::time::Duration::from_millis(500));
        assert_eq!(limiter.take(a), Ok(()));
        assert_eq!(limiter.take(a), Err(1));
    }
}
