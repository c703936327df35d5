//! What is kept on disk for an item: reopening a `.part` an earlier run kept (or one kept for
//! another link to the same file), a finished file already there (`skip_existing`), a new
//! resumable part, keeping or removing the part when the item ends, and the cookies file the
//! item names.
//! Must not touch: the network (a fetcher's attempt asks), events other than `Waiting`.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::{Job, LOCK_POLL, internal};
use crate::fetch::Stop;
use crate::names::Names;
use crate::output::{PartFile, ResumeError, no_space};
use crate::protocol::{Checksum, DiskProblem, Event, FetchError, Waiting};
use crate::resume::Sidecar;

/// Reads the item's cookies file (`Request::cookies_file`) when its cookies are not given.
/// Errors: the file cannot be read, or is not a Netscape cookies file (naming the line).
pub(crate) async fn load_cookies(job: &mut Job) -> Result<(), FetchError> {
    let request = &job.options.request;
    let Some(path) = request
        .cookies_file
        .clone()
        .filter(|_| request.cookies.is_none())
    else {
        return Ok(());
    };
    let read_path = path.clone();
    let text = tokio::task::spawn_blocking(move || std::fs::read_to_string(read_path))
        .await
        .map_err(|e| internal(&e))?
        .map_err(|e| FetchError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
    let cookies =
        crate::protocol::Cookies::parse_netscape(&text).map_err(|e| FetchError::Read {
            path: path.clone(),
            message: format!("not a cookies file: {e}"),
        })?;
    let mut options = (*job.options).clone();
    options.request.cookies = Some(Arc::new(cookies));
    job.options = Arc::new(options);
    Ok(())
}

/// A `.part` an earlier run (or an earlier pause) kept for this URL, or handed over to it from
/// another address of the same file (`Command::Adopt`), reopened.
pub(crate) async fn kept_part(job: &Job, key: &str, stop: &CancellationToken) -> Option<PartFile> {
    if job.resume.known_absent(&job.output.dest, key) {
        return None; // the usual case, answered from memory
    }
    let (resume, dest) = (Arc::clone(&job.resume), job.output.dest.clone());
    let owned_key = key.to_owned();
    let (path, sidecar) = tokio::task::spawn_blocking(move || resume.take(&dest, &owned_key))
        .await
        .ok()
        .flatten()?;
    let mut waiting = false;
    loop {
        let (names, overwrite) = (Arc::clone(&job.names), job.output.overwrite);
        let (part_path, kept) = (path.clone(), sidecar.clone());
        let key = key.to_owned();
        let reopened = tokio::task::spawn_blocking(move || {
            let mut part = PartFile::resume(&names, &part_path, kept, overwrite)?;
            // Handed over from another address of the same file: this item's from now on (if
            // that cannot be written, the bytes stay as they were, for their own address).
            if part.sidecar().is_some_and(|s| s.source != key)
                && let Err(e) = part.adopt(&key)
            {
                let _ = part.keep();
                return Err(ResumeError::Failed(e));
            }
            Ok(part)
        })
        .await
        .unwrap_or(Err(ResumeError::Gone));
        match reopened {
            Ok(part) => {
                tracing::info!(part = %part.part_path().display(), bytes = part.written(), "resuming");
                return Some(part);
            }
            Err(ResumeError::Locked) => {
                // Another process writes this part: never into it, and never a second copy
                // beside it while it might still finish; wait for its lock.
                if !waiting {
                    waiting = true;
                    tracing::info!(part = %path.display(), "waiting for another download of this file");
                    job.events.send(Event::Waiting {
                        id: job.id,
                        reason: Waiting::PartInUse { part: path.clone() },
                    });
                }
                tokio::select! {
                    () = stop.cancelled() => return None,
                    () = tokio::time::sleep(LOCK_POLL) => {}
                }
            }
            Err(ResumeError::Gone) => return None,
            Err(ResumeError::Failed(e)) => {
                tracing::warn!(part = %path.display(), error = %e, "cannot resume; starting over");
                return None;
            }
        }
    }
}

/// A `.part` kept for another URL whose bytes are of the file a server just described (same
/// final `name`, `total` size and strong `validator`), reopened as this item's (its sidecar
/// now names `key`). A reply without a size or a strong validator never matches: bytes of
/// another file are never appended to.
pub(crate) async fn same_file_kept(
    job: &Job,
    key: &str,
    (name, total, validator): (&str, Option<u64>, Option<String>),
    stop: &CancellationToken,
) -> Option<PartFile> {
    let (total, validator) = (total?, validator?);
    let (resume, dest, name) = (
        Arc::clone(&job.resume),
        job.output.dest.clone(),
        name.to_owned(),
    );
    let (path, sidecar) =
        tokio::task::spawn_blocking(move || resume.take_same_file(&dest, &name, total, &validator))
            .await
            .ok()
            .flatten()?;
    tracing::info!(part = %path.display(), from = %crate::protocol::redact(&sidecar.source), "the same file was kept for another link; resuming it");
    let (names, overwrite, key) = (Arc::clone(&job.names), job.output.overwrite, key.to_owned());
    let reopened = tokio::task::spawn_blocking(move || {
        let mut part = PartFile::resume(&names, &path, sidecar, overwrite).ok()?;
        part.adopt(&key).ok()?;
        Some(part)
    })
    .await
    .ok()
    .flatten();
    if reopened.is_none() || stop.is_cancelled() {
        return None;
    }
    reopened
}

/// The file `name` in `dest` when it is complete: a regular file of `total` bytes (a size
/// must be known) whose SHA-256 is `expect` when one is given (then the file is read).
pub(crate) fn complete_file(
    dest: &std::path::Path,
    name: &str,
    total: Option<u64>,
    expect: Option<Checksum>,
) -> Option<std::path::PathBuf> {
    let path = dest.join(name);
    let meta = std::fs::metadata(&path).ok()?;
    if !meta.is_file() || Some(meta.len()) != total {
        return None;
    }
    has_checksum(path, expect)
}

/// `path` when it has the `expect`ed SHA-256 (or none is expected). Blocking.
fn has_checksum(path: std::path::PathBuf, expect: Option<Checksum>) -> Option<std::path::PathBuf> {
    if let Some(expect) = expect {
        use sha2::Digest as _;
        let mut file = std::fs::File::open(&path).ok()?;
        let mut hasher = sha2::Sha256::new();
        std::io::copy(&mut file, &mut hasher).ok()?;
        if Checksum(hasher.finalize().into()) != expect {
            return None;
        }
    }
    Some(path)
}

/// With `skip_existing` (and nothing kept for the item), the file `name` of `total` bytes
/// already complete in the destination ends the item as skipped: [`Stop::Exists`].
pub(crate) async fn skip_if_there(job: &Job, name: &str, total: Option<u64>) -> Result<(), Stop> {
    if !job.output.skip_existing {
        return Ok(());
    }
    let (dest, name, expect) = (job.output.dest.clone(), name.to_owned(), job.sha256);
    match super::blocking(move || Ok(complete_file(&dest, &name, total, expect))).await? {
        Some(path) => Err(Stop::Exists(path)),
        None => Ok(()),
    }
}

/// With `skip_existing`, the file `name` in the destination that is marked as downloaded
/// from `url` ([`PartFile::mark_downloaded_from`]) ends the item as skipped: [`Stop::Exists`].
/// For what has no length to compare before it is fetched (a stream's file is whatever its
/// merge wrote): the file's own mark says which source it came from, so another source's
/// file of the same name is never taken for it. Where the platform's mark names no URL
/// (macOS) or the file system keeps none, nothing is skipped.
pub(crate) async fn skip_if_from(job: &Job, name: &str, url: &url::Url) -> Result<(), Stop> {
    if !job.output.skip_existing {
        return Ok(());
    }
    let (dest, name, expect, url) = (
        job.output.dest.clone(),
        name.to_owned(),
        job.sha256,
        url.clone(),
    );
    let found = super::blocking(move || {
        let path = dest.join(&name);
        let from = path.is_file() && crate::output::downloaded_from(&path, &url);
        Ok(if from {
            has_checksum(path, expect)
        } else {
            None
        })
    })
    .await?;
    match found {
        Some(path) => Err(Stop::Exists(path)),
        None => Ok(()),
    }
}

/// A new `.part` for `name` that can be resumed: with its sidecar for the source `key`.
/// Blocking.
pub(crate) fn resumable_part(
    names: &Arc<Names>,
    dest: &std::path::Path,
    name: &str,
    overwrite: bool,
    key: &str,
) -> Result<PartFile, FetchError> {
    let mut part = PartFile::create(names, dest, name, overwrite)?;
    part.attach_sidecar(Sidecar::new(key, name))?;
    Ok(part)
}

/// At the end of an item that did not complete: keeps its `.part` and sidecar if they are
/// worth resuming (paused, timed out or failed with bytes, a full disk included), removes
/// them otherwise (cancelled, too large, any other write error, or nothing written). Returns
/// `reason` for the outcome; a full disk's, once the file's size is known, says how much more
/// space it needs ([`FetchError::NoSpace`]).
pub(crate) async fn finish_part(
    job: &Job,
    key: &str,
    part: Option<PartFile>,
    reason: Stop,
) -> Stop {
    let Some(part) = part else {
        return reason;
    };
    let full = part.sidecar().is_some()
        && matches!(
            reason,
            Stop::Failed(FetchError::Write {
                problem: DiskProblem::Full,
                ..
            })
        );
    let reason = match part.sidecar().and_then(|s| s.total).filter(|_| full) {
        Some(total) => {
            let (dest, have) = (job.output.dest.clone(), part.kept_bytes());
            tokio::task::spawn_blocking(move || no_space(&dest, total, have))
                .await
                .map_or(reason, Stop::Failed)
        }
        None => reason,
    };
    let worthless = !full
        && matches!(
            reason,
            Stop::Failed(FetchError::TooLarge { .. } | FetchError::Write { .. })
        );
    if job.cancelled() || worthless || part.written() == 0 {
        let _ = tokio::task::spawn_blocking(move || drop(part)).await;
        return reason;
    }
    let dest = job.output.dest.clone();
    let (resume, key) = (Arc::clone(&job.resume), key.to_owned());
    let kept = tokio::task::spawn_blocking(move || {
        let path = part.keep()?;
        resume.put(&dest, &key, &path);
        Ok::<_, FetchError>(path)
    })
    .await;
    match kept {
        Ok(Ok(path)) => tracing::info!(part = %path.display(), "kept for resuming"),
        Ok(Err(e)) => tracing::warn!(error = %e, "could not keep the .part"),
        Err(e) => tracing::warn!(error = %e, "could not keep the .part"),
    }
    reason
}
