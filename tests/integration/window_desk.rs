//! Issue 16's desktop comforts in the real window, headless (egui_kittest): the list's order
//! is the queue's (menu, keys, a drag, kept across a restart); the schedule (run hours, a
//! speed limit by a clock the test moves); "when the queue is done" (a countdown first, and
//! the power command recorded, never run).

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use haul::app::HaulApp;
use haul::app::schedule::{Clock, Hours, WhenDone};
use haul::app::settings::{STORAGE_KEY, Settings};
use haul::desktop::power::{PowerAction, PowerCommand};
use haul::desktop::saved_queue::SavedQueue;
use haul::protocol::Status;

use crate::world::{
    MemoryStorage, World, add_via_box, harness_with, paste_and_pause, shown, status_of, step_until,
    step_until_status,
};

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
    let storage = with_settings(&world, |s| s.jobs = 1);
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

/// A clock the test moves (minutes after midnight).
fn test_clock(h: &mut Harness<'_, HaulApp>, at: (u16, u16)) -> Arc<AtomicU16> {
    let minutes = Arc::new(AtomicU16::new(at.0 * 60 + at.1));
    let read = Arc::clone(&minutes);
    h.state_mut().set_clock(Arc::new(move || {
        let m = read.load(Ordering::Relaxed);
        Clock::new(m / 60, m % 60).expect("a time")
    }));
    minutes
}

fn set_time(clock: &AtomicU16, h: u16, m: u16) {
    clock.store(h * 60 + m, Ordering::Relaxed);
}

/// Settings saving into `world`'s folder, as `tweak` changes them, for `HaulApp::new`.
fn with_settings(world: &World, tweak: impl FnOnce(&mut Settings)) -> MemoryStorage {
    let mut storage = MemoryStorage::default();
    let mut settings = Settings {
        dest: world.dest.path().to_path_buf(),
        ..Settings::default()
    };
    tweak(&mut settings);
    eframe::set_value(&mut storage, STORAGE_KEY, &settings);
    storage
}

/// The first row's bytes received over `tenths` tenths of a second, the window stepping.
fn bytes_in(h: &mut Harness<'_, HaulApp>, tenths: u32) -> u64 {
    let started = h.state().model().rows()[0].state.bytes();
    for _ in 0..tenths {
        std::thread::sleep(Duration::from_millis(100));
        h.step();
    }
    h.state().model().rows()[0].state.bytes() - started
}

fn hours(from: u16, to: u16) -> Hours {
    Hours {
        from: Clock::new(from, 0).expect("from"),
        to: Clock::new(to, 0).expect("to"),
    }
}

#[test]
fn outside_the_run_hours_downloads_wait_and_what_runs_pauses_until_they_come_round() {
    let mut world = World::new();
    let quick = world.server.url("/bytes/1000/quick.bin");
    let slow = world
        .server
        .url("/bytes/400000/slow.bin?range=1&etag=s&drip_ms=5");
    let storage = with_settings(&world, |s| {
        s.schedule.run = true;
        s.schedule.run_hours = hours(1, 7);
    });
    let init = world.init(None);
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    let clock = test_clock(&mut h, (12, 0));
    add_via_box(&mut h, &quick);
    steps(&mut h, 3);
    std::thread::sleep(Duration::from_millis(300));
    steps(&mut h, 3);
    assert_eq!(
        world.server.requests(),
        0,
        "nothing starts outside the hours"
    );
    assert_eq!(status_of(h.state(), &quick), Some(Status::Queued));
    assert!(shown(
        &h,
        "Waiting for the schedule: downloads start tomorrow at 01:00"
    ));

    set_time(&clock, 1, 0);
    step_until_status(&mut h, &quick, Status::Done);

    add_via_box(&mut h, &slow);
    step_until(&mut h, "slow under way", |app| {
        app.model()
            .rows()
            .iter()
            .any(|r| r.text == slow && r.state.bytes() > 20_000)
    });
    set_time(&clock, 7, 0);
    step_until_status(&mut h, &slow, Status::Paused);
    assert!(
        h.state()
            .activity()
            .any(|a| a.text == "Paused by the schedule until 01:00: 1 item"),
        "{:?}",
        h.state().activity().map(|a| &a.text).collect::<Vec<_>>()
    );

    // The next night it goes on from its bytes.
    set_time(&clock, 0, 59);
    steps(&mut h, 3);
    assert_eq!(status_of(h.state(), &slow), Some(Status::Paused));
    set_time(&clock, 1, 0);
    step_until_status(&mut h, &slow, Status::Done);
    assert_eq!(
        std::fs::read(world.dest.path().join("slow.bin")).ok(),
        Some(crate::support::body(400_000))
    );
    let resumed = world
        .server
        .request_log()
        .iter()
        .filter(|l| l.target.contains("slow.bin"))
        .filter_map(|l| l.range.clone())
        .any(|r| r != "bytes=0-");
    assert!(resumed, "it resumed from its bytes");
}

