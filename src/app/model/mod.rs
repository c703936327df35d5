//! The window's list of items and the batch they form, as plain data.
//!
//! Owns: the rows in list order (the order added, unless moved), applying engine [`Event`]s to them, per-status counts,
//! finding a source already in the list, and the batch summary figures. Everything here is
//! O(1) per event and O(rows) only when rows are added or removed.
//! Must not touch: egui, the engine, I/O. Time comes in as an argument so tests control it.
//!
//! # Layout
//! - this file: [`Model`] (the list) and [`Batch`].
//! - [`row`]: one [`Row`], the state it is in ([`RowState`]: each state holds only what is
//!   valid in it) and its speed.
//! - [`view`]: what the list shows (filter, search, sort) and the selection.
//! - [`order`]: moving rows, and the order the engine starts queued ones in.

pub mod order;
pub mod row;
pub mod view;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use order::Move;
pub use row::{Row, RowState, Speed};
use row::{display_name, since_of};
pub use view::{Click, SortKey, View};

use crate::protocol::{Checksum, Event, FetchError, JobId, Outcome, Source, Status};

/// Wall time against the sum of item times, since the list last went idle.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    started: Option<Instant>,
    ended: Option<Instant>,
    /// The items' own times added up (finished runs).
    pub sum_items: Duration,
    /// Bytes of finished runs.
    pub bytes: u64,
    /// Items of this batch that ended done (or were already there), and that failed or timed
    /// out: what the "all done" notification speaks of, not the whole list.
    pub done: usize,
    pub failed: usize,
}

impl Batch {
    /// Wall time of the batch so far (or in the end).
    pub fn wall(&self, now: Instant) -> Option<Duration> {
        let started = self.started?;
        Some(self.ended.unwrap_or(now).saturating_duration_since(started))
    }

    pub fn is_running(&self) -> bool {
        self.started.is_some() && self.ended.is_none()
    }
}

/// A row about to be added.
#[derive(Debug, Clone)]
pub struct NewRow {
    pub text: String,
    /// The source, or why the text is not one (and where the text came from).
    pub source: Result<Source, (FetchError, String)>,
    pub sha256: Option<Checksum>,
    /// The folder its file goes to.
    pub dest: PathBuf,
    /// The text had no scheme and was read as a web address.
    pub guessed: bool,
    pub options: std::sync::Arc<crate::protocol::ItemOptions>,
}

/// New options for a row (see [`Model::edit`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RowEdit {
    pub text: String,
    pub source: Source,
    pub options: crate::protocol::ItemOptions,
    pub dest: PathBuf,
    pub sha256: Option<Checksum>,
}

/// What to submit to run a row (again).
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub source: Source,
    pub sha256: Option<Checksum>,
    pub dest: PathBuf,
}

/// The list, its counts and its view.
#[derive(Debug, Default)]
pub struct Model {
    rows: Vec<Row>,
    index: HashMap<JobId, usize>,
    /// A source's identity (its URL or path) → its row, to flag a source added twice.
    by_source: HashMap<String, usize>,
    counts: HashMap<Status, usize>,
    view: View,
    batch: Batch,
    next_key: u64,
    /// Bytes received by every item this session (a counter that only grows), and its recent
    /// rate: the current total speed, true also when many small items come and go between
    /// two samples of any one row.
    received: u64,
    received_speed: Speed,
}

/// A source's identity in the list.
fn source_key(source: &Source) -> String {
    match source {
        Source::Url(url) => url.as_str().to_owned(),
        Source::File(path) => path.display().to_string(),
    }
}

impl Model {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn count(&self, status: Status) -> usize {
        self.counts.get(&status).copied().unwrap_or(0)
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

    pub fn batch(&self) -> &Batch {
        &self.batch
    }

    /// Summed item time over the batch: finished runs plus, for items still running, their
    /// time so far. Walks the rows only while some are running.
    pub fn batch_time(&self, now: Instant) -> Duration {
        let mut sum = self.batch.sum_items;
        if self.working() > 0 {
            for row in self.rows.iter().filter(|r| is_working(r)) {
                sum += row.state.elapsed(now).unwrap_or_default();
            }
        }
        sum
    }

