//! Nothing lost: pause and resume, resuming against servers that ignore or botch ranges,
//! retries (with `Retry-After`), checksums and the size limit — the real engine against the
//! loopback fixture, checking every outcome and what is on disk.

use std::path::Path;
use std::time::Duration;

use crate::support::harness::{self, Finished, Harness, sha};
use crate::support::{Server, body, body_gen};
use haul_core::protocol::{
    Checksum, DoneFile, Event, FetchError, JobId, Limits, Outcome, Source, TimeoutKind,
};
use haul_engine::resume::{self, Sidecar};

/// The kit's limits with four at once and quick retries.
fn limits() -> Limits {
    Limits {
        jobs: 4,
        per_host: 4,
        retry_base: Duration::from_millis(50),
        ..harness::limits()
    }
}

/// The retries announced for `id`: (attempt, delay, reason).
fn retries_of(h: &Harness, id: JobId) -> Vec<(u32, Duration, String)> {
    h.log
        .iter()
        .filter_map(|e| match e {
            Event::Retrying {
                id: of_id,
                attempt,
                delay,
                reason,
                ..
            } if *of_id == id => Some((*attempt, *delay, reason.clone())),
            _ => None,
        })
        .collect()
}

/// The outcome is Done, the file holds exactly `expected`, and nothing else is left.
fn assert_done(h: &Harness, outcome: &Outcome, name: &str, expected: &[u8]) {
    let Outcome::Done { files, .. } = outcome else {
        panic!("expected done, got {outcome:?}");
    };
    let [DoneFile { path, sha256, .. }] = files.as_slice() else {
        panic!("expected one file, got {files:?}");
    };
    assert_eq!(path, &h.out.join(name));
    let on_disk = std::fs::read(path).expect("result");
    assert_eq!(on_disk.len(), expected.len(), "length of {name}");
    assert!(on_disk == expected, "{name} differs");
    assert_eq!(*sha256, sha(expected));
    assert_eq!(h.listing(), [name], "only the file is left");
}

