//! The scheduler's queues: one per host in rank order, the hosts ready to start one, and
//! the count of items that wait for their host alone.
//!
//! Owns: putting an item in its queue, taking it out, moving items ([`Command::Reorder`]),
//! ending every queued item, and re-filing a host in `ready`. Must not touch: starting items
//! (`mod.rs`), fetching.
//!
//! [`Command::Reorder`]: crate::protocol::Command::Reorder

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{HostKey, Pending, Place, Scheduler, ended_in_queue};
use crate::limit::Bucket;
use crate::protocol::{JobId, Outcome};

impl Scheduler {
    /// Puts an item last in its host's queue.
    pub(super) fn enqueue(&mut self, pending: Box<Pending>) {
        let key = pending.source.host_key();
        let place = (self.next_rank, pending.id);
        self.next_rank += 1;
        self.queued.insert(pending.id, (key.clone(), place));
        // Only an item with a limit of its own has a bucket while queued (100,000 queued
        // items without one cost 8 MB); the others get theirs when they start.
        if pending.options.max_rate.is_some() {
            self.item_rates
                .insert(pending.id, Arc::new(Bucket::new(pending.options.max_rate)));
        }
        self.queues
            .entry(key.clone())
            .or_default()
            .insert(place, pending);
        self.refresh(&key);
    }

    /// Gives the queued items among `ids` the ranks they hold between them, in the order
    /// given: they swap places with each other, and every other item keeps its own. Ids that
    /// are not queued (running, ended, unknown) are skipped. O(n log n) in `ids`.
    pub(super) fn reorder(&mut self, ids: &[JobId]) {
        let listed: Vec<(JobId, HostKey, Place)> = ids
            .iter()
            .filter_map(|id| {
                let (key, place) = self.queued.get(id)?;
                Some((*id, key.clone(), *place))
            })
            .collect();
        let mut ranks: Vec<u64> = listed.iter().map(|(_, _, (rank, _))| *rank).collect();
        ranks.sort_unstable();
        ranks.dedup();
        if ranks.len() != listed.len() {
            return; // an id listed twice: not an order
        }
        let mut touched = BTreeSet::new();
        for ((id, key, old), rank) in listed.into_iter().zip(ranks) {
            let new = (rank, id);
            if new == old {
                continue;
            }
            if let Some(pending) = self.queues.get_mut(&key).and_then(|q| q.remove(&old)) {
                self.queues
                    .entry(key.clone())
                    .or_default()
                    .insert(new, pending);
                self.queued.insert(id, (key.clone(), new));
                touched.insert(key);
            }
        }
        for key in touched {
            self.refresh(&key);
        }
    }

    /// Takes a queued item out of its queue; false if it was not queued.
    pub(super) fn unqueue(&mut self, id: JobId) -> bool {
        let Some((key, place)) = self.queued.remove(&id) else {
            return false;
        };
        self.item_rates.remove(&id);
        if let Some(queue) = self.queues.get_mut(&key) {
            queue.remove(&place);
        }
        self.refresh(&key);
        true
    }

    /// Ends every queued item with `outcome`, in queue order (then those waiting for an
    /// earlier run of the same download).
    pub(super) fn end_queued(&mut self, outcome: Outcome) {
        let mut places: Vec<Place> = self.queued.drain().map(|(_, (_, place))| place).collect();
        places.sort_unstable();
        let mut ids: Vec<JobId> = places.into_iter().map(|(_, id)| id).collect();
        // Those waiting for an earlier run of the same download end with them.
        ids.extend(self.deferred.drain());
        for id in &ids {
            self.item_rates.remove(id);
        }
        for host in self.queues.keys().flatten() {
            self.slots.set_waiting(host, 0);
        }
        self.queues.clear();
        self.ready.clear();
        self.ready_front.clear();
        for id in ids {
            self.events.send(ended_in_queue(id, outcome.clone()));
        }
    }

    /// Re-files `key`'s queue in `ready` after its front or its host's load changed.
    pub(super) fn refresh(&mut self, key: &HostKey) {
        if let Some(front) = self.ready_front.remove(key) {
            self.ready.remove(&(front, key.clone()));
        }
        if let Some(host) = key {
            self.slots.set_waiting(host, self.waiting_for_host(key));
        }
        let Some(queue) = self.queues.get(key) else {
            return;
        };
        let Some(front) = queue.keys().next().copied() else {
            self.queues.remove(key);
            return;
        };
        let has_room = key.as_ref().is_none_or(|host| self.slots.has_room(host));
        if has_room {
            self.ready.insert((front, key.clone()));
            self.ready_front.insert(key.clone(), front);
        }
    }

    /// Items of `key`'s queue that wait for their host alone: none while the global cap or a
    /// pause holds every item back (a connection given back would start nothing).
    pub(super) fn waiting_for_host(&self, key: &HostKey) -> usize {
        if self.startable {
            self.queues.get(key).map_or(0, BTreeMap::len)
        } else {
            0
        }
    }

    /// After the global cap's room or the pause changed: every host's waiting count again.
    pub(super) fn restate_waiting(&mut self) {
        let startable = !self.paused && self.running.len() < self.limits.jobs;
        if startable == self.startable {
            return;
        }
        self.startable = startable;
        for key in self.queues.keys() {
            if let Some(host) = key {
                self.slots.set_waiting(host, self.waiting_for_host(key));
            }
        }
    }
}
