//! Options as people give them — the indented `name=value` lines of a list in aria2's
//! input-file format, `haul-cli`'s flags, the RPC's `addUri` options and `changeOption`, the
//! window's options form and its settings — read by one table ([`table`]) and finished by one
//! function ([`Given::finish`]) into what the engine takes: a destination, [`ItemOptions`]
//! and a checksum.
//!
//! Owns: which names exist (the table), what each value must look like, the error that names a
//! bad one, the per-item values back as text ([`Given::values`], for `getOption` and the
//! form), layering flags under a list's own lines ([`Given::over`]), the global options over
//! [`Limits`] and [`Output`] ([`global_value`], [`set_global`]), and the one rule for paths
//! named in options (below). Must not touch: I/O (a cookies file named by `load-cookies` is
//! read by the engine when the item starts, or by `haul-cli` before the batch), the engine.
//!
//! # Paths named in options
//! One rule, wherever the option was given ([`Place`]): a relative path (`load-cookies`,
//! `ca-certificate`) is taken from the same folder as a relative source on the same line — the
//! working directory for a command line, a paste, a typed line or the form; a list imported in
//! the window, its own folder; the destination for the RPC. Over
//! the RPC a path must also stay inside the destination (an RPC client must not make Haul read
//! a file elsewhere and send it to a server). `dir` is always a folder inside the destination.

pub mod table;

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use crate::protocol::{
    self, Checksum, Credentials, Header, ItemOptions, Limits, Output, Quality, SubLangs,
};
pub use table::{JOBS_MAX, Kind, OPTIONS, Places, RETRIES_MAX, SPLIT_MAX, Scope, Spec, spec};

/// The options given for one item, before [`Given::finish`] resolves paths and credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Given {
    /// What the engine takes (credentials only once both parts are known: see [`Given::finish`]).
    pub options: ItemOptions,
    /// A folder inside the destination, relative, already checked not to leave it.
    pub dir: Option<PathBuf>,
    pub checksum: Option<Checksum>,
    /// A cookies file to read, as given (see the rule for paths above).
    pub load_cookies: Option<PathBuf>,
    /// Certificate authorities to trust (`ca-certificate`), as given (the same rule).
    pub ca_certificate: Option<PathBuf>,
    user: Option<String>,
    password: Option<String>,
}

/// Why an option was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionError {
    #[error("unknown option '{0}' (known: {known})", known = item_names().join(", "))]
    Unknown(String),
    #[error("option '{name}' is set for all downloads, not for one ({hint})")]
    NotPerItem { name: String, hint: &'static str },
    #[error("option '{name}': {reason}")]
    Bad { name: String, reason: String },
}

/// The per-item option names, in table order.
pub fn item_names() -> Vec<&'static str> {
    table::item_options().map(|s| s.name).collect()
}

/// Where options were given: what a relative path in them is taken from, and where paths
/// must stay (see the rule above).
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// The folder relative sources on the same line are taken from.
    pub base: &'a Path,
    /// Over the RPC, the destination: a path outside it is refused.
    pub inside: Option<&'a Path>,
}

impl Place<'_> {
    /// The path a file-valued option names, by the one rule: relative paths from `base`,
    /// and over the RPC only inside the destination. Errors: a path outside it, naming the
    /// option.
    pub fn path(&self, option: &str, file: &Path) -> Result<PathBuf, OptionError> {
        let path = if file.is_absolute() {
            file.to_path_buf()
        } else {
            self.base.join(file)
        };
        if let Some(root) = self.inside
            && !lexically_inside(&path, root)
        {
            return Err(OptionError::Bad {
                name: option.to_owned(),
                reason: format!(
                    "'{}' is outside the destination folder; over the RPC a file must be \
                     inside it",
                    path.display()
                ),
            });
        }
        Ok(path)
    }
}

/// What the engine takes for one item, once its options are finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The folder its file goes to: the destination, or `dir` inside it.
    pub dest: PathBuf,
    pub options: ItemOptions,
    pub checksum: Option<Checksum>,
}

