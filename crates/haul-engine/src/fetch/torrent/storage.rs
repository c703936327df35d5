//! Where a torrent's bytes live: its [`Layout`] (each file's sanitised path, first in a
//! working folder of the destination, then under its final name) and the librqbit storage
//! that reads and writes those paths.
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
    /// Where each file is now (in `work`, or under its final name once published).
    paths: RwLock<Vec<PathBuf>>,
    handles: Vec<Mutex<Option<File>>>,
}

/// A folder's name for a torrent's working folder: hidden, and the same for the same torrent
/// (so a run after a quit or kill -9 finds its verified pieces).
pub(crate) fn work_folder(dest: &Path, info_hash: &str) -> PathBuf {
    dest.join(format!(".haul-torrent-{info_hash}"))
}

impl Layout {
    /// The torrent's files laid out under `work`: every component of every name sanitised,
    /// and names that would clash (also only by case, as on Windows and macOS) numbered.
    pub(crate) fn new(metadata: &TorrentMetadata, work: PathBuf) -> Layout {
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
        let paths = entries.iter().map(|e| work.join(&e.relative)).collect();
        let handles = entries.iter().map(|_| Mutex::new(None)).collect();
        Layout {
            entries,
            top,
            folder,
            work,
            piece_length: u64::from(info.piece_length),
            paths: RwLock::new(paths),
            handles,
        }
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

    /// Moves the files in `chosen` from the working folder to `root` (the item's top, taken
    /// free in the destination), each under its own name, never over anything. The handles
    /// are closed meanwhile (Windows cannot move an open file) and reopen on the next use.
    pub(crate) fn publish(
        &self,
        chosen: &[usize],
        final_path: impl Fn(&Entry) -> PathBuf,
    ) -> Result<Vec<PathBuf>, crate::protocol::FetchError> {
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
            if let Some(file) = handle.take() {
                let _ = file.sync_all();
            }
            let from = self.path(i).unwrap_or_default();
            let to = final_path(entry);
            tree::move_file(&from, &to)?;
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
        Ok(moved)
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
        let layout = Arc::new(Layout::new(metadata, work));
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
