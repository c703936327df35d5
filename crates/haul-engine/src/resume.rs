//! Resuming: the sidecar kept beside a `.part`, and finding it again.
//!
//! Owns: the sidecar format (`<name>.part.haul`, JSON: source, final name, validator, total,
//! bytes safely on disk), writing it atomically, and the per-folder index from a source URL
//! to the `.part` that holds its bytes. The index is read from the folder once (one directory
//! listing) and kept up to date as items keep or finish their parts, so a batch of thousands
//! of items does not list the folder thousands of times. Also: handing kept bytes over to a
//! new address of the same file, and deleting them when a person discards them.
//! Must not touch: the network, events, what the `.part` holds (that is `output`).

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::protocol::{Source, is_sharing_violation};

/// The sidecar format's version. Version 2 added `segments` (a split download's done ranges);
/// version 1 sidecars still load (they have none). A sidecar of an unknown version is ignored
/// (never deleted).
const VERSION: u32 = 2;
/// The oldest version still read.
const OLDEST_VERSION: u32 = 1;
/// `foo.iso.part` → `foo.iso.part.haul`.
const SIDECAR_SUFFIX: &str = ".haul";

/// What is known about a kept `.part`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    pub version: u32,
    /// The source URL, as submitted (without a `#sha256=` fragment).
    pub source: String,
    /// The final file name the bytes are for.
    pub name: String,
    /// The validator of the reply the bytes came from, for `If-Range`.
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The whole size, when the server said.
    pub total: Option<u64>,
    /// Bytes at the start of the `.part` that were fsynced before this was written. Bytes
    /// beyond this are not trusted after a crash and are fetched again (unless `segments`
    /// says otherwise).
    pub written: u64,
    /// A split download: the byte ranges `[start, end)` fsynced before this was written,
    /// sorted and disjoint; the `.part` has the file's full length and only these ranges
    /// are trusted. Empty for a download written front to back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<(u64, u64)>,
}

impl Sidecar {
    pub fn new(source: &str, name: &str) -> Sidecar {
        Sidecar {
            version: VERSION,
            source: source.to_owned(),
            name: name.to_owned(),
            etag: None,
            last_modified: None,
            total: None,
            written: 0,
            segments: Vec::new(),
        }
    }

    /// The `If-Range` value: a strong ETag, else Last-Modified.
    pub fn validator(&self) -> Option<&str> {
        self.etag
            .as_deref()
            .filter(|tag| !tag.starts_with("W/"))
            .or(self.last_modified.as_deref())
    }
}

/// `dir/name.part` → `dir/name.part.haul`.
pub fn sidecar_path(part: &Path) -> PathBuf {
    let mut path = part.as_os_str().to_owned();
    path.push(SIDECAR_SUFFIX);
    PathBuf::from(path)
}

/// `dir/name.part.haul` → `dir/name.part`.
fn part_of(sidecar: &Path) -> Option<PathBuf> {
    let text = sidecar.to_str()?;
    text.strip_suffix(SIDECAR_SUFFIX).map(PathBuf::from)
}

