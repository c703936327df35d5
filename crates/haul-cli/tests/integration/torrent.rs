//! BitTorrent through `haul-cli`, against real peers on 127.0.0.1 (aria2c seeding a torrent
//! made by transmission-create; a loopback tracker for `.torrent` files; no DHT): magnets with a peer
//! hint and `.torrent` files byte-exact, file selection, kill -9 then the same command (no
//! verified piece fetched twice: counted at the seeder), seeding until the ratio, hostile
//! names kept inside the folder, and the failures that must say why under a deadline.

use std::path::Path;
use std::time::{Duration, Instant};

#[cfg(unix)]
use crate::cli::BIN;
use crate::cli::{json_lines, run, s};
use crate::support::torrent::{
    Seeder, Tracker, content, files_under, have_peers, landed, make_torrent,
};

/// Bytes that differ from file to file (a wrong offset shows).
pub(crate) fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[1] ^ seed)
        .collect()
}

pub(crate) fn common(dest: &Path) -> Vec<String> {
    vec![
        s("--json"),
        s("-o"),
        dest.display().to_string(),
        s("--enable-dht"),
        s("false"),
        s("--seed-time"),
        s("0"),
    ]
}

/// One file of `size` bytes (pattern `seed`) made into a torrent and seeded by aria2c (at most
/// `upload_limit` bytes a second), in `dir`: the file's bytes, the torrent's info hash, the
/// seeder.
pub(crate) fn seeded_file(
    dir: &Path,
    name: &str,
    size: usize,
    seed: u8,
    upload_limit: Option<u64>,
) -> (Vec<u8>, String, Seeder) {
    let body = bytes(size, seed);
    let made = content(dir, &[(name, &body)], None);
    let seeder = made.seed(None, upload_limit);
    (body, made.hash, seeder)
}

