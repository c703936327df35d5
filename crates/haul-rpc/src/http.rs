//! The RPC's HTTP/1.1 side: `POST /jsonrpc` (and CORS preflight), and the rules every request
//! passes before a method runs — a local RPC that writes files is an attack surface:
//! - `Host` must be a loopback name (`localhost`, `127.0.0.1`, `[::1]`, any port) unless the
//!   server listens beyond loopback: a web page that rebinds its DNS name to 127.0.0.1 still
//!   sends its own name (DNS rebinding);
//! - a request with an `Origin` is refused unless it is an extension's
//!   (`chrome-extension://`, `moz-extension://`), allow-listed, or all are allowed;
//! - bodies over [`super::MAX_BODY`] get 413 (after the rest of the body, up to 16 MiB and
//!   2 s, is read and dropped, so the client reads the 413 instead of a reset connection, as
//!   nginx's lingering close does), batches over [`super::MAX_CALLS`] an error;
//! - a request's head must arrive within [`HEAD_TIME`] (else the connection closes, as an
//!   idle keep-alive one does after as long), its body within [`BODY_TIME`] (else 408), and
//!   one client address holds at most [`PER_CLIENT`] connections (past it, 503): a client that
//!   announces a body and sends nothing, or hoards connections, never starves the others;
//! - every call carries `token:SECRET` as its first parameter, compared in constant time.
//!
//! Must not touch: the downloads table (calls go to its owner over a channel).

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{HOST, HeaderValue, ORIGIN};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use tokio::sync::{mpsc, oneshot};

use super::{Call, MAX_BODY, MAX_CALLS, RpcConfig};

/// Where calls go: the owner of the downloads, woken after each.
#[derive(Clone)]
pub(super) struct Outbox {
    pub(super) calls: mpsc::Sender<Call>,
    pub(super) waker: Option<crate::protocol::Waker>,
    /// Notifications for every open WebSocket (`aria2.onDownloadComplete`, …).
    pub(super) notes: tokio::sync::broadcast::Sender<String>,
}

impl Outbox {
    async fn send(&self, call: Call) -> Result<(), ()> {
        self.calls.send(call).await.map_err(|_| ())?;
        if let Some(wake) = &self.waker {
            wake();
        }
        Ok(())
    }
}

/// A request's head must arrive whole within this, and an idle keep-alive connection's next
/// one too; past it the connection closes (hyper's header timer).
const HEAD_TIME: std::time::Duration = std::time::Duration::from_secs(10);
/// A request's body must arrive whole within this; past it, 408 and the connection closes.
const BODY_TIME: std::time::Duration = std::time::Duration::from_secs(10);
/// The most connections one client address may hold at once; past it a new one is answered
/// 503 and closed. Idle ones close after [`HEAD_TIME`], so a client that hoards them only
/// holds them that long.
pub(super) const PER_CLIENT: usize = 32;

/// How many connections each client address holds.
type Held = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>;

/// One connection counted against its client until dropped.
struct Counted {
    held: Held,
    ip: std::net::IpAddr,
}

impl Counted {
    /// Counts a connection from `ip`, unless it already holds [`PER_CLIENT`].
    fn take(held: &Held, ip: std::net::IpAddr) -> Option<Counted> {
        let mut map = held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry(ip).or_default();
        if *n >= PER_CLIENT {
            return None;
        }
        *n += 1;
        Some(Counted {
            held: std::sync::Arc::clone(held),
            ip,
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut map = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Accepts connections for ever, one task each.
pub(super) async fn accept(listener: tokio::net::TcpListener, config: super::Live, calls: Outbox) {
    let held = Held::default();
    loop {
        let Ok((stream, peer)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let Some(counted) = Counted::take(&held, peer.ip()) else {
            tokio::spawn(too_many(stream));
            continue;
        };
        let (config, calls) = (std::sync::Arc::clone(&config), calls.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let (config, calls) = (std::sync::Arc::clone(&config), calls.clone());
                async move { Ok::<_, Infallible>(handle(request, &config, &calls).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .max_buf_size(64 * 1024)
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEAD_TIME)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
            drop(counted);
        });
    }
}

/// A connection past [`PER_CLIENT`]: 503, said briefly (a client that does not read it is not
/// waited for), then closed.
async fn too_many(mut stream: tokio::net::TcpStream) {
    use tokio::io::AsyncWriteExt;
    let text = "too many connections from this address at once";
    let reply = format!(
        "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\n\r\n{text}",
        text.len()
    );
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        let _ = stream.write_all(reply.as_bytes()).await;
        let _ = stream.shutdown().await;
    })
    .await;
}

pub(super) fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response
}

/// Whether `host` (a `Host` header's value) names this machine's loopback.
fn loopback_host(host: &str) -> bool {
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                name
            } else {
                host
            }
        })
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "::1"
    )
}

