//! Live HLS streams recorded from now on: from the live edge (the last three segments, as
//! RFC 8216 §6.3.3 asks a client to start no nearer the end), the media playlist (and a
//! separate audio rendition's and the subtitles renditions asked for, followed alike: each
//! track from its own edge) asked again
//! every target duration (half of it when nothing new came), each new segment (by media
//! sequence number) fetched once, never one twice; until the item is stopped (Stop, pause,
//! Ctrl+C: what was recorded is then merged and saved), its `--duration` has passed, or the
//! playlist ends (`#EXT-X-ENDLIST`). Cancelling the item throws the recording away.
//! Must not touch: how a segment is fetched (`segments`), the merge (`merge`).

use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::held::Held;
use super::{Live, Plan, Report, Segment, Track, fetch_playlist, hls};
use crate::fetch::Stop;
use crate::item::{Job, Shared};
use crate::stop::StopReason;

/// Segments kept from the live edge when recording starts.
const FROM_EDGE: usize = 3;

/// Keeps only the last [`FROM_EDGE`] media segments of a live playlist (with the init segment
/// that applies to them).
pub(super) fn from_edge(track: &mut Track) {
    let media: Vec<usize> = (0..track.segments.len())
        .filter(|&i| !track.segments[i].init)
        .collect();
    let Some(&first) = media.iter().rev().nth(FROM_EDGE - 1).or(media.first()) else {
        return;
    };
    let init = (0..first).rev().find(|&i| track.segments[i].init);
    let mut kept: Vec<_> = init
        .map(|i| track.segments[i].clone())
        .into_iter()
        .collect();
    kept.extend(track.segments.drain(first..));
    track.segments = kept;
}

/// Records a live stream into `held` until it is stopped, its duration has passed or it ends.
/// `Ok` means: merge what was recorded.
pub(super) async fn record(
    job: &Job,
    plan: &mut Plan,
    held: &mut Held,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
    report: &mut Report,
) -> Result<(), Stop> {
    let Some(live) = plan.live.clone() else {
        return Ok(());
    };
    // One round's stop: the item's, or the duration running out.
    let round = stop.child_token();
    let timer = job.options.duration.map(|duration| {
        let round = round.clone();
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            round.cancel();
        })
    });
    let recorded = rounds(job, plan, &live, held, (&round, shared), report).await;
    if let Some(timer) = timer {
        timer.abort();
    }
    match recorded {
        Err(Stop::Stopped) => match job.stop.reason() {
            // Cancelled: the recording is not wanted.
            Some(StopReason::Cancel) => Err(Stop::Stopped),
            // Stopped by the person, by its deadline, or by its duration: saved.
            _ => Ok(()),
        },
        other => other,
    }
}

async fn rounds(
    job: &Job,
    plan: &mut Plan,
    live: &Live,
    held: &mut Held,
    (round, shared): (&CancellationToken, &Arc<Shared>),
    report: &mut Report,
) -> Result<(), Stop> {
    // The newest segment of each followed track so far.
    let mut last: Vec<u64> = (0..live.urls.len())
        .map(|t| plan.tracks[t].segments.last().map_or(0, |s| s.number))
        .collect();
    loop {
        super::segments::fetch_all(job, plan, held, round, shared, report).await?;
        let asked = Instant::now();
        let (mut gained, mut ended) = (false, true);
        for (t, url) in live.urls.iter().enumerate() {
            let (new, over) = newer(job, url, last[t], round).await?;
            if let Some(newest) = new.last() {
                last[t] = newest.number;
            }
            gained |= !new.is_empty();
            ended &= over;
            plan.tracks[t].segments.extend(new);
        }
        if ended {
            super::segments::fetch_all(job, plan, held, round, shared, report).await?;
            return Ok(());
        }
        // RFC 8216 §6.3.4: again after the target duration, or half of it when the playlist
        // had not changed.
        let wait = if gained { live.target } else { live.target / 2 };
        let left = wait.saturating_sub(asked.elapsed());
        tokio::select! {
            () = round.cancelled() => return Err(Stop::Stopped),
            () = tokio::time::sleep(left) => {}
        }
    }
}

/// The media playlist at `url` asked again: its segments after number `last`, and whether it
/// has ended (`#EXT-X-ENDLIST`).
async fn newer(
    job: &Job,
    url: &url::Url,
    last: u64,
    round: &CancellationToken,
) -> Result<(Vec<Segment>, bool), Stop> {
    let (base, body) = fetch_playlist(job, url, round).await?;
    let m3u8_rs::Playlist::MediaPlaylist(media) = hls::parse(&body)? else {
        return Err(Stop::Failed(crate::protocol::FetchError::Stream(
            "the live playlist turned into a master playlist".to_owned(),
        )));
    };
    let fresh = hls::track(&base, &media)?;
    let new = fresh
        .segments
        .into_iter()
        .filter(|s| s.number > last)
        .collect();
    Ok((new, !hls::is_live(&media)))
}
