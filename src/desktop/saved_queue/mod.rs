//! The window's saved queue: its rows on disk, so a crash or a `kill -9` loses nothing.
//!
//! Owns: an SQLite database (WAL) in the data folder: the schema, its version and migrations,
//! loading the items at start (a corrupt database, or one written by a newer Haul, is moved
//! aside with a clear message, never silently wiped), and a writer thread that applies the
//! window's changes in the background — state changes at once, progress at most once a
//! second. States are stored as [`Status`] words (the one status vocabulary, serde's spelling).
//! Must not touch: egui, the engine. The window only sends [`SavedOp`]s, which never blocks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use rusqlite::{Connection, OptionalExtension, params};

use crate::protocol::{Checksum, DoneFile, FetchError, ItemOptions, Status};

/// The schema this build writes; a database with a higher `user_version` is from a newer Haul.
/// 1: states were `unfinished` for every active item; 2: the [`Status`] words; 3: each item's
/// own folder, its failure as data, and whether its scheme was guessed; 4: its options;
/// 5: its place in the list (`position`; `NULL`: its key's place); 6: every file it wrote;
/// 7: a torrent's info hash (`torrent`), which names its working folder.
pub const SCHEMA_VERSION: i32 = 8;
/// Progress is written at most this often.
const SAVE_PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// One item as saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedItem {
    /// Stable across restarts (unlike engine job ids); also the list order until rows are
    /// moved ([`SavedOp::Order`]).
    pub key: u64,
    /// The source as the person gave it.
    pub text: String,
    /// The SHA-256 the file must have, if given.
    pub expect: Option<Checksum>,
    pub name: String,
    /// Queued, connecting or running when last seen: started again (resuming) next time.
    pub status: Status,
    pub bytes: u64,
    pub total: Option<u64>,
    /// Done: where the file is.
    pub path: Option<String>,
    /// Done: its SHA-256.
    pub digest: Option<Checksum>,
    /// Done: every file it wrote, the first being `path` and `digest`'s (an item may be many
    /// files); empty in queues saved before items were.
    pub files: Vec<DoneFile>,
    /// Failed / timed out: why, as text (with the line it came from, for a rejected line).
    pub error: Option<String>,
    /// Failed: why, as data (a person's sentence is made from it).
    pub failure: Option<FetchError>,
    /// All the time it has run, over every run.
    pub elapsed_ms: u64,
    /// The folder its file goes to (`None` in queues saved before folders were kept).
    pub dest: Option<PathBuf>,
    /// The text had no scheme and was read as a web address.
    pub guessed: bool,
    /// Its own options (name, connections, headers, credentials, cookies file), when any.
    pub options: Option<ItemOptions>,
    /// A torrent's info hash once its run learned it (a web link's only once its `.torrent`
    /// came): a cancel after a restart finds the working folder by it.
    pub torrent: Option<[u8; 20]>,
    /// A torrent's files as its row lists them (their ticks are its `select-file`): a done
    /// torrent's left-out files can be ticked after a restart (empty in queues saved before
    /// schema 8).
    pub torrent_files: Vec<crate::protocol::TorrentFile>,
}

/// A change for the writer thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SavedOp {
    /// Insert or replace the whole item.
    Put(Box<SavedItem>),
    /// A running item's bytes, size and time so far (all its runs'): what a restart after a
    /// crash or a quit brings back.
    Progress {
        key: u64,
        bytes: u64,
        total: Option<u64>,
        elapsed_ms: u64,
    },
    Remove(Vec<u64>),
    /// The list's order: every row's key, first to last. Each listed row takes, as its
    /// position, the key at its place in the sorted list of these keys, so rows added later
    /// (with larger keys) still come last. O(rows); of several in one batch only the last is
    /// written.
    Order(Vec<u64>),
}

/// What opening found.
pub struct Opened {
    pub queue: Option<SavedQueue>,
    pub items: Vec<SavedItem>,
    /// Something the person should know (a database moved aside, or no queue at all).
    pub notice: Option<QueueNotice>,
}