impl Given {
    /// Sets one per-item option from its name in the table (or an alias) and its value
    /// (`header` adds; the others replace). Errors: [`OptionError::Unknown`] for a name not in
    /// the table, [`OptionError::NotPerItem`] for a global one, [`OptionError::Bad`] for a
    /// value that does not fit (a header without a colon, a `dir` that leaves the
    /// destination, a checksum that is not SHA-256, a count out of bounds…).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), OptionError> {
        let Some(spec) = spec(name) else {
            return Err(OptionError::Unknown(name.to_owned()));
        };
        if !spec.scope.item() {
            return Err(OptionError::NotPerItem {
                name: name.to_owned(),
                hint: "give it on the command line or in Settings",
            });
        }
        let bad = |reason: String| OptionError::Bad {
            name: name.to_owned(),
            reason,
        };
        let value = value.trim();
        let text = |v: &str| {
            if v.chars().any(char::is_control) {
                Err(bad("has a line break or a control character".to_owned()))
            } else {
                Ok(v.to_owned())
            }
        };
        let request = &mut self.options.request;
        match spec.name {
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
            "referer" => request.referer = Some(text(value)?),
            "user-agent" => request.user_agent = Some(text(value)?),
            "checksum" => {
                let sum = Checksum::parse_tagged(value).map_err(|e| bad(e.to_string()))?;
                self.checksum = Some(sum);
            }
            "split" => {
                let n = count(spec, value).map_err(bad)?;
                self.options.split = Some(usize::try_from(n).unwrap_or(usize::MAX));
            }
            "max-download-limit" => self.options.max_rate = rate(value).map_err(bad)?,
            "quality" => self.options.quality = Some(Quality::parse(value).map_err(bad)?),
            "duration" => self.options.duration = seconds(value, false).map_err(bad)?,
            "sub-langs" => self.options.sub_langs = SubLangs::parse(value).map_err(bad)?,
            "select-file" => {
                self.options.torrent.select = Some(protocol::parse_select(value).map_err(bad)?);
            }
            "seed-ratio" => {
                self.options.torrent.seed_ratio = Some(protocol::Ratio::parse(value).map_err(bad)?);
            }
            "seed-time" => {
                self.options.torrent.seed_time =
                    Some(protocol::parse_seed_time(value).map_err(bad)?);
            }
            "follow-torrent" => self.options.torrent.no_follow = !switch(value).map_err(bad)?,
            "bt-tracker" => {
                let trackers: Vec<String> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(text)
                    .collect::<Result<_, _>>()?;
                self.options.torrent.trackers = trackers;
            }
            "http-user" => self.user = Some(text(value)?),
            "http-passwd" => self.password = Some(text(value)?),
            "load-cookies" => {
                if value.is_empty() {
                    return Err(bad("no file named".to_owned()));
                }
                self.load_cookies = Some(PathBuf::from(value));
            }
            "check-certificate" => self.options.trust.insecure = !switch(value).map_err(bad)?,
            "ca-certificate" => {
                if value.is_empty() {
                    return Err(bad("no file named".to_owned()));
                }
                self.ca_certificate = Some(PathBuf::from(value));
            }
            "trust-certificate" => {
                let fingerprint = crate::protocol::Fingerprint::parse(value).map_err(bad)?;
                if !self.options.trust.pinned.contains(&fingerprint) {
                    self.options.trust.pinned.push(fingerprint);
                }
            }
            other => unreachable_row(other),
        }
        Ok(())
    }

    /// The per-item options set, as text that [`Given::set`] reads back, in table order
    /// (`header` once per header; `http-passwd` never: it is a secret). Credentials count
    /// whether given as options or already finished.
    pub fn values(&self) -> Vec<(&'static str, String)> {
        let o = &self.options;
        let r = &o.request;
        let mut out = Vec::new();
        for spec in table::item_options() {
            let mut push = |v: Option<String>| {
                if let Some(v) = v {
                    out.push((spec.name, v));
                }
            };
            match spec.name {
                "out" => push(o.out.clone()),
                "dir" => push(self.dir.as_ref().map(|d| d.display().to_string())),
                "header" => {
                    for h in &r.headers {
                        push(Some(format!("{}: {}", h.name, h.value)));
                    }
                }
                "referer" => push(r.referer.clone()),
                "user-agent" => push(r.user_agent.clone()),
                "http-user" => push(
                    self.user
                        .clone()
                        .or_else(|| r.credentials.as_ref().map(|c| c.user.clone())),
                ),
                "http-passwd" => {}
                "load-cookies" => push(
                    self.load_cookies
                        .as_ref()
                        .or(r.cookies_file.as_ref())
                        .map(|p| p.display().to_string()),
                ),
                "check-certificate" => push(o.trust.insecure.then(|| "false".to_owned())),
                "ca-certificate" => push(
                    self.ca_certificate
                        .as_ref()
                        .or(o.trust.ca_file.as_ref())
                        .map(|p| p.display().to_string()),
                ),
                "trust-certificate" => {
                    for fingerprint in &o.trust.pinned {
                        push(Some(fingerprint.to_string()));
                    }
                }
                "checksum" => push(self.checksum.map(|c| format!("sha-256={c}"))),
                "split" => push(o.split.map(|n| n.to_string())),
                "max-download-limit" => push(o.max_rate.map(crate::human::size_for_field)),
                "quality" => push(o.quality.map(|q| q.to_string())),
                "duration" => push(o.duration.map(secs_text)),
                "sub-langs" => {
                    push((o.sub_langs != SubLangs::None).then(|| o.sub_langs.to_string()))
                }
                "select-file" => push(o.torrent.select.as_deref().map(protocol::select_text)),
                "seed-ratio" => push(o.torrent.seed_ratio.map(|r| r.to_string())),
                "seed-time" => push(
                    o.torrent
                        .seed_time
                        .map(|t| format!("{}", t.as_secs_f64() / 60.0)),
                ),
                "follow-torrent" => push(o.torrent.no_follow.then(|| "false".to_owned())),
                "bt-tracker" => {
                    push((!o.torrent.trackers.is_empty()).then(|| o.torrent.trackers.join(",")));
                }
                other => unreachable_row(other),
            }
        }
        out
    }

    /// What was given for an item whose options are already finished (`ItemOptions`, its
    /// folder inside the destination, its checksum): the inverse of [`Given::finish`], so the
    /// form, `getOption` and `changeOption` read a download's options back through
    /// [`Given::values`] and change them through [`Given::set`].
    pub fn from_finished(
        options: ItemOptions,
        dir: Option<PathBuf>,
        checksum: Option<Checksum>,
    ) -> Given {
        Given {
            options,
            dir,
            checksum,
            ..Given::default()
        }
    }

    /// `over`'s options on top of these (flags under a list line's own): set values replace,
    /// headers add up.
    pub fn over(&mut self, over: Given) {
        let o = over.options;
        let request = o.request;
        let target = &mut self.options;
        if o.out.is_some() {
            target.out = o.out;
        }
        if o.split.is_some() {
            target.split = o.split;
        }
        if o.max_rate.is_some() {
            target.max_rate = o.max_rate;
        }
        if o.quality.is_some() {
            target.quality = o.quality;
        }
        if o.duration.is_some() {
            target.duration = o.duration;
        }
        if o.sub_langs != SubLangs::None {
            target.sub_langs = o.sub_langs;
        }
        target.request.headers.extend(request.headers);
        if request.referer.is_some() {
            target.request.referer = request.referer;
        }
        if request.user_agent.is_some() {
            target.request.user_agent = request.user_agent;
        }
        if request.credentials.is_some() {
            target.request.credentials = request.credentials;
        }
        if request.cookies.is_some() {
            target.request.cookies = request.cookies;
        }
        if request.cookies_file.is_some() {
            target.request.cookies_file = request.cookies_file;
        }
        target.trust.insecure |= o.trust.insecure;
        if o.trust.ca_file.is_some() {
            target.trust.ca_file = o.trust.ca_file;
        }
        for fingerprint in o.trust.pinned {
            if !target.trust.pinned.contains(&fingerprint) {
                target.trust.pinned.push(fingerprint);
            }
        }
        let (torrent, given) = (&mut target.torrent, o.torrent);
        if given.select.is_some() {
            torrent.select = given.select;
        }
        if given.seed_ratio.is_some() {
            torrent.seed_ratio = given.seed_ratio;
        }
        if given.seed_time.is_some() {
            torrent.seed_time = given.seed_time;
        }
        if !given.trackers.is_empty() {
            torrent.trackers = given.trackers;
        }
        torrent.no_follow |= given.no_follow;
        if over.dir.is_some() {
            self.dir = over.dir;
        }
        if over.checksum.is_some() {
            self.checksum = over.checksum;
        }
        if over.load_cookies.is_some() {
            self.load_cookies = over.load_cookies;
        }
        if over.ca_certificate.is_some() {
            self.ca_certificate = over.ca_certificate;
        }
        if over.user.is_some() {
            self.user = over.user;
        }
        if over.password.is_some() {
            self.password = over.password;
        }
    }

    /// Whether the options hold together (a password needs a user), before
    /// [`Given::finish`]: a list names the line at once. Errors: as [`Given::finish`]'s.
    pub fn check(&self) -> Result<(), OptionError> {
        if self.password.is_some() && self.user.is_none() {
            return Err(OptionError::Bad {
                name: "http-passwd".to_owned(),
                reason: "a password without http-user".to_owned(),
            });
        }
        Ok(())
    }

    /// The one way from what was given to what the engine takes: the destination (`dest`, or
    /// `dir` inside it), credentials from `http-user`/`http-passwd` (a password alone is
    /// refused), and the cookies file by the rule for paths (its absolute path, read by the
    /// engine when the item starts). `checksum` is the line's own (a `#sha256=` fragment, a
    /// SHA256SUMS file) when no option gives one. Errors: a password without a user, a path
    /// outside the destination over the RPC.
    pub fn finish(
        mut self,
        dest: &Path,
        place: Place<'_>,
        checksum: Option<Checksum>,
    ) -> Result<Finished, OptionError> {
        self.check()?;
        if let Some(user) = self.user.take() {
            self.options.request.credentials = Some(Credentials {
                user,
                password: self.password.take().unwrap_or_default(),
            });
        }
        if let Some(file) = self.load_cookies.take() {
            self.options.request.cookies_file = Some(place.path("load-cookies", &file)?);
        }
        if let Some(file) = self.ca_certificate.take() {
            self.options.trust.ca_file = Some(place.path("ca-certificate", &file)?);
        }
        Ok(Finished {
            dest: match &self.dir {
                Some(dir) => dest.join(dir),
                None => dest.to_path_buf(),
            },
            options: self.options,
            checksum: self.checksum.or(checksum),
        })
    }
}

