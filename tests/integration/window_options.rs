//! Issue 15 in the window: "Add with options…" (name, folder inside the destination, headers,
//! referer, credentials, checksum, connections) and "Edit options…" on a row that is not
//! running — including a new address for a paused download whose link expired.

use std::time::Duration;

use eframe::egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use haul::app::HaulApp;
use haul::protocol::Status;

use crate::support::body;
use crate::world::{World, paste_and_pause, shown, step_until, step_until_status, steps};

/// The text field labelled `label` (a label of the same text may stand beside it).
pub(crate) fn field<'a>(h: &'a Harness<'_, HaulApp>, label: &'a str) -> egui_kittest::Node<'a> {
    h.get_all_by_label(label)
        .find(|n| {
            matches!(
                n.accesskit_node().role(),
                Role::TextInput | Role::MultilineTextInput
            )
        })
        .unwrap_or_else(|| panic!("a field labelled {label}"))
}

/// Types `text` into the form's field labelled `label` (replacing what is there).
pub(crate) fn fill(h: &mut Harness<'_, HaulApp>, label: &str, text: &str) {
    field(h, label).focus();
    h.step();
    h.key_press_modifiers(eframe::egui::Modifiers::COMMAND, eframe::egui::Key::A);
    h.key_press(eframe::egui::Key::Backspace);
    h.step();
    field(h, label).type_text(text);
    steps(h, 2); // the form reads what was typed on the next frame
}

/// The form's confirm button (the toolbar has its own "Add").
pub(crate) fn confirm(h: &mut Harness<'_, HaulApp>, label: &str) -> bool {
    let button = h
        .get_all_by_role_and_label(Role::Button, label)
        .last()
        .unwrap_or_else(|| panic!("a {label} button"));
    let enabled = !button.accesskit_node().is_disabled();
    if enabled {
        button.click();
    }
    steps(h, 3);
    enabled
}

#[test]
fn add_with_options_names_the_file_puts_it_in_a_folder_and_sends_its_headers() {
    let mut world = World::new();
    let url = world.server.url("/bytes/5000/plain.bin");
    let mut h = world.harness();
    h.get_by_label("Add with options…").click();
    steps(&mut h, 3);
    fill(&mut h, "Addresses", &url);
    fill(&mut h, "File name", "named.bin");
    fill(&mut h, "Folder", "../outside");
    assert!(
        h.query_by_label_contains("A folder inside the destination")
            .is_some(),
        "a folder outside the destination says why"
    );
    assert!(!confirm(&mut h, "Add"), "and Add waits until it is fixed");
    fill(&mut h, "Folder", "videos");
    fill(&mut h, "Headers", "X-Token: abc");
    fill(&mut h, "Referer", "https://portal.example/");
    fill(&mut h, "User name", "ann");
    assert!(confirm(&mut h, "Add"));
    step_until_status(&mut h, &url, Status::Done);
    let file = world.dest.path().join("videos/named.bin");
    assert_eq!(
        std::fs::read(&file).expect("named, in its folder"),
        body(5000)
    );
    let seen = world
        .server
        .request_log()
        .into_iter()
        .find(|l| l.target.contains("plain.bin"))
        .expect("asked");
    assert_eq!(seen.header("x-token"), Some("abc"));
    assert_eq!(seen.header("referer"), Some("https://portal.example/"));
    assert!(
        seen.header("authorization")
            .is_some_and(|v| v.starts_with("Basic "))
    );
    let row = &h.state().model().rows()[0];
    assert_eq!(row.name, "named.bin");
    assert_eq!(
        row.options.request.headers.len(),
        1,
        "the row keeps its options"
    );
}

