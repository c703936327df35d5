//! Checking a server's certificate, for HTTPS and FTPS alike: the system's authorities first
//! (the platform's verifier, with a `--cacert` file's authorities added), then what a person
//! chose to trust besides ([`Trust`]: `-k`, a fingerprint pinned for the item; [`HostPin`]:
//! one pinned for the host). A certificate nothing vouches for is refused with its SHA-256
//! fingerprint ([`FetchError::Untrusted`]), so a person can compare it and trust exactly it.
//!
//! Owns: the verifier, the TLS client configuration built on it, and finding a refusal again
//! (in reqwest's error chain, or — for FTPS, whose library keeps only text — on the
//! verifier). Must not touch: connections, the disk.

use std::error::Error as StdError;
use std::sync::{Arc, Mutex, PoisonError};

use rustls::SignatureScheme;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error as TlsError, OtherError};
use sha2::Digest as _;

use crate::protocol::{FetchError, Fingerprint, HostPin, Trust};

/// A certificate nothing trusted vouches for: travels inside rustls' error and is found again
/// by type ([`untrusted`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{reason}; its SHA-256 fingerprint is {fingerprint}")]
pub(crate) struct Refused {
    host: String,
    fingerprint: Fingerprint,
    reason: String,
}

impl Refused {
    fn into_error(self) -> FetchError {
        FetchError::Untrusted {
            host: self.host,
            fingerprint: self.fingerprint,
            reason: self.reason,
        }
    }
}

/// The system's verifier and what a person trusts besides.
#[derive(Debug)]
pub(crate) struct Verifier {
    system: rustls_platform_verifier::Verifier,
    provider: Arc<CryptoProvider>,
    insecure: bool,
    pinned: Vec<Fingerprint>,
    hosts: Vec<HostPin>,
    /// The certificates of a `--cacert` file: one the server itself shows is trusted for its
    /// names, as curl and aria2 trust it (the system's verifier refuses an authority's own
    /// certificate shown as the server's: `openssl req -x509` makes them so).
    authorities: Vec<CertificateDer<'static>>,
    /// The last certificate refused (FTPS reads it: its library keeps only the error's text).
    refused: Mutex<Option<Refused>>,
}

impl Verifier {
    /// For an item's `trust` and the hosts' pins. Errors: a `--cacert` file that cannot be
    /// read or holds no certificate, naming it.
    pub(crate) fn new(trust: &Trust, hosts: &[HostPin]) -> Result<Arc<Verifier>, FetchError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let provider = CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        let extra = match &trust.ca_file {
            Some(path) => authorities(path)?,
            None => Vec::new(),
        };
        let system = if extra.is_empty() {
            rustls_platform_verifier::Verifier::new(Arc::clone(&provider))
        } else {
            rustls_platform_verifier::Verifier::new_with_extra_roots(
                extra.clone(),
                Arc::clone(&provider),
            )
        }
        .map_err(|e| FetchError::Tls(format!("cannot load the trusted authorities: {e}")))?;
        Ok(Arc::new(Verifier {
            system,
            provider,
            insecure: trust.insecure,
            pinned: trust.pinned.clone(),
            hosts: hosts.to_vec(),
            authorities: extra,
            refused: Mutex::new(None),
        }))
    }

    /// The last certificate this verifier refused, as the item's error.
    pub(crate) fn refused(&self) -> Option<FetchError> {
        self.refused
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .map(Refused::into_error)
    }

    /// A TLS client configuration on this verifier (no ALPN: HTTP adds its own). Errors:
    /// the crypto provider offers no safe protocol version (not with ring).
    pub(crate) fn config(self: &Arc<Self>) -> Result<rustls::ClientConfig, FetchError> {
        Ok(
            rustls::ClientConfig::builder_with_provider(Arc::clone(&self.provider))
                .with_safe_default_protocol_versions()
                .map_err(|e| FetchError::Tls(e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::clone(self) as Arc<dyn ServerCertVerifier>)
                .with_no_client_auth(),
        )
    }

    /// The server shows a certificate of the `--cacert` file itself, for its name.
    fn given_as_authority(&self, end_entity: &CertificateDer<'_>, name: &ServerName<'_>) -> bool {
        self.authorities
            .iter()
            .any(|ca| ca.as_ref() == end_entity.as_ref())
            && rustls::server::ParsedCertificate::try_from(end_entity)
                .and_then(|cert| rustls::client::verify_server_name(&cert, name))
                .is_ok()
    }

    fn pinned(&self, host: &str, fingerprint: &Fingerprint) -> bool {
        self.pinned.contains(fingerprint)
            || self
                .hosts
                .iter()
                .any(|pin| pin.fingerprint == *fingerprint && pin.host.eq_ignore_ascii_case(host))
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        if self.insecure {
            return Ok(ServerCertVerified::assertion());
        }
        let error = match self.system.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(error) => error,
        };
        let fingerprint = Fingerprint(sha2::Sha256::digest(end_entity.as_ref()).into());
        let host = host_of(server_name);
        if self.pinned(&host, &fingerprint) || self.given_as_authority(end_entity, server_name) {
            return Ok(ServerCertVerified::assertion());
        }
        let refused = Refused {
            host,
            fingerprint,
            reason: reason(&error),
        };
        *self.refused.lock().unwrap_or_else(PoisonError::into_inner) = Some(refused.clone());
        Err(TlsError::InvalidCertificate(CertificateError::Other(
            OtherError(Arc::new(refused)),
        )))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The certificates of a PEM file. Errors: it cannot be read, or holds none.
fn authorities(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, FetchError> {
    let bad = |message: String| FetchError::Read {
        path: path.to_path_buf(),
        message,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a PEM certificate file ({e})")))?;
    if certs.is_empty() {
        return Err(bad("holds no PEM certificate".to_owned()));
    }
    Ok(certs)
}

/// The host a certificate was asked for, as a URL names it.
fn host_of(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

/// Why the system's verifier refused, for a person.
fn reason(error: &TlsError) -> String {
    let TlsError::InvalidCertificate(problem) = error else {
        return error.to_string();
    };
    match problem {
        CertificateError::UnknownIssuer => {
            "no trusted authority signed it: self-signed, or a private authority".to_owned()
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "it was issued for another host name".to_owned()
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            "it has expired".to_owned()
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            "it is not valid yet".to_owned()
        }
        CertificateError::Revoked => "its authority revoked it".to_owned(),
        // webpki's CaUsedAsEndEntity: an authority's own certificate shown by the server, as
        // `openssl req -x509` makes them.
        CertificateError::Other(other) if format!("{other:?}").contains("CaUsedAsEndEntity") => {
            "it is self-signed (an authority's own certificate, shown by the server)".to_owned()
        }
        other => format!("no trusted authority vouches for it ({other:?})"),
    }
}

/// A refused certificate, when `e` is rustls' error carrying one (the HTTP layer walks its
/// error chain with this).
pub(crate) fn untrusted(e: &(dyn StdError + 'static)) -> Option<FetchError> {
    let TlsError::InvalidCertificate(CertificateError::Other(other)) = e.downcast_ref()? else {
        return None;
    };
    let refused = other.0.downcast_ref::<Refused>()?;
    Some(refused.clone().into_error())
}
