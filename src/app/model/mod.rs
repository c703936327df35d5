//! The window's list of items and the batch they form, as plain data.
//!
//! Owns: the rows in the order added, applying engine [`Event`]s to them, per-status counts,
//! the filtered view, selection, and the batch summary figures. Everything here is O(1) per
//! event and O(rows) only when rows are added, removed or the filter changes.
//! Must not touch: egui, the engine, I/O. Time comes in as an argument so tests control it.
//!
//! # Layout
//! - this file: [`Model`] (the list) and [`Batch`].
//! - [`row`]: one [`Row`], the state it is in ([`RowState`]: each state holds only what is
//!   valid in it) and its speed.

pub mod row;

use std::collections::HashMap;
use std::time::{Duration, Instant};

pub use row::{Row, RowState, Speed};
use row::{display_name, since_of};

use crate::protocol::{Checksum, Event, JobId, Outcome, Source, Status};

/// Wall time against the sum of item times, since the list last went idle.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Batch {
    started: Option<Instant>,
    ended: Option<Instant>,
    /// The items' own times added up (finished items).
    pub sum_items: Duration,
    /// Bytes of finished items.
    pub bytes: u64,
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

/// The list, its counts and its view.
#[derive(Debug, Default)]
pub struct Model {
    rows: Vec<Row>,
    index: HashMap<JobId, usize>,
    counts: HashMap<Status, usize>,
    filter: Option<Status>,
    /// Indices of the rows that pass the filter, in order; rebuilt when `dirty`.
    view: Vec<usize>,
    dirty: bool,
    batch: Batch,
    next_key: u64,
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

    pub fn batch(&self) -> &Batch {
        &self.batch
    }

    /// Bytes and summed item time over the batch: finished items plus, for items still
    /// running, what they have so far. Walks the rows only while some are running.
    pub fn batch_totals(&self, now: Instant) -> (u64, Duration) {
        let (mut bytes, mut sum) = (self.batch.bytes, self.batch.sum_items);
        if self.count(Status::Running) + self.count(Status::Connecting) > 0 {
            for row in &self.rows {
                if matches!(row.status(), Status::Running | Status::Connecting) {
                    bytes += row.state.bytes();
                    sum += row.state.elapsed(now).unwrap_or_default();
                }
            }
        }
        (bytes, sum)
    }

    pub fn row(&self, id: JobId) -> Option<&Row> {
        self.index.get(&id).map(|&i| &self.rows[i])
    }

    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Adds a row for an item about to be submitted (`source` valid) or a rejected line.
    pub fn push(&mut self, id: JobId, text: &str, source: Result<Source, String>, now: Instant) {
        self.push_checked(id, text, source, None, now);
    }

    /// Like [`Model::push`], with the SHA-256 the file must have.
    pub fn push_checked(
        &mut self,
        id: JobId,
        text: &str,
        source: Result<Source, String>,
        sha256: Option<Checksum>,
        now: Instant,
    ) {
        let (source, state) = match source {
            Ok(source) => {
                if self.active() == 0 {
                    self.batch = Batch {
                        started: Some(now),
                        ..Batch::default()
                    };
                }
                (Some(source), RowState::Queued)
            }
            Err(reason) => (
                None,
                RowState::Failed {
                    reason,
                    bytes: 0,
                    elapsed: Duration::ZERO,
                },
            ),
        };
        let name = display_name(text, source.as_ref());
        let key = self.next_key.max(1);
        self.insert(Row {
            id,
            key,
            name,
            text: text.to_owned(),
            source,
            sha256,
            state,
            selected: false,
        });
    }

    /// Puts back a row from the saved queue (its key kept).
    pub fn restore(&mut self, row: Row) {
        self.insert(row);
    }

    fn insert(&mut self, row: Row) {
        self.next_key = self.next_key.max(row.key + 1);
        *self.counts.entry(row.status()).or_default() += 1;
        self.index.insert(row.id, self.rows.len());
        self.rows.push(row);
        self.dirty = true;
    }

