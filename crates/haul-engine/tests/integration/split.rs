//! Split downloads against the loopback server: one file over several connections, each a
//! bounded range pinned to the first reply's version; what happens when the server changes
//! the file, refuses connections or ignores ranges; pause and resume of the ranges; the
//! per-host cap counted in connections.

use std::time::{Duration, Instant};

use crate::support::harness::{Harness, assert_done_with, sha, split_limits};
use crate::support::{Server, body, body_gen};
use haul_core::protocol::{Command, Event, Limits, Outcome};

const MIB: usize = 1024 * 1024;

/// The bounded ranges the server was asked for (a segment each), as (start, end inclusive).
fn segments_asked(server: &Server) -> Vec<(u64, u64)> {
    server
        .request_log()
        .into_iter()
        .filter_map(|r| {
            let range = r.range?;
            let (a, b) = range.strip_prefix("bytes=")?.split_once('-')?;
            Some((a.parse().ok()?, b.parse().ok()?))
        })
        .collect()
}

/// 8 MiB at 2 MiB/s per connection: over one connection it takes 4 s; split, the pieces
/// arrive over several, each pinned with If-Range, and the file is byte-exact with the
/// checksum it was given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_download_is_byte_exact_and_checked() {
    let server = Server::start().await;
    let data = body(8 * MIB);
    let url = server.url(&format!(
        "/bytes/{}/big.bin?range=1&etag=s1&rate=2097152#sha256={}",
        8 * MIB,
        sha(&data)
    ));
    let mut h = Harness::new(split_limits(4, MIB as u64));
    let started = Instant::now();
    let id = h.submit(&url);
    let finished = h.finish_one(id).await;
    assert_done_with(&finished, &data);
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(3200),
        "split: {took:?} (one stream: 4 s)"
    );
    let log = server.request_log();
    assert_eq!(
        log[0].range.as_deref(),
        Some("bytes=0-"),
        "the first asks for all"
    );
    let segments = segments_asked(&server);
    assert!(segments.len() >= 2, "more connections: {log:?}");
    assert!(
        log.iter()
            .skip(1)
            .all(|r| r.if_range.as_deref() == Some("\"s1\"")),
        "every segment pinned to the first version: {log:?}"
    );
    assert_eq!(h.listing(), ["big.bin"], "no .part or sidecar left");
}

/// The file changes as the split begins: a segment asked with If-Range gets the new file
/// whole (200), and nothing of it is mixed with the old bytes — one clean restart in one
/// stream, and the file is the new version exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_changes_mid_split_restarts_once_in_one_stream() {
    let server = Server::start().await;
    let n = 8 * MIB;
    let path = format!("/bytes/{n}/moving.bin");
    // The first reply is slow to start its body, so the change lands before any segment is
    // asked for.
    let url = server.url(&format!("{path}?range=1&etag=m&rate=2097152&delay_ms=300"));
    let mut h = Harness::new(split_limits(4, MIB as u64));
    let id = h.submit(&url);
    h.wait_for(id, |e| matches!(e, Event::Started { .. })).await;
    server.set_generation(&path, 1);
    let finished = h.finish_one(id).await;
    let Some(path) = finished.outcome.path() else {
        panic!("not done: {:?}", finished.outcome);
    };
    let got = std::fs::read(path).expect("file");
    let whole = server
        .request_log()
        .iter()
        .skip(1)
        .filter(|r| r.range.is_none())
        .count();
    // Every segment is asked for once the first reply's head is in; when one of them was
    // asked after the change (the usual case), the download starts over once and ends with
    // the new version; never a mix of the two.
    if got == body_gen(n, 1) {
        assert_eq!(whole, 1, "one restart: {:?}", server.request_log());
    } else {
        assert!(got == body_gen(n, 0), "a mix of two versions");
        assert_eq!(whole, 0);
    }
}

