//! The window's RPC against real clients nobody here wrote: aria2p (PyPI) and the `aria2` npm
//! package over WebSocket drive the window's own list while it keeps drawing; a port another
//! program holds is said in Settings. (`haul-cli --enable-rpc` has its own tests in the
//! `haul-cli` crate.)

use std::process::Command;
use std::time::Duration;

use haul_testkit::body;
use haul_testkit::tools::{aria2_node_modules, aria2p, aria2p_python, free_port, node, stdout_of};

/// Runs a client against the window, which answers between frames: it keeps stepping while
/// the client runs. Its stdout.
fn run_beside_window(
    h: &mut egui_kittest::Harness<'_, haul::app::HaulApp>,
    mut command: Command,
) -> String {
    let child = std::thread::spawn(move || command.output().expect("run the client"));
    while !child.is_finished() {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    stdout_of(child.join().expect("join"))
}

/// The window serves the same methods over its own list: what aria2p adds is a row, and
/// what was pasted is a download aria2p sees.
#[test]
fn aria2p_adds_to_the_window_and_sees_what_was_pasted() {
    use egui_kittest::kittest::Queryable as _;
    let Some(python) = aria2p_python() else {
        return;
    };
    let mut world = crate::world::World::new();
    let pasted = world.server.url("/bytes/1000/pasted.bin");
    let added = world.server.url("/bytes/200000/from-rpc.bin");
    let dest = world.dest.path().to_path_buf();
    let mut h = world.harness();
    h.event(eframe::egui::Event::Paste(pasted.clone()));
    crate::world::step_until_status(&mut h, &pasted, haul::protocol::Status::Done);
    let port = free_port();
    h.state_mut().settings_mut().rpc_port = port;
    h.get_by_label("Settings").click();
    h.step();
    let allow = "Allow browsers and tools to add downloads";
    h.get_by_label(allow).scroll_to_me(); // the panel scrolls
    h.step();
    h.step();
    h.get_by_label(allow).click_accesskit();
    for _ in 0..3 {
        h.step();
    }
    assert!(h.state().settings().rpc_enabled, "turned on");
    let secret = h.state().settings().rpc_secret.clone();
    assert_eq!(secret.len(), 32, "a secret was made");
    assert!(
        h.query_by_label(&format!("http://127.0.0.1:{port}/jsonrpc"))
            .is_some()
    );
    let script = format!(
        r#"
import sys, time, aria2p
api = aria2p.API(aria2p.Client(host="http://127.0.0.1", port={port}, secret="{secret}"))
names = [d.files[0].path.name for d in api.get_downloads()]
print("seen", names)
d = api.add_uris(["{added}"], options={{"out": "named-by-rpc.bin"}})
end = time.time() + 30
while time.time() < end:
    d = api.get_download(d.gid)
    if d.is_complete:
        break
    time.sleep(0.1)
print("status", d.status, d.completed_length)
"#
    );
    let stdout = run_beside_window(&mut h, aria2p(python, &script));
    assert!(stdout.contains("'pasted.bin'"), "{stdout}");
    assert!(stdout.contains("status complete 200000"), "{stdout}");
    assert_eq!(
        std::fs::read(dest.join("named-by-rpc.bin")).expect("added over RPC"),
        body(200_000)
    );
    assert!(
        h.state()
            .model()
            .rows()
            .iter()
            .any(|r| r.name == "named-by-rpc.bin"),
        "a row in the list"
    );
}

/// A port another program holds: the window says why it cannot serve, and goes on (the way
/// out, a free port offered, is in `window_bridge`).
#[test]
fn a_port_in_use_is_said_in_settings() {
    use egui_kittest::kittest::Queryable as _;
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let mut world = crate::world::World::new();
    let mut h = world.harness();
    h.state_mut().settings_mut().rpc_port = port;
    h.state_mut().settings_mut().rpc_enabled = true;
    h.get_by_label("Settings").click();
    for _ in 0..4 {
        h.step();
    }
    assert!(h.state().rpc_address().is_none());
    let allow = "Allow browsers and tools to add downloads";
    h.get_by_label(allow).scroll_to_me();
    h.step();
    h.step();
    assert!(
        h.query_by_label_contains(&format!("Port {port} is used by another program"))
            .is_some(),
        "the reason is shown, naming the port"
    );
    drop(taken);
}

/// The `aria2` npm client over WebSocket against the window: adds, pauses and hears
/// `onDownloadPause`, unpauses and hears `onDownloadComplete`, removes and hears
/// `onDownloadStop` (then it is `removed` until its result is dropped) — while the window
/// keeps drawing.
#[test]
fn the_npm_aria2_client_drives_the_window_over_websocket() {
    let Some(node_path) = aria2_node_modules() else {
        return;
    };
    let mut world = crate::world::World::new();
    let slow = world
        .server
        .url("/bytes/600000/slow-ws.bin?range=1&etag=w&drip_ms=2");
    let other = world
        .server
        .url("/bytes/600000/other-ws.bin?range=1&etag=o&drip_ms=2");
    let dest = world.dest.path().to_path_buf();
    let mut h = world.harness();
    let port = free_port();
    h.state_mut().settings_mut().rpc_port = port;
    h.state_mut().settings_mut().rpc_enabled = true;
    for _ in 0..5 {
        h.step();
    }
    let secret = h.state().settings().rpc_secret.clone();
    let script = format!(
        r#"
const Aria2 = require("aria2");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {{
  setTimeout(() => {{ console.error("timed out"); process.exit(2); }}, 40000);
  const aria2 = new Aria2({{ host: "127.0.0.1", port: {port}, secure: false, secret: "{secret}", path: "/jsonrpc" }});
  await aria2.open();
  const heard = (name, gid) => new Promise((resolve) => aria2.on(name, ([e]) => {{ if (e.gid === gid) resolve(); }}));
  const bytes = async (gid) => {{
    for (;;) {{
      const s = await aria2.call("tellStatus", gid, ["completedLength"]);
      if (Number(s.completedLength) > 50000) return;
      await sleep(30);
    }}
  }};
  const gid = await aria2.call("addUri", ["{slow}"]);
  await bytes(gid);
  const paused = heard("onDownloadPause", gid);
  await aria2.call("pause", gid);
  await paused;
  console.log("paused", (await aria2.call("tellStatus", gid, ["status"])).status);
  const complete = heard("onDownloadComplete", gid);
  await aria2.call("unpause", gid);
  await complete;
  const s = await aria2.call("tellStatus", gid, ["status", "completedLength"]);
  console.log("complete", s.status, s.completedLength);
  const second = await aria2.call("addUri", ["{other}"]);
  await bytes(second);
  const stopped = heard("onDownloadStop", second);
  await aria2.call("remove", second);
  await stopped;
  console.log("removed", (await aria2.call("tellStatus", second, ["status"])).status);
  await aria2.call("removeDownloadResult", second);
  const gone = await aria2.call("tellStatus", second).then(() => "still there", (e) => e.message);
  console.log("purged:", gone);
  process.exit(0);
}})().catch((e) => {{ console.error(e); process.exit(1); }});
"#
    );
    let stdout = run_beside_window(&mut h, node(node_path, &script));
    assert!(stdout.contains("paused paused"), "{stdout}");
    assert!(stdout.contains("complete complete 600000"), "{stdout}");
    assert!(stdout.contains("removed removed"), "{stdout}");
    assert!(stdout.contains("purged: GID"), "{stdout}");
    assert_eq!(
        std::fs::read(dest.join("slow-ws.bin")).expect("the file"),
        body(600_000)
    );
    let rows = h.state().model().rows();
    assert!(rows.iter().any(|r| r.uri == slow), "a row in the list");
    assert!(
        !rows.iter().any(|r| r.uri == other),
        "its result dropped, it left the list"
    );
    assert!(
        dest.join("other-ws.bin.part").exists(),
        "its bytes are kept, as aria2 keeps them"
    );
}
