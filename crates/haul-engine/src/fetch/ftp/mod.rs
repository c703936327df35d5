//! FTP's attempt at an item (the [`Fetcher`] for `ftp` and `ftps`, RFC 959 and 3659): log in
//! (`session`), refuse a directory, read the size (`SIZE`) and the date (`MDTM`), resume the
//! kept `.part` with `REST` only when both still match what it was kept with, then stream the
//! file under the item's speed limit and stall timeout and commit it through `output`
//! (verified length, no-clobber name), exactly as HTTP's attempt does.
//! Must not touch: retries, deadlines, outcomes (the item's life, `job`); HTTP.
//!
//! # Layout
//! - this file: the attempt.
//! - `session`: the control connection up to the transfer, and the server's failures.

mod session;

use std::sync::atomic::Ordering;

use bytes::BytesMut;
use percent_encoding::percent_decode_str;
use tokio::io::AsyncReadExt as _;
use url::Url;

use super::{Attempt, Fetcher, Stop, Try};
use crate::item::kept::{resumable_part, same_file_kept, skip_if_there};
use crate::item::{blocking, fits, part_args, started};
use crate::names;
use crate::output::{ChunkWriter, Committed, PartFile};
use crate::protocol::{FetchError, ProxyProblem, TimeoutKind};
use session::{Session, missing, reply_code, step};
use suppaftp::Mode;

/// Bytes asked of the data connection at a time.
const CHUNK: usize = 64 * 1024;

/// The fetcher of `ftp` and `ftps` URLs: one control connection per attempt.
pub(crate) struct Ftp;

impl Fetcher for Ftp {
    fn attempt<'a>(&'a self, at: &'a Try<'a>, part: &'a mut Option<PartFile>) -> Attempt<'a> {
        Box::pin(async move { attempt(at, part).await.map(|c| vec![c]) })
    }
}

/// What the server says of the file before it is fetched.
struct Described {
    /// The path as sent to the server.
    path: String,
    name: String,
    total: Option<u64>,
    /// `MDTM`'s time (RFC 3659 §3), kept as the part's validator.
    validator: Option<String>,
}

async fn attempt(at: &Try<'_>, part: &mut Option<PartFile>) -> Result<Committed, Stop> {
    let Try {
        job,
        url,
        key,
        stop,
        ..
    } = *at;
    refuse_proxy(at)?;
    let path = remote_path(url)?;
    let scheme = job.source.scheme();
    let tls = scheme.is_some_and(|s| s.tls);
    let port = url.port().or(scheme.map(|s| s.default_port)).unwrap_or(21);
    let timeouts = (job.limits.connect_timeout, job.limits.stall_timeout);
    let credentials = job.options.request.credentials.as_ref();
    let trust = tls.then_some((&job.options.trust, &*job.host_pins));
    let mut session = session::open(url, trust, port, credentials, timeouts, stop).await?;
    let described = describe(&mut session, at, path).await;
    let described = match described {
        Ok(described) => described,
        Err(reason) => {
            quit(session).await;
            return Err(reason);
        }
    };
    let fetched = fetch(&mut session, at, described, part, key).await;
    quit(session).await;
    fetched
}

/// An FTP URL goes straight to its server: a proxy that would have to carry it (HTTP, SOCKS)
/// is not gone around behind the person's back.
fn refuse_proxy(at: &Try<'_>) -> Result<(), Stop> {
    match at.job.client.proxy_for(at.url) {
        Some(proxy) => Err(Stop::Failed(FetchError::Proxy {
            proxy,
            problem: ProxyProblem::CannotCarry,
            detail: format!(
                "Haul does not send {} through a proxy; exempt the host (--noproxy) or use no proxy",
                at.url.scheme()
            ),
        })),
        None => Ok(()),
    }
}