/// A row of the table that the reader above does not know: the table and the readers are
/// kept in step by the tests below, so this is never reached.
fn unreachable_row(name: &str) {
    debug_assert!(false, "option '{name}' has a row but no reader");
}

/// Whether `path` lies inside `root`, by its components (no `..` after the root).
fn lexically_inside(path: &Path, root: &Path) -> bool {
    path.strip_prefix(root).is_ok_and(|rest| {
        rest.components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
    })
}

/// A whole number within the row's bounds.
fn count(spec: &Spec, value: &str) -> Result<u64, String> {
    let Kind::Count { min, max } = spec.kind else {
        return Err(format!("'{value}' is not a number"));
    };
    value
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("'{value}': expected {min} to {max}"))
}

/// A rate: `0` is none.
fn rate(value: &str) -> Result<Option<u64>, String> {
    if value == "0" {
        Ok(None)
    } else {
        crate::human::parse_size(value).map(Some)
    }
}

/// Seconds, decimals allowed; `0` is none where `none` is allowed.
fn seconds(value: &str, none: bool) -> Result<Option<Duration>, String> {
    let secs: f64 = value
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0 && *s <= 1e9)
        .ok_or_else(|| format!("'{value}' is not a number of seconds"))?;
    if secs == 0.0 {
        return if none {
            Ok(None)
        } else {
            Err("must be more than 0 seconds".to_owned())
        };
    }
    Ok(Some(Duration::from_secs_f64(secs)))
}

