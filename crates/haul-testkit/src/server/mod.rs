//! The fixture server: a misbehaving-on-demand HTTP/1.1 server on 127.0.0.1 ([`Server`]).
//!
//! Raw tokio TCP, so it can do what a well-behaved server library cannot: stall mid-body,
//! reset, close short of Content-Length, drip slowly, delay headers, loop redirects, and send
//! hostile headers. It counts requests in flight (now and at most) and records when a client
//! closes a connection the server was holding open.
//!
//! Routes (all answer GET; the query string tunes the reply):
//! - `/bytes/N[/name]`: N bytes of [`body`]. `cl=0` no Content-Length (close-delimited),
//!   `chunked=1`, `delay_headers_ms=X`, `delay_ms=X` (before the body), `stall_after=K`,
//!   `reset_after=K`, `short=K` (advertise N, send K, close), `drip_ms=X` (1 KiB every X ms),
//!   `status=CODE` (that status with an error page as body), `cd=VALUE` (Content-Disposition,
//!   percent-encoded), `type=VALUE` (Content-Type), `ce=VALUE` (Content-Encoding).
//!   Validators and ranges:
//!   - `etag=X`: `ETag: "X"` (`"X-g<G>"` once the path is at generation G > 0, see below);
//!     `lm=1`: `Last-Modified: Wed, 21 Oct 2026 07:28:00 GMT` (see [`LAST_MODIFIED`]).
//!   - `range=1`: `Accept-Ranges: bytes`, and a request with `Range: bytes=A-` gets
//!     `206 Partial Content`, `Content-Range: bytes A-(N-1)/N`, `Content-Length: N-A` and the
//!     body `body[A..]`; `stall_after`, `reset_after`, `short`, `drip_ms`, `chunked` and `cl=0`
//!     then apply to that slice. A ≥ N gets `416 Range Not Satisfiable` with
//!     `Content-Range: bytes */N` and an empty body. A request whose `If-Range` is not exactly
//!     the current ETag in its quoted form (a date never matches) gets the full `200`. The
//!     forms `bytes=A-` and `bytes=A-B` are understood (a bounded one gets `A-B/N` and
//!     `body[A..=B]`); any other `Range` value is ignored (full `200`). `seg200=1`: a bounded
//!     range gets the full `200` (a server that honours only open-ended ranges).
//!   - `range=ignore`: never honours a `Range` (always the full `200`, no `Accept-Ranges`).
//!   - `range=wrong`: a broken server: `206` whose `Content-Range` starts at A+1, with the
//!     matching slice `body[A+1..]`. `range=total`: `206` whose `Content-Range` total is N+1
//!     (the slice is right). Both advertise `Accept-Ranges: bytes` and honour `If-Range` and
//!     the `416` like `range=1`.
//!   - `new_per_get=1`: the file changes with every request for the whole file (no `Range`,
//!     or `bytes=0-`: its generation goes up by one first), as a server whose file is
//!     replaced between two downloads.
//!   - `rate=B`: each reply's body is sent at about B bytes a second (16 KiB at a time), as a
//!     server that throttles every connection.
//!   - `max_conns=M`: a request for this path while M bodies of it are being sent gets a
//!     `503` (a server that refuses extra connections).
//!   - The file changes: after [`Server::set_generation`]`(path, G)` with G > 0, the body for
//!     that path (without query) is [`body_gen`]`(N, G)` and the ETag `X-g<G>`.
//!
//!   Failures:
//!   - `fail_first=K`: the first K requests for this exact target (path and query, counted
//!     per server) get `fail_status` (default 503) with a small HTML page, plus
//!     `Retry-After: S` when `retry_after=S` is given; later ones are served normally.
//!   - `bad_chunk=1`: chunked encoding whose first chunk (up to 1 KiB) is valid, followed by
//!     the chunk-size line `zz`, then the connection closes.
//! - `/redirect/N`: a chain of exactly N redirects (N ≥ 1) ending at `/bytes/64/end.bin`.
//! - `/loop/a` ⇄ `/loop/b`: a redirect loop.
//! - `/to?location=VALUE`: one redirect to any location (e.g. `file:///etc/passwd`).
//!
//! It also acts as a plain-HTTP proxy: a request for `http://any-host/bytes/…` is served the same.
//!
//! Every request is logged in arrival order ([`Server::request_log`]: target, the raw
//! `Range` and `If-Range` values, and every header). Header names are matched case-insensitively.
//!
//! Must not touch: Haul's own code (it is what the tests hold Haul against).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};

mod reply;
use reply::*;

