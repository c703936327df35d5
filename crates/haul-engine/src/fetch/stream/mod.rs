//! Video streams: an HLS playlist or a DASH manifest saved as one playable file.
//!
//! Owns: recognising a stream, reading its playlists, fetching its segments and merging them.
//! A stream is an http(s) URL, so it is no protocol of the scheme table and no fetcher of the
//! registry: HTTP's attempt hands its reply here ([`is_stream`]) when the reply's
//! `Content-Type` says HLS (`application/vnd.apple.mpegurl`, `application/x-mpegURL`) or DASH
//! (`application/dash+xml`), or the URL's name ends in `.m3u8` or `.mpd` (servers send
//! playlists as `text/plain` or `application/octet-stream` often enough). Deciding on the
//! reply, not on the name alone, catches a playlist behind a URL without the extension, and
//! costs no second request: the playlist is the body of the reply already open. Everything
//! that is an item's — the queue and caps, its deadline, stop and pause, the retries of the
//! whole, the outcome — stays `job`'s; every request (playlists, keys, segments) goes through
//! the item's own client with its headers, cookies, Referer, proxy and trust
//! ([`http::open`](super::http::open)), so there is no second HTTP client.
//!
//! - `hls`: HLS playlists (m3u8-rs): a variant chosen from a master playlist, its separate
//!   audio rendition, `EXT-X-BYTERANGE`, `EXT-X-MAP`, `EXT-X-KEY` (AES-128; SAMPLE-AES and
//!   DRM refused), media sequence numbers.
//! - `dash`: DASH manifests (dash-mpd's parser): the same plan from `SegmentTemplate`,
//!   `SegmentList` and `SegmentBase`, with its WebVTT text adaptation sets when asked.
//! - `held`: the folder that holds the segments fetched so far and its sidecar (which are
//!   held), so a pause, a failure or `kill -9` goes on with only the missing segments; once
//!   the stream is committed, its record of the file (a rerun skips a finished stream).
//! - `segments`: fetching segments concurrently under the host's slots and the speed limits,
//!   each with the item's timeouts and retries, AES-128 decrypted as they arrive.
//! - `follow`: ffmpeg remuxing a one-track stream as its segments arrive (the merge then
//!   only takes its file).
//! - `subtitles`: the WebVTT subtitles renditions asked for (HLS's and DASH's), each joined
//!   into one `NAME.LANG.vtt` beside the file; the sentence that refuses another form.
//! - `merge`: the segments in order into one file: remuxed by `ffmpeg -c copy` into `.mp4`
//!   when ffmpeg is there, else concatenated (`.ts`, or fMP4 with its init segment);
//!   committed under the final name only once the merge succeeded.
//!
//! Must not touch: retries of the item, deadlines, outcomes (`job`); the registry (a stream is
//! HTTP's); how a reply is checked (`http`).

mod dash;
mod follow;
mod held;
mod hls;
mod live;
mod merge;
mod segments;
mod subtitles;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use url::Url;

use super::http::{self, Opened, Sink};
use super::{Files, Stop};
use crate::item::kept::skip_if_from;
use crate::item::{Job, Shared, started};
use crate::protocol::{Event, FetchError, StreamInfo, Variant};

/// The most bytes a playlist or manifest may have (a playlist of 100,000 segments is about
/// 6 MB).
const PLAYLIST_MAX: u64 = 64 * 1024 * 1024;

/// Which kind of stream a reply holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Hls,
    Dash,
}

/// Whether the reply opened for `url` is a stream's playlist: by its `Content-Type`, else by
/// the name of the URL it came from.
pub(crate) fn is_stream(opened: &Opened) -> Option<Kind> {
    let content_type = opened
        .response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    match content_type.as_str() {
        "application/vnd.apple.mpegurl"
        | "application/x-mpegurl"
        | "audio/mpegurl"
        | "audio/x-mpegurl" => return Some(Kind::Hls),
        "application/dash+xml" => return Some(Kind::Dash),
        _ => {}
    }
    let path = opened.response.url().path().to_ascii_lowercase();
    if path.ends_with(".m3u8") {
        Some(Kind::Hls)
    } else if path.ends_with(".mpd") {
        Some(Kind::Dash)
    } else {
        None
    }
}

/// One segment to fetch: its URL, the bytes of it (`EXT-X-BYTERANGE`: offset and length),
/// the key it is encrypted with, and its number (the media sequence number, or the position
/// in a DASH list) for messages and the IV.
#[derive(Debug, Clone)]
pub(crate) struct Segment {
    pub url: Url,
    pub range: Option<(u64, u64)>,
    pub key: Option<Arc<Key>>,
    pub number: u64,
    /// An init segment (`EXT-X-MAP`), not media.
    pub init: bool,
}

/// An AES-128 key: where it is, and the IV given with it (else the segment's number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    pub url: Url,
    pub iv: Option<[u8; 16]>,
}

