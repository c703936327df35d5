//! The engine: fetches many sources at once on a tokio runtime.
//!
//! Owns: everything that touches the network and the disk. Front ends talk to it only through
//! [`protocol`](crate::protocol) messages: [`Engine::submit`] and friends send [`Command`]s
//! (never blocking, safe from a UI thread), and [`Events`] delivers [`Event`](crate::protocol::Event)s; an optional
//! waker is called after each event so a UI can repaint on demand instead of polling.
//! Must not touch: egui, eframe, or any presentation.
//!
//! # Layout
//! - `scheduler`: the actor: per-host FIFO queues, global and per-host caps, cancel, pause,
//!   shutdown.
//! - `job`: one item's life, whatever its protocol: deadline, progress throttling, retries,
//!   reopening kept bytes, its single outcome.
//! - `item`: what an item carries (its context, shared progress) and the bytes kept for it;
//!   below both `job` and the fetchers.
//! - `retry`: which failures are worth another try, and how long to wait.
//! - `stop`: one value per item (and one for the engine) saying whether and why to stop.
//! - `events`: where events go (the channel, then the waker).
//! - [`fetch`]: the [`Fetcher`](fetch::Fetcher) trait and the registry by scheme;
//!   [`fetch::http`] (reqwest; splitting through `split`) and [`fetch::file`] (blocking
//!   pool) get the bytes.
//! - [`output`]: `.part` files, free names, verification, the final rename.
//! - [`resume`]: the sidecar beside a kept `.part`, and finding it again by source.
//! - [`process`]: what both binaries set up once at start (the open-file limit).
//!
//! The vocabulary ([`protocol`]) and the names ([`names`]) are `haul-core`'s, re-exported here.
//!
//! Stopping is one tree of stop signals: the engine's → each item's. The reason is recorded
//! before the token is cancelled (cancel, pause, deadline), and the item's outcome follows
//! from it. Every fetch checks its token at each await (or between chunks on the blocking
//! pool), cleans up or keeps its `.part`, and only then reports.

mod events;
pub mod fetch;
mod item;
mod job;
pub mod limit;
pub mod output;
pub mod process;
pub mod resume;
mod retry;
mod scheduler;
mod slots;
mod split;
mod stop;

pub use haul_core::{names, protocol};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub(crate) use events::EventSink;
pub use events::Events;
/// A `.torrent` file's files, as `haul-cli --show-files` lists them.
#[cfg(feature = "torrent")]
pub use fetch::torrent::list_files;
pub use item::PROGRESS_EVERY;
use stop::{StopReason, StopSignal};

use crate::protocol::{
    Checksum, Command, FetchError, ItemOptions, JobId, Limits, Output, ProxyChoice, Source, Waker,
};

/// Settings an engine starts with; all can be changed later with commands.
#[derive(Clone, Default)]
pub struct EngineConfig {
    pub limits: Limits,
    pub output: Output,
    /// The proxy (default: the system's).
    pub proxy: ProxyChoice,
    /// Certificates trusted for their host (besides the system's authorities).
    pub host_pins: Vec<haul_core::protocol::HostPin>,
    pub waker: Option<Waker>,
}

/// Why an engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot set up HTTP: {0}")]
    Http(FetchError),
}

/// A cheap, cloneable way to send commands to an engine from any thread.
#[derive(Clone, Debug)]
pub struct EngineHandle {
    commands: mpsc::UnboundedSender<Command>,
    next_id: Arc<AtomicU64>,
}

impl EngineHandle {
    /// A fresh id, also for items a front end rejects before they reach the engine.
    pub fn next_id(&self) -> JobId {
        JobId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Queues a source and returns its id. Exactly one `Finished` event will follow, unless
    /// the engine has already shut down (then this returns the id and nothing follows).
    pub fn submit(&self, source: Source) -> JobId {
        self.submit_checked(source, None)
    }

    /// Like [`EngineHandle::submit`], with the SHA-256 the file must have.
    pub fn submit_checked(&self, source: Source, sha256: Option<Checksum>) -> JobId {
        self.submit_with(source, sha256, None, ItemOptions::default())
    }

    /// Like [`EngineHandle::submit_checked`], into `dest` (`None`: the current destination)
    /// with the item's own options (name, connections, speed limit, request headers).
    pub fn submit_with(
        &self,
        source: Source,
        sha256: Option<Checksum>,
        dest: Option<std::path::PathBuf>,
        options: ItemOptions,
    ) -> JobId {
        let id = self.next_id();
        self.send(Command::Submit {
            id,
            source,
            sha256,
            dest,
            options: std::sync::Arc::new(options),
        });
        id
    }

    pub fn cancel(&self, id: JobId) {
        self.send(Command::Cancel(id));
    }

    /// Stops an item but keeps its bytes; submitting the same source again resumes it.
    pub fn pause(&self, id: JobId) {
        self.send(Command::Pause(id));
    }

    pub fn cancel_all(&self) {
        self.send(Command::CancelAll);
    }

    /// Sends any command. Returns false once the engine is gone.
    pub fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok()
    }
}

