//! aria2's JSON-RPC methods over any list of downloads ([`Downloads`]: the headless
//! [`super::Table`], or the window's list), with aria2's parameter and result shapes (gids as
//! 16 hex digits, numbers as decimal strings, statuses `active`, `waiting`, `paused`, `error`,
//! `complete`, `removed`), as its manual describes them ("RPC interface").
//!
//! Owns: the methods and the shapes, and reading an `addUri`'s options through the option
//! table (`crate::options`), so lists, the CLI, the window and the RPC agree.
//! Must not touch: the network (`rpc::http`), the engine (the [`Downloads`] do).

use std::path::PathBuf;
use std::time::Instant;

use serde_json::{Value, json};

mod options;
mod torrent;
use crate::protocol::{Checksum, ItemOptions, Limits, Output, Source, Status};
use haul_core::session::{Entry, Session};

/// The methods served (`system.listMethods`).
pub const METHODS: [&str; 27] = [
    "aria2.addUri",
    "aria2.addTorrent",
    "aria2.tellStatus",
    "aria2.getFiles",
    "aria2.tellActive",
    "aria2.tellWaiting",
    "aria2.tellStopped",
    "aria2.pause",
    "aria2.forcePause",
    "aria2.pauseAll",
    "aria2.forcePauseAll",
    "aria2.unpause",
    "aria2.unpauseAll",
    "aria2.remove",
    "aria2.forceRemove",
    "aria2.removeDownloadResult",
    "aria2.purgeDownloadResult",
    "aria2.changePosition",
    "aria2.getGlobalStat",
    "aria2.getGlobalOption",
    "aria2.changeGlobalOption",
    "aria2.getOption",
    "aria2.changeOption",
    "aria2.getVersion",
    "aria2.getSessionInfo",
    "system.multicall",
    "system.listMethods",
];

/// A method's failure, as aria2 reports it (`{"code": 1, "message": …}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcFailure(pub String);

pub type Reply = Result<Value, RpcFailure>;

fn fail<T>(message: impl Into<String>) -> Result<T, RpcFailure> {
    Err(RpcFailure(message.into()))
}

/// One download as the methods see it.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub gid: u64,
    pub status: Status,
    /// Removed by `remove` (aria2's `removed`): its bytes are kept, it runs no more.
    pub removed: bool,
    pub uri: String,
    pub dest: PathBuf,
    /// Where the file is, once done; else where it will be, once named.
    pub path: Option<PathBuf>,
    pub out: Option<String>,
    /// Its own options (`getOption`): the table reads them back as text.
    pub options: ItemOptions,
    pub checksum: Option<Checksum>,
    pub total: Option<u64>,
    pub done: u64,
    /// Bytes a second.
    pub speed: u64,
    /// Connections in use now (aria2's `connections`).
    pub connections: usize,
    pub error: Option<String>,
    /// Every file a done download wrote (aria2's `files`); empty until then, when `path` is
    /// the one planned.
    pub files: Vec<crate::protocol::DoneFile>,
    /// The name its row shows (a torrent's name once its metadata is known).
    pub name: String,
    /// A torrent's swarm (aria2's `bittorrent`, `numSeeders`, `uploadLength`, `numPieces`);
    /// `None` for other downloads.
    pub swarm: Option<crate::protocol::Swarm>,
    /// A torrent's files once its metadata is known, each with its verified bytes (aria2's
    /// `files` for a torrent); empty for other downloads.
    pub torrent_files: Vec<crate::protocol::TorrentFile>,
}

impl View {
    /// A download as the methods see it at `now`.
    pub fn of(entry: &Entry, now: Instant) -> View {
        View {
            gid: entry.gid,
            status: entry.status(),
            removed: entry.removed,
            uri: entry.uri.clone(),
            dest: entry.dest.clone(),
            path: Some(entry.path()),
            out: entry.options.out.clone(),
            options: (*entry.options).clone(),
            checksum: entry.checksum,
            total: entry.total(),
            done: entry.done(),
            speed: entry.bytes_per_sec(now),
            connections: entry.connections(),
            error: entry.error(),
            files: entry.files().to_vec(),
            name: entry.name.clone(),
            swarm: entry.swarm,
            torrent_files: entry.torrent_files.clone(),
        }
    }

