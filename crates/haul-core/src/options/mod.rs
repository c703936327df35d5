//! The per-item option table: one reader of aria2's option names for every place a person
//! gives options for one item — the indented `name=value` lines of a list in aria2's
//! input-file format, `haul-cli`'s flags for all items, the window's "Add with options…"
//! dialog (and later the RPC's `addUri`).
//!
//! Owns: which names exist, what each value must look like, and the error that names a bad
//! one. Must not touch: I/O (a cookies file named by `load-cookies` is read by the caller),
//! the engine.
//!
//! | name | value | effect |
//! |---|---|---|
//! | `out` | a file name | the file's name (sanitised as a server's would be) |
//! | `dir` | a relative folder | a folder inside the destination (never outside it) |
//! | `header` | `Name: value` | one more request header (repeatable) |
//! | `referer` | a URL | `Referer` |
//! | `user-agent` | text | `User-Agent` |
//! | `checksum` | `sha-256=HEX` | the SHA-256 the file must have |
//! | `split` | 1–16 | connections for this file |
//! | `max-download-limit` | a rate (`500K`, `2M`; 0: none) | this item's speed limit, bytes/s |
//! | `http-user`, `http-passwd` | text | HTTP Basic credentials |
//! | `load-cookies` | a file | a Netscape cookies file |

use std::path::{Component, Path, PathBuf};

use crate::protocol::{Checksum, Credentials, Header, ItemOptions};

/// The most connections one item may ask for.
pub const SPLIT_MAX: usize = 16;

/// The option names, as aria2 spells them.
pub const NAMES: [&str; 11] = [
    "out",
    "dir",
    "header",
    "referer",
    "user-agent",
    "checksum",
    "split",
    "max-download-limit",
    "http-user",
    "http-passwd",
    "load-cookies",
];

/// The options given for one item, before the caller has resolved what needs I/O.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Given {
    /// What the engine takes (credentials only once both parts are known: see [`Given::finish`]).
    pub options: ItemOptions,
    /// A folder inside the destination, relative, already checked not to leave it.
    pub dir: Option<PathBuf>,
    pub checksum: Option<Checksum>,
    /// A cookies file to read (relative to where the list or command was given).
    pub load_cookies: Option<PathBuf>,
    user: Option<String>,
    password: Option<String>,
}

/// Why an option was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("unknown option '{0}' (known: {known})", known = NAMES.join(", "))]
    Unknown(String),
    #[error("option '{name}': {reason}")]
    Bad { name: String, reason: String },
}

impl Given {
    /// Sets one option from its aria2 name and value (`header` adds; the others replace).
    /// Errors: [`OptionError::Unknown`] for a name not in [`NAMES`], [`OptionError::Bad`] for
    /// a value that does not fit (a header without a colon, a `dir` that leaves the
    /// destination, a checksum that is not SHA-256…).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), OptionError> {
        let bad = |reason: String| OptionError::Bad {
            name: name.to_owned(),
            reason,
        };
        let value = value.trim();
        let no_controls = |v: &str| {
            if v.chars().any(char::is_control) {
                Err(bad("has a line break or a control character".to_owned()))
            } else {
                Ok(v.to_owned())
            }
        };
        let request = &mut self.options.request;
        match name {
            "out" => {
                let clean = crate::names::sanitize(value);
                if value.is_empty() || clean.is_empty() {
                    return Err(bad("an empty file name".to_owned()));
                }
                if value.contains(['/', '\\']) {
                    return Err(bad(format!(
                        "'{value}' is a path; give only a file name (the folder is the \
                         destination, or dir= in a list)"
                    )));
                }
                self.options.out = Some(clean);
            }
            "dir" => self.dir = Some(inside(value).map_err(bad)?),
            "header" => request
                .headers
                .push(Header::parse(value).map_err(|e| bad(e.to_string()))?),
            "referer" => request.referer = Some(no_controls(value)?),
            "user-agent" => request.user_agent = Some(no_controls(value)?),
            "checksum" => {
                let (algo, hex) = value
                    .split_once('=')
                    .ok_or_else(|| bad(format!("'{value}': expected sha-256=HEX")))?;
                if !matches!(algo.to_ascii_lowercase().as_str(), "sha-256" | "sha256") {
                    return Err(bad(format!("'{algo}' is not checked; only sha-256 is")));
                }
                let sum = Checksum::from_hex(hex)
                    .ok_or_else(|| bad("expected 64 hex digits after sha-256=".to_owned()))?;
                self.checksum = Some(sum);
            }
            "split" => {
                let n = value
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=SPLIT_MAX).contains(n))
                    .ok_or_else(|| bad(format!("'{value}': expected 1 to {SPLIT_MAX}")))?;
                self.options.split = Some(n);
            }
            "max-download-limit" => {
                self.options.max_rate = if value == "0" {
                    None
                } else {
                    Some(crate::human::parse_size(value).map_err(bad)?)
                };
            }
            "http-user" => self.user = Some(no_controls(value)?),
            "http-passwd" => self.password = Some(no_controls(value)?),
            "load-cookies" => {
                if value.is_empty() {
                    return Err(bad("no file named".to_owned()));
                }
                self.load_cookies = Some(PathBuf::from(value));
            }
            _ => return Err(OptionError::Unknown(name.to_owned())),
        }
        Ok(())
    }

    /// Credentials from `http-user` and `http-passwd` (a password alone is refused).
    pub fn finish(mut self) -> Result<Given, OptionError> {
        match (self.user.take(), self.password.take()) {
            (Some(user), password) => {
                self.options.request.credentials = Some(Credentials {
                    user,
                    password: password.unwrap_or_default(),
                });
            }
            (None, Some(_)) => {
                return Err(OptionError::Bad {
                    name: "http-passwd".to_owned(),
                    reason: "a password without http-user".to_owned(),
                });
            }
            (None, None) => {}
        }
        Ok(self)
    }
}

