//! The desktop comforts' controls: the Schedule and Desktop sections at the end of Settings
//! (run hours, a speed limit by the clock, when the queue is done; the clipboard offer, the
//! tray, starting at login), and the "when the queue is done" countdown dialog.

use std::time::Instant;

use eframe::egui::{self, RichText, Ui};

use super::super::desk::Countdown;
use super::super::i18n::{T, Tr};
use super::super::schedule::{Clock, Hours, WhenDone};
use super::super::{Action, HaulApp};
use super::settings::limit_field;
use crate::desktop::tray::TrayStatus;

/// A time of day as two framed number fields, `HH` : `MM`, named for a screen reader.
fn clock_field(ui: &mut Ui, tr: Tr, name: &str, clock: &mut Clock) -> bool {
    let (mut hour, mut minute) = (clock.minutes() / 60, clock.minutes() % 60);
    // Two digits need less than a number field's usual width: "from 09:00 to 18:00" then
    // fits the settings panel on one line, also in Chinese.
    ui.spacing_mut().interact_size.x = 26.0;
    let two = |n: f64, _| format!("{n:02.0}");
    // A typed time applies when it is whole (Enter, or the field left): typing "19" applied
    // "1" first, holding or releasing the queue at 01:00 for a moment.
    let h = ui.add(
        egui::DragValue::new(&mut hour)
            .range(0..=23)
            .custom_formatter(two)
            .update_while_editing(false),
    );
    ui.ctx().accesskit_node_builder(h.id, |node| {
        node.set_label(format!("{name} ({})", tr.get(T::ClockHour)));
    });
    ui.label(":");
    let m = ui.add(
        egui::DragValue::new(&mut minute)
            .range(0..=59)
            .custom_formatter(two)
            .update_while_editing(false),
    );
    ui.ctx().accesskit_node_builder(m.id, |node| {
        node.set_label(format!("{name} ({})", tr.get(T::ClockMinute)));
    });
    let changed = h.changed() || m.changed();
    if changed && let Some(new) = Clock::new(hour, minute) {
        *clock = new;
    }
    changed
}

/// `from [HH]:[MM] to [HH]:[MM]`.
fn hours_fields(ui: &mut Ui, tr: Tr, name: &str, hours: &mut Hours) -> bool {
    ui.label(tr.get(T::SchedFrom));
    let from = format!("{name}: {}", tr.get(T::SchedFrom));
    let mut changed = clock_field(ui, tr, &from, &mut hours.from);
    ui.label(tr.get(T::SchedTo));
    let to = format!("{name}: {}", tr.get(T::SchedTo));
    changed |= clock_field(ui, tr, &to, &mut hours.to);
    changed
}

/// Fields under a checkbox, indented, greyed out while it is off.
fn under<R>(ui: &mut Ui, enabled: bool, add: impl FnOnce(&mut Ui) -> R) -> R {
    ui.horizontal(|ui| {
        ui.add_space(18.0);
        // Tight, so "from 09:00 to 18:00" fits the settings panel on one line.
        ui.spacing_mut().item_spacing.x = 3.0;
        ui.add_enabled_ui(enabled, |ui| ui.horizontal_wrapped(add).inner)
            .inner
    })
    .inner
}

fn when_done_word(tr: Tr, when: WhenDone) -> &'static str {
    tr.get(match when {
        WhenDone::Nothing => T::WhenNothing,
        WhenDone::Quit => T::WhenQuit,
        WhenDone::Sleep => T::WhenSleep,
        WhenDone::ShutDown => T::WhenShutDown,
    })
}

impl HaulApp {
    /// The Desktop section: the clipboard offer and its file types, the tray, starting at
    /// login; true when a setting changed.
    pub(super) fn desktop_rows(&mut self, ui: &mut Ui, tr: Tr) -> bool {
        ui.add_space(8.0);
        ui.strong(tr.get(T::DeskTitle));
        let s = &mut self.settings;
        let mut changed = ui
            .checkbox(&mut s.clipboard_watch, tr.get(T::ClipWatch))
            .on_hover_text(tr.get(T::HelpClipWatch))
            .changed();
        if s.clipboard_watch {
            ui.horizontal(|ui| {
                let label = ui.label(tr.get(T::ClipTypes));
                changed |= ui
                    .add(egui::TextEdit::multiline(&mut s.clipboard_types).desired_rows(2))
                    .labelled_by(label.id)
                    .on_hover_text(tr.get(T::HelpClipWatch))
                    .changed();
            });
        }
        // Offered only where Haul has a tray icon (a setting that does nothing is worse than none).
        if crate::desktop::tray::BUILT {
            changed |= ui
                .checkbox(&mut s.close_to_tray, tr.get(T::CloseToTray))
                .on_hover_text(tr.get(T::HelpCloseToTray))
                .changed();
        }
        if let Some(TrayStatus::Unavailable(why)) = self.tray_status() {
            let color = ui.visuals().warn_fg_color;
            ui.label(RichText::new(tr.get(T::NoTray)).color(color))
                .on_hover_text(why);
        }
        let s = &mut self.settings;
        changed |= ui
            .checkbox(&mut s.start_at_login, tr.get(T::StartAtLogin))
            .on_hover_text(tr.get(T::HelpStartAtLogin))
            .changed();
        changed |= ui
            .checkbox(&mut s.start_minimised, tr.get(T::StartMinimised))
            .changed();
        changed
    }