/// haul-cli run with `args`, killed (SIGKILL) once `seeder` has sent it `bytes`: what the
/// seeder had sent by then.
#[cfg(unix)]
fn killed_once_sent(args: &[String], seeder: &Seeder, bytes: u64) -> u64 {
    let mut child = std::process::Command::new(BIN)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(20);
    while seeder.uploaded() < bytes {
        assert!(Instant::now() < deadline, "the seeder sent too little");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    seeder.uploaded()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_magnet_with_a_peer_hint_gets_its_metadata_and_file_from_the_peer() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (body, hash, seeder) = seeded_file(dir.path(), "single.bin", 1_500_000, 7, None);
    let dest = dir.path().join("out");
    let mut args = common(&dest);
    args.push(seeder.magnet(&hash));
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let (items, summary) = json_lines(&output);
    assert_eq!(summary["done"], 1, "{items:?}");
    assert!(std::fs::read(dest.join("single.bin")).expect("file") == body);
    // The working folder is gone: only the file is there.
    assert_eq!(files_under(&dest), ["single.bin"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torrent_file_of_many_files_lands_byte_exact_and_select_file_fetches_only_those() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("set/sub")).expect("data");
    let (a, b, c) = (bytes(700_000, 1), bytes(5, 2), bytes(333_333, 3));
    std::fs::write(data.join("set/a.bin"), &a).expect("a");
    std::fs::write(data.join("set/b.txt"), &b).expect("b");
    std::fs::write(data.join("set/sub/c.dat"), &c).expect("c");
    let torrent = dir.path().join("set.torrent");
    make_torrent(&data.join("set"), &torrent, 16, None);
    let tracker = Tracker::start();
    let _seeder = Seeder::start(&torrent, &data, Some(&tracker.announce()), None);

    let listed = run(vec![s("--show-files"), torrent.display().to_string()], None).await;
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains("1  ") && listed.contains("set/a.bin"),
        "{listed}"
    );
    assert!(listed.contains("set/sub/c.dat"), "{listed}");

    let dest = dir.path().join("all");
    let mut args = common(&dest);
    args.extend([
        s("--bt-tracker"),
        tracker.announce(),
        torrent.display().to_string(),
    ]);
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let (items, _) = json_lines(&output);
    assert_eq!(
        items[0]["files"].as_array().map(Vec::len),
        Some(3),
        "{items:?}"
    );
    // The item is the folder it made, not its first file.
    assert_eq!(items[0]["path"], dest.join("set").display().to_string());
    let size = (a.len() + b.len() + c.len()) as u64;
    assert_eq!(items[0]["size"], size, "the folder's files together");
    assert!(items[0].get("sha256").is_none(), "{items:?}");
    assert_eq!(
        files_under(&dest),
        ["set/a.bin", "set/b.txt", "set/sub/c.dat"]
    );
    assert!(std::fs::read(dest.join("set/a.bin")).expect("a") == a);
    assert!(std::fs::read(dest.join("set/b.txt")).expect("b") == b);
    assert!(std::fs::read(dest.join("set/sub/c.dat")).expect("c") == c);

    // The same command again: skipped, as haul-cli skips what is complete (no copy).
    let mut args = common(&dest);
    args.extend([
        s("--bt-tracker"),
        tracker.announce(),
        torrent.display().to_string(),
    ]);
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let (items, _) = json_lines(&output);
    assert_eq!(items[0]["status"], "skipped", "{items:?}");
    assert_eq!(
        files_under(&dest),
        ["set/a.bin", "set/b.txt", "set/sub/c.dat"]
    );

    // Fetched again on purpose: a new top folder, never over the first.
    let mut again = common(&dest);
    again.extend([
        s("--no-skip-existing"),
        s("--bt-tracker"),
        tracker.announce(),
        s("--select-file"),
        s("1,3"),
        torrent.display().to_string(),
    ]);
    let output = run(again, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let (items, _) = json_lines(&output);
    assert_eq!(items[0]["path"], dest.join("set (1)").display().to_string());
    // (b.txt left out: the working folder keeps the record of what was published, for a run
    // that chooses it later, and the bytes of its pieces shared with the others.)
    assert_eq!(
        landed(&dest),
        [
            "set (1)/a.bin",
            "set (1)/sub/c.dat",
            "set/a.bin",
            "set/b.txt",
            "set/sub/c.dat"
        ]
    );
    assert!(std::fs::read(dest.join("set (1)/sub/c.dat")).expect("c") == c);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_in_a_torrent_land_sanitised_inside_its_folder() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let top = data.join("evil");
    std::fs::create_dir_all(top.join("CON")).expect("data");
    let long = "x".repeat(240) + ".txt";
    let hostile = [
        ("CON/nul.txt", 1u8),
        ("Readme", 2),
        ("README", 3),
        ("a:b?.txt", 4),
        ("bell\u{7}.txt", 5),
        ("dots...", 6),
        (long.as_str(), 7),
    ];
    for (name, seed) in hostile {
        std::fs::write(top.join(name), bytes(20_000 + usize::from(seed), seed)).expect("file");
    }
    let torrent = dir.path().join("evil.torrent");
    make_torrent(&top, &torrent, 16, None);
    // aria2c (the seeder) writes a control character as %07: its copy of that file is there.
    std::fs::copy(top.join("bell\u{7}.txt"), top.join("bell%07.txt")).expect("aria2's name");
    let tracker = Tracker::start();
    let _seeder = Seeder::start(&torrent, &data, Some(&tracker.announce()), None);
    let dest = dir.path().join("out");
    let mut args = common(&dest);
    args.extend([
        s("--bt-tracker"),
        tracker.announce(),
        torrent.display().to_string(),
    ]);
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let files = files_under(&dest);
    assert_eq!(files.len(), hostile.len(), "{files:?}");
    for file in &files {
        assert!(
            file.starts_with("evil/"),
            "{file} is outside the item's folder"
        );
        for part in file.split('/') {
            assert_eq!(
                part,
                haul_core::names::sanitize(part),
                "{file}: unsanitised"
            );
            assert!(part.len() <= 200, "{file}: too long");
        }
    }
    assert!(
        files.contains(&"evil/_CON/nul.txt".to_owned())
            || files.contains(&"evil/_CON/_nul.txt".to_owned()),
        "{files:?}"
    );
    // Names that differ only by case are two files on every system.
    let lower: std::collections::HashSet<String> = files.iter().map(|f| f.to_lowercase()).collect();
    assert_eq!(lower.len(), files.len(), "{files:?}");
    // Every file's bytes arrived whole (each has its own length and pattern).
    let mut sizes: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(dest.join(f)).expect("file").len())
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, (1..=7).map(|s| 20_000 + s).collect::<Vec<u64>>());
}

