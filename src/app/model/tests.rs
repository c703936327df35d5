//! The list as plain data: events into rows, counts, the view and the selection.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::*;
use crate::protocol::{Checksum, ConnectProblem, DoneFile, FetchError, Outcome, SourceError};

fn new_row(text: &str) -> NewEntry {
    let source = Source::parse(text, Path::new("/")).map_err(|reason| {
        (
            FetchError::InvalidSource {
                input: text.to_owned(),
                reason,
            },
            "pasted line 1".to_owned(),
        )
    });
    NewEntry {
        uri: text.to_owned(),
        source,
        checksum: None,
        dest: PathBuf::from("/d"),
        guessed: false,
        options: std::sync::Arc::default(),
    }
}

fn finished(id: u64, bytes: u64, outcome: Outcome) -> Event {
    Event::Finished {
        id: JobId(id),
        elapsed: Duration::from_secs(2),
        bytes,
        outcome,
    }
}

#[test]
fn rows_follow_their_items_and_counts_follow_the_rows() {
    let t0 = Instant::now();
    let mut m = Model::default();
    m.push(JobId(1), new_row("http://h/a%20b.txt"), t0);
    m.push(JobId(2), new_row("nonsense://"), t0);
    assert_eq!(m.row(JobId(1)).map(|r| r.name.as_str()), Some("a b.txt"));
    assert_eq!((m.count(Status::Queued), m.count(Status::Failed)), (1, 1));
    let rejected = m
        .row(JobId(2))
        .and_then(|r| r.state.error())
        .unwrap_or_default();
    assert!(
        rejected.starts_with("invalid source 'nonsense://'")
            && rejected.ends_with("(pasted line 1)"),
        "{rejected}"
    );
    assert_eq!(m.active(), 1);

    m.apply(Event::Connecting { id: JobId(1) }, t0);
    let t1 = t0 + Duration::from_millis(100);
    m.apply(
        Event::Started {
            id: JobId(1),
            name: "a b.txt".into(),
            total: Some(1000),
            done: 0,
            resumable: true,
        },
        t1,
    );
    for (ms, done) in [(200, 100), (1200, 300), (2200, 500)] {
        m.apply(
            Event::Progress {
                id: JobId(1),
                done,
                total: Some(1000),
            },
            t0 + Duration::from_millis(ms),
        );
    }
    let t2 = t0 + Duration::from_millis(2200);
    let row = m.row(JobId(1)).expect("row");
    assert_eq!(row.status(), Status::Running);
    assert_eq!(row.state.bytes(), 500);
    assert_eq!(row.eta(t2), Some(Duration::from_millis(2500)));
    assert_eq!(row.elapsed(t2), Some(Duration::from_millis(2200)));
    assert_eq!(m.current_speed(t2).map(|s| s.round()), Some(200.0));
    assert_eq!(m.progress(), Some(0.5));

    let t3 = t2 + Duration::from_secs(1);
    m.apply(
        finished(
            1,
            1000,
            Outcome::Done {
                files: vec![DoneFile {
                    path: "/d/a b.txt".into(),
                    length: 1000,
                    sha256: Checksum([0; 32]),
                }],
                folder: None,
            },
        ),
        t3,
    );
    assert_eq!(m.count(Status::Done), 1);
    assert_eq!(m.active(), 0);
    assert_eq!(m.batch().wall(t3 + Duration::from_secs(9)), Some(t3 - t0));
    assert_eq!(m.batch().sum_items, Duration::from_secs(2));
}

