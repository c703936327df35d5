//! The one vocabulary shared by the engine and its front ends (the window and `haul-cli`).
//!
//! Owns: item identity ([`JobId`]), what to fetch ([`Source`], parsed once at the edge),
//! what front ends ask for ([`Command`]), what the engine reports ([`Event`]), where an item
//! stands ([`Status`]: the one status vocabulary of the wire, the saved queue and every
//! display), how an item ended ([`Outcome`], [`FetchError`], [`TimeoutKind`]), the knobs
//! ([`Limits`], [`Output`]) and how the engine wakes a front end ([`Waker`]).
//! Must not touch: I/O, tokio, egui. Every type here is plain data.
//!
//! # Layout
//! - this file: ids, commands, events, statuses, outcomes, limits, output, the waker.
//! - `source`: [`Source`], [`SourceError`], [`Checksum`].
//! - `scheme`: [`SCHEMES`], the URL schemes Haul fetches and their [`Protocol`]s.
//! - `request`: [`ItemOptions`], [`Request`] and what it carries (headers, credentials,
//!   cookies).
//! - `error`: [`FetchError`] and the problems it carries, [`TimeoutKind`], [`redact`].
//! - `trust`: [`Trust`], [`HostPin`], [`Fingerprint`]: certificates trusted beyond the system's.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

mod error;
mod request;
mod scheme;
mod source;
mod stream;
mod torrent;
mod trust;

pub use error::{
    ConnectProblem, DiskProblem, FetchError, ProxyProblem, TimeoutKind, hex, is_sharing_violation,
    redact,
};
pub use request::{
    Cookie, Cookies, CookiesError, Credentials, Header, HeaderError, ItemOptions, ManualProxy,
    PROXY_SCHEMES, ProxyChoice, Request,
};
pub use scheme::{Protocol, SCHEMES, Scheme, scheme, scheme_names};
pub use source::{Checksum, Source, SourceError};
pub use stream::{Quality, SubLangs};
pub use torrent::{
    Ratio, Swarm, TorrentFile, TorrentOptions, parse_seed_time, parse_select, select_text,
};
pub use trust::{Fingerprint, HostPin, Trust};

/// Called after every event the engine sends (from an engine thread), and by other
/// producers a front end listens to: a window repaints on it instead of polling.
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// Identity of one item, unique within one engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct JobId(pub u64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Caps and timeouts; may be changed while items run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Items running at once, over all hosts.
    pub jobs: usize,
    /// Items running at once against one host (host and port).
    pub per_host: usize,
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Longest silence allowed while waiting for headers or body bytes.
    pub stall_timeout: Duration,
    /// Longest time one item may run, from when it leaves the queue.
    pub deadline: Option<Duration>,
    /// Extra tries after a failure worth retrying (connect errors, resets, stalls, short
    /// bodies, 5xx, 408, 429); never after other 4xx.
    pub retries: u32,
    /// The first retry waits about this long; each next one twice as long (with jitter).
    pub retry_base: Duration,
    /// Items larger than this fail (and their `.part` is removed).
    pub max_size: Option<u64>,
    /// The download speed of all items together, in bytes/s; `None`: no limit. Changed while
    /// items run, it applies at once to every connection (curl's `--limit-rate`, aria2's
    /// `--max-overall-download-limit`).
    pub max_rate: Option<u64>,
    /// Connections per file (aria2's `--split`): a file whose server honours ranges is
    /// fetched over up to this many, never more than `per_host`; 1 turns splitting off.
    pub split: usize,
    /// A file is split only when it is at least twice this many bytes (aria2's
    /// `--min-split-size`).
    pub min_split_size: u64,
    /// What torrents send to peers, all together, in bytes/s (aria2's
    /// `--max-overall-upload-limit`); `None`: no limit. Taken when the first torrent starts.
    pub max_upload_rate: Option<u64>,
    /// The port BitTorrent peers connect to (aria2's `--listen-port`); 0: any free one.
    pub listen_port: u16,
    /// Find BitTorrent peers through the DHT (aria2's `--enable-dht`).
    pub dht: bool,
    /// Ask trackers for BitTorrent peers (a torrent's own and `bt-tracker`'s); off, peers come
    /// only from the DHT and a magnet's peer hints. Taken when the first torrent starts.
    pub trackers: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            jobs: 8,
            per_host: 4,
            connect_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(30),
            deadline: None,
            retries: 3,
            retry_base: Duration::from_secs(1),
            max_size: None,
            max_rate: None,
            split: 4,
            min_split_size: 8 * 1024 * 1024,
            max_upload_rate: None,
            listen_port: 0,
            dht: true,
            trackers: true,
        }
    }
}

