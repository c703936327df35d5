//! The window: Haul's egui front end over the engine.
//!
//! Owns: what a person sees and does. [`HaulApp`] splits its work as rerun's viewer does:
//! `logic` (every repaint request, also while the window is minimised or hidden) drains
//! engine events within a time budget and desktop replies, keeps the saved queue current and
//! applies what they ask; `ui` (only while the window is shown) reads keys, pastes and drops,
//! draws the panels — which only collect [`Action`]s — and applies those actions once, at the
//! end of the frame.
//! Must not touch: the network, the disk, or anything that blocks. Work goes to the engine as
//! [`Command`]s and to [`Desktop`] as requests (the saved queue and the logs are the
//! desktop wing's too); both answer over channels and wake the window through a repaint
//! callback, so an idle window paints nothing.
//!
//! # Layout
//! - `logic`: draining events and replies, the saved queue, the tick while items run.
//! - `action`: [`Action`], what drawing and input ask for, and applying it.
//! - `adding`: lines, files and hand-offs into rows (duplicates flagged, schemes guessed).
//! - [`model`]: the rows and the batch as plain data.
//! - `panels`: drawing, a file per panel.
//! - `rpc`: the window as an aria2 JSON-RPC server over its own rows.
//! - [`i18n`]: every user-facing string, English, 简体中文 and 繁體中文.
//! - [`settings`]: what is remembered across restarts.
//! - [`saved`]: rows to and from the saved queue's items.
//! - `trust`: trusting a refused certificate, for a row or for its host.

mod action;
mod adding;
mod asking;
pub mod desk;
pub mod i18n;
mod logic;
pub mod model;
mod order;
mod panels;
mod rerun;
mod rpc;
pub mod saved;
pub mod schedule;
pub mod settings;
mod tray;
pub mod trust;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui;

use crate::desktop::Desktop;
use crate::desktop::instance::Handoff;
use crate::desktop::logs::RecentLogs;
use crate::desktop::saved_queue::{QueueNotice, SavedItem, SavedQueue};
use crate::engine::{EngineHandle, Events};
use crate::protocol::{Command, JobId, Status};
use crate::sources;
pub use action::Action;
use asking::Confirm;
use i18n::{T, Tr};
use model::Model;
use settings::Settings;

/// The window's smallest inner size (points): 320 high, so that with a title bar it fits a
/// 640×360 screen whole (issue 28, item 24: at 360 its bottom row fell under the edge).
pub const MIN_SIZE: [f32; 2] = [640.0, 320.0];

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
    pub queue: Option<SavedQueue>,
    pub stored: Vec<SavedItem>,
    pub queue_notice: Option<QueueNotice>,
    /// Sources later launches of `haul` hand to this window (one window per person).
    pub handoffs: Option<std::sync::mpsc::Receiver<Handoff>>,
    /// When the process started: the first frame logs the time since (the startup benchmark
    /// reads it from the log).
    pub launched: Option<Instant>,
    /// The folder that holds settings, the queue and logs, to tell in the About window.
    pub data_dir: Option<PathBuf>,
    /// What to do once when the window goes away (eframe's `on_exit`), however it is closed.
    pub on_exit: Option<Box<dyn FnOnce() + Send>>,
    /// The monitors, where eframe does not keep a restored window on one (Linux): the first
    /// frame moves the window onto them. Empty: nothing to check.
    pub monitors: Vec<crate::desktop::screens::Area>,
}

impl AppInit {
    /// The least a window needs: an engine, its events, the desktop wing and the folder
    /// relative paths are taken from (also the default destination). Nothing else: no logs
    /// kept, the system's locale unknown, no sources, no saved queue, no hand-offs. `main`
    /// and the tests fill in the rest with struct update syntax.
    pub fn new(engine: EngineHandle, events: Events, desktop: Desktop, cwd: PathBuf) -> Self {
        AppInit {
            engine,
            events,
            desktop,
            logs: RecentLogs::default(),
            system_locale: None,
            default_dest: cwd.clone(),
            cwd,
            dest: None,
            sources: Vec::new(),
            queue: None,
            stored: Vec::new(),
            queue_notice: None,
            handoffs: None,
            launched: None,
            data_dir: None,
            on_exit: None,
            monitors: Vec::new(),
        }
    }
}

/// A message about what just happened (an import, a dialog problem), in a strip above the
/// summary (never over the list's rows), gone after a while ([`Notice::lasts`]) or when closed.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
    /// When it was said.
    pub shown: std::time::Instant,
}

impl Notice {
    /// How long it stays: long enough to read twice; a problem longer.
    pub fn lasts(&self) -> std::time::Duration {
        std::time::Duration::from_secs(if self.is_error { 15 } else { 6 })
    }
}

