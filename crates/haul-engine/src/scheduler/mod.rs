//! The queue and the caps: which item runs next.
//!
//! Owns: the engine's one actor task. It takes [`Command`]s, keeps one FIFO queue per host
//! (local files share one queue that only the global cap limits), starts items while the
//! global cap (`jobs`) and the item's host cap (`per_host`) allow, cancels queued and running
//! items, pauses them (they keep their bytes), and on shutdown cancels everything and waits
//! for every job's cleanup.
//! Queued items are picked in queue order (submission order, unless [`Command::Reorder`]
//! moved them) among the hosts that have room, in O(log hosts) per start, so one busy host
//! never holds up the others (per-host fairness). It tells the host slots how many items wait
//! for their host alone (not for the global cap or a pause), so split downloads give their
//! extra connections to them.
//! Must not touch: fetching (that is `job` and `fetch`), the disk.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

mod queue;
mod same;

use tokio::sync::mpsc;
use tokio_util::task::TaskTracker;

use super::EventSink;
use super::fetch::http;
use super::item::Job;
use super::job;
use super::limit::{Bucket, Rates};
use super::names::Names;
use super::resume::ResumeIndex;
use super::slots::HostSlots;
use super::stop::{StopReason, StopSignal};
use crate::protocol::{
    Checksum, Command, Event, FetchError, HostPin, ItemOptions, JobId, Limits, Outcome, Output,
    ProxyChoice, Source, Trust,
};

/// `None` for local files.
type HostKey = Option<String>;

/// A queued item's place: its rank (lower starts first), then its id.
type Place = (u64, JobId);

struct Pending {
    id: JobId,
    source: Source,
    sha256: Option<Checksum>,
    /// Shared by every item submitted under the same output settings.
    output: Arc<Output>,
    options: Arc<ItemOptions>,
}

struct Running {
    stop: StopSignal,
    key: HostKey,
    /// The folder and source URL whose `.part` it holds (see `same`).
    holds: Option<same::Holds>,
}

pub(crate) struct Scheduler {
    limits: Limits,
    output: Arc<Output>,
    paused: bool,
    client: http::HttpClient,
    /// The proxy the client was built with (rebuilt when it or the timeouts change).
    proxy: ProxyChoice,
    /// Certificates trusted for their host; the clients are built with them.
    host_pins: Vec<HostPin>,
    /// Clients for items that trust more than the system's authorities (`-k`, `--cacert`, a
    /// pinned certificate), one per trust, each with its own connections: a connection
    /// accepted for one item's trust is never reused by an item without it. Emptied whenever
    /// the shared client is rebuilt.
    trusted: HashMap<Trust, http::HttpClient>,
    names: Arc<Names>,
    resume: Arc<ResumeIndex>,
    /// The engine's BitTorrent client, started on the first torrent.
    torrents: Arc<crate::fetch::torrent::Client>,
    events: EventSink,
    /// The engine's stop signal: its reason says whether queued items end paused or cancelled.
    shutdown: StopSignal,
    tracker: TaskTracker,
    done_tx: mpsc::UnboundedSender<JobId>,

    /// Each host's queued items by place.
    /// Boxed: a queue filled in order leaves its B-tree's nodes half full, and half-empty
    /// slots of a small box cost less than of a whole `Pending` (9 MB less for 100,000).
    queues: HashMap<HostKey, BTreeMap<Place, Box<Pending>>>,
    /// (front item's place, queue) for every non-empty queue whose host has room.
    ready: BTreeSet<(Place, HostKey)>,
    /// The entry each queue has in `ready`, so it can be found and removed.
    ready_front: HashMap<HostKey, Place>,
    /// Every queued item's host and place.
    queued: HashMap<JobId, (HostKey, Place)>,
    /// The rank the next submitted item gets (ranks only grow: a new item goes last).
    next_rank: u64,
    running: HashMap<JobId, Running>,
    /// Connections open per host (items and split downloads' extra connections).
    slots: Arc<HostSlots>,
    /// Hosts whose extra connection ended (their queue may start an item now).
    freed: Option<mpsc::UnboundedReceiver<String>>,
    /// Whether an item may start now as far as the global cap and a pause go: only then do
    /// queued items wait for their host alone, and split downloads give way to them.
    startable: bool,
    /// The speed limit of all items together.
    global_rate: Arc<Bucket>,
    /// Each running item's own speed limit (unlimited unless set), and each queued item's
    /// that has one.
    item_rates: HashMap<JobId, Arc<Bucket>>,
    /// Items submitted while a run of the same download still held its bytes, by that run.
    deferred: same::Deferred,
}

