//! Certificates, against a real HTTPS server with a self-signed certificate
//! (`haul_testkit::tls`): refused by default, with a sentence naming the certificate's SHA-256
//! fingerprint, and nothing written; accepted with its authority given (`--cacert`), with any
//! certificate accepted (`-k`), with its fingerprint pinned for the item or for the host; and a
//! pin trusts exactly its certificate: another one at the same address is refused.

use std::path::Path;
use std::time::Duration;

use haul_core::protocol::{
    Event, FetchError, Fingerprint, HostPin, ItemOptions, Outcome, Output, Source, Trust,
};
use haul_engine::{Engine, EngineConfig};
use haul_testkit::tls::{Certified, TlsServer};

const BODY: &[u8] = b"secret";

/// Fetches `url` with `trust` on an engine trusting `host_pins`; the outcome and what the
/// destination holds.
async fn fetch(url: &str, trust: Trust, host_pins: Vec<HostPin>) -> (Outcome, Vec<String>) {
    let dest = tempfile::tempdir().expect("tempdir");
    let config = EngineConfig {
        output: Output {
            dest: dest.path().to_path_buf(),
            ..Output::default()
        },
        host_pins,
        ..EngineConfig::default()
    };
    let (engine, mut events) =
        Engine::start(&tokio::runtime::Handle::current(), config).expect("engine");
    let source = Source::parse(url, Path::new("/")).expect("valid URL");
    let options = ItemOptions {
        trust,
        ..ItemOptions::default()
    };
    let id = engine.handle().submit_with(source, None, None, options);
    let outcome = loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .expect("finished in time")
            .expect("engine alive");
        if let Event::Finished {
            id: done, outcome, ..
        } = event
            && done == id
        {
            break outcome;
        }
    };
    let mut files: Vec<String> = std::fs::read_dir(dest.path())
        .expect("dest")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    if files == ["secret.bin"] {
        assert_eq!(
            std::fs::read(dest.path().join("secret.bin"))
                .ok()
                .as_deref(),
            Some(BODY)
        );
    }
    (outcome, files)
}

fn pinned(cert: &Certified) -> Trust {
    Trust {
        pinned: vec![Fingerprint::parse(&cert.fingerprint()).expect("fingerprint")],
        ..Trust::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_certificate_is_refused_naming_its_fingerprint() {
    let cert = Certified::new();
    let server = TlsServer::start(&cert, BODY.to_vec());
    let (outcome, files) = fetch(&server.url("/secret.bin"), Trust::default(), vec![]).await;
    let Outcome::Failed(FetchError::Untrusted {
        host, fingerprint, ..
    }) = &outcome
    else {
        panic!("expected an untrusted certificate, got {outcome:?}");
    };
    assert_eq!(host, "127.0.0.1");
    assert_eq!(fingerprint.to_string(), cert.fingerprint());
    let text = outcome.error_text().unwrap_or_default();
    eprintln!("refused: {text}");
    assert!(text.starts_with("TLS error"), "{text}");
    assert!(text.contains(&cert.fingerprint()), "{text}");
    assert!(text.contains("self-signed"), "{text}");
    assert_eq!(server.served(), 0, "no request got through");
    assert!(files.is_empty(), "{files:?}");
}

/// A certificate as `openssl req -x509` makes it (marked as an authority) read as rustls'
/// "Other(OtherError(CaUsedAsEndEntity))"; it says self-signed, and its fingerprint lets it in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openssl_style_certificate_reads_as_self_signed() {
    let cert = Certified::authority();
    let server = TlsServer::start(&cert, BODY.to_vec());
    let (outcome, _) = fetch(&server.url("/secret.bin"), Trust::default(), vec![]).await;
    let Outcome::Failed(FetchError::Untrusted { reason, .. }) = &outcome else {
        panic!("expected an untrusted certificate, got {outcome:?}");
    };
    // Windows' chain engine (the system's verifier there) reports an untrusted root without
    // saying the certificate is its own: the reason names both.
    let expected = if cfg!(windows) {
        "no trusted authority signed it: self-signed, or a private authority"
    } else {
        "it is self-signed"
    };
    assert!(reason.starts_with(expected), "{reason}");
    let (outcome, files) = fetch(&server.url("/secret.bin"), pinned(&cert), vec![]).await;
    assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
    assert_eq!(files, ["secret.bin"]);
}

/// The same certificate given with `--cacert` lets it in, as curl's and aria2's do (the
/// system's verifier refused it: an authority's certificate shown as the server's own).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openssl_style_certificate_given_as_its_authority_lets_it_in() {
    let cert = Certified::authority();
    let server = TlsServer::start(&cert, BODY.to_vec());
    let ca = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(ca.path(), &cert.pem).expect("write the PEM");
    let cacert = Trust {
        ca_file: Some(ca.path().to_path_buf()),
        ..Trust::default()
    };
    let (outcome, files) = fetch(&server.url("/secret.bin"), cacert, vec![]).await;
    assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
    assert_eq!(files, ["secret.bin"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn its_authority_any_certificate_or_its_fingerprint_lets_it_in() {
    let cert = Certified::new();
    let server = TlsServer::start(&cert, BODY.to_vec());
    let url = server.url("/secret.bin");
    let ca = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(ca.path(), &cert.pem).expect("write the PEM");

    let cacert = Trust {
        ca_file: Some(ca.path().to_path_buf()),
        ..Trust::default()
    };
    let insecure = Trust {
        insecure: true,
        ..Trust::default()
    };
    for (what, trust) in [
        ("--cacert", cacert),
        ("-k", insecure),
        ("pinned", pinned(&cert)),
    ] {
        let (outcome, files) = fetch(&url, trust, vec![]).await;
        assert!(
            matches!(outcome, Outcome::Done { .. }),
            "{what}: {outcome:?}"
        );
        assert_eq!(files, ["secret.bin"], "{what}");
    }
    let host_pin = HostPin {
        host: "127.0.0.1".to_owned(),
        fingerprint: Fingerprint::parse(&cert.fingerprint()).expect("fingerprint"),
    };
    let (outcome, _) = fetch(&url, Trust::default(), vec![host_pin.clone()]).await;
    assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
    let elsewhere = HostPin {
        host: "localhost".to_owned(),
        ..host_pin
    };
    let (outcome, _) = fetch(&url, Trust::default(), vec![elsewhere]).await;
    assert!(
        matches!(outcome, Outcome::Failed(FetchError::Untrusted { .. })),
        "a pin for another host: {outcome:?}"
    );
    assert_eq!(server.served(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pin_trusts_its_certificate_only() {
    let trusted = Certified::new();
    let other = Certified::new();
    let server = TlsServer::start(&other, BODY.to_vec());
    let (outcome, files) = fetch(&server.url("/secret.bin"), pinned(&trusted), vec![]).await;
    let Outcome::Failed(FetchError::Untrusted { fingerprint, .. }) = &outcome else {
        panic!("expected the other certificate refused, got {outcome:?}");
    };
    assert_eq!(fingerprint.to_string(), other.fingerprint());
    assert_eq!(server.served(), 0);
    assert!(files.is_empty());

    let ca = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(ca.path(), "not a certificate").expect("write");
    let bad_ca = Trust {
        ca_file: Some(ca.path().to_path_buf()),
        ..Trust::default()
    };
    let (outcome, _) = fetch(&server.url("/secret.bin"), bad_ca, vec![]).await;
    let text = outcome.error_text().unwrap_or_default();
    assert!(
        text.contains(&ca.path().display().to_string()) && text.contains("PEM"),
        "a --cacert file without a certificate is named: {text}"
    );
}
