//! A video stream in the window (issue 26): an HLS master playlist ffmpeg makes becomes one
//! row that says its segments and the variant it fetches; its details list the variants, and
//! choosing another starts the row again with it; the file is that variant's.

use crate::world::{World, step_until};
use eframe::egui::{self, accesskit::Role};
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use haul::protocol::Status;
use haul_testkit::media::{self, Files, frame_hashes};

/// The master's best variant runs and its row says "N of M segments" and the variant; its
/// details offer both variants, and choosing the other restarts the row with it: the file
/// decodes to that variant's frames.
#[test]
fn a_stream_row_shows_its_segments_and_its_details_choose_the_variant() {
    if !media::ffmpeg_or_skip() {
        return;
    }
    let streams = tempfile::tempdir().expect("tempdir");
    let source = media::source(streams.path(), 6);
    let master = media::hls_master(streams.path(), &source, "m");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let files = runtime.block_on(Files::start(streams.path()));
    // Slow enough to see it run: about a second a segment.
    files.set_rate(40_000);
    let mut world = World::new();
    let mut h = world.harness();
    h.event(egui::Event::Paste(files.url(&master)));
    step_until(&mut h, "the stream running with its segments", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.status() == Status::Running && r.stream.is_some())
    });
    h.step();
    assert!(
        h.query_by_label_contains(" segments · 320x240").is_some(),
        "the row says its segments and variant"
    );
    h.get_by_label("master.mp4").click();
    h.step();
    h.step();
    // The variant fetched is the details' choice; the other is offered in it.
    h.get_all_by_role(Role::ComboBox)
        .find(|node| {
            let node = node.accesskit_node();
            let text = format!("{:?} {:?}", node.label(), node.value());
            text.contains("320x240")
        })
        .expect("the variants' choice")
        .click();
    h.step();
    h.step();
    h.get_by_label_contains("160x120").click();
    files.set_rate(0);
    step_until(&mut h, "the row done with the small variant", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.status() == Status::Done && r.options.quality.is_some())
    });
    let path = world.dest.path().join("master.mp4");
    let small = streams.path().join("m").join("lo.m3u8");
    assert_eq!(frame_hashes(&path, "v"), frame_hashes(&small, "v"));
    assert_eq!(world.files(), ["master.mp4"]);
}
