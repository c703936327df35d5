//! HTTP(S) with reqwest: one client, a strict redirect policy, streaming bodies.
//!
//! Owns: talking to servers. [`client`] builds the shared client (connect and read timeouts,
//! at most 10 http(s)-only redirects, certificates always verified, proxies from the
//! environment, no decompression). [`open`] sends the request — with `Range` and `If-Range`
//! when resuming — and checks the reply: what it is ([`Body`]: the whole file, exactly the
//! rest we asked for, nothing left, or a range we cannot use) and when to ask again (a
//! `Retry-After`). [`stream`] moves the body into a [`ChunkWriter`] (or, for a small body,
//! memory) under a stall timeout and an optional size limit. Both return soon after their stop
//! token is cancelled; dropping the response closes the connection.
//! Must not touch: the disk (the writer does), channels, events.

use std::error::Error as StdError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_DISPOSITION, CONTENT_RANGE, CONTENT_TYPE, ETAG, IF_RANGE, LAST_MODIFIED, LOCATION,
    RANGE, RETRY_AFTER,
};
use reqwest::{Client, Response, redirect};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::Stop;
use crate::engine::names;
use crate::engine::output::ChunkWriter;
use crate::protocol::{FetchError, Limits, TimeoutKind};

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 10;
/// The longest `Retry-After` honoured; a server asking for more gets this.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);

/// Why a redirect was refused; travels inside reqwest's error and is found again by type.
#[derive(Debug, thiserror::Error)]
enum RedirectRefused {
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooMany,
    #[error("redirect loop at {0}")]
    Loop(String),
    #[error("redirect to a '{0}' URL is not allowed")]
    Scheme(String),
    #[error("redirect to an invalid location '{0}'")]
    BadLocation(String),
}

/// Builds the client shared by all HTTP items, from the connect and stall timeouts.
pub fn client(limits: &Limits) -> Result<Client, FetchError> {
    // rustls' process-wide crypto provider; an error only means one is installed already.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let policy = redirect::Policy::custom(|attempt| {
        let url = attempt.url();
        if !matches!(url.scheme(), "http" | "https") {
            let scheme = url.scheme().to_owned();
            return attempt.error(RedirectRefused::Scheme(scheme));
        }
        if attempt.previous().iter().any(|seen| seen == url) {
            let at = url.to_string();
            return attempt.error(RedirectRefused::Loop(at));
        }
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(RedirectRefused::TooMany);
        }
        attempt.follow()
    });
    Client::builder()
        .user_agent(concat!("haul/", env!("CARGO_PKG_VERSION")))
        .redirect(policy)
        .connect_timeout(limits.connect_timeout)
        .read_timeout(limits.stall_timeout)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| FetchError::Request(chain(&e)))
}

/// Asking for the rest of a file: the bytes from `offset` on, if it is still the same file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeFrom {
    pub offset: u64,
    /// For `If-Range`: an ETag or a Last-Modified date.
    pub validator: Option<String>,
    /// The whole size the kept bytes belong to, if known.
    pub total: Option<u64>,
}

/// What the body of an accepted reply is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// The whole file (a 200, also when a range was asked for: the server ignored it or the
    /// file changed — start over).
    Full,
    /// Exactly the rest that was asked for (a 206 starting at the offset, same total).
    Rest,
    /// Nothing is left: a 416 saying the file is exactly as long as what we have.
    Complete,
    /// A range reply that does not fit what we have (wrong start or total): ask again for
    /// the whole file.
    Mismatch,
}

