//! The window: Haul's egui front end over the engine.
//!
//! Owns: what a person sees and does. Each frame [`HaulApp`] drains engine events (within a
//! time budget) and desktop replies, reads keys, pastes and drops, draws the panels — which
//! only collect [`Action`]s — and applies those actions once, at the end of the frame.
//! Must not touch: the network, the disk, or anything that blocks. Work goes to the engine as
//! [`Command`]s and to [`Desktop`] as requests; both answer over channels and wake the window
//! through a repaint callback, so an idle window paints nothing.
//!
//! # Layout
//! - [`i18n`]: every user-facing string, English and 简体中文.
//! - [`model`]: the rows and the batch as plain data.
//! - [`settings`]: what is remembered across restarts.
//! - [`saved`]: rows to and from the saved queue (the queue itself lives in `crate::queue`).
//! - `panels`: drawing, one small function per panel.

pub mod i18n;
pub mod model;
mod panels;
pub mod saved;
pub mod settings;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui;

use crate::desktop::{Desktop, Dialog, Reply};
use crate::engine::{EngineHandle, Events};
use crate::logs::{LogLine, RecentLogs};
use crate::protocol::{Checksum, Command, Event, FetchError, JobId, Source};
use crate::queue::{Op, Queue, StoredItem};
use i18n::{T, Tr};
use model::{Model, Status};
use settings::Settings;

/// Longest a frame spends applying engine events; the rest wait for the next frame.
const EVENT_BUDGET: Duration = Duration::from_millis(6);
/// While items run, how often elapsed time, speed and ETA are refreshed without events.
const TICK: Duration = Duration::from_millis(500);

/// Everything the window needs from the outside world, made by `main` (or a test).
pub struct AppInit {
    pub engine: EngineHandle,
    pub events: Events,
    pub desktop: Desktop,
    pub logs: RecentLogs,
    /// BCP-47 tag of the system locale, if known.
    pub system_locale: Option<String>,
    /// Relative paths are taken from here.
    pub cwd: PathBuf,
    /// Used when no destination was ever chosen.
    pub default_dest: PathBuf,
    /// `--dest` on the command line: wins over the remembered destination.
    pub dest: Option<PathBuf>,
    /// Sources from the command line ("Open with", files dropped on the app icon).
    pub sources: Vec<String>,
    /// The saved queue: where changes go, what was in it, and anything to tell about it.
    pub queue: Option<Queue>,
    pub stored: Vec<StoredItem>,
    pub queue_notice: Option<crate::queue::QueueNotice>,
}

/// What drawing asks for; applied once per frame, after drawing.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum Action {
    /// Lines of URLs or paths (the add box, a paste, an imported list).
    AddText {
        text: String,
        origin: String,
    },
    /// Local paths: folders are expanded off the UI thread first.
    AddPaths(Vec<PathBuf>),
    PickFiles,
    PickDest,
    ImportList,
    /// Read the list file at this path (typed where no dialog is available).
    ImportPath(PathBuf),
    OpenDest,
    Cancel(JobId),
    Pause(JobId),
    /// Retry a failed item, or resume a paused one (same thing: submit it again).
    Retry(JobId),
    Remove(JobId),
    Open(PathBuf),
    Reveal(PathBuf),
    CancelAll,
    SetPaused(bool),
    ClearFinished,
    SetFilter(Option<Status>),
    Click {
        index: usize,
        add: bool,
    },
    SelectAll,
    CancelSelected,
    RemoveSelected,
    /// Caps, timeouts or overwrite changed.
    ApplySettings,
    /// The destination field was edited.
    SetDest(PathBuf),
    ConfirmQuit,
    DismissQuit,
}

/// A line under the toolbar telling what just happened (an import, a dialog problem).
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}

