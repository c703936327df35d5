//! The free space on the disk a download goes to: checked before a file of known size is
//! asked for ([`room_for`]), and told when a write fails for want of it ([`no_space`]).
//!
//! Owns: asking the system (`statvfs`, `GetDiskFreeSpaceExW`). Must not touch: parts,
//! sidecars, the network.

use std::io;
use std::path::Path;

use crate::protocol::FetchError;

/// Checks that the disk holding `dest` has room for the `total - have` bytes still to come of
/// a file of known size, before they are asked for. Blocking (one `statvfs`).
/// Errors: [`FetchError::NoSpace`], saying what is needed and what is free. A system that
/// cannot tell its free space lets the download start.
pub fn room_for(dest: &Path, total: u64, have: u64) -> Result<(), FetchError> {
    let needed = total.saturating_sub(have);
    match free_space(dest) {
        Some(free) if free < needed => Err(FetchError::NoSpace {
            folder: dest.to_path_buf(),
            needed,
            free,
        }),
        _ => Ok(()),
    }
}

/// What a write that failed for want of space says once the file's `total` size is known and
/// `have` bytes of it are kept: how much more it needs and how much is free now.
/// Blocking (one `statvfs`).
pub fn no_space(dest: &Path, total: u64, have: u64) -> FetchError {
    FetchError::NoSpace {
        folder: dest.to_path_buf(),
        needed: total.saturating_sub(have),
        free: free_space(dest).unwrap_or(0),
    }
}

/// Bytes this process may still write on the disk that holds `dir` (or, while `dir` does not
/// exist yet, its nearest existing parent): `statvfs`'s `f_bavail × f_frsize` on Unix,
/// `GetDiskFreeSpaceExW`'s bytes available to the caller (quotas counted) on Windows.
/// `None` when the system cannot say.
fn free_space(dir: &Path) -> Option<u64> {
    let existing = dir.ancestors().find(|p| p.is_dir())?;
    available(existing).ok()
}

#[cfg(unix)]
fn available(dir: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt as _;
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `path` is a valid NUL-terminated string and `stat` has room for the struct the
    // call fills; it is read only after the call succeeded.
    if unsafe { libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: statvfs returned 0, so it filled `stat`.
    let stat = unsafe { stat.assume_init() };
    // The field types differ between systems (u32 on some, u64 on others).
    #[allow(clippy::unnecessary_cast)]
    Ok((stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64))
}

#[cfg(windows)]
fn available(dir: &Path) -> io::Result<u64> {
    use std::os::windows::ffi::OsStrExt as _;
    use windows_sys::Win32::Storage::FileSystem::GetDiskFreeSpaceExW;
    let wide: Vec<u16> = dir.as_os_str().encode_wide().chain([0]).collect();
    let mut free = 0u64;
    // SAFETY: `wide` is NUL-terminated; only the caller's free bytes are asked for (the other
    // out-pointers may be null, as the API allows).
    let ok = unsafe {
        GetDiskFreeSpaceExW(
            wide.as_ptr(),
            &mut free,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if ok == 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(free)
}

#[cfg(not(any(unix, windows)))]
fn available(_dir: &Path) -> io::Result<u64> {
    Err(io::ErrorKind::Unsupported.into())
}
