//! Many files under one item (a torrent's): the free name of its top file or folder in the
//! destination (`name`, `name (1)`…, never over what is there), moving each verified file
//! from its working folder to its final name without replacing anything, and the positioned
//! reads and writes its storage makes.
//!
//! Owns: those steps on disk. Must not touch: what the names are made of (the torrent's
//! layout sanitises them with `names`), when a file is verified (the BitTorrent engine).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use super::naming::take_free;
use super::sys;
use crate::names::Names;
use crate::protocol::{DiskProblem, FetchError};

/// The first free variant of `base` in `dest` (`base`, `base (1)`…), taken: a folder is
/// created there (exclusively: one that appears meanwhile is passed over); a file's name is
/// reserved in `names` for the move that follows.
pub(crate) fn take_top(
    names: &Names,
    dest: &Path,
    base: &str,
    folder: bool,
) -> Result<PathBuf, FetchError> {
    let mut from = 0;
    loop {
        let (n, path) = take_free(names, dest, base, from, false)?;
        if !folder {
            return Ok(path);
        }
        match std::fs::create_dir(&path) {
            Ok(()) => {
                names.release(&path);
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                names.release(&path);
                from = n + 1;
            }
            Err(e) => {
                names.release(&path);
                return Err(super::write_error(&path, &e));
            }
        }
    }
}

/// Whether `path` stays inside `dest` on disk: below it by name, and every folder on the way
/// that is there a real folder, not a link (one a person or program put in the destination
/// would lead out of it); `path` itself, when there, not a link either. `dest` itself may be
/// a link (a Downloads folder on another disk).
pub(crate) fn inside(dest: &Path, path: &Path) -> bool {
    let Ok(below) = path.strip_prefix(dest) else {
        return false;
    };
    let mut at = dest.to_path_buf();
    let mut parts = below.components().peekable();
    while let Some(part) = parts.next() {
        if !matches!(part, std::path::Component::Normal(_)) {
            return false;
        }
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Err(_) => return true, // nothing there yet: nothing below it either
            Ok(m) if m.file_type().is_symlink() => return false,
            Ok(m) if parts.peek().is_some() && !m.is_dir() => return false,
            Ok(_) => {}
        }
    }
    true
}

/// The error for a path that would lead out of the destination ([`inside`]).
pub(crate) fn outside(path: &Path) -> FetchError {
    FetchError::Write {
        path: path.to_path_buf(),
        message: "a link on the way leads out of the destination; nothing is written there"
            .to_owned(),
        problem: DiskProblem::NotAFolder,
    }
}

/// Moves a verified file to `to` (its folders made first), or, when something stands there,
/// to the first free `name (1)`… beside it (never replacing what is there); where it went.
pub(crate) fn move_file_free(from: &Path, to: &Path) -> Result<PathBuf, FetchError> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent).map_err(|e| super::write_error(parent, &e))?;
    }
    // (A path without a file name has no variants: it alone is tried.)
    let name = to.file_name().map(|n| n.to_string_lossy().into_owned());
    for n in 0..10_000 {
        let candidate = match &name {
            Some(name) => to.with_file_name(crate::names::variant(name, n)),
            None if n == 0 => to.to_path_buf(),
            None => break,
        };
        match sys::move_unless_taken(from, &candidate) {
            Ok(()) => {
                sys::sync_parent(&candidate);
                return Ok(candidate);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(super::write_error(&candidate, &e)),
        }
    }
    Err(super::write_error(
        to,
        &io::Error::from(io::ErrorKind::AlreadyExists),
    ))
}

/// Writes all of `buf` at `offset` (see `sys::write_all_at`).
pub(crate) fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<()> {
    sys::write_all_at(file, buf, offset)
}

/// Reads exactly `buf.len()` bytes at `offset` (see `sys::read_exact_at`).
pub(crate) fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<()> {
    sys::read_exact_at(file, buf, offset)
}
