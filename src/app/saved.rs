//! Rows to and from the saved queue's items.
//!
//! Owns: the mapping between a [`Entry`] and a [`SavedItem`] (what a row's state means on disk,
//! and what a saved item becomes at start: finished items come back as they were, unfinished
//! ones come back queued, to resume in their own folder). Pure functions.
//! Must not touch: the database (that is `desktop::saved_queue`), egui, the engine.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::model::{Entry, State};
use crate::desktop::saved_queue::SavedItem;
use crate::human::millis;
use crate::protocol::{DoneFile, FetchError, JobId, Source, Status, TimeoutKind};

/// How a row is saved.
pub fn stored(row: &Entry, now: Instant) -> SavedItem {
    let mut item = SavedItem {
        key: row.gid,
        text: row.uri.clone(),
        expect: row.checksum,
        name: row.name.clone(),
        status: row.status(),
        bytes: row.state.bytes(),
        total: row.state.total(),
        path: None,
        digest: None,
        files: Vec::new(),
        error: None,
        failure: None,
        elapsed_ms: millis(row.elapsed(now).unwrap_or_default()),
        dest: Some(row.dest.clone()),
        guessed: row.guessed,
        options: (*row.options != crate::protocol::ItemOptions::default())
            .then(|| (*row.options).clone()),
        torrent: row.swarm.and_then(|s| s.info_hash),
        torrent_files: row.torrent_files.clone(),
    };
    // A torrent seeding from its files in place is saved as done with them: a quit while it
    // seeds must not fetch it again as a copy at the next start.
    let seeding = (row.status().is_active() && !row.published.is_empty()).then(|| {
        item.status = Status::Done;
        item.bytes = row.published.iter().map(|f| f.length).sum();
        item.total = Some(item.bytes);
        &row.published
    });
    if let Some(files) = seeding {
        done_files(&mut item, files, row.published_folder.as_deref());
        return item;
    }
    match &row.state {
        State::Done { files, folder, .. } => done_files(&mut item, files, folder.as_deref()),
        State::Skipped { path } => item.path = Some(path.display().to_string()),
        State::Failed { error, .. } => {
            item.error = row.state.error();
            item.failure = Some((**error).clone());
        }
        State::TimedOut { kind, .. } => item.error = Some(timeout_word(*kind).to_owned()),
        _ => {}
    }
    item
}

/// A done item's files; its `path` is where the item is (a torrent's folder, else its main
/// file), its digest the main file's.
fn done_files(item: &mut SavedItem, files: &[DoneFile], folder: Option<&Path>) {
    if let Some(main) = files.first() {
        item.path = crate::protocol::item_path(files, folder).map(|p| p.display().to_string());
        item.digest = Some(main.sha256);
    }
    item.files = files.to_vec();
}

fn timeout_word(kind: TimeoutKind) -> &'static str {
    match kind {
        TimeoutKind::Connect => "connect",
        TimeoutKind::Stall => "stall",
        TimeoutKind::Deadline => "deadline",
    }
}

