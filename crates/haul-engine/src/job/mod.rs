//! One item, from leaving the queue to its single outcome, whatever its protocol.
//!
//! Owns: the item's life: the deadline, turning cancellation into a clean stop (or, when
//! paused, a stop that keeps the bytes), retries with backoff, reopening a kept `.part`
//! before the first attempt, throttled progress events (at most one per [`PROGRESS_EVERY`]),
//! and mapping the fetchers' stop reasons to an [`Outcome`]. Whatever the end, the `.part` is
//! either committed, kept with its sidecar (paused, failed or timed out with bytes worth
//! resuming, or a checksum mismatch) or removed before the outcome is reported.
//! Each attempt at a URL is its protocol's [`Fetcher`](super::fetch::Fetcher), picked from
//! the registry by the URL's scheme; a local file is copied here.
//! Must not touch: queueing and caps (that is `scheduler`), how bytes are fetched (`fetch`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use url::Url;

use super::fetch::{self, Files, Stop, Try, file};
use super::item::kept::{complete_file, finish_part, kept_part, load_cookies};
use super::item::{Job, PROGRESS_EVERY, Shared, blocking, part_args, retrying, started};
use super::output::PartFile;
use super::retry;
use super::stop::StopReason;
use crate::protocol::{DoneFile, Event, FetchError, Outcome, Source, TimeoutKind};

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
            files: committed.into_iter().map(DoneFile::from).collect(),
            folder: shared.folder.get().cloned(),
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
        Outcome::Done { files, .. } => {
            for file in files {
                tracing::info!(bytes = file.length, ms = elapsed.as_millis() as u64, path = %file.path.display(), "done");
            }
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

async fn fetch(job: &Job, stop: &CancellationToken, shared: &Arc<Shared>) -> Result<Files, Stop> {
    match &job.source {
        Source::Url(url) => {
            let Some(scheme) = job.source.scheme() else {
                // Source::parse lets no other scheme through.
                return Err(Stop::Failed(FetchError::Request(format!(
                    "no fetcher for '{}' URLs",
                    url.scheme()
                ))));
            };
            let files = fetch_url(job, fetch::fetcher(scheme.protocol), url, stop, shared).await?;
            // A web link whose reply is a `.torrent` (by its name, which the reply's type
            // gave when the URL did not): kept, and the torrent it describes fetched.
            match files.as_slice() {
                [one]
                    if !job.options.torrent.no_follow
                        && fetch::torrent::is_torrent_file(&one.path) =>
                {
                    let path = one.path.clone();
                    fetch::torrent::from_file(job, &path, stop, shared).await
                }
                _ => Ok(files),
            }
        }
        Source::File(path)
            if !job.options.torrent.no_follow && fetch::torrent::is_torrent_file(path) =>
        {
            fetch::torrent::from_file(job, path, stop, shared).await
        }
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
                crate::output::room_for(&dest, opened.len, 0)?;
                let mut part = PartFile::create(&names, &dest, &opened.name, overwrite)?;
                part.expect(expect);
                Ok((opened, part))
            })
            .await?;
            // A local copy keeps no sidecar: a paused one starts over (it is quick to redo).
            started(job, shared, (part.file_name(), Some(opened.len)), false);
            let (path, stop, shared) = (path.clone(), stop.clone(), Arc::clone(shared));
            blocking(move || {
                file::copy(&mut opened.file, &path, &mut part, &stop, &shared.received)?;
                // The bytes read up to end of file are the truth for a local file.
                part.commit(None).map_err(Stop::Failed)
            })
            .await
            .map(|c| vec![c])
        }
    }
}

/// A URL item, whatever its protocol: reopens a kept `.part` if there is one, makes attempts
/// with its protocol's fetcher, retries what is worth retrying (each retry resuming from the
/// bytes already written), and keeps or removes the `.part` at the end.
async fn fetch_url(
    job: &Job,
    fetcher: &dyn fetch::Fetcher,
    url: &Url,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> Result<Files, Stop> {
    let key = url.as_str().to_owned();
    let mut part = kept_part(job, &key, stop).await;
    let at = Try {
        job,
        url,
        key: &key,
        stop,
        shared,
    };
    let mut attempt = 0;
    loop {
        let reason = match fetcher.attempt(&at, &mut part).await {
            Ok(committed) => return Ok(committed),
            Err(reason) => reason,
        };
        let delay = match retry::delay(&job.limits, attempt, &reason) {
            Some(delay) if !stop.is_cancelled() => delay,
            _ => return Err(finish_part(job, &key, part, reason).await),
        };
        attempt += 1;
        retrying(
            &job.events,
            job.id,
            (attempt, job.limits.retries),
            delay,
            &reason,
        );
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
