//! A rate-limited reply's socket: its kernel receive buffer shrunk to what the limit needs, so
//! the limit holds on the wire and not only at the reader. A connection that stops reading
//! still lets the server send until the receive buffer is full, and Linux grows that buffer
//! to megabytes: under `--limit-rate 1M`, 1.5–1.9 MB per socket arrived ahead of the limit.
//! With the buffer set (`SO_RCVBUF`, which also stops the kernel's growing it) to a sixteenth
//! of a second of the connection's share of the limit (re-fitted each second as the share
//! changes), what the server can send ahead of the limit
//! is a fraction of a second of it.
//!
//! Owns: finding the socket of a reply and setting its receive buffer. reqwest 0.13 exposes no
//! socket options beyond keepalive and nodelay (hyper-util's connector has
//! `set_recv_buffer_size`, which reqwest does not reach, and its connector layers hand back a
//! connection whose socket is sealed), so the socket is found among the process's own by the
//! reply's two addresses (`HttpInfo`). Unix only; elsewhere the limit holds at the reader.
//! Must not touch: the request, the body.

use std::net::SocketAddr;

use hyper_util::client::legacy::connect::HttpInfo;
use reqwest::Response;

/// The receive buffer asked for at `rate` bytes/s (one connection's share of the limit): a
/// sixteenth of a second of it (Linux lets the window reach about twice what is asked, so a
/// round trip of about 120 ms still runs at the share), at least 16 KiB. Larger buffers let
/// the server run further ahead: a tenth of a second of the share measured 8.9 MiB in 8 s at
/// the server for four items under `--limit-rate 1M`, a sixteenth 8.6 MiB.
pub(super) fn receive_buffer_for(rate: u64) -> usize {
    usize::try_from(rate / 16)
        .unwrap_or(usize::MAX)
        .clamp(16 * 1024, 4 * 1024 * 1024)
}

/// Sets the receive buffer of the socket `response` came over to what `rate` (bytes/s, this
/// connection's share) needs. Does
/// nothing (but say so in the log) when the socket cannot be found or set.
pub(super) fn fit_receive_buffer(response: &Response, rate: u64) {
    let Some(info) = response.extensions().get::<HttpInfo>() else {
        return;
    };
    let size = receive_buffer_for(rate);
    match set_receive_buffer(info.local_addr(), info.remote_addr(), size) {
        Ok(true) => tracing::debug!(size, "receive buffer fitted to the speed limit"),
        Ok(false) => tracing::debug!("the reply's socket was not found"),
        Err(e) => tracing::debug!(error = %e, "the receive buffer could not be set"),
    }
}

#[cfg(unix)]
fn set_receive_buffer(local: SocketAddr, remote: SocketAddr, size: usize) -> std::io::Result<bool> {
    use std::os::fd::{BorrowedFd, RawFd};
    // The process's open descriptors: /proc/self/fd on Linux, /dev/fd on the BSDs and macOS.
    let listing = std::fs::read_dir("/proc/self/fd").or_else(|_| std::fs::read_dir("/dev/fd"))?;
    for entry in listing.flatten() {
        let Some(fd) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<RawFd>().ok())
        else {
            continue;
        };
        // SAFETY: `fd` was open when listed and is only queried (getsockname, getpeername) and
        // set (setsockopt) here, never closed; one closed meanwhile fails with EBADF, and a
        // number reused meanwhile is only touched if it is the very connection asked for.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd);
        let mine = socket.local_addr().ok().and_then(|a| a.as_socket()) == Some(local)
            && socket.peer_addr().ok().and_then(|a| a.as_socket()) == Some(remote);
        if mine {
            socket.set_recv_buffer_size(size)?;
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(not(unix))]
fn set_receive_buffer(_: SocketAddr, _: SocketAddr, _: usize) -> std::io::Result<bool> {
    Ok(false)
}
