//! The window's list of items and the batch they form, as plain data.
//!
//! Owns: the window's side of the list. The downloads themselves, their order, their states
//! from engine [`Event`]s, their gids and per-status counts are the [`Session`]'s (the one
//! list, the headless RPC's too); here: finding a source already in the list, the selection,
//! the view, the batch summary figures and the total speed. Everything here is O(1) per event
//! and O(rows) only when rows are added, removed or moved.
//! Must not touch: egui, the engine, I/O. Time comes in as an argument so tests control it.
//!
//! # Layout
//! - this file: [`Model`] (the list) and [`Batch`].
//! - [`view`]: what the list shows (filter, search, sort) and the selection.
//! - [`order`]: moving rows, and the order the engine starts queued ones in.

pub mod order;
pub mod view;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

pub use order::Move;
pub use view::{Click, SortKey, View};

use crate::protocol::{Command, Event, ItemOptions, JobId, Source, Status};
use crate::session::Session;
pub use crate::session::{Edit, Entry, NewEntry, Speed, State};

/// Wall time against the sum of item times, since the list last went idle. The wall time is
/// the time something ran: while every item waits (the schedule holds the queue, a cap of
/// none) it does not count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    started: Option<Instant>,
    ended: Option<Instant>,
    /// Since when nothing runs, while nothing does; and the time nothing ran before that.
    idle_since: Option<Instant>,
    idle: Duration,
    /// Something has run in this batch: before, every wait is left out of the wall time;
    /// after, only one of a second or more ([`long_idle`]).
    has_run: bool,
    /// The longest finished run: the batch took at least that (a quick batch applied within
    /// one frame has no wall time of its own).
    longest: Duration,
    /// The items' own times added up (finished runs).
    pub sum_items: Duration,
    /// Bytes of finished runs.
    pub bytes: u64,
    /// Items of this batch that ended done (or were already there), and that failed or timed
    /// out: what the "all done" notification speaks of, not the whole list.
    pub done: usize,
    pub failed: usize,
    /// A total speed limit held while it ran: its items shared that speed, so their times
    /// added up say nothing of what concurrency saved (one after another each would have had
    /// all of it), and no "N times as fast" is claimed.
    pub capped: bool,
}

impl Batch {
    /// Wall time of the batch so far (or in the end).
    pub fn wall(&self, now: Instant) -> Option<Duration> {
        let started = self.started?;
        let end = self.ended.unwrap_or(now);
        let idle = self.idle
            + self.idle_since.map_or(Duration::ZERO, |since| {
                self.counted_idle(end.saturating_duration_since(since))
            });
        let wall = end.saturating_duration_since(started).saturating_sub(idle);
        Some(wall.max(self.longest))
    }

    /// How much of a stretch with nothing running is left out of the wall time.
    fn counted_idle(&self, gap: Duration) -> Duration {
        if self.has_run { long_idle(gap) } else { gap }
    }

    /// A batch starting at `now`, nothing running yet.
    fn starting(now: Instant) -> Batch {
        Batch {
            started: Some(now),
            idle_since: Some(now),
            ..Batch::default()
        }
    }

    /// Whether anything runs changed at `now`.
    fn working(&mut self, working: bool, now: Instant) {
        match (working, self.idle_since) {
            (true, Some(since)) => {
                self.idle += self.counted_idle(now.saturating_duration_since(since));
                self.idle_since = None;
                self.has_run = true;
            }
            (false, None) => self.idle_since = Some(now),
            _ => {}
        }
    }

    pub fn is_running(&self) -> bool {
        self.started.is_some() && self.ended.is_none()
    }
}

/// A stretch with nothing running that counts against the wall time: one of a second or more
/// (the schedule holding the queue). Shorter ones are the gaps between one item ending and the
/// next connecting, or a quick batch applied within one frame: they are the batch's own time
/// (a batch of local copies read "nothing ran").
fn long_idle(gap: Duration) -> Duration {
    if gap >= Duration::from_secs(1) {
        gap
    } else {
        Duration::ZERO
    }
}

