//! Certificates are always verified: a self-signed HTTPS server on loopback is refused with a
//! clear TLS error, and nothing is written.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use haul_core::protocol::{Event, FetchError, Outcome, Output, Source};
use haul_engine::{Engine, EngineConfig};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_certificate_is_refused_with_a_clear_message() {
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
        .expect("self-signed certificate");
    let key = PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let served = Arc::new(AtomicUsize::new(0));
    let served_by_server = Arc::clone(&served);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let served = Arc::clone(&served_by_server);
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(stream).await {
                    served.fetch_add(1, Ordering::SeqCst);
                    let _ = tls
                        .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret")
                        .await;
                }
            });
        }
    });

    let dest = tempfile::tempdir().expect("tempdir");
    let config = EngineConfig {
        output: Output {
            dest: dest.path().to_path_buf(),
            ..Output::default()
        },
        ..EngineConfig::default()
    };
    let (engine, mut events) =
        Engine::start(&tokio::runtime::Handle::current(), config).expect("engine");
    let source =
        Source::parse(&format!("https://{addr}/secret.bin"), Path::new("/")).expect("valid URL");
    let id = engine.submit(source);
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
    let Outcome::Failed(FetchError::Tls(message)) = &outcome else {
        panic!("expected a TLS failure, got {outcome:?}");
    };
    assert!(message.contains("certificate"), "{message}");
    eprintln!("TLS message: {}", outcome.error_text().unwrap_or_default());
    assert!(
        outcome
            .error_text()
            .is_some_and(|t| t.starts_with("TLS error"))
    );
    assert_eq!(served.load(Ordering::SeqCst), 0, "no request got through");
    assert_eq!(std::fs::read_dir(dest.path()).expect("dest").count(), 0);
}
