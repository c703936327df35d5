//! The saved queue against a real SQLite file: round trips, migrations, locks.

use super::*;

fn item(key: u64, status: Status) -> SavedItem {
    SavedItem {
        key,
        text: format!("http://h/{key}"),
        expect: None,
        name: format!("{key}.bin"),
        status,
        bytes: 0,
        total: None,
        path: None,
        digest: None,
        files: Vec::new(),
        error: None,
        failure: None,
        elapsed_ms: 0,
        dest: Some(PathBuf::from("/d")),
        guessed: false,
        options: None,
        torrent: None,
        torrent_files: Vec::new(),
    }
}

#[test]
fn items_survive_a_reopen_with_their_last_state_and_progress() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("queue.sqlite3");
    let opened = SavedQueue::open(&path);
    assert!(opened.items.is_empty() && opened.notice.is_none());
    let queue = opened.queue.expect("queue");
    queue.send(SavedOp::Put(Box::new(item(1, Status::Queued))));
    queue.send(SavedOp::Put(Box::new(item(2, Status::Queued))));
    queue.send(SavedOp::Put(Box::new(item(3, Status::Queued))));
    queue.send(SavedOp::Progress {
        key: 1,
        bytes: 500,
        total: Some(1000),
        elapsed_ms: 150_000,
    });
    let mut done = item(2, Status::Done);
    done.path = Some("/d/2.bin".into());
    done.digest = Checksum::from_hex(&"ab".repeat(32));
    done.bytes = 7;
    // Every file of an item of many.
    done.files = vec![
        DoneFile {
            path: "/d/2.bin".into(),
            length: 5,
            sha256: Checksum([0xab; 32]),
        },
        DoneFile {
            path: "/d/2 字幕.vtt".into(),
            length: 2,
            sha256: Checksum([1; 32]),
        },
    ];
    // Its own options come back too (a header, a name, a cookies file).
    let mut options = crate::protocol::ItemOptions {
        out: Some("named.bin".into()),
        split: Some(2),
        ..Default::default()
    };
    options
        .request
        .headers
        .push(crate::protocol::Header::parse("X-Token: t").expect("header"));
    options.request.cookies_file = Some(PathBuf::from("/home/u/cookies.txt"));
    done.options = Some(options);
    // A torrent's info hash (which names its working folder).
    done.torrent = Some(std::array::from_fn(|i| (i as u8).wrapping_mul(13)));
    // And its files as its row lists them, for ticking one left out after a restart.
    done.torrent_files = vec![crate::protocol::TorrentFile {
        index: 2,
        path: "set/sub/b.bin".into(),
        length: 310_000,
        done: 0,
    }];
    queue.send(SavedOp::Put(Box::new(done.clone())));
    queue.send(SavedOp::Remove(vec![3]));
    drop(queue); // flushes

    let reopened = SavedQueue::open(&path);
    assert!(reopened.notice.is_none());
    let mut first = item(1, Status::Queued);
    first.bytes = 500;
    first.total = Some(1000);
    // Its time so far: elapsed keeps counting after a crash (2 min 30 s became 3.5 s).
    first.elapsed_ms = 150_000;
    assert_eq!(reopened.items, vec![first, done]);
}

#[test]
fn a_moved_row_keeps_its_place_across_a_reopen_and_later_rows_come_last() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("queue.sqlite3");
    let queue = SavedQueue::open(&path).queue.expect("queue");
    for key in 1..=4 {
        queue.send(SavedOp::Put(Box::new(item(key, Status::Queued))));
    }
    queue.send(SavedOp::Order(vec![1, 2, 3, 4]));
    queue.send(SavedOp::Order(vec![4, 1, 3, 2])); // the last order wins
    // A state change after the move does not lose the row's place.
    queue.send(SavedOp::Put(Box::new(item(4, Status::Paused))));
    queue.send(SavedOp::Put(Box::new(item(5, Status::Queued))));
    drop(queue);
    let keys = |items: &[SavedItem]| items.iter().map(|i| i.key).collect::<Vec<_>>();
    let reopened = SavedQueue::open(&path);
    assert_eq!(keys(&reopened.items), [4, 1, 3, 2, 5]);
    assert_eq!(reopened.items[0].status, Status::Paused);
}

#[test]
fn a_first_schema_queue_comes_back_with_its_unfinished_items_queued() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("queue.sqlite3");
    {
        let connection = Connection::open(&path).expect("open");
        connection
            .execute_batch(
                "CREATE TABLE items (key INTEGER PRIMARY KEY, text TEXT NOT NULL,
                 expect TEXT, name TEXT NOT NULL, state TEXT NOT NULL,
                 bytes INTEGER NOT NULL DEFAULT 0, total INTEGER, path TEXT, digest TEXT,
                 error TEXT, elapsed_ms INTEGER NOT NULL DEFAULT 0);
                 INSERT INTO items (key, text, name, state, bytes)
                 VALUES (1, 'http://h/1', '1.bin', 'unfinished', 5),
                        (2, 'http://h/2', '2.bin', 'timed_out', 0);
                 PRAGMA user_version = 1;",
            )
            .expect("a first-schema queue");
    }
    let opened = SavedQueue::open(&path);
    assert!(opened.notice.is_none(), "migrated, not moved aside");
    let statuses: Vec<Status> = opened.items.iter().map(|i| i.status).collect();
    assert_eq!(statuses, [Status::Queued, Status::TimedOut]);
    assert_eq!(opened.items[0].bytes, 5);
    assert_eq!(opened.items[0].dest, None, "a folder was not kept then");
}

#[test]
fn one_process_at_a_time_and_only_its_owner_reads_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("queue.sqlite3");
    let first = SavedQueue::open(&path);
    assert!(first.queue.is_some() && first.notice.is_none());
    let second = SavedQueue::open(&path);
    assert!(second.queue.is_none(), "the lock beside it is held");
    assert_eq!(
        second.notice,
        Some(QueueNotice::InUse { path: path.clone() })
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).expect("db").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    drop(first);
    assert!(
        SavedQueue::open(&path).queue.is_some(),
        "free again once closed"
    );
}

#[test]
fn a_corrupt_database_is_moved_aside_not_wiped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("queue.sqlite3");
    std::fs::write(&path, b"this is not a database, but someone's data").expect("write");
    let opened = SavedQueue::open(&path);
    let Some(QueueNotice::MovedAside {
        reason,
        to: Some(to),
    }) = opened.notice
    else {
        panic!("expected a moved-aside notice");
    };
    assert!(reason.contains("not a database"), "{reason}");
    assert!(to.to_string_lossy().contains(".unreadable-"));
    assert!(opened.queue.is_some() && opened.items.is_empty());
    let aside: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().contains(".unreadable-"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read(aside[0].path()).ok().as_deref(),
        Some(&b"this is not a database, but someone's data"[..])
    );
}

#[test]
fn a_newer_schema_is_moved_aside_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("queue.sqlite3");
    {
        let connection = Connection::open(&path).expect("open");
        connection
            .pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .expect("version");
    }
    let opened = SavedQueue::open(&path);
    let Some(QueueNotice::MovedAside { reason, .. }) = opened.notice else {
        panic!("expected a moved-aside notice");
    };
    assert!(reason.contains("newer Haul"), "{reason}");
    assert!(opened.queue.is_some());
}
