//! `haul-cli` end to end: the built binary against a loopback server.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Server, body};
use serde_json::Value;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_haul-cli");

pub(crate) async fn run(args: Vec<String>, stdin: Option<&'static str>) -> Output {
    run_with_env(args, stdin, Vec::new()).await
}

pub(crate) async fn run_with_env(
    args: Vec<String>,
    stdin: Option<&'static str>,
    env: Vec<(&'static str, String)>,
) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut command = Command::new(BIN);
        for key in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
            "all_proxy",
            "NO_PROXY",
            "no_proxy",
        ] {
            command.env_remove(key);
        }
        let mut child = command
            .envs(env)
            .args(&args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn haul-cli");
        if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
            use std::io::Write;
            pipe.write_all(text.as_bytes()).expect("write stdin");
        }
        child.wait_with_output().expect("haul-cli output")
    })
    .await
    .expect("join")
}

pub(crate) fn json_lines(output: &Output) -> (Vec<Value>, Value) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut values: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let summary = values.pop().expect("a summary line");
    (values, summary["summary"].clone())
}

pub(crate) use crate::support::harness::hex_sha;

/// Runs `haul-cli` with `args` until `ready` holds (at most 10 s), lets it go on for
/// `linger`, then kills it with SIGKILL: no cleanup at all, like a crash.
#[cfg(unix)]
pub(crate) async fn run_then_kill(
    args: Vec<String>,
    ready: impl Fn() -> bool + Send + 'static,
    linger: Duration,
) {
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(linger);
        child.kill().expect("kill");
        child.wait().expect("reaped");
    })
    .await
    .expect("join");
}

