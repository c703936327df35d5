//! The window's list as the one list of downloads (issue 22): a row's own speed limit is its
//! `max-download-limit` option, shown in its menu and kept across a restart; what the RPC
//! removes stays `removed` (its bytes kept) until its result is dropped, as in aria2 and as
//! in `haul-cli --enable-rpc`.

use std::time::Duration;

use eframe::egui::accesskit::{Role, Toggled};
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use haul::app::HaulApp;
use haul::desktop::saved_queue::SavedQueue;
use haul::protocol::Status;
use serde_json::json;

use crate::world::{World, add_via_box, harness_with, step_until, steps};

/// Opens `name`'s "Speed limit ▸" menu.
fn open_rate_menu(h: &mut Harness<'_, HaulApp>, name: &str) {
    h.get_by_label(name).click_secondary();
    steps(h, 3);
    h.get_by_role_and_label(Role::Button, "Speed limit").click();
    steps(h, 3);
}

fn marked(h: &Harness<'_, HaulApp>, label: &str) -> Option<Toggled> {
    h.get_by_label(label).accesskit_node().toggled()
}

/// Issue 22, bug 2: a list's `max-download-limit=500K` is the row's limit in its menu, and a
/// limit picked there is the row's option: saved with the queue, there after a restart.
#[test]
fn a_rows_speed_limit_is_its_option_and_survives_a_restart() {
    let mut world = World::new();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    let url = world
        .server
        .url("/bytes/4000000/limited-row.bin?range=1&etag=l&drip_ms=5");
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    init.queue = SavedQueue::open(&db).queue;
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    add_via_box(&mut h, &format!("{url}\n  max-download-limit=500K\n"));
    step_until(&mut h, "the row running", |app| {
        app.model().rows().iter().any(|r| r.state.bytes() > 0)
    });
    open_rate_menu(&mut h, "limited-row.bin");
    assert_eq!(
        marked(&h, "500.0 KiB/s"),
        Some(Toggled::True),
        "the list's limit is the menu's current one"
    );
    assert_eq!(marked(&h, "256.0 KiB/s"), Some(Toggled::False));
    h.get_by_label("1.0 MiB/s").click();
    steps(&mut h, 2);
    assert_eq!(
        h.state().model().rows()[0].options.max_rate,
        Some(1024 * 1024)
    );

    // Quit and start again: the queue comes back with the row's limit.
    drop(h);
    let engine = world.engines.pop().expect("engine");
    assert!(engine.suspend_blocking(Duration::from_secs(5)));
    let mut init = world.init(Some(world.dest.path().to_path_buf()));
    let opened = SavedQueue::open(&db);
    assert_eq!(opened.items.len(), 1);
    init.queue = opened.queue;
    init.stored = opened.items;
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    steps(&mut h, 3);
    assert_eq!(
        h.state().model().rows()[0].options.max_rate,
        Some(1024 * 1024),
        "the limit set in the menu is there after a restart"
    );
    if h.state().model().rows()[0].status() != Status::Done {
        open_rate_menu(&mut h, "limited-row.bin");
        assert_eq!(marked(&h, "1.0 MiB/s"), Some(Toggled::True));
    }
}

/// Issue 28 item 18: after `aria2.remove` the window keeps the download as `removed` (as aria2
/// and `haul-cli --enable-rpc` do) with its bytes, until `removeDownloadResult`; the row left
/// at once before, and tellStatus said the gid was not found.
#[test]
fn an_rpc_remove_is_removed_until_its_result_is_dropped() {
    let mut world = World::new();
    let url = world
        .server
        .url("/bytes/4000000/removed-row.bin?range=1&etag=r&drip_ms=5");
    let dest = world.dest.path().to_path_buf();
    let mut h = world.harness();
    add_via_box(&mut h, &url);
    step_until(&mut h, "the row running", |app| {
        app.model().rows().iter().any(|r| r.state.bytes() > 0)
    });
    let rpc = |h: &mut Harness<'_, HaulApp>, method: &str, params: &[serde_json::Value]| {
        haul::rpc::call(h.state_mut(), method, params)
    };
    let active = rpc(&mut h, "aria2.tellActive", &[json!(["gid"])]).expect("active");
    let gid = active[0]["gid"].clone();
    assert_eq!(
        rpc(&mut h, "aria2.remove", std::slice::from_ref(&gid)),
        Ok(gid.clone())
    );
    step_until(&mut h, "the run paused, its bytes kept", |app| {
        app.model()
            .rows()
            .iter()
            .all(|r| r.status() == Status::Paused)
    });
    assert_eq!(
        rpc(
            &mut h,
            "aria2.tellStatus",
            &[gid.clone(), json!(["status"])]
        ),
        Ok(json!({"status": "removed"}))
    );
    assert_eq!(
        rpc(
            &mut h,
            "aria2.tellStopped",
            &[json!(0), json!(10), json!(["gid", "status"])]
        ),
        Ok(json!([{"gid": gid, "status": "removed"}]))
    );
    assert_eq!(rpc(&mut h, "aria2.tellActive", &[]), Ok(json!([])));
    assert!(dest.join("removed-row.bin.part").exists(), "its bytes kept");
    // The row says so (it said "paused", as if paused here by hand).
    h.step();
    assert!(
        h.query_by_label("removed by a remote client (its bytes are kept: Resume goes on)")
            .is_some(),
        "the row says it was removed"
    );
    assert_eq!(
        rpc(
            &mut h,
            "aria2.removeDownloadResult",
            std::slice::from_ref(&gid)
        ),
        Ok(json!("OK"))
    );
    assert!(rpc(&mut h, "aria2.tellStatus", &[gid]).is_err());
    assert!(
        h.state().model().is_empty(),
        "the row leaves with its result"
    );
    assert!(
        dest.join("removed-row.bin.part").exists(),
        "dropping the result never deletes bytes"
    );
}
