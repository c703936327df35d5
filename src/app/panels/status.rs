//! What a row's status column says: the status, what a queued row waits for (a cap, the
//! schedule), what the schedule paused, the retry countdown, or for a failure a person's
//! sentence.
//!
//! Owns: [`Around`] (what the status reads besides the row) and [`status_text`]. Must not
//! touch: drawing (the list's), the rows' state (the session's).

use std::time::Instant;

use super::super::i18n::{T, Tr};
use super::super::model::{Entry, Model, State};
use crate::protocol::{Limits, Source, Waiting};

/// What a row's status says besides the row: the limits in force (what a queued row waits
/// for) and the schedule (what it holds).
pub(super) struct Around<'a> {
    pub caps: Limits,
    /// While the schedule holds the queue: when it lets downloads run again (`01:00`,
    /// `tomorrow at 01:00`), and the rows (by gid) it paused.
    pub held: Option<(String, &'a std::collections::HashSet<u64>)>,
}

/// What the status column says: the status, what the row waits for, the retry countdown, or
/// for a failure a person's sentence (the technical text is on hover and in the details).
pub(super) fn status_text(
    tr: Tr,
    row: &Entry,
    now: Instant,
    model: &Model,
    around: &Around<'_>,
) -> String {
    // The schedule holds the queue: it says until when (a schedule pause looked like one by
    // hand).
    if let Some((until, key)) = held_by_schedule(row, around) {
        return tr.fill(key, &[("time", until)]);
    }
    // Removed over the RPC (aria2's `remove`): it said "paused", as if by hand here.
    if row.removed && row.status() == crate::protocol::Status::Paused {
        return tr.get(T::StatusRemoved).to_owned();
    }
    match &row.state {
        State::Retrying {
            attempt, of, at, ..
        } => {
            let wait = tr.fill(
                T::RetryIn,
                &[
                    ("n", &attempt.to_string()),
                    ("of", &of.to_string()),
                    ("wait", &tr.duration(at.saturating_duration_since(now))),
                ],
            );
            format!("{wait} — {}", tr.why(&row.state))
        }
        State::Connecting {
            waiting: Some(Waiting::PartInUse { part }),
            ..
        } => tr.fill(
            T::WaitingForPart,
            &[(
                "name",
                &part
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )],
        ),
        State::Connecting { attempt, of, .. } if *attempt > 0 => tr.fill(
            T::ConnectingTry,
            &[("n", &attempt.to_string()), ("of", &of.to_string())],
        ),
        State::Failed { .. } | State::TimedOut { .. } => tr.why(&row.state),
        State::Running { .. } if row.connections() > 1 => {
            tr.fill(T::RunningOver, &[("n", &row.connections().to_string())])
        }
        // A retry under way says so while it runs, not only while it waits: a server that
        // stalls again showed plain "downloading" for each try's whole stall time.
        State::Running { attempt, of, .. } if *attempt > 0 => tr.fill(
            T::RunningTry,
            &[("n", &attempt.to_string()), ("of", &of.to_string())],
        ),
        State::Connecting { .. } | State::Running { .. } if row.swarm.is_some() => {
            torrent_text(tr, row).unwrap_or_else(|| tr.status(row.status()).to_owned())
        }
        State::Running { .. } | State::Paused { .. } if row.stream.is_some() => {
            let mut text = tr.status(row.status()).to_owned();
            if let Some(segments) = stream_text(tr, row) {
                text = format!("{text} · {segments}");
            }
            text
        }
        State::Queued { .. } => queued_reason(tr, row, model, &around.caps)
            .map_or_else(|| tr.status(row.status()).into(), |(short, _)| short),
        _ if row.cannot_resume() => {
            format!("{} · {}", tr.status(row.status()), tr.get(T::CantResume))
        }
        _ => tr.status(row.status()).to_owned(),
    }
}

/// A running torrent: "fetching metadata…" (a magnet link), its peers and seeds while it
/// downloads, "seeding · ratio 0.4" once its files are verified and in place.
fn torrent_text(tr: Tr, row: &Entry) -> Option<String> {
    let swarm = row.swarm?;
    if swarm.metadata {
        return Some(tr.get(T::TorrentMetadata).to_owned());
    }
    if swarm.seeding {
        let ratio = swarm.uploaded as f64 / row.total().unwrap_or(0).max(1) as f64;
        return Some(tr.fill(T::TorrentSeeding, &[("ratio", &format!("{ratio:.2}"))]));
    }
    let peers = tr.fill(
        T::TorrentPeers,
        &[
            ("peers", &swarm.peers.to_string()),
            ("seeds", &swarm.seeds.to_string()),
        ],
    );
    Some(format!("{} · {peers}", tr.status(row.status())))
}

/// A video stream's segments ("12 of 60 segments", or for a live recording "12 segments
/// recorded") and the variant fetched.
pub(super) fn stream_text(tr: Tr, row: &Entry) -> Option<String> {
    let stream = row.stream.as_ref()?;
    let mut text = segments_text(tr, stream)?;
    if let Some(quality) = &stream.quality {
        text = format!("{text} · {quality}");
    }
    Some(text)
}

/// A video stream's segments: "12 of 60 segments", or "12 segments recorded" while live.
pub(super) fn segments_text(tr: Tr, stream: &crate::protocol::StreamInfo) -> Option<String> {
    let done = stream.done.to_string();
    Some(match stream.total {
        Some(total) => tr.fill(
            T::StreamSegments,
            &[("done", &done), ("total", &total.to_string())],
        ),
        None => tr.fill(T::StreamRecorded, &[("done", &done)]),
    })
}

