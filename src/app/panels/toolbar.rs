//! The toolbar: add files, import a list, the panel toggles; the destination (checked when
//! typed, with why it cannot be used); the add box, which scrolls inside a bounded height so
//! a paste of thousands of lines never pushes Add, the list or the summary out of the window.

use eframe::egui::{self, Align, Layout, RichText, Ui};

use super::super::i18n::{T, Tr};
use super::super::settings::Settings;
use super::super::{Action, HaulApp, Notice};

/// The toolbar's own state: the add box, the destination as typed and why it is not used,
/// and the field for a list file's path (shown when no file dialog is available).
#[derive(Default)]
pub(in crate::app) struct Toolbar {
    pub(in crate::app) add_text: String,
    pub(in crate::app) dest_text: String,
    /// Why the destination typed cannot be used (it is not applied), or a remark about it.
    pub(in crate::app) dest_problem: Option<Notice>,
    pub(in crate::app) list_prompt: Option<String>,
}

impl Toolbar {
    pub(in crate::app) fn new(settings: &Settings) -> Self {
        Toolbar {
            dest_text: settings.dest.display().to_string(),
            ..Toolbar::default()
        }
    }
}

/// The add box grows up to this many lines, then scrolls.
const ADD_BOX_LINES: f32 = 4.0;

impl HaulApp {
    pub(super) fn toolbar(&mut self, ui: &mut Ui, tr: Tr) {
        ui.add_space(4.0);
        // Row 1: what adds, and the panels. Wraps rather than overprints when narrow.
        ui.horizontal_wrapped(|ui| {
            if ui.button(tr.get(T::AddFiles)).clicked() {
                self.actions.push(Action::PickFiles);
            }
            if ui.button(tr.get(T::ImportList)).clicked() {
                self.actions.push(Action::ImportList);
            }
            if ui.button(tr.get(T::AddWithOptions)).clicked() {
                self.actions.push(Action::OpenOptions(None));
            }
            ui.separator();
            ui.toggle_value(&mut self.settings.show_settings, tr.get(T::Settings));
            ui.toggle_value(&mut self.settings.show_logs, tr.get(T::Logs));
            if ui.button(tr.get(T::About)).clicked() {
                self.dialogs.about_open = true;
            }
        });
        // Row 2: where files go. The field takes what the buttons leave.
        ui.horizontal(|ui| {
            let label = ui.label(tr.get(T::Destination));
            ui.with_layout(Layout::right_to_left(Align::Center), |ui| {
                if ui.button(tr.get(T::OpenFolder)).clicked() {
                    self.actions.push(Action::OpenDest);
                }
                if ui.button(tr.get(T::ChooseFolder)).clicked() {
                    self.actions.push(Action::PickDest);
                }
                let dest = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.toolbar.dest_text)
                            .hint_text(tr.get(T::DestinationHint))
                            .desired_width(ui.available_width()),
                    )
                    .labelled_by(label.id);
                let typed = std::path::PathBuf::from(self.toolbar.dest_text.trim());
                if dest.lost_focus()
                    && !self.toolbar.dest_text.trim().is_empty()
                    && (typed != self.settings.dest || self.toolbar.dest_problem.is_some())
                {
                    self.actions.push(Action::TypedDest(typed));
                }
            });
        });
        if let Some(problem) = &self.toolbar.dest_problem {
            let color = if problem.is_error {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().weak_text_color()
            };
            // Body size: a person must read where the downloads go.
            ui.add(egui::Label::new(RichText::new(&problem.text).color(color)).wrap());
        }
        // Row 3: the add box, bounded, with Add always in view beside it.
        ui.horizontal(|ui| {
            ui.with_layout(Layout::right_to_left(Align::Min), |ui| {
                let add = ui
                    .add_sized([80.0, 28.0], egui::Button::new(tr.get(T::Add)))
                    .clicked();
                let line = ui.text_style_height(&egui::TextStyle::Body);
                let mut submit_key = false;
                egui::ScrollArea::vertical()
                    .id_salt("add-box")
                    .max_height(line * ADD_BOX_LINES + 12.0)
                    .show(ui, |ui| {
                        ui.with_layout(Layout::top_down(Align::Min), |ui| {
                            let response = ui.add(
                                egui::TextEdit::multiline(&mut self.toolbar.add_text)
                                    .hint_text(tr.get(T::AddBoxHint))
                                    .desired_rows(2)
                                    .desired_width(ui.available_width()),
                            );
                            // Its name for a screen reader (the hint is only a placeholder,
                            // gone once something is typed).
                            let name = tr.get(T::AddBoxName);
                            ui.ctx().accesskit_node_builder(response.id, |node| {
                                node.set_label(name);
                            });
                            submit_key = response.has_focus()
                                && ui.input_mut(|i| {
                                    i.consume_key(egui::Modifiers::COMMAND, egui::Key::Enter)
                                });
                        });
                    });
                if (add || submit_key) && !self.toolbar.add_text.trim().is_empty() {
                    self.actions.push(Action::AddText {
                        text: std::mem::take(&mut self.toolbar.add_text),
                        origin: "pasted".to_owned(),
                        quiet: false,
                    });
                }
            });
        });
        if let Some(path) = &mut self.toolbar.list_prompt {
            let mut close = false;
            ui.horizontal(|ui| {
                let label = ui.label(tr.get(T::ListPath));
                let edit = ui
                    .add(
                        egui::TextEdit::singleline(path)
                            .desired_width((ui.available_width() - 120.0).max(120.0)),
                    )
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
                self.toolbar.list_prompt = None;
            }
        }
        ui.add_space(2.0);
    }
}
