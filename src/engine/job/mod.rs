//! One item, from leaving the queue to its single outcome.
//!
//! Owns: the item's life: the deadline, turning cancellation into a clean stop (or, when
//! paused, a stop that keeps the bytes), retries with backoff, resuming from a kept `.part`,
//! throttled progress events (at most one per [`PROGRESS_EVERY`]), the `Started` event, and
//! mapping the fetchers' stop reasons to an [`Outcome`]. Whatever the end, the `.part` is
//! either committed, kept with its sidecar (paused, failed or timed out with bytes worth
//! resuming, or a checksum mismatch) or removed before the outcome is reported.
//! Must not touch: queueing and caps (that is `scheduler`), how bytes are fetched (`fetch`).
//!
//! # Layout
//! - this file: the item's run, its tries and the single-stream and small-body paths.
//! - `kept`: parts kept on disk, files already there, cookies files.
//! - `segmented`: a split download inside the item.

mod kept;
mod segmented;

use kept::{complete_file, finish_part, kept_part, load_cookies, resumable_part, same_file_kept};
use segmented::{Split, split_download, strong_validator};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use url::Url;

use super::EventSink;
use super::fetch::http::{Body, RangeFrom, Sink};
use super::fetch::{Stop, file, http};
use super::limit::Rates;
use super::names::Names;
use super::output::{ChunkWriter, Committed, PartFile};
use super::resume::ResumeIndex;
use super::retry;
use super::split;
use super::stop::{StopReason, StopSignal};
use crate::protocol::{
    Checksum, Event, FetchError, ItemOptions, JobId, Limits, Outcome, Output, Source, TimeoutKind,
};

/// Progress events are sent at most this often per item.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);
/// How often a part that another process holds is looked at again.
const LOCK_POLL: Duration = Duration::from_millis(250);
/// Bodies of known length up to this size are read into memory and written in one go (no
/// checkpoint would have happened before this many bytes anyway).
const SMALL_BODY: u64 = 256 * 1024;

/// Everything one item needs to run.
pub(crate) struct Job {
    pub id: JobId,
    pub source: Source,
    pub sha256: Option<Checksum>,
    pub output: Arc<Output>,
    /// Its own name, connections, speed limit and request options.
    pub options: Arc<ItemOptions>,
    pub limits: Limits,
    pub client: http::HttpClient,
    pub names: Arc<Names>,
    pub resume: Arc<ResumeIndex>,
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
    fn cancelled(&self) -> bool {
        self.stop.reason() == Some(StopReason::Cancel)
    }
}

/// Shared between the fetch and the progress ticker.
#[derive(Default)]
struct Shared {
    received: AtomicU64,
    /// Set once the name and size are known; progress is only reported after that.
    total: OnceLock<Option<u64>>,
}

/// Runs the item and returns its `Finished` event.
pub(crate) async fn run(mut job: Job) -> Event {
    let span = tracing::info_span!("item", id = job.id.0, source = %job.source);
    if let Err(error) = load_cookies(&mut job).await {
        return Event::Finished {
            id: job.id,
            elapsed: Duration::ZERO,
            bytes: 0,
            outcome: Outcome::Failed(error),
        };
    }
    run_inner(job).instrument(span).await
}

