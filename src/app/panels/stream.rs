//! A video stream in the details strip: the variant fetched — a choice among the variants its
//! playlist offers, when it offers several (choosing another starts the row again with it as
//! its `quality` option; the segments held for the old variant are kept) — and its segments.
//!
//! Owns: drawing this row of the details grid. Must not touch: the row's options (the action
//! does), the engine.

use eframe::egui::{self, RichText, Ui};

use super::super::Action;
use super::super::i18n::{T, Tr};
use super::super::model::Entry;
use crate::protocol::StreamInfo;

/// The stream's row of the details grid.
pub(super) fn details(
    ui: &mut Ui,
    tr: Tr,
    row: &Entry,
    stream: &StreamInfo,
    actions: &mut Vec<Action>,
) {
    ui.label(tr.get(T::Quality));
    ui.horizontal(|ui| {
        let chosen = stream.quality.clone().unwrap_or_default();
        if stream.variants.len() > 1 {
            egui::ComboBox::from_id_salt(("variants", row.gid))
                .selected_text(&chosen)
                .show_ui(ui, |ui| {
                    for variant in &stream.variants {
                        let picked = variant.label == chosen;
                        if ui.selectable_label(picked, &variant.label).clicked() && !picked {
                            actions.push(Action::ChooseQuality {
                                id: row.id,
                                quality: variant.quality,
                            });
                        }
                    }
                })
                .response
                .on_hover_text(tr.get(T::Variants));
        } else if !chosen.is_empty() {
            ui.label(&chosen);
        }
        if let Some(segments) = super::status::segments_text(tr, stream) {
            ui.label(RichText::new(segments).weak());
        }
    });
    ui.end_row();
}
