//! What the window remembers across restarts: destination, caps, timeouts, overwrite,
//! BitTorrent's port and switches, the proxy, certificates trusted per host, the bridge, language, theme, and the list's sort.
//!
//! Owns: the persisted [`Settings`] (every field `#[serde(default)]`, so an older or partial
//! file still loads) and turning them into engine [`Limits`] / [`Output`].
//! Must not touch: egui drawing, I/O (eframe's storage does the reading and writing).

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::i18n::{Lang, LanguageChoice};
use crate::names::legacy_charset_for_locale;
use crate::protocol::{HostPin, Limits, Output, ProxyChoice};

/// The eframe storage key.
pub const STORAGE_KEY: &str = "haul-settings";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Destination folder; empty until chosen (then the default download folder is used).
    pub dest: PathBuf,
    pub jobs: usize,
    pub per_host: usize,
    pub connect_secs: f64,
    pub stall_secs: f64,
    /// Whole-item deadline; 0 means none.
    pub deadline_secs: f64,
    /// Extra tries after a failure worth retrying.
    pub retries: u32,
    /// Items larger than this many MiB fail; 0 means no limit.
    pub max_size_mib: f64,
    /// The download speed of all items together, in bytes/s; 0 means no limit.
    pub max_rate: u64,
    /// Connections per file (1: no splitting).
    pub split: usize,
    /// BitTorrent's listening port (0: any free one), whether it uses the DHT and trackers;
    /// set in the BitTorrent section or over the RPC (`listen-port`, `enable-dht`,
    /// `bt-enable-trackers`), taken when the first torrent starts.
    pub bt_listen_port: u16,
    pub bt_dht: bool,
    pub bt_trackers: bool,
    /// What torrents send, all together, in bytes/s; 0: no limit (set over the RPC).
    pub bt_upload_rate: u64,
    pub overwrite: bool,
    /// Skip an item whose file is already there and complete (wins over `overwrite`).
    pub skip_existing: bool,
    /// The proxy: none, the system's, or one the person named.
    pub proxy: ProxyChoice,
    /// Certificates trusted for every download from their host ("trust this certificate"
    /// on a refused row).
    pub trusted_certificates: Vec<HostPin>,
    /// Serve aria2's JSON-RPC on 127.0.0.1 so browsers and tools can add downloads.
    pub rpc_enabled: bool,
    pub rpc_port: u16,
    /// The token RPC calls must give; made the first time the RPC is turned on.
    pub rpc_secret: String,
    /// Let web pages (AriaNg…) call the RPC from the origins in `rpc_origins` (browser
    /// extensions always may).
    pub rpc_pages: bool,
    /// The web pages let in, one origin a line (`https://ariang.example`).
    pub rpc_origins: String,
    /// The run hours, a speed limit by the clock, and what to do when the queue is done.
    pub schedule: super::schedule::Schedule,
    /// Offer to add a copied link that looks like a download (never adds by itself).
    pub clipboard_watch: bool,
    /// The file types a copied link's name may end in to be offered (`zip iso mp4 …`).
    pub clipboard_types: String,
    /// Closing the window hides it to the tray (where there is one) instead of quitting.
    pub close_to_tray: bool,
    /// Haul is started with the person's session (an autostart entry, a Run key, a
    /// LaunchAgent).
    pub start_at_login: bool,
    /// The window starts minimised (in the tray, when closing to it is on).
    pub start_minimised: bool,
    pub language: LanguageChoice,
    pub theme: ThemeChoice,
    pub show_settings: bool,
    pub show_logs: bool,
}

/// Light, dark, or as the system is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ThemeChoice {
    #[default]
    System,
    Light,
    Dark,
}

impl ThemeChoice {
    pub const ALL: [ThemeChoice; 3] = [ThemeChoice::System, ThemeChoice::Light, ThemeChoice::Dark];