#[test]
fn a_paused_row_keeps_its_size_and_elapsed_time_keeps_counting_across_resumes() {
    let t0 = Instant::now();
    let mut m = Model::default();
    m.push(JobId(1), new_row("http://h/big.bin"), t0);
    m.apply(
        Event::Started {
            id: JobId(1),
            name: "big.bin".into(),
            total: Some(300),
            done: 0,
            resumable: true,
        },
        t0,
    );
    m.apply(
        Event::Progress {
            id: JobId(1),
            done: 100,
            total: Some(300),
        },
        t0,
    );
    m.apply(
        finished(1, 100, Outcome::Paused),
        t0 + Duration::from_secs(2),
    );
    let paused = m.row(JobId(1)).expect("row");
    assert_eq!(
        paused.state.total(),
        Some(300),
        "the bar still knows the size"
    );
    assert_eq!(paused.state.kept_bytes(), 100);

    let again = m.retry(JobId(1), JobId(2), t0).expect("resumable");
    let Command::Submit { dest, .. } = again else {
        panic!("submitted");
    };
    assert_eq!(dest, Some(PathBuf::from("/d")), "resumed in its own folder");
    // While it waits, its kept bytes and size still show (Resume blanked them).
    let waiting = m.row(JobId(2)).expect("row");
    assert_eq!(waiting.status(), Status::Queued);
    assert_eq!((waiting.done(), waiting.total()), (100, Some(300)));
    let t1 = t0 + Duration::from_secs(10);
    m.apply(Event::Connecting { id: JobId(2) }, t1);
    let row = m.row(JobId(2)).expect("row");
    assert_eq!(
        row.elapsed(t1 + Duration::from_secs(1)),
        Some(Duration::from_secs(3)),
        "2 s before the pause and 1 s since"
    );
}

#[test]
fn filter_search_sort_retry_and_remove() {
    let t0 = Instant::now();
    let mut m = Model::default();
    for (i, name) in [
        (1, "zeta.iso"),
        (2, "Alpha.zip"),
        (3, "mid.bin"),
        (4, "beta.txt"),
    ] {
        m.push(
            JobId(i),
            new_row(&format!("http://h{i}.example/{name}")),
            t0,
        );
    }
    m.apply(
        finished(
            2,
            0,
            Outcome::Failed(FetchError::Connect {
                problem: ConnectProblem::Refused,
                detail: "refused".into(),
            }),
        ),
        t0,
    );
    m.set_filter(Some(Status::Failed));
    assert_eq!(m.view(), &[1]);
    m.set_filter(None);
    m.set_search("ALPHA");
    assert_eq!(m.view(), &[1]);
    m.set_search("h3.example");
    assert_eq!(m.view(), &[2], "the source matches too");
    m.set_search("");
    m.set_sort(SortKey::Name);
    assert_eq!(m.view(), &[1, 3, 2, 0]);
    m.set_sort(SortKey::Name);
    assert_eq!(m.view(), &[0, 2, 3, 1], "the same column again reverses");

    let Some(Command::Submit { source, .. }) = m.retry(JobId(2), JobId(10), t0) else {
        panic!("retryable");
    };
    assert_eq!(
        source,
        Source::parse("http://h2.example/Alpha.zip", Path::new("/")).expect("url")
    );
    assert!(m.row(JobId(2)).is_none());
    assert_eq!(m.row(JobId(10)).map(Entry::status), Some(Status::Queued));
    assert!(
        m.retry(JobId(10), JobId(11), t0).is_none(),
        "queued: not retryable"
    );

    let (active, keys) = m.remove(&[JobId(1), JobId(4)]);
    assert_eq!(active, vec![JobId(1), JobId(4)]);
    assert_eq!(keys, vec![1, 4]);
    assert_eq!(m.len(), 2);
    // Events for removed rows are ignored.
    m.apply(Event::Connecting { id: JobId(1) }, t0);
    assert_eq!(m.count(Status::Connecting), 0);
}

