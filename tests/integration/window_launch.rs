//! The window across launches, driven as in `window`: settings and the saved queue across a
//! restart (after a crash, a corrupt queue moved aside), a hidden window that keeps saving,
//! what the command line and a later launch hand over, and the About window.

use std::time::{Duration, Instant};

use crate::support::body;
use eframe::egui::{self, accesskit::Role};
use egui_kittest::kittest::Queryable as _;
use haul::app::HaulApp;
use haul::app::i18n::LanguageChoice;
use haul::protocol::Status;

use crate::world::*;

#[test]
fn settings_changed_in_the_panel_survive_a_save_and_load() {
    let mut world = World::new();
    let mut h = world.harness();
    h.get_by_label("Settings").click();
    h.step();
    h.step();
    h.get_by_label("Downloads at once").set_value_accesskit(3.0);
    h.step();
    h.get_by_role_and_label(Role::RadioButton, "Overwrite")
        .click();
    h.step();
    h.get_by_label("Language").click();
    h.step();
    h.step();
    h.get_by_label("简体中文").click();
    h.step();
    h.step();
    // The window now speaks Chinese.
    assert!(shown(&h, "设置"));
    assert!(shown(&h, "添加文件…"));

    let before = h.state().settings().clone();
    assert_eq!(before.jobs, 3);
    assert!(before.overwrite);
    assert_eq!(before.language, LanguageChoice::Chinese);
    assert_eq!(before.dest, world.dest.path());

    let mut storage = MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    drop(h);

    let init = world.init(None);
    let mut h = harness_with(|_| HaulApp::new(Some(&storage), init));
    h.step();
    assert_eq!(h.state().settings(), &before);
    assert!(shown(&h, "设置"));
    assert_eq!(h.state().settings().limits().jobs, 3);
}

/// Issue 28, item 26: the Activity panel was empty after a restart. Its lines are saved with
/// the settings, and the last session's are there when the window opens again.
#[test]
fn the_last_sessions_activity_is_there_after_a_restart() {
    let mut world = World::new();
    let url = world.server.url("/bytes/2000/remembered.bin");
    let mut h = world.harness();
    h.event(egui::Event::Paste(url.clone()));
    step_until_status(&mut h, &url, Status::Done);
    let said: Vec<String> = h.state().activity().map(|a| a.text.clone()).collect();
    assert!(
        said.iter().any(|t| t.contains("remembered.bin")),
        "{said:?}"
    );
    let mut storage = MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    drop(h);

    let init = world.init(None);
    let mut h = harness_with(|_| HaulApp::new(Some(&storage), init));
    h.step();
    let back: Vec<String> = h.state().activity().map(|a| a.text.clone()).collect();
    assert_eq!(back, said, "the last session's lines");
    h.get_by_label("Activity").click();
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("remembered.bin").is_some(),
        "shown"
    );
}

/// The probe: in the Chinese window, Activity showed Haul's own warnings as the log has them
/// (English) among the translated lines, as if left untranslated. They stay as written (a bug
/// report needs them) and are marked as the log's text.
#[test]
fn a_warning_from_the_log_is_marked_as_the_logs_own_text() {
    let mut world = World::new();
    let storage = with_settings(&world, |s| {
        s.language = LanguageChoice::Chinese;
        s.show_logs = true;
    });
    let logs = haul::desktop::logs::RecentLogs::default();
    logs.push(haul::desktop::logs::LogLine {
        level: tracing::Level::WARN,
        at: 0,
        target: "haul::desktop".into(),
        message: "cannot make the data folder private".into(),
    });
    let init = haul::app::AppInit {
        logs,
        ..world.init(None)
    };
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("cannot make the data folder private")
            .is_some()
    );
    assert!(
        h.query_by_label("日志原文（英文）").is_some(),
        "marked as the log's text"
    );
}

