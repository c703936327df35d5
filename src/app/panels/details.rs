//! The details strip: the selected row in full.

use eframe::egui::{self, RichText, Ui};

use super::super::Action;
use super::super::i18n::{T, Tr};
use super::super::model::{Row, RowState};
use super::list::row_buttons;
use crate::protocol::redact;

/// The selected row in full: source, where it went, its digest, why it failed.
pub(super) fn details(ui: &mut Ui, tr: Tr, row: &Row, actions: &mut Vec<Action>) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.strong(tr.get(T::Details));
        ui.label(&row.name);
        row_buttons(ui, tr, row, actions);
    });
    egui::Grid::new("details-grid")
        .num_columns(2)
        .spacing([8.0, 2.0])
        .show(ui, |ui| {
            ui.label(tr.get(T::Source));
            ui.add(egui::Label::new(redact(&row.text)).selectable(true));
            ui.end_row();
            if let Some(expect) = row.sha256 {
                ui.label(tr.get(T::Expected));
                ui.add(
                    egui::Label::new(RichText::new(expect.to_string()).monospace())
                        .selectable(true),
                );
                ui.end_row();
            }
            if let RowState::Done { path, sha256, .. } = &row.state {
                ui.label(tr.get(T::SavedAs));
                ui.add(egui::Label::new(path.display().to_string()).selectable(true));
                ui.end_row();
                ui.label(tr.get(T::Digest));
                ui.add(
                    egui::Label::new(RichText::new(sha256.to_string()).monospace())
                        .selectable(true),
                );
                ui.end_row();
            }
            if let Some(error) = row.state.error() {
                ui.label(tr.get(T::Error));
                ui.add(
                    egui::Label::new(RichText::new(error).color(ui.visuals().error_fg_color))
                        .selectable(true),
                );
                ui.end_row();
            }
        });
    ui.add_space(2.0);
}
