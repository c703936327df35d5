//! The list: only the rows in view are laid out (100,000 rows scroll smoothly), each with its
//! status, progress, sizes, speed, ETA, elapsed time, buttons and source.

use std::time::Instant;

use eframe::egui::{self, Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::super::Action;
use super::super::i18n::{T, Tr};
use super::super::model::{Model, Row, RowState};
use crate::human::{human_bytes, human_duration};
use crate::protocol::{Status, Waiting, redact};

/// Height of one list row, in points.
const ROW_HEIGHT: f32 = 24.0;
/// The row buttons' column: room for Open, Show in folder and Remove.
const ACTIONS_WIDTH: f32 = 250.0;

fn status_color(status: Status) -> Color32 {
    match status {
        Status::Queued | Status::Cancelled => Color32::GRAY,
        Status::Paused => Color32::from_rgb(200, 180, 90),
        Status::Connecting => Color32::LIGHT_BLUE,
        Status::Running => Color32::from_rgb(80, 160, 255),
        Status::Done => Color32::from_rgb(60, 180, 90),
        Status::Failed => Color32::from_rgb(230, 70, 70),
        Status::TimedOut => Color32::from_rgb(230, 150, 40),
    }
}

/// A small status icon, drawn rather than taken from a font: no font has to carry the
/// glyphs (the emoji fonts would add 0.7 MB to the binary) and it looks the same everywhere.
fn status_icon(ui: &mut Ui, status: Status, color: Color32) {
    let size = ui.text_style_height(&egui::TextStyle::Body);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    let painter = ui.painter();
    let c = rect.center();
    let r = size * 0.36;
    let stroke = egui::Stroke::new(1.6, color);
    let p = |x: f32, y: f32| c + egui::vec2(x * r, y * r);
    match status {
        Status::Queued => {
            painter.circle_stroke(c, r, stroke);
            painter.line_segment([c, p(0.0, -0.7)], stroke);
            painter.line_segment([c, p(0.5, 0.0)], stroke);
        }
        Status::Connecting => {
            painter.circle_stroke(c, r, stroke);
            painter.circle_filled(c, r * 0.35, color);
        }
        Status::Running => {
            painter.line_segment([p(0.0, -1.0), p(0.0, 0.9)], stroke);
            painter.line_segment([p(-0.7, 0.2), p(0.0, 0.9)], stroke);
            painter.line_segment([p(0.7, 0.2), p(0.0, 0.9)], stroke);
        }
        Status::Done => {
            painter.line_segment([p(-0.9, 0.0), p(-0.3, 0.7)], stroke);
            painter.line_segment([p(-0.3, 0.7), p(0.9, -0.7)], stroke);
        }
        Status::Failed => {
            painter.line_segment([p(-0.8, -0.8), p(0.8, 0.8)], stroke);
            painter.line_segment([p(0.8, -0.8), p(-0.8, 0.8)], stroke);
        }
        Status::TimedOut => {
            painter.circle_stroke(c, r, stroke);
            painter.line_segment([c, p(0.0, -0.7)], stroke);
            painter.line_segment([c, p(0.6, 0.3)], stroke);
            painter.line_segment([p(-0.3, -1.35), p(0.3, -1.35)], stroke);
        }
        Status::Cancelled => {
            painter.circle_stroke(c, r, stroke);
            painter.line_segment([p(-0.7, 0.7), p(0.7, -0.7)], stroke);
        }
        Status::Paused => {
            painter.line_segment([p(-0.4, -0.8), p(-0.4, 0.8)], stroke);
            painter.line_segment([p(0.4, -0.8), p(0.4, 0.8)], stroke);
        }
    }
}

/// The virtualised list: only rows in view are laid out. Returns how many were.
pub(super) fn list(
    ui: &mut Ui,
    tr: Tr,
    model: &mut Model,
    now: Instant,
    actions: &mut Vec<Action>,
) -> usize {
    if model.is_empty() {
        ui.centered_and_justified(|ui| ui.label(tr.get(T::EmptyList)));
        return 0;
    }
    let view = model.view().to_vec();
    let model = &*model;
    let mut built = 0;
    let add_modifier = ui.input(|i| i.modifiers.command);
    // A click anywhere on a row selects it; text in the list is not selectable (the details
    // view below has the selectable copy).
    ui.style_mut().interaction.selectable_labels = false;
    // When the window (or the room beside the settings panel) is narrower than the columns,
    // the list scrolls sideways instead of hiding the row buttons.
    egui::ScrollArea::horizontal()
        .id_salt("rows-sideways")
        .show(ui, |ui| {
            TableBuilder::new(ui)
                .id_salt("rows")
                .striped(true)
                .resizable(true)
                .sense(egui::Sense::click())
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
                .column(Column::initial(150.0).at_least(70.0).clip(true))
                .column(Column::initial(170.0).at_least(80.0).clip(true))
                .column(Column::initial(110.0).at_least(60.0))
                .column(Column::initial(120.0).at_least(60.0).clip(true))
                .column(Column::initial(75.0).at_least(50.0).clip(true))
                .column(Column::initial(55.0).at_least(40.0).clip(true))
                .column(Column::initial(50.0).at_least(40.0).clip(true))
                .column(Column::exact(ACTIONS_WIDTH))
                .column(Column::remainder().at_least(60.0).clip(true))
                .header(20.0, |mut header| {
                    for key in [
                        T::ColStatus,
                        T::ColName,
                        T::ColProgress,
                        T::ColSize,
                        T::ColSpeed,
                        T::ColEta,
                        T::ColElapsed,
                    ] {
                        header.col(|ui| {
                            ui.strong(tr.get(key));
                        });
                    }
                    header.col(|_| {});
                    header.col(|ui| {
                        ui.strong(tr.get(T::ColSource));
                    });
                })
                .body(|body| {
                    body.rows(ROW_HEIGHT, view.len(), |mut table_row| {
                        let Some(&index) = view.get(table_row.index()) else {
                            return;
                        };
                        let Some(row) = model.row_at(index) else {
                            return;
                        };
                        built += 1;
                        table_row.set_selected(row.selected);
                        row_cells(&mut table_row, tr, row, now, actions);
                        if table_row.response().clicked() {
                            actions.push(Action::Click {
                                index,
                                add: add_modifier,
                            });
                        }
                    });
                });
        });
    built
}

fn row_cells(
    table_row: &mut egui_extras::TableRow<'_, '_>,
    tr: Tr,
    row: &Row,
    now: Instant,
    actions: &mut Vec<Action>,
) {
    let status = row.status();
    let error = row.state.error();
    table_row.col(|ui| {
        let color = status_color(status);
        status_icon(ui, status, color);
        let text = match &row.state {
            RowState::Retrying {
                attempt, of, at, ..
            } => tr.fill(
                T::RetryIn,
                &[
                    ("n", &attempt.to_string()),
                    ("of", &of.to_string()),
                    ("wait", &human_duration(at.saturating_duration_since(now))),
                ],
            ),
            RowState::Connecting {
                waiting: Some(Waiting::PartInUse { part }),
                ..
            } => tr.fill(
                T::WaitingForPart,
                &[(
                    "name",
                    &part
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                )],
            ),
            _ => tr.status(status).to_owned(),
        };
        let response = ui.label(RichText::new(&text).color(color));
        if let Some(error) = &error {
            response.on_hover_text(error);
        }
    });
    table_row.col(|ui| {
        let response = ui.add(egui::Label::new(&row.name).truncate());
        match &error {
            Some(error) => response.on_hover_text(format!("{}\n{error}", row.name)),
            None => response.on_hover_text(&row.name),
        };
    });
    table_row.col(|ui| {
        progress(ui, row);
    });
    table_row.col(|ui| {
        ui.label(size_text(&row.state));
    });
    let (speed, eta) = match &row.state {
        RowState::Running { speed, .. } => (
            format!("{}/s", human_bytes(speed.bytes_per_sec(now) as u64)),
            row.eta(now).map(human_duration).unwrap_or_default(),
        ),
        RowState::Retrying { reason, .. } => (String::new(), reason.clone()),
        _ => (String::new(), String::new()),
    };
    table_row.col(|ui| {
        ui.label(speed);
    });
    table_row.col(|ui| {
        ui.label(eta);
    });
    table_row.col(|ui| {
        if let Some(elapsed) = row.state.elapsed(now) {
            ui.label(human_duration(elapsed));
        }
    });
    table_row.col(|ui| {
        row_buttons(ui, tr, row, actions);
    });
    // The source last: the least needed, so the one that gets cut when room runs out (the
    // whole text is in its tooltip and in the details).
    table_row.col(|ui| {
        let text = redact(&row.text);
        ui.add(egui::Label::new(RichText::new(text.as_ref()).weak()).truncate())
            .on_hover_text(text.as_ref());
    });
}

fn progress(ui: &mut Ui, row: &Row) {
    let bar = match &row.state {
        RowState::Running {
            done,
            total: Some(total),
            ..
        } if *total > 0 => {
            egui::ProgressBar::new((*done as f64 / *total as f64) as f32).show_percentage()
        }
        // Size unknown: an animated bar that says only "working".
        RowState::Running { .. } | RowState::Connecting { .. } => {
            egui::ProgressBar::new(0.0).animate(true)
        }
        RowState::Done { .. } => egui::ProgressBar::new(1.0),
        // Waiting or ended without a file: no bar.
        _ => return,
    };
    ui.add(bar.desired_height(ROW_HEIGHT - 8.0));
}

fn size_text(state: &RowState) -> String {
    match state {
        RowState::Queued | RowState::Connecting { .. } => String::new(),
        RowState::Running {
            done,
            total: Some(total),
            ..
        } => format!("{} / {}", human_bytes(*done), human_bytes(*total)),
        other => human_bytes(other.bytes()),
    }
}

pub(super) fn row_buttons(ui: &mut Ui, tr: Tr, row: &Row, actions: &mut Vec<Action>) {
    let status = row.status();
    if status.is_active() {
        if ui.small_button(tr.get(T::Pause)).clicked() {
            actions.push(Action::Pause(row.id));
        }
        if ui.small_button(tr.get(T::Cancel)).clicked() {
            actions.push(Action::Cancel(row.id));
        }
    }
    let again = if status == Status::Paused {
        T::Resume
    } else {
        T::Retry
    };
    if status.is_retryable() && row.source.is_some() && ui.small_button(tr.get(again)).clicked() {
        actions.push(Action::Retry(row.id));
    }
    if let RowState::Done { path, .. } = &row.state {
        if ui.small_button(tr.get(T::Open)).clicked() {
            actions.push(Action::Open(path.clone()));
        }
        if ui.small_button(tr.get(T::ShowInFolder)).clicked() {
            actions.push(Action::Reveal(path.clone()));
        }
    }
    if ui.small_button(tr.get(T::Remove)).clicked() {
        actions.push(Action::Remove(row.id));
    }
}
