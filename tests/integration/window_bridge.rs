//! Issue 28, item 17: the browser bridge (aria2's JSON-RPC) as a person sets it up in
//! Settings, against real HTTP and WebSocket requests on 127.0.0.1: a port another program
//! holds is said in a sentence with a free port to use instead (it ended in "os error 98" with
//! no way out); the WebSocket address is shown and answers; a web page such as AriaNg is let in
//! only from the origins listed; a new secret locks the old one out. English and 简体中文.

use std::io::{Read as _, Write as _};
use std::time::Duration;

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use haul::app::HaulApp;
use haul::app::i18n::LanguageChoice;
use haul_testkit::tools::free_port;

use crate::world::{World, harness_with, steps, with_settings};

/// Sends `request` to the window's port while the window keeps drawing (it answers calls
/// between frames); the whole reply, or its head for a WebSocket upgrade.
fn send(h: &mut Harness<'_, HaulApp>, port: u16, request: String) -> String {
    let client = std::thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        stream.write_all(request.as_bytes()).expect("send");
        let mut reply = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 {
                break;
            }
            reply.extend_from_slice(&buf[..n]);
            if reply.starts_with(b"HTTP/1.1 101") && reply.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        String::from_utf8_lossy(&reply).into_owned()
    });
    while !client.is_finished() {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    client.join().expect("client")
}

/// `aria2.getVersion` with `secret`, from a page at `origin` (none: a tool, not a browser).
fn call(h: &mut Harness<'_, HaulApp>, port: u16, secret: &str, origin: Option<&str>) -> String {
    let body = format!(
        r#"{{"jsonrpc":"2.0","id":"1","method":"aria2.getVersion","params":["token:{secret}"]}}"#
    );
    let origin = origin.map_or_else(String::new, |o| format!("Origin: {o}\r\n"));
    let request = format!(
        "POST /jsonrpc HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{origin}Content-Type: \
         application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    send(h, port, request)
}

fn open_bridge(h: &mut Harness<'_, HaulApp>, settings: &str, allow: &str) {
    h.get_by_label(settings).click();
    steps(h, 3);
    h.get_by_label(allow).scroll_to_me();
    steps(h, 3);
}

#[test]
fn a_port_in_use_offers_a_free_one_and_the_websocket_address_answers_in_chinese() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let mut world = World::new();
    let storage = with_settings(&world, |s| {
        s.language = LanguageChoice::Chinese;
        s.rpc_enabled = true;
        s.rpc_port = port;
    });
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    open_bridge(&mut h, "设置", "允许浏览器和工具添加下载");
    assert!(h.state().rpc_address().is_none());
    let said =
        format!("端口 {port} 已被其他程序占用（可能是 aria2）。请换一个端口，或关闭那个程序。");
    assert!(
        h.query_by_label(&said).is_some(),
        "the sentence names the port"
    );
    let offer = h
        .query_by_label_contains("改用端口 ")
        .map(|n| n.accesskit_node().label().unwrap_or_default())
        .expect("a free port is offered");
    h.get_by_label(&offer).click_accesskit();
    steps(&mut h, 4);
    let free = h.state().settings().rpc_port;
    assert_ne!(free, port);
    assert_eq!(offer, format!("改用端口 {free}"));
    assert_eq!(
        h.state().rpc_address(),
        Some(format!("http://127.0.0.1:{free}/jsonrpc")),
        "serving on the port offered"
    );
    let ws = format!("ws://127.0.0.1:{free}/jsonrpc");
    h.get_by_label(&ws).scroll_to_me();
    steps(&mut h, 2);
    assert!(h.query_by_label("WebSocket 地址").is_some());
    let upgrade = format!(
        "GET /jsonrpc HTTP/1.1\r\nHost: 127.0.0.1:{free}\r\nUpgrade: websocket\r\nConnection: \
         Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    let reply = send(&mut h, free, upgrade);
    assert!(reply.starts_with("HTTP/1.1 101"), "{reply}");
    drop(taken);
}

#[test]
fn web_pages_get_in_only_from_the_origins_listed_and_a_new_secret_locks_the_old_one_out() {
    let mut world = World::new();
    let port = free_port();
    let storage = with_settings(&world, |s| {
        s.rpc_enabled = true;
        s.rpc_port = port;
    });
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    open_bridge(
        &mut h,
        "Settings",
        "Allow browsers and tools to add downloads",
    );
    let secret = h.state().settings().rpc_secret.clone();
    let ariang = "https://ariang.example";
    assert!(call(&mut h, port, &secret, None).contains("\"version\""));
    assert!(call(&mut h, port, &secret, Some(ariang)).starts_with("HTTP/1.1 403"));

    h.get_by_label("Let web pages in (AriaNg…)")
        .click_accesskit();
    steps(&mut h, 3);
    h.get_by_label("Web pages let in").focus();
    steps(&mut h, 1);
    h.event(eframe::egui::Event::Text(format!(
        "{ariang}\nariang.example"
    )));
    steps(&mut h, 4);
    assert!(
        h.query_by_label(
            "Not a web page's address: ariang.example (expected http(s)://host[:port])"
        )
        .is_some(),
        "a line that is not an origin is named"
    );
    let page = call(&mut h, port, &secret, Some(ariang));
    assert!(page.contains("\"version\""), "{page}");
    assert!(
        page.contains("access-control-allow-origin: https://ariang.example"),
        "{page}"
    );
    let other = call(&mut h, port, &secret, Some("https://evil.example"));
    assert!(other.starts_with("HTTP/1.1 403"), "{other}");

    h.get_by_label("New secret").click_accesskit();
    steps(&mut h, 4);
    let renewed = h.state().settings().rpc_secret.clone();
    assert_ne!(renewed, secret);
    assert!(
        h.query_by_label(&renewed).is_some(),
        "the new secret is shown to copy"
    );
    assert!(call(&mut h, port, &secret, None).contains("Unauthorized"));
    assert!(call(&mut h, port, &renewed, None).contains("\"version\""));
}

/// "…or close that program": once the other program lets the port go, the window takes it
/// within a few seconds, with nothing else done.
#[test]
fn a_port_let_go_by_the_other_program_is_taken_soon_after() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").port();
    let mut world = World::new();
    let storage = with_settings(&world, |s| {
        s.rpc_enabled = true;
        s.rpc_port = port;
    });
    let init = world.init(Some(world.dest.path().to_path_buf()));
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    steps(&mut h, 3);
    assert!(h.state().rpc_address().is_none());
    drop(taken);
    crate::world::step_until(&mut h, "the port taken once let go", |app| {
        app.rpc_address() == Some(format!("http://127.0.0.1:{port}/jsonrpc"))
    });
}