/// `--select-file` naming a file the torrent does not have fails saying so in the person's
/// numbers (librqbit's own words numbered files from 0: "file id 1 is out of range").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_file_beyond_the_torrents_files_says_so_in_its_numbers() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, hash, seeder) = seeded_file(dir.path(), "one.bin", 50_000, 3, None);
    let mut args = common(&dir.path().join("out"));
    args.extend([s("--select-file"), s("2"), seeder.magnet(&hash)]);
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let (items, _) = json_lines(&output);
    let error = items[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("select-file names file 2") && error.contains("numbered from 1"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_torrent_and_a_magnet_without_peers_fail_saying_why_in_time() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.torrent");
    std::fs::write(&bad, b"<html>not a torrent</html>").expect("bad");
    // A torrent whose file would climb out of its folder is refused as a whole.
    let climbing = dir.path().join("climb.torrent");
    let mut evil = b"d4:infod5:filesld6:lengthi3e4:pathl2:..4:evileee4:name3:top12:piece lengthi16384e6:pieces20:".to_vec();
    evil.extend([0u8; 20]);
    evil.extend(b"ee");
    std::fs::write(&climbing, evil).expect("climb");
    let dest = dir.path().join("out");
    let started = Instant::now();
    let mut args = common(&dest);
    args.extend([
        s("--stall-timeout"),
        s("2"),
        bad.display().to_string(),
        climbing.display().to_string(),
        s("magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567"),
        // A peer hint where nothing listens: waits for the metadata, then says so.
        format!(
            "magnet:?xt=urn:btih:1123456789abcdef0123456789abcdef01234567&x.pe=127.0.0.1:{}",
            crate::support::tools::free_port()
        ),
    ]);
    let output = run(args, None).await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let (items, summary) = json_lines(&output);
    assert_eq!(summary["failed"], 4, "{items:?}");
    let error = |source: &str| {
        items
            .iter()
            .find(|i| i["source"].as_str().is_some_and(|s| s.contains(source)))
            .and_then(|i| i["error"].as_str())
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        error("bad.torrent").contains("not a valid .torrent file"),
        "{items:?}"
    );
    assert!(
        error("climb.torrent").contains("not a valid .torrent file"),
        "{items:?}"
    );
    let nobody = error("btih:0123");
    assert!(
        nobody.contains("names no peer") && nobody.contains("DHT is off"),
        "{nobody}"
    );
    let gone = error("btih:1123");
    assert!(
        gone.contains("no peer sent this torrent's metadata"),
        "{gone}"
    );
    assert!(!dir.path().join("evil").exists());
    assert_eq!(files_under(&dest), Vec::<String>::new());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_then_the_same_command_fetches_no_verified_piece_twice() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let size = 4_000_000;
    // The seeder sends at most 1 MB/s: the kill lands mid-way.
    let (body, hash, seeder) = seeded_file(dir.path(), "big.bin", size, 9, Some(1_000_000));
    let dest = dir.path().join("out");
    let mut args = common(&dest);
    args.push(seeder.magnet(&hash));
    let work = dest.join(format!(".haul-torrent-{hash}"));
    let before = killed_once_sent(&args, &seeder, 2_000_000);
    assert!(before < size as u64, "killed mid-way: {before}");
    assert!(
        work.is_dir(),
        "the working folder keeps the verified pieces"
    );
    assert!(
        !dest.join("big.bin").exists(),
        "nothing under its final name yet"
    );

    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(std::fs::read(dest.join("big.bin")).expect("file") == body);
    let again = seeder.uploaded() - before;
    // The second run fetches only what was not verified at the kill: the rest of the file,
    // plus what was in flight then (sent by the seeder into the socket and the requests
    // queued ahead, never verified): at most 1 MiB more. Fetching the whole file again
    // would be far over.
    assert!(
        again <= size as u64 - before + 1024 * 1024,
        "the second run took {again} bytes of a {size}-byte file, {before} sent before the kill"
    );
    assert!(!work.exists(), "the working folder is gone once done");
}

/// A file fetched in part, then left out (`--select-file` naming the other): once the chosen
/// one is done, the verified bytes of the one left out stay in the working folder (as
/// qBittorrent keeps them), and choosing it later fetches only the rest of it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bytes_of_a_file_left_out_are_kept_when_the_torrent_completes() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("pair")).expect("data");
    let size = 4_000_000;
    let (big, small) = (bytes(size, 13), bytes(100_000, 14));
    std::fs::write(data.join("pair/big.bin"), &big).expect("big");
    std::fs::write(data.join("pair/small.bin"), &small).expect("small");
    let torrent = dir.path().join("pair.torrent");
    let hash = make_torrent(&data.join("pair"), &torrent, 16, None);
    // At most 1 MB/s: the kill lands mid-way through big.bin.
    let seeder = Seeder::start(&torrent, &data, None, Some(1_000_000));
    let dest = dir.path().join("out");
    let work = dest.join(format!(".haul-torrent-{hash}"));
    let with = |select: Option<&str>| {
        let mut args = common(&dest);
        if let Some(select) = select {
            args.extend([s("--select-file"), s(select)]);
        }
        args.push(seeder.magnet(&hash));
        args
    };
    let at_kill = killed_once_sent(&with(None), &seeder, 2_000_000);

    // Only small.bin now (big.bin is file 1): done, and big.bin's bytes are still there.
    let output = run(with(Some("2")), None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert!(std::fs::read(dest.join("pair/small.bin")).expect("small") == small);
    assert!(!dest.join("pair/big.bin").exists());
    let before = seeder.uploaded();
    assert!(before < size as u64, "killed mid-way: {before}");
    assert!(
        work.is_dir(),
        "big.bin's verified bytes are kept: {:?}",
        files_under(&dest)
    );

    // The same command again: skipped, and what was kept stays (a skip is no reason to
    // forget where small.bin went, or big.bin's bytes).
    let output = run(with(Some("2")), None).await;
    let (items, _) = json_lines(&output);
    assert_eq!(items[0]["status"], "skipped", "{items:?}");
    assert!(
        work.join("published.json").is_file(),
        "{:?}",
        files_under(&dest)
    );

    // big.bin chosen again: only the rest of it comes (plus what was in flight at the kill),
    // into the same folder, beside small.bin, which is taken where it is (not fetched again,
    // no `pair (1)`).
    let output = run(with(Some("1")), None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(files_under(&dest), ["pair/big.bin", "pair/small.bin"]);
    assert!(std::fs::read(dest.join("pair/big.bin")).expect("big") == big);
    assert!(std::fs::read(dest.join("pair/small.bin")).expect("small") == small);
    let again = seeder.uploaded() - before;
    // What was in flight at the kill (at most 1 MiB) and the piece big.bin shares with
    // small.bin aside, what the seeder had sent then is verified and kept.
    assert!(
        again <= size as u64 - at_kill + 1024 * 1024 + 16 * 1024,
        "big.bin was fetched again from the start, or small.bin with it: {again} bytes, \
         {at_kill} sent before the kill"
    );
    assert!(!work.exists(), "nothing left out holds bytes now");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_goes_on_until_the_ratio_then_ends() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let body = bytes(600_000, 4);
    let made = content(dir.path(), &[("share.bin", &body)], None);
    let torrent = &made.torrent;
    let tracker = Tracker::start();
    let seeder = made.seed(Some(&tracker.announce()), None);
    let dest = dir.path().join("haul");
    let port = crate::support::tools::free_port();
    let args = vec![
        s("--json"),
        s("-o"),
        dest.display().to_string(),
        s("--enable-dht"),
        s("false"),
        s("--listen-port"),
        port.to_string(),
        s("--seed-ratio"),
        s("1.0"),
        // 150 KiB/s: the 600 kB take the downloader about four seconds from Haul.
        s("--max-overall-upload-limit"),
        s("150K"),
        s("--bt-tracker"),
        tracker.announce(),
        torrent.display().to_string(),
    ];
    let haul = tokio::spawn(run(args, None));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !dest.join("share.bin").exists() {
        assert!(Instant::now() < deadline, "never published");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Haul has the file and seeds it; the only other peer now is a new downloader.
    drop(seeder);
    let seeding = Instant::now();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!haul.is_finished(), "ended before seeding to its ratio");
    let leech_dir = dir.path().join("leech");
    let leech = tokio::task::spawn_blocking({
        let (leech_dir, torrent, announce) =
            (leech_dir.clone(), torrent.clone(), tracker.announce());
        move || {
            std::process::Command::new("aria2c")
                .args([
                    "--seed-time=0",
                    "--enable-dht=false",
                    "--enable-dht6=false",
                    "--bt-enable-lpd=false",
                    "--summary-interval=0",
                    "--quiet",
                ])
                .arg(format!(
                    "--listen-port={}",
                    crate::support::tools::free_port()
                ))
                .arg(format!("--bt-tracker={announce}"))
                .arg(format!("--dir={}", leech_dir.display()))
                .arg(torrent)
                .output()
        }
    });
    // The new downloader finds Haul through the tracker; Haul ends once it has sent the
    // file's size (ratio 1.0).
    let output = tokio::time::timeout(Duration::from_secs(60), haul)
        .await
        .expect("seeding ended at the ratio")
        .expect("join");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let seeded = seeding.elapsed();
    assert!(
        seeded >= Duration::from_millis(2500),
        "the upload limit did not hold: {seeded:?}"
    );
    let (items, _) = json_lines(&output);
    assert_eq!(items[0]["status"], "done", "{items:?}");
    let leeched = tokio::time::timeout(Duration::from_secs(30), leech)
        .await
        .expect("the downloader ended")
        .expect("join")
        .expect("aria2c");
    assert!(leeched.status.success(), "{leeched:?}");
    assert!(std::fs::read(leech_dir.join("share.bin")).expect("leeched") == body);
}

/// With the DHT on and no way out (the tests' machine), librqbit's own warnings (its DHT
/// bootstrap names it cannot resolve) stay off stderr at the default verbosity: they broke
/// the progress bars every few seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn librqbit_warnings_stay_off_stderr_by_default() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // About three seconds at the seeder's 500 kB/s: time for the DHT to complain.
    let (body, hash, seeder) = seeded_file(dir.path(), "quiet.bin", 1_500_000, 3, Some(500_000));
    let dest = dir.path().join("haul");
    let args = vec![
        s("-o"),
        dest.display().to_string(),
        s("--seed-time"),
        s("0"),
        seeder.magnet(&hash),
    ];
    let out = run(args, None).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(std::fs::read(dest.join("quiet.bin")).expect("file") == body);
    assert!(!stderr.contains("librqbit"), "{stderr}");
}