#[test]
fn clicks_select_one_toggle_or_a_range_in_view_order() {
    let t0 = Instant::now();
    let mut m = Model::default();
    for i in 1..=5 {
        m.push(JobId(i), new_row(&format!("http://h/{i}")), t0);
    }
    m.set_sort(SortKey::Added);
    m.set_sort(SortKey::Added); // descending: 5, 4, 3, 2, 1
    m.click(3, Click::default());
    m.click(
        1,
        Click {
            range: true,
            toggle: false,
        },
    );
    assert_eq!(m.selected(), vec![JobId(2), JobId(3), JobId(4)]);
    m.click(
        4,
        Click {
            toggle: true,
            range: false,
        },
    );
    assert_eq!(m.selected().len(), 4);
    m.context_click(2);
    assert_eq!(
        m.selected().len(),
        4,
        "a right-click inside keeps the selection"
    );
    m.context_click(0);
    assert_eq!(
        m.selected(),
        vec![JobId(1)],
        "outside: it becomes the selection"
    );
    m.clear_selection();
    assert!(!m.has_selection());
    m.select_all();
    assert_eq!(m.selected().len(), 5);
}

#[test]
fn a_source_already_in_the_list_is_found_and_clear_done_keeps_failures() {
    let t0 = Instant::now();
    let mut m = Model::default();
    m.push(JobId(1), new_row("http://h/a.bin"), t0);
    m.push(JobId(2), new_row("http://h/b.bin"), t0);
    let a = Source::parse("http://h/a.bin", Path::new("/")).expect("url");
    assert_eq!(m.find_source(&a).map(|r| r.id), Some(JobId(1)));
    m.apply(
        finished(
            1,
            5,
            Outcome::Done {
                files: vec![DoneFile {
                    path: "/d/a.bin".into(),
                    length: 1000,
                    sha256: Checksum([1; 32]),
                }],
                folder: None,
            },
        ),
        t0,
    );
    m.apply(
        finished(
            2,
            0,
            Outcome::Failed(FetchError::InvalidSource {
                input: "x".into(),
                reason: SourceError::Empty,
            }),
        ),
        t0,
    );
    assert!(m.batch().wall(t0).is_some());
    assert_eq!(m.clear_done(), vec![1]);
    assert_eq!(m.len(), 1, "the failed row stays");
    assert!(m.find_source(&a).is_none());
    // The summary showed times of items Clear done had removed.
    assert_eq!(m.batch().wall(t0), None, "the finished batch is forgotten");
}

/// Many small items, each done between two frames with no progress report of its own: the
/// current total speed counts their bytes (it said "calculating…" with 500 done in 6 s), and
/// a burst of reports does not shrink the window it looks over.
#[test]
fn the_total_speed_counts_small_items_that_never_report_progress() {
    let t0 = Instant::now();
    let mut m = Model::default();
    // A long item keeps the list working.
    m.push(JobId(1000), new_row("http://h/long.bin"), t0);
    m.apply(Event::Connecting { id: JobId(1000) }, t0);
    for i in 0..400u64 {
        let id = JobId(i);
        let at = t0 + Duration::from_millis(10 * i);
        m.push(id, new_row(&format!("http://h/f{i}.bin")), at);
        m.apply(Event::Connecting { id }, at);
        m.apply(
            Event::Started {
                id,
                name: format!("f{i}.bin"),
                total: Some(1000),
                done: 0,
                resumable: true,
            },
            at,
        );
        m.apply(
            finished(
                i,
                1000,
                Outcome::Done {
                    files: vec![DoneFile {
                        path: format!("/d/f{i}.bin").into(),
                        length: 1000,
                        sha256: Checksum([0; 32]),
                    }],
                    folder: None,
                },
            ),
            at,
        );
    }
    // 1,000 bytes every 10 ms: 100,000 bytes/s.
    let now = t0 + Duration::from_millis(3990);
    let speed = m.current_speed(now).expect("a speed after four seconds");
    assert!((speed - 100_000.0).abs() < 3_000.0, "{speed}");
}

fn order(m: &Model) -> Vec<u64> {
    m.rows().iter().map(|r| r.id.0).collect()
}

