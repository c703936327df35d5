//! The window's test world, shared by every window test module: a runtime, a fixture server,
//! a destination and an engine wired as `main` wires them, the headless harness, and the
//! steps a person takes (typing into the add box, pasting and pausing, dropping files).
//! Must not touch: the engine's and the CLI's test helpers (those are in haul-testkit).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::support::Server;
use eframe::egui::{self, accesskit::Role};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use haul::app::model::State;
use haul::app::{AppInit, HaulApp};
use haul::desktop::{Desktop, Reply};
use haul::engine::{Engine, EngineConfig};
use haul::protocol::Status;

pub(crate) use crate::support::harness::hex_sha;

/// A runtime, a fixture server, a destination and an engine, as `main` would wire them.
pub(crate) struct World {
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) server: Server,
    pub(crate) dest: tempfile::TempDir,
    pub(crate) engines: Vec<Engine>,
    /// The engine wakes the window through this, as in `main`, once a harness exists.
    pub(crate) window: Arc<OnceLock<egui::Context>>,
}

impl World {
    pub(crate) fn new() -> World {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt.block_on(Server::start());
        World {
            rt,
            server,
            dest: tempfile::tempdir().expect("tempdir"),
            engines: Vec::new(),
            window: Arc::default(),
        }
    }

    pub(crate) fn init(&mut self, dest: Option<PathBuf>) -> AppInit {
        let window = Arc::clone(&self.window);
        let waker: haul::protocol::Waker = Arc::new(move || {
            if let Some(ctx) = window.get() {
                ctx.request_repaint();
            }
        });
        let config = EngineConfig {
            waker: Some(waker),
            ..EngineConfig::default()
        };
        let (engine, events) = Engine::start(self.rt.handle(), config).expect("engine");
        let mut desktop = Desktop::new(self.rt.handle().clone(), None);
        // Never the person's own login entry.
        desktop.set_autostart_entry(haul::desktop::autostart::Entry::File(
            self.dest.path().join(".login-entry.desktop"),
        ));
        let init = AppInit {
            system_locale: Some("en-US".to_owned()),
            default_dest: self.dest.path().join("default"),
            dest,
            ..AppInit::new(
                engine.handle(),
                events,
                desktop,
                self.dest.path().to_path_buf(),
            )
        };
        self.engines.push(engine);
        init
    }

    pub(crate) fn harness(&mut self) -> Harness<'static, HaulApp> {
        let init = self.init(Some(self.dest.path().to_path_buf()));
        let h = harness_with(move |_| HaulApp::new(None, init));
        let _ = self.window.set(h.ctx.clone());
        h
    }

    /// A harness and a way to answer for the desktop (to stand in for a missing dialog).
    pub(crate) fn harness_and_desktop(
        &mut self,
    ) -> (
        Harness<'static, HaulApp>,
        tokio::sync::mpsc::UnboundedSender<Reply>,
    ) {
        let init = self.init(Some(self.dest.path().to_path_buf()));
        let replies = init.desktop.sender();
        let h = harness_with(move |_| HaulApp::new(None, init));
        let _ = self.window.set(h.ctx.clone());
        (h, replies)
    }

    pub(crate) fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dest.path())
            .expect("dest readable")
            .filter_map(Result::ok)
            .filter(|e| e.path().is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

pub(crate) fn harness_with<'a>(
    build: impl FnOnce(&mut eframe::CreationContext<'a>) -> HaulApp,
) -> Harness<'a, HaulApp> {
    harness_sized([1180.0, 680.0], build)
}

/// A harness whose window has this size (points).
pub(crate) fn harness_sized<'a>(
    size: [f32; 2],
    build: impl FnOnce(&mut eframe::CreationContext<'a>) -> HaulApp,
) -> Harness<'a, HaulApp> {
    Harness::builder()
        .with_size(size)
        // What eframe installs in the real window: the system fonts for CJK, Arabic, ….
        .with_context_setup(|ctx| {
            ctx.add_font_provider(Arc::new(
                egui_system_font_provider::SystemFontProvider::new(),
            ));
        })
        .build_eframe(build)
}

/// Runs frames (as repaints would) until `done` holds.
pub(crate) fn step_until(
    h: &mut Harness<'_, HaulApp>,
    what: &str,
    done: impl Fn(&HaulApp) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done(h.state()) {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; the rows: {:?}",
            h.state()
                .model()
                .rows()
                .iter()
                .map(|r| (&r.name, &r.state))
                .collect::<Vec<_>>()
        );
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
}

