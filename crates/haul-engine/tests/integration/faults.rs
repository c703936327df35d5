//! Hostile and broken input against the engine as it is, and the fault-injecting fixture itself.
//!
//! Every engine test checks both the reported outcome and the disk: a file under a final name
//! is byte-exact, and no `.part` is ever left behind.
//!
//! Already covered in `tests/engine.rs`, so not repeated here: a slow drip within the stall
//! timeout (`a_slow_drip_within_the_stall_timeout_succeeds`), 4xx/5xx error pages never saved
//! (`error_statuses_fail_and_their_body_is_never_saved`), `CON`, `../`, `/etc/passwd` and
//! `%01`/`%7F` in Content-Disposition (`hostile_content_disposition_names_stay_inside_dest`),
//! and a directory or a missing path as source (`local_files_copy_byte_exact_and_bad_paths_are_clear`).

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use crate::support::harness::{Harness, assert_done_with, failed, limits, listing};
use crate::support::{Server, body};
use haul_core::protocol::{ConnectProblem, DiskProblem, Event, FetchError, JobId, Limits, Outcome};

// ---------------------------------------------------------------------------------------------
// The fixture itself, through plain reqwest.
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// The engine against hostile and broken input.
// ---------------------------------------------------------------------------------------------

/// No `.part` anywhere under `dir`.
fn assert_no_part(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        assert!(
            !path.to_string_lossy().ends_with(".part"),
            "stray {}",
            path.display()
        );
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            assert_no_part(&path);
        }
    }
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unresolvable_host_fails_with_a_dns_message() {
    let mut h = Harness::new(limits());
    let id = h.submit("http://does-not-exist.invalid/x");
    let done = h.finish(&[id]).await;
    let Outcome::Failed(FetchError::Connect {
        detail: message,
        problem,
    }) = &done[&id].outcome
    else {
        panic!("expected a connect failure, got {:?}", done[&id].outcome);
    };
    assert_eq!(*problem, ConnectProblem::NameNotResolved);
    let lower = message.to_lowercase();
    assert!(
        ["dns", "lookup", "resolve", "name or service"]
            .iter()
            .any(|word| lower.contains(word)),
        "{message}"
    );
    assert!(
        done[&id]
            .outcome
            .error_text()
            .is_some_and(|t| t.starts_with("could not connect: ")),
        "{:?}",
        done[&id].outcome.error_text()
    );
    assert!(h.listing().is_empty(), "{:?}", h.listing());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_chunk_size_line_fails_and_saves_nothing() {
    let server = Server::start().await;
    let mut h = Harness::new(limits());
    let id = h.submit(&server.url("/bytes/50000/bad.bin?bad_chunk=1"));
    let done = h.finish(&[id]).await;
    let Outcome::Failed(FetchError::Body(message)) = &done[&id].outcome else {
        panic!("expected a broken transfer, got {:?}", done[&id].outcome);
    };
    assert!(message.contains("chunk"), "{message}");
    assert!(message.ends_with("after 1024 bytes"), "{message}");
    assert!(
        done[&id]
            .outcome
            .error_text()
            .is_some_and(|t| t.starts_with("transfer broke off: ")),
    );
    // Nothing under the final name; the good bytes before the break are kept for resuming.
    assert_eq!(h.listing(), ["bad.bin.part", "bad.bin.part.haul"]);
    let kept = std::fs::read(h.out.join("bad.bin.part")).expect("part");
    assert!(kept == body(50_000)[..1024], "kept {} bytes", kept.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_disposition_names_land_sanitised_inside_dest() {
    let server = Server::start().await;
    let mut h = Harness::new(limits());
    let long = format!("{}.txt", "x".repeat(996));
    assert_eq!(long.chars().count(), 1000);
    let long_cjk = format!("{}.pdf", "报".repeat(996));
    let hostile: Vec<(String, String)> = vec![
        // An encoded slash is still a slash once decoded: only the last part survives.
        (
            "attachment; filename*=UTF-8''a%2Fb.txt".into(),
            "b.txt".into(),
        ),
        (
            "attachment; filename*=UTF-8''..%5C..%5Cwin.txt".into(),
            "win.txt".into(),
        ),
        (
            "attachment; filename*=UTF-8''n%00u%1Bl%07l%0A.txt".into(),
            "n_u_l_l_.txt".into(),
        ),
        ("attachment; filename=\"aux.txt\"".into(), "_aux.txt".into()),
        ("attachment; filename=con".into(), "_con".into()),
        (
            "attachment; filename=\"Nul.tar.gz\"".into(),
            "_Nul.tar.gz".into(),
        ),
        (
            "attachment; filename=\"lpt9 .log\"".into(),
            "_lpt9 .log".into(),
        ),
        (
            "attachment; filename*=UTF-8''evil%E2%80%AEtxt.exe".into(),
            "eviltxt.exe".into(),
        ),
        (
            format!("attachment; filename=\"{long}\""),
            format!("{}.txt", "x".repeat(196)),
        ),
        (
            format!("attachment; filename*=UTF-8''{}", encode(&long_cjk)),
            // 200 bytes hold 65 three-byte characters and ".pdf".
            format!("{}.pdf", "报".repeat(65)),
        ),
    ];
    let ids: Vec<JobId> = hostile
        .iter()
        .enumerate()
        .map(|(i, (cd, _))| {
            h.submit(&server.url(&format!("/bytes/{}/u?cd={}", 10 + i, encode(cd))))
        })
        .collect();
    let done = h.finish(&ids).await;
    for (i, (id, (cd, expected))) in ids.iter().zip(&hostile).enumerate() {
        let path = assert_done_with(&done[id], &body(10 + i));
        assert_eq!(path.parent(), Some(h.out.as_path()), "{cd}: inside dest");
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        assert_eq!(&name, expected, "{cd}");
        assert!(name.len() <= 200, "{cd}: {} bytes", name.len());
    }
    let mut expected: Vec<String> = hostile.iter().map(|(_, n)| n.clone()).collect();
    expected.sort();
    assert_eq!(h.listing(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_items_with_one_name_get_numbered_variants() {
    let server = Server::start().await;
    let mut h = Harness::new(limits());
    let ids: Vec<JobId> = (0..5)
        .map(|i| h.submit(&server.url(&format!("/bytes/{}/same.bin?delay_ms=20", 100 + i))))
        .collect();
    let done = h.finish(&ids).await;
    for (i, id) in ids.iter().enumerate() {
        assert_done_with(&done[id], &body(100 + i));
    }
    assert_eq!(
        h.listing(),
        [
            "same (1).bin",
            "same (2).bin",
            "same (3).bin",
            "same (4).bin",
            "same.bin"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_file_is_kept_and_the_download_takes_the_next_name() {
    let server = Server::start().await;
    let mut h = Harness::new(limits());
    std::fs::create_dir_all(&h.out).expect("mkdir");
    std::fs::write(h.out.join("keep.txt"), b"the user's own words").expect("seed");
    let id = h.submit(&server.url("/bytes/300/keep.txt"));
    let done = h.finish(&[id]).await;
    assert_eq!(
        assert_done_with(&done[&id], &body(300)),
        h.out.join("keep (1).txt")
    );
    assert_eq!(
        std::fs::read(h.out.join("keep.txt")).expect("kept"),
        b"the user's own words"
    );
    assert_eq!(h.listing(), ["keep (1).txt", "keep.txt"]);
}

/// Mounts a tmpfs at `dir` and unmounts it on drop. `None` when mounting is not allowed here.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(dir: &Path, options: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).ok()?;
        let mounted = Process::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(dir)
            .output()
            .ok()?;
        if !mounted.status.success() {
            eprintln!(
                "mount -t tmpfs -o {options} failed: {}",
                String::from_utf8_lossy(&mounted.stderr).trim()
            );
            return None;
        }
        Some(Tmpfs {
            dir: dir.to_path_buf(),
        })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let ok = Process::new("umount")
            .arg(&self.dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            // Still busy (a test failed with files open): detach it instead.
            let _ = Process::new("umount").arg("-l").arg(&self.dir).status();
        }
    }
}

/// Whether this process can create a file in `dir` despite its permissions (root can).
#[cfg(unix)]
fn can_write_into(dir: &Path) -> bool {
    let probe = dir.join(".probe");
    let ok = std::fs::File::create(&probe).is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unwritable_destination_fails_with_cannot_write() {
    use std::os::unix::fs::PermissionsExt;

    let server = Server::start().await;
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("locked");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    // Root ignores the mode bits: then a read-only mount is the unwritable folder instead.
    let mut _mount = None;
    if can_write_into(&dir) {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        _mount = Tmpfs::mount(&dir, "ro,size=64k");
        if _mount.is_none() {
            eprintln!(
                "skipped: this user can write into a 0o555 folder and cannot mount a read-only one"
            );
            return;
        }
        assert!(!can_write_into(&dir), "a read-only mount is writable");
    }
    let mut h = Harness::at(dir.clone(), limits());
    let web = h.submit(&server.url("/bytes/100/w.bin"));
    let src = tempfile::tempdir().expect("tempdir");
    let local = src.path().join("l.bin");
    std::fs::write(&local, body(100)).expect("source");
    let file = h.submit(local.to_str().expect("utf-8 path"));
    let done = h.finish(&[web, file]).await;
    for id in [web, file] {
        let outcome = &done[&id].outcome;
        let Outcome::Failed(FetchError::Write { path, message, .. }) = outcome else {
            panic!("expected a write failure, got {outcome:?}");
        };
        assert!(path.starts_with(&dir), "{}", path.display());
        assert!(
            message.contains("Permission denied") || message.contains("Read-only file system"),
            "{message}"
        );
        let text = outcome.error_text().expect("text");
        assert!(text.starts_with("cannot write "), "{text}");
    }
    assert!(listing(&dir).is_empty(), "{:?}", listing(&dir));
    drop(h);
    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_destination_under_a_regular_file_fails_each_item_once() {
    let server = Server::start().await;
    let root = tempfile::tempdir().expect("tempdir");
    let blocker = root.path().join("blocker");
    std::fs::write(&blocker, b"a file, not a folder").expect("seed");
    let dest = blocker.join("sub");
    let mut h = Harness::at(dest.clone(), limits());
    let mut ids: Vec<JobId> = (0..3)
        .map(|i| h.submit(&server.url(&format!("/bytes/100/b{i}.bin"))))
        .collect();
    let src = tempfile::tempdir().expect("tempdir");
    let local = src.path().join("l.bin");
    std::fs::write(&local, body(100)).expect("source");
    ids.push(h.submit(local.to_str().expect("utf-8 path")));
    let done = h.finish(&ids).await;
    h.assert_no_second_finish(&ids).await;
    // The error this platform gives for making a folder under a file (Linux: "Not a
    // directory (os error 20)"; Windows words it otherwise), produced here the same way.
    let expected = std::fs::create_dir_all(&dest).expect_err("a file is in the way");
    for id in &ids {
        let outcome = &done[id].outcome;
        assert_eq!(
            outcome,
            &Outcome::Failed(FetchError::Write {
                path: dest.clone(),
                message: expected.to_string(),
                problem: DiskProblem::of(expected.kind()),
            }),
            "{id}"
        );
        assert_eq!(
            outcome.error_text().expect("text"),
            format!("cannot write {}: {expected}", dest.display())
        );
    }
    assert_eq!(
        std::fs::read(&blocker).expect("blocker kept"),
        b"a file, not a folder"
    );
    let finished = h
        .log
        .iter()
        .filter(|e| matches!(e, Event::Finished { .. }))
        .count();
    assert_eq!(finished, ids.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_destination_vanishing_mid_download_fails_that_item_cleanly() {
    let server = Server::start().await;
    let mut h = Harness::new(Limits {
        jobs: 1,
        ..limits()
    });
    // ~1.2 s of dripping, large enough to be streamed to its `.part` (small bodies are held
    // in memory until complete); the second item waits in the queue behind it.
    let slow = h.submit(&server.url("/bytes/400000/slow.bin?drip_ms=3"));
    let next = h.submit(&server.url("/bytes/1000/next.bin"));
    h.wait_for(
        slow,
        |e| matches!(e, Event::Progress { done, .. } if *done > 0),
    )
    .await;
    assert_eq!(h.listing(), ["slow.bin.part", "slow.bin.part.haul"]);
    std::fs::remove_dir_all(&h.out).expect("remove dest");
    let done = h.finish(&[slow, next]).await;
    h.assert_no_second_finish(&[slow, next]).await;
    // What the engine does: the open `.part` keeps receiving (it is unlinked, not closed), and
    // the next checkpoint's sidecar or the final move into the vanished folder fails, so the
    // item fails with a write error naming its `.part` or its target. It does not recreate
    // the folder for a running item.
    let outcome = &done[&slow].outcome;
    let Outcome::Failed(FetchError::Write { path, message, .. }) = outcome else {
        panic!("expected a write error, got {outcome:?}");
    };
    assert!(
        [h.out.join("slow.bin"), h.out.join("slow.bin.part")].contains(path),
        "{path:?}"
    );
    // The error this platform gives for writing into a folder that is gone.
    let gone = tempfile::tempdir().expect("tempdir");
    let expected = std::fs::File::create(gone.path().join("missing").join("probe"))
        .expect_err("no such folder");
    assert_eq!(message, &expected.to_string());
    // The next item creates the folder again and lands whole.
    assert_eq!(
        assert_done_with(&done[&next], &body(1000)),
        h.out.join("next.bin")
    );
    assert_eq!(h.listing(), ["next.bin"]);
    assert_no_part(&h.out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_larger_than_the_free_space_is_refused_before_a_byte_is_written() {
    let server = Server::start().await;
    let root = tempfile::tempdir().expect("tempdir");
    let mount_point = root.path().join("small");
    let Some(_mount) = Tmpfs::mount(&mount_point, "size=1m") else {
        eprintln!("skipped: cannot mount a 1 MiB tmpfs here (not root?)");
        return;
    };
    let dest = mount_point.join("out");
    let mut h = Harness::at(dest.clone(), limits());
    let big = h.submit(&server.url("/bytes/4194304/big.bin"));
    let done = h.finish(&[big]).await;
    let FetchError::NoSpace {
        folder,
        needed,
        free,
    } = failed(&done[&big].outcome)
    else {
        panic!("expected no space, got {:?}", done[&big].outcome);
    };
    assert_eq!((folder, needed), (dest.clone(), 4_194_304));
    assert!(free <= 1024 * 1024, "{free}");
    let text = done[&big].outcome.error_text().expect("text");
    assert!(text.contains("4.0 MiB more needed"), "{text}");
    // Refused before a byte was written: nothing on the disk, and none of it was received.
    assert_eq!(done[&big].bytes, 0);
    assert!(listing(&dest).is_empty(), "{:?}", listing(&dest));
    assert_no_part(&mount_point);
    let small = h.submit(&server.url("/bytes/1000/small.bin"));
    let done = h.finish(&[small]).await;
    assert_done_with(&done[&small], &body(1000));
    drop(h);
}

/// Writes into `path` until the disk is full.
fn fill(path: &Path) {
    use std::io::Write as _;
    let mut file = std::fs::File::create(path).expect("filler");
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    let _ = file.sync_all();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disk_that_fills_mid_download_keeps_the_bytes_and_says_how_much_more_is_needed() {
    const SIZE: u64 = 3 * 1024 * 1024;
    let server = Server::start().await;
    let root = tempfile::tempdir().expect("tempdir");
    let mount_point = root.path().join("small");
    let Some(_mount) = Tmpfs::mount(&mount_point, "size=4m") else {
        eprintln!("skipped: cannot mount a 4 MiB tmpfs here (not root?)");
        return;
    };
    let dest = mount_point.join("out");
    let url = server.url(&format!(
        "/bytes/{SIZE}/big.bin?range=1&etag=v1&rate=1048576"
    ));
    let mut h = Harness::at(dest.clone(), limits());
    let id = h.submit(&url);
    // It fits when it starts; a checkpoint has recorded about a second of it when another
    // program fills the disk.
    h.wait_for(
        id,
        |e| matches!(e, Event::Progress { done, .. } if *done >= 1_400_000),
    )
    .await;
    let filler = mount_point.join("filler");
    fill(&filler);
    let done = h.finish(&[id]).await;
    let FetchError::NoSpace { folder, needed, .. } = failed(&done[&id].outcome) else {
        panic!("expected no space, got {:?}", done[&id].outcome);
    };
    assert_eq!(folder, dest);
    assert!(needed > 0 && needed <= SIZE - 512 * 1024, "{needed}");
    // The bytes stay: the `.part` holds at least what the error counts as kept.
    let part = dest.join("big.bin.part");
    let on_disk = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
    assert!(
        on_disk >= SIZE - needed,
        "{on_disk} on disk, {needed} needed"
    );
    // With the space back, the same address asks only for the rest and finishes byte-exact.
    std::fs::remove_file(&filler).expect("filler removed");
    let again = h.submit(&url);
    let done = h.finish(&[again]).await;
    assert_done_with(&done[&again], &body(SIZE as usize));
    let log = server.request_log();
    let last = log.last().expect("a request");
    assert_eq!(
        last.range.as_deref(),
        Some(format!("bytes={}-", SIZE - needed).as_str())
    );
    assert_eq!(listing(&dest), ["big.bin"]);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_source_is_refused_without_waiting_for_a_writer() {
    let src = tempfile::tempdir().expect("tempdir");
    let fifo = src.path().join("pipe");
    let made = Process::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("skipped: mkfifo is not available");
        return;
    }
    let mut h = Harness::new(limits());
    let id = h.submit(fifo.to_str().expect("utf-8 path"));
    let done = h.finish(&[id]).await;
    assert_eq!(
        done[&id].outcome,
        Outcome::Failed(FetchError::NotAFile {
            path: fifo.clone(),
            kind: "FIFO".to_owned()
        })
    );
    assert!(h.listing().is_empty(), "{:?}", h.listing());
}
