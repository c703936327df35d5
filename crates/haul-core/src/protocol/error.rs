//! How an item failed, for people and for programs: [`FetchError`] with the problems it
//! carries as data ([`ConnectProblem`], [`DiskProblem`]), [`TimeoutKind`], and [`redact`] for
//! passwords in anything shown or logged.
//!
//! Owns: the failure vocabulary and its English technical text. Must not touch: I/O.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::SourceError;
/// Which of the three timeouts fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TimeoutKind {
    /// The connection could not be opened in time.
    Connect,
    /// No byte arrived (headers or body) for the stall timeout.
    Stall,
    /// The whole item took longer than its deadline.
    Deadline,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutKind::Connect => "timed out while connecting",
            TimeoutKind::Stall => "timed out: no data received within the stall timeout",
            TimeoutKind::Deadline => "timed out: the item's deadline passed",
        })
    }
}

/// Why a connection could not be opened, as far as the system says (for a person's sentence;
/// the details are in [`FetchError::Connect`]'s text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConnectProblem {
    /// The host answered that nothing listens there.
    Refused,
    /// The host name could not be resolved.
    NameNotResolved,
    /// No route to the host or its network.
    Unreachable,
    Other,
}

/// Why a file could not be written, from the system's error kind (not its message, which
/// may be in any language).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DiskProblem {
    /// No space left on the disk (or over a quota).
    Full,
    /// Not allowed to write there.
    NoPermission,
    /// A read-only disk.
    ReadOnly,
    /// Something that is not a folder stands where a folder must be.
    NotAFolder,
    /// The file is in use by another program (Windows: open elsewhere), or the name is taken.
    InUse,
    Other,
}

impl DiskProblem {
    /// The problem an I/O error kind names.
    pub fn of(kind: std::io::ErrorKind) -> DiskProblem {
        use std::io::ErrorKind as K;
        match kind {
            K::StorageFull | K::QuotaExceeded | K::FileTooLarge => DiskProblem::Full,
            K::PermissionDenied => DiskProblem::NoPermission,
            K::ReadOnlyFilesystem => DiskProblem::ReadOnly,
            K::NotADirectory | K::IsADirectory | K::AlreadyExists => DiskProblem::NotAFolder,
            K::ResourceBusy | K::ExecutableFileBusy => DiskProblem::InUse,
            _ => DiskProblem::Other,
        }
    }

    /// The problem an I/O error names: Windows' sharing and lock violations (a file open in
    /// another program) are [`DiskProblem::InUse`] — the standard library files them under no
    /// kind — and the rest go by [`DiskProblem::of`] their kind.
    pub fn of_error(error: &std::io::Error) -> DiskProblem {
        if cfg!(windows) && error.raw_os_error().is_some_and(is_sharing_violation) {
            return DiskProblem::InUse;
        }
        DiskProblem::of(error.kind())
    }
}

/// Windows' `ERROR_SHARING_VIOLATION` (32) and `ERROR_LOCK_VIOLATION` (33): another program
/// has the file open without sharing it, or holds a lock on it. (On Unix these numbers are
/// other errors: only read them from Windows.)
pub fn is_sharing_violation(code: i32) -> bool {
    matches!(code, 32 | 33)
}

