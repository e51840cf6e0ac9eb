//! Time, for everything in `gms` that reads it: one [`Clock`] trait (wall-clock milliseconds since the Unix epoch),
//! the operating system's clock, a manual clock that tests move by hand, and a shifted clock (real time that
//! tests can also move forward) for servers whose flows and simulated contact center must keep running.
//!
//! The store's TTLs, service and booking expiry, the contact-center simulator's timers and the ORS runtime's
//! session timers and TTLs all read the same injected clock, so one virtual time moves them together in tests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// The same instant as a duration since the Unix epoch (for code that adds and compares durations).
    fn now(&self) -> Duration {
        Duration::from_millis(self.now_ms())
    }
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// The system clock as a shared trait object: the default of every part that takes a clock.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A clock that only moves when told to; clones share the same time.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock starting at `start_ms`.
    pub fn new(start_ms: u64) -> ManualClock {
        ManualClock(Arc::new(AtomicU64::new(start_ms)))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The system clock moved forward by hand: real time passes as usual, and [`ShiftedClock::advance`] jumps ahead
/// (a booking's expiry, a TTL) without waiting. Clones share the same shift.
#[derive(Debug, Clone, Default)]
pub struct ShiftedClock(Arc<AtomicU64>);

impl ShiftedClock {
    /// The system clock, not shifted yet.
    pub fn new() -> ShiftedClock {
        ShiftedClock::default()
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now_ms(&self) -> u64 {
        SystemClock.now_ms() + self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_and_shifted_clocks_move_when_told() {
        let manual = ManualClock::new(1_000);
        let shared = manual.clone();
        manual.advance(Duration::from_secs(2));
        assert_eq!(shared.now_ms(), 3_000);
        assert_eq!(shared.now(), Duration::from_millis(3_000));
        let shifted = ShiftedClock::new();
        let before = SystemClock.now_ms();
        shifted.advance(Duration::from_secs(3600));
        let now = shifted.now_ms();
        assert!(now >= before + 3_600_000 && now < SystemClock.now_ms() + 3_600_001);
    }
}
