//! The one vocabulary shared by the engine and its front ends (the window and `haul-cli`).
//!
//! Owns: item identity ([`JobId`]), what to fetch ([`Source`], parsed once at the edge),
//! what front ends ask for ([`Command`]), what the engine reports ([`Event`]), where an item
//! stands ([`Status`]: the one status vocabulary of the wire, the saved queue and every
//! display), how an item ended ([`Outcome`], [`FetchError`], [`TimeoutKind`]), the knobs
//! ([`Limits`], [`Output`]) and how the engine wakes a front end ([`Waker`]).
//! Must not touch: I/O, tokio, egui. Every type here is plain data.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

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

/// What to fetch. Built only through [`Source::parse`], so an invalid source never reaches the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An `http://` or `https://` URL.
    Url(Url),
    /// A local file (from a plain path or a `file://` URL), made absolute.
    File(PathBuf),
}

/// Why a line could not become a [`Source`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum SourceError {
    #[error("empty source")]
    Empty,
    #[error("unsupported scheme '{0}'")]
    UnsupportedScheme(String),
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("URL has no host")]
    NoHost,
    #[error("file URL does not name a local path")]
    BadFileUrl,
    #[error("bad checksum '{0}': expected sha256= and 64 hex digits")]
    BadChecksum(String),
}

/// A SHA-256 digest: the one an item must match before it is renamed into place, and the
/// one a finished file has. Shown and serialised as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum(pub [u8; 32]);

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({self})")
    }
}

impl Serialize for Checksum {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Checksum {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Checksum::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("expected 64 hex digits (a SHA-256)"))
    }
}

impl Checksum {
    /// From 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Option<Checksum> {
        let text = text.trim();
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Checksum(out))
    }

    /// `sha256:HEX` (as `haul-cli --checksum` takes it) or `sha256=HEX` (a URL fragment).
    pub fn parse_tagged(text: &str) -> Result<Checksum, SourceError> {
        let hex = text
            .strip_prefix("sha256:")
            .or_else(|| text.strip_prefix("sha256="))
            .ok_or_else(|| SourceError::BadChecksum(text.to_owned()))?;
        Checksum::from_hex(hex).ok_or_else(|| SourceError::BadChecksum(text.to_owned()))
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl Source {
    /// Parses one user-given line: an http(s) URL, a `file://` URL or a local path.
    /// Relative paths are resolved against `base` (normally the current directory).
    /// A URL may end in `#sha256=HEX`: the fragment is checked and stripped here (take it
    /// with [`Source::parse_with_checksum`]).
    pub fn parse(input: &str, base: &Path) -> Result<Source, SourceError> {
        Source::parse_with_checksum(input, base).map(|(source, _)| source)
    }

    /// Like [`Source::parse`], also returning the checksum a `#sha256=HEX` fragment gives.
    pub fn parse_with_checksum(
        input: &str,
        base: &Path,
    ) -> Result<(Source, Option<Checksum>), SourceError> {
        let (source, fragment) = Source::parse_plain(input, base)?;
        match (source, fragment) {
            (Source::Url(mut url), Some(fragment)) if fragment.starts_with("sha256=") => {
                let checksum = Checksum::parse_tagged(&fragment)?;
                url.set_fragment(None);
                Ok((Source::Url(url), Some(checksum)))
            }
            (source, _) => Ok((source, None)),
        }
    }

    fn parse_plain(input: &str, base: &Path) -> Result<(Source, Option<String>), SourceError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(SourceError::Empty);
        }
        match scheme_of(text) {
            Some(scheme) => {
                let url = Url::parse(text).map_err(|e| SourceError::InvalidUrl(e.to_string()))?;
                match scheme.as_str() {
                    "http" | "https" => {
                        if url.host_str().is_none_or(str::is_empty) {
                            return Err(SourceError::NoHost);
                        }
                        let fragment = url.fragment().map(str::to_owned);
                        Ok((Source::Url(url), fragment))
                    }
                    "file" => url
                        .to_file_path()
                        .map(|path| (Source::File(path), None))
                        .map_err(|()| SourceError::BadFileUrl),
                    _ => Err(SourceError::UnsupportedScheme(scheme)),
                }
            }
            None if text.contains("://") => Err(SourceError::InvalidUrl(format!(
                "'{}' is not a valid scheme",
                text.split("://").next().unwrap_or_default()
            ))),
            None => {
                let path = Path::new(text);
                let path = if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    base.join(path)
                };
                Ok((Source::File(path), None))
            }
        }
    }

    /// The key that the per-host cap counts by; `None` for local files (only the global cap applies).
    pub fn host_key(&self) -> Option<String> {
        match self {
            Source::Url(url) => Some(format!(
                "{}:{}",
                url.host_str().unwrap_or_default(),
                url.port_or_known_default().unwrap_or_default()
            )),
            Source::File(_) => None,
        }
    }
}