/// Where and how finished files are written. Taken by each item when it is submitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    /// Destination folder (created if missing).
    pub dest: PathBuf,
    /// Replace an existing file of the same name instead of picking `name (1).ext`.
    pub overwrite: bool,
    /// When a file of the same name is already there and complete — the size the server
    /// reports and, when the item has a checksum, that SHA-256 — end the item as
    /// [`Outcome::Skipped`] instead of fetching it again (curl's `--skip-existing`, wget's
    /// `-nc`). A file of another size is kept, and the new one gets a new name (or replaces
    /// it with `overwrite`). Items whose size the server does not say are fetched.
    pub skip_existing: bool,
    /// Use a server's `Content-Disposition` file name (sanitised) when present.
    pub content_disposition: bool,
    /// The legacy encoding (a WHATWG label: `GBK`, `Big5`, `Shift_JIS`, `windows-1252`…)
    /// tried for a server's name whose bytes are not UTF-8, as a browser tries its locale's;
    /// `None` means windows-1252. Front ends pick it from the person's language.
    pub legacy_charset: Option<String>,
}

impl Default for Output {
    fn default() -> Self {
        Output {
            dest: PathBuf::from("."),
            overwrite: false,
            skip_existing: false,
            content_disposition: true,
            legacy_charset: None,
        }
    }
}

/// What a front end asks of the engine. Sending never blocks.
#[derive(Debug, Clone)]
pub enum Command {
    /// Queue one item; exactly one [`Event::Finished`] will follow for `id`. With a
    /// checksum, the item is only renamed into place when its SHA-256 matches.
    Submit {
        id: JobId,
        source: Source,
        sha256: Option<Checksum>,
        /// The folder this item's file goes to; `None` for the current [`Output::dest`].
        dest: Option<PathBuf>,
        /// Its name, connections, speed limit and request options (shared with the list
        /// that keeps them: most items share the one default).
        options: std::sync::Arc<ItemOptions>,
    },
    /// Cancel one item, queued or running (its `.part` is removed).
    Cancel(JobId),
    /// Cancel every queued and running item.
    CancelAll,
    /// Stop one item but keep what it has (`.part` and sidecar): submitting the same source
    /// again resumes it. Ends with [`Outcome::Paused`].
    Pause(JobId),
    /// Pause every queued and running item.
    PauseAll,
    /// Delete the bytes kept for a source (its `.part` and sidecar in `dest`, or in the current
    /// destination), when the person no longer wants to resume it. A part another process is
    /// writing is left alone.
    Discard {
        source: Source,
        dest: Option<PathBuf>,
        /// A torrent's info hash, when its download learned it ([`Swarm::info_hash`]): its
        /// working folder goes too, also for a web link whose reply was a `.torrent`.
        torrent: Option<[u8; 20]>,
    },
    /// The bytes kept for `from` in `dest` (or the current destination) go on as `to`'s: the
    /// same file at a new address ("Edit options…" with a new link). Submitting `to` then
    /// asks only for what is missing, with `If-Range`, so a different file there starts over
    /// rather than mix. Bytes kept without a size and a strong validator are not handed over.
    Adopt {
        from: Source,
        to: Source,
        dest: Option<PathBuf>,
    },
    /// Change caps and timeouts; running items keep their timeouts, the caps and the speed
    /// limit apply at once.
    SetLimits(Limits),
    /// Limit one item's download speed, in bytes/s (`None`: no limit of its own; the global
    /// one still holds). Applies at once, queued or running (aria2's `--max-download-limit`).
    SetItemRate { id: JobId, rate: Option<u64> },
    /// Change the proxy; items started from now on use it (running ones keep their
    /// connections).
    SetProxy(ProxyChoice),
    /// Trust these certificates, each for its host (the window's "trust this certificate for
    /// this host"); items started from now on are checked with them.
    SetHostPins(Vec<HostPin>),
    /// Change where items submitted from now on are written.
    SetOutput(Output),
    /// Stop starting queued items (running ones go on) or start again.
    SetPaused(bool),
    /// Start the queued items among these ids in this order (a list's "move to top", a drag,
    /// aria2's `changePosition`). They trade places among themselves; other queued items keep
    /// theirs, and ids that are not queued are skipped. Hosts without room are still passed
    /// over for the next item that can start (per-host fairness).
    Reorder(Vec<JobId>),
}

