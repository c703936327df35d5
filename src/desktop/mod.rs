//! The window's desktop wing: chores the window asks for and must not do itself — native
//! file dialogs, walking dropped folders, reading an imported list, opening files and folders
//! — plus the window's saved queue and its logs.
//!
//! Owns: running each chore on the tokio runtime (dialogs as rfd futures, disk work on the
//! blocking pool) and sending its [`Reply`] back over a channel, then calling the waker so
//! the window repaints. Every request returns at once.
//! Must not touch: egui, the engine.
//!
//! # Layout
//! - this file: [`Desktop`], the chores and their [`Reply`]s.
//! - [`saved_queue`]: the window's rows on disk (SQLite), so a crash loses nothing.
//! - [`instance`]: one window per person: a later launch hands its sources to the first.
//! - [`logs`]: the window's log file and the recent lines its log panel shows.
//! - `opener`: opening a file, or showing it in its folder, with the platform's program.
//! - `comforts`, starting the desktop comforts: [`autostart`] (Haul at login), [`clipboard`]
//!   (copied links to offer), [`tray`] (the icon and its menu), [`power`] (sleep, shut down).
//! - [`screens`]: keeping a restored window on a screen.
//! - `browser`: Settings → Browser integration: installing the browser host.
//! - [`system`]: the system calls the window makes itself on Windows.
//! - [`identity`]: Haul's AppUserModelID on Windows (its name on notifications).

/// Haul's icon (256 px): the window's, and the one Windows shows beside its notifications.
pub const ICON_PNG: &[u8] = include_bytes!("../../assets/icon-256.png");

pub mod autostart;
mod browser;
pub mod clipboard;
mod comforts;
pub mod identity;
pub mod instance;
pub mod logs;
mod opener;
pub mod power;
pub mod saved_queue;
pub mod screens;
pub mod system;
pub mod tray;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::mpsc;

use crate::options::Given;
use crate::protocol::{Checksum, Source, Waker};
use crate::sources::SUMS_FILE;
use opener::run_opener;

/// A local file to add, with the SHA-256 it must have when one was given (a `SHA256SUMS`
/// file beside an imported list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    pub path: PathBuf,
    pub sha256: Option<Checksum>,
    /// Where under the destination it goes: empty for a file given by itself; for a file
    /// found in a folder, that folder's name and the folders between (`photos/2024`), so a
    /// folder arrives as a folder.
    pub subfolder: PathBuf,
    /// The options its line gave (a list's option lines), carried whole through the walk.
    pub given: Given,
}

impl LocalFile {
    /// A file given by itself: it goes straight into the destination.
    pub fn single(path: PathBuf, sha256: Option<Checksum>) -> LocalFile {
        LocalFile {
            path,
            sha256,
            subfolder: PathBuf::new(),
            given: Given::default(),
        }
    }
}

/// A line that names a local path — a file, a folder, or nothing on disk — as given.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The line as typed (or the path, for drops and picked files).
    pub text: String,
    /// Where it came from (`pasted line 3`), for a row that says why it failed.
    pub origin: String,
    pub path: PathBuf,
    pub sha256: Option<Checksum>,
    /// The options its line gave (a list's indented `name=value` lines), carried whole: a
    /// folder's files and a guessed web address get them as a URL line does.
    pub given: Given,
    /// The web address the line names if no file or folder has that name
    /// (`example.org/x.zip`), see [`crate::sources::guess_url`].
    pub guess: Option<Source>,
}

impl Candidate {
    /// A path picked or dropped: nothing to guess.
    pub fn path(path: PathBuf) -> Candidate {
        Candidate {
            text: path.display().to_string(),
            origin: String::new(),
            path,
            sha256: None,
            given: Given::default(),
            guess: None,
        }
    }
}

