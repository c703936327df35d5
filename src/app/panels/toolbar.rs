//! The toolbar: add files, import a list, the destination, the panel toggles, the add box and
//! the notice line.

use eframe::egui::{self, RichText, Ui};

use super::super::i18n::{T, Tr};
use super::super::{Action, HaulApp};

impl HaulApp {
    pub(super) fn toolbar(&mut self, ui: &mut Ui, tr: Tr) {
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
}