/// One line of the activity panel, written when it happened, in the window's language; kept
/// across restarts with the settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Activity {
    /// Seconds since the Unix epoch.
    pub at: u64,
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
    /// The saved queue (SQLite), kept current from `logic`.
    queue: Option<SavedQueue>,
    /// Sources handed over by later launches.
    handoffs: Option<std::sync::mpsc::Receiver<Handoff>>,
    system_locale: Option<String>,
    cwd: PathBuf,
    model: Model,
    /// The panels' own state (each panel's file holds its state and its drawing).
    toolbar: panels::toolbar::Toolbar,
    settings_panel: panels::settings::SettingsPanel,
    summary: panels::summary::Summary,
    list: panels::list::ListPanel,
    activity: panels::logs::ActivityPanel,
    dialogs: panels::dialogs::Dialogs,
    /// The proxy last sent to the engine (the client is rebuilt only when it changes).
    proxy_sent: crate::protocol::ProxyChoice,
    /// Quitting was confirmed (or asked for from the tray or the schedule): close for real.
    quit_confirmed: bool,
    /// The window title last sent, so it is sent only when it changes.
    title: String,
    /// Actions queued by event handling or drawing, applied at the end of the frame.
    actions: Vec<Action>,
    /// When the process started, until the first frame logs how long it took.
    launched: Option<Instant>,
    /// The monitors, until the first frame that knows the window's place has kept it on them.
    monitors: Option<Vec<crate::desktop::screens::Area>>,
    /// Progress waiting to be applied while events are drained (kept for its allocation).
    progress: HashMap<JobId, (u64, Option<u64>)>,
    /// "Add with options…" or "Edit options…", while open.
    options_form: Option<panels::options::OptionsForm>,
    /// The aria2 JSON-RPC server, while "Allow browsers and tools to add downloads" is on.
    rpc: Option<rpc::Serving>,
    /// Why it could not start (a port in use: with a free one to offer).
    rpc_problem: Option<rpc::RpcProblem>,
    /// The port it could not start on (not tried again until the setting changes).
    rpc_failed: Option<u16>,
    /// Queued rows paused to take new options: they go on once the engine says they paused.
    resume_after_pause: std::collections::HashSet<JobId>,
    /// The schedule at work and the "when the queue is done" countdown.
    desk: desk::Desk,
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
            toolbar: panels::toolbar::Toolbar::new(&settings),
            settings_panel: panels::settings::SettingsPanel::new(&settings),
            summary: panels::summary::Summary::new(&settings),
            list: panels::list::ListPanel::default(),
            // The last session's lines come back (issue 28, item 26: Activity was empty after
            // a restart).
            activity: panels::logs::ActivityPanel {
                lines: storage
                    .and_then(|s| eframe::get_value(s, panels::logs::STORAGE_KEY))
                    .unwrap_or_default(),
                ..panels::logs::ActivityPanel::default()
            },
            dialogs: panels::dialogs::Dialogs::default(),
            proxy_sent: settings.proxy.clone(),
            settings,
            engine: init.engine,
            events: init.events,
            desktop: init.desktop,
            logs: init.logs,
            queue: init.queue,
            handoffs: init.handoffs,
            system_locale: init.system_locale,
            cwd: init.cwd,
            model: Model::default(),
            quit_confirmed: false,
            title: String::new(),
            actions: Vec::new(),
            launched: init.launched,
            monitors: (!init.monitors.is_empty()).then_some(init.monitors),
            progress: HashMap::new(),
            options_form: None,
            rpc: None,
            rpc_problem: None,
            rpc_failed: None,
            resume_after_pause: std::collections::HashSet::new(),
            desk: desk::Desk::default(),
            data_dir: init.data_dir,
            on_exit: init.on_exit,
        };
        app.desk.rate_text = crate::human::size_for_field(app.settings.schedule.limit_rate);
        if let Some(paused) = storage.and_then(|s| eframe::get_value(s, desk::PAUSED_KEY)) {
            app.desk.restore_paused(paused);
        }
        // The limits cross to the engine once: with the schedule's speed limit if it is in
        // force now (the schedule's pass sends them again only when that changes).
        let now = (app.desk.clock)();
        app.desk.rate = app.settings.schedule.rate_at(now);
        app.engine.send(Command::SetLimits(app.limits()));
        // Outside the schedule's hours, what comes back from the saved queue waits (the
        // schedule's pass takes it from here).
        app.desk.held = app.settings.schedule.holds(now);
        if app.desk.held {
            app.engine.send(Command::SetPaused(true));
        }
        app.engine.send(Command::SetOutput(
            app.settings.output(app.system_locale.as_deref()),
        ));
        if !app.settings.trusted_certificates.is_empty() {
            app.send_host_pins();
        }
        if app.settings.proxy != crate::protocol::ProxyChoice::default() {
            app.engine
                .send(Command::SetProxy(app.settings.proxy.clone()));
        }
        app.restore(&init.stored);
        if let Some(problem) = init.queue_notice {
            let tr = app.tr();
            let text = match problem {
                QueueNotice::MovedAside { reason, to } => tr.fill(
                    T::QueueMovedAside,
                    &[
                        ("reason", &reason),
                        (
                            "path",
                            &to.map(|p| p.display().to_string()).unwrap_or_default(),
                        ),
                    ],
                ),
                QueueNotice::InUse { path } => {
                    tr.fill(T::QueueInUse, &[("path", &path.display().to_string())])
                }
                QueueNotice::Unavailable { reason } => {
                    tr.fill(T::QueueUnavailable, &[("reason", &reason)])
                }
            };
            app.error_notice(text);
        }
        app.desk.minimise = app.settings.start_minimised && init.sources.is_empty();
        let entries = sources::from_args(&init.sources, &app.cwd);
        app.add_entries(entries, false);
        app
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The settings to change from outside the panel (an embedding, a test); they apply on
    /// the next frame that applies settings (the RPC server's on every frame).
    pub fn settings_mut(&mut self) -> &mut Settings {
        &mut self.settings
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Rows laid out in the last frame.
    pub fn rows_built(&self) -> usize {
        self.list.rows_built
    }

    pub fn notice(&self) -> Option<&Notice> {
        self.dialogs.notice.as_ref()
    }

    /// What the activity panel shows, newest last.
    pub fn activity(&self) -> impl Iterator<Item = &Activity> {
        self.activity.lines.iter()
    }

    /// The question waiting for an answer before partial downloads are deleted, if any.
    pub fn confirming(&self) -> Option<&Confirm> {
        self.dialogs.confirm.as_ref()
    }

    /// Why the destination typed is not used, if it is not.
    pub fn dest_problem(&self) -> Option<&Notice> {
        self.toolbar.dest_problem.as_ref()
    }

    /// Adds a line to the activity panel.
    fn log_activity(&mut self, text: String, is_error: bool) {
        self.activity.push(text, is_error);
    }

    /// The charset older programs in this locale wrote (`GBK` in zh-CN), for list files
    /// that are not UTF-8.
    fn legacy_charset(&self) -> Option<&'static str> {
        self.system_locale
            .as_deref()
            .and_then(crate::names::legacy_charset_for_locale)
    }

    fn tr(&self) -> Tr {
        Tr(self
            .settings
            .language
            .resolve(self.system_locale.as_deref()))
    }

    /// The window's title says how far the batch is: `Haul — 42% · 3 active`, counting only
    /// what connects or runs (queued items wait: `Haul — 2 waiting` when nothing runs).
    fn update_title(&mut self, ctx: &egui::Context) {
        let tr = self.tr();
        let running = self.model.working();
        let waiting = self.model.count(Status::Queued);
        let title = match (running, self.model.progress()) {
            (0, _) if waiting > 0 => tr.fill(T::TitleWaiting, &[("n", &waiting.to_string())]),
            (0, _) => tr.get(T::AppTitle).to_owned(),
            (n, Some(done)) => tr.fill(
                T::TitleProgress,
                &[
                    ("pct", &format!("{:.0}", (done * 100.0).floor())),
                    ("n", &n.to_string()),
                ],
            ),
            (n, None) => tr.fill(T::TitleActive, &[("n", &n.to_string())]),
        };
        if title != self.title {
            ctx.send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title = title;
        }
    }

    /// The `ui` pass: input that belongs to the whole window, drawing, and the actions both
    /// collected, applied once. Only runs while the window is shown.
    fn frame(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.window_input(&ctx);
        self.intercept_close(&ctx);
        self.keep_on_screen(&ctx);
        if self.logs.generation() != self.activity.log_cache.0 {
            self.activity.log_cache = (self.logs.generation(), self.logs.snapshot());
        }

        self.draw(ui);

        self.apply_actions(&ctx);
        self.update_title(&ctx);
        if let Some(at) = self.launched.take() {
            let ms = at.elapsed().as_secs_f64() * 1e3;
            tracing::info!(ms = format!("{ms:.1}"), "first frame");
        }
    }
}

