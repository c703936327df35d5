//! The window with real BitTorrent peers (aria2c seeding, see `haul_testkit::torrent`): a
//! magnet link pasted becomes one row that finishes with the file, its swarm on the row; a
//! torrent of many files lists them in the row's details, and the files unticked there are
//! not fetched; cancelling a row asks before its pieces are deleted (also a web link's whose
//! reply was a `.torrent`); a row quit while it seeds comes back done, never fetched again.

/// A magnet link with a peer hint, pasted, becomes a row that fetches the metadata and the
/// file from the peer and finishes done, byte-exact.
#[test]
fn the_window_adds_a_magnet_row_and_it_finishes_done() {
    use crate::world::{World, add_via_box, step_until};
    use haul_testkit::torrent::{content, have_peers};
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = haul_testkit::body_gen(700_000, 9);
    let made = content(dir.path(), &[("w.bin", &file)], None);
    let (hash, seeder) = (&made.hash, made.seed(None, None));
    let mut world = World::new();
    // No DHT in tests; the row's torrent seeds for no time once verified.
    let mut h = torrent_window(&mut world, None);
    add_via_box(&mut h, &format!("{}\n  seed-time=0\n", seeder.magnet(hash)));
    step_until(&mut h, "the magnet row done", |app| {
        app.model().count(haul::protocol::Status::Done) == 1
    });
    assert_eq!(world.files(), ["w.bin"]);
    assert!(std::fs::read(world.dest.path().join("w.bin")).expect("file") == file);
    let app = h.state();
    let row = &app.model().session().entries()[0];
    assert!(row.swarm.is_some_and(|s| !s.metadata), "{:?}", row.swarm);
}

/// A magnet link of a torrent of three files: once its metadata arrives, the row's details
/// list them by folder with their sizes, all ticked; unticking one and applying starts the row
/// again with `select-file` naming the others, and only they land, byte-exact.
#[test]
fn the_details_list_a_torrents_files_and_fetch_only_the_ticked_ones() {
    use crate::world::{World, add_via_box, step_until, steps};
    use egui_kittest::kittest::{NodeT as _, Queryable as _};
    use haul::app::HaulApp;
    use haul::human::human_bytes;
    use haul_testkit::torrent::{have_peers, landed};
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (contents, made) = three_files(dir.path());
    // Slow enough that the choice is made while it runs.
    let (hash, seeder) = (&made.hash, made.seed(None, Some(100_000)));
    let mut world = World::new();
    let mut h = torrent_window(&mut world, None);
    add_via_box(&mut h, &format!("{}\n  seed-time=0\n", seeder.magnet(hash)));
    step_until(&mut h, "the torrent's files known", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.torrent_files.len() == 3 && r.name == "set")
    });
    h.get_by_label("set").click();
    h.step();
    h.step();
    // Each file by its name under its folder, with its size, ticked.
    assert!(h.query_by_label("set/").is_some(), "the top folder");
    assert!(h.query_by_label("sub/").is_some(), "the sub-folder");
    for (name, body) in &contents {
        let leaf = name.rsplit('/').next().expect("name");
        h.get_by_label(leaf);
        assert!(
            h.query_by_label(&human_bytes(body.len() as u64)).is_some(),
            "{name}'s size"
        );
    }
    let chosen = |n: usize, bytes: u64| format!("{n} of 3 files · {}", human_bytes(bytes));
    assert!(h.query_by_label(&chosen(3, 810_000)).is_some());
    // The details strip scrolls: each tick into view first.
    let tick = |h: &mut egui_kittest::Harness<'_, HaulApp>, name: &str| {
        h.get_by_label(name).scroll_to_me();
        steps(h, 20);
        h.get_by_label(name).click();
        steps(h, 2);
    };
    // Unticking every file says one must stay, and Apply cannot be pressed.
    for name in ["a.bin", "b.bin", "c.bin"] {
        tick(&mut h, name);
    }
    assert!(
        h.query_by_label("At least one file must stay ticked")
            .is_some()
    );
    assert!(h.get_by_label("Apply").accesskit_node().is_disabled());
    tick(&mut h, "a.bin");
    tick(&mut h, "c.bin");
    assert!(h.query_by_label(&chosen(2, 500_000)).is_some());
    assert!(
        h.query_by_label("At least one file must stay ticked")
            .is_none()
    );
    h.get_by_label("Apply").scroll_to_me();
    steps(&mut h, 20);
    h.get_by_label("Apply").click();
    h.step();
    step_until(&mut h, "the row done with two files", |app| {
        app.model().rows().first().is_some_and(|r| {
            r.status() == haul::protocol::Status::Done
                && r.options.torrent.select == Some(vec![1, 3])
        })
    });
    let dest = world.dest.path();
    assert_eq!(landed(dest), ["set/a.bin", "set/sub/c.bin"]);
    // The row is the folder, not its first file.
    let row = &h.state().model().rows()[0];
    assert_eq!((row.name.as_str(), row.path()), ("set", dest.join("set")));
    for (name, body) in [&contents[0], &contents[2]] {
        let got = std::fs::read(dest.join("set").join(name)).expect("file");
        assert!(got == *body, "{name} byte-exact");
    }
}

