//! Connections per host: the per-host cap counts connections, not items.
//!
//! Owns: how many connections each host has open under this engine. The scheduler takes one
//! slot when it starts an item; a split download takes more for its extra connections, only
//! while the host has room and no item waits for it (waiting items come first), and gives
//! each back when that connection ends — the scheduler hears of it and may start the next
//! item for that host. When items wait for a host that has no room (or the cap was lowered
//! under what is open), split downloads are asked, one extra connection at a time, to give
//! one back ([`HostSlots::should_yield`]): an item's own connection is never asked.
//! Must not touch: the queues (that is `scheduler`), the network.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::mpsc;

#[derive(Debug, Default)]
struct Counts {
    open: HashMap<String, usize>,
    /// Items queued per host that would start if the host had room (kept up to date by the
    /// scheduler; items held back by the global cap or a pause do not count).
    waiting: HashMap<String, usize>,
    /// Extra connections asked to end for a host and not yet ended.
    yielding: HashMap<String, usize>,
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

    /// The scheduler says how many items wait for `host` alone (they would start if it had
    /// room).
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

    /// Whether a split download holding extra connections to `host` should end one now: items
    /// wait for the host (more than the connections already asked to end), or more are open
    /// than its cap allows. A `true` counts as one connection on its way out.
    pub(crate) fn should_yield(&self, host: &str) -> bool {
        let mut counts = self.lock();
        let open = counts.open.get(host).copied().unwrap_or(0);
        let waiting = counts.waiting.get(host).copied().unwrap_or(0);
        let yielding = counts.yielding.get(host).copied().unwrap_or(0);
        let owed = if open >= counts.cap {
            waiting + (open - counts.cap)
        } else {
            0
        };
        if owed <= yielding {
            return false;
        }
        *counts.yielding.entry(host.to_owned()).or_default() += 1;
        true
    }

    /// Connections open to `host`.
    #[cfg(test)]
    pub(crate) fn open(&self, host: &str) -> usize {
        self.lock().open.get(host).copied().unwrap_or(0)
    }
}

/// One connection to `host` ended: it may be one asked to end, or one that frees a slot for
/// the same item that was waiting; either way one fewer is owed.
fn close(counts: &mut Counts, host: &str) {
    if let Some(n) = counts.open.get_mut(host) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.open.remove(host);
        }
    }
    if let Some(n) = counts.yielding.get_mut(host) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            counts.yielding.remove(host);
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

    #[test]
    fn a_full_host_asks_for_one_extra_connection_per_waiting_item_and_no_more() {
        let (tx, _rx) = mpsc::unbounded_channel();
        let slots = HostSlots::new(4, tx);
        slots.open_item("h");
        let mut extras: Vec<Slot> = (0..3).filter_map(|_| slots.try_extra("h")).collect();
        assert_eq!(extras.len(), 3);
        assert!(!slots.should_yield("h"), "nobody waits");
        slots.set_waiting("h", 2);
        assert!(slots.should_yield("h"));
        assert!(slots.should_yield("h"));
        assert!(!slots.should_yield("h"), "two asked for two waiting");
        // One given back: its slot goes to a waiting item, the other is still owed.
        extras.pop();
        slots.open_item("h");
        slots.set_waiting("h", 1);
        assert!(!slots.should_yield("h"), "the second is on its way");
        extras.pop();
        slots.open_item("h");
        slots.set_waiting("h", 0);
        assert!(!slots.should_yield("h"));
        assert!(slots.try_extra("h").is_none(), "the host is full again");
        // A cap lowered under what is open asks for the difference.
        slots.set_cap(2);
        assert!(slots.should_yield("h"));
        assert!(slots.should_yield("h"));
        assert!(!slots.should_yield("h"));
        // A host with room asks for nothing even with items waiting (they start).
        let (tx, _rx) = mpsc::unbounded_channel();
        let roomy = HostSlots::new(4, tx);
        roomy.open_item("h");
        roomy.set_waiting("h", 3);
        assert!(!roomy.should_yield("h"));
    }
}