    pub fn preference(self) -> eframe::egui::ThemePreference {
        match self {
            ThemeChoice::System => eframe::egui::ThemePreference::System,
            ThemeChoice::Light => eframe::egui::ThemePreference::Light,
            ThemeChoice::Dark => eframe::egui::ThemePreference::Dark,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        let limits = Limits::default();
        Settings {
            dest: PathBuf::new(),
            jobs: limits.jobs,
            per_host: limits.per_host,
            connect_secs: limits.connect_timeout.as_secs_f64(),
            stall_secs: limits.stall_timeout.as_secs_f64(),
            deadline_secs: 0.0,
            retries: limits.retries,
            max_size_mib: 0.0,
            max_rate: 0,
            split: limits.split,
            bt_listen_port: limits.listen_port,
            bt_dht: limits.dht,
            bt_trackers: limits.trackers,
            bt_upload_rate: 0,
            overwrite: false,
            skip_existing: false,
            proxy: ProxyChoice::System,
            trusted_certificates: Vec::new(),
            rpc_enabled: false,
            rpc_port: crate::rpc::DEFAULT_PORT,
            rpc_secret: String::new(),
            rpc_pages: false,
            rpc_origins: String::new(),
            schedule: super::schedule::Schedule::default(),
            clipboard_watch: false,
            clipboard_types: CLIPBOARD_TYPES.to_owned(),
            close_to_tray: false,
            start_at_login: false,
            start_minimised: false,
            language: LanguageChoice::System,
            theme: ThemeChoice::System,
            show_settings: false,
            show_logs: false,
        }
    }
}

/// The file types a copied link is offered for, unless the person changes them: archives,
/// disk images, installers, video, audio and documents people download.
pub const CLIPBOARD_TYPES: &str = "zip 7z rar tar gz tgz xz bz2 zst iso img dmg exe msi pkg deb rpm \
apk appimage mp4 mkv avi mov webm mp3 flac m4a pdf epub torrent";

/// Bounds the settings controls allow: the option table's (`crate::options`), in the
/// settings' own types.
pub const JOBS_MAX: usize = crate::options::JOBS_MAX as usize;
pub const RETRIES_MAX: u32 = crate::options::RETRIES_MAX as u32;
pub const SPLIT_MAX: usize = crate::options::SPLIT_MAX as usize;
pub const TIMEOUT_MAX_SECS: f64 = 24.0 * 3600.0;

fn secs(value: f64, fallback: Duration) -> Duration {
    if value.is_finite() && value > 0.0 {
        Duration::try_from_secs_f64(value.min(TIMEOUT_MAX_SECS)).unwrap_or(fallback)
    } else {
        fallback
    }
}

/// A speed limit as typed (the window's, a row's): bytes/s with K/M/G suffixes (1024-based, as
/// curl reads `--limit-rate`), `/s` allowed; `Some(None)` for no limit (`none` in any
/// language, `0` or nothing); `None` when it is not one.
pub fn rate_from_text(text: &str, none_word: &str) -> Option<Option<u64>> {
    let text = text.trim().trim_end_matches("/s").trim();
    if text.is_empty() || text == "0" || text.eq_ignore_ascii_case("none") || text == none_word {
        return Some(None);
    }
    match crate::human::parse_size(text) {
        Ok(rate) if rate > 0 => Some(Some(rate)),
        _ => None,
    }
}

impl Settings {
    /// The size limit as the field shows it: `none`, or `500M`-style.
    pub fn max_size_text(&self) -> String {
        if self.max_size_mib > 0.0 {
            format!("{}M", self.max_size_mib)
        } else {
            "none".to_owned()
        }
    }

    /// The speed limit for the engine: `None` when there is none.
    pub fn max_rate(&self) -> Option<u64> {
        (self.max_rate > 0).then_some(self.max_rate)
    }

    /// The speed limit as its field shows it: `none` (in `none_word`), or `2M`-style.
    pub fn max_rate_text(&self, none_word: &str) -> String {
        match self.max_rate() {
            Some(rate) => crate::human::size_for_field(rate),
            None => none_word.to_owned(),
        }
    }

