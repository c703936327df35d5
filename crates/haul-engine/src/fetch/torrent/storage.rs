//! Where a torrent's bytes live: its [`Layout`] (each file's sanitised path, first in a
//! working folder of the destination, then under its final name) and the librqbit storage
//! that reads and writes those paths. The working folder keeps a record of what earlier runs
//! published ([`PUBLISHED`]): a run with more files chosen takes those files where they are
//! (librqbit verifies their pieces as it does the working folder's) and puts the new ones
//! beside them, in the same top folder, rather than fetching everything into `name (1)`.
//!
//! Owns: turning the torrent's own (server-chosen) names into paths that stay inside the
//! item's folder — every component through `names::sanitize`, names that differ only by case
//! told apart — and the files' handles, which [`Layout::publish`] lets go of while it moves
//! them. Must not touch: when a file is verified or moved (`super`), the swarm.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use anyhow::Context as _;
use librqbit::storage::{BoxStorageFactory, StorageFactory, StorageFactoryExt, TorrentStorage};
use librqbit::{ManagedTorrentShared, TorrentMetadata};
use serde::{Deserialize, Serialize};

use crate::names;
use crate::output::tree;

/// One file of the torrent, as Haul stores it.
pub(crate) struct Entry {
    /// Inside the item's top file or folder, sanitised (`top/sub/name.ext`, or `name.ext`).
    pub relative: PathBuf,
    pub length: u64,
    /// A BEP 47 padding file: never on disk, read as zeros.
    pub padding: bool,
}

/// The torrent's files and where they are now.
pub(crate) struct Layout {
    pub entries: Vec<Entry>,
    /// The top name in the destination (the single file's, or the folder's), sanitised.
    pub top: String,
    /// Whether the top is a folder (a torrent with a file list).
    pub folder: bool,
    /// The working folder the files are written in until verified.
    pub work: PathBuf,
    /// The torrent's piece length (a piece may hold the ends of several files).
    pub piece_length: u64,
    /// The destination the top is in.
    dest: PathBuf,
    /// The top file or folder an earlier run published into (from the record), while it is
    /// there: new files go beside the ones it holds.
    placed: Option<PathBuf>,
    /// Where each file is now (in `work`, or under its final name once published).
    paths: RwLock<Vec<PathBuf>>,
    handles: Vec<Mutex<Option<File>>>,
}

/// The working folder's record of what has been published: [`Record`] as JSON.
pub(crate) const PUBLISHED: &str = "published.json";

/// What earlier runs published, relative to the destination (so a moved destination keeps
/// it): the top they took and each file's index in the torrent and final path.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    top: PathBuf,
    files: Vec<(usize, PathBuf)>,
}

impl Record {
    /// The record in `work`, when there is one: a file, not a link, in a real folder of the
    /// destination (a damaged one is no record).
    fn read(dest: &Path, work: &Path) -> Option<Record> {
        let path = work.join(PUBLISHED);
        let file = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file());
        if !file || !tree::inside(dest, &path) {
            return None;
        }
        let text = std::fs::read(&path).ok()?;
        serde_json::from_slice(&text).ok()
    }
}

/// Where `entry` goes in the item's `top` (the folder a torrent of many files made, or a
/// single file's own path).
fn final_path(folder: bool, top_name: &str, top: &Path, entry: &Entry) -> PathBuf {
    if folder {
        top.join(
            entry
                .relative
                .strip_prefix(top_name)
                .unwrap_or(&entry.relative),
        )
    } else {
        top.to_path_buf()
    }
}

