//! A whole file another program wrote, taken as a [`PartFile`]'s bytes: ffmpeg remuxes a
//! stream into a file of Haul's own (in the stream's folder, inside the destination), which is
//! then moved over the item's `.part` — created exclusively beforehand, so the final name was
//! Haul's from the start — instead of being copied into it. The bytes are hashed where they
//! lie, and the part commits as any other (its length and SHA-256 checked, then the rename).
//! Also: hashing a file's first bytes (a kept part reopened).
//! Must not touch: names, the network, the sidecar (a taken part has none).

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read as _};
use std::path::Path;

use sha2::{Digest as _, Sha256};

use super::sys::Gather;
use super::{PartFile, closed_error, write_error};
use crate::protocol::FetchError;

impl PartFile {
    /// Makes the file at `path` (on the same file system, written and closed by another
    /// program) this part's bytes: moved over the still empty `.part`, reopened, locked again
    /// and hashed. Errors: the part has bytes already, or the move or the read fails (the
    /// file at `path` is left as it was unless the move happened).
    pub fn take_file(&mut self, path: &Path) -> Result<(), FetchError> {
        if self.written > 0 || self.sidecar.is_some() {
            return Err(FetchError::Write {
                path: self.part.clone(),
                message: "only an empty part without a sidecar can take a file".to_owned(),
                problem: crate::protocol::DiskProblem::Other,
            });
        }
        // Closed (and so unlocked) first: Windows moves nothing over an open file.
        drop(self.file.take().ok_or_else(|| closed_error(&self.part))?);
        fs::rename(path, &self.part).map_err(|e| write_error(&self.part, &e))?;
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.part)
            .map_err(|e| write_error(&self.part, &e))?;
        file.try_lock().map_err(|e| {
            let e = match e {
                TryLockError::WouldBlock => io::ErrorKind::WouldBlock.into(),
                TryLockError::Error(e) => e,
            };
            write_error(&self.part, &e)
        })?;
        let length = file
            .metadata()
            .map_err(|e| write_error(&self.part, &e))?
            .len();
        let (hasher, read) =
            hash_prefix(&mut file, length).map_err(|e| write_error(&self.part, &e))?;
        if read != length {
            return Err(FetchError::ShortBody {
                expected: length,
                received: read,
            });
        }
        self.hasher = hasher;
        self.written = read;
        self.file = Some(Gather::new(file));
        Ok(())
    }
}

/// The SHA-256 of the first `len` bytes of `file`, read from where it stands, and how many
/// there were (fewer when the file ends first).
pub(super) fn hash_prefix(file: &mut File, len: u64) -> io::Result<(Sha256, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1024 * 1024];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = file.read(&mut buf[..want])?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        left -= n as u64;
    }
    Ok((hasher, len - left))
}