/// A problem with the saved queue, for the window to put in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueueNotice {
    /// The database could not be used (`reason`); it was renamed to `to` (if that worked)
    /// and a new one started.
    MovedAside { reason: String, to: Option<PathBuf> },
    /// No queue at all this session.
    Unavailable { reason: String },
    /// Another Haul has the queue open (its lock is held); this one does not touch it.
    InUse { path: PathBuf },
}

/// The writer: send it [`SavedOp`]s; dropping it writes what is pending and stops the thread.
pub struct SavedQueue {
    tx: Option<mpsc::Sender<SavedOp>>,
    /// `<queue>.lock`, held (an OS lock) for as long as this process has the queue open.
    lock: Option<std::fs::File>,
    thread: Option<JoinHandle<()>>,
}

impl SavedQueue {
    /// Opens (or creates) the database at `path` and loads its items. A database that cannot
    /// be read, or is from a newer Haul, is renamed to `<name>.unreadable-<time>` and a new
    /// one is started, with a notice saying so. Without a usable database at all the window
    /// still works, without remembering its queue.
    pub fn open(path: &Path) -> Opened {
        let lock = match lock_beside(path) {
            Ok(lock) => lock,
            Err(notice) => {
                return Opened {
                    queue: None,
                    items: Vec::new(),
                    notice: Some(notice),
                };
            }
        };
        let mut opened = SavedQueue::open_locked(path);
        if let Some(queue) = &mut opened.queue {
            queue.lock = Some(lock);
        }
        keep_private(path);
        opened
    }

    fn open_locked(path: &Path) -> Opened {
        match open_and_load(path) {
            Ok((connection, items)) => Opened {
                queue: Some(SavedQueue::start(connection)),
                items,
                notice: None,
            },
            Err(problem) => {
                let aside = move_aside(path);
                let reason = problem.to_string();
                tracing::warn!(path = %path.display(), aside = ?aside, %reason, "queue database unusable");
                match open_and_load(path) {
                    Ok((connection, items)) => Opened {
                        queue: Some(SavedQueue::start(connection)),
                        items,
                        notice: Some(QueueNotice::MovedAside { reason, to: aside }),
                    },
                    Err(e) => Opened {
                        queue: None,
                        items: Vec::new(),
                        notice: Some(QueueNotice::Unavailable {
                            reason: format!("{reason}; {e}"),
                        }),
                    },
                }
            }
        }
    }

    fn start(connection: Connection) -> SavedQueue {
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("haul-queue".into())
            .spawn(move || writer(connection, rx))
            .ok();
        if thread.is_none() {
            tracing::warn!("cannot start the queue writer; the queue will not be remembered");
        }
        SavedQueue {
            tx: thread.as_ref().map(|_| tx),
            thread,
            lock: None,
        }
    }

    /// Queues a change; never blocks.
    pub fn send(&self, op: SavedOp) {
        if let Some(tx) = &self.tx {
            let _ = tx.send(op);
        }
    }
}

