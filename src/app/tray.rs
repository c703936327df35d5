//! The tray icon from the window's side: putting it up while "keep Haul in the tray" is on,
//! keeping its tooltip (the total speed) and menu current, acting on its commands, and hiding
//! the window instead of closing it.
//!
//! Owns: when the icon is up and when the close button hides the window. Must not touch:
//! D-Bus (`desktop::tray`), drawing.

use std::time::Instant;

use eframe::egui;

use super::i18n::T;
use super::{Action, HaulApp};
use crate::desktop::tray::{Tray, TrayCommand, TrayIcon, TrayState, TrayStatus};
use crate::protocol::Status;

/// The tray's image: the app icon, small.
fn icon() -> TrayIcon {
    match eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icon-64.png")) {
        Ok(icon) => TrayIcon {
            width: icon.width,
            height: icon.height,
            rgba: icon.rgba,
        },
        Err(e) => {
            tracing::warn!("tray icon unusable: {e}");
            TrayIcon {
                width: 0,
                height: 0,
                rgba: Vec::new(),
            }
        }
    }
}

impl HaulApp {
    /// What the tray shows now, in the window's language.
    fn tray_state(&self, now: Instant) -> TrayState {
        let tr = self.tr();
        let working = self.model.working();
        let tooltip = match (working, self.model.current_speed(now)) {
            (0, _) => tr.get(T::TrayIdle).to_owned(),
            (n, speed) => tr.fill(
                T::TrayBusy,
                &[
                    (
                        "speed",
                        &crate::human::human_bytes(speed.unwrap_or(0.0) as u64),
                    ),
                    ("n", &n.to_string()),
                ],
            ),
        };
        TrayState {
            tooltip,
            show: tr.get(T::TrayShow).to_owned(),
            pause_all: tr.get(T::PauseAll).to_owned(),
            resume_all: tr.get(T::ResumeAll).to_owned(),
            quit: tr.get(T::Quit).to_owned(),
            can_pause: self.model.active() > 0,
            can_resume: self.model.count(Status::Paused) > 0,
        }
    }

    /// Puts the icon up or takes it down to follow the setting, keeps it current, and acts on
    /// what was chosen in it.
    pub(super) fn tray_pass(&mut self, ctx: &egui::Context) {
        let now = Instant::now();
        // A setting brought from a platform with a tray means nothing where there is none.
        let wanted = self.settings.close_to_tray && crate::desktop::tray::BUILT;
        match (wanted, &self.desk.tray) {
            (true, None) => {
                let tray = self.desktop.tray(self.tray_state(now), icon());
                self.desk.tray = Some(tray);
            }
            (false, Some(_)) => self.desk.tray = None,
            _ => {}
        }
        let Some(tray) = &self.desk.tray else {
            return;
        };
        tray.set(self.tray_state(now));
        let commands: Vec<TrayCommand> = std::iter::from_fn(|| tray.try_command()).collect();
        for command in commands {
            match command {
                TrayCommand::Show => self.bring_to_front(ctx),
                TrayCommand::PauseAll => self.actions.push(Action::PauseAll),
                TrayCommand::ResumeAll => self.actions.push(Action::ResumeAll),
                TrayCommand::Quit => {
                    // The window comes back to quit: it asks first while downloads run.
                    self.desk.quitting = true;
                    self.bring_to_front(ctx);
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
        }
    }

    /// The icon's state, while "keep Haul in the tray" is on.
    pub fn tray_status(&self) -> Option<TrayStatus> {
        self.desk.tray.as_ref().map(Tray::status)
    }

    /// The close button hides the window to the tray while the icon is up (not when quitting
    /// from the tray or after the quit question). True when it did.
    pub(super) fn close_to_tray(&mut self, ctx: &egui::Context) -> bool {
        let hide = ctx.input(|i| i.viewport().close_requested())
            && !self.quit_confirmed
            && !std::mem::take(&mut self.desk.quitting)
            && self.tray_status() == Some(TrayStatus::Shown);
        if hide {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            ctx.send_viewport_cmd(egui::ViewportCommand::Visible(false));
            self.desk.hidden = true;
        }
        hide
    }

    /// Whether the window is hidden in the tray.
    pub fn hidden_in_tray(&self) -> bool {
        self.desk.hidden
    }

    /// Shows the window in front: out of the tray, not minimised, focused (the tray's Show,
    /// and a later launch handing its sources over).
    pub(super) fn bring_to_front(&mut self, ctx: &egui::Context) {
        self.desk.hidden = false;
        ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(false));
        ctx.send_viewport_cmd(egui::ViewportCommand::Visible(true));
        ctx.send_viewport_cmd(egui::ViewportCommand::Focus);
    }
}
