//! An FTP control connection, ready to transfer: connected within the connect timeout,
//! secured with `AUTH TLS` for `ftps` (RFC 4217; certificates checked by `fetch::trust`, as
//! for HTTPS), logged in, in binary mode, passive (`EPSV`, RFC 2428, then `PASV`), and the
//! server's failures as stop reasons.
//!
//! Owns: talking to the server up to the transfer. Must not touch: the disk, events.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use suppaftp::FtpError;
use suppaftp::Mode;
use suppaftp::tokio::{AsyncRustlsConnector, AsyncRustlsFtpStream};
use suppaftp::types::FileType;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::fetch::Stop;
use crate::fetch::trust::Verifier;
use crate::protocol::{ConnectProblem, Credentials, FetchError, HostPin, TimeoutKind, Trust};

/// The user an FTP URL with no user logs in as (RFC 1635), and its password.
const ANONYMOUS: (&str, &str) = ("anonymous", "haul@");

/// A logged-in control connection.
pub(super) type Session = AsyncRustlsFtpStream;

/// Runs one step against the server: stopped by `stop`, timed out after `limit` (as
/// `kind`), its error turned into a stop reason.
pub(super) async fn step<T>(
    limit: Duration,
    kind: TimeoutKind,
    stop: &CancellationToken,
    work: impl Future<Output = Result<T, FtpError>>,
) -> Result<T, Stop> {
    tokio::select! {
        biased;
        () = stop.cancelled() => Err(Stop::Stopped),
        done = tokio::time::timeout(limit, work) => match done {
            Err(_) => Err(Stop::TimedOut(kind)),
            Ok(result) => result.map_err(|e| stop_of(&e)),
        },
    }
}

/// Who logs in: the URL's `user:password@` (percent-decoded, RFC 1738 §3.2.2), else the
/// item's credentials (`-u`, `.netrc`), else anonymous.
pub(super) fn login_of(url: &Url, given: Option<&Credentials>) -> (String, String) {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    if !url.username().is_empty() {
        return (
            decode(url.username()),
            url.password().map(decode).unwrap_or_default(),
        );
    }
    match given {
        Some(c) => (c.user.clone(), c.password.clone()),
        None => (ANONYMOUS.0.to_owned(), ANONYMOUS.1.to_owned()),
    }
}

/// Connects to the URL's server and logs in, ready for a binary passive transfer; with `tls`
/// (the item's trust and the hosts' pins), over explicit TLS.
pub(super) async fn open(
    url: &Url,
    tls: Option<(&Trust, &[HostPin])>,
    port: u16,
    credentials: Option<&Credentials>,
    (connect, stall): (Duration, Duration),
    stop: &CancellationToken,
) -> Result<Session, Stop> {
    let host = url.host_str().unwrap_or_default().to_owned();
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let addr: SocketAddr = step(connect, TimeoutKind::Connect, stop, async {
        tokio::net::lookup_host((bare.as_str(), port))
            .await
            .map_err(FtpError::ConnectionError)?
            .next()
            .ok_or_else(|| {
                FtpError::ConnectionError(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "dns error: no address for the host",
                ))
            })
    })
    .await
    .map_err(|reason| match reason {
        Stop::Failed(FetchError::Connect { detail, .. }) => Stop::Failed(FetchError::Connect {
            problem: ConnectProblem::NameNotResolved,
            detail,
        }),
        other => other,
    })?;
    // The greeting comes within the connect timeout too.
    let mut session = step(
        connect,
        TimeoutKind::Connect,
        stop,
        Session::connect_timeout(addr, connect),
    )
    .await?;
    if let Some((trust, hosts)) = tls {
        let verifier = Verifier::new(trust, hosts).map_err(Stop::Failed)?;
        let connector = tls_connector(&verifier)?;
        session = step(
            stall,
            TimeoutKind::Stall,
            stop,
            session.into_secure(connector, &bare),
        )
        .await
        // suppaftp keeps only the TLS error's text: the verifier says what it refused.
        .map_err(|reason| match (reason, verifier.refused()) {
            (Stop::Failed(FetchError::Tls(_)), Some(untrusted)) => Stop::Failed(untrusted),
            (reason, _) => reason,
        })?;
    }
    let (user, password) = login_of(url, credentials);
    step(
        stall,
        TimeoutKind::Stall,
        stop,
        session.login(&user, &password),
    )
    .await
    .map_err(|reason| match reason {
        Stop::Failed(FetchError::FtpReply { code, text }) if code == 530 || code == 332 => {
            Stop::Failed(FetchError::FtpLogin { user, code, text })
        }
        other => other,
    })?;
    step(
        stall,
        TimeoutKind::Stall,
        stop,
        session.transfer_type(FileType::Binary),
    )
    .await?;
    // EPSV names only a port on the address already connected to (no NAT trouble); servers
    // without it get PASV (the attempt switches), with the control connection's address kept
    // (curl's --ftp-skip-pasv-ip).
    session.set_mode(Mode::ExtendedPassive);
    session.set_passive_nat_workaround(true);
    Ok(session)
}

/// The TLS set-up FTPS uses: rustls on ring with the item's verifier, as HTTPS.
fn tls_connector(verifier: &Arc<Verifier>) -> Result<AsyncRustlsConnector, Stop> {
    let config = verifier.config().map_err(Stop::Failed)?;
    Ok(AsyncRustlsConnector::from(
        suppaftp::tokio_rustls::TlsConnector::from(Arc::new(config)),
    ))
}

/// A server failure as a stop reason: its reply as [`FetchError::FtpReply`], a TLS failure
/// as [`FetchError::Tls`], a connection failure as [`FetchError::Connect`] (or, once the
/// transfer began, [`FetchError::Body`]).
pub(super) fn stop_of(e: &FtpError) -> Stop {
    match e {
        FtpError::UnexpectedResponse(reply) => Stop::Failed(FetchError::FtpReply {
            code: reply.status.code() as u16,
            text: String::from_utf8_lossy(&reply.body)
                .trim()
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start_matches(['-', ' '])
                .to_owned(),
        }),
        FtpError::SecureError(text) => Stop::Failed(FetchError::Tls(text.clone())),
        FtpError::ConnectionError(io) => Stop::Failed(FetchError::Connect {
            problem: match io.kind() {
                std::io::ErrorKind::ConnectionRefused => ConnectProblem::Refused,
                std::io::ErrorKind::HostUnreachable | std::io::ErrorKind::NetworkUnreachable => {
                    ConnectProblem::Unreachable
                }
                std::io::ErrorKind::NotFound => ConnectProblem::NameNotResolved,
                _ => ConnectProblem::Other,
            },
            detail: io.to_string(),
        }),
        other => Stop::Failed(FetchError::Dropped(other.to_string())),
    }
}

/// Whether a reply code means the file is not there (or not reachable as a file).
pub(super) fn missing(code: u16) -> bool {
    matches!(code, 550 | 553)
}

/// The status code of a refused reply, if `reason` is one.
pub(super) fn reply_code(reason: &Stop) -> Option<u16> {
    match reason {
        Stop::Failed(FetchError::FtpReply { code, .. }) => Some(*code),
        _ => None,
    }
}
