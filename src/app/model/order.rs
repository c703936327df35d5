//! The list's order, which is also the order the engine starts queued items in.
//!
//! Owns: moving rows (to the top, up, down, to the bottom, or before or after a row, as a drag
//! drops them) and the queued rows' ids in list order, for the engine's
//! [`Command::Reorder`](crate::protocol::Command::Reorder). Up and down step over the rows in
//! view, so a filter or a search never makes a move look like nothing happened.
//! Must not touch: egui, the engine, I/O.

use std::collections::HashSet;

use super::{Model, SortKey};
use crate::protocol::{JobId, Status};

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
        let moving: HashSet<JobId> = ids.iter().copied().collect();
        let view = self.view().to_vec();
        let shown_moving: Vec<usize> = view
            .iter()
            .enumerate()
            .filter(|&(_, &i)| moving.contains(&self.rows[i].id))
            .map(|(at, _)| at)
            .collect();
        // The row the moved ones land beside, and on which side.
        let target = match to {
            Move::Top | Move::Bottom => None,
            Move::Up => {
                let Some(&first) = shown_moving.first() else {
                    return false;
                };
                let Some(above) = first.checked_sub(1).and_then(|at| view.get(at)) else {
                    return false;
                };
                Some((self.rows[*above].id, false))
            }
            Move::Down => {
                let Some(&last) = shown_moving.last() else {
                    return false;
                };
                let Some(below) = view.get(last + 1) else {
                    return false;
                };
                Some((self.rows[*below].id, true))
            }
            Move::Before(id) => Some((id, false)),
            Move::After(id) => Some((id, true)),
        };
        if target.is_some_and(|(id, _)| moving.contains(&id)) {
            return false; // dropped onto itself
        }
        let before: Vec<JobId> = self.rows.iter().map(|r| r.id).collect();
        let (moved, mut rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.rows)
            .into_iter()
            .partition(|row| moving.contains(&row.id));
        let at = match (to, target) {
            (Move::Top, _) => 0,
            (_, Some((id, after))) => match rest.iter().position(|r| r.id == id) {
                Some(at) => at + usize::from(after),
                None => rest.len(),
            },
            _ => rest.len(),
        };
        let tail = rest.split_off(at);
        rest.extend(moved);
        rest.extend(tail);
        self.rows = rest;
        let changed = self.rows.iter().map(|r| r.id).ne(before);
        self.reindex();
        changed
    }

    /// Whether rows `ids` can go up (the first of them is not the list's first row) and down
    /// (the last is not its last). O(ids).
    pub fn move_room(&self, ids: &[JobId]) -> (bool, bool) {
        let at: Vec<usize> = ids
            .iter()
            .filter_map(|id| self.index.get(id).copied())
            .collect();
        let (Some(first), Some(last)) = (at.iter().min(), at.iter().max()) else {
            return (false, false);
        };
        // Gathered rows at the top or bottom cannot step further that way.
        let gathered = last - first + 1 == at.len();
        let up = !(gathered && *first == 0);
        let down = !(gathered && last + 1 == self.rows.len());
        (up, down)
    }

    /// The queued rows' ids in list order: the order the engine should start them in.
    pub fn queued_in_order(&self) -> Vec<JobId> {
        self.rows
            .iter()
            .filter(|r| r.status() == Status::Queued)
            .map(|r| r.id)
            .collect()
    }

    /// Every row's saved key in list order.
    pub fn keys_in_order(&self) -> Vec<u64> {
        self.rows.iter().map(|r| r.key).collect()
    }
}