/// How an addition was made, carried through the folder walk so its result can be told as
/// one: a paste from the clipboard onto the window adds quietly (lines that name nothing are
/// skipped and counted), the add box and lists say why each line fails.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddContext {
    pub quiet: bool,
    /// The folder these go to instead of the Save-to folder (a later launch's `--dest`):
    /// for these items only.
    pub dest: Option<PathBuf>,
    /// The folder relative paths in these lines (sources, a cookies file) are taken from:
    /// an imported list's own folder (where its `SHA256SUMS` is read too), a later launch's
    /// working folder; the window's own when `None` (typed or pasted text).
    pub base: Option<PathBuf>,
    /// Rows already added from the same text before the walk.
    pub added: usize,
    /// Lines already skipped (quiet only).
    pub skipped: usize,
    /// Lines refused as too long to be a source (a pasted document, a 5 MB blob): never a
    /// row, said in a notice.
    pub too_long: usize,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// Files picked in the dialog (never empty).
    FilesPicked(Vec<PathBuf>),
    /// A folder picked as destination.
    DestPicked(PathBuf),
    /// A list file picked and read, with the `SHA256SUMS` file beside it if there is one.
    ListRead {
        path: PathBuf,
        text: String,
        sums: Option<String>,
    },
    /// Reading a list failed.
    ListFailed { path: PathBuf, error: String },
    /// The dialog could not be shown at all (no portal, no zenity).
    DialogUnavailable(Dialog),
    /// Dropped or given paths, expanded: folders replaced by the regular files under them
    /// (which have no checksum); a file keeps the checksum it was given. Lines that name no
    /// file or folder are `guessed` web addresses, or `missing`.
    Expanded {
        files: Vec<LocalFile>,
        guessed: Vec<(Candidate, Source)>,
        missing: Vec<Candidate>,
        context: AddContext,
        /// Folders that could not be read, with why.
        errors: Vec<(PathBuf, String)>,
        /// Folders that were walked, with how many files each gave.
        folders: Vec<(PathBuf, usize)>,
    },
    /// Opening a file or folder failed.
    OpenFailed { path: PathBuf, error: String },
    /// The file or folder to open is not there any more (moved or deleted).
    OpenGone { path: PathBuf },
    /// What a destination typed turned out to be.
    DestChecked { path: PathBuf, verdict: DestVerdict },
    /// Sleeping or shutting down the computer did not happen, and why.
    PowerFailed { reason: String },
    /// Starting at login could not be turned on or off, and why.
    AutostartFailed { reason: String },
    /// The browser host was installed (or removed): what was written, or why not.
    BrowserHost {
        install: bool,
        result: Result<Vec<String>, String>,
    },
    /// The clipboard's text changed (while the watch is on).
    Copied(String),
}

/// Whether a folder can take downloads, as found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DestVerdict {
    /// An existing folder Haul may write in.
    Usable,
    /// It does not exist yet, and can be made (the nearest existing folder takes writes).
    WillBeCreated,
    /// A file stands there (or where one of its folders would be).
    IsFile,
    /// Haul may not write there.
    NotWritable,
    /// Anything else, in the system's words.
    Unusable(String),
}

/// Which native dialog was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialog {
    Files,
    Destination,
    List,
}

/// A dialog that comes back empty this fast was never shown: nobody cancels a dialog in
/// less time than it takes to appear.
const DIALOG_UNAVAILABLE_WITHIN: Duration = Duration::from_millis(300);
/// Files taken from one dropped folder, at most (a safety net against dropping `/`).
const WALK_LIMIT: usize = 200_000;

/// Sends chores to the runtime; the window polls [`Desktop::try_recv`] each frame.
pub struct Desktop {
    runtime: Handle,
    tx: mpsc::UnboundedSender<Reply>,
    rx: mpsc::UnboundedReceiver<Reply>,
    waker: Option<Waker>,
    /// Runs sleep and shut-down commands (tests record them instead).
    power: power::PowerRunner,
    /// Reads the clipboard for the watch (tests set their own).
    clipboard: clipboard::ClipboardSource,
    /// The login entry's place, when a test names one (else the platform's own).
    autostart_entry: Option<autostart::Entry>,
    /// The home folder and host program the browser host is installed with (tests).
    browser_places: Option<(PathBuf, PathBuf)>,
}