/// Whether a recorded path is a plain relative one (no `..`, no root): it stays inside the
/// destination whatever the record says.
fn plain(path: &Path) -> bool {
    !path.as_os_str().is_empty()
        && path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// A torrent's working folder held by one run ([`Hold::take`]): an OS lock (`flock` /
/// `LockFileEx`) on `.lock` inside it, for as long as the run lasts (seeding too).
pub(crate) struct Hold {
    work: PathBuf,
    lock: File,
}

/// The lock file's name inside the working folder.
const LOCK: &str = ".lock";

impl Hold {
    /// Holds the working folder of the torrent `info_hash` in `dest` (made if missing).
    /// Errors: another run holds it (this process or another Haul), or it is not a real
    /// folder of the destination.
    pub(crate) async fn take(dest: &Path, info_hash: &str) -> Result<Hold, super::Stop> {
        let (dest, work) = (dest.to_path_buf(), work_folder(dest, info_hash));
        crate::item::blocking(move || {
            let failed = |e: &std::io::Error| crate::output::write_error(&work, e);
            if !tree::inside(&dest, &work.join(LOCK)) {
                return Err(tree::outside(&work).into());
            }
            std::fs::create_dir_all(&work).map_err(|e| failed(&e))?;
            let lock = open(&work.join(LOCK), true).map_err(|e| failed(&e))?;
            match lock.try_lock() {
                Ok(()) => Ok(Hold { work, lock }),
                Err(std::fs::TryLockError::WouldBlock) => Err(super::Stop::Failed(
                    crate::protocol::FetchError::Torrent(format!(
                        "this torrent is already being fetched into {} (by this or another \
                         Haul); try again once that ends",
                        dest.display()
                    )),
                )),
                Err(std::fs::TryLockError::Error(e)) => Err(failed(&e).into()),
            }
        })
        .await
    }

    /// Lets the working folder go; removes it when nothing but the lock is left in it.
    pub(crate) async fn release(self) {
        let Hold { work, lock } = self;
        drop(lock); // (Windows removes no folder with a file open in it.)
        let _ = crate::item::blocking(move || {
            let only_lock = std::fs::read_dir(&work).is_ok_and(|entries| {
                entries
                    .filter_map(Result::ok)
                    .all(|e| e.file_name() == LOCK)
            });
            if only_lock {
                let _ = std::fs::remove_file(work.join(LOCK));
                let _ = std::fs::remove_dir(&work);
            }
            Ok(())
        })
        .await;
    }
}

/// A folder's name for a torrent's working folder: hidden, and the same for the same torrent
/// (so a run after a quit or kill -9 finds its verified pieces).
pub(crate) fn work_folder(dest: &Path, info_hash: &str) -> PathBuf {
    dest.join(format!(".haul-torrent-{info_hash}"))
}

impl Layout {
    /// The torrent's files laid out under `work`: every component of every name sanitised,
    /// and names that would clash (also only by case, as on Windows and macOS) numbered.
    /// Files an earlier run published (see [`PUBLISHED`]) and still there at their length
    /// are taken where they are.
    pub(crate) fn new(metadata: &TorrentMetadata, dest: &Path, work: PathBuf) -> Layout {
        let info = metadata.info.info();
        let folder = info.files.is_some();
        let top = names::sanitize(
            &metadata
                .info
                .name()
                .map(|n| n.into_owned())
                .unwrap_or_default(),
        );
        let mut taken = HashSet::new();
        let entries: Vec<Entry> = metadata
            .file_infos
            .iter()
            .map(|fi| {
                let mut relative = PathBuf::new();
                if folder {
                    relative.push(&top);
                    let parts: Vec<String> = fi
                        .relative_filename
                        .components()
                        .map(|c| names::sanitize(&c.as_os_str().to_string_lossy()))
                        .collect();
                    let (last, dirs) = parts
                        .split_last()
                        .map_or((names::FALLBACK_NAME.to_owned(), &[][..]), |(l, d)| {
                            (l.clone(), d)
                        });
                    for dir in dirs {
                        relative.push(dir);
                    }
                    relative.push(free_in(&mut taken, &relative, &last));
                } else {
                    relative.push(&top);
                }
                Entry {
                    relative,
                    length: fi.len,
                    padding: fi.attrs.padding,
                }
            })
            .collect();
        let mut paths: Vec<PathBuf> = entries.iter().map(|e| work.join(&e.relative)).collect();
        let record = Record::read(dest, &work).filter(|r| plain(&r.top));
        let placed = record.as_ref().map(|r| dest.join(&r.top)).filter(|top| {
            tree::inside(dest, top)
                && std::fs::symlink_metadata(top)
                    .is_ok_and(|m| if folder { m.is_dir() } else { m.is_file() })
        });
        if let (Some(record), Some(placed)) = (&record, &placed) {
            // Each file where the record says (a `name (1)` beside someone's file), else where
            // it goes in the top (a run killed while it moved files had not recorded them):
            // there, inside the top, at its length (librqbit then checks its pieces).
            for (i, (entry, slot)) in entries.iter().zip(paths.iter_mut()).enumerate() {
                let recorded = record
                    .files
                    .iter()
                    .find(|(at, path)| *at == i && plain(path))
                    .map(|(_, path)| dest.join(path));
                let fits = |there: &Path| {
                    there.starts_with(placed)
                        && tree::inside(dest, there)
                        && std::fs::symlink_metadata(there)
                            .is_ok_and(|m| m.is_file() && m.len() == entry.length)
                };
                let there = recorded
                    .into_iter()
                    .chain([final_path(folder, &top, placed, entry)])
                    .find(|there| fits(there));
                if let (false, Some(there)) = (entry.padding, there) {
                    *slot = there;
                }
            }
        }
        let handles = entries.iter().map(|_| Mutex::new(None)).collect();
        Layout {
            entries,
            top,
            folder,
            work,
            piece_length: u64::from(info.piece_length),
            dest: dest.to_path_buf(),
            placed,
            paths: RwLock::new(paths),
            handles,
        }
    }

    /// The top an earlier run published into, while it is there (see [`PUBLISHED`]).
    pub(crate) fn placed(&self) -> Option<&Path> {
        self.placed.as_deref()
    }

    /// Whether file `i` is under its final name (published by this run or an earlier one).
    pub(crate) fn published(&self, i: usize) -> bool {
        self.path(i).is_some_and(|p| self.is_final(&p))
    }

    /// Whether a file's `path` is its final name (not in the working folder).
    fn is_final(&self, path: &Path) -> bool {
        !path.starts_with(&self.work)
    }

    /// Whether every file (padding aside) is under its final name: nothing is left to add.
    pub(crate) fn all_published(&self) -> bool {
        (0..self.entries.len()).all(|i| self.padding(i) || self.published(i))
    }

    /// Whether the working folder holds a record of published files.
    pub(crate) fn has_record(&self) -> bool {
        self.work.join(PUBLISHED).is_file()
    }

    /// The files as a row lists them for choosing: numbered from 1 in the torrent's order,
    /// padding files left out, each with its verified bytes (librqbit's per-file `progress`,
    /// in the torrent's order).
    pub(crate) fn files(&self, progress: &[u64]) -> Vec<crate::protocol::TorrentFile> {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| !e.padding)
            .map(|(i, e)| crate::protocol::TorrentFile {
                index: i + 1,
                path: e
                    .relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/"),
                length: e.length,
                done: progress.get(i).copied().unwrap_or(0).min(e.length),
            })
            .collect()
    }

    /// The torrent's piece count and length (aria2's `numPieces`, `pieceLength`).
    pub(crate) fn pieces(&self) -> (u32, u32) {
        let total: u64 = self.entries.iter().map(|e| e.length).sum();
        let count = total.div_ceil(self.piece_length.max(1));
        (
            u32::try_from(count).unwrap_or(u32::MAX),
            u32::try_from(self.piece_length).unwrap_or(u32::MAX),
        )
    }

    /// Where file `i` is now.
    pub(crate) fn path(&self, i: usize) -> Option<PathBuf> {
        self.paths
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(i)
            .cloned()
    }

    /// Moves the files in `chosen` from the working folder into `top` (the item's top, taken
    /// free in the destination, or the one an earlier run took), each under its
    /// own name, never over anything (beside a file that stands there, as `name (1)`); files
    /// already there stay. The handles are closed meanwhile (Windows cannot move an open
    /// file) and reopen on the next use. Then records where every published file is, for a
    /// later run with more files chosen. Where the chosen files are, in `chosen`'s order.
    pub(crate) fn publish(
        &self,
        chosen: &[usize],
        top: &Path,
    ) -> Result<Vec<PathBuf>, crate::protocol::FetchError> {
        // Where the files go is known before any moves (a run killed among them finds the
        // moved ones by it).
        self.record(top);
        let mut held: Vec<MutexGuard<'_, Option<File>>> = self
            .handles
            .iter()
            .map(|h| h.lock().unwrap_or_else(PoisonError::into_inner))
            .collect();
        let mut moved = Vec::new();
        for &i in chosen {
            let (Some(entry), Some(handle)) = (self.entries.get(i), held.get_mut(i)) else {
                continue;
            };
            let from = self.path(i).unwrap_or_default();
            if self.is_final(&from) {
                moved.push(from);
                continue;
            }
            if let Some(file) = handle.take() {
                let _ = file.sync_all();
            }
            let to = final_path(self.folder, &self.top, top, entry);
            if !tree::inside(&self.dest, &to) {
                return Err(tree::outside(&to));
            }
            let to = tree::move_file_free(&from, &to)?;
            if let Some(slot) = self
                .paths
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .get_mut(i)
            {
                *slot = to.clone();
            }
            moved.push(to);
        }
        drop(held);
        self.record(top);
        Ok(moved)
    }

    /// Writes the record of the published files into the working folder (made again if it
    /// is gone). Best effort: without it a later run fetches into a new top.
    fn record(&self, top: &Path) {
        let Ok(top) = top.strip_prefix(&self.dest) else {
            return;
        };
        let files = self
            .paths
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .enumerate()
            .filter(|(_, path)| self.is_final(path))
            .filter_map(|(i, path)| Some((i, path.strip_prefix(&self.dest).ok()?.to_path_buf())))
            .collect();
        let record = Record {
            top: top.to_path_buf(),
            files,
        };
        // Written aside and renamed over (a link standing there is replaced, never followed).
        let write = || -> std::io::Result<()> {
            std::fs::create_dir_all(&self.work)?;
            if !tree::inside(&self.dest, &self.work.join(PUBLISHED)) {
                return Err(std::io::Error::other("the working folder is a link"));
            }
            let text = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
            let aside = self.work.join(format!("{PUBLISHED}.new"));
            let _ = std::fs::remove_file(&aside);
            let mut file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&aside)?;
            std::io::Write::write_all(&mut file, &text)?;
            drop(file);
            std::fs::rename(&aside, self.work.join(PUBLISHED))
        };
        if let Err(e) = write() {
            tracing::warn!(folder = %self.work.display(), error = %e, "could not record the published files");
        }
    }

    /// File `i`'s handle, opened (and, to write, created with its folders) on first use.
    fn with_file<T>(
        &self,
        i: usize,
        create: bool,
        f: impl FnOnce(&File) -> std::io::Result<T>,
    ) -> anyhow::Result<T> {
        let handle = self.handles.get(i).context("no such file")?;
        let mut handle = handle.lock().unwrap_or_else(PoisonError::into_inner);
        if handle.is_none() {
            let path = self.path(i).context("no such file")?;
            // Every folder on the way a real one of the destination, not a link out of it.
            if !tree::inside(&self.dest, &path) {
                anyhow::bail!("{} is not inside the destination (a link)", path.display());
            }
            if create && let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let file = open(&path, create).with_context(|| format!("{}", path.display()))?;
            *handle = Some(file);
        }
        let file = handle.as_ref().context("no such file")?;
        Ok(f(file)?)
    }

    fn padding(&self, i: usize) -> bool {
        self.entries.get(i).is_some_and(|e| e.padding)
    }
}

