//! HTTP(S) with reqwest: one client, a strict redirect policy, streaming bodies.
//!
//! Owns: talking to servers. [`client`] builds the shared client (connect and read timeouts,
//! at most 10 http(s)-only redirects, certificates verified by `fetch::trust`, proxies from the
//! environment, no decompression, and the header tolerance below). [`open`] sends the request
//! — with `Range` and `If-Range` when resuming — and checks the reply against it (`reply`):
//! what its body is ([`Body`]), whether its transfer coding can be decoded, when to ask again
//! (a `Retry-After`), and where a redirect the HTTP layer did not follow goes. [`stream`]
//! moves the body into a [`ChunkWriter`] (or, for a small body, memory) under a stall timeout
//! and an optional size limit. Both return soon after their stop token is cancelled; dropping
//! the response closes the connection.
//! Must not touch: the disk (the writer does), channels, events.
//!
//! # What replies are tolerated, within which bounds
//! Browsers and curl accept header sections that RFC 9112 calls invalid; a download should
//! not fail over them, and a hostile server must not exhaust memory with them:
//! - folded header lines (obs-fold, RFC 9112 §5.2) are unfolded, each fold becoming one space;
//! - a header line that cannot be parsed (no colon, a space in the name, a first line that
//!   starts with whitespace) is skipped, not the whole reply; a space before the colon is
//!   allowed;
//! - a NUL or a lone CR anywhere in the head is never tolerated (the reply fails);
//! - a chunked body's trailer section that cannot be parsed (a line without a colon) is
//!   ignored once every chunk has arrived, as curl and wget2 ignore trailers; a chunked body
//!   hyper cannot frame (chunk-size lines ending in a bare LF, which curl and wget2 read and
//!   hyper's decoder refuses, with no switch to allow them) is asked for again in HTTP/1.0,
//!   whose reply carries no chunks, as is every later request to that host
//!   ([`HttpClient::prefer_http10`]); a server that frames even that reply so fails it;
//! - at most [`MAX_HEADERS`] header lines, and the whole head within hyper's read buffer
//!   (about 400 KiB: 8 KiB + 100 × 4 KiB); past either the reply fails with "message head is
//!   too large". curl's own limits are 5,000 lines and 300 KiB.
//!
//! # Layout
//! - this file: the client, [`open`], [`stream`].
//! - `reply`: checking a reply against its request.
//! - `errors`: reqwest's errors as stop reasons.
//! - `socket`: a rate-limited reply's receive buffer, fitted to the rate.
//! - `proxy`: which proxy a URL goes through, and its failures told from the server's.
//! - `attempt`: HTTP's [`Fetcher`](super::Fetcher): one attempt at an item.
//! - `segmented`: a split download inside the item (the ranges are `engine::split`'s).

mod attempt;
mod errors;
mod proxy;
mod reply;
mod segmented;
mod socket;

pub(crate) use attempt::Http;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT_ENCODING, CONTENT_DISPOSITION, ETAG, IF_RANGE, LAST_MODIFIED, RANGE};
use reqwest::{Client, Response, redirect};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::Stop;
use crate::limit::Rates;
use crate::names;
use crate::output::ChunkWriter;
use crate::protocol::{
    FetchError, HostPin, Limits, ProxyChoice, ProxyProblem, Request, TimeoutKind, Trust,
};
use errors::{RedirectRefused, body_error, chain, classify, only_trailers_refused};
pub(crate) use reply::content_coded;

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 10;
/// The longest `Retry-After` honoured; a server asking for more gets this.
pub const RETRY_AFTER_CAP: Duration = Duration::from_secs(60);
/// Header lines a reply may have (hyper's own default is 100).
pub const MAX_HEADERS: usize = 1000;

/// Seconds since 1970, for cookie expiry.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The engine's HTTP client and the proxy it was built with (to say when the proxy, not the
/// server, failed).
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: Client,
    proxy: ProxyChoice,
    /// Hosts asked in HTTP/1.0 (`host:port`): their chunked bodies had chunk-size lines
    /// ending in a bare LF, which curl and wget2 read and hyper refuses; an HTTP/1.0 reply has
    /// no chunks (RFC 9112 §7.1: never sent to an HTTP/1.0 client). Shared by the client's
    /// clones, for the engine's life.
    http10: Arc<Mutex<HashSet<String>>>,
}

/// What a client is built from: the timeouts, the proxy, and the certificates trusted (the
/// item's own [`Trust`] and the hosts' pins).
pub struct ClientSpec<'a> {
    pub limits: &'a Limits,
    pub proxy: &'a ProxyChoice,
    pub trust: &'a Trust,
    pub hosts: &'a [HostPin],
}