/// A running engine. Dropping it cancels everything and, outside the runtime, waits for the
/// cleanup; [`Engine::shutdown`] (async) and [`Engine::shutdown_blocking`] say so explicitly.
pub struct Engine {
    handle: EngineHandle,
    /// Stopped with `Cancel` to shut down, or with `Pause` to suspend (every item keeps its
    /// bytes).
    shutdown: StopSignal,
    actor: Option<JoinHandle<()>>,
    runtime: tokio::runtime::Handle,
}

impl Engine {
    /// Starts an engine on `runtime` and returns it with its event stream.
    pub fn start(
        runtime: &tokio::runtime::Handle,
        config: EngineConfig,
    ) -> Result<(Engine, Events), EngineError> {
        let _entered = runtime.enter();
        let client = fetch::http::client(&fetch::http::ClientSpec {
            limits: &config.limits,
            proxy: &config.proxy,
            trust: &haul_core::protocol::Trust::default(),
            hosts: &config.host_pins,
        })
        .map_err(EngineError::Http)?;
        let (command_tx, command_rx) = mpsc::unbounded_channel();
        let (sink, event_rx) = EventSink::new(config.waker);
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        let shutdown = StopSignal::default();
        let scheduler = scheduler::Scheduler::new(
            config.limits,
            config.output,
            (client, config.proxy, config.host_pins),
            sink,
            shutdown.clone(),
            done_tx,
        );
        let actor = runtime.spawn(scheduler.run(command_rx, done_rx));
        let engine = Engine {
            handle: EngineHandle {
                commands: command_tx,
                next_id: Arc::new(AtomicU64::new(1)),
            },
            shutdown,
            actor: Some(actor),
            runtime: runtime.clone(),
        };
        Ok((engine, event_rx))
    }

    /// A cloneable sender for this engine.
    pub fn handle(&self) -> EngineHandle {
        self.handle.clone()
    }

    /// See [`EngineHandle::submit`].
    pub fn submit(&self, source: Source) -> JobId {
        self.handle.submit(source)
    }

    /// See [`EngineHandle::submit_checked`].
    pub fn submit_checked(&self, source: Source, sha256: Option<Checksum>) -> JobId {
        self.handle.submit_checked(source, sha256)
    }

    /// See [`EngineHandle::submit_with`].
    pub fn submit_with(
        &self,
        source: Source,
        sha256: Option<Checksum>,
        dest: Option<std::path::PathBuf>,
        options: ItemOptions,
    ) -> JobId {
        self.handle.submit_with(source, sha256, dest, options)
    }

    pub fn cancel(&self, id: JobId) {
        self.handle.cancel(id);
    }

    pub fn cancel_all(&self) {
        self.handle.cancel_all();
    }

    pub fn send(&self, command: Command) -> bool {
        self.handle.send(command)
    }

    /// Cancels everything and waits until every item has reported and cleaned up.
    pub async fn shutdown(mut self) {
        self.shutdown.stop(StopReason::Cancel);
        if let Some(actor) = self.actor.take() {
            let _ = actor.await;
        }
    }

    /// For callers outside the runtime (a UI thread closing its window): cancels everything
    /// and waits at most `limit` for cleanup. Returns whether cleanup finished in time.
    /// Must not be called from inside the runtime.
    pub fn shutdown_blocking(mut self, limit: Duration) -> bool {
        self.stop_and_wait(StopReason::Cancel, limit)
    }

    /// Like [`Engine::shutdown_blocking`], but every queued and running item is paused
    /// instead of cancelled: `.part` files and sidecars stay, and submitting the same sources
    /// later (the window's saved queue does) resumes them.
    pub fn suspend_blocking(mut self, limit: Duration) -> bool {
        self.stop_and_wait(StopReason::Pause, limit)
    }

    fn stop_and_wait(&mut self, reason: StopReason, limit: Duration) -> bool {
        self.shutdown.stop(reason);
        let Some(actor) = self.actor.take() else {
            return true;
        };
        let (tx, rx) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let _ = actor.await;
            let _ = tx.send(());
        });
        rx.recv_timeout(limit).is_ok()
    }
}

/// How long dropping an engine outside the runtime waits for cleanup.
const DROP_WAIT: Duration = Duration::from_secs(10);

impl Drop for Engine {
    /// Cancels everything. Outside the runtime (a UI thread), also waits up to ten seconds
    /// for every item's cleanup; inside it, blocking would stall the very tasks that clean
    /// up, so cleanup finishes in the background: use [`Engine::shutdown`] to wait there.
    fn drop(&mut self) {
        if tokio::runtime::Handle::try_current().is_err() {
            if !self.stop_and_wait(StopReason::Cancel, DROP_WAIT) {
                tracing::warn!("engine cleanup still running after {DROP_WAIT:?}");
            }
        } else {
            self.shutdown.stop(StopReason::Cancel);
        }
    }
}