/// Whether a request with this `Origin` may call: Haul's own address (not cross-site; some
/// WebSocket clients send it), an extension's, an allowed page's, or any when all are.
fn origin_allowed(origin: &str, config: &RpcConfig) -> bool {
    let own = origin
        .strip_prefix("http://")
        .is_some_and(|host| loopback_host(host) && host.ends_with(&format!(":{}", config.port)));
    own || config.allow_origin_all
        || origin.starts_with("chrome-extension://")
        || origin.starts_with("moz-extension://")
        || origin.starts_with("safari-web-extension://")
        || config
            .allow_origins
            .iter()
            .any(|o| o.trim_end_matches('/') == origin)
}

async fn handle(
    request: Request<Incoming>,
    live: &super::Live,
    calls: &Outbox,
) -> Response<Full<Bytes>> {
    let config = &super::now(live);
    let host = request
        .headers()
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !config.listen_all && !loopback_host(host) {
        return plain(
            StatusCode::FORBIDDEN,
            "Host is not this machine's loopback name",
        );
    }
    let origin = request
        .headers()
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(origin) = &origin
        && !origin_allowed(origin, config)
    {
        return plain(
            StatusCode::FORBIDDEN,
            "this Origin is not allowed to call Haul",
        );
    }
    if request.uri().path() != "/jsonrpc" {
        return plain(StatusCode::NOT_FOUND, "the RPC is at /jsonrpc");
    }
    let mut response = match *request.method() {
        Method::GET if super::ws::wanted(&request) => {
            super::ws::upgrade(request, std::sync::Arc::clone(live), calls.clone())
        }
        Method::OPTIONS => plain(StatusCode::NO_CONTENT, ""),
        Method::POST => post(request, config, calls).await,
        _ => plain(StatusCode::METHOD_NOT_ALLOWED, "POST JSON-RPC to /jsonrpc"),
    };
    if let Some(origin) = origin.and_then(|o| HeaderValue::from_str(&o).ok()) {
        let headers = response.headers_mut();
        headers.insert("access-control-allow-origin", origin);
        headers.insert(
            "access-control-allow-methods",
            HeaderValue::from_static("POST, OPTIONS"),
        );
        headers.insert(
            "access-control-allow-headers",
            HeaderValue::from_static("Content-Type"),
        );
    }
    response
}

/// A too-large body is read this far (and dropped) before its 413 goes out…
const LINGER_MAX: usize = 16 * MAX_BODY;
/// …for at most this long; past either, the connection just closes.
const LINGER_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a request's body was not taken.
enum Refused {
    /// Over [`MAX_BODY`]: 413.
    TooLarge,
    /// Not whole within [`BODY_TIME`] (announced and never sent, or trickled): 408.
    TooSlow,
}

/// The body, when it is at most [`MAX_BODY`] bytes and arrives whole within [`BODY_TIME`]. A
/// larger one is drained (within [`LINGER_MAX`] and [`LINGER_TIME`]) before its refusal:
/// closing a connection with unread bytes resets it, and the client, still writing, would
/// never see the 413.
async fn read_body(mut body: Incoming) -> Result<Bytes, Refused> {
    let mut kept = bytes::BytesMut::new();
    let whole = tokio::time::timeout(BODY_TIME, async {
        while let Some(frame) = body.frame().await {
            // A broken body (the client went away) is answered like one that never came.
            let data = frame.map_err(|_| None)?.into_data().unwrap_or_default();
            if kept.len() + data.len() > MAX_BODY {
                return Err(Some(kept.len() + data.len()));
            }
            kept.extend_from_slice(&data);
        }
        Ok(())
    })
    .await;
    match whole {
        Ok(Ok(())) => Ok(kept.freeze()),
        Ok(Err(Some(mut seen))) => {
            let _ = tokio::time::timeout(LINGER_TIME, async {
                while seen <= LINGER_MAX
                    && let Some(Ok(frame)) = body.frame().await
                {
                    seen += frame.into_data().map_or(0, |d| d.len());
                }
            })
            .await;
            Err(Refused::TooLarge)
        }
        Ok(Err(None)) | Err(_) => Err(Refused::TooSlow),
    }
}

async fn post(
    request: Request<Incoming>,
    config: &RpcConfig,
    calls: &Outbox,
) -> Response<Full<Bytes>> {
    let body = match read_body(request.into_body()).await {
        Ok(body) => body,
        Err(Refused::TooLarge) => {
            return plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            );
        }
        Err(Refused::TooSlow) => {
            let mut response = plain(
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time",
            );
            response
                .headers_mut()
                .insert("connection", HeaderValue::from_static("close"));
            return response;
        }
    };
    let reply = answer(&body, config, calls).await;
    let mut response = Response::new(Full::new(Bytes::from(reply.to_string())));
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/json-rpc"),
    );
    response
}

