//! An HTTPS server on 127.0.0.1 with a certificate no authority signed (self-signed, made
//! fresh by rcgen for `127.0.0.1`), for the certificate tests of the engine, `haul-cli` and
//! the window: it answers every request with the same file, and counts the requests that got
//! through the handshake. It runs on its own thread and runtime, so sync tests (a CLI run, a
//! window) can use it as async ones do.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::Digest as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};

/// A fresh self-signed certificate for `127.0.0.1` and its key.
pub struct Certified {
    /// The certificate as PEM (what `--cacert` reads).
    pub pem: String,
    der: Vec<u8>,
    key: Vec<u8>,
}

impl Certified {
    /// A new one (each call makes another key and certificate).
    pub fn new() -> Certified {
        let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
            .expect("a self-signed certificate");
        Certified {
            pem: made.cert.pem(),
            der: made.cert.der().to_vec(),
            key: made.signing_key.serialize_der(),
        }
    }

    /// A new one marked as an authority (`CA:TRUE`), as `openssl req -x509` makes them: the
    /// server shows an authority's own certificate.
    pub fn authority() -> Certified {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("certificate params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("a self-signed authority");
        Certified {
            pem: cert.pem(),
            der: cert.der().to_vec(),
            key: key.serialize_der(),
        }
    }

    /// Its SHA-256 fingerprint as browsers and openssl show it (`AB:CD:…`).
    pub fn fingerprint(&self) -> String {
        let digest = sha2::Sha256::digest(&self.der);
        digest
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }
}

impl Default for Certified {
    fn default() -> Self {
        Certified::new()
    }
}

/// The running server; stops when dropped.
pub struct TlsServer {
    addr: SocketAddr,
    served: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TlsServer {
    /// Serves `body` to every request, over TLS with `cert`.
    pub fn start(cert: &Certified, body: Vec<u8>) -> TlsServer {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der.clone().into()],
                PrivateKeyDer::Pkcs8(cert.key.clone().into()),
            )
            .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("non-blocking");
        let addr = listener.local_addr().expect("addr");
        let served = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&served);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let body = Arc::new(body);
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let accepting = async {
                    while let Ok((stream, _)) = listener.accept().await {
                        let (acceptor, counted, body) =
                            (acceptor.clone(), Arc::clone(&counted), Arc::clone(&body));
                        tokio::spawn(async move {
                            let Ok(mut tls) = acceptor.accept(stream).await else {
                                return;
                            };
                            // The request head, then the file, then the end of the connection.
                            let mut head = Vec::new();
                            let mut buf = [0u8; 1024];
                            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                                match tls.read(&mut buf).await {
                                    Ok(0) | Err(_) => return,
                                    Ok(n) => head.extend_from_slice(&buf[..n]),
                                }
                            }
                            counted.fetch_add(1, Ordering::SeqCst);
                            let reply = format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                                body.len()
                            );
                            let _ = tls.write_all(reply.as_bytes()).await;
                            let _ = tls.write_all(&body).await;
                            let _ = tls.shutdown().await;
                        });
                    }
                };
                tokio::select! {
                    () = accepting => {}
                    _ = stopped => {}
                }
            });
        });
        TlsServer {
            addr,
            served,
            stop: Some(stop),
        }
    }

    /// `https://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    /// Requests that got through the handshake and were answered.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
