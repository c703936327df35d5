//! Every request a real download needs, end to end through `haul-cli`: headers, referer, user
//! agent, Basic auth, cookies files, `.netrc`, lists in aria2's input-file format, and real
//! proxies (microsocks for SOCKS5, tinyproxy for HTTP) started on 127.0.0.1 by the tests.
//! Without the proxies installed the proxy tests say so and pass, unless
//! `HAUL_REQUIRE_PROXIES=1` (as `.ci/run` sets, after installing them).

// Most tests here are Unix-only (signals, permissions): on Windows their helpers and imports
// go unused.
#![cfg_attr(not(unix), allow(unused_imports, dead_code))]

use std::path::Path;
#[cfg(unix)]
use std::process::{Command, Stdio};
#[cfg(unix)]
use std::time::Duration;

use crate::cli::{json_lines, run, s};

use crate::support::{Logged, Server, body};

/// The request the server logged whose target starts with `path`.
fn logged(server: &Server, path: &str) -> Logged {
    server
        .request_log()
        .into_iter()
        .find(|l| l.target.starts_with(path))
        .unwrap_or_else(|| panic!("no request for {path}: {:?}", server.request_log()))
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flags_send_headers_referer_agent_basic_auth_and_only_matching_cookies() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let cookies = dir.path().join("cookies.txt");
    write(
        &cookies,
        "# Netscape HTTP Cookie File\n\
         127.0.0.1\tFALSE\t/bytes\tFALSE\t0\tsession\tabc\n\
         #HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t4102444800\tlong\tlived\n\
         127.0.0.1\tFALSE\t/\tTRUE\t0\tsecure\tno\n\
         127.0.0.1\tFALSE\t/\tFALSE\t1000\texpired\tno\n\
         127.0.0.1\tFALSE\t/other\tFALSE\t0\tpath\tno\n\
         example.com\tTRUE\t/\tFALSE\t0\tdomain\tno\n",
    );
    let output = run(
        vec![
            s("-q"),
            s("-o"),
            dir.path().join("d").display().to_string(),
            s("-H"),
            s("X-Token: t1"),
            s("-e"),
            s("https://portal.example/page"),
            s("-A"),
            s("Mozilla/5.0 (Haul test)"),
            s("-u"),
            s("ann:p:w"),
            s("-b"),
            cookies.display().to_string(),
            server.url("/bytes/100/a.bin"),
        ],
        None,
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    let seen = logged(&server, "/bytes/100/a.bin");
    assert_eq!(seen.header("x-token"), Some("t1"));
    assert_eq!(seen.header("referer"), Some("https://portal.example/page"));
    assert_eq!(seen.header("user-agent"), Some("Mozilla/5.0 (Haul test)"));
    assert_eq!(seen.header("authorization"), Some("Basic YW5uOnA6dw==")); // ann:p:w
    assert_eq!(seen.header("cookie"), Some("session=abc; long=lived"));
    assert_eq!(
        std::fs::read(dir.path().join("d/a.bin")).expect("file"),
        body(100)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_to_another_host_drops_credentials_and_cookies_that_do_not_match() {
    let (first, other) = (Server::start().await, Server::start().await);
    let dir = tempfile::tempdir().expect("tempdir");
    let cookies = dir.path().join("cookies.txt");
    write(&cookies, "127.0.0.1\tFALSE\t/\tFALSE\t0\tsid\tsecret\n");
    // Another host (localhost, not 127.0.0.1) and another port.
    let elsewhere = format!(
        "http://localhost:{}/bytes/64/moved.bin",
        other
            .url("/")
            .split(':')
            .nth(2)
            .and_then(|p| p.split('/').next())
            .expect("port")
    );
    let start = first.url(&format!("/to?location={elsewhere}"));
    let output = run(
        vec![
            s("-q"),
            s("-o"),
            dir.path().join("d").display().to_string(),
            s("-u"),
            s("ann:pw"),
            s("-H"),
            s("Authorization: Bearer also-secret"),
            s("-H"),
            s("X-Api: kept"),
            s("-b"),
            cookies.display().to_string(),
            start,
        ],
        None,
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    let asked = logged(&first, "/to");
    assert!(asked.header("authorization").is_some());
    assert_eq!(asked.header("cookie"), Some("sid=secret"));
    let moved = logged(&other, "/bytes/64/moved.bin");
    assert_eq!(moved.header("authorization"), None, "{moved:?}");
    assert_eq!(moved.header("cookie"), None, "{moved:?}");
    assert_eq!(moved.header("x-api"), Some("kept"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aria2_input_file_gives_each_item_its_options_and_names_bad_lines() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("d");
    let sum = crate::cli::hex_sha(&body(300));
    let list = dir.path().join("aria2.txt");
    write(
        &list,
        &format!(
            "{a}\n  out=renamed.bin\n  dir=videos/2026\n  header=X-Item: one\n\
             \n  checksum=sha-256={sum}\n  split=1\n\
             {b}\n  max-conn=4\n\
             {c}\n\tdir=../outside\n\
             {d}\n",
            a = server.url("/bytes/300/a.bin"),
            b = server.url("/bytes/10/b.bin"),
            c = server.url("/bytes/10/c.bin"),
            d = server.url("/bytes/20/d.bin"),
        ),
    );
    let output = run(
        vec![
            s("--json"),
            s("-o"),
            dest.display().to_string(),
            s("-i"),
            list.display().to_string(),
        ],
        None,
    )
    .await;
    let (items, summary) = json_lines(&output);
    assert_eq!(summary["done"], 2, "{items:?}");
    assert_eq!(
        std::fs::read(dest.join("videos/2026/renamed.bin")).expect("out= and dir="),
        body(300)
    );
    assert_eq!(std::fs::read(dest.join("d.bin")).expect("plain"), body(20));
    assert_eq!(
        logged(&server, "/bytes/300/a.bin").header("x-item"),
        Some("one")
    );
    let error_of = |name: &str| {
        items
            .iter()
            .find(|i| i["source"].as_str().is_some_and(|src| src.ends_with(name)))
            .and_then(|i| i["error"].as_str())
            .unwrap_or_else(|| panic!("{name} reported: {items:?}"))
            .to_owned()
    };
    let b = error_of("b.bin");
    assert!(
        b.contains("unknown option 'max-conn'") && b.contains("line 9"),
        "{b}"
    );
    let c = error_of("c.bin");
    assert!(
        c.contains("leaves the destination") && c.contains("line 11"),
        "{c}"
    );
    assert!(!dir.path().join("outside").exists());
    // Neither refused item was asked for.
    assert!(
        server
            .request_log()
            .iter()
            .all(|l| !l.target.contains("b.bin") && !l.target.contains("c.bin"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_request_input_is_a_clear_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let not_cookies = dir.path().join("cookies.json");
    write(&not_cookies, "[{\"name\": \"sid\", \"value\": \"x\"}]\n");
    let netrc = dir.path().join("netrc");
    write(&netrc, "machine h login a password b\n");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&netrc, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    }
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![s("-x8"), s("http://h/a")], "--split 8"),
        (vec![s("-H"), s("NoColon"), s("http://h/a")], "Name: value"),
        (
            vec![s("-b"), not_cookies.display().to_string(), s("http://h/a")],
            "line 1",
        ),
        (
            vec![s("--out"), s("x.bin"), s("http://h/a"), s("http://h/b")],
            "exactly one source",
        ),
        (
            vec![s("--noproxy"), s("h"), s("http://h/a")],
            "applies to the -x proxy",
        ),
        #[cfg(unix)]
        (
            vec![
                s("--netrc-file"),
                netrc.display().to_string(),
                s("http://h/a"),
            ],
            "chmod 600",
        ),
    ];
    for (args, says) in cases {
        let output = run(args.clone(), None).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netrc_credentials_go_to_their_host_and_out_names_the_file() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let netrc = dir.path().join("netrc");
    write(
        &netrc,
        "machine example.org login x password y\nmachine 127.0.0.1 login bob password \"s p\"\n",
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&netrc, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let output = run(
        vec![
            s("-q"),
            s("-o"),
            dir.path().join("d").display().to_string(),
            s("--netrc-file"),
            netrc.display().to_string(),
            s("--out"),
            s("named.bin"),
            server.url("/bytes/10/a.bin"),
        ],
        None,
    )
    .await;
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        logged(&server, "/bytes/10/a.bin").header("authorization"),
        Some("Basic Ym9iOnMgcA==") // bob:s p
    );
    assert!(dir.path().join("d/named.bin").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_existing_skips_complete_files_and_keeps_a_different_one() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("d");
    let urls = [
        server.url("/bytes/1000/a.bin"),
        server.url("/bytes/2000/b.bin"),
    ];
    let mut args = vec![s("--json"), s("-o"), dest.display().to_string()];
    args.extend(urls.iter().cloned());
    let output = run(args.clone(), None).await;
    assert!(output.status.success(), "{output:?}");
    // Another file already named c.bin (of another size), and a b.bin whose checksum is asked.
    write(&dest.join("c.bin"), "mine");
    args.insert(0, s("--skip-existing"));
    args.push(server.url("/bytes/300/c.bin"));
    let output = run(args, None).await;
    assert!(output.status.success(), "{output:?}");
    let (items, summary) = json_lines(&output);
    assert_eq!(
        (summary["skipped"].as_u64(), summary["done"].as_u64()),
        (Some(2), Some(1)),
        "{items:?}"
    );
    let status = |name: &str| {
        items
            .iter()
            .find(|i| i["source"].as_str().is_some_and(|s| s.ends_with(name)))
            .map(|i| {
                (
                    i["status"].as_str().unwrap_or("").to_owned(),
                    i["bytes"].as_u64(),
                )
            })
            .unwrap_or_default()
    };
    assert_eq!(status("a.bin"), (s("skipped"), Some(0)));
    assert_eq!(status("b.bin"), (s("skipped"), Some(0)));
    assert_eq!(status("c.bin").0, "done");
    assert_eq!(
        std::fs::read_to_string(dest.join("c.bin")).expect("kept"),
        "mine"
    );
    assert_eq!(
        std::fs::read(dest.join("c (1).bin")).expect("new name"),
        body(300)
    );
    assert!(!dest.join("a (1).bin").exists() && !dest.join("b (1).bin").exists());

    // A checksum that the file there does not have: fetched again, under a new name.
    let wrong = format!("sha256:{}", crate::cli::hex_sha(b"other"));
    let output = run(
        vec![
            s("--skip-existing"),
            s("-q"),
            s("--checksum"),
            wrong,
            s("-o"),
            dest.display().to_string(),
            urls[0].clone(),
        ],
        None,
    )
    .await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "the checksum fails: {output:?}"
    );
    assert!(dest.join("a.bin").is_file());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_then_the_same_command_with_skip_existing_fetches_only_what_was_left() {
    use crate::cli::count_parts;
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().to_path_buf();
    let mut args = vec![
        s("--skip-existing"),
        s("--json"),
        s("-o"),
        dest.display().to_string(),
    ];
    for i in 0..3 {
        args.push(server.url(&format!("/bytes/4000/quick{i}.bin")));
    }
    // ~0.5 MB/s: still running when the kill comes, after its first checkpoint.
    args.push(server.url("/bytes/2000000/slow.bin?range=1&etag=s&drip_ms=2"));
    let watch = dest.clone();
    kill_mid_download(args.clone(), move || {
        watch.join("quick2.bin").exists() && count_parts(&watch) == 1
    })
    .await;
    assert_eq!(count_parts(&dest), 1, "killed with the slow one unfinished");
    let before = server.request_log().len();

    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let (items, summary) = json_lines(&output);
    assert_eq!(
        (summary["skipped"].as_u64(), summary["done"].as_u64()),
        (Some(3), Some(1)),
        "{items:?}"
    );
    let names = crate::cli::names_in(&dest);
    assert_eq!(
        names,
        ["quick0.bin", "quick1.bin", "quick2.bin", "slow.bin"]
    );
    assert_eq!(
        std::fs::read(dest.join("slow.bin")).expect("slow"),
        body(2_000_000)
    );
    // The slow one resumed: its request asked for the rest, not from 0.
    let again = &server.request_log()[before..];
    let slow: Vec<_> = again
        .iter()
        .filter(|l| l.target.contains("slow.bin"))
        .collect();
    assert!(
        slow.iter()
            .all(|l| l.range.as_deref().is_some_and(|r| r != "bytes=0-")),
        "{slow:?}"
    );
}

/// Runs haul-cli with `args` until `ready` says so (or 10 s pass), lets it run on past its
/// next checkpoint (once a second), then kills it (SIGKILL: no cleanup, like a crash).
#[cfg(unix)]
async fn kill_mid_download(args: Vec<String>, ready: impl Fn() -> bool + Send + 'static) {
    use crate::cli::BIN;
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !ready() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(1500));
        child.kill().expect("kill");
        child.wait().expect("reaped");
    })
    .await
    .expect("join");
}

/// Until a `.part` is in `dest`.
#[cfg(unix)]
fn a_part_in(dest: &std::path::Path) -> impl Fn() -> bool + Send + 'static {
    let dest = dest.to_path_buf();
    move || crate::cli::count_parts(&dest) > 0
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_signed_link_resumes_the_same_file_and_a_changed_file_starts_over() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().to_path_buf();
    let n = 2_000_000;
    let link = |sig: &str, etag: &str| {
        server.url(&format!(
            "/bytes/{n}/movie.bin?range=1&etag={etag}&drip_ms=2&sig={sig}"
        ))
    };
    let args = |url: String| vec![s("--json"), s("-o"), dest.display().to_string(), url];
    kill_mid_download(args(link("first", "v1")), a_part_in(&dest)).await;
    assert_eq!(crate::cli::count_parts(&dest), 1);

    // The link expired and was given anew: another query, the same file (size and ETag).
    let before = server.request_log().len();
    let output = run(args(link("second", "v1")), None).await;
    assert!(output.status.success(), "{output:?}");
    let got = std::fs::read(dest.join("movie.bin")).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert!(got == body(n), "byte-exact");
    let asked: Vec<_> = server.request_log()[before..]
        .iter()
        .filter_map(|l| l.range.clone())
        .collect();
    assert!(
        asked.iter().any(|r| r != "bytes=0-"),
        "it asked for the rest, not the whole: {asked:?}"
    );
    assert_eq!(crate::cli::count_parts(&dest), 0);

    // Kept bytes of one version, a link to another (the ETag changed): never mixed.
    std::fs::remove_file(dest.join("movie.bin")).expect("rm");
    kill_mid_download(args(link("third", "v1")), a_part_in(&dest)).await;
    server.set_generation("/bytes/2000000/movie.bin", 1);
    let output = run(args(link("fourth", "v1")), None).await;
    assert!(output.status.success(), "{output:?}");
    let (items, _) = json_lines(&output);
    let path = items[0]["path"].as_str().expect("a path").to_owned();
    assert_eq!(
        std::fs::read(&path).expect("file"),
        crate::support::body_gen(n, 1),
        "the new version, whole"
    );
}