/// One elementary track of the stream (video with its audio, or a separate audio rendition):
/// its segments in play order (an `EXT-X-MAP` init segment first, and again where it
/// changes).
#[derive(Debug, Clone, Default)]
pub(crate) struct Track {
    /// The playlist it came from (the sidecar compares it on resume).
    pub playlist: String,
    pub segments: Vec<Segment>,
    /// Fragmented MP4 (an init segment), not MPEG-TS.
    pub fmp4: bool,
    /// A subtitles rendition (WebVTT) in this language, saved beside the file, not merged.
    pub subtitles: Option<String>,
}

/// What a stream comes to: its tracks (the first is the video) and the variant chosen.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub tracks: Vec<Track>,
    /// The variant chosen, for people ("1280x720, 2.1 Mbit/s"), when there was a choice.
    pub quality: Option<String>,
    /// A live stream: where to look for the segments still to come.
    pub live: Option<Live>,
    /// The variants offered, best first (a master playlist's, a manifest's video
    /// representations); empty when there was no choice.
    pub variants: Vec<Variant>,
}

impl Plan {
    /// The tracks merged into the file (the video, then a separate audio rendition): those
    /// before the subtitles.
    pub(crate) fn media(&self) -> &[Track] {
        let n = self
            .tracks
            .iter()
            .position(|t| t.subtitles.is_some())
            .unwrap_or(self.tracks.len());
        &self.tracks[..n]
    }
}

/// How often a stream's row hears of its segments ([`Event::Stream`]).
const REPORT_EVERY: Duration = Duration::from_millis(500);

/// Tells the item's row how many segments are held ([`Event::Stream`]), at most every
/// [`REPORT_EVERY`].
pub(crate) struct Report {
    info: StreamInfo,
    sent: Option<Instant>,
    /// The file's name, as the row shows it.
    pub(crate) name: String,
}

impl Report {
    fn new(plan: &Plan, name: &str) -> Report {
        let total: usize = plan.tracks.iter().map(|t| t.segments.len()).sum();
        Report {
            info: StreamInfo {
                done: 0,
                total: plan.live.is_none().then_some(total as u64),
                held_bytes: 0,
                quality: plan.quality.clone(),
                variants: plan.variants.clone(),
            },
            sent: None,
            name: name.to_owned(),
        }
    }

    /// The segments `held` (how many, their bytes); said when due, or at once with `now`.
    pub(crate) fn held(&mut self, job: &Job, held: &held::Held, now: bool) {
        if !now && self.sent.is_some_and(|at| at.elapsed() < REPORT_EVERY) {
            return;
        }
        self.info.done = held.count() as u64;
        self.info.held_bytes = held.bytes();
        self.sent = Some(Instant::now());
        job.events.send(Event::Stream {
            id: job.id,
            info: self.info.clone(),
        });
    }
}

/// Where a live stream's media playlists are (one for each track, in the plan's order: the
/// video, a separate audio rendition, the subtitles renditions), and how often they gain a
/// segment.
#[derive(Debug, Clone)]
pub(crate) struct Live {
    pub urls: Vec<Url>,
    /// `#EXT-X-TARGETDURATION`.
    pub target: std::time::Duration,
}