/// Cancelling a torrent row deletes its verified pieces, so it asks first, as for any partial
/// download: "Don't cancel" keeps it running; paused, then cancelled and confirmed, its working
/// folder is gone.
#[test]
fn cancelling_a_torrent_row_asks_before_deleting_its_pieces() {
    cancel_a_paused_torrent(|seeder, hash, _| seeder.magnet(hash), false, &[]);
}

/// The same for a web link whose reply is a `.torrent`: its info hash, known only once the
/// `.torrent` is fetched, is kept with the row, so the cancel finds the working folder too
/// (the `.torrent` itself stays, as aria2 keeps it).
#[test]
fn a_paused_torrent_from_a_web_link_cancelled_loses_its_pieces_too() {
    cancel_a_paused_web_link(false);
}

/// The same after a restart: the info hash was saved with the paused row.
#[test]
fn a_paused_torrent_from_a_web_link_cancelled_after_a_restart_loses_its_pieces_too() {
    cancel_a_paused_web_link(true);
}

fn cancel_a_paused_web_link(restart: bool) {
    let mut served = None;
    cancel_a_paused_torrent(
        |_, _, torrent| {
            let web = torrent.parent().expect("dir").join("web");
            std::fs::create_dir_all(&web).expect("web");
            std::fs::copy(torrent, web.join("slow.torrent")).expect("served");
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            let files = runtime.block_on(haul_testkit::media::Files::start(&web));
            let url = files.url("slow.torrent");
            served = Some((runtime, files));
            url
        },
        restart,
        &["slow.torrent"],
    );
}

