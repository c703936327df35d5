//! The window's logic pass: what happens whether or not the window is shown.
//!
//! Owns: draining engine events (within a time budget, progress coalesced per item) and
//! desktop replies into the model, keeping the saved queue current, bringing the saved queue
//! back at start, the notices those produce, and the tick that refreshes elapsed time, speed
//! and ETA while items run. eframe calls it before every `ui` pass and on its own while the
//! window is minimised or hidden.
//! Must not touch: drawing, input (it is stale while hidden), anything that blocks.

use std::time::{Duration, Instant};

use eframe::egui;

use super::i18n::T;
use super::{Action, HaulApp, Notice, absolute, saved};
use crate::desktop::instance::Handoff;
use crate::desktop::saved_queue::{SavedItem, SavedOp};
use crate::desktop::{Dialog, LocalFile, Reply};
use crate::protocol::{Command, Event, JobId, Status};
use crate::sources;

/// Longest a pass spends applying engine events; the rest wait for the next pass.
const EVENT_BUDGET: Duration = Duration::from_millis(6);
/// While items run, how often elapsed time, speed and ETA are refreshed without events.
const TICK: Duration = Duration::from_millis(500);

impl HaulApp {
    /// One logic pass: drains events and replies, keeps the saved queue current, applies what
    /// they asked for, and schedules the next pass (at once while events wait, a tick later
    /// while items run, never while idle).
    pub(super) fn logic_pass(&mut self, ctx: &egui::Context) {
        let more_events = self.drain_events();
        self.drain_desktop();
        self.drain_handoffs(ctx);
        self.apply_actions(ctx);
        if more_events {
            ctx.request_repaint();
        } else if self.model.count(Status::Running) + self.model.count(Status::Connecting) > 0 {
            // Elapsed time, speed and ETA move without events; a queue that waits does not.
            ctx.request_repaint_after(TICK);
        }
    }

    /// Brings back the saved queue: finished items as they were, unfinished ones submitted
    /// again (they resume from their `.part` files).
    pub(super) fn restore(&mut self, stored: &[SavedItem]) {
        for item in stored {
            let id = self.engine.next_id();
            let (row, again) = saved::restored(item, id, &self.cwd);
            let submit = again
                .then(|| row.source.clone().map(|s| (s, row.sha256)))
                .flatten();
            self.model.restore(row);
            if let Some((source, sha256)) = submit {
                self.engine.send(Command::Submit { id, source, sha256 });
            }
        }
    }

    /// Writes a row's current state to the saved queue (in the background).
    pub(super) fn save(&self, id: JobId) {
        if let (Some(queue), Some(row)) = (&self.queue, self.model.row(id)) {
            queue.send(SavedOp::Put(saved::stored(row)));
        }
    }

    /// Applies engine events until none are left or the budget is spent.
    /// Returns true when some are still waiting.
    ///
    /// Progress is coalesced per item: of the progress events an item sent since the last
    /// frame, only the latest is applied (and sent to the saved queue), so a flood of them
    /// costs one hash-map insert each. Any other event of an item first applies that item's
    /// pending progress, keeping each item's events in order.
    fn drain_events(&mut self) -> bool {
        let started = Instant::now();
        let mut now = started;
        let mut progress = std::mem::take(&mut self.progress);
        let mut more = false;
        for n in 1usize.. {
            let Ok(event) = self.events.try_recv() else {
                break;
            };
            if let Event::Progress { id, done, total } = event {
                progress.insert(id, (done, total));
            } else {
                let id = event.id();
                if let Some((done, total)) = progress.remove(&id) {
                    self.apply_progress(id, done, total, now);
                }
                self.model.apply(event, now);
                self.save(id);
            }
            if n.is_multiple_of(64) {
                now = Instant::now();
                if now.duration_since(started) > EVENT_BUDGET {
                    more = true;
                    break;
                }
            }
        }
        for (id, (done, total)) in progress.drain() {
            self.apply_progress(id, done, total, now);
        }
        self.progress = progress;
        more
    }

    fn apply_progress(&mut self, id: JobId, done: u64, total: Option<u64>, now: Instant) {
        self.model.apply(Event::Progress { id, done, total }, now);
        if let (Some(queue), Some(row)) = (&self.queue, self.model.row(id)) {
            queue.send(SavedOp::Progress {
                key: row.key,
                bytes: done,
                total,
            });
        }
    }

    fn drain_desktop(&mut self) {
        let tr = self.tr();
        while let Some(reply) = self.desktop.try_recv() {
            match reply {
                Reply::FilesPicked(files) => self.add_files(
                    files
                        .into_iter()
                        .map(|path| LocalFile { path, sha256: None })
                        .collect(),
                ),
                Reply::DestPicked(dest) => self.actions.push(Action::SetDest(dest)),
                Reply::ListRead { path, text, sums } => {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| path.display().to_string());
                    let before = self.model.len();
                    let mut entries = sources::from_list(&text, &name, &self.cwd);
                    if let Some(sums) = sums {
                        sources::apply_sums(&mut entries, &sources::parse_sums(&sums));
                    }
                    self.add_entries(entries);
                    let n = self.model.len() - before;
                    self.info_notice(tr.fill(
                        T::Imported,
                        &[("n", &n.to_string()), ("path", &path.display().to_string())],
                    ));
                }
                Reply::ListFailed { path, error } => {
                    self.error_notice(tr.fill(
                        T::ImportFailed,
                        &[("path", &path.display().to_string()), ("error", &error)],
                    ));
                }
                Reply::DialogUnavailable(dialog) => {
                    self.error_notice(tr.get(T::DialogUnavailable).to_owned());
                    if dialog == Dialog::List {
                        // Without a dialog, the list's path can be typed instead.
                        self.list_prompt.get_or_insert_with(String::new);
                    }
                }
                Reply::Expanded {
                    files,
                    errors,
                    folders,
                } => {
                    self.add_files(files);
                    if let Some((path, error)) = errors.first() {
                        self.error_notice(tr.fill(
                            T::FolderFailed,
                            &[("path", &path.display().to_string()), ("error", error)],
                        ));
                    } else if let Some((path, n)) = folders.last() {
                        self.info_notice(tr.fill(
                            T::FolderAdded,
                            &[("n", &n.to_string()), ("path", &path.display().to_string())],
                        ));
                    }
                }
                Reply::OpenFailed { path, error } => {
                    self.error_notice(tr.fill(
                        T::OpenFailed,
                        &[("path", &path.display().to_string()), ("error", &error)],
                    ));
                }
            }
        }
    }

    /// Sources a later launch of `haul` handed over: added as if given on this window's
    /// command line, and the window comes to the front.
    fn drain_handoffs(&mut self, ctx: &egui::Context) {
        let Some(handoffs) = &self.handoffs else {
            return;
        };
        let received: Vec<Handoff> = handoffs.try_iter().collect();
        for handoff in received {
            if let Some(dest) = handoff.dest {
                self.actions
                    .push(Action::SetDest(absolute(&handoff.cwd, &dest)));
            }
            let entries = sources::from_args(&handoff.sources, &handoff.cwd);
            self.add_entries(entries);
            ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
            ctx.send_viewport_cmd(egui::ViewportCommand::Visible(true));
            ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
        }
    }

    pub(super) fn info_notice(&mut self, text: String) {
        self.notice = Some(Notice {
            text,
            is_error: false,
        });
    }

    pub(super) fn error_notice(&mut self, text: String) {
        self.notice = Some(Notice {
            text,
            is_error: true,
        });
    }
}