/// The window's state: persisted settings plus everything that lives only while it is open.
pub struct HaulApp {
    settings: Settings,
    engine: EngineHandle,
    events: Events,
    desktop: Desktop,
    logs: RecentLogs,
    queue: Option<Queue>,
    system_locale: Option<String>,
    cwd: PathBuf,
    model: Model,
    add_text: String,
    dest_text: String,
    /// A field for a list file's path, shown when no file dialog is available.
    list_prompt: Option<String>,
    paused: bool,
    notice: Option<Notice>,
    quit_asked: bool,
    quit_confirmed: bool,
    log_cache: (u64, Vec<LogLine>),
    /// Rows laid out in the last frame (the list is virtualised: only visible ones).
    rows_built: usize,
    /// Actions queued by event handling or drawing, applied at the end of the frame.
    actions: Vec<Action>,
    /// When the process started, until the first frame logs how long it took.
    launched: Option<Instant>,
    /// Progress waiting to be applied while events are drained (kept for its allocation).
    progress: HashMap<JobId, (u64, Option<u64>)>,
    /// The About window is open.
    about_open: bool,
    /// Where settings, the queue and logs are kept, to tell in the About window.
    data_dir: Option<PathBuf>,
    /// What `main` wants done once the window has gone (pausing what is left).
    on_exit: Option<Box<dyn FnOnce() + Send>>,
}

impl HaulApp {
    /// Builds the window's state from what eframe remembered and what `main` made.
    pub fn new(storage: Option<&dyn eframe::Storage>, init: AppInit) -> Self {
        let mut settings: Settings = storage
            .and_then(|s| eframe::get_value(s, settings::STORAGE_KEY))
            .unwrap_or_default();
        if let Some(dest) = init.dest {
            settings.dest = absolute(&init.cwd, &dest);
        } else if settings.dest.as_os_str().is_empty() {
            settings.dest = init.default_dest;
        }
        let mut app = HaulApp {
            dest_text: settings.dest.display().to_string(),
            settings,
            engine: init.engine,
            events: init.events,
            desktop: init.desktop,
            logs: init.logs,
            queue: init.queue,
            system_locale: init.system_locale,
            cwd: init.cwd,
            model: Model::default(),
            add_text: String::new(),
            list_prompt: None,
            paused: false,
            notice: None,
            quit_asked: false,
            quit_confirmed: false,
            log_cache: (u64::MAX, Vec::new()),
            rows_built: 0,
            actions: Vec::new(),
            launched: None,
            progress: HashMap::new(),
            about_open: false,
            data_dir: None,
            on_exit: None,
        };
        app.engine.send(Command::SetLimits(app.settings.limits()));
        app.engine.send(Command::SetOutput(app.settings.output()));
        app.restore(&init.stored);
        if let Some(problem) = init.queue_notice {
            let tr = app.tr();
            let text = match problem {
                crate::queue::QueueNotice::MovedAside { reason, to } => tr.fill(
                    T::QueueMovedAside,
                    &[
                        ("reason", &reason),
                        (
                            "path",
                            &to.map(|p| p.display().to_string()).unwrap_or_default(),
                        ),
                    ],
                ),
                crate::queue::QueueNotice::Unavailable { reason } => {
                    tr.fill(T::QueueUnavailable, &[("reason", &reason)])
                }
            };
            app.error_notice(text);
        }
        let entries = crate::cli::from_args(&init.sources, &app.cwd);
        app.add_entries(entries);
        app
    }

    /// The first frame logs the time since `at` (the process start): the startup benchmark
    /// reads it from the log.
    pub fn launched_at(mut self, at: Instant) -> Self {
        self.launched = Some(at);
        self
    }