/// A saved item as a row with the given id. Returns the row and whether it should be
/// submitted again (it was unfinished: it resumes from its `.part`). `fallback_dest` is the
/// folder for items saved before each kept its own.
pub fn restored(item: &SavedItem, id: JobId, base: &Path, fallback_dest: &Path) -> (Entry, bool) {
    let source = Source::parse(&item.text, base).ok();
    // A URL typed without a scheme was saved as typed: read it as it was read then.
    let source = source.or_else(|| {
        item.guessed
            .then(|| crate::sources::guess_url(&item.text))
            .flatten()
    });
    let elapsed = Duration::from_millis(item.elapsed_ms);
    let bytes = item.bytes;
    let failed = |error: FetchError| {
        // The text saved is the error and, for a rejected line, where it came from.
        let origin = item.error.as_deref().and_then(|text| {
            let technical = crate::protocol::redact(&error.to_string()).into_owned();
            text.strip_prefix(technical.as_str())?
                .strip_prefix(" (")?
                .strip_suffix(')')
                .map(str::to_owned)
        });
        State::Failed {
            error: Box::new(error),
            origin,
            bytes,
            elapsed,
        }
    };
    let text_failure = || {
        item.failure.clone().unwrap_or_else(|| {
            FetchError::Request(item.error.clone().unwrap_or_else(|| "failed".to_owned()))
        })
    };
    let (state, again, before) = match item.status {
        status if status.is_active() => match &source {
            // Its bytes show while it waits to resume them.
            Some(_) => (
                State::Queued {
                    done: bytes,
                    total: item.total,
                },
                true,
                elapsed,
            ),
            None => (
                failed(FetchError::Request(format!(
                    "invalid source '{}'",
                    item.text
                ))),
                false,
                Duration::ZERO,
            ),
        },
        Status::Paused => (
            State::Paused {
                bytes,
                total: item.total,
                elapsed,
            },
            false,
            Duration::ZERO,
        ),
        Status::Done => match (&item.path, item.digest) {
            _ if !item.files.is_empty() => (
                State::Done {
                    files: item.files.clone(),
                    // Saved as its path when it is not its main file: a torrent's folder.
                    folder: item
                        .path
                        .as_ref()
                        .map(PathBuf::from)
                        .filter(|p| item.files.first().is_some_and(|f| f.path != *p)),
                    bytes,
                    elapsed,
                },
                false,
                Duration::ZERO,
            ),
            // Saved before items were many files: its one file.
            (Some(path), Some(sha256)) => (
                State::Done {
                    files: vec![DoneFile {
                        path: PathBuf::from(path),
                        length: bytes,
                        sha256,
                    }],
                    folder: None,
                    bytes,
                    elapsed,
                },
                false,
                Duration::ZERO,
            ),
            _ => (
                failed(FetchError::Request(
                    "saved as done, but without its file and digest".to_owned(),
                )),
                false,
                Duration::ZERO,
            ),
        },
        Status::TimedOut => {
            let kind = match item.error.as_deref() {
                Some("connect") => TimeoutKind::Connect,
                Some("deadline") => TimeoutKind::Deadline,
                _ => TimeoutKind::Stall,
            };
            (
                State::TimedOut {
                    kind,
                    bytes,
                    elapsed,
                },
                false,
                Duration::ZERO,
            )
        }
        Status::Cancelled => (State::Cancelled { bytes, elapsed }, false, Duration::ZERO),
        Status::Skipped => match &item.path {
            Some(path) => (
                State::Skipped {
                    path: PathBuf::from(path),
                },
                false,
                Duration::ZERO,
            ),
            None => (failed(text_failure()), false, Duration::ZERO),
        },
        _ => (failed(text_failure()), false, Duration::ZERO),
    };
    let row = Entry {
        id,
        gid: item.key,
        name: item.name.clone(),
        uri: item.text.clone(),
        source,
        checksum: item.expect,
        dest: item
            .dest
            .clone()
            .unwrap_or_else(|| fallback_dest.to_path_buf()),
        guessed: item.guessed,
        elapsed_before: before,
        parts: Vec::new(),
        connections: Vec::new(),
        stream: None,
        // A torrent's info hash, so a cancel finds its working folder.
        swarm: item.torrent.map(|hash| crate::protocol::Swarm {
            info_hash: Some(hash),
            ..crate::protocol::Swarm::default()
        }),
        torrent_files: item.torrent_files.clone(),
        published: Vec::new(),
        published_folder: None,
        resumable: true,
        options: std::sync::Arc::new(item.options.clone().unwrap_or_default()),
        state,
        removed: false,
    };
    (row, again)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{Checksum, ConnectProblem};

    fn row(state: State) -> Entry {
        Entry {
            id: JobId(1),
            gid: 7,
            name: "a.bin".into(),
            uri: "http://h/a.bin".into(),
            source: Source::parse("http://h/a.bin", Path::new("/")).ok(),
            checksum: Checksum::from_hex(&"ab".repeat(32)),
            dest: PathBuf::from("/downloads/set"),
            guessed: false,
            elapsed_before: Duration::ZERO,
            parts: Vec::new(),
            connections: Vec::new(),
            stream: None,
            swarm: None,
            torrent_files: Vec::new(),
            published: Vec::new(),
            published_folder: None,
            resumable: true,
            options: std::sync::Arc::default(),
            state,
            removed: false,
        }
    }

    #[test]
    fn finished_rows_come_back_as_they_were_and_unfinished_ones_queued_in_their_folder() {
        let elapsed = Duration::from_millis(1500);
        let now = Instant::now();
        for state in [
            // An item of two files (a video and its subtitles): both come back.
            State::Done {
                files: vec![
                    DoneFile {
                        path: "/d/a.mp4".into(),
                        length: 7,
                        sha256: Checksum([3; 32]),
                    },
                    DoneFile {
                        path: "/d/a.en.vtt".into(),
                        length: 3,
                        sha256: Checksum([4; 32]),
                    },
                ],
                folder: None,
                bytes: 10,
                elapsed,
            },
            // A torrent of many files: its folder comes back as its path (and name).
            State::Done {
                files: vec![
                    DoneFile {
                        path: "/d/set/a.bin".into(),
                        length: 7,
                        sha256: Checksum([5; 32]),
                    },
                    DoneFile {
                        path: "/d/set/sub/c.bin".into(),
                        length: 3,
                        sha256: Checksum([6; 32]),
                    },
                ],
                folder: Some("/d/set".into()),
                bytes: 10,
                elapsed,
            },
            State::Failed {
                error: Box::new(FetchError::Connect {
                    problem: ConnectProblem::Refused,
                    detail: "Connection refused (os error 111)".into(),
                }),
                origin: None,
                bytes: 0,
                elapsed,
            },
            State::TimedOut {
                kind: TimeoutKind::Deadline,
                bytes: 5,
                elapsed,
            },
            State::Cancelled { bytes: 1, elapsed },
            State::Paused {
                bytes: 9,
                total: Some(90),
                elapsed,
            },
            State::Skipped {
                path: "/d/a.bin".into(),
            },
        ] {
            let saved = stored(&row(state.clone()), now);
            let (back, again) = restored(&saved, JobId(9), Path::new("/"), Path::new("/other"));
            assert_eq!(back.state, state);
            assert!(!again);
            assert_eq!((back.gid, back.id), (7, JobId(9)));
            assert_eq!(back.checksum, Checksum::from_hex(&"ab".repeat(32)));
            assert_eq!(back.dest, PathBuf::from("/downloads/set"));
        }
        let queued = State::Queued {
            done: 0,
            total: None,
        };
        let saved = stored(&row(queued.clone()), now);
        let (back, again) = restored(&saved, JobId(2), Path::new("/"), Path::new("/other"));
        assert_eq!(back.state, queued);
        assert!(again, "an unfinished item is submitted again");
        assert_eq!(
            back.dest,
            PathBuf::from("/downloads/set"),
            "in its own folder"
        );
        let mut old = saved;
        old.dest = None;
        let (back, _) = restored(&old, JobId(3), Path::new("/"), Path::new("/other"));
        assert_eq!(
            back.dest,
            PathBuf::from("/other"),
            "a queue from before folders were kept"
        );
    }
}
