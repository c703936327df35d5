//! Certificates as curl's and aria2's users give them, against a real HTTPS server with a
//! self-signed certificate (`haul_testkit::tls`): refused by default with a sentence naming the
//! fingerprint and the ways to trust it; accepted with `--cacert` (aria2: `--ca-certificate`),
//! `-k` (aria2: `--check-certificate=false`) and `--trust-certificate FINGERPRINT`; a pinned
//! fingerprint lets in only its certificate.

use crate::cli::{json_lines, run};
use crate::support::tls::{Certified, TlsServer};

fn s(text: &str) -> String {
    text.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_server_is_refused_then_trusted_as_curl_and_aria2_say() {
    let cert = Certified::new();
    let server = TlsServer::start(&cert, b"private".to_vec());
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("server.pem");
    std::fs::write(&ca, &cert.pem).expect("write the PEM");
    let fingerprint = cert.fingerprint();
    let args = |name: &str, flags: &[&str]| {
        let mut args = vec![
            s("--json"),
            s("-o"),
            dir.path().join(name).display().to_string(),
        ];
        args.extend(flags.iter().map(|f| s(f)));
        args.push(server.url("/p.bin"));
        args
    };

    let refused = run(args("refused", &[]), None).await;
    let (items, _) = json_lines(&refused);
    assert_eq!(items[0]["status"], "failed", "{items:?}");
    let error = items[0]["error"].as_str().unwrap_or_default();
    eprintln!("refused: {error}");
    assert!(error.contains(&fingerprint), "{error}");
    assert!(error.contains("--trust-certificate"), "{error}");
    assert!(error.contains("--cacert"), "{error}");
    assert!(!dir.path().join("refused/p.bin").exists());
    assert_eq!(server.served(), 0);

    let cacert = ca.display().to_string();
    for (name, flags) in [
        ("cacert", vec!["--cacert", cacert.as_str()]),
        ("ca-certificate", vec!["--ca-certificate", cacert.as_str()]),
        ("k", vec!["-k"]),
        ("insecure", vec!["--insecure"]),
        ("check-certificate", vec!["--check-certificate=false"]),
        ("pinned", vec!["--trust-certificate", fingerprint.as_str()]),
    ] {
        let output = run(args(name, &flags), None).await;
        let (items, _) = json_lines(&output);
        assert_eq!(items[0]["status"], "done", "{flags:?}: {items:?}");
        assert_eq!(
            std::fs::read(dir.path().join(name).join("p.bin")).ok(),
            Some(b"private".to_vec()),
            "{flags:?}"
        );
    }

    // The same fingerprint, another certificate at the same address: refused.
    let other = TlsServer::start(&Certified::new(), b"other".to_vec());
    let output = run(
        vec![
            s("--json"),
            s("-o"),
            dir.path().join("other").display().to_string(),
            s("--trust-certificate"),
            fingerprint.clone(),
            other.url("/p.bin"),
        ],
        None,
    )
    .await;
    let (items, _) = json_lines(&output);
    assert_eq!(items[0]["status"], "failed", "{items:?}");
    assert!(
        !items[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains(&fingerprint),
        "the refusal names the certificate shown, not the pinned one: {items:?}"
    );
    assert_eq!(other.served(), 0);

    // A --cacert file that is not there is a usage error before anything starts.
    let missing = run(args("missing", &["--cacert", "/nonexistent/ca.pem"]), None).await;
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(stderr.contains("--cacert"), "{stderr}");
}
