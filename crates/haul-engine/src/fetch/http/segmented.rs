//! A split download inside one item: running it over several connections (`engine::split`),
//! reporting its ranges done (`Parts`) and its connections with their speeds (`Connections`),
//! and committing or keeping what it wrote.
//! Must not touch: which ranges each connection asks for (that is `engine::split`).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio_util::sync::CancellationToken;
use url::Url;

use crate::fetch::Stop;
use crate::item::{Job, PROGRESS_EVERY, Shared, blocking, started};
use crate::output::segments::Segments;
use crate::output::{Committed, PartFile};
use crate::protocol::{Event, FetchError};
use crate::split;

/// How a split download ended, when it did not fail.
pub(crate) enum Split {
    Done(Committed),
    /// A segment reply disagreed: the part, emptied, for one stream from scratch.
    Fallback(Box<PartFile>),
}

/// The validator to pin segments with: a strong ETag, else Last-Modified.
pub(crate) fn strong_validator(etag: Option<&str>, last_modified: Option<&str>) -> Option<String> {
    etag.filter(|tag| !tag.starts_with("W/"))
        .or(last_modified)
        .map(str::to_owned)
}

/// Runs `part` as a split download of `total` bytes (see `split`), then commits it. On a
/// failure the part comes back (its done ranges recorded) with the reason, to be kept or
/// retried like any other.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn split_download(
    job: &Job,
    url: &Url,
    mut part: PartFile,
    total: u64,
    validator: Option<String>,
    first: Option<reqwest::Response>,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
    name: &str,
) -> Result<Split, (Stop, Option<PartFile>)> {
    part.expect(job.sha256);
    part.mark_downloaded_from(url);
    let segments = match blocking(move || Ok(Segments::begin(part, total)?)).await {
        Ok(segments) => Arc::new(segments),
        Err(reason) => return Err((reason, None)),
    };
    let meters = Arc::new(split::Meters::default());
    let received = &meters.received;
    received.store(segments.done().len(), Ordering::Relaxed);
    shared
        .received
        .store(received.load(Ordering::Relaxed), Ordering::Relaxed);
    started(job, shared, (name.to_owned(), Some(total)), true);
    tracing::info!(total, "split download");
    // Progress: the connections count into their own counter, mirrored into the item's; the
    // ranges done and the connections open go out about twice a second for the window (the
    // connections also as soon as their number changes).
    let mirror = {
        let (meters, shared) = (Arc::clone(&meters), Arc::clone(shared));
        let (segments, events, id) = (Arc::clone(&segments), job.events.clone(), job.id);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(PROGRESS_EVERY);
            let mut sent = Vec::new();
            let mut open = 0;
            for n in 0u64.. {
                tick.tick().await;
                shared
                    .received
                    .store(meters.received.load(Ordering::Relaxed), Ordering::Relaxed);
                if n % 5 == 0 {
                    let done = segments.done().as_slice().to_vec();
                    if done != sent {
                        sent.clone_from(&done);
                        events.send(Event::Parts { id, done });
                    }
                }
                // Twice a second, and at once when a connection opens or ends.
                if n % 5 == 1 || meters.speeds.open() != open {
                    let speeds = meters.speeds.recent();
                    open = speeds.len();
                    events.send(Event::Connections { id, speeds });
                }
            }
        })
    };
    let ended = split::run(
        job,
        url,
        Arc::clone(&segments),
        validator,
        first,
        &meters,
        stop,
    )
    .await;
    mirror.abort();
    let _ = mirror.await; // its hold on the segments is gone before they are unwrapped
    shared
        .received
        .store(received.load(Ordering::Relaxed), Ordering::Relaxed);
    let Ok(segments) = Arc::try_unwrap(segments) else {
        return Err((
            Stop::Failed(FetchError::Request(
                "internal error: a connection outlived its download".to_owned(),
            )),
            None,
        ));
    };
    match ended {
        Ok(split::Ended::Done) => blocking(move || Ok(segments.finish()?))
            .await
            .map(Split::Done)
            .map_err(|reason| (reason, None)),
        Ok(split::Ended::Fallback) => {
            tracing::info!("a segment reply disagreed; starting over in one stream");
            job.events.send(Event::Connections {
                id: job.id,
                speeds: Vec::new(),
            });
            let restarted = blocking(move || {
                let mut part = segments.keep()?;
                part.restart()?;
                Ok(part)
            })
            .await;
            shared.received.store(0, Ordering::Relaxed);
            restarted
                .map(|part| Split::Fallback(Box::new(part)))
                .map_err(|reason| (reason, None))
        }
        Err(reason) => match blocking(move || Ok(segments.keep()?)).await {
            Ok(kept) => Err((reason, Some(kept))),
            Err(_) => Err((reason, None)),
        },
    }
}
