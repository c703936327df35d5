//! The window, driven through egui_kittest: the real `HaulApp` on a real engine, fetching from
//! the loopback fixture server. Controls are found by their accessible labels, as a screen
//! reader would.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::body;
use eframe::egui::{self, accesskit::Role};
use egui_kittest::kittest::Queryable as _;
use haul::protocol::Status;

use crate::world::*;

#[test]
fn pasting_two_urls_and_a_bad_line_gives_three_rows_two_done_one_failed_with_its_reason() {
    let mut world = World::new();
    let a = world.server.url("/bytes/1000/a.bin");
    let b = world.server.url("/bytes/3000/%E6%8A%A5%E5%91%8A.bin");
    let mut h = world.harness();

    h.get_by_role(Role::MultilineTextInput).focus();
    h.step();
    h.event(egui::Event::Paste(format!(
        "{a}\ngopher://example.org/x\n{b}\n"
    )));
    h.step();
    h.get_by_label("Add").click();
    step_until(&mut h, "two items done", |app| {
        app.model().count(Status::Done) == 2
    });

    assert_eq!(h.state().model().len(), 3);
    assert_eq!(h.query_all_by_label("done").count(), 2);
    // A failed row says why in a person's words (the technical text is in the details).
    let why = "Haul cannot download gopher: addresses";
    assert_eq!(h.query_all_by_label(why).count(), 1);
    assert!(
        h.query_by_label("报告.bin").is_some(),
        "the decoded name is shown"
    );
    assert_eq!(world.files(), vec!["a.bin", "报告.bin"]);
    assert_eq!(
        std::fs::read(world.dest.path().join("a.bin")).ok(),
        Some(body(1000))
    );
    assert_eq!(
        std::fs::read(world.dest.path().join("报告.bin")).ok(),
        Some(body(3000))
    );

    // Selecting the failed row shows why, in the details.
    h.get_by_label(why).click();
    h.step();
    h.step();
    // The reason, naming the line it came from.
    h.get_by_label_contains("unsupported scheme 'gopher' (pasted line 2)");
    assert!(
        h.query_by_label_contains("2 done").is_some(),
        "summary counts"
    );
}

#[test]
fn ctrl_v_anywhere_adds_urls_from_the_clipboard() {
    let mut world = World::new();
    let url = world.server.url("/bytes/500/clip.txt");
    let mut h = world.harness();
    h.step();
    h.event(egui::Event::Paste(url.clone()));
    step_until_status(&mut h, &url, Status::Done);
    assert_eq!(world.files(), vec!["clip.txt"]);

    // Idle: with nothing running, the window asks for no repaint at all (0% CPU).
    h.step();
    h.step();
    let delay = h
        .output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .map(|v| v.repaint_delay);
    assert_eq!(
        delay,
        Some(Duration::MAX),
        "an idle window schedules no repaint"
    );
}

#[test]
fn an_idle_window_requests_no_repaint_over_two_seconds() {
    let mut world = World::new();
    let url = world.server.url("/bytes/2000/idle.txt");
    let mut h = world.harness();
    h.step();
    // One item done, one line rejected: a finished batch, with the engine wired to wake the
    // window as in `main`.
    h.event(egui::Event::Paste(format!("{url}\nnot a url\n")));
    step_until_status(&mut h, &url, Status::Done);
    h.step();
    h.step();

    let requests = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&requests);
    h.ctx.set_repaint_observer(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    // Two seconds as eframe would spend them: a frame only when one is asked for.
    let until = Instant::now() + Duration::from_secs(2);
    let mut frames = 0;
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
        if requests.load(Ordering::SeqCst) > 0 {
            h.step();
            frames += 1;
        }
    }
    assert_eq!(
        (requests.load(Ordering::SeqCst), frames),
        (0, 0),
        "an idle window asks for no repaint and paints no frame"
    );

    // The counter counts: a progress tick while something runs does ask.
    let slow = world
        .server
        .url("/bytes/10000000/slow.bin?stall_after=1000");
    h.event(egui::Event::Paste(slow.clone()));
    step_until_status(&mut h, &slow, Status::Running);
    assert!(requests.load(Ordering::SeqCst) > 0);
}

#[test]
fn cancel_on_a_streaming_row_shows_cancelled_and_closes_the_connection() {
    let mut world = World::new();
    let path = "/bytes/10000000/stuck.bin?stall_after=65536";
    let url = world.server.url(path);
    let mut h = world.harness();
    h.event(egui::Event::Paste(url.clone()));
    step_until(&mut h, "bytes flowing", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.status() == Status::Running && r.state.bytes() > 0)
    });

    // Cancelling deletes the bytes so far: it asks first, saying how much.
    h.get_by_label("Cancel…").click();
    h.step(); // the click asks
    h.step(); // the question is drawn
    h.step(); // and reaches the accessibility tree
    assert!(h.query_by_label_contains("Cancel stuck.bin?").is_some());
    // One item: "it", not "(1 item, …)"; and the way to keep the bytes (a person took
    // "Keep them" for "cancel but keep the file").
    assert!(
        h.query_by_label_contains("What it has downloaded so far (")
            .is_some()
    );
    assert!(h.query_by_label_contains("use Pause instead").is_some());
    assert!(h.query_by_label("Don't cancel").is_some());
    assert_eq!(
        h.state().model().rows()[0].status(),
        Status::Running,
        "not before the answer"
    );
    h.get_by_label("Cancel and delete").click();
    step_until_status(&mut h, &url, Status::Cancelled);
    assert!(h.query_by_label("cancelled").is_some());
    assert!(
        h.query_by_label("Cancel…").is_none(),
        "no Cancel on a cancelled row"
    );
    assert!(h.query_by_label("Retry").is_some());
    let closed = world
        .rt
        .block_on(world.server.closed_at(path, Duration::from_secs(2)));
    assert!(closed.is_some(), "the server saw the connection close");
    assert!(no_part_files(world.dest.path()));
    assert!(world.files().is_empty());
}

