//! A video stream in the window (issue 26): an HLS master playlist ffmpeg makes becomes one
//! row that says its segments and the variant it fetches; its details list the variants, and
//! choosing another starts the row again with it; the file is that variant's. A paused
//! row's menu shows the variant chosen for its Resume; a finished row's is closed, and its
//! size is its file's. A stream of one variant says its segments as such.

use crate::world::{World, shown, step_until, step_until_status};
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

/// The variants' menu: its accessibility node (its label or value names `text`).
fn variants_menu<'a>(
    h: &'a egui_kittest::Harness<'_, haul::app::HaulApp>,
    text: &str,
) -> Option<egui_kittest::Node<'a>> {
    h.get_all_by_role(Role::ComboBox).find(|node| {
        let node = node.accesskit_node();
        format!("{:?} {:?}", node.label(), node.value()).contains(text)
    })
}

/// A paused stream row's menu takes another variant and shows it (Resume fetches it); once
/// done, the menu is closed (its file is saved: another variant is another download) and the
/// row's size is its file's, not the bytes received; nothing else is left in the folder.
#[test]
fn a_paused_streams_choice_shows_and_a_finished_ones_menu_is_closed() {
    if !media::ffmpeg_or_skip() {
        return;
    }
    let streams = tempfile::tempdir().expect("tempdir");
    let source = media::source(streams.path(), 6);
    let master = media::hls_master(streams.path(), &source, "m");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let files = runtime.block_on(Files::start(streams.path()));
    files.set_rate(40_000);
    let mut world = World::new();
    let mut h = world.harness();
    let url = files.url(&master);
    h.event(egui::Event::Paste(url.clone()));
    step_until(&mut h, "the stream running with its segments", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.status() == Status::Running && r.stream.is_some())
    });
    h.get_by_label("Pause").click();
    step_until_status(&mut h, &url, Status::Paused);
    h.get_by_label("master.mp4").click();
    h.step();
    h.step();
    variants_menu(&h, "320x240").expect("the menu").click();
    h.step();
    h.step();
    h.get_by_label_contains("160x120").click();
    h.step();
    h.step();
    assert!(
        variants_menu(&h, "160x120").is_some() && variants_menu(&h, "320x240").is_none(),
        "the paused row's menu shows the variant chosen"
    );
    files.set_rate(0);
    // The row's Resume (the details have one too).
    h.get_all_by_label("Resume").next().expect("Resume").click();
    step_until_status(&mut h, &url, Status::Done);
    h.step();
    let path = world.dest.path().join("master.mp4");
    let small = streams.path().join("m").join("lo.m3u8");
    assert_eq!(frame_hashes(&path, "v"), frame_hashes(&small, "v"));
    let menu = variants_menu(&h, "160x120").expect("the menu");
    assert!(
        menu.accesskit_node().is_disabled(),
        "a done row's menu is closed"
    );
    let length = std::fs::metadata(&path).expect("the file").len();
    let size = haul::human::human_bytes(length);
    assert!(shown(&h, &size), "the row's size is the file's: {size}");
    let names: Vec<_> = std::fs::read_dir(world.dest.path())
        .expect("dest")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(names, ["master.mp4"]);
}

/// A stream of one variant has no quality to tell: its details say its segments under
/// "Segments", not under "Quality".
#[test]
fn a_single_variant_streams_details_say_segments() {
    if !media::ffmpeg_or_skip() {
        return;
    }
    let streams = tempfile::tempdir().expect("tempdir");
    let source = media::source(streams.path(), 3);
    let ts = media::hls(streams.path(), &source, "ts", &[]);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let files = runtime.block_on(Files::start(streams.path()));
    let mut world = World::new();
    let mut h = world.harness();
    let url = files.url(&ts);
    h.event(egui::Event::Paste(url.clone()));
    step_until_status(&mut h, &url, Status::Done);
    h.get_by_label("index.mp4").click();
    h.step();
    h.step();
    assert!(shown(&h, "Segments"), "the segments' row");
    assert!(!shown(&h, "Quality"), "no quality row without a quality");
}