pub(crate) fn s(text: impl Into<String>) -> String {
    text.into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_reports_every_item_and_bad_lines_name_themselves() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("dest");
    let list = dir.path().join("list.txt");
    std::fs::write(
        &list,
        format!(
            "# my downloads\n{}\n\ngopher://example.invalid/x\n{}\nnot a scheme://x\n",
            server.url("/bytes/2000/two.bin"),
            server.url("/bytes/10/missing?status=404"),
        ),
    )
    .expect("write list");
    let output = run(
        vec![
            s("--json"),
            s("-o"),
            dest.display().to_string(),
            server.url("/bytes/1000/one.bin"),
            s("-i"),
            list.display().to_string(),
        ],
        None,
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let (items, summary) = json_lines(&output);
    assert_eq!(items.len(), 5);
    let by_source = |needle: &str| -> &Value {
        items
            .iter()
            .find(|v| v["source"].as_str().is_some_and(|s| s.contains(needle)))
            .unwrap_or_else(|| panic!("no item for {needle}: {items:?}"))
    };
    for (name, size) in [("one.bin", 1000), ("two.bin", 2000)] {
        let item = by_source(name);
        assert_eq!(item["status"], "done");
        assert_eq!(item["bytes"], size);
        assert_eq!(item["sha256"], hex_sha(&body(size)));
        let path = item["path"].as_str().expect("path");
        assert_eq!(Path::new(path), dest.join(name));
        assert_eq!(std::fs::read(path).expect("file"), body(size));
        assert!(item["elapsed_ms"].is_u64());
        assert!(item.get("error").is_none());
    }
    let ftp = by_source("gopher://");
    assert_eq!(ftp["status"], "failed");
    let error = ftp["error"].as_str().expect("error text");
    assert!(error.contains("unsupported scheme 'gopher'"), "{error}");
    assert!(error.contains("list.txt line 4"), "{error}");
    assert!(
        by_source("not a scheme")["error"]
            .as_str()
            .expect("error")
            .contains("line 6")
    );
    let missing = by_source("missing");
    assert_eq!(missing["status"], "failed");
    assert!(missing["error"].as_str().expect("error").contains("404"));
    assert!(missing.get("path").is_none());
    assert_eq!(summary["done"], 2);
    assert_eq!(summary["failed"], 3);
    assert_eq!(summary["timed_out"], 0);
    assert_eq!(summary["cancelled"], 0);
    assert_eq!(summary["bytes"], 3000);
    assert!(summary["elapsed_ms"].is_u64() && summary["sum_item_ms"].is_u64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_done_exits_zero_and_reads_stdin() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let list: &'static str = Box::leak(
        format!(
            "{}\n{}\n",
            server.url("/bytes/300/a.bin"),
            server.url("/bytes/400/b.bin?chunked=1")
        )
        .into_boxed_str(),
    );
    let output = run(
        vec![
            s("--json"),
            s("-o"),
            dir.path().display().to_string(),
            s("-i"),
            s("-"),
        ],
        Some(list),
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let (items, summary) = json_lines(&output);
    assert_eq!(items.len(), 2);
    assert_eq!(summary["done"], 2);
    assert_eq!(
        std::fs::read(dir.path().join("b.bin")).expect("b"),
        body(400)
    );
}

/// Lists as Windows editors save them: UTF-8 with a byte-order mark (line 1 failed as
/// "unsupported scheme '\u{feff}http'") and Notepad's "Unicode" (UTF-16LE with a mark).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_with_a_byte_order_mark_are_read() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let utf8 = dir.path().join("utf8.txt");
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(format!("{}\r\n", server.url("/bytes/300/a.bin")).as_bytes());
    std::fs::write(&utf8, bytes).expect("write");
    let utf16 = dir.path().join("utf16.txt");
    let mut bytes = vec![0xff, 0xfe];
    for unit in format!("{}\r\n", server.url("/bytes/400/b.bin")).encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    std::fs::write(&utf16, bytes).expect("write");
    let out = dir.path().join("out");
    let output = run(
        vec![
            s("--json"),
            s("-o"),
            out.display().to_string(),
            s("-i"),
            utf8.display().to_string(),
            s("-i"),
            utf16.display().to_string(),
        ],
        None,
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(std::fs::read(out.join("a.bin")).expect("a"), body(300));
    assert_eq!(std::fs::read(out.join("b.bin")).expect("b"), body(400));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_two() {
    let cases: Vec<Vec<String>> = vec![
        vec![],
        vec![s("--no-such-flag"), s("http://127.0.0.1:9/x")],
        vec![s("--jobs"), s("0"), s("http://127.0.0.1:9/x")],
        vec![s("--connect-timeout"), s("soon"), s("http://127.0.0.1:9/x")],
        vec![s("--stall-timeout"), s("-1"), s("http://127.0.0.1:9/x")],
        vec![s("-i"), s("/no/such/list.txt")],
    ];
    for args in cases {
        let output = run(args.clone(), None).await;
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?}: says why");
    }
    let help = run(vec![s("--help")], None).await;
    assert_eq!(help.status.code(), Some(0));
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--input",
        "--dest",
        "--jobs",
        "--per-host",
        "--connect-timeout",
        "--stall-timeout",
        "--timeout",
        "--overwrite",
        "--no-content-disposition",
        "--json",
        "--quiet",
    ] {
        assert!(text.contains(flag), "--help lists {flag}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decimal_timeouts_and_a_human_table() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let output = run(
        vec![
            s("-q"),
            s("--retries"),
            s("0"),
            s("--stall-timeout"),
            s("0.3"),
            s("-o"),
            dir.path().display().to_string(),
            server.url("/bytes/100000/stuck.bin?stall_after=10"),
            server.url("/bytes/100/fine.bin"),
        ],
        None,
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("timed_out"), "{stdout}");
    assert!(stdout.contains("stall timeout"), "{stdout}");
    assert!(stdout.contains("fine.bin"), "{stdout}");
    assert!(
        stdout.contains("1 done, 0 failed, 1 timed out, 0 cancelled"),
        "{stdout}"
    );
    let names = names_in(dir.path());
    // The stalled item keeps its bytes for a later run (never under its final name).
    assert_eq!(names, ["fine.bin", "stuck.bin.part", "stuck.bin.part.haul"]);
}

/// The names in `dir`, sorted.
pub(crate) fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("dest")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[cfg(unix)]
pub(crate) fn count_parts(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_variables_are_honoured() {
    let proxy = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    // Through the proxy: the host does not even exist; only the proxy can answer.
    let output = run_with_env(
        vec![
            s("--json"),
            s("-o"),
            dir.path().display().to_string(),
            s("http://haul-test.invalid/bytes/700/via-proxy.bin"),
        ],
        None,
        vec![("HTTP_PROXY", proxy.url(""))],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(proxy.proxied(), 1);
    assert_eq!(
        std::fs::read(dir.path().join("via-proxy.bin")).expect("file"),
        body(700)
    );

    // NO_PROXY wins: a dead proxy is bypassed for the listed host.
    let direct = Server::start().await;
    let output = run_with_env(
        vec![
            s("--json"),
            s("-o"),
            dir.path().display().to_string(),
            direct.url("/bytes/5/direct.bin"),
        ],
        None,
        vec![
            ("HTTP_PROXY", s("http://127.0.0.1:9")),
            ("NO_PROXY", s("127.0.0.1")),
        ],
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(direct.requests(), 1);
    assert_eq!(direct.proxied(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checksums_from_the_flag_a_fragment_and_a_sha256sums_file() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let good = hex_sha(&body(1000));
    let bad = "f".repeat(64);

    // --checksum for one source.
    let ok = run(
        vec![
            s("--json"),
            s("-o"),
            out.display().to_string(),
            s("--checksum"),
            format!("sha256:{good}"),
            server.url("/bytes/1000/flag.bin"),
        ],
        None,
    )
    .await;
    assert_eq!(ok.status.code(), Some(0), "{ok:?}");
    let mismatch = run(
        vec![
            s("--json"),
            s("-o"),
            out.display().to_string(),
            s("--checksum"),
            format!("sha256:{bad}"),
            server.url("/bytes/1000/flag2.bin"),
        ],
        None,
    )
    .await;
    assert_eq!(mismatch.status.code(), Some(1));
    let (items, _) = json_lines(&mismatch);
    let error = items[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(&format!("sha256 mismatch: expected {bad}, got {good}")),
        "{error}"
    );
    assert!(!out.join("flag2.bin").exists());
    assert!(
        out.join("flag2.bin.part").exists(),
        "the bytes stay in the .part"
    );

    // --checksum with two sources is a usage error.
    let usage = run(
        vec![
            s("--checksum"),
            format!("sha256:{good}"),
            server.url("/bytes/1/a"),
            server.url("/bytes/1/b"),
        ],
        None,
    )
    .await;
    assert_eq!(usage.status.code(), Some(2));

    // A list with a #sha256= fragment, and a SHA256SUMS file beside it.
    let list = dir.path().join("urls.txt");
    std::fs::write(
        &list,
        format!(
            "{}#sha256={good}\n{}\n{}\n",
            server.url("/bytes/1000/frag.bin"),
            server.url("/bytes/1000/summed.bin"),
            server.url("/bytes/2000/wrong-sum.bin"),
        ),
    )
    .expect("list");
    std::fs::write(
        dir.path().join("SHA256SUMS"),
        format!("{good}  summed.bin\n{bad} *wrong-sum.bin\n"),
    )
    .expect("sums");
    let listed = run(
        vec![
            s("--json"),
            s("-o"),
            out.display().to_string(),
            s("-i"),
            list.display().to_string(),
        ],
        None,
    )
    .await;
    let (items, summary) = json_lines(&listed);
    assert_eq!(summary["done"], 2, "{items:?}");
    assert_eq!(summary["failed"], 1, "{items:?}");
    let failed = items
        .iter()
        .find(|v| v["status"] == "failed")
        .expect("one failed");
    assert!(
        failed["source"]
            .as_str()
            .is_some_and(|s| s.ends_with("wrong-sum.bin")),
        "{failed}"
    );
    assert!(
        failed["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("sha256 mismatch")),
        "{failed}"
    );
    let done_digest = items
        .iter()
        .find(|v| v["source"].as_str().is_some_and(|s| s.contains("frag.bin")))
        .map(|v| v["sha256"].clone());
    assert_eq!(done_digest, Some(Value::String(good.clone())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_and_the_size_limit_from_the_command_line() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let output = run(
        vec![
            s("--json"),
            s("-o"),
            dir.path().display().to_string(),
            s("--retries"),
            s("2"),
            s("--max-size"),
            s("2K"),
            server.url("/bytes/1500/flaky.bin?fail_first=2&fail_status=502"),
            server.url("/bytes/3000/big.bin"),
        ],
        None,
    )
    .await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let (items, _) = json_lines(&output);
    let by_name = |name: &str| {
        items
            .iter()
            .find(|v| v["source"].as_str().is_some_and(|s| s.contains(name)))
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(by_name("flaky.bin")["status"], "done");
    assert_eq!(by_name("big.bin")["status"], "failed");
    assert_eq!(
        by_name("big.bin")["error"],
        "larger than the size limit of 2048 bytes"
    );
    let bad_size = run(vec![s("--max-size"), s("lots"), s("x")], None).await;
    assert_eq!(bad_size.status.code(), Some(2));
}

/// `-s/--split` and `--min-split-size`, with aria2's names: a throttled file arrives over
/// several connections, byte-exact; `-s 1` keeps it to one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn split_flags_fetch_one_file_over_several_connections() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 4 * 1024 * 1024;
    let url = server.url(&format!("/bytes/{n}/s.bin?range=1&etag=s&rate=2097152"));
    let output = run(
        vec![
            s("-s"),
            s("4"),
            s("--min-split-size"),
            s("1M"),
            s("-o"),
            dir.path().display().to_string(),
            url.clone(),
        ],
        None,
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(std::fs::read(dir.path().join("s.bin")).expect("s"), body(n));
    let bounded = |log: &[crate::support::Logged]| {
        log.iter()
            .filter(|r| r.range.as_deref().is_some_and(|r| !r.ends_with('-')))
            .count()
    };
    assert!(
        bounded(&server.request_log()) >= 1,
        "{:?}",
        server.request_log()
    );

    let one = tempfile::tempdir().expect("tempdir");
    let before = server.request_log().len();
    let output = run(
        vec![
            s("-s"),
            s("1"),
            s("-o"),
            one.path().display().to_string(),
            url,
        ],
        None,
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(
        bounded(&server.request_log()[before..]),
        0,
        "one connection"
    );
}
