//! Writing results: `.part` files, free names, verification and the final rename.
//!
//! Owns: the destination folder's contents. A [`PartFile`] is created exclusively (never through
//! an existing file or symlink), hashes every byte it writes, and on [`PartFile::commit`] checks the
//! length (and the SHA-256, when one is expected), fsyncs and moves into place without clobbering
//! (unless overwriting was asked for). A part with a [`Sidecar`] can be resumed: it checkpoints
//! (fsync, then the sidecar records the bytes now safe) as it goes, [`PartFile::keep`] leaves it
//! on disk for later, and [`PartFile::resume`] reopens it, trusting only the checkpointed bytes.
//! Dropping a `PartFile` that was neither committed nor kept removes the `.part` (and sidecar):
//! no partial file ever stands under a final name, and none is left behind by accident.
//! Must not touch: the network, events, or where names come from (that is `names`).
//!
//! # Layout
//! - this file: [`PartFile`], its life from exclusive create to commit, keep or removal.
//! - [`writer`]: [`ChunkWriter`], which runs a `PartFile` on the blocking pool so async
//!   fetchers never touch the disk on a runtime thread.
//! - `naming`: the free final name for a download and the `.part` beside it.
//! - `space`: the free space on the destination's disk, checked before a download of known
//!   size starts and told when a write fails for want of it.
//! - `taken`: a whole file another program wrote (ffmpeg's remux of a stream) taken as a
//!   part's bytes, moved over it and hashed; hashing a file's first bytes.
//! - `sys`: the file-system primitives underneath: gathered `writev`, the no-clobber move
//!   (`renameat2(RENAME_NOREPLACE)`, else link + unlink), fsync of the folder.

mod naming;
pub mod segments;
mod space;
mod sys;
mod taken;
#[cfg(feature = "torrent")]
pub(crate) mod tree;
pub mod writer;

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::names::{self, Names};
use super::resume::{self, Sidecar};
use crate::protocol::{Checksum, DiskProblem, FetchError};
use naming::{take_free, with_part_suffix};
pub use space::{no_space, room_for};
use sys::{Gather, move_unless_taken, sync_parent};
pub use writer::ChunkWriter;

/// A resumable part checkpoints (fsync, then the sidecar) at most once a second, once it
/// has at least this many new bytes: a crash or `kill -9` loses at most about a second.
const CHECKPOINT_BYTES: u64 = 256 * 1024;
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// A finished, verified file under its final name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: Checksum,
}

impl From<Committed> for crate::protocol::DoneFile {
    fn from(c: Committed) -> Self {
        Self {
            path: c.path,
            length: c.bytes,
            sha256: c.sha256,
        }
    }
}

/// Why a kept part could not be resumed.
#[derive(Debug, Clone, PartialEq)]
pub enum ResumeError {
    /// Another process is writing it (it holds the part's lock): wait, then look again.
    Locked,
    /// It is no longer a part (its writer finished it, or it was removed).
    Gone,
    /// It could not be opened or read.
    Failed(FetchError),
}

/// A `.part` file being written, held with an OS lock (`flock` / `LockFileEx`) for as long
/// as it is open here, so no other process resumes, truncates or removes it meanwhile.
/// Removed on drop unless committed or kept.
#[derive(Debug)]
pub struct PartFile {
    file: Option<Gather>,
    part: PathBuf,
    target: PathBuf,
    /// The sanitised name that `target` is a variant of.
    base: String,
    overwrite: bool,
    names: Arc<Names>,
    hasher: Sha256,
    written: u64,
    /// Resumable parts only: what the sidecar beside the `.part` says.
    sidecar: Option<Sidecar>,
    last_checkpoint: Instant,
    expect: Option<Checksum>,
    /// Left on disk on purpose: drop must neither delete it nor its sidecar.
    kept: bool,
    /// The web address the bytes came from, credentials removed: marked on the file before
    /// it is moved into place ([`PartFile::mark_downloaded_from`]).
    origin: Option<String>,
}