impl HttpClient {
    /// From now on asks `url`'s host in HTTP/1.0 (its chunked framing could not be read);
    /// false when it already was.
    pub fn prefer_http10(&self, url: &Url) -> bool {
        let Some(host) = host_port(url) else {
            return false;
        };
        tracing::info!(
            host,
            "its chunked replies cannot be read: asking it in HTTP/1.0"
        );
        self.http10
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(host)
    }

    /// Whether `url`'s host is asked in HTTP/1.0.
    fn wants_http10(&self, url: &Url) -> bool {
        host_port(url).is_some_and(|host| {
            self.http10
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&host)
        })
    }

    /// The proxy a request to `url` goes through, as shown to people (a password as `***`);
    /// `None` when it goes straight to the server (or the system's proxy cannot be told).
    pub fn proxy_for(&self, url: &Url) -> Option<String> {
        let host = url.host_str()?;
        match &self.proxy {
            ProxyChoice::None => None,
            ProxyChoice::Manual(manual) => {
                (!proxy::bypassed(&manual.no_proxy, host)).then(|| manual.shown())
            }
            ProxyChoice::System => proxy::from_env(url.scheme(), host),
        }
    }
}

/// Builds a client: the one shared by all HTTP items that trust only the system's authorities
/// and the hosts' pins, or one for items that trust more. Errors: [`FetchError::Request`] when
/// the TLS setup or the proxy URL is refused, [`FetchError::Read`] for a `--cacert` file that
/// cannot be read.
pub fn client(spec: &ClientSpec<'_>) -> Result<HttpClient, FetchError> {
    let (limits, proxy) = (spec.limits, spec.proxy);
    let verifier = super::trust::Verifier::new(spec.trust, spec.hosts)?;
    let mut tls = verifier.config()?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let builder = Client::builder().tls_backend_preconfigured(tls);
    let builder = match proxy {
        ProxyChoice::None => builder.no_proxy(),
        ProxyChoice::System => builder,
        ProxyChoice::Manual(manual) => {
            let all = reqwest::Proxy::all(manual.url.as_str()).map_err(|e| FetchError::Proxy {
                proxy: manual.shown(),
                problem: ProxyProblem::Unreachable,
                detail: crate::protocol::redact(&chain(&e)).into_owned(),
            })?;
            builder.proxy(all.no_proxy(reqwest::NoProxy::from_string(&manual.no_proxy)))
        }
    };
    builder
        .user_agent(concat!("haul/", env!("CARGO_PKG_VERSION")))
        // Every redirect comes back to `open`, which follows it with the headers that hop
        // may have (credentials and secret headers only to the first host; cookies matched
        // to each hop's URL).
        .redirect(redirect::Policy::none())
        .connect_timeout(limits.connect_timeout)
        .read_timeout(limits.stall_timeout)
        .tcp_nodelay(true)
        .http1_allow_obsolete_multiline_headers_in_responses(true)
        .http1_ignore_invalid_headers_in_responses(true)
        .http1_allow_spaces_after_header_name_in_responses(true)
        .http1_max_headers(MAX_HEADERS)
        .build()
        .map(|client| HttpClient {
            client,
            proxy: proxy.clone(),
            http10: Arc::default(),
        })
        .map_err(|e| FetchError::Request(chain(&e)))
}

/// Whether a body's failure is hyper refusing a chunked body's framing (its messages start
/// "Invalid chunk"), not the connection or the server going away.
pub fn is_chunk_framing(failure: &str) -> bool {
    failure.contains("Invalid chunk")
}

/// `host:port` of `url` (the port its scheme implies when none is written).
fn host_port(url: &Url) -> Option<String> {
    Some(format!(
        "{}:{}",
        url.host_str()?,
        url.port_or_known_default()?
    ))
}

/// Asking for the rest of a file: the bytes from `offset` on, if it is still the same file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeFrom {
    pub offset: u64,
    /// The last byte asked for (inclusive); `None`: to the end of the file. A split
    /// download's segments ask for bounded ranges.
    pub end: Option<u64>,
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

