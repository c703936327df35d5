//! Fetchers: one module per protocol, and the registry that picks one for a URL.
//!
//! Owns: getting bytes from a source into a `.part`. A [`Fetcher`] makes one attempt at a
//! URL of its protocol: it opens the source, resumes the kept `.part` it is handed when the
//! source still is the same file, streams into it under the item's speed limit and stall
//! timeout, and commits through `output` (verified length and checksum, no-clobber name).
//! [`fetcher`] maps each [`Protocol`] of the scheme table (`protocol::SCHEMES`) to its fetcher;
//! the match is exhaustive, so a protocol added to the table without a fetcher does not build.
//! `http` talks to web servers (and splits over several connections through `split`), `ftp`
//! to FTP servers (suppaftp), `torrent` to BitTorrent swarms (librqbit; many files), `file`
//! reads local files on the blocking pool; `trust` checks HTTPS and FTPS servers' certificates.
//! A video stream (HLS, DASH) is an http(s) URL, so it has no fetcher of its own: HTTP's
//! attempt hands a playlist it opened to `stream`.
//! Must not touch: retries, deadlines, outcomes and events other than `Started`/`Parts`/
//! `Connections`/`Waiting` (the item's life, `job`, owns them); channels; scheduling.

pub mod file;
mod ftp;
pub mod http;
mod stream;
#[cfg(feature = "torrent")]
pub(crate) mod torrent;
#[cfg(not(feature = "torrent"))]
#[path = "torrent/absent.rs"]
pub(crate) mod torrent;
pub(crate) mod trust;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use url::Url;

use super::item::{Job, Shared};
use super::output::{Committed, PartFile};
use crate::protocol::{FetchError, Protocol, TimeoutKind};

/// Why a fetch ended early.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The stop token was cancelled (by the user, the deadline, or shutdown); the job layer
    /// knows which.
    Stopped,
    TimedOut(TimeoutKind),
    Failed(FetchError),
    /// The server is busy (429 / 503) and said when to ask again.
    Busy(FetchError, std::time::Duration),
    /// The file is already there and complete (`Output::skip_existing`): nothing to fetch.
    Exists(std::path::PathBuf),
}

impl From<FetchError> for Stop {
    fn from(e: FetchError) -> Self {
        Stop::Failed(e)
    }
}

/// One attempt's own future (boxed: the registry hands out fetchers as trait objects).
pub(crate) type Attempt<'a> = Pin<Box<dyn Future<Output = Result<Files, Stop>> + Send + 'a>>;

/// What an attempt committed: one file for most protocols, a torrent's chosen files (the
/// first is the main one).
pub(crate) type Files = Vec<Committed>;

/// What an attempt is about: the item, its URL, the key its kept bytes are filed under, its
/// stop token and the progress it shares with the ticker.
pub(crate) struct Try<'a> {
    pub job: &'a Job,
    pub url: &'a Url,
    /// The source as the resume index files it (the URL's text).
    pub key: &'a str,
    pub stop: &'a CancellationToken,
    pub shared: &'a Arc<Shared>,
}

/// One protocol's way to fetch a URL (Gopeed's `Fetcher` is the model; ours is one attempt,
/// the item's life around it is the same for every protocol).
pub(crate) trait Fetcher: Sync {
    /// One attempt: fetches `at.url` into a `.part` and commits it (a torrent: its files). `part` holds bytes kept
    /// from an earlier attempt or run (with their sidecar); the attempt resumes them only when
    /// the source still is the same file, else starts over. On failure, what survives stays
    /// in `part` (the item's life keeps it for resuming or removes it). Calls
    /// [`started`](super::item::started) once the name and size are known, and returns soon
    /// after `at.stop` is cancelled.
    fn attempt<'a>(&'a self, at: &'a Try<'a>, part: &'a mut Option<PartFile>) -> Attempt<'a>;
}

/// The fetcher for a protocol of the scheme table.
pub(crate) fn fetcher(protocol: Protocol) -> &'static dyn Fetcher {
    match protocol {
        Protocol::Http => &http::Http,
        Protocol::Ftp => &ftp::Ftp,
        Protocol::Torrent => &torrent::Torrent,
    }
}