#[test]
fn after_a_crash_the_queue_comes_back_and_unfinished_items_resume() {
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    let fast = world.server.url("/bytes/2000/fast.bin");
    let slow = world
        .server
        .url("/bytes/400000/slow.bin?range=1&etag=s1&drip_ms=5");

    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    let opened = haul::desktop::saved_queue::SavedQueue::open(&db);
    assert!(opened.items.is_empty() && opened.notice.is_none());
    init.queue = opened.queue;
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    add_via_box(&mut h, &format!("{fast}\n{slow}\nnope://bad"));
    step_until(&mut h, "fast done and slow under way", |app| {
        status_of(app, &fast) == Some(Status::Done)
            && row_of(app, &slow).is_some_and(|r| {
                r.state.bytes() >= 20_000
                    && r.elapsed(Instant::now()) >= Some(Duration::from_millis(300))
            })
    });
    let ran = row_of(h.state(), &slow)
        .and_then(|r| r.elapsed(Instant::now()))
        .unwrap_or_default();
    // The crash: the window is gone without a goodbye; the engine stops where it is, leaving
    // the `.part` and its sidecar, as a killed process would.
    drop(h);
    let engine = world.engines.pop().expect("engine");
    assert!(engine.suspend_blocking(Duration::from_secs(5)));
    assert!(world.dest.path().join("slow.bin.part").exists());

    // Start again.
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    let opened = haul::desktop::saved_queue::SavedQueue::open(&db);
    assert_eq!(opened.items.len(), 3, "every item is back");
    init.queue = opened.queue;
    init.stored = opened.items;
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    // Its time so far came back with it: elapsed counts across a crash (2 min 30 s read 3.5 s
    // after one, and the activity line "1.0 GiB in 6.4 s" for a 4-minute download).
    let back = row_of(h.state(), &slow)
        .and_then(|r| r.elapsed(Instant::now()))
        .unwrap_or_default();
    assert!(
        back + Duration::from_millis(150) >= ran,
        "ran {ran:?} before the crash, {back:?} after"
    );
    step_until_status(&mut h, &slow, Status::Done);
    let fast_row = h
        .state()
        .model()
        .rows()
        .iter()
        .find(|r| r.uri == fast)
        .cloned()
        .expect("fast row");
    let haul::app::model::State::Done { files, .. } = &fast_row.state else {
        panic!("the finished item shows as done: {:?}", fast_row.state);
    };
    assert_eq!(files[0].sha256.to_string(), hex_sha(&body(2000)));
    let bad = h
        .state()
        .model()
        .rows()
        .iter()
        .find(|r| r.uri == "nope://bad")
        .and_then(|r| r.state.error())
        .unwrap_or_default();
    assert!(
        bad.contains("unsupported scheme") && bad.contains("pasted line 3"),
        "the rejected line and its reason: {bad}"
    );
    assert_eq!(world.files(), vec!["fast.bin", "slow.bin"]);
    assert_eq!(
        std::fs::read(world.dest.path().join("slow.bin")).ok(),
        Some(body(400_000))
    );
    assert!(no_part_files(world.dest.path()));
    let resumed = world.server.resumes("slow.bin");
    assert_eq!(resumed.len(), 1, "{resumed:?}");
}

#[test]
fn a_corrupt_saved_queue_is_moved_aside_and_the_window_says_so() {
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    std::fs::write(&db, b"not a database").expect("write");
    let opened = haul::desktop::saved_queue::SavedQueue::open(&db);
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.queue = opened.queue;
    init.stored = opened.items;
    init.queue_notice = opened.notice;
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    h.step();
    let notice = h
        .state()
        .notice()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(
        notice.starts_with("The saved queue could not be used (")
            && notice.contains(".unreadable-")
            && notice.ends_with("and a new one was started."),
        "{notice}"
    );
    assert!(h.query_by_label(&notice).is_some(), "shown in the window");
}

#[test]
fn the_about_window_shows_the_version_and_the_commit() {
    let mut world = World::new();
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.data_dir = Some(world.dest.path().join("data"));
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    h.step();
    let version = format!("Version {}", haul::version::LONG);
    assert!(h.query_by_label(&version).is_none(), "closed at first");

    h.get_by_label("About").click();
    h.step();
    h.step();
    // `0.1.0 (abc1234 2026-11-26)`: the package version and the commit built.
    assert!(h.query_by_label(&version).is_some(), "{version} is shown");
    assert!(version.contains(env!("CARGO_PKG_VERSION")));
    assert!(version.contains(haul::version::GIT_HASH));
    assert!(shown(&h, "Licence: MIT OR Apache-2.0"));
    assert!(
        h.query_by_label_contains("Settings, queue and logs: ")
            .is_some()
    );

    h.get_by_role_and_label(Role::Button, "Close").click();
    h.step();
    h.step();
    assert!(h.query_by_label(&version).is_none(), "closed again");
}

#[test]
fn a_file_url_on_the_command_line_adds_the_local_file() {
    // "Open with Haul" on a Linux desktop passes local files as file:// URLs (`Exec=haul %U`),
    // with spaces and non-ASCII characters percent-encoded.
    let mut world = World::new();
    let src = tempfile::tempdir().expect("tempdir");
    let path = src.path().join("a b 报告.txt");
    std::fs::write(&path, b"from a file URL").expect("write");
    let url = url::Url::from_file_path(&path).expect("absolute path");
    assert!(url.as_str().contains("a%20b%20"), "{url}");
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.sources = vec![url.to_string()];
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    step_until(&mut h, "the file copied", |app| {
        app.model().count(Status::Done) == 1
    });
    assert_eq!(world.files(), vec!["a b 报告.txt"]);
    assert_eq!(
        std::fs::read(world.dest.path().join("a b 报告.txt")).ok(),
        Some(b"from a file URL".to_vec())
    );
}

