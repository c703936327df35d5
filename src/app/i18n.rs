//! Every string the window shows, in English and Simplified Chinese.
//!
//! Owns: the key list ([`T`]), the two catalogs, language choice from a locale, and filling
//! `{placeholders}`. Drawing code asks for `tr.get(T::Cancel)` and never spells a user-facing
//! string itself. Messages that come from the engine (error reasons) stay in English.
//! Must not touch: egui, I/O.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::protocol::Status;

/// A language the window speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

/// The persisted choice: follow the system, or one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum LanguageChoice {
    #[default]
    System,
    English,
    Chinese,
}

impl LanguageChoice {
    /// The language to speak, given the system locale (a BCP-47 tag like `zh-CN` or `en-US`).
    pub fn resolve(self, system_locale: Option<&str>) -> Lang {
        match self {
            LanguageChoice::English => Lang::En,
            LanguageChoice::Chinese => Lang::Zh,
            LanguageChoice::System => match system_locale {
                Some(tag) if is_chinese(tag) => Lang::Zh,
                _ => Lang::En,
            },
        }
    }
}

/// `zh`, `zh-CN`, `zh_CN.UTF-8`, `zh-Hans`… (Traditional Chinese locales also get 简体中文,
/// which is closer for them than English.)
fn is_chinese(tag: &str) -> bool {
    let lower = tag.to_ascii_lowercase();
    lower == "zh" || lower.starts_with("zh-") || lower.starts_with("zh_")
}

/// Every user-facing string, by key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum T {
    AppTitle,
    AddBoxHint,
    Add,
    AddFiles,
    ImportList,
    Destination,
    DestinationHint,
    ChooseFolder,
    OpenFolder,
    Settings,
    Logs,
    Jobs,
    PerHost,
    ConnectTimeout,
    StallTimeout,
    Deadline,
    Seconds,
    NoDeadline,
    WhenExists,
    NewName,
    Overwrite,
    Language,
    LanguageSystem,
    ColStatus,
    ColName,
    ColSource,
    ColProgress,
    ColSize,
    ColSpeed,
    ColEta,
    ColElapsed,
    StatusQueued,
    StatusConnecting,
    StatusRunning,
    StatusDone,
    StatusFailed,
    StatusTimedOut,
    StatusCancelled,
    StatusPaused,
    RetryIn,
    WaitingForPart,
    Pause,
    Resume,
    Retries,
    MaxSize,
    NoLimit,
    Cancel,
    Retry,
    Open,
    ShowInFolder,
    Remove,
    Details,
    Filter,
    FilterAll,
    ClearFinished,
    CancelAll,
    PauseQueue,
    StartQueue,
    QueuePaused,
    SummaryCounts,
    SummaryBytes,
    SummaryFaster,
    SummaryWall,
    SummaryTook,
    QuitTitle,
    QuitQuestion,
    QuitQuestionOne,
    Quit,
    KeepRunning,
    DialogUnavailable,
    DialogFailed,
    ImportFailed,
    Imported,
    FolderAdded,
    FolderFailed,
    OpenFailed,
    LogsTitle,
    LogsEmpty,
    EmptyList,
    SavedAs,
    Digest,
    Error,
    Source,
    SelectAll,
    DropHint,
    RowsSelected,
    ListPath,
    Import,
    Close,
    Expected,
    QueueMovedAside,
    QueueUnavailable,
    QueueInUse,
    About,
    AboutTagline,
    AboutVersion,
    AboutLicense,
    AboutDataDir,
}

