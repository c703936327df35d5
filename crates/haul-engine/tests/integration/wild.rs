//! Replies real servers send, replayed byte for byte (from curl's and wget2's test suites and
//! public bug reports of other downloaders): the outcome and the disk checked for each.
//!
//! The kinds: a reply must match its request; a connection that drops before the reply is
//! retried; malformed headers that browsers and curl accept are tolerated within bounds;
//! names are decoded as browsers decode them.

use std::time::Duration;

use crate::support::body;
use crate::support::harness::{Harness, assert_done_with, failed, limits};
use crate::support::replay::{Replay, Request, Step, send};
use haul_core::protocol::{Event, FetchError, Limits, Outcome};

/// `200 OK` with `body` framed by Content-Length, keep-alive.
fn ok(data: &[u8], extra_headers: &str) -> Vec<Step> {
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n{extra_headers}\r\n",
        data.len()
    )
    .into_bytes();
    reply.extend_from_slice(data);
    vec![Step::Send(reply)]
}

/// The item's one outcome.
async fn outcome_of(h: &mut Harness, url: &str) -> Outcome {
    let id = h.submit(url);
    h.finish_one(id).await.outcome
}

// ---------------------------------------------------------------------------------------------
// 1. A reply must match its request.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_of_a_file_sent_for_the_whole_is_never_saved_as_the_file() {
    let data = body(1000);
    let part = data[..100].to_vec();
    let server = Replay::start(move |r| match r.target.as_str() {
        // Chrome: SERVER_BAD_CONTENT; curl and plain reqwest would keep the 100 bytes.
        "/part.bin" => {
            let mut reply = b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-99/1000\r\nContent-Length: 100\r\n\r\n".to_vec();
            reply.extend_from_slice(&part);
            vec![Step::Send(reply)]
        }
        "/bare.bin" => vec![send("HTTP/1.1 206 Partial Content\r\nContent-Length: 5\r\n\r\nhello")],
        _ => vec![send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")],
    })
    .await;
    let mut h = Harness::new(limits());
    for path in ["/part.bin", "/bare.bin"] {
        let outcome = outcome_of(&mut h, &server.url(path)).await;
        let error = failed(&outcome);
        assert!(matches!(error, FetchError::ReplyMismatch(_)), "{error:?}");
        if path == "/part.bin" {
            assert_eq!(
                error.to_string(),
                "the reply does not match the request: the server sent bytes 0-99 of 1000 when the whole file was asked for"
            );
        }
    }
    assert!(
        h.listing().is_empty(),
        "nothing saved, not even a .part: {:?}",
        h.listing()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_content_reply_that_holds_the_whole_file_is_the_file() {
    let data = body(1000);
    let reply = data.clone();
    let server = Replay::start(move |_| {
        let mut bytes = b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-999/1000\r\nContent-Length: 1000\r\n\r\n".to_vec();
        bytes.extend_from_slice(&reply);
        vec![Step::Send(bytes)]
    })
    .await;
    let mut h = Harness::new(limits());
    let id = h.submit(&server.url("/whole.bin"));
    let finished = h.finish_one(id).await;
    assert_done_with(&finished, &data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_codings_that_cannot_be_decoded_fail_instead_of_saving_encoded_bytes() {
    // curl tests 2119, 1496, 1546, 1495 and 1722: curl exits 61 for each.
    let server = Replay::start(|r| {
        let reply = match r.target.as_str() {
            "/identityx" => "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nTransfer-Encoding: identityx\r\n\r\n-foo-\n",
            "/gzip-chunked" => "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "/chunked-gzip" => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
            "/chunked-identity" => "HTTP/1.1 200 funky chunky!\r\nTransfer-Encoding: chunked, identity\r\nContent-Length: 19\r\n\r\nstuff server sends\n",
            "/chunked-another" => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, another\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            // curl test 365: Content-Length and chunked: chunked wins, the body is the chunks'.
            "/length-and-chunked" => "HTTP/1.1 200 OK\r\nContent-Length: 123456\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nchunked data fun\r\n0\r\n\r\n",
            // Two Transfer-Encoding: chunked lines (curl test 1483): decoded once by all.
            _ => "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nchunked data fun\r\n0\r\n\r\n",
        };
        vec![send(reply), Step::Close]
    })
    .await;
    let mut h = Harness::new(limits());
    for path in [
        "/identityx",
        "/gzip-chunked",
        "/chunked-gzip",
        "/chunked-identity",
        "/chunked-another",
    ] {
        let error = failed(&outcome_of(&mut h, &server.url(path)).await);
        assert!(
            matches!(error, FetchError::TransferCoding(_)),
            "{path}: {error:?}"
        );
    }
    assert!(h.listing().is_empty(), "{:?}", h.listing());
    for path in ["/length-and-chunked", "/chunked-twice"] {
        let id = h.submit(&server.url(path));
        let finished = h.finish_one(id).await;
        assert_done_with(&finished, b"chunked data fun");
    }
}

/// A kept `.part` is resumed with `Range: bytes=500-`; each reply here does not fit it and
/// must never be mixed in: the engine asks again for the whole file and ends byte-exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_reply_that_does_not_fit_the_kept_bytes_is_never_mixed_in() {
    let data = body(1000);
    for (name, cr, slice) in [
        // A cache answering with its whole block (httrack #198): starts before the offset.
        ("before", "bytes 0-999/1000", 0..1000),
        // Stops short of the end.
        ("short", "bytes 500-799/1000", 500..800),
        // Content-Length disagrees with the span (Chrome rejects it).
        ("framing", "bytes 500-999/1000", 500..750),
        // Another file altogether (Gopeed #1460: right size, wrong bytes).
        ("total", "bytes 500-1099/1100", 500..1000),
    ] {
        let data2 = data.clone();
        let server = Replay::start(move |r: &Request| {
            // `bytes=0-` is how every new download asks for the whole file (a 206 would say
            // the server splits); only a later range is a resume.
            let range = r.header("range").filter(|r| *r != "bytes=0-").map(str::to_owned);
            match (range.as_deref(), r.nth, r.conn) {
                // The first try: half the file, then a reset (the bytes are kept).
                (None, _, 0) => {
                    let mut reply = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: \"v1\"\r\n\r\n".to_vec();
                    reply.extend_from_slice(&data2[..500]);
                    vec![Step::Send(reply), Step::Sleep(Duration::from_millis(50)), Step::Reset]
                }
                (Some(_), _, _) => {
                    let mut reply = format!(
                        "HTTP/1.1 206 Partial Content\r\nContent-Range: {cr}\r\nContent-Length: {}\r\nETag: \"v1\"\r\n\r\n",
                        slice.len()
                    )
                    .into_bytes();
                    reply.extend_from_slice(&data2[slice.clone()]);
                    vec![Step::Send(reply)]
                }
                (None, _, _) => ok(&data2, "ETag: \"v1\"\r\n"),
            }
        })
        .await;
        let mut h = Harness::new(Limits {
            retries: 2,
            retry_base: Duration::from_millis(10),
            ..limits()
        });
        let id = h.submit(&server.url(&format!("/{name}.bin")));
        let finished = h.finish_one(id).await;
        assert_done_with(&finished, &data);
        let asked: Vec<Option<String>> = server
            .requests()
            .iter()
            .map(|r| r.header("range").map(str::to_owned))
            .collect();
        assert_eq!(
            asked,
            [
                Some("bytes=0-".to_owned()),
                Some("bytes=500-".to_owned()),
                None
            ],
            "{name}"
        );
        assert_eq!(h.listing(), ["a.bin".replace('a', name)], "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. A connection that drops before the reply is retried.
// ---------------------------------------------------------------------------------------------

/// Many servers end an idle keep-alive connection when the next request arrives on it (curl
/// test 160): with one item at a time, each next item meets that connection first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_alive_connection_closed_under_the_next_request_is_retried_on_a_fresh_one() {
    let server = Replay::start(|r| {
        if r.nth == 0 {
            ok(&body(300), "")
        } else {
            vec![Step::Close] // read the request, answer nothing
        }
    })
    .await;
    let mut h = Harness::new(Limits {
        jobs: 1,
        per_host: 1,
        ..Limits::default()
    });
    let ids: Vec<_> = (1..=3)
        .map(|i| h.submit(&server.url(&format!("/item{i}.bin"))))
        .collect();
    let finished = h.finish(&ids).await;
    for id in &ids {
        assert_done_with(&finished[id], &body(300));
    }
    let retries: Vec<(Duration, String)> = h
        .log
        .iter()
        .filter_map(|e| match e {
            Event::Retrying { delay, reason, .. } => Some((*delay, reason.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        retries.len(),
        2,
        "items 2 and 3 met the closing connection: {retries:?}"
    );
    for (delay, reason) in &retries {
        assert_eq!(
            *delay,
            Duration::ZERO,
            "a fresh connection at once, as curl does"
        );
        assert!(
            reason.starts_with("the connection closed before the server replied"),
            "{reason}"
        );
    }
    assert_eq!(server.requests().len(), 5);
}

/// The retry table in `engine::retry`, row by row: each first try fails one way, and a second
/// try (if the row retries) would succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_row_of_the_retry_table_is_retried_or_not_as_documented() {
    let data = body(2000);
    let served = data.clone();
    let server = Replay::start(move |r| {
        let first = r.tries == 0;
        match r.target.as_str() {
            // Before the headers: nothing at all (curl: "Empty reply from server").
            "/empty" if first => vec![Step::Close],
            // Before the headers: a reset.
            "/reset" if first => vec![Step::Reset],
            // Before the headers: part of a status line, then the close.
            "/partial-head" if first => vec![send("HTTP/1.1 20"), Step::Close],
            // Mid-body: a reset after 500 bytes; resumed with a range from the bytes kept.
            "/mid-body" if first => {
                let mut reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n".to_vec();
                reply.extend_from_slice(&served[..500]);
                vec![Step::Send(reply), Step::Sleep(Duration::from_millis(50)), Step::Reset]
            }
            "/mid-body" if r.header("range") == Some("bytes=500-") => {
                let mut reply = b"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 500-1999/2000\r\nContent-Length: 1500\r\n\r\n".to_vec();
                reply.extend_from_slice(&served[500..]);
                vec![Step::Send(reply)]
            }
            // An invalid head (a NUL in a header): the same server sends the same; not retried.
            "/nul" => vec![send("HTTP/1.1 200 OK\r\nX-Bad: a\0b\r\nContent-Length: 2\r\n\r\nok")],
            _ => ok(&served, "Connection: close\r\n"),
        }
    })
    .await;
    let mut h = Harness::new(Limits {
        retries: 3,
        retry_base: Duration::from_millis(10),
        ..limits()
    });
    for path in ["/empty", "/reset", "/partial-head", "/mid-body"] {
        let id = h.submit(&server.url(path));
        let finished = h.finish_one(id).await;
        assert_done_with(&finished, &data);
    }
    let before = server.requests().len();
    let error = failed(&outcome_of(&mut h, &server.url("/nul")).await);
    assert!(matches!(error, FetchError::Request(_)), "{error:?}");
    assert_eq!(
        server.requests().len(),
        before + 1,
        "an invalid head is not retried"
    );
}

/// The connect and TLS rows: a refused connection is tried again; a TLS failure is not (the
/// same certificate, or the same non-TLS server, comes back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_retried_and_a_tls_failure_is_not() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let mut h = Harness::new(Limits {
        retries: 2,
        retry_base: Duration::from_millis(10),
        ..limits()
    });
    let error = failed(&outcome_of(&mut h, &format!("http://{closed}/x.bin")).await);
    assert!(matches!(error, FetchError::Connect { .. }), "{error:?}");
    let tries = h
        .log
        .iter()
        .filter(|e| matches!(e, Event::Retrying { .. }))
        .count();
    assert_eq!(tries, 2, "both retries used");

    // A server that answers a TLS hello with plain HTTP: the handshake fails every time.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&accepted);
    let server = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            use tokio::io::AsyncWriteExt as _;
            let _ = stream
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let error = failed(&outcome_of(&mut h, &format!("https://{addr}/x.bin")).await);
    assert!(matches!(error, FetchError::Tls(_)), "{error:?}");
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "not retried"
    );
    server.abort();
}

// ---------------------------------------------------------------------------------------------
// 3. Tolerate what browsers and curl tolerate, within bounds.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_headers_that_browsers_accept_do_not_cost_the_download() {
    let many: String = (0..500).map(|i| format!("X-Many-{i}: v\r\n")).collect();
    let too_many: String = (0..1500).map(|i| format!("X-Many-{i}: v\r\n")).collect();
    let (many, too_many) = (many.clone(), too_many.clone());
    let server = Replay::start(move |r| {
        let reply = match r.target.as_str() {
            // A folded Content-Disposition (obs-fold, RFC 9112 §5.2).
            "/folded" => "HTTP/1.1 200 OK\r\nContent-Disposition: attachment;\r\n filename=\"folded.txt\"\r\nContent-Length: 6\r\n\r\n-foo-\n".to_owned(),
            // curl test 1274: folds with spaces and tabs, a folded Connection.
            "/curl1274" => "HTTP/1.1 200 OK\r\nDate: Tue, 09 Nov 2010 14:49:00 GMT\r\nServer: test-server/\r\n fake\r\n folded\r\nTabs: tab-instead/\t\r\n\tonly\r\n\t mixed\r\nLast-Modified: Tue, 13 Jun 2000 12:10:00 GMT\r\nETag: \"21025-dc7-39462498\"\r\nContent-Length: 6\r\nConnection:                                              \r\n   close\r\n\r\n-foo-\n".to_owned(),
            // curl test 398: a header line without a colon.
            "/no-colon" => "HTTP/1.1 200 OK\r\nServer test-server/fake\r\nContent-Length: 6\r\n\r\n-foo-\n".to_owned(),
            // curl test 1473: the first header line starts with a space.
            "/leading-space" => "HTTP/1.1 200 OK\r\n Date: Tue, 09 Nov 2010 14:49:00 GMT\r\nServer: test-server/\r\nContent-Length: 6\r\n\r\n-foo-\n".to_owned(),
            "/space-before-colon" => "HTTP/1.1 200 OK\r\nContent-Type : text/plain\r\nContent-Length: 6\r\n\r\n-foo-\n".to_owned(),
            "/bad-name" => "HTTP/1.1 200 OK\r\nX Bad Header: 1\r\nContent-Length: 6\r\n\r\n-foo-\n".to_owned(),
            "/many" => format!("HTTP/1.1 200 OK\r\n{many}Content-Length: 6\r\n\r\n-foo-\n"),
            "/too-many" => format!("HTTP/1.1 200 OK\r\n{too_many}Content-Length: 6\r\n\r\n-foo-\n"),
            _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_owned(),
        };
        vec![send(&reply), Step::Close]
    })
    .await;
    let mut h = Harness::new(limits());
    for path in [
        "/folded",
        "/curl1274",
        "/no-colon",
        "/leading-space",
        "/space-before-colon",
        "/bad-name",
        "/many",
    ] {
        let saved = h.saved_name(&server.url(path), b"-foo-\n").await;
        if path == "/folded" {
            assert_eq!(saved, "folded.txt");
        }
    }
    // The bound: past it the reply fails, with the HTTP layer's reason.
    let error = failed(&outcome_of(&mut h, &server.url("/too-many")).await);
    assert!(
        error.to_string().contains("message head is too large"),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Names decoded as browsers decode them; redirects followed as curl follows them.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_decoded_as_browsers_decode_them() {
    let server = Replay::start(|r| {
        let cd: &[u8] = match r.target.as_str() {
            "/rfc2047" => b"attachment; filename=\"=?UTF-8?B?5oql5ZGKLmNzdg==?=\"",
            // No disposition type (curl test 1311).
            "/no-type" => b"filename=report.txt; charset=funny",
            // Raw GBK bytes for 报告.txt, as Chinese servers send them.
            "/gbk" => b"attachment; filename=\"\xB1\xA8\xB8\xE6.txt\"",
            "/percent" => b"attachment; filename=\"%E6%8A%A5%E5%91%8A.pdf\"",
            _ => b"attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A.zip; filename=\"fallback.zip\"",
        };
        let mut reply = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nContent-Disposition: ".to_vec();
        reply.extend_from_slice(cd);
        reply.extend_from_slice(b"\r\n\r\n-foo-\n");
        vec![Step::Send(reply)]
    })
    .await;
    let mut h = Harness::with_output(limits(), |output| {
        output.legacy_charset = Some("GBK".to_owned());
    });
    for (path, name) in [
        ("/rfc2047", "报告.csv"),
        ("/no-type", "report.txt"),
        ("/gbk", "报告.txt"),
        ("/percent", "报告.pdf"),
        ("/ext", "报告.zip"),
    ] {
        let saved = h.saved_name(&server.url(path), b"-foo-\n").await;
        assert_eq!(saved, name, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_bytes_in_a_location_are_followed_as_curl_follows_them_and_unfollowed_redirects_say_why()
 {
    let server = Replay::start(|r| match r.target.as_str() {
        // GBK bytes for 报告 in the Location (curl test 1138 has UTF-8 ones).
        "/moved" => vec![Step::Send(b"HTTP/1.1 302 Found\r\nLocation: /d/\xB1\xA8\xB8\xE6 x.txt\r\nContent-Length: 0\r\n\r\n".to_vec())],
        "/d/%B1%A8%B8%E6%20x.txt" => ok(b"-foo-\n", ""),
        "/nowhere" => vec![send("HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n")],
        "/choices" => vec![send("HTTP/1.1 300 Multiple Choices\r\nLocation: /d/x\r\nContent-Length: 0\r\n\r\n")],
        "/ftp" => vec![Step::Send(b"HTTP/1.1 302 Found\r\nLocation: ftp://h/\xB1.txt\r\nContent-Length: 0\r\n\r\n".to_vec())],
        _ => vec![send("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")],
    })
    .await;
    let mut h = Harness::with_output(limits(), |output| {
        output.legacy_charset = Some("GBK".to_owned());
    });
    assert_eq!(
        h.saved_name(&server.url("/moved"), b"-foo-\n").await,
        "报告 x.txt",
        "named from the URL it came from, its bytes read as GBK"
    );
    for (path, why) in [
        (
            "/nowhere",
            "redirect refused: the server replied 302 Found without a Location to follow",
        ),
        (
            "/choices",
            "redirect refused: the server replied 300 Multiple Choices, which names no single place to follow",
        ),
        (
            "/ftp",
            "redirect refused: redirect to a 'ftp' URL is not allowed",
        ),
    ] {
        let error = failed(&outcome_of(&mut h, &server.url(path)).await);
        assert_eq!(error.to_string(), why, "{path}");
    }
}
