use std::time::Duration;

use super::*;
use crate::protocol::{Event, Outcome};

fn new(uri: &str) -> NewEntry {
    NewEntry {
        uri: uri.to_owned(),
        source: Ok(Source::parse(uri, std::path::Path::new("/")).expect("a source")),
        guessed: false,
        dest: PathBuf::from("/dl"),
        checksum: None,
        options: Arc::default(),
    }
}

/// Job 1's run ended paused with `bytes` kept.
fn paused(bytes: u64) -> Event {
    Event::Finished {
        id: JobId(1),
        elapsed: Duration::ZERO,
        bytes,
        outcome: Outcome::Paused,
    }
}

/// The gid stays while the engine's id changes with each run; events of the old id no longer
/// touch it, and the resubmission carries its folder and options.
#[test]
fn a_gid_outlives_its_job_ids() {
    let mut s = Session::new(7);
    let mut first = new("https://h/a.bin");
    Arc::make_mut(&mut first.options).max_rate = Some(500 * 1024);
    let (gid, submit) = s.add(first, JobId(1));
    assert!(matches!(submit, Some(Command::Submit { id: JobId(1), .. })));
    let now = Instant::now();
    s.apply(paused(10), now);
    assert_eq!(s.entry(gid).map(Entry::status), Some(Status::Paused));
    let Some(Command::Submit {
        id, dest, options, ..
    }) = s.resubmit(gid, JobId(2), now)
    else {
        panic!("resubmitted");
    };
    assert_eq!((id, dest), (JobId(2), Some(PathBuf::from("/dl"))));
    assert_eq!(options.max_rate, Some(500 * 1024));
    assert_eq!(s.gid_of(JobId(2)), Some(gid));
    assert_eq!(s.gid_of(JobId(1)), None);
    assert_eq!(s.apply(Event::Connecting { id: JobId(1) }, now), None);
    assert_eq!(s.entry(gid).map(Entry::status), Some(Status::Queued));
}

/// aria2's remove: the download stays, removed, with its bytes (a running one is paused),
/// until its result is dropped; the pause that follows does not bring it back.
#[test]
fn removed_stays_removed_until_forgotten() {
    let mut s = Session::new(1);
    let (gid, _) = s.add(new("https://h/a.bin"), JobId(1));
    let now = Instant::now();
    s.apply(Event::Connecting { id: JobId(1) }, now);
    assert!(matches!(s.remove(gid), Some(Command::Pause(JobId(1)))));
    s.apply(paused(10), now);
    let entry = s.entry(gid).expect("kept");
    assert!(entry.removed);
    assert_eq!(entry.done(), 10);
    s.forget(gid);
    assert!(s.entry(gid).is_none());
    assert!(s.entries().is_empty());
}

/// The speed is the recent bytes over time (the one estimator), zero once a run ends.
#[test]
fn speed_from_progress() {
    let mut s = Session::new(1);
    let (gid, _) = s.add(new("https://h/a.bin"), JobId(1));
    let t0 = Instant::now();
    let started = Event::Started {
        id: JobId(1),
        name: "a.bin".into(),
        total: None,
        done: 0,
        resumable: true,
    };
    s.apply(started, t0);
    for i in 0..=20u64 {
        let event = Event::Progress {
            id: JobId(1),
            done: 1_000_000 + i * 100_000,
            total: None,
        };
        s.apply(event, t0 + Duration::from_millis(100 * i));
    }
    let at = t0 + Duration::from_millis(2000);
    assert_eq!(s.entry(gid).map(|e| e.bytes_per_sec(at)), Some(1_000_000));
    s.apply(paused(3_000_000), at);
    assert_eq!(s.entry(gid).map(|e| e.bytes_per_sec(at)), Some(0));
}

/// Moving a download reorders what the engine starts next.
#[test]
fn reposition_sends_the_queue_order() {
    let mut s = Session::new(1);
    let (a, _) = s.add(new("https://h/a"), JobId(1));
    let (b, _) = s.add(new("https://h/b"), JobId(2));
    let (c, _) = s.add(new("https://h/c"), JobId(3));
    let Some(Command::Reorder(queued)) = s.reposition(c, a, false) else {
        panic!("reordered");
    };
    assert_eq!(queued, vec![JobId(3), JobId(1), JobId(2)]);
    let order: Vec<u64> = s.entries().iter().map(|e| e.gid).collect();
    assert_eq!(order, vec![c, a, b]);
    assert_ne!(a, b);
}

/// A row for `text` running at 1 MB a second for two seconds (its size `total`): its gid, and
/// the time then.
fn a_megabyte_a_second(s: &mut Session, text: &str, total: Option<u64>) -> (u64, Instant) {
    let (gid, _) = s.add(new(text), JobId(1));
    let t0 = Instant::now();
    s.apply(Event::Connecting { id: JobId(1) }, t0);
    let started = Event::Started {
        id: JobId(1),
        name: "a".into(),
        total,
        done: 0,
        resumable: true,
    };
    s.apply(started, t0);
    for i in 1..=8u64 {
        let progress = Event::Progress {
            id: JobId(1),
            done: i * 250_000,
            total,
        };
        s.apply(progress, t0 + Duration::from_millis(i * 250));
    }
    (gid, t0 + Duration::from_secs(2))
}