/// The reply to a request body: one call, or a batch.
pub(super) async fn answer(body: &[u8], config: &RpcConfig, calls: &Outbox) -> Value {
    match serde_json::from_slice::<Value>(body) {
        Err(_) => error_reply(&Value::Null, -32700, "Parse error"),
        Ok(Value::Array(batch)) if batch.len() > MAX_CALLS => {
            error_reply(&Value::Null, -32600, "too many calls in one batch")
        }
        Ok(Value::Array(batch)) => {
            let mut replies = Vec::with_capacity(batch.len());
            for one in &batch {
                replies.push(call(one, config, calls).await);
            }
            Value::Array(replies)
        }
        Ok(one) => call(&one, config, calls).await,
    }
}

fn error_reply(id: &Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// One JSON-RPC request object → its reply object.
async fn call(request: &Value, config: &RpcConfig, calls: &Outbox) -> Value {
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let Some(method) = request.get("method").and_then(Value::as_str) else {
        return error_reply(&id, -32600, "Invalid Request");
    };
    let params = match request.get("params") {
        Some(Value::Array(params)) => params.clone(),
        None => Vec::new(),
        Some(_) => return error_reply(&id, -32602, "Invalid params"),
    };
    match run(method, params, config, calls).await {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(message) => error_reply(&id, 1, &message),
    }
}

/// Checks the token, then runs the method (`system.multicall` runs each of its calls).
async fn run(
    method: &str,
    mut params: Vec<Value>,
    config: &RpcConfig,
    calls: &Outbox,
) -> Result<Value, String> {
    if method == "system.listMethods" {
        return Ok(json!(super::methods::METHODS));
    }
    if method == "system.multicall" {
        let Some(Value::Array(list)) = params.first() else {
            return Err("system.multicall takes a list of calls".to_owned());
        };
        if list.len() > MAX_CALLS {
            return Err("too many calls in one multicall".to_owned());
        }
        let mut results = Vec::with_capacity(list.len());
        for item in list.clone() {
            let name = item
                .get("methodName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let inner = match item.get("params") {
                Some(Value::Array(p)) => p.clone(),
                _ => Vec::new(),
            };
            if name == "system.multicall" {
                results
                    .push(json!({ "code": 1, "message": "system.multicall cannot call itself" }));
                continue;
            }
            results.push(match Box::pin(run(&name, inner, config, calls)).await {
                Ok(value) => json!([value]),
                Err(message) => json!({ "code": 1, "message": message }),
            });
        }
        return Ok(Value::Array(results));
    }
    let token = match params.first().and_then(Value::as_str) {
        Some(text) if text.starts_with("token:") => {
            let text = text.to_owned();
            params.remove(0);
            Some(text)
        }
        _ => None,
    };
    let given = token
        .as_deref()
        .and_then(|t| t.strip_prefix("token:"))
        .unwrap_or_default();
    if !bool::from(given.as_bytes().ct_eq(config.secret.as_bytes())) {
        return Err("Unauthorized".to_owned());
    }
    let (reply, answer) = oneshot::channel();
    let call = Call {
        method: method.to_owned(),
        params,
        reply,
    };
    calls
        .send(call)
        .await
        .map_err(|()| "Haul is shutting down".to_owned())?;
    answer
        .await
        .map_err(|_| "Haul is shutting down".to_owned())?
        .map_err(|failure| failure.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_are_this_machine() {
        for host in [
            "localhost:6800",
            "127.0.0.1:6800",
            "[::1]:6800",
            "LOCALHOST",
            "127.0.0.1",
        ] {
            assert!(loopback_host(host), "{host}");
        }
        for host in [
            "evil.example:6800",
            "127.0.0.1.evil.example",
            "",
            "10.0.0.5:6800",
        ] {
            assert!(!loopback_host(host), "{host}");
        }
    }

    #[test]
    fn extension_origins_pass_and_pages_need_the_list() {
        let config = RpcConfig {
            port: 6800,
            secret: "s".into(),
            listen_all: false,
            allow_origins: vec!["https://ariang.example".into()],
            allow_origin_all: false,
        };
        assert!(origin_allowed("chrome-extension://abcdef", &config));
        assert!(origin_allowed("moz-extension://1234", &config));
        assert!(origin_allowed("https://ariang.example", &config));
        assert!(!origin_allowed("https://evil.example", &config));
        assert!(
            !origin_allowed("http://127.0.0.1:6801", &config),
            "another port"
        );
        assert!(
            origin_allowed("http://127.0.0.1:6800", &config),
            "Haul's own address"
        );
        assert!(origin_allowed("http://localhost:6800", &config));
        assert!(!origin_allowed("http://evil.example:6800", &config));
        assert!(!origin_allowed("null", &config));
    }
}
