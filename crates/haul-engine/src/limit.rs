//! Speed limits: token buckets that a connection pays into before it reads on.
//!
//! Owns: the engine's one global bucket (all connections of all items) and each item's own.
//! A connection pays for every piece of body it takes, first into its item's bucket, then
//! into the global one; while it waits it does not read, so the kernel's receive window fills
//! and the sender slows (backpressure, not buffering). A rate changed while items run applies
//! at once: sleeping connections wake and look again.
//! The receive buffer of a limited connection's socket is fitted to the rate by the HTTP
//! fetcher (`fetch::http::socket`), so the sender slows at once instead of filling megabytes.
//! Must not touch: sockets, the disk, events.
//!
//! The bucket is the `ratelimit` crate's (lock-free, its rate and burst changeable at run
//! time, `0` meaning unlimited, no debt when a wait is dropped); `async-speed-limit` stalls for
//! minutes when its rate is lowered while busy, and `governor` cannot change its rate.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ratelimit::{Ratelimiter, TryWaitError};
use tokio::sync::Notify;

/// The largest piece a connection pays for at once: one network chunk.
const PIECE: u64 = 64 * 1024;

/// One token bucket, in bytes per second.
#[derive(Debug)]
pub struct Bucket {
    limiter: Ratelimiter,
    changed: Notify,
    /// Connections reading under this bucket now (see [`Rates::reading`]).
    readers: AtomicUsize,
}

/// The bucket's capacity at `rate` bytes/s: one piece, plus 10 ms of the rate. A waiter wakes
/// a little late (tokio's timer has 1 ms steps, and the thread may be busy); with room for
/// only one piece, what refills meanwhile would be dropped (6 % of 4 MiB/s was), so the rate
/// would fall short. A burst after a pause is at most one piece and 10 ms.
fn burst(rate: u64) -> u64 {
    PIECE + rate / 100
}

impl Bucket {
    /// A bucket for `rate` bytes/s (`None`: no limit). It starts empty: no burst at start.
    pub fn new(rate: Option<u64>) -> Bucket {
        let rate = rate.unwrap_or(0);
        let limiter = Ratelimiter::builder(rate)
            .max_tokens(if rate == 0 { u64::MAX } else { burst(rate) })
            .initial_available(0)
            .build()
            .unwrap_or_else(|_| Ratelimiter::new(0));
        Bucket {
            limiter,
            changed: Notify::new(),
            readers: AtomicUsize::new(0),
        }
    }

    /// Sets the rate in bytes/s (`None`: no limit), for every connection at once.
    pub fn set(&self, rate: Option<u64>) {
        let rate = rate.unwrap_or(0);
        self.limiter.set_rate(rate);
        if rate != 0 {
            self.limiter.set_max_tokens(burst(rate));
        }
        self.changed.notify_waiters();
    }

    /// The rate in bytes/s, `None` when unlimited.
    pub fn rate(&self) -> Option<u64> {
        Some(self.limiter.rate()).filter(|&r| r > 0)
    }

    /// The largest piece one payment may be.
    fn piece(&self) -> u64 {
        self.limiter.max_tokens().min(PIECE)
    }

    /// Waits until `n` bytes may pass. Cancel-safe: dropping the future loses nothing but the
    /// pieces already paid for.
    pub async fn take(&self, mut n: u64) {
        while n > 0 {
            let piece = n.min(self.piece()).max(1);
            // Registered before looking, so a change between the look and the sleep wakes us.
            let changed = self.changed.notified();
            match self.limiter.try_wait_n(piece) {
                Ok(()) => n -= piece,
                Err(TryWaitError::Insufficient(wait)) => {
                    tokio::select! {
                        () = tokio::time::sleep(wait.max(Duration::from_millis(1))) => {}
                        () = changed => {}
                    }
                }
                // The burst shrank under us: the next look takes a smaller piece.
                Err(_) => tokio::task::yield_now().await,
            }
        }
    }
}

