//! HTTP's attempt at an item (the [`Fetcher`] for `http` and `https`): a kept `.part`
//! resumed with `Range` and `If-Range`, a split over several connections when the server
//! honours ranges (`segmented`, then `engine::split`), bytes kept for another link to the same
//! file adopted, a small body written in one go.
//! Must not touch: retries, deadlines, outcomes (the item's life, `job`); what a reply means
//! (`reply`, [`open`](super::open)).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio_util::sync::CancellationToken;
use url::Url;

use super::segmented::{Split, split_download, strong_validator};
use super::{Body, RangeFrom, Sink};
use crate::fetch::{Attempt, Fetcher, Files, Stop, Try, stream};
use crate::item::kept::{resumable_part, same_file_kept, skip_if_there};
use crate::item::{Job, Shared, blocking, fits, part_args, started};
use crate::output::{ChunkWriter, Committed, PartFile};
use crate::protocol::{FetchError, Source};
use crate::{fetch::http, split};

/// Bodies of known length up to this size are read into memory and written in one go (no
/// checkpoint would have happened before this many bytes anyway).
const SMALL_BODY: u64 = 256 * 1024;

/// The fetcher of `http` and `https` URLs (its connections are the item's shared client).
pub(crate) struct Http;

impl Fetcher for Http {
    fn attempt<'a>(&'a self, at: &'a Try<'a>, part: &'a mut Option<PartFile>) -> Attempt<'a> {
        Box::pin(async move {
            let tried = try_url(at.job, at.url, at.key, part, at.stop, at.shared).await;
            // A chunked body hyper cannot frame (a bare LF ending a chunk-size line, which
            // curl and wget2 accept): asked again at once in HTTP/1.0, whose reply carries no
            // chunks, as is every later request to that host. Once: a server that frames
            // an HTTP/1.0 reply so too fails with the reason.
            if let Err(Stop::Failed(FetchError::Body(text))) = &tried
                && http::is_chunk_framing(text)
                && at.job.client.prefer_http10(at.url)
            {
                return try_url(at.job, at.url, at.key, part, at.stop, at.shared).await;
            }
            tried
        })
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
) -> Result<Files, Stop> {
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
    if let Some(total) = segmented {
        fits(
            job,
            Some(total),
            part.as_ref().map_or(0, PartFile::kept_bytes),
        )
        .await?;
    }
    if let Some(total) = segmented
        && let Some(kept) = part.take()
    {
        let validator = kept
            .sidecar()
            .and_then(|s| s.validator().map(str::to_owned));
        let name = kept.file_name();
        match split_download(job, url, kept, total, validator, None, stop, shared, &name).await {
            Ok(Split::Done(committed)) => return Ok(vec![committed]),
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
    if let Some(kind) = stream::is_stream(&opened) {
        // A video stream's playlist: its segments are fetched and merged into one file.
        return stream::run(job, key, opened, kind, stop, shared).await;
    }
    // Whether a `Range` was asked and answered with the rest (else `Accept-Ranges` says).
    let mut ranges = Ranges {
        asked: range.is_some() || probe.is_some(),
        answered: matches!(opened.body, Body::Rest | Body::Complete),
    };
    // Before the first byte is written, on every path (a split download included).
    fits(job, opened.total, resumed_bytes(part, &opened)).await?;
    if part.is_none() {
        skip_if_there(job, &opened.name, opened.total).await?;
    }
    let described = (
        opened.name.as_str(),
        opened.total,
        strong_validator(opened.etag.as_deref(), opened.last_modified.as_deref()),
    );
    if part.is_none()
        && let Some(adopted) = same_file_kept(job, key, described, stop).await
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
            Ok(Split::Done(committed)) => return Ok(vec![committed]),
            Ok(Split::Fallback(restarted)) => {
                *part = Some(*restarted);
                opened = open(None).await?;
                ranges = Ranges::default();
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
        ranges = Ranges::default();
    }
    fits(job, opened.total, resumed_bytes(part, &opened)).await?;
    let resumable = ranges.answered || (!ranges.asked && accepts_ranges(&opened));
    if part.is_none()
        && opened.body == Body::Full
        && opened.total.is_some_and(|total| total <= SMALL_BODY)
    {
        return try_small(job, key, (opened, resumable), part, stop, shared)
            .await
            .map(|c| vec![c]);
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
    started(job, shared, (current.file_name(), opened.total), resumable);
    let restart = offset == 0 && current.written() > 0;
    let mut writer = ChunkWriter::spawn(current);
    if opened.body == Body::Complete {
        // 416 with our exact length: every byte is already here.
        return writer
            .commit(opened.total)
            .await
            .map(|c| vec![c])
            .map_err(Stop::Failed);
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
        Ok(_) => writer
            .commit(opened.total)
            .await
            .map(|c| vec![c])
            .map_err(Stop::Failed),
        Err(reason) => {
            // The writer hands the part back (or, after a write error, has removed it).
            *part = writer.into_part().await.ok();
            Err(reason)
        }
    }
}

/// Whether the server would send the rest of this file after a pause (`Started`'s
/// `resumable`): it answered a `Range` with the rest, or, asked for the whole, it says
/// `Accept-Ranges: bytes`. A `200` to a `Range` means it ignores them.
#[derive(Default)]
struct Ranges {
    asked: bool,
    answered: bool,
}

fn accepts_ranges(opened: &http::Opened) -> bool {
    let values = opened
        .response
        .headers()
        .get_all(reqwest::header::ACCEPT_RANGES);
    values
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.eq_ignore_ascii_case("bytes")))
}

/// The bytes kept in `part` that `opened` goes on from (none unless it is the rest).
fn resumed_bytes(part: &Option<PartFile>, opened: &http::Opened) -> u64 {
    match (part, &opened.body) {
        (Some(part), Body::Rest | Body::Complete) => part.written(),
        _ => 0,
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
    (opened, resumable): (http::Opened, bool),
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
    started(job, shared, (name.clone(), total), resumable);
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