/// A reply whose headers passed the checks; the body is still to be read.
#[derive(Debug)]
pub struct Opened {
    pub response: Response,
    /// A sanitised file name suggested by the reply.
    pub name: String,
    /// The whole file's size, when known.
    pub total: Option<u64>,
    pub body: Body,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Sends the request and checks the reply: only a 2xx is accepted (an error body is never
/// read; a 429 or 503 with `Retry-After` says when to try again); the name comes from
/// `Content-Disposition` (when `use_disposition`) or the URL. With `range`, asks for the
/// rest of a file and says in [`Opened::body`] what came back.
pub async fn open(
    client: &Client,
    url: &Url,
    limits: &Limits,
    use_disposition: bool,
    range: Option<&RangeFrom>,
    stop: &CancellationToken,
) -> Result<Opened, Stop> {
    // reqwest's read timeout covers a silent server; this outer bound also covers a server
    // that trickles header bytes forever.
    let headers_deadline = limits.connect_timeout + limits.stall_timeout;
    let mut request = client.get(url.clone());
    if let Some(range) = range {
        request = request.header(RANGE, format!("bytes={}-", range.offset));
        if let Some(validator) = &range.validator {
            request = request.header(IF_RANGE, validator.as_str());
        }
    }
    let send = tokio::time::timeout(headers_deadline, request.send());
    let response = tokio::select! {
        biased;
        () = stop.cancelled() => return Err(Stop::Stopped),
        sent = send => match sent {
            Err(_) => return Err(Stop::TimedOut(TimeoutKind::Stall)),
            Ok(Err(e)) => return Err(classify(&e)),
            Ok(Ok(response)) => response,
        },
    };
    let status = response.status();
    if status.is_redirection()
        && let Some(refused) = unfollowed_redirect(&response)
    {
        return Err(Stop::Failed(FetchError::Redirect(refused.to_string())));
    }
    let body = match (status, range) {
        (StatusCode::RANGE_NOT_SATISFIABLE, Some(range)) => match content_range(&response) {
            Some((None, total)) if total == range.offset => Body::Complete,
            _ => Body::Mismatch,
        },
        (StatusCode::PARTIAL_CONTENT, Some(range)) => match content_range(&response) {
            Some((Some(start), total))
                if start == range.offset && range.total.is_none_or(|t| t == total) =>
            {
                Body::Rest
            }
            _ => Body::Mismatch,
        },
        _ if status.is_success() => Body::Full,
        _ => {
            let error = FetchError::HttpStatus {
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or_default().to_owned(),
            };
            let busy = matches!(
                status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            );
            return Err(match retry_after(&response) {
                Some(after) if busy => Stop::Busy(error, after),
                _ => Stop::Failed(error),
            });
        }
    };
    let name = use_disposition
        .then(|| response.headers().get(CONTENT_DISPOSITION))
        .flatten()
        .and_then(|value| names::from_content_disposition(value.as_bytes()))
        .map(|raw| names::sanitize(&raw))
        .or_else(|| names::from_url(response.url()))
        .or_else(|| names::from_url(url))
        .unwrap_or_else(|| fallback_name(&response));
    let total = match body {
        Body::Rest | Body::Complete => content_range(&response).map(|(_, total)| total),
        Body::Full | Body::Mismatch => response.content_length(),
    };
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
    Ok(Opened {
        response,
        name,
        total,
        body,
        etag,
        last_modified,
    })
}

/// `Content-Range: bytes A-B/T` → (Some(A), T); `bytes */T` → (None, T).
fn content_range(response: &Response) -> Option<(Option<u64>, u64)> {
    let value = response.headers().get(CONTENT_RANGE)?.to_str().ok()?;
    let rest = value.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let total = total.trim().parse().ok()?;
    if span.trim() == "*" {
        return Some((None, total));
    }
    let (start, end) = span.split_once('-')?;
    let (start, end): (u64, u64) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    (start <= end && end < total).then_some((Some(start), total))
}

/// `Retry-After` as seconds or an HTTP date, capped at [`RETRY_AFTER_CAP`].
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(std::time::SystemTime::now())
                .unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(RETRY_AFTER_CAP))
}

/// A 3xx that reached us was not followed: the HTTP layer only hands back redirects whose
/// `Location` it cannot use (another scheme, or unparsable). Say which.
fn unfollowed_redirect(response: &Response) -> Option<RedirectRefused> {
    let location = response.headers().get(LOCATION)?;
    let text = String::from_utf8_lossy(location.as_bytes());
    match response.url().join(&text) {
        Ok(next) if !matches!(next.scheme(), "http" | "https") => {
            Some(RedirectRefused::Scheme(next.scheme().to_owned()))
        }
        Ok(_) => None,
        Err(_) => Some(RedirectRefused::BadLocation(text.into_owned())),
    }
}

fn fallback_name(response: &Response) -> String {
    let html = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        "index.html".to_owned()
    } else {
        names::FALLBACK_NAME.to_owned()
    }
}