#[test]
fn the_speed_limit_by_the_clock_holds_in_its_hours_and_lifts_after() {
    let mut world = World::new();
    let url = world.server.url("/bytes/4194304/limited.bin");
    let storage = with_settings(&world, |s| {
        s.schedule.limit = true;
        s.schedule.limit_hours = hours(9, 18);
        s.schedule.limit_rate = 256 * 1024;
    });
    let init = world.init(None);
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    let clock = test_clock(&mut h, (10, 0));
    steps(&mut h, 2);
    assert_eq!(h.state().limits().max_rate, Some(256 * 1024));
    add_via_box(&mut h, &url);
    step_until(&mut h, "running", |app| {
        app.model().rows().iter().any(|r| r.state.bytes() > 0)
    });
    let bytes = bytes_in(&mut h, 15);
    // 1.5 s at 256 KiB/s is 384 KiB: held to it, and flowing at it (not stopped).
    assert!(
        (200 * 1024..600 * 1024).contains(&bytes),
        "held to 256 KiB/s: {bytes} bytes in 1.5 s"
    );
    set_time(&clock, 18, 0);
    steps(&mut h, 2);
    assert_eq!(h.state().limits().max_rate, None);
    step_until_status(&mut h, &url, Status::Done);
}

#[test]
fn when_the_queue_is_done_a_countdown_asks_first_and_shut_down_runs_the_platforms_command() {
    let mut world = World::new();
    let slow = world
        .server
        .url("/bytes/400000/kept.bin?range=1&etag=k&drip_ms=5");
    let quick = world.server.url("/bytes/1000/first.bin");
    let storage = with_settings(&world, |s| s.schedule.when_done = WhenDone::ShutDown);
    let mut init = world.init(None);
    let ran: Arc<Mutex<Vec<PowerCommand>>> = Arc::default();
    let record = Arc::clone(&ran);
    init.desktop.set_power_runner(Arc::new(move |command| {
        record.lock().expect("lock").push(command.clone());
        Ok(())
    }));
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    // Chosen for one session only: a shut-down picked last week is not today's.
    assert_eq!(h.state().settings().schedule.when_done, WhenDone::Nothing);
    h.state_mut().settings_mut().schedule.when_done = WhenDone::ShutDown;

    // A person who paused something is not done: no countdown.
    paste_and_pause(&mut h, &slow, 20_000);
    add_via_box(&mut h, &quick);
    step_until_status(&mut h, &quick, Status::Done);
    steps(&mut h, 3);
    assert!(h.state().countdown().is_none(), "a paused download waits");
    // Resumed, it finishes, and now the queue is done.
    h.get_by_label("Resume all").click();
    step_until_status(&mut h, &slow, Status::Done);
    step_until(&mut h, "the countdown", |app| app.countdown().is_some());
    steps(&mut h, 2);
    assert!(
        h.query_by_label_contains("The computer will shut down in 60 s")
            .is_some()
            || h.query_by_label_contains("The computer will shut down in 59 s")
                .is_some()
    );
    h.get_by_label("Cancel").click();
    steps(&mut h, 2);
    assert!(h.state().countdown().is_none());
    assert!(
        ran.lock().expect("lock").is_empty(),
        "cancelled: nothing ran"
    );

    // Another download, and the queue ends again; this time "Now".
    let another = world.server.url("/bytes/1000/another.bin");
    // (The dialog fades out over a few frames; it takes the keys until it has gone.)
    steps(&mut h, 10);
    add_via_box(&mut h, &another);
    step_until_status(&mut h, &another, Status::Done);
    step_until(&mut h, "the countdown again", |app| {
        app.countdown().is_some()
    });
    steps(&mut h, 2);
    h.get_by_label("Now").click();
    // The desktop runs (here: records) the command between frames; on a loaded machine three
    // frames were not always enough.
    let recorded = Arc::clone(&ran);
    step_until(&mut h, "the command", move |_| {
        !recorded.lock().expect("lock").is_empty()
    });
    let ran = ran.lock().expect("lock").clone();
    assert_eq!(
        ran,
        [haul::desktop::power::command(PowerAction::ShutDown)],
        "the platform's shut-down command, recorded and never run"
    );
    if cfg!(target_os = "linux") {
        assert_eq!(
            ran[0],
            PowerCommand::Run {
                program: "systemctl",
                args: vec!["poweroff"]
            }
        );
    }
    assert!(
        h.state()
            .activity()
            .any(|a| a.text == "Asked the computer to shut down")
    );
}

