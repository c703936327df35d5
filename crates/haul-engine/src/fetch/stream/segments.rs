//! A stream's segments fetched concurrently: as many at once as the item's `split` allows,
//! the first on the item's own host slot and each other on an extra one taken from the host's
//! [`HostSlots`](crate::slots::HostSlots) only while the host has room and no item waits for
//! it (a slot goes back as its segment ends). Each segment is read into memory (segments are
//! small) under the stall timeout and the speed limits, tried again as a file would be
//! (`retry::delay`, each retry told as a file's is, `Event::Retrying`; the row runs
//! again once the segment's next try has its bytes), decrypted (AES-128-CBC, the key fetched
//! once with the item's credentials) and handed to `held`. A segment that keeps failing fails
//! the item with its number, URL and reason.
//! Must not touch: the order of the merged file (`merge`), the playlists.

use std::collections::HashMap;
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

/// What a finished segment task gives back: where the segment goes and its bytes.
type Done = (usize, usize, Result<Vec<u8>, Stop>);

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
    loop {
        // The first segment runs on the item's own slot; the others each take an extra one.
        while failure.is_none() && running.len() < most {
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
            let Some((t, i)) = todo.next() else { break };
            let segment = plan.tracks[t].segments[i].clone();
            let ctx = Arc::clone(&ctx);
            running.spawn(async move {
                let fetched = fetch(&ctx, &segment).await;
                drop(slot);
                (t, i, fetched)
            });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        match joined {
            Ok((t, i, Ok(bytes))) => {
                if failure.is_none() {
                    match held.store(t, i, bytes).await {
                        Ok(()) => report.held(job, held.count(), false),
                        Err(reason) => {
                            failure = Some(reason);
                            ctx.stop.cancel();
                        }
                    }
                }
            }
            Ok((_, _, Err(reason))) => {
                if failure.is_none() {
                    failure = Some(reason);
                    ctx.stop.cancel();
                }
            }
            Err(e) => {
                failure.get_or_insert(Stop::Failed(internal(&e)));
                ctx.stop.cancel();
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
async fn fetch(ctx: &Ctx, segment: &Segment) -> Result<Vec<u8>, Stop> {
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
async fn once(ctx: &Ctx, segment: &Segment) -> Result<Vec<u8>, Stop> {
    let via = &ctx.via;
    let opened = via.open(&segment.url, segment.range, &ctx.stop).await?;
    let whole = opened.body == Body::Full;
    let mut body = Vec::with_capacity(
        opened
            .total
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
        // Progress counts only segments that will be kept.
        received.fetch_sub(body.len() as u64, Ordering::Relaxed);
        return Err(reason);
    }
    if let (Some((offset, length)), true) = (segment.range, whole) {
        // The server ignored the range: the segment is its slice of the whole file.
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(usize::try_from(length).unwrap_or(usize::MAX));
        let Some(slice) = body.get(start..end) else {
            return Err(Stop::Failed(FetchError::ShortBody {
                expected: offset + length,
                received: body.len() as u64,
            }));
        };
        received.fetch_sub((body.len() - slice.len()) as u64, Ordering::Relaxed);
        body = slice.to_vec();
    }
    match &segment.key {
        None => Ok(body),
        Some(key) => decrypt(ctx, key, segment.number, &body).await,
    }
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
