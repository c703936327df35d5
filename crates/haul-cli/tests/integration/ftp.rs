//! FTP and FTPS against a real server the tests start: pyftpdlib (PyPI; pyOpenSSL for FTPS),
//! in the venv of `HAUL_PYTHON` beside aria2p (`.ci/run` installs them and sets it; without
//! it these tests are skipped, and fail under `HAUL_REQUIRE_ARIA2P=1`). Through the engine,
//! `haul-cli`, its RPC and the window: byte-exact files, a kill -9 resumed with `REST` for the
//! missing bytes only, a wrong password, a missing file, a directory, TLS, a Chinese name.

use std::path::{Path, PathBuf};

use std::time::{Duration, Instant};

use haul_core::protocol::{FetchError, Outcome};
use serde_json::json;

#[cfg(unix)]
use crate::cli::run_then_kill;
use crate::cli::{json_lines, run, run_with_env, s};
use crate::support::body_gen;
use crate::support::harness::{Harness, assert_done_with, limits};
use haul_testkit::ftp::Ftp;
use haul_testkit::tools::free_port;

/// 报告.txt in 子目录, percent-encoded as a browser writes it.
const CHINESE: &str = "%E5%AD%90%E7%9B%AE%E5%BD%95/%E6%8A%A5%E5%91%8A.txt";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftp_files_arrive_byte_exact_with_a_password_anonymously_and_with_a_chinese_name() {
    let Some(ftp) = Ftp::start(None, 0) else {
        return;
    };
    let big = body_gen(3_000_000, 7);
    let text = "你好，世界".as_bytes();
    ftp.put("big.bin", &big);
    ftp.put("子目录/报告.txt", text);
    let mut h = Harness::new(limits());
    let a = h.submit(&ftp.url("ftp", "haul:s3cret@", "big.bin"));
    let b = h.submit(&ftp.url("ftp", "", CHINESE));
    let done = h.finish(&[a, b]).await;
    let path = assert_done_with(&done[&a], &big);
    assert_eq!(path, h.out.join("big.bin"));
    let path = assert_done_with(&done[&b], text);
    assert_eq!(path, h.out.join("报告.txt"));
    assert_eq!(h.listing(), ["big.bin", "报告.txt"]);
    assert!(
        ftp.log().contains("[anonymous]"),
        "the second logged in anonymously"
    );
}

