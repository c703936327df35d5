//! The window with a real FTP server (pyftpdlib, see `haul_testkit::ftp`): an `ftp://` link
//! pasted becomes a row that finishes with the file.

use haul_testkit::body_gen;
use haul_testkit::ftp::Ftp;

/// An `ftp://` link pasted into the window becomes a row that finishes with the file.
#[test]
fn the_window_adds_an_ftp_row_and_it_finishes_done() {
    use crate::world::{World, step_until};
    use eframe::egui::{self, accesskit::Role};
    use egui_kittest::kittest::Queryable as _;
    let Some(ftp) = Ftp::start(None, 0) else {
        return;
    };
    let file = body_gen(50_000, 5);
    ftp.put("子目录/w.bin", &file);
    let mut world = World::new();
    let mut h = world.harness();
    h.get_by_role(Role::MultilineTextInput).focus();
    h.step();
    h.event(egui::Event::Paste(format!(
        "{}\n",
        ftp.url("ftp", "", "%E5%AD%90%E7%9B%AE%E5%BD%95/w.bin")
    )));
    h.step();
    h.get_by_label("Add").click();
    step_until(&mut h, "the ftp row done", |app| {
        app.model().count(haul::protocol::Status::Done) == 1
    });
    assert_eq!(world.files(), ["w.bin"]);
    assert!(std::fs::read(world.dest.path().join("w.bin")).expect("file") == file);
}
