//! Split downloads: one file over several connections.
//!
//! Owns: the connections of one split item — which range each asks for (a bounded `Range`,
//! pinned with `If-Range` to the version first seen), taking half of the largest range left
//! when one finishes (dynamic splitting, as IDM and Gopeed do), taking over the whole range
//! of a connection much slower than itself when none is left to split (`speed`: a slow
//! connection never decides the end time), adding connections by a slow start (1, doubling
//! each [`TICK`] while the connections are slower than [`FAST_CONNECTION`] each) up to
//! `split` and the host's free slots, growing again into slots that free up later (looked at
//! each [`TICK`] while it runs), giving extra connections back to items waiting for the host
//! (`conns`), dropping back when the server refuses, resets or answers 429/503 to an extra
//! connection, and giving up on splitting (one stream from scratch) when a segment reply
//! disagrees with the first (a 200, another total or validator, another range, a content
//! coding, another host with no validator to show the file is the same). Every connection
//! asks the URL the first reply came from after its redirects, never the link anew.
//! Must not touch: the disk directly ([`Segments`] does), events (the job reports progress).
//!
//! # Layout
//! - this file: the connections, their requests and the slow start.
//! - `conns`: starting connections, the host slots they hold, giving one back.
//! - `plan`: which connection fetches which range.
//! - `speed`: how fast each connection is, and when an idle one takes over a slow one's range.

mod conns;
mod plan;
mod speed;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::Response;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::fetch::Stop;
use super::fetch::http::{self, Body, Naming, Opened, RangeFrom};
use super::item::Job;
use super::output::segments::Segments;
use crate::protocol::FetchError;
use conns::Conns;
use plan::Plan;
pub(crate) use speed::Meters;

/// A range is split in two only when at least twice this is left of it.
pub const MIN_PIECE: u64 = 128 * 1024;
/// The least a segment request asks for (the requests of a connection are at least this
/// long, or `min_split_size` when that is larger).
const MIN_REQUEST: u64 = 1024 * 1024;
/// A connection that delivers at least this many bytes a second is not joined by more (a
/// gigabit link is nearly full with one): on such links splitting only costs CPU.
const FAST_CONNECTION: u64 = 100 * 1024 * 1024;
/// How often the connections are counted and more may be added.
const TICK: Duration = Duration::from_millis(25);
/// How often a connection with no range left looks again for a slow one to take over from.
const LOOK_AGAIN: Duration = Duration::from_millis(100);

/// How often, and after how long, a split download starts a connection again when its last
/// one failed with work left (see `retry`'s table for which failures count).
const REVIVE: crate::protocol::Limits = crate::protocol::Limits {
    retries: 4,
    retry_base: Duration::from_millis(200),
    ..LIMITS_DEFAULT
};
const LIMITS_DEFAULT: crate::protocol::Limits = crate::protocol::Limits {
    jobs: 1,
    per_host: 1,
    connect_timeout: Duration::from_secs(10),
    stall_timeout: Duration::from_secs(30),
    deadline: None,
    retries: 0,
    retry_base: Duration::from_secs(1),
    max_size: None,
    max_rate: None,
    split: 1,
    min_split_size: 0,
    max_upload_rate: None,
    listen_port: 0,
    dht: false,
    trackers: true,
};

/// Whether the first reply allows splitting: the size is known, the server sent part of the
/// file for `Range: bytes=0-` (so it honours ranges), the body is not content-encoded, the
/// file is at least twice `min_split_size`, and more than one connection is allowed.
pub(crate) fn splittable(opened: &Opened, split: usize, min_split_size: u64) -> bool {
    let encoded = http::content_coded(opened.response.headers());
    split > 1
        && opened.body == Body::Rest
        && !encoded
        && opened
            .total
            .is_some_and(|total| total >= min_split_size.max(MIN_PIECE).saturating_mul(2))
}

/// How a split download ended when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Every range is written.
    Done,
    /// A segment reply disagreed with the first: the file must be fetched again in one stream
    /// from scratch, never mixed.
    Fallback,
}

/// What one connection's end means for the others.
#[derive(Debug)]
enum ConnEnd {
    /// No work left for it.
    Idle,
    /// The server answered a segment with something else: start over in one stream.
    Mismatch,
    /// It failed; `extra` when it was not the only connection (the others may go on).
    Failed(Stop),
    /// It was stopped alone to give its host slot to an item waiting for the host.
    GaveWay,
}