impl Desktop {
    pub fn new(runtime: Handle, waker: Option<Waker>) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Desktop {
            runtime,
            tx,
            rx,
            waker,
            power: power::system_runner(),
            clipboard: clipboard::system_source(),
            autostart_entry: None,
            browser_places: None,
        }
    }

    /// Where replies go: also for other producers of replies (and tests standing in for a
    /// desktop without dialogs).
    /// Runs a short async chore to its end from the UI thread (binding the RPC's socket).
    /// Must not be called from inside the runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    pub fn sender(&self) -> mpsc::UnboundedSender<Reply> {
        self.tx.clone()
    }

    /// The next reply, if one has arrived.
    pub fn try_recv(&mut self) -> Option<Reply> {
        self.rx.try_recv().ok()
    }

    fn spawn<F>(&self, chore: F)
    where
        F: Future<Output = Option<Reply>> + Send + 'static,
    {
        let tx = self.tx.clone();
        let waker = self.waker.clone();
        self.runtime.spawn(async move {
            if let Some(reply) = chore.await
                && tx.send(reply).is_ok()
                && let Some(wake) = waker
            {
                wake();
            }
        });
    }

    /// The native multi-select file dialog.
    pub fn pick_files(&self) {
        self.spawn(async {
            let started = Instant::now();
            match rfd::AsyncFileDialog::new().pick_files().await {
                Some(files) if !files.is_empty() => Some(Reply::FilesPicked(
                    files.iter().map(|f| f.path().to_path_buf()).collect(),
                )),
                _ => unavailable_if_instant(started, Dialog::Files),
            }
        });
    }

    /// The native folder dialog, for the destination.
    pub fn pick_dest(&self, start: PathBuf) {
        self.spawn(async move {
            let started = Instant::now();
            let mut dialog = rfd::AsyncFileDialog::new();
            if !start.as_os_str().is_empty() {
                dialog = dialog.set_directory(start);
            }
            match dialog.pick_folder().await {
                Some(folder) => Some(Reply::DestPicked(folder.path().to_path_buf())),
                None => unavailable_if_instant(started, Dialog::Destination),
            }
        });
    }

    /// The native file dialog for a list of URLs, then reads it (see [`Desktop::read_list`]).
    pub fn import_list(&self, legacy: Option<&'static str>) {
        self.spawn(async move {
            let started = Instant::now();
            let picked = rfd::AsyncFileDialog::new()
                .add_filter("Text", &["txt", "list", "urls", "csv"])
                .add_filter("*", &["*"])
                .pick_file()
                .await;
            match picked {
                Some(file) => Some(read_list(file.path().to_path_buf(), legacy).await),
                None => unavailable_if_instant(started, Dialog::List),
            }
        });
    }

    /// Reads a list file given by path (also used by tests and typed paths), and the
    /// `SHA256SUMS` beside it, as [`crate::sources::decode_text`] reads text: a byte-order
    /// mark's encoding, UTF-8, then `legacy` (the locale's older charset, e.g. `GBK`).
    pub fn read_list(&self, path: PathBuf, legacy: Option<&'static str>) {
        self.spawn(async move { Some(read_list(path, legacy).await) });
    }

    /// Replaces folders among `items` by the regular files under them (sorted, recursively),
    /// and sorts out lines that name nothing on disk.
    pub fn expand(&self, items: Vec<Candidate>, context: AddContext) {
        self.spawn(async move {
            tokio::task::spawn_blocking(move || expand(items, context))
                .await
                .ok()
        });
    }

    /// Checks whether `path` can take downloads (exists and takes writes, or can be made).
    pub fn check_dest(&self, path: PathBuf) {
        self.spawn(async move {
            let checked = path.clone();
            let verdict = tokio::task::spawn_blocking(move || check_dest(&checked))
                .await
                .unwrap_or_else(|e| DestVerdict::Unusable(e.to_string()));
            Some(Reply::DestChecked { path, verdict })
        });
    }

    /// Shows a desktop notification (a freedesktop notification over D-Bus on Linux, the
    /// system's own on macOS and Windows). One that cannot be shown is only logged.
    pub fn notify(&self, title: String, body: String) {
        self.runtime.spawn_blocking(move || {
            let mut notification = notify_rust::Notification::new();
            notification.appname("Haul").summary(&title).body(&body);
            // Shown as Haul, not as "Windows PowerShell" (see `identity`).
            #[cfg(windows)]
            notification.app_id(identity::AUMID);
            let shown = notification.show();
            if let Err(e) = shown {
                tracing::info!(error = %e, "no desktop notification");
            }
        });
    }

    /// Opens a file or folder with the desktop's default application.
    pub fn open(&self, path: PathBuf) {
        self.spawn(async move { run_opener(path, false).await });
    }

    /// Shows a file in its folder (selected, where the platform can).
    pub fn reveal(&self, path: PathBuf) {
        self.spawn(async move { run_opener(path, true).await });
    }
}

/// Blocking: what `path` is as a destination. Writing is tried for real (a file created and
/// removed), since permission bits do not tell the whole story (ACLs, read-only mounts).
/// Makes Haul's data folder (settings, the saved queue, logs) readable by its owner only: the
/// settings may hold a proxy's password, the queue an item's credentials and cookies-file path
/// (eframe writes `app.ron` with the default umask, often 0644). Creates the folder when
/// missing. Unix only; on Windows the folder is under the user's own profile.
/// Where downloads go until a person chooses: the system's Downloads folder; where none is
/// set (Linux without `xdg-user-dirs`' list), `Downloads` in the home folder, as browsers do
/// (it is made with the first download); the working folder only without a home. The window
/// opened from a desktop menu used to offer the folder it was started in (often `/` or
/// the home folder itself).
pub fn downloads_folder(system: Option<&Path>, home: Option<&Path>, cwd: &Path) -> PathBuf {
    system
        .map(Path::to_path_buf)
        .or_else(|| home.map(|h| h.join("Downloads")))
        .unwrap_or_else(|| cwd.to_path_buf())
}

