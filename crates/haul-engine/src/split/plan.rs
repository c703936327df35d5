//! Which connection of a split download fetches which byte range: ranges nobody fetches are
//! handed out first, then the second half of the largest one left (dynamic splitting); the
//! range of a connection found too slow is taken over whole, and that connection retired.
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
    /// Connections whose range was taken over for their slowness: they get no more.
    retired: Vec<usize>,
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
            retired: Vec::new(),
        }
    }

    /// A range for connection `conn`: one nobody fetches, else the second half of the largest
    /// one left (its fetcher stops where the half begins).
    pub(super) fn claim(&mut self, conn: usize) -> Option<(usize, u64, u64)> {
        if self.retired(conn) {
            return None;
        }
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

    /// Ranges being fetched: (task, owner, bytes left).
    pub(super) fn owned(&self) -> Vec<(usize, usize, u64)> {
        self.tasks
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some((i, t.owner?, t.end.saturating_sub(t.next))))
            .filter(|&(_, _, left)| left > 0)
            .collect()
    }

    /// Connection `conn` takes over what is left of task `task`; its owner, too slow, gets
    /// no more work (it stops at its next piece). `None` when there is nothing left of it.
    pub(super) fn take_over(&mut self, task: usize, conn: usize) -> Option<(usize, u64, u64)> {
        if self.retired(conn) {
            return None;
        }
        let t = self.tasks.get_mut(task)?;
        if t.next >= t.end {
            return None;
        }
        if let Some(slow) = t.owner.replace(conn)
            && slow != conn
        {
            self.retired.push(slow);
        }
        Some((task, t.next, t.end))
    }

    pub(super) fn retired(&self, conn: usize) -> bool {
        self.retired.contains(&conn)
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
        // A slow owner's range taken over whole: the owner gets nothing more.
        assert_eq!(plan.owned(), vec![(1, 0, 7 * mib / 2)]);
        assert_eq!(plan.take_over(1, 2), Some((1, mib + 7 * mib / 2, 8 * mib)));
        assert_eq!(plan.take(1, 0, 1), None);
        assert!(plan.retired(0) && plan.claim(0).is_none());
        // Too little left to split: no range for a third.
        let mut small = Plan::new(vec![(0, MIN_PIECE)]);
        assert!(small.claim(0).is_some());
        assert_eq!(small.claim(1), None);
    }
}
