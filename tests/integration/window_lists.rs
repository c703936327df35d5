//! Lists imported into the window, as a person imports them: a typed path when there is no
//! file dialog, a `SHA256SUMS` beside the list, and the list's own folder for its relative
//! paths.

use crate::support::body;
use egui_kittest::kittest::Queryable as _;
use haul::desktop::{Dialog, Reply};
use haul::protocol::Status;

use crate::world::*;

#[test]
fn without_a_file_dialog_a_list_is_imported_from_a_typed_path() {
    let mut world = World::new();
    let list = world.dest.path().join("urls.txt");
    let good = world.server.url("/bytes/700/from-list.bin");
    std::fs::write(&list, format!("# my list\n{good}\n\nnot a url at all://\n")).expect("write");
    // A SHA256SUMS file beside the list gives the item its checksum.
    std::fs::write(
        world.dest.path().join("SHA256SUMS"),
        format!("{}  from-list.bin\n", hex_sha(&body(700))),
    )
    .expect("sums");
    let (mut h, desktop) = world.harness_and_desktop();

    // What the desktop answers when neither the portal nor zenity can show the dialog.
    desktop
        .send(Reply::DialogUnavailable(Dialog::List))
        .expect("window alive");
    h.step();
    h.step();
    assert!(shown(
        &h,
        "No file dialog is available here (it needs the desktop portal or zenity). Type or paste paths instead, or drop files on the window."
    ));
    h.get_by_label("List file").focus();
    h.step();
    h.get_by_label("List file").type_text("urls.txt");
    h.step();
    h.get_by_label("Import").click();
    step_until(&mut h, "the listed item done", |app| {
        app.model().count(Status::Done) == 1
    });
    assert_eq!(h.state().model().len(), 2);
    let failed = h
        .state()
        .model()
        .rows()
        .iter()
        .find(|r| r.status() == Status::Failed);
    assert!(
        failed
            .and_then(|r| r.state.error())
            .is_some_and(|e| e.contains("urls.txt line 4")),
        "{failed:?}"
    );
    let notice = h
        .state()
        .notice()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(
        notice.starts_with("Imported 2 items from") && notice.ends_with("urls.txt"),
        "{notice}"
    );
    assert!(
        h.query_by_label("List file").is_none(),
        "the field closes after importing"
    );
}

/// A list imported with a `SHA256SUMS` beside it gives checksums to its local paths too, as
/// `haul-cli -i` does: the window carries each entry whole through the folder walk.
#[test]
fn local_files_from_an_imported_list_keep_their_checksums() {
    let mut world = World::new();
    let sources = tempfile::tempdir().expect("tempdir");
    let (good, bad) = (
        sources.path().join("good.txt"),
        sources.path().join("bad.txt"),
    );
    std::fs::write(&good, body(900)).expect("write");
    std::fs::write(&bad, body(800)).expect("write");
    let list = sources.path().join("files.txt");
    std::fs::write(&list, format!("{}\n{}\n", good.display(), bad.display())).expect("list");
    let sums = format!(
        "{}  good.txt\n{}  bad.txt\n",
        hex_sha(&body(900)),
        hex_sha(b"not what bad.txt holds")
    );
    let (mut h, desktop) = world.harness_and_desktop();
    desktop
        .send(Reply::ListRead {
            path: list,
            text: std::fs::read_to_string(sources.path().join("files.txt")).expect("read"),
            sums: Some(sums),
        })
        .expect("window alive");
    step_until(&mut h, "both local items ended", |app| {
        app.model().len() == 2 && app.model().active() == 0
    });
    let good_text = good.display().to_string();
    let bad_text = bad.display().to_string();
    assert_eq!(status_of(h.state(), &good_text), Some(Status::Done));
    assert_eq!(status_of(h.state(), &bad_text), Some(Status::Failed));
    let error = h
        .state()
        .model()
        .rows()
        .iter()
        .find(|r| r.uri == bad_text)
        .and_then(|r| r.state.error())
        .unwrap_or_default();
    assert!(error.starts_with("sha256 mismatch"), "{error}");
    assert!(
        !world.dest.path().join("bad.txt").exists(),
        "the mismatched copy is never committed: {:?}",
        world.files()
    );
}

/// An imported list's relative paths (a local source, a `load-cookies` file) are taken from
/// the list's own folder, where its `SHA256SUMS` is read too: a window has no working folder a
/// person knows (they were taken from the folder Haul was started in, issue 22's bug 4).
#[test]
fn an_imported_lists_relative_paths_are_taken_from_its_folder() {
    let mut world = World::new();
    let lists = tempfile::tempdir().expect("tempdir");
    std::fs::write(lists.path().join("local.bin"), body(700)).expect("local");
    std::fs::write(
        lists.path().join("cookies.txt"),
        "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tlisted\n",
    )
    .expect("cookies");
    let url = world.server.url("/bytes/500/remote.bin");
    let text = format!("local.bin\n{url}\n  load-cookies=cookies.txt\n");
    let list = lists.path().join("urls.txt");
    std::fs::write(&list, &text).expect("list");
    let (mut h, desktop) = world.harness_and_desktop();
    desktop
        .send(Reply::ListRead {
            path: list,
            text,
            sums: None,
        })
        .expect("window alive");
    step_until(&mut h, "both items ended", |app| {
        app.model().len() == 2 && app.model().active() == 0
    });
    assert_eq!(status_of(h.state(), &url), Some(Status::Done));
    let local = lists.path().join("local.bin").display().to_string();
    assert_eq!(status_of(h.state(), &local), Some(Status::Done));
    let sent = world.server.request_log();
    let cookie = sent.iter().find_map(|l| l.header("cookie"));
    assert_eq!(cookie, Some("session=listed"));
    assert_eq!(
        std::fs::read(world.dest.path().join("local.bin")).ok(),
        Some(body(700))
    );
}
