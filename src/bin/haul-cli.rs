//! `haul-cli`: the command-line twin of the Haul window, on the same engine.
//!
//! Owns: flags, the terminal (live progress on stderr, the table or `--json` lines on stdout),
//! Ctrl+C and the exit code. Everything else is the library's.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Parser;
use haul::cli::{self, Entry, ItemReport, Summary};
use haul::engine::{Engine, EngineConfig};
use haul::protocol::{Checksum, Command, Event, JobId, Limits, Output};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Exit codes: every item done, some item not done, bad usage, interrupted.
const EXIT_SOME_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_INTERRUPTED: u8 = 130;
/// Running items shown with their own bar; the rest count in the total.
const MAX_ITEM_BARS: usize = 8;

/// Fetch many files and URLs at once.
#[derive(Debug, Parser)]
#[command(name = "haul-cli", version = haul::version::LONG, about)]
struct Args {
    /// URLs (http, https, file) or local paths.
    #[arg(value_name = "SOURCES")]
    sources: Vec<String>,
    /// Read more sources from FILE, one per line ('-' = stdin); blank lines and '#' comments skipped.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    input: Vec<PathBuf>,
    /// Destination folder (default: current directory; created if missing).
    #[arg(short = 'o', long = "dest", value_name = "DIR")]
    dest: Option<PathBuf>,
    /// Max items at once.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..))]
    jobs: u32,
    /// Max items at once per host.
    #[arg(long = "per-host", value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(1..))]
    per_host: u32,
    /// Connect timeout in seconds (decimals allowed, e.g. 0.5).
    #[arg(long = "connect-timeout", value_name = "SECS", default_value = "10", value_parser = secs)]
    connect_timeout: Duration,
    /// Fail an item when no byte arrives for this many seconds.
    #[arg(long = "stall-timeout", value_name = "SECS", default_value = "30", value_parser = secs)]
    stall_timeout: Duration,
    /// Whole-item deadline in seconds (default: none).
    #[arg(long = "timeout", value_name = "SECS", value_parser = secs)]
    timeout: Option<Duration>,
    /// Extra tries after a failure worth retrying (connect errors, resets, stalls, short
    /// bodies, 5xx, 408, 429); each resumes from the bytes already written.
    #[arg(long = "retries", value_name = "N", default_value_t = 3)]
    retries: u32,
    /// The SHA-256 the (single) source must have: sha256:HEX. Lists take `URL#sha256=HEX` or
    /// a SHA256SUMS file beside the list.
    #[arg(long = "checksum", value_name = "sha256:HEX", value_parser = checksum)]
    checksum: Option<Checksum>,
    /// Fail items larger than SIZE (bytes, or with K, M, G suffix: 1024-based).
    #[arg(long = "max-size", value_name = "SIZE", value_parser = size)]
    max_size: Option<u64>,
    /// Replace existing files instead of picking a new name.
    #[arg(long)]
    overwrite: bool,
    /// Name files from the URL only.
    #[arg(long = "no-content-disposition")]
    no_content_disposition: bool,
    /// One JSON object per finished item on stdout, then one summary line.
    #[arg(long)]
    json: bool,
    /// No progress display.
    #[arg(short, long)]
    quiet: bool,
}

fn checksum(text: &str) -> Result<Checksum, String> {
    Checksum::parse_tagged(text.trim()).map_err(|e| e.to_string())
}

/// `1500`, `64K`, `1.5M`, `2G` (1024-based).
fn size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let factor: f64 = match unit
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("'{text}' is not a size (e.g. 500M)")),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 500M)"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("'{text}' must be a positive size"));
    }
    Ok((value * factor) as u64)
}

fn secs(text: &str) -> Result<Duration, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of seconds"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("'{text}' must be a positive number of seconds"));
    }
    Duration::try_from_secs_f64(value).map_err(|e| e.to_string())
}

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

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
}

