//! The log panel: recent warnings and errors.

use eframe::egui::{self, RichText, Ui};

use super::super::HaulApp;
use super::super::i18n::{T, Tr};

impl HaulApp {
    pub(super) fn log_panel(&mut self, ui: &mut Ui, tr: Tr) {
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
