//! Local files: open safely, copy in chunks, stop promptly.
//!
//! Owns: reading a local source. Everything here is blocking and runs on tokio's blocking pool
//! (the job layer calls it through `spawn_blocking`). Cancellation is a token checked between
//! chunks, so a stop takes effect within one chunk's read and write.
//! Must not touch: channels, events, names of the output (it only suggests one).

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio_util::sync::CancellationToken;

use super::Stop;
use crate::names;
use crate::output::PartFile;
use crate::protocol::FetchError;

/// Bytes read at a time: large enough for full disk speed, small enough that a stop lands fast.
const CHUNK: usize = 1024 * 1024;

/// An opened local source.
#[derive(Debug)]
pub struct Opened {
    pub file: File,
    pub name: String,
    pub len: u64,
}

/// Opens `path` for reading. Directories, FIFOs, sockets, devices and missing paths are clear
/// errors; a FIFO is never opened in a way that could wait for a writer.
pub fn open(path: &Path) -> Result<Opened, FetchError> {
    let meta = std::fs::metadata(path).map_err(|e| read_error(path, &e))?;
    if let Some(kind) = non_regular_kind(&meta.file_type()) {
        return Err(FetchError::NotAFile {
            path: path.to_path_buf(),
            kind: kind.to_owned(),
        });
    }
    let file = open_nonblocking(path).map_err(|e| read_error(path, &e))?;
    // The path may have been swapped between the two looks: trust the opened handle.
    let meta = file.metadata().map_err(|e| read_error(path, &e))?;
    if let Some(kind) = non_regular_kind(&meta.file_type()) {
        return Err(FetchError::NotAFile {
            path: path.to_path_buf(),
            kind: kind.to_owned(),
        });
    }
    let name = path
        .file_name()
        .map(|n| names::sanitize(&n.to_string_lossy()))
        .unwrap_or_else(|| names::FALLBACK_NAME.to_owned());
    Ok(Opened {
        file,
        name,
        len: meta.len(),
    })
}

/// Copies the whole source into `part`, adding to `progress` as it goes. Returns
/// `Err(Stop::Stopped)` soon after `stop` is cancelled.
pub fn copy(
    source: &mut File,
    path: &Path,
    part: &mut PartFile,
    stop: &CancellationToken,
    progress: &AtomicU64,
) -> Result<(), Stop> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        if stop.is_cancelled() {
            return Err(Stop::Stopped);
        }
        let n = match source.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Stop::Failed(read_error(path, &e))),
        };
        part.write(&buf[..n]).map_err(Stop::Failed)?;
        progress.fetch_add(n as u64, Ordering::Relaxed);
    }
}

fn non_regular_kind(kind: &std::fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("FIFO");
        }
        if kind.is_socket() {
            return Some("socket");
        }
        if kind.is_block_device() || kind.is_char_device() {
            return Some("device");
        }
    }
    Some("special file")
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    // Regular files ignore O_NONBLOCK for reads; it only guards the open itself.
    Ok(file)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

fn read_error(path: &Path, e: &io::Error) -> FetchError {
    if e.kind() == io::ErrorKind::NotFound {
        FetchError::NotFound(path.to_path_buf())
    } else {
        FetchError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directories_and_missing_paths_are_clear_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            open(dir.path()).err(),
            Some(FetchError::NotAFile {
                path: dir.path().to_path_buf(),
                kind: "directory".to_owned()
            })
        );
        let missing = dir.path().join("nope");
        assert_eq!(open(&missing).err(), Some(FetchError::NotFound(missing)));
    }

    #[cfg(unix)]
    #[test]
    fn a_device_is_refused() {
        let null = Path::new("/dev/null");
        assert_eq!(
            open(null).err(),
            Some(FetchError::NotAFile {
                path: null.to_path_buf(),
                kind: "device".to_owned()
            })
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("pipe");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path and a plain mode.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        assert_eq!(
            open(&fifo).err(),
            Some(FetchError::NotAFile {
                path: fifo,
                kind: "FIFO".to_owned()
            })
        );
    }
}
