//! Every string the window shows, in English, 简体中文 and 繁體中文.
//!
//! Owns: the key list ([`T`], declared once), the catalogs (a file each), the language chosen
//! from the setting or the system locale, filling `{placeholders}`, and what must be phrased
//! per language beyond a lookup: durations (`3 m 05 s`, `3 分 05 秒`), counts (`1 item`,
//! `2 items`), a person's sentence for every way an item fails (and for a row's state), and the speed-up (said as
//! "N times as fast", never "N times faster", which Chinese readers take for N + 1).
//! Drawing code asks for `tr.get(T::Cancel)` and never spells a user-facing string itself.
//! Sizes keep their international units (KiB, MiB, GiB) in every language.
//!
//! Why not Fluent: of the three languages only English has plural forms, and it has two;
//! numbers need no grouping here. A table per language keeps the window's binary small and
//! lets the catalog tests check every key and placeholder at compile and test time.
//! Must not touch: egui, I/O.

mod en;
mod zh_hans;
mod zh_hant;

use std::sync::LazyLock;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::model::State;
use crate::human::human_bytes;
use crate::protocol::{
    ConnectProblem, DiskProblem, FetchError, Outcome, ProxyProblem, SourceError, Status,
    TimeoutKind,
};

/// A language the window speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    /// Simplified Chinese.
    Zh,
    /// Traditional Chinese (Taiwan, Hong Kong, Macau).
    ZhHant,
}

/// The persisted choice: follow the system, or one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LanguageChoice {
    #[default]
    System,
    English,
    /// 简体中文 (the name is kept for settings saved before Traditional Chinese existed).
    Chinese,
    ChineseTraditional,
}

impl LanguageChoice {
    pub const ALL: [LanguageChoice; 4] = [
        LanguageChoice::System,
        LanguageChoice::English,
        LanguageChoice::Chinese,
        LanguageChoice::ChineseTraditional,
    ];

    /// The language to speak, given the system locale (a BCP-47 tag like `zh-CN` or `en-US`).
    pub fn resolve(self, system_locale: Option<&str>) -> Lang {
        match self {
            LanguageChoice::English => Lang::En,
            LanguageChoice::Chinese => Lang::Zh,
            LanguageChoice::ChineseTraditional => Lang::ZhHant,
            LanguageChoice::System => system_locale.map_or(Lang::En, lang_of_locale),
        }
    }
}

/// `zh`, `zh-CN`, `zh_CN.UTF-8`, `zh-Hans` → 简体; `zh-TW`, `zh-HK`, `zh-MO`, `zh-Hant` → 繁體.
fn lang_of_locale(tag: &str) -> Lang {
    let lower = tag.to_ascii_lowercase().replace('_', "-");
    if !(lower == "zh" || lower.starts_with("zh-") || lower.starts_with("zh.")) {
        return Lang::En;
    }
    let traditional = ["-hant", "-tw", "-hk", "-mo"]
        .iter()
        .any(|region| lower.contains(region));
    if traditional { Lang::ZhHant } else { Lang::Zh }
}

/// Declares the keys once: the enum and its list.
macro_rules! keys {
    ($($key:ident),* $(,)?) => {
        /// Every user-facing string, by key.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum T { $($key),* }

        impl T {
            /// Every key, for the catalog tests.
            pub const ALL: &[T] = &[$(T::$key),*];
        }
    };
}

