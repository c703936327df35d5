//! Which connection of a split download fetches which byte range: ranges nobody fetches are
//! handed out first, then the second half of the largest one left (dynamic splitting).
//!
//! Owns: the ranges and their owners. Must not touch: the network, the disk, time.

use super::MIN_PIECE;

/// A range being (or to be) fetched.
#[derive(Debug)]
pub(super) struct Task {
    pub(super) next: u64,
    pub(super) end: u64,
    pub(super) owner: Option<usize>,
}

/// Which connection fetches which range.
#[derive(Debug, Default)]
pub(super) struct Plan {
    pub(super) tasks: Vec<Task>,
}

impl Plan {
    pub(super) fn new(missing: Vec<(u64, u64)>) -> Plan {
        Plan {
            tasks: missing
                .into_iter()
                .map(|(next, end)| Task {
                    next,
                    end,
                    owner: None,
                })
                .collect(),
        }
    }

    /// A range for connection `conn`: one nobody fetches, else the second half of the largest
    /// one left (its fetcher stops where the half begins).
    pub(super) fn claim(&mut self, conn: usize) -> Option<(usize, u64, u64)> {
        if let Some(i) = self
            .tasks
            .iter()
            .position(|t| t.owner.is_none() && t.next < t.end)
        {
            self.tasks[i].owner = Some(conn);
            return Some((i, self.tasks[i].next, self.tasks[i].end));
        }
        let (i, left) = self
            .tasks
            .iter()
            .enumerate()
            .map(|(i, t)| (i, t.end.saturating_sub(t.next)))
            .max_by_key(|&(_, left)| left)?;
        if left < 2 * MIN_PIECE {
            return None;
        }
        let victim = &mut self.tasks[i];
        let mid = victim.next + left / 2;
        let end = victim.end;
        victim.end = mid;
        self.tasks.push(Task {
            next: mid,
            end,
            owner: Some(conn),
        });
        Some((self.tasks.len() - 1, mid, end))
    }

    /// Up to `want` bytes of task `task` for its owner `conn`: (offset, bytes). `None` when
    /// the task is finished, shortened to where it is, or no longer this connection's.
    pub(super) fn take(&mut self, task: usize, conn: usize, want: u64) -> Option<(u64, u64)> {
        let t = self.tasks.get_mut(task)?;
        if t.owner != Some(conn) || t.next >= t.end {
            return None;
        }
        let n = want.min(t.end - t.next);
        let at = t.next;
        t.next += n;
        Some((at, n))
    }

    /// Where task `task` stands for its owner `conn`: (next byte, end); `None` when it is done
    /// or no longer this connection's.
    pub(super) fn position(&self, task: usize, conn: usize) -> Option<(u64, u64)> {
        let t = self.tasks.get(task)?;
        (t.owner == Some(conn) && t.next < t.end).then_some((t.next, t.end))
    }

    /// Connection `conn` ended: what it did not fetch is free for another.
    pub(super) fn release(&mut self, conn: usize) {
        for t in &mut self.tasks {
            if t.owner == Some(conn) {
                t.owner = None;
            }
        }
    }

    pub(super) fn left(&self) -> u64 {
        self.tasks
            .iter()
            .map(|t| t.end.saturating_sub(t.next))
            .sum()
    }

    /// Whether another connection would find work.
    pub(super) fn has_work_for_another(&self) -> bool {
        self.tasks.iter().any(|t| {
            (t.owner.is_none() && t.next < t.end) || t.end.saturating_sub(t.next) >= 2 * MIN_PIECE
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finished_connection_takes_half_of_the_largest_range_left() {
        let mib = 1024 * 1024;
        let mut plan = Plan::new(vec![(0, 8 * mib)]);
        assert_eq!(plan.claim(0), Some((0, 0, 8 * mib)));
        assert_eq!(plan.take(0, 0, mib), Some((0, mib)));
        // A second connection: half of what is left of the first range.
        assert_eq!(plan.claim(1), Some((1, mib + 7 * mib / 2, 8 * mib)));
        assert_eq!(
            plan.tasks[0].end,
            mib + 7 * mib / 2,
            "the first stops there"
        );
        // The first reaches its new end: nothing more of task 0 for it.
        assert_eq!(plan.take(0, 0, 8 * mib), Some((mib, 7 * mib / 2)));
        assert_eq!(plan.take(0, 0, 1), None);
        // Connection 1 dies: its range is free for whoever asks next.
        plan.release(1);
        assert_eq!(plan.claim(0), Some((1, mib + 7 * mib / 2, 8 * mib)));
        // Too little left to split: no range for a third.
        let mut small = Plan::new(vec![(0, MIN_PIECE)]);
        assert!(small.claim(0).is_some());
        assert_eq!(small.claim(1), None);
    }
}