impl PartFile {
    /// Creates `dest` if missing, picks a free final name from `name` (sanitised here once
    /// more, whatever the caller did) and creates its `.part` exclusively.
    pub fn create(
        names: &Arc<Names>,
        dest: &Path,
        name: &str,
        overwrite: bool,
    ) -> Result<PartFile, FetchError> {
        let name = names::sanitize(name);
        // The folder is created (or its problem reported) only when the `.part` cannot be:
        // one syscall less per item when it exists, which it nearly always does.
        let mut made_dest = false;
        let mut from = 0;
        loop {
            let (n, target) = take_free(names, dest, &name, from, overwrite)?;
            let part = with_part_suffix(&target);
            let created = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&part)
                .and_then(|file| {
                    // Ours alone from the first byte: another process that finds this part
                    // (through its sidecar) waits for the lock instead of writing into it.
                    file.try_lock().map_err(|e| match e {
                        TryLockError::WouldBlock => io::ErrorKind::AlreadyExists.into(),
                        TryLockError::Error(e) => e,
                    })?;
                    Ok(file)
                });
            match created {
                Ok(file) => {
                    return Ok(PartFile {
                        file: Some(Gather::new(file)),
                        part,
                        target,
                        base: name,
                        overwrite,
                        names: Arc::clone(names),
                        hasher: Sha256::new(),
                        written: 0,
                        sidecar: None,
                        last_checkpoint: Instant::now(),
                        expect: None,
                        kept: false,
                        origin: None,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    // A stray `.part` holds this name: try the next one.
                    names.release(&target);
                    from = n + 1;
                }
                Err(e) => {
                    names.release(&target);
                    if !made_dest {
                        fs::create_dir_all(dest).map_err(|e| write_error(dest, &e))?;
                        made_dest = true;
                        continue;
                    }
                    return Err(write_error(&part, &e));
                }
            }
        }
    }

    /// Reopens a kept `.part` for `sidecar`'s source. Bytes beyond the last checkpoint are
    /// not trusted (a crash may have left them half-written) and are cut off; the rest is
    /// hashed again so the final digest covers the whole file.
    ///
    /// The part is locked first (another process writing it holds its lock: then
    /// [`ResumeError::Locked`], and nothing is touched), and its sidecar read again under the
    /// lock: a writer that finished renamed the part and removed its sidecar before letting
    /// go, so a part without one is no longer a part ([`ResumeError::Gone`]).
    pub fn resume(
        names: &Arc<Names>,
        part: &Path,
        sidecar: Sidecar,
        overwrite: bool,
    ) -> Result<PartFile, ResumeError> {
        let target = part.with_file_name(&sidecar.name);
        if target.parent() != part.parent() || !names.try_take(&target) {
            return Err(ResumeError::Failed(FetchError::Write {
                path: target,
                message: "name already in use by another item".to_owned(),
                problem: DiskProblem::InUse,
            }));
        }
        let reopened = PartFile::reopen(part, &sidecar);
        let (file, hasher, sidecar) = match reopened {
            Ok(reopened) => reopened,
            Err(e) => {
                names.release(&target);
                return Err(e);
            }
        };
        Ok(PartFile {
            file: Some(Gather::new(file)),
            part: part.to_path_buf(),
            base: sidecar.name.clone(),
            target,
            overwrite,
            names: Arc::clone(names),
            hasher,
            written: sidecar.written,
            sidecar: Some(sidecar),
            last_checkpoint: Instant::now(),
            expect: None,
            kept: false,
            origin: None,
        })
    }

    /// Opens and locks a kept part, checks it is still the part `expected` describes, trims it
    /// to its checkpoint and hashes what is left. Returns the locked file, the hash so far and
    /// the sidecar as it now stands.
    fn reopen(part: &Path, expected: &Sidecar) -> Result<(File, Sha256, Sidecar), ResumeError> {
        let failed = |e: io::Error| ResumeError::Failed(write_error(part, &e));
        let mut file = match OpenOptions::new().read(true).write(true).open(part) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(ResumeError::Gone),
            Err(e) => return Err(failed(e)),
        };
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(ResumeError::Locked),
            Err(TryLockError::Error(e)) => return Err(failed(e)),
        }
        let mut sidecar = match resume::read(part) {
            Some(now) if now.source == expected.source && now.name == expected.name => now,
            _ => return Err(ResumeError::Gone),
        };
        let opened = (|| {
            let len = file.metadata()?.len();
            let keep = len.min(sidecar.written);
            // A split download keeps its full length: its done ranges lie beyond the prefix.
            if sidecar.segments.is_empty() {
                file.set_len(keep)?;
            }
            let (hasher, read) = taken::hash_prefix(&mut file, keep)?;
            file.seek(SeekFrom::Start(read))?;
            Ok::<_, io::Error>((hasher, read))
        })();
        let (hasher, written) = opened.map_err(failed)?;
        sidecar.written = written;
        Ok((file, hasher, sidecar))
    }

    /// Makes this part resumable: writes its sidecar now and keeps it up to date.
    pub fn attach_sidecar(&mut self, mut sidecar: Sidecar) -> Result<(), FetchError> {
        sidecar.name = self.file_name();
        sidecar.written = self.written;
        let written = if self.written == 0 {
            resume::write_initial(&self.part, &sidecar)
        } else {
            resume::write(&self.part, &sidecar)
        };
        written.map_err(|e| write_error(&self.part, &e))?;
        self.sidecar = Some(sidecar);
        Ok(())
    }

    /// The sidecar, for resumable parts.
    pub fn sidecar(&self) -> Option<&Sidecar> {
        self.sidecar.as_ref()
    }

    /// Records the validator and size of the reply the bytes come from (written to disk at
    /// the next checkpoint).
    pub fn set_origin(
        &mut self,
        etag: Option<String>,
        last_modified: Option<String>,
        total: Option<u64>,
    ) {
        if let Some(sidecar) = &mut self.sidecar {
            sidecar.etag = etag;
            sidecar.last_modified = last_modified;
            sidecar.total = total;
        }
    }

    /// The SHA-256 the whole file must have to be committed.
    pub fn expect(&mut self, checksum: Option<Checksum>) {
        self.expect = checksum;
    }

    /// Bytes in the part so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// The bytes a resume would go on from: those its last checkpoint recorded as safe (the
    /// done ranges of a split download). Zero for a part that cannot be resumed.
    pub fn kept_bytes(&self) -> u64 {
        let ranges = |s: &Sidecar| s.segments.iter().map(|(start, end)| end - start).sum();
        self.sidecar
            .as_ref()
            .map_or(0, |s| match s.segments.is_empty() {
                true => s.written,
                false => ranges(s),
            })
    }

    /// The path of the `.part` itself.
    pub fn part_path(&self) -> &Path {
        &self.part
    }

    /// Empties the part to start over (the server sent the whole file instead of the rest).
    pub fn restart(&mut self) -> Result<(), FetchError> {
        let part = self.part.clone();
        let file = self.file.as_mut().ok_or_else(|| closed_error(&part))?;
        let result = (|| {
            file.flush()?;
            let inner = &mut file.file;
            inner.set_len(0)?;
            inner.seek(SeekFrom::Start(0))?;
            Ok::<_, io::Error>(())
        })();
        result.map_err(|e| write_error(&part, &e))?;
        self.hasher = Sha256::new();
        self.written = 0;
        if let Some(sidecar) = &mut self.sidecar {
            sidecar.written = 0;
            sidecar.segments.clear();
        }
        self.checkpoint()
    }

    /// Flushes and fsyncs, then records in the sidecar that the bytes so far are safe.
    fn checkpoint(&mut self) -> Result<(), FetchError> {
        let Some(sidecar) = &mut self.sidecar else {
            return Ok(());
        };
        let file = self.file.as_mut().ok_or_else(|| closed_error(&self.part))?;
        file.flush().map_err(|e| write_error(&self.part, &e))?;
        file.file
            .sync_data()
            .map_err(|e| write_error(&self.part, &e))?;
        sidecar.written = self.written;
        resume::write_checkpoint(&self.part, sidecar).map_err(|e| write_error(&self.part, &e))?;
        self.last_checkpoint = Instant::now();
        Ok(())
    }

    /// Leaves the `.part` (and its sidecar, recording every byte written) on disk to be
    /// resumed later, and frees its final name. Returns the `.part`'s path.
    ///
    /// On a full disk a resumable part is kept as its last checkpoint recorded it (what lies
    /// beyond is cut off when resumed): what was downloaded is not thrown away for want of space.
    pub fn keep(mut self) -> Result<PathBuf, FetchError> {
        let saved = self.checkpoint().and_then(|()| match self.file.as_mut() {
            Some(file) => file.flush().map_err(|e| write_error(&self.part, &e)),
            None => Ok(()),
        });
        if let Err(e) = saved {
            let full = matches!(
                e,
                FetchError::Write {
                    problem: DiskProblem::Full,
                    ..
                }
            );
            if !full || self.sidecar.is_none() {
                return Err(e);
            }
        }
        self.kept = true;
        self.names.release(&self.target);
        Ok(self.part.clone())
    }

    /// Marks the file, before it is moved into place, as downloaded from `url` the way
    /// browsers do, so the system still warns before a downloaded program runs (see
    /// [`sys::mark_downloaded`]). The URL's user name and password are not written.
    pub fn mark_downloaded_from(&mut self, url: &url::Url) {
        self.origin = Some(origin(url));
    }

    /// Makes a part kept for another URL this one's (a re-signed link of the same file): its
    /// sidecar names `source` from now on, written at once so a crash resumes under it.
    /// Errors: the sidecar cannot be written.
    pub fn adopt(&mut self, source: &str) -> Result<(), FetchError> {
        if let Some(sidecar) = &mut self.sidecar {
            sidecar.source = source.to_owned();
            resume::write(&self.part, sidecar).map_err(|e| write_error(&self.part, &e))?;
        }
        Ok(())
    }

    pub fn file_name(&self) -> String {
        self.target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Appends bytes, hashing them on the way (written at once, after anything gathered).
    pub fn write(&mut self, buf: &[u8]) -> Result<(), FetchError> {
        let file = self.file.as_mut().ok_or_else(|| closed_error(&self.part))?;
        file.write_all(buf)
            .map_err(|e| write_error(&self.part, &e))?;
        self.hasher.update(buf);
        self.written += buf.len() as u64;
        self.maybe_checkpoint()
    }

    /// Appends a chunk, hashing it on the way; chunks are gathered and written together.
    pub fn write_chunk(&mut self, chunk: Bytes) -> Result<(), FetchError> {
        let file = self.file.as_mut().ok_or_else(|| closed_error(&self.part))?;
        self.hasher.update(&chunk);
        self.written += chunk.len() as u64;
        file.push(chunk).map_err(|e| write_error(&self.part, &e))?;
        self.maybe_checkpoint()
    }

    fn maybe_checkpoint(&mut self) -> Result<(), FetchError> {
        if let Some(sidecar) = &self.sidecar
            && self.written - sidecar.written >= CHECKPOINT_BYTES
            && self.last_checkpoint.elapsed() >= CHECKPOINT_EVERY
        {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Verifies the length against `expected` and the SHA-256 against the expected one,
    /// flushes and fsyncs, then moves the file to its final name. Without `overwrite`, an
    /// existing file is never replaced: if one appeared meanwhile, the next free `name (N)` is
    /// taken instead. On a checksum mismatch the bytes stay in the `.part` (kept, never
    /// renamed) and the error says so.
    pub fn commit(mut self, expected: Option<u64>) -> Result<Committed, FetchError> {
        if let Some(expected) = expected {
            if self.written < expected {
                return Err(FetchError::ShortBody {
                    expected,
                    received: self.written,
                });
            }
            if self.written > expected {
                return Err(FetchError::LongBody { expected });
            }
        }
        let sha256 = Checksum(self.hasher.clone().finalize().into());
        if let Some(expect) = self.expect
            && expect != sha256
        {
            let part = self.part.clone();
            self.keep()?;
            return Err(FetchError::Checksum {
                expected: expect.to_string(),
                actual: sha256.to_string(),
                part,
            });
        }
        // A resumable part records every byte first: if the move fails below, the complete
        // download stays resumable (a retry finds nothing left to fetch and moves it again).
        self.checkpoint()?;
        let mut file = self.file.take().ok_or_else(|| closed_error(&self.part))?;
        file.flush().map_err(|e| write_error(&self.part, &e))?;
        let file = file.file;
        file.sync_all().map_err(|e| write_error(&self.part, &e))?;
        if let Some(url) = &self.origin {
            sys::mark_downloaded(&self.part, url);
        }
        // The lock is held through the move and the sidecar's removal: whoever takes it next
        // finds either a part with its sidecar, or no part.
        let placed = self.place();
        if placed.is_ok() && self.sidecar.is_some() {
            resume::remove(&self.part);
        }
        drop(file);
        if let Err(e) = placed {
            // The target is open elsewhere, read-only, or the folder refuses: the verified
            // bytes are not thrown away with the failure.
            self.kept = true;
            self.names.release(&self.target);
            let FetchError::Write {
                path,
                message,
                problem,
            } = e
            else {
                return Err(e);
            };
            return Err(FetchError::Write {
                path,
                problem,
                message: format!(
                    "{message}; the complete download is kept in {}",
                    self.part.display()
                ),
            });
        }
        sync_parent(&self.target);
        let committed = Committed {
            path: self.target.clone(),
            bytes: self.written,
            sha256,
        };
        // Committed: the drop guard must neither delete the file nor free its name.
        self.part = PathBuf::new();
        Ok(committed)
    }

    fn place(&mut self) -> Result<(), FetchError> {
        if self.overwrite {
            return fs::rename(&self.part, &self.target).map_err(|e| write_error(&self.target, &e));
        }
        loop {
            match move_unless_taken(&self.part, &self.target) {
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => self.next_free_target()?,
                Err(e) => return Err(write_error(&self.target, &e)),
            }
        }
    }

    /// Someone else created our target meanwhile: move on to the next free variant.
    fn next_free_target(&mut self) -> Result<(), FetchError> {
        let dest = self
            .target
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let (_, candidate) = take_free(&self.names, &dest, &self.base, 1, false)?;
        self.names.release(&self.target);
        self.target = candidate;
        Ok(())
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if self.part.as_os_str().is_empty() || self.kept {
            return; // committed, or kept for resuming
        }
        drop(self.file.take());
        if self.sidecar.is_some() {
            resume::remove(&self.part);
        }
        if let Err(e) = fs::remove_file(&self.part)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.part.display(), error = %e, "could not remove .part file");
        }
        self.names.release(&self.target);
    }
}

/// The URL as a downloaded-from mark names it: without user name or password.
fn origin(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.into()
}

/// Whether the file at `path` is marked as downloaded from `url`
/// ([`PartFile::mark_downloaded_from`]). False without a mark, and where the platform's mark
/// names no URL (macOS) or the file system keeps none (FAT, Wine's folders). Blocking.
pub(crate) fn downloaded_from(path: &Path, url: &url::Url) -> bool {
    sys::downloaded_from(path).is_some_and(|marked| marked == origin(url))
}

pub(crate) fn write_error(path: &Path, e: &io::Error) -> FetchError {
    FetchError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
        problem: DiskProblem::of_error(e),
    }
}

fn closed_error(path: &Path) -> FetchError {
    FetchError::Write {
        path: path.to_path_buf(),
        message: "file already closed".to_owned(),
        problem: DiskProblem::Other,
    }
}

#[cfg(test)]
mod tests;
