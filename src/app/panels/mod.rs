//! Drawing: a file per panel. Drawing only reads state, edits the window's own text fields and
//! settings, and pushes [`Action`]s; nothing here talks to the engine.
//! Must not touch: I/O, the engine, the clock beyond reading `Instant::now()` once a frame.
//!
//! # Layout
//! - `toolbar`: adding sources, the destination, the panel toggles, notices.
//! - `list`: the virtualised list of rows and their buttons.
//! - `details`: the selected row in full.
//! - `summary`: counts, bytes, speed and wall time against the sum of item times.
//! - `settings`, `logs`: the side and bottom panels.
//! - `dialogs`: About, the quit question, the drop overlay.

mod details;
mod dialogs;
mod list;
mod logs;
mod settings;
mod summary;
mod toolbar;

use std::time::Instant;

use eframe::egui::{self, Ui};

use super::HaulApp;
use details::details;
use dialogs::{about_window, drop_overlay, quit_dialog};
use list::list;

impl HaulApp {
    pub(super) fn draw(&mut self, ui: &mut Ui) {
        let tr = self.tr();
        let now = Instant::now();
        egui::Panel::top("toolbar").show(ui, |ui| self.toolbar(ui, tr));
        egui::Panel::bottom("summary").show(ui, |ui| self.summary_bar(ui, tr, now));
        if self.settings.show_logs {
            egui::Panel::bottom("logs")
                .resizable(true)
                .default_size(140.0)
                .show(ui, |ui| self.log_panel(ui, tr));
        }
        if let Some(row) = self.model.single_selected() {
            egui::Panel::bottom("details").show(ui, |ui| {
                details(ui, tr, row, &mut self.actions);
            });
        }
        if self.settings.show_settings {
            egui::Panel::right("settings")
                .resizable(false)
                .show(ui, |ui| self.settings_panel(ui, tr));
        }
        egui::CentralPanel::default().show(ui, |ui| {
            self.rows_built = list(ui, tr, &mut self.model, now, &mut self.actions);
        });
        if self.about_open {
            about_window(ui.ctx(), tr, &mut self.about_open, self.data_dir.as_deref());
        }
        if self.quit_asked {
            quit_dialog(ui.ctx(), tr, self.model.active(), &mut self.actions);
        }
        drop_overlay(ui.ctx(), tr);
    }
}