#[test]
fn a_copied_download_link_is_offered_never_added_until_the_person_says_so() {
    let mut world = World::new();
    let old = world.server.url("/bytes/1000/already-there.zip");
    let first = world.server.url("/bytes/1000/first.zip");
    let wanted = world.server.url("/bytes/1000/wanted.iso");
    let storage = with_settings(&world, |s| s.clipboard_watch = true);
    let mut init = world.init(None);
    let clipboard = Arc::new(Mutex::new(Some(old.clone())));
    let read = Arc::clone(&clipboard);
    init.desktop
        .set_clipboard_source(Arc::new(move || read.lock().expect("lock").clone()));
    let copy = |text: &str| *clipboard.lock().expect("lock") = Some(text.to_owned());
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    let wait_a_while = |h: &mut Harness<'_, HaulApp>| {
        for _ in 0..15 {
            std::thread::sleep(Duration::from_millis(100));
            h.step();
        }
    };
    wait_a_while(&mut h);
    assert!(
        h.state().clipboard_offer().is_none(),
        "what was copied before the watch began is not offered"
    );

    copy(&first);
    step_until(&mut h, "the offer", |app| app.clipboard_offer().is_some());
    steps(&mut h, 2);
    assert!(shown(&h, "You copied a link: first.zip"));
    assert!(h.state().model().is_empty(), "offered, not added");
    h.get_by_label("No").click();
    steps(&mut h, 2);
    assert!(h.state().clipboard_offer().is_none());
    assert!(h.state().model().is_empty(), "declined: nothing added");

    // A web page is not a download, nor is a 9 KB "link".
    copy("http://127.0.0.1:1/article.html");
    wait_a_while(&mut h);
    assert!(h.state().clipboard_offer().is_none());
    copy(&format!("http://127.0.0.1:1/{}.zip", "y".repeat(9000)));
    wait_a_while(&mut h);
    assert!(h.state().clipboard_offer().is_none());

    // Esc dismisses an offer; copying something else replaces it.
    copy("http://127.0.0.1:1/dismissed.zip");
    step_until(&mut h, "an offer to dismiss", |app| {
        app.clipboard_offer().is_some()
    });
    h.key_press(egui::Key::Escape);
    steps(&mut h, 2);
    assert!(h.state().clipboard_offer().is_none(), "Esc said no");
    copy("http://127.0.0.1:1/replaced.zip");
    step_until(&mut h, "an offer to replace", |app| {
        app.clipboard_offer().is_some()
    });
    copy("just some words");
    step_until(&mut h, "the offer gone", |app| {
        app.clipboard_offer().is_none()
    });
    assert!(h.state().model().is_empty());

    copy(&wanted);
    step_until(&mut h, "the second offer", |app| {
        app.clipboard_offer().is_some()
    });
    steps(&mut h, 2);
    h.get_by_label("Add it").click();
    step_until_status(&mut h, &wanted, Status::Done);
    assert_eq!(h.state().model().len(), 1);
    assert_eq!(world.files(), ["wanted.iso"]);

    // Pasted by hand while on offer: the offer goes (it would only say "already in the list").
    let pasted = world.server.url("/bytes/1000/pasted.zip");
    copy(&pasted);
    step_until(&mut h, "the offer of what is then pasted", |app| {
        app.clipboard_offer().is_some()
    });
    h.event(egui::Event::Paste(pasted.clone()));
    step_until(&mut h, "the offer gone once pasted", |app| {
        app.clipboard_offer().is_none()
    });
    step_until_status(&mut h, &pasted, Status::Done);

    // Off: nothing is offered.
    h.state_mut().settings_mut().clipboard_watch = false;
    steps(&mut h, 2);
    copy(&first);
    wait_a_while(&mut h);
    assert!(h.state().clipboard_offer().is_none());
    assert_eq!(h.state().model().len(), 2);
}

