// No console window behind the app when double-clicked on Windows (release builds).
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]
//! `haul`: the window. Wires logging, the tokio runtime, the engine and eframe together, and
//! shuts the engine down (bounded) once the window has closed. Nothing else lives here.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use eframe::egui;
use haul::app::{AppInit, HaulApp};
use haul::desktop::instance::{self, Claim, Handoff};
use haul::desktop::saved_queue::{Opened, QueueNotice, SavedQueue};
use haul::desktop::{Desktop, logs};
use haul::engine::{Engine, EngineConfig};
use haul::protocol::Waker;

/// Names the data folder (settings, logs) and the window class on Linux.
const APP_ID: &str = "haul";
/// How long a second launch waits for the running Haul to take its sources.
const HANDOFF_PATIENCE: Duration = Duration::from_secs(5);
/// How soon the window paints after the engine or a chore wakes it.
const WAKE_WITHIN: Duration = Duration::from_millis(100);
/// How long quitting waits for running items to cancel and clean up their `.part` files.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

const USAGE: &str = "\
Fetch many files and URLs at once.

Usage: haul [--dest DIR] [FILE_OR_URL]...

Arguments:
  [FILE_OR_URL]...  URLs or local paths to add when the window opens

Options:
  --dest DIR        Destination folder (default: the one used last, else the Downloads folder)
  -h, --help        Print help
  -V, --version     Print version
";

/// The command line: a few words, parsed by hand (a parser library would add a third to
/// the window's binary for two options).
#[derive(Debug, Default, PartialEq)]
struct Args {
    sources: Vec<String>,
    dest: Option<PathBuf>,
}

enum Parsed {
    Run(Args),
    Exit(ExitCode),
}

/// Reads the command line. `base` makes a non-Unicode argument's path absolute (it is passed
/// on as a `file://` URL, see [`haul::sources::arg_text`]); `macos` drops the `-psn_0_NNN`
/// process serial number Launch Services adds on a first launch after the quarantine prompt.
fn parse_args(
    mut args: impl Iterator<Item = std::ffi::OsString>,
    base: &Path,
    macos: bool,
) -> Parsed {
    let mut parsed = Args::default();
    let mut only_sources = false;
    while let Some(arg) = args.next() {
        let text = arg.to_string_lossy().into_owned();
        if macos && !only_sources && text.starts_with("-psn_") {
            continue;
        }
        if only_sources || !text.starts_with('-') || text == "-" {
            match haul::sources::arg_text(arg, base) {
                Ok(source) => parsed.sources.push(source),
                Err(shown) => {
                    return usage_error(&format!(
                        "'{shown}' is not Unicode and cannot be read as a path"
                    ));
                }
            }
            continue;
        }
        match text.as_str() {
            "--" => only_sources = true,
            "-h" | "--help" => {
                attach_console();
                print!("{USAGE}");
                return Parsed::Exit(ExitCode::SUCCESS);
            }
            "-V" | "--version" => {
                attach_console();
                println!("haul {}", haul::version::LONG);
                return Parsed::Exit(ExitCode::SUCCESS);
            }
            "--dest" => match args.next() {
                Some(dir) => parsed.dest = Some(PathBuf::from(dir)),
                None => return usage_error("--dest needs a folder"),
            },
            other => match other.strip_prefix("--dest=") {
                // From the original argument, so a folder that is not Unicode stays intact.
                Some(_) => parsed.dest = Some(dest_after_equals(arg)),
                None => return usage_error(&format!("unknown option '{other}'")),
            },
        }
    }
    Parsed::Run(parsed)
}

/// The folder in `--dest=DIR`, with its bytes as given.
fn dest_after_equals(arg: std::ffi::OsString) -> PathBuf {
    let bytes = arg.as_encoded_bytes();
    let prefix = "--dest=".len();
    // SAFETY: the bytes come from an OsStr and are split right after an ASCII '=', which
    // `as_encoded_bytes` documents as a valid split point.
    PathBuf::from(unsafe { std::ffi::OsStr::from_encoded_bytes_unchecked(&bytes[prefix..]) })
}

fn usage_error(message: &str) -> Parsed {
    attach_console();
    eprint!("haul: {message}\n\n{USAGE}");
    Parsed::Exit(ExitCode::from(2))
}

