//! `haul-cli --install-browser-host` and `--uninstall-browser-host`, run as a person runs
//! them, in a fresh home: the manifests land where each browser found looks, name the host
//! beside `haul-cli` and only Haul's extension, and are removed again.

// Linux's places (macOS's differ; Windows writes registry keys).
#[cfg(target_os = "linux")]
#[test]
fn install_browser_host_writes_each_found_browsers_manifest_and_uninstall_removes_it() {
    use super::cli::BIN;
    use std::process::Command;
    let work = tempfile::tempdir().expect("work");
    let home = work.path().join("home");
    let bin = work.path().join("bin");
    std::fs::create_dir_all(home.join(".config/chromium")).expect("chromium's folder");
    std::fs::create_dir_all(&bin).expect("bin");
    // haul-cli as installed, with the host program beside it.
    let cli = bin.join("haul-cli");
    std::fs::copy(BIN, &cli).expect("haul-cli");
    let run = |flag: &str| {
        let out = Command::new(&cli)
            .arg(flag)
            .env("HOME", &home)
            .output()
            .expect("haul-cli runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = run("--install-browser-host");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("haul-browser-host is missing"), "{stderr}");

    let host = bin.join("haul-browser-host");
    std::fs::write(&host, b"").expect("the host");
    let (code, stdout, stderr) = run("--install-browser-host");
    assert_eq!(code, Some(0), "{stderr}");
    let manifest = home.join(".config/chromium/NativeMessagingHosts/io.github.haul.host.json");
    assert!(stdout.contains(&manifest.display().to_string()), "{stdout}");
    assert!(
        !stdout.contains("Firefox"),
        "only the browser found: {stdout}"
    );
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).expect("the manifest")).expect("JSON");
    assert_eq!(written["path"], host.display().to_string());
    assert_eq!(
        written["allowed_origins"],
        serde_json::json!(["chrome-extension://hfdfagpekomaeldlmgfaocgoonpgnmjf/"])
    );

    let (code, stdout, _) = run("--uninstall-browser-host");
    assert_eq!(code, Some(0));
    assert!(stdout.contains("removed"), "{stdout}");
    assert!(!manifest.exists());
    let (code, stdout, _) = run("--uninstall-browser-host");
    assert_eq!(code, Some(0));
    assert!(stdout.contains("nothing to remove"), "{stdout}");
}

/// For a headless setup: with no window running, what the browser hands over goes to a
/// `haul-cli --enable-rpc` serving for the user (through the note it leaves in the data
/// folder), with the cookie, Referer, User-Agent and name.
// macOS's data folder is under HOME, which the test leaves alone.
#[cfg(not(target_os = "macos"))]
#[tokio::test]
async fn with_no_window_an_item_goes_to_a_headless_haul_cli_with_its_cookie() {
    use std::time::Duration;

    use haul_browser::message::Item;

    let server = crate::support::Server::start().await;
    let dest = tempfile::tempdir().expect("dest");
    let rpc = super::rpc::start(dest.path()).await;
    // Haul's data folder under XDG_DATA_HOME (Linux) or APPDATA (Windows), both set there.
    let dir = if cfg!(windows) {
        rpc.data.path().join("haul").join("data")
    } else {
        rpc.data.path().join("haul")
    };
    // Written once the server listens: `start` returns as soon as the port answers, which
    // on a busy machine is before the note is there.
    let mut note = None;
    for _ in 0..100 {
        note = haul_browser::headless::read_note(&dir);
        if note.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let note = note.expect("the note for the browser host");
    assert_eq!(note.port, rpc.port);
    let item = Item {
        url: server.url("/bytes/250000/dl.bin"),
        referrer: Some(server.url("/page.html")),
        cookie: Some("session=abc".to_owned()),
        user_agent: Some("Mozilla/5.0 Test".to_owned()),
        filename: Some("from-the-browser.bin".to_owned()),
    };
    let handoff = item.handoff().expect("a good item");
    let no_window = dir.join("no-such-haul");
    let handed = tokio::task::spawn_blocking(move || {
        haul_browser::hand_to_haul(&dir, &handoff, &no_window, Duration::from_secs(5))
    })
    .await
    .expect("join");
    assert_eq!(handed, Ok(()));
    let file = dest.path().join("from-the-browser.bin");
    for _ in 0..200 {
        if std::fs::read(&file).ok() == Some(crate::support::body(250_000)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        std::fs::read(&file).ok(),
        Some(crate::support::body(250_000))
    );
    let log = server.request_log();
    let seen = log
        .iter()
        .find(|r| r.target.contains("dl.bin"))
        .expect("fetched");
    assert_eq!(seen.header("cookie"), Some("session=abc"));
    assert_eq!(
        seen.header("referer"),
        Some(server.url("/page.html").as_str())
    );
    assert_eq!(seen.header("user-agent"), Some("Mozilla/5.0 Test"));
}
