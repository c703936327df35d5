//! File-system primitives under [`PartFile`](super::PartFile): chunks gathered and written
//! with one `writev`, the move into place that never replaces an existing file, and fsync of
//! a folder.
//!
//! Owns: the system calls and their fallbacks per platform and file system.
//! Must not touch: names, sidecars, hashing, the network.

use std::fs::{self, File};
use std::io::{self, IoSlice, Write};
use std::path::Path;

use bytes::Bytes;

/// Network chunks are gathered up to this many bytes and written with one `writev`: few
/// syscalls, and no copy into a buffer on the way.
const WRITE_BUFFER: usize = 256 * 1024;

/// A `.part`'s file, written from whole chunks: small ones are gathered and written together
/// with one `writev`, without being copied into a buffer first.
#[derive(Debug)]
pub(super) struct Gather {
    pub(super) file: File,
    pending: Vec<Bytes>,
    pending_len: usize,
}

impl Gather {
    pub(super) fn new(file: File) -> Gather {
        Gather {
            file,
            pending: Vec::new(),
            pending_len: 0,
        }
    }

    pub(super) fn push(&mut self, chunk: Bytes) -> io::Result<()> {
        self.pending_len += chunk.len();
        self.pending.push(chunk);
        if self.pending_len >= WRITE_BUFFER {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what is gathered, then `buf`.
    pub(super) fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.flush()?;
        self.file.write_all(buf)
    }

    /// Writes everything gathered (`writev`, resumed after short writes).
    pub(super) fn flush(&mut self) -> io::Result<()> {
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
pub(super) fn move_unless_taken(from: &Path, to: &Path) -> io::Result<()> {
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
pub(super) fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

pub(super) fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(parent) = path.parent()
        && let Ok(dir) = File::open(parent)
    {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = path;
}
