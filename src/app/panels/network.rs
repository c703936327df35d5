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

/// The proxy row of the settings grid: none, the system's, or one typed (`manual` stays true
/// while the typed one is not valid yet). Returns whether `settings.proxy` changed.
pub(super) fn proxy_row(ui: &mut Ui, tr: Tr, settings: &mut Settings, manual: &mut bool) -> bool {
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
        Mode::Manual => {} // applied by the fields once they read as a proxy
    }
    settings.proxy != before
}

/// The typed proxy's address and exceptions, under the grid, when "This proxy…" is chosen.
/// `fields`: the typed address, the typed exceptions, and whether manual is chosen. Returns
/// whether `settings.proxy` changed.
pub(super) fn manual_proxy_fields(
    ui: &mut Ui,
    tr: Tr,
    settings: &mut Settings,
    fields: (&mut String, &mut String, &mut bool),
) -> bool {
    let (address, exceptions, manual) = fields;
    if !*manual {
        return false;
    }
    let before = settings.proxy.clone();
    ui.add_space(4.0);
    let l = ui.label(tr.get(T::ProxyAddress));
    let problem = (!address.trim().is_empty())
        .then(|| ManualProxy::parse(address, exceptions).err())
        .flatten();
    let mut edit = egui::TextEdit::singleline(address)
        .id_salt("proxy-address")
        .hint_text("socks5h://127.0.0.1:1080")
        .desired_width(ui.available_width());
    if problem.is_some() {
        edit = edit.text_color(ui.visuals().error_fg_color);
    }
    ui.add(edit).labelled_by(l.id);
    if let Some(problem) = &problem {
        let color = ui.visuals().error_fg_color;
        ui.label(RichText::new(problem).color(color));
    }
    let l = ui
        .label(tr.get(T::ProxyExceptions))
        .on_hover_text(tr.get(T::HelpProxyExceptions));
    ui.add(
        egui::TextEdit::singleline(exceptions)
            .id_salt("proxy-exceptions")
            .desired_width(ui.available_width()),
    )
    .labelled_by(l.id);
    if let Ok(proxy) = ManualProxy::parse(address, exceptions) {
        settings.proxy = ProxyChoice::Manual(proxy);
    }
    settings.proxy != before
}