impl T {
    /// Every key, for the catalog tests.
    pub const ALL: &[T] = &[
        T::AppTitle,
        T::AddBoxHint,
        T::Add,
        T::AddFiles,
        T::ImportList,
        T::Destination,
        T::DestinationHint,
        T::ChooseFolder,
        T::OpenFolder,
        T::Settings,
        T::Logs,
        T::Jobs,
        T::PerHost,
        T::ConnectTimeout,
        T::StallTimeout,
        T::Deadline,
        T::Seconds,
        T::NoDeadline,
        T::WhenExists,
        T::NewName,
        T::Overwrite,
        T::Language,
        T::LanguageSystem,
        T::ColStatus,
        T::ColName,
        T::ColSource,
        T::ColProgress,
        T::ColSize,
        T::ColSpeed,
        T::ColEta,
        T::ColElapsed,
        T::StatusQueued,
        T::StatusConnecting,
        T::StatusRunning,
        T::StatusDone,
        T::StatusFailed,
        T::StatusTimedOut,
        T::StatusCancelled,
        T::StatusPaused,
        T::RetryIn,
        T::WaitingForPart,
        T::Pause,
        T::Resume,
        T::Retries,
        T::MaxSize,
        T::NoLimit,
        T::Cancel,
        T::Retry,
        T::Open,
        T::ShowInFolder,
        T::Remove,
        T::Details,
        T::Filter,
        T::FilterAll,
        T::ClearFinished,
        T::CancelAll,
        T::PauseQueue,
        T::StartQueue,
        T::QueuePaused,
        T::SummaryCounts,
        T::SummaryBytes,
        T::SummaryFaster,
        T::SummaryWall,
        T::SummaryTook,
        T::QuitTitle,
        T::QuitQuestion,
        T::QuitQuestionOne,
        T::Quit,
        T::KeepRunning,
        T::DialogUnavailable,
        T::DialogFailed,
        T::ImportFailed,
        T::Imported,
        T::FolderAdded,
        T::FolderFailed,
        T::OpenFailed,
        T::LogsTitle,
        T::LogsEmpty,
        T::EmptyList,
        T::SavedAs,
        T::Digest,
        T::Error,
        T::Source,
        T::SelectAll,
        T::DropHint,
        T::RowsSelected,
        T::ListPath,
        T::Import,
        T::Close,
        T::Expected,
        T::QueueMovedAside,
        T::QueueUnavailable,
        T::QueueInUse,
        T::About,
        T::AboutTagline,
        T::AboutVersion,
        T::AboutLicense,
        T::AboutDataDir,
    ];
}

