//! What drawing and input ask for, and applying it.
//!
//! Owns: [`Action`] (a `#[must_use]` command collected while drawing and applied once at the
//! end of the frame, as egui_demo_app does), what acts on rows — pause, resume, retry, cancel
//! and remove, each on one row or the selection (the questions asked before a person's bytes
//! are lost are `asking`'s; running rows again is `rerun`'s), keys that belong to the whole
//! window, and the quit question.
//! Must not touch: drawing, the disk (folder walks and dialogs go to the desktop wing).

use std::path::PathBuf;

use eframe::egui;

use super::asking::Deleting;
use super::model::{Click, Edit, Move, SortKey};
use super::panels::options::{FormFor, OptionsForm};
use super::{HaulApp, absolute};
use crate::desktop::Candidate;
use crate::desktop::saved_queue::SavedOp;
use crate::protocol::{Command, JobId, Status};

/// What drawing asks for; applied once per frame, after drawing.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub enum Action {
    /// Settings → Browser integration: install (or remove) the browser host.
    BrowserHost {
        install: bool,
    },
    /// Lines of URLs or paths: the add box and imported lists (each bad line becomes a row
    /// that says why), or a paste onto the window (`quiet`: bad lines are skipped).
    AddText {
        text: String,
        origin: String,
        quiet: bool,
    },
    /// Local paths: folders are expanded off the UI thread first.
    AddPaths(Vec<PathBuf>),
    PickFiles,
    PickDest,
    ImportList,
    /// Read the list file at this path (typed where no dialog is available).
    ImportPath(PathBuf),
    OpenDest,
    Pause(Vec<JobId>),
    /// Resume paused rows, retry failed ones (the same thing: submit them again).
    Resume(Vec<JobId>),
    /// Cancel rows; asks first when that deletes partial downloads.
    Cancel(Vec<JobId>),
    /// Remove rows from the list; asks first when that deletes partial downloads.
    Remove(Vec<JobId>),
    Open(PathBuf),
    Reveal(PathBuf),
    Copy(String),
    /// Move rows in the list (and the engine's queue with them).
    Move {
        ids: Vec<JobId>,
        to: Move,
    },
    /// Limit these rows' own speed (bytes/s; `None`: no limit of their own).
    SetItemRate {
        ids: Vec<JobId>,
        rate: Option<u64>,
    },
    PauseAll,
    ResumeAll,
    RetryFailed,
    CancelAll,
    ClearDone,
    SetFilter(Option<Status>),
    SetSort(SortKey),
    Click {
        index: usize,
        how: Click,
    },
    /// A right-click: the row joins (or becomes) the selection the menu acts on.
    ContextClick(usize),
    /// A double-click: open a finished file.
    Activate(usize),
    SelectAll,
    /// Esc: close what is open, else clear the selection. Never cancels anything.
    Escape,
    /// Caps, timeouts, overwrite or theme changed.
    ApplySettings,
    /// Open "Add with options…" (`None`) or a row's "Edit options…".
    OpenOptions(Option<JobId>),
    /// The open options form's Add or Apply.
    ApplyOptions,
    /// The destination field was edited (checked off the UI thread before it is used).
    TypedDest(PathBuf),
    /// The question was answered: go on and delete.
    ConfirmDelete,
    DismissConfirm,
    ConfirmQuit,
    DismissQuit,
    /// The clipboard offer's "Add it" (true) or "No".
    AnswerOffer(bool),
    /// The "when the queue is done" countdown's Cancel, or its Now.
    CancelCountdown,
    CountdownNow,
    /// Trust the certificate a row was refused for: for that row, or (`host`) for every
    /// download from its host. Then try again.
    TrustCertificate {
        id: JobId,
        fingerprint: crate::protocol::Fingerprint,
        host: Option<String>,
    },
    /// Settings → Trusted certificates: forget one.
    ForgetCertificate(crate::protocol::HostPin),
    /// A video stream's details: fetch this variant instead (the row starts again with it).
    ChooseQuality {
        id: JobId,
        quality: crate::protocol::Quality,
    },
    /// A torrent's details: fetch these files (`select-file`, from 1; `None`: all) instead
    /// (the row starts again with them; its verified pieces are kept).
    ChooseFiles {
        id: JobId,
        select: Option<Vec<usize>>,
    },
}