    fn active(&self) -> bool {
        !self.removed && matches!(self.status, Status::Connecting | Status::Running)
    }

    fn waiting(&self) -> bool {
        !self.removed && self.status == Status::Queued
    }

    fn paused(&self) -> bool {
        !self.removed && self.status == Status::Paused
    }

    fn stopped(&self) -> bool {
        !self.active() && !self.waiting() && !self.paused()
    }
}

/// A list of downloads the methods act on. Gids are the list's own stable keys.
pub trait Downloads {
    /// Where files go (`dir` may only name a folder inside it).
    fn dest(&self) -> PathBuf {
        self.globals().1.dest
    }
    /// Queues a download; returns its gid.
    fn add(
        &mut self,
        source: Source,
        uri: &str,
        dest: PathBuf,
        checksum: Option<Checksum>,
        options: ItemOptions,
    ) -> u64;
    /// The list (the same [`Session`] the window and the headless server keep).
    fn session(&self) -> &Session;
    /// Every download, in the list's order, as the methods read it now.
    fn views(&self) -> Vec<View> {
        let now = Instant::now();
        self.session()
            .entries()
            .iter()
            .map(|e| View::of(e, now))
            .collect()
    }
    /// Pauses an active or waiting download (its bytes kept).
    fn pause(&mut self, gid: u64);
    /// Runs a paused download again (it resumes from its bytes).
    fn unpause(&mut self, gid: u64);
    /// Stops a download for good, keeping its bytes on disk (as aria2's `remove`).
    fn remove(&mut self, gid: u64);
    /// Drops a stopped download from the list.
    fn forget(&mut self, gid: u64);
    /// Moves a download in the list to just before or after another (the engine starts
    /// queued downloads in the list's order).
    fn reposition(&mut self, gid: u64, beside: Beside);
    /// The global options: caps, timeouts and limits, and where and how files are written.
    fn globals(&self) -> (Limits, Output);
    /// Changes them (`changeGlobalOption`): they apply at once, as the settings' do.
    fn set_globals(&mut self, limits: Limits, output: Output);
    /// Gives a download new options of its own (`changeOption`): its speed limit applies at
    /// once, also while it runs; the others when it next starts.
    fn set_options(&mut self, gid: u64, options: ItemOptions);
}

/// Where [`Downloads::reposition`] puts a download: beside another, by gid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beside {
    Before(u64),
    After(u64),
}

impl Beside {
    /// The other download's gid, and whether to go after it.
    pub fn split(self) -> (u64, bool) {
        match self {
            Beside::Before(other) => (other, false),
            Beside::After(other) => (other, true),
        }
    }
}

