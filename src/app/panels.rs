//! Drawing: one small function per panel. Drawing only reads state, edits the window's own
//! text fields and settings, and pushes [`Action`]s; nothing here talks to the engine.
//! Must not touch: I/O, the engine, the clock beyond reading `Instant::now()` once a frame.

use std::path::Path;
use std::time::{Duration, Instant};

use eframe::egui::{self, Color32, RichText, Ui};
use egui_extras::{Column, TableBuilder};

use super::i18n::{LanguageChoice, T, Tr};
use super::model::{Model, Row, RowState, Status};
use super::settings::{JOBS_MAX, RETRIES_MAX, TIMEOUT_MAX_SECS};
use super::{Action, HaulApp};
use crate::cli::{human_bytes, human_duration};
use crate::protocol::hex;

/// Height of one list row, in points.
pub const ROW_HEIGHT: f32 = 24.0;
/// The row buttons' column: room for Open, Show in folder and Remove.
const ACTIONS_WIDTH: f32 = 250.0;

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

    fn toolbar(&mut self, ui: &mut Ui, tr: Tr) {
        ui.add_space(4.0);
        ui.horizontal(|ui| {
            if ui.button(tr.get(T::AddFiles)).clicked() {
                self.actions.push(Action::PickFiles);
            }
            if ui.button(tr.get(T::ImportList)).clicked() {
                self.actions.push(Action::ImportList);
            }
            ui.separator();
            let label = ui.label(tr.get(T::Destination));
            let dest = ui
                .add(
                    egui::TextEdit::singleline(&mut self.dest_text)
                        .hint_text(tr.get(T::DestinationHint))
                        .desired_width(280.0),
                )
                .labelled_by(label.id);
            if dest.lost_focus() && !self.dest_text.trim().is_empty() {
                let typed = std::path::PathBuf::from(self.dest_text.trim());
                if typed != self.settings.dest {
                    self.actions.push(Action::SetDest(typed));
                }
            }
            if ui.button(tr.get(T::ChooseFolder)).clicked() {
                self.actions.push(Action::PickDest);
            }
            if ui.button(tr.get(T::OpenFolder)).clicked() {
                self.actions.push(Action::OpenDest);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button(tr.get(T::About)).clicked() {
                    self.about_open = true;
                }
                ui.toggle_value(&mut self.settings.show_settings, tr.get(T::Settings));
                ui.toggle_value(&mut self.settings.show_logs, tr.get(T::Logs));
            });
        });
        ui.horizontal(|ui| {
            let button_width = 80.0;
            let edit = egui::TextEdit::multiline(&mut self.add_text)
                .hint_text(tr.get(T::AddBoxHint))
                .desired_rows(3)
                .desired_width(ui.available_width() - button_width - 8.0);
            let response = ui.add(edit);
            let submit_key = response.has_focus()
                && ui.input_mut(|i| i.consume_key(egui::Modifiers::COMMAND, egui::Key::Enter));
            let add = ui
                .add_sized([button_width, 28.0], egui::Button::new(tr.get(T::Add)))
                .clicked();
            if (add || submit_key) && !self.add_text.trim().is_empty() {
                self.actions.push(Action::AddText {
                    text: std::mem::take(&mut self.add_text),
                    origin: "pasted".to_owned(),
                });
            }
        });
        if let Some(path) = &mut self.list_prompt {
            let mut close = false;
            ui.horizontal(|ui| {
                let label = ui.label(tr.get(T::ListPath));
                let edit = ui
                    .add(egui::TextEdit::singleline(path).desired_width(360.0))
                    .labelled_by(label.id);
                let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
                if (ui.button(tr.get(T::Import)).clicked() || enter) && !path.trim().is_empty() {
                    self.actions
                        .push(Action::ImportPath(std::path::PathBuf::from(path.trim())));
                }
                close = ui
                    .small_button("×")
                    .on_hover_text(tr.get(T::Close))
                    .clicked();
            });
            if close {
                self.list_prompt = None;
            }
        }
        if let Some(notice) = &self.notice {
            let mut dismiss = false;
            ui.horizontal(|ui| {
                let color = if notice.is_error {
                    ui.visuals().warn_fg_color
                } else {
                    ui.visuals().text_color()
                };
                ui.label(RichText::new(&notice.text).color(color));
                dismiss = ui
                    .small_button("×")
                    .on_hover_text(tr.get(T::Close))
                    .clicked();
            });
            if dismiss {
                self.notice = None;
            }
        }
        ui.add_space(2.0);
    }

    fn summary_bar(&mut self, ui: &mut Ui, tr: Tr, now: Instant) {
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

    fn settings_panel(&mut self, ui: &mut Ui, tr: Tr) {
        ui.heading(tr.get(T::Settings));
        ui.add_space(4.0);
        let mut changed = false;
        let s = &mut self.settings;
        egui::Grid::new("settings-grid")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                let label = ui.label(tr.get(T::Jobs));
                changed |= ui
                    .add(egui::DragValue::new(&mut s.jobs).range(1..=JOBS_MAX))
                    .labelled_by(label.id)
                    .changed();
                ui.end_row();
                let label = ui.label(tr.get(T::PerHost));
                changed |= ui
                    .add(egui::DragValue::new(&mut s.per_host).range(1..=JOBS_MAX))
                    .labelled_by(label.id)
                    .changed();
                ui.end_row();
                for (key, value, min) in [
                    (T::ConnectTimeout, &mut s.connect_secs, 0.1),
                    (T::StallTimeout, &mut s.stall_secs, 0.1),
                    (T::Deadline, &mut s.deadline_secs, 0.0),
                ] {
                    let label = ui.label(tr.get(key));
                    let unit = tr.get(T::Seconds);
                    let drag = egui::DragValue::new(value)
                        .range(min..=TIMEOUT_MAX_SECS)
                        .speed(0.5)
                        .max_decimals(1);
                    let drag = if key == T::Deadline {
                        // 0 means no deadline: say so instead of "0 s" (a suffix would be
                        // added after "none" too, so the unit goes into the text instead).
                        let none = tr.get(T::NoDeadline);
                        drag.custom_formatter(move |v, _| {
                            if v <= 0.0 {
                                none.to_owned()
                            } else {
                                format!("{v:.1} {unit}")
                            }
                        })
                    } else {
                        drag.suffix(format!(" {unit}"))
                    };
                    changed |= ui.add(drag).labelled_by(label.id).changed();
                    ui.end_row();
                }
                let label = ui.label(tr.get(T::Retries));
                changed |= ui
                    .add(egui::DragValue::new(&mut s.retries).range(0..=RETRIES_MAX))
                    .labelled_by(label.id)
                    .changed();
                ui.end_row();
                let label = ui.label(tr.get(T::MaxSize));
                let none = tr.get(T::NoLimit);
                changed |= ui
                    .add(
                        egui::DragValue::new(&mut s.max_size_mib)
                            .range(0.0..=1024.0 * 1024.0)
                            .speed(1.0)
                            .custom_formatter(move |v, _| {
                                if v <= 0.0 {
                                    none.to_owned()
                                } else {
                                    format!("{v:.0} MiB")
                                }
                            }),
                    )
                    .labelled_by(label.id)
                    .changed();
                ui.end_row();
                ui.label(tr.get(T::WhenExists));
                ui.vertical(|ui| {
                    changed |= ui
                        .radio_value(&mut s.overwrite, false, tr.get(T::NewName))
                        .changed();
                    changed |= ui
                        .radio_value(&mut s.overwrite, true, tr.get(T::Overwrite))
                        .changed();
                });
                ui.end_row();
                let label = ui.label(tr.get(T::Language));
                let name = |choice| match choice {
                    LanguageChoice::System => tr.get(T::LanguageSystem),
                    LanguageChoice::English => "English",
                    LanguageChoice::Chinese => "简体中文",
                };
                egui::ComboBox::from_id_salt("language")
                    .selected_text(name(s.language))
                    .show_ui(ui, |ui| {
                        for choice in [
                            LanguageChoice::System,
                            LanguageChoice::English,
                            LanguageChoice::Chinese,
                        ] {
                            ui.selectable_value(&mut s.language, choice, name(choice));
                        }
                    })
                    .response
                    .labelled_by(label.id);
                ui.end_row();
            });
        if changed {
            self.actions.push(Action::ApplySettings);
        }
    }

    fn log_panel(&mut self, ui: &mut Ui, tr: Tr) {
        ui.label(RichText::new(tr.get(T::LogsTitle)).strong());
        let lines = &self.log_cache.1;
        if lines.is_empty() {
            ui.label(tr.get(T::LogsEmpty));
            return;
        }
        egui::ScrollArea::vertical()
            .stick_to_bottom(true)
            .auto_shrink(false)
            .show(ui, |ui| {
                for line in lines {
                    let color = if line.level == tracing::Level::ERROR {
                        ui.visuals().error_fg_color
                    } else {
                        ui.visuals().warn_fg_color
                    };
                    let (h, m, s) = ((line.at / 3600) % 24, (line.at / 60) % 60, line.at % 60);
                    ui.label(
                        RichText::new(format!(
                            "{h:02}:{m:02}:{s:02} UTC  {:<5} {}: {}",
                            line.level, line.target, line.message
                        ))
                        .monospace()
                        .color(color),
                    );
                }
            });
    }
}