impl HaulApp {
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
        self.refuse_long_pastes(ctx);
        if ctx.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Q)) {
            // Ctrl+Q / Cmd+Q: the same path as the window's close button, but it quits (asking
            // first while downloads run) even when the close button would hide to the tray.
            self.desk.quitting = true;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
        // An open menu (the … menu, the right-click menu, a combo box) takes Esc itself: it
        // closes, and nothing else happens.
        if !egui::Popup::is_any_open(ctx)
            && ctx.input_mut(|i| i.consume_key(egui::Modifiers::NONE, egui::Key::Escape))
        {
            self.actions.push(Action::Escape);
        }
        if ctx.egui_wants_keyboard_input() {
            return; // a text field has the keys (and its own Ctrl+V)
        }
        let pasted: Vec<String> = ctx.input(|i| {
            i.events
                .iter()
                .filter_map(|e| match e {
                    // (Empty: every line of it was refused as too long, and said so.)
                    egui::Event::Paste(text) if !text.is_empty() => Some(text.clone()),
                    _ => None,
                })
                .collect()
        });
        for text in pasted {
            self.actions.push(Action::AddText {
                text,
                origin: "clipboard".to_owned(),
                quiet: true,
            });
        }
        let selected = self.model.selected();
        ctx.input_mut(|i| {
            if i.consume_key(egui::Modifiers::COMMAND, egui::Key::A) {
                self.actions.push(Action::SelectAll);
            }
            // Delete, and on a Mac (whose "delete" key is Backspace) ⌘⌫, as in Finder.
            let remove = i.consume_key(egui::Modifiers::NONE, egui::Key::Delete)
                || (cfg!(target_os = "macos")
                    && i.consume_key(egui::Modifiers::COMMAND, egui::Key::Backspace));
            if remove && !selected.is_empty() {
                self.actions.push(Action::Remove(selected.clone()));
            }
            if i.consume_key(egui::Modifiers::NONE, egui::Key::Space) && !selected.is_empty() {
                // Space pauses what runs among the selection, or else resumes it.
                let any_active = selected
                    .iter()
                    .filter_map(|id| self.model.row(*id))
                    .any(|r| r.status().is_active());
                self.actions.push(if any_active {
                    Action::Pause(selected.clone())
                } else {
                    Action::Resume(selected.clone())
                });
            }
            if i.consume_key(egui::Modifiers::NONE, egui::Key::Enter)
                && let Some(row) = self.model.single_selected()
                && let Some(index) = self.model.rows().iter().position(|r| r.id == row.id)
            {
                self.actions.push(Action::Activate(index));
            }
        });
        if let Some(action) = self.move_keys(ctx, selected) {
            self.actions.push(action);
        }
    }

    /// A close request while items run becomes a question instead.
    pub(super) fn intercept_close(&mut self, ctx: &egui::Context) {
        if self.close_to_tray(ctx) {
            return;
        }
        if ctx.input(|i| i.viewport().close_requested())
            && !self.quit_confirmed
            && self.model.active() > 0
        {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.dialogs.quit_asked = true;
            // Counted once, as it is asked: the question does not change under the pointer.
            let rows = self.model.rows().iter();
            self.dialogs.quit_restarting = rows.filter(|r| r.restarts_if_stopped()).count();
        }
    }

    fn apply(&mut self, ctx: &egui::Context, action: Action) {
        match action {
            Action::AddText {
                text,
                origin,
                quiet,
            } => self.add_text(&text, &origin, quiet),
            Action::AddPaths(paths) => self.desktop.expand(
                paths.into_iter().map(Candidate::path).collect(),
                crate::desktop::AddContext::default(),
            ),
            Action::PickFiles => self.desktop.pick_files(),
            Action::PickDest => self.desktop.pick_dest(self.settings.dest.clone()),
            Action::ImportList => self.desktop.import_list(self.legacy_charset()),
            Action::ImportPath(path) => {
                self.toolbar.list_prompt = None;
                self.desktop
                    .read_list(absolute(&self.cwd, &path), self.legacy_charset());
            }
            Action::OpenDest => self.desktop.open(self.settings.dest.clone()),
            Action::Pause(ids) => self.ask_or_pause(ids, false),
            Action::Resume(ids) => self.resume_rows(&ids),
            Action::Cancel(ids) => self.ask_or_delete(Deleting::Cancel(ids)),
            Action::Remove(ids) => self.ask_or_delete(Deleting::Remove(ids)),
            Action::Open(path) => self.desktop.open(path),
            Action::Reveal(path) => self.desktop.reveal(path),
            Action::Copy(text) => ctx.copy_text(text),
            Action::Move { ids, to } => {
                if self.move_rows(&ids, to) {
                    // Keep the first moved row in view.
                    self.list.scroll_to = ids
                        .first()
                        .and_then(|id| self.model.rows().iter().position(|r| r.id == *id));
                }
            }
            Action::SetItemRate { ids, rate } => {
                for id in ids {
                    if let Some(apply) = self.model.set_rate_limit(id, rate) {
                        self.engine.send(apply);
                        self.save(id);
                    }
                }
            }
            Action::PauseAll => {
                let ids = self.ids_where(|s| s.is_active());
                self.ask_or_pause(ids, true);
            }
            Action::ResumeAll => {
                let ids = self.ids_where(|s| s == Status::Paused);
                self.resume_rows(&ids);
            }
            Action::RetryFailed => {
                let ids = self.ids_where(|s| matches!(s, Status::Failed | Status::TimedOut));
                self.resume_rows(&ids);
            }
            Action::CancelAll => {
                // Paused items too: they hold partial downloads as much as running ones.
                let ids = self.ids_where(|s| s.is_active() || s == Status::Paused);
                self.ask_or_delete(Deleting::Cancel(ids));
            }
            Action::ClearDone => {
                let keys = self.model.clear_done();
                self.forget_saved(keys);
            }
            Action::SetFilter(filter) => self.model.set_filter(filter),
            Action::SetSort(key) => self.model.set_sort(key),
            Action::Click { index, how } => {
                self.model.click(index, how);
                // The details strip opens below the list and takes room from it: keep the row
                // clicked in view rather than under the strip's edge.
                self.list.scroll_to = Some(index);
            }
            Action::ContextClick(index) => self.model.context_click(index),
            Action::Activate(index) => {
                if let Some(path) = self.model.row_at(index).and_then(|r| r.state.path()) {
                    self.desktop.open(path.to_path_buf());
                }
            }
            Action::SelectAll => self.model.select_all(),
            Action::Escape => {
                if self.dialogs.confirm.is_some() {
                    self.dialogs.confirm = None;
                } else if self.clipboard_offer().is_some() {
                    self.answer_offer(false);
                } else if self.dialogs.quit_asked {
                    self.dialogs.quit_asked = false;
                } else if self.dialogs.about_open {
                    self.dialogs.about_open = false;
                } else {
                    self.model.clear_selection();
                }
            }
            Action::BrowserHost { install } => self.desktop.browser_host(install),
            Action::ApplySettings => {
                // An idle window draws no frames, and eframe saves only on a frame: one after
                // its save interval keeps a change from being lost if Haul is killed.
                ctx.request_repaint_after(
                    eframe::App::auto_save_interval(self) + std::time::Duration::from_secs(1),
                );
                self.engine.send(Command::SetLimits(self.limits()));
                self.engine.send(Command::SetOutput(
                    self.settings.output(self.system_locale.as_deref()),
                ));
                if self.settings.proxy != self.proxy_sent {
                    self.proxy_sent = self.settings.proxy.clone();
                    self.engine.send(Command::SetProxy(self.proxy_sent.clone()));
                }
                ctx.set_theme(self.settings.theme.preference());
            }
            Action::TypedDest(path) => {
                let path = absolute(&self.cwd, &path);
                self.desktop.check_dest(path);
            }
            Action::ConfirmDelete => {
                if let Some(confirm) = self.dialogs.confirm.take() {
                    self.delete(confirm.what);
                }
            }
            Action::DismissConfirm => self.dialogs.confirm = None,
            Action::ConfirmQuit => {
                // Running items are paused, not cancelled: their bytes are kept and they
                // resume the next time Haul starts.
                self.quit_confirmed = true;
                self.dialogs.quit_asked = false;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Action::DismissQuit => self.dialogs.quit_asked = false,
            Action::CancelCountdown => self.cancel_countdown(),
            Action::AnswerOffer(add) => self.answer_offer(add),
            Action::CountdownNow => self.when_done_now(ctx),
            Action::TrustCertificate {
                id,
                fingerprint,
                host,
            } => self.trust_certificate(id, fingerprint, host),
            Action::ForgetCertificate(pin) => self.forget_certificate(&pin),
            Action::ChooseQuality { id, quality } => {
                self.rerun_with(id, |o| o.quality = Some(quality));
            }
            Action::ChooseFiles { id, select } => {
                self.rerun_with(id, |o| o.torrent.select = select)
            }
            Action::OpenOptions(None) => {
                let mut form = OptionsForm::new_items();
                form.sources = self.toolbar.add_text.trim().to_owned();
                self.options_form = Some(form);
            }
            Action::OpenOptions(Some(id)) => {
                if let Some(row) = self.model.row(id) {
                    let dir = row
                        .dest
                        .strip_prefix(&self.settings.dest)
                        .ok()
                        .filter(|d| !d.as_os_str().is_empty());
                    let form = OptionsForm::for_row(id, &row.uri, &row.options, dir, row.checksum);
                    self.options_form = Some(form);
                }
            }
            Action::ApplyOptions => self.apply_options(),
        }
    }

    /// The options form's Add (new rows, one per address) or Apply (the row takes them for its
    /// next run: a queued one is paused first and goes on at once; a paused or failed one
    /// waits for Resume or Retry).
    fn apply_options(&mut self) {
        let Some(form) = self.options_form.take() else {
            return;
        };
        let Some(result) = form.result(&self.cwd) else {
            self.options_form = Some(form); // not valid: stays open, saying why
            return;
        };
        match form.target {
            FormFor::New => {
                let entries: Vec<_> = result
                    .sources
                    .iter()
                    .map(|text| {
                        let mut entry =
                            crate::sources::Entry::new("options".to_owned(), text, &self.cwd);
                        entry.given = result.given.clone();
                        if result.given.checksum.is_some() {
                            entry.checksum = result.given.checksum;
                        }
                        entry
                    })
                    .collect();
                self.toolbar.add_text.clear();
                self.add_entries(entries, false);
            }
            FormFor::Row(id) => {
                let Some(row) = self.model.row(id) else {
                    return;
                };
                let Some(text) = result.sources.first() else {
                    return;
                };
                let Ok(source) = crate::protocol::Source::parse(text, &self.cwd) else {
                    return;
                };
                let old_dir = row.dest.strip_prefix(&self.settings.dest).ok();
                let dest = match (&result.given.dir, old_dir) {
                    (Some(dir), Some(old)) if dir.as_path() == old => row.dest.clone(),
                    (Some(dir), _) => self.settings.dest.join(dir),
                    (None, Some(old)) if old.as_os_str().is_empty() => row.dest.clone(),
                    (None, Some(_)) => self.settings.dest.clone(),
                    (None, None) => row.dest.clone(),
                };
                let status = row.status();
                let sha256 = row.checksum;
                // A new address for bytes kept in the same folder: they go on under it, so
                // resuming asks only for what is missing (issue 28, item 27).
                let handed = (row.source.as_ref(), row.state.kept_bytes() > 0, &row.dest);
                let handed = match handed {
                    (Some(old), true, old_dest) if *old != source && *old_dest == dest => {
                        Some(Command::Adopt {
                            from: old.clone(),
                            to: source.clone(),
                            dest: Some(dest.clone()),
                        })
                    }
                    _ => None,
                };
                // The same finish as every other way in (dir is placed above, kept when
                // unchanged).
                let Ok(finished) = self.finish(
                    result.given.clone(),
                    &crate::desktop::AddContext::default(),
                    PathBuf::new(),
                    sha256,
                ) else {
                    self.options_form = Some(form);
                    return;
                };
                let edit = Edit {
                    uri: text.clone(),
                    source,
                    options: finished.options,
                    dest,
                    checksum: finished.checksum,
                };
                self.model.edit(id, edit);
                self.save(id);
                if let Some(handed) = handed {
                    self.engine.send(handed);
                }
                // A queued row goes on with its new options; a paused or failed one waits for
                // Resume or Retry, as the person left it.
                if status == Status::Queued {
                    self.resume_after_pause.insert(id);
                    self.engine.send(Command::Pause(id));
                }
            }
        }
    }

    /// Uses `dest` for rows added from now on (picked in the dialog, checked, or handed
    /// over); rows already in the list keep their own folders.
    pub(super) fn set_dest(&mut self, dest: PathBuf) {
        let dest = absolute(&self.cwd, &dest);
        self.toolbar.dest_text = dest.display().to_string();
        self.toolbar.dest_problem = None;
        self.settings.dest = dest;
        self.engine.send(Command::SetOutput(
            self.settings.output(self.system_locale.as_deref()),
        ));
    }

    /// The ids of the rows whose status passes `keep`.
    fn ids_where(&self, keep: impl Fn(Status) -> bool) -> Vec<JobId> {
        self.model
            .rows()
            .iter()
            .filter(|r| keep(r.status()))
            .map(|r| r.id)
            .collect()
    }

    pub(super) fn forget_saved(&self, keys: Vec<u64>) {
        if let Some(queue) = &self.queue
            && !keys.is_empty()
        {
            queue.send(SavedOp::Remove(keys));
        }
    }
}