/// Calls `method` with `params` (the token already taken off) on `downloads`.
pub fn call(downloads: &mut dyn Downloads, method: &str, params: &[Value]) -> Reply {
    let views = || downloads.views();
    match method {
        "aria2.addUri" => options::add_uri(downloads, params),
        "aria2.addTorrent" => torrent::add_torrent(downloads, params),
        "aria2.tellStatus" => {
            let view = find(&views(), params.first())?;
            Ok(keep_keys(status(&view), params.get(1)))
        }
        "aria2.getFiles" => {
            let view = find(&views(), params.first())?;
            Ok(status(&view)["files"].take())
        }
        "aria2.tellActive" => Ok(list(&views(), View::active, params.first(), 0, usize::MAX)),
        "aria2.tellWaiting" => {
            let (offset, num) = window(params)?;
            Ok(list(
                &views(),
                |v| v.waiting() || v.paused(),
                params.get(2),
                offset,
                num,
            ))
        }
        "aria2.tellStopped" => {
            let (offset, num) = window(params)?;
            Ok(list(&views(), View::stopped, params.get(2), offset, num))
        }
        "aria2.pause" | "aria2.forcePause" => {
            let view = find(&views(), params.first())?;
            if !(view.active() || view.waiting()) {
                return fail(format!("GID {} cannot be paused now", gid_text(view.gid)));
            }
            downloads.pause(view.gid);
            Ok(json!(gid_text(view.gid)))
        }
        "aria2.pauseAll" | "aria2.forcePauseAll" => {
            for view in views().iter().filter(|v| v.active() || v.waiting()) {
                downloads.pause(view.gid);
            }
            Ok(json!("OK"))
        }
        "aria2.unpause" => {
            let view = find(&views(), params.first())?;
            if !view.paused() {
                return fail(format!("GID {} cannot be unpaused now", gid_text(view.gid)));
            }
            downloads.unpause(view.gid);
            Ok(json!(gid_text(view.gid)))
        }
        "aria2.unpauseAll" => {
            for view in views().iter().filter(|v| v.paused()) {
                downloads.unpause(view.gid);
            }
            Ok(json!("OK"))
        }
        "aria2.remove" | "aria2.forceRemove" => {
            let view = find(&views(), params.first())?;
            if view.stopped() {
                return fail(format!(
                    "GID {} is not active or waiting",
                    gid_text(view.gid)
                ));
            }
            downloads.remove(view.gid);
            Ok(json!(gid_text(view.gid)))
        }
        "aria2.removeDownloadResult" => {
            let view = find(&views(), params.first())?;
            if !view.stopped() {
                return fail(format!("GID {} is not stopped", gid_text(view.gid)));
            }
            downloads.forget(view.gid);
            Ok(json!("OK"))
        }
        "aria2.purgeDownloadResult" => {
            for view in views().iter().filter(|v| v.stopped()) {
                downloads.forget(view.gid);
            }
            Ok(json!("OK"))
        }
        "aria2.changePosition" => change_position(downloads, params),
        "aria2.getGlobalStat" => Ok(global_stat(&views())),
        "aria2.getGlobalOption" => Ok(options::global_options(downloads)),
        "aria2.changeGlobalOption" => options::change_global(downloads, params.first()),
        "aria2.getOption" => {
            let view = find(&views(), params.first())?;
            Ok(options::item_options(&view))
        }
        "aria2.changeOption" => options::change_option(downloads, params),
        "aria2.getVersion" => Ok(json!({
            "version": crate::version::VERSION,
            "enabledFeatures": ["HTTPS", "Haul"],
        })),
        "aria2.getSessionInfo" => Ok(json!({ "sessionId": "haul" })),
        "system.listMethods" => Ok(json!(METHODS)),
        other => fail(format!("No such method: {other}")),
    }
}

/// aria2's `changePosition(gid, pos, how)`: moves a waiting or paused download within that
/// queue, `pos` counted from its start (`POS_SET`), from where it is (`POS_CUR`) or from its
/// end (`POS_END`); a place before the start or past the end means the start or the end.
/// Returns its new place (0 is first). Only a download in that queue can move, as in aria2.
fn change_position(downloads: &mut dyn Downloads, params: &[Value]) -> Reply {
    let gid = parse_gid(params.first())?;
    let Some(pos) = params.get(1).and_then(integer) else {
        return fail("changePosition takes a GID, a position (a number) and how to count it");
    };
    let queue: Vec<u64> = downloads
        .views()
        .iter()
        .filter(|v| v.waiting() || v.paused())
        .map(|v| v.gid)
        .collect();
    let Some(now) = queue.iter().position(|&g| g == gid) else {
        return fail(format!("GID {} is not waiting in the queue", gid_text(gid)));
    };
    let last = i64::try_from(queue.len()).unwrap_or(i64::MAX) - 1;
    let wanted = match params.get(2).and_then(Value::as_str) {
        Some("POS_SET") => pos,
        Some("POS_CUR") => i64::try_from(now).unwrap_or(0).saturating_add(pos),
        Some("POS_END") => last.saturating_add(pos),
        _ => {
            let sent = params.get(2).map_or("nothing".to_owned(), Value::to_string);
            return fail(format!(
                "how must be POS_SET, POS_CUR or POS_END, not {sent}"
            ));
        }
    };
    let to = usize::try_from(wanted.clamp(0, last.max(0))).unwrap_or(0);
    if to != now {
        let others: Vec<u64> = queue.into_iter().filter(|&g| g != gid).collect();
        let beside = match others.get(to) {
            Some(&next) => Beside::Before(next),
            None => Beside::After(others.last().copied().unwrap_or(gid)),
        };
        downloads.reposition(gid, beside);
    }
    Ok(json!(to))
}

