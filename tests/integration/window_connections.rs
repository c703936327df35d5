//! A host's connections as a person sees them (issue 28, item 3): a split download's row says
//! how many connections it uses, and its details how fast each one is.

use crate::world::{MemoryStorage, World, harness_sized, shown, step_until};
use eframe::egui;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use haul::app::HaulApp;
use haul::protocol::Status;

/// A 64 MiB file from a server that gives each connection 1 MiB/s runs over the defaults'
/// 4 connections (counted at the server): the row says so, and its details list each one's
/// speed.
#[test]
fn a_split_download_shows_its_connections_on_the_row_and_each_ones_speed_in_the_details() {
    let mut world = World::new();
    let n = 64 * 1024 * 1024;
    let url = world
        .server
        .url(&format!("/bytes/{n}/conns.bin?range=1&etag=c&rate=1048576"));
    let mut h = world.harness();
    h.event(egui::Event::Paste(url));
    step_until(&mut h, "four connections", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.connections.len() == 4)
    });
    assert!(world.server.max_in_flight() >= 4, "four at the server");
    h.step();
    assert!(shown(&h, "on 4 connections"), "the row says how many");
    h.get_by_label("conns.bin").click();
    h.step();
    h.step();
    assert!(h.query_by_label("Connections").is_some(), "the details");
    let speeds = h
        .query_by_label_contains("4 — ")
        .map(|node| {
            let node = node.accesskit_node();
            node.label().or(node.value()).unwrap_or_default()
        })
        .unwrap_or_default();
    assert_eq!(
        speeds.matches("/s").count(),
        4,
        "each one's speed: {speeds:?}"
    );
}

/// A queued row says what it waits for (issue 28, item 2): with one connection per server, a
/// second file from a busy server waits for a connection to it.
#[test]
fn a_queued_row_says_what_it_waits_for() {
    let mut world = World::new();
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut storage = MemoryStorage::default();
    let settings = haul::app::settings::Settings {
        dest: world.dest.path().to_path_buf(),
        per_host: 1,
        ..Default::default()
    };
    eframe::set_value(&mut storage, haul::app::settings::STORAGE_KEY, &settings);
    let mut h = harness_sized([1366.0, 768.0], move |_| HaulApp::new(Some(&storage), init));
    let _ = world.window.set(h.ctx.clone());
    let n = 64 * 1024 * 1024;
    let slow = |name: &str| {
        world.server.url(&format!(
            "/bytes/{n}/{name}.bin?range=1&etag={name}&rate=1048576"
        ))
    };
    h.event(egui::Event::Paste(format!(
        "{}\n{}",
        slow("first"),
        slow("second")
    )));
    step_until(&mut h, "the first running", |app| {
        app.model().count(Status::Running) == 1
    });
    for _ in 0..3 {
        h.step();
    }
    // The server with its port: the cap is per host and port.
    let server = world
        .server
        .url("")
        .trim_start_matches("http://")
        .to_owned();
    let waiting = format!("waiting for {server}");
    assert!(
        shown(&h, &waiting),
        "the second says it waits for the server"
    );
    h.get_by_label(&waiting).hover();
    // egui shows a tooltip after a short rest of the pointer.
    for _ in 0..8 {
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(60));
    }
    assert!(
        h.query_by_label_contains(&format!(
            "waiting for a free connection to {server} (1 in use"
        ))
        .is_some(),
        "and in full on hover"
    );
}
