//! The one vocabulary shared by the engine and its front ends (the window and `haul-cli`).
//!
//! Owns: item identity ([`JobId`]), what to fetch ([`Source`], parsed once at the edge),
//! what front ends ask for ([`Command`]), what the engine reports ([`Event`]), how an item
//! ended ([`Outcome`], [`FetchError`], [`TimeoutKind`]) and the knobs ([`Limits`], [`Output`]).
//! Must not touch: I/O, tokio, egui. Every type here is plain data.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
}

impl Source {
    /// Parses one user-given line: an http(s) URL, a `file://` URL or a local path.
    /// Relative paths are resolved against `base` (normally the current directory).
    pub fn parse(input: &str, base: &Path) -> Result<Source, SourceError> {
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
                        Ok(Source::Url(url))
                    }
                    "file" => url
                        .to_file_path()
                        .map(Source::File)
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
                Ok(Source::File(if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    base.join(path)
                }))
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

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Url(url) => f.write_str(url.as_str()),
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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            jobs: 8,
            per_host: 4,
            connect_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(30),
            deadline: None,
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
}

impl Default for Output {
    fn default() -> Self {
        Output {
            dest: PathBuf::from("."),
            overwrite: false,
            content_disposition: true,
        }
    }
}

/// What a front end asks of the engine. Sending never blocks.
#[derive(Debug, Clone)]
pub enum Command {
    /// Queue one item; exactly one [`Event::Finished`] will follow for `id`.
    Submit { id: JobId, source: Source },
    /// Cancel one item, queued or running.
    Cancel(JobId),
    /// Cancel every queued and running item.
    CancelAll,
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
    /// Bytes are about to flow into `path`'s `.part` file.
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
            | Event::Finished { id, .. } => *id,
        }
    }
}

/// How an item ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Verified and renamed into place.
    Done {
        path: PathBuf,
        sha256: [u8; 32],
    },
    Failed(FetchError),
    TimedOut(TimeoutKind),
    Cancelled,
}

impl Outcome {
    /// The stable lower-case word for this outcome, as used in `--json` output.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Done { .. } => "done",
            Outcome::Failed(_) => "failed",
            Outcome::TimedOut(_) => "timed_out",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// A human sentence for any outcome that is not `Done`.
    pub fn error_text(&self) -> Option<String> {
        match self {
            Outcome::Done { .. } => None,
            Outcome::Failed(e) => Some(e.to_string()),
            Outcome::TimedOut(kind) => Some(kind.to_string()),
            Outcome::Cancelled => Some("cancelled".to_owned()),
        }
    }
}

/// Which of the three timeouts fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Why an item failed. Details are kept as text so events stay `Clone` and comparable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("invalid source '{input}': {reason}")]
    InvalidSource { input: String, reason: SourceError },
    #[error("could not connect: {0}")]
    Connect(String),
    #[error("TLS error: {0}")]
    Tls(String),
    #[error("server replied {status}{}", reason_suffix(.reason))]
    HttpStatus { status: u16, reason: String },
    #[error("redirect refused: {0}")]
    Redirect(String),
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
    NotAFile { path: PathBuf, kind: &'static str },
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write {path}: {message}")]
    Write { path: PathBuf, message: String },
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Source, SourceError> {
        Source::parse(s, Path::new("/base"))
    }

    #[test]
    fn parses_urls_paths_and_rejects_other_schemes() {
        assert!(matches!(
            parse("https://example.org/a.bin"),
            Ok(Source::Url(_))
        ));
        assert!(matches!(
            parse("  HTTP://example.org/ "),
            Ok(Source::Url(_))
        ));
        assert_eq!(
            parse("file:///tmp/x.txt"),
            Ok(Source::File(PathBuf::from("/tmp/x.txt")))
        );
        assert_eq!(
            parse("rel/x.txt"),
            Ok(Source::File(PathBuf::from("/base/rel/x.txt")))
        );
        assert_eq!(
            parse("/abs/中文.txt"),
            Ok(Source::File(PathBuf::from("/abs/中文.txt")))
        );
        assert_eq!(
            parse("ftp://h/x"),
            Err(SourceError::UnsupportedScheme("ftp".into()))
        );
        assert_eq!(parse("   "), Err(SourceError::Empty));
        assert!(matches!(parse("http://"), Err(SourceError::InvalidUrl(_))));
        assert!(matches!(
            parse("http://exa mple.org/"),
            Err(SourceError::InvalidUrl(_))
        ));
    }

    #[test]
    fn a_drive_letter_is_a_path_not_a_scheme() {
        assert!(matches!(parse(r"C:\Users\x.txt"), Ok(Source::File(_))));
    }

    #[test]
    fn host_key_includes_the_port() {
        let a = parse("http://h:8080/a").ok().and_then(|s| s.host_key());
        let b = parse("https://h/a").ok().and_then(|s| s.host_key());
        assert_eq!(a.as_deref(), Some("h:8080"));
        assert_eq!(b.as_deref(), Some("h:443"));
        assert_eq!(parse("/x").ok().and_then(|s| s.host_key()), None);
    }
}