    /// Takes the speed limit as typed, in bytes/s with K/M/G suffixes (1024-based, as curl
    /// reads `--limit-rate`), or `none`, `0` or nothing for no limit. `false` if it is not one.
    pub fn set_max_rate_text(&mut self, text: &str, none_word: &str) -> bool {
        match rate_from_text(text, none_word) {
            Some(rate) => {
                self.max_rate = rate.unwrap_or(0);
                true
            }
            None => false,
        }
    }

    /// Takes the size limit as typed: a size (`500M`, `2G`, `1.5 GiB`), or `none`, `0` or
    /// nothing for no limit (in any language's word for none). `false` if it is not one.
    pub fn set_max_size_text(&mut self, text: &str, none_word: &str) -> bool {
        let text = text.trim();
        if text.is_empty() || text == "0" || text.eq_ignore_ascii_case("none") || text == none_word
        {
            self.max_size_mib = 0.0;
            return true;
        }
        match crate::human::parse_size(text) {
            Ok(bytes) => {
                self.max_size_mib = bytes as f64 / (1024.0 * 1024.0);
                true
            }
            Err(_) => false,
        }
    }

    /// The per-file time limit as the field shows it: `none`, or seconds.
    pub fn deadline_text(&self) -> String {
        if self.deadline_secs > 0.0 {
            format!("{}", self.deadline_secs)
        } else {
            "none".to_owned()
        }
    }

    /// Takes the time limit as typed: seconds, or `none` / `0` / nothing for none.
    pub fn set_deadline_text(&mut self, text: &str, none_word: &str) -> bool {
        let text = text.trim().trim_end_matches('s').trim();
        if text.is_empty() || text == "0" || text.eq_ignore_ascii_case("none") || text == none_word
        {
            self.deadline_secs = 0.0;
            return true;
        }
        match text.parse::<f64>() {
            Ok(secs) if secs.is_finite() && secs > 0.0 => {
                self.deadline_secs = secs.min(TIMEOUT_MAX_SECS);
                true
            }
            _ => false,
        }
    }

    /// The web pages let in to the RPC (none unless `rpc_pages`): each line of `rpc_origins`
    /// that is an http(s) origin, as browsers send it (`https://host[:port]`, no path).
    pub fn rpc_allowed_origins(&self) -> Vec<String> {
        if !self.rpc_pages {
            return Vec::new();
        }
        self.rpc_origins
            .lines()
            .filter_map(|line| web_origin(line).ok())
            .collect()
    }

    pub fn limits(&self) -> Limits {
        let defaults = Limits::default();
        Limits {
            max_rate: self.max_rate(),
            jobs: self.jobs.clamp(1, JOBS_MAX),
            per_host: self.per_host.clamp(1, JOBS_MAX),
            connect_timeout: secs(self.connect_secs, defaults.connect_timeout),
            stall_timeout: secs(self.stall_secs, defaults.stall_timeout),
            deadline: (self.deadline_secs > 0.0).then(|| secs(self.deadline_secs, Duration::MAX)),
            retries: self.retries.min(RETRIES_MAX),
            retry_base: defaults.retry_base,
            max_size: (self.max_size_mib.is_finite() && self.max_size_mib > 0.0)
                .then_some((self.max_size_mib * 1024.0 * 1024.0) as u64),
            split: self.split.clamp(1, SPLIT_MAX),
            min_split_size: defaults.min_split_size,
            max_upload_rate: (self.bt_upload_rate > 0).then_some(self.bt_upload_rate),
            listen_port: self.bt_listen_port,
            dht: self.bt_dht,
            trackers: self.bt_trackers,
        }
    }

    /// Takes the caps, timeouts and limits the RPC's `changeGlobalOption` set (the
    /// settings' fields are the window's form of [`Limits`]; `retry_base` and
    /// `min_split_size` are the engine's defaults in the window).
    pub fn set_limits(&mut self, limits: Limits) {
        self.jobs = limits.jobs;
        self.per_host = limits.per_host;
        self.connect_secs = limits.connect_timeout.as_secs_f64();
        self.stall_secs = limits.stall_timeout.as_secs_f64();
        self.deadline_secs = limits.deadline.map_or(0.0, |d| d.as_secs_f64());
        self.retries = limits.retries;
        self.max_size_mib = limits
            .max_size
            .map_or(0.0, |b| b as f64 / (1024.0 * 1024.0));
        self.max_rate = limits.max_rate.unwrap_or(0);
        self.split = limits.split;
        self.bt_listen_port = limits.listen_port;
        self.bt_dht = limits.dht;
        self.bt_trackers = limits.trackers;
        self.bt_upload_rate = limits.max_upload_rate.unwrap_or(0);
    }

