//! The fixture server's replies: what each route sends (bytes with their ranges, validators
//! and failures on demand, redirects, error pages) and how a held connection ends.
//! Must not touch: reading requests or the listener (the module above).

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::*;
pub(super) fn num(req: &Request, key: &str) -> Option<u64> {
    req.query.get(key).and_then(|v| v.parse().ok())
}

pub(super) async fn redirect(stream: &mut TcpStream, location: &str) -> std::io::Result<bool> {
    let head = format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    Ok(true)
}

/// Sleeps for `pause`, or less when the client closes the connection meanwhile (then
/// returns false): a throttled reply notices a client that left at once, not at its next
/// write, so `max_in_flight` does not count a connection the client already closed.
pub(super) async fn wait_unless_closed(stream: &TcpStream, pause: Duration) -> bool {
    let mut byte = [0u8; 1];
    tokio::select! {
        () = tokio::time::sleep(pause) => true,
        peeked = stream.peek(&mut byte) => match peeked {
            Ok(0) | Err(_) => false,
            // A pipelined request waits its turn.
            Ok(_) => {
                tokio::time::sleep(pause).await;
                true
            }
        },
    }
}

/// Writes one response. Returns whether the connection may serve another request.
pub(super) async fn respond(
    stream: &mut TcpStream,
    addr: SocketAddr,
    req: &Request,
    stats: &Stats,
) -> std::io::Result<bool> {
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        ["redirect", n, ..] => {
            let n: u32 = n.parse().unwrap_or(0);
            let next = if n <= 1 {
                "/bytes/64/end.bin".to_owned()
            } else {
                format!("http://{addr}/redirect/{}", n - 1)
            };
            return redirect(stream, &next).await;
        }
        ["loop", "a"] => return redirect(stream, "/loop/b").await,
        ["loop", "b"] => return redirect(stream, "/loop/a").await,
        ["to"] => {
            let location = req.query.get("location").cloned().unwrap_or_default();
            return redirect(stream, &location).await;
        }
        ["bytes", n, ..] => {
            let n: usize = n.parse().unwrap_or(0);
            return send_bytes(stream, req, n, stats).await;
        }
        _ => {}
    }
    stream
        .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
        .await?;
    Ok(true)
}

