//! `haul-cli --enable-rpc`: aria2's JSON-RPC without a window (a NAS, a server), until Ctrl+C.
//!
//! Owns: the actor that owns the downloads table: it applies the engine's events and answers
//! the RPC's calls, one at a time; the note that tells the browser host where it serves
//! (`haul_browser::headless`). Must not touch: HTTP (that is `haul_rpc`).

use std::time::Instant;

use haul_core::protocol::{Limits, Output};
use haul_engine::{Engine, Events};
use haul_rpc::{self as rpc, RpcConfig, Table};
use tokio::sync::mpsc;

/// Serves until Ctrl+C, then hands the engine back (the caller suspends it outside the
/// runtime: running items are paused and their bytes kept, as a batch's are).
pub async fn run(
    engine: Engine,
    mut events: Events,
    config: RpcConfig,
    limits: Limits,
    output: Output,
) -> anyhow::Result<Engine> {
    let (calls_tx, mut calls) = mpsc::channel(64);
    let secret_given = config.secret.clone();
    let served = match rpc::serve(config, calls_tx, None).await {
        Ok(served) => served,
        // A busy port (another aria2 or Haul): say how to choose another.
        Err(e @ rpc::RpcError::Listen { .. }) if busy(&e) => {
            return Err(anyhow::anyhow!(
                "cannot start the RPC server: {e}; another program (aria2, or Haul) may be \
                 serving there: choose another port with --rpc-listen-port"
            ));
        }
        Err(e) => return Err(anyhow::Error::new(e).context("cannot start the RPC server")),
    };
    let addr = served.addr;
    // The browser host's way to this server when no window runs (removed when it stops).
    let _note = haul_browser::handoff::data_dir().and_then(|dir| {
        let note = haul_browser::headless::Note {
            port: addr.port(),
            secret: secret_given.clone(),
        };
        haul_browser::headless::write_note(&dir, note)
            .map_err(|e| tracing::warn!(error = %e, "the browser host will not find this server"))
            .ok()
    });
    eprintln!(
        "haul-cli: aria2 JSON-RPC at http://{addr}/jsonrpc, secret {secret_given}, saving into {}",
        output.dest.display()
    );
    let mut table = Table::new(limits, output, Box::new(engine.handle()));
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(event) => {
                    if let Some((name, gid)) = table.apply(event, Instant::now()) {
                        served.notify(name, gid);
                    }
                }
                None => break,
            },
            call = calls.recv() => {
                let Some(call) = call else { break };
                let result = rpc::call(&mut table, &call.method, &call.params);
                let _ = call.reply.send(result);
            }
            _ = &mut ctrl_c => {
                eprintln!("haul-cli: stopping the RPC server; running downloads are paused");
                break;
            }
        }
    }
    Ok(engine)
}

/// Whether the server could not start because its port is taken.
fn busy(e: &rpc::RpcError) -> bool {
    matches!(e, rpc::RpcError::Listen { reason, .. } if reason.kind() == std::io::ErrorKind::AddrInUse)
}