#[test]
fn closing_while_items_run_asks_and_quitting_keeps_them_for_next_time() {
    let mut world = World::new();
    let url = world
        .server
        .url("/bytes/10000000/slow.bin?stall_after=1000");
    let mut h = world.harness();
    h.event(egui::Event::Paste(url.clone()));
    step_until_status(&mut h, &url, Status::Running);

    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    h.step();
    h.step();
    let question =
        "1 item is not finished — quit? It continues where it stopped the next time Haul starts.";
    assert!(h.query_by_label(question).is_some());

    h.get_by_label("Keep running").click();
    h.step();
    h.step();
    assert!(h.query_by_label(question).is_none());
    assert_eq!(status_of(h.state(), &url), Some(Status::Running));

    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    h.step();
    h.step();
    h.get_by_label("Quit").click();
    h.step();
    let closing = h
        .output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .is_some_and(|v| v.commands.contains(&egui::ViewportCommand::Close));
    assert!(closing, "Quit closes the window");
    // What `main` does once the window is gone: stop everything, keeping the bytes.
    let engine = world.engines.pop().expect("engine");
    assert!(engine.suspend_blocking(Duration::from_secs(5)));
    let mut left: Vec<String> = std::fs::read_dir(world.dest.path())
        .expect("dest")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        ["slow.bin.part", "slow.bin.part.haul"],
        "kept for next time"
    );
}

/// Esc never cancels: Ctrl+A then Esc (a common way to try to deselect) once cancelled a
/// download at 68 MiB and deleted its part. Esc clears the selection; Delete removes, asking
/// first when partial downloads would be deleted.
#[test]
fn keyboard_selects_clears_and_removes_and_esc_never_cancels() {
    let mut world = World::new();
    let stuck = world.server.url("/bytes/10000000/k.bin?stall_after=1000");
    let bad = "nope://x".to_owned();
    let mut h = world.harness();
    add_via_box(&mut h, &format!("{stuck}\n{bad}"));
    step_until(&mut h, "bytes flowing", |app| {
        app.model()
            .rows()
            .iter()
            .any(|r| r.uri == stuck && r.state.bytes() > 0)
    });

    // Ctrl+A, then Esc: the selection is cleared and the download goes on.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    assert_eq!(h.state().model().selected().len(), 2);
    h.key_press(egui::Key::Escape);
    h.step();
    h.step();
    assert!(h.state().model().selected().is_empty());
    assert_eq!(status_of(h.state(), &stuck), Some(Status::Running));
    assert!(
        world.dest.path().join("k.bin.part").exists(),
        "nothing deleted"
    );

    // Ctrl+A, Delete: it asks (a partial download would be deleted); Esc keeps everything.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.key_press(egui::Key::Delete);
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("Remove 2 items from the list?")
            .is_some()
    );
    h.key_press(egui::Key::Escape);
    h.step();
    h.step();
    assert_eq!(h.state().model().len(), 2, "Esc answers no");
    // ⌘⌫ is Remove on a Mac (its "delete" key is Backspace), and nothing elsewhere.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Backspace);
    h.step();
    h.step();
    assert_eq!(
        h.query_by_label_contains("Remove 2 items from the list?")
            .is_some(),
        cfg!(target_os = "macos")
    );
    if cfg!(target_os = "macos") {
        h.key_press(egui::Key::Escape);
        h.step();
        h.step();
    }
    assert_eq!(h.state().model().selected().len(), 2, "still selected");
    h.key_press(egui::Key::Delete);
    h.step();
    h.step();
    h.get_by_label("Remove and delete").click();
    h.step();
    h.step();
    assert!(h.state().model().is_empty());
    assert!(h.query_by_label_contains("Nothing here yet").is_some());
}

