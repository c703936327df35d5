//! Drawing: a file per panel. Drawing only reads state, edits the window's own text fields and
//! settings, and pushes [`Action`](super::Action)s; nothing here talks to the engine.
//! Must not touch: I/O, the engine, the clock beyond reading `Instant::now()` once a frame.
//!
//! Controls stay put: the toolbar wraps instead of overprinting at the smallest window
//! (640×320), every row's buttons sit in fixed slots, and notices float over the list's
//! bottom edge instead of pushing the list down.
//!
//! # Layout
//! - `toolbar`: adding sources (the add box scrolls; Add stays in view), the destination
//!   (checked as typed), the panel toggles.
//! - `list`: the virtualised list, its sortable header, the rows and their menus.
//! - `details`: the selected row in full; `trust`: a refused certificate's fingerprint and the
//!   ways to trust it, and Settings → Trusted certificates; `stream`: a video stream's
//!   segments, its variant and the others offered.
//! - `summary`: counts, the current speed, wall time against the sum of item times, the
//!   buttons that act on every row, the filter and the search.
//! - `settings`, `logs`: the side and bottom panels; `bridge`: the browser bridge's rows of
//!   Settings (port, addresses, secret, web pages let in).
//! - `desk`: the Schedule and Desktop sections of Settings, the "when the queue is done"
//!   countdown.
//! - `dialogs`: About, the quit question, the question before deleting, the notice, the drop
//!   overlay.

mod bar;
mod bridge;
mod browser;
mod columns;
mod desk;
mod details;
pub(super) mod dialogs;
pub(super) mod list;
pub(super) mod logs;
mod network;
pub(super) mod options;
mod row_menu;
pub(super) mod settings;
mod status;
mod stream;
pub(super) mod summary;
pub(super) mod toolbar;
mod torrent_files;
mod trust;

use std::time::Instant;

use eframe::egui::{self, Ui};

use super::HaulApp;
use details::details;
use dialogs::{about_window, confirm_dialog, drop_overlay, notice_bar, quit_dialog};
use list::list;

/// Lines of text the details strip has room for.
const DETAILS_LINES: f32 = 6.5;

impl HaulApp {
    pub(super) fn draw(&mut self, ui: &mut Ui) {
        let tr = self.tr();
        let now = Instant::now();
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar(ui, tr));
        if let Some(links) = self.clipboard_offer() {
            let links = links.to_vec();
            egui::Panel::top("clipboard-offer")
                .show(ui, |ui| desk::offer_bar(ui, tr, &links, &mut self.actions));
        }
        egui::Panel::bottom("summary").show(ui, |ui| self.summary_bar(ui, tr, now));
        // The notice takes a strip of its own above the summary: the list gives it room and
        // no row's buttons are ever under it (issue 28, item 21). It goes after a while.
        let left = self
            .dialogs
            .notice
            .as_ref()
            .map(|n| n.lasts().checked_sub(n.shown.elapsed()));
        match left {
            Some(None) => self.dialogs.notice = None,
            Some(Some(left)) => ui.ctx().request_repaint_after(left),
            None => {}
        }
        if let Some(notice) = &self.dialogs.notice {
            let closed = egui::Panel::bottom("notice").show(ui, |ui| notice_bar(ui, tr, notice));
            if closed.inner {
                self.dialogs.notice = None;
            }
        }
        if self.settings.show_logs {
            egui::Panel::bottom("logs")
                .resizable(true)
                .default_size(140.0)
                .show(ui, |ui| self.log_panel(ui, tr));
        }
        let line = ui.text_style_height(&egui::TextStyle::Body);
        // The list keeps room for two rows beside the details (the row clicked is scrolled
        // into view above them); in a low window the details get fewer lines (and scroll), down
        // to three: at the smallest size too a click shows them, with a failure's whole
        // reason (issue 28, item 24).
        // Two rows and the columns' header.
        let beside = ui.available_height() - 3.0 * (line + 10.0);
        // A torrent's files take lines of their own (a tick's line is half as tall again; up to
        // ten of them, more scroll).
        let files = self
            .model
            .single_selected()
            .map_or(0, |r| torrent_files::lines(&r.torrent_files).min(10));
        let extra = if files > 0 {
            1.5 * (files as f32 + 1.0)
        } else {
            0.0
        };
        let lines = DETAILS_LINES + extra;
        let details_height = (line * lines + 24.0).min(beside);
        let room = details_height >= line * 3.0 + 24.0;
        // Not opened while a menu is open (a right-click selects the row it opens on): the
        // strip would take the list's bottom, with that row and its menu (issue 28, item 22).
        // It opens once the menu closes, with the row scrolled into view.
        let opening = !self.list.details_shown;
        let selected = self.model.single_selected().filter(|_| room);
        let selected = selected.filter(|_| !(opening && egui::Popup::is_any_open(ui.ctx())));
        self.list.details_shown = selected.is_some();
        if let Some(row) = selected {
            if opening {
                let index = self.model.rows().iter().position(|r| r.id == row.id);
                self.list.scroll_to = self.list.scroll_to.or(index);
            }
            // A fixed height, known from the first frame: the list shrinks once, and the row
            // clicked is scrolled into view in that same frame (a panel that sized itself to
            // its content grew over two frames and covered the row). Longer details scroll.
            egui::Panel::bottom("details")
                .exact_size(details_height)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical()
                        .id_salt("details")
                        .auto_shrink([false, true])
                        .show(ui, |ui| {
                            details(ui, tr, row, &self.model, &mut self.actions)
                        });
                });
        }
        if self.settings.show_settings {
            egui::Panel::right("settings")
                .resizable(false)
                .show(ui, |ui| {
                    egui::ScrollArea::vertical().show(ui, |ui| self.settings_panel(ui, tr));
                });
        }
        egui::CentralPanel::default().show(ui, |ui| {
            let scroll_to = self.list.scroll_to.take();
            let around = status::Around {
                caps: self.limits(),
                held: self.held_until().map(|(time, tomorrow)| {
                    let time = time.to_string();
                    let until = match tomorrow {
                        true => tr.fill(super::i18n::T::TomorrowAt, &[("time", &time)]),
                        false => time,
                    };
                    (until, self.desk.paused_by_schedule())
                }),
            };
            self.list.rows_built = list(
                ui,
                tr,
                &mut self.model,
                &around,
                now,
                scroll_to,
                self.list.dialogs_unavailable,
                &mut self.actions,
            );
        });
        let ctx = ui.ctx().clone();
        if self.dialogs.about_open {
            about_window(
                &ctx,
                tr,
                &mut self.dialogs.about_open,
                self.data_dir.as_deref(),
            );
        }
        if self.dialogs.quit_asked {
            let restarting = self.dialogs.quit_restarting;
            quit_dialog(
                &ctx,
                tr,
                (self.model.active(), restarting),
                &mut self.actions,
            );
        }
        if let Some(confirm) = &self.dialogs.confirm {
            confirm_dialog(&ctx, tr, confirm, &mut self.actions);
        }
        if let Some(countdown) = self.desk.countdown {
            desk::countdown_dialog(&ctx, tr, countdown, now, &mut self.actions);
        }
        self.options_window(&ctx, tr);
        drop_overlay(&ctx, tr);
    }
}