/// The English catalog.
const EN: &[(T, &str)] = &[
    (T::AppTitle, "Haul"),
    (
        T::AddBoxHint,
        "Paste URLs or file paths, one per line (Ctrl+Enter adds)",
    ),
    (T::Add, "Add"),
    (T::AddFiles, "Add files…"),
    (T::ImportList, "Import list…"),
    (T::Destination, "Destination"),
    (T::DestinationHint, "Folder path"),
    (T::ChooseFolder, "Choose…"),
    (T::OpenFolder, "Open folder"),
    (T::Settings, "Settings"),
    (T::Logs, "Logs"),
    (T::Jobs, "Items at once"),
    (T::PerHost, "Per host"),
    (T::ConnectTimeout, "Connect timeout"),
    (T::StallTimeout, "Stall timeout"),
    (T::Deadline, "Item deadline"),
    (T::Seconds, "s"),
    (T::NoDeadline, "none"),
    (T::WhenExists, "When the file exists"),
    (T::NewName, "Keep both (new name)"),
    (T::Overwrite, "Overwrite"),
    (T::Language, "Language"),
    (T::LanguageSystem, "System"),
    (T::ColStatus, "Status"),
    (T::ColName, "Name"),
    (T::ColSource, "Source"),
    (T::ColProgress, "Progress"),
    (T::ColSize, "Size"),
    (T::ColSpeed, "Speed"),
    (T::ColEta, "ETA"),
    (T::ColElapsed, "Elapsed"),
    (T::StatusQueued, "queued"),
    (T::StatusConnecting, "connecting"),
    (T::StatusRunning, "running"),
    (T::StatusDone, "done"),
    (T::StatusFailed, "failed"),
    (T::StatusTimedOut, "timed out"),
    (T::StatusCancelled, "cancelled"),
    (T::StatusPaused, "paused"),
    (T::RetryIn, "retry {n}/{of} in {wait}"),
    (
        T::WaitingForPart,
        "waiting: another download is writing {name}",
    ),
    (T::Pause, "Pause"),
    (T::Resume, "Resume"),
    (T::Retries, "Retries"),
    (T::MaxSize, "Size limit"),
    (T::NoLimit, "none"),
    (T::Cancel, "Cancel"),
    (T::Retry, "Retry"),
    (T::Open, "Open"),
    (T::ShowInFolder, "Show in folder"),
    (T::Remove, "Remove"),
    (T::Details, "Details"),
    (T::Filter, "Show"),
    (T::FilterAll, "all"),
    (T::ClearFinished, "Clear finished"),
    (T::CancelAll, "Cancel all"),
    (T::PauseQueue, "Pause queue"),
    (T::StartQueue, "Start queue"),
    (
        T::QueuePaused,
        "Queue paused: running items go on, queued ones wait.",
    ),
    (
        T::SummaryCounts,
        "{total} items: {done} done, {running} active, {queued} queued, {paused} paused, {failed} failed, {timed_out} timed out, {cancelled} cancelled",
    ),
    (T::SummaryBytes, "{bytes} at {speed}"),
    (
        T::SummaryFaster,
        "{wall} for items that took {sum} one after another — {ratio}× faster",
    ),
    (T::SummaryWall, "{wall} so far"),
    (T::SummaryTook, "took {wall}"),
    (T::QuitTitle, "Quit Haul?"),
    (
        T::QuitQuestion,
        "{n} items are still running — quit? They continue where they stopped the next time Haul starts.",
    ),
    (
        T::QuitQuestionOne,
        "1 item is still running — quit? It continues where it stopped the next time Haul starts.",
    ),
    (T::Quit, "Quit"),
    (T::KeepRunning, "Keep running"),
    (
        T::DialogUnavailable,
        "No file dialog is available here (it needs the desktop portal or zenity). Type or paste paths instead, or drop files on the window.",
    ),
    (T::DialogFailed, "The file dialog failed: {error}"),
    (T::ImportFailed, "Could not import {path}: {error}"),
    (T::Imported, "Imported {n} lines from {path}"),
    (T::FolderAdded, "Added {n} files from {path}"),
    (T::FolderFailed, "Could not read folder {path}: {error}"),
    (T::OpenFailed, "Could not open {path}: {error}"),
    (T::LogsTitle, "Recent warnings and errors"),
    (T::LogsEmpty, "No warnings or errors."),
    (
        T::EmptyList,
        "Nothing here yet. Paste URLs above, press Ctrl+V, drop files on the window, or use Add files….",
    ),
    (T::SavedAs, "Saved as"),
    (T::Digest, "SHA-256"),
    (T::Error, "Error"),
    (T::Source, "Source"),
    (T::SelectAll, "Select all"),
    (T::DropHint, "Drop files or folders to add them"),
    (T::RowsSelected, "{n} selected"),
    (T::ListPath, "List file"),
    (T::Import, "Import"),
    (T::Close, "Close"),
    (T::Expected, "Expected SHA-256"),
    (
        T::QueueMovedAside,
        "The saved queue could not be used ({reason}); it was moved to {path} and a new one was started.",
    ),
    (
        T::QueueUnavailable,
        "The queue cannot be saved ({reason}); this session's items will not be remembered.",
    ),
    (
        T::QueueInUse,
        "Another Haul has the saved queue open ({path}); this window will not remember its items.",
    ),
    (T::About, "About"),
    (T::AboutTagline, "Fetch many files and URLs at once."),
    (T::AboutVersion, "Version {version}"),
    (T::AboutLicense, "Licence: {license}"),
    (T::AboutDataDir, "Settings, queue and logs: {path}"),
];