/// A video stream's size is known only at its end: its row's ETA is guessed from its bytes per
/// segment so far (1 of 4 segments in 2 MB: about 6 MB to go).
#[test]
fn a_streams_eta_comes_from_its_segments() {
    let mut s = Session::new(1);
    let (gid, now) = a_megabyte_a_second(&mut s, "https://h/v/index.m3u8", None);
    assert_eq!(
        s.entry(gid).and_then(|e| e.eta(now)),
        None,
        "no segments known yet"
    );
    let info = crate::protocol::StreamInfo {
        done: 1,
        total: Some(4),
        held_bytes: 2_000_000,
        ..Default::default()
    };
    s.apply(Event::Stream { id: JobId(1), info }, now);
    let eta = s.entry(gid).and_then(|e| e.eta(now)).expect("an ETA");
    // 6,000,000 bytes to go at about 1 MB/s.
    assert!(
        eta > Duration::from_secs(5) && eta < Duration::from_secs(8),
        "{eta:?}"
    );
    // 1 of 60 segments held (400,000 bytes), the rest of the 2,000,000 received in flight:
    // about 24,000,000 in all, 22 s to go (by the bytes received: 120,000,000, 118 s).
    let info = crate::protocol::StreamInfo {
        done: 1,
        total: Some(60),
        held_bytes: 400_000,
        ..Default::default()
    };
    s.apply(Event::Stream { id: JobId(1), info }, now);
    let eta = s.entry(gid).and_then(|e| e.eta(now)).expect("an ETA");
    assert!(
        eta > Duration::from_secs(20) && eta < Duration::from_secs(25),
        "{eta:?}"
    );
}

/// With nothing left to fetch (a torrent seeding, its bytes all there) there is no time left
/// to tell: not "0 ms" while the recent speed is still above zero; seeding, no speed either.
#[test]
fn nothing_left_has_no_eta_and_seeding_no_speed() {
    let mut s = Session::new(1);
    let magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567";
    let (gid, now) = a_megabyte_a_second(&mut s, magnet, Some(2_000_000));
    let entry = s.entry(gid).expect("the row");
    assert!(entry.bytes_per_sec(now) > 0, "still a recent speed");
    assert_eq!(entry.eta(now), None);
    // Seeding: it fetches nothing now (the summary's speed said the last seconds' 255 KiB/s).
    let swarm = crate::protocol::Swarm {
        seeding: true,
        ..Default::default()
    };
    s.apply(
        Event::Swarm {
            id: JobId(1),
            swarm,
        },
        now,
    );
    assert_eq!(s.entry(gid).map(|e| e.bytes_per_sec(now)), Some(0));
}

/// A magnet row is named by its `dn` (display name) until the metadata names the torrent, as
/// torrent clients show it; one without a `dn` shows the link.
#[test]
fn a_magnet_row_is_named_by_its_display_name() {
    let mut s = Session::new(1);
    let named =
        "magnet:?xt=urn:btih:3b245504cf5f11bbdbe1201cea6a6bf45aee1bc0&dn=ubuntu%2024.04.iso";
    let (gid, _) = s.add(new(named), JobId(1));
    assert_eq!(
        s.entry(gid).map(|e| e.name.as_str()),
        Some("ubuntu 24.04.iso")
    );
    let bare = "magnet:?xt=urn:btih:3b245504cf5f11bbdbe1201cea6a6bf45aee1bc0";
    let (gid, _) = s.add(new(bare), JobId(2));
    assert_eq!(s.entry(gid).map(|e| e.name.as_str()), Some(bare));
}

/// A done row's size is what it wrote, its files together (a video stream's merged file is
/// not the bytes received): 700 written of 1000 received shows 700; 900 + 300, 1200.
#[test]
fn a_done_rows_size_is_its_files_not_the_bytes_received() {
    let file = |name: &str, length| crate::protocol::DoneFile {
        path: PathBuf::from(name),
        length,
        sha256: crate::protocol::Checksum([0; 32]),
    };
    for (files, want) in [
        (vec![file("/dl/a.mp4", 700)], 700),
        (
            vec![file("/dl/a.mp4", 900), file("/dl/a.en.vtt", 300)],
            1200,
        ),
    ] {
        let mut s = Session::new(7);
        let (gid, _) = s.add(new("https://h/a.m3u8"), JobId(1));
        s.apply(
            Event::Finished {
                id: JobId(1),
                elapsed: Duration::ZERO,
                bytes: 1000,
                outcome: Outcome::Done {
                    files,
                    folder: None,
                },
            },
            Instant::now(),
        );
        let entry = s.entry(gid).expect("the row");
        assert_eq!(entry.status(), Status::Done);
        assert_eq!(entry.total(), Some(want));
        assert_eq!(
            entry.state.bytes(),
            1000,
            "the bytes received stay as they were"
        );
    }
}