/// For people and logs: a password in the URL is shown as `***` (see [`redact`]).
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Url(url) => f.write_str(&redact(url.as_str())),
            Source::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// The lowercased scheme of `text` if it starts like a URL (`scheme:`), else `None`.
/// A single letter followed by `:` is a Windows drive (`C:\x`), not a scheme.
fn scheme_of(text: &str) -> Option<String> {
    let colon = text.find(':')?;
    let scheme = &text[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (valid && scheme.len() > 1).then(|| scheme.to_ascii_lowercase())
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
    },
    /// Change caps and timeouts; running items keep their timeouts, the caps apply at once.
    SetLimits(Limits),
    /// Change where items submitted from now on are written.
    SetOutput(Output),
    /// Stop starting queued items (running ones go on) or start again.
    SetPaused(bool),
}

/// What the engine reports. For each submitted item: `Connecting`, then `Started` (once the
/// name and size are known), any number of `Progress`, and always exactly one `Finished`.
/// Items that end early (cancelled in the queue, failed to connect) skip the steps between.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The item left the queue and is connecting / opening its source.
    Connecting { id: JobId },
    /// The file's name and size are known and bytes are about to flow (into its `.part`).
    Started {
        id: JobId,
        name: String,
        total: Option<u64>,
    },
    /// At most about ten a second per item.
    Progress {
        id: JobId,
        done: u64,
        total: Option<u64>,
    },
    /// The item cannot go on yet, and says why (it goes on by itself once it can).
    Waiting { id: JobId, reason: Waiting },
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
            | Event::Finished { id, .. } => *id,
        }
    }
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
/// Serialised in `snake_case`: `queued`, `connecting`, `running`, `paused`, `done`, `failed`,
/// `timed_out`, `cancelled`.
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
    Failed,
    TimedOut,
    Cancelled,
}

impl Status {
    /// Every status, in the order a person reads them (filters, summaries).
    pub const ALL: [Status; 8] = [
        Status::Queued,
        Status::Connecting,
        Status::Running,
        Status::Paused,
        Status::Done,
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

/// How an item ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Verified and renamed into place.
    Done {
        path: PathBuf,
        sha256: Checksum,
    },
    Failed(FetchError),
    TimedOut(TimeoutKind),
    Cancelled,
    /// Stopped on request with its bytes kept: submitting the same source resumes it.
    Paused,
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
        }
    }

    /// A human sentence for any outcome that is not `Done` (passwords in URLs redacted).
    pub fn error_text(&self) -> Option<String> {
        match self {
            Outcome::Done { .. } => None,
            Outcome::Failed(e) => Some(redact(&e.to_string()).into_owned()),
            Outcome::TimedOut(kind) => Some(kind.to_string()),
            Outcome::Cancelled => Some("cancelled".to_owned()),
            Outcome::Paused => Some("paused (run it again to resume)".to_owned()),
        }
    }
}

/// Which of the three timeouts fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeoutKind {
    /// The connection could not be opened in time.
    Connect,
    /// No byte arrived (headers or body) for the stall timeout.
    Stall,
    /// The whole item took longer than its deadline.
    Deadline,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "timed out while connecting",
            TimeoutKind::Stall => "timed out: no data received within the stall timeout",
            TimeoutKind::Deadline => "timed out: the item's deadline passed",
        })
    }
}