#[test]
fn rows_move_to_the_top_up_down_and_bottom_over_the_rows_in_view() {
    let t0 = Instant::now();
    let mut m = Model::default();
    for i in 1..=6 {
        m.push(JobId(i), new_row(&format!("http://h/{i}")), t0);
    }
    assert!(m.move_rows(&[JobId(5)], Move::Top));
    assert_eq!(order(&m), [5, 1, 2, 3, 4, 6]);
    assert!(!m.move_rows(&[JobId(5)], Move::Up), "already at the top");
    assert!(m.move_rows(&[JobId(1), JobId(3)], Move::Down));
    assert_eq!(
        order(&m),
        [5, 2, 4, 1, 3, 6],
        "gathered after the row below the last"
    );
    assert!(m.move_rows(&[JobId(5)], Move::Bottom));
    assert_eq!(order(&m), [2, 4, 1, 3, 6, 5]);
    assert!(
        !m.move_rows(&[JobId(5)], Move::Down),
        "already at the bottom"
    );
    assert!(m.move_rows(&[JobId(6)], Move::Before(JobId(2))));
    assert_eq!(order(&m), [6, 2, 4, 1, 3, 5]);
    assert!(m.move_rows(&[JobId(6)], Move::After(JobId(3))));
    assert_eq!(order(&m), [2, 4, 1, 3, 6, 5]);
    assert!(
        !m.move_rows(&[JobId(6)], Move::Before(JobId(6))),
        "onto itself"
    );
    // What the menu offers: no step up from the top, none down from the bottom.
    assert_eq!(m.move_room(&[JobId(2)]), (false, true));
    assert_eq!(m.move_room(&[JobId(5)]), (true, false));
    assert_eq!(m.move_room(&[JobId(2), JobId(4)]), (false, true));
    assert_eq!(
        m.move_room(&[JobId(2), JobId(1)]),
        (true, true),
        "apart: they gather"
    );
    // The lookups follow the rows (keys stay: they are the rows' identities).
    assert_eq!(m.row(JobId(6)).map(|r| r.gid), Some(6));
    assert_eq!(m.position_in_view(4), Some(4));
    assert_eq!(m.keys_in_order(), [2, 4, 1, 3, 6, 5]);

    // With a filter, Up steps over the rows shown, not the hidden ones between.
    m.set_filter(Some(Status::Queued));
    m.apply(Event::Connecting { id: JobId(1) }, t0);
    m.apply(Event::Connecting { id: JobId(3) }, t0);
    // In view: 2, 4, 6, 5 (1 and 3 are connecting).
    assert!(m.move_rows(&[JobId(6)], Move::Up));
    assert_eq!(order(&m), [2, 6, 4, 1, 3, 5]);
    assert_eq!(
        m.queued_in_order(),
        [JobId(2), JobId(6), JobId(4), JobId(5)]
    );

    // Sorted by a column, the rows shown above and below are not the list's: no step moves.
    m.set_filter(None);
    m.set_sort(SortKey::Name);
    assert!(!m.can_reorder());
    assert!(!m.move_rows(&[JobId(5)], Move::Up));
    assert_eq!(order(&m), [2, 6, 4, 1, 3, 5]);
    // A third click on the title gives the list's own order back.
    m.set_sort(SortKey::Name);
    m.set_sort(SortKey::Name);
    assert!(m.can_reorder());
}

/// Issue 28, item 7: the batch counts what ended in it (the "all done" notification speaks
/// of it), not every done row in the list.
#[test]
fn a_new_batch_counts_only_its_own_ends() {
    let t0 = Instant::now();
    let mut m = Model::default();
    let done = |n: u64| Outcome::Done {
        files: vec![DoneFile {
            path: format!("/d/{n}").into(),
            length: 1,
            sha256: Checksum([0; 32]),
        }],
        folder: None,
    };
    m.push(JobId(1), new_row("http://h/1"), t0);
    m.push(JobId(2), new_row("http://h/2"), t0);
    m.apply(finished(1, 1, done(1)), t0);
    m.apply(
        finished(
            2,
            0,
            Outcome::Failed(FetchError::HttpStatus {
                status: 404,
                reason: String::new(),
            }),
        ),
        t0,
    );
    assert_eq!((m.batch().done, m.batch().failed), (1, 1));
    let t1 = t0 + Duration::from_secs(5);
    m.push(JobId(3), new_row("http://h/3"), t1);
    m.apply(finished(3, 1, done(3)), t1);
    assert_eq!(m.count(Status::Done), 2, "the list has two done");
    assert_eq!(
        (m.batch().done, m.batch().failed),
        (1, 0),
        "this batch: one"
    );
}

