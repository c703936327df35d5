//! Hostile RPC clients (issue 24): paths that reach outside the destination through links
//! inside it, file-valued options naming files elsewhere, and clients that hold connections
//! without finishing their requests. `haul-cli --enable-rpc` as it runs, raw sockets and
//! plain requests against it.

// Most tests here are Unix-only (signals, permissions): on Windows their helpers and imports
// go unused.
#![cfg_attr(not(unix), allow(unused_imports, dead_code))]

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::rpc::{SECRET, post, start};
use crate::support::body;
use crate::support::replay::{Replay, Step};
use haul_testkit::tools::call;

fn token() -> String {
    format!("token:{SECRET}")
}

/// `addUri` with `options`: the gid, or the error's message.
async fn add(port: u16, url: &str, options: Value) -> Result<String, String> {
    let (_, reply) = post(
        port,
        call("aria2.addUri", json!([token(), [url], options])),
        &[],
    )
    .await;
    match reply["result"].as_str() {
        Some(gid) => Ok(gid.to_owned()),
        None => Err(reply["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()),
    }
}

/// Waits until `gid` is complete or failed; its status.
async fn settled(port: u16, gid: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, reply) = post(port, call("aria2.tellStatus", json!([token(), gid])), &[]).await;
        let status = &reply["result"]["status"];
        if status == "complete" || status == "error" {
            return reply["result"].clone();
        }
        assert!(Instant::now() < deadline, "{gid} did not settle: {reply}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn serve_100_bytes() -> impl Fn(&crate::support::replay::Request) -> Vec<Step> + Send + Sync {
    |_| {
        let mut reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".to_vec();
        reply.extend_from_slice(&body(100));
        vec![Step::Send(reply)]
    }
}

#[cfg(unix)]
fn link(target: &Path, at: &Path) {
    std::os::unix::fs::symlink(target, at).expect("symlink");
}

/// Variants: a link to a folder outside (named as the dir, as its parent with folders still to
/// make under it, and by an absolute path inside the destination), a dangling link whose target
/// would be made outside; a link to a folder inside is followed, and missing folders are made.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dir_through_a_link_that_leads_out_is_refused_and_nothing_is_made_outside() {
    let server = Replay::start(serve_100_bytes()).await;
    let root = tempfile::tempdir().expect("tempdir");
    let (dest, outside) = (root.path().join("dest"), root.path().join("outside"));
    std::fs::create_dir_all(dest.join("real")).expect("dest");
    std::fs::create_dir_all(&outside).expect("outside");
    link(&outside, &dest.join("out"));
    link(&outside.join("new"), &dest.join("dangling"));
    link(&dest.join("real"), &dest.join("inner"));
    let rpc = start(&dest).await;
    let url = server.url("/x.bin");
    let absolute = dest.join("out").display().to_string();
    for dir in [
        "out",
        "out/sub/deeper",
        absolute.as_str(),
        "dangling",
        "dangling/a",
    ] {
        let error = add(rpc.port, &url, json!({ "dir": dir }))
            .await
            .expect_err(dir);
        assert!(error.contains("outside the destination"), "{dir}: {error}");
    }
    assert!(
        std::fs::read_dir(&outside)
            .expect("outside")
            .next()
            .is_none(),
        "nothing made or written outside"
    );
    assert!(server.requests().is_empty(), "nothing refused was fetched");
    // A link that stays inside is followed; folders that are missing are made.
    for (dir, lands) in [
        ("inner/sub", "real/sub/x.bin"),
        ("fresh/a/b", "fresh/a/b/x.bin"),
    ] {
        let gid = add(rpc.port, &url, json!({ "dir": dir })).await.expect(dir);
        let status = settled(rpc.port, &gid).await;
        assert_eq!(status["status"], "complete", "{dir}: {status}");
        assert_eq!(std::fs::read(dest.join(lands)).expect(lands), body(100));
    }
}

/// Variants: a cookies file by absolute path outside, by `../`, through a link inside the
/// destination that leads out, and an absolute path that does not exist (said the same way:
/// the RPC tells nothing about files outside); one inside is read and its cookie sent.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_valued_options_over_the_rpc_read_only_inside_the_destination() {
    let server = Replay::start(serve_100_bytes()).await;
    let root = tempfile::tempdir().expect("tempdir");
    let dest = root.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let secret = root.path().join("secret.txt");
    std::fs::write(&secret, "127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tprivate\n").expect("secret");
    std::fs::write(
        dest.join("mine.txt"),
        "127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tshared\n",
    )
    .expect("mine");
    link(&secret, &dest.join("link.txt"));
    let rpc = start(&dest).await;
    let url = server.url("/x.bin");
    let absolute = secret.display().to_string();
    // Both file-valued options: the cookies file, and the certificate authorities trusted.
    for option in ["load-cookies", "ca-certificate"] {
        for file in [
            absolute.as_str(),
            "../secret.txt",
            "link.txt",
            "/nonexistent/cookies.txt",
        ] {
            let error = add(rpc.port, &url, json!({ option: file }))
                .await
                .expect_err(file);
            assert!(
                error.contains("outside the destination"),
                "{option} {file}: {error}"
            );
            assert!(!error.contains("private"), "{error}");
        }
    }
    assert!(server.requests().is_empty(), "nothing refused was fetched");
    let gid = add(rpc.port, &url, json!({ "load-cookies": "mine.txt" }))
        .await
        .expect("a cookies file inside");
    assert_eq!(settled(rpc.port, &gid).await["status"], "complete");
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("cookie"), Some("sid=shared"));
}