/// The download a gid parameter names. Errors: not a gid, or no such download.
fn find(views: &[View], gid: Option<&Value>) -> Result<View, RpcFailure> {
    let gid = parse_gid(gid)?;
    views
        .iter()
        .find(|v| v.gid == gid)
        .cloned()
        .ok_or_else(|| RpcFailure(format!("GID {} is not found", gid_text(gid))))
}

/// An integer as aria2 reads one: a JSON integer, or a number with its fraction dropped (a
/// client's `2.0`), clamped to the 64-bit range.
fn integer(value: &Value) -> Option<i64> {
    value.as_i64().or_else(|| {
        let f = value.as_f64().filter(|f| f.is_finite())?;
        // `as` saturates at the ends of the range.
        Some(f.trunc() as i64)
    })
}

fn global_stat(views: &[View]) -> Value {
    let count = |keep: fn(&View) -> bool| views.iter().filter(|v| keep(v)).count().to_string();
    let speed: u64 = views.iter().map(|v| v.speed).sum();
    json!({
        "downloadSpeed": speed.to_string(),
        "uploadSpeed": "0",
        "numActive": count(View::active),
        "numWaiting": count(|v| v.waiting() || v.paused()),
        "numStopped": count(View::stopped),
        "numStoppedTotal": count(View::stopped),
    })
}

fn list(
    views: &[View],
    keep: impl Fn(&View) -> bool,
    keys: Option<&Value>,
    offset: i64,
    num: usize,
) -> Value {
    let mut kept: Vec<&View> = views.iter().filter(|v| keep(v)).collect();
    let skip = if offset < 0 {
        kept.reverse();
        usize::try_from(-(offset + 1)).unwrap_or(usize::MAX)
    } else {
        usize::try_from(offset).unwrap_or(usize::MAX)
    };
    Value::Array(
        kept.into_iter()
            .skip(skip)
            .take(num)
            .map(|v| keep_keys(status(v), keys))
            .collect(),
    )
}

fn parse_gid(gid: Option<&Value>) -> Result<u64, RpcFailure> {
    let text = gid.and_then(Value::as_str).unwrap_or_default();
    u64::from_str_radix(text, 16)
        .ok()
        .filter(|_| text.len() == 16)
        .ok_or_else(|| {
            let sent = gid.map_or("nothing".to_owned(), Value::to_string);
            RpcFailure(format!("{sent} is not a GID (16 hex digits)"))
        })
}

/// `tellWaiting`/`tellStopped`'s offset and count. As in aria2, a negative offset counts
/// from the end (-1 is the last) and the list then runs backwards, newest first.
fn window(params: &[Value]) -> Result<(i64, usize), RpcFailure> {
    let number = |v: Option<&Value>| v.and_then(Value::as_i64);
    match (number(params.first()), number(params.get(1))) {
        (Some(offset), Some(num)) if num >= 0 => Ok((offset, usize::try_from(num).unwrap_or(0))),
        _ => fail("expected an offset and a number of downloads"),
    }
}

/// aria2's notification for an engine event, if it is one: `onDownloadStart` when bytes are
/// about to flow, and one for each way a run ends.
pub fn notification(event: &crate::protocol::Event) -> Option<&'static str> {
    use crate::protocol::{Event, Outcome};
    match event {
        Event::Started { .. } => Some("onDownloadStart"),
        Event::Finished { outcome, .. } => Some(match outcome {
            Outcome::Done { .. } | Outcome::Skipped { .. } => "onDownloadComplete",
            Outcome::Paused => "onDownloadPause",
            Outcome::Cancelled => "onDownloadStop",
            Outcome::Failed(_) | Outcome::TimedOut(_) => "onDownloadError",
        }),
        _ => None,
    }
}

