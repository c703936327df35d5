//! A stream's segments fetched concurrently: as many at once as the item's `split` allows,
//! the first on the item's own host slot and each other on an extra one taken from the host's
//! [`HostSlots`](crate::slots::HostSlots) only while the host has room and no item waits for
//! it (a slot goes back as its segment ends). Each segment is read into memory (segments are
//! small) under the stall timeout and the speed limits, tried again as a file would be
//! (`retry::delay`, each retry told as a file's is, `Event::Retrying`; the row runs
//! again once the segment's next try has its bytes), decrypted (AES-128-CBC, the key fetched
//! once with the item's credentials) and handed to `held`. A segment that keeps failing fails
//! the item with its number, URL and reason.
//!
//! The stream's tail is fetched in halves: once fewer segments are left to start than the item
//! has connections, each is asked for as two byte ranges (its known length, or the average of
//! the track's segments held so far, split in two) on two connections, so the last segments do
//! not run on half of them while the others sit idle (W11: 60 segments on 8 connections end
//! with a wave of 4). A half that fails, or halves that do not make one segment, give way to
//! the whole segment, asked for again with its retries.
//! Must not touch: the order of the merged file (`merge`), the playlists.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use aes::cipher::{BlockDecryptMut as _, KeyIvInit as _, block_padding::Pkcs7};
use tokio::sync::Mutex;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::held::Held;
use super::{Key, Plan, Segment, Via};
use crate::events::EventSink;
use crate::fetch::Stop;
use crate::fetch::http::{self, Body, Sink};
use crate::item::{Job, Shared, going_on, internal, retrying};
use crate::protocol::{FetchError, JobId, TimeoutKind};
use crate::retry;

/// Keys fetched so far, by URL.
type Keys = Mutex<HashMap<Url, [u8; 16]>>;

/// What a finished task gives back: which segment, which part of it, and its bytes (a whole
/// segment's decrypted; a half's as received).
type Done = (usize, usize, Part, Result<Piece, Stop>);

/// A segment shorter than this is not split: two requests would cost more than they save.
const SPLIT_FROM: u64 = 32 * 1024;

/// What one task fetches of a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Whole,
    /// The first `at` bytes.
    Head(u64),
    /// The bytes from `at` on.
    Tail(u64),
}

/// A reply's bytes.
#[derive(Debug)]
struct Piece {
    bytes: Vec<u8>,
    /// The server sent the whole segment (it ignored the range asked for).
    whole: bool,
    /// The size of the resource the range was taken from (a segment's own file: its length).
    total: Option<u64>,
}

/// What every segment task shares.
struct Ctx {
    via: Via,
    keys: Keys,
    shared: Arc<Shared>,
    stop: CancellationToken,
    /// Where a segment's retries are told, and the name the row runs under again after.
    events: EventSink,
    id: JobId,
    name: String,
}

