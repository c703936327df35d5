//! The window as an aria2 JSON-RPC server ("Allow browsers and tools to add downloads"): the
//! list's rows are the RPC's downloads (a row's stable key is its gid), so what a browser
//! adds appears in the list like anything pasted, and what is pasted is seen by the browser.
//!
//! Owns: turning the server on and off with the setting, answering calls between frames (the
//! server wakes the window for each), and [`Downloads`] over the rows.
//! Must not touch: HTTP and the methods' shapes (`crate::rpc`), drawing.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use eframe::egui;

use super::HaulApp;
use super::model::Move;
use crate::protocol::{Checksum, Command, ItemOptions, Limits, Output, Source};
use crate::rpc::{self, Beside, Downloads, RpcConfig};
use crate::session::Session;

/// The server while it runs, and the calls it hands over.
pub(super) struct Serving {
    pub served: rpc::Served,
    calls: tokio::sync::mpsc::Receiver<rpc::Call>,
    /// What it runs with: a new port restarts it, a new secret or list of web pages is
    /// handed to it.
    started: Started,
}

/// The settings a server runs with: port, secret, web pages let in.
type Started = (u16, String, Vec<String>);

/// Why the server does not run, for the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum RpcProblem {
    /// Another program holds the port; `free` is a port after it that was free just now;
    /// tried again [`BUSY_RETRY`] after `since`.
    Busy {
        port: u16,
        free: Option<u16>,
        since: Instant,
    },
    Other(String),
}

/// How long after finding its port held the server tries it again.
const BUSY_RETRY: std::time::Duration = std::time::Duration::from_secs(3);

/// The first port after `port` (within 100) that nothing listens on just now.
fn free_port_after(port: u16) -> Option<u16> {
    (port.saturating_add(1)..=port.saturating_add(100))
        .find(|p| std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, *p)).is_ok())
}

impl HaulApp {
    /// Starts or stops the server to match the setting (a secret is made the first time).
    pub(super) fn apply_rpc(&mut self, ctx: &egui::Context) {
        let wanted = self.settings.rpc_enabled;
        let port = self.settings.rpc_port;
        let started: Started = (
            port,
            self.settings.rpc_secret.clone(),
            self.settings.rpc_allowed_origins(),
        );
        let retry_due = self.busy_retry_due();
        match (&mut self.rpc, wanted) {
            (Some(serving), true) if serving.started == started => return,
            // A new secret or list of web pages: the running server takes them at once (open
            // connections too); only a new port needs a new listener.
            (Some(serving), true) if serving.started.0 == port => {
                match serving.served.update(started.1.clone(), started.2.clone()) {
                    Ok(()) => serving.started = started,
                    Err(e) => self.rpc_problem = Some(RpcProblem::Other(e.to_string())),
                }
                return;
            }
            (None, false) => {
                self.rpc_failed = None;
                return;
            }
            // It could not start on this port: not again every frame, only when the port
            // or the setting changes — or, when another program held the port, a few seconds
            // later (the settings say "or close that program").
            (None, true) if self.rpc_failed == Some(port) && !retry_due => return,
            _ => {}
        }
        self.rpc_failed = None;
        self.rpc = None; // stops a running one
        self.rpc_problem = None;
        if !wanted {
            return;
        }
        if self.settings.rpc_secret.is_empty() {
            match rpc::generated_secret() {
                Ok(secret) => self.settings.rpc_secret = secret,
                Err(e) => {
                    self.rpc_problem = Some(RpcProblem::Other(e.to_string()));
                    self.rpc_failed = Some(port);
                    return;
                }
            }
        }
        let started: Started = (
            port,
            self.settings.rpc_secret.clone(),
            self.settings.rpc_allowed_origins(),
        );
        let config = RpcConfig {
            port,
            secret: started.1.clone(),
            listen_all: false,
            allow_origins: started.2.clone(),
            allow_origin_all: false,
        };
        let (tx, calls) = tokio::sync::mpsc::channel(64);
        let window = ctx.clone();
        let waker: crate::protocol::Waker = Arc::new(move || window.request_repaint());
        match self.desktop.block_on(rpc::serve(config, tx, Some(waker))) {
            Ok(served) => {
                tracing::info!(addr = %served.addr, "serving aria2 JSON-RPC");
                self.rpc = Some(Serving {
                    served,
                    calls,
                    started,
                });
            }
            Err(rpc::RpcError::Listen { reason, .. })
                if reason.kind() == std::io::ErrorKind::AddrInUse =>
            {
                let free = free_port_after(port);
                self.rpc_problem = Some(RpcProblem::Busy {
                    port,
                    free,
                    since: Instant::now(),
                });
                self.rpc_failed = Some(port);
                ctx.request_repaint_after(BUSY_RETRY);
            }
            Err(e) => {
                self.rpc_problem = Some(RpcProblem::Other(e.to_string()));
                self.rpc_failed = Some(port);
            }
        }
    }