/// The file's path as the server is asked for it: the URL's path percent-decoded (UTF-8, as
/// RFC 2640 servers take names), relative to the login directory (RFC 1738 §3.2.2; `%2F`
/// makes it absolute). A URL ending in `/` names a directory, which is refused.
fn remote_path(url: &Url) -> Result<String, Stop> {
    let raw = url.path().strip_prefix('/').unwrap_or(url.path());
    if raw.is_empty() || raw.ends_with('/') {
        return Err(directory(url));
    }
    let decoded = percent_decode_str(raw).decode_utf8().map_err(|_| {
        Stop::Failed(FetchError::Request(format!(
            "the path of {} is not UTF-8",
            crate::protocol::redact(url.as_str())
        )))
    })?;
    if decoded.contains(['\r', '\n', '\0']) {
        return Err(Stop::Failed(FetchError::Request(
            "the path holds a line break or NUL, which FTP cannot send".to_owned(),
        )));
    }
    Ok(decoded.into_owned())
}

fn directory(url: &Url) -> Stop {
    Stop::Failed(FetchError::NotAFile {
        path: crate::protocol::redact(url.as_str()).into_owned().into(),
        kind: "a directory on the FTP server; give the address of a file in it".to_owned(),
    })
}

/// Asks the size and the date. A `550` to `SIZE` is a missing file, unless the path is a
/// directory (`CWD` into it succeeds).
async fn describe(session: &mut Session, at: &Try<'_>, path: String) -> Result<Described, Stop> {
    let (stall, stop) = (at.job.limits.stall_timeout, at.stop);
    let total = match step(stall, TimeoutKind::Stall, stop, session.size(&path)).await {
        Ok(size) => Some(size as u64),
        Err(reason) if reply_code(&reason).is_some_and(missing) => {
            let is_dir = step(stall, TimeoutKind::Stall, stop, session.cwd(&path)).await;
            return Err(if is_dir.is_ok() {
                directory(at.url)
            } else {
                reason
            });
        }
        // A server without SIZE (RFC 3659 is an extension): the size is not known.
        Err(reason) if reply_code(&reason).is_some() => None,
        Err(reason) => return Err(reason),
    };
    let validator = match step(stall, TimeoutKind::Stall, stop, session.mdtm(&path)).await {
        Ok(time) => Some(format!("MDTM {}", time.format("%Y%m%d%H%M%S"))),
        Err(reason) if reply_code(&reason).is_some() => None,
        Err(reason) => return Err(reason),
    };
    let name = match &at.job.options.out {
        Some(out) => out.clone(),
        None => names::from_url(at.url, at.job.output.legacy_charset.as_deref())
            .unwrap_or_else(|| "download".to_owned()),
    };
    Ok(Described {
        path,
        name,
        total,
        validator,
    })
}

/// Resumes or starts the `.part`, then streams the file into it and commits it.
async fn fetch(
    session: &mut Session,
    at: &Try<'_>,
    file: Described,
    part: &mut Option<PartFile>,
    key: &str,
) -> Result<Committed, Stop> {
    let Try {
        job, stop, shared, ..
    } = *at;
    fits(job, file.total, part.as_ref().map_or(0, PartFile::written)).await?;
    if part.is_none() {
        skip_if_there(job, &file.name, file.total).await?;
        // Bytes kept for another link to this very file (same name, size and date).
        let described = (file.name.as_str(), file.total, file.validator.clone());
        *part = same_file_kept(job, key, described, stop).await;
    }
    let mut current = match part.take() {
        Some(current) => current,
        None => {
            let (names, dest, overwrite) = part_args(job);
            let (name, key) = (file.name.clone(), key.to_owned());
            blocking(move || Ok(resumable_part(&names, &dest, &name, overwrite, &key)?)).await?
        }
    };
    // The kept bytes are of this very file only when its size and date are still the ones
    // they were kept with (both known): else the whole file again.
    let same = current.sidecar().is_some_and(|kept| {
        file.total.is_some()
            && file.validator.is_some()
            && kept.total == file.total
            && kept.validator() == file.validator.as_deref()
    });
    let offset = if same { current.written() } else { 0 };
    if offset == 0 && current.written() > 0 {
        tracing::info!("the file changed on the server since its bytes were kept; starting over");
    }
    current.expect(job.sha256);
    current.mark_downloaded_from(at.url);
    current.set_origin(None, file.validator.clone(), file.total);
    shared.received.store(offset, Ordering::Relaxed);
    // Kept bytes are resumed with REST only when the file's size and date are known.
    let resumable = file.total.is_some() && file.validator.is_some();
    started(job, shared, (current.file_name(), file.total), resumable);
    let restart = offset == 0 && current.written() > 0;
    let mut writer = ChunkWriter::spawn(current);
    let result = async {
        if restart {
            writer.restart().await.map_err(Stop::Failed)?;
        }
        if file.total == Some(offset) && offset > 0 {
            return Ok(()); // every byte is already here
        }
        stream(session, at, &file, offset, &mut writer).await
    }
    .await;
    match result {
        Ok(()) => writer.commit(file.total).await.map_err(Stop::Failed),
        Err(reason) => {
            // The writer hands the part back (or, after a write error, has removed it).
            *part = writer.into_part().await.ok();
            Err(reason)
        }
    }
}