/// A server without `EPSV` is asked with `PASV` instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_epsv_is_asked_with_pasv() {
    let Some(ftp) = Ftp::start_with(None, 0, false) else {
        return;
    };
    let file = body_gen(200_000, 8);
    ftp.put("p.bin", &file);
    let mut h = Harness::new(limits());
    let id = h.submit(&ftp.url("ftp", "", "p.bin"));
    let done = h.finish_one(id).await;
    assert_done_with(&done, &file);
    let log = ftp.log();
    assert!(log.contains("<- EPSV") && log.contains("<- PASV"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_a_missing_file_and_a_directory_each_say_so_and_write_nothing() {
    let Some(ftp) = Ftp::start(None, 0) else {
        return;
    };
    ftp.put("a.bin", b"abc");
    let mut h = Harness::new(limits());
    let wrong = h.submit(&ftp.url("ftp", "haul:nope@", "a.bin"));
    let missing = h.submit(&ftp.url("ftp", "", "nope.bin"));
    let dir = h.submit(&ftp.url("ftp", "", "%E5%AD%90%E7%9B%AE%E5%BD%95"));
    let dir_slash = h.submit(&ftp.url("ftp", "", "%E5%AD%90%E7%9B%AE%E5%BD%95/"));
    let done = h.finish(&[wrong, missing, dir, dir_slash]).await;
    let text = |id| done[&id].outcome.error_text().unwrap_or_default();
    assert!(
        matches!(&done[&wrong].outcome, Outcome::Failed(FetchError::FtpLogin { user, code: 530, .. }) if user == "haul"),
        "{:?}",
        done[&wrong].outcome
    );
    assert!(
        text(wrong).starts_with("the FTP server refused the login as 'haul': 530"),
        "{}",
        text(wrong)
    );
    assert!(!text(wrong).contains("nope"), "the password is never shown");
    assert!(
        text(missing).starts_with("the FTP server has no such file: 550"),
        "{}",
        text(missing)
    );
    for id in [dir, dir_slash] {
        assert!(
            text(id).contains("a directory on the FTP server"),
            "{}",
            text(id)
        );
    }
    assert!(h.listing().is_empty(), "{:?}", h.listing());
}

/// `haul-cli` killed with SIGKILL mid-transfer keeps its `.part`; the same command later
/// asks with `REST` for the missing bytes only, and the file is byte-exact. The first run is
/// held to 300 KiB/s (`--limit-rate`) so the kill comes after its first checkpoints.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_transfer_the_same_command_resumes_with_rest_for_the_missing_bytes_only() {
    let Some(ftp) = Ftp::start(None, 0) else {
        return;
    };
    let file = body_gen(2_000_000, 3);
    ftp.put("k.bin", &file);
    let dir = tempfile::tempdir().expect("tempdir");
    let args = vec![
        s("--json"),
        s("-o"),
        dir.path().display().to_string(),
        s("-u"),
        s("haul:s3cret"),
        ftp.url("ftp", "", "k.bin"),
    ];
    let part = dir.path().join("k.bin.part");
    let watched = part.clone();
    // Killed once bytes flow and a checkpoint (once a second) has passed.
    let flowing = move || std::fs::metadata(&watched).is_ok_and(|m| m.len() >= 400_000);
    let mut slow = args.clone();
    slow.extend([s("--limit-rate"), s("300K")]);
    run_then_kill(slow, flowing, Duration::from_millis(1500)).await;
    assert!(part.exists(), "the .part is kept after the kill");

    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let (items, _) = json_lines(&output);
    assert_eq!(items[0]["status"], "done", "{items:?}");
    assert!(std::fs::read(dir.path().join("k.bin")).expect("file") == file);
    assert!(!part.exists());
    let log = ftp.log();
    let rest: u64 = log
        .lines()
        .find_map(|l| l.split("<- REST ").nth(1)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no REST in the server's log:\n{log}"));
    assert!(rest > 0 && rest < 2_000_000, "REST {rest}");
    let sent = ftp.sent();
    assert_eq!(
        sent.last().copied(),
        Some(2_000_000 - rest),
        "the second RETR sent only the missing bytes: {sent:?}"
    );
}

/// A server that takes the connection but never greets runs into the connect timeout, and
/// the item is tried again as an HTTP one would be (no FTP server needed: a silent listener).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_greets_times_out_and_is_retried() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let mut h = Harness::new(haul_core::protocol::Limits {
        connect_timeout: Duration::from_millis(500),
        retries: 1,
        retry_base: Duration::from_millis(50),
        ..limits()
    });
    let id = h.submit(&format!("ftp://127.0.0.1:{port}/x.bin"));
    let done = h.finish_one(id).await;
    assert_eq!(
        done.outcome,
        Outcome::TimedOut(haul_core::protocol::TimeoutKind::Connect)
    );
    let retried = h
        .log
        .iter()
        .filter(|e| matches!(e, haul_core::protocol::Event::Retrying { .. }))
        .count();
    assert_eq!(retried, 1);
    assert!(h.listing().is_empty());
    drop(silent);
}

/// `--limit-rate` holds for FTP as for HTTP: 300,000 bytes at 100 KiB/s take well over two
/// seconds (the server sends as fast as it can).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_speed_limit_holds_for_ftp() {
    let Some(ftp) = Ftp::start(None, 0) else {
        return;
    };
    let file = body_gen(300_000, 6);
    ftp.put("l.bin", &file);
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let output = run(
        vec![
            s("--json"),
            s("--limit-rate"),
            s("100K"),
            s("-o"),
            dir.path().display().to_string(),
            ftp.url("ftp", "", "l.bin"),
        ],
        None,
    )
    .await;
    let took = started.elapsed();
    let (items, _) = json_lines(&output);
    assert_eq!(items[0]["status"], "done", "{items:?}");
    assert!(std::fs::read(dir.path().join("l.bin")).expect("file") == file);
    assert!(took >= Duration::from_millis(2000), "took {took:?}");
}

