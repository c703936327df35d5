//! A torrent as `haul-cli --enable-rpc` tells it, against an aria2c seeder on 127.0.0.1: as
//! aria2 gives them, `files` (in `tellStatus` and `getFiles`) lists every file of the torrent
//! with its own index, its progress and whether `select-file` chose it, and `numPieces` and
//! `pieceLength` are the torrent's, and a magnet link waiting for its metadata has aria2's one
//! `[METADATA]<info hash>` file; aria2p (a real client) reads them so.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::torrent::{Seeder, Tracker, have_peers, make_torrent};
use crate::torrent::{Rpc, bytes};

/// A torrent of two files with `select-file 2`, slowed: while it runs and once complete,
/// `files` has both, numbered 1 and 2 in the torrent's order, b.bin chosen and a.bin not, b.bin's
/// progress growing to its length; the pieces are the torrent's 16 KiB ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rpc_lists_every_file_of_a_torrent_with_its_index_progress_and_choice() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("pair")).expect("data");
    let (a, b) = (bytes(400_000, 5), bytes(300_000, 6));
    std::fs::write(data.join("pair/a.bin"), &a).expect("a");
    std::fs::write(data.join("pair/b.bin"), &b).expect("b");
    let torrent = dir.path().join("pair.torrent");
    make_torrent(&data.join("pair"), &torrent, 16, None);
    let tracker = Tracker::start();
    // Slow enough to be seen under way.
    let _seeder = Seeder::start(&torrent, &data, Some(&tracker.announce()), Some(100_000));
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let rpc = Rpc::start(&dest).await;
    let options = json!({"select-file": "2", "seed-time": "0", "bt-tracker": tracker.announce()});
    let encoded = std::process::Command::new("base64")
        .arg("-w0")
        .arg(&torrent)
        .output()
        .expect("base64");
    let encoded = String::from_utf8_lossy(&encoded.stdout).into_owned();
    let reply = rpc
        .ask("aria2.addTorrent", json!([encoded, [], options]))
        .await;
    let gid = reply["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .to_owned();
    let number = |v: &Value| v.as_str().and_then(|t| t.parse::<u64>().ok());
    let path = |name: &str| dest.join("pair").join(name).display().to_string();
    let check = |files: &Value, b_done: &dyn Fn(u64) -> bool| {
        let files = files.as_array().unwrap_or_else(|| panic!("{files}"));
        assert_eq!(files.len(), 2, "{files:?}");
        for (file, (index, name, length, chosen)) in files.iter().zip([
            ("1", "a.bin", 400_000, "false"),
            ("2", "b.bin", 300_000, "true"),
        ]) {
            assert_eq!(file["index"], index, "{file}");
            assert_eq!(file["path"], path(name), "{file}");
            assert_eq!(number(&file["length"]), Some(length), "{file}");
            assert_eq!(file["selected"], chosen, "{file}");
            assert_eq!(file["uris"], json!([]), "{file}");
            let done = number(&file["completedLength"]).unwrap_or_else(|| panic!("{file}"));
            assert!(done <= length, "{file}");
            if name == "b.bin" {
                assert!(b_done(done), "{file}");
            }
        }
    };
    // Under way: part of b.bin.
    let status = rpc
        .until(&gid, Duration::from_secs(30), |s| {
            s["files"][1]["completedLength"]
                .as_str()
                .and_then(|t| t.parse::<u64>().ok())
                .is_some_and(|d| d > 0 && d < 300_000)
        })
        .await;
    check(&status["files"], &|d| d > 0 && d < 300_000);
    let pieces = (400_000u64 + 300_000).div_ceil(16_384);
    assert_eq!(status["pieceLength"], "16384", "{status}");
    assert_eq!(number(&status["numPieces"]), Some(pieces), "{status}");

    let status = rpc
        .until(&gid, Duration::from_secs(60), |s| {
            s["status"] == "complete" || s["status"] == "error"
        })
        .await;
    assert_eq!(status["status"], "complete", "{status}");
    check(&status["files"], &|d| d == 300_000);
    assert_eq!(status["pieceLength"], "16384", "{status}");
    let files = rpc.ask("aria2.getFiles", json!([gid])).await;
    assert_eq!(files["result"], status["files"], "{files}");
    assert!(std::fs::read(dest.join("pair/b.bin")).expect("b") == b);
}

