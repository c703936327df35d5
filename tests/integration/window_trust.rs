//! What a person needs to trust the window, each finding of a session spent using it as a new
//! user would, pinned: numbers that are true, controls that stay in view and in place, nothing
//! deleted without asking, text that is read the way a person means it, errors in their words.

use std::time::{Duration, Instant};

use eframe::egui::{self, accesskit::Role};
use egui_kittest::kittest::Queryable as _;
use haul::app::HaulApp;
use haul::app::i18n::LanguageChoice;
use haul::app::model::State;
use haul::desktop::saved_queue::SavedQueue;
use haul::protocol::Status;

use crate::support::body;
use crate::world::{
    MemoryStorage, World, add_via_box, harness_with, paste_and_pause, row_state, shown, status_of,
    step_until, step_until_status, wait,
};

/// 0: after a crash, an unfinished item resumed from byte 0 into the current folder while its
/// `.part` sat orphaned in the folder it was started in. Each row keeps its own folder.
#[test]
fn after_a_restart_each_item_resumes_in_its_own_folder() {
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    let first_dest = tempfile::tempdir().expect("tempdir");
    let url = world
        .server
        .url("/bytes/600000/big.bin?range=1&etag=b1&drip_ms=5");
    let mut init = world.init(Some(first_dest.path().to_path_buf()));
    init.queue = SavedQueue::open(&db).queue;
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    h.event(egui::Event::Paste(url.clone()));
    step_until(&mut h, "bytes checkpointed", |app| {
        app.model().rows().iter().any(|r| r.state.bytes() > 300_000)
    });
    drop(h);
    let engine = world.engines.pop().expect("engine");
    assert!(engine.suspend_blocking(Duration::from_secs(5)));
    assert!(first_dest.path().join("big.bin.part").exists());

    // Started again with another folder as the destination (no --dest: the default).
    let mut init = world.init(Some(world.dest.path().join("elsewhere")));
    let opened = SavedQueue::open(&db);
    init.queue = opened.queue;
    init.stored = opened.items;
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    step_until_status(&mut h, &url, Status::Done);
    assert_eq!(
        std::fs::read(first_dest.path().join("big.bin")).ok(),
        Some(body(600_000)),
        "finished where it was started"
    );
    assert!(!world.dest.path().join("elsewhere").join("big.bin").exists());
    let resumed = world.server.resumes("");
    assert_eq!(
        resumed.len(),
        1,
        "resumed with a range, not from zero: {resumed:?}"
    );
    h.get_by_label("big.bin").click();
    h.step();
    h.step();
    assert!(
        shown(&h, &first_dest.path().display().to_string()),
        "the row says where"
    );
}

/// 1: after Resume a row once showed 859 MiB/s for a 2 MB/s download (the bytes on disk
/// counted as received). The speed is what arrived recently, "calculating…" until it is known.
#[test]
fn the_speed_after_resume_counts_only_bytes_received_since() {
    let mut world = World::new();
    // About 200 KB/s.
    let url = world
        .server
        .url("/bytes/2000000/s.bin?range=1&etag=s1&drip_ms=5");
    let mut h = world.harness();
    paste_and_pause(&mut h, &url, 400_000);
    h.get_by_label("Resume").click();
    step_until(&mut h, "running again", |app| {
        matches!(
            app.model().rows().first().map(|r| &r.state),
            Some(State::Running { done, .. }) if *done > 400_000
        )
    });
    h.step();
    h.step();
    assert!(shown(&h, "calculating…"), "no speed before there is one");
    wait(&mut h, 2500);
    let Some(State::Running { speed, .. }) = row_state(&h, &url) else {
        panic!("still running");
    };
    let rate = speed.bytes_per_sec(Instant::now()).expect("a speed by now");
    assert!(
        (50_000.0..600_000.0).contains(&rate),
        "about 200 KB/s, not the bytes on disk over a moment: {rate}"
    );
}

