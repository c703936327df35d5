//! The list's order, which is also the order the engine starts queued items in.
//!
//! Owns: moving rows (to the top, up, down, to the bottom, or before or after a row, as a drag
//! drops them) and the queued rows' ids in list order, for the engine's
//! [`Command::Reorder`](crate::protocol::Command::Reorder). Up and down step over the rows in
//! view, so a filter or a search never makes a move look like nothing happened.
//! Must not touch: egui, the engine, I/O.

use std::collections::HashSet;

use super::{Model, SortKey};
use crate::protocol::JobId;
use crate::session::Place;

/// Where rows go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Top,
    /// Before the row shown above the first of them.
    Up,
    /// After the row shown below the last of them.
    Down,
    Bottom,
    /// Before this row (a drag dropped on its upper half).
    Before(JobId),
    /// After this row (a drag dropped on its lower half).
    After(JobId),
}

impl Model {
    /// Rows can be moved while the list shows the order added (not a sort by a column).
    pub fn can_reorder(&self) -> bool {
        self.sort() == (SortKey::Added, false)
    }

    /// Moves the rows `ids` (keeping their order among themselves, gathered together) to
    /// `to`. Returns false when nothing moved: no such rows, already there, or a step up or
    /// down while the list is sorted by a column (the rows shown above and below are not the
    /// list's). O(rows).
    pub fn move_rows(&mut self, ids: &[JobId], to: Move) -> bool {
        if matches!(to, Move::Up | Move::Down) && !self.can_reorder() {
            return false;
        }
        let moving: HashSet<u64> = ids
            .iter()
            .filter_map(|&id| self.session.gid_of(id))
            .collect();
        let view = self.view().to_vec();
        let rows = self.session.entries();
        let shown_moving: Vec<usize> = view
            .iter()
            .enumerate()
            .filter(|&(_, &i)| moving.contains(&rows[i].gid))
            .map(|(at, _)| at)
            .collect();
        let gid_of = |id: JobId| self.session.gid_of(id);
        // The row the moved ones land beside, and on which side.
        let place = match to {
            Move::Top => Place::Top,
            Move::Bottom => Place::Bottom,
            Move::Up => {
                let Some(&first) = shown_moving.first() else {
                    return false;
                };
                let Some(above) = first.checked_sub(1).and_then(|at| view.get(at)) else {
                    return false;
                };
                Place::Before(rows[*above].gid)
            }
            Move::Down => {
                let Some(&last) = shown_moving.last() else {
                    return false;
                };
                let Some(below) = view.get(last + 1) else {
                    return false;
                };
                Place::After(rows[*below].gid)
            }
            Move::Before(id) => match gid_of(id) {
                Some(gid) => Place::Before(gid),
                None => Place::Bottom,
            },
            Move::After(id) => match gid_of(id) {
                Some(gid) => Place::After(gid),
                None => Place::Bottom,
            },
        };
        let moved = self.session.move_entries(&moving, place);
        if moved {
            self.view.invalidate();
        }
        moved
    }

    /// Whether rows `ids` can go up (the first of them is not the list's first row) and down
    /// (the last is not its last). O(ids).
    pub fn move_room(&self, ids: &[JobId]) -> (bool, bool) {
        let at: Vec<usize> = ids
            .iter()
            .filter_map(|&id| self.session.gid_of(id))
            .filter_map(|gid| self.session.position(gid))
            .collect();
        let (Some(first), Some(last)) = (at.iter().min(), at.iter().max()) else {
            return (false, false);
        };
        // Gathered rows at the top or bottom cannot step further that way.
        let gathered = last - first + 1 == at.len();
        let up = !(gathered && *first == 0);
        let down = !(gathered && last + 1 == self.len());
        (up, down)
    }

    /// The queued rows' ids in list order: the order the engine should start them in.
    pub fn queued_in_order(&self) -> Vec<JobId> {
        self.session.queued_in_order()
    }

    /// Every row's gid (its saved key) in list order.
    pub fn keys_in_order(&self) -> Vec<u64> {
        self.rows().iter().map(|r| r.gid).collect()
    }
}