/// Why a connection could not be opened, as far as the system says (for a person's sentence;
/// the details are in [`FetchError::Connect`]'s text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectProblem {
    /// The host answered that nothing listens there.
    Refused,
    /// The host name could not be resolved.
    NameNotResolved,
    /// No route to the host or its network.
    Unreachable,
    Other,
}

/// Why a file could not be written, from the system's error kind (not its message, which
/// may be in any language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiskProblem {
    /// No space left on the disk (or over a quota).
    Full,
    /// Not allowed to write there.
    NoPermission,
    /// A read-only disk.
    ReadOnly,
    /// Something that is not a folder stands where a folder must be.
    NotAFolder,
    /// The file is in use by another program (Windows: open elsewhere), or the name is taken.
    InUse,
    Other,
}

impl DiskProblem {
    /// The problem an I/O error kind names.
    pub fn of(kind: std::io::ErrorKind) -> DiskProblem {
        use std::io::ErrorKind as K;
        match kind {
            K::StorageFull | K::QuotaExceeded | K::FileTooLarge => DiskProblem::Full,
            K::PermissionDenied => DiskProblem::NoPermission,
            K::ReadOnlyFilesystem => DiskProblem::ReadOnly,
            K::NotADirectory | K::IsADirectory | K::AlreadyExists => DiskProblem::NotAFolder,
            K::ResourceBusy | K::ExecutableFileBusy => DiskProblem::InUse,
            _ => DiskProblem::Other,
        }
    }
}

/// Why an item failed. Details are kept as text so events stay `Clone` and comparable, and
/// every variant is serde-able so a window can keep the reason across restarts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum FetchError {
    #[error("invalid source '{input}': {reason}")]
    InvalidSource { input: String, reason: SourceError },
    #[error("could not connect: {detail}")]
    Connect {
        problem: ConnectProblem,
        detail: String,
    },
    #[error("TLS error: {0}")]
    Tls(String),
    #[error("server replied {status}{}", reason_suffix(.reason))]
    HttpStatus { status: u16, reason: String },
    #[error("redirect refused: {0}")]
    Redirect(String),
    /// The connection ended before a reply began (a stale keep-alive connection, an empty
    /// reply, a reset before the headers): safe to send the GET again.
    #[error("the connection closed before the server replied: {0}")]
    Dropped(String),
    /// The reply does not hold what was asked for (RFC 9110 §14–15): e.g. part of a file
    /// when all of it was asked for.
    #[error("the reply does not match the request: {0}")]
    ReplyMismatch(String),
    /// The body is in a transfer coding that cannot be decoded (RFC 9112 §6.1).
    #[error("the server sent the body in a transfer coding Haul cannot decode ({0})")]
    TransferCoding(String),
    #[error("transfer broke off: {0}")]
    Body(String),
    #[error("body too short: expected {expected} bytes, received {received}")]
    ShortBody { expected: u64, received: u64 },
    #[error("body too long: expected {expected} bytes, received more")]
    LongBody { expected: u64 },
    #[error("request failed: {0}")]
    Request(String),
    #[error("source not found: {0}")]
    NotFound(PathBuf),
    #[error("not a regular file ({kind}): {path}")]
    NotAFile { path: PathBuf, kind: String },
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write {path}: {message}")]
    Write {
        path: PathBuf,
        message: String,
        problem: DiskProblem,
    },
    #[error("sha256 mismatch: expected {expected}, got {actual} (the bytes stay in {part})")]
    Checksum {
        expected: String,
        actual: String,
        part: PathBuf,
    },
    #[error("larger than the size limit of {limit} bytes")]
    TooLarge { limit: u64 },
}

/// `text` with the password of every `scheme://user:password@host` in it shown as `***`
/// (`https://ann:***@host/x`): what the window, notices, logs and error texts show of a URL
/// with credentials. The user name stays, so a person can tell which account it is.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("://") || !text.contains('@') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@').and_then(|at| {
            let userinfo = &authority[..at];
            userinfo.find(':').map(|colon| (colon, at))
        }) {
            Some((colon, at)) => {
                out.push_str(&authority[..=colon]);
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Lower-case hex of a digest, as shown to people and in `--json`.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" {reason}")
    }
}