/// The tray test's desktop side: a StatusNotifierWatcher that records who registered (as KDE's
/// and the AppIndicator extension's do, it says a host is there).
#[cfg(all(target_os = "linux", feature = "tray"))]
struct Watcher {
    items: Arc<Mutex<Vec<String>>>,
}

#[cfg(all(target_os = "linux", feature = "tray"))]
#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(&self, service: &str) {
        self.items.lock().expect("lock").push(service.to_owned());
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items.lock().expect("lock").clone()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

/// Starts a D-Bus session bus of the test's own and runs [`tray_on_a_private_bus`] in a child
/// process pointed at it (the bus address is the environment's, which a running test must not
/// change for the others).
#[cfg(all(target_os = "linux", feature = "tray"))]
#[test]
fn the_tray_icon_registers_with_the_watcher_and_its_menu_drives_the_window() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    let daemon = std::path::Path::new("/usr/bin/dbus-daemon");
    if !daemon.exists() {
        assert!(
            std::env::var_os("HAUL_REQUIRE_DBUS").is_none(),
            "no /usr/bin/dbus-daemon"
        );
        eprintln!("skipped: no /usr/bin/dbus-daemon (apt install dbus-daemon)");
        return;
    }
    let mut bus = Command::new(daemon)
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start dbus-daemon");
    let mut address = String::new();
    if let Some(out) = bus.stdout.take() {
        std::io::BufReader::new(out)
            .read_line(&mut address)
            .expect("the bus address");
    }
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "window_desk::tray_on_a_private_bus",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", address.trim())
        .env("HAUL_TRAY_TEST", "1")
        .output()
        .expect("run the child");
    let _ = bus.kill();
    let _ = bus.wait();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[cfg(all(target_os = "linux", feature = "tray"))]
