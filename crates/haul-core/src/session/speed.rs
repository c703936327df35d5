//! The one speed estimator: a download's (the window's row, the RPC's `downloadSpeed`) and
//! the whole list's (the window's total, the tray's tooltip).
//!
//! Owns: [`Speed`]. Must not touch: I/O, clocks (time comes in as an argument).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Bytes per second over the last few seconds of bytes *received* (never the bytes already
/// on disk when an item resumed): the difference between the newest and the oldest sample in
/// the window, over the time between them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Speed {
    /// (when, bytes done then), oldest first.
    samples: VecDeque<(Instant, u64)>,
}

/// How far back the speed looks.
const SPEED_WINDOW: Duration = Duration::from_secs(4);
/// Samples over less time than this give no speed yet ("calculating…").
const SPEED_MIN_SPAN: Duration = Duration::from_millis(1500);
/// Nothing new for this long: the speed is zero (the item is stalled).
const SPEED_STALE: Duration = Duration::from_secs(3);
/// Samples kept at most: the window's worth at [`SPEED_SPACING`], a power of two so the
/// buffer never doubles past it (every running row has one: 10,000 of them at 64 samples
/// held 15 MB). The speed reads only the oldest and the newest, so fewer, wider-spaced
/// samples lose nothing.
const SPEED_SAMPLES: usize = 16;
/// Samples kept are at least this far apart (4 s / 250 ms: 16 in the window).
const SPEED_SPACING: Duration = Duration::from_millis(250);

impl Speed {
    /// Records that `done` bytes were done at `now`.
    pub fn update(&mut self, done: u64, now: Instant) {
        if self.samples.back().is_some_and(|&(_, last)| done < last) {
            self.samples.clear(); // started over from zero
        }
        // Samples closer together than SPEED_SPACING are merged into the newest, so the
        // window keeps its length however many reports arrive (the total counter gets one
        // per report of every running item).
        let len = self.samples.len();
        if len >= 2
            && self
                .samples
                .get(len - 2)
                .is_some_and(|&(at, _)| now.saturating_duration_since(at) < SPEED_SPACING)
        {
            self.samples.pop_back();
        }
        while self.samples.len() >= SPEED_SAMPLES
            || (self.samples.len() > 2
                && self
                    .samples
                    .get(1)
                    .is_some_and(|&(at, _)| now.saturating_duration_since(at) >= SPEED_WINDOW))
        {
            self.samples.pop_front();
        }
        self.samples.push_back((now, done));
    }

    /// Forgets every sample (a run ended: the next starts from nothing).
    pub fn clear(&mut self) {
        self.samples.clear();
    }

    /// Bytes per second now; `None` until there is enough to tell, zero once nothing has
    /// arrived for a while.
    pub fn bytes_per_sec(&self, now: Instant) -> Option<f64> {
        let (&(first_at, first), &(last_at, last)) = (self.samples.front()?, self.samples.back()?);
        if now.saturating_duration_since(last_at) > SPEED_STALE {
            return Some(0.0);
        }
        let span = last_at.saturating_duration_since(first_at);
        if span < SPEED_MIN_SPAN {
            return None;
        }
        Some(last.saturating_sub(first) as f64 / span.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The speed is what arrived recently, never the bytes already on disk (a resume at
    /// 234 MiB once showed 859 MiB/s), and nothing is claimed before 1.5 s of samples.
    #[test]
    fn speed_counts_only_recent_bytes_and_waits_for_enough_samples() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut s = Speed::default();
        // Resumed at 234 MiB: the first sample is the offset.
        let offset = 234 * 1024 * 1024;
        s.update(offset, at(0));
        assert_eq!(s.bytes_per_sec(at(0)), None, "calculating…");
        s.update(offset + 200_000, at(100));
        assert_eq!(
            s.bytes_per_sec(at(100)),
            None,
            "still calculating after 0.1 s"
        );
        for i in 2..=20 {
            s.update(offset + 200_000 * i, at(100 * i));
        }
        let rate = s.bytes_per_sec(at(2000)).expect("a speed after 2 s");
        assert!((rate - 2_000_000.0).abs() < 1.0, "{rate}");
        // Only the last few seconds count: a slower stretch shows within seconds.
        let mut done = offset + 200_000 * 20;
        for i in 21..=80 {
            done += 50_000;
            s.update(done, at(100 * i));
        }
        let rate = s.bytes_per_sec(at(8000)).expect("speed");
        assert!((rate - 500_000.0).abs() < 1_000.0, "{rate}");
        assert_eq!(s.bytes_per_sec(at(12_000)), Some(0.0), "stalled");
    }

    /// A row's samples stay within one small buffer however often reports come (every
    /// running row has one; 10,000 of them once held 15 MB), and the speed stays true.
    #[test]
    fn samples_stay_in_a_small_buffer() {
        let t0 = Instant::now();
        let mut s = Speed::default();
        for i in 0..2_000u64 {
            s.update(i * 10_000, t0 + Duration::from_millis(20 * i));
        }
        assert!(
            s.samples.capacity() <= SPEED_SAMPLES,
            "{}",
            s.samples.capacity()
        );
        let rate = s
            .bytes_per_sec(t0 + Duration::from_millis(20 * 1_999))
            .expect("a speed");
        assert!((rate - 500_000.0).abs() < 1_000.0, "{rate}");
    }
}