/// Fetches the stream whose playlist is the body of `opened` (the reply to `url`), and
/// commits it as one file.
pub(crate) async fn run(
    job: &Job,
    key: &str,
    opened: Opened,
    kind: Kind,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> Result<Files, Stop> {
    let base = opened.response.url().clone();
    let name = opened.name.clone();
    let body = read_body(job, opened, stop).await?;
    let mut plan = match kind {
        Kind::Hls => hls::plan(job, &base, &body, stop).await?,
        Kind::Dash => dash::plan(
            &base,
            &body,
            job.options.quality.unwrap_or_default(),
            &job.options.sub_langs,
        )?,
    };
    drop(body);
    if let Some(quality) = &plan.quality {
        tracing::info!(quality, "variant chosen");
    }
    let total: usize = plan.tracks.iter().map(|t| t.segments.len()).sum();
    if total == 0 {
        return Err(Stop::Failed(FetchError::Stream(
            "the playlist lists no segments".to_owned(),
        )));
    }
    let ffmpeg = merge::ffmpeg();
    let name = merge::file_name(job, &name, &plan, ffmpeg.is_some());
    // Saved by an earlier run and still there (the file's downloaded-from mark names this
    // stream's URL): skipped, as a file would be.
    if let crate::protocol::Source::Url(url) = &job.source {
        skip_if_from(job, &name, url).await?;
    }
    let mut held = held::Held::open(job, key, &plan).await?;
    shared.received.store(held.bytes(), Ordering::Relaxed);
    started(job, shared, (name.clone(), None), true);
    let mut report = Report::new(&plan, &name);
    report.held(job, &held, true);
    // One track of a finished stream: ffmpeg remuxes it as its segments arrive.
    let follow = match (&ffmpeg, plan.media(), &plan.live) {
        (Some(ffmpeg), [track], None) => {
            let segments = (0..track.segments.len()).map(|i| held.path(0, i)).collect();
            let ready = held.ready(track.segments.len());
            Some(follow::Follow::start(
                ffmpeg,
                held.folder(),
                segments,
                ready,
                merge::container(&name),
            ))
        }
        _ => None,
    };
    let fetched = if plan.live.is_some() {
        live::record(job, &mut plan, &mut held, stop, shared, &mut report).await
    } else {
        segments::fetch_all(job, &plan, &mut held, stop, shared, &mut report).await
    };
    report.held(job, &held, true);
    if let Err(reason) = fetched {
        if job.cancelled() {
            held.remove().await;
        }
        return Err(reason);
    }
    // A live recording is merged after its stop (Stop, Ctrl+C, its duration): the merge has
    // a stop of its own; cancelling the item still ends it.
    let merging = if plan.live.is_some() {
        CancellationToken::new()
    } else {
        stop.clone()
    };
    let merged = match follow {
        Some(follow) => follow.finish().await.map_or_else(
            |e| {
                tracing::info!(error = ?e, "remuxing as the segments came failed; merging them now");
                None
            },
            Some,
        ),
        None => None,
    };
    let committed = merge::merge(job, &plan, &held, (&name, merged), ffmpeg, &merging).await?;
    let mut files = vec![committed];
    files.extend(subtitles::save(job, &plan, &held, &files[0].path).await?);
    held.remove().await;
    Ok(files)
}

/// Reads a playlist's body into memory (at most [`PLAYLIST_MAX`] bytes).
async fn read_body(job: &Job, opened: Opened, stop: &CancellationToken) -> Result<Vec<u8>, Stop> {
    let mut body = Vec::new();
    let uncounted = std::sync::atomic::AtomicU64::new(0);
    http::stream(
        opened.response,
        Sink::Memory(&mut body),
        job.limits.stall_timeout,
        Some((0, PLAYLIST_MAX)),
        &job.rates,
        stop,
        &uncounted,
    )
    .await
    .map_err(|reason| match reason {
        Stop::Failed(FetchError::TooLarge { limit }) => Stop::Failed(FetchError::Stream(format!(
            "the playlist is larger than {limit} bytes"
        ))),
        other => other,
    })?;
    Ok(body)
}

/// What a request of the stream needs from its item, owned (segment tasks outlive no
/// borrow): the item's client (its proxy and trust), limits, request headers and cookies, and
/// speed limits.
pub(crate) struct Via {
    pub client: http::HttpClient,
    pub limits: crate::protocol::Limits,
    pub request: crate::protocol::Request,
    pub rates: crate::limit::Rates,
}

impl Via {
    pub(crate) fn of(job: &Job) -> Via {
        Via {
            client: job.client.clone(),
            limits: job.limits,
            request: job.options.request.clone(),
            rates: job.rates.clone(),
        }
    }

    /// Opens `url` (with a byte range: offset and length) through the item's client, with
    /// the item's request headers.
    pub(crate) async fn open(
        &self,
        url: &Url,
        range: Option<(u64, Option<u64>)>,
        stop: &CancellationToken,
    ) -> Result<Opened, Stop> {
        let naming = http::Naming {
            use_disposition: false,
            legacy_charset: None,
            out: Some(String::new()),
        };
        // `(offset, length)`; no length: to the end.
        let range = range.map(|(offset, length)| http::RangeFrom {
            offset,
            end: length.map(|length| offset + length.saturating_sub(1)),
            validator: None,
            total: None,
        });
        http::open(
            &self.client,
            url,
            &self.limits,
            &naming,
            &self.request,
            range.as_ref(),
            stop,
        )
        .await
    }
}

/// Fetches a playlist named by another (a variant, a rendition): its body and the URL it
/// came from after redirects (relative URIs in it are resolved against that).
pub(crate) async fn fetch_playlist(
    job: &Job,
    url: &Url,
    stop: &CancellationToken,
) -> Result<(Url, Vec<u8>), Stop> {
    let opened = Via::of(job).open(url, None, stop).await?;
    let base = opened.response.url().clone();
    Ok((base, read_body(job, opened, stop).await?))
}

/// Resolves a URI written in a playlist against the playlist's own URL; only http(s).
pub(crate) fn resolve(base: &Url, uri: &str) -> Result<Url, Stop> {
    let url = base.join(uri.trim()).map_err(|e| {
        Stop::Failed(FetchError::Stream(format!(
            "the playlist names '{uri}', which is not a URL: {e}"
        )))
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Stop::Failed(FetchError::Stream(format!(
            "the playlist names '{}', which is not an http(s) URL",
            crate::protocol::redact(url.as_str())
        ))));
    }
    Ok(url)
}