keys! {
    AppTitle, AddBoxHint, AddBoxName, Add, AddFiles, ImportList, Destination, DestinationHint, ChooseFolder,
    OpenFolder, Settings, Logs, About, More, SearchHint, RateExample, HelpRate, DestWillBeCreated, DestIsFile,
    DestNotWritable, DestUnusable, DestStillUsed,
    Jobs, PerHost, ConnectTimeout, StallTimeout, Deadline, Retries, MaxSize, WhenExists, NewName,
    Overwrite, Language, LanguageSystem, Theme, ThemeSystem, ThemeLight, ThemeDark, NoLimit,
    Seconds, HelpJobs, HelpPerHost, Split, HelpSplit, HelpConnect, HelpStall, HelpDeadline, HelpRetries,
    HelpMaxSize, HelpWhenExists, HelpTheme, SizeExample, DeadlineExample,
    ColStatus, ColName, ColProgress, ColSize, ColSpeed, ColEta, ColElapsed, ColSource,
    StatusQueued, StatusConnecting, StatusRunning, StatusDone, StatusFailed, StatusTimedOut,
    StatusCancelled, StatusPaused, StatusRemoved, RetryIn, ConnectingTry, RunningTry, WaitingForPart, Calculating, RunningOver, RunningOverLong,
    StreamSegments, StreamRecorded, Quality, Variants, QualityDone, Segments, TorrentMetadata, TorrentPeers, TorrentSeeding, StopSeeding, StopSeedingHint,
    TorrentFiles, TorrentFilesHint, TorrentFilesChosen, TorrentFilesNone,
    Connections, QueuedForHost, QueuedForHostLong, QueuedForSlot, QueuedForSlotLong,
    Pause, Resume, Cancel, Retry, Open, ShowInFolder, Remove, CopyAddress, ItemRate, GlobalRate, RowMenu,
    Details, Source, Folder, SavedAs, Digest, Expected, Error, ReadAs,
    ItemsOne, ItemsMany, SummaryLine, SummaryCounts, SummaryCancelled, SummarySkipped, ActSkipped, SummarySpeed, SummaryFaster, SummaryWall, SummaryTook,
    Filter, FilterAll, NothingMatches, NothingInFilter, PauseAll, ResumeAll, RetryFailed,
    ClearDone, CancelAll, RowsSelected,
    ConfirmCancelAll, ConfirmCancel, ConfirmRemove, ConfirmDeletePart, ConfirmDeleteParts,
    ConfirmPauseInstead, ConfirmFinishedKept, ConfirmCancelDelete, ConfirmRemoveDelete,
    ConfirmDontCancel, ConfirmDontRemove,
    QuitTitle, QuitQuestion, QuitQuestionOne, Quit, KeepRunning,
    CantResume, CantResumeHint, ConfirmPause, ConfirmPauseAll, PauseRestarts, PauseRestartsMany,
    KeepDownloading, PauseAnyway, QuitRestarts,
    DialogUnavailable, DialogFailed, ImportFailed, Imported, FolderAdded, FolderFailed,
    OpenFailed, OpenGone, QueueMovedAside, QueueUnavailable, QueueInUse, PasteNothing, PasteSkipped, LinesTooLong, ItemRateOther,
    AlreadyInList, AlreadyResumed,
    LogsTitle, LogsEmpty, LogsFromLog, Ago, ActDone, ActFailed, ActCancelled, ActPaused, ActAdded,
    EmptyList, EmptyListNoDialog, AboutTagline, AboutVersion, AboutLicense, AboutDataDir, Close,
    DropHint, ListPath, Import, SelectAll, TitleProgress, TitleActive, TitleWaiting,
    NotifyDoneTitle, NotifyDoneBody, NotifyFailedTitle,
    DurMs, DurSecs, DurMinSec, DurHourMin,
    ErrProxyUnreachable, ErrProxyAuth, ErrProxyUpstream, ErrProxyProtocol, SkipExisting, StatusSkipped, Proxy, HelpProxy,
    AddWithOptions, EditOptions, OptAddresses, OptName, OptNameHint, OptFolder, OptFolderHint,
    OptHeaders, OptReferer, OptCookies, OptUser, OptPassword, OptChecksum, OptConnections,
    OptConnectionsDefault, Apply, FormCancel, OptErrAddress, OptErrName, OptErrFolder, OptErrHeader,
    OptErrReferer, OptErrCookies, OptErrNoFile, OptErrNotCookies, OptErrUser, OptErrChecksum, OptUserAgent, OptErrUserAgent,
    OptErrConnections, OptErrRate, RpcAllow, HelpRpc, RpcProblem,
    RpcAddress, RpcSecret, Copy,
    ProxyNone, ProxySystem, ProxyManual, ProxyAddress, ProxyExceptions, HelpProxyExceptions,
    ErrRefused, ErrHostNotFound, ErrUnreachable, ErrCannotConnect, ErrTls, ErrNotFound404,
    ErrForbidden, ErrAuth, ErrGone, ErrServerError, ErrBusy, ErrHttp, ErrRedirect, ErrDropped,
    ErrReplyMismatch, ErrTransferCoding, ErrBrokeOff, ErrShortBody, ErrLongBody, ErrRequest,
    ErrNoSuchFile, ErrNotAFile, ErrCannotRead, ErrDiskFull, ErrNoPermission, ErrReadOnly,
    ErrNotAFolder, ErrInUse, ErrCannotWrite, ErrChecksum, ErrTooLarge, ErrNoSpace, ErrUnsupportedScheme, ErrStream, ErrTorrent, ErrSegment,
    ErrNotAnAddress, TimedOutConnect, TimedOutStall, TimedOutDeadline,
    MoveMenu, MoveTop, MoveUp, MoveDown, MoveBottom, MoveSorted,
    SchedTitle, SchedRun, SchedTo, HelpSchedRun, SchedLimit, HelpSchedLimit, SchedRate, WhenDone, HelpWhenDone, WhenNothing, WhenQuit, WhenSleep, WhenShutDown, CountTitle, CountQuit, CountSleep, CountShutDown, CountCancel, CountNow, HeldBySchedule, ActSchedulePaused, ActScheduleResumed, PowerFailed, ActPower, PowerSleepWord, PowerShutDownWord, ClipWatch, HelpClipWatch, ClipTypes, ClipOffer, ClipAdd, ClipIgnore, DeskTitle, CloseToTray, HelpCloseToTray, StartAtLogin, StartMinimised, HelpStartAtLogin, StartAtLoginFailed, TrayShow, TrayIdle, TrayBusy, NoTray,
    SchedFrom,
    ClipOfferMany,
    HeldByScheduleTomorrow, QueuedForSchedule, PausedBySchedule, TomorrowAt, RunningUntil, SchedLimitNow, ClockHour, ClockMinute,
    ErrUntrusted, CertFingerprint, TrustCompare, TrustForItem, TrustForHost, TrustedCerts, HelpTrustedCerts, Forget,
    RpcPort, HelpRpcPort, RpcPortBusy, RpcUsePort, RpcWebSocket, RpcRenew, HelpRpcRenew, RpcPages, HelpRpcPages, RpcOrigins, RpcOriginBad,
    BrowserTitle, HelpBrowser, BrowserInstall, BrowserRemove, BrowserInstalled, BrowserRemoved, BrowserNothing, BrowserFailed,
    BtTitle, BtPort, BtPortAny, HelpBtPort, BtDht, HelpBtDht, BtTrackers, HelpBtTrackers,
}