async fn run_inner(job: Job) -> Event {
    let started = Instant::now();
    job.events.send(Event::Connecting { id: job.id });
    tracing::debug!("connecting");
    let shared = Arc::new(Shared::default());
    let stop = job.stop.token().clone();

    let work = fetch(&job, &stop, &shared);
    tokio::pin!(work);
    let deadline = async {
        match job.limits.deadline {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut ticker = tokio::time::interval(PROGRESS_EVERY);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut reported = 0;

    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            () = &mut deadline, if !job.stop.is_stopped() => {
                job.stop.stop(StopReason::Deadline); // the fetch keeps its bytes and returns
            }
            _ = ticker.tick() => {
                let done = shared.received.load(Ordering::Relaxed);
                if let Some(&total) = shared.total.get() && done != reported {
                    reported = done;
                    job.events.send(Event::Progress { id: job.id, done, total });
                }
            }
        }
    };

    let bytes = shared.received.load(Ordering::Relaxed);
    let outcome = match (result, job.stop.reason()) {
        (Ok(committed), _) => Outcome::Done {
            path: committed.path,
            sha256: committed.sha256,
        },
        (Err(Stop::Exists(path)), _) => Outcome::Skipped { path },
        (Err(_), Some(StopReason::Deadline)) => Outcome::TimedOut(TimeoutKind::Deadline),
        (Err(_), Some(StopReason::Pause)) => Outcome::Paused,
        (Err(_), Some(StopReason::Cancel)) => Outcome::Cancelled,
        (Err(Stop::Stopped), None) => Outcome::Cancelled,
        (Err(Stop::TimedOut(kind)), None) => Outcome::TimedOut(kind),
        (Err(Stop::Failed(e) | Stop::Busy(e, _)), None) => Outcome::Failed(e),
    };
    let elapsed = started.elapsed();
    match &outcome {
        Outcome::Done { path, .. } => {
            tracing::info!(bytes, ms = elapsed.as_millis() as u64, path = %path.display(), "done");
        }
        Outcome::Cancelled => tracing::info!(bytes, "cancelled"),
        Outcome::Skipped { path } => {
            tracing::info!(path = %path.display(), "skipped: already there");
        }
        Outcome::Paused => tracing::info!(bytes, "paused"),
        // An item that fails is an outcome reported to the user, not an engine fault.
        other => tracing::info!(
            bytes,
            error = other.error_text().unwrap_or_default(),
            "not done"
        ),
    }
    Event::Finished {
        id: job.id,
        elapsed,
        bytes,
        outcome,
    }
}

