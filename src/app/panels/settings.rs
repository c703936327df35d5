//! The settings panel: downloads at once, connections per server, timeouts, retries, a time
//! and a size limit, what to do when a file exists (keep both, overwrite, skip), the proxy
//! (`network`), language and appearance, and BitTorrent's listening port and DHT and trackers
//! switches (librqbit has no peer exchange switch, so none is shown). Every label has
//! hover help; counts and timeouts are framed number fields, the limits text fields that take
//! `500M`, `2G` or `none` and say when what was typed is not one.

use eframe::egui::{self, Color32, RichText, Ui};

use super::super::i18n::{LanguageChoice, T, Tr};
use super::super::settings::{
    JOBS_MAX, RETRIES_MAX, SPLIT_MAX, Settings, TIMEOUT_MAX_SECS, ThemeChoice,
};
use super::super::{Action, HaulApp};
use crate::protocol::ProxyChoice;

/// The settings panel's own state: the limits and the manual proxy as typed (a field is
/// applied to the settings once what it holds is valid).
pub(in crate::app) struct SettingsPanel {
    /// The size limit and deadline fields' text (`500M`, `none`).
    pub(in crate::app) max_size_text: String,
    pub(in crate::app) deadline_text: String,
    /// The manual proxy's address and exceptions as typed.
    pub(in crate::app) proxy_text: String,
    pub(in crate::app) noproxy_text: String,
    /// A manual proxy chosen whose address is not typed yet (or not valid).
    pub(in crate::app) proxy_manual: bool,
    /// BitTorrent's listening port as typed (empty: any free port).
    pub(in crate::app) listen_port_text: String,
}

impl SettingsPanel {
    pub(in crate::app) fn new(settings: &Settings) -> Self {
        let manual = match &settings.proxy {
            ProxyChoice::Manual(m) => Some(m),
            _ => None,
        };
        SettingsPanel {
            max_size_text: settings.max_size_text(),
            deadline_text: settings.deadline_text(),
            proxy_text: manual.map(|m| m.url.clone()).unwrap_or_default(),
            noproxy_text: manual
                .map_or_else(|| "localhost, 127.0.0.1".to_owned(), |m| m.no_proxy.clone()),
            proxy_manual: manual.is_some(),
            listen_port_text: match settings.bt_listen_port {
                0 => String::new(),
                port => port.to_string(),
            },
        }
    }
}

/// A label with its help on hover (and the help as its accessible description).
fn label(ui: &mut Ui, tr: Tr, key: T, help: T) -> egui::Response {
    ui.label(tr.get(key)).on_hover_text(tr.get(help))
}

/// A text field for a limit, red while what was typed is not valid.
/// A limit typed as text. "No limit" is shown in the window's language (a Chinese window
/// showed `none`), also after a switch of language, unless the person is typing in it. An
/// invalid entry turns red and shows `example` under it.
pub(super) fn limit_field(
    ui: &mut Ui,
    salt: &str,
    text: &mut String,
    valid: bool,
    none: &str,
    example: &str,
) -> egui::Response {
    let id = ui.make_persistent_id(salt);
    let typing = ui.memory(|m| m.has_focus(id));
    if !typing && NONE_WORDS.contains(&text.trim()) && text.as_str() != none {
        none.clone_into(text);
    }
    // Empty, it shows its example whole (it was cut to "e.g. 2M (p…"; issue 28, item 24).
    let width = if text.is_empty() {
        let font = egui::TextStyle::Body.resolve(ui.style());
        let hint = ui
            .painter()
            .layout_no_wrap(example.to_owned(), font, Color32::GRAY);
        (hint.size().x + 24.0).clamp(90.0, 260.0)
    } else {
        90.0
    };
    let mut edit = egui::TextEdit::singleline(text)
        .id_salt(salt)
        .hint_text(example)
        .desired_width(width);
    if !valid {
        edit = edit.text_color(ui.visuals().error_fg_color);
    }
    let response = ui.vertical(|ui| {
        let response = ui.add(edit);
        if !valid {
            let color = ui.visuals().error_fg_color;
            ui.label(RichText::new(example).color(color));
        }
        response
    });
    response.inner
}