#[test]
#[ignore = "run by the_tray_icon_registers_with_the_watcher_and_its_menu_drives_the_window on its own bus"]
fn tray_on_a_private_bus() {
    use std::collections::HashMap;
    use zbus::zvariant::{OwnedValue, Value};
    assert!(
        std::env::var_os("HAUL_TRAY_TEST").is_some(),
        "only on the bus the parent test starts"
    );
    let items: Arc<Mutex<Vec<String>>> = Arc::default();
    let _watcher = zbus::blocking::connection::Builder::session()
        .and_then(|b| b.name("org.kde.StatusNotifierWatcher"))
        .and_then(|b| {
            b.serve_at(
                "/StatusNotifierWatcher",
                Watcher {
                    items: Arc::clone(&items),
                },
            )
        })
        .and_then(|b| b.build())
        .expect("the watcher on the test's bus");
    let client = zbus::blocking::Connection::session().expect("a client");

    let mut world = World::new();
    let slow = world
        .server
        .url("/bytes/2000000/tray.bin?range=1&etag=t&drip_ms=5");
    let storage = with_settings(&world, |s| s.close_to_tray = true);
    let init = world.init(None);
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    step_until(&mut h, "the icon up", |app| {
        app.tray_status() == Some(haul::desktop::tray::TrayStatus::Shown)
    });
    let service = items
        .lock()
        .expect("lock")
        .first()
        .cloned()
        .expect("registered");
    assert!(
        service.starts_with("org.kde.StatusNotifierItem-"),
        "{service}"
    );
    // Read afresh each time, as a tray host does on NewToolTip (no property cache).
    let item: zbus::blocking::Proxy<'_> = zbus::blocking::proxy::Builder::new(&client)
        .destination(service.as_str())
        .and_then(|b| b.path("/StatusNotifierItem"))
        .and_then(|b| b.interface("org.kde.StatusNotifierItem"))
        .map(|b| b.cache_properties(zbus::proxy::CacheProperties::No))
        .and_then(|b| b.build())
        .expect("the item");
    let menu = zbus::blocking::Proxy::new(
        &client,
        service.as_str(),
        "/MenuBar",
        "com.canonical.dbusmenu",
    )
    .expect("its menu");
    type Tip = (String, Vec<(i32, i32, Vec<u8>)>, String, String);
    let tooltip = || -> String {
        let tip: Tip = item.get_property("ToolTip").expect("ToolTip");
        tip.2
    };
    let click = |label: &str| {
        let all: Vec<(i32, HashMap<String, OwnedValue>)> = menu
            .call("GetGroupProperties", &(Vec::<i32>::new(), vec!["label"]))
            .expect("the menu's items");
        let id = all
            .iter()
            .find(|(_, props)| {
                props
                    .get("label")
                    .and_then(|v| String::try_from(v.clone()).ok())
                    .is_some_and(|l| l == label)
            })
            .map(|(id, _)| *id)
            .unwrap_or_else(|| panic!("{label} in the menu: {all:?}"));
        let () = menu
            .call("Event", &(id, "clicked", Value::from(0i32), 0u32))
            .expect("clicked");
    };
    let pixmaps: Vec<(i32, i32, Vec<u8>)> = item.get_property("IconPixmap").expect("icon");
    assert!(
        pixmaps
            .first()
            .is_some_and(|(w, h, data)| *w > 0 && data.len() == (w * h * 4) as usize)
    );
    assert_eq!(tooltip(), "Haul — nothing running");

    add_via_box(&mut h, &slow);
    step_until(&mut h, "bytes flowing", |app| {
        app.model().rows().iter().any(|r| r.state.bytes() > 50_000)
    });
    let mut tip = String::new();
    for _ in 0..100 {
        h.step();
        tip = tooltip();
        if tip.contains("/s, 1 running") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        tip.starts_with("Haul — ") && tip.ends_with("/s, 1 running"),
        "{tip}"
    );

    click("Pause all");
    step_until_status(&mut h, &slow, Status::Paused);
    click("Resume all");
    step_until(&mut h, "running again", |app| {
        matches!(
            status_of(app, &slow),
            Some(Status::Running | Status::Connecting | Status::Done)
        )
    });

    // The close button hides the window to the tray; downloads go on.
    let close = |h: &mut Harness<'_, HaulApp>| {
        h.input_mut()
            .viewports
            .entry(egui::ViewportId::ROOT)
            .or_default()
            .events
            .push(egui::ViewportEvent::Close);
        steps(h, 2);
    };
    close(&mut h);
    assert!(h.state().hidden_in_tray(), "hidden, not closed");
    click("Show Haul");
    steps(&mut h, 2);
    assert!(!h.state().hidden_in_tray());

    // Ctrl+Q quits rather than hides: it asks first while a download runs.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Q);
    steps(&mut h, 1);
    close(&mut h);
    assert!(
        !h.state().hidden_in_tray(),
        "Ctrl+Q is not the close button"
    );
    assert!(shown(&h, "Quit Haul?"), "the quit question");
    h.get_by_label("Keep running").click();
    steps(&mut h, 2);

    // Quit in the tray comes back to the window, which asks first while a download runs.
    click("Quit");
    steps(&mut h, 2);
    close(&mut h);
    assert!(!h.state().hidden_in_tray());
    assert!(shown(&h, "Quit Haul?"), "the quit question");
}