    /// Applies one engine event. Events for rows that were removed are ignored.
    pub fn apply(&mut self, event: Event, now: Instant) {
        let Some(&i) = self.index.get(&event.id()) else {
            return;
        };
        let row = &mut self.rows[i];
        let new_state = match event {
            Event::Connecting { .. } => RowState::Connecting {
                since: since_of(&row.state, now),
                waiting: None,
            },
            Event::Waiting { reason, .. } => RowState::Connecting {
                since: since_of(&row.state, now),
                waiting: Some(reason),
            },
            Event::Started { name, total, .. } => {
                row.name = name;
                let since = since_of(&row.state, now);
                RowState::Running {
                    since,
                    done: 0,
                    total,
                    speed: Speed::new(now),
                }
            }
            Event::Progress { done, total, .. } => {
                if let RowState::Running {
                    done: d,
                    total: t,
                    speed,
                    ..
                } = &mut row.state
                {
                    *d = done;
                    *t = total;
                    speed.update(done, now);
                }
                return;
            }
            Event::Retrying {
                attempt,
                of,
                delay,
                reason,
                ..
            } => RowState::Retrying {
                since: since_of(&row.state, now),
                done: row.state.bytes(),
                attempt,
                of,
                at: now + delay,
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
                match outcome {
                    Outcome::Done { path, sha256 } => {
                        // The name it landed under (another item or program may have taken
                        // the one first reported).
                        if let Some(name) = path.file_name() {
                            row.name = name.to_string_lossy().into_owned();
                        }
                        RowState::Done {
                            path,
                            sha256,
                            bytes,
                            elapsed,
                        }
                    }
                    Outcome::Failed(error) => RowState::Failed {
                        reason: crate::protocol::redact(&error.to_string()).into_owned(),
                        bytes,
                        elapsed,
                    },
                    Outcome::TimedOut(kind) => RowState::TimedOut {
                        kind,
                        bytes,
                        elapsed,
                    },
                    Outcome::Cancelled => RowState::Cancelled { bytes, elapsed },
                    Outcome::Paused => RowState::Paused { bytes, elapsed },
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
            if self.filter.is_some() {
                self.dirty = true;
            }
        }
    }

    /// Puts a retryable (or paused) row back in the queue under a new id; returns what to
    /// submit.
    pub fn retry(
        &mut self,
        id: JobId,
        new_id: JobId,
        now: Instant,
    ) -> Option<(Source, Option<Checksum>)> {
        let i = *self.index.get(&id)?;
        if !self.rows[i].status().is_retryable() {
            return None;
        }
        let source = self.rows[i].source.clone()?;
        let sha256 = self.rows[i].sha256;
        if self.active() == 0 {
            self.batch = Batch {
                started: Some(now),
                ..Batch::default()
            };
        }
        self.index.remove(&id);
        self.index.insert(new_id, i);
        self.rows[i].id = new_id;
        self.set_state(i, RowState::Queued);
        Some((source, sha256))
    }

    /// Removes rows; returns the ids among them that were still active (to cancel) and the
    /// keys of every removed row.
    pub fn remove(&mut self, ids: &[JobId], now: Instant) -> (Vec<JobId>, Vec<u64>) {
        let doomed: std::collections::HashSet<JobId> = ids.iter().copied().collect();
        self.remove_where(|row| doomed.contains(&row.id), now)
    }

    /// Removes every finished row (done, failed, timed out, cancelled — not paused); returns
    /// their keys.
    pub fn clear_finished(&mut self, now: Instant) -> Vec<u64> {
        self.remove_where(
            |row| !row.status().is_active() && row.status() != Status::Paused,
            now,
        )
        .1
    }

    fn remove_where(
        &mut self,
        doomed: impl Fn(&Row) -> bool,
        now: Instant,
    ) -> (Vec<JobId>, Vec<u64>) {
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
            if self.active() == 0 && self.batch.is_running() {
                self.batch.ended = Some(now);
            }
        }
        (active, keys)
    }

    fn reindex(&mut self) {
        self.index = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| (row.id, i))
            .collect();
        self.counts.clear();
        for row in &self.rows {
            *self.counts.entry(row.status()).or_default() += 1;
        }
        self.dirty = true;
    }

    pub fn filter(&self) -> Option<Status> {
        self.filter
    }

    pub fn set_filter(&mut self, filter: Option<Status>) {
        if self.filter != filter {
            self.filter = filter;
            self.dirty = true;
        }
    }

    /// Indices of the rows that pass the filter.
    pub fn view(&mut self) -> &[usize] {
        if self.dirty {
            let filter = self.filter;
            self.view = self
                .rows
                .iter()
                .enumerate()
                .filter(|(_, row)| filter.is_none_or(|f| row.status() == f))
                .map(|(i, _)| i)
                .collect();
            self.dirty = false;
        }
        &self.view
    }

    pub fn row_at(&self, index: usize) -> Option<&Row> {
        self.rows.get(index)
    }

    /// Click on a row: select only it, or toggle it with `add` (Ctrl / Cmd held).
    pub fn click(&mut self, index: usize, add: bool) {
        if !add {
            for row in &mut self.rows {
                row.selected = false;
            }
        }
        if let Some(row) = self.rows.get_mut(index) {
            row.selected = !add || !row.selected;
        }
    }

    /// Selects every row in the current view.
    pub fn select_all(&mut self) {
        let view = self.view().to_vec();
        for i in view {
            self.rows[i].selected = true;
        }
    }

