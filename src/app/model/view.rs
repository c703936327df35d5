//! What the list shows and what is selected.
//!
//! Owns: the filter by status, the search (by name or source, any case), the sort (by a
//! column, either way; by default the order added), the indices of the rows in view (rebuilt
//! only when one of those or the rows change), and the selection: a click, Ctrl/Cmd+click to
//! add or take away, Shift+click for a range from the last click, select all, clear.
//! Must not touch: egui, the engine, I/O.

use super::{Entry, Model};
use crate::protocol::{JobId, Status};

/// A column the list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum SortKey {
    /// The order the rows were added in.
    #[default]
    Added,
    Name,
    Status,
    /// The whole size (or the bytes so far, when the size is unknown).
    Size,
    /// The host (or folder) a row comes from.
    Source,
}

/// How a click was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Click {
    /// Ctrl (Cmd on macOS) held: add the row to the selection, or take it away.
    pub toggle: bool,
    /// Shift held: select every row in view from the last click to this one.
    pub range: bool,
}

/// The view's settings and its cached indices.
#[derive(Debug, Default)]
pub struct View {
    filter: Option<Status>,
    /// Lower-cased.
    search: String,
    sort: SortKey,
    descending: bool,
    rows: Vec<usize>,
    dirty: bool,
    /// The row last clicked (an index into the rows), where a Shift+click range starts.
    anchor: Option<usize>,
}

impl View {
    /// Rows were added or removed.
    pub(super) fn invalidate(&mut self) {
        self.dirty = true;
        self.anchor = None;
    }

    /// A row's status changed: it may have left the filter, or moved in a status sort.
    pub(super) fn status_changed(&mut self) {
        if self.filter.is_some() || self.sort == SortKey::Status {
            self.dirty = true;
        }
    }

    /// A row's name changed: it may match the search now, or move in a name sort.
    pub(super) fn name_changed(&mut self) {
        if !self.search.is_empty() || self.sort == SortKey::Name {
            self.dirty = true;
        }
    }
}

fn matches(row: &Entry, search: &str) -> bool {
    search.is_empty()
        || row.name.to_lowercase().contains(search)
        || row.uri.to_lowercase().contains(search)
}

fn size_of(row: &Entry) -> u64 {
    row.state.total().unwrap_or_else(|| row.state.bytes())
}

impl Model {
    pub fn filter(&self) -> Option<Status> {
        self.view.filter
    }

    pub fn set_filter(&mut self, filter: Option<Status>) {
        if self.view.filter != filter {
            self.view.filter = filter;
            self.view.dirty = true;
        }
    }

    pub fn search(&self) -> &str {
        &self.view.search
    }

    /// Shows only rows whose name or source contains `text` (any case).
    pub fn set_search(&mut self, text: &str) {
        let text = text.trim().to_lowercase();
        if self.view.search != text {
            self.view.search = text;
            self.view.dirty = true;
        }
    }

    /// The sort column and whether it is descending.
    pub fn sort(&self) -> (SortKey, bool) {
        (self.view.sort, self.view.descending)
    }

    /// Sorts by `key`; the same key again reverses the order, and a third time goes back to
    /// the list's own order (where rows can be moved).
    pub fn set_sort(&mut self, key: SortKey) {
        if self.view.sort == key && self.view.descending && key != SortKey::Added {
            self.view.sort = SortKey::Added;
            self.view.descending = false;
        } else if self.view.sort == key {
            self.view.descending = !self.view.descending;
        } else {
            self.view.sort = key;
            self.view.descending = false;
        }
        self.view.dirty = true;
    }

    /// Indices of the rows in view, in the order shown.
    pub fn view(&mut self) -> &[usize] {
        if self.view.dirty {
            let (filter, search) = (self.view.filter, self.view.search.as_str());
            let rows = self.session.entries();
            let mut shown: Vec<usize> = rows
                .iter()
                .enumerate()
                .filter(|(_, row)| filter.is_none_or(|f| row.status() == f))
                .filter(|(_, row)| matches(row, search))
                .map(|(i, _)| i)
                .collect();
            match self.view.sort {
                SortKey::Added => {}
                SortKey::Name => shown.sort_by_cached_key(|&i| rows[i].name.to_lowercase()),
                SortKey::Status => shown.sort_by_key(|&i| rows[i].status()),
                SortKey::Size => shown.sort_by_key(|&i| size_of(&rows[i])),
                SortKey::Source => shown.sort_by_cached_key(|&i| rows[i].origin_label()),
            }
            if self.view.descending {
                shown.reverse();
            }
            self.view.rows = shown;
            self.view.dirty = false;
        }
        &self.view.rows
    }

    /// Where row `index` stands in the view, if it is shown.
    pub fn position_in_view(&mut self, index: usize) -> Option<usize> {
        self.view().iter().position(|&i| i == index)
    }

    /// A click on row `index`: select only it, toggle it, or select a range.
    pub fn click(&mut self, index: usize, how: Click) {
        if how.range
            && let Some(anchor) = self.view.anchor
        {
            let view = self.view().to_vec();
            let (a, b) = (
                view.iter().position(|&i| i == anchor),
                view.iter().position(|&i| i == index),
            );
            if let (Some(a), Some(b)) = (a, b) {
                if !how.toggle {
                    self.clear_selection();
                }
                let rows = self.session.entries();
                self.selected
                    .extend(view[a.min(b)..=a.max(b)].iter().map(|&i| rows[i].gid));
                return;
            }
        }
        let Some(gid) = self.row_at(index).map(|r| r.gid) else {
            return;
        };
        if how.toggle {
            if !self.selected.remove(&gid) {
                self.selected.insert(gid);
            }
        } else {
            self.clear_selection();
            self.selected.insert(gid);
        }
        self.view.anchor = Some(index);
    }

    /// A right-click on row `index`: a row outside the selection becomes the selection;
    /// one inside it keeps it (the menu then acts on all of them).
    pub fn context_click(&mut self, index: usize) {
        if !self.row_at(index).is_some_and(|r| self.is_selected(r)) {
            self.click(index, Click::default());
        }
    }

    /// Whether `row` is selected.
    pub fn is_selected(&self, row: &Entry) -> bool {
        self.selected.contains(&row.gid)
    }

    /// Selects every row in the current view.
    pub fn select_all(&mut self) {
        let view = self.view().to_vec();
        let rows = self.session.entries();
        self.selected.extend(view.iter().map(|&i| rows[i].gid));
    }

    pub fn clear_selection(&mut self) {
        self.selected.clear();
    }

    pub fn has_selection(&self) -> bool {
        !self.selected.is_empty()
    }

    /// The selected rows' ids, in list order.
    pub fn selected(&self) -> Vec<JobId> {
        self.selected_rows().map(|r| r.id).collect()
    }

    /// The selected rows, in list order.
    pub fn selected_rows(&self) -> impl Iterator<Item = &Entry> {
        self.rows()
            .iter()
            .filter(|r| self.selected.contains(&r.gid))
    }

    /// The one selected row, for the details view.
    pub fn single_selected(&self) -> Option<&Entry> {
        if self.selected.len() != 1 {
            return None;
        }
        self.selected
            .iter()
            .next()
            .and_then(|&gid| self.session.entry(gid))
    }
}
