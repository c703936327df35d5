//! Rows run again: a choice made in a row's details that starts it again with changed
//! options (a stream's variant: its `quality`; a torrent's files: its `select-file`), and
//! resuming, retrying or re-running rows under new job ids.
//!
//! Owns: deciding whether a changed choice pauses a running row and goes on at once, starts a
//! done torrent again (more files ticked), or waits; submitting the rows again. Must not touch:
//! drawing, the engine's own work (it is sent commands).

use std::time::Instant;

use super::HaulApp;
use crate::protocol::{Command, ItemOptions, JobId, Status};

impl HaulApp {
    /// A choice made in a row's details (a stream's variant: its `quality` option; a torrent's
    /// files: its `select-file`): the row takes the changed options and starts again with them
    /// (a running or queued one — a torrent seeding too — is paused first and goes on at once;
    /// a done torrent with a file ticked that it does not have starts at once, its files taken
    /// where they are; a paused or failed one waits for Resume or Retry).
    pub(super) fn rerun_with(&mut self, id: JobId, change: impl FnOnce(&mut ItemOptions)) {
        let Some(row) = self.model.row(id) else {
            return;
        };
        let mut options = (*row.options).clone();
        change(&mut options);
        let more = more_files(
            row.options.torrent.select.as_deref(),
            options.torrent.select.as_deref(),
        );
        let Some(edit) = row.edited(options) else {
            return;
        };
        let status = row.status();
        let seeding = row.is_seeding();
        self.model.edit(id, edit);
        self.save(id);
        if seeding && !more {
            // Fewer files of a seeding torrent: it goes on seeding; the choice is its next
            // run's.
        } else if matches!(
            status,
            Status::Queued | Status::Connecting | Status::Running
        ) {
            self.resume_after_pause.insert(id);
            self.engine.send(Command::Pause(id));
        } else if status == Status::Done && more {
            self.rerun_rows(&[id]);
        }
    }

    /// Resumes paused rows and retries failed, timed-out or cancelled ones, each in its own
    /// folder and from the bytes it kept.
    pub(super) fn resume_rows(&mut self, ids: &[JobId]) {
        self.run_rows_again(ids, false);
    }

    /// As [`resume_rows`](Self::resume_rows), done rows too: rows whose new options ask for
    /// more than they have (a torrent with more files ticked).
    pub(super) fn rerun_rows(&mut self, ids: &[JobId]) {
        self.run_rows_again(ids, true);
    }

    fn run_rows_again(&mut self, ids: &[JobId], done: bool) {
        let now = Instant::now();
        let mut resumed = false;
        for &id in ids {
            if let Some(row) = self.model.row(id) {
                self.desk.resumed_by_hand(row.gid);
            }
            let new_id = self.engine.next_id();
            let submit = if done {
                self.model.rerun(id, new_id, now)
            } else {
                self.model.retry(id, new_id, now)
            };
            if let Some(submit) = submit {
                self.save(new_id);
                self.engine.send(submit);
                resumed = true;
            }
        }
        if resumed {
            self.send_queue_order();
        }
    }
}
/// Whether a torrent's `select-file` asks for a file the old one did not (`None`: all).
fn more_files(old: Option<&[usize]>, new: Option<&[usize]>) -> bool {
    match (old, new) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(old), Some(new)) => new.iter().any(|i| !old.contains(i)),
    }
}

#[cfg(test)]
mod tests {
    /// Apply starts a done torrent again when the ticks ask for a file it was not choosing —
    /// also one whose bytes were already verified (a small file inside a piece it shared): by
    /// its verified bytes it seemed to need nothing, and Apply did nothing.
    #[test]
    fn more_files_are_those_the_old_choice_left_out() {
        use super::more_files;
        assert!(more_files(Some(&[4]), Some(&[1, 4])));
        assert!(more_files(Some(&[1, 3]), None), "all of them");
        assert!(!more_files(Some(&[1, 3]), Some(&[1])), "fewer");
        assert!(!more_files(None, Some(&[1])), "from all, fewer");
        assert!(!more_files(Some(&[1, 3]), Some(&[3, 1])));
    }
}
