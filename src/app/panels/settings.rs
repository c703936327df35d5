//! The settings panel: caps, timeouts, retries, size limit, what to do when a file exists,
//! language.

use eframe::egui::{self, Ui};

use super::super::Action;
use super::super::HaulApp;
use super::super::i18n::{LanguageChoice, T, Tr};
use super::super::settings::{JOBS_MAX, RETRIES_MAX, TIMEOUT_MAX_SECS};

impl HaulApp {
    pub(super) fn settings_panel(&mut self, ui: &mut Ui, tr: Tr) {
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
}
