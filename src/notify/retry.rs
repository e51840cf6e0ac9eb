//! Deliveries waiting to be sent again after FCM or APNs said "unavailable" (429, 500, 503): the record kept in
//! the subscription store (so a wait survives a restart, and any node sharing the store can send it), and the
//! exponential backoff between attempts.
//!
//! The record holds what the subscriber is sent (the text already localized) and the subscription's id; at each
//! attempt the subscription is read again, so one that was removed or expired meanwhile gets nothing.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The longest wait between two attempts, whatever the backoff or `Retry-After` say.
pub const MAX_DELAY: Duration = Duration::from_secs(3600);

/// One delivery waiting for its next attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRetry {
    /// This record's id.
    pub id: String,
    /// The subscription the message goes to.
    pub subscription_id: String,
    /// The published tag.
    pub tag: String,
    /// The message text in the subscriber's language.
    pub text: String,
    /// `mediatype` of the publish.
    pub mediatype: Option<String>,
    /// When the message stops being worth sending (clock milliseconds; from the publish's `expire`).
    pub expires_at_ms: Option<u64>,
    /// Attempts made so far (the first send is attempt 1).
    pub attempts: u32,
    /// When the next attempt is due (clock milliseconds).
    pub due_ms: u64,
}

/// The wait before attempt `attempts + 1`: `Retry-After` when the service gave one, else `base` doubled for each
/// attempt made after the first; never more than [`MAX_DELAY`].
pub fn backoff(base: Duration, attempts: u32, retry_after: Option<Duration>) -> Duration {
    let delay = retry_after.unwrap_or_else(|| {
        base.saturating_mul(2u32.saturating_pow(attempts.saturating_sub(1).min(20)))
    });
    delay.min(MAX_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_up_to_its_cap_and_retry_after_wins() {
        let base = Duration::from_secs(2);
        let waits: Vec<u64> = (1..=4).map(|n| backoff(base, n, None).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16]);
        assert_eq!(backoff(base, 30, None), MAX_DELAY);
        assert_eq!(
            backoff(base, 3, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            backoff(base, 1, Some(Duration::from_secs(86_400))),
            MAX_DELAY
        );
    }
}
