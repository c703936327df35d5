//! `haul-cli` interrupted and crowded: Ctrl+C keeps the parts and the same command resumes
//! them, kill -9 mid-batch then the same command, two processes on one folder, many items
//! under a low open-file limit.

// Most tests here are Unix-only (signals, permissions): on Windows their helpers and imports
// go unused.
#![cfg_attr(not(unix), allow(unused_imports, dead_code))]

use crate::cli::{BIN, hex_sha, json_lines, names_in, run, s};
#[cfg(unix)]
use crate::cli::{count_parts, run_then_kill};
use crate::support::{Server, body};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `haul-cli` with `args` until `ready` holds (at most 10 s; then `linger`), and presses
/// Ctrl+C: a real SIGINT to the process. Its output once it has ended.
#[cfg(unix)]
async fn ctrl_c_when(
    args: Vec<String>,
    ready: impl Fn() -> bool + Send + 'static,
    linger: Duration,
) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready() {
            assert!(Instant::now() < deadline, "never ready for Ctrl+C");
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(linger);
        let pid = i32::try_from(child.id()).expect("pid");
        // SAFETY: sending SIGINT to our own child process.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
        child.wait_with_output().expect("output")
    })
    .await
    .expect("join")
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_pauses_keeps_the_parts_and_the_same_command_resumes_them() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().to_path_buf();
    // 300 KiB dripping 1 KiB every 5 ms: about 1.5 s each, so Ctrl+C lands mid-body.
    let paths = [
        "/bytes/307200/held.bin?range=1&etag=v1&drip_ms=5",
        "/bytes/307200/held2.bin?range=1&etag=v1&drip_ms=5",
    ];
    let args = vec![
        s("--json"),
        s("-o"),
        dest.display().to_string(),
        server.url(paths[0]),
        server.url(paths[1]),
    ];
    // Once both transfers are under way (their .part files exist).
    let output = ctrl_c_when(
        args.clone(),
        move || count_parts(&dest) == 2,
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    let (items, summary) = json_lines(&output);
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|v| v["status"] == "paused"), "{items:?}");
    assert_eq!(summary["paused"], 2);
    assert_eq!(count_parts(dir.path()), 2, "the parts are kept");
    let kept: u64 = ["held.bin.part", "held2.bin.part"]
        .iter()
        .map(|p| std::fs::metadata(dir.path().join(p)).map_or(0, |m| m.len()))
        .sum();
    assert!(kept > 0, "some bytes were kept");

    // The same command again (for people this time: no --json): both resume where they
    // stopped and finish byte-exact. The summary speaks of what this run fetched, the kept
    // bytes apart (it said "600 KiB in 0.9 s", counting them as fetched).
    let output = run(args[1..].to_vec(), None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("2 done, 0 failed"), "{stdout}");
    assert!(stdout.contains("were already on disk)"), "{stdout}");
    assert!(!stdout.contains("600 KiB in"), "{stdout}");
    for name in ["held.bin", "held2.bin"] {
        assert_eq!(
            std::fs::read(dir.path().join(name)).ok(),
            Some(crate::support::body(307_200)),
            "{name}"
        );
    }
    assert_eq!(count_parts(dir.path()), 0);
    assert_eq!(std::fs::read_dir(dir.path()).expect("dest").count(), 2);
    let resumed: Vec<_> = server
        .request_log()
        .into_iter()
        .filter_map(|r| r.range.zip(r.if_range))
        .collect();
    assert_eq!(resumed.len(), 2, "two resumed requests");
    assert!(
        resumed
            .iter()
            .all(|(range, if_range)| range != "bytes=0-" && if_range == "\"v1\""),
        "{resumed:?}"
    );
}

/// Issue 28, item 15: after Ctrl+C, haul-cli says the same command resumes the batch; doing
/// exactly that resumed the partial files but fetched the finished ones again as
/// 'name (1).bin'. The same command, with no flag added, now finishes the batch: the finished
/// files are skipped, the partial one resumes, and no copy is made.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_then_exactly_the_same_command_finishes_without_copies() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().to_path_buf();
    let mut args = vec![s("--json"), s("-o"), dest.display().to_string()];
    for i in 0..3 {
        args.push(server.url(&format!("/bytes/5000/done{i}.bin")));
    }
    // 300 KiB dripping 1 KiB every 5 ms: still running when Ctrl+C comes.
    args.push(server.url("/bytes/307200/held.bin?range=1&etag=v1&drip_ms=5"));
    let output = ctrl_c_when(
        args.clone(),
        move || {
            (0..3).all(|i| dest.join(format!("done{i}.bin")).exists()) && count_parts(&dest) == 1
        },
        Duration::ZERO,
    )
    .await;
    assert_eq!(output.status.code(), Some(130), "{output:?}");
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(said.contains("running the same command again"), "{said}");
    let (_, summary) = json_lines(&output);
    assert_eq!(
        (summary["done"].as_u64(), summary["paused"].as_u64()),
        (Some(3), Some(1))
    );

    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let (items, summary) = json_lines(&output);
    assert_eq!(
        (summary["skipped"].as_u64(), summary["done"].as_u64()),
        (Some(3), Some(1)),
        "{items:?}"
    );
    let names = names_in(dir.path());
    assert_eq!(names, ["done0.bin", "done1.bin", "done2.bin", "held.bin"]);
    assert_eq!(
        std::fs::read(dir.path().join("held.bin")).ok(),
        Some(body(307_200))
    );
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_batch_then_the_same_command_gets_every_file_byte_exact() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().to_path_buf();
    // Dripping 1 KiB every 2 ms (~0.5 MB/s) keeps all three running when the kill comes,
    // after their first checkpoint (once a second).
    let sizes = [3_000_000, 2_000_000, 1_500_000];
    let mut args = vec![s("--json"), s("-o"), dest.display().to_string()];
    for (i, n) in sizes.iter().enumerate() {
        args.push(server.url(&format!("/bytes/{n}/k{i}.bin?range=1&etag=e{i}&drip_ms=2")));
    }
    run_then_kill(
        args.clone(),
        move || count_parts(&dest) >= 3,
        Duration::from_millis(1500),
    )
    .await;
    assert_eq!(count_parts(dir.path()), 3, "killed mid-batch");

    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let (items, summary) = json_lines(&output);
    assert_eq!(summary["done"], 3, "{items:?}");
    for (i, n) in sizes.iter().enumerate() {
        let file = std::fs::read(dir.path().join(format!("k{i}.bin"))).expect("file");
        assert!(file == body(*n), "k{i}.bin is not byte-exact");
    }
    assert_eq!(count_parts(dir.path()), 0);
    let names = names_in(dir.path());
    assert_eq!(names, ["k0.bin", "k1.bin", "k2.bin"]);
    let resumed = server
        .request_log()
        .iter()
        .filter(|r| r.range.as_deref().is_some_and(|r| r != "bytes=0-"))
        .count();
    assert!(resumed >= 1, "at least one item resumed after the kill");
}

