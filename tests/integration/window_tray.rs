//! The desktop around the window, driven as in `window`: the tray icon and its menu (on a
//! private session bus), the login entry, and the clipboard offer of a copied link.

use crate::world::{
    World, harness_with, shown, step_until, step_until_status, steps, with_settings,
};
// Only the tray's tests (Linux) add through the box and read a row's status.
#[cfg(all(target_os = "linux", feature = "tray"))]
use crate::world::{add_via_box, status_of};
use eframe::egui;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use haul::app::HaulApp;
use haul::protocol::Status;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// Starts a D-Bus session bus of the test's own and runs [`tray_on_a_private_bus`] in a child
/// process pointed at it (the bus address is the environment's, which a running test must not
/// change for the others).
#[cfg(all(target_os = "linux", feature = "tray"))]
#[test]
fn the_tray_icon_registers_with_the_watcher_and_its_menu_drives_the_window() {
    use std::process::Command;
    let Some(bus) = haul_testkit::tools::SessionBus::start() else {
        return;
    };
    let output = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "window_tray::tray_on_a_private_bus",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("HAUL_TRAY_TEST", "1")
        .output()
        .expect("run the child");
    drop(bus);
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

/// "Keep Haul in the tray" is offered only where Haul has a tray icon (Linux): on Windows and
/// macOS the box did nothing.
#[test]
fn the_tray_setting_is_offered_only_where_haul_has_a_tray() {
    let mut world = World::new();
    let init = world.init(None);
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    h.get_by_label("Settings").click();
    steps(&mut h, 2);
    let offered = h
        .query_by_label("Keep Haul in the tray: closing the window hides it there")
        .is_some();
    assert_eq!(offered, haul::desktop::tray::BUILT);
    assert!(h.query_by_label("Start Haul when I log in").is_some());
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

/// Windows: Haul's AppUserModelID is registered with its name and icon, so its notifications
/// say "Haul" (they said "Windows PowerShell"); run under Wine by `.ci/windows`, with the
/// key under a test key.
#[cfg(windows)]
#[test]
fn the_notification_identity_is_registered_with_its_name_and_icon() {
    use haul::desktop::identity;
    let state = tempfile::tempdir().expect("tempdir");
    let classes = format!(
        r"HKCU\Software\Haul tests\{}\AppUserModelId",
        std::process::id()
    );
    identity::register(&classes, Some(state.path())).expect("registered");
    let key = format!(r"{classes}\{}", identity::AUMID);
    let query = std::process::Command::new("reg")
        .args(["query", &key])
        .output()
        .expect("reg query");
    let listed = String::from_utf8_lossy(&query.stdout);
    assert!(
        listed.contains("DisplayName") && listed.contains("Haul"),
        "{listed}"
    );
    let icon = state.path().join("haul-256.png");
    assert!(listed.contains(&icon.display().to_string()), "{listed}");
    assert_eq!(
        std::fs::read(&icon).ok().as_deref(),
        Some(haul::desktop::ICON_PNG)
    );
    let test_key = classes.trim_end_matches(r"\AppUserModelId");
    let _ = std::process::Command::new("reg")
        .args(["delete", test_key, "/f"])
        .output();
}