/// A gid as aria2 writes it: 16 hex digits.
pub fn gid_text(gid: u64) -> String {
    format!("{gid:016x}")
}

/// aria2's status word.
fn word(v: &View) -> &'static str {
    if v.removed {
        return "removed";
    }
    match v.status {
        Status::Queued => "waiting",
        Status::Connecting | Status::Running => "active",
        Status::Paused => "paused",
        Status::Done | Status::Skipped => "complete",
        Status::Failed | Status::TimedOut => "error",
        Status::Cancelled => "removed",
    }
}

/// aria2's `files`: a torrent's every file, else every file a done download wrote, else the
/// one it is writing.
fn files(v: &View, path: String, total: u64) -> Value {
    if let Some(files) = torrent::files(v) {
        return files;
    }
    let uris = json!([{ "uri": crate::protocol::redact(&v.uri), "status": "used" }]);
    if v.files.is_empty() {
        return json!([{
            "index": "1",
            "path": path,
            "length": total.to_string(),
            "completedLength": v.done.to_string(),
            "selected": "true",
            "uris": uris,
        }]);
    }
    v.files
        .iter()
        .enumerate()
        .map(|(i, file)| {
            json!({
                "index": (i + 1).to_string(),
                "path": file.path.display().to_string(),
                "length": file.length.to_string(),
                "completedLength": file.length.to_string(),
                "selected": "true",
                "uris": uris,
            })
        })
        .collect()
}

/// A download's status object with every key.
fn status(v: &View) -> Value {
    let total = v.total.unwrap_or(0);
    let path = v
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut value = json!({
        "gid": gid_text(v.gid),
        "status": word(v),
        "totalLength": total.to_string(),
        "completedLength": v.done.to_string(),
        "uploadLength": "0",
        "downloadSpeed": v.speed.to_string(),
        "uploadSpeed": "0",
        "connections": v.connections.to_string(),
        "numPieces": torrent::pieces(v).0.to_string(),
        "pieceLength": torrent::pieces(v).1.to_string(),
        "dir": v.dest.display().to_string(),
        "files": files(v, path, total),
    });
    if let Some(swarm) = &v.swarm {
        value["uploadLength"] = json!(swarm.uploaded.to_string());
        value["uploadSpeed"] = json!(swarm.up_speed.to_string());
        value["numSeeders"] = json!(swarm.seeds.to_string());
        value["connections"] = json!(swarm.peers.to_string());
        value["seeder"] = json!(swarm.seeding.to_string());
        // aria2 leaves out `info` while a magnet link's metadata is still being fetched.
        value["bittorrent"] = if swarm.metadata {
            json!({})
        } else {
            // The torrent's top file or folder in the destination (its files' first part).
            let top = v
                .files
                .first()
                .and_then(|f| f.path.strip_prefix(&v.dest).ok())
                .and_then(|p| p.components().next())
                .map_or_else(
                    || v.name.clone(),
                    |c| c.as_os_str().to_string_lossy().into_owned(),
                );
            json!({ "info": { "name": top } })
        };
    }
    if let Some(error) = &v.error
        && word(v) == "error"
    {
        value["errorCode"] = json!("1");
        value["errorMessage"] = json!(error);
    }
    value
}

/// Only the `keys` asked for, when a list of keys is given.
fn keep_keys(value: Value, keys: Option<&Value>) -> Value {
    match (value, keys) {
        (Value::Object(map), Some(Value::Array(keys))) if !keys.is_empty() => {
            let wanted: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
            Value::Object(
                map.into_iter()
                    .filter(|(k, _)| wanted.contains(&k.as_str()))
                    .collect(),
            )
        }
        (value, _) => value,
    }
}
