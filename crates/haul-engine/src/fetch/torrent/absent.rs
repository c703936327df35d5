//! BitTorrent when Haul is built without the `torrent` feature: magnet links fail with a
//! sentence that says so, and `.torrent` files are copied as files.
//!
//! Owns: that refusal. Must not touch: anything else (`mod.rs` is the real one).

use std::path::Path;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{Attempt, Fetcher, Files, PartFile, Stop, Try};
use crate::item::{Job, Shared};
use crate::protocol::FetchError;

/// No BitTorrent client in this build.
#[derive(Default)]
pub(crate) struct Client;

/// Magnet links: refused.
pub(crate) struct Torrent;

impl Fetcher for Torrent {
    fn attempt<'a>(&'a self, _at: &'a Try<'a>, _part: &'a mut Option<PartFile>) -> Attempt<'a> {
        Box::pin(async { Err(Stop::Failed(missing())) })
    }
}

/// Never: without BitTorrent a `.torrent` file is a file like any other.
pub(crate) fn is_torrent_file(_path: &Path) -> bool {
    false
}

/// Nothing kept: every source's bytes are the resume store's.
pub(crate) fn discard(
    _dest: &Path,
    _source: &crate::protocol::Source,
    _known: Option<[u8; 20]>,
) -> bool {
    false
}

/// Never called (see [`is_torrent_file`]).
pub(crate) async fn from_file(
    _job: &Job,
    _path: &Path,
    _stop: &CancellationToken,
    _shared: &Arc<Shared>,
) -> Result<Files, Stop> {
    Err(Stop::Failed(missing()))
}

fn missing() -> FetchError {
    FetchError::Torrent(
        "this build of Haul has no BitTorrent (it was built without the `torrent` feature)"
            .to_owned(),
    )
}
