//! The summary bar: counts per status, bytes, overall speed, and the batch's wall time against
//! the sum of the items' own times; Cancel all, Pause queue, Clear finished and the filter.

use std::time::{Duration, Instant};

use eframe::egui::{self, RichText, Ui};

use super::super::i18n::{T, Tr};
use super::super::model::Model;
use super::super::{Action, HaulApp};
use crate::human::{human_bytes, human_duration};
use crate::protocol::Status;

impl HaulApp {
    pub(super) fn summary_bar(&mut self, ui: &mut Ui, tr: Tr, now: Instant) {
        ui.add_space(4.0);
        ui.horizontal_wrapped(|ui| {
            ui.label(summary_counts(tr, &self.model));
            if let Some(text) = summary_times(tr, &self.model, now) {
                ui.separator();
                ui.label(text);
            }
        });
        ui.horizontal(|ui| {
            let active = self.model.active() > 0;
            if ui
                .add_enabled(active, egui::Button::new(tr.get(T::CancelAll)))
                .clicked()
            {
                self.actions.push(Action::CancelAll);
            }
            let (label, paused) = if self.paused {
                (T::StartQueue, false)
            } else {
                (T::PauseQueue, true)
            };
            if ui.button(tr.get(label)).clicked() {
                self.actions.push(Action::SetPaused(paused));
            }
            if ui.button(tr.get(T::ClearFinished)).clicked() {
                self.actions.push(Action::ClearFinished);
            }
            ui.separator();
            let label = ui.label(tr.get(T::Filter));
            let current = self.model.filter();
            let shown = current.map_or(tr.get(T::FilterAll), |s| tr.status(s));
            egui::ComboBox::from_id_salt("filter")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    let choices = std::iter::once(None).chain(Status::ALL.into_iter().map(Some));
                    for choice in choices {
                        let text = choice.map_or(tr.get(T::FilterAll), |s| tr.status(s));
                        if ui.selectable_label(current == choice, text).clicked() {
                            self.actions.push(Action::SetFilter(choice));
                        }
                    }
                })
                .response
                .labelled_by(label.id);
            if self.paused {
                ui.label(RichText::new(tr.get(T::QueuePaused)).italics());
            }
            let selected = self.model.selected().len();
            if selected > 1 {
                ui.label(tr.fill(T::RowsSelected, &[("n", &selected.to_string())]));
            }
        });
        ui.add_space(2.0);
    }
}

/// `42 items: 30 done, …`
fn summary_counts(tr: Tr, model: &Model) -> String {
    let n = |s| model.count(s).to_string();
    let active = (model.count(Status::Connecting) + model.count(Status::Running)).to_string();
    tr.fill(
        T::SummaryCounts,
        &[
            ("total", &model.len().to_string()),
            ("done", &n(Status::Done)),
            ("running", &active),
            ("queued", &n(Status::Queued)),
            ("paused", &n(Status::Paused)),
            ("failed", &n(Status::Failed)),
            ("timed_out", &n(Status::TimedOut)),
            ("cancelled", &n(Status::Cancelled)),
        ],
    )
}

/// Bytes, overall speed, and wall time against the sum of item times.
fn summary_times(tr: Tr, model: &Model, now: Instant) -> Option<String> {
    let batch = model.batch();
    let wall = batch.wall(now)?;
    let (bytes, sum_items) = model.batch_totals(now);
    let speed = if wall.as_secs_f64() > 0.0 {
        bytes as f64 / wall.as_secs_f64()
    } else {
        0.0
    };
    let mut text = tr.fill(
        T::SummaryBytes,
        &[
            ("bytes", &human_bytes(bytes)),
            ("speed", &format!("{}/s", human_bytes(speed as u64))),
        ],
    );
    text.push_str(" · ");
    let wall_text = human_duration(wall);
    if wall > Duration::ZERO && sum_items > wall {
        let ratio = sum_items.as_secs_f64() / wall.as_secs_f64();
        text.push_str(&tr.fill(
            T::SummaryFaster,
            &[
                ("wall", &wall_text),
                ("sum", &human_duration(sum_items)),
                ("ratio", &format!("{ratio:.1}")),
            ],
        ));
    } else if batch.is_running() {
        text.push_str(&tr.fill(T::SummaryWall, &[("wall", &wall_text)]));
    } else {
        text.push_str(&tr.fill(T::SummaryTook, &[("wall", &wall_text)]));
    }
    Some(text)
}