    /// Whether a port another program held is due to be tried again.
    fn busy_retry_due(&self) -> bool {
        matches!(
            self.rpc_problem,
            Some(RpcProblem::Busy { since, .. }) if since.elapsed() >= BUSY_RETRY
        )
    }

    /// Answers the calls that arrived since the last frame.
    pub(super) fn drain_rpc(&mut self) {
        let mut calls = Vec::new();
        if let Some(serving) = &mut self.rpc {
            while let Ok(call) = serving.calls.try_recv() {
                calls.push(call);
            }
        }
        for call in calls {
            let result = rpc::call(self, &call.method, &call.params);
            let _ = call.reply.send(result);
        }
    }

    /// Tells the RPC's WebSockets what happened to row `id` (its key is the gid); nothing
    /// more of a row the RPC removed (its clients heard `onDownloadStop`).
    pub(super) fn notify_rpc(&self, name: &str, id: crate::protocol::JobId) {
        if let (Some(serving), Some(row)) = (&self.rpc, self.model.row(id))
            && !row.removed
        {
            serving.served.notify(name, row.gid);
        }
    }

    /// Where the server listens, when it does.
    pub fn rpc_address(&self) -> Option<String> {
        self.rpc
            .as_ref()
            .map(|s| format!("http://{}/jsonrpc", s.served.addr))
    }

    /// Where its WebSocket is (aria2's notifications), when it listens.
    pub fn rpc_websocket(&self) -> Option<String> {
        self.rpc
            .as_ref()
            .map(|s| format!("ws://{}/jsonrpc", s.served.addr))
    }

    fn id_of(&self, gid: u64) -> Option<crate::protocol::JobId> {
        self.model.by_gid(gid).map(|r| r.id)
    }
}

impl Downloads for HaulApp {
    fn add(
        &mut self,
        source: Source,
        uri: &str,
        dest: PathBuf,
        checksum: Option<Checksum>,
        options: ItemOptions,
    ) -> u64 {
        self.add_source(uri, source, checksum, false, dest, options, Instant::now())
    }

    fn session(&self) -> &Session {
        self.model.session()
    }

    fn pause(&mut self, gid: u64) {
        if let Some(id) = self.id_of(gid) {
            self.engine.send(Command::Pause(id));
        }
    }

    fn unpause(&mut self, gid: u64) {
        if let Some(id) = self.id_of(gid) {
            self.resume_rows(&[id]);
        }
    }

    /// As aria2's remove: its bytes stay on disk (a running one is paused, keeping its
    /// `.part`), clients hear `onDownloadStop`, and it stays `removed` (a paused row here,
    /// which a person may resume) until its result is dropped.
    fn remove(&mut self, gid: u64) {
        if let Some(id) = self.id_of(gid) {
            if let Some(pause) = self.model.mark_removed(id) {
                self.engine.send(pause);
            }
            if let Some(serving) = &self.rpc {
                serving.served.notify("onDownloadStop", gid);
            }
        }
    }

    fn forget(&mut self, gid: u64) {
        if let Some(id) = self.id_of(gid) {
            let (_, keys) = self.model.remove(&[id]);
            self.forget_saved(keys);
        }
    }

    fn reposition(&mut self, gid: u64, beside: Beside) {
        let (other, after) = beside.split();
        if let (Some(id), Some(other)) = (self.id_of(gid), self.id_of(other)) {
            let to = if after {
                Move::After(other)
            } else {
                Move::Before(other)
            };
            self.move_rows(&[id], to);
        }
    }

    fn globals(&self) -> (Limits, Output) {
        (
            self.settings.limits(),
            self.settings.output(self.system_locale.as_deref()),
        )
    }

    /// The RPC's `changeGlobalOption`, as the settings would change them (saved with them).
    fn set_globals(&mut self, limits: Limits, output: Output) {
        self.settings.set_limits(limits);
        self.settings.overwrite = output.overwrite;
        self.settings.skip_existing = output.skip_existing;
        self.summary.max_rate_text = self.settings.max_rate_text("none");
        // With the schedule's speed limit when it is in force (the settings' alone lifted it).
        self.engine.send(Command::SetLimits(self.limits()));
        self.engine.send(Command::SetOutput(
            self.settings.output(self.system_locale.as_deref()),
        ));
    }

    /// The RPC's `changeOption`: the row's options (saved); its speed limit applies at once.
    fn set_options(&mut self, gid: u64, options: ItemOptions) {
        let Some(id) = self.id_of(gid) else { return };
        let apply = self.model.set_options(id, options);
        self.save(id);
        if let Some(apply) = apply {
            self.engine.send(apply);
        }
    }
}