/// Two `haul-cli` on one URL and one folder, the second started while the first writes, from
/// a server whose file changes with every full download: the second never writes into the
/// first's live `.part` (it waits for its lock), and each reports the SHA-256 its file on disk
/// really has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_folder_never_write_into_each_others_part() {
    let server = Server::start().await;
    // 400 KB at about 200 KB/s: the first runs for about 2 s.
    let url = server.url("/bytes/400000/x.bin?range=1&etag=x&new_per_get=1&drip_ms=5");
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().to_str().expect("utf-8 path").to_owned();
    let first = {
        // Both fetch even a complete file again (the second's is another file of the same
        // size: the server changes it with every full download).
        let args = vec![
            "--no-skip-existing".into(),
            "--json".into(),
            "-o".into(),
            dest.clone(),
            url.clone(),
        ];
        tokio::spawn(run(args, None))
    };
    // The second starts once the first's part (with its sidecar) is on disk.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !dir.path().join("x.bin.part.haul").exists() {
        assert!(Instant::now() < deadline, "the first never started writing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let second = run(
        vec![
            "--no-skip-existing".into(),
            "--json".into(),
            "-o".into(),
            dest.clone(),
            url.clone(),
        ],
        None,
    )
    .await;
    let first = first.await.expect("first");
    let mut reports = Vec::new();
    for (who, output) in [("first", &first), ("second", &second)] {
        assert!(
            output.status.success(),
            "{who}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let (items, _) = json_lines(output);
        reports.push(items[0].clone());
    }
    for report in &reports {
        let path = report["path"].as_str().expect("a path");
        let on_disk = std::fs::read(path).expect("the file");
        assert_eq!(
            report["sha256"].as_str(),
            Some(hex_sha(&on_disk).as_str()),
            "{path}"
        );
    }
    let names: Vec<&str> = reports
        .iter()
        .filter_map(|r| r["path"].as_str())
        .filter_map(|p| Path::new(p).file_name()?.to_str())
        .collect();
    assert_eq!(
        names,
        ["x.bin", "x (1).bin"],
        "the second keeps both, after waiting"
    );
    let waited = String::from_utf8_lossy(&second.stderr).into_owned();
    assert!(
        !waited.contains("Range")
            && server
                .request_log()
                .iter()
                .all(|r| r.range.as_deref().is_none_or(|r| r == "bytes=0-")),
        "nobody resumed the other's live part: {:?}",
        server.request_log()
    );
}

/// macOS starts a process with a soft limit of 256 open files; with many items at once they
/// failed with "Too many open files". haul-cli raises its soft limit at start: here it starts
/// under a soft limit of 64 (the hard limit untouched) and runs 150 items at once, each
/// holding its socket and its `.part` while the server waits before the body.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_items_at_once_under_a_low_open_file_limit() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 150;
    let mut args = vec![
        "ulimit -Sn 64 && exec \"$0\" \"$@\"".to_owned(),
        BIN.to_owned(),
        s("--json"),
        s("-j"),
        n.to_string(),
        s("--per-host"),
        n.to_string(),
        s("-o"),
        dir.path().display().to_string(),
    ];
    args.extend((0..n).map(|i| server.url(&format!("/bytes/1000/f{i}.bin?delay_ms=1500"))));
    let output = tokio::task::spawn_blocking(move || {
        Command::new("sh")
            .arg("-c")
            .args(&args)
            .env_remove("http_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .stdin(Stdio::null())
            .output()
            .expect("sh")
    })
    .await
    .expect("join");
    let (items, summary) = json_lines(&output);
    let failures: Vec<_> = items
        .iter()
        .filter(|i| i["status"] != "done")
        .map(|i| i["error"].to_string())
        .take(3)
        .collect();
    assert_eq!(summary["done"], n, "failures like {failures:?}");
    assert_eq!(output.status.code(), Some(0));
}
