//! Certificates in the window: under a row refused for a certificate nothing vouches for, its
//! SHA-256 fingerprint and the two ways to trust exactly it (this download, or every download
//! from its host), in its details and its right-click menu; in Settings, the certificates trusted per host, each with Forget.
//!
//! Owns: drawing these; what trusting does is `app::trust`'s. Must not touch: the rows, the
//! engine.

use eframe::egui::{self, RichText, Ui};

use super::super::Action;
use super::super::i18n::{T, Tr};
use super::super::model::Entry;
use super::super::trust::{refused, shown};

use crate::protocol::HostPin;

/// The two ways to trust a refused row's certificate, then its fingerprint: at the top of the
/// row's details, so both buttons are in view without scrolling the strip.
pub(super) fn refused_row(ui: &mut Ui, tr: Tr, row: &Entry, actions: &mut Vec<Action>) {
    let Some((host, fingerprint)) = refused(&row.state) else {
        return;
    };
    let compare = tr.get(T::TrustCompare);
    ui.horizontal_wrapped(|ui| {
        if ui
            .button(tr.get(T::TrustForItem))
            .on_hover_text(compare)
            .clicked()
        {
            actions.push(Action::TrustCertificate {
                id: row.id,
                fingerprint,
                host: None,
            });
        }
        if ui
            .button(tr.fill(T::TrustForHost, &[("host", host)]))
            .on_hover_text(compare)
            .clicked()
        {
            actions.push(Action::TrustCertificate {
                id: row.id,
                fingerprint,
                host: Some(host.to_owned()),
            });
        }
    });
    ui.horizontal_wrapped(|ui| {
        ui.label(tr.get(T::CertFingerprint)).on_hover_text(compare);
        ui.add(
            egui::Label::new(RichText::new(fingerprint.to_string()).monospace()).selectable(true),
        )
        .on_hover_text(compare);
    });
}

/// The same two ways in a refused row's right-click menu (where the details strip has no
/// room, at the smallest window), the fingerprint on hover.
pub(super) fn menu_entries(ui: &mut Ui, tr: Tr, row: &Entry, actions: &mut Vec<Action>) {
    let Some((host, fingerprint)) = refused(&row.state) else {
        return;
    };
    let hover = format!(
        "{} {}\n{}",
        tr.get(T::CertFingerprint),
        shown(&fingerprint),
        tr.get(T::TrustCompare)
    );
    for (text, host) in [
        (tr.get(T::TrustForItem).to_owned(), None),
        (
            tr.fill(T::TrustForHost, &[("host", host)]),
            Some(host.to_owned()),
        ),
    ] {
        if ui.button(text).on_hover_text(&hover).clicked() {
            actions.push(Action::TrustCertificate {
                id: row.id,
                fingerprint,
                host,
            });
            ui.close();
        }
    }
    ui.separator();
}

/// Settings → Trusted certificates: each host and fingerprint, with Forget (nothing when
/// none is trusted).
pub(super) fn trusted_rows(ui: &mut Ui, tr: Tr, pins: &[HostPin], actions: &mut Vec<Action>) {
    if pins.is_empty() {
        return;
    }
    ui.add_space(6.0);
    ui.strong(tr.get(T::TrustedCerts))
        .on_hover_text(tr.get(T::HelpTrustedCerts));
    for pin in pins {
        ui.horizontal(|ui| {
            ui.label(&pin.host);
            if ui.small_button(tr.get(T::Forget)).clicked() {
                actions.push(Action::ForgetCertificate(pin.clone()));
            }
        });
        ui.add(
            egui::Label::new(RichText::new(shown(&pin.fingerprint)).monospace().small())
                .selectable(true),
        );
    }
}
