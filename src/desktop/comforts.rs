//! The desktop comforts' chores: the power runner (sleep, shut down), the clipboard watch,
//! the login entry and the tray icon, each started from the window and reporting back as a
//! [`Reply`] like the other chores.
//! Must not touch: egui, the engine.

use super::{Desktop, Reply, autostart, clipboard, power, tray};

impl Desktop {
    /// Replaces what runs sleep and shut-down commands (tests record them, never run them).
    pub fn set_power_runner(&mut self, runner: power::PowerRunner) {
        self.power = runner;
    }

    /// Puts the computer to sleep or shuts it down, off the UI thread; a refusal (no right
    /// to, no such program) comes back as [`Reply::PowerFailed`].
    pub fn power(&self, action: power::PowerAction) {
        let runner = std::sync::Arc::clone(&self.power);
        self.spawn(async move {
            let command = power::command(action);
            tracing::info!(?command, "when the queue is done");
            let ran = tokio::task::spawn_blocking(move || runner(&command)).await;
            match ran {
                Ok(Ok(())) => None,
                Ok(Err(reason)) => Some(Reply::PowerFailed { reason }),
                Err(e) => Some(Reply::PowerFailed {
                    reason: e.to_string(),
                }),
            }
        });
    }

    /// Replaces where the clipboard watch reads from (tests).
    pub fn set_clipboard_source(&mut self, source: clipboard::ClipboardSource) {
        self.clipboard = source;
    }

    /// Starts watching the clipboard: each new text comes back as [`Reply::Copied`]. The
    /// watch runs until the returned handle is dropped.
    pub fn watch_clipboard(&self) -> clipboard::Watch {
        let tx = self.tx.clone();
        let waker = self.waker.clone();
        clipboard::watch(std::sync::Arc::clone(&self.clipboard), move |text| {
            if tx.send(Reply::Copied(text)).is_ok()
                && let Some(wake) = &waker
            {
                wake();
            }
        })
    }

    /// Writes the login entry to `entry` instead of the platform's place (tests).
    pub fn set_autostart_entry(&mut self, entry: autostart::Entry) {
        self.autostart_entry = Some(entry);
    }

    /// The login entry's place: a test's, else the platform's.
    fn autostart_place(&self) -> Option<autostart::Entry> {
        self.autostart_entry.clone().or_else(autostart::entry)
    }

    /// Whether the login entry is there now (on Windows this runs `reg query`).
    pub fn autostart_present(&self) -> bool {
        self.autostart_place()
            .is_some_and(|entry| autostart::read(&entry).is_some())
    }

    /// Turns starting at login on or off for the running executable, off the UI thread.
    pub fn autostart(&self, enabled: bool) {
        let entry = self.autostart_place();
        self.spawn(async move {
            let done = tokio::task::spawn_blocking(move || {
                let exe = std::env::current_exe().map_err(|e| e.to_string())?;
                let entry =
                    entry.ok_or_else(|| "no home folder to put the login entry in".to_owned())?;
                autostart::set(enabled, &exe, &entry)
            })
            .await;
            match done {
                Ok(Ok(())) => None,
                Ok(Err(reason)) => Some(Reply::AutostartFailed { reason }),
                Err(e) => Some(Reply::AutostartFailed {
                    reason: e.to_string(),
                }),
            }
        });
    }

    /// Puts up the tray icon (see [`tray::Tray`]).
    pub fn tray(&self, state: tray::TrayState, icon: tray::TrayIcon) -> tray::Tray {
        tray::Tray::start(&self.runtime, state, icon, self.waker.clone())
    }
}
