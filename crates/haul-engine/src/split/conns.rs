//! The running connections of one split download, and the host slots they hold.
//!
//! Owns: starting a connection (each with its own stop, a child of the download's), the
//! extra host slots (one for each running connection beyond the first: the item's own slot
//! covers one, whichever connection is left), and giving one connection back when the host's
//! [`HostSlots`] asks (items wait for the host): the newest is stopped between pieces, so no
//! byte it took is lost, and its range goes to the others. A download never gives back its
//! last connection.
//! Must not touch: which range a connection fetches (`plan`), the requests (`split`'s
//! `connection`), the disk.

use std::collections::HashMap;
use std::sync::Arc;

use reqwest::Response;
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use super::{ConnEnd, Ctx, connection};
use crate::slots::{HostSlots, Slot};

/// What `join_next_with_id` gives back.
type Joined = Option<Result<(tokio::task::Id, ConnEnd), JoinError>>;

/// The running connections of one split download.
pub(super) struct Conns {
    pub(super) set: JoinSet<ConnEnd>,
    ctx: Arc<Ctx>,
    next: usize,
    /// Connections started and not yet ended (those asked to give way included).
    pub(super) active: usize,
    /// The item's host, as the scheduler counts it.
    host: Option<String>,
    slots: Option<Arc<HostSlots>>,
    /// The extra slots held: never more than `active - 1`.
    extras: Vec<Slot>,
    /// Each running connection's number and own stop, by task.
    stops: HashMap<tokio::task::Id, (usize, CancellationToken)>,
}

impl Conns {
    pub(super) fn new(ctx: Arc<Ctx>, host: Option<String>, slots: Option<Arc<HostSlots>>) -> Conns {
        Conns {
            set: JoinSet::new(),
            ctx,
            next: 0,
            active: 0,
            host,
            slots,
            extras: Vec::new(),
            stops: HashMap::new(),
        }
    }

    /// Starts a connection; `first` is a reply already open for the first range, `slot` the
    /// extra host slot it brings (none for the first: the item's own slot).
    pub(super) fn spawn(&mut self, first: Option<Response>, slot: Option<Slot>) {
        let (ctx, conn) = (Arc::clone(&self.ctx), self.next);
        self.next += 1;
        self.active += 1;
        self.extras.extend(slot);
        let stop = ctx.stop.child_token();
        let own = stop.clone();
        ctx.meters.speeds.start(conn);
        let task = self.set.spawn(async move {
            let end = connection(&ctx, conn, first, &own).await;
            ctx.plan().release(conn);
            ctx.meters.speeds.end(conn);
            if own.is_cancelled() && !ctx.stop.is_cancelled() {
                ConnEnd::GaveWay
            } else {
                end
            }
        });
        self.stops.insert(task.id(), (conn, stop));
    }

    /// A connection ended: forgets it and gives back the extra slot it no longer needs.
    pub(super) fn ended(&mut self, joined: Joined) -> Option<Result<ConnEnd, JoinError>> {
        let id = match &joined {
            Some(Ok((id, _))) => Some(*id),
            Some(Err(e)) => Some(e.id()),
            None => None,
        };
        if let Some(id) = id {
            self.stops.remove(&id);
        }
        self.active = self.active.saturating_sub(1);
        self.extras.truncate(self.active.saturating_sub(1));
        joined.map(|joined| joined.map(|(_, end)| end))
    }

    /// Starts up to `want` more connections while there is work for them and the host has
    /// free slots (none while items wait for it). Returns how many started.
    pub(super) fn add(&mut self, want: usize) -> usize {
        let mut added = 0;
        while added < want && self.ctx.plan().has_work_for_another() {
            let slot = match (&self.host, &self.slots) {
                (Some(host), Some(slots)) => match slots.try_extra(host) {
                    Some(slot) => Some(slot),
                    None => break,
                },
                _ => None,
            };
            self.spawn(None, slot);
            added += 1;
        }
        added
    }

    /// Gives one extra connection back when the host asks (items wait for it, or its cap was
    /// lowered): the newest stops between pieces and its slot is freed as it ends. Never the
    /// last connection still running. Returns whether one was asked to stop.
    pub(super) fn give_way(&mut self) -> bool {
        let live: Vec<(usize, &CancellationToken)> = self
            .stops
            .values()
            .filter(|(_, stop)| !stop.is_cancelled())
            .map(|(conn, stop)| (*conn, stop))
            .collect();
        let leaving = self.active.saturating_sub(live.len());
        if live.len() <= 1 || self.extras.len() <= leaving {
            return false;
        }
        let (Some(host), Some(slots)) = (&self.host, &self.slots) else {
            return false;
        };
        if !slots.should_yield(host) {
            return false;
        }
        if let Some((conn, stop)) = live.iter().max_by_key(|(conn, _)| *conn) {
            tracing::info!(
                conn,
                "giving a connection back to items waiting for the host"
            );
            stop.cancel();
        }
        true
    }
}