/// 5: Cancel all cancelled eight items and deleted their partial files without asking, and
/// buttons moved under the mouse when a row changed state.
#[test]
fn cancel_all_asks_first_and_row_buttons_keep_their_places() {
    let mut world = World::new();
    let a = world.server.url("/bytes/5000000/a.bin?stall_after=70000");
    let b = world.server.url("/bytes/5000000/b.bin?stall_after=70000");
    let mut h = world.harness();
    h.event(egui::Event::Paste(format!("{a}\n{b}")));
    step_until(&mut h, "both have bytes", |app| {
        app.model().len() == 2 && app.model().rows().iter().all(|r| r.state.bytes() > 60_000)
    });
    h.step();
    let pause_at = h
        .query_all_by_label("Pause")
        .next()
        .expect("a Pause")
        .rect();
    h.get_by_label("Cancel all…").click();
    h.step();
    h.step();
    h.step();
    assert!(h.query_by_label_contains("Cancel 2 items?").is_some());
    assert!(
        h.query_by_label_contains("(2 items, 136.7 KiB)").is_some(),
        "names what would be deleted"
    );
    h.get_by_label("Don't cancel").click();
    h.step();
    h.step();
    assert_eq!(
        h.state().model().count(Status::Running),
        2,
        "nothing cancelled"
    );
    h.get_by_label("Cancel all…").click();
    h.step();
    h.step();
    h.step();
    h.get_by_label("Cancel and delete").click();
    step_until(&mut h, "both cancelled", |app| {
        app.model().count(Status::Cancelled) == 2
    });
    h.step();
    let retry_at = h
        .query_all_by_label("Retry")
        .next()
        .expect("a Retry")
        .rect();
    assert_eq!(pause_at, retry_at, "the main button stays in its slot");
}

/// 6: Clear finished also removed failed rows; there was no Retry all failed nor Pause all.
#[test]
fn clear_done_keeps_failed_rows_and_retry_failed_and_pause_all_act_on_all() {
    let mut world = World::new();
    let ok = world.server.url("/bytes/1000/ok.bin");
    let flaky = world
        .server
        .url("/bytes/900/flaky.bin?fail_first=4&fail_status=404");
    let mut h = world.harness();
    h.event(egui::Event::Paste(format!("{ok}\n{flaky}")));
    step_until(&mut h, "one done, one failed", |app| {
        app.model().count(Status::Done) == 1 && app.model().count(Status::Failed) == 1
    });
    h.get_by_label("Clear done").click();
    h.step();
    h.step();
    assert_eq!(h.state().model().len(), 1);
    assert_eq!(status_of(h.state(), &flaky), Some(Status::Failed));
    assert!(
        world.dest.path().join("ok.bin").exists(),
        "clearing a row keeps its file"
    );
    // 404 four times, then the file: Retry failed three times over.
    for _ in 0..3 {
        h.get_by_label("Retry failed").click();
        step_until(&mut h, "the retry under way", |app| {
            status_of(app, &flaky) != Some(Status::Failed)
        });
        step_until_status(&mut h, &flaky, Status::Failed);
    }
    h.get_by_label("Retry failed").click();
    step_until_status(&mut h, &flaky, Status::Done);

    let slow = world
        .server
        .url("/bytes/3000000/slow.bin?range=1&etag=p&drip_ms=5");
    h.event(egui::Event::Paste(slow.clone()));
    step_until_status(&mut h, &slow, Status::Running);
    h.get_by_label("Pause all").click();
    step_until_status(&mut h, &slow, Status::Paused);
    h.get_by_label("Resume all").click();
    step_until_status(&mut h, &slow, Status::Running);
}

/// 7: errors were developer English, also in the Chinese window ("could not connect: tcp
/// connect error: Connection refused (os error 111)").
#[test]
fn a_failure_reads_as_a_sentence_in_the_windows_language() {
    let mut world = World::new();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut storage = MemoryStorage::default();
    let settings = haul::app::settings::Settings {
        language: LanguageChoice::Chinese,
        retries: 0,
        dest: world.dest.path().to_path_buf(),
        ..Default::default()
    };
    eframe::set_value(&mut storage, haul::app::settings::STORAGE_KEY, &settings);
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    let url = format!("http://{closed}/x.bin");
    h.event(egui::Event::Paste(url.clone()));
    step_until_status(&mut h, &url, Status::Failed);
    h.step();
    h.step();
    assert!(shown(&h, "服务器拒绝了连接"), "the row says it in Chinese");
    h.get_by_label("服务器拒绝了连接").click();
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("could not connect").is_some(),
        "the technical text stays in the details"
    );
    assert!(
        h.query_by_label_contains("项：").is_some(),
        "the summary counts in Chinese"
    );
}