/// eframe calls only `App::logic` (no `ui`) while the window is minimised or hidden: events
/// must still reach the rows and the saved queue, or a crash then fetches finished items again.
#[test]
fn a_hidden_window_keeps_applying_events_and_saving_the_queue() {
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    // Late enough that nothing has happened by the harness's first (shown) frame, even on a
    // loaded machine (300 ms was not, once, in CI).
    let url = world
        .server
        .url("/bytes/3000/hidden.bin?delay_headers_ms=3000");
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.queue = haul::desktop::saved_queue::SavedQueue::open(&db).queue;
    init.sources = vec![url.clone()];
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    assert_ne!(status_of(h.state(), &url), Some(Status::Done));

    // From here on the window is hidden: only the logic pass runs, as eframe runs it.
    let ctx = h.ctx.clone();
    let mut frame = eframe::Frame::_new_kittest();
    let deadline = Instant::now() + Duration::from_secs(20);
    while status_of(h.state(), &url) != Some(Status::Done) {
        assert!(
            Instant::now() < deadline,
            "the hidden window never applied the events"
        );
        eframe::App::logic(h.state_mut(), &ctx, &mut frame);
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(world.files(), vec!["hidden.bin"]);
    drop(h); // the saved queue writes what is pending

    let saved = haul::desktop::saved_queue::SavedQueue::open(&db);
    let statuses: Vec<Status> = saved.items.iter().map(|i| i.status).collect();
    assert_eq!(
        statuses,
        [Status::Done],
        "the saved queue knows it finished"
    );
}

/// A later `haul URL` hands its sources to the running window (one window per person): they
/// are added as if given on its command line, relative paths from where that launch started.
#[test]
fn sources_handed_over_by_a_later_launch_are_added() {
    let mut world = World::new();
    let url = world.server.url("/bytes/1500/handed.bin");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    std::fs::write(elsewhere.path().join("local.txt"), body(40)).expect("write");
    let (tx, rx) = std::sync::mpsc::channel();
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.handoffs = Some(rx);
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    tx.send(haul::desktop::instance::Handoff {
        sources: vec![url.clone(), "local.txt".to_owned()],
        dest: None,
        cwd: elsewhere.path().to_path_buf(),
        ..Default::default()
    })
    .expect("window alive");
    h.ctx.request_repaint(); // as the instance thread's waker does
    step_until(&mut h, "both handed items done", |app| {
        app.model().count(Status::Done) == 2
    });
    assert_eq!(world.files(), vec!["handed.bin", "local.txt"]);
}

/// Issue 28, item 16: `haul --dest DIR URL` handed to the running window changed its Save-to
/// folder for good. The launch's folder (relative to where it started) holds its items only:
/// the Save-to folder and the next item stay where the person put them.
#[test]
fn a_later_launchs_dest_is_for_its_items_only() {
    let mut world = World::new();
    let handed = world.server.url("/bytes/1500/handed.bin");
    let later = world.server.url("/bytes/700/later.bin");
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let (tx, rx) = std::sync::mpsc::channel();
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.handoffs = Some(rx);
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    tx.send(haul::desktop::instance::Handoff {
        sources: vec![handed.clone()],
        dest: Some("there".into()),
        cwd: elsewhere.path().to_path_buf(),
        ..Default::default()
    })
    .expect("window alive");
    h.ctx.request_repaint();
    step_until(&mut h, "the handed item done", |app| {
        app.model().count(Status::Done) == 1
    });
    assert_eq!(
        std::fs::read(elsewhere.path().join("there/handed.bin")).ok(),
        Some(body(1500)),
        "into the launch's --dest, from where it started"
    );
    assert_eq!(
        h.state().settings().dest,
        world.dest.path(),
        "the Save-to folder is the person's still"
    );
    h.event(eframe::egui::Event::Paste(later));
    step_until(&mut h, "the next item done", |app| {
        app.model().count(Status::Done) == 2
    });
    assert_eq!(world.files(), vec!["later.bin"], "the next item: Save-to");
}

/// Issue 28, item 25: in the Chinese window the About window's controls speak Chinese to a
/// screen reader (egui's own title-bar button said "Close window"), and Esc closes it too.
#[test]
fn the_about_window_speaks_the_windows_language() {
    let mut world = World::new();
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut storage = MemoryStorage::default();
    let settings = haul::app::settings::Settings {
        language: LanguageChoice::Chinese,
        dest: world.dest.path().to_path_buf(),
        ..Default::default()
    };
    eframe::set_value(&mut storage, haul::app::settings::STORAGE_KEY, &settings);
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    h.step();
    h.get_by_label("关于").click();
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains("Close").is_none(),
        "no English button"
    );
    assert!(h.query_by_role_and_label(Role::Button, "关闭").is_some());
    h.key_press(eframe::egui::Key::Escape);
    h.step();
    h.step();
    assert!(
        h.query_by_role_and_label(Role::Button, "关闭").is_none(),
        "Esc closes it"
    );
}

