//! The fixture server holds its promises (the other tests lean on them): ranges and `If-Range`,
//! `416`, the broken range servers, failures first then service, generations, the request
//! log, a broken chunked body.

use crate::support::{Server, body, body_gen};
use reqwest::StatusCode;

fn http() -> reqwest::Client {
    // reqwest is built without a crypto provider of its own; plain HTTP still needs one set.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().expect("ASCII header").to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_range_gives_206_with_content_range_and_the_slice() {
    let server = Server::start().await;
    let url = server.url("/bytes/1000/r.bin?range=1&etag=v1&lm=1");
    let client = http();

    let full = client.get(&url).send().await.expect("full");
    assert_eq!(full.status(), StatusCode::OK);
    assert_eq!(header(&full, "accept-ranges").as_deref(), Some("bytes"));
    assert_eq!(header(&full, "etag").as_deref(), Some("\"v1\""));
    assert_eq!(
        header(&full, "last-modified").as_deref(),
        Some(crate::support::LAST_MODIFIED)
    );
    assert_eq!(header(&full, "content-range"), None);
    assert_eq!(full.bytes().await.expect("body").as_ref(), body(1000));

    let part = client
        .get(&url)
        .header("Range", "bytes=300-")
        .send()
        .await
        .expect("range");
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&part, "content-range").as_deref(),
        Some("bytes 300-999/1000")
    );
    assert_eq!(part.content_length(), Some(700));
    assert_eq!(
        part.bytes().await.expect("body").as_ref(),
        &body(1000)[300..]
    );

    // A matching If-Range keeps the range; the other options apply to the slice.
    let short = client
        .get(server.url("/bytes/1000/r.bin?range=1&etag=v1&short=100"))
        .header("Range", "bytes=500-")
        .header("If-Range", "\"v1\"")
        .send()
        .await
        .expect("short range");
    assert_eq!(short.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(short.content_length(), Some(500));
    assert!(short.bytes().await.is_err(), "500 advertised, 100 sent");

    // Without range=1 a Range is not honoured (today's behaviour), nor with range=ignore.
    for plain in ["/bytes/1000/r.bin", "/bytes/1000/r.bin?range=ignore"] {
        let whole = client
            .get(server.url(plain))
            .header("Range", "bytes=300-")
            .send()
            .await
            .expect("plain");
        assert_eq!(whole.status(), StatusCode::OK, "{plain}");
        assert_eq!(header(&whole, "accept-ranges"), None, "{plain}");
        assert_eq!(whole.bytes().await.expect("body").as_ref(), body(1000));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_if_range_mismatch_gives_the_full_200() {
    let server = Server::start().await;
    let url = server.url("/bytes/1000/r.bin?range=1&etag=v1&lm=1");
    let client = http();
    for stale in ["\"v0\"", "v1", crate::support::LAST_MODIFIED] {
        let reply = client
            .get(&url)
            .header("Range", "bytes=300-")
            .header("If-Range", stale)
            .send()
            .await
            .expect("if-range");
        assert_eq!(reply.status(), StatusCode::OK, "If-Range {stale}");
        assert_eq!(header(&reply, "content-range"), None);
        assert_eq!(reply.bytes().await.expect("body").as_ref(), body(1000));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_a_range_past_the_end_is_416() {
    let server = Server::start().await;
    let client = http();
    for start in [1000, 5000] {
        let reply = client
            .get(server.url("/bytes/1000/r.bin?range=1"))
            .header("Range", format!("bytes={start}-"))
            .send()
            .await
            .expect("416");
        assert_eq!(reply.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(
            header(&reply, "content-range").as_deref(),
            Some("bytes */1000")
        );
        assert!(reply.bytes().await.expect("body").is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_broken_range_servers() {
    let server = Server::start().await;
    let client = http();
    let get = |mode: &str| {
        client
            .get(server.url(&format!("/bytes/1000/r.bin?range={mode}")))
            .header("Range", "bytes=300-")
            .send()
    };
    let wrong = get("wrong").await.expect("wrong");
    assert_eq!(wrong.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&wrong, "content-range").as_deref(),
        Some("bytes 301-999/1000")
    );
    assert_eq!(
        wrong.bytes().await.expect("body").as_ref(),
        &body(1000)[301..]
    );

    let total = get("total").await.expect("total");
    assert_eq!(total.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        header(&total, "content-range").as_deref(),
        Some("bytes 300-999/1001")
    );
    assert_eq!(
        total.bytes().await.expect("body").as_ref(),
        &body(1000)[300..]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_fail_first_then_serves_with_retry_after() {
    let server = Server::start().await;
    let client = http();
    let path = "/bytes/100/f.bin?fail_first=2&retry_after=7";
    for attempt in 1..=2 {
        let reply = client.get(server.url(path)).send().await.expect("fail");
        assert_eq!(
            reply.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "#{attempt}"
        );
        assert_eq!(header(&reply, "retry-after").as_deref(), Some("7"));
        let page = reply.text().await.expect("page");
        assert!(page.contains("<html>"), "{page}");
    }
    // Counted per exact target: another query string has its own count.
    let other = client
        .get(server.url("/bytes/100/f.bin?fail_first=1&fail_status=500"))
        .send()
        .await
        .expect("other");
    assert_eq!(other.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(header(&other, "retry-after"), None);

    let ok = client.get(server.url(path)).send().await.expect("third");
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(ok.bytes().await.expect("body").as_ref(), body(100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_set_generation_changes_bytes_and_etag() {
    assert_eq!(body_gen(500, 0), body(500));
    assert!(body_gen(500, 1).iter().zip(body(500)).all(|(a, b)| *a != b));
    assert_ne!(body_gen(500, 1), body_gen(500, 2));

    let server = Server::start().await;
    let client = http();
    let url = server.url("/bytes/500/g.bin?etag=abc&range=1");
    let get = || client.get(&url).send();
    let before = get().await.expect("gen 0");
    assert_eq!(header(&before, "etag").as_deref(), Some("\"abc\""));
    assert_eq!(before.bytes().await.expect("body").as_ref(), body(500));

    server.set_generation("/bytes/500/g.bin", 3);
    let after = get().await.expect("gen 3");
    assert_eq!(header(&after, "etag").as_deref(), Some("\"abc-g3\""));
    assert_eq!(
        after.bytes().await.expect("body").as_ref(),
        body_gen(500, 3)
    );

    // A resume with the old validator gets the whole new file; with the new one, the slice.
    let stale = client
        .get(&url)
        .header("Range", "bytes=100-")
        .header("If-Range", "\"abc\"")
        .send()
        .await
        .expect("stale");
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(
        stale.bytes().await.expect("body").as_ref(),
        body_gen(500, 3)
    );
    let fresh = client
        .get(&url)
        .header("Range", "bytes=100-")
        .header("If-Range", "\"abc-g3\"")
        .send()
        .await
        .expect("fresh");
    assert_eq!(fresh.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        fresh.bytes().await.expect("body").as_ref(),
        &body_gen(500, 3)[100..]
    );

    // Another path is untouched; generation 0 restores the original.
    let other = client
        .get(server.url("/bytes/500/h.bin?etag=abc"))
        .send()
        .await
        .expect("other");
    assert_eq!(header(&other, "etag").as_deref(), Some("\"abc\""));
    server.set_generation("/bytes/500/g.bin", 0);
    assert_eq!(
        get()
            .await
            .expect("gen 0")
            .bytes()
            .await
            .expect("body")
            .as_ref(),
        body(500)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_logs_requests_and_reads_headers_in_any_case() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let server = Server::start().await;
    let client = http();
    client
        .get(server.url("/bytes/10/a?x=1"))
        .send()
        .await
        .expect("plain");
    // Written by hand to control the header names' case.
    let addr = server.url("").trim_start_matches("http://").to_owned();
    let mut raw = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    raw.write_all(
        b"GET /bytes/10/b?range=1&etag=e HTTP/1.1\r\nHost: x\r\nRANGE: bytes=4-\r\nif-RANGE: \"e\"\r\nConnection: close\r\n\r\n",
    )
    .await
    .expect("send");
    let mut reply = Vec::new();
    raw.read_to_end(&mut reply).await.expect("read");
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 206 "), "{reply}");
    assert!(reply.contains("Content-Range: bytes 4-9/10"), "{reply}");

    let log: Vec<_> = server
        .request_log()
        .into_iter()
        .map(|l| (l.target, l.range, l.if_range))
        .collect();
    assert_eq!(
        log,
        [
            ("/bytes/10/a?x=1".into(), None, None),
            (
                "/bytes/10/b?range=1&etag=e".into(),
                Some("bytes=4-".into()),
                Some("\"e\"".into())
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_bad_chunk_breaks_the_chunked_body() {
    let server = Server::start().await;
    let reply = http()
        .get(server.url("/bytes/5000/c.bin?bad_chunk=1"))
        .send()
        .await
        .expect("headers");
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(
        header(&reply, "transfer-encoding").as_deref(),
        Some("chunked")
    );
    assert!(reply.bytes().await.is_err(), "a bad chunk-size line");
}