/// 8: `127.0.0.1:8000/small1.txt` became "source not found: …/127.0.0.1:8000/small1.txt", and
/// Ctrl+V with a chat message added failed rows off screen.
#[test]
fn text_without_a_scheme_is_a_web_address_and_a_chat_message_adds_nothing() {
    let mut world = World::new();
    let with_scheme = world.server.url("/bytes/700/small1.txt");
    let without = with_scheme.trim_start_matches("http://").to_owned();
    let mut h = world.harness();
    h.event(egui::Event::Paste(without.clone()));
    step_until_status(&mut h, &without, Status::Done);
    assert_eq!(world.files(), vec!["small1.txt"]);
    h.get_by_label("small1.txt").click();
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains(&format!("Read as {with_scheme}"))
            .is_some(),
        "the row says how it was read"
    );

    h.event(egui::Event::Paste(
        "Hi team,\nthe files are ready\nthanks!".to_owned(),
    ));
    // The lines are looked for on disk first (the desktop's walk answers between frames;
    // three frames were not always enough on a loaded machine).
    step_until(&mut h, "the notice", |app| {
        app.notice()
            .is_some_and(|n| n.text.starts_with("Nothing to add"))
    });
    assert_eq!(h.state().model().len(), 1, "nothing added");
    assert_eq!(
        h.state().notice().map(|n| n.text.as_str()),
        Some("Nothing to add: the pasted text has no web address and names no file.")
    );
}

/// 9: a destination that was a file, or not writable, was accepted and every download failed
/// at the end. It is checked as typed, and refused with the reason.
#[test]
fn a_destination_that_cannot_take_files_is_refused_when_typed() {
    let mut world = World::new();
    let file = world.dest.path().join("not-a-folder");
    std::fs::write(&file, b"x").expect("write");
    let mut h = world.harness();
    let before = h.state().settings().dest.clone();
    let field = h.get_by_label("Save to");
    field.focus();
    h.step();
    h.get_by_label("Save to").type_text("/not-a-folder");
    h.step();
    h.key_press(egui::Key::Tab);
    step_until(&mut h, "the folder checked", |app| {
        app.dest_problem().is_some()
    });
    // Second trial: the field kept the refused path while downloads went to the folder
    // before it, and the small print did not say so. It says where they go.
    let expected = format!(
        "This is a file, not a folder: choose a folder. Downloads still go to {}.",
        before.display()
    );
    assert_eq!(
        h.state().dest_problem().map(|n| n.text.as_str()),
        Some(expected.as_str())
    );
    assert!(h.query_by_label(&expected).is_some(), "shown in full");
    assert_eq!(h.state().settings().dest, before, "not used");
    let _ = file;
}

/// A folder typed that does not exist yet is taken, saying it will be created; once a
/// download has made it, that is no longer said (it stayed for good).
#[test]
fn the_folder_will_be_created_note_goes_once_a_download_made_it() {
    let mut world = World::new();
    let url = world.server.url("/bytes/1000/made.bin");
    let new = world.dest.path().join("new folder");
    let mut h = world.harness();
    h.get_by_label("Save to").focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_label("Save to")
        .type_text(&new.display().to_string());
    h.step();
    h.key_press(egui::Key::Tab);
    step_until(&mut h, "the folder checked", |app| {
        app.dest_problem().is_some()
    });
    assert_eq!(
        h.state().dest_problem().map(|n| n.text.as_str()),
        Some("This folder does not exist yet; it will be created.")
    );
    crate::world::add_via_box(&mut h, &url);
    step_until(&mut h, "the download done", |app| {
        app.model().count(haul::protocol::Status::Done) == 1
    });
    assert!(new.join("made.bin").is_file());
    assert!(h.state().dest_problem().is_none(), "no longer said");
}

/// 11: the Logs panel said "No warnings or errors." beside failed rows.
#[test]
fn the_activity_panel_tells_what_happened_to_each_item() {
    let mut world = World::new();
    let ok = world.server.url("/bytes/1000/fine.bin");
    let missing = world.server.url("/bytes/10/gone.bin?status=404");
    let mut h = world.harness();
    h.event(egui::Event::Paste(format!("{ok}\n{missing}")));
    step_until(&mut h, "both ended", |app| app.model().active() == 0);
    h.get_by_label("Activity").click();
    // The panel opens over a few frames; a busy machine may need more of them.
    for _ in 0..200 {
        h.step();
        if h.query_by_label_contains("Done: fine.bin (1000 B in")
            .is_some()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        h.query_by_label_contains("Done: fine.bin (1000 B in")
            .is_some(),
        "{:?}",
        h.state()
            .activity()
            .map(|a| a.text.clone())
            .collect::<Vec<_>>()
    );
    assert!(
        h.query_by_label_contains("Failed: gone.bin — The server has no such file (404)")
            .is_some()
    );
}