/// Why an item failed. Details are kept as text so events stay `Clone` and comparable, and
/// every variant is serde-able so a window can keep the reason across restarts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum FetchError {
    #[error("invalid source '{input}': {reason}")]
    InvalidSource { input: String, reason: SourceError },
    #[error("could not connect: {detail}")]
    Connect {
        problem: ConnectProblem,
        detail: String,
    },
    #[error("TLS error: {0}")]
    Tls(String),
    /// The server showed a certificate no trusted authority vouches for (self-signed, a
    /// private authority, another host's name, expired): `fingerprint` is that certificate's
    /// SHA-256, which a person can compare and then trust (`trust-certificate`, the window's
    /// "trust this certificate").
    #[error(
        "TLS error: the certificate of {host} is not trusted ({reason}); its SHA-256 \
         fingerprint is {fingerprint}"
    )]
    Untrusted {
        host: String,
        fingerprint: super::Fingerprint,
        reason: String,
    },
    #[error("server replied {status}{}", reason_suffix(.reason))]
    HttpStatus { status: u16, reason: String },
    /// An FTP server refused what was asked with this reply (RFC 959 §4.2): `code` is the
    /// three-digit reply code, `text` what the server said.
    #[error("{}", ftp_sentence(*.code, .text))]
    FtpReply { code: u16, text: String },
    /// An FTP server refused the login (`530`): the user it was, never the password.
    #[error("the FTP server refused the login as '{user}': {code}{}", reason_suffix(.text))]
    FtpLogin {
        user: String,
        code: u16,
        text: String,
    },
    #[error("redirect refused: {0}")]
    Redirect(String),
    /// The connection ended before a reply began (a stale keep-alive connection, an empty
    /// reply, a reset before the headers): safe to send the GET again.
    #[error("the connection closed before the server replied: {0}")]
    Dropped(String),
    /// The reply does not hold what was asked for (RFC 9110 §14–15): e.g. part of a file
    /// when all of it was asked for.
    #[error("the reply does not match the request: {0}")]
    ReplyMismatch(String),
    /// The body is in a transfer coding that cannot be decoded (RFC 9112 §6.1).
    #[error("the server sent the body in a transfer coding Haul cannot decode ({0})")]
    TransferCoding(String),
    #[error("transfer broke off: {0}")]
    Body(String),
    #[error("body too short: expected {expected} bytes, received {received}")]
    ShortBody { expected: u64, received: u64 },
    #[error("body too long: expected {expected} bytes, received more")]
    LongBody { expected: u64 },
    #[error("request failed: {0}")]
    Request(String),
    /// A torrent that cannot be read or fetched: a bad `.torrent`, a magnet link whose
    /// metadata no peer sent, the BitTorrent engine's refusal (as a sentence).
    #[error("{0}")]
    Torrent(String),
    #[error("source not found: {0}")]
    NotFound(PathBuf),
    #[error("not a regular file ({kind}): {path}")]
    NotAFile { path: PathBuf, kind: String },
    #[error("cannot read {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot write {path}: {message}")]
    Write {
        path: PathBuf,
        message: String,
        problem: DiskProblem,
    },
    /// The disk holding `folder` has too little free space for the rest of a file of known
    /// size: `needed` more bytes, `free` available. Said before a byte is written when the
    /// size is known up front; said when a write fails for want of space once it is known
    /// (the bytes already written are then kept for resuming).
    #[error(
        "not enough space in {folder}: {} more needed, {} free",
        crate::human::human_bytes(*.needed),
        crate::human::human_bytes(*.free)
    )]
    NoSpace {
        folder: PathBuf,
        needed: u64,
        free: u64,
    },
    #[error("sha256 mismatch: expected {expected}, got {actual} (the bytes stay in {part})")]
    Checksum {
        expected: String,
        actual: String,
        part: PathBuf,
    },
    /// A video stream that cannot be saved: its playlist cannot be read, it is encrypted
    /// with DRM or SAMPLE-AES, or its segments could not be merged.
    #[error("stream: {0}")]
    Stream(String),
    /// A video stream's segment kept failing (after the item's retries): its number, its URL
    /// (passwords redacted) and why.
    #[error("segment {number} ({url}) failed: {reason}")]
    Segment {
        number: u64,
        url: String,
        reason: String,
    },
    #[error("larger than the size limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The proxy failed, not the server: `proxy` is its URL with any password as `***`.
    #[error("proxy {proxy}: {problem}: {detail}")]
    Proxy {
        proxy: String,
        problem: ProxyProblem,
        detail: String,
    },
}

/// What went wrong with a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProxyProblem {
    /// Nothing answered at the proxy's address (or it is not a proxy).
    Unreachable,
    /// The proxy wants a user and password, or refused the ones given (HTTP 407, SOCKS5
    /// RFC 1929 failure).
    Auth,
    /// The proxy answered but could not reach the server.
    Upstream,
    /// The proxy cannot carry this protocol (an HTTP or SOCKS proxy and an FTP URL).
    CannotCarry,
}

impl fmt::Display for ProxyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProxyProblem::Unreachable => "cannot connect to the proxy",
            ProxyProblem::Auth => "the proxy refused the user name or password",
            ProxyProblem::Upstream => "the proxy could not reach the server",
            ProxyProblem::CannotCarry => "the proxy cannot carry this protocol",
        })
    }
}

/// `text` with the password of every `scheme://user:password@host` in it shown as `***`
/// (`https://ann:***@host/x`): what the window, notices, logs and error texts show of a URL
/// with credentials. The user name stays, so a person can tell which account it is.
pub fn redact(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("://") || !text.contains('@') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| matches!(c, '/' | '?' | '#') || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@').and_then(|at| {
            let userinfo = &authority[..at];
            userinfo.find(':').map(|colon| (colon, at))
        }) {
            Some((colon, at)) => {
                out.push_str(&authority[..=colon]);
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// Lower-case hex of a digest, as shown to people and in `--json`.
pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// An FTP reply as a sentence: a missing file, a server that cannot serve it now (4xx,
/// transient), or the reply as it came.
fn ftp_sentence(code: u16, text: &str) -> String {
    let what = match code {
        550 | 553 => "the FTP server has no such file",
        400..=499 => "the FTP server cannot serve it now",
        _ => "the FTP server refused",
    };
    format!("{what}: {code}{}", reason_suffix(text))
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" {reason}")
    }
}
