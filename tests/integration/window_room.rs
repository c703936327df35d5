//! The list keeps its room on a small or crowded window (issue 28): a right-click on the
//! lowest row opens its menu, a notice takes a strip of its own and goes by itself, and with
//! Settings open the columns go one at a time.
//! Must not touch: the layout's other promises (`window_layout`).

use std::time::{Duration, Instant};

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use haul::app::HaulApp;
use haul::protocol::Status;

use crate::world::{World, harness_sized, step_until, steps};

/// A 1000×420 window whose 30 rows (local files `PREFIX00.txt`…) are all done: more rows
/// than it shows. The world and the files' folder are kept alive with it.
fn thirty_done(prefix: &str) -> (World, tempfile::TempDir, Harness<'static, HaulApp>) {
    let mut world = World::new();
    let src = tempfile::tempdir().expect("tempdir");
    let lines: Vec<String> = (0..30)
        .map(|i| {
            let path = src.path().join(format!("{prefix}{i:02}.txt"));
            std::fs::write(&path, format!("{i}")).expect("write");
            path.display().to_string()
        })
        .collect();
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.sources = lines;
    let mut h = harness_sized([1000.0, 420.0], move |_| HaulApp::new(None, init));
    step_until(&mut h, "all done", |app| {
        app.model().count(Status::Done) == 30
    });
    (world, src, h)
}

/// Issue 28, item 22: a right-click on a row in the bottom of the list opened the details
/// strip over it and never the menu. The menu opens, over the row it was opened on.
#[test]
fn a_right_click_on_the_lowest_row_opens_its_menu() {
    let (_world, _src, mut h) = thirty_done("low");
    h.step();
    let bottom_bar = h.get_by_label_contains("30 items:").rect().top();
    let lowest = (0..30)
        .map(|i| format!("low{i:02}.txt"))
        .filter(|name| {
            h.query_by_label(name)
                .is_some_and(|n| n.rect().bottom() < bottom_bar - 4.0)
        })
        .last()
        .expect("a row in view");
    h.get_by_label(&lowest).click_secondary();
    for _ in 0..30 {
        h.step();
    }
    assert!(
        h.query_by_label("Copy address").is_some(),
        "the menu is open on {lowest}"
    );
    // Closed, the details open, with the row above them.
    h.key_press(egui::Key::Escape);
    for _ in 0..60 {
        h.step();
    }
    let strip_top = h.get_by_label("Details").rect().top();
    let row = h
        .query_all_by_label(&lowest)
        .map(|n| n.rect())
        .min_by(|a, b| a.top().total_cmp(&b.top()))
        .expect("the row");
    assert!(row.bottom() <= strip_top, "{row:?} under {strip_top}");
}

/// Issue 28, item 21: notices ("Added 5000 items…", "Already in the list…") stayed until
/// closed, floating over the last rows' buttons. A notice takes a strip of its own above the
/// summary (the list gives it room: no row lies under it), and goes by itself.
#[test]
fn a_notice_takes_room_of_its_own_and_goes_by_itself() {
    let (world, _src, mut h) = thirty_done("n");
    steps(&mut h, 3);
    let url = world.server.url("/bytes/100/noticed.bin");
    h.event(egui::Event::Paste(format!("{url}\nnot an address")));
    step_until(&mut h, "a notice", |app| app.notice().is_some());
    steps(&mut h, 3);
    let said = Instant::now();
    let notice = h.get_by_label_contains("other lines were not").rect();
    let summary = h.get_by_label_contains("31 items:").rect();
    assert!(
        notice.bottom() <= summary.top(),
        "{notice:?} above {summary:?}"
    );
    // The list gave the notice room: no row is laid out under it.
    let under: Vec<String> = (0..30)
        .map(|i| format!("n{i:02}.txt"))
        .filter(|name| {
            h.query_all_by_label(name)
                .any(|n| n.rect().top() >= notice.top() && n.rect().top() < summary.top())
        })
        .collect();
    assert!(under.is_empty(), "rows under the notice: {under:?}");
    step_until(&mut h, "the notice to go", |app| app.notice().is_none());
    let lasted = said.elapsed();
    assert!(lasted >= Duration::from_secs(4), "read in {lasted:?}?");
    steps(&mut h, 3);
    assert!(h.query_by_label_contains("other lines were not").is_none());
}

