//! The browser bridge in Settings (aria2's JSON-RPC, for extensions, AriaNg and aria2p): the
//! switch, the port (a port another program holds is said in a sentence, with a free one to
//! use instead), the HTTP and WebSocket addresses and the secret to copy, a new secret, and
//! the web pages let in (AriaNg) besides extensions, one origin a line.
//!
//! Owns: drawing these rows; starting and stopping the server is `app::rpc`'s (it follows the
//! settings). Must not touch: the server, the engine.

use eframe::egui::{self, RichText, Ui};

use super::super::i18n::{T, Tr};
use super::super::rpc::RpcProblem;
use super::super::settings::web_origin;
use super::super::{Action, HaulApp};

/// The lowest port offered (below it a port needs privileges on Unix).
const PORT_MIN: u16 = 1024;

impl HaulApp {
    /// The bridge's rows, under the settings grid. Returns whether a setting changed.
    pub(super) fn rpc_rows(&mut self, ui: &mut Ui, tr: Tr) -> bool {
        ui.add_space(6.0);
        let mut changed = ui
            .checkbox(&mut self.settings.rpc_enabled, tr.get(T::RpcAllow))
            .on_hover_text(tr.get(T::HelpRpc))
            .changed();
        if !self.settings.rpc_enabled {
            return changed;
        }
        ui.horizontal(|ui| {
            let l = ui
                .label(tr.get(T::RpcPort))
                .on_hover_text(tr.get(T::HelpRpcPort));
            changed |= ui
                .add(egui::DragValue::new(&mut self.settings.rpc_port).range(PORT_MIN..=u16::MAX))
                .labelled_by(l.id)
                .on_hover_text(tr.get(T::HelpRpcPort))
                .changed();
        });
        changed |= self.rpc_problem_rows(ui, tr);
        let secret = self.settings.rpc_secret.clone();
        let places = [
            (T::RpcAddress, self.rpc_address()),
            (T::RpcWebSocket, self.rpc_websocket()),
        ];
        for (key, value) in places {
            let Some(value) = value else { continue };
            ui.horizontal(|ui| {
                ui.label(tr.get(key));
                if ui.small_button(tr.get(T::Copy)).clicked() {
                    self.actions.push(Action::Copy(value.clone()));
                }
            });
            ui.add(egui::Label::new(RichText::new(value).monospace()).selectable(true));
        }
        if !secret.is_empty() {
            ui.horizontal(|ui| {
                ui.label(tr.get(T::RpcSecret));
                if ui.small_button(tr.get(T::Copy)).clicked() {
                    self.actions.push(Action::Copy(secret.clone()));
                }
                if ui
                    .small_button(tr.get(T::RpcRenew))
                    .on_hover_text(tr.get(T::HelpRpcRenew))
                    .clicked()
                {
                    // A secret that cannot be made keeps the old one (and says so).
                    match crate::rpc::generated_secret() {
                        Ok(new) => self.settings.rpc_secret = new,
                        Err(e) => self.rpc_problem = Some(RpcProblem::Other(e.to_string())),
                    }
                    changed = true;
                }
            });
            ui.add(egui::Label::new(RichText::new(&secret).monospace()).selectable(true));
        }
        changed |= self.web_page_rows(ui, tr);
        changed
    }

    /// Why the server does not run; for a port in use, a free one to use instead.
    fn rpc_problem_rows(&mut self, ui: &mut Ui, tr: Tr) -> bool {
        let Some(problem) = self.rpc_problem.clone() else {
            return false;
        };
        let color = ui.visuals().error_fg_color;
        match problem {
            RpcProblem::Busy { port, free, .. } => {
                let said = tr.fill(T::RpcPortBusy, &[("port", &port.to_string())]);
                ui.label(RichText::new(said).color(color));
                if let Some(free) = free
                    && ui
                        .button(tr.fill(T::RpcUsePort, &[("port", &free.to_string())]))
                        .clicked()
                {
                    self.settings.rpc_port = free;
                    return true;
                }
            }
            RpcProblem::Other(why) => {
                ui.label(RichText::new(tr.fill(T::RpcProblem, &[("why", &why)])).color(color));
            }
        }
        false
    }

    /// "Let web pages in (AriaNg…)" and the origins let in, a line each; a line that is not
    /// an origin is named in red (and not let in).
    fn web_page_rows(&mut self, ui: &mut Ui, tr: Tr) -> bool {
        let s = &mut self.settings;
        let mut changed = ui
            .checkbox(&mut s.rpc_pages, tr.get(T::RpcPages))
            .on_hover_text(tr.get(T::HelpRpcPages))
            .changed();
        if !s.rpc_pages {
            return changed;
        }
        let l = ui
            .label(tr.get(T::RpcOrigins))
            .on_hover_text(tr.get(T::HelpRpcPages));
        changed |= ui
            .add(
                egui::TextEdit::multiline(&mut s.rpc_origins)
                    .id_salt("rpc-origins")
                    .hint_text("https://ariang.example")
                    .desired_rows(2)
                    .desired_width(ui.available_width()),
            )
            .labelled_by(l.id)
            .changed();
        let color = ui.visuals().error_fg_color;
        for line in s.rpc_origins.lines().filter(|l| !l.trim().is_empty()) {
            if let Err(bad) = web_origin(line) {
                let said = tr.fill(T::RpcOriginBad, &[("origin", &bad)]);
                ui.label(RichText::new(said).color(color));
            }
        }
        changed
    }
}
