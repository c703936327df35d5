//! One download in the list: what it is (its address, folder, options and checksum), where
//! it is in its life ([`State`]: each state holds only what is valid in it), and what is read
//! from it (status, bytes, size, elapsed time, speed, ETA, error, files).
//!
//! Owns: [`Entry`], [`State`], a download's first name before the engine picks one.
//! Must not touch: I/O, clocks (time comes in as an argument), the list's order and indices
//! (the session's).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Speed;
use crate::protocol::{
    Checksum, DoneFile, FetchError, ItemOptions, JobId, Outcome, Source, Status, TimeoutKind,
    Waiting,
};

/// Where an item is in its life, with only the data valid there.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// Waiting to run; with the bytes an earlier run kept (a paused, failed or restored
    /// download's `.part`), shown while it waits: 0 and no size for a new one.
    Queued {
        done: u64,
        total: Option<u64>,
    },
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
        /// The try under way: 0 for the first, then the retry's number, of `of` allowed.
        attempt: u32,
        of: u32,
    },
    /// A try failed; the next starts at `at`.
    Retrying {
        since: Instant,
        done: u64,
        total: Option<u64>,
        attempt: u32,
        of: u32,
        at: Instant,
        /// How the failed try ended (for a person's sentence), and as text. Boxed, as is a
        /// failure's error: a state is what every row holds, and these are the rare ones.
        cause: Box<Outcome>,
        reason: String,
    },
    /// Every file verified and in place (the first is the item's main file).
    Done {
        files: Vec<DoneFile>,
        /// A torrent of many files: the folder it made, the item's path ([`crate::protocol::Outcome::Done`]).
        folder: Option<PathBuf>,
        bytes: u64,
        elapsed: Duration,
    },
    /// Not fetched: the file at `path` was already there and complete.
    Skipped {
        path: PathBuf,
    },
    Failed {
        error: Box<FetchError>,
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

impl State {
    pub fn status(&self) -> Status {
        match self {
            State::Queued { .. } => Status::Queued,
            State::Connecting { .. } => Status::Connecting,
            State::Running { .. } | State::Retrying { .. } => Status::Running,
            State::Paused { .. } => Status::Paused,
            State::Done { .. } => Status::Done,
            State::Skipped { .. } => Status::Skipped,
            State::Failed { .. } => Status::Failed,
            State::TimedOut { .. } => Status::TimedOut,
            State::Cancelled { .. } => Status::Cancelled,
        }
    }

    /// Where the item is once it is there: a done item's folder (a torrent of many files) or
    /// first file, or the file a skipped one found.
    pub fn path(&self) -> Option<&Path> {
        match self {
            State::Done { files, folder, .. } => {
                crate::protocol::item_path(files, folder.as_deref())
            }
            State::Skipped { path } => Some(path),
            _ => None,
        }
    }

    /// The files a done item wrote (none otherwise).
    pub fn files(&self) -> &[DoneFile] {
        match self {
            State::Done { files, .. } => files,
            _ => &[],
        }
    }

    /// Bytes received so far (or in the end).
    pub fn bytes(&self) -> u64 {
        match self {
            State::Skipped { .. } => 0,
            State::Queued { done, .. }
            | State::Connecting { done, .. }
            | State::Running { done, .. }
            | State::Retrying { done, .. } => *done,
            State::Done { bytes, .. }
            | State::Failed { bytes, .. }
            | State::TimedOut { bytes, .. }
            | State::Cancelled { bytes, .. }
            | State::Paused { bytes, .. } => *bytes,
        }
    }

    /// The whole size, when known: a done item's is what it wrote (its files' lengths).
    pub fn total(&self) -> Option<u64> {
        match self {
            State::Queued { total, .. }
            | State::Connecting { total, .. }
            | State::Running { total, .. }
            | State::Retrying { total, .. }
            | State::Paused { total, .. } => *total,
            State::Done { files, bytes, .. } => {
                Some(crate::protocol::written(files).unwrap_or(*bytes))
            }
            _ => None,
        }
    }

    /// Time since the item left the queue this run, or this run's final time.
    pub fn elapsed(&self, now: Instant) -> Option<Duration> {
        match self {
            State::Queued { .. } | State::Skipped { .. } => None,
            State::Connecting { since, .. }
            | State::Running { since, .. }
            | State::Retrying { since, .. } => Some(now.saturating_duration_since(*since)),
            State::Done { elapsed, .. }
            | State::Failed { elapsed, .. }
            | State::TimedOut { elapsed, .. }
            | State::Cancelled { elapsed, .. }
            | State::Paused { elapsed, .. } => Some(*elapsed),
        }
    }

    /// The technical reason for a failed, timed-out or retrying item (passwords redacted).
    pub fn error(&self) -> Option<String> {
        match self {
            State::Failed { error, origin, .. } => {
                let text = crate::protocol::redact(&error.to_string()).into_owned();
                Some(match origin {
                    Some(origin) => format!("{text} ({origin})"),
                    None => text,
                })
            }
            State::Retrying { reason, .. } => Some(reason.clone()),
            State::TimedOut { kind, .. } => Some(kind.to_string()),
            _ => None,
        }
    }

    /// Kept bytes that cancelling or removing would delete (a `.part` on disk).
    pub fn kept_bytes(&self) -> u64 {
        match self {
            State::Queued { done, .. }
            | State::Connecting { done, .. }
            | State::Running { done, .. }
            | State::Retrying { done, .. } => *done,
            State::Paused { bytes, .. }
            | State::Failed { bytes, .. }
            | State::TimedOut { bytes, .. } => *bytes,
            _ => 0,
        }
    }
}

/// One download in the list.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its stable key (aria2's gid; the window's saved queue keeps it across restarts).
    pub gid: u64,
    /// The engine's id for its current (or last) run; it changes with each submission.
    pub id: JobId,
    /// The file name: from the source at first, then the one the engine picked.
    pub name: String,
    /// The address (or path) as it was given.
    pub uri: String,
    /// `None` when the text is not a valid source (the entry is failed with the reason).
    pub source: Option<Source>,
    /// The text had no scheme and was read as a web address (`example.org/x` → https).
    pub guessed: bool,
    /// The folder its file goes to (chosen when it was added; it stays).
    pub dest: PathBuf,
    /// The SHA-256 its file must have, when given.
    pub checksum: Option<Checksum>,
    /// Its own name, connections, speed limit and request options; sent with each run.
    pub options: Arc<ItemOptions>,
    pub state: State,
    /// Time spent in earlier runs (before a pause, a retry or a restart), so elapsed time
    /// keeps counting across them.
    pub elapsed_before: Duration,
    /// Removed (aria2's `remove`): its bytes are kept, it runs no more, and it stays in the
    /// list as `removed` until its result is dropped; running it again brings it back.
    pub removed: bool,
    /// A split download's ranges written so far (bytes, `[start, end)`), for its bar; empty
    /// for one stream.
    pub parts: Vec<(u64, u64)>,
    /// Each connection's speed (bytes a second) while a split download runs, in the order
    /// they opened; empty while it runs on one ([`Event::Connections`](crate::protocol::Event::Connections)).
    pub connections: Vec<u64>,
    /// A video stream's segments, variant and variants offered (its last
    /// [`Event::Stream`](crate::protocol::Event::Stream)); `None` for a file.
    pub stream: Option<crate::protocol::StreamInfo>,
    /// A torrent's swarm as its last run reported it (peers, seeds, bytes sent); `None` for
    /// other downloads.
    pub swarm: Option<crate::protocol::Swarm>,
    /// A torrent's files, once its metadata arrived ([`Event::TorrentFiles`](crate::protocol::Event::TorrentFiles));
    /// empty for other downloads and before then.
    pub torrent_files: Vec<crate::protocol::TorrentFile>,
    /// A seeding torrent's files, already in place ([`Event::Published`](crate::protocol::Event::Published)):
    /// what it is saved as while it seeds. Empty for other downloads and before then.
    pub published: Vec<crate::protocol::DoneFile>,
    /// The folder those files are in, for a torrent of many files.
    pub published_folder: Option<PathBuf>,
    /// Its server can go on from the bytes so far (the last run's `Started` said so): when
    /// false, a pause or a quit restarts it from the beginning, and the row says so.
    pub resumable: bool,
}