/// A kept `.part` is resumed only while the file on the server is the one it was kept of:
/// once the file changed (its size and date), the whole new file is fetched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_changed_on_the_server_is_fetched_whole_not_appended_to() {
    let Some(ftp) = Ftp::start(None, 300_000) else {
        return;
    };
    let old = body_gen(1_500_000, 1);
    ftp.put("c.bin", &old);
    let root = tempfile::tempdir().expect("tempdir");
    let out = root.path().join("out");
    let url = ftp.url("ftp", "", "c.bin");
    {
        let mut h = Harness::at(out.clone(), limits());
        let id = h.submit(&url);
        h.wait_for(
            id,
            |e| matches!(e, haul_core::protocol::Event::Progress { done, .. } if *done > 400_000),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(1200)).await; // past a checkpoint
        h.engine.handle().pause(id);
        let paused = h.finish_one(id).await;
        assert_eq!(paused.outcome, Outcome::Paused);
    }
    let new = body_gen(1_200_000, 2);
    ftp.put("c.bin", &new);
    let mut h = Harness::at(out.clone(), limits());
    let id = h.submit(&url);
    let done = h.finish_one(id).await;
    assert_done_with(&done, &new);
    assert!(
        !ftp.log().contains("<- REST"),
        "nothing was resumed:\n{}",
        ftp.log()
    );
}

/// FTPS (explicit, AUTH TLS): a certificate from a CA the system trusts (`SSL_CERT_FILE`, read
/// by the same verifier as HTTPS) carries the file; the same server is refused, with a TLS
/// error naming the certificate's fingerprint and nothing written, when its CA is not trusted;
/// then `--trust-certificate` with that fingerprint, or `--cacert` with its CA, lets it in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ftps_downloads_under_a_trusted_ca_and_is_refused_under_an_unknown_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, pem) = certificates(dir.path());
    let Some(ftp) = Ftp::start(Some(&pem), 0) else {
        return;
    };
    let file = body_gen(500_000, 9);
    ftp.put("s.bin", &file);
    let out = dir.path().join("out");
    let args = |name: &str| {
        vec![
            s("--json"),
            s("--retries"),
            s("0"),
            s("-o"),
            out.join(name).display().to_string(),
            ftp.url("ftps", "haul:s3cret@", "s.bin"),
        ]
    };
    let trusted = run_with_env(
        args("trusted"),
        None,
        vec![("SSL_CERT_FILE", ca.display().to_string())],
    )
    .await;
    let (items, _) = json_lines(&trusted);
    assert_eq!(items[0]["status"], "done", "{items:?}");
    assert!(std::fs::read(out.join("trusted/s.bin")).expect("file") == file);
    assert!(ftp.log().contains("AUTH TLS"), "{}", ftp.log());

    let (other, _) = certificates(&dir.path().join("other"));
    let refused = run_with_env(
        args("refused"),
        None,
        vec![("SSL_CERT_FILE", other.display().to_string())],
    )
    .await;
    let (items, _) = json_lines(&refused);
    assert_eq!(items[0]["status"], "failed", "{items:?}");
    let error = items[0]["error"].as_str().unwrap_or_default();
    assert!(error.starts_with("TLS error:"), "{error}");
    assert!(!out.join("refused").join("s.bin").exists());

    // As for HTTPS: the refusal names the certificate's fingerprint, and --cacert or that
    // fingerprint lets the same server in.
    let fingerprint = error
        .split("--trust-certificate ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("the refusal names a fingerprint: {error}"))
        .to_owned();
    let pinned = run_with_env(
        [vec![s("--trust-certificate"), fingerprint], args("pinned")].concat(),
        None,
        vec![("SSL_CERT_FILE", other.display().to_string())],
    )
    .await;
    let (items, _) = json_lines(&pinned);
    assert_eq!(items[0]["status"], "done", "{items:?}");
    let cacert = run_with_env(
        [
            vec![s("--cacert"), ca.display().to_string()],
            args("cacert"),
        ]
        .concat(),
        None,
        vec![("SSL_CERT_FILE", other.display().to_string())],
    )
    .await;
    let (items, _) = json_lines(&cacert);
    assert_eq!(items[0]["status"], "done", "{items:?}");
    assert!(std::fs::read(out.join("cacert/s.bin")).expect("file") == file);
}