/// Where a body goes.
pub enum Sink<'a> {
    /// The `.part` writer on the blocking pool.
    Writer(&'a mut ChunkWriter),
    /// Memory, for a small body of known length: written to disk in one go once complete.
    Memory(&'a mut Vec<u8>),
}

/// Streams the body into `sink`, adding to `progress`. Fails on a stall, a broken
/// connection, a body that is shorter or longer than `Content-Length`, or one that takes the
/// file (`already` bytes plus this body) past `max_size`.
pub async fn stream(
    mut response: Response,
    mut sink: Sink<'_>,
    stall: Duration,
    max_size: Option<(u64, u64)>,
    stop: &CancellationToken,
    progress: &AtomicU64,
) -> Result<u64, Stop> {
    let total = response.content_length();
    let mut received: u64 = 0;
    loop {
        let chunk = tokio::select! {
            biased;
            () = stop.cancelled() => return Err(Stop::Stopped),
            next = tokio::time::timeout(stall, response.chunk()) => match next {
                Err(_) => return Err(Stop::TimedOut(TimeoutKind::Stall)),
                Ok(Err(e)) => return Err(body_error(&e, total, received)),
                Ok(Ok(None)) => break,
                Ok(Ok(Some(chunk))) => chunk,
            },
        };
        received += chunk.len() as u64;
        if let Some(expected) = total
            && received > expected
        {
            return Err(Stop::Failed(FetchError::LongBody { expected }));
        }
        if let Some((already, limit)) = max_size
            && already + received > limit
        {
            return Err(Stop::Failed(FetchError::TooLarge { limit }));
        }
        progress.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        match &mut sink {
            Sink::Memory(buffer) => buffer.extend_from_slice(&chunk),
            Sink::Writer(writer) => tokio::select! {
                biased;
                () = stop.cancelled() => return Err(Stop::Stopped),
                written = writer.write(chunk) => written.map_err(Stop::Failed)?,
            },
        }
    }
    match total {
        Some(expected) if received < expected => {
            Err(Stop::Failed(FetchError::ShortBody { expected, received }))
        }
        _ => Ok(received),
    }
}

fn body_error(e: &reqwest::Error, total: Option<u64>, received: u64) -> Stop {
    if e.is_timeout() {
        return Stop::TimedOut(TimeoutKind::Stall);
    }
    let reset = sources(e).any(|s| {
        s.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
            )
        })
    });
    match total {
        Some(expected) if !reset && received < expected => {
            Stop::Failed(FetchError::ShortBody { expected, received })
        }
        _ => Stop::Failed(FetchError::Body(format!(
            "{} after {received} bytes",
            chain(e)
        ))),
    }
}

/// Maps a reqwest error from sending a request to a stop reason.
fn classify(e: &reqwest::Error) -> Stop {
    if let Some(refused) = sources(e).find_map(|s| s.downcast_ref::<RedirectRefused>()) {
        return Stop::Failed(FetchError::Redirect(refused.to_string()));
    }
    if e.is_timeout() {
        let kind = if e.is_connect() {
            TimeoutKind::Connect
        } else {
            TimeoutKind::Stall
        };
        return Stop::TimedOut(kind);
    }
    if let Some(tls) = sources(e).find_map(tls_error) {
        return Stop::Failed(FetchError::Tls(tls));
    }
    if e.is_connect() {
        return Stop::Failed(FetchError::Connect(chain(e)));
    }
    if e.is_redirect() {
        return Stop::Failed(FetchError::Redirect(chain(e)));
    }
    Stop::Failed(FetchError::Request(chain(e)))
}

/// A TLS failure in the chain, as text.
fn tls_error(e: &(dyn StdError + 'static)) -> Option<String> {
    e.downcast_ref::<rustls::Error>().map(ToString::to_string)
}

/// The error and its causes, outermost first. An `io::Error`'s `source()` skips the error it
/// wraps (where rustls and hyper put theirs), so step into it with `get_ref` instead.
fn sources<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&e: &&'a (dyn StdError + 'static)| match e
        .downcast_ref::<std::io::Error>()
    {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => e.source(),
    })
}

/// The causes of `e` joined with `: `, without reqwest's outer "error sending request for url".
fn chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for s in sources(e).skip(1) {
        let text = s.to_string();
        // hyper's "client error (Connect)" only repeats what the causes say better.
        if text.starts_with("client error (") {
            continue;
        }
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ")
}