/// A release build on Windows has no console of its own (no black window behind the app when
/// double-clicked), so `--help`, `--version` and usage errors would print nowhere when typed
/// in a console: attach to the console Haul was started from, if any. Output that is already
/// redirected (a pipe, a file) keeps going there.
#[cfg(windows)]
fn attach_console() {
    // kernel32 is always linked on Windows.
    unsafe extern "system" {
        fn GetStdHandle(which: u32) -> *mut std::ffi::c_void;
        fn AttachConsole(process: u32) -> i32;
    }
    /// `(DWORD)-11`
    const STD_OUTPUT_HANDLE: u32 = 0xFFFF_FFF5;
    /// `(DWORD)-1`
    const ATTACH_PARENT_PROCESS: u32 = u32::MAX;
    // SAFETY: two Win32 calls that take plain integers; a failure (no parent console) leaves
    // the process as it was.
    unsafe {
        if GetStdHandle(STD_OUTPUT_HANDLE).is_null() {
            AttachConsole(ATTACH_PARENT_PROCESS);
        }
    }
}

#[cfg(not(windows))]
fn attach_console() {}

fn main() -> ExitCode {
    let launched = Instant::now();
    let base = std::env::current_dir().unwrap_or_default();
    let args = match parse_args(
        std::env::args_os().skip(1),
        &base,
        cfg!(target_os = "macos"),
    ) {
        Parsed::Run(args) => args,
        Parsed::Exit(code) => return code,
    };
    // Logs live beside eframe's settings file, in the platform's data folder.
    let log_dir = eframe::storage_dir(APP_ID).map(|d| d.join("logs"));
    let (recent_logs, _flush_on_exit) = logs::init(log_dir.as_deref());
    tracing::info!(version = haul::version::LONG, "haul starting");
    report_panics();
    haul::process::raise_open_file_limit();
    match run(args, recent_logs, launched) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("haul: {e:#}");
            failure_box("Haul could not start", &format!("{e:#}"));
            ExitCode::FAILURE
        }
    }
}

/// A panic is a bug, and never a silent exit: it lands in the log (with where it happened),
/// then on stderr as usual, and when it ends the window (the main thread's) in a message box
/// too, where nobody sees stderr (see [`failure_box`]).
fn report_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_owned());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!("panic: {what}{place}");
        default(info);
        if std::thread::current().name() == Some("main") {
            failure_box(
                "Haul stopped",
                &format!(
                    "Haul stopped because of a bug: {what}{place}\n\nThe log has the details."
                ),
            );
        }
    }));
}

/// Where nobody sees stderr — Windows' GUI-subsystem `haul.exe` double-clicked, an app
/// started from Finder — a start-up failure (a window that cannot open, a Haul that does not
/// answer) or a panic is shown in a native message box, or Haul would seem to vanish.
/// On Linux a launcher's stderr goes to the session log; nothing is shown there.
#[cfg(any(windows, target_os = "macos"))]
fn failure_box(title: &str, message: &str) {
    use std::io::IsTerminal as _;
    if std::io::stderr().is_terminal() {
        return;
    }
    let _ = rfd::MessageDialog::new()
        .set_level(rfd::MessageLevel::Error)
        .set_title(title)
        .set_description(message)
        .set_buttons(rfd::MessageButtons::Ok)
        .show();
}

#[cfg(not(any(windows, target_os = "macos")))]
fn failure_box(_title: &str, _message: &str) {}