pub fn make_private(dir: &Path) {
    if let Err(e) = std::fs::create_dir_all(dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "cannot create the data folder");
    } else {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let private = std::fs::Permissions::from_mode(0o700);
            if let Err(e) = std::fs::set_permissions(dir, private) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot make the data folder private");
            }
        }
    }
}

pub fn check_dest(path: &Path) -> DestVerdict {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => probe_write(path),
        Ok(_) => DestVerdict::IsFile,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut ancestor = path.parent();
            while let Some(dir) = ancestor {
                match std::fs::metadata(dir) {
                    Ok(meta) if meta.is_dir() => {
                        return match probe_write(dir) {
                            DestVerdict::Usable => DestVerdict::WillBeCreated,
                            other => other,
                        };
                    }
                    Ok(_) => return DestVerdict::IsFile,
                    Err(_) => ancestor = dir.parent(),
                }
            }
            DestVerdict::Unusable(e.to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => DestVerdict::NotWritable,
        Err(e) => DestVerdict::Unusable(e.to_string()),
    }
}

fn probe_write(dir: &Path) -> DestVerdict {
    let probe = dir.join(format!(".haul-write-check-{}", std::process::id()));
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
    {
        Ok(file) => {
            drop(file);
            let _ = std::fs::remove_file(&probe);
            DestVerdict::Usable
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            DestVerdict::NotWritable
        }
        Err(e) => DestVerdict::Unusable(e.to_string()),
    }
}

fn unavailable_if_instant(started: Instant, dialog: Dialog) -> Option<Reply> {
    (started.elapsed() < DIALOG_UNAVAILABLE_WITHIN).then_some(Reply::DialogUnavailable(dialog))
}

async fn read_list(path: PathBuf, legacy: Option<&'static str>) -> Reply {
    let sums_path = path.parent().map(|dir| dir.join(SUMS_FILE));
    let sums = match sums_path {
        Some(sums_path) => tokio::fs::read(sums_path)
            .await
            .ok()
            .and_then(|bytes| crate::sources::decode_text(&bytes, None).ok()),
        None => None,
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => match crate::sources::decode_text(&bytes, legacy) {
            Ok(text) => Reply::ListRead { path, text, sums },
            Err(e) => Reply::ListFailed {
                path,
                error: e.to_string(),
            },
        },
        Err(e) => Reply::ListFailed {
            path,
            error: e.to_string(),
        },
    }
}

/// Blocking: stats each path and walks folders.
pub fn expand(items: Vec<Candidate>, context: AddContext) -> Reply {
    let mut files = Vec::new();
    let mut guessed = Vec::new();
    let mut missing = Vec::new();
    let mut errors = Vec::new();
    let mut folders = Vec::new();
    for item in items {
        if item.path.is_dir() {
            let mut found = Vec::new();
            let walked = walk(&item.path, &mut found, files.len());
            // The folder itself is kept: `photos/2024/a.jpg` goes to `DEST/photos/2024/`.
            let above = item.path.parent().unwrap_or(Path::new("")).to_path_buf();
            let count = found.len();
            files.extend(found.into_iter().map(|path| {
                let subfolder = path
                    .parent()
                    .and_then(|dir| dir.strip_prefix(&above).ok())
                    .map(Path::to_path_buf)
                    .unwrap_or_default();
                LocalFile {
                    path,
                    sha256: None,
                    subfolder,
                    given: item.given.clone(),
                }
            }));
            match walked {
                Ok(()) => folders.push((item.path, count)),
                Err(e) => errors.push((item.path, e.to_string())),
            }
        } else if std::fs::symlink_metadata(&item.path).is_ok() {
            // A file, or something else the engine will say is not one.
            files.push(LocalFile {
                given: item.given,
                ..LocalFile::single(item.path, item.sha256)
            });
        } else if let Some(url) = item.guess.clone() {
            guessed.push((item, url));
        } else {
            missing.push(item);
        }
    }
    Reply::Expanded {
        files,
        guessed,
        missing,
        context,
        errors,
        folders,
    }
}

/// Regular files under `root`: a folder's files (by name), then its subfolders (by name);
/// symlinks are not followed. `already` files were found before (they count to the limit).
fn walk(root: &Path, out: &mut Vec<PathBuf>, already: usize) -> std::io::Result<()> {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)?.filter_map(Result::ok).collect();
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                subdirs.push(entry.path());
            } else if kind.is_file() {
                if already + out.len() >= WALK_LIMIT {
                    return Err(std::io::Error::other(format!(
                        "more than {WALK_LIMIT} files; add a smaller folder"
                    )));
                }
                out.push(entry.path());
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