/// Sends the request and checks the reply against it: only a 2xx is accepted (an error body is
/// never read; a 429 or 503 with `Retry-After` says when to try again), and only when it holds
/// what was asked for (see `reply`); the name comes from `Content-Disposition` (when
/// `use_disposition`, decoded as browsers do, with `legacy_charset` for bytes that are not
/// UTF-8) or the final URL. With `range`, asks for the rest of a file and says in
/// [`Opened::body`] what came back. A redirect the HTTP layer could not follow (raw bytes in
/// `Location`) is followed here; one that cannot be followed fails with the reason.
pub async fn open(
    client: &HttpClient,
    url: &Url,
    limits: &Limits,
    naming: &Naming,
    request: &Request,
    range: Option<&RangeFrom>,
    stop: &CancellationToken,
) -> Result<Opened, Stop> {
    let mut target = url.clone();
    let mut seen = vec![url.clone()];
    loop {
        let headers = request.headers_for(url, &target, unix_now());
        let response = send(client, &target, limits, &headers, range, stop).await?;
        let status = response.status();
        if status == reqwest::StatusCode::PROXY_AUTHENTICATION_REQUIRED
            && let Some(proxy) = client.proxy_for(&target)
        {
            return Err(Stop::Failed(FetchError::Proxy {
                proxy,
                problem: ProxyProblem::Auth,
                detail: "407 Proxy Authentication Required".to_owned(),
            }));
        }
        if status.is_redirection() {
            let next = reply::redirect_target(status, response.headers(), response.url())
                .and_then(|next| {
                    if seen.contains(&next) {
                        Err(RedirectRefused::Loop(next.to_string()))
                    } else if seen.len() > MAX_REDIRECTS {
                        Err(RedirectRefused::TooMany)
                    } else {
                        Ok(next)
                    }
                })
                .map_err(|refused| Stop::Failed(FetchError::Redirect(refused.to_string())))?;
            tracing::debug!(to = %crate::protocol::redact(next.as_str()), "following a redirect the HTTP layer left");
            seen.push(next.clone());
            target = next;
            continue;
        }
        return accept(response, url, naming, range);
    }
}

/// How an item's file is named from a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Naming {
    /// Use a server's `Content-Disposition` name (else the URL's).
    pub use_disposition: bool,
    /// The legacy encoding (a WHATWG label such as `GBK`) tried for name bytes that are not
    /// UTF-8.
    pub legacy_charset: Option<String>,
    /// The name the person gave (sanitised), over any the reply suggests.
    pub out: Option<String>,
}

/// Sends one GET (with the range, if any) and waits for the reply's head.
async fn send(
    client: &HttpClient,
    url: &Url,
    limits: &Limits,
    headers: &[(String, String)],
    range: Option<&RangeFrom>,
    stop: &CancellationToken,
) -> Result<Response, Stop> {
    // reqwest's read timeout covers a silent server; this outer bound also covers a server
    // that trickles header bytes forever.
    let headers_deadline = limits.connect_timeout + limits.stall_timeout;
    // Haul saves the bytes as sent and decodes no content coding: say so, so a compression
    // layer in front of the server never codes a range (whose bytes would be written at the
    // file's offsets as if they were the file's).
    let mut request = client
        .client
        .get(url.clone())
        .header(ACCEPT_ENCODING, "identity");
    if client.wants_http10(url) {
        request = request.version(reqwest::Version::HTTP_10);
    }
    for (name, value) in headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if let Some(range) = range {
        let last = range.end.map(|end| end.to_string()).unwrap_or_default();
        request = request.header(RANGE, format!("bytes={}-{last}", range.offset));
        if let Some(validator) = &range.validator {
            request = request.header(IF_RANGE, validator.as_str());
        }
    }
    let send = tokio::time::timeout(headers_deadline, request.send());
    tokio::select! {
        biased;
        () = stop.cancelled() => Err(Stop::Stopped),
        sent = send => match sent {
            Err(_) => Err(Stop::TimedOut(TimeoutKind::Stall)),
            Ok(Err(e)) => Err(client
                .proxy_for(url)
                .and_then(|proxy| proxy::failure(&e, proxy))
                .unwrap_or_else(|| classify(&e))),
            Ok(Ok(response)) => Ok(response),
        },
    }
}

