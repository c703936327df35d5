//! What one item carries through its life, whatever its protocol: its context ([`Job`]), the
//! progress it shares with the ticker ([`Shared`]), and the bytes kept on disk for it (`kept`).
//!
//! Owns: the item's context and the protocol-neutral helpers every fetcher's attempt uses
//! (announcing the start, the arguments of a new `.part`, work on the blocking pool, reopening
//! or keeping a `.part`). It sits below both the item's life (`job`) and the fetchers
//! (`fetch::*`, `split`), so neither imports the other's insides.
//! Must not touch: the network, the retry policy, the outcome (that is `job`).

pub(crate) mod kept;

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::EventSink;
use super::fetch::{Stop, http};
use super::limit::Rates;
use super::names::Names;
use super::resume::ResumeIndex;
use super::stop::{StopReason, StopSignal};
use crate::protocol::{Checksum, Event, FetchError, ItemOptions, JobId, Limits, Output, Source};

/// Progress events are sent at most this often per item.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// How often a part that another process holds is looked at again.
pub(crate) const LOCK_POLL: Duration = Duration::from_millis(250);

/// Everything one item needs to run.
pub(crate) struct Job {
    pub id: JobId,
    pub source: Source,
    pub sha256: Option<Checksum>,
    pub output: Arc<Output>,
    /// Its own name, connections, speed limit and request options.
    pub options: Arc<ItemOptions>,
    pub limits: Limits,
    /// HTTP's connection pool (the shared one, or one built for the item's own trust); other
    /// protocols connect on their own.
    pub client: http::HttpClient,
    /// Certificates trusted for their host (FTPS checks with them and the item's own trust).
    pub host_pins: Arc<[crate::protocol::HostPin]>,
    pub names: Arc<Names>,
    pub resume: Arc<ResumeIndex>,
    /// The engine's BitTorrent client (torrents and magnet links share its port and peers).
    #[cfg_attr(not(feature = "torrent"), allow(dead_code))]
    pub torrents: Arc<super::fetch::torrent::Client>,
    pub events: EventSink,
    /// Whether and why to stop: cancelled or paused by the person, stopped by the item's
    /// deadline, or by the engine shutting down (cancel) or suspending (pause).
    pub stop: StopSignal,
    /// The speed limits its connections pay into: its own and the engine's.
    pub rates: Rates,
    /// Connections per host, for a split download's extra connections (`None` in tests that
    /// run a job alone).
    pub slots: Option<Arc<super::slots::HostSlots>>,
}

impl Job {
    /// Cancelled for good (not paused, not timed out): its bytes are not wanted.
    pub(crate) fn cancelled(&self) -> bool {
        self.stop.reason() == Some(StopReason::Cancel)
    }
}

/// Shared between the fetch and the progress ticker.
#[derive(Default)]
pub(crate) struct Shared {
    pub received: AtomicU64,
    /// Set once the name and size are known; progress is only reported after that.
    pub total: OnceLock<Option<u64>>,
    /// The folder the item made, set once its files are in it (a torrent of many files):
    /// its path in [`crate::protocol::Outcome::Done`].
    pub folder: OnceLock<std::path::PathBuf>,
}

/// The name and size are known and bytes are about to flow: says so, once, and whether the
/// bytes can be resumed from.
pub(crate) fn started(
    job: &Job,
    shared: &Shared,
    (name, total): (String, Option<u64>),
    resumable: bool,
) {
    let _ = shared.total.set(total);
    tracing::debug!(name, total, resumable, "started");
    going_on(&job.events, job.id, shared, (name, total), resumable);
}

/// Bytes flow (again, after a retry of one of the item's parts): the row runs, from the
/// bytes received so far.
pub(crate) fn going_on(
    events: &EventSink,
    id: JobId,
    shared: &Shared,
    (name, total): (String, Option<u64>),
    resumable: bool,
) {
    // Every fetcher stores what it resumes from before saying it started.
    let done = shared.received.load(std::sync::atomic::Ordering::Relaxed);
    events.send(Event::Started {
        id,
        name,
        total,
        done,
        resumable,
    });
}

/// A try failed (the item's, or one of its parts' — a stream's segment) and another follows
/// after `delay`: says so, as the row and the CLI show it ("retry 1/5 in 2s (why)").
pub(crate) fn retrying(
    events: &EventSink,
    id: JobId,
    (attempt, of): (u32, u32),
    delay: Duration,
    reason: &Stop,
) {
    let (why, cause) = crate::retry::describe(reason);
    tracing::info!(attempt, ?delay, reason = why, "retrying");
    events.send(Event::Retrying {
        id,
        attempt,
        of,
        delay,
        reason: why,
        cause,
    });
}

/// Refuses a file whose size is known, before any more of it is asked for or written, on
/// every path (a split download included), when it is over the item's size limit
/// (`--max-size`, the window's limit), or when the `total - have` bytes still to come do not
/// fit on the destination's disk ([`FetchError::NoSpace`]). A size learnt only as bytes
/// arrive is held to the limit by the stream, and a disk that fills meanwhile keeps the bytes.
pub(crate) async fn fits(job: &Job, total: Option<u64>, have: u64) -> Result<(), Stop> {
    let Some(total) = total else {
        return Ok(());
    };
    if let Some(limit) = job.limits.max_size
        && total > limit
    {
        return Err(Stop::Failed(FetchError::TooLarge { limit }));
    }
    let dest = job.output.dest.clone();
    blocking(move || Ok(crate::output::room_for(&dest, total, have)?)).await
}

/// What a new `.part` for this item needs: the names handed out, its folder, whether it may
/// replace a file.
pub(crate) fn part_args(job: &Job) -> (Arc<Names>, std::path::PathBuf, bool) {
    (
        Arc::clone(&job.names),
        job.output.dest.clone(),
        job.output.overwrite,
    )
}

/// Runs blocking file-system work off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Stop> + Send + 'static,
) -> Result<T, Stop> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Stop::Failed(internal(&e)))?
}

/// A task that panicked or was aborted, as the failure of its item.
pub(crate) fn internal(e: &tokio::task::JoinError) -> FetchError {
    FetchError::Request(format!("internal error: {e}"))
}
