//! Where the window's logs go: a daily-rolling file in the platform's data folder, and the
//! recent warnings and errors kept in memory for the window's log panel.
//!
//! Owns: the tracing subscriber of the `haul` binary, the [`RecentLogs`] ring buffer, and
//! the file appender's guard (flushes on drop). Must not touch: egui, the engine.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::protocol::Waker;

/// Lines kept for the panel.
const KEEP: usize = 200;

/// One warning or error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: Level,
    /// Seconds since the Unix epoch.
    pub at: u64,
    pub target: String,
    pub message: String,
}

/// Recent warnings and errors, newest last. Cheap to clone; the lock is held only to push or
/// to copy out, never across a frame.
#[derive(Clone, Default)]
pub struct RecentLogs {
    lines: Arc<Mutex<VecDeque<LogLine>>>,
    /// Bumped on each push, so the window can tell when to copy again.
    generation: Arc<std::sync::atomic::AtomicU64>,
    waker: Arc<OnceLock<Waker>>,
}

impl RecentLogs {
    pub fn push(&self, line: LogLine) {
        if let Ok(mut lines) = self.lines.lock() {
            if lines.len() == KEEP {
                lines.pop_front();
            }
            lines.push_back(line);
        }
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some(wake) = self.waker.get() {
            wake();
        }
    }

    /// Changes whenever a line is added.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn snapshot(&self) -> Vec<LogLine> {
        self.lines
            .lock()
            .map(|lines| lines.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Who to wake when a line arrives (set once the window exists).
    pub fn set_waker(&self, waker: Waker) {
        let _ = self.waker.set(waker);
    }
}

/// The tracing layer that feeds [`RecentLogs`] with warnings and errors.
struct RecentLayer(RecentLogs);

#[derive(Default)]
struct MessageVisitor(String);

impl Visit for MessageVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for RecentLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        let target = event.metadata().target();
        // Haul's own warnings, and errors from anywhere (toolkit warnings are noise here).
        let ours = target.starts_with("haul");
        if level > Level::WARN || (!ours && level != Level::ERROR) {
            return;
        }
        let mut visitor = MessageVisitor::default();
        event.record(&mut visitor);
        let at = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.0.push(LogLine {
            level,
            at,
            target: target.to_owned(),
            message: visitor.0,
        });
    }
}

/// Keeps the log file flushed; hold it until the program ends.
pub struct LogGuard(#[allow(dead_code)] Option<tracing_appender::non_blocking::WorkerGuard>);

/// Sets up logging for the window: `RUST_LOG` (default `info`) to a daily file under
/// `log_dir` and warnings to stderr, plus the in-window panel. If the folder cannot be
/// made, logging goes on without the file and says so.
pub fn init(log_dir: Option<&Path>) -> (RecentLogs, LogGuard) {
    let recent = RecentLogs::default();
    // `RUST_LOG` as `level` or `target=level,…` (no regex-based filters: they would double
    // the window's logging code for a feature nobody uses here).
    let filter = std::env::var("RUST_LOG")
        .ok()
        .and_then(|spec| spec.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(Level::INFO));
    let (file_layer, guard, file_error) = match log_dir.map(file_writer) {
        Some(Ok((writer, guard))) => (
            Some(fmt::layer().with_ansi(false).with_writer(writer)),
            Some(guard),
            None,
        ),
        Some(Err(e)) => (None, None, Some(e)),
        None => (None, None, None),
    };
    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(tracing_subscriber::filter::LevelFilter::WARN);
    let result = tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(stderr)
        .with(RecentLayer(recent.clone()))
        .try_init();
    if let Err(e) = result {
        eprintln!("haul: logging already set up: {e}");
    }
    if let (Some(dir), Some(e)) = (log_dir, file_error) {
        tracing::warn!("cannot write logs to {}: {e}", dir.display());
    }
    (recent, LogGuard(guard))
}

fn file_writer(
    dir: &Path,
) -> std::io::Result<(
    tracing_appender::non_blocking::NonBlocking,
    tracing_appender::non_blocking::WorkerGuard,
)> {
    std::fs::create_dir_all(dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("haul")
        .filename_suffix("log")
        .max_log_files(14)
        .build(dir)
        .map_err(std::io::Error::other)?;
    Ok(tracing_appender::non_blocking(appender))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_our_warnings_and_all_errors_and_the_latest_lines() {
        let recent = RecentLogs::default();
        let subscriber = tracing_subscriber::registry().with(RecentLayer(recent.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!("not kept");
            tracing::warn!(target: "winit::x11", "not ours, not kept");
            for i in 0..KEEP {
                tracing::error!("error {i}");
            }
            tracing::warn!(path = "/x", "cannot remove");
        });
        let lines = recent.snapshot();
        assert_eq!(lines.len(), KEEP);
        assert_eq!(lines[0].message, "error 1");
        assert_eq!(lines[KEEP - 1].message, "cannot remove path=/x");
        assert_eq!(lines[KEEP - 1].level, Level::WARN);
        assert!(lines.iter().all(|l| l.level <= Level::WARN));
        assert!(recent.generation() > KEEP as u64);
    }
}