/// "No limit" in each language a limit field may hold.
const NONE_WORDS: [&str; 3] = ["none", "无", "無"];

impl HaulApp {
    pub(super) fn settings_panel(&mut self, ui: &mut Ui, tr: Tr) {
        ui.heading(tr.get(T::Settings));
        ui.add_space(4.0);
        let mut changed = false;
        let none = tr.get(T::NoLimit);
        let s = &mut self.settings;
        let (max_size_text, deadline_text) = (
            &mut self.settings_panel.max_size_text,
            &mut self.settings_panel.deadline_text,
        );
        let (proxy_text, noproxy_text, proxy_manual) = (
            &mut self.settings_panel.proxy_text,
            &mut self.settings_panel.noproxy_text,
            &mut self.settings_panel.proxy_manual,
        );
        egui::Grid::new("settings-grid")
            .num_columns(2)
            .spacing([8.0, 6.0])
            .show(ui, |ui| {
                let l = label(ui, tr, T::Jobs, T::HelpJobs);
                changed |= ui
                    .add(egui::DragValue::new(&mut s.jobs).range(1..=JOBS_MAX))
                    .labelled_by(l.id)
                    .on_hover_text(tr.get(T::HelpJobs))
                    .changed();
                ui.end_row();
                let l = label(ui, tr, T::PerHost, T::HelpPerHost);
                changed |= ui
                    .add(egui::DragValue::new(&mut s.per_host).range(1..=JOBS_MAX))
                    .labelled_by(l.id)
                    .on_hover_text(tr.get(T::HelpPerHost))
                    .changed();
                ui.end_row();
                let l = label(ui, tr, T::Split, T::HelpSplit);
                changed |= ui
                    .add(egui::DragValue::new(&mut s.split).range(1..=SPLIT_MAX))
                    .labelled_by(l.id)
                    .on_hover_text(tr.get(T::HelpSplit))
                    .changed();
                ui.end_row();
                let unit = tr.get(T::Seconds);
                for (key, help, value) in [
                    (T::ConnectTimeout, T::HelpConnect, &mut s.connect_secs),
                    (T::StallTimeout, T::HelpStall, &mut s.stall_secs),
                ] {
                    let l = label(ui, tr, key, help);
                    let drag = egui::DragValue::new(value)
                        .range(0.1..=TIMEOUT_MAX_SECS)
                        .speed(0.5)
                        .max_decimals(1)
                        .suffix(format!(" {unit}"));
                    changed |= ui
                        .add(drag)
                        .labelled_by(l.id)
                        .on_hover_text(tr.get(help))
                        .changed();
                    ui.end_row();
                }
                let l = label(ui, tr, T::Deadline, T::HelpDeadline);
                let valid = s.clone().set_deadline_text(deadline_text, none);
                let example = tr.get(T::DeadlineExample);
                let field = limit_field(ui, "deadline", deadline_text, valid, none, example)
                    .labelled_by(l.id)
                    .on_hover_text(tr.get(T::HelpDeadline));
                if field.changed() && s.set_deadline_text(deadline_text, none) {
                    changed = true;
                }
                ui.end_row();
                let l = label(ui, tr, T::Retries, T::HelpRetries);
                changed |= ui
                    .add(egui::DragValue::new(&mut s.retries).range(0..=RETRIES_MAX))
                    .labelled_by(l.id)
                    .on_hover_text(tr.get(T::HelpRetries))
                    .changed();
                ui.end_row();
                let l = label(ui, tr, T::MaxSize, T::HelpMaxSize);
                let valid = s.clone().set_max_size_text(max_size_text, none);
                let example = tr.get(T::SizeExample);
                let field = limit_field(ui, "max-size", max_size_text, valid, none, example)
                    .labelled_by(l.id)
                    .on_hover_text(tr.get(T::HelpMaxSize));
                if field.changed() && s.set_max_size_text(max_size_text, none) {
                    changed = true;
                }
                ui.end_row();
                label(ui, tr, T::WhenExists, T::HelpWhenExists);
                ui.vertical(|ui| {
                    // (overwrite, skip_existing)
                    let mut policy = (s.overwrite && !s.skip_existing, s.skip_existing);
                    for (value, key) in [
                        ((false, false), T::NewName),
                        ((true, false), T::Overwrite),
                        ((false, true), T::SkipExisting),
                    ] {
                        changed |= ui.radio_value(&mut policy, value, tr.get(key)).changed();
                    }
                    (s.overwrite, s.skip_existing) = policy;
                });
                ui.end_row();
                changed |= super::network::proxy_row(ui, tr, s, proxy_manual);
                let l = ui.label(tr.get(T::Language));
                let name = |choice| match choice {
                    LanguageChoice::System => tr.get(T::LanguageSystem),
                    LanguageChoice::English => "English",
                    LanguageChoice::Chinese => "简体中文",
                    LanguageChoice::ChineseTraditional => "繁體中文",
                };
                egui::ComboBox::from_id_salt("language")
                    .selected_text(name(s.language))
                    .show_ui(ui, |ui| {
                        for choice in LanguageChoice::ALL {
                            changed |= ui
                                .selectable_value(&mut s.language, choice, name(choice))
                                .changed();
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
                let l = label(ui, tr, T::Theme, T::HelpTheme);
                let theme = |choice| match choice {
                    ThemeChoice::System => tr.get(T::ThemeSystem),
                    ThemeChoice::Light => tr.get(T::ThemeLight),
                    ThemeChoice::Dark => tr.get(T::ThemeDark),
                };
                egui::ComboBox::from_id_salt("theme")
                    .selected_text(theme(s.theme))
                    .show_ui(ui, |ui| {
                        for choice in ThemeChoice::ALL {
                            changed |= ui
                                .selectable_value(&mut s.theme, choice, theme(choice))
                                .changed();
                        }
                    })
                    .response
                    .labelled_by(l.id);
                ui.end_row();
            });
        // The manual proxy's fields under the grid, as wide as the panel: an address with a
        // user and port does not fit a grid cell.
        let fields = (proxy_text, noproxy_text, proxy_manual);
        changed |= super::network::manual_proxy_fields(ui, tr, s, fields);
        super::trust::trusted_rows(
            ui,
            tr,
            &self.settings.trusted_certificates,
            &mut self.actions,
        );
        changed |= self.torrent_rows(ui, tr);
        changed |= self.rpc_rows(ui, tr);
        self.browser_rows(ui, tr);
        changed |= self.schedule_rows(ui, tr);
        changed |= self.desktop_rows(ui, tr);
        if changed {
            self.actions.push(Action::ApplySettings);
        }
    }
}

/// A listening port as typed: empty or 0 for any free port; `None` when it is not a port.
fn port_from_text(text: &str) -> Option<u16> {
    let text = text.trim();
    if text.is_empty() {
        return Some(0);
    }
    text.parse().ok()
}

impl HaulApp {
    /// The BitTorrent section: the listening port, the DHT and trackers switches (each the
    /// option table's `listen-port`, `enable-dht`, `bt-enable-trackers`); true when a
    /// setting changed.
    fn torrent_rows(&mut self, ui: &mut Ui, tr: Tr) -> bool {
        ui.add_space(8.0);
        ui.strong(tr.get(T::BtTitle));
        let s = &mut self.settings;
        let text = &mut self.settings_panel.listen_port_text;
        let mut changed = false;
        ui.horizontal(|ui| {
            let l = label(ui, tr, T::BtPort, T::HelpBtPort);
            let parsed = port_from_text(text);
            let any = tr.get(T::BtPortAny);
            let field = limit_field(ui, "listen-port", text, parsed.is_some(), "", any)
                .labelled_by(l.id)
                .on_hover_text(tr.get(T::HelpBtPort));
            if field.changed()
                && let Some(port) = port_from_text(text)
                && port != s.bt_listen_port
            {
                s.bt_listen_port = port;
                changed = true;
            }
        });
        changed |= ui
            .checkbox(&mut s.bt_dht, tr.get(T::BtDht))
            .on_hover_text(tr.get(T::HelpBtDht))
            .changed();
        changed |= ui
            .checkbox(&mut s.bt_trackers, tr.get(T::BtTrackers))
            .on_hover_text(tr.get(T::HelpBtTrackers))
            .changed();
        changed
    }
}