/// The system fonts cover the scripts of our users' file names, even under `LANG=C` (no
/// locale to guide the fallback). Needs a CJK font with Hangul (CI installs one); elsewhere
/// it says what is missing and only fails when `HAUL_REQUIRE_FONTS` is set.
#[test]
fn system_fonts_cover_chinese_japanese_korean_cyrillic_and_arabic_without_a_locale() {
    let provider = egui_system_font_provider::SystemFontProvider::new().with_locale(None);
    let ctx = egui::Context::default();
    ctx.add_font_provider(Arc::new(provider));
    let font_id = egui::FontId::proportional(14.0);
    let text = "报告日本語ファイル한국어Отчётتقريرé";
    let mut missing = Vec::new();
    let mut output = ctx.run_ui(Default::default(), |ui| {
        ui.fonts_mut(|fonts| {
            missing = text
                .chars()
                .filter(|c| !fonts.has_glyph(&font_id, *c))
                .collect::<Vec<char>>();
        });
    });
    output.textures_delta.clear();
    if !missing.is_empty() {
        let message = format!("no installed font has {missing:?}");
        assert!(
            std::env::var_os("HAUL_REQUIRE_FONTS").is_none(),
            "{message}"
        );
        eprintln!("skipped: {message} (install fonts-wqy-microhei or fonts-noto-cjk)");
    }
}

/// A dropped folder arrives as a folder, its subfolders kept (a person's trial found
/// `srcdir/sub/b.txt` flattened into the destination as `b.txt`).
#[test]
fn a_dropped_folder_adds_the_files_under_it_and_a_dropped_file_adds_itself() {
    let mut world = World::new();
    let src = tempfile::tempdir().expect("tempdir");
    let folder = src.path().join("照片");
    std::fs::create_dir_all(folder.join("2026")).expect("mkdir");
    std::fs::write(folder.join("a.jpg"), body(2000)).expect("write");
    std::fs::write(folder.join("2026/b.jpg"), body(3000)).expect("write");
    let loose = src.path().join("loose.txt");
    std::fs::write(&loose, "loose").expect("write");
    let mut h = world.harness();

    h.input_mut().hovered_files.push(egui::HoveredFile {
        path: Some(folder.clone()),
        ..Default::default()
    });
    h.step(); // paints the "drop to add" overlay
    h.input_mut().hovered_files.clear();
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(folder.clone())));
    h.input_mut().dropped_files.push(Arc::new(Dropped(loose)));
    step_until(&mut h, "three files done", |app| {
        app.model().count(Status::Done) == 3
    });
    assert_eq!(world.files(), vec!["loose.txt"]);
    let dest = world.dest.path();
    assert_eq!(
        std::fs::read(dest.join("照片/a.jpg")).ok(),
        Some(body(2000))
    );
    assert_eq!(
        std::fs::read(dest.join("照片/2026/b.jpg")).ok(),
        Some(body(3000))
    );
    assert!(
        h.state()
            .notice()
            .is_some_and(|n| n.text.contains("Added 2 items") && n.text.contains("照片")),
        "{:?}",
        h.state().notice()
    );
}

#[test]
fn pause_and_resume_a_row_and_a_retry_shows_its_countdown() {
    let mut world = World::new();
    let slow = world
        .server
        .url("/bytes/300000/pr.bin?range=1&etag=p1&drip_ms=5");
    let flaky = world
        .server
        .url("/bytes/800/flaky.bin?fail_first=1&fail_status=503");
    let mut h = world.harness();
    paste_and_pause(&mut h, &slow, 20_000);
    assert!(shown(&h, "paused"));
    assert!(world.dest.path().join("pr.bin.part").exists(), "bytes kept");
    h.get_by_label("Resume").click();
    step_until_status(&mut h, &slow, Status::Done);
    assert_eq!(
        std::fs::read(world.dest.path().join("pr.bin")).ok(),
        Some(body(300_000))
    );
    let ranges = world.server.resumes("");
    assert_eq!(
        ranges.len(),
        1,
        "resumed with one range request: {ranges:?}"
    );

    // A 503 is retried (default: 3 retries, first after about a second): the row says so.
    h.event(egui::Event::Paste(flaky.clone()));
    step_until(&mut h, "a retry scheduled", |app| {
        app.model()
            .rows()
            .iter()
            .any(|r| r.uri == flaky && matches!(r.state, haul::app::model::State::Retrying { .. }))
    });
    assert!(
        h.query_by_label_contains("retry 1/3 in").is_some(),
        "the status cell counts down"
    );
    step_until_status(&mut h, &flaky, Status::Done);
}

#[test]
fn removing_a_paused_row_deletes_its_kept_bytes() {
    let mut world = World::new();
    let slow = world
        .server
        .url("/bytes/300000/gone.bin?range=1&etag=g1&drip_ms=5");
    let mut h = world.harness();
    paste_and_pause(&mut h, &slow, 10_000);
    let part = world.dest.path().join("gone.bin.part");
    assert!(part.exists());
    // Remove deletes the bytes kept: it asks first, naming them.
    h.get_by_label("gone.bin").click();
    h.step();
    h.key_press(egui::Key::Delete);
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("Remove 1 item from the list?")
            .is_some()
    );
    assert!(part.exists(), "nothing deleted before the answer");
    h.get_by_label("Remove and delete").click();
    h.step();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while (part.exists() || world.dest.path().join("gone.bin.part.haul").exists())
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(h.state().model().is_empty());
    assert!(world.files().is_empty() && no_part_files(world.dest.path()));
    assert!(
        !world.dest.path().join("gone.bin.part.haul").exists(),
        "sidecar gone too"
    );
}