/// A server that honours `bytes=0-` but answers a bounded range with the whole file: never
/// mixed in; the download falls back to one stream and ends byte-exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_to_a_segment_request_falls_back_to_one_stream() {
    let server = Server::start().await;
    let n = 4 * MIB;
    let url = server.url(&format!(
        "/bytes/{n}/odd.bin?range=1&etag=o&seg200=1&rate=8388608"
    ));
    let mut h = Harness::new(split_limits(4, MIB as u64));
    let id = h.submit(&url);
    let finished = h.finish_one(id).await;
    assert_done_with(&finished, &body(n));
    assert_eq!(h.listing(), ["odd.bin"]);
}

/// A server that refuses a second connection (503): the download goes on with the one it
/// has, and the refused range is fetched by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_refuses_extra_connections_gets_one() {
    let server = Server::start().await;
    let n = 4 * MIB;
    let url = server.url(&format!(
        "/bytes/{n}/one.bin?range=1&etag=o&max_conns=1&rate=4194304"
    ));
    let mut h = Harness::new(split_limits(4, MIB as u64));
    let id = h.submit(&url);
    let finished = h.finish_one(id).await;
    assert_done_with(&finished, &body(n));
}

/// Paused mid-split and resumed: the server is asked only for what is missing — no byte of
/// a done range is requested again — and the file is byte-exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_split_download_resumes_only_its_missing_ranges() {
    let server = Server::start().await;
    let n = 8 * MIB;
    let data = body(n);
    let url = server.url(&format!(
        "/bytes/{n}/paused.bin?range=1&etag=p&rate=2097152"
    ));
    let mut h = Harness::new(split_limits(4, MIB as u64));
    let id = h.submit(&url);
    h.wait_for(
        id,
        |e| matches!(e, Event::Progress { done, .. } if *done > 3 * MIB as u64),
    )
    .await;
    h.engine.send(Command::Pause(id));
    let paused = h.finish_one(id).await;
    assert_eq!(paused.outcome, Outcome::Paused);
    let sidecar = std::fs::read_to_string(h.out.join("paused.bin.part.haul")).expect("sidecar");
    let json: serde_json::Value = serde_json::from_str(&sidecar).expect("json");
    let done: Vec<(u64, u64)> = json["segments"]
        .as_array()
        .expect("segments recorded")
        .iter()
        .map(|r| (r[0].as_u64().unwrap_or(0), r[1].as_u64().unwrap_or(0)))
        .collect();
    assert!(done.len() >= 2, "a split part records its ranges: {done:?}");
    let before = server.request_log().len();

    let again = h.submit(&url);
    let finished = h.finish_one(again).await;
    assert_done_with(&finished, &data);
    let asked_after: Vec<(u64, u64)> = server.request_log()[before..]
        .iter()
        .filter_map(|r| {
            let (a, b) = r
                .range
                .as_deref()?
                .strip_prefix("bytes=")?
                .split_once('-')?;
            let a: u64 = a.parse().ok()?;
            Some((a, b.parse().map(|b: u64| b + 1).unwrap_or(n as u64)))
        })
        .collect();
    assert!(!asked_after.is_empty());
    for (a, b) in &asked_after {
        for (s, e) in &done {
            assert!(
                b <= s || a >= e,
                "asked again for done bytes: {a}-{b} within {s}-{e}"
            );
        }
    }
    assert_eq!(h.listing(), ["paused.bin"]);
}

/// The per-host cap counts connections: two split items for one host with a cap of 3 never
/// hold more than 3 connections to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_per_host_cap_counts_connections() {
    let server = Server::start().await;
    let n = 4 * MIB;
    let mut h = Harness::new(Limits {
        per_host: 3,
        ..split_limits(4, MIB as u64)
    });
    let a = h.submit(&server.url(&format!("/bytes/{n}/a.bin?range=1&etag=a&rate=4194304")));
    let b = h.submit(&server.url(&format!("/bytes/{n}/b.bin?range=1&etag=b&rate=4194304")));
    let done = h.finish(&[a, b]).await;
    assert_done_with(&done[&a], &body(n));
    assert_done_with(&done[&b], &body(n));
    // A reply cut short when its range was taken over closes its connection; the server
    // notices a moment later, so it is sampled once settled.
    assert!(
        server.max_in_flight_settled() <= 3,
        "{} at once",
        server.max_in_flight_settled()
    );
    assert!(!segments_asked(&server).is_empty(), "it did split");
}