/// Issue 28, item 24: with Settings open the list dropped four columns at once (the window
/// as it first opens, 1180 points wide, kept only the status, name, progress and speed).
/// They go one at a time, as the room needs: here the size stays.
#[test]
fn with_settings_open_the_list_drops_only_the_columns_it_must() {
    let mut world = World::new();
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut h = harness_sized([1180.0, 680.0], move |_| HaulApp::new(None, init));
    h.event(egui::Event::Paste(world.server.url("/bytes/100/c.bin")));
    step_until(&mut h, "a row", |app| app.model().len() == 1);
    let headers = |h: &Harness<'_, HaulApp>| -> Vec<&str> {
        [
            "Status",
            "Name",
            "Progress",
            "Size",
            "Speed",
            "Time left",
            "Elapsed",
            "From",
        ]
        .into_iter()
        .filter(|t| h.query_by_label(t).is_some())
        .collect()
    };
    assert_eq!(headers(&h).len(), 8, "{:?}", headers(&h));
    h.get_by_label("Settings").click();
    steps(&mut h, 3);
    let shown = headers(&h);
    for kept in ["Status", "Name", "Progress", "Size", "Speed"] {
        assert!(shown.contains(&kept), "{kept} dropped: {shown:?}");
    }
}

/// Issue 28, item 24: at the smallest size (640×360, now 640×320) a failed row's reason was cut to "The
/// server has n…" and clicking the row showed no details. The details open there too (the
/// list keeps a couple of rows beside them), with the whole reason.
#[test]
fn at_the_smallest_size_a_click_shows_the_rows_details() {
    let mut world = World::new();
    let missing = world.server.url("/bytes/10/gone.bin?status=404");
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut h = harness_sized(haul::app::MIN_SIZE, move |_| HaulApp::new(None, init));
    h.event(egui::Event::Paste(missing));
    step_until(&mut h, "failed", |app| {
        app.model().count(Status::Failed) == 1
    });
    h.get_by_label("gone.bin").click();
    for _ in 0..30 {
        h.step();
    }
    let details = h.query_by_label("Details").map(|n| n.rect());
    assert!(details.is_some(), "a click shows the row's details");
    let reason = h
        .query_all_by_label("The server has no such file (404)")
        .map(|n| n.rect())
        .find(|r| details.is_some_and(|d| r.top() >= d.top()));
    assert!(reason.is_some(), "the whole reason, in the details");
    let row = h
        .query_all_by_label("gone.bin")
        .map(|n| n.rect())
        .min_by(|a, b| a.top().total_cmp(&b.top()))
        .expect("the row");
    assert!(
        details.is_some_and(|d| row.bottom() <= d.top()),
        "the row stays in view"
    );
}

/// Issue 28, item 24: the speed limit's example was cut ("e.g. 2M (p…") once the field was
/// emptied to type. Empty, the field is as wide as its example.
#[test]
fn an_emptied_limit_field_shows_its_whole_example() {
    use eframe::egui::accesskit::Role;
    let mut world = World::new();
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut h = harness_sized([1180.0, 680.0], move |_| HaulApp::new(None, init));
    h.step();
    let field = |h: &Harness<'_, HaulApp>| {
        h.get_by_role_and_label(Role::TextInput, "Speed limit")
            .rect()
    };
    let with_none = field(&h).width();
    h.get_by_role_and_label(Role::TextInput, "Speed limit")
        .focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Backspace);
    steps(&mut h, 3);
    let example = h.ctx.fonts_mut(|f| {
        f.layout_no_wrap(
            "e.g. 2M (per second), none".to_owned(),
            egui::FontId::proportional(14.0),
            egui::Color32::GRAY,
        )
        .size()
        .x
    });
    let empty = field(&h).width();
    assert!(
        empty > with_none && empty >= example,
        "{empty} for an example of {example}"
    );
}
