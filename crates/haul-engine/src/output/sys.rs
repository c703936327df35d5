//! File-system primitives under [`PartFile`](super::PartFile): chunks gathered and written
//! with one `writev`, the move into place that never replaces an existing file, fsync of a
//! folder, and the "downloaded from the internet" mark.
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

    /// Writes everything gathered (`writev`, resumed after short writes). After an error
    /// (a full disk) what did reach the file is no longer pending: a later flush never writes
    /// a byte twice.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        let Gather { file, pending, .. } = self;
        let mut slices: Vec<IoSlice<'_>> = pending.iter().map(|c| IoSlice::new(c)).collect();
        let mut left = &mut slices[..];
        let (mut wrote, mut result) = (0, Ok(()));
        while !left.is_empty() {
            match file.write_vectored(left) {
                Ok(0) => {
                    result = Err(io::ErrorKind::WriteZero.into());
                    break;
                }
                Ok(n) => {
                    wrote += n;
                    IoSlice::advance_slices(&mut left, n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        self.written_out(wrote);
        result
    }

    /// Forgets the first `n` gathered bytes: they are in the file.
    fn written_out(&mut self, mut n: usize) {
        use bytes::Buf as _;
        self.pending_len -= n;
        let whole = self.pending.iter().take_while(|c| {
            let fits = c.len() <= n;
            if fits {
                n -= c.len();
            }
            fits
        });
        let whole = whole.count();
        self.pending.drain(..whole);
        if let Some(first) = self.pending.first_mut() {
            first.advance(n);
        }
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

/// Writes all of `buf` at `offset` without moving the file's cursor (`pwrite`; on Windows a
/// `WriteFile` at that offset), through the shared handle every segment of a split download
/// writes with.
pub(super) fn write_all_at(file: &File, mut buf: &[u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match write_at(file, buf, offset) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads exactly `buf.len()` bytes at `offset` (`pread`), without moving the cursor.
pub(super) fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
    while !buf.is_empty() {
        match read_at(file, buf, offset) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::write_at(file, buf, offset)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, offset)
}

#[cfg(windows)]
fn write_at(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_write(file, buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
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

/// Marks `path` as downloaded from `url`, as browsers mark what they save, so the system
/// still asks before a downloaded program runs when Haul's Open button (or a double-click)
/// opens it. Best effort: a file system without the means (FAT, some network shares) only
/// logs it.
/// - Windows: the Mark of the Web, an NTFS stream `path:Zone.Identifier` with `ZoneId=3`
///   (Internet) and `HostUrl`, as Edge and Chrome write it — only where the volume keeps
///   named streams (NTFS, ReFS; not FAT or exFAT USB drives, nor Wine's folders, where the
///   "stream" would be a stray file beside the download).
/// - macOS: the `com.apple.quarantine` attribute, `0081;<seconds, hex>;Haul;` (the flags
///   Chromium and Firefox write; Gatekeeper checks an app that carries it).
/// - Linux and other Unix: `user.xdg.origin.url`, the freedesktop.org common extended
///   attribute Chromium sets (file managers show it; nothing enforces it).
///
/// Set on the `.part` just before the move: a rename keeps both streams and attributes.
pub(super) fn mark_downloaded(path: &Path, url: &str) {
    if let Err(e) = write_mark(path, url) {
        tracing::debug!(path = %path.display(), error = %e, "no downloaded-from mark");
    }
}

#[cfg(windows)]
fn write_mark(path: &Path, url: &str) -> io::Result<()> {
    if !named_streams(path)? {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the volume keeps no named streams",
        ));
    }
    let mut stream = path.as_os_str().to_owned();
    stream.push(":Zone.Identifier");
    fs::write(stream, zone_identifier(url))
}

/// Whether the volume holding `path` keeps named streams (`FILE_NAMED_STREAMS` among
/// `GetVolumeInformationW`'s flags for the root `GetVolumePathNameW` finds).
#[cfg(windows)]
fn named_streams(path: &Path) -> io::Result<bool> {
    use std::os::windows::ffi::OsStrExt as _;
    use windows_sys::Win32::Storage::FileSystem::{GetVolumeInformationW, GetVolumePathNameW};
    use windows_sys::Win32::System::SystemServices::FILE_NAMED_STREAMS;
    let wide: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
    // The volume's root is never longer than the path it holds, plus a final `\`.
    let mut root = vec![0u16; wide.len() + 2];
    let root_len = u32::try_from(root.len()).map_err(io::Error::other)?;
    // SAFETY: `wide` is NUL-terminated, and `root` has room for the `root_len` characters the
    // call is told it may write.
    if unsafe { GetVolumePathNameW(wide.as_ptr(), root.as_mut_ptr(), root_len) } == 0 {
        return Err(io::Error::last_os_error());
    }
    let mut flags = 0u32;
    // SAFETY: `root` is the NUL-terminated root just written; only the flags are asked for
    // (the other out-pointers are null with zero sizes, as the API allows).
    let ok = unsafe {
        GetVolumeInformationW(
            root.as_ptr(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut flags,
            std::ptr::null_mut(),
            0,
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags & FILE_NAMED_STREAMS != 0)
}

/// The `Zone.Identifier` stream's text (an INI file).
#[cfg_attr(not(windows), allow(dead_code))]
fn zone_identifier(url: &str) -> String {
    format!("[ZoneTransfer]\r\nZoneId=3\r\nHostUrl={url}\r\n")
}

#[cfg(target_os = "macos")]
fn write_mark(path: &Path, _url: &str) -> io::Result<()> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    xattr::set(path, "com.apple.quarantine", quarantine(now).as_bytes())
}

/// The `com.apple.quarantine` value for a download at `now` (seconds since 1970).
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
fn quarantine(now: u64) -> String {
    format!("0081;{now:08x};Haul;")
}

#[cfg(all(unix, not(target_os = "macos")))]
fn write_mark(path: &Path, url: &str) -> io::Result<()> {
    xattr::set(path, "user.xdg.origin.url", url.as_bytes())
}

#[cfg(not(any(unix, windows)))]
fn write_mark(_path: &Path, _url: &str) -> io::Result<()> {
    Ok(())
}

/// The URL `path` is marked as downloaded from ([`mark_downloaded`]), where the platform's
/// mark names one: `HostUrl` in the Mark of the Web on Windows, `user.xdg.origin.url` on Linux
/// and other Unix. None on macOS (its quarantine names no URL), without a mark, or where the
/// file system keeps none.
pub(super) fn downloaded_from(path: &Path) -> Option<String> {
    read_mark(path)
}

#[cfg(windows)]
fn read_mark(path: &Path) -> Option<String> {
    let mut stream = path.as_os_str().to_owned();
    stream.push(":Zone.Identifier");
    let text = fs::read_to_string(stream).ok()?;
    host_url(&text)
}

/// `HostUrl` from a `Zone.Identifier` stream's text.
#[cfg_attr(not(windows), allow(dead_code))]
fn host_url(text: &str) -> Option<String> {
    text.lines()
        .find_map(|line| line.trim_end().strip_prefix("HostUrl="))
        .map(str::to_owned)
}

#[cfg(all(unix, not(target_os = "macos")))]
fn read_mark(path: &Path) -> Option<String> {
    let bytes = xattr::get(path, "user.xdg.origin.url").ok()??;
    String::from_utf8(bytes).ok()
}

#[cfg(not(any(windows, all(unix, not(target_os = "macos")))))]
fn read_mark(_path: &Path) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_read_as_the_platforms_write_them() {
        assert_eq!(
            zone_identifier("https://example.org/a.exe"),
            "[ZoneTransfer]\r\nZoneId=3\r\nHostUrl=https://example.org/a.exe\r\n"
        );
        assert_eq!(
            host_url(&zone_identifier("https://example.org/a.exe")).as_deref(),
            Some("https://example.org/a.exe")
        );
        assert_eq!(quarantine(0x5991_b778), "0081;5991b778;Haul;");
    }
}
