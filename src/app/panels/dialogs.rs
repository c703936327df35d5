//! Windows over the list: About, the quit question, the question before partial downloads
//! are deleted, and the overlay while files are dragged in; and the notice's strip (above the
//! summary, never over the list's rows).

use std::path::Path;

use eframe::egui::{self, Color32, RichText};

use super::super::asking::{Confirm, Deleting};
use super::super::i18n::{T, Tr};
use super::super::{Action, Notice};
use crate::human::human_bytes;

/// What the windows over the list show: the notice, the About window, the question before
/// deleting and the quit question, each while open.
#[derive(Default)]
pub(in crate::app) struct Dialogs {
    pub(in crate::app) notice: Option<Notice>,
    pub(in crate::app) about_open: bool,
    /// A question before deleting partial downloads, waiting for its answer.
    pub(in crate::app) confirm: Option<Confirm>,
    pub(in crate::app) quit_asked: bool,
    /// Of the items running when the quit question was asked, those whose server cannot
    /// resume them (the question warns).
    pub(in crate::app) quit_restarting: usize,
}

/// Which Haul this is: version and commit, licence, and where its files are kept. Closed by
/// its own Close button or Esc: egui's title-bar button would tell a screen reader "Close
/// window" in English whatever the window's language (issue 28, item 25).
pub(super) fn about_window(ctx: &egui::Context, tr: Tr, open: &mut bool, data_dir: Option<&Path>) {
    if !*open {
        return;
    }
    let mut close = ctx.input(|i| i.key_pressed(egui::Key::Escape));
    egui::Window::new(tr.get(T::About))
        .id(egui::Id::unique("about"))
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

/// The question before quitting while items run; `restarting` of them cannot be resumed by
/// their server, and the question says so.
pub(super) fn quit_dialog(
    ctx: &egui::Context,
    tr: Tr,
    (running, restarting): (usize, usize),
    actions: &mut Vec<Action>,
) {
    let modal = egui::Modal::new(egui::Id::unique("quit-dialog")).show(ctx, |ui| {
        ui.heading(tr.get(T::QuitTitle));
        ui.label(if running == 1 {
            tr.get(T::QuitQuestionOne).to_owned()
        } else {
            tr.fill(T::QuitQuestion, &[("n", &running.to_string())])
        });
        if restarting > 0 {
            let warning = tr.fill(T::QuitRestarts, &[("items", &tr.items(restarting))]);
            ui.label(RichText::new(warning).color(ui.visuals().warn_fg_color));
        }
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

/// Asks before anything deletes partial downloads, or a pause throws away what a server
/// cannot resume, naming how many and how much.
pub(super) fn confirm_dialog(
    ctx: &egui::Context,
    tr: Tr,
    confirm: &Confirm,
    actions: &mut Vec<Action>,
) {
    if matches!(confirm.what, Deleting::Pause { .. }) {
        return pause_dialog(ctx, tr, confirm, actions);
    }
    let modal = egui::Modal::new(egui::Id::unique("confirm-delete")).show(ctx, |ui| {
        ui.set_max_width(420.0);
        let cancelling = matches!(confirm.what, Deleting::Cancel(_));
        let question = match (&confirm.what, &confirm.name) {
            (Deleting::Cancel(_), Some(name)) => tr.fill(T::ConfirmCancel, &[("name", name)]),
            (Deleting::Cancel(_), None) => {
                tr.fill(T::ConfirmCancelAll, &[("items", &tr.items(confirm.rows))])
            }
            (Deleting::Remove(_) | Deleting::Pause { .. }, _) => {
                tr.fill(T::ConfirmRemove, &[("items", &tr.items(confirm.rows))])
            }
        };
        ui.heading(question);
        let size = human_bytes(confirm.bytes);
        ui.label(if confirm.parts == 1 {
            tr.fill(T::ConfirmDeletePart, &[("size", &size)])
        } else {
            tr.fill(
                T::ConfirmDeleteParts,
                &[("parts", &tr.items(confirm.parts)), ("size", &size)],
            )
        });
        // What the person may want instead: Pause keeps the bytes; finished files stay.
        ui.label(tr.get(if cancelling {
            T::ConfirmPauseInstead
        } else {
            T::ConfirmFinishedKept
        }));
        ui.add_space(8.0);
        let (keep, delete) = if cancelling {
            (T::ConfirmDontCancel, T::ConfirmCancelDelete)
        } else {
            (T::ConfirmDontRemove, T::ConfirmRemoveDelete)
        };
        ui.horizontal(|ui| {
            if ui.button(tr.get(keep)).clicked() {
                actions.push(Action::DismissConfirm);
            }
            let delete = RichText::new(tr.get(delete)).color(ui.visuals().error_fg_color);
            if ui.button(delete).clicked() {
                actions.push(Action::ConfirmDelete);
            }
        });
    });
    if modal.should_close() && !actions.contains(&Action::ConfirmDelete) {
        actions.push(Action::DismissConfirm);
    }
}

/// Asks before pausing downloads whose server cannot resume them: the bytes so far would be
/// downloaded again.
fn pause_dialog(ctx: &egui::Context, tr: Tr, confirm: &Confirm, actions: &mut Vec<Action>) {
    let modal = egui::Modal::new(egui::Id::unique("confirm-pause")).show(ctx, |ui| {
        ui.set_max_width(420.0);
        ui.heading(match &confirm.name {
            Some(name) => tr.fill(T::ConfirmPause, &[("name", name)]),
            None => tr.fill(T::ConfirmPauseAll, &[("items", &tr.items(confirm.rows))]),
        });
        let size = human_bytes(confirm.bytes);
        ui.label(if confirm.parts == 1 {
            tr.fill(T::PauseRestarts, &[("size", &size)])
        } else {
            tr.fill(
                T::PauseRestartsMany,
                &[("parts", &tr.items(confirm.parts)), ("size", &size)],
            )
        });
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if ui.button(tr.get(T::KeepDownloading)).clicked() {
                actions.push(Action::DismissConfirm);
            }
            let pause = RichText::new(tr.get(T::PauseAnyway)).color(ui.visuals().warn_fg_color);
            if ui.button(pause).clicked() {
                actions.push(Action::ConfirmDelete);
            }
        });
    });
    if modal.should_close() && !actions.contains(&Action::ConfirmDelete) {
        actions.push(Action::DismissConfirm);
    }
}

/// The notice, in its strip above the summary, its close button first (always in reach,
/// whatever the text's length); true when it was closed.
pub(super) fn notice_bar(ui: &mut egui::Ui, tr: Tr, notice: &Notice) -> bool {
    ui.horizontal(|ui| {
        let close = ui
            .small_button("×")
            .on_hover_text(tr.get(T::Close))
            .clicked();
        let color = if notice.is_error {
            ui.visuals().warn_fg_color
        } else {
            ui.visuals().text_color()
        };
        ui.add(egui::Label::new(RichText::new(&notice.text).color(color)).wrap());
        close
    })
    .inner
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