impl Scheduler {
    pub(crate) fn new(
        limits: Limits,
        output: Output,
        // The shared client and what it was built with (besides the limits' timeouts).
        (client, proxy, host_pins): (http::HttpClient, ProxyChoice, Vec<HostPin>),
        events: EventSink,
        shutdown: StopSignal,
        done_tx: mpsc::UnboundedSender<JobId>,
    ) -> Scheduler {
        let global_rate = Arc::new(Bucket::new(limits.max_rate));
        let (freed_tx, freed) = mpsc::unbounded_channel();
        Scheduler {
            limits: sane(limits),
            output: Arc::new(output),
            paused: false,
            client,
            proxy,
            host_pins,
            trusted: HashMap::new(),
            names: Arc::new(Names::default()),
            resume: Arc::new(ResumeIndex::default()),
            torrents: Arc::default(),
            events,
            shutdown,
            tracker: TaskTracker::new(),
            done_tx,
            queues: HashMap::new(),
            ready: BTreeSet::new(),
            ready_front: HashMap::new(),
            queued: HashMap::new(),
            next_rank: 0,
            running: HashMap::new(),
            slots: HostSlots::new(limits.per_host, freed_tx),
            freed: Some(freed),
            startable: true,
            global_rate,
            item_rates: HashMap::new(),
            deferred: same::Deferred::default(),
        }
    }