/// The first of `name`, `name (1)`… not yet taken (by case-folded path) in `folder`.
fn free_in(taken: &mut HashSet<String>, folder: &Path, name: &str) -> String {
    for n in 0.. {
        let candidate = names::variant(name, n);
        let key = folder.join(&candidate).to_string_lossy().to_lowercase();
        if taken.insert(key) {
            return candidate;
        }
    }
    name.to_owned()
}

fn open(path: &Path, create: bool) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(create);
    #[cfg(windows)]
    {
        use std::os::windows::fs::OpenOptionsExt;
        // Read, write and delete sharing: the file may be moved to its final name while
        // librqbit still holds another handle of it.
        options.share_mode(7);
    }
    options.open(path)
}

/// The layout a torrent's storage writes through, filled in when librqbit has the metadata.
pub(crate) type Slot = Arc<Mutex<Option<Arc<Layout>>>>;

/// Makes the storage of one torrent: its layout under `dest`'s working folder for it.
#[derive(Clone)]
pub(crate) struct Factory {
    pub dest: PathBuf,
    pub slot: Slot,
}

impl StorageFactory for Factory {
    type Storage = Storage;

    fn create(
        &self,
        shared: &ManagedTorrentShared,
        metadata: &TorrentMetadata,
    ) -> anyhow::Result<Storage> {
        let work = work_folder(&self.dest, &shared.info_hash.as_string());
        let layout = Arc::new(Layout::new(metadata, &self.dest, work));
        *self.slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&layout));
        Ok(Storage(layout))
    }

    fn clone_box(&self) -> BoxStorageFactory {
        self.clone().boxed()
    }
}