/// A slow torrent added by the line `add` makes (from its seeder, info hash and `.torrent`),
/// running, asked about and kept; paused (and, with `restart`, the window quit and started
/// again on its saved queue), cancelled and confirmed: its working folder goes and only `left`
/// stays in the destination.
fn cancel_a_paused_torrent(
    add: impl FnOnce(&haul_testkit::torrent::Seeder, &str, &std::path::Path) -> String,
    restart: bool,
    left: &[&str],
) {
    use crate::world::{World, add_via_box, step_until, steps};
    use egui_kittest::kittest::Queryable as _;
    use haul::app::HaulApp;
    use haul::protocol::Status;
    use haul_testkit::torrent::{Tracker, content, have_peers};
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // The torrent names its tracker, as published torrents do (a web link has no peer hint).
    let tracker = Tracker::start();
    let body = haul_testkit::body_gen(3_000_000, 4);
    let made = content(
        dir.path(),
        &[("slow.bin", &body)],
        Some(&tracker.announce()),
    );
    let hash = &made.hash;
    // Slow: the row is still running when it is cancelled.
    let seeder = made.seed(Some(&tracker.announce()), Some(150_000));
    let line = add(&seeder, hash, &made.torrent);
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    let mut h = torrent_window(&mut world, Some(&db));
    add_via_box(&mut h, &format!("{line}\n  seed-time=0\n"));
    // The torrent's own pieces (a web link's `.torrent` arrives first, under its own name).
    let work = world.dest.path().join(format!(".haul-torrent-{hash}"));
    step_until(&mut h, "verified pieces", |app| {
        app.model().rows().first().is_some_and(|r| {
            r.status() == Status::Running
                && r.name == "slow.bin"
                && r.state.kept_bytes() > 0
                && work.is_dir()
        })
    });
    let asked = |h: &mut egui_kittest::Harness<'_, HaulApp>| {
        h.get_by_label("Cancel…").click();
        steps(h, 3);
        assert!(
            h.query_by_label_contains("Cancel slow.bin?").is_some(),
            "it asks before deleting: {:?}",
            h.state()
                .model()
                .rows()
                .first()
                .map(|r| (&r.name, r.status()))
        );
    };
    asked(&mut h);
    h.get_by_label("Don't cancel").click();
    steps(&mut h, 3);
    assert_eq!(h.state().model().rows()[0].status(), Status::Running);

    h.get_by_label("Pause").click();
    step_until(&mut h, "paused", |app| {
        app.model().rows()[0].status() == Status::Paused
    });
    assert!(work.is_dir(), "a pause keeps the pieces");
    if restart {
        drop(h);
        let engine = world.engines.pop().expect("engine");
        assert!(engine.suspend_blocking(std::time::Duration::from_secs(5)));
        h = torrent_window(&mut world, Some(&db));
        step_until(&mut h, "paused again", |app| {
            app.model()
                .rows()
                .first()
                .is_some_and(|r| r.status() == Status::Paused && r.name == "slow.bin")
        });
        steps(&mut h, 2);
    }
    asked(&mut h);
    h.get_by_label("Cancel and delete").click();
    step_until(&mut h, "cancelled", |app| {
        app.model().rows()[0].status() == Status::Cancelled
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while work.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the paused torrent's pieces are deleted once confirmed"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(world.files(), left);
}

/// Settings' BitTorrent section: the listening port typed, the DHT and trackers switched off;
/// they are saved, come back on the next start, and the engine takes them: the port is
/// Haul's once a torrent starts, and a magnet whose only peer source is a tracker fails
/// saying there is nowhere to ask.
#[test]
fn the_bittorrent_settings_are_saved_and_the_engine_takes_them() {
    use crate::world::{MemoryStorage, World, add_via_box, harness_with, step_until, steps};
    use eframe::egui;
    use egui_kittest::kittest::Queryable as _;
    use haul::app::HaulApp;
    use haul::protocol::Status;
    use haul_testkit::torrent::{Seeder, Tracker, have_peers, make_torrent};
    if !have_peers() {
        return;
    }
    let mut world = World::new();
    let mut h = world.harness();
    h.get_by_label("Settings").click();
    steps(&mut h, 2);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    h.get_by_label("Listen port").scroll_to_me();
    steps(&mut h, 10);
    h.get_by_label("Listen port").focus();
    h.step();
    h.get_by_label("Listen port").type_text("70000");
    steps(&mut h, 2);
    assert!(
        h.query_all_by_label("any free port").count() > 0,
        "a port out of range says what it takes"
    );
    assert_eq!(h.state().settings().bt_listen_port, 0);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Listen port").type_text(&port.to_string());
    h.step();
    for switch in ["Find peers through the DHT", "Ask trackers for peers"] {
        h.get_by_label(switch).scroll_to_me();
        steps(&mut h, 10);
        h.get_by_label(switch).click();
        steps(&mut h, 2);
    }
    let limits = h.state().settings().limits();
    assert_eq!(
        (limits.listen_port, limits.dht, limits.trackers),
        (port, false, false)
    );

    // Saved, and there on the next start.
    let mut storage = MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    drop(h);
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    let _ = world.window.set(h.ctx.clone());
    let s = h.state().settings();
    assert_eq!(
        (s.bt_listen_port, s.bt_dht, s.bt_trackers),
        (port, false, false)
    );

    // A magnet whose peers only its tracker knows: nowhere to ask with trackers off.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("t.bin"), haul_testkit::body_gen(100_000, 7)).expect("data");
    let torrent = dir.path().join("t.torrent");
    let hash = make_torrent(&dir.path().join("t.bin"), &torrent, 16, None);
    let tracker = Tracker::start();
    let seeder = Seeder::start(&torrent, dir.path(), Some(&tracker.announce()), None);
    add_via_box(
        &mut h,
        &format!("magnet:?xt=urn:btih:{hash}&tr={}", tracker.announce()),
    );
    step_until(&mut h, "the magnet row failed", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.status() == Status::Failed)
    });
    let error = h.state().model().rows()[0]
        .state
        .error()
        .unwrap_or_default();
    assert!(error.contains("no tracker"), "{error}");
    assert_eq!(seeder.uploaded(), 0);
    assert!(
        std::net::TcpListener::bind(("0.0.0.0", port)).is_err(),
        "Haul listens on the port typed"
    );
}