/// The Simplified Chinese catalog.
const ZH: &[(T, &str)] = &[
    (T::AppTitle, "Haul"),
    (
        T::AddBoxHint,
        "粘贴网址或文件路径，每行一个（Ctrl+Enter 添加）",
    ),
    (T::Add, "添加"),
    (T::AddFiles, "添加文件…"),
    (T::ImportList, "导入列表…"),
    (T::Destination, "保存到"),
    (T::DestinationHint, "文件夹路径"),
    (T::ChooseFolder, "选择…"),
    (T::OpenFolder, "打开文件夹"),
    (T::Settings, "设置"),
    (T::Logs, "日志"),
    (T::Jobs, "同时下载数"),
    (T::PerHost, "每个主机"),
    (T::ConnectTimeout, "连接超时"),
    (T::StallTimeout, "停滞超时"),
    (T::Deadline, "单项时限"),
    (T::Seconds, "秒"),
    (T::NoDeadline, "无"),
    (T::WhenExists, "文件已存在时"),
    (T::NewName, "保留两者（新名称）"),
    (T::Overwrite, "覆盖"),
    (T::Language, "语言"),
    (T::LanguageSystem, "跟随系统"),
    (T::ColStatus, "状态"),
    (T::ColName, "名称"),
    (T::ColSource, "来源"),
    (T::ColProgress, "进度"),
    (T::ColSize, "大小"),
    (T::ColSpeed, "速度"),
    (T::ColEta, "剩余时间"),
    (T::ColElapsed, "用时"),
    (T::StatusQueued, "排队中"),
    (T::StatusConnecting, "连接中"),
    (T::StatusRunning, "下载中"),
    (T::StatusDone, "完成"),
    (T::StatusFailed, "失败"),
    (T::StatusTimedOut, "超时"),
    (T::StatusCancelled, "已取消"),
    (T::StatusPaused, "已暂停"),
    (T::RetryIn, "{wait} 后第 {n}/{of} 次重试"),
    (T::WaitingForPart, "等待中：另一个下载正在写入 {name}"),
    (T::Pause, "暂停"),
    (T::Resume, "继续"),
    (T::Retries, "重试次数"),
    (T::MaxSize, "大小上限"),
    (T::NoLimit, "无"),
    (T::Cancel, "取消"),
    (T::Retry, "重试"),
    (T::Open, "打开"),
    (T::ShowInFolder, "在文件夹中显示"),
    (T::Remove, "移除"),
    (T::Details, "详情"),
    (T::Filter, "显示"),
    (T::FilterAll, "全部"),
    (T::ClearFinished, "清除已结束"),
    (T::CancelAll, "全部取消"),
    (T::PauseQueue, "暂停队列"),
    (T::StartQueue, "开始队列"),
    (T::QueuePaused, "队列已暂停：正在下载的继续，排队的等待。"),
    (
        T::SummaryCounts,
        "共 {total} 项：{done} 完成，{running} 进行中，{queued} 排队，{paused} 已暂停，{failed} 失败，{timed_out} 超时，{cancelled} 已取消",
    ),
    (T::SummaryBytes, "{bytes}，{speed}"),
    (
        T::SummaryFaster,
        "用时 {wall}，逐个下载需 {sum} — 快 {ratio} 倍",
    ),
    (T::SummaryWall, "已用 {wall}"),
    (T::SummaryTook, "共用时 {wall}"),
    (T::QuitTitle, "退出 Haul？"),
    (
        T::QuitQuestion,
        "还有 {n} 项正在进行 — 退出吗？下次启动 Haul 时会从中断处继续。",
    ),
    (
        T::QuitQuestionOne,
        "还有 1 项正在进行 — 退出吗？下次启动 Haul 时会从中断处继续。",
    ),
    (T::Quit, "退出"),
    (T::KeepRunning, "继续下载"),
    (
        T::DialogUnavailable,
        "此处没有可用的文件对话框（需要桌面门户或 zenity）。请输入或粘贴路径，或把文件拖到窗口上。",
    ),
    (T::DialogFailed, "文件对话框出错：{error}"),
    (T::ImportFailed, "无法导入 {path}：{error}"),
    (T::Imported, "已从 {path} 导入 {n} 行"),
    (T::FolderAdded, "已从 {path} 添加 {n} 个文件"),
    (T::FolderFailed, "无法读取文件夹 {path}：{error}"),
    (T::OpenFailed, "无法打开 {path}：{error}"),
    (T::LogsTitle, "最近的警告和错误"),
    (T::LogsEmpty, "没有警告或错误。"),
    (
        T::EmptyList,
        "这里还没有内容。在上方粘贴网址、按 Ctrl+V、把文件拖到窗口上，或使用“添加文件…”。",
    ),
    (T::SavedAs, "保存为"),
    (T::Digest, "SHA-256"),
    (T::Error, "错误"),
    (T::Source, "来源"),
    (T::SelectAll, "全选"),
    (T::DropHint, "拖放文件或文件夹以添加"),
    (T::RowsSelected, "已选 {n} 项"),
    (T::ListPath, "列表文件"),
    (T::Import, "导入"),
    (T::Close, "关闭"),
    (T::Expected, "预期 SHA-256"),
    (
        T::QueueMovedAside,
        "无法使用已保存的队列（{reason}）；它已被移到 {path}，并已新建一个队列。",
    ),
    (
        T::QueueUnavailable,
        "无法保存队列（{reason}）；本次的项目不会被记住。",
    ),
    (
        T::QueueInUse,
        "另一个 Haul 正在使用已保存的队列（{path}）；本窗口的项目不会被记住。",
    ),
    (T::About, "关于"),
    (T::AboutTagline, "一次获取许多文件和网址。"),
    (T::AboutVersion, "版本 {version}"),
    (T::AboutLicense, "许可证：{license}"),
    (T::AboutDataDir, "设置、队列和日志：{path}"),
];