/// What the engine reports. For each submitted item: `Connecting`, then `Started` (once the
/// name and size are known), any number of `Progress`, and always exactly one `Finished`.
/// Items that end early (cancelled in the queue, failed to connect) skip the steps between.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The item left the queue and is connecting / opening its source.
    Connecting { id: JobId },
    /// The file's name and size are known and bytes are about to flow (into its `.part`).
    /// `resumable`: a pause, a quit or a broken connection can go on from the bytes so far
    /// (the server honours ranges: HTTP `206` or `Accept-Ranges: bytes`, FTP `REST` with a
    /// size and date); otherwise the next run starts from the beginning.
    Started {
        id: JobId,
        name: String,
        total: Option<u64>,
        /// Bytes already there as this run starts: a resumed download's kept bytes (not
        /// received now), 0 for a fresh one. Progress counts on from them.
        done: u64,
        resumable: bool,
    },
    /// At most about ten a second per item.
    Progress {
        id: JobId,
        done: u64,
        total: Option<u64>,
    },
    /// The item cannot go on yet, and says why (it goes on by itself once it can).
    Waiting { id: JobId, reason: Waiting },
    /// A split download's byte ranges written so far, `[start, end)`, sorted (about twice a
    /// second while it runs), for a progress bar that shows each connection's part.
    Parts { id: JobId, done: Vec<(u64, u64)> },
    /// The connections a running item uses now: each one's speed in bytes a second over about
    /// the last two seconds, in the order they opened (about twice a second while a split download
    /// runs, and within a tenth of a second of one opening or ending; once with an empty list
    /// when it goes on in one stream). An item that never sends
    /// it runs on one connection.
    Connections { id: JobId, speeds: Vec<u64> },
    /// A video stream's own progress (about twice a second while it runs): its segments held
    /// of all, the variant fetched and the ones its playlist offers.
    Stream { id: JobId, info: StreamInfo },
    /// A torrent's swarm: peers, seeds, what it sent, whether it still asks for the metadata
    /// or seeds now (about twice a second while it runs).
    Swarm { id: JobId, swarm: Swarm },
    /// A torrent's files, once its metadata is known, then again as their verified bytes
    /// grow (at most about twice a second): what its row offers to choose from (padding files
    /// left out).
    TorrentFiles { id: JobId, files: Vec<TorrentFile> },
    /// A torrent's chosen files verified and moved under their final names, before it seeds:
    /// the item's files from now on (a quit while it seeds leaves them done, not to be
    /// fetched again). Its `Finished` follows once seeding ends.
    Published {
        id: JobId,
        files: Vec<DoneFile>,
        /// The folder they are in, for a torrent of many files ([`Outcome::Done`]'s).
        folder: Option<PathBuf>,
    },
    /// An attempt failed in a way worth another try; the next starts after `delay`.
    Retrying {
        id: JobId,
        /// The retry about to happen: 1 for the first.
        attempt: u32,
        /// Retries allowed in all.
        of: u32,
        delay: Duration,
        /// Why the last attempt failed, as text (passwords redacted).
        reason: String,
        /// How the last attempt ended: [`Outcome::Failed`] or [`Outcome::TimedOut`].
        cause: Outcome,
    },
    /// The one and only end of an item.
    Finished {
        id: JobId,
        /// Time from leaving the queue to the end (zero if it never left the queue).
        elapsed: Duration,
        /// Bytes received, whether or not the item completed.
        bytes: u64,
        outcome: Outcome,
    },
}

impl Event {
    pub fn id(&self) -> JobId {
        match self {
            Event::Connecting { id }
            | Event::Started { id, .. }
            | Event::Progress { id, .. }
            | Event::Retrying { id, .. }
            | Event::Waiting { id, .. }
            | Event::Parts { id, .. }
            | Event::Connections { id, .. }
            | Event::Stream { id, .. }
            | Event::Swarm { id, .. }
            | Event::TorrentFiles { id, .. }
            | Event::Published { id, .. }
            | Event::Finished { id, .. } => *id,
        }
    }
}

/// A video stream as its row shows it ([`Event::Stream`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamInfo {
    /// Segments held so far.
    pub done: u64,
    /// Segments in all; `None` while a live stream is recorded.
    pub total: Option<u64>,
    /// The bytes of the segments held (`done`): their average length guesses the stream's
    /// size (the bytes received also count the segments still in flight).
    pub held_bytes: u64,
    /// The variant fetched, for people ("1280x720, 2.1 Mbit/s, avc1.64001f").
    pub quality: Option<String>,
    /// The variants offered (a master playlist's, a DASH manifest's video representations),
    /// best first.
    pub variants: Vec<Variant>,
}

/// One variant a stream offers: how people read it, and the quality that chooses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    pub label: String,
    pub quality: Quality,
}

/// What an item is waiting for (see [`Event::Waiting`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waiting {
    /// Another process (another Haul, or `haul-cli`) is writing the `.part` that holds this
    /// item's bytes; the item goes on when that process lets go of it.
    PartInUse { part: PathBuf },
}

