//! Rows to and from the saved queue's items.
//!
//! Owns: the mapping between a [`Row`] and a [`SavedItem`] (what a row's state means on disk,
//! and what a saved item becomes at start: finished items come back as they were, unfinished
//! ones come back queued, to resume). Pure functions.
//! Must not touch: the database (that is `desktop::saved_queue`), egui, the engine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::model::{Row, RowState};
use crate::desktop::saved_queue::SavedItem;
use crate::human::millis;
use crate::protocol::{JobId, Source, Status, TimeoutKind};

/// How a row is saved.
pub fn stored(row: &Row) -> SavedItem {
    let mut item = SavedItem {
        key: row.key,
        text: row.text.clone(),
        expect: row.sha256,
        name: row.name.clone(),
        status: row.status(),
        bytes: row.state.bytes(),
        total: None,
        path: None,
        digest: None,
        error: None,
        elapsed_ms: 0,
    };
    match &row.state {
        RowState::Queued | RowState::Connecting { .. } | RowState::Retrying { .. } => {}
        RowState::Running { total, .. } => item.total = *total,
        RowState::Done {
            path,
            sha256,
            elapsed,
            ..
        } => {
            item.path = Some(path.display().to_string());
            item.digest = Some(*sha256);
            item.elapsed_ms = millis(*elapsed);
        }
        RowState::Failed {
            reason, elapsed, ..
        } => {
            item.error = Some(reason.clone());
            item.elapsed_ms = millis(*elapsed);
        }
        RowState::TimedOut { kind, elapsed, .. } => {
            item.error = Some(timeout_word(*kind).to_owned());
            item.elapsed_ms = millis(*elapsed);
        }
        RowState::Cancelled { elapsed, .. } | RowState::Paused { elapsed, .. } => {
            item.elapsed_ms = millis(*elapsed);
        }
    }
    item
}

fn timeout_word(kind: TimeoutKind) -> &'static str {
    match kind {
        TimeoutKind::Connect => "connect",
        TimeoutKind::Stall => "stall",
        TimeoutKind::Deadline => "deadline",
    }
}

/// A saved item as a row with the given id. Returns the row and whether it should be
/// submitted again (it was unfinished: it resumes from its `.part`).
pub fn restored(item: &SavedItem, id: JobId, base: &Path) -> (Row, bool) {
    let source = Source::parse(&item.text, base).ok();
    let elapsed = Duration::from_millis(item.elapsed_ms);
    let bytes = item.bytes;
    let failed = |reason: String| RowState::Failed {
        reason,
        bytes,
        elapsed,
    };
    let (state, again) = match item.status {
        status if status.is_active() => match source {
            Some(_) => (RowState::Queued, true),
            None => (failed(format!("invalid source '{}'", item.text)), false),
        },
        Status::Paused => (RowState::Paused { bytes, elapsed }, false),
        Status::Done => match (&item.path, item.digest) {
            (Some(path), Some(sha256)) => (
                RowState::Done {
                    path: PathBuf::from(path),
                    sha256,
                    bytes,
                    elapsed,
                },
                false,
            ),
            _ => (
                failed("saved as done, but without its file and digest".to_owned()),
                false,
            ),
        },
        Status::TimedOut => {
            let kind = match item.error.as_deref() {
                Some("connect") => TimeoutKind::Connect,
                Some("deadline") => TimeoutKind::Deadline,
                _ => TimeoutKind::Stall,
            };
            (
                RowState::TimedOut {
                    kind,
                    bytes,
                    elapsed,
                },
                false,
            )
        }
        Status::Cancelled => (RowState::Cancelled { bytes, elapsed }, false),
        _ => (failed(item.error.clone().unwrap_or_default()), false),
    };
    let row = Row {
        id,
        key: item.key,
        name: item.name.clone(),
        text: item.text.clone(),
        source,
        sha256: item.expect,
        state,
        selected: false,
    };
    (row, again)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Checksum;

    fn row(state: RowState) -> Row {
        Row {
            id: JobId(1),
            key: 7,
            name: "a.bin".into(),
            text: "http://h/a.bin".into(),
            source: Source::parse("http://h/a.bin", Path::new("/")).ok(),
            sha256: Checksum::from_hex(&"ab".repeat(32)),
            state,
            selected: false,
        }
    }

    #[test]
    fn finished_rows_come_back_as_they_were_and_unfinished_ones_queued() {
        let elapsed = Duration::from_millis(1500);
        for state in [
            RowState::Done {
                path: "/d/a.bin".into(),
                sha256: Checksum([3; 32]),
                bytes: 10,
                elapsed,
            },
            RowState::Failed {
                reason: "server replied 404 Not Found".into(),
                bytes: 0,
                elapsed,
            },
            RowState::TimedOut {
                kind: TimeoutKind::Deadline,
                bytes: 5,
                elapsed,
            },
            RowState::Cancelled { bytes: 1, elapsed },
            RowState::Paused { bytes: 9, elapsed },
        ] {
            let (back, again) = restored(&stored(&row(state.clone())), JobId(9), Path::new("/"));
            assert_eq!(back.state, state);
            assert!(!again);
            assert_eq!((back.key, back.id), (7, JobId(9)));
            assert_eq!(back.sha256, Checksum::from_hex(&"ab".repeat(32)));
        }
        let (back, again) = restored(&stored(&row(RowState::Queued)), JobId(2), Path::new("/"));
        assert_eq!(back.state, RowState::Queued);
        assert!(again, "an unfinished item is submitted again");
    }
}
