//! The window's logic pass: what happens whether or not the window is shown.
//!
//! Owns: draining engine events (within a time budget, progress coalesced per item) and
//! desktop replies into the model, keeping the saved queue current, bringing the saved queue
//! back at start, the activity lines and notices those produce, telling the desktop when a
//! batch ends or an item fails while the window is not in front, and the tick that refreshes
//! elapsed time, speed, ETA and retry countdowns while items run. eframe calls it before every
//! `ui` pass and on its own while the window is minimised or hidden.
//! Must not touch: drawing, input (it is stale while hidden), anything that blocks.

use std::time::{Duration, Instant};

use eframe::egui;

use super::i18n::T;
use super::model::State;
use super::{HaulApp, Notice, absolute, saved};
use crate::desktop::instance::Handoff;
use crate::desktop::saved_queue::{SavedItem, SavedOp};
use crate::desktop::{AddContext, DestVerdict, Dialog, LocalFile, Reply};
use crate::human::{human_bytes, millis};
use crate::protocol::{Event, JobId};
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
        let was_active = self.model.active() > 0;
        let more_events = self.drain_events(ctx);
        self.drain_desktop(ctx);
        self.drain_handoffs(ctx);
        self.apply_rpc(ctx);
        self.drain_rpc();
        self.apply_actions(ctx);
        if was_active && self.model.active() == 0 {
            self.batch_ended(ctx);
            self.queue_done();
        }
        self.desk_pass(ctx);
        if self.model.working() > 0 && self.limits().max_rate.is_some() {
            self.model.batch_capped();
        }
        if more_events {
            ctx.request_repaint();
        } else if self.model.working() > 0 {
            // Elapsed time, speed, ETA and retry countdowns move without events; a queue
            // that waits does not.
            ctx.request_repaint_after(TICK);
        }
    }

    /// Brings back the saved queue: finished items as they were, unfinished ones submitted
    /// again into their own folders (they resume from their `.part` files).
    pub(super) fn restore(&mut self, stored: &[SavedItem]) {
        let fallback = self.settings.dest.clone();
        for item in stored {
            if item.text.len() > crate::sources::MAX_SOURCE_LEN {
                // Never a source: a line an older Haul kept as a failed row (a pasted 5 MB
                // blob came back at every start; issue 28, item 14). Gone for good.
                self.forget_saved(vec![item.key]);
                continue;
            }
            let id = self.engine.next_id();
            let (row, again) = saved::restored(item, id, &self.cwd, &fallback);
            self.model.restore(row);
            if again && let Some(submit) = self.model.submission(id) {
                self.engine.send(submit);
            }
        }
    }

    /// Writes a row's current state to the saved queue (in the background).
    pub(super) fn save(&self, id: JobId) {
        if let (Some(queue), Some(row)) = (&self.queue, self.model.row(id)) {
            queue.send(SavedOp::Put(Box::new(saved::stored(row, Instant::now()))));
        }
    }

    /// Applies engine events until none are left or the budget is spent.
    /// Returns true when some are still waiting.
    ///
    /// Progress is coalesced per item: of the progress events an item sent since the last
    /// frame, only the latest is applied (and sent to the saved queue), so a flood of them
    /// costs one hash-map insert each. Any other event of an item first applies that item's
    /// pending progress, keeping each item's events in order.
    fn drain_events(&mut self, ctx: &egui::Context) -> bool {
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
            } else if matches!(
                event,
                Event::Parts { .. } | Event::Connections { .. } | Event::Stream { .. }
            ) {
                self.model.apply(event, now); // for the bar only: nothing to save
            } else {
                let id = event.id();
                if let Some((done, total)) = progress.remove(&id) {
                    self.apply_progress(id, done, total, now);
                }
                let finished = matches!(event, Event::Finished { .. });
                let note = crate::rpc::methods::notification(&event);
                self.model.apply(event, now);
                if let Some(name) = note {
                    self.notify_rpc(name, id);
                }
                self.save(id);
                if finished {
                    self.item_finished(ctx, id);
                    if self.resume_after_pause.remove(&id) {
                        // It paused to take new options (a seeding torrent ends done).
                        self.rerun_rows(&[id]);
                    }
                }
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
                key: row.gid,
                bytes: done,
                total,
                elapsed_ms: millis(row.elapsed(now).unwrap_or_default()),
            });
        }
    }

    /// An item ended: a line in the activity panel and, for a failure while the window is
    /// not in front, a desktop notification.
    fn item_finished(&mut self, ctx: &egui::Context, id: JobId) {
        let tr = self.tr();
        let Some(row) = self.model.row(id) else {
            return;
        };
        // "This folder does not exist yet": once a download made it, it is no longer true.
        if self
            .toolbar
            .dest_problem
            .as_ref()
            .is_some_and(|n| !n.is_error)
            && row.dest == self.settings.dest
            && self.settings.dest.is_dir()
        {
            self.toolbar.dest_problem = None;
        }
        let name = row.name.clone();
        // All its runs: a paused and resumed item took the time before the pause too.
        let took = row.elapsed(Instant::now()).unwrap_or_default();
        let (text, failure) = match &row.state {
            State::Done { bytes, .. } => (
                tr.fill(
                    T::ActDone,
                    &[
                        ("name", &name),
                        ("size", &human_bytes(*bytes)),
                        ("time", &tr.duration(took)),
                    ],
                ),
                None,
            ),
            State::Paused { .. } => (tr.fill(T::ActPaused, &[("name", &name)]), None),
            State::Skipped { path } => (
                tr.fill(
                    T::ActSkipped,
                    &[("name", &name), ("path", &path.display().to_string())],
                ),
                None,
            ),
            State::Cancelled { .. } => (tr.fill(T::ActCancelled, &[("name", &name)]), None),
            _ => {
                let why = tr.why(&row.state);
                (
                    tr.fill(T::ActFailed, &[("name", &name), ("why", &why)]),
                    Some(why),
                )
            }
        };
        let is_error = failure.is_some();
        self.log_activity(text, is_error);
        if let Some(why) = failure
            && !focused(ctx)
        {
            self.desktop
                .notify(tr.fill(T::NotifyFailedTitle, &[("name", &name)]), why);
        }
    }

    /// The last active item ended: tell the desktop when the window is not in front.
    fn batch_ended(&mut self, ctx: &egui::Context) {
        if focused(ctx) {
            return;
        }
        let tr = self.tr();
        // The batch that just ended, not the whole list (issue 28, item 7: "5004 done, 4
        // failed" for one new item).
        let batch = self.model.batch();
        let body = tr.fill(
            T::NotifyDoneBody,
            &[
                ("done", &batch.done.to_string()),
                ("failed", &batch.failed.to_string()),
            ],
        );
        self.desktop
            .notify(tr.get(T::NotifyDoneTitle).to_owned(), body);
    }

    fn drain_desktop(&mut self, ctx: &egui::Context) {
        let tr = self.tr();
        while let Some(reply) = self.desktop.try_recv() {
            match reply {
                Reply::FilesPicked(files) => {
                    self.add_files(
                        files
                            .into_iter()
                            .map(|path| LocalFile::single(path, None))
                            .collect(),
                        &AddContext::default(),
                    );
                }
                Reply::DestPicked(dest) => self.set_dest(dest),
                Reply::Copied(text) => self.copied(ctx, &text),
                Reply::BrowserHost { install, result } => self.browser_host_done(install, result),
                Reply::AutostartFailed { reason } => {
                    self.error_notice(tr.fill(T::StartAtLoginFailed, &[("why", &reason)]));
                }
                Reply::PowerFailed { reason } => {
                    self.error_notice(tr.fill(T::PowerFailed, &[("why", &reason)]));
                }
                Reply::DestChecked { path, verdict } => match verdict {
                    DestVerdict::Usable => self.set_dest(path),
                    DestVerdict::WillBeCreated => {
                        self.set_dest(path);
                        self.toolbar.dest_problem = Some(Notice {
                            text: tr.get(T::DestWillBeCreated).to_owned(),
                            is_error: false,
                            shown: std::time::Instant::now(),
                        });
                    }
                    DestVerdict::IsFile => self.dest_refused(tr.get(T::DestIsFile).to_owned()),
                    DestVerdict::NotWritable => {
                        self.dest_refused(tr.get(T::DestNotWritable).to_owned());
                    }
                    DestVerdict::Unusable(error) => {
                        self.dest_refused(tr.fill(T::DestUnusable, &[("error", &error)]));
                    }
                },
                Reply::ListRead { path, text, sums } => {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| path.display().to_string());
                    // Its relative paths are taken from its own folder, where its
                    // SHA256SUMS is read (a window has no working folder a person knows).
                    let base = path
                        .parent()
                        .map_or_else(|| self.cwd.clone(), std::path::Path::to_path_buf);
                    let mut entries = sources::from_list(&text, &name, &base);
                    if let Some(sums) = sums {
                        sources::apply_sums(&mut entries, &sources::parse_sums(&sums));
                    }
                    let n = entries.len();
                    let context = AddContext {
                        base: Some(base),
                        ..AddContext::default()
                    };
                    self.add_batch(entries, context);
                    self.info_notice(tr.fill(
                        T::Imported,
                        &[
                            ("items", &tr.items(n)),
                            ("path", &path.display().to_string()),
                        ],
                    ));
                }
                Reply::ListFailed { path, error } => {
                    self.error_notice(tr.fill(
                        T::ImportFailed,
                        &[("path", &path.display().to_string()), ("error", &error)],
                    ));
                }
                Reply::DialogUnavailable(dialog) => {
                    self.list.dialogs_unavailable = true;
                    self.error_notice(tr.get(T::DialogUnavailable).to_owned());
                    if dialog == Dialog::List {
                        // Without a dialog, the list's path can be typed instead.
                        self.toolbar.list_prompt.get_or_insert_with(String::new);
                    }
                }
                Reply::Expanded {
                    files,
                    guessed,
                    missing,
                    context,
                    errors,
                    folders,
                } => {
                    self.add_walked(files, guessed, missing, context);
                    if let Some((path, error)) = errors.first() {
                        self.error_notice(tr.fill(
                            T::FolderFailed,
                            &[("path", &path.display().to_string()), ("error", error)],
                        ));
                    } else if let Some((path, n)) = folders.last() {
                        self.info_notice(tr.fill(
                            T::FolderAdded,
                            &[
                                ("items", &tr.items(*n)),
                                ("path", &path.display().to_string()),
                            ],
                        ));
                    }
                }
                Reply::OpenGone { path } => {
                    self.error_notice(
                        tr.fill(T::OpenGone, &[("path", &path.display().to_string())]),
                    );
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

    /// The destination typed cannot be used: it is not applied, and the field says why and
    /// where downloads go meanwhile (they went to the previous folder while the field showed
    /// the refused one).
    fn dest_refused(&mut self, why: String) {
        let still = self.tr().fill(
            T::DestStillUsed,
            &[("path", &self.settings.dest.display().to_string())],
        );
        self.toolbar.dest_problem = Some(Notice {
            text: format!("{why} {still}"),
            is_error: true,
            shown: std::time::Instant::now(),
        });
    }

    /// Sources a later launch of `haul` handed over: added as if given on this window's
    /// command line (into its `--dest` folder, when it gave one, without making that the
    /// Save-to folder), and the window comes to the front.
    fn drain_handoffs(&mut self, ctx: &egui::Context) {
        let Some(handoffs) = &self.handoffs else {
            return;
        };
        let received: Vec<Handoff> = handoffs.try_iter().collect();
        for handoff in received {
            // Its --dest is for these items only: the Save-to folder stays the person's.
            let context = AddContext {
                dest: handoff.dest.map(|dest| absolute(&handoff.cwd, &dest)),
                base: Some(handoff.cwd.clone()),
                ..AddContext::default()
            };
            if handoff.pick {
                // The browser's "Download all links": the person picks from the add box.
                let text = &mut self.toolbar.add_text;
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(&handoff.sources.join("\n"));
                self.bring_to_front(ctx);
                continue;
            }
            let mut entries = sources::from_args(&handoff.sources, &handoff.cwd);
            // The browser's request options (its cookies, Referer, User-Agent, file name),
            // checked as a list's option lines are: one refused fails the item, saying why.
            for entry in &mut entries {
                for (name, value) in &handoff.options {
                    if let Err(e) = entry.given.set(name, value) {
                        entry.option_errors.push(format!("{e} ({})", entry.origin));
                    }
                }
            }
            self.add_batch(entries, context);
            self.bring_to_front(ctx);
        }
    }

    pub(super) fn info_notice(&mut self, text: String) {
        self.dialogs.notice = Some(Notice {
            text,
            is_error: false,
            shown: std::time::Instant::now(),
        });
    }

    pub(super) fn error_notice(&mut self, text: String) {
        self.dialogs.notice = Some(Notice {
            text,
            is_error: true,
            shown: std::time::Instant::now(),
        });
    }
}

/// The window is in front (focused). While hidden the input is that of the last shown frame,
/// so a minimised window counts as not focused.
fn focused(ctx: &egui::Context) -> bool {
    ctx.input(|i| i.viewport().focused.unwrap_or(true) && i.viewport().minimized != Some(true))
}