/// 13: a paused row hid its bar and its total, and had no Cancel.
#[test]
fn a_paused_row_keeps_its_bar_and_size_and_can_be_cancelled() {
    let mut world = World::new();
    let url = world
        .server
        .url("/bytes/1000000/p.bin?range=1&etag=p1&drip_ms=5");
    let mut h = world.harness();
    paste_and_pause(&mut h, &url, 100_000);
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains(" / 976.6 KiB").is_some(),
        "the total shows"
    );
    assert!(
        h.query_by_role(Role::ProgressIndicator).is_some(),
        "the bar shows"
    );
    h.get_by_label("Cancel…").click();
    h.step();
    h.step();
    h.step();
    h.get_by_label("Cancel and delete").click();
    step_until_status(&mut h, &url, Status::Cancelled);
    let deadline = Instant::now() + Duration::from_secs(5);
    while world.dest.path().join("p.bin.part").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !world.dest.path().join("p.bin.part").exists(),
        "its bytes are gone"
    );
}

/// 17: an empty filter showed an empty list with nothing said.
#[test]
fn an_empty_filter_says_so_and_one_item_is_one_item() {
    let mut world = World::new();
    let url = world.server.url("/bytes/100/one.bin");
    let mut h = world.harness();
    add_via_box(&mut h, &url);
    step_until_status(&mut h, &url, Status::Done);
    h.step();
    h.step();
    assert!(h.query_by_label_contains("1 item: 1 done").is_some());
    h.get_by_label("Show").click();
    h.step();
    h.step();
    h.get_by_label("failed").click();
    h.step();
    h.step();
    assert!(shown(&h, "No rows are failed."));
}

/// 3 (second trial): Activity said "Done: big.iso (19.1 MiB in 7.1 s)" for an item paused
/// and resumed that had taken 20 s: it counted the last run only.
#[test]
fn activity_counts_every_run_of_a_resumed_item() {
    let mut world = World::new();
    let url = world
        .server
        .url("/bytes/200000/twice.bin?range=1&etag=t1&drip_ms=5");
    let mut h = world.harness();
    crate::world::paste_and_pause(&mut h, &url, 20_000);
    let first_run = h.state().model().rows()[0]
        .elapsed(std::time::Instant::now())
        .expect("an elapsed time");
    h.get_by_label("Resume").click();
    step_until(&mut h, "done", |app| app.model().count(Status::Done) == 1);
    let row = &h.state().model().rows()[0];
    let total = row.elapsed(std::time::Instant::now()).expect("elapsed");
    assert!(total > first_run, "{total:?} after {first_run:?}");
    let tr = haul::app::i18n::Tr(haul::app::i18n::Lang::En);
    let done = h
        .state()
        .activity()
        .find(|a| a.text.starts_with("Done: twice.bin"))
        .map(|a| a.text.clone())
        .unwrap_or_default();
    assert!(
        done.ends_with(&format!("in {})", tr.duration(total))),
        "{done} (took {total:?})"
    );
}

/// 12 (second trial): with only a paused item left, Cancel all… was greyed out, and the
/// summary left cancelled rows out of its counts.
#[test]
fn cancel_all_covers_paused_items_and_the_summary_counts_cancelled_ones() {
    let mut world = World::new();
    let url = world
        .server
        .url("/bytes/1000000/held.bin?range=1&etag=h1&drip_ms=5");
    let mut h = world.harness();
    crate::world::paste_and_pause(&mut h, &url, 20_000);
    h.step();
    h.get_by_label("Cancel all…").click();
    h.step();
    h.step();
    h.step();
    h.get_by_label("Cancel and delete").click();
    step_until(&mut h, "cancelled", |app| {
        app.model().count(Status::Cancelled) == 1
    });
    h.step();
    assert!(
        h.query_by_label_contains("0 failed, 1 cancelled").is_some(),
        "the summary counts it"
    );
}

/// Issue 14: a file split over several connections shows each part where it lies in its bar,
/// and "Connections per file" is a setting.
#[test]
fn a_split_download_shows_its_parts() {
    let mut world = World::new();
    let n = 20 * 1024 * 1024;
    let url = world
        .server
        .url(&format!("/bytes/{n}/parts.bin?range=1&etag=p&rate=6291456"));
    let mut h = world.harness();
    h.event(egui::Event::Paste(url.clone()));
    step_until(&mut h, "two parts written", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.parts.len() >= 2)
    });
    h.step();
    assert!(
        h.query_by_role(Role::ProgressIndicator).is_some(),
        "the bar"
    );
    step_until_status(&mut h, &url, Status::Done);
    assert!(
        h.state().model().rows()[0].parts.is_empty(),
        "a finished row has none"
    );
    assert_eq!(
        std::fs::read(world.dest.path().join("parts.bin")).ok(),
        Some(body(n))
    );
    h.get_by_label("Settings").click();
    h.step();
    h.step();
    assert!(h.query_by_label("Connections per file").is_some());
}
