//! A torrent as `haul-cli --enable-rpc` tells it, against an aria2c seeder on 127.0.0.1: as
//! aria2 gives them, `files` (in `tellStatus` and `getFiles`) lists every file of the torrent
//! with its own index, its progress and whether `select-file` chose it, and `numPieces` and
//! `pieceLength` are the torrent's, and a magnet link waiting for its metadata has aria2's one
//! `[METADATA]<info hash>` file; aria2p (a real client) reads them so. Also `addTorrent` in
//! base64 with `select-file`, pause and unpause without fetching verified pieces again, and
//! the overall download limit changed while torrents run.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::torrent::{Seeder, Tracker, content, have_peers, landed, make_torrent};
use crate::torrent::{bytes, seeded_file};

/// A torrent of `pair/a.bin` and `pair/b.bin` (these bytes) made in `dir`, seeded by aria2c
/// (at most `upload_limit` bytes a second) that a tracker introduces, and the `.torrent` in
/// base64 as `aria2.addTorrent` takes it.
fn pair_in_base64(
    dir: &Path,
    (a, b): (&[u8], &[u8]),
    upload_limit: Option<u64>,
) -> (Tracker, Seeder, String) {
    let made = content(dir, &[("pair/a.bin", a), ("pair/b.bin", b)], None);
    let tracker = Tracker::start();
    let seeder = made.seed(Some(&tracker.announce()), upload_limit);
    let encoded = std::process::Command::new("base64")
        .arg("-w0")
        .arg(&made.torrent)
        .output()
        .expect("base64");
    let encoded = String::from_utf8_lossy(&encoded.stdout).into_owned();
    (tracker, seeder, encoded)
}

/// A torrent of two files with `select-file 2`, slowed: while it runs and once complete,
/// `files` has both, numbered 1 and 2 in the torrent's order, b.bin chosen and a.bin not, b.bin's
/// progress growing to its length; the pieces are the torrent's 16 KiB ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rpc_lists_every_file_of_a_torrent_with_its_index_progress_and_choice() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (bytes(400_000, 5), bytes(300_000, 6));
    // Slow enough to be seen under way.
    let (tracker, _seeder, encoded) = pair_in_base64(dir.path(), (&a, &b), Some(100_000));
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let rpc = Rpc::start(&dest).await;
    let options = json!({"select-file": "2", "seed-time": "0", "bt-tracker": tracker.announce()});
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

/// `haul-cli --enable-rpc` saving into `dest`, with the DHT turned off over the RPC before
/// the first torrent starts the engine's BitTorrent session.
pub(crate) struct Rpc {
    pub(crate) server: crate::rpc::Rpc,
    token: String,
}

impl Rpc {
    pub(crate) async fn start(dest: &Path) -> Rpc {
        let rpc = Rpc {
            server: crate::rpc::start(dest).await,
            token: format!("token:{}", crate::rpc::SECRET),
        };
        let reply = rpc
            .ask(
                "aria2.changeGlobalOption",
                serde_json::json!([{"enable-dht": "false"}]),
            )
            .await;
        assert_eq!(reply["result"], "OK", "{reply}");
        rpc
    }

    /// Calls `method` with the token before `params`; the whole reply.
    pub(crate) async fn ask(&self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let mut all = vec![serde_json::json!(self.token)];
        all.extend(params.as_array().cloned().unwrap_or_default());
        let body = haul_testkit::tools::call(method, serde_json::Value::Array(all));
        crate::rpc::post(self.server.port, body, &[]).await.1
    }

