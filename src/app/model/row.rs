//! One row of the window's list: the item's state (each state holds only what is valid in
//! it), its speed and ETA, and a first name for it.
//!
//! Owns: [`Row`], [`RowState`], [`Speed`].
//! Must not touch: egui, the engine, I/O. Time comes in as an argument.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::protocol::{Checksum, JobId, Source, Status, TimeoutKind, Waiting};

/// Where an item is in its life, with only the data valid there.
#[derive(Debug, Clone, PartialEq)]
pub enum RowState {
    Queued,
    Connecting {
        since: Instant,
        /// What it waits for before it can go on, if anything (another process's `.part`).
        waiting: Option<Waiting>,
    },
    Running {
        since: Instant,
        done: u64,
        total: Option<u64>,
        speed: Speed,
    },
    /// A try failed; the next starts at `at`.
    Retrying {
        since: Instant,
        done: u64,
        attempt: u32,
        of: u32,
        at: Instant,
        reason: String,
    },
    Done {
        path: PathBuf,
        sha256: Checksum,
        bytes: u64,
        elapsed: Duration,
    },
    Failed {
        reason: String,
        bytes: u64,
        elapsed: Duration,
    },
    TimedOut {
        kind: TimeoutKind,
        bytes: u64,
        elapsed: Duration,
    },
    Cancelled {
        bytes: u64,
        elapsed: Duration,
    },
    /// Stopped with its bytes kept; resuming continues from them.
    Paused {
        bytes: u64,
        elapsed: Duration,
    },
}

impl RowState {
    pub fn status(&self) -> Status {
        match self {
            RowState::Queued => Status::Queued,
            RowState::Connecting { .. } => Status::Connecting,
            RowState::Running { .. } | RowState::Retrying { .. } => Status::Running,
            RowState::Paused { .. } => Status::Paused,
            RowState::Done { .. } => Status::Done,
            RowState::Failed { .. } => Status::Failed,
            RowState::TimedOut { .. } => Status::TimedOut,
            RowState::Cancelled { .. } => Status::Cancelled,
        }
    }

    /// Bytes received so far (or in the end).
    pub fn bytes(&self) -> u64 {
        match self {
            RowState::Queued | RowState::Connecting { .. } => 0,
            RowState::Running { done, .. } | RowState::Retrying { done, .. } => *done,
            RowState::Done { bytes, .. }
            | RowState::Failed { bytes, .. }
            | RowState::TimedOut { bytes, .. }
            | RowState::Cancelled { bytes, .. }
            | RowState::Paused { bytes, .. } => *bytes,
        }
    }

    /// Time since the item left the queue, or its final time.
    pub fn elapsed(&self, now: Instant) -> Option<Duration> {
        match self {
            RowState::Queued => None,
            RowState::Connecting { since, .. }
            | RowState::Running { since, .. }
            | RowState::Retrying { since, .. } => Some(now.saturating_duration_since(*since)),
            RowState::Done { elapsed, .. }
            | RowState::Failed { elapsed, .. }
            | RowState::TimedOut { elapsed, .. }
            | RowState::Cancelled { elapsed, .. }
            | RowState::Paused { elapsed, .. } => Some(*elapsed),
        }
    }

    /// The reason for a failed, timed-out or cancelled item.
    pub fn error(&self) -> Option<String> {
        match self {
            RowState::Failed { reason, .. } | RowState::Retrying { reason, .. } => {
                Some(reason.clone())
            }
            RowState::TimedOut { kind, .. } => Some(kind.to_string()),
            _ => None,
        }
    }
}

/// Bytes per second, smoothed over about two seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Speed {
    rate: f64,
    last_at: Instant,
    last_done: u64,
}

/// How long the smoothing remembers.
const SPEED_WINDOW: f64 = 2.0;
/// A speed older than this is shown as zero (the item is stalled).
const SPEED_STALE: Duration = Duration::from_secs(3);

impl Speed {
    pub(super) fn new(now: Instant) -> Self {
        Speed {
            rate: 0.0,
            last_at: now,
            last_done: 0,
        }
    }

    pub(super) fn update(&mut self, done: u64, now: Instant) {
        let dt = now.saturating_duration_since(self.last_at).as_secs_f64();
        if dt <= 0.0 {
            return;
        }
        let instant = done.saturating_sub(self.last_done) as f64 / dt;
        let weight = (dt / SPEED_WINDOW).min(1.0);
        self.rate = if self.last_done == 0 && self.rate == 0.0 {
            instant
        } else {
            self.rate + (instant - self.rate) * weight
        };
        self.last_at = now;
        self.last_done = done;
    }

    /// Bytes per second now; zero once nothing has arrived for a while.
    pub fn bytes_per_sec(&self, now: Instant) -> f64 {
        if now.saturating_duration_since(self.last_at) > SPEED_STALE {
            0.0
        } else {
            self.rate
        }
    }
}

/// One item in the list.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: JobId,
    /// Stable across restarts (the saved queue's key); ids change with each submission.
    pub key: u64,
    /// The file name: from the source at first, then the one the engine picked.
    pub name: String,
    /// The source as the person gave it.
    pub text: String,
    /// `None` when the text is not a valid source (the row is failed with the reason).
    pub source: Option<Source>,
    /// The SHA-256 the file must have, when given (`#sha256=`, a SHA256SUMS file).
    pub sha256: Option<Checksum>,
    pub state: RowState,
    pub selected: bool,
}

impl Row {
    pub fn status(&self) -> Status {
        self.state.status()
    }

    /// Estimated time left, when size and speed are known.
    pub fn eta(&self, now: Instant) -> Option<Duration> {
        let RowState::Running {
            done,
            total: Some(total),
            speed,
            ..
        } = &self.state
        else {
            return None;
        };
        let rate = speed.bytes_per_sec(now);
        (rate > 0.0).then(|| Duration::from_secs_f64(total.saturating_sub(*done) as f64 / rate))
    }
}

/// When an item that is already under way started (or `now` for one just leaving the queue).
pub(super) fn since_of(state: &RowState, now: Instant) -> Instant {
    match state {
        RowState::Connecting { since, .. }
        | RowState::Running { since, .. }
        | RowState::Retrying { since, .. } => *since,
        _ => now,
    }
}

/// A first name for a row, before the engine has picked one.
pub(super) fn display_name(text: &str, source: Option<&Source>) -> String {
    let from_source = match source {
        Some(Source::Url(url)) => url
            .path_segments()
            .and_then(|mut s| s.next_back().map(str::to_owned))
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(&s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .or_else(|| url.host_str().map(str::to_owned)),
        Some(Source::File(path)) => path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned()),
        None => None,
    };
    from_source.unwrap_or_else(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_smooths_and_goes_stale() {
        let t0 = Instant::now();
        let mut s = Speed::new(t0);
        s.update(1_000_000, t0 + Duration::from_secs(1));
        assert!((s.bytes_per_sec(t0 + Duration::from_secs(1)) - 1e6).abs() < 1.0);
        s.update(1_100_000, t0 + Duration::from_secs(2));
        let rate = s.bytes_per_sec(t0 + Duration::from_secs(2));
        assert!(rate > 100_000.0 && rate < 1e6, "{rate}");
        assert_eq!(s.bytes_per_sec(t0 + Duration::from_secs(10)), 0.0);
    }
}