    pub fn selected(&self) -> Vec<JobId> {
        self.rows
            .iter()
            .filter(|r| r.selected)
            .map(|r| r.id)
            .collect()
    }

    /// The one selected row, for the details view.
    pub fn single_selected(&self) -> Option<&Row> {
        let mut selected = self.rows.iter().filter(|r| r.selected);
        match (selected.next(), selected.next()) {
            (Some(row), None) => Some(row),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::FetchError;
    use std::path::Path;

    fn url(text: &str) -> Result<Source, String> {
        Source::parse(text, Path::new("/")).map_err(|e| e.to_string())
    }

    #[test]
    fn rows_follow_their_items_and_counts_follow_the_rows() {
        let t0 = Instant::now();
        let mut m = Model::default();
        m.push(
            JobId(1),
            "http://h/a%20b.txt",
            url("http://h/a%20b.txt"),
            t0,
        );
        m.push(JobId(2), "nonsense://", Err("bad".into()), t0);
        assert_eq!(m.row(JobId(1)).map(|r| r.name.as_str()), Some("a b.txt"));
        assert_eq!((m.count(Status::Queued), m.count(Status::Failed)), (1, 1));
        assert_eq!(m.active(), 1);

        m.apply(Event::Connecting { id: JobId(1) }, t0);
        let t1 = t0 + Duration::from_millis(100);
        m.apply(
            Event::Started {
                id: JobId(1),
                name: "a b.txt".into(),
                total: Some(1000),
            },
            t1,
        );
        let t2 = t1 + Duration::from_secs(1);
        m.apply(
            Event::Progress {
                id: JobId(1),
                done: 500,
                total: Some(1000),
            },
            t2,
        );
        let row = m.row(JobId(1)).expect("row");
        assert_eq!(row.status(), Status::Running);
        assert_eq!(row.state.bytes(), 500);
        assert_eq!(row.eta(t2), Some(Duration::from_secs(1)));
        assert_eq!(row.state.elapsed(t2), Some(Duration::from_millis(1100)));
        assert_eq!(m.batch_totals(t2), (500, Duration::from_millis(1100)));

        let t3 = t2 + Duration::from_secs(1);
        m.apply(
            Event::Finished {
                id: JobId(1),
                elapsed: Duration::from_secs(2),
                bytes: 1000,
                outcome: Outcome::Done {
                    path: "/d/a b.txt".into(),
                    sha256: Checksum([0; 32]),
                },
            },
            t3,
        );
        assert_eq!(m.count(Status::Done), 1);
        assert_eq!(m.active(), 0);
        assert_eq!(m.batch().wall(t3 + Duration::from_secs(9)), Some(t3 - t0));
        assert_eq!(m.batch().sum_items, Duration::from_secs(2));
    }

    #[test]
    fn filter_view_retry_and_remove() {
        let t0 = Instant::now();
        let mut m = Model::default();
        for i in 1..=4 {
            let text = format!("http://h/{i}");
            m.push(JobId(i), &text, url(&text), t0);
        }
        m.apply(
            Event::Finished {
                id: JobId(2),
                elapsed: Duration::ZERO,
                bytes: 0,
                outcome: Outcome::Failed(FetchError::Connect("refused".into())),
            },
            t0,
        );
        m.set_filter(Some(Status::Failed));
        assert_eq!(m.view(), &[1]);
        assert_eq!(
            m.row(JobId(2)).and_then(|r| r.state.error()).as_deref(),
            Some("could not connect: refused")
        );

        let (source, _) = m.retry(JobId(2), JobId(10), t0).expect("retryable");
        assert_eq!(source, url("http://h/2").expect("valid"));
        assert!(m.row(JobId(2)).is_none());
        assert_eq!(m.row(JobId(10)).map(Row::status), Some(Status::Queued));
        assert!(
            m.view().is_empty(),
            "the retried row left the failed filter"
        );
        assert!(
            m.retry(JobId(10), JobId(11), t0).is_none(),
            "queued: not retryable"
        );

        m.set_filter(None);
        m.click(0, false);
        m.click(3, true);
        assert_eq!(m.selected(), vec![JobId(1), JobId(4)]);
        let (active, keys) = m.remove(&m.selected(), t0);
        assert_eq!(active, vec![JobId(1), JobId(4)]);
        assert_eq!(keys, vec![1, 4]);
        assert_eq!(m.len(), 2);
        assert_eq!(m.view(), &[0, 1]);
        assert_eq!(m.row(JobId(3)).map(|r| r.text.as_str()), Some("http://h/3"));
        // Events for removed rows are ignored.
        m.apply(Event::Connecting { id: JobId(1) }, t0);
        assert_eq!(m.count(Status::Connecting), 0);

        m.select_all();
        assert_eq!(m.selected().len(), 2);
    }
}
