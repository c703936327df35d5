//! Watching the clipboard for "offer to add links I copy".
//!
//! Owns: a thread that reads the clipboard's text about once a second while the watch is on
//! and sends [`Reply::Copied`](super::Reply::Copied) only when the text changed since the
//! last read — never what was already there when the watch began, so turning it on offers
//! nothing old. It reads through a [`ClipboardSource`]: the system's (arboard: X11, Wayland's
//! data-control, macOS, Windows) or one a test sets. Stopping is a flag the thread sees
//! within one period. Must not touch: deciding what looks like a download (the window's),
//! adding anything.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Reads the clipboard's text; `None` when it holds none (or cannot be read).
pub type ClipboardSource = Arc<dyn Fn() -> Option<String> + Send + Sync>;

/// How often the clipboard is read.
pub const PERIOD: Duration = Duration::from_millis(700);

/// The system clipboard. One arboard handle is kept (on X11 it runs a thread of its own);
/// failing to open one is logged once and the watch reads nothing.
pub fn system_source() -> ClipboardSource {
    let handle = std::sync::Mutex::new(None::<arboard::Clipboard>);
    let failed = AtomicBool::new(false);
    Arc::new(move || {
        let mut handle = handle.lock().ok()?;
        if handle.is_none() {
            match arboard::Clipboard::new() {
                Ok(clipboard) => *handle = Some(clipboard),
                Err(e) => {
                    if !failed.swap(true, Ordering::Relaxed) {
                        tracing::info!(error = %e, "no clipboard to watch");
                    }
                    return None;
                }
            }
        }
        handle.as_mut()?.get_text().ok()
    })
}

/// A running watch; dropping it stops the thread.
pub struct Watch {
    stop: Arc<AtomicBool>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Starts watching: `changed` gets each new text.
pub fn watch(source: ClipboardSource, changed: impl Fn(String) + Send + 'static) -> Watch {
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = Arc::clone(&stop);
    let spawned = std::thread::Builder::new()
        .name("haul-clipboard".to_owned())
        .spawn(move || {
            let mut last = source();
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(PERIOD);
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                let now = source();
                if now != last {
                    if let Some(text) = &now {
                        changed(text.clone());
                    }
                    last = now;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "cannot watch the clipboard");
    }
    Watch { stop }
}