/// The list, its counts and its view.
#[derive(Debug)]
pub struct Model {
    session: Session,
    /// A source's identity (a hash of its URL or path, see [`source_key`]) → its row's gid,
    /// to flag a source added twice.
    by_source: HashMap<u64, u64>,
    /// The gids of the selected rows.
    selected: HashSet<u64>,
    view: View,
    batch: Batch,
    /// Bytes received by every item this session (a counter that only grows), and its recent
    /// rate: the current total speed, true also when many small items come and go between
    /// two samples of any one row.
    received: u64,
    received_speed: Speed,
    /// The gids of rows that connected or ran since they were last seen otherwise (read with
    /// their status checked), so a host's connections in use are summed over a few rows.
    working_rows: HashSet<u64>,
}

impl Default for Model {
    fn default() -> Model {
        Model {
            // The gids are the saved queue's keys, counted in the order added.
            session: Session::sequential(),
            by_source: HashMap::new(),
            selected: HashSet::new(),
            view: View::default(),
            batch: Batch::default(),
            received: 0,
            received_speed: Speed::default(),
            working_rows: HashSet::new(),
        }
    }
}

/// A source's identity in the list: a hash of its URL or path (a copy of each as text cost
/// 4 MB per 100,000 rows). The row found by it is checked to have that very source.
fn source_key(source: &Source) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::hash::DefaultHasher::new();
    match source {
        Source::Url(url) => url.as_str().hash(&mut hasher),
        Source::File(path) => path.hash(&mut hasher),
    }
    hasher.finish()
}

impl Model {
    /// The one list underneath (what the RPC reads).
    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn len(&self) -> usize {
        self.session.len()
    }

    pub fn is_empty(&self) -> bool {
        self.session.is_empty()
    }

    pub fn count(&self, status: Status) -> usize {
        self.session.count(status)
    }

    /// Items queued, connecting or running.
    pub fn active(&self) -> usize {
        Status::ALL
            .iter()
            .filter(|s| s.is_active())
            .map(|s| self.count(*s))
            .sum()
    }

    /// Items connecting or running (not waiting in the queue).
    pub fn working(&self) -> usize {
        self.count(Status::Running) + self.count(Status::Connecting)
    }

    /// Connections in use to `host` (a [`Source::host_key`]) by the rows connecting or running.
    pub fn connections_to(&self, host: &str) -> usize {
        self.working_rows
            .iter()
            .filter_map(|gid| self.session.entry(*gid))
            .filter(|row| row.source.as_ref().and_then(Source::host_key).as_deref() == Some(host))
            .map(Entry::connections)
            .sum()
    }

    pub fn batch(&self) -> &Batch {
        &self.batch
    }

    /// A total speed limit holds while the batch runs (see [`Batch::capped`]).
    pub fn batch_capped(&mut self) {
        if self.batch.is_running() {
            self.batch.capped = true;
        }
    }

    /// Summed item time over the batch: finished runs plus, for items still running, their
    /// time so far. Walks the rows only while some are running.
    pub fn batch_time(&self, now: Instant) -> Duration {
        let mut sum = self.batch.sum_items;
        if self.working() > 0 {
            for row in self.rows().iter().filter(|r| is_working(r)) {
                sum += row.state.elapsed(now).unwrap_or_default();
            }
        }
        sum
    }

    /// The download speed right now (bytes/s): bytes received by all items over the last few
    /// seconds; `None` until there is enough to tell, zero when nothing is working.
    pub fn current_speed(&self, now: Instant) -> Option<f64> {
        // Nothing working, or only torrents seeding (they fetch nothing: the last seconds'
        // figure is not "now").
        let fetching = self
            .working_rows
            .iter()
            .filter_map(|gid| self.session.entry(*gid))
            .any(|row| !row.is_seeding());
        if self.working() == 0 || !fetching {
            return Some(0.0);
        }
        self.received_speed.bytes_per_sec(now)
    }

    /// How far the active items are, by bytes, when every one of them has a known size.
    pub fn progress(&self) -> Option<f64> {
        if self.active() == 0 {
            return None;
        }
        let (mut done, mut total) = (0u64, 0u64);
        for row in self.rows().iter().filter(|r| r.status().is_active()) {
            done += row.state.bytes();
            total += row.state.total()?;
        }
        (total > 0).then(|| done as f64 / total as f64)
    }

    pub fn row(&self, id: JobId) -> Option<&Entry> {
        self.session.by_job(id)
    }

