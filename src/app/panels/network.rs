//! The Network rows of the settings panel: the proxy — none, the system's, or one typed
//! (`http://`, `socks5h://`… with `user:password@`), and the hosts reached without it. A
//! typed proxy is applied once it reads as one; until then the field is red and says why.

use eframe::egui::{self, RichText, Ui};

use super::super::i18n::{T, Tr};
use super::super::settings::Settings;
use crate::protocol::{ManualProxy, ProxyChoice};

/// Which of the three the combo box shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    None,
    System,
    Manual,
}

/// Draws the proxy rows into the settings grid. `fields`: the typed address, the typed
/// exceptions, and whether "manual" is chosen (it stays chosen while the address is not yet
/// valid). Returns whether `settings.proxy` changed.
pub(super) fn proxy_rows(
    ui: &mut Ui,
    tr: Tr,
    settings: &mut Settings,
    fields: (&mut String, &mut String, &mut bool),
) -> bool {
    let (address, exceptions, manual) = fields;
    let before = settings.proxy.clone();
    let mut mode = match (&settings.proxy, *manual) {
        (_, true) | (ProxyChoice::Manual(_), _) => Mode::Manual,
        (ProxyChoice::None, _) => Mode::None,
        (ProxyChoice::System, _) => Mode::System,
    };
    let name = |mode| {
        tr.get(match mode {
            Mode::None => T::ProxyNone,
            Mode::System => T::ProxySystem,
            Mode::Manual => T::ProxyManual,
        })
    };
    let l = ui
        .label(tr.get(T::Proxy))
        .on_hover_text(tr.get(T::HelpProxy));
    egui::ComboBox::from_id_salt("proxy")
        .selected_text(name(mode))
        .show_ui(ui, |ui| {
            for choice in [Mode::None, Mode::System, Mode::Manual] {
                ui.selectable_value(&mut mode, choice, name(choice));
            }
        })
        .response
        .labelled_by(l.id);
    ui.end_row();
    *manual = mode == Mode::Manual;
    match mode {
        Mode::None => settings.proxy = ProxyChoice::None,
        Mode::System => settings.proxy = ProxyChoice::System,
        Mode::Manual => {
            let l = ui.label(tr.get(T::ProxyAddress));
            let parsed = ManualProxy::parse(address, exceptions);
            let problem = (!address.trim().is_empty())
                .then(|| parsed.as_ref().err().cloned())
                .flatten();
            ui.vertical(|ui| {
                let mut edit = egui::TextEdit::singleline(address)
                    .id_salt("proxy-address")
                    .hint_text("socks5h://127.0.0.1:1080")
                    .desired_width(220.0);
                if problem.is_some() {
                    edit = edit.text_color(ui.visuals().error_fg_color);
                }
                ui.add(edit).labelled_by(l.id);
                if let Some(problem) = &problem {
                    let color = ui.visuals().error_fg_color;
                    ui.label(RichText::new(problem).color(color));
                }
            });
            ui.end_row();
            let l = ui
                .label(tr.get(T::ProxyExceptions))
                .on_hover_text(tr.get(T::HelpProxyExceptions));
            ui.add(
                egui::TextEdit::singleline(exceptions)
                    .id_salt("proxy-exceptions")
                    .desired_width(220.0),
            )
            .labelled_by(l.id);
            ui.end_row();
            if let Ok(proxy) = ManualProxy::parse(address, exceptions) {
                settings.proxy = ProxyChoice::Manual(proxy);
            }
        }
    }
    settings.proxy != before
}
