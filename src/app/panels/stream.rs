//! A video stream in the details strip: the variant — a choice among the variants its
//! playlist offers, when it offers several (choosing another starts the row again with it as
//! its `quality` option; the segments held for the old variant are removed then; a finished
//! row's choice is shown but closed: its file is saved) — and its segments.
//!
//! Owns: drawing these rows of the details grid. Must not touch: the row's options (the
//! action does), the engine.

use eframe::egui::{self, RichText, Ui};

use super::super::Action;
use super::super::i18n::{T, Tr};
use super::super::model::{Entry, State};
use crate::protocol::StreamInfo;

/// The stream's rows of the details grid: its quality (when it has one to tell or choose)
/// and its segments.
pub(super) fn details(
    ui: &mut Ui,
    tr: Tr,
    row: &Entry,
    stream: &StreamInfo,
    actions: &mut Vec<Action>,
) {
    let chosen = chosen(row, stream);
    if stream.variants.len() > 1 {
        ui.label(tr.get(T::Quality));
        // A finished row's file is saved: another variant is another download.
        let finished = matches!(row.state, State::Done { .. } | State::Skipped { .. });
        let hint = tr.get(if finished {
            T::QualityDone
        } else {
            T::Variants
        });
        ui.add_enabled_ui(!finished, |ui| {
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
                .on_hover_text(hint)
                .on_disabled_hover_text(hint);
        });
        ui.end_row();
    } else if !chosen.is_empty() {
        ui.label(tr.get(T::Quality));
        ui.label(&chosen);
        ui.end_row();
    }
    if let Some(segments) = super::status::segments_text(tr, stream) {
        ui.label(tr.get(T::Segments));
        ui.label(RichText::new(segments).weak());
        ui.end_row();
    }
}

/// The variant the row's next run fetches: the one its `quality` option names (chosen on a
/// paused row, it is fetched at Resume), else the one its last run fetched.
fn chosen(row: &Entry, stream: &StreamInfo) -> String {
    row.options
        .quality
        .and_then(|quality| stream.variants.iter().find(|v| v.quality == quality))
        .map(|v| v.label.clone())
        .or_else(|| stream.quality.clone())
        .unwrap_or_default()
}