async fn fetch(
    job: &Job,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> Result<Committed, Stop> {
    match &job.source {
        Source::Url(url) => fetch_url(job, url, stop, shared).await,
        Source::File(path) => {
            let (names, dest, overwrite) = part_args(job);
            let (source_path, expect, max_size) = (path.clone(), job.sha256, job.limits.max_size);
            let (out, skip) = (job.options.out.clone(), job.output.skip_existing);
            let (mut opened, mut part) = blocking(move || {
                let mut opened = file::open(&source_path)?;
                if let Some(out) = out {
                    opened.name = out;
                }
                if skip
                    && let Some(path) = complete_file(&dest, &opened.name, Some(opened.len), expect)
                {
                    return Err(Stop::Exists(path));
                }
                if let Some(limit) = max_size
                    && opened.len > limit
                {
                    return Err(Stop::Failed(FetchError::TooLarge { limit }));
                }
                let mut part = PartFile::create(&names, &dest, &opened.name, overwrite)?;
                part.expect(expect);
                Ok((opened, part))
            })
            .await?;
            started(job, shared, part.file_name(), Some(opened.len));
            let (path, stop, shared) = (path.clone(), stop.clone(), Arc::clone(shared));
            blocking(move || {
                file::copy(&mut opened.file, &path, &mut part, &stop, &shared.received)?;
                // The bytes read up to end of file are the truth for a local file.
                part.commit(None).map_err(Stop::Failed)
            })
            .await
        }
    }
}

/// An HTTP item: resumes a kept `.part` if there is one, retries what is worth retrying
/// (each retry resuming from the bytes already written), and keeps or removes the `.part`
/// at the end.
async fn fetch_url(
    job: &Job,
    url: &Url,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> Result<Committed, Stop> {
    let key = url.as_str().to_owned();
    let mut part = kept_part(job, &key, stop).await;
    let mut attempt = 0;
    loop {
        let reason = match try_url(job, url, &key, &mut part, stop, shared).await {
            Ok(committed) => return Ok(committed),
            Err(reason) => reason,
        };
        let delay = match retry::delay(&job.limits, attempt, &reason) {
            Some(delay) if !stop.is_cancelled() => delay,
            _ => return Err(finish_part(job, &key, part, reason).await),
        };
        attempt += 1;
        let (why, cause) = retry::describe(&reason);
        tracing::info!(attempt, ?delay, reason = why, "retrying");
        job.events.send(Event::Retrying {
            id: job.id,
            attempt,
            of: job.limits.retries,
            delay,
            reason: why,
            cause,
        });
        tokio::select! {
            () = stop.cancelled() => {
                return Err(finish_part(job, &key, part, Stop::Stopped).await);
            }
            () = tokio::time::sleep(delay) => {}
        }
        // The next try is under way: no longer waiting for it.
        job.events.send(Event::Connecting { id: job.id });
    }
}

/// One try: asks for the rest (or the whole), streams it, commits. On failure the part (if
/// it survived) is left in `part` for the next try.
async fn try_url(
    job: &Job,
    url: &Url,
    key: &str,
    part: &mut Option<PartFile>,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> Result<Committed, Stop> {
    let naming = http::Naming {
        use_disposition: job.output.content_disposition,
        legacy_charset: job.output.legacy_charset.clone(),
        out: job.options.out.clone(),
    };
    let request = &job.options.request;
    let open = |range| http::open(&job.client, url, &job.limits, &naming, request, range, stop);
    // A split download kept from an earlier run goes on over several connections.
    let segmented = part
        .as_ref()
        .and_then(|p| p.sidecar())
        .and_then(|s| s.total.filter(|_| !s.segments.is_empty()));
    let mut fell_back = false;
    if let Some(total) = segmented
        && let Some(kept) = part.take()
    {
        let validator = kept
            .sidecar()
            .and_then(|s| s.validator().map(str::to_owned));
        let name = kept.file_name();
        match split_download(job, url, kept, total, validator, None, stop, shared, &name).await {
            Ok(Split::Done(committed)) => return Ok(committed),
            Ok(Split::Fallback(restarted)) => {
                *part = Some(*restarted);
                fell_back = true;
            }
            Err((reason, kept)) => {
                *part = kept;
                return Err(reason);
            }
        }
    }
    let range = part
        .as_ref()
        .filter(|p| p.written() > 0)
        .map(|p| RangeFrom {
            offset: p.written(),
            end: None,
            validator: p.sidecar().and_then(|s| s.validator().map(str::to_owned)),
            total: p.sidecar().and_then(|s| s.total),
        });
    // A new item that may be split asks for `bytes=0-`: a 206 says the server honours
    // ranges, with no extra request to find out.
    let may_split = part.is_none() && !fell_back && job.limits.split > 1;
    let probe = may_split.then_some(RangeFrom {
        offset: 0,
        end: None,
        validator: None,
        total: None,
    });
    let mut opened = open(range.as_ref().or(probe.as_ref())).await?;
    if job.output.skip_existing && part.is_none() {
        let (dest, name, total, expect) = (
            job.output.dest.clone(),
            opened.name.clone(),
            opened.total,
            job.sha256,
        );
        if let Some(path) = blocking(move || Ok(complete_file(&dest, &name, total, expect))).await?
        {
            return Err(Stop::Exists(path));
        }
    }
    if part.is_none()
        && let Some(adopted) = same_file_kept(job, key, &opened, stop).await
    {
        // The bytes kept under another URL are of this very file: go on from them.
        drop(opened);
        *part = Some(adopted);
        return Box::pin(try_url(job, url, key, part, stop, shared)).await;
    }
    if may_split && split::splittable(&opened, job.limits.split, job.limits.min_split_size) {
        let (names, dest, overwrite) = part_args(job);
        let (name, key) = (opened.name.clone(), key.to_owned());
        let mut fresh =
            blocking(move || Ok(resumable_part(&names, &dest, &name, overwrite, &key)?)).await?;
        let validator = strong_validator(opened.etag.as_deref(), opened.last_modified.as_deref());
        let total = opened.total.unwrap_or_default();
        fresh.set_origin(
            opened.etag.take(),
            opened.last_modified.take(),
            opened.total,
        );
        let name = fresh.file_name();
        let first = Some(opened.response);
        match split_download(
            job, url, fresh, total, validator, first, stop, shared, &name,
        )
        .await
        {
            Ok(Split::Done(committed)) => return Ok(committed),
            Ok(Split::Fallback(restarted)) => {
                *part = Some(*restarted);
                opened = open(None).await?;
            }
            Err((reason, kept)) => {
                *part = kept;
                return Err(reason);
            }
        }
    } else if probe.is_some() && opened.body == Body::Rest {
        // A 206 for the whole file (too small to split, or encoded): the whole file.
        opened.body = Body::Full;
    }
    if opened.body == Body::Mismatch {
        // The server's range does not fit our bytes: ask for the whole file instead.
        tracing::info!("range reply does not fit the kept bytes; starting over");
        drop(opened);
        opened = open(None).await?;
    }
    if let (Some(limit), Some(total)) = (job.limits.max_size, opened.total)
        && total > limit
    {
        return Err(Stop::Failed(FetchError::TooLarge { limit }));
    }
    if part.is_none()
        && opened.body == Body::Full
        && opened.total.is_some_and(|total| total <= SMALL_BODY)
    {
        return try_small(job, key, opened, part, stop, shared).await;
    }
    let mut current = match part.take() {
        Some(current) => current,
        None => {
            let (names, dest, overwrite) = part_args(job);
            let (name, key) = (opened.name.clone(), key.to_owned());
            blocking(move || Ok(resumable_part(&names, &dest, &name, overwrite, &key)?)).await?
        }
    };
    current.expect(job.sha256);
    current.mark_downloaded_from(url);
    let offset = match opened.body {
        Body::Rest | Body::Complete => current.written(),
        Body::Full | Body::Mismatch => 0,
    };
    if opened.body != Body::Complete {
        current.set_origin(
            opened.etag.take(),
            opened.last_modified.take(),
            opened.total,
        );
    }
    shared.received.store(offset, Ordering::Relaxed);
    started(job, shared, current.file_name(), opened.total);
    let restart = offset == 0 && current.written() > 0;
    let mut writer = ChunkWriter::spawn(current);
    if opened.body == Body::Complete {
        // 416 with our exact length: every byte is already here.
        return writer.commit(opened.total).await.map_err(Stop::Failed);
    }
    if restart {
        writer.restart().await.map_err(Stop::Failed)?;
    }
    let streamed = http::stream(
        opened.response,
        Sink::Writer(&mut writer),
        job.limits.stall_timeout,
        job.limits.max_size.map(|limit| (offset, limit)),
        &job.rates,
        stop,
        &shared.received,
    )
    .await;
    match streamed {
        Ok(_) => writer.commit(opened.total).await.map_err(Stop::Failed),
        Err(reason) => {
            // The writer hands the part back (or, after a write error, has removed it).
            *part = writer.into_part().await.ok();
            Err(reason)
        }
    }
}

/// A small body of known length (at most [`SMALL_BODY`]) with nothing kept for it: read into
/// memory, then created, written, verified and committed in one trip to the blocking pool,
/// instead of a writer task fed chunk by chunk (many small items are as fast as the network
/// allows). A body that stops part-way goes to a resumable `.part` with its sidecar, handed
/// back in `part`, exactly as a streamed one would be.
async fn try_small(
    job: &Job,
    key: &str,
    opened: http::Opened,
    part: &mut Option<PartFile>,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> Result<Committed, Stop> {
    let http::Opened {
        response,
        name,
        total,
        etag,
        last_modified,
        ..
    } = opened;
    let capacity = total.and_then(|t| usize::try_from(t).ok()).unwrap_or(0);
    let mut body = Vec::with_capacity(capacity);
    shared.received.store(0, Ordering::Relaxed);
    started(job, shared, name.clone(), total);
    let streamed = http::stream(
        response,
        Sink::Memory(&mut body),
        job.limits.stall_timeout,
        job.limits.max_size.map(|limit| (0, limit)),
        &job.rates,
        stop,
        &shared.received,
    )
    .await;
    let (names, dest, overwrite) = part_args(job);
    let expect = job.sha256;
    let origin = match &job.source {
        Source::Url(url) => Some(url.clone()),
        Source::File(_) => None,
    };
    match streamed {
        Ok(_) => {
            blocking(move || {
                let mut part = PartFile::create(&names, &dest, &name, overwrite)?;
                part.expect(expect);
                if let Some(url) = &origin {
                    part.mark_downloaded_from(url);
                }
                part.write(&body)?;
                part.commit(total).map_err(Stop::Failed)
            })
            .await
        }
        Err(reason) => {
            if !body.is_empty() {
                let key = key.to_owned();
                let kept = blocking(move || {
                    let mut part = resumable_part(&names, &dest, &name, overwrite, &key)?;
                    part.set_origin(etag, last_modified, total);
                    part.write(&body)?;
                    Ok(part)
                })
                .await;
                match kept {
                    Ok(kept) => *part = Some(kept),
                    Err(e) => tracing::warn!(error = ?e, "could not save the bytes received"),
                }
            }
            Err(reason)
        }
    }
}

fn started(job: &Job, shared: &Shared, name: String, total: Option<u64>) {
    let _ = shared.total.set(total);
    tracing::debug!(name, total, "started");
    job.events.send(Event::Started {
        id: job.id,
        name,
        total,
    });
}

fn part_args(job: &Job) -> (Arc<Names>, std::path::PathBuf, bool) {
    (
        Arc::clone(&job.names),
        job.output.dest.clone(),
        job.output.overwrite,
    )
}

/// Runs blocking file-system work off the async threads.
async fn blocking<T: Send + 'static>(
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