/// A catalog as a table indexed by key; a key missing from a catalog falls back to English.
fn table(catalog: &'static [(T, &'static str)]) -> Vec<&'static str> {
    let mut out = vec![""; T::ALL.len()];
    for (key, text) in EN.iter().chain(catalog) {
        out[*key as usize] = text;
    }
    out
}

static EN_TABLE: LazyLock<Vec<&'static str>> = LazyLock::new(|| table(EN));
static ZH_TABLE: LazyLock<Vec<&'static str>> = LazyLock::new(|| table(ZH));

/// Looks strings up in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr(pub Lang);

impl Tr {
    pub fn get(self, key: T) -> &'static str {
        let table = match self.0 {
            Lang::En => &EN_TABLE,
            Lang::Zh => &ZH_TABLE,
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
            Status::Failed => T::StatusFailed,
            Status::TimedOut => T::StatusTimedOut,
            Status::Cancelled => T::StatusCancelled,
            Status::Paused => T::StatusPaused,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(catalog: &[(T, &str)]) -> Vec<T> {
        catalog.iter().map(|(k, _)| *k).collect()
    }

    fn placeholders(text: &str) -> BTreeSet<String> {
        text.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
            .collect()
    }

    #[test]
    fn both_catalogs_have_the_same_keys_once_each() {
        let all: BTreeSet<T> = T::ALL.iter().copied().collect();
        assert_eq!(all.len(), T::ALL.len(), "T::ALL lists a key twice");
        for (name, catalog) in [("en", EN), ("zh", ZH)] {
            let keys = keys(catalog);
            let set: BTreeSet<T> = keys.iter().copied().collect();
            assert_eq!(set.len(), keys.len(), "{name} has a key twice");
            let missing: Vec<_> = all.difference(&set).collect();
            assert!(missing.is_empty(), "{name} lacks {missing:?}");
        }
        assert_eq!(keys(EN), keys(ZH), "catalogs list keys in different orders");
    }

    #[test]
    fn translations_are_non_empty_and_keep_their_placeholders() {
        for (key, en) in EN {
            let zh = Tr(Lang::Zh).get(*key);
            assert!(!en.is_empty() && !zh.is_empty(), "{key:?} is empty");
            assert_eq!(placeholders(en), placeholders(zh), "{key:?}");
        }
        // Most strings are really translated (names like "Haul" and "SHA-256" stay).
        let same = EN
            .iter()
            .filter(|(key, en)| Tr(Lang::Zh).get(*key) == *en)
            .count();
        assert!(same <= 2, "{same} Chinese strings are English");
    }

    #[test]
    fn language_follows_the_locale_unless_chosen() {
        let system = LanguageChoice::System;
        assert_eq!(system.resolve(Some("zh-CN")), Lang::Zh);
        assert_eq!(system.resolve(Some("zh_CN.UTF-8")), Lang::Zh);
        assert_eq!(system.resolve(Some("zh-Hans-CN")), Lang::Zh);
        assert_eq!(system.resolve(Some("en-US")), Lang::En);
        assert_eq!(system.resolve(Some("C")), Lang::En);
        assert_eq!(system.resolve(None), Lang::En);
        assert_eq!(LanguageChoice::Chinese.resolve(Some("en-US")), Lang::Zh);
        assert_eq!(LanguageChoice::English.resolve(Some("zh-CN")), Lang::En);
    }

    #[test]
    fn fill_replaces_every_placeholder() {
        let text = Tr(Lang::En).fill(T::QuitQuestion, &[("n", "3")]);
        assert!(
            text.starts_with("3 items are still running — quit?"),
            "{text}"
        );
        let text = Tr(Lang::Zh).fill(T::QuitQuestion, &[("n", "3")]);
        assert!(text.starts_with("还有 3 项正在进行 — 退出吗？"), "{text}");
    }
}