    /// The Schedule section; true when a setting changed.
    pub(super) fn schedule_rows(&mut self, ui: &mut Ui, tr: Tr) -> bool {
        ui.add_space(8.0);
        ui.strong(tr.get(T::SchedTitle));
        let s = &mut self.settings.schedule;
        let mut changed = ui
            .checkbox(&mut s.run, tr.get(T::SchedRun))
            .on_hover_text(tr.get(T::HelpSchedRun))
            .changed();
        changed |= under(ui, s.run, |ui| {
            hours_fields(ui, tr, tr.get(T::SchedRun), &mut s.run_hours)
        });
        changed |= ui
            .checkbox(&mut s.limit, tr.get(T::SchedLimit))
            .on_hover_text(tr.get(T::HelpSchedLimit))
            .changed();
        changed |= under(ui, s.limit, |ui| {
            hours_fields(ui, tr, tr.get(T::SchedLimit), &mut s.limit_hours)
        });
        changed |= under(ui, s.limit, |ui| {
            let label = ui.label(tr.get(T::SchedRate));
            let text = &mut self.desk.rate_text;
            let valid = crate::human::parse_size(text).is_ok_and(|r| r > 0);
            let example = tr.get(T::RateExample);
            let field = limit_field(ui, "schedule-rate", text, valid, "", example)
                .labelled_by(label.id)
                .on_hover_text(tr.get(T::HelpSchedLimit));
            ui.label("/s");
            // What the field holds after this frame's typing (read before it, "100K" was
            // taken as its "100" a keystroke late: 100 bytes/s).
            let parsed = crate::human::parse_size(text).ok().filter(|&r| r > 0);
            match parsed {
                Some(rate) if field.changed() => {
                    s.limit_rate = rate;
                    true
                }
                _ => false,
            }
        });
        ui.horizontal_wrapped(|ui| {
            let label = ui
                .label(tr.get(T::WhenDone))
                .on_hover_text(tr.get(T::HelpWhenDone));
            egui::ComboBox::from_id_salt("when-done")
                .selected_text(when_done_word(tr, s.when_done))
                .show_ui(ui, |ui| {
                    for when in WhenDone::ALL {
                        changed |= ui
                            .selectable_value(&mut s.when_done, when, when_done_word(tr, when))
                            .changed();
                    }
                })
                .response
                .labelled_by(label.id);
        });
        changed
    }
}

/// "You copied a link: name.zip [Add it] [No]" over the list, until answered.
pub(super) fn offer_bar(ui: &mut Ui, tr: Tr, links: &[String], actions: &mut Vec<Action>) {
    let text = match links {
        [one] => {
            let tail = one.rsplit('/').next().unwrap_or(one);
            let tail = tail.split(['?', '#']).next().unwrap_or(tail);
            let name = percent_encoding::percent_decode_str(tail).decode_utf8_lossy();
            tr.fill(T::ClipOffer, &[("name", &elide(&name, 60))])
        }
        many => tr.fill(T::ClipOfferMany, &[("n", &many.len().to_string())]),
    };
    // The first few in full on hover (a long list would not fit on the screen anyway).
    let mut hover: Vec<String> = links.iter().take(10).map(|l| elide(l, 120)).collect();
    if links.len() > 10 {
        hover.push("…".to_owned());
    }
    ui.horizontal_wrapped(|ui| {
        ui.add(egui::Label::new(RichText::new(text).strong()).truncate())
            .on_hover_text(hover.join("\n"));
        if ui.button(tr.get(T::ClipAdd)).clicked() {
            actions.push(Action::AnswerOffer(true));
        }
        if ui.button(tr.get(T::ClipIgnore)).clicked() {
            actions.push(Action::AnswerOffer(false));
        }
    });
}

/// `text` cut to `max` characters, with `…` when it was longer.
fn elide(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// "All downloads have ended — the computer will shut down in 42 s. [Cancel] [Now]"
pub(super) fn countdown_dialog(
    ctx: &egui::Context,
    tr: Tr,
    countdown: Countdown,
    now: Instant,
    actions: &mut Vec<Action>,
) {
    let secs = countdown.seconds_left(now).to_string();
    let text = tr.fill(
        match countdown.action {
            WhenDone::Sleep => T::CountSleep,
            WhenDone::ShutDown => T::CountShutDown,
            _ => T::CountQuit,
        },
        &[("secs", &secs)],
    );
    let modal = egui::Modal::new(egui::Id::unique("when-done-countdown")).show(ctx, |ui| {
        ui.heading(tr.get(T::CountTitle));
        ui.label(RichText::new(text).size(16.0));
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            if ui.button(tr.get(T::CountCancel)).clicked() {
                actions.push(Action::CancelCountdown);
            }
            if ui.button(tr.get(T::CountNow)).clicked() {
                actions.push(Action::CountdownNow);
            }
        });
    });
    // Esc or a click beside it cancels: never a shut-down by accident.
    if modal.should_close() && !actions.contains(&Action::CountdownNow) {
        actions.push(Action::CancelCountdown);
    }
}
