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
//! [`ChunkWriter`] runs a `PartFile` on the blocking pool so async fetchers never touch the disk
//! on a runtime thread.
//! Must not touch: the network, events, or where names come from (that is `names`).

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, IoSlice, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::names;
use super::resume::{self, Sidecar};
use crate::protocol::{Checksum, FetchError, hex};

/// How far `name (N).ext` goes before giving up on a folder.
const MAX_VARIANTS: u32 = 10_000;
/// Network chunks are gathered up to this many bytes and written with one `writev`: few
/// syscalls, and no copy into a buffer on the way.
const WRITE_BUFFER: usize = 256 * 1024;
/// Chunks queued between an async fetcher and its writer thread.
const CHUNK_QUEUE: usize = 64;
/// A resumable part checkpoints (fsync, then the sidecar) at most once a second, once it
/// has at least this many new bytes: a crash or `kill -9` loses at most about a second.
const CHECKPOINT_BYTES: u64 = 256 * 1024;
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Final paths handed out by this engine, so two items never get the same name even when
/// overwriting is allowed or the first has not reached the disk yet.
#[derive(Debug, Default)]
pub struct Names {
    taken: Mutex<HashSet<PathBuf>>,
}

impl Names {
    fn try_take(&self, path: &Path) -> bool {
        self.taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.to_path_buf())
    }

    fn release(&self, path: &Path) {
        self.taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(path);
    }
}

/// A finished, verified file under its final name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: [u8; 32],
}