/// Fetches every segment of `plan` not held yet, into `held`.
pub(crate) async fn fetch_all(
    job: &Job,
    plan: &Plan,
    held: &mut Held,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
    report: &mut super::Report,
) -> Result<(), Stop> {
    let ctx = Arc::new(Ctx {
        via: Via::of(job),
        keys: Mutex::default(),
        shared: Arc::clone(shared),
        stop: stop.child_token(),
        events: job.events.clone(),
        id: job.id,
        name: report.name.clone(),
    });
    let todo: Vec<(usize, usize)> = plan
        .tracks
        .iter()
        .enumerate()
        .flat_map(|(t, track)| (0..track.segments.len()).map(move |i| (t, i)))
        .filter(|&(t, i)| !held.has(t, i))
        .collect();
    let mut todo = todo.into_iter();
    let most = job
        .options
        .split
        .unwrap_or(job.limits.split)
        .min(job.limits.per_host)
        .max(1);
    let host = job.source.host_key();
    let mut running: JoinSet<Done> = JoinSet::new();
    let mut failure: Option<Stop> = None;
    // Halves waiting to start, and segments asked for again whole after a half failed.
    let mut queue: VecDeque<(usize, usize, Part)> = VecDeque::new();
    // A split segment's first half back, until the other comes.
    let mut halves: HashMap<(usize, usize), (Part, Piece)> = HashMap::new();
    // Split segments settled otherwise (whole after all): their late halves are dropped.
    let mut settled: HashSet<(usize, usize)> = HashSet::new();
    let mut started = 0;
    loop {
        // The first segment runs on the item's own slot; the others each take an extra one.
        while failure.is_none() && running.len() < most {
            if queue.is_empty() && todo.len() == 0 {
                break;
            }
            let slot = if running.is_empty() {
                None
            } else {
                match (&host, &job.slots) {
                    (Some(host), Some(slots)) => match slots.try_extra(host) {
                        Some(slot) => Some(slot),
                        None => break,
                    },
                    _ => None,
                }
            };
            let (t, i, part) = match queue.pop_front() {
                Some(unit) => unit,
                None => {
                    let Some((t, i)) = todo.next() else { break };
                    started += 1;
                    // After a full wave, fewer segments left than connections: this one in
                    // two halves. (Not a live recording's: it cannot get ahead of the live
                    // edge, and each of its segments is fetched once, as it appears.)
                    let segment = &plan.tracks[t].segments[i];
                    let tail = started > most && todo.len() + 1 < most && plan.live.is_none();
                    match split_at(segment, held.average(t)) {
                        Some(at) if tail => {
                            queue.push_front((t, i, Part::Tail(at)));
                            (t, i, Part::Head(at))
                        }
                        _ => (t, i, Part::Whole),
                    }
                }
            };
            let segment = plan.tracks[t].segments[i].clone();
            let ctx = Arc::clone(&ctx);
            running.spawn(async move {
                let fetched = match part {
                    Part::Whole => fetch(&ctx, &segment).await,
                    half => get_part(&ctx, &segment, half).await,
                };
                drop(slot);
                (t, i, part, fetched)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (t, i, bytes) = match joined {
            Ok((t, i, Part::Whole, Ok(piece))) => (t, i, piece.bytes),
            Ok((t, i, half, Ok(piece))) => {
                if settled.contains(&(t, i)) {
                    uncount(&ctx, piece.bytes.len());
                    continue;
                }
                let segment = &plan.tracks[t].segments[i];
                let at = ((t, i), segment);
                let raw = match join_halves(&mut halves, &mut settled, &ctx, at, half, piece) {
                    Joined::Whole(raw) => raw,
                    Joined::Waiting => continue,
                    Joined::Again => {
                        queue.push_front((t, i, Part::Whole));
                        continue;
                    }
                };
                match segment.key.as_ref() {
                    None => (t, i, raw),
                    Some(key) => match decrypt(&ctx, key, segment.number, &raw).await {
                        Ok(bytes) => (t, i, bytes),
                        Err(reason) => {
                            failure.get_or_insert(reason);
                            ctx.stop.cancel();
                            continue;
                        }
                    },
                }
            }
            Ok((t, i, Part::Head(_) | Part::Tail(_), Err(reason)))
                if failure.is_none() && !ctx.stop.is_cancelled() =>
            {
                // A half failed in a way worth another try: the segment is asked for again
                // whole, with its retries; otherwise it fails the item as the segment would.
                if retry::delay(&ctx.via.limits, 0, &reason).is_none() {
                    failure = Some(named(&plan.tracks[t].segments[i], reason));
                    ctx.stop.cancel();
                    continue;
                }
                if settled.insert((t, i)) {
                    if let Some((_, other)) = halves.remove(&(t, i)) {
                        uncount(&ctx, other.bytes.len());
                    }
                    queue.retain(|&(qt, qi, _)| (qt, qi) != (t, i));
                    queue.push_front((t, i, Part::Whole));
                }
                continue;
            }
            Ok((_, _, _, Err(reason))) => {
                if failure.is_none() {
                    failure = Some(reason);
                    ctx.stop.cancel();
                }
                continue;
            }
            Err(e) => {
                failure.get_or_insert(Stop::Failed(internal(&e)));
                ctx.stop.cancel();
                continue;
            }
        };
        if failure.is_none() {
            match held.store(t, i, bytes).await {
                Ok(()) => report.held(job, held, false),
                Err(reason) => {
                    failure = Some(reason);
                    ctx.stop.cancel();
                }
            }
        }
    }
    match failure {
        // The item was stopped (paused, cancelled, its deadline): `job` says which.
        Some(_) if stop.is_cancelled() => Err(Stop::Stopped),
        Some(reason) => Err(reason),
        None => {
            tracing::debug!(held = held.count(), "every segment held");
            Ok(())
        }
    }
}

/// One segment, tried again as a file would be; its final failure names it.
async fn fetch(ctx: &Ctx, segment: &Segment) -> Result<Piece, Stop> {
    let mut attempt = 0;
    loop {
        let reason = match once(ctx, segment).await {
            Ok(bytes) => {
                if attempt > 0 {
                    // No longer retrying: the row runs again.
                    going_on(
                        &ctx.events,
                        ctx.id,
                        &ctx.shared,
                        (ctx.name.clone(), None),
                        true,
                    );
                }
                return Ok(bytes);
            }
            Err(reason) => reason,
        };
        match retry::delay(&ctx.via.limits, attempt, &reason) {
            Some(delay) if !ctx.stop.is_cancelled() => {
                attempt += 1;
                let told = named(segment, reason);
                let of = ctx.via.limits.retries;
                retrying(&ctx.events, ctx.id, (attempt, of), delay, &told);
                tokio::select! {
                    () = ctx.stop.cancelled() => return Err(Stop::Stopped),
                    () = tokio::time::sleep(delay) => {}
                }
            }
            _ => return Err(named(segment, reason)),
        }
    }
}

/// A segment's last failure, with its number and URL.
fn named(segment: &Segment, reason: Stop) -> Stop {
    let why = match reason {
        Stop::Stopped | Stop::Exists(_) | Stop::TimedOut(TimeoutKind::Deadline) => return reason,
        Stop::TimedOut(kind) => kind.to_string(),
        Stop::Failed(e) | Stop::Busy(e, _) => e.to_string(),
    };
    Stop::Failed(FetchError::Segment {
        number: segment.number,
        url: crate::protocol::redact(segment.url.as_str()).into_owned(),
        reason: why,
    })
}

/// One try at a segment: its bytes (only its range), decrypted.
async fn once(ctx: &Ctx, segment: &Segment) -> Result<Piece, Stop> {
    let want = segment.range.map(|(offset, length)| (offset, Some(length)));
    let Some(piece) = get(ctx, &segment.url, want).await? else {
        return Err(Stop::Failed(FetchError::Stream(
            "the server sent another byte range than the segment's".to_owned(),
        )));
    };
    let piece = own_bytes(ctx, segment, piece)?;
    let bytes = match &segment.key {
        None => piece.bytes,
        Some(key) => decrypt(ctx, key, segment.number, &piece.bytes).await?,
    };
    Ok(Piece { bytes, ..piece })
}

/// Where a segment of `length` bytes (known, else the `average` of its track's held ones) is
/// split in two; None when it is too short to be worth it, or an init segment.
fn split_at(segment: &Segment, average: Option<u64>) -> Option<u64> {
    let length = segment.range.map(|(_, length)| length).or(average)?;
    (!segment.init && length >= SPLIT_FROM).then_some(length / 2)
}

/// One try at a part of a segment (no retries: a failed half gives way to the whole
/// segment, fetched with its retries): its bytes as received. The server sending the whole
/// segment instead is said in the piece.
async fn get_part(ctx: &Ctx, segment: &Segment, part: Part) -> Result<Piece, Stop> {
    let (offset, length) = segment.range.map_or((0, None), |(o, l)| (o, Some(l)));
    let want = match part {
        Part::Whole => segment.range.map(|(o, l)| (o, Some(l))),
        Part::Head(at) => Some((offset, Some(at))),
        Part::Tail(at) => Some((offset + at, length.map(|l| l - at))),
    };
    // Another range than asked for: nothing of it is kept, so the halves do not make the
    // segment and it is asked for again whole.
    let piece = get(ctx, &segment.url, want).await?.unwrap_or(Piece {
        bytes: Vec::new(),
        whole: false,
        total: None,
    });
    own_bytes(ctx, segment, piece)
}

/// A reply that is the whole file although a range was asked for, cut to the segment's own
/// bytes (a byte-range segment's slice of it).
fn own_bytes(ctx: &Ctx, segment: &Segment, mut piece: Piece) -> Result<Piece, Stop> {
    if let (Some((offset, length)), true) = (segment.range, piece.whole) {
        // The server ignored the range: the segment is its slice of the whole file.
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::try_from(length).unwrap_or(usize::MAX));
        let Some(slice) = piece.bytes.get(start..end) else {
            return Err(Stop::Failed(FetchError::ShortBody {
                expected: offset + length,
                received: piece.bytes.len() as u64,
            }));
        };
        uncount(ctx, piece.bytes.len() - slice.len());
        piece.bytes = slice.to_vec();
    }
    Ok(piece)
}

/// One request for `want` (offset, and length or to the end) of the resource at `url`; None
/// when the server sent another range than asked for.
async fn get(
    ctx: &Ctx,
    url: &Url,
    want: Option<(u64, Option<u64>)>,
) -> Result<Option<Piece>, Stop> {
    let via = &ctx.via;
    let opened = via.open(url, want, &ctx.stop).await?;
    let (whole, total) = (opened.body == Body::Full, opened.total);
    if opened.body == Body::Complete {
        // A 416 to a range from the resource's very end: nothing is in it.
        return Ok(Some(Piece {
            bytes: Vec::new(),
            whole: false,
            total,
        }));
    }
    if want.is_some() && opened.body == Body::Mismatch {
        return Ok(None);
    }
    let mut body = Vec::with_capacity(
        total
            .and_then(|t| usize::try_from(t).ok())
            .unwrap_or(0)
            .min(64 * 1024 * 1024),
    );
    let received = &ctx.shared.received;
    let streamed = http::stream(
        opened.response,
        Sink::Memory(&mut body),
        via.limits.stall_timeout,
        None,
        &via.rates,
        &ctx.stop,
        received,
    )
    .await;
    if let Err(reason) = streamed {
        uncount(ctx, body.len());
        return Err(reason);
    }
    Ok(Some(Piece {
        bytes: body,
        whole,
        total,
    }))
}

/// `n` bytes received that will not be kept: out of the item's progress (it counts only
/// segments that will be kept).
fn uncount(ctx: &Ctx, n: usize) {
    let received = &ctx.shared.received;
    received.fetch_sub(n as u64, Ordering::Relaxed);
}

/// What a half back makes of its segment.
enum Joined {
    /// The segment's bytes, not decrypted yet.
    Whole(Vec<u8>),
    /// The other half is still to come.
    Waiting,
    /// The halves do not make the segment: ask for it again whole.
    Again,
}

/// A half of segment `at` is back: the segment's bytes once it is whole — both halves in
/// order, or one reply that was the whole segment (the server ignored the range, or the
/// segment is shorter than its estimate) — else it waits for the other half.
fn join_halves(
    halves: &mut HashMap<(usize, usize), (Part, Piece)>,
    settled: &mut HashSet<(usize, usize)>,
    ctx: &Ctx,
    (at, segment): ((usize, usize), &Segment),
    part: Part,
    piece: Piece,
) -> Joined {
    let split = match part {
        Part::Head(split) | Part::Tail(split) => split,
        Part::Whole => 0,
    };
    let head_is_all = matches!(part, Part::Head(_))
        && segment.range.is_none()
        && piece.total.is_some_and(|t| t <= split);
    if piece.whole || head_is_all {
        settled.insert(at);
        if let Some((_, other)) = halves.remove(&at) {
            uncount(ctx, other.bytes.len());
        }
        return Joined::Whole(piece.bytes);
    }
    let Some((_, other)) = halves.remove(&at) else {
        halves.insert(at, (part, piece));
        return Joined::Waiting;
    };
    settled.insert(at);
    let (head, tail) = match part {
        Part::Head(_) => (piece, other),
        _ => (other, piece),
    };
    // The segment's length: its byte range's, or the size of its own file.
    let expected = segment.range.map(|(_, length)| length).or(head.total);
    let length = (head.bytes.len() + tail.bytes.len()) as u64;
    if head.bytes.len() as u64 != split || expected != Some(length) {
        uncount(ctx, head.bytes.len());
        uncount(ctx, tail.bytes.len());
        return Joined::Again;
    }
    let mut bytes = head.bytes;
    bytes.extend_from_slice(&tail.bytes);
    Joined::Whole(bytes)
}

/// AES-128-CBC with PKCS#7 padding (RFC 8216 §4.3.2.4); the IV from the tag, else the
/// segment's media sequence number, big-endian.
async fn decrypt(ctx: &Ctx, key: &Key, number: u64, body: &[u8]) -> Result<Vec<u8>, Stop> {
    let secret = key_bytes(ctx, &key.url).await?;
    let iv = key.iv.unwrap_or_else(|| u128::from(number).to_be_bytes());
    cbc::Decryptor::<aes::Aes128>::new(&secret.into(), &iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(body)
        .map_err(|_| {
            Stop::Failed(FetchError::Stream(
                "a segment does not decrypt with its AES-128 key (a wrong key, or a cut-off \
                 segment)"
                    .to_owned(),
            ))
        })
}

/// The key at `url`, fetched once (with the item's headers and cookies) and kept.
async fn key_bytes(ctx: &Ctx, url: &Url) -> Result<[u8; 16], Stop> {
    let mut keys = ctx.keys.lock().await;
    if let Some(key) = keys.get(url) {
        return Ok(*key);
    }
    let shown = crate::protocol::redact(url.as_str()).into_owned();
    let failed = |why: String| {
        Stop::Failed(FetchError::Stream(format!(
            "the AES-128 key {shown} could not be fetched: {why}"
        )))
    };
    let opened = ctx
        .via
        .open(url, None, &ctx.stop)
        .await
        .map_err(|reason| match reason {
            Stop::Failed(e) | Stop::Busy(e, _) => failed(e.to_string()),
            Stop::TimedOut(kind) if kind != TimeoutKind::Deadline => failed(kind.to_string()),
            other => other,
        })?;
    let mut body = Vec::new();
    let uncounted = std::sync::atomic::AtomicU64::new(0);
    http::stream(
        opened.response,
        Sink::Memory(&mut body),
        ctx.via.limits.stall_timeout,
        Some((0, 1024)),
        &ctx.via.rates,
        &ctx.stop,
        &uncounted,
    )
    .await?;
    let key: [u8; 16] = body
        .as_slice()
        .try_into()
        .map_err(|_| failed(format!("it is {} bytes, not 16", body.len())))?;
    keys.insert(url.clone(), key);
    Ok(key)
}
