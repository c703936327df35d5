//! The same download submitted again while a run of it still holds its bytes (a download
//! removed, then added again at once; a retry racing the pause it follows): it waits for that
//! run to end, so it finds the `.part` that run kept and goes on from it, instead of taking a
//! new name (`name (2).bin`) and leaving the kept bytes behind.
//!
//! Owns: what a run holds (its folder and source URL), the items waiting for a run, and
//! giving them back when it ends. Must not touch: the queues (`queue`), fetching.

use std::collections::HashMap;
use std::path::PathBuf;

use super::{Pending, Scheduler};
use crate::protocol::{JobId, Source};

/// The folder and source URL whose `.part` a run holds.
pub(super) type Holds = (PathBuf, String);

/// What a run of `pending` will hold: URL sources only (a local copy keeps nothing).
pub(super) fn holds(pending: &Pending) -> Option<Holds> {
    match &pending.source {
        Source::Url(url) => Some((pending.output.dest.clone(), url.as_str().to_owned())),
        Source::File(_) => None,
    }
}

/// Items waiting for a run, by that run's id.
#[derive(Default)]
pub(super) struct Deferred {
    waiting: HashMap<JobId, Vec<Pending>>,
    /// Each waiting item's run.
    run_of: HashMap<JobId, JobId>,
}

impl Deferred {
    /// Every waiting item's id, no longer waiting.
    pub(super) fn drain(&mut self) -> Vec<JobId> {
        self.run_of.clear();
        self.waiting
            .drain()
            .flat_map(|(_, items)| items)
            .map(|pending| pending.id)
            .collect()
    }
}

impl Scheduler {
    /// The running item that holds what `pending` would, if any.
    pub(super) fn holder_of(&self, pending: &Pending) -> Option<JobId> {
        let wanted = holds(pending)?;
        self.running
            .iter()
            .find(|(_, running)| running.holds.as_ref() == Some(&wanted))
            .map(|(id, _)| *id)
    }

    /// Holds `pending` until run `holder` ends.
    pub(super) fn defer(&mut self, holder: JobId, pending: Pending) {
        tracing::debug!(id = ?pending.id, ?holder, "waits for the run of the same download to end");
        self.deferred.run_of.insert(pending.id, holder);
        self.deferred
            .waiting
            .entry(holder)
            .or_default()
            .push(pending);
    }

    /// Takes waiting item `id` out (paused or cancelled before it was queued); false if it
    /// was not waiting.
    pub(super) fn undefer(&mut self, id: JobId) -> bool {
        let Some(holder) = self.deferred.run_of.remove(&id) else {
            return false;
        };
        if let Some(items) = self.deferred.waiting.get_mut(&holder) {
            items.retain(|pending| pending.id != id);
        }
        true
    }

    /// The items that waited for run `holder`, which has ended.
    pub(super) fn release(&mut self, holder: JobId) -> Vec<Pending> {
        let items = self.deferred.waiting.remove(&holder).unwrap_or_default();
        for pending in &items {
            self.deferred.run_of.remove(&pending.id);
        }
        items
    }
}