#[test]
fn a_paused_rows_expired_link_is_given_anew_and_it_resumes_its_bytes() {
    let mut world = World::new();
    let n = 1_500_000;
    let first = world.server.url(&format!(
        "/bytes/{n}/movie.bin?range=1&etag=m&drip_ms=2&sig=old"
    ));
    let again = world.server.url(&format!(
        "/bytes/{n}/movie.bin?range=1&etag=m&drip_ms=2&sig=new"
    ));
    let mut h = world.harness();
    paste_and_pause(&mut h, &first, 100_000);
    let kept = h.state().model().rows()[0].state.bytes();
    h.get_by_label("movie.bin").click_secondary();
    steps(&mut h, 3);
    h.get_by_role_and_label(Role::Button, "Edit options…")
        .click();
    steps(&mut h, 3);
    fill(&mut h, "Addresses", &again);
    assert!(confirm(&mut h, "Apply"));
    assert_eq!(
        h.state().model().rows()[0].status(),
        Status::Paused,
        "Apply keeps a paused row paused"
    );
    let resume = h.get_all_by_role_and_label(Role::Button, "Resume").next();
    resume.expect("the row's Resume").click();
    step_until_status(&mut h, &again, Status::Done);
    assert_eq!(
        std::fs::read(world.dest.path().join("movie.bin")).expect("one file"),
        body(n)
    );
    // Only what is missing: the new link's first request asks for the rest (it once asked
    // `bytes=0-` and received megabytes already on disk before asking again; issue 28, 27).
    let asked: Vec<Option<String>> = world
        .server
        .request_log()
        .into_iter()
        .filter(|l| l.target.contains("sig=new"))
        .map(|l| l.range)
        .collect();
    let first = asked.first().cloned().flatten().unwrap_or_default();
    let from: u64 = first
        .strip_prefix("bytes=")
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        from > 0 && from <= kept,
        "the new link was first asked for the rest ({kept} bytes kept): {asked:?}"
    );
    step_until(&mut h, "one row", |app| app.model().rows().len() == 1);
    std::thread::sleep(Duration::from_millis(50));
}

#[test]
fn a_proxy_typed_in_settings_carries_the_next_download() {
    if !haul_testkit::tools::have("microsocks") {
        return;
    }
    let mut world = World::new();
    let proxy = world
        .rt
        .block_on(haul_testkit::tools::microsocks("haul", "pw"));
    let url = world.server.url("/bytes/3000/proxied.bin");
    let mut h = world.harness();
    h.get_by_label("Settings").click();
    steps(&mut h, 3);
    h.get_by_role_and_label(Role::ComboBox, "Proxy").click();
    steps(&mut h, 3);
    h.get_by_label("This proxy…").click();
    steps(&mut h, 3);
    fill(&mut h, "Proxy address", "socks5h://haul:wrong");
    assert!(
        h.query_by_label_contains("names no proxy host").is_some()
            || h.query_by_label_contains("not a proxy").is_some(),
        "a half-typed proxy says why and is not applied"
    );
    assert_eq!(
        h.state().settings().proxy,
        haul::protocol::ProxyChoice::System
    );
    fill(
        &mut h,
        "Proxy address",
        &format!("socks5h://haul:pw@127.0.0.1:{}", proxy.port),
    );
    // The exceptions start as "localhost, 127.0.0.1": this test's server is on loopback.
    fill(&mut h, "Not for", "");
    assert!(matches!(
        h.state().settings().proxy,
        haul::protocol::ProxyChoice::Manual(_)
    ));
    crate::world::add_via_box(&mut h, &url);
    step_until_status(&mut h, &url, Status::Done);
    assert!(
        proxy.log().contains("127.0.0.1"),
        "through the proxy: {}",
        proxy.log()
    );
}

#[test]
fn with_skip_chosen_a_complete_file_is_not_fetched_again_and_reads_as_already_there() {
    let mut world = World::new();
    std::fs::write(world.dest.path().join("have.bin"), body(100)).expect("write");
    let url = world.server.url("/bytes/100/have.bin");
    let mut h = world.harness();
    h.get_by_label("Settings").click();
    steps(&mut h, 3);
    h.get_by_label("Skip it if it is complete").click();
    steps(&mut h, 3);
    assert!(h.state().settings().skip_existing);
    crate::world::add_via_box(&mut h, &url);
    step_until_status(&mut h, &url, Status::Skipped);
    assert!(!world.dest.path().join("have (1).bin").exists());
    h.get_by_label("Activity").click();
    steps(&mut h, 3);
    assert!(
        h.query_by_label_contains("Already there, not downloaded again: have.bin")
            .is_some()
    );
    assert!(h.query_by_label_contains("1 already there").is_some());
    assert!(
        h.query_all_by_role_and_label(Role::Button, "Open")
            .next()
            .is_some(),
        "the file there can be opened from its row"
    );
}