    /// Entry `gid` (its stable key).
    pub fn by_gid(&self, gid: u64) -> Option<&Entry> {
        self.session.entry(gid)
    }

    pub fn rows(&self) -> &[Entry] {
        self.session.entries()
    }

    pub fn row_at(&self, index: usize) -> Option<&Entry> {
        self.rows().get(index)
    }

    /// The row that already has this source, if any (a URL added twice is flagged, not
    /// fetched again as `name (1)`).
    pub fn find_source(&self, source: &Source) -> Option<&Entry> {
        self.by_source
            .get(&source_key(source))
            .and_then(|&gid| self.session.entry(gid))
            .filter(|row| row.source.as_ref() == Some(source))
    }

    /// Adds a row as job `id`: an item to submit (its source valid) or a rejected line.
    /// Returns its index and what submits it.
    pub fn push(&mut self, id: JobId, new: NewEntry, now: Instant) -> (usize, Option<Command>) {
        if new.source.is_ok() && self.active() == 0 {
            self.batch = Batch::starting(now);
        }
        let (gid, submit) = self.session.add(new, id);
        self.added(gid);
        (self.len() - 1, submit)
    }

    /// Makes room for `additional` more rows at once (a big paste).
    pub fn reserve(&mut self, additional: usize) {
        self.session.reserve(additional);
    }

    /// What submits row `id` as it stands (none for a line that is not a source).
    pub fn submission(&self, id: JobId) -> Option<Command> {
        self.session.submission(self.session.gid_of(id)?)
    }

    /// Puts back a row from the saved queue (its gid kept).
    pub fn restore(&mut self, row: Entry) {
        let gid = row.gid;
        self.session.restore(row);
        self.added(gid);
    }

    fn added(&mut self, gid: u64) {
        if let Some(source) = self.session.entry(gid).and_then(|e| e.source.as_ref()) {
            self.by_source.insert(source_key(source), gid);
        }
        self.view.invalidate();
    }

    /// Applies one engine event. Events for rows that were removed are ignored.
    pub fn apply(&mut self, event: Event, now: Instant) {
        if let Event::Finished {
            elapsed,
            bytes,
            outcome,
            id,
        } = &event
            && self.session.gid_of(*id).is_some()
        {
            // A file already there took only the look that found it: no item time.
            if !matches!(outcome, crate::protocol::Outcome::Skipped { .. }) {
                self.batch.sum_items += *elapsed;
                self.batch.longest = self.batch.longest.max(*elapsed);
            }
            self.batch.bytes += bytes;
            match outcome.status() {
                Status::Done | Status::Skipped => self.batch.done += 1,
                Status::Failed | Status::TimedOut => self.batch.failed += 1,
                _ => {}
            }
        }
        let was_working = self.working() > 0;
        let Some(applied) = self.session.apply(event, now) else {
            return;
        };
        let working = self.working() > 0;
        if working != was_working && self.batch.is_running() {
            self.batch.working(working, now);
        }
        if applied.received > 0 {
            self.received += applied.received;
            self.received_speed.update(self.received, now);
        }
        if applied.renamed {
            self.view.name_changed();
        }
        if applied.was != applied.is {
            self.view.status_changed();
        }
        if matches!(applied.is, Status::Running | Status::Connecting) {
            self.working_rows.insert(applied.gid);
        } else {
            self.working_rows.remove(&applied.gid);
        }
        if self.active() == 0 && self.batch.is_running() {
            self.batch.ended = Some(now);
        }
    }

    /// Puts a retryable (or paused) row back in the queue under a new id; returns what to
    /// submit. Its elapsed time so far is kept.
    pub fn retry(&mut self, id: JobId, new_id: JobId, now: Instant) -> Option<Command> {
        self.run_again(id, new_id, now, false)
    }

    /// As [`retry`](Self::retry), a done row too: one whose options now ask for more (a
    /// torrent with more files ticked).
    pub fn rerun(&mut self, id: JobId, new_id: JobId, now: Instant) -> Option<Command> {
        self.run_again(id, new_id, now, true)
    }