/// A `dir` value as a relative path that stays inside the destination: no root, no drive,
/// no `..`. Errors: why not, for a person.
pub fn inside(value: &str) -> Result<PathBuf, String> {
    let path = Path::new(value);
    let mut clean = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(name) => clean.push(name),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "'{value}' leaves the destination folder; give a folder inside it"
                ));
            }
        }
    }
    // A backslash is a separator on Windows: `..\x` must not pass on Unix either.
    if value.split(['/', '\\']).any(|seg| seg == "..") {
        return Err(format!(
            "'{value}' leaves the destination folder; give a folder inside it"
        ));
    }
    if clean.as_os_str().is_empty() {
        return Err("an empty folder".to_owned());
    }
    Ok(clean)
}

/// Whether an indented list line is an option line: `name=value` with a name of letters,
/// digits and `-` (anything else indented is a source, as before).
pub fn option_line(line: &str) -> Option<(&str, &str)> {
    let (name, value) = line.trim().split_once('=')?;
    let is_name = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    is_name.then_some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_in_the_table_is_read() {
        let mut given = Given::default();
        let values = [
            ("out", "a.bin"),
            ("dir", "sub/dir"),
            ("header", "X-A: 1"),
            ("referer", "https://r/"),
            ("user-agent", "Mozilla/5.0"),
            ("checksum", &format!("sha-256={}", "ab".repeat(32))),
            ("split", "8"),
            ("max-download-limit", "500K"),
            ("http-user", "me"),
            ("http-passwd", "pw"),
            ("load-cookies", "c.txt"),
        ];
        assert_eq!(values.len(), NAMES.len());
        for (name, value) in values {
            given
                .set(name, value)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let given = given.finish().expect("complete");
        assert_eq!(given.options.out.as_deref(), Some("a.bin"));
        assert_eq!(given.dir, Some(PathBuf::from("sub/dir")));
        assert_eq!(given.options.split, Some(8));
        assert_eq!(given.options.max_rate, Some(500 * 1024));
        assert_eq!(given.options.request.headers.len(), 1);
        assert_eq!(
            given
                .options
                .request
                .credentials
                .as_ref()
                .map(|c| c.user.as_str()),
            Some("me")
        );
        assert!(given.checksum.is_some() && given.load_cookies.is_some());
    }

    #[test]
    fn bad_values_say_why() {
        let mut given = Given::default();
        let err = |given: &mut Given, name, value| {
            given.set(name, value).expect_err("refused").to_string()
        };
        assert!(err(&mut given, "dir", "../up").contains("leaves the destination"));
        assert!(err(&mut given, "dir", "/etc").contains("leaves the destination"));
        assert!(err(&mut given, "dir", "a/..\\..\\b").contains("leaves the destination"));
        assert!(err(&mut given, "header", "no colon").contains("Name: value"));
        assert!(err(&mut given, "checksum", "md5=abc").contains("only sha-256"));
        assert!(err(&mut given, "split", "99").contains("1 to 16"));
        assert!(err(&mut given, "out", "a/b").contains("only a file name"));
        assert!(err(&mut given, "max-conn", "2").starts_with("unknown option 'max-conn'"));
        let mut lone = Given::default();
        lone.set("http-passwd", "x").expect("set");
        assert!(lone.finish().is_err());
    }

    #[test]
    fn only_name_equals_value_is_an_option_line() {
        assert_eq!(option_line("  out=a.bin"), Some(("out", "a.bin")));
        assert_eq!(option_line("\theader=X: a=b"), Some(("header", "X: a=b")));
        assert_eq!(option_line("  https://h/x?a=b"), None);
        assert_eq!(option_line("  C:\\x=y"), None);
    }
}
