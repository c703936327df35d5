//! Torrents reached through web links, and a peer that lies, against real peers on 127.0.0.1
//! (aria2c seeders, the testkit's tracker): a web link to a `.torrent`, by its name or by its
//! reply's type, is followed as a torrent unless `--follow-torrent false`; pieces a peer sends
//! corrupt never reach the file, and alone it never makes a torrent done. And Haul itself as
//! the seeder (librqbit sends at once): what a download from it reports as already on disk.

use crate::cli::{json_lines, run, s};
use crate::support::torrent::{Seeder, Tracker, files_under, have_peers, make_torrent};
use crate::torrent::{bytes, common};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_link_to_a_torrent_fetches_the_torrent_unless_follow_torrent_is_false() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data");
    let body = bytes(300_000, 8);
    std::fs::write(data.join("linked.bin"), &body).expect("content");
    let web = dir.path().join("web");
    std::fs::create_dir_all(&web).expect("web");
    let tracker = Tracker::start();
    // The torrent names its tracker itself, as published torrents do.
    make_torrent(
        &data.join("linked.bin"),
        &web.join("linked.torrent"),
        16,
        Some(&tracker.announce()),
    );
    let _seeder = Seeder::start(
        &web.join("linked.torrent"),
        &data,
        Some(&tracker.announce()),
        None,
    );
    let files = crate::support::media::Files::start(&web).await;

    let dest = dir.path().join("out");
    let mut args = common(&dest);
    args.push(files.url("/linked.torrent"));
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(std::fs::read(dest.join("linked.bin")).expect("file") == body);
    // The .torrent itself stays, as aria2 keeps it.
    assert_eq!(files_under(&dest), ["linked.bin", "linked.torrent"]);

    let kept = dir.path().join("kept");
    let mut args = common(&kept);
    args.extend([
        s("--follow-torrent"),
        s("false"),
        files.url("/linked.torrent"),
    ]);
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(files_under(&kept), ["linked.torrent"]);
}

/// A web app that serves a torrent by id (`/get?id=3`, `application/x-bittorrent`, no
/// `.torrent` in the name): its reply is known by its type, kept as `get.torrent` and followed;
/// with `--follow-torrent false` it is only kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_link_whose_reply_is_typed_as_a_torrent_is_followed_as_one() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data");
    let body = bytes(200_000, 11);
    std::fs::write(data.join("by-id.bin"), &body).expect("content");
    let web = dir.path().join("web");
    std::fs::create_dir_all(&web).expect("web");
    let tracker = Tracker::start();
    let made = dir.path().join("by-id.torrent");
    make_torrent(
        &data.join("by-id.bin"),
        &made,
        16,
        Some(&tracker.announce()),
    );
    let torrent = std::fs::read(&made).expect("torrent");
    std::fs::write(web.join("get"), &torrent).expect("served");
    let _seeder = Seeder::start(&made, &data, Some(&tracker.announce()), None);
    let files = crate::support::media::Files::start(&web).await;
    files.set_type("/get", "application/x-bittorrent");

    let dest = dir.path().join("out");
    let mut args = common(&dest);
    args.push(files.url("get?id=3"));
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(files_under(&dest), ["by-id.bin", "get.torrent"]);
    assert!(std::fs::read(dest.join("by-id.bin")).expect("file") == body);

    let kept = dir.path().join("kept");
    let mut args = common(&kept);
    args.extend([s("--follow-torrent"), s("false"), files.url("get?id=3")]);
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(files_under(&kept), ["get.torrent"]);
    assert!(std::fs::read(kept.join("get.torrent")).expect("kept") == torrent);
}

/// A peer that sends corrupt pieces (aria2c seeding, unchecked, a copy of the file with a byte
/// changed in every fourth piece) beside a good one: every piece is checked against the
/// torrent's SHA-1, the bad ones fetched again, and the file lands byte-exact. With only the
/// corrupt peer, the torrent never reports done and leaves no file under its name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_pieces_from_a_peer_never_reach_the_file() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (good, bad) = (dir.path().join("good"), dir.path().join("bad"));
    std::fs::create_dir_all(&good).expect("good");
    std::fs::create_dir_all(&bad).expect("bad");
    let body = bytes(640_000, 12);
    std::fs::write(good.join("c.bin"), &body).expect("content");
    let mut corrupt = body.clone();
    for piece in (0..corrupt.len()).step_by(4 * 16 * 1024) {
        corrupt[piece + 100] ^= 0xff;
    }
    std::fs::write(bad.join("c.bin"), &corrupt).expect("corrupt");
    let torrent = dir.path().join("c.torrent");
    make_torrent(&good.join("c.bin"), &torrent, 16, None);
    let tracker = Tracker::start();
    let announce = tracker.announce();
    let liar = Seeder::start_unverified(&torrent, &bad, Some(&announce));

    // The corrupt peer alone: never done, no c.bin.
    let alone = dir.path().join("alone");
    let mut args = common(&alone);
    args.extend([
        s("--bt-tracker"),
        announce.clone(),
        s("--timeout"),
        s("8"),
        torrent.display().to_string(),
    ]);
    let output = run(args, None).await;
    assert_ne!(output.status.code(), Some(0), "{output:?}");
    let (items, _) = json_lines(&output);
    assert_ne!(
        items[0]["status"], "done",
        "done from corrupt pieces: {items:?}"
    );
    assert!(!alone.join("c.bin").exists(), "{:?}", files_under(&alone));
    assert!(liar.uploaded() > 0, "the corrupt peer sent pieces");

    // With a good peer beside it: byte-exact.
    let _honest = Seeder::start(&torrent, &good, Some(&announce), None);
    let dest = dir.path().join("dest");
    let mut args = common(&dest);
    args.extend([s("--bt-tracker"), announce, torrent.display().to_string()]);
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(std::fs::read(dest.join("c.bin")).expect("file") == body);
    drop(liar);
}

/// Fetched from a Haul that seeds (its pieces come at once), nothing counts as already on
/// disk in a new folder: pieces that arrived before the torrent's first look at its figures
/// were counted as kept ("880.9 KiB were already on disk" for an empty folder).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_counts_as_already_on_disk_in_a_new_folder() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, hash, seeder) =
        crate::torrent::seeded_file(dir.path(), "fast.bin", 12_000_000, 5, None);
    // A first haul-cli fetches it from aria2c and seeds it for a minute on its own port.
    let port = crate::support::tools::free_port();
    let first = [
        s("-o"),
        dir.path().join("first").display().to_string(),
        s("--enable-dht"),
        s("false"),
        s("--seed-time"),
        s("1"),
        s("--seed-ratio"),
        s("0"),
        s("--listen-port"),
        port.to_string(),
        seeder.magnet(&hash),
    ];
    let mut haul = std::process::Command::new(crate::cli::BIN)
        .args(&first)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !dir.path().join("first/fast.bin").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first never finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(seeder);
    // The second, as a person reads it (no --json), from the first alone.
    let mut again: Vec<String> = common(&dir.path().join("again"))
        .into_iter()
        .skip(1)
        .collect();
    again.push(format!("magnet:?xt=urn:btih:{hash}&x.pe=127.0.0.1:{port}"));
    let output = run(again, None).await;
    let _ = haul.kill();
    let _ = haul.wait();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(said.contains("1 done"), "{said}");
    assert!(!said.contains("already on disk"), "{said}");
}
