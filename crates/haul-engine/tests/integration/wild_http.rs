//! HTTP as curl and wget2 read it (issue 24), replayed byte for byte: `416` replies (done only
//! when the bytes held are the total it names), resuming across replies that break off one
//! after another, framing leniency (trailers, names), and two processes racing for one file.

use std::time::Duration;

use crate::support::body;
use crate::support::harness::{Harness, assert_done_with, failed, limits};
use crate::support::replay::{Replay, Request, Step, send};
use haul_core::protocol::{FetchError, Limits};

/// A reply: the status line's rest, header lines (each ending in `\r\n`), then `data`.
fn reply(status: &str, headers: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = format!("HTTP/1.1 {status}\r\n{headers}\r\n").into_bytes();
    bytes.extend_from_slice(data);
    bytes
}

/// The first byte a request asks for (`Range: bytes=N-`), if it asks for a range.
fn range_start(r: &Request) -> Option<usize> {
    r.header("range")?
        .strip_prefix("bytes=")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// Retries that come quickly, one connection per item.
fn retrying(retries: u32) -> Limits {
    Limits {
        retries,
        retry_base: Duration::from_millis(20),
        split: 1,
        ..limits()
    }
}

// ---------------------------------------------------------------------------------------------
// 9. 416 replies, and resuming across several broken replies.
// ---------------------------------------------------------------------------------------------

/// Variants: a 416 to a request that asked no range (`*/0` and no Content-Range), a 416 to the
/// `bytes=0-` a splittable item starts with: each an error, never an empty file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_416_to_a_request_for_the_whole_file_is_an_error_not_an_empty_file() {
    let server = Replay::start(|r| match r.target.as_str() {
        "/bare.bin" => vec![send("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\n\r\n")],
        _ => vec![send(
            "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */0\r\nContent-Length: 0\r\n\r\n",
        )],
    })
    .await;
    for (split, path) in [
        (1, "/zero.bin"),
        (1, "/bare.bin"),
        (4, "/zero.bin"),
        (4, "/bare.bin"),
    ] {
        let mut h = Harness::new(Limits { split, ..limits() });
        let id = h.submit(&server.url(path));
        let error = failed(&h.finish_one(id).await.outcome);
        assert!(
            matches!(error, FetchError::HttpStatus { status: 416, .. }),
            "split {split} {path}: {error:?}"
        );
        assert!(h.listing().is_empty(), "no file: {:?}", h.listing());
    }
    let asked: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.header("range").map(str::to_owned))
        .collect();
    assert!(asked.contains(&None) && asked.contains(&Some("bytes=0-".to_owned())));
}

/// Variants: the connection breaks after 600 of 1000 bytes and the resumed request is answered
/// 416 naming 600 (`bytes */600`) or 500 as the total, or 416 with no Content-Range: none of
/// them is the file the first reply named, so the whole file is asked for again and saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_416_naming_another_total_than_the_first_reply_is_never_a_done_file() {
    let data = body(1000);
    let server = Replay::start(move |r| {
        let cr = match r.target.as_str() {
            "/600.bin" => "Content-Range: bytes */600\r\n",
            "/500.bin" => "Content-Range: bytes */500\r\n",
            _ => "",
        };
        match (range_start(r), r.tries) {
            (None, 0) => vec![
                Step::Send(reply(
                    "200 OK",
                    "Content-Length: 1000\r\nETag: \"v1\"\r\n",
                    &data[..600],
                )),
                Step::Close,
            ],
            (Some(_), _) => vec![Step::Send(reply(
                "416 Range Not Satisfiable",
                &format!("{cr}Content-Length: 0\r\n"),
                b"",
            ))],
            (None, _) => vec![Step::Send(reply(
                "200 OK",
                "Content-Length: 1000\r\n",
                &data,
            ))],
        }
    })
    .await;
    let mut h = Harness::new(retrying(3));
    for path in ["/600.bin", "/500.bin", "/none.bin"] {
        let id = h.submit(&server.url(path));
        assert_done_with(&h.finish_one(id).await, &body(1000));
    }
}