/// `REST` (when resuming) and `RETR`, then the data connection into `writer` until its end,
/// and the server's `226`.
async fn stream(
    session: &mut Session,
    at: &Try<'_>,
    file: &Described,
    offset: u64,
    writer: &mut ChunkWriter,
) -> Result<(), Stop> {
    let Try {
        job, stop, shared, ..
    } = *at;
    let stall = job.limits.stall_timeout;
    let mut data = match retr(session, at, &file.path, offset).await {
        // A server without EPSV (RFC 2428) says it does not know the command: PASV, on the
        // address already connected to.
        Err(reason) if reply_code(&reason).is_some_and(|c| (500..=502).contains(&c)) => {
            tracing::info!("no EPSV; asking with PASV");
            session.set_mode(Mode::Passive);
            retr(session, at, &file.path, offset).await?
        }
        other => other?,
    };
    let rates = &job.rates;
    let mut received: u64 = 0;
    let mut buffer = BytesMut::with_capacity(CHUNK);
    loop {
        buffer.reserve(CHUNK);
        let read = tokio::select! {
            biased;
            () = stop.cancelled() => return Err(Stop::Stopped),
            read = tokio::time::timeout(stall, data.read_buf(&mut buffer)) => match read {
                Err(_) => return Err(Stop::TimedOut(TimeoutKind::Stall)),
                Ok(Err(e)) => return Err(Stop::Failed(FetchError::Body(e.to_string()))),
                Ok(Ok(n)) => n,
            },
        };
        if read == 0 {
            break;
        }
        received += read as u64;
        let whole = offset + received;
        if let Some(expected) = file.total
            && whole > expected
        {
            return Err(Stop::Failed(FetchError::LongBody { expected }));
        }
        if let Some(limit) = job.limits.max_size
            && whole > limit
        {
            return Err(Stop::Failed(FetchError::TooLarge { limit }));
        }
        let mut chunk = buffer.split().freeze();
        while !chunk.is_empty() {
            let Some(piece) = rates.next_piece(&mut chunk, stop).await else {
                return Err(Stop::Stopped);
            };
            shared
                .received
                .fetch_add(piece.len() as u64, Ordering::Relaxed);
            tokio::select! {
                biased;
                () = stop.cancelled() => return Err(Stop::Stopped),
                written = writer.write(piece) => written.map_err(Stop::Failed)?,
            }
        }
    }
    step(stall, TimeoutKind::Stall, stop, data.finish()).await?;
    match file.total {
        Some(expected) if offset + received < expected => {
            Err(Stop::Failed(FetchError::ShortBody {
                expected,
                received: offset + received,
            }))
        }
        _ => Ok(()),
    }
}

/// `REST` (when resuming) and `RETR`: the data connection.
async fn retr(
    session: &mut Session,
    at: &Try<'_>,
    path: &str,
    offset: u64,
) -> Result<suppaftp::tokio::TransferStream<suppaftp::tokio::AsyncRustlsStream>, Stop> {
    let (stall, stop) = (at.job.limits.stall_timeout, at.stop);
    if offset > 0 {
        // Consumed by the next transfer command, whether it succeeds or not.
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        step(
            stall,
            TimeoutKind::Stall,
            stop,
            session.resume_transfer(offset),
        )
        .await?;
        tracing::info!(offset, "resuming with REST");
    }
    step(
        stall,
        TimeoutKind::Stall,
        stop,
        session.retr_as_stream(path),
    )
    .await
}

/// Says goodbye, briefly; a server that does not answer is left.
async fn quit(mut session: Session) {
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), session.quit()).await;
}
