//! The activity panel: what happened to the items (done, failed and why, cancelled, paused),
//! with Haul's own warnings and errors among them, newest last, each with how long ago; its
//! lines are saved with the settings, so the last session's are there after a restart.

use std::collections::VecDeque;
use std::time::{Duration, SystemTime};

use eframe::egui::{self, RichText, Ui};

use super::super::i18n::{T, Tr};
use super::super::{Activity, HaulApp};
use crate::desktop::logs::LogLine;

/// Lines the activity panel keeps.
const ACTIVITY_KEEP: usize = 500;

/// Where its lines are kept across restarts, beside the settings.
pub(in crate::app) const STORAGE_KEY: &str = "haul-activity";

/// The activity panel's own state: what happened, newest last, and the warnings last read
/// from the logs (with the logs' generation they were read at).
pub(in crate::app) struct ActivityPanel {
    pub(in crate::app) lines: VecDeque<Activity>,
    pub(in crate::app) log_cache: (u64, Vec<LogLine>),
}

impl Default for ActivityPanel {
    fn default() -> Self {
        ActivityPanel {
            lines: VecDeque::new(),
            log_cache: (u64::MAX, Vec::new()),
        }
    }
}

impl ActivityPanel {
    /// Adds a line, written now; the oldest goes once the panel holds its most.
    pub(in crate::app) fn push(&mut self, text: String, is_error: bool) {
        let at = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if self.lines.len() == ACTIVITY_KEEP {
            self.lines.pop_front();
        }
        self.lines.push_back(Activity { at, text, is_error });
    }
}

impl HaulApp {
    pub(super) fn log_panel(&mut self, ui: &mut Ui, tr: Tr) {
        ui.label(RichText::new(tr.get(T::LogsTitle)).strong());
        // (when, text, is_error, from the log): the items' activity and the warnings, in time
        // order.
        let mut lines: Vec<(u64, &str, bool, bool)> = self
            .activity()
            .map(|a| (a.at, a.text.as_str(), a.is_error, false))
            .chain(
                self.activity
                    .log_cache
                    .1
                    .iter()
                    .map(|l| (l.at, l.message.as_str(), true, true)),
            )
            .collect();
        lines.sort_by_key(|(at, ..)| *at);
        if lines.is_empty() {
            ui.label(tr.get(T::LogsEmpty));
            return;
        }
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        egui::ScrollArea::vertical()
            .stick_to_bottom(true)
            .auto_shrink(false)
            .show(ui, |ui| {
                for (at, text, is_error, from_log) in lines {
                    let age = tr.fill(
                        T::Ago,
                        &[(
                            "time",
                            &tr.duration(Duration::from_secs(now.saturating_sub(at))),
                        )],
                    );
                    ui.horizontal(|ui| {
                        ui.label(RichText::new(age).weak());
                        // A warning is the log's own text (English, as a bug report needs
                        // it): said so, so in Chinese it is not taken for a window left
                        // untranslated.
                        if from_log {
                            ui.label(RichText::new(tr.get(T::LogsFromLog)).weak().italics());
                        }
                        let text = RichText::new(text);
                        ui.label(if is_error {
                            text.color(ui.visuals().warn_fg_color)
                        } else {
                            text
                        });
                    });
                }
            });
    }
}