/// "Edit options…" shows every option the row has — here a user agent and a speed limit a
/// list gave, which the form had no fields for — so changing the address drops none of them
/// (issue 22, bug 1: `Model::edit` replaced the options with the form's).
#[test]
fn an_edit_keeps_the_options_a_list_gave() {
    let mut world = World::new();
    let n = 1_500_000;
    let first = world.server.url(&format!(
        "/bytes/{n}/agent.bin?range=1&etag=a&drip_ms=2&sig=old"
    ));
    let again = world.server.url(&format!(
        "/bytes/{n}/agent.bin?range=1&etag=a&drip_ms=2&sig=new"
    ));
    let mut h = world.harness();
    let list = format!("{first}\n  user-agent=Agent/7\n  max-download-limit=900K\n");
    h.event(eframe::egui::Event::Paste(list));
    step_until(&mut h, "bytes flowing", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.state.bytes() > 50_000)
    });
    h.get_by_label("Pause").click();
    step_until_status(&mut h, &first, Status::Paused);
    h.get_by_label("agent.bin").click_secondary();
    steps(&mut h, 3);
    h.get_by_role_and_label(Role::Button, "Edit options…")
        .click();
    steps(&mut h, 3);
    assert_eq!(field(&h, "User agent").value().as_deref(), Some("Agent/7"));
    fill(&mut h, "Addresses", &again);
    assert!(confirm(&mut h, "Apply"));
    let options = h.state().model().rows()[0].options.clone();
    assert_eq!(options.request.user_agent.as_deref(), Some("Agent/7"));
    assert_eq!(options.max_rate, Some(900 * 1024));
    h.get_all_by_role_and_label(Role::Button, "Resume")
        .next()
        .expect("the row's Resume")
        .click();
    step_until_status(&mut h, &again, Status::Done);
    let seen = world
        .server
        .request_log()
        .into_iter()
        .rfind(|l| l.target.contains("sig=new"))
        .expect("the new address was asked");
    assert_eq!(seen.header("user-agent"), Some("Agent/7"));
}

/// A line with no scheme that names a web address (`127.0.0.1:PORT/…`) goes through the
/// folder walk first (no such file): its option lines come along whole (issue 22, bug 3: the
/// walk carried only the checksum, so `out=` was dropped in the window while `haul-cli`
/// honoured it).
#[test]
fn a_guessed_address_keeps_its_option_lines() {
    let mut world = World::new();
    let url = world.server.url("/bytes/4000/guessed.bin");
    let bare = url.trim_start_matches("http://").to_owned();
    let mut h = world.harness();
    crate::world::add_via_box(
        &mut h,
        &format!("{bare}\n  out=renamed.bin\n  referer=https://r.example/\n"),
    );
    step_until(&mut h, "done", |app| app.model().count(Status::Done) == 1);
    assert_eq!(world.files(), ["renamed.bin"]);
    let seen = world
        .server
        .request_log()
        .into_iter()
        .find(|l| l.target.contains("guessed.bin"))
        .expect("asked");
    assert_eq!(seen.header("referer"), Some("https://r.example/"));
}

/// A cookies file that is not there is the form's problem, in red like the other fields,
/// and Add waits (it was accepted and the row failed as "The file cannot be read"; issue 28,
/// item 12). A file that is not a cookies.txt says so; a real one is sent as a `Cookie`.
#[test]
fn a_missing_cookies_file_is_said_in_the_form() {
    let mut world = World::new();
    let url = world.server.url("/bytes/3000/with-cookies.bin");
    let missing = world.dest.path().join("no-such-cookies.txt");
    let cookies = world.dest.path().join("cookies.txt");
    let mut h = world.harness();
    h.get_by_label("Add with options…").click();
    steps(&mut h, 3);
    fill(&mut h, "Addresses", &url);
    fill(&mut h, "Cookies file", &missing.display().to_string());
    assert!(shown(&h, "No file at this path"), "the field says why");
    assert!(!confirm(&mut h, "Add"), "and Add waits until it is fixed");

    std::fs::write(&cookies, "not a cookies file at all\n").expect("a file");
    fill(&mut h, "Cookies file", &cookies.display().to_string());
    assert!(shown(&h, "Not a cookies.txt file (Netscape format)"));
    assert!(!confirm(&mut h, "Add"));

    let host = url::Url::parse(&url).expect("url");
    let line = format!(
        "{}\tFALSE\t/\tFALSE\t0\tsession\tabc123\n",
        host.host_str().expect("host")
    );
    std::fs::write(&cookies, line).expect("cookies");
    fill(&mut h, "Cookies file", "");
    fill(&mut h, "Cookies file", &cookies.display().to_string());
    assert!(!shown(&h, "No file at this path"));
    assert!(confirm(&mut h, "Add"));
    step_until_status(&mut h, &url, Status::Done);
    let seen = world
        .server
        .request_log()
        .into_iter()
        .find(|l| l.target.contains("with-cookies.bin"))
        .expect("asked");
    assert_eq!(seen.header("cookie"), Some("session=abc123"));
}