fn run(args: Args) -> Result<ExitCode, Failure> {
    let base = std::env::current_dir().context("cannot read the current directory")?;
    let mut entries = collect_sources(&args, &base)?;
    if entries.is_empty() {
        return Err(Failure::Usage("no sources given".to_owned()));
    }
    if let Some(checksum) = args.checksum {
        match entries.as_mut_slice() {
            [only] => only.checksum = Some(checksum),
            _ => {
                return Err(Failure::Usage(
                    "--checksum needs exactly one source (lists take URL#sha256=HEX or a SHA256SUMS file)"
                        .to_owned(),
                ));
            }
        }
    }
    let dest = match &args.dest {
        Some(dir) => base.join(dir),
        None => base.clone(),
    };
    std::fs::create_dir_all(&dest)
        .with_context(|| format!("cannot create destination {}", dest.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("haul-engine")
        .build()
        .context("cannot start the async runtime")?;
    let config = EngineConfig {
        limits: Limits {
            jobs: args.jobs as usize,
            per_host: args.per_host as usize,
            connect_timeout: args.connect_timeout,
            stall_timeout: args.stall_timeout,
            deadline: args.timeout,
            retries: args.retries,
            max_size: args.max_size,
            ..Limits::default()
        },
        output: Output {
            dest,
            overwrite: args.overwrite,
            content_disposition: !args.no_content_disposition,
        },
        waker: None,
    };
    let (engine, events) = Engine::start(runtime.handle(), config).context("cannot start")?;
    let display = Display::new(&args, entries.len() as u64);
    // The batch runs as a task on the runtime's workers (not on this thread through
    // `block_on`): events then reach it without waking a parked thread each time.
    let json = args.json;
    let batch = runtime
        .block_on(runtime.spawn(drive(engine, events, entries, display, json)))
        .context("the batch stopped unexpectedly")?;
    Ok(ExitCode::from(match batch {
        Batch::Interrupted => EXIT_INTERRUPTED,
        Batch::Finished(summary) if summary.all_done() => 0,
        Batch::Finished(_) => EXIT_SOME_FAILED,
    }))
}

fn collect_sources(args: &Args, base: &Path) -> Result<Vec<Entry>, Failure> {
    let mut entries = cli::from_args(&args.sources, base);
    for input in &args.input {
        let (text, name) = if input.as_os_str() == "-" {
            let mut text = String::new();
            io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::Usage(format!("cannot read stdin: {e}")))?;
            (text, "stdin".to_owned())
        } else {
            let bytes = std::fs::read(input)
                .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", input.display())))?;
            (
                String::from_utf8_lossy(&bytes).into_owned(),
                input.display().to_string(),
            )
        };
        let mut listed = cli::from_list(&text, &name, base);
        // A SHA256SUMS file beside the list gives checksums by file name.
        let sums_path = base
            .join(input)
            .parent()
            .map(|dir| dir.join(cli::SUMS_FILE));
        if input.as_os_str() != "-"
            && let Some(sums_path) = sums_path
            && let Ok(sums) = std::fs::read_to_string(&sums_path)
        {
            let applied = cli::apply_sums(&mut listed, &cli::parse_sums(&sums));
            tracing::info!(applied, file = %sums_path.display(), "checksums from SHA256SUMS");
        }
        entries.extend(listed);
    }
    Ok(entries)
}

enum Batch {
    Finished(Summary),
    Interrupted,
}

async fn drive(
    engine: Engine,
    mut events: haul::engine::Events,
    entries: Vec<Entry>,
    mut display: Display,
    json: bool,
) -> Batch {
    let started = Instant::now();
    let mut summary = Summary::default();
    let mut reports = Vec::new();
    let mut pending: HashMap<JobId, String> = HashMap::new();
    for entry in entries {
        match entry.parsed {
            Ok(source) => {
                let id = engine.submit_checked(source, entry.checksum);
                pending.insert(id, entry.text);
            }
            Err(ref reason) => {
                let report = ItemReport::rejected(&entry, reason);
                finish_item(&report, &mut summary, &mut reports, &mut display, json);
            }
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
                if let Event::Finished { id, elapsed, bytes, outcome } = &event {
                    display.forget(*id);
                    if let Some(source) = pending.remove(id) {
                        let report = ItemReport::finished(source, *elapsed, *bytes, outcome);
                        finish_item(&report, &mut summary, &mut reports, &mut display, json);
                    }
                } else {
                    display.update(&event, pending.get(&event.id()));
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
                display.note(
                    "interrupted: pausing; partial files are kept and running the same command \
                     again resumes them (Ctrl+C again to force)",
                );
                engine.send(Command::PauseAll);
            }
        }
    }
    engine.shutdown().await;
    summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    display.clear();
    print_end(&summary, &reports, json);
    if interrupts > 0 {
        Batch::Interrupted
    } else {
        Batch::Finished(summary)
    }
}

fn finish_item(
    report: &ItemReport,
    summary: &mut Summary,
    reports: &mut Vec<ItemReport>,
    display: &mut Display,
    json: bool,
) {
    summary.add(report);
    display.item_finished(report);
    if json {
        // One line per item as it finishes, so scripts can stream.
        if let Ok(line) = serde_json::to_string(report) {
            let mut out = io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    } else {
        reports.push(report.clone());
    }
}

fn print_end(summary: &Summary, reports: &[ItemReport], json: bool) {
    let mut out = io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", summary.to_json());
        return;
    }
    for r in reports {
        let size = if r.bytes > 0 || r.is_done() {
            cli::human_bytes(r.bytes)
        } else {
            "-".to_owned()
        };
        let what = match (&r.path, &r.error) {
            (Some(path), _) => path.clone(),
            (None, Some(error)) => format!("{}: {error}", r.source),
            (None, None) => r.source.clone(),
        };
        let _ = writeln!(
            out,
            "{:<9} {:>10} {:>9}  {}",
            r.status,
            size,
            cli::human_duration(Duration::from_millis(r.elapsed_ms)),
            what
        );
    }
    let _ = writeln!(out, "{}", summary.to_text());
}

/// Live progress on stderr: one bar for the batch and one per running item (up to a few).
struct Display {
    multi: Option<MultiProgress>,
    total: ProgressBar,
    items: HashMap<JobId, ProgressBar>,
    item_style: ProgressStyle,
    spinner_style: ProgressStyle,
}

impl Display {
    fn new(args: &Args, count: u64) -> Display {
        let visible = !args.quiet && !args.json;
        let multi = visible.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let total = ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::hidden());
        total.set_style(
            ProgressStyle::with_template("{pos}/{len} items [{bar:30}] {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let total = match &multi {
            Some(multi) => multi.add(total),
            None => total,
        };
        Display {
            multi,
            total,
            items: HashMap::new(),
            item_style: ProgressStyle::with_template(
                "  {bar:20} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta:>4} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
            spinner_style: ProgressStyle::with_template(
                "  {spinner} {bytes:>10} {bytes_per_sec:>12} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        }
    }

    fn update(&mut self, event: &Event, source: Option<&String>) {
        let Some(multi) = &self.multi else { return };
        match event {
            Event::Started { id, total, .. } if self.items.contains_key(id) => {
                // A retry or a restart: same bar, maybe a new length.
                if let (Some(bar), Some(len)) = (self.items.get(id), total) {
                    bar.set_length(*len);
                }
            }
            Event::Retrying {
                attempt,
                of,
                delay,
                reason,
                ..
            } => {
                let label = source.map_or("item", |s| s.as_str());
                let _ = multi.println(format!(
                    "{label}: retry {attempt}/{of} in {} ({reason})",
                    cli::human_duration(*delay)
                ));
            }
            Event::Started { id, name, total } if self.items.len() < MAX_ITEM_BARS => {
                // Attach before touching it: a detached bar draws on its own.
                let bar = match total {
                    Some(len) => multi.add(ProgressBar::new(*len)),
                    None => multi.add(ProgressBar::no_length()),
                };
                bar.set_style(match total {
                    Some(_) => self.item_style.clone(),
                    None => self.spinner_style.clone(),
                });
                if total.is_none() {
                    bar.enable_steady_tick(Duration::from_millis(120));
                }
                let label = source.map_or(name.as_str(), |s| s.as_str());
                bar.set_message(label.to_owned());
                self.items.insert(*id, bar);
            }
            Event::Progress { id, done, .. } => {
                if let Some(bar) = self.items.get(id) {
                    bar.set_position(*done);
                }
            }
            _ => {}
        }
    }

    fn forget(&mut self, id: JobId) {
        if let Some(bar) = self.items.remove(&id) {
            bar.finish_and_clear();
            if let Some(multi) = &self.multi {
                multi.remove(&bar);
            }
        }
    }

    fn item_finished(&mut self, report: &ItemReport) {
        self.total.inc(1);
        // Failures show as they happen; cancelling and pausing are the user's own doing.
        if !report.is_done()
            && report.status != "cancelled"
            && report.status != "paused"
            && let (Some(multi), Some(error)) = (&self.multi, &report.error)
        {
            let _ = multi.println(format!("{}: {error}", report.source));
        }
    }

    fn note(&self, text: &str) {
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("haul-cli: {text}"),
        }
    }

    fn clear(&mut self) {
        for (_, bar) in self.items.drain() {
            bar.finish_and_clear();
        }
        self.total.finish_and_clear();
        if let Some(multi) = &self.multi {
            let _ = multi.clear();
        }
    }
}
