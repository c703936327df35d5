//! `haul-cli`: the command-line front end of the Haul engine.
//!
//! Owns: running one batch: the exit code, Ctrl+C (pause, keeping partial files; twice to
//! force), and handing each event to the live display and each finished item to the report.
//! Must not touch: the engine's internals; everything else is the library's.
//!
//! # Layout
//! - `args`: the flags, parsed once into the batch's configuration.
//! - `report`: `--json` lines, the table and the summary.
//! - `display`: live progress on stderr.
//! - `request`: the request flags (headers, cookies, credentials, proxy).
//! - `serve`: `--enable-rpc`, aria2's JSON-RPC without a window.
//! - `browser`: `--install-browser-host` and `--uninstall-browser-host`.

mod args;
mod browser;
mod display;
mod report;
mod request;
mod serve;
mod torrent;

use std::collections::HashMap;
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Parser;
use haul_core::human::millis;
use haul_core::options::Place;
use haul_core::protocol::{Command, Event, JobId, redact};
use haul_core::sources::Entry;
use haul_engine::{Engine, Events};

use args::{Args, Config};
use display::Display;
use report::{ItemReport, Summary};

/// Exit codes: every item done, some item not done, bad usage, interrupted.
const EXIT_SOME_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_INTERRUPTED: u8 = 130;

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS // --help, --version
            };
        }
    };
    init_tracing();
    haul_engine::process::raise_open_file_limit();
    match run(args) {
        Ok(code) => code,
        Err(Failure::Usage(message)) => {
            eprintln!("haul-cli: {message}\nTry 'haul-cli --help' for more information.");
            ExitCode::from(EXIT_USAGE)
        }
        Err(Failure::Other(e)) => {
            eprintln!("haul-cli: {e:#}");
            ExitCode::from(EXIT_SOME_FAILED)
        }
    }
}