/// Until when the schedule holds row `row`, and the sentence that says so: a queued row while
/// the schedule holds the queue, a paused one the schedule paused.
fn held_by_schedule<'a>(row: &Entry, around: &'a Around<'_>) -> Option<(&'a str, T)> {
    let (until, paused) = around.held.as_ref()?;
    match row.state {
        State::Queued { .. } => Some((until, T::QueuedForSchedule)),
        State::Paused { .. } if paused.contains(&row.gid) => Some((until, T::PausedBySchedule)),
        _ => None,
    }
}

/// What a queued row waits for, when a cap holds it back: all the downloads at once that are
/// allowed, or every connection its server may have (`None`: neither, e.g. it is next). The
/// short sentence for the column, and the whole one for its tooltip.
pub(super) fn queued_reason(
    tr: Tr,
    row: &Entry,
    model: &Model,
    caps: &Limits,
) -> Option<(String, String)> {
    let both =
        |short: T, long: T, args: &[(&str, &str)]| (tr.fill(short, args), tr.fill(long, args));
    let working = model.working();
    if working >= caps.jobs {
        let n = working.to_string();
        return Some(both(T::QueuedForSlot, T::QueuedForSlotLong, &[("n", &n)]));
    }
    let source = row.source.as_ref()?;
    let in_use = model.connections_to(&source.host_key()?);
    // With its port when it has one: the cap is per host and port (two servers on one
    // machine were both "127.0.0.1").
    let host = match source {
        Source::Url(_) => row.origin_label(),
        Source::File(_) => return None,
    };
    let n = in_use.to_string();
    (in_use >= caps.per_host).then(|| {
        both(
            T::QueuedForHost,
            T::QueuedForHostLong,
            &[("n", &n), ("host", &host)],
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::i18n::Lang;
    use crate::protocol::{Event, FetchError, JobId, Outcome};
    use crate::session::NewEntry;
    use std::time::Duration;

    /// A list with one row, for `uri`, as job 1.
    fn one_row(uri: &str, t0: Instant) -> Model {
        let mut model = Model::default();
        let new = NewEntry {
            source: Ok(Source::parse(uri, std::path::Path::new("/")).expect("a source")),
            uri: uri.to_owned(),
            guessed: false,
            dest: "/d".into(),
            checksum: None,
            options: std::sync::Arc::default(),
        };
        model.push(JobId(1), new, t0);
        model
    }

    /// A retry under way says so while it runs (a stalling server showed plain
    /// "downloading" for each try's whole stall time).
    #[test]
    fn a_retry_says_so_while_it_runs() {
        let t0 = Instant::now();
        let mut model = one_row("http://h/a.bin", t0);
        let started = || Event::Started {
            id: JobId(1),
            name: "a.bin".into(),
            total: Some(100),
            done: 0,
            resumable: true,
        };
        model.apply(Event::Connecting { id: JobId(1) }, t0);
        model.apply(started(), t0);
        let stalled = FetchError::Body("no data".into());
        model.apply(
            Event::Retrying {
                id: JobId(1),
                attempt: 1,
                of: 3,
                delay: Duration::from_secs(1),
                reason: "no data received".into(),
                cause: Outcome::Failed(stalled),
            },
            t0,
        );
        model.apply(Event::Connecting { id: JobId(1) }, t0);
        model.apply(started(), t0);
        let around = Around {
            caps: Limits::default(),
            held: None,
        };
        let row = model.row(JobId(1)).expect("row");
        assert_eq!(
            status_text(Tr(Lang::En), row, t0, &model, &around),
            "downloading (retry 1 of 3)"
        );
    }

    /// A torrent's row says it waits for its metadata, then its peers and seeds, then that it
    /// seeds and its ratio.
    #[test]
    fn a_torrent_row_says_metadata_peers_and_seeding() {
        use crate::protocol::Swarm;
        let t0 = Instant::now();
        let mut model = one_row(
            "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567",
            t0,
        );
        let around = Around {
            caps: Limits::default(),
            held: None,
        };
        let swarm = |swarm: Swarm| Event::Swarm {
            id: JobId(1),
            swarm,
        };
        let said = |model: &Model, lang| {
            let row = model.row(JobId(1)).expect("row");
            status_text(Tr(lang), row, t0, model, &around)
        };
        model.apply(Event::Connecting { id: JobId(1) }, t0);
        model.apply(
            swarm(Swarm {
                metadata: true,
                ..Swarm::default()
            }),
            t0,
        );
        assert_eq!(said(&model, Lang::En), "fetching metadata…");
        assert_eq!(said(&model, Lang::Zh), "正在获取元数据…");
        model.apply(
            Event::Started {
                id: JobId(1),
                name: "set".into(),
                total: Some(1000),
                done: 0,
                resumable: true,
            },
            t0,
        );
        model.apply(
            swarm(Swarm {
                peers: 3,
                seeds: 2,
                ..Swarm::default()
            }),
            t0,
        );
        // Read the same for one as for many ("1 peers, 1 seeds" before).
        assert_eq!(said(&model, Lang::En), "downloading · peers: 3, seeds: 2");
        model.apply(
            swarm(Swarm {
                peers: 1,
                uploaded: 400,
                seeding: true,
                ..Swarm::default()
            }),
            t0,
        );
        assert_eq!(said(&model, Lang::En), "seeding · ratio 0.40");
        assert_eq!(said(&model, Lang::Zh), "做种中 · 分享率 0.40");
    }
}
