//! Which failures are worth another try, and how long to wait before it.
//!
//! Owns: the retry policy. A failure that a second try may cure is tried again — up to
//! [`Limits::retries`] times — after an exponential back-off from [`Limits::retry_base`]
//! (doubling, ±25 % jitter, capped at 30 s), or after the server's own `Retry-After` (capped
//! at 60 s); anything else ends the item at once. Every retry resumes from the bytes kept.
//! Must not touch: the network, the disk, events.
//!
//! # When a failure happens, and whether it is retried
//!
//! | when | what happened | retried | why |
//! |---|---|---|---|
//! | connect | refused, unreachable, name not resolved, connect timeout | yes | the server or the network may be back in a moment |
//! | TLS | certificate not trusted, handshake refused | no | the same certificate comes back; retrying would not make it safe |
//! | before the headers | a pooled keep-alive connection closed under the request, an empty reply, a reset, a head cut off ([`FetchError::Dropped`]) | yes, the first time at once | nothing was received, so a GET is safe to send again; a stale connection is the usual cause (curl retries these at once too) |
//! | before the headers | no header byte within the stall timeout | yes | a busy server may answer next time |
//! | the head | a head that cannot be parsed even leniently (a NUL, a bad status line), or too large | no | the same server sends the same head |
//! | the reply | `5xx`, `408`, `429` (with `Retry-After` when given) | yes | the server says it is busy or failed for now |
//! | the reply | any other `4xx`, a redirect that cannot be followed | no | asking again gets the same answer |
//! | the reply | a reply that does not match the request, a transfer coding that cannot be decoded | no | a server or proxy bug; the bytes are never taken |
//! | mid-body | a reset, a close short of `Content-Length`, a body that stops for the stall timeout | yes, resuming with `Range` from the bytes kept | the bytes so far are good; only the rest is asked for |
//! | after the body | more bytes than `Content-Length`, a SHA-256 mismatch, larger than the size limit, a write error (a full disk) | no | a second try would fetch the same bytes, or cannot store them |
//! | any time | the item's deadline, a cancel or a pause | no | the person or the deadline stopped it |

use std::hash::BuildHasher as _;
use std::time::Duration;

use super::fetch::Stop;
use crate::protocol::{FetchError, Limits, Outcome, TimeoutKind};

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
        Stop::Exists(_) => return None,
        // Most often a pooled keep-alive connection the server had just closed: a fresh
        // connection at once, as curl does ("Connection died, retrying a fresh connect").
        Stop::Failed(FetchError::Dropped(_)) if attempt == 0 => return Some(Duration::ZERO),
        Stop::TimedOut(TimeoutKind::Connect | TimeoutKind::Stall) => true,
        Stop::Failed(error) => match error {
            FetchError::Connect { .. }
            | FetchError::Dropped(_)
            | FetchError::Body(_)
            | FetchError::ShortBody { .. } => true,
            FetchError::HttpStatus { status, .. } => {
                *status >= 500 || *status == 408 || *status == 429
            }
            // FTP's transient refusals (RFC 959 §4.2: 4yz), a missing file (450) aside.
            FetchError::FtpReply { code, .. } => (400..500).contains(code) && *code != 450,
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

/// Why a try failed, for the `Retrying` event: as text (passwords in URLs redacted), and as
/// the outcome the try would have had.
pub(crate) fn describe(reason: &Stop) -> (String, Outcome) {
    let cause = match reason {
        Stop::Stopped => Outcome::Cancelled,
        Stop::Exists(path) => Outcome::Skipped { path: path.clone() },
        Stop::TimedOut(kind) => Outcome::TimedOut(*kind),
        Stop::Failed(e) | Stop::Busy(e, _) => Outcome::Failed(e.clone()),
    };
    let text = cause.error_text().unwrap_or_default();
    (text, cause)
}
