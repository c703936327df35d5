//! Split downloads against replayed servers (issue 24): a split download never assembles a
//! file from bodies that are not its bytes (content-coded ranges, mirrors behind one link),
//! keeps the size limit, and a slow connection never decides the end.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::harness::{Harness, assert_done_with, limits, split_limits};
use crate::support::replay::{Replay, Request, Step, range_asked, ranged_status};
use crate::support::{body, body_gen};
use haul_core::protocol::{FetchError, Limits, Outcome};

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// The range a request asks for: (first, last inclusive), the last `None` for `N-`.
fn asked(r: &Request) -> Option<(usize, Option<usize>)> {
    range_asked(r.header("range")?)
}

/// How a body goes out: all at once, or `piece` bytes every `every` after the first `head`.
#[derive(Clone, Copy)]
enum Pace {
    Fast,
    Drip {
        head: usize,
        piece: usize,
        every: Duration,
    },
    /// `head` bytes, then nothing for a minute.
    Stall {
        head: usize,
    },
}

/// A range-capable server's reply to `r` over `data`: 206 for a range (framed by
/// Content-Length, or by chunks when `chunked`), 200 for none; `extra` header lines added.
fn ranged(r: &Request, data: &[u8], extra: &str, chunked: bool, pace: Pace) -> Vec<Step> {
    let total = data.len();
    let (status, from, to) = ranged_status(asked(r), total);
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_owned()
    } else {
        format!("Content-Length: {}", to - from)
    };
    let head = format!("HTTP/1.1 {status}\r\n{framing}\r\nAccept-Ranges: bytes\r\n{extra}\r\n");
    let frame = |bytes: &[u8]| -> Vec<u8> {
        if chunked {
            let mut framed = format!("{:x}\r\n", bytes.len()).into_bytes();
            framed.extend_from_slice(bytes);
            framed.extend_from_slice(b"\r\n");
            framed
        } else {
            bytes.to_vec()
        }
    };
    let mut steps = vec![Step::Send(head.into_bytes())];
    let body = &data[from..to];
    let split_at = match pace {
        Pace::Fast => body.len(),
        Pace::Drip { head, .. } | Pace::Stall { head } => head.min(body.len()),
    };
    if split_at > 0 {
        steps.push(Step::Send(frame(&body[..split_at])));
    }
    match pace {
        Pace::Fast => {}
        Pace::Drip { piece, every, .. } => {
            for bytes in body[split_at..].chunks(piece) {
                steps.push(Step::Sleep(every));
                steps.push(Step::Send(frame(bytes)));
            }
        }
        Pace::Stall { .. } => {
            steps.push(Step::Sleep(Duration::from_secs(60)));
            return steps;
        }
    }
    if chunked {
        steps.push(Step::Send(b"0\r\n\r\n".to_vec()));
    }
    steps
}

/// The first reply of a split download sends its first 256 KiB, then waits a little: time for
/// the other connections to join.
const FIRST: Pace = Pace::Drip {
    head: 256 * KIB,
    piece: 4 * MIB,
    every: Duration::from_millis(300),
};

/// Whether `r` is a later connection's bounded range (not the `bytes=0-` the item starts with).
fn segment(r: &Request) -> bool {
    asked(r).is_some_and(|(from, last)| from > 0 || last.is_some())
}

// ---------------------------------------------------------------------------------------------
// 1. Range replies that carry a content coding.
// ---------------------------------------------------------------------------------------------