/// Each platform's own entry, in a place of the test's: the desktop entry's `Exec` line on
/// Linux, the launch agent's program on macOS, the `Haul` value in a Run key of the test's
/// own on Windows (through reg.exe, as the real Run key).
#[test]
fn start_at_login_writes_the_login_entry_and_turning_it_off_removes_it() {
    use haul::desktop::autostart::{self, Entry};
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let exe = std::env::current_exe().expect("exe");
    let (entry, expected) = if cfg!(windows) {
        let key = format!(r"HKCU\Software\Haul tests\{}\Run", std::process::id());
        (Entry::RunValue(key), format!("\"{}\"", exe.display()))
    } else if cfg!(target_os = "macos") {
        let file = state.path().join("io.github.haul.Haul.plist");
        (
            Entry::File(file),
            format!("<string>{}</string>", exe.display()),
        )
    } else {
        let file = state.path().join("autostart/io.github.haul.Haul.desktop");
        (Entry::File(file), format!("Exec=\"{}\"", exe.display()))
    };
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.desktop.set_autostart_entry(entry.clone());
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    h.get_by_label("Settings").click();
    steps(&mut h, 2);
    let checkbox = "Start Haul when I log in";
    h.get_by_label(checkbox).scroll_to_me();
    steps(&mut h, 2);
    h.get_by_label(checkbox).click_accesskit();
    steps(&mut h, 2);
    assert!(h.state().settings().start_at_login, "ticked");
    step_until(&mut h, "the entry written", |app| {
        assert!(app.notice().is_none(), "{:?}", app.notice());
        autostart::read(&entry).is_some()
    });
    let text = autostart::read(&entry).expect("entry");
    assert!(text.contains(&expected), "{text}");
    h.get_by_label(checkbox).click_accesskit();
    step_until(&mut h, "the entry removed", |_| {
        autostart::read(&entry).is_none()
    });
    assert!(!h.state().settings().start_at_login);
    if let Entry::RunValue(key) = &entry {
        let test_key = key.trim_end_matches(r"\Run");
        let _ = std::process::Command::new("reg")
            .args(["delete", test_key, "/f"])
            .output();
    }
}

