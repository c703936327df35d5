//! Issue 28, item 19, in the window: a server with a self-signed certificate (a real HTTPS
//! server the test starts) is refused with its fingerprint in the row's details; "Trust this
//! certificate for this download" lets in that row only, "for every download from HOST" every
//! row of that host, now and after a restart (saved with the settings), until Settings'
//! Forget; a row's trust and a refused row's fingerprint are saved with the queue. English
//! and 简体中文.

use egui_kittest::kittest::Queryable as _;
use haul::app::HaulApp;
use haul::app::i18n::LanguageChoice;
use haul::desktop::saved_queue::SavedQueue;
use haul::protocol::{FetchError, Status};
use haul_testkit::tls::{Certified, TlsServer};

use crate::world::{World, harness_with, shown, status_of, step_until, steps};

fn refused(h: &egui_kittest::Harness<'_, HaulApp>, url: &str) -> bool {
    status_of(h.state(), url) == Some(Status::Failed)
}

/// Selects the row named `name` and waits for its details.
fn select(h: &mut egui_kittest::Harness<'_, HaulApp>, name: &str) {
    h.get_by_label(name).click();
    steps(h, 3);
}

#[test]
fn a_refused_certificate_is_trusted_for_one_download_by_its_fingerprint() {
    let cert = Certified::new();
    let server = TlsServer::start(&cert, b"private bytes".to_vec());
    let (one, two) = (server.url("/one.bin"), server.url("/two.bin"));
    let mut world = World::new();
    let dest = world.dest.path().to_path_buf();
    let state = tempfile::tempdir().expect("tempdir");
    let db = state.path().join("queue.sqlite3");
    let mut init = world.init(Some(dest.clone()));
    init.queue = SavedQueue::open(&db).queue;
    let mut h = harness_with(move |_| HaulApp::new(None, init));
    h.event(eframe::egui::Event::Paste(format!("{one}\n{two}")));
    step_until(&mut h, "both refused", |app| {
        app.model().count(Status::Failed) == 2
    });
    assert_eq!(server.served(), 0);
    select(&mut h, "one.bin");
    let fingerprint = cert.fingerprint();
    assert!(
        h.query_all_by_label_contains(&fingerprint[..47])
            .next()
            .is_some(),
        "the details show the fingerprint ({fingerprint})"
    );
    assert!(
        shown(
            &h,
            "The certificate of 127.0.0.1 is not trusted: compare its fingerprint in the details"
        ),
        "the reason in words"
    );
    h.get_by_label("Trust this certificate for this download")
        .click_accesskit();
    step_until(&mut h, "the trusted one done", |app| {
        app.model().count(Status::Done) == 1
    });
    assert_eq!(
        std::fs::read(dest.join("one.bin")).ok().as_deref(),
        Some(&b"private bytes"[..])
    );
    steps(&mut h, 10);
    assert!(refused(&h, &two), "the other download is not trusted by it");
    assert!(h.state().settings().trusted_certificates.is_empty());
    let row = h
        .state()
        .model()
        .rows()
        .iter()
        .find(|r| r.uri == one)
        .cloned();
    assert_eq!(
        row.map(|r| r.options.trust.pinned.len()),
        Some(1),
        "the row's own option"
    );

    // Saved with the queue: the trusted row keeps its pin, the refused one its fingerprint
    // (so the ways to trust it are offered again after a restart).
    drop(h);
    let saved = SavedQueue::open(&db).items;
    let item = |url: &str| saved.iter().find(|i| i.text == url).cloned();
    let pinned = item(&one).and_then(|i| i.options).map(|o| o.trust.pinned);
    assert_eq!(
        pinned.map(|p| p.iter().map(ToString::to_string).collect::<Vec<_>>()),
        Some(vec![fingerprint.clone()])
    );
    match item(&two).and_then(|i| i.failure) {
        Some(FetchError::Untrusted { fingerprint: f, .. }) => {
            assert_eq!(f.to_string(), fingerprint);
        }
        other => panic!("the refusal is kept: {other:?}"),
    }
}