/// The buckets a connection pays into: its item's, then the engine's.
#[derive(Debug, Clone)]
pub struct Rates {
    pub item: Arc<Bucket>,
    pub global: Arc<Bucket>,
}

impl Rates {
    /// No limit anywhere (tests, local files).
    pub fn unlimited() -> Rates {
        Rates {
            item: Arc::new(Bucket::new(None)),
            global: Arc::new(Bucket::new(None)),
        }
    }

    /// The largest piece of body to take at once: a chunk bigger than this is split, so
    /// progress and the rate stay smooth at low limits.
    pub fn piece(&self) -> usize {
        let piece = self.item.piece().min(self.global.piece());
        usize::try_from(piece).unwrap_or(usize::MAX)
    }

    /// Waits until `n` bytes may pass both buckets.
    pub async fn pay(&self, n: u64) {
        self.item.take(n).await;
        self.global.take(n).await;
    }

    /// One connection's share of the tighter limit, bytes/s: that bucket's rate over the
    /// connections reading under it now. `None` when neither limits.
    pub fn share(&self) -> Option<u64> {
        let tighter = match (self.item.rate(), self.global.rate()) {
            (Some(a), Some(b)) if a <= b => &self.item,
            (Some(_), None) => &self.item,
            (_, Some(_)) => &self.global,
            (None, None) => return None,
        };
        let readers = tighter.readers.load(Ordering::Relaxed).max(1) as u64;
        tighter.rate().map(|rate| rate / readers)
    }

    /// Counts a connection as reading under both buckets until the guard is dropped.
    pub fn reading(&self) -> Reading {
        for bucket in [&self.item, &self.global] {
            bucket.readers.fetch_add(1, Ordering::Relaxed);
        }
        Reading(self.clone())
    }

    /// Whether either bucket limits anything (no waiting at all otherwise).
    pub fn limited(&self) -> bool {
        self.item.rate().is_some() || self.global.rate().is_some()
    }

    /// The next piece of `chunk` to write, taken off its front: all of it when nothing is
    /// limited, else at most one [`piece`](Rates::piece), paid for before it is handed out
    /// (so progress and the rate stay smooth). `None` when `stop` is cancelled while waiting.
    /// Every protocol's body goes through this, chunk by chunk, until `chunk` is empty.
    pub async fn next_piece(
        &self,
        chunk: &mut bytes::Bytes,
        stop: &tokio_util::sync::CancellationToken,
    ) -> Option<bytes::Bytes> {
        if !self.limited() {
            return Some(std::mem::take(chunk));
        }
        let piece = chunk.split_to(chunk.len().min(self.piece()));
        tokio::select! {
            biased;
            () = stop.cancelled() => None,
            () = self.pay(piece.len() as u64) => Some(piece),
        }
    }
}

/// A connection reading under a [`Rates`], counted until dropped.
#[derive(Debug)]
pub struct Reading(Rates);

impl Drop for Reading {
    fn drop(&mut self) {
        for bucket in [&self.0.item, &self.0.global] {
            bucket.readers.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// Over about two seconds the rate is within 10 % of the limit, and a change while a
    /// connection waits applies at once (unlimited: no more waiting).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_rate_holds_and_a_change_applies_at_once() {
        let bucket = Arc::new(Bucket::new(Some(512 * 1024)));
        let started = Instant::now();
        for _ in 0..32 {
            bucket.take(32 * 1024).await; // 1 MiB in all
        }
        let took = started.elapsed().as_secs_f64();
        assert!(
            (1.8..2.3).contains(&took),
            "1 MiB at 512 KiB/s took {took} s"
        );

        bucket.set(Some(1024));
        let waiting = {
            let bucket = Arc::clone(&bucket);
            tokio::spawn(async move { bucket.take(1024 * 1024).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let lifted = Instant::now();
        bucket.set(None);
        waiting.await.expect("join");
        assert!(lifted.elapsed() < Duration::from_millis(200));
        assert_eq!(bucket.rate(), None);
    }
}
