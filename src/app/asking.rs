//! The questions asked before a person's bytes are lost, and what follows the answer:
//! cancelling or removing downloads with partial files (the bytes are deleted), and pausing
//! downloads whose server cannot resume them (the bytes will be downloaded again).
//! Must not touch: drawing (the questions are `panels::dialogs`'), the disk.

use super::HaulApp;
use crate::protocol::{Command, JobId, Status};

/// What a question before losing bytes is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Deleting {
    Cancel(Vec<JobId>),
    Remove(Vec<JobId>),
    /// Pausing rows whose server cannot resume them (all of the queue with `all`): their
    /// bytes will be downloaded again.
    Pause {
        ids: Vec<JobId>,
        all: bool,
    },
}

/// A question waiting for its answer: what it would delete.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub what: Deleting,
    /// Rows it acts on.
    pub rows: usize,
    /// The one row's name, when it is one.
    pub name: Option<String>,
    /// Partial downloads that would be deleted, and their bytes.
    pub parts: usize,
    pub bytes: u64,
}

impl HaulApp {
    /// Pauses at once when every row can go on from its bytes; otherwise asks first, saying
    /// how much would be downloaded again (issue 28, item 9: as IDM and FDM warn).
    pub(super) fn ask_or_pause(&mut self, ids: Vec<JobId>, all: bool) {
        let restarting: Vec<_> = ids
            .iter()
            .filter_map(|id| self.model.row(*id))
            .filter(|r| r.restarts_if_stopped())
            .collect();
        if restarting.is_empty() {
            self.pause(ids, all);
            return;
        }
        self.dialogs.confirm = Some(Confirm {
            rows: ids.len(),
            name: (ids.len() == 1).then(|| restarting[0].name.clone()),
            parts: restarting.len(),
            bytes: restarting.iter().map(|r| r.state.bytes()).sum(),
            what: Deleting::Pause { ids, all },
        });
    }

    fn pause(&mut self, ids: Vec<JobId>, all: bool) {
        if all {
            self.engine.send(Command::PauseAll);
            return;
        }
        for id in ids {
            if self.model.row(id).is_some_and(|r| r.status().is_active()) {
                self.engine.pause(id);
            }
        }
    }

    /// Cancels or removes at once when no bytes would be lost; otherwise asks first, naming
    /// what would be deleted.
    pub(super) fn ask_or_delete(&mut self, what: Deleting) {
        let ids = match &what {
            Deleting::Cancel(ids) | Deleting::Remove(ids) | Deleting::Pause { ids, .. } => ids,
        };
        let rows: Vec<_> = ids.iter().filter_map(|id| self.model.row(*id)).collect();
        let cancelling = matches!(what, Deleting::Cancel(_));
        // (A seeding torrent's files are done and stay: it loses nothing.)
        let doomed = rows.iter().filter(|r| {
            let cancels = r.status().is_active() || r.status() == Status::Paused;
            r.state.kept_bytes() > 0 && (!cancelling || cancels) && !r.is_seeding()
        });
        let (parts, bytes) = doomed.fold((0, 0), |(n, b), r| (n + 1, b + r.state.kept_bytes()));
        if rows.is_empty() {
            return;
        }
        if parts == 0 {
            self.delete(what);
            return;
        }
        self.dialogs.confirm = Some(Confirm {
            rows: rows.len(),
            name: (rows.len() == 1).then(|| rows[0].name.clone()),
            parts,
            bytes,
            what,
        });
    }

    /// Cancels or removes rows: active ones are cancelled (their `.part` files go with them),
    /// and removing deletes the bytes kept for paused, failed or timed-out downloads.
    pub(super) fn delete(&mut self, what: Deleting) {
        match what {
            Deleting::Pause { ids, all } => self.pause(ids, all),
            Deleting::Cancel(ids) => {
                for id in ids {
                    let Some(row) = self.model.row(id) else {
                        continue;
                    };
                    if row.status().is_active() {
                        self.engine.cancel(id);
                    } else if let (Status::Paused, Some(source)) = (row.status(), &row.source) {
                        // Nothing runs: its kept bytes are discarded here.
                        self.engine.send(Command::Discard {
                            source: source.clone(),
                            dest: Some(row.dest.clone()),
                            torrent: row.swarm.and_then(|s| s.info_hash),
                        });
                        self.model.cancel_paused(id);
                        self.save(id);
                    }
                }
            }
            Deleting::Remove(ids) => {
                let kept: Vec<_> = ids
                    .iter()
                    .filter_map(|id| self.model.row(*id))
                    .filter(|row| {
                        matches!(
                            row.status(),
                            Status::Paused | Status::Failed | Status::TimedOut
                        )
                    })
                    .filter_map(|row| {
                        let torrent = row.swarm.and_then(|s| s.info_hash);
                        row.source.clone().map(|s| (s, row.dest.clone(), torrent))
                    })
                    .collect();
                for (source, dest, torrent) in kept {
                    self.engine.send(Command::Discard {
                        source,
                        dest: Some(dest),
                        torrent,
                    });
                }
                let (active, keys) = self.model.remove(&ids);
                for id in active {
                    self.engine.cancel(id);
                }
                self.forget_saved(keys);
            }
        }
    }
}
