//! Sources as the engine takes them: [`Source`] (parsed once at the edge), why a line is not
//! one ([`SourceError`]), and the SHA-256 an item must match ([`Checksum`]).
//!
//! Owns: parsing a line into a source. Must not touch: I/O.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use url::Url;

use super::{hex, redact};
/// What to fetch. Built only through [`Source::parse`], so an invalid source never reaches the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A URL whose scheme is in [`SCHEMES`](super::SCHEMES) (`http`, `https`, `ftp`,
    /// `ftps`): [`Source::scheme`] says which protocol fetches it.
    Url(Url),
    /// A local file (from a plain path or a `file://` URL), made absolute.
    File(PathBuf),
}

/// Why a line could not become a [`Source`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum SourceError {
    #[error("empty source")]
    Empty,
    #[error("unsupported scheme '{0}'")]
    UnsupportedScheme(String),
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    #[error("URL has no host")]
    NoHost,
    #[error("file URL does not name a local path")]
    BadFileUrl,
    #[error("bad checksum '{0}': expected sha-256=HEX (or sha256:HEX) with 64 hex digits")]
    BadChecksum(String),
    /// A line of this many bytes, longer than any web address or path is
    /// ([`MAX_SOURCE_LEN`](crate::sources::MAX_SOURCE_LEN)): not read as one.
    #[error("{0} bytes: too long to be a web address or a path")]
    TooLong(usize),
}

/// A SHA-256 digest: the one an item must match before it is renamed into place, and the
/// one a finished file has. Shown and serialised as 64 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Checksum(pub [u8; 32]);

impl fmt::Debug for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Checksum({self})")
    }
}

impl Serialize for Checksum {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Checksum {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Checksum::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("expected 64 hex digits (a SHA-256)"))
    }
}

impl Checksum {
    /// From 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Option<Checksum> {
        let text = text.trim();
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Checksum(out))
    }

    /// The one reader of a tagged SHA-256, however it is spelled: aria2's `sha-256=HEX`
    /// (lists, the RPC, the form), `sha256:HEX` (`haul-cli --checksum`), `sha256=HEX` (a URL
    /// fragment), in either case. Errors: [`SourceError::BadChecksum`] naming the text (an
    /// algorithm other than SHA-256, or not 64 hex digits).
    pub fn parse_tagged(text: &str) -> Result<Checksum, SourceError> {
        let text = text.trim();
        let bad = || SourceError::BadChecksum(text.to_owned());
        let (algo, hex) = text.split_once(['=', ':']).ok_or_else(bad)?;
        if !matches!(algo.to_ascii_lowercase().as_str(), "sha-256" | "sha256") {
            return Err(bad());
        }
        Checksum::from_hex(hex).ok_or_else(bad)
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex(&self.0))
    }
}

impl Source {
    /// Parses one user-given line: a URL of a scheme in [`SCHEMES`](super::SCHEMES), a `file://` URL or a local path.
    /// Relative paths are resolved against `base` (normally the current directory).
    /// A URL may end in `#sha256=HEX`: the fragment is checked and stripped here (take it
    /// with [`Source::parse_with_checksum`]).
    pub fn parse(input: &str, base: &Path) -> Result<Source, SourceError> {
        Source::parse_with_checksum(input, base).map(|(source, _)| source)
    }

    /// Like [`Source::parse`], also returning the checksum a `#sha256=HEX` fragment gives.
    pub fn parse_with_checksum(
        input: &str,
        base: &Path,
    ) -> Result<(Source, Option<Checksum>), SourceError> {
        let (source, fragment) = Source::parse_plain(input, base)?;
        match (source, fragment) {
            (Source::Url(mut url), Some(fragment)) if fragment.starts_with("sha256=") => {
                let checksum = Checksum::parse_tagged(&fragment)?;
                url.set_fragment(None);
                Ok((Source::Url(url), Some(checksum)))
            }
            (source, _) => Ok((source, None)),
        }
    }

    fn parse_plain(input: &str, base: &Path) -> Result<(Source, Option<String>), SourceError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(SourceError::Empty);
        }
        match scheme_of(text) {
            Some(scheme) => {
                let url = Url::parse(text).map_err(|e| SourceError::InvalidUrl(e.to_string()))?;
                match scheme.as_str() {
                    known if let Some(row) = super::scheme(known) => {
                        if row.host && url.host_str().is_none_or(str::is_empty) {
                            return Err(SourceError::NoHost);
                        }
                        let fragment = url.fragment().map(str::to_owned);
                        Ok((Source::Url(url), fragment))
                    }
                    "file" if !reachable_file_host(&url) => Err(SourceError::BadFileUrl),
                    "file" => url
                        .to_file_path()
                        .map(|path| (Source::File(path), None))
                        .map_err(|()| SourceError::BadFileUrl),
                    _ => Err(SourceError::UnsupportedScheme(scheme)),
                }
            }
            None if text.contains("://") => Err(SourceError::InvalidUrl(format!(
                "'{}' is not a valid scheme",
                text.split("://").next().unwrap_or_default()
            ))),
            None => {
                let path = Path::new(text);
                let path = if path.is_absolute() {
                    path.to_path_buf()
                } else {
                    base.join(path)
                };
                Ok((Source::File(path), None))
            }
        }
    }

    /// The key that the per-host cap counts by; `None` for local files (only the global cap applies).
    pub fn host_key(&self) -> Option<String> {
        match self {
            Source::Url(_) if self.scheme().is_some_and(|s| !s.host) => None,
            Source::Url(url) => Some(format!(
                "{}:{}",
                url.host_str().unwrap_or_default(),
                url.port()
                    .or_else(|| self.scheme().map(|s| s.default_port))
                    .unwrap_or_default()
            )),
            Source::File(_) => None,
        }
    }

    /// The scheme of a URL source (and so the protocol that fetches it); `None` for a local
    /// file.
    pub fn scheme(&self) -> Option<&'static super::Scheme> {
        match self {
            Source::Url(url) => super::scheme(url.scheme()),
            Source::File(_) => None,
        }
    }
}

/// For people and logs: a password in the URL is shown as `***` (see [`redact`]).
impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Url(url) => f.write_str(&redact(url.as_str())),
            Source::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Whether a `file:` URL's host can be reached as a path: no host (`file:///…`, and
/// `localhost`, which the URL parser drops), or on Windows a UNC share `\\host\share\…`
/// (a host and at least a share's name). `file://host/x` without a share is no path anywhere
/// (and `Url::to_file_path` asserts in debug builds that what it makes is absolute, which
/// `\\host\x` is not).
fn reachable_file_host(url: &Url) -> bool {
    match url.host_str() {
        None | Some("") => true,
        Some(_) if cfg!(windows) => url.path_segments().is_some_and(|mut segments| {
            segments.next().is_some_and(|share| !share.is_empty()) && segments.next().is_some()
        }),
        Some(_) => false,
    }
}

/// The lowercased scheme of `text` if it starts like a URL (`scheme:`), else `None`.
/// A single letter followed by `:` is a Windows drive (`C:\x`), not a scheme.
fn scheme_of(text: &str) -> Option<String> {
    let colon = text.find(':')?;
    let scheme = &text[..colon];
    let mut chars = scheme.chars();
    let first = chars.next()?;
    let valid = first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (valid && scheme.len() > 1).then(|| scheme.to_ascii_lowercase())
}