/// Writes the sidecar for `part` atomically: a temporary file, fsynced, renamed over. Another
/// program holding the sidecar open for a moment (see [`is_transient_lock`]) is waited out
/// for up to [`LOCK_PATIENCE`].
pub fn write(part: &Path, sidecar: &Sidecar) -> io::Result<()> {
    let path = sidecar_path(part);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let json = serde_json::to_vec(sidecar).map_err(io::Error::other)?;
    let result = (|| {
        let mut file = retry_while_locked(|| fs::File::create(&tmp))?;
        file.write_all(&json)?;
        file.sync_all()?;
        drop(file);
        retry_while_locked(|| fs::rename(&tmp, &path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Saves a checkpoint's sidecar. A lock that outlasts [`LOCK_PATIENCE`] skips this save
/// rather than fail the item (and lose its bytes): the sidecar on disk still holds the last
/// checkpoint, which stays true (it records fewer bytes than the `.part` has), and the next
/// checkpoint tries again.
pub fn write_checkpoint(part: &Path, sidecar: &Sidecar) -> io::Result<()> {
    match write(part, sidecar) {
        Err(e) if is_transient_lock(&e) => {
            tracing::warn!(part = %part.display(), error = %e, "sidecar locked by another program; saved at the next checkpoint");
            Ok(())
        }
        other => other,
    }
}

/// How long a save waits out another program's lock on the sidecar.
pub const LOCK_PATIENCE: Duration = Duration::from_secs(2);

/// Whether `error` is another program holding the file for a moment: on Windows an indexer or
/// antivirus opening it without sharing (a sharing or lock violation, or a denied access
/// while it is open for deletion). Unix has no such locks.
pub fn is_transient_lock(error: &io::Error) -> bool {
    cfg!(windows)
        && (error.kind() == io::ErrorKind::PermissionDenied
            || error.raw_os_error().is_some_and(is_sharing_violation))
}

/// Runs `op` again while it fails with [`is_transient_lock`], for up to [`LOCK_PATIENCE`].
fn retry_while_locked<T>(mut op: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    let deadline = Instant::now() + LOCK_PATIENCE;
    let mut pause = Duration::from_millis(10);
    loop {
        match op() {
            Err(e) if is_transient_lock(&e) && Instant::now() + pause < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}

/// Writes the first sidecar of a new `part` (nothing checkpointed yet) without the fsync and
/// rename of [`write`]: if it is lost or torn in a crash, nothing is lost with it (it records
/// no bytes), and one fsync less per item counts when there are thousands of them.
pub fn write_initial(part: &Path, sidecar: &Sidecar) -> io::Result<()> {
    let json = serde_json::to_vec(sidecar).map_err(io::Error::other)?;
    fs::write(sidecar_path(part), json)
}

/// Reads the sidecar of `part`, if there is a valid one of this version.
pub fn read(part: &Path) -> Option<Sidecar> {
    let bytes = fs::read(sidecar_path(part)).ok()?;
    let sidecar: Sidecar = serde_json::from_slice(&bytes).ok()?;
    (OLDEST_VERSION..=VERSION)
        .contains(&sidecar.version)
        .then_some(sidecar)
}

/// Removes the sidecar of `part` (if any).
pub fn remove(part: &Path) {
    let path = sidecar_path(part);
    if let Err(e) = fs::remove_file(&path)
        && e.kind() != io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "could not remove sidecar");
    }
}

/// Source URL → kept `.part`, per destination folder.
#[derive(Debug, Default)]
pub struct ResumeIndex {
    folders: Mutex<HashMap<PathBuf, HashMap<String, PathBuf>>>,
    /// (folder, new source) → the source whose bytes it goes on from ([`ResumeIndex::hand_over`]).
    handed: Mutex<HashMap<(PathBuf, String), String>>,
}

impl ResumeIndex {
    /// The bytes kept for `from` in `dest` go on as `to`'s (the same file at a new address):
    /// [`ResumeIndex::take`] for `to` finds them, if they have a size and a strong validator.
    /// Local copies keep nothing to hand over.
    pub fn hand_over(&self, dest: &Path, from: &Source, to: &Source) {
        let (Source::Url(from), Source::Url(to)) = (from, to) else {
            return;
        };
        let mut handed = self.handed.lock().unwrap_or_else(PoisonError::into_inner);
        handed.insert((dest.to_path_buf(), to.to_string()), from.to_string());
    }

    /// Takes the kept part for `source` in `dest` (so one item claims it), with its sidecar;
    /// or the part handed over to it ([`ResumeIndex::hand_over`]), whose sidecar still names
    /// the source it was kept for (the caller adopts it). Blocking: lists `dest` the first
    /// time it is asked about.
    pub fn take(&self, dest: &Path, source: &str) -> Option<(PathBuf, Sidecar)> {
        let mut handed = self.handed.lock().unwrap_or_else(PoisonError::into_inner);
        let from = handed.remove(&(dest.to_path_buf(), source.to_owned()));
        drop(handed);
        if let Some(from) = from
            && let Some((part, sidecar)) = self.take_kept(dest, &from)
        {
            if sidecar.total.is_some() && sidecar.validator().is_some() {
                return Some((part, sidecar));
            }
            self.put(dest, &from, &part); // no way to tell the new address serves these bytes
        }
        self.take_kept(dest, source)
    }

    fn take_kept(&self, dest: &Path, source: &str) -> Option<(PathBuf, Sidecar)> {
        let mut folders = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
        let folder = folders
            .entry(dest.to_path_buf())
            .or_insert_with(|| scan(dest));
        let part = folder.remove(source)?;
        drop(folders);
        let sidecar = read(&part)?;
        (sidecar.source == source && part.is_file()).then_some((part, sidecar))
    }

    /// True when `dest` has been listed already and holds no kept part for `source`: then
    /// [`ResumeIndex::take`] would find nothing, and asking costs no trip to the disk.
    pub fn known_absent(&self, dest: &Path, source: &str) -> bool {
        let handed = self.handed.lock().unwrap_or_else(PoisonError::into_inner);
        if handed.contains_key(&(dest.to_path_buf(), source.to_owned())) {
            return false;
        }
        drop(handed);
        let folders = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
        folders
            .get(dest)
            .is_some_and(|folder| !folder.contains_key(source))
    }

    /// Takes a kept part whose bytes are of the same file as a reply from another URL: the
    /// same final `name`, the same `total` and the same strong `validator` (a re-signed link
    /// of a cloud drive, an expired link given anew). The caller makes it its own (its
    /// sidecar names the old URL). Blocking: reads the sidecars of the folder's parts named
    /// like `name`.
    pub fn take_same_file(
        &self,
        dest: &Path,
        name: &str,
        total: u64,
        validator: &str,
    ) -> Option<(PathBuf, Sidecar)> {
        let mut folders = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
        let folder = folders
            .entry(dest.to_path_buf())
            .or_insert_with(|| scan(dest));
        let stem = crate::names::split_extension(name).0;
        let (source, part, sidecar) = folder.iter().find_map(|(source, part)| {
            let file = part.file_name()?.to_string_lossy();
            if !file.starts_with(stem) {
                return None;
            }
            let sidecar = read(part)?;
            if sidecar.name != name {
                return None;
            }
            let same = sidecar.total == Some(total) && sidecar.validator() == Some(validator);
            if !same {
                // Said, not silent: the bytes stay for their own link, and this one starts over.
                tracing::warn!(
                    part = %part.display(),
                    "bytes kept for {name} are of another version of the file (its size or \
                     validator changed); downloading it again from the start"
                );
            }
            same.then(|| (source.clone(), part.clone(), sidecar))
        })?;
        folder.remove(&source);
        Some((part, sidecar))
    }

    /// Deletes the bytes kept for `source` in `dest` (its `.part` and sidecar), unless another
    /// process is writing them. Blocking.
    pub fn discard(&self, dest: &Path, source: &str) {
        if let Some((part, _)) = self.take_kept(dest, source) {
            // Never the part another process is writing: only one whose lock is free.
            let locked = std::fs::OpenOptions::new()
                .write(true)
                .open(&part)
                .map(|file| file.try_lock().map(|()| file));
            let _held = match locked {
                Ok(Ok(file)) => Some(file),
                Ok(Err(std::fs::TryLockError::WouldBlock)) => {
                    tracing::warn!(part = %part.display(), "in use by another download; not removed");
                    return;
                }
                _ => None,
            };
            if let Err(e) = std::fs::remove_file(&part)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(part = %part.display(), error = %e, "could not remove .part");
            }
            remove(&part);
            tracing::info!(part = %part.display(), "kept bytes discarded");
        }
    }

    /// Records a part kept for `source`, so a later submission resumes it.
    pub fn put(&self, dest: &Path, source: &str, part: &Path) {
        let mut folders = self.folders.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(folder) = folders.get_mut(dest) {
            folder.insert(source.to_owned(), part.to_path_buf());
        }
        // A folder not listed yet will be listed (and find this part) when first asked.
    }
}

/// Every valid sidecar in `dest`, by source. When two parts claim one source, the one with
/// more bytes wins.
fn scan(dest: &Path) -> HashMap<String, PathBuf> {
    let mut found: HashMap<String, (u64, PathBuf)> = HashMap::new();
    let Ok(entries) = fs::read_dir(dest) else {
        return HashMap::new();
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Some(part) = part_of(&path) else {
            continue;
        };
        let Some(sidecar) = read(&part) else {
            continue;
        };
        let better = found
            .get(&sidecar.source)
            .is_none_or(|(written, _)| sidecar.written > *written);
        if better && part.is_file() {
            found.insert(sidecar.source, (sidecar.written, part));
        }
    }
    found
        .into_iter()
        .map(|(source, (_, part))| (source, part))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An indexer or antivirus holding the sidecar open for a moment, sharing nothing: the
    /// save waits it out (it failed the item at once, and the item's bytes with it), and the
    /// lock reads as "in use", not "Haul may not write here".
    #[cfg(windows)]
    #[test]
    fn a_sidecar_held_open_for_a_moment_is_saved_once_it_is_let_go() -> io::Result<()> {
        use std::os::windows::fs::OpenOptionsExt as _;
        let dir = tempfile::tempdir()?;
        let part = dir.path().join("a.part");
        write(&part, &Sidecar::new("http://h/a", "a"))?;
        let held = fs::OpenOptions::new()
            .read(true)
            .share_mode(0)
            .open(sidecar_path(&part))?;
        let refused = fs::OpenOptions::new()
            .write(true)
            .open(sidecar_path(&part))
            .expect_err("the file is held");
        assert_eq!(
            crate::protocol::DiskProblem::of_error(&refused),
            crate::protocol::DiskProblem::InUse,
            "{refused}"
        );
        let letting_go = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            drop(held);
        });
        let mut later = Sidecar::new("http://h/a", "a");
        later.written = 5;
        write(&part, &later)?;
        letting_go.join().expect("join");
        assert_eq!(read(&part).map(|s| s.written), Some(5));
        Ok(())
    }

    #[test]
    fn sidecars_round_trip_and_the_index_finds_each_part_once() -> io::Result<()> {
        let dir = tempfile::tempdir()?;
        let part = dir.path().join("a.iso.part");
        fs::write(&part, b"12345")?;
        let mut sidecar = Sidecar::new("http://h/a.iso", "a.iso");
        sidecar.etag = Some("\"v1\"".into());
        sidecar.total = Some(10);
        sidecar.written = 5;
        write(&part, &sidecar)?;
        assert_eq!(read(&part), Some(sidecar.clone()));
        assert_eq!(sidecar.validator(), Some("\"v1\""));

        // Noise: a sidecar without its part, a broken one, an unrelated file.
        fs::write(
            dir.path().join("gone.part.haul"),
            serde_json::to_vec(&sidecar)?,
        )?;
        fs::write(dir.path().join("b.part"), b"x")?;
        fs::write(dir.path().join("b.part.haul"), b"{not json")?;
        fs::write(dir.path().join("notes.txt"), b"hi")?;

        let index = ResumeIndex::default();
        assert!(
            !index.known_absent(dir.path(), "http://h/a.iso"),
            "not listed yet"
        );
        assert_eq!(
            index.take(dir.path(), "http://h/a.iso"),
            Some((part.clone(), sidecar))
        );
        assert_eq!(
            index.take(dir.path(), "http://h/a.iso"),
            None,
            "claimed once"
        );
        assert!(index.known_absent(dir.path(), "http://h/a.iso"));
        index.put(dir.path(), "http://h/a.iso", &part);
        assert!(
            index.take(dir.path(), "http://h/a.iso").is_some(),
            "kept again"
        );
        assert_eq!(index.take(dir.path(), "http://h/b"), None);

        remove(&part);
        assert_eq!(read(&part), None);
        Ok(())
    }

    #[test]
    fn a_weak_etag_is_no_validator_but_last_modified_is() {
        let mut sidecar = Sidecar::new("http://h/x", "x");
        sidecar.etag = Some("W/\"weak\"".into());
        assert_eq!(sidecar.validator(), None);
        sidecar.last_modified = Some("Wed, 21 Oct 2026 07:28:00 GMT".into());
        assert_eq!(sidecar.validator(), Some("Wed, 21 Oct 2026 07:28:00 GMT"));
    }
}
