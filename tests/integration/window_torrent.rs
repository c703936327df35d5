//! The window with real BitTorrent peers (aria2c seeding, see `haul_testkit::torrent`): a
//! magnet link pasted becomes one row that finishes with the file, its swarm on the row; a
//! torrent of many files lists them in the row's details, and the files unticked there are
//! not fetched.

/// A magnet link with a peer hint, pasted, becomes a row that fetches the metadata and the
/// file from the peer and finishes done, byte-exact.
#[test]
fn the_window_adds_a_magnet_row_and_it_finishes_done() {
    use crate::world::{World, harness_with, step_until, with_settings};
    use eframe::egui::{self, accesskit::Role};
    use egui_kittest::kittest::Queryable as _;
    use haul::app::HaulApp;
    use haul_testkit::torrent::{Seeder, have_peers, make_torrent};
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data");
    let file = haul_testkit::body_gen(700_000, 9);
    std::fs::write(data.join("w.bin"), &file).expect("content");
    let torrent = dir.path().join("w.torrent");
    let hash = make_torrent(&data.join("w.bin"), &torrent, 16, None);
    let seeder = Seeder::start(&torrent, &data, None, None);
    let mut world = World::new();
    // No DHT in tests; the row's torrent seeds for no time once verified.
    let storage = with_settings(&world, |s| s.bt_dht = false);
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    let _ = world.window.set(h.ctx.clone());
    h.get_by_role(Role::MultilineTextInput).focus();
    h.step();
    h.event(egui::Event::Paste(format!(
        "{}\n  seed-time=0\n",
        seeder.magnet(&hash)
    )));
    h.step();
    h.get_by_label("Add").click();
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
    use crate::world::{World, harness_with, step_until, steps, with_settings};
    use eframe::egui::{self, accesskit::Role};
    use egui_kittest::kittest::{NodeT as _, Queryable as _};
    use haul::app::HaulApp;
    use haul::human::human_bytes;
    use haul_testkit::torrent::{Seeder, files_under, have_peers, make_torrent};
    if !have_peers() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let set = data.join("set");
    std::fs::create_dir_all(set.join("sub")).expect("data");
    let contents = [
        ("a.bin", haul_testkit::body_gen(300_000, 1)),
        ("sub/b.bin", haul_testkit::body_gen(310_000, 2)),
        ("sub/c.bin", haul_testkit::body_gen(200_000, 3)),
    ];
    for (name, body) in &contents {
        std::fs::write(set.join(name), body).expect("content");
    }
    let torrent = dir.path().join("set.torrent");
    let hash = make_torrent(&set, &torrent, 16, None);
    // Slow enough that the choice is made while it runs.
    let seeder = Seeder::start(&torrent, &data, None, Some(100_000));
    let mut world = World::new();
    let storage = with_settings(&world, |s| s.bt_dht = false);
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    let _ = world.window.set(h.ctx.clone());
    h.get_by_role(Role::MultilineTextInput).focus();
    h.step();
    h.event(egui::Event::Paste(format!(
        "{}\n  seed-time=0\n",
        seeder.magnet(&hash)
    )));
    h.step();
    h.get_by_label("Add").click();
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
    assert_eq!(files_under(dest), ["set/a.bin", "set/sub/c.bin"]);
    for (name, body) in [&contents[0], &contents[2]] {
        let got = std::fs::read(dest.join("set").join(name)).expect("file");
        assert!(got == *body, "{name} byte-exact");
    }
}
