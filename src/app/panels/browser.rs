//! Settings → Browser integration: what Haul's browser extension needs, and the button that
//! installs (or removes) Haul's browser host for this user — the same code as
//! `haul-cli --install-browser-host`, run by the desktop wing.
//! Must not touch: the disk (the desktop's chore writes the manifests).

use eframe::egui::Ui;

use super::super::i18n::{T, Tr};
use super::super::{Action, HaulApp};

impl HaulApp {
    pub(super) fn browser_rows(&mut self, ui: &mut Ui, tr: Tr) {
        // A title as the other sections have, and the buttons wrapping: a heading and two
        // buttons on one line widened the panel, and the list dropped four columns.
        ui.add_space(8.0);
        ui.strong(tr.get(T::BrowserTitle));
        ui.label(tr.get(T::HelpBrowser));
        ui.horizontal_wrapped(|ui| {
            if ui.button(tr.get(T::BrowserInstall)).clicked() {
                self.actions.push(Action::BrowserHost { install: true });
            }
            if ui.button(tr.get(T::BrowserRemove)).clicked() {
                self.actions.push(Action::BrowserHost { install: false });
            }
        });
    }

    /// What the install or removal did, as a notice.
    pub(in crate::app) fn browser_host_done(
        &mut self,
        install: bool,
        result: Result<Vec<String>, String>,
    ) {
        let tr = self.tr();
        match result {
            Ok(done) if done.is_empty() => self.info_notice(tr.get(T::BrowserNothing).to_owned()),
            Ok(done) => {
                let key = if install {
                    T::BrowserInstalled
                } else {
                    T::BrowserRemoved
                };
                self.info_notice(tr.fill(key, &[("list", &done.join("\n"))]));
            }
            Err(why) => self.error_notice(tr.fill(T::BrowserFailed, &[("why", &why)])),
        }
    }
}