impl Drop for SavedQueue {
    fn drop(&mut self) {
        drop(self.tx.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Takes `<queue>.lock` beside the database: one process at a time opens the queue.
fn lock_beside(path: &Path) -> Result<std::fs::File, QueueNotice> {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let lock_path = with_suffix(path, ".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| QueueNotice::Unavailable {
            reason: format!("cannot open {}: {e}", lock_path.display()),
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(QueueNotice::InUse {
            path: path.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(QueueNotice::Unavailable {
            reason: format!("cannot lock {}: {e}", lock_path.display()),
        }),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut text = path.as_os_str().to_owned();
    text.push(suffix);
    PathBuf::from(text)
}

/// The queue holds the sources as typed, passwords included: readable by its owner only.
fn keep_private(path: &Path) {
    #[cfg(unix)]
    for suffix in ["", "-wal", "-shm", ".lock"] {
        use std::os::unix::fs::PermissionsExt as _;
        let file = with_suffix(path, suffix);
        if file.exists()
            && let Err(e) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
        {
            tracing::warn!(path = %file.display(), error = %e, "cannot make the saved queue private");
        }
    }
    #[cfg(not(unix))]
    let _ = path; // the per-user profile folder is private already
}

/// Why a database could not be used.
#[derive(Debug, thiserror::Error)]
enum Problem {
    #[error("{0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("it was written by a newer Haul (schema {0}, this one knows {SCHEMA_VERSION})")]
    Newer(i32),
    #[error("it holds an unknown state '{0}'")]
    BadState(String),
    #[error("it holds a bad SHA-256 '{0}'")]
    BadDigest(String),
}

fn open_and_load(path: &Path) -> Result<(Connection, Vec<SavedItem>), Problem> {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let connection = Connection::open(path)?;
    connection.busy_timeout(Duration::from_secs(2))?;
    let version: i32 = connection.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Problem::Newer(version));
    }
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.execute_batch(
        "CREATE TABLE IF NOT EXISTS items (
            key INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            expect TEXT,
            name TEXT NOT NULL,
            state TEXT NOT NULL,
            bytes INTEGER NOT NULL DEFAULT 0,
            total INTEGER,
            path TEXT,
            digest TEXT,
            error TEXT,
            elapsed_ms INTEGER NOT NULL DEFAULT 0,
            dest TEXT,
            failure TEXT,
            guessed INTEGER NOT NULL DEFAULT 0,
            options TEXT,
            position INTEGER,
            files TEXT,
            torrent TEXT,
            torrent_files TEXT
        );",
    )?;
    if version == 1 {
        // Every active item was saved as `unfinished`; it resumes as queued.
        connection.execute(
            "UPDATE items SET state = 'queued' WHERE state = 'unfinished'",
            [],
        )?;
    }
    if (1..3).contains(&version) {
        connection.execute_batch(
            "ALTER TABLE items ADD COLUMN dest TEXT;
             ALTER TABLE items ADD COLUMN failure TEXT;
             ALTER TABLE items ADD COLUMN guessed INTEGER NOT NULL DEFAULT 0;",
        )?;
    }
    if (1..4).contains(&version) {
        connection.execute_batch("ALTER TABLE items ADD COLUMN options TEXT;")?;
    }
    if (1..5).contains(&version) {
        connection.execute_batch("ALTER TABLE items ADD COLUMN position INTEGER;")?;
    }
    if (1..6).contains(&version) {
        connection.execute_batch("ALTER TABLE items ADD COLUMN files TEXT;")?;
    }
    if (1..7).contains(&version) {
        connection.execute_batch("ALTER TABLE items ADD COLUMN torrent TEXT;")?;
    }
    if (1..8).contains(&version) {
        connection.execute_batch("ALTER TABLE items ADD COLUMN torrent_files TEXT;")?;
    }
    connection.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    let items = load(&connection)?;
    Ok((connection, items))
}

fn load(connection: &Connection) -> Result<Vec<SavedItem>, Problem> {
    let mut statement = connection.prepare(
        "SELECT key, text, expect, name, state, bytes, total, path, digest, error, elapsed_ms,
                dest, failure, guessed, options, files, torrent, torrent_files
         FROM items ORDER BY COALESCE(position, key), key",
    )?;
    let rows = statement.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, Option<i64>>(6)?,
            r.get::<_, Option<String>>(7)?,
            r.get::<_, Option<String>>(8)?,
            r.get::<_, Option<String>>(9)?,
            r.get::<_, i64>(10)?,
            (
                r.get::<_, Option<String>>(11)?,
                r.get::<_, Option<String>>(12)?,
                r.get::<_, i64>(13)?,
                r.get::<_, Option<String>>(14)?,
                r.get::<_, Option<String>>(15)?,
                r.get::<_, Option<String>>(16)?,
                r.get::<_, Option<String>>(17)?,
            ),
        ))
    })?;
    let mut items = Vec::new();
    for row in rows {
        let (key, text, expect, name, state, bytes, total, path, digest, error, elapsed_ms, more) =
            row?;
        let (dest, failure, guessed, options, files, torrent, torrent_files) = more;
        let status = serde_json::from_value(serde_json::Value::String(state.clone()))
            .map_err(|_| Problem::BadState(state))?;
        let checksum = |hex: Option<String>| match hex {
            Some(hex) => Checksum::from_hex(&hex)
                .map(Some)
                .ok_or(Problem::BadDigest(hex)),
            None => Ok(None),
        };
        items.push(SavedItem {
            key: key.unsigned_abs(),
            text,
            expect: checksum(expect)?,
            name,
            status,
            bytes: bytes.unsigned_abs(),
            total: total.map(i64::unsigned_abs),
            path,
            digest: checksum(digest)?,
            files: files
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default(),
            error,
            // A failure this build cannot read (from a newer Haul) falls back on the text.
            failure: failure.and_then(|json| serde_json::from_str(&json).ok()),
            elapsed_ms: elapsed_ms.unsigned_abs(),
            dest: dest.map(PathBuf::from),
            guessed: guessed != 0,
            options: options.and_then(|json| serde_json::from_str(&json).ok()),
            torrent: torrent.as_deref().and_then(info_hash),
            torrent_files: torrent_files
                .and_then(|json| serde_json::from_str(&json).ok())
                .unwrap_or_default(),
        });
    }
    Ok(items)
}