/// Variants: a `416` whose Content-Range lacks its unit (`*/1000`) when every byte is held
/// (a chunked reply that lost only its last chunk): done from the bytes held, with no second
/// download of the whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_416_without_its_unit_that_names_the_bytes_held_completes_the_file() {
    let data = body(1000);
    let server = Replay::start(move |r| match range_start(r) {
        None => {
            let mut chunked = reply(
                "200 OK",
                "Transfer-Encoding: chunked\r\nETag: \"v1\"\r\n",
                format!("{:x}\r\n", data.len()).as_bytes(),
            );
            chunked.extend_from_slice(&data);
            chunked.extend_from_slice(b"\r\n"); // the last chunk (0) never comes
            vec![Step::Send(chunked), Step::Close]
        }
        Some(_) => vec![send(
            "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: */1000\r\nContent-Length: 0\r\n\r\n",
        )],
    })
    .await;
    let mut h = Harness::new(retrying(2));
    let id = h.submit(&server.url("/unitless.bin"));
    assert_done_with(&h.finish_one(id).await, &body(1000));
    let ranges: Vec<Option<usize>> = server.requests().iter().map(range_start).collect();
    assert_eq!(
        ranges,
        vec![None, Some(1000)],
        "no second download of the whole"
    );
}

/// Variants: four replies in a row that break off (a close, a reset, a close mid-chunk, a
/// 206 framed by chunks), each resumed where the last stopped; one reply on the way that is
/// the whole file again (the server ignored the range): the file is the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_across_several_broken_replies_in_a_row_assembles_the_right_file() {
    let data = body(4000);
    let server = Replay::start(move |r| {
        let whole_again = r.target == "/whole-again.bin";
        let partial = |from: usize, to: usize| {
            reply(
                "206 Partial Content",
                &format!("Content-Range: bytes {from}-3999/4000\r\nContent-Length: {}\r\nETag: \"v1\"\r\n", 4000 - from),
                &data[from..to],
            )
        };
        match range_start(r) {
            None => vec![
                Step::Send(reply("200 OK", "Content-Length: 4000\r\nETag: \"v1\"\r\n", &data[..700])),
                Step::Close,
            ],
            Some(700) => vec![Step::Send(partial(700, 1500)), Step::Reset],
            Some(1500) if whole_again => vec![
                Step::Send(reply("200 OK", "Content-Length: 4000\r\nETag: \"v1\"\r\n", &data[..2500])),
                Step::Close,
            ],
            Some(1500) => vec![Step::Send(partial(1500, 2500)), Step::Close],
            Some(2500) => {
                let mut chunked = reply(
                    "206 Partial Content",
                    "Content-Range: bytes 2500-3999/4000\r\nTransfer-Encoding: chunked\r\nETag: \"v1\"\r\n",
                    b"",
                );
                chunked.extend_from_slice(format!("{:x}\r\n", 1500).as_bytes());
                chunked.extend_from_slice(&data[2500..3200]);
                vec![Step::Send(chunked), Step::Close]
            }
            Some(from) => {
                let mut chunked = reply(
                    "206 Partial Content",
                    &format!("Content-Range: bytes {from}-3999/4000\r\nTransfer-Encoding: chunked\r\nETag: \"v1\"\r\n"),
                    format!("{:x}\r\n", 4000 - from).as_bytes(),
                );
                chunked.extend_from_slice(&data[from..]);
                chunked.extend_from_slice(b"\r\n0\r\n\r\n");
                vec![Step::Send(chunked)]
            }
        }
    })
    .await;
    let mut h = Harness::new(retrying(6));
    for path in ["/broken.bin", "/whole-again.bin"] {
        let id = h.submit(&server.url(path));
        assert_done_with(&h.finish_one(id).await, &body(4000));
    }
}

// ---------------------------------------------------------------------------------------------
// 10. Framing leniency curl and wget2 accept, within bounds.
// ---------------------------------------------------------------------------------------------

