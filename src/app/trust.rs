//! Trusting a server's certificate from the window, as a person decides it: a row refused for
//! a certificate nothing vouches for shows that certificate's SHA-256 fingerprint, and
//! "trust this certificate" pins exactly it — for that download (its `trust-certificate`
//! option, saved with the queue) or for every download from its host (the settings' trusted
//! certificates, sent to the engine). Never "trust everything": another certificate is
//! refused again, with its own fingerprint.
//!
//! Owns: what trusting and forgetting do to rows, settings and the engine. Must not touch:
//! drawing (`panels::trust`), checking certificates (the engine's `fetch::trust`).

use super::HaulApp;
use crate::protocol::{Command, FetchError, Fingerprint, HostPin, JobId};
use crate::session::State;

/// The certificate a failed row was refused for: its host and fingerprint.
pub fn refused(state: &State) -> Option<(&str, Fingerprint)> {
    match state {
        State::Failed { error, .. } => match &**error {
            FetchError::Untrusted {
                host, fingerprint, ..
            } => Some((host.as_str(), *fingerprint)),
            _ => None,
        },
        _ => None,
    }
}

impl HaulApp {
    /// Trusts `fingerprint` for row `id` only, or (with `host`) for every download from that
    /// host; then tries again the rows refused for that certificate that it now lets in.
    pub(super) fn trust_certificate(
        &mut self,
        id: JobId,
        fingerprint: Fingerprint,
        host: Option<String>,
    ) {
        let retry: Vec<JobId> = match host {
            Some(host) => {
                let pin = HostPin { host, fingerprint };
                if !self.settings.trusted_certificates.contains(&pin) {
                    self.settings.trusted_certificates.push(pin.clone());
                }
                self.send_host_pins();
                self.model
                    .rows()
                    .iter()
                    .filter(|r| {
                        refused(&r.state).is_some_and(|(h, f)| {
                            f == fingerprint && h.eq_ignore_ascii_case(&pin.host)
                        })
                    })
                    .map(|r| r.id)
                    .collect()
            }
            None => {
                let Some(row) = self.model.row(id) else {
                    return;
                };
                let mut options = (*row.options).clone();
                if !options.trust.pinned.contains(&fingerprint) {
                    options.trust.pinned.push(fingerprint);
                }
                let Some(edit) = row.edited(options) else {
                    return;
                };
                self.model.edit(id, edit);
                self.save(id);
                vec![id]
            }
        };
        self.resume_rows(&retry);
    }

    /// Forgets the certificate trusted for a host (Settings → Trusted certificates).
    pub(super) fn forget_certificate(&mut self, pin: &HostPin) {
        self.settings.trusted_certificates.retain(|p| p != pin);
        self.send_host_pins();
    }

    /// The engine checks with the hosts' certificates the settings trust.
    pub(super) fn send_host_pins(&self) {
        self.engine.send(Command::SetHostPins(
            self.settings.trusted_certificates.clone(),
        ));
    }
}

/// The fingerprint as people compare it: the colon-separated hex, in two lines of 16 pairs.
pub fn shown(fingerprint: &Fingerprint) -> String {
    let text = fingerprint.to_string();
    // 16 pairs and their colons: 47 characters, then the colon between the halves.
    match (text.get(..47), text.get(48..)) {
        (Some(first), Some(second)) => format!("{first}\n{second}"),
        _ => text,
    }
}
