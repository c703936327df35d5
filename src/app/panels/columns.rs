//! The list's columns: which fit a window of a given width (a narrow one drops the source,
//! then the elapsed time, the time left and the size, one at a time, so a row's buttons stay
//! in view), their starting widths, titles and sort keys.
//!
//! Owns: the column sets. Must not touch: the rows' contents (`list` draws the cells).

use egui_extras::Column;

use super::super::i18n::T;
use super::super::model::SortKey;

/// The list's columns, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Col {
    Status,
    Name,
    Progress,
    Size,
    Speed,
    Eta,
    Elapsed,
    Actions,
    Source,
}

impl Col {
    const ALL: [Col; 9] = [
        Col::Status,
        Col::Name,
        Col::Progress,
        Col::Size,
        Col::Speed,
        Col::Eta,
        Col::Elapsed,
        Col::Actions,
        Col::Source,
    ];
    /// Dropped one at a time, in this order, while the list is too narrow for them (with
    /// Settings open at 1366×768, four went at once; issue 28, item 24).
    const DROP_ORDER: [Col; 4] = [Col::Source, Col::Elapsed, Col::Eta, Col::Size];
    /// What a window at its smallest size shows.
    const NARROW: [Col; 5] = [
        Col::Status,
        Col::Name,
        Col::Progress,
        Col::Speed,
        Col::Actions,
    ];

    /// The widest set whose starting widths fit in `width` points (columns dropped one at a
    /// time, [`Col::DROP_ORDER`]), and how much wider than its least the status column starts
    /// (a share of the room left, so a failure's sentence is not cut at once on a wide
    /// window; the name takes the rest). A set is known by its length.
    pub(super) fn fitting(width: f32, actions: f32) -> (Vec<Col>, f32) {
        let needs = |set: &[Col]| -> f32 {
            set.iter()
                .map(|c| c.initial_width(actions, set.len()) + 8.0)
                .sum::<f32>()
        };
        let mut set = Self::ALL.to_vec();
        for dropped in Self::DROP_ORDER {
            if needs(&set) <= width {
                break;
            }
            set.retain(|c| *c != dropped);
        }
        let status_extra = ((width - needs(&set)) * 0.4).clamp(0.0, 130.0);
        (set, status_extra)
    }

    /// Starting width in points in a set of `shown` columns (the narrow set's are smaller);
    /// the name's is its least (it takes what is left).
    fn initial_width(self, actions: f32, shown: usize) -> f32 {
        let narrow = shown <= Self::NARROW.len();
        match self {
            Col::Status if narrow => 130.0,
            Col::Status => 170.0,
            Col::Name if narrow => 80.0,
            Col::Name => 120.0,
            Col::Progress if narrow => 70.0,
            Col::Progress => 90.0,
            Col::Size => 130.0,
            Col::Speed => 80.0,
            Col::Eta => 65.0,
            Col::Elapsed => 60.0,
            Col::Actions => actions,
            Col::Source => 110.0,
        }
    }

    pub(super) fn column(self, actions: f32, shown: usize, status_extra: f32) -> Column {
        let width = self.initial_width(actions, shown);
        match self {
            // The name takes what the others leave, frame after frame: not resizable itself,
            // so it follows the window (a resizable one keeps its first width, and a larger
            // window left an empty strip beside the list).
            Col::Name => Column::remainder()
                .at_least(80.0)
                .clip(true)
                .resizable(false),
            Col::Actions => Column::exact(actions),
            Col::Progress => Column::initial(width).at_least(50.0),
            Col::Status => Column::initial(width + status_extra)
                .at_least(90.0)
                .clip(true),
            _ => Column::initial(width).at_least(50.0).clip(true),
        }
    }

    pub(super) fn title(self) -> Option<T> {
        Some(match self {
            Col::Status => T::ColStatus,
            Col::Name => T::ColName,
            Col::Progress => T::ColProgress,
            Col::Size => T::ColSize,
            Col::Speed => T::ColSpeed,
            Col::Eta => T::ColEta,
            Col::Elapsed => T::ColElapsed,
            Col::Actions => return None,
            Col::Source => T::ColSource,
        })
    }

    pub(super) fn sorts(self) -> Option<SortKey> {
        match self {
            Col::Status => Some(SortKey::Status),
            Col::Name => Some(SortKey::Name),
            Col::Size => Some(SortKey::Size),
            Col::Source => Some(SortKey::Source),
            _ => None,
        }
    }
}