/// After a restart downloads resume from their kept bytes: those were not received now, so
/// the total speed counts only what arrives (it read 433 MiB/s for seconds while the rows
/// summed to 16 MiB/s).
#[test]
fn kept_bytes_of_a_resumed_download_are_not_speed() {
    let t0 = Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let mut m = Model::default();
    let kept = 500 * 1024 * 1024;
    // One fresh download, and one that resumes a second later.
    for (id, done, from) in [(1, 0, 0), (2, kept, 1000)] {
        m.push(JobId(id), new_row(&format!("http://h/{id}.iso")), t0);
        let started = Event::Started {
            id: JobId(id),
            name: format!("{id}.iso"),
            total: Some(2 * kept),
            done,
            resumable: true,
        };
        m.apply(started, at(from));
    }
    for i in 1..=30u64 {
        for (id, done, from) in [(1, 0, 0), (2, kept, 1000)] {
            if 100 * i > from {
                let progress = Event::Progress {
                    id: JobId(id),
                    done: done + (100 * i - from) * 10_000,
                    total: Some(2 * kept),
                };
                m.apply(progress, at(100 * i));
            }
        }
    }
    // 10 MB/s each, the second for 2 of the last 3 s.
    let total = m.current_speed(at(3000)).expect("a speed after 3 s");
    assert!(total < 25_000_000.0, "{total}");
    assert_eq!(
        m.row(JobId(2)).map(|r| r.bytes_per_sec(at(3000))),
        Some(10_000_000)
    );
}

/// The batch's wall time is the time something ran: while every item waits (the schedule
/// holds the queue) it does not count ("2.9 s so far" grew while nothing ran).
#[test]
fn wall_time_counts_only_while_something_runs() {
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    let mut m = Model::default();
    m.push(JobId(1), new_row("http://h/a.bin"), at(0));
    m.push(JobId(2), new_row("http://h/b.bin"), at(0));
    assert_eq!(m.batch().wall(at(10)), Some(Duration::ZERO), "held 10 s");
    m.apply(Event::Connecting { id: JobId(1) }, at(10));
    assert_eq!(m.batch().wall(at(11)), Some(Duration::from_secs(1)));
    m.apply(
        finished(
            1,
            10,
            Outcome::Done {
                files: Vec::new(),
                folder: None,
            },
        ),
        at(12),
    );
    // The other waits an hour for the schedule, then runs.
    assert_eq!(m.batch().wall(at(1800)), Some(Duration::from_secs(2)));
    m.apply(Event::Connecting { id: JobId(2) }, at(3600));
    m.apply(
        finished(
            2,
            10,
            Outcome::Done {
                files: Vec::new(),
                folder: None,
            },
        ),
        at(3603),
    );
    assert!(!m.batch().is_running());
    assert_eq!(m.batch().wall(at(4000)), Some(Duration::from_secs(5)));
}

/// A quick batch applied within one frame (local copies: started and finished between two
/// frames) still took its items' time: at least its longest run (it showed no time at all).
#[test]
fn a_quick_batch_takes_at_least_its_longest_run() {
    let t0 = Instant::now();
    let mut m = Model::default();
    m.push(JobId(1), new_row("http://h/a.bin"), t0);
    let t1 = t0 + Duration::from_millis(30);
    m.apply(
        Event::Started {
            id: JobId(1),
            name: "a.bin".into(),
            total: Some(10),
            done: 0,
            resumable: true,
        },
        t1,
    );
    m.apply(
        finished(
            1,
            10,
            Outcome::Done {
                files: Vec::new(),
                folder: None,
            },
        ),
        t1,
    );
    assert!(!m.batch().is_running());
    assert_eq!(m.batch().wall(t1), Some(Duration::from_secs(2)));
}