#[test]
fn trusting_for_a_host_lets_in_its_downloads_across_a_restart_until_forgotten_in_chinese() {
    let cert = Certified::new();
    let server = TlsServer::start(&cert, b"host bytes".to_vec());
    let (a, b, c) = (
        server.url("/a.bin"),
        server.url("/b.bin"),
        server.url("/c.bin"),
    );
    let mut world = World::new();
    let dest = world.dest.path().to_path_buf();
    let mut storage = crate::world::with_settings(&world, |s| {
        s.language = LanguageChoice::Chinese;
    });
    let init = world.init(Some(dest.clone()));
    let loaded = std::mem::take(&mut storage);
    let mut h = harness_with(move |_| HaulApp::new(Some(&loaded), init));
    h.event(eframe::egui::Event::Paste(format!("{a}\n{b}")));
    step_until(&mut h, "both refused", |app| {
        app.model().count(Status::Failed) == 2
    });
    select(&mut h, "a.bin");
    assert!(shown(&h, "127.0.0.1 的证书不受信任：请在详情中核对其指纹"));
    h.get_by_label("为来自 127.0.0.1 的所有下载信任此证书")
        .click_accesskit();
    step_until(&mut h, "both retried and done", |app| {
        app.model().count(Status::Done) == 2
    });
    assert_eq!(h.state().settings().trusted_certificates.len(), 1);

    // Saved with the settings: after a restart a new download from the host goes through.
    eframe::App::save(h.state_mut(), &mut storage);
    drop(h);
    let init = world.init(Some(dest.clone()));
    let mut h = harness_with(move |_| HaulApp::new(Some(&storage), init));
    h.event(eframe::egui::Event::Paste(c.clone()));
    step_until(&mut h, "c done after the restart", |app| {
        app.model().count(Status::Done) >= 1
    });
    assert_eq!(
        std::fs::read(dest.join("c.bin")).ok().as_deref(),
        Some(&b"host bytes"[..])
    );

    // Forgotten in Settings: the host's certificate is refused again.
    h.get_by_label("设置").click();
    steps(&mut h, 3);
    h.get_by_label("移除").scroll_to_me();
    steps(&mut h, 2);
    h.get_by_label("移除").click_accesskit();
    steps(&mut h, 3);
    assert!(h.state().settings().trusted_certificates.is_empty());
    let d = server.url("/d.bin");
    h.event(eframe::egui::Event::Paste(d.clone()));
    step_until(&mut h, "d refused", |app| {
        app.model().count(Status::Failed) == 1
    });
    assert_eq!(status_of(h.state(), &d), Some(Status::Failed));
}

/// "Edit options…" keeps the options its form has no field for: a row given anew (its link
/// changed) keeps the certificate it trusts, and the new address is fetched under it.
#[test]
fn an_edit_keeps_the_certificate_a_row_trusts() {
    use crate::window_options::{confirm, fill};
    use eframe::egui::accesskit::Role;
    let cert = Certified::new();
    let server = TlsServer::start(&cert, b"kept trust".to_vec());
    let dead = haul_testkit::tools::free_port();
    let old = format!("https://127.0.0.1:{dead}/kept.bin");
    let new = server.url("/kept.bin");
    let mut world = World::new();
    let dest = world.dest.path().to_path_buf();
    let mut h = world.harness();
    let list = format!("{old}\n  trust-certificate={}\n", cert.fingerprint());
    h.event(eframe::egui::Event::Paste(list));
    step_until(&mut h, "the dead address failed", |app| {
        app.model().count(Status::Failed) == 1
    });
    h.get_by_label("kept.bin").click_secondary();
    steps(&mut h, 3);
    h.get_by_role_and_label(Role::Button, "Edit options…")
        .click();
    steps(&mut h, 3);
    fill(&mut h, "Addresses", &new);
    assert!(confirm(&mut h, "Apply"));
    let row = h.state().model().rows()[0].clone();
    assert_eq!(row.uri, new);
    assert_eq!(
        row.options.trust.pinned.len(),
        1,
        "the trusted certificate is kept"
    );
    h.get_all_by_role_and_label(Role::Button, "Retry")
        .next()
        .expect("the row's Retry")
        .click();
    step_until(&mut h, "fetched under the kept trust", |app| {
        app.model().count(Status::Done) == 1
    });
    assert_eq!(
        std::fs::read(dest.join("kept.bin")).ok().as_deref(),
        Some(&b"kept trust"[..])
    );
}