/// Where an item stands: the one status vocabulary, used on the wire (`haul-cli --json`),
/// in the window's saved queue and in every display (pueue's `TaskStatus` is the model).
/// Serialised in `snake_case`: `queued`, `connecting`, `running`, `paused`, `done`, `skipped`,
/// `failed`, `timed_out`, `cancelled`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Waiting for room under the caps.
    Queued,
    /// Left the queue; opening its source.
    Connecting,
    /// Bytes are flowing (or it waits to try again).
    Running,
    /// Stopped with its bytes kept; resuming continues from them.
    Paused,
    /// Verified and under its final name.
    Done,
    /// Already there and complete: not fetched again (see [`Output::skip_existing`]).
    Skipped,
    Failed,
    TimedOut,
    Cancelled,
}

impl Status {
    /// Every status, in the order a person reads them (filters, summaries).
    pub const ALL: [Status; 9] = [
        Status::Queued,
        Status::Connecting,
        Status::Running,
        Status::Paused,
        Status::Done,
        Status::Skipped,
        Status::Failed,
        Status::TimedOut,
        Status::Cancelled,
    ];

    /// Still waiting or working: it can be cancelled or paused.
    pub fn is_active(self) -> bool {
        matches!(self, Status::Queued | Status::Connecting | Status::Running)
    }

    /// Ended without a file: it can be retried (or, paused, resumed).
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            Status::Failed | Status::TimedOut | Status::Cancelled | Status::Paused
        )
    }
}

/// The serialised word (`timed_out`): the spelling lives in one place, the derive above.
impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(word)) => f.pad(&word),
            _ => Err(fmt::Error),
        }
    }
}

/// One file an item wrote: verified (length, and SHA-256 when one was asked for) and under
/// its final name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneFile {
    pub path: PathBuf,
    /// Its length in bytes.
    pub length: u64,
    pub sha256: Checksum,
}

/// The size of what an item wrote: its files' lengths together (`None` for no file). Not the
/// bytes received: a video stream's merged file is smaller or larger than its segments.
pub fn written(files: &[DoneFile]) -> Option<u64> {
    (!files.is_empty()).then(|| files.iter().map(|f| f.length).sum())
}

/// Where an item of these `files` is: the `folder` it made (a torrent of many files), else
/// its first, main file (`None` for no file).
pub fn item_path<'a>(files: &'a [DoneFile], folder: Option<&'a Path>) -> Option<&'a Path> {
    folder.or_else(|| files.first().map(|f| f.path.as_path()))
}

/// How an item ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Every file verified and renamed into place. An item is one or more files: one for a
    /// URL or a local copy; many for a torrent or a video's renditions. Never empty; the
    /// first is the item's main file (aria2's first `files` entry).
    Done {
        files: Vec<DoneFile>,
        /// The folder a torrent of many files made in the destination (`set`, `set (1)`):
        /// the item's path and its row's name. `None`: the item is its first file (a video's
        /// renditions lie beside it).
        folder: Option<PathBuf>,
    },
    Failed(FetchError),
    TimedOut(TimeoutKind),
    Cancelled,
    /// Stopped on request with its bytes kept: submitting the same source resumes it.
    Paused,
    /// The file at `path` was already there and complete (see [`Output::skip_existing`]).
    Skipped {
        path: PathBuf,
    },
}

impl Outcome {
    /// The status an item has once it ended this way.
    pub fn status(&self) -> Status {
        match self {
            Outcome::Done { .. } => Status::Done,
            Outcome::Failed(_) => Status::Failed,
            Outcome::TimedOut(_) => Status::TimedOut,
            Outcome::Cancelled => Status::Cancelled,
            Outcome::Paused => Status::Paused,
            Outcome::Skipped { .. } => Status::Skipped,
        }
    }

    /// The files a `Done` item wrote (none for any other outcome).
    pub fn files(&self) -> &[DoneFile] {
        match self {
            Outcome::Done { files, .. } => files,
            _ => &[],
        }
    }

    /// Where the item is: a `Done` item's folder (a torrent of many files) or first file, or
    /// what a `Skipped` one found already there.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Outcome::Done { files, folder } => item_path(files, folder.as_deref()),
            Outcome::Skipped { path } => Some(path),
            _ => None,
        }
    }

    /// A human sentence for any outcome that is not `Done` or `Skipped` (passwords in URLs
    /// redacted).
    pub fn error_text(&self) -> Option<String> {
        match self {
            Outcome::Done { .. } | Outcome::Skipped { .. } => None,
            Outcome::Failed(e) => Some(redact(&e.to_string()).into_owned()),
            Outcome::TimedOut(kind) => Some(kind.to_string()),
            Outcome::Cancelled => Some("cancelled".to_owned()),
            Outcome::Paused => Some("paused (run it again to resume)".to_owned()),
        }
    }
}
