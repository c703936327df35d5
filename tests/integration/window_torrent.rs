//! The window with real BitTorrent peers (aria2c seeding, see `haul_testkit::torrent`): a
//! magnet link pasted becomes one row that finishes with the file, its swarm on the row.

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
