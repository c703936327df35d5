//! Windows over the list: About, the quit question, and the overlay while files are dragged in.

use std::path::Path;

use eframe::egui::{self, Color32};

use super::super::Action;
use super::super::i18n::{T, Tr};

/// Which Haul this is: version and commit, licence, and where its files are kept.
pub(super) fn about_window(ctx: &egui::Context, tr: Tr, open: &mut bool, data_dir: Option<&Path>) {
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

pub(super) fn quit_dialog(ctx: &egui::Context, tr: Tr, running: usize, actions: &mut Vec<Action>) {
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
pub(super) fn drop_overlay(ctx: &egui::Context, tr: Tr) {
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