/// An info hash from its 40 hex digits (as it is saved).
fn info_hash(hex: &str) -> Option<[u8; 20]> {
    let mut hash = [0u8; 20];
    if hex.len() != 40 {
        return None;
    }
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(hash)
}

/// `queue.sqlite3` → `queue.sqlite3.unreadable-<unix time>` (with its `-wal` and `-shm`).
fn move_aside(path: &Path) -> Option<PathBuf> {
    let stamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut aside = path.as_os_str().to_owned();
    aside.push(format!(".unreadable-{stamp}"));
    let aside = PathBuf::from(aside);
    std::fs::rename(path, &aside).ok()?;
    for suffix in ["-wal", "-shm"] {
        let mut from = path.as_os_str().to_owned();
        from.push(suffix);
        let mut to = aside.as_os_str().to_owned();
        to.push(suffix);
        let _ = std::fs::rename(PathBuf::from(from), PathBuf::from(to));
    }
    Some(aside)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn put(connection: &Connection, item: &SavedItem) -> rusqlite::Result<()> {
    connection
        .prepare_cached(
            // An upsert, not a replace: the row keeps its `position`.
            "INSERT INTO items
             (key, text, expect, name, state, bytes, total, path, digest, error, elapsed_ms,
              dest, failure, guessed, options, files, torrent, torrent_files)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18)
             ON CONFLICT(key) DO UPDATE SET
              text = excluded.text, expect = excluded.expect, name = excluded.name,
              state = excluded.state, bytes = excluded.bytes, total = excluded.total,
              path = excluded.path, digest = excluded.digest, error = excluded.error,
              elapsed_ms = excluded.elapsed_ms, dest = excluded.dest,
              failure = excluded.failure, guessed = excluded.guessed,
              options = excluded.options, files = excluded.files,
              torrent = excluded.torrent, torrent_files = excluded.torrent_files",
        )?
        .execute(params![
            to_i64(item.key),
            item.text,
            item.expect.map(|c| c.to_string()),
            item.name,
            item.status.to_string(),
            to_i64(item.bytes),
            item.total.map(to_i64),
            item.path,
            item.digest.map(|c| c.to_string()),
            item.error,
            to_i64(item.elapsed_ms),
            item.dest.as_ref().map(|d| d.display().to_string()),
            item.failure
                .as_ref()
                .and_then(|f| serde_json::to_string(f).ok()),
            i64::from(item.guessed),
            item.options
                .as_ref()
                .and_then(|o| serde_json::to_string(o).ok()),
            (!item.files.is_empty())
                .then(|| serde_json::to_string(&item.files).ok())
                .flatten(),
            item.torrent.map(|h| crate::protocol::hex(&h)),
            (!item.torrent_files.is_empty())
                .then(|| serde_json::to_string(&item.torrent_files).ok())
                .flatten(),
        ])?;
    Ok(())
}

