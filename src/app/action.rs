//! What drawing and input ask for, and applying it.
//!
//! Owns: [`Action`] (a `#[must_use]` command collected while drawing and applied once at the
//! end of the frame, as egui_demo_app does), adding sources (lines, local files, folders —
//! each entry carried whole, with its checksum), keys that belong to the whole window, the
//! quit question, and removing rows.
//! Must not touch: drawing, the disk (folder walks and dialogs go to the desktop wing).

use std::path::PathBuf;
use std::time::Instant;

use eframe::egui;

use super::{HaulApp, absolute};
use crate::desktop::LocalFile;
use crate::desktop::saved_queue::SavedOp;
use crate::protocol::{Checksum, Command, JobId, Source, Status};
use crate::sources::{self, Entry};

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

impl HaulApp {
    /// Adds each line: valid sources are queued (local folders expanded first), others
    /// become failed rows that say why.
    fn add_text(&mut self, text: &str, origin: &str) {
        let entries = sources::from_list(text, origin, &self.cwd);
        self.add_entries(entries);
    }

    /// Adds entries whole: URLs are queued at once; local paths (which may be folders) go
    /// through the desktop's folder walk first, each keeping its checksum; lines that are not
    /// sources become failed rows that name the line.
    pub(super) fn add_entries(&mut self, entries: Vec<Entry>) {
        let now = Instant::now();
        let mut local = Vec::new();
        for entry in entries {
            if let Some(reason) = entry.rejection() {
                let id = self.engine.next_id();
                self.model.push(id, &entry.text, Err(reason), now);
                self.save(id);
                continue;
            }
            match entry.parsed {
                Ok(Source::File(path)) => local.push(LocalFile {
                    path,
                    sha256: entry.checksum,
                }),
                Ok(source) => self.submit(&entry.text, source, entry.checksum, now),
                Err(_) => {}
            }
        }
        if !local.is_empty() {
            self.desktop.expand(local);
        }
    }

    fn submit(&mut self, text: &str, source: Source, sha256: Option<Checksum>, now: Instant) {
        let id = self.engine.next_id();
        self.model
            .push_checked(id, text, Ok(source.clone()), sha256, now);
        self.save(id);
        self.engine.send(Command::Submit { id, source, sha256 });
    }

    /// Queues local files (picked, dropped, or found in a folder), with their checksums.
    pub(super) fn add_files(&mut self, files: Vec<LocalFile>) {
        let now = Instant::now();
        for file in files {
            let text = file.path.display().to_string();
            self.submit(&text, Source::File(file.path), file.sha256, now);
        }
    }

    /// Applies every action collected since the last time, in order.
    pub(super) fn apply_actions(&mut self, ctx: &egui::Context) {
        for action in std::mem::take(&mut self.actions) {
            self.apply(ctx, action);
        }
    }

    /// Keys, pastes and drops that belong to the whole window.
    pub(super) fn window_input(&mut self, ctx: &egui::Context) {
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
    pub(super) fn intercept_close(&mut self, ctx: &egui::Context) {
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
            Action::AddPaths(paths) => self.desktop.expand(
                paths
                    .into_iter()
                    .map(|path| LocalFile { path, sha256: None })
                    .collect(),
            ),
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
                self.engine.send(Command::SetOutput(
                    self.settings.output(self.system_locale.as_deref()),
                ));
            }
            Action::SetDest(dest) => {
                let dest = absolute(&self.cwd, &dest);
                self.dest_text = dest.display().to_string();
                self.settings.dest = dest;
                self.engine.send(Command::SetOutput(
                    self.settings.output(self.system_locale.as_deref()),
                ));
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
            queue.send(SavedOp::Remove(keys));
        }
    }
}