/// The body served for `/bytes/N`: a fixed pattern, so tests can recompute it.
pub fn body(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// The body served for `/bytes/N` once its path is at generation `g` ([`Server::set_generation`]):
/// generation 0 is [`body`]; any other generation differs from it at every byte.
pub fn body_gen(n: usize, g: u64) -> Vec<u8> {
    body_part(0, n, g)
}

/// Bytes `[from, to)` of [`body_gen`]`(_, g)`, made without the rest (a range request for a
/// few MiB of a large file costs only those).
pub fn body_part(from: usize, to: usize, g: u64) -> Vec<u8> {
    let shift = if g == 0 { 0 } else { 1 + (g % 255) as u8 };
    (from..to)
        .map(|i| ((i % 251) as u8).wrapping_add(shift))
        .collect()
}

/// The `Last-Modified` value sent with `lm=1`.
pub const LAST_MODIFIED: &str = "Wed, 21 Oct 2026 07:28:00 GMT";

/// One request as the server saw it: the target (path and query; the path alone for a request
/// in proxy form) and the raw `Range` and `If-Range` header values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub target: String,
    pub range: Option<String>,
    pub if_range: Option<String>,
    /// Every header line as sent, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Logged {
    /// The value of the header `name` (lower case), if sent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Counts requests in flight. Shareable between servers to see a global cap.
#[derive(Debug, Default)]
pub struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
    /// The most in flight 30 ms after a request arrived: a reply the client abandoned (its
    /// connection closed, the server not yet told) is not counted beside the request that
    /// replaced it.
    settled: AtomicUsize,
}

impl Gauge {
    fn enter(self: &Arc<Self>) -> GaugeGuard {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        let gauge = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(30)).await;
            let now = gauge.now.load(Ordering::SeqCst);
            gauge.settled.fetch_max(now, Ordering::SeqCst);
        });
        GaugeGuard(Arc::clone(self))
    }

    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

struct GaugeGuard(Arc<Gauge>);

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Debug, Default)]
struct Stats {
    requests: AtomicUsize,
    /// Requests that arrived in proxy form (`GET http://host/path`).
    proxied: AtomicUsize,
    /// Path of a held connection → when the client closed it.
    closes: Mutex<HashMap<String, Instant>>,
    /// Request path (no query) → generation of its content.
    generations: Mutex<HashMap<String, u64>>,
    /// Target (path and query) → requests seen, for `fail_first`.
    attempts: Mutex<HashMap<String, u64>>,
    /// Every request, in arrival order.
    log: Mutex<Vec<Logged>>,
    /// Request path → bodies being sent for it now, for `max_conns`.
    serving: Mutex<HashMap<String, usize>>,
}

/// Counts a body being sent for a path while it lives.
struct Serving<'a> {
    stats: &'a Stats,
    path: String,
}

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        if let Some(n) = self
            .stats
            .serving
            .lock()
            .expect("serving")
            .get_mut(&self.path)
        {
            *n = n.saturating_sub(1);
        }
    }
}

pub struct Server {
    addr: SocketAddr,
    stats: Arc<Stats>,
    gauge: Arc<Gauge>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start() -> Server {
        Server::start_with(Arc::new(Gauge::default()), None).await
    }