/// A torrent seeding from its files in place when the window quits comes back done at the
/// next start, its file in place: never fetched again as a copy (`single (1).bin`).
#[test]
fn a_torrent_quit_while_seeding_comes_back_done_not_fetched_again() {
    use crate::world::{World, add_via_box, step_until, steps};
    use haul::protocol::Status;
    use haul_testkit::torrent::{content, have_peers};
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let file = haul_testkit::body_gen(400_000, 5);
    let made = content(dir.path(), &[("single.bin", &file)], None);
    let (hash, seeder) = (&made.hash, made.seed(None, None));
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    let mut h = torrent_window(&mut world, Some(&db));
    // It seeds for an hour: still seeding when the window quits.
    add_via_box(
        &mut h,
        &format!("{}\n  seed-time=60\n", seeder.magnet(hash)),
    );
    step_until(&mut h, "seeding", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.status() == Status::Running && r.swarm.is_some_and(|s| s.seeding))
    });
    steps(&mut h, 3);
    assert_eq!(world.files(), ["single.bin"]);
    drop(h);
    let engine = world.engines.pop().expect("engine");
    assert!(engine.suspend_blocking(std::time::Duration::from_secs(5)));
    let mut h = torrent_window(&mut world, Some(&db));
    steps(&mut h, 3);
    let row = &h.state().model().rows()[0];
    assert_eq!(
        (row.status(), row.name.as_str()),
        (Status::Done, "single.bin"),
        "{:?}",
        row.state
    );
    // Given time, nothing fetches it again.
    std::thread::sleep(std::time::Duration::from_secs(2));
    steps(&mut h, 3);
    assert_eq!(world.files(), ["single.bin"]);
    assert!(std::fs::read(world.dest.path().join("single.bin")).expect("file") == file);
}

/// A torrent seeding two of its three files: the third ticked in the details and applied is
/// fetched into the same folder, beside the two, which are taken where they are — not fetched
/// again, not copied into `set (1)` — and the row goes on seeding all three; Stop (seeding)
/// ends it done, the folder its path.
#[test]
fn ticking_a_left_out_file_of_a_seeding_torrent_fetches_it_beside_the_others() {
    tick_a_left_out_file(true);
}

/// The same for a torrent done with two of its three files, after a restart (its files'
/// list was saved with it): Apply starts it again at once.
#[test]
fn ticking_a_left_out_file_of_a_done_torrent_after_a_restart_fetches_it_beside_the_others() {
    tick_a_left_out_file(false);
}