/// `42 items: 30 done, …`
pub fn summary_counts(tr: Tr, model: &Model) -> String {
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
pub fn summary_times(tr: Tr, model: &Model, now: Instant) -> Option<String> {
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
fn list(ui: &mut Ui, tr: Tr, model: &mut Model, now: Instant, actions: &mut Vec<Action>) -> usize {
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
            _ => tr.status(status).to_owned(),
        };
        let response = ui.label(RichText::new(text).color(color));
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
        ui.add(egui::Label::new(RichText::new(&row.text).weak()).truncate())
            .on_hover_text(&row.text);
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

fn row_buttons(ui: &mut Ui, tr: Tr, row: &Row, actions: &mut Vec<Action>) {
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

/// The selected row in full: source, where it went, its digest, why it failed.
fn details(ui: &mut Ui, tr: Tr, row: &Row, actions: &mut Vec<Action>) {
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
            ui.add(egui::Label::new(&row.text).selectable(true));
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
                ui.add(egui::Label::new(RichText::new(hex(sha256)).monospace()).selectable(true));
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

/// Which Haul this is: version and commit, licence, and where its files are kept.
fn about_window(ctx: &egui::Context, tr: Tr, open: &mut bool, data_dir: Option<&Path>) {
    let mut close = false;
    egui::Window::new(tr.get(T::About))
        .id(egui::Id::unique("about"))
        .open(open)
        .collapsible(false)
        .resizable(false)
        .pivot(egui::Align2::CENTER_CENTER)
        .default_pos(ctx.content_rect().center())
        .show(ctx, |ui| {
            ui.heading(tr.get(T::AppTitle));
            ui.label(tr.get(T::AboutTagline));
            ui.add_space(6.0);
            let version = tr.fill(T::AboutVersion, &[("version", crate::version::LONG)]);
            ui.add(egui::Label::new(version).selectable(true));
            ui.label(tr.fill(T::AboutLicense, &[("license", crate::version::LICENSE)]));
            if let Some(dir) = data_dir {
                let text = tr.fill(T::AboutDataDir, &[("path", &dir.display().to_string())]);
                ui.add(egui::Label::new(text).selectable(true));
            }
            ui.add_space(6.0);
            close = ui.button(tr.get(T::Close)).clicked();
        });
    if close {
        *open = false;
    }
}

fn quit_dialog(ctx: &egui::Context, tr: Tr, running: usize, actions: &mut Vec<Action>) {
    let modal = egui::Modal::new(egui::Id::unique("quit-dialog")).show(ctx, |ui| {
        ui.heading(tr.get(T::QuitTitle));
        ui.label(if running == 1 {
            tr.get(T::QuitQuestionOne).to_owned()
        } else {
            tr.fill(T::QuitQuestion, &[("n", &running.to_string())])
        });
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if ui.button(tr.get(T::Quit)).clicked() {
                actions.push(Action::ConfirmQuit);
            }
            if ui.button(tr.get(T::KeepRunning)).clicked() {
                actions.push(Action::DismissQuit);
            }
        });
    });
    if modal.should_close() && !actions.contains(&Action::ConfirmQuit) {
        actions.push(Action::DismissQuit);
    }
}

/// While files are dragged over the window, say that dropping adds them.
fn drop_overlay(ctx: &egui::Context, tr: Tr) {
    if ctx.input(|i| i.raw.hovered_files.is_empty()) {
        return;
    }
    let painter = ctx.layer_painter(egui::LayerId::new(
        egui::Order::Foreground,
        egui::Id::unique("drop-overlay"),
    ));
    let rect = ctx.content_rect();
    painter.rect_filled(rect, 0.0, Color32::from_black_alpha(160));
    painter.text(
        rect.center(),
        egui::Align2::CENTER_CENTER,
        tr.get(T::DropHint),
        egui::FontId::proportional(22.0),
        Color32::WHITE,
    );
}
