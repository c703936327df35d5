//! A server that replays replies taken from the wild (curl's and wget2's test suites, public
//! bug reports): each request is answered with whatever steps a script gives for it — raw
//! bytes exactly as written, a close without a reply, a reset — so a test states the reply
//! byte for byte instead of through the fixture's query parameters.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One thing the server does in answer to a request.
#[derive(Debug, Clone)]
pub enum Step {
    /// Writes these bytes as they are.
    Send(Vec<u8>),
    /// Closes the connection (FIN), whatever was sent before.
    Close,
    /// Resets the connection (RST: SO_LINGER 0, then close).
    Reset,
    /// Waits before the next step.
    Sleep(Duration),
}

/// A `Range` value `bytes=A-` or `bytes=A-B` as (A, B); `None` for any other value.
pub fn range_asked(value: &str) -> Option<(usize, Option<usize>)> {
    let (a, b) = value.strip_prefix("bytes=")?.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()))
}

/// How a server that honours ranges answers `range` over `total` bytes: the status line (with
/// its `Content-Range` on a `206`) and the slice `from..to` it sends.
pub fn ranged_status(
    range: Option<(usize, Option<usize>)>,
    total: usize,
) -> (String, usize, usize) {
    match range {
        Some((from, last)) => {
            let to = last.map_or(total, |l| (l + 1).min(total));
            (
                format!(
                    "206 Partial Content\r\nContent-Range: bytes {from}-{}/{total}",
                    to - 1
                ),
                from,
                to,
            )
        }
        None => ("200 OK".to_owned(), 0, total),
    }
}

/// A reply as text (`\r\n` written out), sent as it stands.
pub fn send(text: &str) -> Step {
    Step::Send(text.as_bytes().to_vec())
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Request {
    /// Which connection (0 for the first accepted) and which request on it (0 for the first).
    pub conn: usize,
    pub nth: usize,
    /// The request target (path and query).
    pub target: String,
    /// The request line's HTTP version (`HTTP/1.1`).
    pub version: String,
    /// Earlier requests for the same target (0 for the first): which try this is.
    pub tries: usize,
    /// Header lines, names lower-cased, values as sent.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

type Script = dyn Fn(&Request) -> Vec<Step> + Send + Sync;

pub struct Replay {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Request>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Replay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Replay {
    /// Starts on 127.0.0.1; every request is answered with `script(&request)`. A connection
    /// whose steps end without a close waits for its next request (keep-alive).
    pub async fn start(script: impl Fn(&Request) -> Vec<Step> + Send + Sync + 'static) -> Replay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind replay");
        let addr = listener.local_addr().expect("replay address");
        let log: Arc<Mutex<Vec<Request>>> = Arc::default();
        let script: Arc<Script> = Arc::new(script);
        let task_log = Arc::clone(&log);
        let task = tokio::spawn(async move {
            let mut conn = 0;
            while let Ok((stream, _)) = listener.accept().await {
                let (log, script) = (Arc::clone(&task_log), Arc::clone(&script));
                tokio::spawn(serve(stream, conn, log, script));
                conn += 1;
            }
        });
        Replay { addr, log, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.log.lock().expect("log").clone()
    }
}

async fn serve(
    mut stream: TcpStream,
    conn: usize,
    log: Arc<Mutex<Vec<Request>>>,
    script: Arc<Script>,
) {
    let mut buffer = Vec::new();
    for nth in 0.. {
        let Some(head) = read_head(&mut stream, &mut buffer).await else {
            return;
        };
        let request = {
            let mut log = log.lock().expect("log");
            let mut request = parse(&head, conn, nth);
            request.tries = log.iter().filter(|r| r.target == request.target).count();
            log.push(request.clone());
            request
        };
        for step in script(&request) {
            match step {
                Step::Send(bytes) => {
                    if stream.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
                Step::Close => {
                    let _ = stream.shutdown().await;
                    return;
                }
                Step::Reset => {
                    let _ = stream.set_zero_linger();
                    return;
                }
                Step::Sleep(d) => tokio::time::sleep(d).await,
            }
        }
    }
}

/// Reads up to the end of a request head (the client sends no bodies).
async fn read_head(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = buffer[..end].to_vec();
            buffer.drain(..end + 4);
            return Some(head);
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

fn parse(head: &[u8], conn: usize, nth: usize) -> Request {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let first: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
    let target = first.get(1).copied().unwrap_or_default().to_owned();
    let version = first.get(2).copied().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| {
            (
                name.trim().to_ascii_lowercase(),
                value.trim().as_bytes().to_vec(),
            )
        })
        .collect();
    Request {
        conn,
        nth,
        target,
        version,
        tries: 0,
        headers,
    }
}