    /// The actor loop. Returns once shut down and every job has cleaned up.
    pub(crate) async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut done_rx: mpsc::UnboundedReceiver<JobId>,
    ) {
        let Some(mut freed) = self.freed.take() else {
            return;
        };
        loop {
            tokio::select! {
                biased;
                () = self.shutdown.stopped() => break,
                Some(id) = done_rx.recv() => self.finished(id),
                Some(host) = freed.recv() => self.refresh(&Some(host)),
                command = commands.recv() => match command {
                    Some(command) => self.handle(command),
                    None => break, // every handle is gone
                },
            }
            self.dispatch();
        }
        tracing::debug!(
            queued = self.queued.len(),
            running = self.running.len(),
            "engine shutting down"
        );
        if !self.shutdown.is_stopped() {
            self.shutdown.stop(StopReason::Cancel); // every handle is gone
        }
        if self.shutdown.reason() == Some(StopReason::Pause) {
            self.end_queued(Outcome::Paused);
        } else {
            self.cancel_queued();
        }
        self.tracker.close();
        self.tracker.wait().await;
        tracing::debug!("engine stopped");
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Submit {
                id,
                source,
                sha256,
                dest,
                options,
            } => self.submit(id, source, sha256, dest, options),
            Command::Cancel(id) => self.cancel(id),
            Command::CancelAll => {
                self.cancel_queued();
                for running in self.running.values() {
                    running.stop.stop(StopReason::Cancel);
                }
            }
            Command::Pause(id) => self.pause(id),
            Command::PauseAll => {
                self.end_queued(Outcome::Paused);
                for running in self.running.values() {
                    running.stop.stop(StopReason::Pause);
                }
            }
            Command::SetLimits(limits) => self.set_limits(limits),
            Command::SetItemRate { id, rate } => match self.item_rates.get(&id) {
                Some(bucket) => bucket.set(rate),
                // A queued item without a limit so far gets its bucket now.
                None if self.queued.contains_key(&id) => {
                    self.item_rates.insert(id, Arc::new(Bucket::new(rate)));
                }
                None => {}
            },
            Command::SetOutput(output) => self.output = Arc::new(output),
            Command::SetProxy(proxy) => {
                let limits = self.limits;
                self.rebuild(limits, proxy, self.host_pins.clone());
            }
            Command::SetHostPins(pins) => self.rebuild(self.limits, self.proxy.clone(), pins),
            Command::SetPaused(paused) => self.paused = paused,
            Command::Reorder(ids) => self.reorder(&ids),
            Command::Discard {
                source,
                dest,
                torrent,
            } => self.discard(source, dest, torrent),
            Command::Adopt { from, to, dest } => {
                let dest = dest.as_deref().unwrap_or(&self.output.dest);
                self.resume.hand_over(dest, &from, &to);
            }
        }
    }

    fn submit(
        &mut self,
        id: JobId,
        source: Source,
        sha256: Option<Checksum>,
        dest: Option<std::path::PathBuf>,
        options: Arc<ItemOptions>,
    ) {
        // Items for the current folder share one `Output`; an item for another folder (a
        // row that remembers its own) gets a copy with that folder.
        let output = match dest {
            Some(dest) if dest != self.output.dest => Arc::new(Output {
                dest,
                ..(*self.output).clone()
            }),
            _ => Arc::clone(&self.output),
        };
        let pending = Pending {
            id,
            source,
            sha256,
            output,
            options,
        };
        match self.holder_of(&pending) {
            Some(holder) => self.defer(holder, pending),
            None => self.enqueue(Box::new(pending)),
        }
    }

    fn cancel(&mut self, id: JobId) {
        if self.unqueue(id) || self.undefer(id) {
            self.events.send(ended_in_queue(id, Outcome::Cancelled));
        } else if let Some(running) = self.running.get(&id) {
            running.stop.stop(StopReason::Cancel);
        }
    }

    fn pause(&mut self, id: JobId) {
        if self.unqueue(id) || self.undefer(id) {
            self.events.send(ended_in_queue(id, Outcome::Paused));
        } else if let Some(running) = self.running.get(&id) {
            running.stop.stop(StopReason::Pause);
        }
    }

    /// Deletes the kept `.part` and sidecar of a URL source in `dest` (or the current folder).
    fn discard(&self, source: Source, dest: Option<std::path::PathBuf>, torrent: Option<[u8; 20]>) {
        let resume = Arc::clone(&self.resume);
        let dest = dest.unwrap_or_else(|| self.output.dest.clone());
        self.tracker.spawn_blocking(move || {
            // A torrent's verified pieces are in its working folder.
            if crate::fetch::torrent::discard(&dest, &source, torrent) {
                return;
            }
            if let Source::Url(url) = source {
                resume.discard(&dest, url.as_str()); // local copies keep nothing
            }
        });
    }

    fn cancel_queued(&mut self) {
        self.end_queued(Outcome::Cancelled);
    }

    fn set_limits(&mut self, limits: Limits) {
        let limits = sane(limits);
        let timeouts_changed = limits.connect_timeout != self.limits.connect_timeout
            || limits.stall_timeout != self.limits.stall_timeout;
        if timeouts_changed {
            self.rebuild(limits, self.proxy.clone(), self.host_pins.clone());
        }
        if limits.max_rate != self.limits.max_rate {
            self.global_rate.set(limits.max_rate);
        }
        self.slots.set_cap(limits.per_host);
        self.limits = limits;
        let keys: Vec<HostKey> = self.queues.keys().cloned().collect();
        for key in keys {
            self.refresh(&key);
        }
    }

    fn finished(&mut self, id: JobId) {
        self.item_rates.remove(&id);
        let Some(running) = self.running.remove(&id) else {
            return;
        };
        if let Some(host) = &running.key {
            self.slots.close_item(host);
        }
        self.refresh(&running.key);
        // The same download submitted again while this run stopped: now it finds the bytes
        // this run kept.
        for pending in self.release(id) {
            self.enqueue(Box::new(pending));
        }
    }

    fn dispatch(&mut self) {
        self.restate_waiting();
        while !self.paused && self.running.len() < self.limits.jobs {
            let Some((_, key)) = self.ready.pop_first() else {
                break;
            };
            self.ready_front.remove(&key);
            let Some((_, pending)) = self.queues.get_mut(&key).and_then(BTreeMap::pop_first) else {
                continue;
            };
            self.queued.remove(&pending.id);
            if let Some(host) = &key {
                self.slots.open_item(host);
            }
            self.refresh(&key);
            self.start(*pending, key);
        }
        self.restate_waiting();
    }

    /// The shared client built again with these timeouts, proxy and host pins, which it then
    /// keeps (the clients for items' own trust are built again as items need them); on an
    /// error the old ones stay.
    fn rebuild(&mut self, limits: Limits, proxy: ProxyChoice, host_pins: Vec<HostPin>) {
        let built = http::client(&http::ClientSpec {
            limits: &limits,
            proxy: &proxy,
            trust: &Trust::default(),
            hosts: &host_pins,
        });
        match built {
            Ok(client) => {
                self.client = client;
                self.proxy = proxy;
                self.host_pins = host_pins;
                self.trusted.clear();
            }
            Err(e) => tracing::error!(error = %e, "keeping the old HTTP client"),
        }
    }

    /// The client for an item that trusts `trust`: the shared one, or one built for it.
    /// Errors: a `--cacert` file that cannot be read.
    fn client_for(&mut self, trust: &Trust) -> Result<http::HttpClient, FetchError> {
        if trust.is_default() {
            return Ok(self.client.clone());
        }
        if let Some(client) = self.trusted.get(trust) {
            return Ok(client.clone());
        }
        let client = http::client(&http::ClientSpec {
            limits: &self.limits,
            proxy: &self.proxy,
            trust,
            hosts: &self.host_pins,
        })?;
        // A file that may change is read again for each item; the rest are kept.
        if trust.ca_file.is_none() {
            self.trusted.insert(trust.clone(), client.clone());
        }
        Ok(client)
    }

    fn start(&mut self, pending: Pending, key: HostKey) {
        let id = pending.id;
        let stop = self.shutdown.child();
        self.running.insert(
            id,
            Running {
                stop: stop.clone(),
                key,
                holds: same::holds(&pending),
            },
        );
        // Connections for this file: its own number or the engine's, never more than a host
        // allows (a file that may not have a second connection is fetched as one stream).
        let mut limits = self.limits;
        limits.split = pending
            .options
            .split
            .unwrap_or(limits.split)
            .min(limits.per_host)
            .max(1);
        let events = self.events.clone();
        let done = self.done_tx.clone();
        let client = match self.client_for(&pending.options.trust) {
            Ok(client) => client,
            Err(e) => {
                self.tracker.spawn(async move {
                    events.send(Event::Finished {
                        id,
                        elapsed: Duration::ZERO,
                        bytes: 0,
                        outcome: Outcome::Failed(e),
                    });
                    let _ = done.send(id);
                });
                return;
            }
        };
        let job = Job {
            id,
            source: pending.source,
            sha256: pending.sha256,
            output: pending.output,
            options: pending.options,
            limits,
            client,
            host_pins: self.host_pins.clone().into(),
            names: Arc::clone(&self.names),
            resume: Arc::clone(&self.resume),
            torrents: Arc::clone(&self.torrents),
            events: self.events.clone(),
            stop,
            rates: Rates {
                item: self
                    .item_rates
                    .entry(id)
                    .or_insert_with(|| Arc::new(Bucket::new(None)))
                    .clone(),
                global: Arc::clone(&self.global_rate),
            },
            slots: Some(Arc::clone(&self.slots)),
        };
        self.tracker.spawn(async move {
            // A panic in one job must still give that item its one outcome.
            let finished = tokio::spawn(job::run(job))
                .await
                .unwrap_or_else(|e| Event::Finished {
                    id,
                    elapsed: Duration::ZERO,
                    bytes: 0,
                    outcome: Outcome::Failed(super::item::internal(&e)),
                });
            events.send(finished);
            let _ = done.send(id);
        });
    }
}

fn ended_in_queue(id: JobId, outcome: Outcome) -> Event {
    Event::Finished {
        id,
        elapsed: Duration::ZERO,
        bytes: 0,
        outcome,
    }
}

/// Caps of zero would stall the queue forever.
fn sane(mut limits: Limits) -> Limits {
    limits.jobs = limits.jobs.max(1);
    limits.per_host = limits.per_host.max(1);
    limits
}