enum Failure {
    Usage(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

/// Haul's warnings by default; librqbit's own (`librqbit`, `librqbit_dht`…: a target
/// directive matches by prefix) only when they are errors: its DHT warns every few seconds
/// offline, between the progress bars. `RUST_LOG` replaces all of it.
const DEFAULT_LOG: &str = "warn,librqbit=error";

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(colours_on_stderr())
        .init();
}

/// Colours in the log lines only where they show as colours: stderr is a terminal, `NO_COLOR`
/// is not set (no-color.org), and on Windows the console takes escape codes (virtual terminal
/// processing, switched on here; a console that refuses it would print them raw).
fn colours_on_stderr() -> bool {
    io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && console_takes_escape_codes()
}

#[cfg(windows)]
fn console_takes_escape_codes() -> bool {
    use windows_sys::Win32::System::Console::{
        ENABLE_VIRTUAL_TERMINAL_PROCESSING, GetConsoleMode, GetStdHandle, STD_ERROR_HANDLE,
        SetConsoleMode,
    };
    // SAFETY: the process's own stderr handle and an out-integer; a handle that is no console
    // fails GetConsoleMode and is answered no.
    unsafe {
        let handle = GetStdHandle(STD_ERROR_HANDLE);
        let mut mode = 0;
        if GetConsoleMode(handle, &mut mode) == 0 {
            return false;
        }
        mode & ENABLE_VIRTUAL_TERMINAL_PROCESSING != 0
            || SetConsoleMode(handle, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0
    }
}

#[cfg(not(windows))]
fn console_takes_escape_codes() -> bool {
    true
}

fn run(args: Args) -> Result<ExitCode, Failure> {
    if let Some(job) = args.browser_host() {
        return browser::run(job).map_err(Failure::Other);
    }
    let base = std::env::current_dir().context("cannot read the current directory")?;
    let config = args.into_config(&base).map_err(Failure::Usage)?;
    if let Some(listing) = &config.listing {
        print!("{listing}");
        return Ok(ExitCode::SUCCESS);
    }
    let dest = &config.engine.output.dest;
    std::fs::create_dir_all(dest)
        .with_context(|| format!("cannot create destination {}", dest.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("haul-engine")
        .build()
        .context("cannot start the async runtime")?;
    let Config {
        entries,
        engine,
        json,
        quiet,
        rpc,
        ..
    } = config;
    if let Some(rpc) = rpc {
        let (limits, output) = (engine.limits, engine.output.clone());
        let (engine, events) = Engine::start(runtime.handle(), engine).context("cannot start")?;
        let engine = runtime.block_on(serve::run(engine, events, rpc, limits, output))?;
        engine.suspend_blocking(std::time::Duration::from_secs(10));
        return Ok(ExitCode::SUCCESS);
    }
    let dest = engine.output.dest.clone();
    let capped = engine.limits.max_rate.is_some();
    let (engine, events) = Engine::start(runtime.handle(), engine).context("cannot start")?;
    let display = Display::new(!quiet, entries.len() as u64);
    // The batch runs as a task on the runtime's workers (not on this thread through
    // `block_on`): events then reach it without waking a parked thread each time.
    let batch = runtime
        .block_on(runtime.spawn(drive(
            engine,
            events,
            entries,
            (dest, base),
            display,
            json,
            capped,
        )))
        .context("the batch stopped unexpectedly")?;
    Ok(ExitCode::from(match batch {
        Batch::Interrupted => EXIT_INTERRUPTED,
        Batch::Finished(summary) if summary.all_done() => 0,
        Batch::Finished(_) => EXIT_SOME_FAILED,
    }))
}

enum Batch {
    Finished(Summary),
    Interrupted,
}

/// What has been reported so far.
struct Reports {
    summary: Summary,
    /// Kept for the table at the end (`--json` prints each at once instead).
    items: Vec<ItemReport>,
    display: Display,
    json: bool,
}

impl Reports {
    fn finish(&mut self, report: ItemReport) {
        self.summary.add(&report);
        self.display.item_finished(&report);
        if self.json {
            report::print_json_item(&report);
        } else {
            self.items.push(report);
        }
    }
}

async fn drive(
    engine: Engine,
    mut events: Events,
    entries: Vec<Entry>,
    // The destination, and the folder relative sources and options are taken from.
    (dest, base): (PathBuf, PathBuf),
    display: Display,
    json: bool,
    // A total speed limit (`--limit-rate`): the items share it, so no speed-up is claimed.
    capped: bool,
) -> Batch {
    let started = Instant::now();
    let mut reports = Reports {
        summary: Summary {
            capped,
            ..Summary::default()
        },
        items: Vec::new(),
        display,
        json,
    };
    let mut pending: HashMap<JobId, String> = HashMap::new();
    // Bytes each item found on disk (a kept `.part`): the least any of its starts reported,
    // since a start over keeps none. Not fetched by this run, so not in its figures.
    let mut kept: HashMap<JobId, u64> = HashMap::new();
    for entry in entries {
        if let Some(error) = entry.rejection() {
            reports.finish(ItemReport::rejected(&entry, error));
        } else if let Ok(source) = entry.parsed.clone() {
            let place = Place {
                base: &base,
                inside: None,
            };
            let finished = match entry.given.clone().finish(&dest, place, entry.checksum) {
                Ok(finished) => finished,
                Err(e) => {
                    reports.finish(ItemReport::rejected(&entry, e.to_string()));
                    continue;
                }
            };
            let id = engine.submit_with(
                source,
                finished.checksum,
                Some(finished.dest),
                finished.options,
            );
            // Shown and reported with any password in it as `***`.
            pending.insert(id, redact(&entry.text).into_owned());
        }
    }

    let mut interrupts = 0;
    // One listener for the whole batch (not one per event), renewed after each Ctrl+C.
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let mut listening = true;
    while !pending.is_empty() {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                if let Event::Started { id, done, .. } = &event {
                    let least = kept.entry(*id).or_insert(*done);
                    *least = (*least).min(*done);
                }
                if let Event::Finished { id, elapsed, bytes, outcome } = &event {
                    reports.display.forget(*id);
                    let was_kept = kept.remove(id).unwrap_or(0).min(*bytes);
                    reports.summary.kept += was_kept;
                    if let Some(source) = pending.remove(id) {
                        reports.finish(ItemReport::finished(source, *elapsed, *bytes, outcome));
                    }
                } else {
                    reports.display.update(&event, pending.get(&event.id()));
                }
            }
            signal = &mut ctrl_c, if listening => {
                if signal.is_err() {
                    listening = false; // no Ctrl+C here: the batch just runs
                    continue;
                }
                ctrl_c.set(tokio::signal::ctrl_c());
                interrupts += 1;
                if interrupts > 1 {
                    eprintln!("haul-cli: interrupted twice, exiting without cleanup");
                    std::process::exit(i32::from(EXIT_INTERRUPTED));
                }
                reports.display.note(
                    "interrupted: pausing; partial files are kept, and running the same \
                     command again resumes them and skips the finished ones (Ctrl+C again to \
                     force)",
                );
                engine.send(Command::PauseAll);
            }
        }
    }
    engine.shutdown().await;
    let Reports {
        mut summary,
        items,
        mut display,
        json,
    } = reports;
    summary.elapsed_ms = millis(started.elapsed());
    display.clear();
    report::print_end(&summary, &items, json);
    if interrupts > 0 {
        Batch::Interrupted
    } else {
        Batch::Finished(summary)
    }
}