/// Variants: a compression layer that codes every later range reply (gzip, chunked) whatever
/// is asked; one that codes only when the client does not ask for `identity`; range replies
/// that say `Content-Encoding: identity`; a resumed single stream whose 206 comes coded. The
/// coded bytes are never written as the file's: Haul asks for `identity`, and a coded range
/// reply sends it back to one plain stream (or the whole file again).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_reply_with_a_content_coding_is_never_written_as_the_files_bytes() {
    let data = Arc::new(body(MIB));
    let coded: Arc<Vec<u8>> = Arc::new(data.iter().map(|b| !b).collect());
    let server = {
        let (data, coded) = (Arc::clone(&data), Arc::clone(&coded));
        Replay::start(move |r| {
            let wants_identity = r.header("accept-encoding") == Some("identity");
            let code = match r.target.as_str() {
                "/always.bin" => segment(r),
                "/unless-identity.bin" => segment(r) && !wants_identity,
                "/resume.bin" => asked(r).is_some(),
                _ => false,
            };
            if r.target == "/resume.bin" && asked(r).is_none() && r.tries == 0 {
                let mut cut = ranged(r, &data[..], "", false, Pace::Stall { head: 300 * KIB });
                cut.truncate(2);
                cut.push(Step::Close);
                return cut;
            }
            if code {
                return ranged(
                    r,
                    &coded[..],
                    "Content-Encoding: gzip\r\nVary: Accept-Encoding\r\n",
                    true,
                    Pace::Fast,
                );
            }
            let extra = if r.target == "/identity.bin" && segment(r) {
                "Content-Encoding: identity\r\n"
            } else {
                ""
            };
            ranged(
                r,
                &data[..],
                extra,
                false,
                if asked(r) == Some((0, None)) {
                    FIRST
                } else {
                    Pace::Fast
                },
            )
        })
        .await
    };
    let mut h = Harness::new(split_limits(4, 0));
    for path in ["/always.bin", "/unless-identity.bin", "/identity.bin"] {
        let id = h.submit(&server.url(path));
        assert_done_with(&h.finish_one(id).await, &data);
    }
    let mut single = Harness::new(Limits {
        retries: 2,
        retry_base: Duration::from_millis(20),
        split: 1,
        ..limits()
    });
    let id = single.submit(&server.url("/resume.bin"));
    assert_done_with(&single.finish_one(id).await, &data);
    let log = server.requests();
    assert!(
        log.iter()
            .all(|r| r.header("accept-encoding") == Some("identity")),
        "every request asks for the bytes as stored"
    );
    for path in ["/unless-identity.bin", "/identity.bin"] {
        let segments = log
            .iter()
            .filter(|r| r.target == path && segment(r))
            .count();
        assert!(segments > 0, "{path} was split ({segments} segments)");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. A link that redirects to different mirrors on each request.
// ---------------------------------------------------------------------------------------------

/// Variants: a link that sends each request to mirror A or B in turn (different files of one
/// size and name, no validators); the same with validators that differ; two paths on one host;
/// and mirror A redirecting its later requests to B (another host, nothing to show sameness:
/// not split across it). The file is always one mirror's, whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_that_redirects_to_another_mirror_each_time_never_mixes_them() {
    let (a, b) = (Arc::new(body_gen(MIB, 1)), Arc::new(body_gen(MIB, 2)));
    let mirror = |data: Arc<Vec<u8>>, etag: &'static str, bounce: Option<String>| {
        move |r: &Request| {
            if let Some(to) = &bounce
                && r.target == "/bounce.bin"
                && segment(r)
            {
                return vec![Step::Send(
                    format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n")
                        .into_bytes(),
                )];
            }
            let tag = if r.target == "/tagged.bin" { etag } else { "" };
            let pace = if asked(r) == Some((0, None)) {
                FIRST
            } else {
                Pace::Fast
            };
            match r.target.as_str() {
                "/m2/same.bin" => ranged(r, &body_gen(MIB, 3), "", false, pace),
                _ => ranged(r, &data[..], tag, false, pace),
            }
        }
    };
    let mirror_b = Replay::start(mirror(Arc::clone(&b), "ETag: \"b\"\r\n", None)).await;
    let mirror_a = Replay::start(mirror(
        Arc::clone(&a),
        "ETag: \"a\"\r\n",
        Some(mirror_b.url("/bounce.bin")),
    ))
    .await;
    let turn = Arc::new(AtomicUsize::new(0));
    let (to_a, to_b) = (mirror_a.url(""), mirror_b.url(""));
    let link = Replay::start(move |r| {
        let n = turn.fetch_add(1, Ordering::Relaxed);
        let to = match r.target.as_str() {
            "/bounce.bin" => format!("{to_a}/bounce.bin"),
            "/same-host.bin" if n.is_multiple_of(2) => format!("{to_a}/same.bin"),
            "/same-host.bin" => format!("{to_a}/m2/same.bin"),
            path if n.is_multiple_of(2) => format!("{to_a}{path}"),
            path => format!("{to_b}{path}"),
        };
        vec![Step::Send(
            format!("HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n")
                .into_bytes(),
        )]
    })
    .await;
    let mut h = Harness::new(split_limits(4, 0));
    for path in ["/plain.bin", "/tagged.bin", "/same-host.bin", "/bounce.bin"] {
        let id = h.submit(&link.url(path));
        let finished = h.finish_one(id).await;
        let saved = match &finished.outcome {
            Outcome::Done { files, .. } if files.len() == 1 => &files[0].path,
            other => panic!("{path}: {other:?}"),
        };
        let got = std::fs::read(saved).expect("saved");
        assert!(
            got == *a || got == *b || got == body_gen(MIB, 3),
            "{path}: a mix of mirrors"
        );
        std::fs::remove_file(saved).expect("remove");
        // The link is asked once, and once more only to start over in one stream.
        let asked = link.requests().iter().filter(|r| r.target == path).count();
        assert!(asked <= 2, "{path}: the link was asked {asked} times");
    }
    let segments = mirror_a.requests().iter().filter(|r| segment(r)).count();
    assert!(segments > 0, "split across the first mirror");
}