/// What the server sent on `stream` until it closed, or until `limit`.
async fn reply_within(stream: &mut TcpStream, limit: Duration) -> Result<String, &'static str> {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await;
    match read {
        Ok(()) => Ok(String::from_utf8_lossy(&seen).into_owned()),
        Err(_) => Err("still open with no answer"),
    }
}

fn head(length: usize) -> String {
    format!(
        "POST /jsonrpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

/// A connection to the RPC on `port` that has sent `bytes`.
async fn sent(port: u16, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.write_all(bytes).await.expect("send");
    stream
}

/// Variants: a body announced and never sent (408), a body trickled a byte at a time (408 when
/// the time is up, though bytes keep coming), half a head and then nothing (closed), an idle
/// keep-alive connection after a good request (closed). Each is answered or closed in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_that_never_finish_are_answered_408_or_closed_in_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rpc = start(dir.path()).await;
    let port = rpc.port;
    let limit = Duration::from_secs(20);
    let silent = async {
        let mut stream = sent(port, head(100_000).as_bytes()).await;
        reply_within(&mut stream, limit).await
    };
    let trickled = async {
        let mut stream = sent(port, head(100_000).as_bytes()).await;
        let trickle = async {
            while stream.write_all(b" ").await.is_ok() {
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        };
        let _ = tokio::time::timeout(limit, trickle).await;
        reply_within(&mut stream, Duration::from_secs(1)).await
    };
    let half_head = async {
        let mut stream = sent(port, b"POST /jsonrpc HTTP/1.1\r\nHost: 127.0").await;
        reply_within(&mut stream, limit).await
    };
    let idle = async {
        let good = call("aria2.getVersion", json!([token()]));
        let mut stream = sent(port, format!("{}{good}", head(good.len())).as_bytes()).await;
        reply_within(&mut stream, limit).await
    };
    let started = Instant::now();
    let (silent, trickled, half_head, idle) = tokio::join!(silent, trickled, half_head, idle);
    let silent = silent.expect("a body announced and never sent");
    assert!(silent.starts_with("HTTP/1.1 408"), "{silent}");
    // The trickle's writes fail once the server closes: the 408 was sent before.
    let trickled = trickled.unwrap_or_default();
    assert!(
        trickled.is_empty() || trickled.starts_with("HTTP/1.1 408"),
        "{trickled}"
    );
    assert_eq!(
        half_head.expect("half a head"),
        "",
        "closed without a reply"
    );
    let idle = idle.expect("an idle keep-alive connection");
    assert!(
        idle.starts_with("HTTP/1.1 200"),
        "answered, then closed: {idle}"
    );
    assert!(started.elapsed() < limit, "{:?}", started.elapsed());
}

/// Variants: one client opens more connections than it may hold and sends nothing on them: the
/// ones past the bound are answered 503 at once; a request on a fresh connection is answered
/// once the hoarded ones have been closed for idling.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hoards_connections_is_bounded_and_the_server_still_answers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rpc = start(dir.path()).await;
    let mut hoard = Vec::new();
    for _ in 0..40 {
        hoard.push(
            TcpStream::connect(("127.0.0.1", rpc.port))
                .await
                .expect("connect"),
        );
    }
    // Every hoarded connection is read at once, for 5 s: those past the bound are answered 503
    // and closed; the others wait for a request. The start-up check's own connection may
    // still be counted for a moment on a loaded machine, so one more may be refused (the
    // 40th was then accepted and never answered, and this test failed under load).
    let mut reads = tokio::task::JoinSet::new();
    for mut stream in hoard {
        reads.spawn(async move {
            let reply = reply_within(&mut stream, Duration::from_secs(5)).await;
            (reply, stream)
        });
    }
    let mut refused = 0;
    let mut hoard = Vec::new();
    while let Some(joined) = reads.join_next().await {
        let (reply, stream) = joined.expect("a read");
        if let Ok(reply) = reply {
            assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
            refused += 1;
        }
        hoard.push(stream);
    }
    assert!((8..=9).contains(&refused), "{refused} refused");
    // The hoarded ones are closed for idling; then the server answers again.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let good = call("aria2.getVersion", json!([token()]));
        let mut stream = sent(rpc.port, format!("{}{good}", head(good.len())).as_bytes()).await;
        let mut first = [0u8; 12];
        let n = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut first))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or(0);
        if first[..n].starts_with(b"HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "never answered again");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
