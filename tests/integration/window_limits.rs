//! Limits as a person types them, driven as in `window`: the size limit, "no limit" in the
//! window's language, an example when what was typed is not a limit, the speed limit of all
//! items from the status bar and a row's own from its menu.

use crate::world::{MemoryStorage, World, harness_sized, shown, step_until, step_until_status};
use eframe::egui::{self, accesskit::Role};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use haul::app::HaulApp;
use haul::app::i18n::LanguageChoice;
use haul::protocol::Status;
use std::time::{Duration, Instant};

/// 12: settings were jargon without help, and "none" typed into Size limit was ignored.
#[test]
fn size_limit_takes_sizes_and_none_and_says_when_it_is_neither() {
    let mut world = World::new();
    let mut h = world.harness();
    h.get_by_label("Settings").click();
    h.step();
    h.step();
    let field = h.get_by_label("Size limit");
    field.focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Size limit").type_text("500M");
    h.step();
    assert_eq!(
        h.state().settings().limits().max_size,
        Some(500 * 1024 * 1024)
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Size limit").type_text("lots");
    h.step();
    h.step();
    assert!(shown(&h, "e.g. 500M, 2G, none"), "says what it takes");
    assert_eq!(
        h.state().settings().limits().max_size,
        Some(500 * 1024 * 1024),
        "the last valid value stays"
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Size limit").type_text("none");
    h.step();
    assert_eq!(h.state().settings().limits().max_size, None);
}

/// 9 (second trial): a Chinese window showed the size and time limits as "none" while its
/// help said to type 无; an invalid time limit only turned red.
#[test]
fn limits_say_none_in_the_windows_language_and_a_bad_one_shows_an_example() {
    let mut world = World::new();
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut storage = MemoryStorage::default();
    let settings = haul::app::settings::Settings {
        language: LanguageChoice::Chinese,
        dest: world.dest.path().to_path_buf(),
        show_settings: true,
        ..Default::default()
    };
    eframe::set_value(&mut storage, haul::app::settings::STORAGE_KEY, &settings);
    let mut h = harness_sized([1366.0, 768.0], move |_| HaulApp::new(Some(&storage), init));
    h.step();
    h.step();
    let values: Vec<String> = h
        .query_all_by_role(Role::TextInput)
        .map(|n| format!("{n:?}"))
        .filter(|d| d.contains("value: \"无\""))
        .collect();
    assert_eq!(
        values.len(),
        3,
        "the two limits in Settings and the speed limit say 无"
    );
    assert!(
        !h.query_all_by_role(Role::TextInput)
            .any(|n| format!("{n:?}").contains("value: \"none\"")),
        "no English none"
    );
    h.get_by_label("单个文件时限").focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("单个文件时限").type_text("abc");
    h.step();
    h.step();
    assert!(
        h.query_by_label("秒数，如 600，或 无").is_some(),
        "an example under the field"
    );
}

/// Issue 14: the speed limit of all items, at hand in the status bar, holds and lifts while a
/// download runs; a row's own limit is picked from its menu.
#[test]
fn the_speed_limit_is_set_from_the_status_bar_and_a_rows_menu() {
    let mut world = World::new();
    let url = world.server.url("/bytes/4194304/limited.bin");
    let mut h = world.harness();
    rate_field(&h).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    rate_field(&h).type_text("256K");
    h.step();
    h.step();
    assert_eq!(h.state().settings().max_rate, 256 * 1024);
    crate::world::add_via_box(&mut h, &url);
    step_until(&mut h, "running", |app| {
        app.model().rows().iter().any(|r| r.state.bytes() > 0)
    });
    std::thread::sleep(Duration::from_millis(1500));
    h.step();
    let bytes = h.state().model().rows()[0].state.bytes();
    assert!(
        bytes < 700 * 1024,
        "held to 256 KiB/s: {bytes} bytes after 1.5 s"
    );

    // A row's own limit, from its menu.
    h.get_by_label("limited.bin").click_secondary();
    for _ in 0..3 {
        h.step();
    }
    h.get_by_role_and_label(Role::Button, "Speed limit").click();
    for _ in 0..3 {
        h.step();
    }
    h.get_by_label("1.0 MiB/s").click();
    h.step();
    assert_eq!(
        h.state().model().rows()[0].options.max_rate,
        Some(1024 * 1024),
        "the row remembers its limit"
    );

    // Lifted in the status bar: the download finishes at once (its own 1 MiB/s still holds).
    rate_field(&h).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    rate_field(&h).type_text("none");
    h.step();
    assert_eq!(h.state().settings().max_rate, 0);
    let lifted = Instant::now();
    step_until_status(&mut h, &url, Status::Done);
    assert!(
        lifted.elapsed() < Duration::from_secs(6),
        "{:?}",
        lifted.elapsed()
    );
}

/// The status bar's speed limit field.
fn rate_field<'a>(h: &'a Harness<'_, HaulApp>) -> egui_kittest::Node<'a> {
    h.get_by_role_and_label(Role::TextInput, "Speed limit")
}

/// Issue 28, item 11: erasing the limit to type another, and typing something that is not a
/// rate, keep the last valid limit: the download stays held meanwhile.
#[test]
fn the_last_valid_speed_limit_holds_while_the_field_is_invalid() {
    let mut world = World::new();
    let mut h = world.harness();
    rate_field(&h).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    rate_field(&h).type_text("1.5M");
    h.step();
    h.step();
    assert_eq!(h.state().settings().max_rate, 1536 * 1024);
    // Erased, as a person does before typing another.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.key_press(egui::Key::Backspace);
    h.step();
    h.step();
    assert_eq!(
        h.state().settings().max_rate,
        1536 * 1024,
        "an emptied field while typing is not 'no limit'"
    );
    rate_field(&h).type_text("abc");
    h.step();
    h.step();
    assert_eq!(h.state().limits().max_rate, Some(1536 * 1024));
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    rate_field(&h).type_text("2M");
    h.step();
    h.step();
    assert_eq!(h.state().settings().max_rate, 2 << 20);
}

/// Issue 28, item 20: a row's speed limit offered only four steps. Any other is typed under
/// them: what is not a speed changes nothing, Enter sets the typed one.
#[test]
fn a_rows_speed_limit_can_be_typed() {
    let mut world = World::new();
    let url = world.server.url("/bytes/20000000/typed.bin?drip_ms=5");
    let mut h = world.harness();
    h.event(egui::Event::Paste(url.clone()));
    step_until(&mut h, "running", |app| {
        app.model().rows().iter().any(|r| r.state.bytes() > 0)
    });
    h.get_by_label("typed.bin").click_secondary();
    for _ in 0..3 {
        h.step();
    }
    h.get_by_role_and_label(Role::Button, "Speed limit").click();
    for _ in 0..3 {
        h.step();
    }
    let other = "Other (Enter sets it):";
    h.get_by_role_and_label(Role::TextInput, other).focus();
    h.step();
    h.get_by_role_and_label(Role::TextInput, other)
        .type_text("fast");
    h.step();
    h.key_press(egui::Key::Enter);
    h.step();
    h.step();
    assert_eq!(h.state().model().rows()[0].options.max_rate, None);
    h.get_by_role_and_label(Role::TextInput, other).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_role_and_label(Role::TextInput, other)
        .type_text("300K");
    h.step();
    h.key_press(egui::Key::Enter);
    h.step();
    h.step();
    assert_eq!(
        h.state().model().rows()[0].options.max_rate,
        Some(300 * 1024),
        "the typed limit is the row's"
    );
}
