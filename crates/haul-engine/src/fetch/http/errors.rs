//! What went wrong talking to a server, in the engine's terms.
//!
//! Owns: turning reqwest's (and underneath, hyper's, rustls' and the system's) errors into a
//! [`Stop`]: a timeout, a refused redirect, a TLS failure, a connection that could not be
//! opened, one that dropped before the reply ([`FetchError::Dropped`]: a stale keep-alive
//! connection, an empty reply, a reset before the headers — safe to repeat for a GET), or a
//! body that broke off. The retry policy (`engine::retry`) decides what each is worth.
//! Must not touch: the network itself, the disk.

use std::error::Error as StdError;
use std::io;

use super::MAX_REDIRECTS;
use crate::fetch::Stop;
use crate::protocol::{ConnectProblem, FetchError, TimeoutKind};

/// Why a redirect was refused; travels inside reqwest's error and is found again by type.
#[derive(Debug, thiserror::Error)]
pub(super) enum RedirectRefused {
    #[error("more than {MAX_REDIRECTS} redirects")]
    TooMany,
    #[error("redirect loop at {0}")]
    Loop(String),
    #[error("redirect to a '{0}' URL is not allowed")]
    Scheme(String),
    #[error("redirect to an invalid location '{0}'")]
    BadLocation(String),
    #[error("the server replied {0} without a Location to follow")]
    NoLocation(String),
    #[error("the server replied {0}, which names no single place to follow")]
    NotFollowable(String),
}

/// Maps a reqwest error from sending a request (before any reply) to a stop reason.
pub(super) fn classify(e: &reqwest::Error) -> Stop {
    if let Some(refused) = sources(e).find_map(|s| s.downcast_ref::<RedirectRefused>()) {
        return Stop::Failed(FetchError::Redirect(refused.to_string()));
    }
    if e.is_timeout() {
        let kind = if e.is_connect() {
            TimeoutKind::Connect
        } else {
            TimeoutKind::Stall
        };
        return Stop::TimedOut(kind);
    }
    if let Some(untrusted) = sources(e).find_map(crate::fetch::trust::untrusted) {
        return Stop::Failed(untrusted);
    }
    if let Some(tls) = sources(e).find_map(tls_error) {
        return Stop::Failed(FetchError::Tls(tls));
    }
    if e.is_connect() {
        return Stop::Failed(FetchError::Connect {
            problem: connect_problem(e),
            detail: chain(e),
        });
    }
    if dropped_before_reply(e) {
        return Stop::Failed(FetchError::Dropped(chain(e)));
    }
    if e.is_redirect() {
        return Stop::Failed(FetchError::Redirect(chain(e)));
    }
    Stop::Failed(FetchError::Request(chain(e)))
}

/// What the system said about a connection that could not be opened: from the I/O error's
/// kind, or hyper-util's resolver ("dns error"), never from the system's (translatable) text.
fn connect_problem(e: &reqwest::Error) -> ConnectProblem {
    for s in sources(e) {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::ConnectionRefused => return ConnectProblem::Refused,
                io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
                    return ConnectProblem::Unreachable;
                }
                _ => {}
            }
        }
        if s.to_string().starts_with("dns error") {
            return ConnectProblem::NameNotResolved;
        }
    }
    ConnectProblem::Other
}

/// The connection ended before a reply began: the server closed a pooled keep-alive
/// connection as the request arrived (hyper: "connection closed before message completed"),
/// sent nothing at all, or reset the connection. Nothing was received, so a GET can be sent
/// again on a fresh connection.
fn dropped_before_reply(e: &reqwest::Error) -> bool {
    sources(e).any(|s| {
        s.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_incomplete_message() || h.is_canceled() || h.is_closed())
            || s.downcast_ref::<io::Error>().is_some_and(|io| {
                matches!(
                    io.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                        | io::ErrorKind::UnexpectedEof
                )
            })
    })
}

/// Maps an error while reading a body to a stop reason: a stall, a reset, or a body shorter
/// than its `Content-Length`.
pub(super) fn body_error(e: &reqwest::Error, total: Option<u64>, received: u64) -> Stop {
    if e.is_timeout() {
        return Stop::TimedOut(TimeoutKind::Stall);
    }
    let reset = sources(e).any(|s| {
        s.downcast_ref::<io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            )
        })
    });
    match total {
        Some(expected) if !reset && received < expected => {
            Stop::Failed(FetchError::ShortBody { expected, received })
        }
        _ => Stop::Failed(FetchError::Body(format!(
            "{} after {received} bytes",
            chain(e)
        ))),
    }
}

/// The body's chunks all arrived and only its trailer section could not be parsed (a trailer
/// line without a colon, wget2's and curl's tests): hyper reads trailers after the last chunk
/// and fails the body with httparse's error, which nothing else in a body's reading carries.
/// curl and wget2 ignore trailers; so does Haul (hyper still bounds their count and size).
pub(super) fn only_trailers_refused(e: &reqwest::Error) -> bool {
    sources(e).any(|s| s.downcast_ref::<httparse::Error>().is_some())
}

/// A TLS failure in the chain, as text.
fn tls_error(e: &(dyn StdError + 'static)) -> Option<String> {
    e.downcast_ref::<rustls::Error>().map(ToString::to_string)
}

/// The error and its causes, outermost first. An `io::Error`'s `source()` skips the error it
/// wraps (where rustls and hyper put theirs), so step into it with `get_ref` instead.
fn sources<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&e: &&'a (dyn StdError + 'static)| match e
        .downcast_ref::<io::Error>()
    {
        Some(io) => io.get_ref().map(|inner| inner as &(dyn StdError + 'static)),
        None => e.source(),
    })
}

/// The causes of `e` joined with `: `, without reqwest's outer "error sending request for url".
pub(super) fn chain(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for s in sources(e).skip(1) {
        let text = s.to_string();
        // hyper's "client error (Connect)" only repeats what the causes say better.
        if text.starts_with("client error (") {
            continue;
        }
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ")
}
