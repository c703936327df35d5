//! Which URL schemes Haul fetches, and over which protocol: the one table that
//! [`Source::parse`](super::Source::parse), the clipboard offer, the RPC and the engine's
//! registry of fetchers read. Adding a protocol starts here (see "To add a protocol" in
//! docs/ARCHITECTURE.md).
//!
//! Owns: the scheme names and their protocols, as data. Must not touch: I/O, the engine (the
//! engine registers one fetcher per [`Protocol`]; the compiler holds that none is missing).

/// A protocol the engine has a fetcher for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// HTTP/1.1 (RFC 9110, 9112), over TLS for `https`.
    Http,
    /// FTP (RFC 959, 3659), over explicit TLS (`AUTH TLS`, RFC 4217) for `ftps`.
    Ftp,
    /// BitTorrent (BEP 3), from a magnet link (BEP 9: the metadata comes from the peers).
    /// `.torrent` files are [`Source::File`](super::Source::File)s read as torrents.
    Torrent,
}

/// One URL scheme Haul fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme {
    /// The scheme as written in a URL, lower case (`https`).
    pub name: &'static str,
    pub protocol: Protocol,
    /// The port when the URL names none.
    pub default_port: u16,
    /// Whether the connection is encrypted (a password may travel on it).
    pub tls: bool,
    /// Whether its URLs name a server (a magnet link names a swarm: no host, no per-host cap).
    pub host: bool,
}

/// Every URL scheme Haul fetches (local paths and `file://` are not URLs to fetch: they are
/// [`Source::File`](super::Source::File)).
pub const SCHEMES: &[Scheme] = &[
    Scheme {
        name: "http",
        protocol: Protocol::Http,
        default_port: 80,
        tls: false,
        host: true,
    },
    Scheme {
        name: "https",
        protocol: Protocol::Http,
        default_port: 443,
        tls: true,
        host: true,
    },
    Scheme {
        name: "ftp",
        protocol: Protocol::Ftp,
        default_port: 21,
        tls: false,
        host: true,
    },
    Scheme {
        name: "ftps",
        protocol: Protocol::Ftp,
        default_port: 21,
        tls: true,
        host: true,
    },
    Scheme {
        name: "magnet",
        protocol: Protocol::Torrent,
        // BitTorrent's customary listening port (peers may use any).
        default_port: 6881,
        tls: false,
        host: false,
    },
];

/// The scheme named `name` (any case), if Haul fetches it.
pub fn scheme(name: &str) -> Option<&'static Scheme> {
    SCHEMES.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// The schemes for people: `http, https, ftp, ftps, magnet`.
pub fn scheme_names() -> String {
    SCHEMES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_lower_case_and_unique() {
        for (i, s) in SCHEMES.iter().enumerate() {
            assert_eq!(s.name, s.name.to_ascii_lowercase());
            assert!(SCHEMES[..i].iter().all(|t| t.name != s.name), "{}", s.name);
        }
        assert_eq!(scheme("HTTPS").map(|s| s.protocol), Some(Protocol::Http));
        assert_eq!(scheme("FTPS").map(|s| s.protocol), Some(Protocol::Ftp));
        assert_eq!(scheme("magnet").map(|s| s.host), Some(false));
        assert_eq!(scheme("gopher"), None);
    }
}
