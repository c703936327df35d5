//! What could cost a person the bytes already downloaded (issue 28): a pause or a quit that a
//! server cannot resume from, and a disk that fills up.
//! Must not touch: the engine's own tests of the same (those are in haul-engine).

use eframe::egui;
use egui_kittest::kittest::Queryable as _;
use haul::protocol::Status;

use crate::world::*;

fn close_window(h: &mut egui_kittest::Harness<'_, haul::app::HaulApp>) {
    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    steps(h, 3);
}

/// A server that ignores `Range` (item 9): the row says "can't resume", and Pause and Quit
/// say first that the bytes so far would be downloaded again, as IDM and FDM do. A server
/// that can resume pauses at once, without a question.
#[test]
fn pausing_what_its_server_cannot_resume_asks_first_and_the_row_says_so() {
    let mut world = World::new();
    let url = world
        .server
        .url("/bytes/3000000/norange.bin?range=ignore&drip_ms=5");
    let mut h = world.harness();
    h.event(egui::Event::Paste(url.clone()));
    step_until(&mut h, "bytes flowing", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.state.bytes() > 20_000)
    });
    assert!(
        h.query_by_label_contains("can't resume").is_some(),
        "the row says it"
    );

    close_window(&mut h);
    assert!(
        h.query_by_label_contains("1 item cannot be resumed by their server")
            .is_some(),
        "the quit question warns"
    );
    h.get_by_label("Keep running").click();
    steps(&mut h, 2);
    assert!(
        h.query_by_label_contains("cannot be resumed by their server")
            .is_none()
    );

    h.get_by_label("Pause").click();
    // The click, the question's sizing pass, the question.
    steps(&mut h, 3);
    assert!(shown(&h, "Pause norange.bin?"), "Pause asks first");
    assert!(
        h.query_by_label_contains("pausing will restart it from the beginning")
            .is_some()
    );
    h.get_by_label("Keep downloading").click();
    steps(&mut h, 2);
    assert!(!shown(&h, "Pause norange.bin?"));
    assert_eq!(status_of(h.state(), &url), Some(Status::Running));

    h.get_by_label("Pause").click();
    steps(&mut h, 3);
    h.get_by_label("Pause anyway").click();
    step_until_status(&mut h, &url, Status::Paused);

    // A server that honours ranges: paused at once, no question.
    let resumable = world
        .server
        .url("/bytes/3000000/ranged.bin?range=1&etag=r1&drip_ms=5");
    h.event(egui::Event::Paste(resumable.clone()));
    step_until(&mut h, "bytes flowing", |app| {
        app.model()
            .rows()
            .iter()
            .any(|r| r.uri == resumable && r.state.bytes() > 20_000)
    });
    h.get_by_label("Pause").click();
    step_until_status(&mut h, &resumable, Status::Paused);
    assert!(!shown(&h, "Pause anyway"));
}