/// Runs frames until the row for `text` has `status`.
pub(crate) fn step_until_status(h: &mut Harness<'_, HaulApp>, text: &str, status: Status) {
    step_until(h, &format!("{text} to be {status:?}"), |app| {
        status_of(app, text) == Some(status)
    });
}

pub(crate) fn status_of(app: &HaulApp, text: &str) -> Option<Status> {
    row_of(app, text).map(|r| r.status())
}

/// The row for `text`.
pub(crate) fn row_of<'a>(app: &'a HaulApp, text: &str) -> Option<&'a haul::session::Entry> {
    app.model().rows().iter().find(|r| r.uri == text)
}

/// Some node carries this label (a text can be shown in more than one place).
pub(crate) fn shown(h: &Harness<'_, HaulApp>, label: &str) -> bool {
    h.query_all_by_label(label).next().is_some()
}

pub(crate) fn no_part_files(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .expect("dest readable")
        .filter_map(Result::ok)
        .all(|e| !e.file_name().to_string_lossy().ends_with(".part"))
}

/// Types `text` into the add box and presses Add (every line becomes a row, bad ones saying
/// why).
pub(crate) fn add_via_box(h: &mut Harness<'_, HaulApp>, text: &str) {
    h.get_by_role(Role::MultilineTextInput).focus();
    h.step();
    h.event(egui::Event::Paste(text.to_owned()));
    h.step();
    h.get_by_label("Add").click();
    h.step();
}

#[derive(Default)]
pub(crate) struct MemoryStorage(pub(crate) std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// A file dropped on the window, as the platform layer hands it over.
#[derive(Debug)]
pub(crate) struct Dropped(pub(crate) PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Runs `n` frames.
pub(crate) fn steps(h: &mut Harness<'_, HaulApp>, n: usize) {
    for _ in 0..n {
        h.step();
    }
}

/// Pastes a dripping URL, waits until more than `bytes` have arrived, clicks its Pause and
/// waits until the row is paused.
pub(crate) fn paste_and_pause(h: &mut Harness<'_, HaulApp>, url: &str, bytes: u64) {
    h.event(egui::Event::Paste(url.to_owned()));
    step_until(h, "bytes flowing", |app| {
        app.model()
            .rows()
            .first()
            .is_some_and(|r| r.state.bytes() > bytes)
    });
    h.get_by_label("Pause").click();
    step_until_status(h, url, Status::Paused);
}

pub(crate) fn row_state(h: &Harness<'_, HaulApp>, text: &str) -> Option<State> {
    h.state()
        .model()
        .rows()
        .iter()
        .find(|r| r.uri == text)
        .map(|r| r.state.clone())
}

/// Waits (stepping frames) for `ms`.
pub(crate) fn wait(h: &mut Harness<'_, HaulApp>, ms: u64) {
    let until = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < until {
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Settings saving into `world`'s folder, as `tweak` changes them, for `HaulApp::new`.
pub(crate) fn with_settings(
    world: &World,
    tweak: impl FnOnce(&mut haul::app::settings::Settings),
) -> MemoryStorage {
    let mut storage = MemoryStorage::default();
    let mut settings = haul::app::settings::Settings {
        dest: world.dest.path().to_path_buf(),
        ..haul::app::settings::Settings::default()
    };
    tweak(&mut settings);
    eframe::set_value(&mut storage, haul::app::settings::STORAGE_KEY, &settings);
    storage
}

/// A clock the test moves (minutes after midnight).
pub(crate) fn test_clock(
    h: &mut Harness<'_, HaulApp>,
    at: (u16, u16),
) -> std::sync::Arc<std::sync::atomic::AtomicU16> {
    let minutes = std::sync::Arc::new(std::sync::atomic::AtomicU16::new(at.0 * 60 + at.1));
    let read = std::sync::Arc::clone(&minutes);
    h.state_mut().set_clock(std::sync::Arc::new(move || {
        let m = read.load(std::sync::atomic::Ordering::Relaxed);
        haul::app::schedule::Clock::new(m / 60, m % 60).expect("a time")
    }));
    minutes
}

pub(crate) fn set_time(clock: &std::sync::atomic::AtomicU16, h: u16, m: u16) {
    clock.store(h * 60 + m, std::sync::atomic::Ordering::Relaxed);
}

/// The run hours from `from` to `to` o'clock.
pub(crate) fn hours(from: u16, to: u16) -> haul::app::schedule::Hours {
    haul::app::schedule::Hours {
        from: haul::app::schedule::Clock::new(from, 0).expect("from"),
        to: haul::app::schedule::Clock::new(to, 0).expect("to"),
    }
}
