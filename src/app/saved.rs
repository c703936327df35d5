//! Rows to and from the saved queue's items.
//!
//! Owns: the mapping between a [`Row`] and a [`StoredItem`] (what a row's state means on disk,
//! and what a stored item becomes at start: finished items come back as they were, unfinished
//! ones come back queued, to resume). Pure functions.
//! Must not touch: the database (that is `crate::queue`), egui, the engine.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::model::{Row, RowState};
use crate::protocol::{Checksum, JobId, Source, TimeoutKind, hex};
use crate::queue::{StoredItem, StoredState};

/// How a row is stored.
pub fn stored(row: &Row) -> StoredItem {
    let mut item = StoredItem {
        key: row.key,
        text: row.text.clone(),
        expect: row.sha256.map(|c| c.to_string()),
        name: row.name.clone(),
        state: StoredState::Unfinished,
        bytes: row.state.bytes(),
        total: None,
        path: None,
        digest: None,
        error: None,
        elapsed_ms: 0,
    };
    let ms = |d: &Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    match &row.state {
        RowState::Queued | RowState::Connecting { .. } | RowState::Retrying { .. } => {}
        RowState::Running { total, .. } => item.total = *total,
        RowState::Done {
            path,
            sha256,
            elapsed,
            ..
        } => {
            item.state = StoredState::Done;
            item.path = Some(path.display().to_string());
            item.digest = Some(hex(sha256));
            item.elapsed_ms = ms(elapsed);
        }
        RowState::Failed {
            reason, elapsed, ..
        } => {
            item.state = StoredState::Failed;
            item.error = Some(reason.clone());
            item.elapsed_ms = ms(elapsed);
        }
        RowState::TimedOut { kind, elapsed, .. } => {
            item.state = StoredState::TimedOut;
            item.error = Some(timeout_word(*kind).to_owned());
            item.elapsed_ms = ms(elapsed);
        }
        RowState::Cancelled { elapsed, .. } => {
            item.state = StoredState::Cancelled;
            item.elapsed_ms = ms(elapsed);
        }
        RowState::Paused { elapsed, .. } => {
            item.state = StoredState::Paused;
            item.elapsed_ms = ms(elapsed);
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

/// A stored item as a row with the given id. Returns the row and whether it should be
/// submitted again (it was unfinished: it resumes from its `.part`).
pub fn restored(item: &StoredItem, id: JobId, base: &Path) -> (Row, bool) {
    let source = Source::parse(&item.text, base).ok();
    let sha256 = item.expect.as_deref().and_then(Checksum::from_hex);
    let elapsed = Duration::from_millis(item.elapsed_ms);
    let bytes = item.bytes;
    let (state, again) = match item.state {
        StoredState::Unfinished if source.is_some() => (RowState::Queued, true),
        StoredState::Unfinished => (
            RowState::Failed {
                reason: format!("invalid source '{}'", item.text),
                bytes,
                elapsed,
            },
            false,
        ),
        StoredState::Paused => (RowState::Paused { bytes, elapsed }, false),
        StoredState::Done => {
            let digest = item.digest.as_deref().and_then(Checksum::from_hex);
            match (&item.path, digest) {
                (Some(path), Some(digest)) => (
                    RowState::Done {
                        path: PathBuf::from(path),
                        sha256: digest.0,
                        bytes,
                        elapsed,
                    },
                    false,
                ),
                _ => (
                    RowState::Failed {
                        reason: "saved as done, but without its file and digest".to_owned(),
                        bytes,
                        elapsed,
                    },
                    false,
                ),
            }
        }
        StoredState::Failed => (
            RowState::Failed {
                reason: item.error.clone().unwrap_or_default(),
                bytes,
                elapsed,
            },
            false,
        ),
        StoredState::TimedOut => {
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
        StoredState::Cancelled => (RowState::Cancelled { bytes, elapsed }, false),
    };
    let row = Row {
        id,
        key: item.key,
        name: item.name.clone(),
        text: item.text.clone(),
        source,
        sha256,
        state,
        selected: false,
    };
    (row, again)
}

#[cfg(test)]
mod tests {
    use super::*;

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
                sha256: [3; 32],
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