/// A row's "…" menu stays with its download: when another client moves rows while it is
/// open, its items still act on the row it was opened on, never on the one now in its place.
#[test]
fn a_rows_menu_acts_on_its_own_download_after_the_rows_move_under_it() {
    use egui::accesskit::Role;
    use haul::rpc::{Beside, Downloads as _};
    let mut world = World::new();
    let url = |name: &str, delay: u32| {
        world
            .server
            .url(&format!("/bytes/1000/{name}.bin?delay_ms={delay}"))
    };
    let list = [url("a", 3000), url("b", 0), url("c", 0), url("d", 0)].join("\n");
    let storage = with_settings(&world, |s| s.jobs = 1);
    let init = world.init(None);
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    add_via_box(&mut h, &list);
    step_until(&mut h, "a connecting, the rest queued", |app| {
        app.model().working() == 1 && app.model().len() == 4
    });
    let key = |h: &Harness<'_, HaulApp>, name: &str| {
        h.state()
            .model()
            .rows()
            .iter()
            .find(|r| r.name == name)
            .map(|r| r.key)
            .expect("row")
    };
    let (b, d) = (key(&h, "b.bin"), key(&h, "d.bin"));
    // b's "…" (the second row's).
    h.query_all_by_role(Role::Button)
        .filter(|n| format!("{n:?}").contains("label: \"…\""))
        .nth(1)
        .expect("b's menu button")
        .click();
    steps(&mut h, 3);
    assert!(h.query_by_label("Move").is_some(), "the menu is open");
    // Another client moves b below d: c now stands where b was.
    h.state_mut().reposition(b, Beside::After(d));
    steps(&mut h, 3);
    assert_eq!(names(&h), "acdb");
    h.get_by_label("Move").click();
    steps(&mut h, 3);
    h.get_by_label("To the top").click();
    steps(&mut h, 3);
    assert_eq!(names(&h), "bacd", "b went to the top, not c");
}

#[test]
fn the_timed_limit_turned_on_in_settings_slows_downloads_but_never_stops_them() {
    use egui::accesskit::Role;
    let mut world = World::new();
    let url = world.server.url("/bytes/8388608/timed.bin");
    let mut h = world.harness();
    let _clock = test_clock(&mut h, (10, 0));
    h.get_by_label("Settings").click();
    steps(&mut h, 2);
    let tick = "Limit the speed in these hours";
    h.get_by_label(tick).scroll_to_me();
    steps(&mut h, 2);
    h.get_by_label(tick).click_accesskit();
    steps(&mut h, 2);
    let field = h.get_by_role_and_label(Role::TextInput, "to at most");
    field.focus();
    steps(&mut h, 1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.get_by_role_and_label(Role::TextInput, "to at most")
        .type_text("300K");
    steps(&mut h, 3);
    assert_eq!(h.state().settings().schedule.limit_rate, 300 * 1024);
    assert_eq!(h.state().limits().max_rate, Some(300 * 1024));
    add_via_box(&mut h, &url);
    step_until(&mut h, "running", |app| {
        app.model().rows().iter().any(|r| r.state.bytes() > 0)
    });
    let bytes = bytes_in(&mut h, 20);
    assert!(
        (300 * 1024..900 * 1024).contains(&bytes),
        "about 600 KiB in 2 s at 300 KiB/s: {bytes}"
    );
}

#[test]
fn what_the_schedule_paused_goes_on_first_when_the_hours_come_round() {
    let mut world = World::new();
    let first = world
        .server
        .url("/bytes/400000/first.bin?range=1&etag=f&drip_ms=5");
    let next = world.server.url("/bytes/1000/next.bin");
    let storage = with_settings(&world, |s| {
        s.jobs = 1;
        s.schedule.run = true;
        s.schedule.run_hours = hours(1, 7);
    });
    let init = world.init(None);
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    let clock = test_clock(&mut h, (1, 0));
    add_via_box(&mut h, &format!("{first}\n{next}"));
    step_until(&mut h, "first under way", |app| {
        app.model()
            .rows()
            .iter()
            .any(|r| r.text == first && r.state.bytes() > 20_000)
    });
    set_time(&clock, 7, 0);
    step_until_status(&mut h, &first, Status::Paused);
    assert_eq!(status_of(h.state(), &next), Some(Status::Queued));
    set_time(&clock, 1, 0);
    step_until_status(&mut h, &next, Status::Done);
    // After the first request of each, the one that came back first is the paused one.
    let order: Vec<String> = world
        .server
        .request_log()
        .iter()
        .map(|l| l.target.clone())
        .collect();
    let resumed = order
        .iter()
        .skip(1)
        .position(|t| t.contains("first.bin"))
        .expect("first resumed");
    let started_next = order
        .iter()
        .position(|t| t.contains("next.bin"))
        .expect("next started");
    assert!(resumed + 1 < started_next, "{order:?}");
}