/// Checks a final (non-redirect) reply against what was asked and names its file.
fn accept(
    response: Response,
    url: &Url,
    naming: &Naming,
    range: Option<&RangeFrom>,
) -> Result<Opened, Stop> {
    let status = response.status();
    let headers = response.headers();
    let checked = if status.is_success() || status == reqwest::StatusCode::RANGE_NOT_SATISFIABLE {
        reply::check_transfer_coding(headers)
            .and_then(|()| reply::body_of(status, headers, range, response.content_length()))
    } else {
        let error = FetchError::HttpStatus {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or_default().to_owned(),
        };
        let busy = matches!(status.as_u16(), 429 | 503);
        return Err(match reply::retry_after(headers) {
            Some(after) if busy => Stop::Busy(error, after),
            _ => Stop::Failed(error),
        });
    };
    let (body, total) = checked.map_err(Stop::Failed)?;
    let disposition = naming
        .use_disposition
        .then(|| headers.get(CONTENT_DISPOSITION))
        .flatten()
        .map(|value| value.as_bytes());
    let name = match &naming.out {
        Some(out) => out.clone(),
        None => reply::torrent_name(
            names::from_reply(
                disposition,
                response.url(),
                url,
                naming.legacy_charset.as_deref(),
            )
            .unwrap_or_else(|| reply::fallback_name(headers)),
            headers,
        ),
    };
    let header = |name| {
        headers
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

/// Where a body goes.
pub enum Sink<'a> {
    /// The `.part` writer on the blocking pool.
    Writer(&'a mut ChunkWriter),
    /// Memory, for a small body of known length: written to disk in one go once complete.
    Memory(&'a mut Vec<u8>),
}

/// The next chunk of a body, `None` at its end. Fails on a stall (nothing within `stall`) or
/// a broken connection (`received`: body bytes taken from this reply so far, for the error).
pub async fn next_chunk(
    response: &mut Response,
    stall: Duration,
    stop: &CancellationToken,
    received: u64,
) -> Result<Option<bytes::Bytes>, Stop> {
    let total = response.content_length();
    tokio::select! {
        biased;
        () = stop.cancelled() => Err(Stop::Stopped),
        next = tokio::time::timeout(stall, response.chunk()) => match next {
            Err(_) => Err(Stop::TimedOut(TimeoutKind::Stall)),
            Ok(Err(e)) if only_trailers_refused(&e) => Ok(None),
            Ok(Err(e)) => Err(body_error(&e, total, received)),
            Ok(Ok(chunk)) => Ok(chunk),
        },
    }
}

/// Under a speed limit, keeps the reply's socket receive buffer at what this connection's
/// share of the limit needs (`socket`), so the server is held to the rate on the wire, not only
/// at the reader: fitted when the body starts and again each second (as other connections
/// start and end, the share changes), and made as large as it may be when the limit lifts.
/// `fitted` is when it last was.
pub(crate) fn fit_to_rate(response: &Response, rates: &Rates, fitted: &mut Option<Instant>) {
    if fitted.is_some_and(|at| at.elapsed() < REFIT) {
        return;
    }
    match rates.share() {
        Some(share) => {
            socket::fit_receive_buffer(response, share);
            *fitted = Some(Instant::now());
        }
        // The limit lifted: a buffer fitted to it would hold the connection to a few tens of
        // KiB per round trip (setting it also ended the kernel's own growing of it), so it
        // gets the largest one instead.
        None if fitted.is_some() => {
            socket::fit_receive_buffer(response, u64::MAX);
            *fitted = None;
        }
        None => {}
    }
}

/// How often a limited connection's receive buffer is fitted to its share again.
const REFIT: Duration = Duration::from_secs(1);

/// Streams the body into `sink`, adding to `progress`, paying each piece into `rates` (the
/// item's and the engine's speed limits; time spent waiting on them is not a stall). Fails on
/// a stall, a broken connection, a body that is shorter or longer than `Content-Length`, or
/// one that takes the file (`already` bytes plus this body) past `max_size`.
pub async fn stream(
    mut response: Response,
    mut sink: Sink<'_>,
    stall: Duration,
    max_size: Option<(u64, u64)>,
    rates: &Rates,
    stop: &CancellationToken,
    progress: &AtomicU64,
) -> Result<u64, Stop> {
    let total = response.content_length();
    let mut received: u64 = 0;
    let _reading = rates.limited().then(|| rates.reading());
    let mut fitted = None;
    loop {
        fit_to_rate(&response, rates, &mut fitted);
        let mut chunk = tokio::select! {
            biased;
            () = stop.cancelled() => return Err(Stop::Stopped),
            next = tokio::time::timeout(stall, response.chunk()) => match next {
                Err(_) => return Err(Stop::TimedOut(TimeoutKind::Stall)),
                Ok(Err(e)) if only_trailers_refused(&e) => break,
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
        // Under a speed limit a chunk is taken in pieces no bigger than the limit's burst,
        // each paid for before it is written (and counted), so progress stays smooth.
        while !chunk.is_empty() {
            let Some(piece) = rates.next_piece(&mut chunk, stop).await else {
                return Err(Stop::Stopped);
            };
            progress.fetch_add(piece.len() as u64, Ordering::Relaxed);
            match &mut sink {
                Sink::Memory(buffer) => buffer.extend_from_slice(&piece),
                Sink::Writer(writer) => tokio::select! {
                    biased;
                    () = stop.cancelled() => return Err(Stop::Stopped),
                    written = writer.write(piece) => written.map_err(Stop::Failed)?,
                },
            }
        }
    }
    match total {
        Some(expected) if received < expected => {
            Err(Stop::Failed(FetchError::ShortBody { expected, received }))
        }
        _ => Ok(received),
    }
}