/// A `.part` file being written. Removed on drop unless committed.
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
            match OpenOptions::new().write(true).create_new(true).open(&part) {
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
    pub fn resume(
        names: &Arc<Names>,
        part: &Path,
        mut sidecar: Sidecar,
        overwrite: bool,
    ) -> Result<PartFile, FetchError> {
        let target = part.with_file_name(&sidecar.name);
        if target.parent() != part.parent() || !names.try_take(&target) {
            return Err(FetchError::Write {
                path: target,
                message: "name already in use by another item".to_owned(),
            });
        }
        let opened = (|| {
            let mut file = OpenOptions::new().read(true).write(true).open(part)?;
            let len = file.metadata()?.len();
            let keep = len.min(sidecar.written);
            file.set_len(keep)?;
            let mut hasher = Sha256::new();
            let mut buf = vec![0u8; 1024 * 1024];
            let mut left = keep;
            while left > 0 {
                let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
                let n = file.read(&mut buf[..want])?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
                left -= n as u64;
            }
            file.seek(SeekFrom::Start(keep - left))?;
            Ok::<_, io::Error>((file, hasher, keep - left))
        })();
        let (file, hasher, written) = match opened {
            Ok(opened) => opened,
            Err(e) => {
                names.release(&target);
                return Err(write_error(part, &e));
            }
        };
        sidecar.written = written;
        Ok(PartFile {
            file: Some(Gather::new(file)),
            part: part.to_path_buf(),
            base: sidecar.name.clone(),
            target,
            overwrite,
            names: Arc::clone(names),
            hasher,
            written,
            sidecar: Some(sidecar),
            last_checkpoint: Instant::now(),
            expect: None,
            kept: false,
        })
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
        resume::write(&self.part, sidecar).map_err(|e| write_error(&self.part, &e))?;
        self.last_checkpoint = Instant::now();
        Ok(())
    }

    /// Leaves the `.part` (and its sidecar, recording every byte written) on disk to be
    /// resumed later, and frees its final name. Returns the `.part`'s path.
    pub fn keep(mut self) -> Result<PathBuf, FetchError> {
        self.checkpoint()?;
        if let Some(file) = self.file.as_mut() {
            file.flush().map_err(|e| write_error(&self.part, &e))?;
        }
        self.kept = true;
        self.names.release(&self.target);
        Ok(self.part.clone())
    }

    /// The name the file will have once committed (it may still change if another program
    /// takes it first).
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
        let sha256: [u8; 32] = self.hasher.clone().finalize().into();
        if let Some(expect) = self.expect
            && expect.0 != sha256
        {
            let part = self.part.clone();
            self.keep()?;
            return Err(FetchError::Checksum {
                expected: expect.to_string(),
                actual: hex(&sha256),
                part,
            });
        }
        let mut file = self.file.take().ok_or_else(|| closed_error(&self.part))?;
        file.flush().map_err(|e| write_error(&self.part, &e))?;
        let file = file.file;
        file.sync_all().map_err(|e| write_error(&self.part, &e))?;
        drop(file);
        self.place()?;
        if self.sidecar.is_some() {
            resume::remove(&self.part);
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

/// Takes the first variant of `base` (`base`, `base (1)`, …), counting from `from`, that this
/// engine has not handed out and, unless `overwrite`, that nothing on disk stands at.
/// Returns its number and path, now reserved in `names`.
fn take_free(
    names: &Names,
    dest: &Path,
    base: &str,
    from: u32,
    overwrite: bool,
) -> Result<(u32, PathBuf), FetchError> {
    for n in from..MAX_VARIANTS {
        let candidate = dest.join(names::variant(base, n));
        if (overwrite || !exists(&candidate)) && names.try_take(&candidate) {
            return Ok((n, candidate));
        }
    }
    Err(FetchError::Write {
        path: dest.join(base),
        message: format!("no free name after {MAX_VARIANTS} tries"),
    })
}

/// `dir/name.ext` → `dir/name.ext.part`.
fn with_part_suffix(target: &Path) -> PathBuf {
    let mut part = target.as_os_str().to_owned();
    part.push(".part");
    PathBuf::from(part)
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

/// A `.part`'s file, written from whole chunks: small ones are gathered and written together
/// with one `writev`, without being copied into a buffer first.
#[derive(Debug)]
struct Gather {
    file: File,
    pending: Vec<Bytes>,
    pending_len: usize,
}

impl Gather {
    fn new(file: File) -> Gather {
        Gather {
            file,
            pending: Vec::new(),
            pending_len: 0,
        }
    }

    fn push(&mut self, chunk: Bytes) -> io::Result<()> {
        self.pending_len += chunk.len();
        self.pending.push(chunk);
        if self.pending_len >= WRITE_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what is gathered, then `buf`.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.flush()?;
        self.file.write_all(buf)
    }

    /// Writes everything gathered (`writev`, resumed after short writes).
    fn flush(&mut self) -> io::Result<()> {
        let Gather { file, pending, .. } = self;
        let mut slices: Vec<IoSlice<'_>> = pending.iter().map(|c| IoSlice::new(c)).collect();
        let mut left = &mut slices[..];
        while !left.is_empty() {
            match file.write_vectored(left) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => IoSlice::advance_slices(&mut left, n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.pending.clear();
        self.pending_len = 0;
        Ok(())
    }
}

/// Moves `from` to `to` unless something stands at `to` (then `AlreadyExists`): in one atomic
/// step where the system can (`renameat2` with `RENAME_NOREPLACE`), else with a hard link,
/// which fails if `to` exists, and removing `from`; on file systems without hard links (FAT,
/// some network shares), a check and a rename.
fn move_unless_taken(from: &Path, to: &Path) -> io::Result<()> {
    if rename_no_replace(from, to)? {
        return Ok(());
    }
    match fs::hard_link(from, to) {
        Ok(()) => {
            // The file is in place; a leftover `.part` link would only be clutter.
            let _ = fs::remove_file(from);
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if exists(to) => Err(io::ErrorKind::AlreadyExists.into()),
        Err(_) => fs::rename(from, to),
    }
}

/// Renames `from` to `to` unless something stands at `to` (then `AlreadyExists`), in one
/// atomic step. Ok(false): this system or file system cannot (the caller links instead).
#[cfg(target_os = "linux")]
fn rename_no_replace(from: &Path, to: &Path) -> io::Result<bool> {
    use std::os::unix::ffi::OsStrExt as _;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(io::Error::other);
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both paths are valid NUL-terminated strings that outlive the call.
    let result = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if result == 0 {
        return Ok(true);
    }
    let error = io::Error::last_os_error();
    match error.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP) => Ok(false),
        _ => Err(error),
    }
}

#[cfg(not(target_os = "linux"))]
fn rename_no_replace(_from: &Path, _to: &Path) -> io::Result<bool> {
    Ok(false)
}

/// True if anything (file, folder, dangling symlink) stands at `path`.
fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(parent) = path.parent()
        && let Ok(dir) = File::open(parent)
    {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn write_error(path: &Path, e: &io::Error) -> FetchError {
    FetchError::Write {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

fn closed_error(path: &Path) -> FetchError {
    FetchError::Write {
        path: path.to_path_buf(),
        message: "file already closed".to_owned(),
    }
}

enum Message {
    Chunk(Bytes),
    Commit(Option<u64>),
    Restart,
}

/// How a writer task ended without an error.
enum Ended {
    Committed(Committed),
    /// Handed back (the fetcher stopped early): the caller keeps or drops it.
    Returned(Box<PartFile>),
}

/// A [`PartFile`] driven from async code: chunks go over a bounded queue to a task on the
/// blocking pool that writes and hashes them, so the network side never waits on the disk
/// except through back-pressure.
pub struct ChunkWriter {
    tx: mpsc::Sender<Message>,
    /// `None` once the writer's result has been collected.
    task: Option<JoinHandle<Result<Ended, FetchError>>>,
}

impl ChunkWriter {
    pub fn spawn(mut part: PartFile) -> ChunkWriter {
        let (tx, mut rx) = mpsc::channel(CHUNK_QUEUE);
        let task = tokio::task::spawn_blocking(move || {
            while let Some(message) = rx.blocking_recv() {
                match message {
                    // A write error drops `part`, removing the `.part` (a full disk gets
                    // its space back).
                    Message::Chunk(bytes) => part.write_chunk(bytes)?,
                    Message::Restart => part.restart()?,
                    Message::Commit(expected) => {
                        return part.commit(expected).map(Ended::Committed);
                    }
                }
            }
            Ok(Ended::Returned(Box::new(part)))
        });
        ChunkWriter {
            tx,
            task: Some(task),
        }
    }

    /// Queues a chunk. An error means the writer stopped; the error says why.
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), FetchError> {
        self.send(Message::Chunk(chunk)).await
    }

    /// Empties the part to start over.
    pub async fn restart(&mut self) -> Result<(), FetchError> {
        self.send(Message::Restart).await
    }

    async fn send(&mut self, message: Message) -> Result<(), FetchError> {
        if self.tx.send(message).await.is_ok() {
            return Ok(());
        }
        // The writer only stops early on an error: collect it.
        match self.collect().await {
            Err(e) => Err(e),
            Ok(_) => Err(stopped_error()),
        }
    }

    /// Writes what is queued, verifies, fsyncs and renames into place.
    pub async fn commit(mut self, expected: Option<u64>) -> Result<Committed, FetchError> {
        // If the writer already stopped, the send fails and `collect` reports why.
        let _ = self.tx.send(Message::Commit(expected)).await;
        match self.collect().await? {
            Ended::Committed(committed) => Ok(committed),
            Ended::Returned(_) => Err(stopped_error()),
        }
    }

    /// Writes what is queued and hands the part back.
    pub async fn into_part(mut self) -> Result<PartFile, FetchError> {
        let (closed, _) = mpsc::channel(1);
        drop(std::mem::replace(&mut self.tx, closed));
        match self.collect().await? {
            Ended::Returned(part) => Ok(*part),
            Ended::Committed(_) => Err(stopped_error()),
        }
    }

    async fn collect(&mut self) -> Result<Ended, FetchError> {
        let Some(task) = self.task.take() else {
            return Err(stopped_error());
        };
        task.await.unwrap_or_else(|e| {
            Err(FetchError::Write {
                path: PathBuf::new(),
                message: format!("writer task failed: {e}"),
            })
        })
    }
}

fn stopped_error() -> FetchError {
    FetchError::Write {
        path: PathBuf::new(),
        message: "writer stopped".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::hex;

    #[test]
    fn commit_hashes_verifies_and_renames() -> Result<(), FetchError> {
        let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
        let names = Arc::new(Names::default());
        let mut part = PartFile::create(&names, dir.path(), "a.txt", false)?;
        assert!(dir.path().join("a.txt.part").exists());
        part.write(b"abc")?;
        let done = part.commit(Some(3))?;
        assert_eq!(done.path, dir.path().join("a.txt"));
        assert_eq!(
            hex(&done.sha256),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(!dir.path().join("a.txt.part").exists());
        assert_eq!(fs::read(&done.path).ok().as_deref(), Some(&b"abc"[..]));
        Ok(())
    }

    /// Windows' classic limit is 260 characters for a whole path. Rust's standard library
    /// (which every file operation here goes through, also behind tokio) turns long absolute
    /// paths into `\\?\` paths itself, so deep destinations work without the system-wide
    /// long-path setting. This runs on every platform; on Windows it proves the point.
    #[test]
    fn a_destination_path_longer_than_260_characters_works() -> Result<(), FetchError> {
        let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
        let mut dest = dir.path().to_path_buf();
        for i in 0..5 {
            dest.push(format!("{i}-{}", "深层文件夹".repeat(10)));
        }
        let names = Arc::new(Names::default());
        let name = format!("{}.bin", "长名字".repeat(60));
        let mut part = PartFile::create(&names, &dest, &name, false)?;
        let path_chars = part.part_path().to_string_lossy().chars().count();
        assert!(path_chars > 300, "only {path_chars} characters");
        part.attach_sidecar(Sidecar::new("https://h/x.bin", &name))?;
        part.write(b"first half, ")?;
        let kept = part.keep()?;
        let sidecar = resume::read(&kept).ok_or_else(|| closed_error(&kept))?;
        let mut part = PartFile::resume(&names, &kept, sidecar, false)?;
        part.write(b"second half")?;
        let done = part.commit(Some(23))?;
        assert_eq!(done.path.parent(), Some(dest.as_path()));
        assert_eq!(
            fs::read(&done.path).ok().as_deref(),
            Some(&b"first half, second half"[..])
        );
        let left: Vec<_> = fs::read_dir(&dest)
            .map_err(|e| write_error(&dest, &e))?
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "no .part or sidecar left: {left:?}");
        Ok(())
    }

    #[test]
    fn short_length_fails_and_leaves_nothing() -> Result<(), FetchError> {
        let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
        let names = Arc::new(Names::default());
        let mut part = PartFile::create(&names, dir.path(), "a.txt", false)?;
        part.write(b"ab")?;
        let err = part.commit(Some(3));
        assert_eq!(
            err,
            Err(FetchError::ShortBody {
                expected: 3,
                received: 2
            })
        );
        assert_eq!(fs::read_dir(dir.path()).map(Iterator::count).ok(), Some(0));
        Ok(())
    }

    #[test]
    fn never_overwrites_and_never_reuses_a_name() -> Result<(), FetchError> {
        let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
        fs::write(dir.path().join("a.txt"), b"mine").map_err(|e| write_error(dir.path(), &e))?;
        let names = Arc::new(Names::default());
        let first = PartFile::create(&names, dir.path(), "a.txt", false)?;
        let second = PartFile::create(&names, dir.path(), "a.txt", false)?;
        assert_eq!(first.file_name(), "a (1).txt");
        assert_eq!(second.file_name(), "a (2).txt");
        // A file appearing under our name before commit is not clobbered either.
        fs::write(dir.path().join("a (1).txt"), b"theirs")
            .map_err(|e| write_error(dir.path(), &e))?;
        let done = first.commit(None)?;
        assert_eq!(done.path, dir.path().join("a (3).txt"));
        assert_eq!(
            fs::read(dir.path().join("a.txt")).ok().as_deref(),
            Some(&b"mine"[..])
        );
        assert_eq!(
            fs::read(dir.path().join("a (1).txt")).ok().as_deref(),
            Some(&b"theirs"[..])
        );
        drop(second);
        assert!(!dir.path().join("a (2).txt.part").exists());
        Ok(())
    }

    #[test]
    fn overwrite_replaces_but_not_within_one_batch() -> Result<(), FetchError> {
        let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
        fs::write(dir.path().join("a.txt"), b"old").map_err(|e| write_error(dir.path(), &e))?;
        let names = Arc::new(Names::default());
        let mut first = PartFile::create(&names, dir.path(), "a.txt", true)?;
        first.write(b"new")?;
        let done = first.commit(None)?;
        assert_eq!(done.path, dir.path().join("a.txt"));
        assert_eq!(fs::read(&done.path).ok().as_deref(), Some(&b"new"[..]));
        let second = PartFile::create(&names, dir.path(), "a.txt", true)?;
        assert_eq!(second.file_name(), "a (1).txt");
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_in_the_way_is_not_followed() -> Result<(), FetchError> {
        let dir = tempfile::tempdir().map_err(|e| write_error(Path::new("tmp"), &e))?;
        let victim = dir.path().join("victim");
        fs::write(&victim, b"keep").map_err(|e| write_error(dir.path(), &e))?;
        std::os::unix::fs::symlink(&victim, dir.path().join("a.txt.part"))
            .map_err(|e| write_error(dir.path(), &e))?;
        let names = Arc::new(Names::default());
        let mut part = PartFile::create(&names, dir.path(), "a.txt", true)?;
        assert_eq!(part.file_name(), "a (1).txt");
        part.write(b"x")?;
        drop(part);
        assert_eq!(fs::read(&victim).ok().as_deref(), Some(&b"keep"[..]));
        Ok(())
    }
}