    fn run_again(&mut self, id: JobId, new_id: JobId, now: Instant, done: bool) -> Option<Command> {
        let gid = self.session.gid_of(id)?;
        let active = self.active();
        let submit = if done {
            self.session.rerun(gid, new_id, now)?
        } else {
            self.session.resubmit(gid, new_id, now)?
        };
        if active == 0 {
            self.batch = Batch::starting(now);
        }
        self.view.status_changed();
        Some(submit)
    }

    /// Marks a paused row cancelled (its kept bytes are being discarded); true if it was
    /// paused.
    pub fn cancel_paused(&mut self, id: JobId) -> bool {
        let cancelled = self
            .session
            .gid_of(id)
            .is_some_and(|gid| self.session.cancel_paused(gid));
        if cancelled {
            self.view.status_changed();
        }
        cancelled
    }

    /// Marks row `id` removed over the RPC (see [`Entry::removed`]): what pauses it, if it
    /// runs.
    pub fn mark_removed(&mut self, id: JobId) -> Option<Command> {
        let gid = self.session.gid_of(id)?;
        self.session.remove(gid)
    }

    /// Sets row `id`'s own speed limit (bytes/s): its `max-download-limit` option, so it is
    /// saved and sent with each run. The command that applies it at once.
    pub fn set_rate_limit(&mut self, id: JobId, rate: Option<u64>) -> Option<Command> {
        let gid = self.session.gid_of(id)?;
        self.session.set_rate(gid, rate)
    }

    /// Gives row `id` new options of its own (the RPC's `changeOption`); the command that
    /// applies its speed limit at once, when that changed.
    pub fn set_options(&mut self, id: JobId, options: ItemOptions) -> Option<Command> {
        let gid = self.session.gid_of(id)?;
        let command = self.session.set_options(gid, options);
        self.view.name_changed();
        command
    }

    /// Removes rows; returns the ids among them that were still active (to cancel) and the
    /// gids of every removed row.
    pub fn remove(&mut self, ids: &[JobId]) -> (Vec<JobId>, Vec<u64>) {
        let doomed: HashSet<JobId> = ids.iter().copied().collect();
        self.remove_where(|row| doomed.contains(&row.id))
    }

    /// Removes the rows of finished downloads (done only: failed rows wait to be retried or
    /// removed one by one; their files stay on disk); returns their gids.
    pub fn clear_done(&mut self) -> Vec<u64> {
        self.remove_where(|row| row.status() == Status::Done).1
    }

    fn remove_where(&mut self, doomed: impl Fn(&Entry) -> bool) -> (Vec<JobId>, Vec<u64>) {
        let gone = self.session.forget_where(doomed);
        if gone.is_empty() {
            return (Vec::new(), Vec::new());
        }
        let active = gone
            .iter()
            .filter(|row| row.status().is_active())
            .map(|row| row.id)
            .collect();
        let gids: Vec<u64> = gone.iter().map(|row| row.gid).collect();
        for row in &gone {
            self.selected.remove(&row.gid);
            if let Some(source) = &row.source {
                let key = source_key(source);
                if self.by_source.get(&key) == Some(&row.gid) {
                    self.by_source.remove(&key);
                }
            }
        }
        self.view.invalidate();
        if self.active() == 0 {
            // Nothing left running: the batch's figures went with its rows (the summary
            // showed times for items Clear done had removed).
            self.batch = Batch::default();
        }
        (active, gids)
    }

    /// Gives a row that is not running new options, and maybe a new address (an expired link
    /// given anew) and folder; its name follows a new `out`. Returns false for an unknown id.
    pub fn edit(&mut self, id: JobId, edit: Edit) -> bool {
        let Some(gid) = self.session.gid_of(id) else {
            return false;
        };
        let old = self
            .session
            .entry(gid)
            .and_then(|e| e.source.as_ref())
            .map(source_key);
        let new = source_key(&edit.source);
        if !self.session.edit(gid, edit) {
            return false;
        }
        if let Some(old) = old
            && self.by_source.get(&old) == Some(&gid)
        {
            self.by_source.remove(&old);
        }
        self.by_source.insert(new, gid);
        self.view.invalidate();
        true
    }
}

fn is_working(row: &Entry) -> bool {
    matches!(row.status(), Status::Running | Status::Connecting)
}

#[cfg(test)]
mod tests;
