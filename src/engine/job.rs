//! One item, from leaving the queue to its single outcome.
//!
//! Owns: the item's life: the deadline, turning cancellation into a clean stop, throttled
//! progress events (at most one per [`PROGRESS_EVERY`]), the `Started` event, and mapping the
//! fetchers' stop reasons to an [`Outcome`]. The fetch always finishes its own cleanup (the
//! `.part` is gone) before the outcome is reported.
//! Must not touch: queueing and caps (that is `scheduler`), how bytes are fetched (`fetch`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::EventSink;
use super::fetch::{Stop, file, http};
use super::output::{ChunkWriter, Committed, Names, PartFile};
use crate::protocol::{Event, FetchError, JobId, Limits, Outcome, Output, Source, TimeoutKind};

/// Progress events are sent at most this often per item.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Everything one item needs to run.
pub(crate) struct Job {
    pub id: JobId,
    pub source: Source,
    pub output: Arc<Output>,
    pub limits: Limits,
    pub client: reqwest::Client,
    pub names: Arc<Names>,
    pub events: EventSink,
    /// Cancelled when the user cancels this item or the engine shuts down.
    pub cancel: CancellationToken,
}

/// Shared between the fetch and the progress ticker.
#[derive(Default)]
struct Shared {
    received: AtomicU64,
    /// Set once the name and size are known; progress is only reported after that.
    total: OnceLock<Option<u64>>,
}

/// Runs the item and returns its `Finished` event.
pub(crate) async fn run(job: Job) -> Event {
    let span = tracing::info_span!("item", id = job.id.0, source = %job.source);
    run_inner(job).instrument(span).await
}

async fn run_inner(job: Job) -> Event {
    let started = Instant::now();
    job.events.send(Event::Connecting { id: job.id });
    tracing::debug!("connecting");
    let shared = Arc::new(Shared::default());
    let stop = job.cancel.child_token();

    let work = fetch(&job, &stop, &shared);
    tokio::pin!(work);
    let deadline = async {
        match job.limits.deadline {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(deadline);
    let mut deadline_hit = false;
    let mut ticker = tokio::time::interval(PROGRESS_EVERY);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut reported = 0;

    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            () = &mut deadline, if !deadline_hit => {
                deadline_hit = true;
                stop.cancel(); // the fetch cleans up and returns
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
    let outcome = match result {
        Ok(committed) => Outcome::Done {
            path: committed.path,
            sha256: committed.sha256,
        },
        Err(_) if deadline_hit => Outcome::TimedOut(TimeoutKind::Deadline),
        Err(_) if job.cancel.is_cancelled() => Outcome::Cancelled,
        Err(Stop::Stopped) => Outcome::Cancelled,
        Err(Stop::TimedOut(kind)) => Outcome::TimedOut(kind),
        Err(Stop::Failed(e)) => Outcome::Failed(e),
    };
    let elapsed = started.elapsed();
    match &outcome {
        Outcome::Done { path, .. } => {
            tracing::info!(bytes, ms = elapsed.as_millis() as u64, path = %path.display(), "done");
        }
        Outcome::Cancelled => tracing::info!(bytes, "cancelled"),
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
        Source::Url(url) => {
            let opened = http::open(
                &job.client,
                url,
                &job.limits,
                job.output.content_disposition,
                stop,
            )
            .await?;
            let part = create_part(job, opened.name).await?;
            started(job, shared, part.file_name(), opened.total);
            let mut writer = ChunkWriter::spawn(part);
            let streamed = http::stream(
                opened.response,
                &mut writer,
                job.limits.stall_timeout,
                stop,
                &shared.received,
            )
            .await;
            match streamed {
                Ok(_) => writer.commit(opened.total).await.map_err(Stop::Failed),
                Err(reason) => {
                    writer.abort().await;
                    Err(reason)
                }
            }
        }
        Source::File(path) => {
            let (names, dest, overwrite) = part_args(job);
            let source_path = path.clone();
            let (mut opened, mut part) = blocking(move || {
                let opened = file::open(&source_path)?;
                let part = PartFile::create(&names, &dest, &opened.name, overwrite)?;
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

async fn create_part(job: &Job, name: String) -> Result<PartFile, Stop> {
    let (names, dest, overwrite) = part_args(job);
    blocking(move || PartFile::create(&names, &dest, &name, overwrite).map_err(Stop::Failed)).await
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
