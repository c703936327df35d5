//! Which failures are worth another try, and how long to wait before it.
//!
//! Owns: the retry policy: a failure that a second try may cure (a refused or timed-out
//! connection, a reset or stalled body, a short body, 5xx, 408, 429) is tried again after an
//! exponential back-off from [`Limits::retry_base`] with ±25 % jitter, capped at 30 s, or after
//! the server's own `Retry-After` (capped); anything else (other 4xx, a bad name, a checksum
//! mismatch, a full disk) ends the item at once. Every retry resumes from the bytes kept.
//! Must not touch: the network, the disk, events.

use std::hash::BuildHasher as _;
use std::time::Duration;

use super::fetch::Stop;
use crate::protocol::{FetchError, Limits, TimeoutKind};

/// The longest wait between two tries (before jitter).
const BACKOFF_CAP: Duration = Duration::from_secs(30);

/// How long to wait before try `attempt + 2`, if `reason` is worth another try and tries
/// are left: exponential backoff from `retry_base` with ±25 % jitter, or the server's own
/// `Retry-After` (capped).
pub(crate) fn delay(limits: &Limits, attempt: u32, reason: &Stop) -> Option<Duration> {
    if attempt >= limits.retries {
        return None;
    }
    let retryable = match reason {
        Stop::Busy(_, after) => return Some(*after),
        // Most often a pooled keep-alive connection the server had just closed: a fresh
        // connection at once, as curl does ("Connection died, retrying a fresh connect").
        Stop::Failed(FetchError::Dropped(_)) if attempt == 0 => return Some(Duration::ZERO),
        Stop::TimedOut(TimeoutKind::Connect | TimeoutKind::Stall) => true,
        Stop::Failed(error) => match error {
            FetchError::Connect(_)
            | FetchError::Dropped(_)
            | FetchError::Body(_)
            | FetchError::ShortBody { .. } => true,
            FetchError::HttpStatus { status, .. } => {
                *status >= 500 || *status == 408 || *status == 429
            }
            _ => false,
        },
        Stop::Stopped | Stop::TimedOut(TimeoutKind::Deadline) => false,
    };
    if !retryable {
        return None;
    }
    let backoff = limits
        .retry_base
        .saturating_mul(1 << attempt.min(16))
        .min(BACKOFF_CAP);
    // ±25 %, from the process's random hasher keys: no dependency needed for a little noise.
    let noise = std::collections::hash_map::RandomState::new().hash_one(attempt) % 1000;
    let factor = 0.75 + noise as f64 / 2000.0;
    Some(backoff.mul_f64(factor))
}

/// Why a try failed, for the `Retrying` event.
pub(crate) fn describe(reason: &Stop) -> String {
    match reason {
        Stop::Stopped => "stopped".to_owned(),
        Stop::TimedOut(kind) => kind.to_string(),
        Stop::Failed(e) | Stop::Busy(e, _) => e.to_string(),
    }
}
