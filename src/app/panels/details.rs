//! The details strip: the selected row in full — its address (and how a text without a
//! scheme was read), its folder, where it was saved and its SHA-256, or why it failed (a
//! person's sentence, then the technical text; for a certificate nothing vouches for, its
//! fingerprint and the ways to trust it: `trust`); a stream's variant (`stream`), a torrent's
//! files to choose from (`torrent_files`).

use eframe::egui::{self, RichText, Ui};

use super::super::Action;
use super::super::i18n::{T, Tr};
use super::super::model::{Entry, Model, State};
use super::list::row_buttons;
use crate::protocol::redact;

pub(super) fn details(ui: &mut Ui, tr: Tr, row: &Entry, model: &Model, actions: &mut Vec<Action>) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.strong(tr.get(T::Details));
        row_buttons(ui, tr, row, false, model, actions);
        ui.add(egui::Label::new(&row.name).truncate());
    });
    super::trust::refused_row(ui, tr, row, actions);
    egui::Grid::new("details-grid")
        .num_columns(2)
        .spacing([8.0, 2.0])
        .show(ui, |ui| {
            ui.label(tr.get(T::Source));
            ui.vertical(|ui| {
                ui.add(egui::Label::new(redact(&row.uri)).selectable(true));
                if row.guessed
                    && let Some(source) = &row.source
                {
                    let note = tr.fill(T::ReadAs, &[("url", &source.to_string())]);
                    ui.label(RichText::new(note).weak());
                }
            });
            ui.end_row();
            ui.label(tr.get(T::Folder));
            ui.add(egui::Label::new(row.dest.display().to_string()).selectable(true));
            ui.end_row();
            if let Some(stream) = &row.stream {
                super::stream::details(ui, tr, row, stream, actions);
            }
            if let Some(expect) = row.checksum {
                ui.label(tr.get(T::Expected));
                ui.add(
                    egui::Label::new(RichText::new(expect.to_string()).monospace())
                        .selectable(true),
                );
                ui.end_row();
            }
            if let State::Skipped { path } = &row.state {
                ui.label(tr.get(T::SavedAs));
                ui.add(egui::Label::new(path.display().to_string()).selectable(true));
                ui.end_row();
            }
            for file in row.state.files() {
                ui.label(tr.get(T::SavedAs));
                ui.add(egui::Label::new(file.path.display().to_string()).selectable(true));
                ui.end_row();
                ui.label(tr.get(T::Digest));
                ui.add(
                    egui::Label::new(RichText::new(file.sha256.to_string()).monospace())
                        .selectable(true),
                );
                ui.end_row();
            }
            if row.connections.len() > 1 && row.connections() > 0 {
                // Each connection's speed, in the order they opened.
                ui.label(tr.get(T::Connections));
                let speeds: Vec<String> = row
                    .connections
                    .iter()
                    .map(|&speed| tr.rate(speed as f64))
                    .collect();
                ui.label(format!("{} — {}", speeds.len(), speeds.join(" · ")));
                ui.end_row();
            }
            if let Some(technical) = row.state.error() {
                ui.label(tr.get(T::Error));
                ui.vertical(|ui| {
                    let color = ui.visuals().error_fg_color;
                    ui.label(RichText::new(tr.why(&row.state)).color(color));
                    ui.add(egui::Label::new(RichText::new(technical).weak()).selectable(true));
                });
                ui.end_row();
            }
        });
    super::torrent_files::details(ui, tr, row, actions);
    ui.add_space(2.0);
}