impl Entry {
    pub fn status(&self) -> Status {
        self.state.status()
    }

    /// Bytes done so far (or in the end).
    pub fn done(&self) -> u64 {
        self.state.bytes()
    }

    /// The whole size, when known.
    pub fn total(&self) -> Option<u64> {
        self.state.total()
    }

    /// Why its last run failed (or why it is retrying).
    pub fn error(&self) -> Option<String> {
        self.state.error()
    }

    /// The same download with other `options` ([`super::Edit`]): its address, source, folder
    /// and checksum kept. `None` for a row without a source (a line that was not one).
    pub fn edited(&self, options: ItemOptions) -> Option<super::Edit> {
        Some(super::Edit {
            uri: self.uri.clone(),
            source: self.source.clone()?,
            options,
            dest: self.dest.clone(),
            checksum: self.checksum,
        })
    }

    /// A torrent seeding from its published files: nothing is left to fetch, and stopping it
    /// (or cancelling it) deletes nothing a person has; it ends done.
    pub fn is_seeding(&self) -> bool {
        self.status().is_active() && self.swarm.is_some_and(|s| s.seeding)
    }

    /// Every file a done download wrote; empty until then.
    pub fn files(&self) -> &[DoneFile] {
        self.state.files()
    }

    /// Where its file is, once done; else where it will be, once named.
    pub fn path(&self) -> PathBuf {
        self.state
            .path()
            .map_or_else(|| self.dest.join(&self.name), Path::to_path_buf)
    }