fn apply(connection: &mut Connection, ops: Vec<SavedOp>, progress: &mut HashMap<u64, Progress>) {
    // Only the last order counts.
    let last_order = ops.iter().rposition(|op| matches!(op, SavedOp::Order(_)));
    let result = (|| {
        let tx = connection.transaction()?;
        for (at, op) in ops.into_iter().enumerate() {
            match op {
                SavedOp::Put(item) => {
                    progress.remove(&item.key);
                    put(&tx, &item)?;
                }
                SavedOp::Progress {
                    key,
                    bytes,
                    total,
                    elapsed_ms,
                } => {
                    progress.insert(key, (bytes, total, elapsed_ms));
                }
                SavedOp::Remove(keys) => {
                    let mut statement = tx.prepare_cached("DELETE FROM items WHERE key = ?1")?;
                    for key in keys {
                        progress.remove(&key);
                        statement.execute(params![to_i64(key)])?;
                    }
                }
                SavedOp::Order(keys) if Some(at) == last_order => {
                    let mut places = keys.clone();
                    places.sort_unstable();
                    let mut statement =
                        tx.prepare_cached("UPDATE items SET position = ?2 WHERE key = ?1")?;
                    for (key, place) in keys.into_iter().zip(places) {
                        statement.execute(params![to_i64(key), to_i64(place)])?;
                    }
                }
                SavedOp::Order(_) => {}
            }
        }
        tx.commit()
    })();
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not save the queue");
    }
}

/// A running item's latest bytes, size and elapsed milliseconds, waiting to be written.
type Progress = (u64, Option<u64>, u64);

fn flush_progress(connection: &mut Connection, progress: &mut HashMap<u64, Progress>) {
    if progress.is_empty() {
        return;
    }
    let result = (|| {
        let tx = connection.transaction()?;
        {
            let mut statement = tx.prepare_cached(
                "UPDATE items SET bytes = ?2, total = ?3, elapsed_ms = ?4
                 WHERE key = ?1 AND state IN ('queued', 'connecting', 'running')",
            )?;
            for (key, (bytes, total, elapsed_ms)) in progress.drain() {
                statement.execute(params![
                    to_i64(key),
                    to_i64(bytes),
                    total.map(to_i64),
                    to_i64(elapsed_ms)
                ])?;
            }
        }
        tx.commit()
    })();
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not save progress");
    }
}

fn writer(mut connection: Connection, rx: mpsc::Receiver<SavedOp>) {
    let mut progress: HashMap<u64, Progress> = HashMap::new();
    let mut last_progress = Instant::now();
    loop {
        // With no progress waiting to be written, sleep until something happens (an idle
        // window wakes nothing); otherwise wake in time to write it.
        let first = if progress.is_empty() {
            match rx.recv() {
                Ok(op) => Some(op),
                Err(mpsc::RecvError) => break,
            }
        } else {
            match rx.recv_timeout(SAVE_PROGRESS_EVERY) {
                Ok(op) => Some(op),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        };
        // Everything waiting goes in one transaction.
        let ops: Vec<SavedOp> = first.into_iter().chain(rx.try_iter()).collect();
        if !ops.is_empty() {
            apply(&mut connection, ops, &mut progress);
        }
        if last_progress.elapsed() >= SAVE_PROGRESS_EVERY {
            flush_progress(&mut connection, &mut progress);
            last_progress = Instant::now();
        }
    }
    flush_progress(&mut connection, &mut progress);
    // Fold the WAL back in so the folder holds one file while Haul is not running.
    let _ = connection
        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .optional();
}

#[cfg(test)]
mod tests;