    /// The download speed right now (bytes/s): bytes received by all items over the last few
    /// seconds; `None` until there is enough to tell, zero when nothing is working.
    pub fn current_speed(&self, now: Instant) -> Option<f64> {
        if self.working() == 0 {
            return Some(0.0);
        }
        self.received_speed.bytes_per_sec(now)
    }

    /// Adds bytes a running row received since its last report to the session's counter.
    fn count_received(&mut self, bytes: u64, now: Instant) {
        self.received += bytes;
        self.received_speed.update(self.received, now);
    }

    /// How far the active items are, by bytes, when every one of them has a known size.
    pub fn progress(&self) -> Option<f64> {
        if self.active() == 0 {
            return None;
        }
        let (mut done, mut total) = (0u64, 0u64);
        for row in self.rows.iter().filter(|r| r.status().is_active()) {
            done += row.state.bytes();
            total += row.state.total()?;
        }
        (total > 0).then(|| done as f64 / total as f64)
    }

    pub fn row(&self, id: JobId) -> Option<&Row> {
        self.index.get(&id).map(|&i| &self.rows[i])
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    pub fn row_at(&self, index: usize) -> Option<&Row> {
        self.rows.get(index)
    }

    /// The row that already has this source, if any (a URL added twice is flagged, not
    /// fetched again as `name (1)`).
    pub fn find_source(&self, source: &Source) -> Option<&Row> {
        self.by_source
            .get(&source_key(source))
            .and_then(|&i| self.rows.get(i))
    }

    /// Adds a row for an item about to be submitted (its source valid) or a rejected line.
    /// Returns its index.
    pub fn push(&mut self, id: JobId, new: NewRow, now: Instant) -> usize {
        let (source, state) = match new.source {
            Ok(source) => {
                if self.active() == 0 {
                    self.batch = Batch {
                        started: Some(now),
                        ..Batch::default()
                    };
                }
                (Some(source), RowState::Queued)
            }
            Err((error, origin)) => (
                None,
                RowState::Failed {
                    error,
                    origin: Some(origin),
                    bytes: 0,
                    elapsed: Duration::ZERO,
                },
            ),
        };
        let name = display_name(&new.text, source.as_ref());
        let key = self.next_key.max(1);
        self.insert(Row {
            id,
            key,
            name,
            text: new.text,
            source,
            sha256: new.sha256,
            dest: new.dest,
            guessed: new.guessed,
            elapsed_before: Duration::ZERO,
            parts: Vec::new(),
            options: new.options,
            state,
            selected: false,
            removed: false,
        })
    }

    /// Puts back a row from the saved queue (its key kept).
    pub fn restore(&mut self, row: Row) {
        self.insert(row);
    }

    fn insert(&mut self, row: Row) -> usize {
        let i = self.rows.len();
        self.next_key = self.next_key.max(row.key + 1);
        *self.counts.entry(row.status()).or_default() += 1;
        self.index.insert(row.id, i);
        if let Some(source) = &row.source {
            self.by_source.insert(source_key(source), i);
        }
        self.rows.push(row);
        self.view.invalidate();
        i
    }

    /// Applies one engine event. Events for rows that were removed are ignored.
    pub fn apply(&mut self, event: Event, now: Instant) {
        let Some(&i) = self.index.get(&event.id()) else {
            return;
        };
        let row = &mut self.rows[i];
        let (done, total) = (row.state.bytes(), row.state.total());
        let (attempt, of) = match &row.state {
            RowState::Connecting { attempt, of, .. } | RowState::Retrying { attempt, of, .. } => {
                (*attempt, *of)
            }
            RowState::Running { attempt, .. } => (*attempt, 0),
            _ => (0, 0),
        };
        if let Event::Parts { done, .. } = event {
            row.parts = done;
            return;
        }
        if matches!(event, Event::Finished { .. } | Event::Started { .. }) {
            row.parts.clear();
        }
        let new_state = match event {
            Event::Connecting { .. } => RowState::Connecting {
                since: since_of(&row.state, now),
                waiting: None,
                attempt,
                of,
                done,
                total,
            },
            Event::Waiting { reason, .. } => RowState::Connecting {
                since: since_of(&row.state, now),
                waiting: Some(reason),
                attempt,
                of,
                done,
                total,
            },
            Event::Started { name, total, .. } => {
                if name != row.name {
                    row.name = name;
                    self.view.name_changed();
                }
                RowState::Running {
                    since: since_of(&row.state, now),
                    done,
                    total,
                    speed: Speed::default(),
                    attempt,
                }
            }
            Event::Parts { .. } => return,
            Event::Progress { done, total, .. } => {
                let mut received = 0;
                if let RowState::Running {
                    done: d,
                    total: t,
                    speed,
                    ..
                } = &mut row.state
                {
                    received = done.saturating_sub(*d);
                    *d = done;
                    *t = total;
                    speed.update(done, now);
                }
                self.count_received(received, now);
                return;
            }
            Event::Retrying {
                attempt,
                of,
                delay,
                reason,
                cause,
                ..
            } => RowState::Retrying {
                since: since_of(&row.state, now),
                done,
                total,
                attempt,
                of,
                at: now + delay,
                cause,
                reason,
            },
            Event::Finished {
                elapsed,
                bytes,
                outcome,
                ..
            } => {
                self.batch.sum_items += elapsed;
                self.batch.bytes += bytes;
                match outcome.status() {
                    Status::Done | Status::Skipped => self.batch.done += 1,
                    Status::Failed | Status::TimedOut => self.batch.failed += 1,
                    _ => {}
                }
                // What arrived after the last progress report (all of a small file).
                if matches!(row.state, RowState::Running { .. }) {
                    self.count_received(bytes.saturating_sub(done), now);
                }
                let row = &mut self.rows[i];
                match outcome {
                    Outcome::Done { files } => {
                        // The name it landed under (another item or program may have taken
                        // the one first reported).
                        if let Some(name) = files.first().and_then(|f| f.path.file_name()) {
                            row.name = name.to_string_lossy().into_owned();
                        }
                        RowState::Done {
                            files,
                            bytes,
                            elapsed,
                        }
                    }
                    Outcome::Failed(error) => RowState::Failed {
                        error,
                        origin: None,
                        bytes,
                        elapsed,
                    },
                    Outcome::TimedOut(kind) => RowState::TimedOut {
                        kind,
                        bytes,
                        elapsed,
                    },
                    Outcome::Cancelled => RowState::Cancelled { bytes, elapsed },
                    Outcome::Skipped { path } => {
                        if let Some(name) = path.file_name() {
                            row.name = name.to_string_lossy().into_owned();
                        }
                        RowState::Skipped { path }
                    }
                    Outcome::Paused => RowState::Paused {
                        bytes,
                        total,
                        elapsed,
                    },
                }
            }
        };
        self.set_state(i, new_state);
        if self.active() == 0 && self.batch.is_running() {
            self.batch.ended = Some(now);
        }
    }

    fn set_state(&mut self, i: usize, state: RowState) {
        let row = &mut self.rows[i];
        let (old, new) = (row.status(), state.status());
        row.state = state;
        if old != new {
            if let Some(n) = self.counts.get_mut(&old) {
                *n = n.saturating_sub(1);
            }
            *self.counts.entry(new).or_default() += 1;
            self.view.status_changed();
        }
    }

    /// Puts a retryable (or paused) row back in the queue under a new id; returns what to
    /// submit. Its elapsed time so far is kept.
    pub fn retry(&mut self, id: JobId, new_id: JobId, now: Instant) -> Option<Submission> {
        let i = *self.index.get(&id)?;
        let row = &self.rows[i];
        if !row.status().is_retryable() {
            return None;
        }
        let submission = Submission {
            source: row.source.clone()?,
            sha256: row.sha256,
            dest: row.dest.clone(),
        };
        if self.active() == 0 {
            self.batch = Batch {
                started: Some(now),
                ..Batch::default()
            };
        }
        let row = &mut self.rows[i];
        row.elapsed_before += row.state.elapsed(now).unwrap_or_default();
        row.removed = false;
        row.id = new_id;
        self.index.remove(&id);
        self.index.insert(new_id, i);
        self.set_state(i, RowState::Queued);
        Some(submission)
    }

    /// Marks a paused row cancelled (its kept bytes are being discarded); true if it was
    /// paused.
    pub fn cancel_paused(&mut self, id: JobId) -> bool {
        let Some(&i) = self.index.get(&id) else {
            return false;
        };
        let RowState::Paused { bytes, elapsed, .. } = self.rows[i].state else {
            return false;
        };
        self.set_state(i, RowState::Cancelled { bytes, elapsed });
        true
    }

    /// Marks row `id` removed over the RPC (see [`Row::removed`]); false if there is no such
    /// row.
    pub fn mark_removed(&mut self, id: JobId) -> bool {
        let Some(&i) = self.index.get(&id) else {
            return false;
        };
        self.rows[i].removed = true;
        true
    }

    /// Sets row `id`'s own speed limit (bytes/s): its `max-download-limit` option, so it is
    /// saved and sent with each run. False if there is no such row.
    pub fn set_rate_limit(&mut self, id: JobId, rate: Option<u64>) -> bool {
        let Some(&i) = self.index.get(&id) else {
            return false;
        };
        std::sync::Arc::make_mut(&mut self.rows[i].options).max_rate = rate;
        true
    }

    /// Gives row `id` new options of its own (the RPC's `changeOption`); false if there is no
    /// such row.
    pub fn set_options(&mut self, id: JobId, options: crate::protocol::ItemOptions) -> bool {
        let Some(&i) = self.index.get(&id) else {
            return false;
        };
        if let Some(out) = &options.out {
            self.rows[i].name.clone_from(out);
        }
        self.rows[i].options = std::sync::Arc::new(options);
        true
    }

    /// Removes rows; returns the ids among them that were still active (to cancel) and the
    /// keys of every removed row.
    pub fn remove(&mut self, ids: &[JobId]) -> (Vec<JobId>, Vec<u64>) {
        let doomed: std::collections::HashSet<JobId> = ids.iter().copied().collect();
        self.remove_where(|row| doomed.contains(&row.id))
    }

    /// Removes the rows of finished downloads (done only: failed rows wait to be retried or
    /// removed one by one; their files stay on disk); returns their keys.
    pub fn clear_done(&mut self) -> Vec<u64> {
        self.remove_where(|row| row.status() == Status::Done).1
    }

    fn remove_where(&mut self, doomed: impl Fn(&Row) -> bool) -> (Vec<JobId>, Vec<u64>) {
        let mut active = Vec::new();
        let mut keys = Vec::new();
        let before = self.rows.len();
        self.rows.retain(|row| {
            let remove = doomed(row);
            if remove {
                keys.push(row.key);
                if row.status().is_active() {
                    active.push(row.id);
                }
            }
            !remove
        });
        if self.rows.len() != before {
            self.reindex();
            if self.active() == 0 {
                // Nothing left running: the batch's figures went with its rows (the summary
                // showed times for items Clear done had removed).
                self.batch = Batch::default();
            }
        }
        (active, keys)
    }

    /// Gives a row that is not running new options, and maybe a new address (an expired link
    /// given anew) and folder; its name follows a new `out`. Returns false for an unknown id.
    pub fn edit(&mut self, id: JobId, edit: RowEdit) -> bool {
        let Some(&i) = self.index.get(&id) else {
            return false;
        };
        let row = &mut self.rows[i];
        if row.text != edit.text {
            row.name = display_name(&edit.text, Some(&edit.source));
        }
        if let Some(out) = &edit.options.out {
            row.name.clone_from(out);
        }
        row.text = edit.text;
        row.source = Some(edit.source);
        row.options = std::sync::Arc::new(edit.options);
        row.dest = edit.dest;
        row.sha256 = edit.sha256;
        self.reindex();
        true
    }

    fn reindex(&mut self) {
        self.index = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| (row.id, i))
            .collect();
        self.by_source = self
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, row)| row.source.as_ref().map(|s| (source_key(s), i)))
            .collect();
        self.counts.clear();
        for row in &self.rows {
            *self.counts.entry(row.status()).or_default() += 1;
        }
        self.view.invalidate();
    }
}

fn is_working(row: &Row) -> bool {
    matches!(row.status(), Status::Running | Status::Connecting)
}

#[cfg(test)]
mod tests;