fn run(args: Args, logs: logs::RecentLogs, launched: Instant) -> anyhow::Result<()> {
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    let data_dir = eframe::storage_dir(APP_ID);
    if let Some(dir) = &data_dir {
        haul::desktop::make_private(dir);
    }
    // One window per person: a Haul already running takes these sources and comes to the
    // front; this process then ends without touching the saved queue.
    let instance = match &data_dir {
        Some(dir) => {
            let handoff = Handoff {
                sources: args.sources.clone(),
                dest: args.dest.clone(),
                cwd: cwd.clone(),
                ..Handoff::default()
            };
            match instance::claim(dir, &handoff, HANDOFF_PATIENCE) {
                Claim::First(instance) => Some(instance),
                Claim::HandedOff => {
                    tracing::info!("handed the sources to the Haul already running");
                    return Ok(());
                }
                Claim::NoAnswer(why) => {
                    return Err(anyhow!(
                        "Haul is already running but does not answer ({why}); close it, or \
                         end it in the task manager, then try again"
                    ));
                }
            }
        }
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("haul-engine")
        .build()
        .context("cannot start the runtime")?;

    // The engine, the desktop chores and the log panel wake the window through this, once
    // the window exists: no polling, so an idle window paints nothing. A wake asks for a
    // frame within WAKE_WITHIN, not at once: events arriving meanwhile share that frame, so
    // many items reporting progress cost at most ten frames a second (input still paints at
    // once).
    let window: Arc<OnceLock<egui::Context>> = Arc::default();
    let waker: Waker = {
        let window = Arc::clone(&window);
        Arc::new(move || {
            if let Some(ctx) = window.get() {
                ctx.request_repaint_after(WAKE_WITHIN);
            }
        })
    };
    logs.set_waker(Arc::clone(&waker));
    // Haul's name on Windows' notifications and taskbar: the process's id at once, its
    // registration in the background.
    haul::desktop::identity::set_process_id();
    #[cfg(windows)]
    {
        let data_dir = data_dir.clone();
        runtime.spawn_blocking(move || {
            let classes = haul::desktop::identity::CLASSES_KEY;
            if let Err(e) = haul::desktop::identity::register(classes, data_dir.as_deref()) {
                tracing::info!(error = %e, "notifications keep Windows' own name");
            }
        });
    }
    let (handoff_tx, handoffs) = std::sync::mpsc::channel();
    let _instance = instance.map(|i| i.serve(handoff_tx, Some(Arc::clone(&waker))));
    let (engine, events) = Engine::start(
        runtime.handle(),
        EngineConfig {
            waker: Some(Arc::clone(&waker)),
            ..EngineConfig::default()
        },
    )?;

    // The queue survives crashes: it is saved as it changes and read back here.
    let saved = match &data_dir {
        Some(dir) => SavedQueue::open(&dir.join("queue.sqlite3")),
        None => Opened {
            queue: None,
            items: Vec::new(),
            notice: Some(QueueNotice::Unavailable {
                reason: "no data folder".to_owned(),
            }),
        },
    };
    let user = directories::UserDirs::new();
    let default_dest = haul::desktop::downloads_folder(
        user.as_ref().and_then(|u| u.download_dir()),
        user.as_ref().map(|u| u.home_dir()),
        &cwd,
    );
    // When the window goes away, whatever is left is paused (its bytes and sidecars are kept,
    // and the saved queue brings it back next time). This runs from the app's `on_exit`: on
    // macOS, Quit in the app menu (Cmd+Q) ends the process inside the event loop, so
    // `run_native` never returns there. Elsewhere it runs here after `run_native` returns, if
    // `on_exit` did not.
    let handle = engine.handle();
    let engine = Arc::new(Mutex::new(Some(engine)));
    let on_exit = {
        let engine = Arc::clone(&engine);
        move || suspend(&engine)
    };
    let init = AppInit {
        engine: handle,
        events,
        desktop: Desktop::new(runtime.handle().clone(), Some(waker)),
        logs,
        system_locale: sys_locale::get_locale(),
        cwd,
        default_dest,
        dest: args.dest,
        sources: args.sources,
        queue: saved.queue,
        stored: saved.items,
        queue_notice: saved.notice,
        handoffs: Some(handoffs),
        launched: Some(launched),
        monitors: haul::desktop::screens::monitors(),
        data_dir,
        on_exit: Some(Box::new(on_exit)),
    };

    name_the_process();
    let mut viewport = egui::ViewportBuilder::default()
        .with_title("Haul")
        .with_app_id(APP_ID)
        .with_inner_size([1180.0, 680.0])
        .with_min_inner_size(haul::app::MIN_SIZE)
        .with_drag_and_drop(true);
    match eframe::icon_data::from_png_bytes(haul::desktop::ICON_PNG) {
        Ok(icon) => viewport = viewport.with_icon(icon),
        Err(e) => tracing::warn!("window icon unusable: {e}"),
    }
    let options = eframe::NativeOptions {
        viewport,
        persist_window: true,
        // CJK, Arabic, … come from the system's fonts (egui's own have none).
        system_font_fallback: true,
        ..eframe::NativeOptions::default()
    };
    let result = eframe::run_native(
        "Haul",
        options,
        Box::new(move |cc| {
            let _ = window.set(cc.egui_ctx.clone());
            Ok(Box::new(HaulApp::new(cc.storage, init)))
        }),
    );
    suspend(&engine);
    runtime.shutdown_timeout(Duration::from_secs(2));
    result.map_err(|e| {
        anyhow!(
            "Haul could not open its window: {e}. It draws with OpenGL 2.0 or later; with only \
             a basic display driver (some virtual machines and remote sessions) update the \
             graphics driver, or use haul-cli"
        )
    })
}

/// macOS writes the app menu's items after the process's name ("Quit haul", "Hide haul": the
/// executable is `haul`); the app is Haul. Must run before the event loop builds the menu.
#[cfg(target_os = "macos")]
fn name_the_process() {
    let name = objc2_foundation::NSString::from_str("Haul");
    objc2_foundation::NSProcessInfo::processInfo().setProcessName(&name);
}

#[cfg(not(target_os = "macos"))]
fn name_the_process() {}

/// Pauses every item still queued or running and waits, bounded, until all have stopped.
/// The first call does it; later calls find nothing left to do.
fn suspend(engine: &Mutex<Option<Engine>>) {
    let taken = engine
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    if let Some(engine) = taken
        && !engine.suspend_blocking(SHUTDOWN_WAIT)
    {
        tracing::warn!("items still stopping after {SHUTDOWN_WAIT:?}; quitting anyway");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &[&str]) -> Option<Args> {
        match parse_args(
            words.iter().map(std::ffi::OsString::from),
            Path::new("/base"),
            false,
        ) {
            Parsed::Run(args) => Some(args),
            Parsed::Exit(_) => None,
        }
    }

    #[test]
    fn sources_and_destination_in_any_order() {
        let args = parse(&["a.txt", "--dest", "out", "https://h/x", "--dest=final", "-"]);
        assert_eq!(
            args,
            Some(Args {
                sources: vec!["a.txt".into(), "https://h/x".into(), "-".into()],
                dest: Some(PathBuf::from("final")),
            })
        );
        let after_dashes = parse(&["--", "--dest", "-x"]).map(|a| a.sources);
        assert_eq!(after_dashes, Some(vec!["--dest".into(), "-x".into()]));
    }

    /// macOS passes `-psn_0_NNN` on the first launch after the quarantine prompt: ignored
    /// there (it was an unknown option, exit 2, and the app never opened), an error elsewhere.
    #[test]
    fn a_process_serial_number_is_ignored_on_macos_only() {
        let words = ["-psn_0_1234567", "https://h/x"];
        let macos = parse_args(
            words.iter().map(std::ffi::OsString::from),
            Path::new("/base"),
            true,
        );
        match macos {
            Parsed::Run(args) => assert_eq!(args.sources, vec!["https://h/x".to_owned()]),
            Parsed::Exit(_) => panic!("-psn_ refused on macOS"),
        }
        assert_eq!(parse(&words), None, "elsewhere it is an unknown option");
        let after_dashes = parse_args(
            ["--", "-psn_0_1"].iter().map(std::ffi::OsString::from),
            Path::new("/base"),
            true,
        );
        assert!(
            matches!(after_dashes, Parsed::Run(ref a) if a.sources == ["-psn_0_1"]),
            "after -- it is a file name"
        );
    }

    /// An argument that is not UTF-8 was converted lossily (U+FFFD in place of its bytes),
    /// naming a file that does not exist; it now reaches the engine as the same path.
    #[cfg(unix)]
    #[test]
    fn a_path_that_is_not_unicode_arrives_intact() {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let raw = std::ffi::OsString::from_vec(b"rapport-\xe9t\xe9.pdf".to_vec());
        let dest = std::ffi::OsString::from_vec(b"--dest=d\xe9st".to_vec());
        let Parsed::Run(args) = parse_args([raw, dest].into_iter(), Path::new("/base"), false)
        else {
            panic!("refused");
        };
        let source = haul::protocol::Source::parse(&args.sources[0], Path::new("/")).ok();
        let Some(haul::protocol::Source::File(path)) = source else {
            panic!("not a file: {:?}", args.sources);
        };
        assert_eq!(path.as_os_str().as_bytes(), b"/base/rapport-\xe9t\xe9.pdf");
        assert_eq!(
            args.dest.as_deref().map(|d| d.as_os_str().as_bytes()),
            Some(&b"d\xe9st"[..])
        );
    }

    #[test]
    fn unknown_options_and_a_missing_folder_are_usage_errors() {
        assert_eq!(parse(&["--bogus"]), None);
        assert_eq!(parse(&["--dest"]), None);
    }
}
