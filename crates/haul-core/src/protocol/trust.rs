//! Which server certificates an item trusts beyond the system's own authorities: curl's
//! `-k/--insecure` and `--cacert FILE` (aria2's `check-certificate=false` and
//! `ca-certificate`), and one certificate trusted by its SHA-256 fingerprint — for one item
//! ([`Trust::pinned`]) or for every item of one host ([`HostPin`], the window's "trust this
//! certificate for this host").
//!
//! A pinned fingerprint trusts exactly that certificate (the SHA-256 of its DER bytes, as
//! `openssl x509 -fingerprint -sha256` and browsers show it), not its issuer and not any
//! other certificate the host may show later: a server that changes its certificate is
//! refused again, with the new fingerprint.
//!
//! Owns: these types, reading and showing a fingerprint. Must not touch: I/O (the engine reads
//! a `--cacert` file and checks certificates).

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// The SHA-256 of a certificate's DER bytes. Shown as 32 upper-case hex pairs joined by
/// colons (`AB:CD:…`), as browsers and openssl show it; read with or without the colons, in
/// either case, after an optional `sha256:`, `sha-256=` or `sha256=`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    /// Reads a fingerprint as people paste it. Errors: a sentence saying what it must look
    /// like.
    pub fn parse(text: &str) -> Result<Fingerprint, String> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        let bare = ["sha256:", "sha-256=", "sha256=", "sha-256:"]
            .iter()
            .find_map(|tag| lower.strip_prefix(tag))
            .unwrap_or(&lower);
        let digits: String = bare.chars().filter(|c| *c != ':').collect();
        let bad = || {
            format!(
                "'{text}' is not a SHA-256 fingerprint: expected 64 hex digits, with or \
                 without colons (AB:CD:…)"
            )
        };
        if digits.len() != 64 || !digits.is_ascii() {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Fingerprint(out))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Fingerprint::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// How one item's server certificates are checked, beyond the system's authorities (which
/// are always asked first). The default trusts only those.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct Trust {
    /// Any certificate is accepted (curl's `-k/--insecure`, aria2's
    /// `check-certificate=false`): the connection is encrypted but the server unproven.
    pub insecure: bool,
    /// Certificate authorities (a PEM file) trusted besides the system's (curl's `--cacert`,
    /// aria2's `ca-certificate`), as an absolute path.
    pub ca_file: Option<PathBuf>,
    /// Certificates trusted by fingerprint, whoever signed them (Haul's `trust-certificate`;
    /// the window's "trust this certificate" for one item).
    pub pinned: Vec<Fingerprint>,
}

impl Trust {
    /// Whether this is the default: only the system's authorities.
    pub fn is_default(&self) -> bool {
        *self == Trust::default()
    }
}

/// One certificate trusted for every item of one host (the window's "trust this certificate
/// for this host"), kept with the settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HostPin {
    /// The host name (or IP address) as the URL gives it, without the port.
    pub host: String,
    pub fingerprint: Fingerprint,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_reads_as_people_paste_it_and_shows_as_browsers_do() {
        let hex = "ab".repeat(32);
        let fp = Fingerprint::parse(&hex).expect("bare hex");
        assert_eq!(fp.to_string(), ["AB"; 32].join(":"));
        assert_eq!(Fingerprint::parse(&fp.to_string()), Ok(fp));
        assert_eq!(Fingerprint::parse(&format!("sha256:{hex}")), Ok(fp));
        assert_eq!(Fingerprint::parse(&format!("SHA-256={}", fp)), Ok(fp));
        assert!(Fingerprint::parse("ab:cd").is_err());
        assert!(Fingerprint::parse(&"zz".repeat(32)).is_err());
        let json = serde_json::to_string(&fp).expect("json");
        assert_eq!(serde_json::from_str::<Fingerprint>(&json).ok(), Some(fp));
    }
}