/// A CA and a certificate for 127.0.0.1 signed by it, in `dir`: the CA's PEM, and the
/// server's PEM (certificate and key).
fn certificates(dir: &Path) -> (PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    std::fs::create_dir_all(dir).expect("dir");
    let ca_key = KeyPair::generate().expect("key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("CA");
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("certificate");
    let (ca_pem, server_pem) = (dir.join("ca.pem"), dir.join("server.pem"));
    std::fs::write(&ca_pem, ca.pem()).expect("write");
    std::fs::write(
        &server_pem,
        format!("{}{}", leaf.pem(), key.serialize_pem()),
    )
    .expect("write");
    (ca_pem, server_pem)
}

/// `-u` and `.netrc` give the login when the URL has none; a proxy that cannot carry FTP
/// says so instead of being gone around.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn netrc_gives_the_login_and_an_http_proxy_says_it_cannot_carry_ftp() {
    let Some(ftp) = Ftp::start(None, 0) else {
        return;
    };
    ftp.put("n.bin", b"netrc");
    let dir = tempfile::tempdir().expect("tempdir");
    let netrc = dir.path().join("netrc");
    std::fs::write(&netrc, "machine 127.0.0.1 login haul password s3cret\n").expect("netrc");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&netrc, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    let out = dir.path().join("out");
    let output = run(
        vec![
            s("--json"),
            s("-o"),
            out.display().to_string(),
            s("--netrc-file"),
            netrc.display().to_string(),
            ftp.url("ftp", "", "n.bin"),
        ],
        None,
    )
    .await;
    let (items, _) = json_lines(&output);
    assert_eq!(items[0]["status"], "done", "{items:?}");
    assert!(
        ftp.log().contains("[haul] USER 'haul' logged in"),
        "{}",
        ftp.log()
    );

    let output = run(
        vec![
            s("--json"),
            s("-o"),
            out.join("proxied").display().to_string(),
            s("-x"),
            format!("http://127.0.0.1:{}", free_port()),
            ftp.url("ftp", "", "n.bin"),
        ],
        None,
    )
    .await;
    let (items, _) = json_lines(&output);
    let error = items[0]["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("the proxy cannot carry this protocol"),
        "{error}"
    );
    assert!(!out.join("proxied").join("n.bin").exists());
}

/// aria2's `addUri` with an `ftp://` URI, through the headless RPC.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rpc_adds_an_ftp_uri_and_reports_it_complete() {
    use crate::rpc::{SECRET, post, start};
    use haul_testkit::tools::call;
    let Some(ftp) = Ftp::start(None, 0) else {
        return;
    };
    let file = body_gen(100_000, 4);
    ftp.put("r.bin", &file);
    let dir = tempfile::tempdir().expect("tempdir");
    let rpc = start(dir.path()).await;
    let token = format!("token:{SECRET}");
    let url = ftp.url("ftp", "", "r.bin");
    let (_, reply) = post(rpc.port, call("aria2.addUri", json!([token, [url]])), &[]).await;
    let gid = reply["result"]
        .as_str()
        .unwrap_or_else(|| panic!("{reply}"))
        .to_owned();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, status) = post(rpc.port, call("aria2.tellStatus", json!([token, gid])), &[]).await;
        if status["result"]["status"] == "complete" {
            assert_eq!(status["result"]["totalLength"], "100000", "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "not complete: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(std::fs::read(dir.path().join("r.bin")).expect("file") == file);
}