    /// `gid`'s status once `done` holds for it (at most `within`).
    pub(crate) async fn until(
        &self,
        gid: &str,
        within: Duration,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + within;
        loop {
            let status =
                self.ask("aria2.tellStatus", serde_json::json!([gid])).await["result"].clone();
            if done(&status) {
                return status;
            }
            assert!(Instant::now() < deadline, "not yet: {status}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rpc_adds_a_torrent_in_base64_with_select_file_and_reports_its_swarm() {
    use serde_json::json;
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (a, b) = (bytes(400_000, 5), bytes(90_000, 6));
    let (tracker, _seeder, encoded) = pair_in_base64(dir.path(), (&a, &b), None);

    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let rpc = Rpc::start(&dest).await;
    let options = json!({"select-file": "2", "seed-time": "0", "bt-tracker": tracker.announce()});
    let reply = rpc
        .ask("aria2.addTorrent", json!([encoded, [], options]))
        .await;
    let gid = reply["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .to_owned();
    let status = rpc
        .until(&gid, Duration::from_secs(30), |s| {
            s["status"] == "complete" || s["status"] == "error"
        })
        .await;
    assert_eq!(status["status"], "complete", "{status}");
    assert_eq!(status["bittorrent"]["info"]["name"], "pair", "{status}");
    assert!(status["numSeeders"].as_str().is_some(), "{status}");
    assert_eq!(status["uploadLength"], "0", "{status}");
    // The chosen file's length, as aria2 reports it (not the pieces it shares with a.bin).
    assert_eq!(status["totalLength"], "90000", "{status}");
    assert_eq!(status["completedLength"], "90000", "{status}");
    assert_eq!(landed(&dest), ["pair/b.bin"]);
    assert!(std::fs::read(dest.join("pair/b.bin")).expect("b") == b);

    // A bad file fails as its download, saying why; base64 that is not is refused at once.
    let reply = rpc
        .ask("aria2.addTorrent", json!(["bm90IGEgdG9ycmVudA=="]))
        .await;
    let bad = reply["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .to_owned();
    let reply = rpc.ask("aria2.addTorrent", json!(["%%%"])).await;
    let refused = reply["error"]["message"].as_str().unwrap_or_default();
    assert!(refused.contains("base64"), "{reply}");
    let status = rpc
        .until(&bad, Duration::from_secs(10), |s| s["status"] == "error")
        .await;
    let said = status["errorMessage"].as_str().unwrap_or_default();
    assert!(said.contains("not a valid .torrent file"), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_paused_over_the_rpc_resumes_without_fetching_its_verified_pieces_again() {
    use serde_json::json;
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let size = 3_000_000;
    let (body, hash, seeder) = seeded_file(dir.path(), "paused.bin", size, 11, Some(1_000_000));
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let rpc = Rpc::start(&dest).await;
    let options = json!({"seed-time": "0"});
    let reply = rpc
        .ask("aria2.addUri", json!([[seeder.magnet(&hash)], options]))
        .await;
    let gid = reply["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .to_owned();
    let done = |s: &serde_json::Value| -> u64 {
        s["completedLength"]
            .as_str()
            .and_then(|d| d.parse().ok())
            .unwrap_or(0)
    };
    rpc.until(&gid, Duration::from_secs(20), |s| done(s) >= 1_000_000)
        .await;
    let reply = rpc.ask("aria2.pause", json!([gid])).await;
    assert_eq!(reply["result"], gid, "{reply}");
    rpc.until(&gid, Duration::from_secs(10), |s| s["status"] == "paused")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = seeder.uploaded();
    assert!(
        dest.join(format!(".haul-torrent-{hash}")).is_dir(),
        "the pieces are kept"
    );
    assert!(
        !dest.join("paused.bin").exists(),
        "nothing under its final name yet"
    );

    let reply = rpc.ask("aria2.unpause", json!([gid])).await;
    assert_eq!(reply["result"], gid, "{reply}");
    rpc.until(&gid, Duration::from_secs(30), |s| s["status"] == "complete")
        .await;
    assert!(std::fs::read(dest.join("paused.bin")).expect("file") == body);
    let again = seeder.uploaded() - before;
    assert!(
        again <= size as u64 - before.min(size as u64) + 1024 * 1024,
        "after the pause it took {again} bytes of a {size}-byte file, {before} sent before"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overall_download_limit_changed_over_the_rpc_holds_torrents_already_under_way() {
    use serde_json::json;
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let size = 1_200_000;
    let (body, hash, seeder) = seeded_file(dir.path(), "slow.bin", size, 12, None);
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let rpc = Rpc::start(&dest).await;
    // Under way at 20 KiB/s first (so it is still running when the limit changes)…
    let reply = rpc
        .ask(
            "aria2.changeGlobalOption",
            json!([{"max-overall-download-limit": "20K"}]),
        )
        .await;
    assert_eq!(reply["result"], "OK", "{reply}");
    let options = json!({"seed-time": "0"});
    let reply = rpc
        .ask("aria2.addUri", json!([[seeder.magnet(&hash)], options]))
        .await;
    let gid = reply["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .to_owned();
    rpc.until(&gid, Duration::from_secs(20), |s| {
        s["status"] == "active" && s["totalLength"] != "0"
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let early = rpc.until(&gid, Duration::from_secs(1), |_| true).await;
    let done: u64 = early["completedLength"]
        .as_str()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    assert!(
        done < size as u64 / 2,
        "the first limit did not hold: {early}"
    );
    // …then the limit is lifted while it runs: it finishes at once.
    let started = Instant::now();
    let reply = rpc
        .ask(
            "aria2.changeGlobalOption",
            json!([{"max-overall-download-limit": "0"}]),
        )
        .await;
    assert_eq!(reply["result"], "OK", "{reply}");
    rpc.until(&gid, Duration::from_secs(20), |s| s["status"] == "complete")
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert!(std::fs::read(dest.join("slow.bin")).expect("file") == body);
}