/// A torrent's storage: positioned reads and writes on its layout's files.
pub(crate) struct Storage(Arc<Layout>);

impl TorrentStorage for Storage {
    fn init(&mut self, _: &ManagedTorrentShared, _: &TorrentMetadata) -> anyhow::Result<()> {
        Ok(())
    }

    fn pread_exact(&self, file_id: usize, offset: u64, buf: &mut [u8]) -> anyhow::Result<()> {
        if self.0.padding(file_id) {
            buf.fill(0);
            return Ok(());
        }
        self.0
            .with_file(file_id, false, |f| tree::read_at(f, buf, offset))
    }

    fn pwrite_all(&self, file_id: usize, offset: u64, buf: &[u8]) -> anyhow::Result<()> {
        if self.0.padding(file_id) {
            return Ok(());
        }
        self.0
            .with_file(file_id, true, |f| tree::write_at(f, buf, offset))
    }

    fn remove_file(&self, _file_id: usize, _filename: &Path) -> anyhow::Result<()> {
        // Haul removes what it wrote itself (the working folder), never a published file.
        Ok(())
    }

    fn remove_directory_if_empty(&self, _path: &Path) -> anyhow::Result<()> {
        Ok(())
    }

    fn ensure_file_length(&self, file_id: usize, length: u64) -> anyhow::Result<()> {
        if self.0.padding(file_id) {
            return Ok(());
        }
        self.0.with_file(file_id, true, |f| {
            if f.metadata()?.len() != length {
                f.set_len(length)?;
            }
            Ok(())
        })
    }

    fn take(&self) -> anyhow::Result<Box<dyn TorrentStorage>> {
        Ok(Box::new(Storage(Arc::clone(&self.0))))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// A record's paths are taken only when plain and relative: one edited to point out of
    /// the destination is no record.
    #[test]
    fn a_recorded_path_out_of_the_destination_is_not_taken() {
        assert!(super::plain(Path::new("set/sub/c.bin")));
        assert!(super::plain(Path::new("single.bin")));
        for path in ["../x.bin", "set/../../x.bin", "/etc/passwd", "", "./set"] {
            assert!(!super::plain(Path::new(path)), "{path}");
        }
    }
}