fn switch(value: &str) -> Result<bool, String> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("'{value}': expected true or false")),
    }
}

fn secs_text(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// A global option's value as text (aria2's `getGlobalOption`; the table's defaults are
/// these of [`Limits::default`] and [`Output::default`]). `None` for a name that is not a
/// global option.
pub fn global_value(limits: &Limits, output: &Output, name: &str) -> Option<String> {
    let spec = spec(name).filter(|s| s.scope.global())?;
    Some(match spec.name {
        "dir" => output.dest.display().to_string(),
        "split" => limits.split.to_string(),
        "max-concurrent-downloads" => limits.jobs.to_string(),
        "max-connection-per-server" => limits.per_host.to_string(),
        "min-split-size" => limits.min_split_size.to_string(),
        "max-overall-download-limit" => limits.max_rate.unwrap_or(0).to_string(),
        "connect-timeout" => secs_text(limits.connect_timeout),
        "timeout" => secs_text(limits.stall_timeout),
        "max-time" => limits.deadline.map_or("0".to_owned(), secs_text),
        "max-tries" => (u64::from(limits.retries) + 1).to_string(),
        "retry-wait" => secs_text(limits.retry_base),
        "max-filesize" => limits.max_size.unwrap_or(0).to_string(),
        "allow-overwrite" => output.overwrite.to_string(),
        "skip-existing" => output.skip_existing.to_string(),
        "content-disposition" => output.content_disposition.to_string(),
        "max-overall-upload-limit" => limits.max_upload_rate.unwrap_or(0).to_string(),
        "listen-port" => limits.listen_port.to_string(),
        "enable-dht" => limits.dht.to_string(),
        "bt-enable-trackers" => limits.trackers.to_string(),
        other => {
            unreachable_row(other);
            return None;
        }
    })
}

/// Sets a global option (aria2's `changeGlobalOption`, `haul-cli`'s flags, the settings).
/// Errors: [`OptionError::Unknown`] for a name that is not a global option, [`OptionError::Bad`]
/// for a value that does not fit.
pub fn set_global(
    limits: &mut Limits,
    output: &mut Output,
    name: &str,
    value: &str,
) -> Result<(), OptionError> {
    let Some(spec) = spec(name).filter(|s| s.scope.global()) else {
        return Err(OptionError::Unknown(name.to_owned()));
    };
    let bad = |reason: String| OptionError::Bad {
        name: name.to_owned(),
        reason,
    };
    let value = value.trim();
    let n = || count(spec, value).map(|n| usize::try_from(n).unwrap_or(usize::MAX));
    match spec.name {
        "dir" => {
            if value.is_empty() {
                return Err(bad("an empty folder".to_owned()));
            }
            output.dest = PathBuf::from(value);
        }
        "split" => limits.split = n().map_err(bad)?,
        "max-concurrent-downloads" => limits.jobs = n().map_err(bad)?,
        "max-connection-per-server" => limits.per_host = n().map_err(bad)?,
        "min-split-size" => limits.min_split_size = crate::human::parse_size(value).map_err(bad)?,
        "max-overall-download-limit" => limits.max_rate = rate(value).map_err(bad)?,
        "connect-timeout" => {
            limits.connect_timeout = seconds(value, false).map_err(bad)?.unwrap_or_default();
        }
        "timeout" => {
            limits.stall_timeout = seconds(value, false).map_err(bad)?.unwrap_or_default();
        }
        "max-time" => limits.deadline = seconds(value, true).map_err(bad)?,
        "max-tries" => {
            limits.retries = u32::try_from(count(spec, value).map_err(bad)? - 1).unwrap_or(0);
        }
        "retry-wait" => limits.retry_base = seconds(value, true).map_err(bad)?.unwrap_or_default(),
        "max-filesize" => limits.max_size = rate(value).map_err(bad)?,
        "allow-overwrite" => output.overwrite = switch(value).map_err(bad)?,
        "skip-existing" => output.skip_existing = switch(value).map_err(bad)?,
        "content-disposition" => output.content_disposition = switch(value).map_err(bad)?,
        "max-overall-upload-limit" => limits.max_upload_rate = rate(value).map_err(bad)?,
        "listen-port" => {
            limits.listen_port = u16::try_from(count(spec, value).map_err(bad)?).unwrap_or(0);
        }
        "enable-dht" => limits.dht = switch(value).map_err(bad)?,
        "bt-enable-trackers" => limits.trackers = switch(value).map_err(bad)?,
        other => unreachable_row(other),
    }
    Ok(())
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
mod tests;
