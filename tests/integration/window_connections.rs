//! A host's connections as a person sees them (issue 28, item 3): a split download's row says
//! how many connections it uses, and its details how fast each one is.

use crate::world::{World, shown, step_until};
use eframe::egui;
use egui_kittest::kittest::{NodeT as _, Queryable as _};

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
    assert!(
        shown(&h, "downloading over 4 connections"),
        "the row says how many"
    );
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
