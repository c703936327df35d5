//! An aria2-compatible JSON-RPC server, so browser extensions, web front ends (AriaNg) and
//! client libraries (`aria2p`) can hand Haul their downloads.
//!
//! Owns: listening (127.0.0.1 by default), the security rules every request passes first
//! (`http`: the secret, the `Host` and `Origin` rules, bounded bodies and batches), JSON-RPC 2.0
//! framing, and the methods (`methods`). Calls reach the front end that owns the engine as
//! [`Call`]s over a channel, so the table of downloads has one owner (the actor that also
//! drains the engine's events) and a flood of requests waits its turn instead of starving it.
//! Must not touch: the engine's internals, any UI toolkit.
//!
//! # Layout
//! - this file: [`RpcConfig`], [`Call`], [`serve`].
//! - `http`: the HTTP/1.1 server and its rules.
//! - `ws`: the same over WebSocket, with aria2's notifications.
//! - `methods`: aria2's methods over any list of downloads ([`Downloads`]).
//! - `paths`: the folders and files a client names, resolved inside the destination.
//! - `table`: the headless list (`haul-cli --enable-rpc`).

// The core's modules and the engine, under the names the methods use.
pub(crate) use haul_core::{options, protocol, version};
pub(crate) use haul_engine as engine;

mod http;
pub mod methods;
pub(crate) mod paths;
pub mod table;
mod ws;

use std::net::SocketAddr;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

pub use methods::{Beside, Downloads, RpcFailure, View, call};
pub use table::Table;

/// aria2's default RPC port.
pub const DEFAULT_PORT: u16 = 6800;
/// The largest request body taken (bytes); a larger one gets 413 before it is parsed.
pub const MAX_BODY: usize = 1024 * 1024;
/// The most calls in one batch or `system.multicall`.
pub const MAX_CALLS: usize = 100;

/// How the server listens and whom it lets in.
#[derive(Clone)]
pub struct RpcConfig {
    pub port: u16,
    /// The secret every call must carry as `token:SECRET` (never empty).
    pub secret: String,
    /// Listen on every interface (aria2's `--rpc-listen-all`); then any `Host` is accepted and
    /// the secret is the only key.
    pub listen_all: bool,
    /// Web page origins let in (`https://ariang.example`); extension origins
    /// (`chrome-extension://`, `moz-extension://`) always are.
    pub allow_origins: Vec<String>,
    /// Any origin (aria2's `--rpc-allow-origin-all`).
    pub allow_origin_all: bool,
}

impl std::fmt::Debug for RpcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcConfig")
            .field("port", &self.port)
            .field("secret", &"***")
            .field("listen_all", &self.listen_all)
            .field("allow_origins", &self.allow_origins)
            .field("allow_origin_all", &self.allow_origin_all)
            .finish()
    }
}

/// A secret for a server started without one: 32 hex digits from the system's random source
/// (`getrandom`, already in the tree through ring). Errors when the system has none to give.
pub fn generated_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// One method call for the owner of the table: answer it on `reply`.
#[derive(Debug)]
pub struct Call {
    pub method: String,
    /// The parameters without the token.
    pub params: Vec<Value>,
    pub reply: oneshot::Sender<Result<Value, RpcFailure>>,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum RpcError {
    /// The reason is in the sentence, not also a `source` (anyhow's `{:#}` printed it twice).
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        addr: SocketAddr,
        reason: std::io::Error,
    },
    #[error("the RPC secret must not be empty")]
    NoSecret,
}

/// A running server: where it listens; [`Served::stop`] (or dropping it) stops taking
/// connections.
#[derive(Debug)]
pub struct Served {
    pub addr: SocketAddr,
    accept: tokio::task::AbortHandle,
    notes: tokio::sync::broadcast::Sender<String>,
    config: Live,
}

/// The configuration every connection reads for each request (and each WebSocket message),
/// so a new secret or list of web pages holds at once, on connections already open too.
pub(crate) type Live = std::sync::Arc<std::sync::RwLock<std::sync::Arc<RpcConfig>>>;

/// The configuration in force now.
pub(crate) fn now(live: &Live) -> std::sync::Arc<RpcConfig> {
    std::sync::Arc::clone(
        &live
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
}

impl Served {
    pub fn stop(&self) {
        self.accept.abort();
    }

    /// A new secret and list of web pages let in, from the next request on — on every
    /// connection, WebSockets already open included (a renewed secret locks the old one out
    /// at once). An empty secret is refused (the old one stays). Errors: [`RpcError::NoSecret`].
    pub fn update(&self, secret: String, allow_origins: Vec<String>) -> Result<(), RpcError> {
        if secret.is_empty() {
            return Err(RpcError::NoSecret);
        }
        let mut config = self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = RpcConfig::clone(&config);
        next.secret = secret;
        next.allow_origins = allow_origins;
        *config = std::sync::Arc::new(next);
        Ok(())
    }

    /// Tells every open WebSocket about a download: `event` is aria2's notification name
    /// (`onDownloadStart`, `onDownloadPause`, `onDownloadStop`, `onDownloadComplete`,
    /// `onDownloadError`).
    pub fn notify(&self, event: &str, gid: u64) {
        let note = serde_json::json!({
            "jsonrpc": "2.0",
            "method": format!("aria2.{event}"),
            "params": [{ "gid": methods::gid_text(gid) }],
        });
        let _ = self.notes.send(note.to_string()); // nobody listening is fine
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// Starts listening and serving on the current tokio runtime; calls arrive on `calls`, and
/// `waker` (when given) is called after each, so a window that sleeps while idle wakes to
/// answer. Port 0 picks a free one. Errors: [`RpcError`].
pub async fn serve(
    config: RpcConfig,
    calls: mpsc::Sender<Call>,
    waker: Option<crate::protocol::Waker>,
) -> Result<Served, RpcError> {
    if config.secret.is_empty() {
        return Err(RpcError::NoSecret);
    }
    let ip = if config.listen_all {
        std::net::Ipv4Addr::UNSPECIFIED
    } else {
        std::net::Ipv4Addr::LOCALHOST
    };
    let addr = SocketAddr::from((ip, config.port));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|reason| RpcError::Listen { addr, reason })?;
    let local = listener
        .local_addr()
        .map_err(|reason| RpcError::Listen { addr, reason })?;
    let (notes, _) = tokio::sync::broadcast::channel(256);
    let outbox = http::Outbox {
        calls,
        waker,
        notes: notes.clone(),
    };
    let live: Live = std::sync::Arc::new(std::sync::RwLock::new(std::sync::Arc::new(config)));
    let accept =
        tokio::spawn(http::accept(listener, std::sync::Arc::clone(&live), outbox)).abort_handle();
    Ok(Served {
        addr: local,
        accept,
        notes,
        config: live,
    })
}