fn tick_a_left_out_file(seeding: bool) {
    use crate::world::{World, add_via_box, step_until, steps};
    use egui_kittest::kittest::{NodeT as _, Queryable as _};
    use haul::app::HaulApp;
    use haul::protocol::Status;
    use haul_testkit::torrent::{have_peers, landed};
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let (contents, made) = three_files(dir.path());
    let (hash, seeder) = (&made.hash, made.seed(None, None));
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    let mut h = torrent_window(&mut world, Some(&db));
    add_via_box(
        &mut h,
        &format!(
            "{}\n  select-file=1,3\n  seed-time={}\n",
            seeder.magnet(hash),
            if seeding { 60 } else { 0 }
        ),
    );
    // Seeding (its files published) or done, with this many files.
    let with = |files: usize| {
        move |app: &HaulApp| {
            app.model().rows().first().is_some_and(|r| {
                if seeding {
                    r.status() == Status::Running
                        && r.swarm.is_some_and(|s| s.seeding)
                        && r.published.len() == files
                } else {
                    r.status() == Status::Done && r.files().len() == files
                }
            })
        }
    };
    step_until(&mut h, "two files", with(2));
    if !seeding {
        drop(h);
        let engine = world.engines.pop().expect("engine");
        assert!(engine.suspend_blocking(std::time::Duration::from_secs(5)));
        h = torrent_window(&mut world, Some(&db));
        step_until(&mut h, "two files, restored", with(2));
    }
    let dest = world.dest.path();
    assert_eq!(landed(dest), ["set/a.bin", "set/sub/c.bin"]);
    let before = seeder.uploaded();
    h.get_by_label("set").click();
    steps(&mut h, 2);
    h.get_by_label("b.bin").scroll_to_me();
    steps(&mut h, 20);
    h.get_by_label("b.bin").click();
    steps(&mut h, 2);
    h.get_by_label("Apply").scroll_to_me();
    steps(&mut h, 20);
    h.get_by_label("Apply").click();
    h.step();
    step_until(&mut h, "three files", with(3));
    assert_eq!(
        landed(dest),
        ["set/a.bin", "set/sub/b.bin", "set/sub/c.bin"]
    );
    for (name, body) in &contents {
        let got = std::fs::read(dest.join("set").join(name)).expect("file");
        assert!(got == *body, "{name} byte-exact");
    }
    // b.bin and the two pieces it shares with its neighbours; a.bin and c.bin stayed put.
    let again = seeder.uploaded() - before;
    assert!(
        again <= 310_000 + 2 * 16 * 1024,
        "the files already there were fetched again: {again} bytes"
    );
    assert_eq!(h.state().model().rows()[0].options.torrent.select, None);
    if seeding {
        // Its files complete: it offers to stop seeding and to show them, not Pause/Cancel.
        assert!(h.query_by_label("Pause").is_none());
        assert!(h.query_by_label("Cancel…").is_none());
        // (In the row and in its details.) Its speed is what it sends; no time is left.
        assert!(h.query_all_by_label("Show in folder").count() > 0);
        assert!(
            h.query_by_label_contains("↑ ").is_some(),
            "the upload speed"
        );
        // Nor does the summary count the seconds before it began seeding as its speed now.
        let now = std::time::Instant::now();
        assert_eq!(h.state().model().current_speed(now), Some(0.0));
        // Its menu cannot cancel it (nothing to delete; Stop ends it).
        h.query_all_by_label("…").next().expect("its menu").click();
        steps(&mut h, 3);
        let cancel = h.get_by_label("Cancel…");
        assert!(cancel.accesskit_node().is_disabled(), "Cancel… in the menu");
        h.key_press(eframe::egui::Key::Escape);
        steps(&mut h, 3);
        h.query_all_by_label("Stop")
            .next()
            .expect("Stop (seeding)")
            .click();
        step_until(&mut h, "done", |app| {
            app.model().rows()[0].status() == Status::Done
        });
    }
    let row = &h.state().model().rows()[0];
    assert_eq!((row.name.as_str(), row.path()), ("set", dest.join("set")));
    assert_eq!(row.files().len(), 3);
}

/// The window on `world`'s destination with the DHT off (none in tests), its saved queue in
/// `db` when given (what a start finds there comes back).
fn torrent_window(
    world: &mut crate::world::World,
    db: Option<&std::path::Path>,
) -> egui_kittest::Harness<'static, haul::app::HaulApp> {
    let storage = crate::world::with_settings(world, |s| s.bt_dht = false);
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    if let Some(db) = db {
        let opened = haul::desktop::saved_queue::SavedQueue::open(db);
        init.queue = opened.queue;
        init.stored = opened.items;
    }
    let h = crate::world::harness_with(move |_| haul::app::HaulApp::new(Some(&storage), init));
    let _ = world.window.set(h.ctx.clone());
    h
}

/// A torrent of three files in a folder `set` (one in a sub-folder), made in `dir`: each
/// file's path inside `set` and bytes, and the torrent.
fn three_files(
    dir: &std::path::Path,
) -> ([(&'static str, Vec<u8>); 3], haul_testkit::torrent::Content) {
    let contents = [
        ("a.bin", haul_testkit::body_gen(300_000, 1)),
        ("sub/b.bin", haul_testkit::body_gen(310_000, 2)),
        ("sub/c.bin", haul_testkit::body_gen(200_000, 3)),
    ];
    let files: Vec<(String, &[u8])> = contents
        .iter()
        .map(|(name, body)| (format!("set/{name}"), body.as_slice()))
        .collect();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    let made = haul_testkit::torrent::content(dir, &files, None);
    (contents, made)
}
