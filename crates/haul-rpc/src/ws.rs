//! The RPC over WebSocket (`GET /jsonrpc` with `Upgrade: websocket`), as aria2 serves it:
//! the same calls as over HTTP, one per text message, and the notifications
//! (`aria2.onDownloadStart`, `onDownloadPause`, `onDownloadStop`, `onDownloadComplete`,
//! `onDownloadError`) pushed to every open socket. The request passed the `Host` and `Origin`
//! rules before it got here; every call still carries the secret.
//!
//! Must not touch: the downloads (calls go to their owner through the outbox).

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::HeaderValue;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::sync::broadcast::error::RecvError;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Message, Role, WebSocketConfig};

use super::MAX_BODY;
use super::http::{Outbox, answer, plain};

/// Whether the request asks for a WebSocket.
pub(super) fn wanted(request: &Request<Incoming>) -> bool {
    request
        .headers()
        .get(hyper::header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Answers the upgrade (101) and serves the socket in its own task.
pub(super) fn upgrade(
    mut request: Request<Incoming>,
    config: crate::Live,
    outbox: Outbox,
) -> Response<Full<Bytes>> {
    let Some(key) = request.headers().get("sec-websocket-key").cloned() else {
        return plain(
            StatusCode::BAD_REQUEST,
            "a WebSocket needs Sec-WebSocket-Key",
        );
    };
    let accept = derive_accept_key(key.as_bytes());
    let upgrading = hyper::upgrade::on(&mut request);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrading.await else {
            return;
        };
        let mut limits = WebSocketConfig::default();
        limits.max_message_size = Some(MAX_BODY);
        limits.max_frame_size = Some(MAX_BODY);
        let socket =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(limits))
                .await;
        serve(socket, &config, &outbox).await;
    });
    let mut response = plain(StatusCode::SWITCHING_PROTOCOLS, "");
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::UPGRADE,
        HeaderValue::from_static("websocket"),
    );
    headers.insert(
        hyper::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert("sec-websocket-accept", accept);
    }
    response
}

async fn serve<S>(socket: WebSocketStream<S>, config: &crate::Live, outbox: &Outbox)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut stream) = socket.split();
    let mut notes = outbox.notes.subscribe();
    loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    // The secret in force now, not the one the socket opened with.
                    let reply = answer(text.as_bytes(), &crate::now(config), outbox).await;
                    if sink.send(Message::text(reply.to_string())).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {} // pings are answered by the library; binary is ignored
            },
            note = notes.recv() => match note {
                Ok(text) => {
                    if sink.send(Message::text(text)).await.is_err() {
                        break;
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => break,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;

    use crate::{RpcConfig, serve};

    /// Issue 28, item 17: a renewed secret locks the old one out at once, also on a WebSocket
    /// that was opened (and used) with it, and a new web page is let in without a restart.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_new_secret_holds_at_once_on_an_open_websocket() {
        let (tx, mut calls) = tokio::sync::mpsc::channel(8);
        let config = RpcConfig {
            port: 0,
            secret: "old".to_owned(),
            listen_all: false,
            allow_origins: Vec::new(),
            allow_origin_all: false,
        };
        let served = serve(config, tx, None).await.expect("serve");
        tokio::spawn(async move {
            while let Some(call) = calls.recv().await {
                let _ = call.reply.send(Ok(serde_json::json!("answered")));
            }
        });
        let stream = tokio::net::TcpStream::connect(served.addr)
            .await
            .expect("connect");
        let url = format!("ws://{}/jsonrpc", served.addr);
        let (mut socket, _) = tokio_tungstenite::client_async(url, stream)
            .await
            .expect("WebSocket");
        let mut ask = async |secret: &str| {
            let call = format!(
                r#"{{"jsonrpc":"2.0","id":"1","method":"aria2.tellActive","params":["token:{secret}"]}}"#
            );
            socket.send(Message::text(call)).await.expect("send");
            loop {
                match socket.next().await {
                    Some(Ok(Message::Text(text))) => return text.to_string(),
                    Some(Ok(_)) => {}
                    other => panic!("the socket ended: {other:?}"),
                }
            }
        };
        assert!(ask("old").await.contains("answered"));
        served
            .update("new".to_owned(), vec!["https://ariang.example".to_owned()])
            .expect("update");
        assert!(ask("old").await.contains("Unauthorized"));
        assert!(ask("new").await.contains("answered"));
        assert!(served.update(String::new(), Vec::new()).is_err());
    }
}