    /// A server that also counts into `global` (shared with other servers).
    pub async fn start_with(gauge: Arc<Gauge>, global: Option<Arc<Gauge>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fixture");
        let addr = listener.local_addr().expect("fixture address");
        let stats = Arc::new(Stats::default());
        let (task_stats, task_gauge) = (Arc::clone(&stats), Arc::clone(&gauge));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (stats, gauge, global) = (
                    Arc::clone(&task_stats),
                    Arc::clone(&task_gauge),
                    global.clone(),
                );
                tokio::spawn(async move {
                    let _ = serve(stream, addr, stats, gauge, global).await;
                });
            }
        });
        Server {
            addr,
            stats,
            gauge,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Requests whose reply is being sent now: the connections busy on this server.
    pub fn in_flight(&self) -> usize {
        self.gauge.now.load(Ordering::SeqCst)
    }

    pub fn max_in_flight(&self) -> usize {
        self.gauge.max()
    }

    /// Like `max_in_flight`, sampled 30 ms after each request arrived (see `Gauge::settled`).
    pub fn max_in_flight_settled(&self) -> usize {
        self.gauge.settled.load(Ordering::SeqCst)
    }

    pub fn proxied(&self) -> usize {
        self.stats.proxied.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.stats.requests.load(Ordering::SeqCst)
    }

    /// Makes the content of `path` (the request path without query, e.g. `/bytes/100/a.bin`)
    /// change: generation `g` > 0 serves [`body_gen`] and the ETag `X-g<g>`; 0 restores
    /// [`body`].
    pub fn set_generation(&self, path: &str, g: u64) {
        self.stats
            .generations
            .lock()
            .expect("generations")
            .insert(path.to_owned(), g);
    }

    /// Every request so far, in arrival order.
    pub fn request_log(&self) -> Vec<Logged> {
        self.stats.log.lock().expect("log").clone()
    }

    /// The ranges asked for targets holding `target` that resume: any but `bytes=0-` (how
    /// every new download asks for the whole file), in arrival order.
    pub fn resumes(&self, target: &str) -> Vec<String> {
        self.request_log()
            .into_iter()
            .filter(|l| l.target.contains(target))
            .filter_map(|l| l.range)
            .filter(|r| r != "bytes=0-")
            .collect()
    }

    /// When the client closed the held connection for `path` (path and query as requested),
    /// waiting up to `limit` for it to happen.
    pub async fn closed_at(&self, path: &str, limit: Duration) -> Option<Instant> {
        let end = Instant::now() + limit;
        loop {
            if let Some(at) = self.stats.closes.lock().expect("closes").get(path) {
                return Some(*at);
            }
            if Instant::now() > end {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

struct Request {
    target: String,
    path: String,
    query: HashMap<String, String>,
    close: bool,
    range: Option<String>,
    if_range: Option<String>,
    headers: Vec<(String, String)>,
}

async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    stats_proxied: &AtomicUsize,
) -> Option<Request> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            let mut lines = head.lines();
            let mut target = lines.next()?.split_whitespace().nth(1)?.to_owned();
            // A request through a proxy names the whole URL: keep its path.
            if let Some(rest) = target.strip_prefix("http://") {
                let path = rest.find('/').map_or("/", |i| &rest[i..]).to_owned();
                stats_proxied.fetch_add(1, Ordering::SeqCst);
                target = path;
            }
            let (mut close, mut range, mut if_range) = (false, None, None);
            let mut headers = Vec::new();
            for line in lines {
                let Some((name, value)) = line.split_once(':') else {
                    continue;
                };
                let (name, value) = (name.trim(), value.trim());
                headers.push((name.to_ascii_lowercase(), value.to_owned()));
                if name.eq_ignore_ascii_case("connection") {
                    close |= value.eq_ignore_ascii_case("close");
                } else if name.eq_ignore_ascii_case("range") {
                    range = Some(value.to_owned());
                } else if name.eq_ignore_ascii_case("if-range") {
                    if_range = Some(value.to_owned());
                }
            }
            let (path, query) = match target.split_once('?') {
                Some((p, q)) => (p.to_owned(), parse_query(q)),
                None => (target.clone(), HashMap::new()),
            };
            return Some(Request {
                target,
                path,
                query,
                close,
                range,
                if_range,
                headers,
            });
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| {
            let v = percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned();
            (k.to_owned(), v)
        })
        .collect()
}

async fn serve(
    mut stream: TcpStream,
    addr: SocketAddr,
    stats: Arc<Stats>,
    gauge: Arc<Gauge>,
    global: Option<Arc<Gauge>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    while let Some(req) = read_request(&mut stream, &mut buf, &stats.proxied).await {
        stats.requests.fetch_add(1, Ordering::SeqCst);
        stats.log.lock().expect("log").push(Logged {
            target: req.target.clone(),
            range: req.range.clone(),
            if_range: req.if_range.clone(),
            headers: req.headers.clone(),
        });
        let _in_flight = gauge.enter();
        let _global = global.as_ref().map(|g| g.enter());
        let keep_going = respond(&mut stream, addr, &req, &stats).await?;
        if !keep_going || req.close {
            break;
        }
    }
    Ok(())
}

/// An address whose accept queue is full, so new connections hang in the handshake: the
/// listener is returned with the filler connections and must be kept alive.
pub fn unresponsive() -> Option<(SocketAddr, std::net::TcpListener, Vec<std::net::TcpStream>)> {
    let socket = socket2_listener()?;
    let addr = socket.local_addr().ok()?;
    let mut fillers = Vec::new();
    for _ in 0..8 {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(stream) => fillers.push(stream),
            Err(_) => return Some((addr, socket, fillers)),
        }
    }
    None // the queue never filled: this kernel accepts anyway
}

fn socket2_listener() -> Option<std::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.bind("127.0.0.1:0".parse().ok()?).ok()?;
    let listener = socket.listen(0).ok()?;
    listener.into_std().ok()
}