    /// Bytes a second now ([`Speed`]; zero until there is enough to tell, and when it is not
    /// running).
    pub fn bytes_per_sec(&self, now: Instant) -> u64 {
        match &self.state {
            // (Seeding: nothing is fetched; what arrived last is not "now".)
            State::Running { speed, .. } if !self.removed && !self.is_seeding() => {
                speed.bytes_per_sec(now).unwrap_or(0.0) as u64
            }
            _ => 0,
        }
    }

    /// The connections it uses now: none unless it connects or runs, else as many as its last
    /// [`Event::Connections`](crate::protocol::Event::Connections) listed, and one when that listed none (one stream).
    pub fn connections(&self) -> usize {
        if self.removed || !matches!(self.status(), Status::Running | Status::Connecting) {
            0
        } else {
            self.connections.len().max(1)
        }
    }

    /// Running or paused, and its server cannot go on from its bytes (the row says so).
    pub fn cannot_resume(&self) -> bool {
        !self.resumable && matches!(self.state, State::Running { .. } | State::Paused { .. })
    }

    /// Running with bytes its server cannot resume from: a pause or a quit throws them away.
    pub fn restarts_if_stopped(&self) -> bool {
        !self.resumable && self.status().is_active() && self.state.bytes() > 0
    }

    /// All the time this download has run, over every run.
    pub fn elapsed(&self, now: Instant) -> Option<Duration> {
        match self.state.elapsed(now) {
            Some(this_run) => Some(self.elapsed_before + this_run),
            None if self.elapsed_before > Duration::ZERO => Some(self.elapsed_before),
            None => None,
        }
    }

    /// Estimated time left, from the recent speed, when the size is known (a video stream's
    /// from its bytes per segment so far).
    pub fn eta(&self, now: Instant) -> Option<Duration> {
        let State::Running {
            done, total, speed, ..
        } = &self.state
        else {
            return None;
        };
        // A video stream's size is known only at its end: guessed from the segments held, by
        // their average length (not from the bytes received, which also count the segments
        // in flight on every connection: at 1 of 60 held, that guessed several times too
        // much).
        let total = total.or_else(|| {
            let stream = self.stream.as_ref()?;
            let segments = stream.total?;
            let average = stream.held_bytes.checked_div(stream.done)?;
            Some(stream.held_bytes + average * segments.saturating_sub(stream.done))
        })?;
        let rate = speed.bytes_per_sec(now)?;
        let left = total.saturating_sub(*done);
        // Nothing left (a torrent seeding, an item being verified): no time to tell.
        (rate > 0.0 && left > 0).then(|| Duration::from_secs_f64(left as f64 / rate))
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

/// When an item that is already under way started (or `now` for one just leaving the queue).
pub fn since_of(state: &State, now: Instant) -> Instant {
    match state {
        State::Connecting { since, .. }
        | State::Running { since, .. }
        | State::Retrying { since, .. } => *since,
        _ => now,
    }
}

/// A first name for a row, before the engine has picked one.
pub fn display_name(text: &str, source: Option<&Source>) -> String {
    let from_source = match source {
        // A magnet link's display name (BEP 9's `dn`), as torrent clients show it while the
        // metadata is fetched; without one, the link itself.
        Some(Source::Url(url)) if url.scheme() == "magnet" => url
            .query_pairs()
            .find(|(key, _)| key == "dn")
            .map(|(_, name)| name.trim().to_owned())
            .filter(|name| !name.is_empty()),
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