/// Variants: a trailer line without a colon after the last chunk, several such lines, one
/// beside a good trailer: the body is whole, so the file is saved. A body whose chunks stop
/// before the last one is still a broken transfer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trailer_line_without_a_colon_does_not_cost_a_whole_body() {
    let server = Replay::start(|r| {
        let trailers = match r.target.as_str() {
            "/one.bin" => "NoColonHere\r\n",
            "/many.bin" => "first line\r\nsecond line\r\n",
            "/beside.bin" => "X-Checksum: abc\r\nbroken trailer\r\n",
            _ => return vec![send("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n-foo-\n\r\n"), Step::Close],
        };
        vec![send(&format!(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n-foo-\n\r\n0\r\n{trailers}\r\n"
        ))]
    })
    .await;
    let mut h = Harness::new(Limits {
        split: 1,
        ..limits()
    });
    for path in ["/one.bin", "/many.bin", "/beside.bin"] {
        let id = h.submit(&server.url(path));
        assert_done_with(&h.finish_one(id).await, b"-foo-\n");
    }
    let id = h.submit(&server.url("/cut.bin"));
    let error = failed(&h.finish_one(id).await.outcome);
    assert!(matches!(error, FetchError::Body(_)), "{error:?}");
}

/// A chunked body whose chunk-size lines end in a bare LF (curl and wget2 read it; hyper
/// refuses it, with no switch to allow it): Haul asks that server again in HTTP/1.0, whose
/// reply carries no chunks (RFC 9112 §7.1), and the file arrives whole. Variants: a bare LF
/// after the size, after the chunk's data, after the last chunk; the HTTP/1.0 reply delimited
/// by its length or by the connection's close. A server that sends the same broken framing
/// even to HTTP/1.0 fails with a reason, and no file is kept as done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_with_bare_line_feeds_is_fetched_again_in_http_1_0() {
    let server = Replay::start(|r| {
        let body = match r.target.as_str() {
            "/size.bin" | "/stubborn.bin" => "6\n-foo-\n\r\n0\r\n\r\n",
            "/data.bin" => "6\r\n-foo-\n\n0\r\n\r\n",
            _ => "6\r\n-foo-\n\r\n0\n\n",
        };
        let chunked = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{body}");
        let reply = match (r.version.as_str(), r.target.as_str()) {
            (_, "/stubborn.bin") | ("HTTP/1.1", _) => chunked,
            (_, "/last.bin") => "HTTP/1.0 200 OK\r\n\r\n-foo-\n".to_owned(),
            _ => "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\n-foo-\n".to_owned(),
        };
        vec![send(&reply), Step::Close]
    })
    .await;
    let mut h = Harness::new(Limits {
        split: 1,
        ..limits()
    });
    for path in ["/size.bin", "/data.bin", "/last.bin"] {
        let id = h.submit(&server.url(path));
        assert_done_with(&h.finish_one(id).await, b"-foo-\n");
    }
    let asked: Vec<String> = server
        .requests()
        .iter()
        .filter(|r| r.target == "/size.bin")
        .map(|r| r.version.clone())
        .collect();
    assert_eq!(
        asked.first().map(String::as_str),
        Some("HTTP/1.1"),
        "{asked:?}"
    );
    assert_eq!(
        asked.last().map(String::as_str),
        Some("HTTP/1.0"),
        "{asked:?}"
    );
    let id = h.submit(&server.url("/stubborn.bin"));
    let error = failed(&h.finish_one(id).await.outcome);
    assert!(
        matches!(&error, FetchError::Body(text) if text.to_lowercase().contains("chunk")),
        "{error:?}"
    );
    assert!(
        !h.listing().iter().any(|n| n == "stubborn.bin"),
        "nothing saved as done: {:?}",
        h.listing()
    );
}

/// Variants: `filename='foo.txt` (a single quote that never closes), the same before another
/// parameter, with a space before it: the stray quote is dropped as curl drops it; a balanced
/// `'foo.txt'` keeps its quotes, as browsers keep them (RFC 6266's tc2231).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filename_with_an_unbalanced_quote_is_read_as_curl_reads_it() {
    let server = Replay::start(|r| {
        let cd = match r.target.as_str() {
            "/a" => "attachment; filename='stray.txt",
            "/b" => "attachment; filename='before.txt; size=6",
            "/c" => "attachment; filename=  'spaced.txt",
            _ => "attachment; filename='balanced.txt'",
        };
        vec![send(&format!(
            "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Disposition: {cd}\r\n\r\n-foo-\n"
        ))]
    })
    .await;
    let mut h = Harness::new(limits());
    for (path, name) in [
        ("/a", "stray.txt"),
        ("/b", "before.txt"),
        ("/c", "spaced.txt"),
        ("/d", "'balanced.txt'"),
    ] {
        let saved = h.saved_name(&server.url(path), b"-foo-\n").await;
        assert_eq!(saved, name, "{path}");
    }
}