// ---------------------------------------------------------------------------------------------
// 3. The size limit on the split path.
// ---------------------------------------------------------------------------------------------

/// Variants: a 3 MiB file under a 1 MiB limit, its size said by Content-Range with a
/// Content-Length, or with chunks (Content-Range only); a file exactly at the limit is done.
/// Refused before a byte is written, and no segment is asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_size_limit_holds_on_the_split_path_before_a_byte_is_written() {
    let (big, fits) = (Arc::new(body(3 * MIB)), Arc::new(body(MIB)));
    let server = {
        let (big, fits) = (Arc::clone(&big), Arc::clone(&fits));
        Replay::start(move |r| match r.target.as_str() {
            "/fits.bin" => ranged(r, &fits[..], "", false, Pace::Fast),
            "/chunked.bin" => ranged(r, &big[..], "", true, FIRST),
            _ => ranged(r, &big[..], "", false, FIRST),
        })
        .await
    };
    let mut h = Harness::new(Limits {
        max_size: Some(MIB as u64),
        ..split_limits(4, 0)
    });
    for path in ["/framed.bin", "/chunked.bin"] {
        let id = h.submit(&server.url(path));
        match h.finish_one(id).await.outcome {
            Outcome::Failed(FetchError::TooLarge { limit }) => assert_eq!(limit, MIB as u64),
            other => panic!("{path}: {other:?}"),
        }
        assert!(
            h.listing().is_empty(),
            "{path}: nothing written: {:?}",
            h.listing()
        );
    }
    assert!(
        !server.requests().iter().any(segment),
        "no segment asked for"
    );
    let id = h.submit(&server.url("/fits.bin"));
    assert_done_with(&h.finish_one(id).await, &fits);
}

// ---------------------------------------------------------------------------------------------
// 4. A slow connection never decides the end.
// ---------------------------------------------------------------------------------------------

/// Variants: the second connection drips 4 KiB every 250 ms (16 KiB/s) while the others are
/// fast; the second connection sends a little and then nothing; the first connection (the
/// reply the item started with) is the slow one. A 4 MiB file ends in about a second, not
/// when the slow one would have finished its range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_much_slower_than_the_others_hands_its_range_over() {
    let data = Arc::new(body(4 * MIB));
    let slow = Pace::Drip {
        head: 4 * KIB,
        piece: 4 * KIB,
        every: Duration::from_millis(250),
    };
    for path in ["/drip.bin", "/stall.bin", "/first.bin"] {
        // A server each: the replay tells connections apart by their order.
        let data_for = Arc::clone(&data);
        let server = Replay::start(move |r| {
            let pace = match (r.target.as_str(), r.conn) {
                ("/drip.bin", 1) => slow,
                ("/stall.bin", 1) => Pace::Stall { head: 4 * KIB },
                ("/first.bin", 0) if r.nth == 0 => Pace::Drip {
                    head: 256 * KIB,
                    piece: 4 * KIB,
                    every: Duration::from_millis(250),
                },
                (_, 0) if r.nth == 0 => FIRST,
                _ => Pace::Fast,
            };
            ranged(r, &data_for[..], "", false, pace)
        })
        .await;
        let mut h = Harness::new(split_limits(4, 0));
        let started = Instant::now();
        let id = h.submit(&server.url(path));
        assert_done_with(&h.finish_one(id).await, &data);
        let took = started.elapsed();
        assert!(took < Duration::from_secs(4), "{path}: {took:?}");
    }
}