/// A catalog as a table indexed by key; a key missing from a catalog falls back to English.
fn table(catalog: &'static [(T, &'static str)]) -> Vec<&'static str> {
    let mut out = vec![""; T::ALL.len()];
    for (key, text) in en::CATALOG.iter().chain(catalog) {
        out[*key as usize] = for_this_keyboard(text, cfg!(target_os = "macos"));
    }
    out
}

/// The catalogs name shortcuts as `Ctrl+V`; on a Mac the key is Command: `⌘V`, as macOS
/// menus write it (egui's Ctrl shortcuts are Command there). Built once per language (the
/// few changed strings are leaked into `'static`, like the tables themselves).
fn for_this_keyboard(text: &'static str, mac: bool) -> &'static str {
    if mac && text.contains("Ctrl+") {
        Box::leak(text.replace("Ctrl+", "⌘").into_boxed_str())
    } else {
        text
    }
}

static EN_TABLE: LazyLock<Vec<&'static str>> = LazyLock::new(|| table(en::CATALOG));
static ZH_TABLE: LazyLock<Vec<&'static str>> = LazyLock::new(|| table(zh_hans::CATALOG));
static ZH_HANT_TABLE: LazyLock<Vec<&'static str>> = LazyLock::new(|| table(zh_hant::CATALOG));

/// Looks strings up in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn get(self, key: T) -> &'static str {
        let table = match self.0 {
            Lang::En => &EN_TABLE,
            Lang::Zh => &ZH_TABLE,
            Lang::ZhHant => &ZH_HANT_TABLE,
        };
        table.get(key as usize).copied().unwrap_or("")
    }

    /// The string with each `{name}` replaced by its value.
    pub fn fill(self, key: T, values: &[(&str, &str)]) -> String {
        let mut text = self.get(key).to_owned();
        for (name, value) in values {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }

    /// The word for a status, in this language.
    pub fn status(self, status: Status) -> &'static str {
        self.get(match status {
            Status::Queued => T::StatusQueued,
            Status::Connecting => T::StatusConnecting,
            Status::Running => T::StatusRunning,
            Status::Done => T::StatusDone,
            Status::Skipped => T::StatusSkipped,
            Status::Failed => T::StatusFailed,
            Status::TimedOut => T::StatusTimedOut,
            Status::Cancelled => T::StatusCancelled,
            Status::Paused => T::StatusPaused,
        })
    }

    /// `1 item`, `3 items` (`3 项`).
    pub fn items(self, n: usize) -> String {
        if n == 1 {
            self.get(T::ItemsOne).to_owned()
        } else {
            self.fill(T::ItemsMany, &[("n", &n.to_string())])
        }
    }

    /// A duration as people read it in this language: `850 ms`, `2.1 s`, `3 m 05 s`,
    /// `1 h 02 m` (`3 分 05 秒`).
    pub fn duration(self, d: Duration) -> String {
        let ms = d.as_millis();
        let secs = d.as_secs();
        if ms < 1000 {
            self.fill(T::DurMs, &[("n", &ms.to_string())])
        } else if ms < 60_000 {
            self.fill(T::DurSecs, &[("n", &format!("{:.1}", d.as_secs_f64()))])
        } else if secs < 3600 {
            let (m, s) = (secs / 60, secs % 60);
            self.fill(
                T::DurMinSec,
                &[("m", &m.to_string()), ("s", &format!("{s:02}"))],
            )
        } else {
            let (h, m) = (secs / 3600, (secs % 3600) / 60);
            self.fill(
                T::DurHourMin,
                &[("h", &h.to_string()), ("m", &format!("{m:02}"))],
            )
        }
    }

    /// A speed in bytes per second: `1.5 MiB/s`.
    pub fn rate(self, bytes_per_sec: f64) -> String {
        format!("{}/s", human_bytes(bytes_per_sec.max(0.0) as u64))
    }

    /// Why a timeout fired, as a person would say it.
    pub fn timeout(self, kind: TimeoutKind) -> &'static str {
        self.get(match kind {
            TimeoutKind::Connect => T::TimedOutConnect,
            TimeoutKind::Stall => T::TimedOutStall,
            TimeoutKind::Deadline => T::TimedOutDeadline,
        })
    }

    /// A person's sentence for why a row failed, timed out or is retrying (nothing for a row
    /// in any other state).
    pub fn why(self, state: &State) -> String {
        match state {
            State::Failed { error, .. } => self.failure(error),
            State::TimedOut { kind, .. } => self.timeout(*kind).to_owned(),
            State::Retrying { cause, .. } => match &**cause {
                Outcome::Failed(error) => self.failure(error),
                Outcome::TimedOut(kind) => self.timeout(*kind).to_owned(),
                _ => String::new(),
            },
            _ => String::new(),
        }
    }

    /// A short sentence for a person about why an item failed (the technical text stays in
    /// the details).
    pub fn failure(self, error: &FetchError) -> String {
        let code = |status: &u16| status.to_string();
        match error {
            FetchError::InvalidSource { reason, .. } => match reason {
                SourceError::UnsupportedScheme(scheme) => {
                    self.fill(T::ErrUnsupportedScheme, &[("scheme", scheme)])
                }
                _ => self.get(T::ErrNotAnAddress).to_owned(),
            },
            FetchError::Connect { problem, .. } => self
                .get(match problem {
                    ConnectProblem::Refused => T::ErrRefused,
                    ConnectProblem::NameNotResolved => T::ErrHostNotFound,
                    ConnectProblem::Unreachable => T::ErrUnreachable,
                    ConnectProblem::Other => T::ErrCannotConnect,
                })
                .to_owned(),
            FetchError::Tls(_) => self.get(T::ErrTls).to_owned(),
            FetchError::Untrusted { host, .. } => self.fill(T::ErrUntrusted, &[("host", host)]),
            FetchError::HttpStatus { status, .. } => {
                let key = match status {
                    404 => T::ErrNotFound404,
                    401 | 407 => T::ErrAuth,
                    403 => T::ErrForbidden,
                    410 => T::ErrGone,
                    429 | 503 => T::ErrBusy,
                    500..=599 => T::ErrServerError,
                    _ => T::ErrHttp,
                };
                self.fill(key, &[("code", &code(status))])
            }
            FetchError::FtpReply { code: status, .. } => match status {
                550 | 553 => self.get(T::ErrNoSuchFile).to_owned(),
                400..=499 => self.fill(T::ErrBusy, &[("code", &code(status))]),
                _ => self.fill(T::ErrHttp, &[("code", &code(status))]),
            },
            FetchError::FtpLogin { code: status, .. } => {
                self.fill(T::ErrAuth, &[("code", &code(status))])
            }
            FetchError::Redirect(_) => self.get(T::ErrRedirect).to_owned(),
            FetchError::Dropped(_) => self.get(T::ErrDropped).to_owned(),
            FetchError::ReplyMismatch(_) => self.get(T::ErrReplyMismatch).to_owned(),
            FetchError::TransferCoding(_) => self.get(T::ErrTransferCoding).to_owned(),
            FetchError::Body(_) => self.get(T::ErrBrokeOff).to_owned(),
            FetchError::ShortBody { .. } => self.get(T::ErrShortBody).to_owned(),
            FetchError::LongBody { .. } => self.get(T::ErrLongBody).to_owned(),
            FetchError::Request(_) => self.get(T::ErrRequest).to_owned(),
            // Its own sentence (the torrent's names, librqbit's words) is the technical text.
            FetchError::Torrent(_) => self.get(T::ErrTorrent).to_owned(),
            FetchError::NotFound(_) => self.get(T::ErrNoSuchFile).to_owned(),
            FetchError::NotAFile { .. } => self.get(T::ErrNotAFile).to_owned(),
            FetchError::Read { .. } => self.get(T::ErrCannotRead).to_owned(),
            FetchError::Write { problem, .. } => self
                .get(match problem {
                    DiskProblem::Full => T::ErrDiskFull,
                    DiskProblem::NoPermission => T::ErrNoPermission,
                    DiskProblem::ReadOnly => T::ErrReadOnly,
                    DiskProblem::NotAFolder => T::ErrNotAFolder,
                    DiskProblem::InUse => T::ErrInUse,
                    DiskProblem::Other => T::ErrCannotWrite,
                })
                .to_owned(),
            FetchError::Checksum { .. } => self.get(T::ErrChecksum).to_owned(),
            FetchError::NoSpace { needed, free, .. } => self.fill(
                T::ErrNoSpace,
                &[
                    ("needed", &human_bytes(*needed)),
                    ("free", &human_bytes(*free)),
                ],
            ),
            FetchError::Stream(_) => self.get(T::ErrStream).to_owned(),
            FetchError::Segment { number, .. } => {
                self.fill(T::ErrSegment, &[("number", &number.to_string())])
            }
            FetchError::TooLarge { limit } => {
                self.fill(T::ErrTooLarge, &[("limit", &human_bytes(*limit))])
            }
            FetchError::Proxy { proxy, problem, .. } => self.fill(
                match problem {
                    ProxyProblem::Unreachable => T::ErrProxyUnreachable,
                    ProxyProblem::Auth => T::ErrProxyAuth,
                    ProxyProblem::Upstream => T::ErrProxyUpstream,
                    ProxyProblem::CannotCarry => T::ErrProxyProtocol,
                },
                &[("proxy", proxy)],
            ),
        }
    }
}

#[cfg(test)]
mod tests;