pub(super) async fn send_bytes(
    stream: &mut TcpStream,
    req: &Request,
    n: usize,
    stats: &Stats,
) -> std::io::Result<bool> {
    if let Some(ms) = num(req, "delay_headers_ms") {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let serving = {
        let mut serving = stats.serving.lock().expect("serving");
        let now = serving.entry(req.path.clone()).or_insert(0);
        *now += 1;
        *now
    };
    let _serving = Serving {
        stats,
        path: req.path.clone(),
    };
    if num(req, "max_conns").is_some_and(|most| serving as u64 > most) {
        return send_error_page(stream, 503, "").await;
    }
    if let Some(k) = num(req, "fail_first") {
        let seen = {
            let mut attempts = stats.attempts.lock().expect("attempts");
            let seen = attempts.entry(req.target.clone()).or_insert(0);
            *seen += 1;
            *seen
        };
        if seen <= k {
            let status = num(req, "fail_status").unwrap_or(503);
            let retry = num(req, "retry_after").map(|s| format!("Retry-After: {s}\r\n"));
            return send_error_page(stream, status, retry.as_deref().unwrap_or("")).await;
        }
    }
    if let Some(status) = num(req, "status") {
        return send_error_page(stream, status, "").await;
    }
    let generation = {
        let mut generations = stats.generations.lock().expect("generations");
        let generation = generations.entry(req.path.clone()).or_insert(0);
        let whole = req.range.as_deref().is_none_or(|r| r == "bytes=0-");
        if req.query.contains_key("new_per_get") && whole {
            *generation += 1;
        }
        *generation
    };
    let etag = req.query.get("etag").map(|tag| match generation {
        0 => format!("\"{tag}\""),
        g => format!("\"{tag}-g{g}\""),
    });

    let mut status_line = "HTTP/1.1 200 OK\r\n";
    let mut content_range = None;
    let mut from = 0;
    let mode = req.query.get("range").map(String::as_str);
    let ranges = matches!(mode, Some("1" | "wrong" | "total"));
    let mut upto = n;
    let requested = requested_range(req, etag.as_deref())
        .filter(|(_, last)| last.is_none() || num(req, "seg200") != Some(1));
    if ranges && let Some((start, last)) = requested {
        if start >= n {
            let head = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{n}\r\nContent-Length: 0\r\n\r\n"
            );
            stream.write_all(head.as_bytes()).await?;
            return Ok(true);
        }
        status_line = "HTTP/1.1 206 Partial Content\r\n";
        let (first, total) = match mode {
            Some("wrong") => (start + 1, n),
            Some("total") => (start, n + 1),
            _ => (start, n),
        };
        from = first.min(n);
        let last = last.map_or(n - 1, |last| last.min(n - 1)).max(from);
        upto = last + 1;
        content_range = Some(format!("Content-Range: bytes {first}-{last}/{total}\r\n"));
    }
    let data = &body_part(from, upto, generation)[..];
    let len = data.len();

    let bad_chunk = num(req, "bad_chunk") == Some(1);
    let chunked = num(req, "chunked") == Some(1) || bad_chunk;
    let no_length = num(req, "cl") == Some(0);
    let mut head = String::from(status_line);
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n");
    } else if no_length {
        head.push_str("Connection: close\r\n");
    } else {
        head.push_str(&format!("Content-Length: {len}\r\n"));
    }
    if ranges {
        head.push_str("Accept-Ranges: bytes\r\n");
    }
    if let Some(range) = &content_range {
        head.push_str(range);
    }
    if let Some(tag) = &etag {
        head.push_str(&format!("ETag: {tag}\r\n"));
    }
    if num(req, "lm") == Some(1) {
        head.push_str(&format!("Last-Modified: {LAST_MODIFIED}\r\n"));
    }
    if let Some(cd) = req.query.get("cd") {
        head.push_str(&format!("Content-Disposition: {cd}\r\n"));
    }
    if let Some(encoding) = req.query.get("ce") {
        head.push_str(&format!("Content-Encoding: {encoding}\r\n"));
    }
    if let Some(kind) = req.query.get("type") {
        head.push_str(&format!("Content-Type: {kind}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    if let Some(ms) = num(req, "delay_ms") {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }

    if bad_chunk {
        write_body(stream, &data[..len.min(1024)], true).await?;
        stream.write_all(b"zz\r\n").await?;
        stream.flush().await?;
        stream.shutdown().await?;
        return Ok(false);
    }
    let cut = |key: &str| num(req, key).map(|k| (k as usize).min(len));
    if let Some(k) = cut("stall_after") {
        write_body(stream, &data[..k], chunked).await?;
        hold_until_client_closes(stream, req, stats).await;
        return Ok(false);
    }
    if let Some(k) = cut("reset_after") {
        write_body(stream, &data[..k], chunked).await?;
        stream.flush().await?;
        tokio::time::sleep(Duration::from_millis(20)).await;
        stream.set_zero_linger()?;
        return Ok(false); // dropping the stream now sends RST
    }
    if let Some(k) = cut("short") {
        write_body(stream, &data[..k], chunked).await?;
        stream.shutdown().await?;
        return Ok(false);
    }
    if let Some(rate) = num(req, "rate").filter(|&r| r > 0) {
        let piece = 16 * 1024;
        let last = data.len().div_ceil(piece).saturating_sub(1);
        for (i, part) in data.chunks(piece).enumerate() {
            if write_body(stream, part, chunked).await.is_err() {
                record_close(req, stats);
                return Ok(false);
            }
            if i == last {
                break; // the reply is whole: it is no longer in flight
            }
            let pause = Duration::from_secs_f64(part.len() as f64 / rate as f64);
            if !wait_unless_closed(stream, pause).await {
                record_close(req, stats);
                return Ok(false);
            }
        }
    } else if let Some(ms) = num(req, "drip_ms") {
        for piece in data.chunks(1024) {
            if write_body(stream, piece, chunked).await.is_err() {
                record_close(req, stats);
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
    } else {
        write_body(stream, data, chunked).await?;
    }
    if chunked {
        stream.write_all(b"0\r\n\r\n").await?;
    }
    if no_length {
        stream.shutdown().await?;
        return Ok(false);
    }
    Ok(true)
}

/// The range the reply should honour, `bytes=A-` or `bytes=A-B`: (A, B), `None` without one,
/// when it is of another form, or when its `If-Range` does not match the current ETag.
pub(super) fn requested_range(req: &Request, etag: Option<&str>) -> Option<(usize, Option<usize>)> {
    let spec = req.range.as_deref()?.trim().strip_prefix("bytes=")?;
    let (start, last) = spec.split_once('-')?;
    let start = start.trim().parse().ok()?;
    let last = match last.trim() {
        "" => None,
        last => Some(last.parse().ok()?),
    };
    match &req.if_range {
        Some(validator) if Some(validator.as_str()) != etag => None,
        _ => Some((start, last)),
    }
}

/// A status with a small HTML error page; `extra` is more header lines (each ending in CRLF).
pub(super) async fn send_error_page(
    stream: &mut TcpStream,
    status: u64,
    extra: &str,
) -> std::io::Result<bool> {
    let page = format!("<html>error page for status {status}</html>");
    let head = format!(
        "HTTP/1.1 {status} Whatever\r\nContent-Type: text/html\r\n{extra}Content-Length: {}\r\n\r\n",
        page.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(page.as_bytes()).await?;
    Ok(true)
}

pub(super) async fn write_body(
    stream: &mut TcpStream,
    data: &[u8],
    chunked: bool,
) -> std::io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    if chunked {
        stream
            .write_all(format!("{:x}\r\n", data.len()).as_bytes())
            .await?;
        stream.write_all(data).await?;
        stream.write_all(b"\r\n").await
    } else {
        stream.write_all(data).await
    }
}

/// Keeps the connection open without sending, until the client closes it (or a minute passes).
pub(super) async fn hold_until_client_closes(stream: &mut TcpStream, req: &Request, stats: &Stats) {
    let _ = stream.flush().await;
    let mut scratch = [0u8; 1024];
    let wait = async {
        loop {
            match stream.read(&mut scratch).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .is_ok()
    {
        record_close(req, stats);
    }
}

pub(super) fn record_close(req: &Request, stats: &Stats) {
    stats
        .closes
        .lock()
        .expect("closes")
        .insert(req.target.clone(), Instant::now());
}