/// A `.part` and sidecar as an earlier run would have left them.
fn leave_part(out: &Path, url: &str, name: &str, bytes: &[u8], etag: Option<&str>, total: u64) {
    std::fs::create_dir_all(out).expect("out");
    let part = out.join(format!("{name}.part"));
    std::fs::write(&part, bytes).expect("part");
    let mut sidecar = Sidecar::new(url, name);
    sidecar.etag = etag.map(str::to_owned);
    sidecar.total = Some(total);
    sidecar.written = bytes.len() as u64;
    resume::write(&part, &sidecar).expect("sidecar");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_item_keeps_its_bytes_and_resumes_with_a_range() {
    let server = Server::start().await;
    let mut h = Harness::new(limits());
    let url = server.url("/bytes/200000/p.bin?range=1&etag=v1&drip_ms=5");
    let id = h.submit(&url);
    h.wait_for(
        id,
        |e| matches!(e, Event::Progress { done, .. } if *done >= 10_000),
    )
    .await;
    h.engine.handle().pause(id);
    let Finished {
        bytes: kept,
        outcome,
        ..
    } = h.finish_one(id).await;
    assert_eq!(outcome, Outcome::Paused);
    assert_eq!(h.listing(), ["p.bin.part", "p.bin.part.haul"]);
    let part = std::fs::read(h.out.join("p.bin.part")).expect("part");
    assert!(
        part.len() as u64 >= kept.min(10_000),
        "kept {} bytes",
        part.len()
    );
    assert!(
        body(200_000).starts_with(&part),
        "kept bytes are the served ones"
    );

    let again = h.submit(&url);
    let Finished { bytes, outcome, .. } = h.finish_one(again).await;
    assert_done(&h, &outcome, "p.bin", &body(200_000));
    assert_eq!(bytes, 200_000);
    let log = server.request_log();
    assert_eq!(log.len(), 2);
    assert_eq!(log[1].range, Some(format!("bytes={}-", part.len())));
    assert_eq!(log[1].if_range.as_deref(), Some("\"v1\""));
    // The run says what it resumes from: those bytes are not received now (a window's total
    // speed read them as received).
    let resumed = h.log.iter().find_map(|e| match e {
        Event::Started { id, done, .. } if *id == again => Some(*done),
        _ => None,
    });
    assert_eq!(resumed, Some(part.len() as u64));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_instead_of_206_starts_over_and_never_appends() {
    let server = Server::start().await;
    let mut h = Harness::new(limits());
    let url = server.url("/bytes/50000/x.bin?range=ignore&etag=v1");
    leave_part(
        &h.out,
        &url,
        "x.bin",
        &body(50_000)[..20_000],
        Some("\"v1\""),
        50_000,
    );
    let id = h.submit(&url);
    let outcome = h.finish_one(id).await.outcome;
    assert_done(&h, &outcome, "x.bin", &body(50_000));
    assert_eq!(
        server.request_log()[0].range.as_deref(),
        Some("bytes=20000-")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_206_with_the_wrong_content_range_is_not_used() {
    let server = Server::start().await;
    for (mode, name) in [("wrong", "w.bin"), ("total", "t.bin")] {
        let mut h = Harness::new(limits());
        let url = server.url(&format!("/bytes/30000/{name}?range={mode}&etag=v1"));
        leave_part(
            &h.out,
            &url,
            name,
            &body(30_000)[..10_000],
            Some("\"v1\""),
            30_000,
        );
        let id = h.submit(&url);
        let outcome = h.finish_one(id).await.outcome;
        assert_done(&h, &outcome, name, &body(30_000));
    }
    // Each time: the range request, then the whole file without a range.
    let log = server.request_log();
    assert_eq!(log.len(), 4);
    assert_eq!(log[0].range.as_deref(), Some("bytes=10000-"));
    assert_eq!(log[1].range, None);
    assert_eq!(log[2].range.as_deref(), Some("bytes=10000-"));
    assert_eq!(log[3].range, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_416_for_exactly_our_length_means_complete_else_start_over() {
    let server = Server::start().await;
    let mut h = Harness::new(limits());
    let complete = server.url("/bytes/8000/c.bin?range=1&etag=v1");
    leave_part(
        &h.out,
        &complete,
        "c.bin",
        &body(8000),
        Some("\"v1\""),
        8000,
    );
    let id = h.submit(&complete);
    let outcome = h.finish_one(id).await.outcome;
    assert_done(&h, &outcome, "c.bin", &body(8000));
    assert_eq!(server.request_log().len(), 1, "nothing fetched again");

    // Our part is longer than the server's file: 416 with another length → start over.
    let mut h = Harness::new(limits());
    let shrunk = server.url("/bytes/8000/s.bin?range=1");
    leave_part(&h.out, &shrunk, "s.bin", &body(9000), None, 9000);
    let id = h.submit(&shrunk);
    let outcome = h.finish_one(id).await.outcome;
    assert_done(&h, &outcome, "s.bin", &body(8000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_changed_since_the_pause_is_fetched_whole() {
    let server = Server::start().await;
    let mut h = Harness::new(limits());
    let url = server.url("/bytes/40000/v.bin?range=1&etag=v1");
    leave_part(
        &h.out,
        &url,
        "v.bin",
        &body(40_000)[..15_000],
        Some("\"v1\""),
        40_000,
    );
    server.set_generation("/bytes/40000/v.bin", 1);
    let id = h.submit(&url);
    let outcome = h.finish_one(id).await.outcome;
    // If-Range no longer matches: the server sends the new file whole; no old byte survives.
    assert_done(&h, &outcome, "v.bin", &body_gen(40_000, 1));
    let log = server.request_log();
    assert_eq!(log[0].if_range.as_deref(), Some("\"v1\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resets_are_retried_and_each_retry_resumes() {
    let server = Server::start().await;
    let mut h = Harness::new(Limits {
        retries: 3,
        ..limits()
    });
    let id = h.submit(&server.url("/bytes/10000/r.bin?range=1&etag=v1&reset_after=4000"));
    let outcome = h.finish_one(id).await.outcome;
    assert_done(&h, &outcome, "r.bin", &body(10_000));
    let ranges: Vec<Option<String>> = server.request_log().into_iter().map(|r| r.range).collect();
    assert_eq!(
        ranges,
        [
            Some("bytes=0-".into()),
            Some("bytes=4000-".into()),
            Some("bytes=8000-".into())
        ]
    );
    let retries = retries_of(&h, id);
    assert_eq!(retries.len(), 2);
    assert!(retries[0].2.contains("transfer broke off"), "{retries:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_body_is_retried_from_where_it_stopped() {
    let server = Server::start().await;
    let mut h = Harness::new(Limits {
        retries: 5,
        ..limits()
    });
    let id = h.submit(&server.url("/bytes/9000/s.bin?range=1&etag=v1&short=3000"));
    let outcome = h.finish_one(id).await.outcome;
    assert_done(&h, &outcome, "s.bin", &body(9000));
    assert_eq!(server.request_log().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_with_backoff_then_succeed() {
    let server = Server::start().await;
    let mut h = Harness::new(Limits {
        retries: 3,
        ..limits()
    });
    let id = h.submit(&server.url("/bytes/5000/e.bin?fail_first=2&fail_status=503"));
    let outcome = h.finish_one(id).await.outcome;
    assert_done(&h, &outcome, "e.bin", &body(5000));
    let retries = retries_of(&h, id);
    assert_eq!(retries.len(), 2, "{retries:?}");
    assert_eq!((retries[0].0, retries[1].0), (1, 2));
    // 50 ms, then 100 ms, each ±25 %.
    assert!(retries[0].1 >= Duration::from_millis(37) && retries[0].1 <= Duration::from_millis(63));
    assert!(
        retries[1].1 >= Duration::from_millis(75) && retries[1].1 <= Duration::from_millis(125)
    );
    assert!(retries[0].2.contains("503"), "{retries:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_other_4xx_are_never_retried() {
    let server = Server::start().await;
    let mut h = Harness::new(Limits {
        retries: 3,
        ..limits()
    });
    let busy =
        h.submit(&server.url("/bytes/100/busy.bin?fail_first=1&fail_status=429&retry_after=1"));
    let outcome = h.finish_one(busy).await.outcome;
    assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
    let retries = retries_of(&h, busy);
    assert_eq!(retries.len(), 1);
    assert_eq!(
        retries[0].1,
        Duration::from_secs(1),
        "the server's Retry-After"
    );

    let missing = h.submit(&server.url("/bytes/100/missing.bin?fail_first=5&fail_status=404"));
    let outcome = h.finish_one(missing).await.outcome;
    assert!(
        matches!(
            outcome,
            Outcome::Failed(FetchError::HttpStatus { status: 404, .. })
        ),
        "{outcome:?}"
    );
    assert!(retries_of(&h, missing).is_empty());
    let asked = server
        .request_log()
        .iter()
        .filter(|r| r.target.contains("missing.bin"))
        .count();
    assert_eq!(asked, 1, "a 404 is asked once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalls_use_up_the_retries_and_keep_the_bytes() {
    let server = Server::start().await;
    let mut h = Harness::new(Limits {
        retries: 2,
        stall_timeout: Duration::from_millis(300),
        ..limits()
    });
    let id = h.submit(&server.url("/bytes/100000/st.bin?range=1&etag=v1&stall_after=1000"));
    let outcome = h.finish_one(id).await.outcome;
    assert_eq!(outcome, Outcome::TimedOut(TimeoutKind::Stall));
    assert_eq!(retries_of(&h, id).len(), 2);
    // Three tries of 1000 bytes each, resumed: 3000 bytes kept for a later run.
    let part = std::fs::read(h.out.join("st.bin.part")).expect("part");
    assert!(part == body(100_000)[..3000], "kept {} bytes", part.len());
    assert_eq!(h.listing(), ["st.bin.part", "st.bin.part.haul"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checksum_must_match_or_the_bytes_stay_in_the_part() {
    let server = Server::start().await;
    let mut h = Harness::new(limits());
    let good = sha(&body(3000)).to_string();
    let id = h.submit(&server.url(&format!("/bytes/3000/ok.bin#sha256={good}")));
    let outcome = h.finish_one(id).await.outcome;
    assert_done(&h, &outcome, "ok.bin", &body(3000));

    let wrong = "0".repeat(64);
    let id = h.submit(&server.url(&format!("/bytes/3000/bad.bin#sha256={wrong}")));
    let outcome = h.finish_one(id).await.outcome;
    let Outcome::Failed(FetchError::Checksum {
        expected,
        actual,
        part,
    }) = &outcome
    else {
        panic!("expected a checksum failure, got {outcome:?}");
    };
    assert_eq!(expected, &wrong);
    assert_eq!(actual, &good);
    assert_eq!(part, &h.out.join("bad.bin.part"));
    let text = outcome.error_text().unwrap_or_default();
    assert!(
        text.starts_with(&format!("sha256 mismatch: expected {wrong}, got {good}")),
        "{text}"
    );
    assert!(!h.out.join("bad.bin").exists(), "never renamed");
    assert_eq!(std::fs::read(part).ok(), Some(body(3000)));

    // A local file with a wrong checksum is refused the same way.
    let local = h.out.join("ok.bin");
    let id = h
        .engine
        .submit_checked(Source::File(local), Checksum::from_hex(&wrong));
    let outcome = h.finish_one(id).await.outcome;
    assert!(
        matches!(outcome, Outcome::Failed(FetchError::Checksum { .. })),
        "{outcome:?}"
    );
    assert!(!h.out.join("ok (1).bin").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_size_limit_fails_big_items_and_removes_their_part() {
    let server = Server::start().await;
    let mut h = Harness::new(Limits {
        max_size: Some(4000),
        ..limits()
    });
    let sized = h.submit(&server.url("/bytes/5000/sized.bin"));
    let no_length = h.submit(&server.url("/bytes/5000/unsized.bin?cl=0"));
    let fits = h.submit(&server.url("/bytes/4000/fits.bin"));
    for id in [sized, no_length] {
        let outcome = h.finish_one(id).await.outcome;
        assert_eq!(
            outcome,
            Outcome::Failed(FetchError::TooLarge { limit: 4000 })
        );
    }
    let outcome = h.finish_one(fits).await.outcome;
    assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
    assert_eq!(h.listing(), ["fits.bin"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pausing_a_queued_item_and_pause_all() {
    let server = Server::start().await;
    let mut h = Harness::new(Limits {
        jobs: 1,
        ..limits()
    });
    let running = h.submit(&server.url("/bytes/100000/a.bin?range=1&drip_ms=10"));
    let queued = h.submit(&server.url("/bytes/100/b.bin"));
    h.wait_for(running, |e| matches!(e, Event::Progress { .. }))
        .await;
    h.engine.handle().pause(queued);
    assert_eq!(h.finish_one(queued).await.outcome, Outcome::Paused);
    h.engine.send(haul_core::protocol::Command::PauseAll);
    assert_eq!(h.finish_one(running).await.outcome, Outcome::Paused);
    assert_eq!(h.listing(), ["a.bin.part", "a.bin.part.haul"]);
    // Cancelling is not pausing: a cancelled resume removes the kept bytes.
    let again = h.submit(&server.url("/bytes/100000/a.bin?range=1&drip_ms=10"));
    h.wait_for(again, |e| matches!(e, Event::Progress { .. }))
        .await;
    h.engine.cancel(again);
    assert_eq!(h.finish_one(again).await.outcome, Outcome::Cancelled);
    assert!(h.listing().is_empty(), "{:?}", h.listing());
}