    /// Where and how files are written. `system_locale` (a BCP-47 tag) picks the legacy
    /// encoding for server-chosen names that are not UTF-8, unless the window speaks Chinese.
    pub fn output(&self, system_locale: Option<&str>) -> Output {
        let locale = match self.language.resolve(system_locale) {
            Lang::Zh => Some("zh-CN"),
            Lang::ZhHant => Some("zh-TW"),
            Lang::En => system_locale,
        };
        Output {
            dest: self.dest.clone(),
            overwrite: self.overwrite && !self.skip_existing,
            skip_existing: self.skip_existing,
            content_disposition: true,
            legacy_charset: locale
                .and_then(legacy_charset_for_locale)
                .map(str::to_owned),
        }
    }
}

/// A line of the RPC's web pages as the `Origin` a browser sends for them:
/// `scheme://host[:port]` for an http(s) address with no path beyond `/`. Errors: the line as
/// given, for the sentence that says it is not one.
pub fn web_origin(line: &str) -> Result<String, String> {
    let text = line.trim();
    let url = url::Url::parse(text).map_err(|_| text.to_owned())?;
    let plain = matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some()
        && matches!(url.path(), "" | "/")
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty();
    if !plain {
        return Err(text.to_owned());
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_or_old_file_still_loads() {
        let settings: Settings = serde_json::from_str(r#"{"jobs": 3, "unknown_field": 1}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(settings.jobs, 3);
        assert_eq!(settings.per_host, Settings::default().per_host);
    }

    #[test]
    fn web_pages_are_origins_as_browsers_send_them() {
        assert_eq!(
            web_origin(" https://ariang.example/ ").as_deref(),
            Ok("https://ariang.example")
        );
        assert_eq!(
            web_origin("http://127.0.0.1:6880").as_deref(),
            Ok("http://127.0.0.1:6880")
        );
        assert_eq!(
            web_origin("HTTP://AriaNg.Example:80").as_deref(),
            Ok("http://ariang.example")
        );
        for bad in [
            "ariang.example",
            "file:///ariang.html",
            "https://a.example/ng/",
            "null",
        ] {
            assert!(web_origin(bad).is_err(), "{bad}");
        }
        let settings = Settings {
            rpc_pages: true,
            rpc_origins: "https://a.example\nnot one\n\nhttp://b.example:8080/".to_owned(),
            ..Settings::default()
        };
        assert_eq!(
            settings.rpc_allowed_origins(),
            ["https://a.example", "http://b.example:8080"]
        );
        let off = Settings {
            rpc_pages: false,
            ..settings
        };
        assert!(off.rpc_allowed_origins().is_empty());
    }

    #[test]
    fn limits_are_clamped_and_zero_deadline_is_none() {
        let settings = Settings {
            jobs: 0,
            per_host: 10_000,
            connect_secs: -1.0,
            stall_secs: 2.5,
            deadline_secs: 0.0,
            ..Settings::default()
        };
        let limits = settings.limits();
        assert_eq!((limits.jobs, limits.per_host), (1, JOBS_MAX));
        assert_eq!(limits.connect_timeout, Limits::default().connect_timeout);
        assert_eq!(limits.stall_timeout, Duration::from_millis(2500));
        assert_eq!(limits.deadline, None);
        assert_eq!(limits.max_size, None);
        let with_deadline = Settings {
            deadline_secs: 60.0,
            ..settings
        };
        assert_eq!(
            with_deadline.limits().deadline,
            Some(Duration::from_secs(60))
        );
    }
}
