//! Issue 16's desktop comforts in the real window, headless (egui_kittest): the list's order
//! is the queue's (menu, keys, a drag, kept across a restart).

use std::time::Duration;

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use haul::app::HaulApp;
use haul::app::settings::{STORAGE_KEY, Settings};
use haul::desktop::saved_queue::SavedQueue;

use crate::window::{MemoryStorage, World, add_via_box, harness_with, step_until};

/// Settings with one download at a time, saving into `world`'s folder.
pub(crate) fn one_at_a_time(world: &World) -> MemoryStorage {
    let mut storage = MemoryStorage::default();
    let settings = Settings {
        dest: world.dest.path().to_path_buf(),
        jobs: 1,
        ..Settings::default()
    };
    eframe::set_value(&mut storage, STORAGE_KEY, &settings);
    storage
}

fn names(h: &Harness<'_, HaulApp>) -> String {
    h.state()
        .model()
        .rows()
        .iter()
        .map(|r| r.name.chars().next().unwrap_or('?'))
        .collect()
}

fn steps(h: &mut Harness<'_, HaulApp>, n: usize) {
    for _ in 0..n {
        h.step();
    }
}

/// Where a row's name is drawn, for the pointer.
fn name_at(h: &Harness<'_, HaulApp>, name: &str) -> egui::Rect {
    h.get_by_label(name).rect()
}

fn drag(h: &mut Harness<'_, HaulApp>, from: egui::Pos2, to: egui::Pos2) {
    let button = |pressed| egui::Event::PointerButton {
        pos: if pressed { from } else { to },
        button: egui::PointerButton::Primary,
        pressed,
        modifiers: egui::Modifiers::NONE,
    };
    h.event(egui::Event::PointerMoved(from));
    h.step();
    h.event(button(true));
    h.step();
    for i in 1..=8 {
        h.event(egui::Event::PointerMoved(from.lerp(to, i as f32 / 8.0)));
        h.step();
    }
    h.event(button(false));
    steps(h, 2);
}

#[test]
fn rows_moved_by_menu_keys_and_drag_start_in_that_order_and_keep_it_after_a_restart() {
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    let url = |name: &str, delay: u32| {
        world
            .server
            .url(&format!("/bytes/1000/{name}.bin?delay_ms={delay}"))
    };
    let (a, b, c, d, e) = (
        url("a", 2500),
        url("b", 0),
        url("c", 0),
        url("d", 0),
        url("e", 0),
    );
    let storage = one_at_a_time(&world);
    let mut init = world.init(None);
    init.queue = SavedQueue::open(&db).queue;
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    add_via_box(&mut h, &[&a, &b, &c, &d, &e].map(|s| s.as_str()).join("\n"));
    step_until(&mut h, "a connecting, the rest queued", |app| {
        app.model().working() == 1 && app.model().len() == 5
    });
    assert_eq!(names(&h), "abcde");

    // The row menu: Move ▸ To the top.
    h.get_by_label("d.bin").click_secondary();
    steps(&mut h, 3);
    h.get_by_label("Move").click();
    steps(&mut h, 3);
    h.get_by_label("To the top").click();
    steps(&mut h, 2);
    assert_eq!(names(&h), "dabce");

    // Alt+↓ on the selected row (the right-click selected d): one row down.
    h.key_press_modifiers(egui::Modifiers::ALT, egui::Key::ArrowDown);
    steps(&mut h, 2);
    assert_eq!(names(&h), "adbce");

    // A drag: e onto the upper half of b's row lands above it.
    let (from, onto) = (name_at(&h, "e.bin"), name_at(&h, "b.bin"));
    drag(
        &mut h,
        from.center(),
        egui::pos2(onto.center().x, onto.top() + 2.0),
    );
    assert_eq!(names(&h), "adebc");

    step_until(&mut h, "all done", |app| {
        app.model().active() == 0 && app.model().len() == 5
    });
    let started: String = world
        .server
        .request_log()
        .iter()
        .filter_map(|l| l.target.rsplit('/').next()?.chars().next())
        .collect();
    assert_eq!(started, "adebc", "the engine followed the list");

    // The order is kept: the saved queue gives the rows back in it.
    drop(h);
    std::thread::sleep(Duration::from_millis(100));
    let reopened = SavedQueue::open(&db);
    let saved: String = reopened
        .items
        .iter()
        .filter_map(|i| i.name.chars().next())
        .collect();
    assert_eq!(saved, "adebc");
}