/// A line too long to be a source (issue 28, item 14): pasted into the add box, it is taken
/// out of the paste and a notice says so, as Ctrl+V on the window says why nothing was added;
/// it never becomes a row (one kept the 5 MB, made every click take seconds, and was saved
/// with the queue). One an older Haul saved is dropped from the queue when it is read.
#[test]
fn a_five_megabyte_line_never_becomes_a_row_and_an_old_one_is_dropped() {
    use haul::desktop::saved_queue::{SavedItem, SavedOp, SavedQueue};
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    let blob = "x".repeat(5 * 1024 * 1024);
    {
        let old = SavedQueue::open(&db).queue.expect("a queue");
        old.send(SavedOp::Put(Box::new(SavedItem {
            key: 1,
            text: blob.clone(),
            expect: None,
            name: blob.clone(),
            status: Status::Failed,
            bytes: 0,
            total: None,
            path: None,
            digest: None,
            files: Vec::new(),
            error: Some(format!("invalid source '{blob}'")),
            failure: None,
            elapsed_ms: 0,
            dest: None,
            guessed: false,
            options: None,
            torrent: None,
            torrent_files: Vec::new(),
        })));
    }
    let url = world.server.url("/bytes/1000/short.bin");
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    let opened = SavedQueue::open(&db);
    assert_eq!(opened.items.len(), 1, "an older Haul saved it");
    init.queue = opened.queue;
    init.stored = opened.items;
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    assert!(h.state().model().is_empty(), "not brought back");

    add_via_box(&mut h, &format!("{blob}\n{url}"));
    step_until_status(&mut h, &url, Status::Done);
    let rows = h.state().model().rows();
    assert_eq!(rows.len(), 1, "only the address");
    assert!(
        rows.iter()
            .all(|r| r.uri.len() < 1000 && r.name.len() < 1000)
    );
    assert!(
        h.query_by_label_contains("1 line(s) longer than 64.0 KiB")
            .is_some(),
        "a notice says why"
    );
    drop(h);
    let saved = SavedQueue::open(&db);
    let texts: Vec<&str> = saved.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, [url.as_str()], "the old row is gone from the queue");
}

/// A download the schedule paused is still the schedule's after a restart: it says so, and it
/// goes on when the hours come round, also when they already have at the start (it came back
/// as paused by hand and never went on).
#[test]
fn a_download_the_schedule_paused_goes_on_after_a_restart() {
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    let slow = world
        .server
        .url("/bytes/400000/night.bin?range=1&etag=n&drip_ms=5");
    let mut storage = with_settings(&world, |s| {
        s.schedule.run = true;
        s.schedule.run_hours = hours(1, 7);
    });
    let mut init = world.init(None);
    init.queue = haul::desktop::saved_queue::SavedQueue::open(&db).queue;
    let first = MemoryStorage(storage.0.clone());
    let mut h = harness_with(move |_| HaulApp::new(Some(&first), init));
    let clock = test_clock(&mut h, (2, 0));
    add_via_box(&mut h, &slow);
    step_until(&mut h, "under way", |app| {
        row_of(app, &slow).is_some_and(|r| r.state.bytes() > 20_000)
    });
    set_time(&clock, 7, 0);
    step_until_status(&mut h, &slow, Status::Paused);
    eframe::App::save(h.state_mut(), &mut storage);
    drop(h);
    let engine = world.engines.pop().expect("engine");
    assert!(engine.suspend_blocking(Duration::from_secs(5)));

    // Started again at 08:00, still outside the hours.
    let mut init = world.init(None);
    let opened = haul::desktop::saved_queue::SavedQueue::open(&db);
    init.queue = opened.queue;
    init.stored = opened.items;
    let again = MemoryStorage(storage.0.clone());
    let mut h = harness_with(move |_| HaulApp::new(Some(&again), init));
    let clock = test_clock(&mut h, (8, 0));
    steps(&mut h, 3);
    assert!(shown(&h, "Paused by the schedule until tomorrow at 01:00"));
    set_time(&clock, 1, 0);
    step_until_status(&mut h, &slow, Status::Done);
    assert_eq!(
        std::fs::read(world.dest.path().join("night.bin")).ok(),
        Some(body(400_000))
    );
}
