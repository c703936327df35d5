//! What the browser hands the window (issue 25): an item caught by Haul's extension, checked
//! by the browser host's own code, reaches the window with the cookie, Referer, User-Agent
//! and name the server needs; "Download all links" fills the add box to pick from; and
//! Settings → Browser integration installs the browser host for the browsers found. (The
//! real browser drives all of it in `extension/tests`, run by `.ci/browser`.)

use haul::app::HaulApp;
use haul::protocol::Status;
use haul_browser::message::Item;

use crate::world::{World, harness_with, step_until};

#[test]
fn a_caught_download_is_fetched_with_the_browsers_cookie_referer_and_agent() {
    let mut world = World::new();
    let url = world.server.url("/bytes/300000/dl?id=7");
    let item = Item {
        url: url.clone(),
        referrer: Some(world.server.url("/page.html")),
        cookie: Some("session=abc; theme=dark".to_owned()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chromium/1".to_owned()),
        filename: Some("report 2026.bin".to_owned()),
    };
    let handoff = item.handoff().expect("the host takes it");
    let (tx, rx) = std::sync::mpsc::channel();
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.handoffs = Some(rx);
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    tx.send(handoff).expect("window alive");
    h.ctx.request_repaint();
    step_until(&mut h, "the caught item done", |app| {
        app.model().count(Status::Done) == 1
    });
    assert_eq!(world.files(), vec!["report 2026.bin"], "the browser's name");
    let log = world.server.request_log();
    let seen = log
        .iter()
        .find(|r| r.target.starts_with("/bytes/300000/dl"))
        .expect("fetched");
    assert_eq!(seen.header("cookie"), Some("session=abc; theme=dark"));
    assert_eq!(
        seen.header("referer"),
        Some(world.server.url("/page.html").as_str())
    );
    assert_eq!(
        seen.header("user-agent"),
        Some("Mozilla/5.0 (X11; Linux x86_64) Chromium/1")
    );
}

#[test]
fn download_all_links_puts_them_in_the_add_box_to_pick_from() {
    use egui_kittest::kittest::Queryable as _;
    let mut world = World::new();
    let (tx, rx) = std::sync::mpsc::channel();
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.handoffs = Some(rx);
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    let links = [
        world.server.url("/bytes/10/a.bin"),
        world.server.url("/bytes/10/b.bin"),
    ];
    tx.send(haul::desktop::instance::Handoff {
        sources: links.to_vec(),
        pick: true,
        ..Default::default()
    })
    .expect("window alive");
    h.ctx.request_repaint();
    for _ in 0..3 {
        h.step();
    }
    let boxed = h.get_by_label("Addresses to add");
    assert_eq!(boxed.value().as_deref(), Some(links.join("\n").as_str()));
    assert_eq!(
        h.state().model().rows().len(),
        0,
        "nothing added before the person picks"
    );
}

// Windows writes registry keys: not from a test.
#[cfg(not(windows))]
#[test]
fn the_settings_button_installs_the_browser_host_and_removes_it() {
    use egui_kittest::kittest::Queryable as _;
    let mut world = World::new();
    let home = tempfile::tempdir().expect("home");
    std::fs::create_dir_all(home.path().join(".config/chromium")).expect("chromium");
    let host = home.path().join("haul-browser-host");
    std::fs::write(&host, b"").expect("host");
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.desktop
        .set_browser_places(home.path().to_path_buf(), host.clone());
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    h.get_by_label("Settings").click();
    h.step();
    let install = "Install for my browsers";
    h.get_by_label(install).scroll_to_me();
    h.step();
    h.step();
    h.get_by_label(install).click_accesskit();
    let manifest = if cfg!(target_os = "macos") {
        home.path()
            .join("Library/Application Support/Chromium/NativeMessagingHosts")
    } else {
        home.path().join(".config/chromium/NativeMessagingHosts")
    }
    .join("io.github.haul.host.json");
    step_until(&mut h, "the manifest written", |_| manifest.is_file());
    step_until(&mut h, "the notice", |_| true);
    assert!(
        h.query_all_by_label_contains("Browsers can now hand Haul their downloads")
            .next()
            .is_some(),
        "the window says what it wrote"
    );
    h.get_by_label("Remove from my browsers").click_accesskit();
    step_until(&mut h, "the manifest removed", |_| !manifest.exists());
}
