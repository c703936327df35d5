//! One row of the window's list: the item's state (each state holds only what is valid in
//! it), its speed and ETA, where its file goes, and a first name for it.
//!
//! Owns: [`Row`], [`RowState`]. Its speed is the session's estimator ([`Speed`]), the one the
//! RPC and the tray read too.
//! Must not touch: egui, the engine, I/O. Time comes in as an argument.

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use crate::session::Speed;

use crate::protocol::{
    Checksum, DoneFile, FetchError, JobId, Outcome, Source, Status, TimeoutKind, Waiting,
};

/// Where an item is in its life, with only the data valid there.
#[derive(Debug, Clone, PartialEq)]
pub enum RowState {
    Queued,
    /// Opening its source: the first try, or the next one after a failure (then the bytes
    /// kept so far still show).
    Connecting {
        since: Instant,
        /// What it waits for before it can go on, if anything (another process's `.part`).
        waiting: Option<Waiting>,
        /// The try under way: 0 for the first, then the retry's number, of `of` allowed.
        attempt: u32,
        of: u32,
        done: u64,
        total: Option<u64>,
    },
    Running {
        since: Instant,
        done: u64,
        total: Option<u64>,
        speed: Speed,
        attempt: u32,
    },
    /// A try failed; the next starts at `at`.
    Retrying {
        since: Instant,
        done: u64,
        total: Option<u64>,
        attempt: u32,
        of: u32,
        at: Instant,
        /// How the failed try ended (for a person's sentence), and as text.
        cause: Outcome,
        reason: String,
    },
    /// Every file verified and in place (the first is the item's main file).
    Done {
        files: Vec<DoneFile>,
        bytes: u64,
        elapsed: Duration,
    },
    /// Not fetched: the file at `path` was already there and complete.
    Skipped {
        path: PathBuf,
    },
    Failed {
        error: FetchError,
        /// Where a line that is not a source came from (`urls.txt line 4`).
        origin: Option<String>,
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
        total: Option<u64>,
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
            RowState::Skipped { .. } => Status::Skipped,
            RowState::Failed { .. } => Status::Failed,
            RowState::TimedOut { .. } => Status::TimedOut,
            RowState::Cancelled { .. } => Status::Cancelled,
        }
    }

    /// The item's main file once it is there: the first file of a done item, or the file a
    /// skipped one found.
    pub fn path(&self) -> Option<&std::path::Path> {
        match self {
            RowState::Done { files, .. } => files.first().map(|f| f.path.as_path()),
            RowState::Skipped { path } => Some(path),
            _ => None,
        }
    }

    /// The files a done item wrote (none otherwise).
    pub fn files(&self) -> &[DoneFile] {
        match self {
            RowState::Done { files, .. } => files,
            _ => &[],
        }
    }

    /// Bytes received so far (or in the end).
    pub fn bytes(&self) -> u64 {
        match self {
            RowState::Queued | RowState::Skipped { .. } => 0,
            RowState::Connecting { done, .. }
            | RowState::Running { done, .. }
            | RowState::Retrying { done, .. } => *done,
            RowState::Done { bytes, .. }
            | RowState::Failed { bytes, .. }
            | RowState::TimedOut { bytes, .. }
            | RowState::Cancelled { bytes, .. }
            | RowState::Paused { bytes, .. } => *bytes,
        }
    }

    /// The whole size, when known.
    pub fn total(&self) -> Option<u64> {
        match self {
            RowState::Connecting { total, .. }
            | RowState::Running { total, .. }
            | RowState::Retrying { total, .. }
            | RowState::Paused { total, .. } => *total,
            RowState::Done { bytes, .. } => Some(*bytes),
            _ => None,
        }
    }

    /// Time since the item left the queue this run, or this run's final time.
    pub fn elapsed(&self, now: Instant) -> Option<Duration> {
        match self {
            RowState::Queued | RowState::Skipped { .. } => None,
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

    /// The technical reason for a failed, timed-out or retrying item (passwords redacted).
    pub fn error(&self) -> Option<String> {
        match self {
            RowState::Failed { error, origin, .. } => {
                let text = crate::protocol::redact(&error.to_string()).into_owned();
                Some(match origin {
                    Some(origin) => format!("{text} ({origin})"),
                    None => text,
                })
            }
            RowState::Retrying { reason, .. } => Some(reason.clone()),
            RowState::TimedOut { kind, .. } => Some(kind.to_string()),
            _ => None,
        }
    }

    /// Kept bytes that cancelling or removing would delete (a `.part` on disk).
    pub fn kept_bytes(&self) -> u64 {
        match self {
            RowState::Connecting { done, .. }
            | RowState::Running { done, .. }
            | RowState::Retrying { done, .. } => *done,
            RowState::Paused { bytes, .. }
            | RowState::Failed { bytes, .. }
            | RowState::TimedOut { bytes, .. } => *bytes,
            _ => 0,
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
    /// The folder the file goes to (chosen when the row was added; it stays).
    pub dest: PathBuf,
    /// The text had no scheme and was read as a web address (`example.org/x` → https).
    pub guessed: bool,
    /// Time spent in earlier runs (before a pause, a retry or a restart), so elapsed time
    /// keeps counting across them.
    pub elapsed_before: Duration,
    pub state: RowState,
    pub selected: bool,
    /// Removed over the RPC (aria2's `remove`): its run is paused, its bytes kept, and the
    /// RPC reports it `removed` until its result is dropped; resuming it here brings it back.
    pub removed: bool,
    /// Its own name, connections, speed limit (`max_rate`, also set from its menu) and
    /// request options ("Add with options…", a list's option lines); sent with each run and
    /// saved with the queue.
    pub options: std::sync::Arc<crate::protocol::ItemOptions>,
    /// A split download's ranges written so far (bytes, `[start, end)`), for its bar; empty
    /// for one stream.
    pub parts: Vec<(u64, u64)>,
}

impl Row {
    pub fn status(&self) -> Status {
        self.state.status()
    }

    /// All the time this item has run, over every run.
    pub fn elapsed(&self, now: Instant) -> Option<Duration> {
        match self.state.elapsed(now) {
            Some(this_run) => Some(self.elapsed_before + this_run),
            None if self.elapsed_before > Duration::ZERO => Some(self.elapsed_before),
            None => None,
        }
    }

    /// Estimated time left, from the recent speed, when the size is known.
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
        let rate = speed.bytes_per_sec(now)?;
        (rate > 0.0).then(|| Duration::from_secs_f64(total.saturating_sub(*done) as f64 / rate))
    }

    /// The host a URL source is fetched from (`example.org`), or the folder of a local one.
    pub fn origin_label(&self) -> String {
        match &self.source {
            Some(Source::Url(url)) => match url.port() {
                Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
                None => url.host_str().unwrap_or_default().to_owned(),
            },
            Some(Source::File(path)) => path
                .parent()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            None => String::new(),
        }
    }
}

/// The row as the RPC reads it (the same reading as the headless list's entries).
impl crate::session::Item for Row {
    fn gid(&self) -> u64 {
        self.key
    }
    fn status(&self) -> Status {
        self.state.status()
    }
    fn removed(&self) -> bool {
        self.removed
    }
    fn uri(&self) -> &str {
        &self.text
    }
    fn dest(&self) -> &std::path::Path {
        &self.dest
    }
    fn path(&self) -> Option<PathBuf> {
        Some(
            self.state
                .path()
                .map_or_else(|| self.dest.join(&self.name), std::path::Path::to_path_buf),
        )
    }
    fn options(&self) -> &crate::protocol::ItemOptions {
        &self.options
    }
    fn checksum(&self) -> Option<Checksum> {
        self.sha256
    }
    fn total(&self) -> Option<u64> {
        self.state.total()
    }
    fn done(&self) -> u64 {
        self.state.bytes()
    }
    fn bytes_per_sec(&self, now: Instant) -> u64 {
        match &self.state {
            RowState::Running { speed, .. } if !self.removed => {
                speed.bytes_per_sec(now).unwrap_or(0.0) as u64
            }
            _ => 0,
        }
    }
    fn error(&self) -> Option<String> {
        self.state.error()
    }
    fn files(&self) -> &[DoneFile] {
        self.state.files()
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