impl HaulApp {
    /// Moves a window brought back off the screens (its place on a larger or unplugged
    /// monitor) onto the one it overlaps most, once, as soon as its place is known.
    fn keep_on_screen(&mut self, ctx: &egui::Context) {
        let Some(monitors) = self.monitors.take() else {
            return;
        };
        let Some(outer) = ctx.input(|i| i.viewport().outer_rect) else {
            self.monitors = Some(monitors);
            return;
        };
        let ppp = ctx.pixels_per_point();
        let px = |v: f32| (v * ppp).round() as i32;
        let window = crate::desktop::screens::Area {
            x: px(outer.min.x),
            y: px(outer.min.y),
            w: px(outer.width()),
            h: px(outer.height()),
        };
        if let Some((x, y)) = crate::desktop::screens::fit(window, &monitors) {
            tracing::info!(?window, x, y, "window moved onto a screen");
            let to = egui::pos2(x as f32 / ppp, y as f32 / ppp);
            ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(to));
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
    /// Runs before every `ui` pass and, while the window is minimised or hidden, on its own
    /// whenever the engine or the desktop wakes the window: events keep flowing into the
    /// rows and the saved queue either way.
    fn logic(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        self.logic_pass(ctx);
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.frame(ui);
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, settings::STORAGE_KEY, &self.settings);
        eframe::set_value(storage, panels::logs::STORAGE_KEY, &self.activity.lines);
        eframe::set_value(storage, desk::PAUSED_KEY, self.desk.paused_by_schedule());
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
