//! A torrent run again into a folder it already published into, against aria2c seeding on
//! 127.0.0.1: files a killed run had moved into place but not recorded are taken where they
//! are (not fetched again, no `name (1)` beside them); a link someone put inside the
//! torrent's folder never leads a write out of the destination; a second run on the same
//! torrent and folder at once is told it is taken.

use std::path::Path;

use crate::cli::{run, s};
use crate::support::torrent::{content, have_peers, landed};
use crate::torrent::{bytes, common};

/// A torrent of `set/a.bin`, `set/sub/b.bin` and `set/sub/c.bin` seeded by aria2c, and haul-cli
/// run once with only `a.bin` chosen into `dest`: the three files' bytes, the magnet, the
/// seeder.
async fn a_fetched_first(
    dir: &Path,
    dest: &Path,
) -> ([Vec<u8>; 3], String, crate::support::torrent::Seeder) {
    let files = [bytes(200_000, 1), bytes(300_000, 2), bytes(150_000, 3)];
    let made = content(
        dir,
        &[
            ("set/a.bin", &files[0]),
            ("set/sub/b.bin", &files[1]),
            ("set/sub/c.bin", &files[2]),
        ],
        None,
    );
    let seeder = made.seed(None, None);
    let magnet = seeder.magnet(&made.hash);
    let mut args = common(dest);
    args.extend([s("--select-file"), s("1"), magnet.clone()]);
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(landed(dest), ["set/a.bin"]);
    (files, magnet, seeder)
}

/// A run killed while it moved its files into place had moved `b.bin` but not recorded it:
/// the next run takes it where it is (its pieces checked, not fetched), and only `c.bin` comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_moved_into_place_by_a_killed_run_is_taken_where_it_is() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("out");
    let (files, magnet, seeder) = a_fetched_first(dir.path(), &dest).await;
    // What the killed run left: b.bin in place, the record naming only a.bin.
    std::fs::create_dir_all(dest.join("set/sub")).expect("sub");
    std::fs::write(dest.join("set/sub/b.bin"), &files[1]).expect("b in place");
    let before = seeder.uploaded();
    let mut args = common(&dest);
    args.push(magnet);
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        landed(&dest),
        ["set/a.bin", "set/sub/b.bin", "set/sub/c.bin"]
    );
    for (name, body) in ["set/a.bin", "set/sub/b.bin", "set/sub/c.bin"]
        .iter()
        .zip(&files)
    {
        assert!(
            std::fs::read(dest.join(name)).expect("file") == *body,
            "{name}"
        );
    }
    // c.bin and the piece it shares with b.bin.
    let again = seeder.uploaded() - before;
    assert!(
        again <= 150_000 + 16 * 1024,
        "b.bin was fetched again: {again} bytes"
    );
}

/// Someone replaced the torrent's `sub` folder with a link to a folder outside the
/// destination (holding a `c.bin` of the right length): the next run neither reads nor
/// writes through it; the item fails saying why, and the outside file is untouched.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_in_the_torrents_folder_leads_no_write_out_of_the_destination() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("out");
    let (_, magnet, _seeder) = a_fetched_first(dir.path(), &dest).await;
    let victim = dir.path().join("victim");
    std::fs::create_dir_all(&victim).expect("victim");
    let zeros = vec![0u8; 150_000];
    std::fs::write(victim.join("c.bin"), &zeros).expect("victim file");
    std::os::unix::fs::symlink(&victim, dest.join("set/sub")).expect("link");
    let mut args = common(&dest);
    args.push(magnet);
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let (items, _) = crate::cli::json_lines(&output);
    let error = items[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("leads out of the destination"), "{error}");
    assert!(std::fs::read(victim.join("c.bin")).expect("victim") == zeros);
    let names: Vec<_> = std::fs::read_dir(&victim)
        .expect("victim")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, ["c.bin"], "nothing new written outside");
}

/// Two haul-cli fetching the same torrent into one folder at once: the second says the
/// torrent is already being fetched there, and the first lands it whole (both used to fetch
/// it all; one then failed half-way, leaving `set (1)/`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_haul_cli_on_the_same_torrent_and_folder_says_it_is_taken() {
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let body = bytes(3_000_000, 9);
    let made = content(dir.path(), &[("slow.bin", &body)], None);
    // Slow: the first is still at it when the second starts.
    let seeder = made.seed(None, Some(1_000_000));
    let dest = dir.path().join("out");
    let mut args = common(&dest);
    args.push(seeder.magnet(&made.hash));
    let mut first = std::process::Command::new(crate::cli::BIN)
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let lock = dest.join(format!(".haul-torrent-{}/.lock", made.hash));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !lock.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the first never began"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let (items, _) = crate::cli::json_lines(&output);
    let error = items[0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("already being fetched into"), "{error}");
    assert!(first.wait().expect("the first").success());
    assert_eq!(landed(&dest), ["slow.bin"]);
    assert!(std::fs::read(dest.join("slow.bin")).expect("file") == body);
    assert!(
        !lock.parent().expect("work").exists(),
        "nothing left behind"
    );
}
