//! Connections per host: the per-host cap counts connections, not items.
//!
//! Owns: how many connections each host has open under this engine. The scheduler takes one
//! slot when it starts an item; a split download takes more for its extra connections, only
//! while the host has room and no item waits for it (waiting items come first), and gives
//! each back when that connection ends — the scheduler hears of it and may start the next
//! item for that host.
//! Must not touch: the queues (that is `scheduler`), the network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

#[derive(Debug, Default)]
struct Counts {
    open: HashMap<String, usize>,
    /// Items queued per host (kept up to date by the scheduler).
    waiting: HashMap<String, usize>,
    cap: usize,
}

/// Open connections per host, shared by the scheduler and the jobs.
#[derive(Debug)]
pub(crate) struct HostSlots {
    counts: Mutex<Counts>,
    /// A host whose extra connection ended: the scheduler looks at its queue again.
    freed: mpsc::UnboundedSender<String>,
}

/// One extra connection's slot; given back on drop.
#[derive(Debug)]
pub(crate) struct Slot {
    slots: Arc<HostSlots>,
    host: String,
}

impl HostSlots {
    pub(crate) fn new(cap: usize, freed: mpsc::UnboundedSender<String>) -> Arc<HostSlots> {
        Arc::new(HostSlots {
            counts: Mutex::new(Counts {
                cap: cap.max(1),
                ..Counts::default()
            }),
            freed,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_cap(&self, cap: usize) {
        self.lock().cap = cap.max(1);
    }

    /// Whether the scheduler may start an item for `host`.
    pub(crate) fn has_room(&self, host: &str) -> bool {
        let counts = self.lock();
        counts.open.get(host).copied().unwrap_or(0) < counts.cap
    }

    /// The scheduler starts an item: one more connection to `host`.
    pub(crate) fn open_item(&self, host: &str) {
        *self.lock().open.entry(host.to_owned()).or_default() += 1;
    }

    /// The scheduler's item ended: one connection fewer.
    pub(crate) fn close_item(&self, host: &str) {
        close(&mut self.lock(), host);
    }

    /// The scheduler says how many items wait for `host`.
    pub(crate) fn set_waiting(&self, host: &str, waiting: usize) {
        let mut counts = self.lock();
        if waiting == 0 {
            counts.waiting.remove(host);
        } else {
            counts.waiting.insert(host.to_owned(), waiting);
        }
    }

    /// An extra connection for a split download: only while the host has room and no item
    /// waits for it.
    pub(crate) fn try_extra(self: &Arc<HostSlots>, host: &str) -> Option<Slot> {
        let mut counts = self.lock();
        let open = counts.open.get(host).copied().unwrap_or(0);
        if open >= counts.cap || counts.waiting.contains_key(host) {
            return None;
        }
        counts.open.insert(host.to_owned(), open + 1);
        Some(Slot {
            slots: Arc::clone(self),
            host: host.to_owned(),
        })
    }

    /// Connections open to `host`.
    #[cfg(test)]
    pub(crate) fn open(&self, host: &str) -> usize {
        self.lock().open.get(host).copied().unwrap_or(0)
    }
}

fn close(counts: &mut Counts, host: &str) {
    if let Some(n) = counts.open.get_mut(host) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.open.remove(host);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        close(&mut self.slots.lock(), &self.host);
        let _ = self.slots.freed.send(self.host.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_connections_count_against_the_host_and_give_way_to_waiting_items() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let slots = HostSlots::new(3, tx);
        slots.open_item("h");
        let a = slots.try_extra("h").expect("room");
        let b = slots.try_extra("h").expect("room");
        assert!(slots.try_extra("h").is_none(), "3 connections is the cap");
        assert!(!slots.has_room("h"));
        drop(b);
        assert_eq!(
            rx.try_recv().ok().as_deref(),
            Some("h"),
            "the scheduler hears"
        );
        slots.set_waiting("h", 1);
        assert!(slots.try_extra("h").is_none(), "a waiting item comes first");
        assert!(slots.has_room("h"));
        drop(a);
        slots.close_item("h");
        assert_eq!(slots.open("h"), 0);
    }
}