/// What the connections share.
struct Ctx {
    client: super::fetch::http::HttpClient,
    /// The item's URL, asked until a reply says where it leads.
    url: Url,
    /// The URL the first reply came from, after its redirects: every later connection asks it
    /// (a link that redirects to another mirror on each request must not mix mirrors).
    pinned: std::sync::OnceLock<Url>,
    limits: crate::protocol::Limits,
    naming: Naming,
    options: Arc<crate::protocol::ItemOptions>,
    validator: Option<String>,
    total: u64,
    segments: Arc<Segments>,
    plan: Mutex<Plan>,
    rates: super::limit::Rates,
    /// Bytes received in all (progress) and by each connection.
    meters: Arc<Meters>,
    stop: CancellationToken,
}

impl Ctx {
    fn plan(&self) -> std::sync::MutexGuard<'_, Plan> {
        self.plan.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Fetches the missing ranges of `segments` over several connections. `first` is the reply to
/// the first request (`Range: bytes=0-`, a 206), which becomes the first connection; without
/// one (a resumed split download) every connection asks for its own range. `meters` count
/// the body bytes received, in all (for progress) and by each open connection (for its speed). Returns when every range is written, when a segment
/// reply disagrees ([`Ended::Fallback`]), or with the failure of the last connection (what
/// was written stays in `segments`). Cancel-safe through `stop`: connections end promptly.
pub(crate) async fn run(
    job: &Job,
    url: &Url,
    segments: Arc<Segments>,
    validator: Option<String>,
    first: Option<Response>,
    meters: &Arc<Meters>,
    stop: &CancellationToken,
) -> Result<Ended, Stop> {
    let ctx = Arc::new(Ctx {
        client: job.client.clone(),
        url: url.clone(),
        pinned: first
            .as_ref()
            .map_or_else(std::sync::OnceLock::new, |first| {
                std::sync::OnceLock::from(first.url().clone())
            }),
        limits: job.limits,
        naming: Naming {
            use_disposition: false,
            legacy_charset: None,
            out: None,
        },
        options: Arc::clone(&job.options),
        validator,
        total: segments.total(),
        plan: Mutex::new(Plan::new(segments.missing())),
        segments,
        rates: job.rates.clone(),
        meters: Arc::clone(meters),
        stop: stop.child_token(),
    });
    // The host as the scheduler counts it: the item's own slot is under this name.
    let mut conns = Conns::new(Arc::clone(&ctx), job.source.host_key(), job.slots.clone());
    let mut most = job.limits.split.min(job.limits.per_host).max(1);
    // The first connection holds the item's own slot.
    conns.spawn(first, None);
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    ticker.tick().await; // the first tick is immediate
    let mut failure: Option<Stop> = None;
    let mut fallback = false;
    let mut revives = 0;
    // What arrived by the last tick, to see how fast the connections already are.
    let (mut seen, mut seen_at) = (ctx.meters.received.load(Ordering::Relaxed), Instant::now());
    loop {
        tokio::select! {
            joined = conns.set.join_next_with_id(), if conns.active > 0 => {
                let ended = conns.ended(joined);
                let gave_way = matches!(ended, Some(Ok(ConnEnd::GaveWay)));
                match ended {
                    Some(Ok(ConnEnd::GaveWay)) => {}
                    Some(Ok(ConnEnd::Idle)) | None => {
                        // Every range is fetched or being written: a connection still out
                        // (one retired for its slowness, waiting on its server) ends now.
                        if ctx.plan().left() == 0 {
                            ctx.stop.cancel();
                        }
                    }
                    Some(Ok(ConnEnd::Mismatch)) => {
                        fallback = true;
                        ctx.stop.cancel(); // the others end at once
                    }
                    Some(Ok(ConnEnd::Failed(reason))) => {
                        // An extra connection refused or cut: fewer from now on, and its range
                        // goes to the others.
                        if conns.active > 0 && !ctx.stop.is_cancelled() {
                            tracing::info!(connections = conns.active, reason = ?reason, "a connection failed; going on with fewer");
                            most = most.min(conns.active).max(1);
                        }
                        failure = Some(reason);
                    }
                    Some(Err(e)) => failure = Some(Stop::Failed(super::item::internal(&e))),
                }
                if conns.active == 0 {
                    // The last connection failed with work left (a server that counted a
                    // reply still draining against its limit, a reset): a fresh one after a
                    // short wait, a few times, before the item itself fails.
                    let worth = !fallback && !ctx.stop.is_cancelled() && ctx.plan().left() > 0;
                    let wait = failure
                        .as_ref()
                        .filter(|_| worth)
                        .and_then(|reason| super::retry::delay(&REVIVE, revives, reason));
                    let Some(wait) = wait else {
                        break;
                    };
                    revives += 1;
                    tokio::select! {
                        () = ctx.stop.cancelled() => break,
                        () = tokio::time::sleep(wait) => {}
                    }
                    tracing::info!(revives, "starting a connection again");
                    conns.spawn(None, None);
                    continue;
                }
                // Work left and room for it: a connection that fails leaves its range to one
                // that starts now (when all others are busy).
                if !gave_way && !ctx.stop.is_cancelled() && !fallback && conns.active < most && ctx.plan().left() > 0 {
                    conns.add(1);
                }
            }
            _ = ticker.tick() => {
                // Items wait for the host: an extra connection gives way first.
                if conns.give_way() {
                    continue;
                }
                // Slow start by the clock: the connections double each tick up to the most
                // allowed, and grow again into slots that free up later (another item paused
                // or done, a connection given back) while there is work to share. A
                // rate-based test read bursty throttling wrong (nginx's limit_rate sends a few
                // MiB at once, then nothing: 50 ms windows read 81 MB/s, then 0), so growth
                // stops on the server's word instead: a refusal, a reset, 429/503.
                let (now, at) = (ctx.meters.received.load(Ordering::Relaxed), Instant::now());
                let rate = now.saturating_sub(seen) as f64
                    / at.duration_since(seen_at).as_secs_f64().max(1e-3);
                (seen, seen_at) = (now, at);
                if rate >= FAST_CONNECTION as f64 * conns.active.max(1) as f64 {
                    // Each connection is already this fast: the disk and the hash are the
                    // limit, not the connection, and more would only cost (looked at again
                    // each tick, so a burst that ends does not decide).
                    continue;
                }
                if conns.active < most && !ctx.stop.is_cancelled() {
                    conns.add(conns.active.min(most - conns.active));
                }
            }
        }
    }
    drop(conns);
    if stop.is_cancelled() {
        return Err(Stop::Stopped);
    }
    if fallback {
        return Ok(Ended::Fallback);
    }
    if ctx.plan().left() == 0 && ctx.segments.missing().is_empty() {
        return Ok(Ended::Done);
    }
    Err(failure.unwrap_or(Stop::Stopped))
}

/// One connection: takes ranges from the plan until none is left, asking the server for each
/// (the first may come with its reply already open), writing what arrives at its offset.
/// `stop` is this connection's own (a child of the download's): it is looked at only where no
/// byte is in hand (between pieces, before a request), so stopping it alone loses nothing.
async fn connection(
    ctx: &Ctx,
    conn: usize,
    mut first: Option<Response>,
    stop: &CancellationToken,
) -> ConnEnd {
    // Each request asks for at most this much of its range (as aria2 asks piece by piece):
    // a range taken over mid-request costs little, the connection stays reusable, and a
    // server that throttles per request treats each as new.
    let request = ctx.limits.min_split_size.max(MIN_REQUEST);
    loop {
        let Some(task) = next_task(ctx, conn, stop).await else {
            return ConnEnd::Idle;
        };
        // Request after request until the range is done (or taken over).
        loop {
            let Some((next, end)) = ctx.plan().position(task, conn) else {
                break;
            };
            let (response, asked_end) = match first.take() {
                Some(response) => (response, ctx.total),
                None => {
                    let asked_end = end.min(next.saturating_add(request));
                    match open_range(ctx, next, asked_end, stop).await {
                        Ok(response) => (response, asked_end),
                        Err(ended) => return ended,
                    }
                }
            };
            if let Err(reason) = fetch_task(ctx, conn, task, response, asked_end, stop).await {
                return ConnEnd::Failed(reason);
            }
        }
    }
}

/// The next range for `conn`: one to claim, else the rest of one whose owner is much slower
/// (looked for again every [`LOOK_AGAIN`] while other connections still fetch). `None` when
/// nothing is left for it, or it was itself retired for its slowness.
async fn next_task(ctx: &Ctx, conn: usize, stop: &CancellationToken) -> Option<usize> {
    loop {
        {
            let mut plan = ctx.plan();
            if let Some((task, _, _)) = plan.claim(conn) {
                return Some(task);
            }
            let owned = plan.owned();
            if plan.retired(conn) || owned.is_empty() {
                return None;
            }
            if let Some(task) = ctx.meters.speeds.to_take_over(conn, &owned) {
                tracing::info!(
                    conn,
                    task,
                    "taking over the range of a much slower connection"
                );
                return plan.take_over(task, conn).map(|(task, _, _)| task);
            }
        }
        tokio::select! {
            () = stop.cancelled() => return None,
            () = tokio::time::sleep(LOOK_AGAIN) => {}
        }
    }
}

/// Asks for `[start, end)`, pinned to the first reply's version.
async fn open_range(
    ctx: &Ctx,
    start: u64,
    end: u64,
    stop: &CancellationToken,
) -> Result<Response, ConnEnd> {
    let range = RangeFrom {
        offset: start,
        end: Some(end - 1),
        validator: ctx.validator.clone(),
        total: Some(ctx.total),
    };
    let asked = ctx.pinned.get().unwrap_or(&ctx.url);
    let opened = http::open(
        &ctx.client,
        asked,
        &ctx.limits,
        &ctx.naming,
        &ctx.options.request,
        Some(&range),
        stop,
    )
    .await;
    match opened {
        Ok(opened) if opened.body == Body::Rest => {
            // The first reply pins where the file is; a reply from another host (the pinned
            // URL redirected elsewhere) is the same file only if a validator shows it.
            let from = opened.response.url();
            let pinned = ctx.pinned.get_or_init(|| from.clone());
            if ctx.validator.is_none() && !same_origin(pinned, from) {
                tracing::info!(
                    start,
                    end,
                    "a segment came from another host, with no validator to show it is the same file"
                );
                return Err(ConnEnd::Mismatch);
            }
            // If-Range already asked for the same version; a reply that names another one
            // anyway is not trusted.
            let same = match &ctx.validator {
                Some(tag) if tag.starts_with('"') => {
                    opened.etag.as_deref().is_none_or(|t| t == tag)
                }
                Some(date) => opened.last_modified.as_deref().is_none_or(|d| d == date),
                None => true,
            };
            if same {
                Ok(opened.response)
            } else {
                tracing::info!(
                    start,
                    end,
                    "a segment came from another version of the file"
                );
                Err(ConnEnd::Mismatch)
            }
        }
        // A 200 (the range ignored, or If-Range saying the file changed), another total,
        // another range: never mixed in.
        Ok(opened) => {
            tracing::info!(start, end, body = ?opened.body, "a segment reply does not fit");
            Err(ConnEnd::Mismatch)
        }
        Err(reason) => Err(ConnEnd::Failed(reason)),
    }
}

/// Whether two URLs lead to the same server (scheme, host and port).
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// A write on the blocking pool, awaited before the next one (one in flight per connection).
type Writing = Option<tokio::task::JoinHandle<Result<(), FetchError>>>;

/// Waits for the write in flight, if any.
async fn flush(writing: &mut Writing) -> Result<(), Stop> {
    match writing.take() {
        Some(handle) => handle
            .await
            .map_err(|e| Stop::Failed(super::item::internal(&e)))?
            .map_err(Stop::Failed),
        None => Ok(()),
    }
}

/// Reads one range's reply, writing each piece at its offset, until the range is done or
/// taken over (dynamic splitting shortened it) or the body ends. A piece is written (and
/// hashed) on the blocking pool while the next one is received; every write has ended when
/// this returns.
async fn fetch_task(
    ctx: &Ctx,
    conn: usize,
    task: usize,
    response: Response,
    asked_end: u64,
    stop: &CancellationToken,
) -> Result<(), Stop> {
    let mut writing: Writing = None;
    let read = read_task(ctx, conn, task, response, asked_end, stop, &mut writing).await;
    let written = flush(&mut writing).await;
    read.and(written)
}

async fn read_task(
    ctx: &Ctx,
    conn: usize,
    task: usize,
    mut response: Response,
    asked_end: u64,
    stop: &CancellationToken,
    writing: &mut Writing,
) -> Result<(), Stop> {
    let mut taken: u64 = 0;
    let _reading = ctx.rates.limited().then(|| ctx.rates.reading());
    let mut fitted = None;
    loop {
        http::fit_to_rate(&response, &ctx.rates, &mut fitted);
        let Some(mut chunk) =
            http::next_chunk(&mut response, ctx.limits.stall_timeout, stop, taken).await?
        else {
            // The body ended: fine if what was asked is done (or the range was shortened
            // before it), a short body if not.
            let left = {
                let plan = ctx.plan();
                plan.tasks
                    .get(task)
                    .filter(|t| t.owner == Some(conn))
                    .map_or(0, |t| t.end.min(asked_end).saturating_sub(t.next))
            };
            return if left == 0 {
                Ok(())
            } else {
                Err(Stop::Failed(FetchError::ShortBody {
                    expected: taken + left,
                    received: taken,
                }))
            };
        };
        while !chunk.is_empty() {
            let want = if ctx.rates.limited() {
                chunk.len().min(ctx.rates.piece())
            } else {
                chunk.len()
            };
            let Some((offset, n)) = ctx.plan().take(task, conn, want as u64) else {
                return Ok(()); // done, or the rest is another connection's now
            };
            let piece = chunk.split_to(n as usize);
            if ctx.rates.limited() {
                tokio::select! {
                    biased;
                    () = ctx.stop.cancelled() => return Err(Stop::Stopped),
                    () = ctx.rates.pay(n) => {}
                }
            }
            flush(writing).await?;
            let segments = Arc::clone(&ctx.segments);
            *writing = Some(tokio::task::spawn_blocking(move || {
                segments.write_at(offset, &piece)
            }));
            taken += n;
            ctx.meters.received.fetch_add(n, Ordering::Relaxed);
            ctx.meters.speeds.add(conn, n);
        }
    }
}