/// A download that is not a torrent has aria2's own pieces: 1 MiB each, as many as its
/// length needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_download_has_pieces_of_one_mebibyte_as_aria2_gives_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let web = dir.path().join("web");
    std::fs::create_dir_all(&web).expect("web");
    std::fs::write(web.join("three.bin"), bytes(2 * 1_048_576 + 5, 1)).expect("file");
    let files = crate::support::media::Files::start(&web).await;
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let rpc = Rpc::start(&dest).await;
    let reply = rpc
        .ask("aria2.addUri", json!([[files.url("three.bin")]]))
        .await;
    let gid = reply["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .to_owned();
    let status = rpc
        .until(&gid, Duration::from_secs(30), |s| s["status"] == "complete")
        .await;
    assert_eq!(status["pieceLength"], "1048576", "{status}");
    assert_eq!(status["numPieces"], "3", "{status}");
    let files = rpc.ask("aria2.getFiles", json!([gid])).await;
    assert_eq!(files["result"], status["files"], "{files}");
}

/// aria2p, as a real client: a torrent of three files added with `select-file 1,3` (a.bin and
/// sub/b.bin) comes back complete with all three files, each its own index, path, length and
/// choice, the chosen ones whole; `getFiles` the same; the torrent's name and pieces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aria2p_lists_a_torrents_files_and_pieces() {
    use haul_testkit::tools::{aria2p, aria2p_python, stdout_of};
    if !have_peers() {
        return;
    }
    let Some(python) = aria2p_python() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("set/sub")).expect("data");
    let contents = [
        ("a.bin", bytes(100_000, 1)),
        ("sub/b.bin", bytes(120_000, 2)),
        ("c.bin", bytes(90_000, 3)),
    ];
    for (name, body) in &contents {
        std::fs::write(data.join("set").join(name), body).expect("content");
    }
    let torrent = dir.path().join("set.torrent");
    make_torrent(&data.join("set"), &torrent, 32, None);
    let tracker = Tracker::start();
    let _seeder = Seeder::start(&torrent, &data, Some(&tracker.announce()), None);
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let rpc = Rpc::start(&dest).await;
    let script = format!(
        r#"
import sys, time, aria2p
api = aria2p.API(aria2p.Client(host="http://127.0.0.1", port={port}, secret="{secret}"))
d = api.add_torrent("{torrent}", options={{"select-file": "1,3", "seed-time": "0", "bt-tracker": "{tracker}"}})
end = time.time() + 60
while not (d.is_complete or d.has_failed) and time.time() < end:
    time.sleep(0.1)
    d = api.get_download(d.gid)
print("status", d.status, d.name, d.num_pieces, d.piece_length)
for f in d.files:
    print("file", f.index, f.path.relative_to("{dest}"), f.length, f.completed_length, f.selected, len(f.uris))
print("getFiles", [x["index"] for x in api.client.get_files(d.gid)])
"#,
        port = rpc.server.port,
        secret = crate::rpc::SECRET,
        torrent = torrent.display(),
        tracker = tracker.announce(),
        dest = dest.display(),
    );
    let command = aria2p(python, &script);
    let output = tokio::task::spawn_blocking(move || {
        let mut command = command;
        command.output().expect("run aria2p")
    })
    .await
    .expect("join");
    let stdout = stdout_of(output);
    let pieces = (100_000u64 + 120_000 + 90_000).div_ceil(32_768);
    assert!(
        stdout.contains(&format!("status complete set {pieces} 32768")),
        "{stdout}"
    );
    for line in [
        "file 1 set/a.bin 100000 100000 True 0",
        "file 3 set/sub/b.bin 120000 120000 True 0",
        "getFiles ['1', '2', '3']",
    ] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    // c.bin (the torrent's second: its files are in name order), not chosen: listed, not
    // selected, with what it holds of the pieces it shares with its neighbours.
    let c = stdout
        .lines()
        .find(|l| l.starts_with("file 2 set/c.bin 90000 "))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(c.ends_with(" False 0"), "{c}");
    assert!(!dest.join("set/c.bin").exists());
}

/// A magnet link waiting for its metadata (its one peer hint takes the connection and says
/// nothing):
/// its `files` is aria2's `[METADATA]<info hash>`, of no length and no uris.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_magnet_waiting_for_its_metadata_has_aria2s_metadata_file() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let rpc = Rpc::start(dir.path()).await;
    let hash = "2123456789abcdef0123456789abcdef01234567";
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let magnet = format!(
        "magnet:?xt=urn:btih:{hash}&dn=waiting.bin&x.pe={}",
        silent.local_addr().expect("address")
    );
    let reply = rpc.ask("aria2.addUri", json!([[magnet]])).await;
    let gid = reply["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .to_owned();
    let status = rpc
        .until(&gid, Duration::from_secs(10), |s| {
            s["bittorrent"].is_object() && s["status"] == "active"
        })
        .await;
    let metadata = json!([{
        "index": "1",
        "path": format!("[METADATA]{hash}"),
        "length": "0",
        "completedLength": "0",
        "selected": "true",
        "uris": [],
    }]);
    assert_eq!(status["files"], metadata, "{status}");
    let files = rpc.ask("aria2.getFiles", json!([gid])).await;
    assert_eq!(files["result"], metadata, "{files}");
}