    /// Names the folder that holds settings, the queue and logs, for the About window.
    pub fn with_data_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.data_dir = dir;
        self
    }

    /// Runs `f` once when the window goes away (eframe's `on_exit`), however it is closed.
    pub fn on_exit(mut self, f: Box<dyn FnOnce() + Send>) -> Self {
        self.on_exit = Some(f);
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Rows laid out in the last frame.
    pub fn rows_built(&self) -> usize {
        self.rows_built
    }

    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    fn tr(&self) -> Tr {
        Tr(self
            .settings
            .language
            .resolve(self.system_locale.as_deref()))
    }

    /// Adds each line: valid sources are queued (local folders expanded first), others
    /// become failed rows that say why.
    fn add_text(&mut self, text: &str, origin: &str) {
        let entries = crate::cli::from_list(text, origin, &self.cwd);
        self.add_entries(entries);
    }

    fn add_entries(&mut self, entries: Vec<crate::cli::Entry>) {
        let now = Instant::now();
        let mut paths = Vec::new();
        for entry in entries {
            match entry.parsed {
                Ok(Source::File(path)) => paths.push(path),
                Ok(source) => self.submit(&entry.text, source, entry.checksum, now),
                Err(reason) => {
                    let id = self.engine.next_id();
                    let error = FetchError::InvalidSource {
                        input: entry.text.clone(),
                        reason,
                    };
                    self.model.push(
                        id,
                        &entry.text,
                        Err(format!("{error} ({})", entry.origin)),
                        now,
                    );
                    self.save(id);
                }
            }
        }
        if !paths.is_empty() {
            self.desktop.expand(paths);
        }
    }

    fn submit(&mut self, text: &str, source: Source, sha256: Option<Checksum>, now: Instant) {
        let id = self.engine.next_id();
        self.model
            .push_checked(id, text, Ok(source.clone()), sha256, now);
        self.save(id);
        self.engine.send(Command::Submit { id, source, sha256 });
    }

    /// Brings back the saved queue: finished items as they were, unfinished ones submitted
    /// again (they resume from their `.part` files).
    fn restore(&mut self, stored: &[StoredItem]) {
        for item in stored {
            let id = self.engine.next_id();
            let (row, again) = saved::restored(item, id, &self.cwd);
            let submit = again
                .then(|| row.source.clone().map(|s| (s, row.sha256)))
                .flatten();
            self.model.restore(row);
            if let Some((source, sha256)) = submit {
                self.engine.send(Command::Submit { id, source, sha256 });
            }
        }
    }

    /// Writes a row's current state to the saved queue (in the background).
    fn save(&self, id: JobId) {
        if let (Some(queue), Some(row)) = (&self.queue, self.model.row(id)) {
            queue.send(Op::Put(saved::stored(row)));
        }
    }

    fn add_files(&mut self, files: Vec<PathBuf>) {
        let now = Instant::now();
        for path in files {
            let text = path.display().to_string();
            self.submit(&text, Source::File(path), None, now);
        }
    }

    /// Applies engine events until none are left or the budget is spent.
    /// Returns true when some are still waiting.
    ///
    /// Progress is coalesced per item: of the progress events an item sent since the last
    /// frame, only the latest is applied (and sent to the saved queue), so a flood of them
    /// costs one hash-map insert each. Any other event of an item first applies that item's
    /// pending progress, keeping each item's events in order.
    fn drain_events(&mut self) -> bool {
        let started = Instant::now();
        let mut now = started;
        let mut progress = std::mem::take(&mut self.progress);
        let mut more = false;
        for n in 1usize.. {
            let Ok(event) = self.events.try_recv() else {
                break;
            };
            if let Event::Progress { id, done, total } = event {
                progress.insert(id, (done, total));
            } else {
                let id = event.id();
                if let Some((done, total)) = progress.remove(&id) {
                    self.apply_progress(id, done, total, now);
                }
                self.model.apply(event, now);
                self.save(id);
            }
            if n.is_multiple_of(64) {
                now = Instant::now();
                if now.duration_since(started) > EVENT_BUDGET {
                    more = true;
                    break;
                }
            }
        }
        for (id, (done, total)) in progress.drain() {
            self.apply_progress(id, done, total, now);
        }
        self.progress = progress;
        more
    }

    fn apply_progress(&mut self, id: JobId, done: u64, total: Option<u64>, now: Instant) {
        self.model.apply(Event::Progress { id, done, total }, now);
        if let (Some(queue), Some(row)) = (&self.queue, self.model.row(id)) {
            queue.send(Op::Progress {
                key: row.key,
                bytes: done,
                total,
            });
        }
    }

    fn drain_desktop(&mut self) {
        let tr = self.tr();
        while let Some(reply) = self.desktop.try_recv() {
            match reply {
                Reply::FilesPicked(files) => self.add_files(files),
                Reply::DestPicked(dest) => self.actions.push(Action::SetDest(dest)),
                Reply::ListRead { path, text, sums } => {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| path.display().to_string());
                    let before = self.model.len();
                    let mut entries = crate::cli::from_list(&text, &name, &self.cwd);
                    if let Some(sums) = sums {
                        crate::cli::apply_sums(&mut entries, &crate::cli::parse_sums(&sums));
                    }
                    self.add_entries(entries);
                    let n = self.model.len() - before;
                    self.info_notice(tr.fill(
                        T::Imported,
                        &[("n", &n.to_string()), ("path", &path.display().to_string())],
                    ));
                }
                Reply::ListFailed { path, error } => {
                    self.error_notice(tr.fill(
                        T::ImportFailed,
                        &[("path", &path.display().to_string()), ("error", &error)],
                    ));
                }
                Reply::DialogUnavailable(dialog) => {
                    self.error_notice(tr.get(T::DialogUnavailable).to_owned());
                    if dialog == Dialog::List {
                        // Without a dialog, the list's path can be typed instead.
                        self.list_prompt.get_or_insert_with(String::new);
                    }
                }
                Reply::Expanded {
                    files,
                    errors,
                    folders,
                } => {
                    self.add_files(files);
                    if let Some((path, error)) = errors.first() {
                        self.error_notice(tr.fill(
                            T::FolderFailed,
                            &[("path", &path.display().to_string()), ("error", error)],
                        ));
                    } else if let Some((path, n)) = folders.last() {
                        self.info_notice(tr.fill(
                            T::FolderAdded,
                            &[("n", &n.to_string()), ("path", &path.display().to_string())],
                        ));
                    }
                }
                Reply::OpenFailed { path, error } => {
                    self.error_notice(tr.fill(
                        T::OpenFailed,
                        &[("path", &path.display().to_string()), ("error", &error)],
                    ));
                }
            }
        }
    }

    fn info_notice(&mut self, text: String) {
        self.notice = Some(Notice {
            text,
            is_error: false,
        });
    }

    fn error_notice(&mut self, text: String) {
        self.notice = Some(Notice {
            text,
            is_error: true,
        });
    }

    /// Keys, pastes and drops that belong to the whole window.
    fn window_input(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .filter(|p| !p.as_os_str().is_empty())
                .collect()
        });
        if !dropped.is_empty() {
            self.actions.push(Action::AddPaths(dropped));
        }
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Q)) {
            // Ctrl+Q / Cmd+Q: the same path as the window's close button.
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if ctx.egui_wants_keyboard_input() {
            return; // a text field has the keys (and its own Ctrl+V)
        }
        let pasted: Vec<String> = ctx.input(|i| {
            i.events
                .iter()
                .filter_map(|e| match e {
                    egui::Event::Paste(text) => Some(text.clone()),
                    _ => None,
                })
                .collect()
        });
        for text in pasted {
            self.actions.push(Action::AddText {
                text,
                origin: "clipboard".to_owned(),
            });
        }
        ctx.input_mut(|i| {
            if i.consume_key(egui::Modifiers::COMMAND, egui::Key::A) {
                self.actions.push(Action::SelectAll);
            }
            if i.consume_key(egui::Modifiers::NONE, egui::Key::Escape) {
                self.actions.push(Action::CancelSelected);
            }
            if i.consume_key(egui::Modifiers::NONE, egui::Key::Delete) {
                self.actions.push(Action::RemoveSelected);
            }
        });
    }

    /// A close request while items run becomes a question instead.
    fn intercept_close(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested())
            && !self.quit_confirmed
            && self.model.active() > 0
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.quit_asked = true;
        }
    }

    fn apply(&mut self, ctx: &egui::Context, action: Action) {
        let now = Instant::now();
        match action {
            Action::AddText { text, origin } => self.add_text(&text, &origin),
            Action::AddPaths(paths) => self.desktop.expand(paths),
            Action::PickFiles => self.desktop.pick_files(),
            Action::PickDest => self.desktop.pick_dest(self.settings.dest.clone()),
            Action::ImportList => self.desktop.import_list(),
            Action::ImportPath(path) => {
                self.list_prompt = None;
                self.desktop.read_list(absolute(&self.cwd, &path));
            }
            Action::OpenDest => self.desktop.open(self.settings.dest.clone()),
            Action::Cancel(id) => self.engine.cancel(id),
            Action::Pause(id) => self.engine.pause(id),
            Action::Retry(id) => {
                let new_id = self.engine.next_id();
                if let Some((source, sha256)) = self.model.retry(id, new_id, now) {
                    self.save(new_id);
                    self.engine.send(Command::Submit {
                        id: new_id,
                        source,
                        sha256,
                    });
                }
            }
            Action::Remove(id) => self.remove(&[id], now),
            Action::Open(path) => self.desktop.open(path),
            Action::Reveal(path) => self.desktop.reveal(path),
            Action::CancelAll => self.engine.cancel_all(),
            Action::SetPaused(paused) => {
                self.paused = paused;
                self.engine.send(Command::SetPaused(paused));
            }
            Action::ClearFinished => {
                let keys = self.model.clear_finished(now);
                self.forget(keys);
            }
            Action::SetFilter(filter) => self.model.set_filter(filter),
            Action::Click { index, add } => self.model.click(index, add),
            Action::SelectAll => self.model.select_all(),
            Action::CancelSelected => {
                for id in self.model.selected() {
                    if self.model.row(id).is_some_and(|r| r.status().is_active()) {
                        self.engine.cancel(id);
                    }
                }
            }
            Action::RemoveSelected => {
                let selected = self.model.selected();
                self.remove(&selected, now);
            }
            Action::ApplySettings => {
                self.engine.send(Command::SetLimits(self.settings.limits()));
                self.engine.send(Command::SetOutput(self.settings.output()));
            }
            Action::SetDest(dest) => {
                let dest = absolute(&self.cwd, &dest);
                self.dest_text = dest.display().to_string();
                self.settings.dest = dest;
                self.engine.send(Command::SetOutput(self.settings.output()));
            }
            Action::ConfirmQuit => {
                // Running items are paused, not cancelled: their bytes are kept and they
                // resume the next time Haul starts.
                self.quit_confirmed = true;
                self.quit_asked = false;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Action::DismissQuit => self.quit_asked = false,
        }
    }

    /// Removes rows; active ones are cancelled (their `.part` files go with them), and the
    /// bytes kept for paused, failed or timed-out downloads are deleted.
    fn remove(&mut self, ids: &[JobId], now: Instant) {
        let kept: Vec<Source> = ids
            .iter()
            .filter_map(|id| self.model.row(*id))
            .filter(|row| {
                matches!(
                    row.status(),
                    Status::Paused | Status::Failed | Status::TimedOut
                )
            })
            .filter_map(|row| row.source.clone())
            .collect();
        for source in kept {
            self.engine.send(Command::Discard(source));
        }
        let (active, keys) = self.model.remove(ids, now);
        for id in active {
            self.engine.cancel(id);
        }
        self.forget(keys);
    }

    fn forget(&self, keys: Vec<u64>) {
        if let Some(queue) = &self.queue
            && !keys.is_empty()
        {
            queue.send(Op::Remove(keys));
        }
    }

    /// One frame of work around the drawing; split out so tests and benchmarks can drive it.
    fn frame(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let more_events = self.drain_events();
        self.drain_desktop();
        self.window_input(&ctx);
        self.intercept_close(&ctx);
        if self.logs.generation() != self.log_cache.0 {
            self.log_cache = (self.logs.generation(), self.logs.snapshot());
        }

        self.draw(ui);

        for action in std::mem::take(&mut self.actions) {
            self.apply(&ctx, action);
        }
        if let Some(at) = self.launched.take() {
            let ms = at.elapsed().as_secs_f64() * 1e3;
            tracing::info!(ms = format!("{ms:.1}"), "first frame");
        }
        if more_events {
            ctx.request_repaint();
        } else if self.model.count(Status::Running) + self.model.count(Status::Connecting) > 0 {
            // Elapsed time, speed and ETA move without events; a queue that waits does not.
            ctx.request_repaint_after(TICK);
        }
    }
}

fn absolute(cwd: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd.join(path)
    }
}

impl eframe::App for HaulApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, settings::STORAGE_KEY, &self.settings);
    }

    fn auto_save_interval(&self) -> Duration {
        Duration::from_secs(30)
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        if let Some(f) = self.on_exit.take() {
            f();
        }
    }
}
