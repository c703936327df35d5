//! aria2's JSON-RPC methods over Haul's items: the downloads table a front end keeps from the
//! engine's events, and each method's parameters and result in aria2's shapes (gids as 16 hex
//! digits, numbers as decimal strings, statuses `active`, `waiting`, `paused`, `error`,
//! `complete`, `removed`), as its manual describes them ("RPC interface").
//!
//! Owns: the table (gid ↔ the engine's current job id), the methods, the option names an
//! `addUri` may carry (through `crate::options`, so lists, the CLI, the window and the RPC
//! agree). Must not touch: the network (that is `rpc::http`), tokio, the disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};

use crate::options::Given;
use crate::protocol::{
    Checksum, Command, Event, ItemOptions, JobId, Limits, Outcome, Source, Status,
};

/// The methods served (`system.listMethods`).
pub const METHODS: [&str; 23] = [
    "aria2.addUri",
    "aria2.tellStatus",
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
    "aria2.getGlobalStat",
    "aria2.getGlobalOption",
    "aria2.changeGlobalOption",
    "aria2.getOption",
    "aria2.getVersion",
    "aria2.getSessionInfo",
    "system.multicall",
    "system.listMethods",
];

/// What a method call asks of the engine, besides its reply.
pub trait Engine {
    fn next_id(&self) -> JobId;
    fn send(&self, command: Command);
}

/// A method's failure, as aria2 reports it (`{"code": 1, "message": …}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcFailure(pub String);

type Reply = Result<Value, RpcFailure>;

fn fail<T>(message: impl Into<String>) -> Result<T, RpcFailure> {
    Err(RpcFailure(message.into()))
}

/// One download as the RPC sees it.
#[derive(Debug, Clone)]
struct Entry {
    gid: u64,
    /// The engine's id of its current run; a new one after each unpause.
    id: JobId,
    source: Source,
    uri: String,
    dest: PathBuf,
    checksum: Option<Checksum>,
    options: ItemOptions,
    status: Status,
    /// Removed by `remove` (aria2's `removed`), not by the engine.
    removed: bool,
    name: Option<String>,
    path: Option<PathBuf>,
    total: Option<u64>,
    done: u64,
    /// Bytes a second, from the last two progress reports.
    speed: u64,
    last: Option<(Instant, u64)>,
    error: Option<String>,
}

/// The downloads, in the order they were added; stopped ones until their result is removed.
#[derive(Debug)]
pub struct Table {
    entries: Vec<Entry>,
    by_id: HashMap<JobId, u64>,
    next_gid: u64,
    /// Where files go (`dir` may only name a folder inside it).
    dest: PathBuf,
    limits: Limits,
    /// The engine's speed limit in bytes/s, when set.
    max_rate: Option<u64>,
}

impl Table {
    pub fn new(dest: PathBuf, limits: Limits) -> Table {
        Table {
            entries: Vec::new(),
            by_id: HashMap::new(),
            // Not 0, and not a guessable first gid.
            next_gid: 0x2089_b05e_cca3_d829,
            dest,
            limits,
            max_rate: limits.max_rate,
        }
    }

    /// Applies one engine event to the entry it belongs to.
    pub fn apply(&mut self, event: &Event, now: Instant) {
        let Some(entry) = self
            .by_id
            .get(&event.id())
            .and_then(|gid| self.entries.iter_mut().find(|e| e.gid == *gid))
        else {
            return;
        };
        match event {
            Event::Connecting { .. } => entry.status = Status::Connecting,
            Event::Started { name, total, .. } => {
                entry.status = Status::Running;
                entry.name = Some(name.clone());
                entry.total = *total;
            }
            Event::Progress { done, total, .. } => {
                entry.status = Status::Running;
                if let Some((at, before)) = entry.last {
                    let secs = now.duration_since(at).as_secs_f64();
                    if secs > 0.0 {
                        entry.speed = (done.saturating_sub(before) as f64 / secs) as u64;
                    }
                }
                entry.last = Some((now, *done));
                entry.done = *done;
                entry.total = *total;
            }
            Event::Finished { bytes, outcome, .. } => {
                entry.status = outcome.status();
                entry.speed = 0;
                entry.last = None;
                entry.done = *bytes;
                match outcome {
                    Outcome::Done { path, .. } | Outcome::Skipped { path } => {
                        entry.path = Some(path.clone());
                        entry.total = Some(entry.total.unwrap_or(*bytes).max(*bytes));
                        entry.done = entry.total.unwrap_or(*bytes);
                    }
                    other => entry.error = other.error_text(),
                }
            }
            Event::Retrying { reason, .. } => entry.error = Some(reason.clone()),
            Event::Waiting { .. } | Event::Parts { .. } => {}
        }
    }

    /// Calls `method` with `params` (the token already taken off).
    pub fn call(&mut self, method: &str, params: &[Value], engine: &dyn Engine) -> Reply {
        match method {
            "aria2.addUri" => self.add_uri(params, engine),
            "aria2.tellStatus" => {
                let entry = self.entry(params.first())?;
                Ok(keep_keys(status(entry), params.get(1)))
            }
            "aria2.tellActive" => Ok(self.list(is_active, params.first(), 0, usize::MAX)),
            "aria2.tellWaiting" => {
                let (offset, num) = window(params)?;
                Ok(self.list(is_waiting, params.get(2), offset, num))
            }
            "aria2.tellStopped" => {
                let (offset, num) = window(params)?;
                Ok(self.list(
                    |e| !is_active(e) && !is_waiting(e),
                    params.get(2),
                    offset,
                    num,
                ))
            }
            "aria2.pause" | "aria2.forcePause" => {
                let entry = self.entry(params.first())?;
                let gid = entry.gid;
                if !(is_active(entry) || is_waiting(entry)) {
                    return fail(format!("GID {} cannot be paused now", gid_text(gid)));
                }
                engine.send(Command::Pause(entry.id));
                Ok(json!(gid_text(gid)))
            }
            "aria2.pauseAll" | "aria2.forcePauseAll" => {
                for entry in self
                    .entries
                    .iter()
                    .filter(|e| is_active(e) || is_waiting(e))
                {
                    engine.send(Command::Pause(entry.id));
                }
                Ok(json!("OK"))
            }
            "aria2.unpause" => {
                let entry = self.entry_mut(params.first())?;
                unpause(entry, engine)?;
                let (id, gid) = (entry.id, entry.gid);
                self.by_id.insert(id, gid);
                Ok(json!(gid_text(gid)))
            }
            "aria2.unpauseAll" => {
                for entry in self.entries.iter_mut() {
                    if unpause(entry, engine).is_ok() {
                        self.by_id.insert(entry.id, entry.gid);
                    }
                }
                Ok(json!("OK"))
            }
            "aria2.remove" | "aria2.forceRemove" => {
                let entry = self.entry_mut(params.first())?;
                if !(is_active(entry) || is_waiting(entry) || entry.status == Status::Paused) {
                    return fail(format!(
                        "GID {} is not active or waiting",
                        gid_text(entry.gid)
                    ));
                }
                entry.removed = true;
                let (id, gid, paused) = (entry.id, entry.gid, entry.status == Status::Paused);
                // As aria2's remove, the bytes stay on disk: the run is paused (its `.part`
                // and sidecar kept), never deleted on a remote call.
                if !paused {
                    engine.send(Command::Pause(id));
                }
                Ok(json!(gid_text(gid)))
            }
            "aria2.removeDownloadResult" => {
                let entry = self.entry(params.first())?;
                let gid = entry.gid;
                if is_active(entry)
                    || is_waiting(entry)
                    || entry.status == Status::Paused && !entry.removed
                {
                    return fail(format!("GID {} is not stopped", gid_text(gid)));
                }
                self.entries.retain(|e| e.gid != gid);
                self.by_id.retain(|_, g| *g != gid);
                Ok(json!("OK"))
            }
            "aria2.purgeDownloadResult" => {
                let stopped: Vec<u64> = self
                    .entries
                    .iter()
                    .filter(|e| {
                        !is_active(e) && !is_waiting(e) && (e.status != Status::Paused || e.removed)
                    })
                    .map(|e| e.gid)
                    .collect();
                self.entries.retain(|e| !stopped.contains(&e.gid));
                self.by_id.retain(|_, g| !stopped.contains(g));
                Ok(json!("OK"))
            }
            "aria2.getGlobalStat" => Ok(self.global_stat()),
            "aria2.getGlobalOption" => Ok(json!({
                "dir": self.dest.display().to_string(),
                "max-concurrent-downloads": self.limits.jobs.to_string(),
                "max-overall-download-limit": self.max_rate.unwrap_or(0).to_string(),
                "split": self.limits.split.to_string(),
            })),
            "aria2.changeGlobalOption" => self.change_global(params.first(), engine),
            "aria2.getOption" => {
                let entry = self.entry(params.first())?;
                let mut options = json!({ "dir": entry.dest.display().to_string() });
                if let Some(out) = &entry.options.out {
                    options["out"] = json!(out);
                }
                Ok(options)
            }
            "aria2.getVersion" => Ok(json!({
                "version": crate::version::VERSION,
                "enabledFeatures": ["HTTPS", "Haul"],
            })),
            "aria2.getSessionInfo" => Ok(json!({ "sessionId": format!("{:040x}", self.next_gid) })),
            "system.listMethods" => Ok(json!(METHODS)),
            other => fail(format!("No such method: {other}")),
        }
    }

    fn add_uri(&mut self, params: &[Value], engine: &dyn Engine) -> Reply {
        let Some(Value::Array(uris)) = params.first() else {
            return fail("addUri takes a list of URIs first");
        };
        let Some(uri) = uris.first().and_then(Value::as_str) else {
            return fail("addUri takes at least one URI");
        };
        let source = match Source::parse(uri, Path::new("/")) {
            Ok(source @ Source::Url(_)) => source,
            Ok(Source::File(_)) => return fail(format!("'{uri}' is not an http or https URI")),
            Err(e) => return fail(format!("'{uri}': {e}")),
        };
        let given = self.given(params.get(1))?;
        let dest = match &given.dir {
            Some(dir) => self.dest.join(dir),
            None => self.dest.clone(),
        };
        let mut options = given.options;
        if let Some(file) = given.load_cookies {
            options.request.cookies_file = Some(self.dest.join(file));
        }
        let gid = self.next_gid;
        self.next_gid = self.next_gid.wrapping_add(0x9e37_79b9_7f4a_7c15) | 1;
        let id = engine.next_id();
        engine.send(Command::Submit {
            id,
            source: source.clone(),
            sha256: given.checksum,
            dest: Some(dest.clone()),
            options: Box::new(options.clone()),
        });
        self.by_id.insert(id, gid);
        self.entries.push(Entry {
            gid,
            id,
            source,
            uri: uri.to_owned(),
            dest,
            checksum: given.checksum,
            options,
            status: Status::Queued,
            removed: false,
            name: None,
            path: None,
            total: None,
            done: 0,
            speed: 0,
            last: None,
            error: None,
        });
        Ok(json!(gid_text(gid)))
    }

    /// An `addUri` options object through the option table. `dir` may be absolute only when
    /// it lies inside the destination (web front ends send absolute folders).
    fn given(&self, options: Option<&Value>) -> Result<Given, RpcFailure> {
        let mut given = Given::default();
        let Some(Value::Object(map)) = options else {
            return Ok(given);
        };
        for (name, value) in map {
            let values: Vec<String> = match value {
                Value::String(text) => vec![text.clone()],
                Value::Array(items) => items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                Value::Number(n) => vec![n.to_string()],
                _ => return fail(format!("option '{name}' must be a string")),
            };
            for mut value in values {
                if name == "dir" {
                    let path = Path::new(&value);
                    if path.is_absolute() {
                        match path.strip_prefix(&self.dest) {
                            Ok(inside) if inside.as_os_str().is_empty() => continue,
                            Ok(inside) => value = inside.display().to_string(),
                            Err(_) => {
                                return fail(format!(
                                    "dir '{}' is outside the destination folder {}",
                                    path.display(),
                                    self.dest.display()
                                ));
                            }
                        }
                    }
                }
                given
                    .set(name, &value)
                    .map_err(|e| RpcFailure(e.to_string()))?;
            }
        }
        given.finish().map_err(|e| RpcFailure(e.to_string()))
    }

    fn change_global(&mut self, options: Option<&Value>, engine: &dyn Engine) -> Reply {
        let Some(Value::Object(map)) = options else {
            return fail("changeGlobalOption takes an options object");
        };
        for (name, value) in map {
            let text = value
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_string());
            match name.as_str() {
                "max-concurrent-downloads" => match text.parse::<usize>() {
                    Ok(n) if n >= 1 => self.limits.jobs = n,
                    _ => return fail(format!("max-concurrent-downloads: '{text}' is not a count")),
                },
                "max-overall-download-limit" => {
                    self.max_rate = if text == "0" {
                        None
                    } else {
                        Some(crate::human::parse_size(&text).map_err(RpcFailure)?)
                    };
                    self.limits.max_rate = self.max_rate;
                }
                "dir" => {
                    return fail(
                        "dir is the destination Haul was started with; give dir per download inside it",
                    );
                }
                other => return fail(format!("option '{other}' cannot be changed here")),
            }
        }
        engine.send(Command::SetLimits(self.limits));
        Ok(json!("OK"))
    }

    fn global_stat(&self) -> Value {
        let count = |keep: &dyn Fn(&Entry) -> bool| self.entries.iter().filter(|e| keep(e)).count();
        let speed: u64 = self.entries.iter().map(|e| e.speed).sum();
        let stopped = count(&|e| !is_active(e) && !is_waiting(e));
        json!({
            "downloadSpeed": speed.to_string(),
            "uploadSpeed": "0",
            "numActive": count(&|e| is_active(e)).to_string(),
            "numWaiting": count(&|e| is_waiting(e)).to_string(),
            "numStopped": stopped.to_string(),
            "numStoppedTotal": stopped.to_string(),
        })
    }

    fn list(
        &self,
        keep: impl Fn(&Entry) -> bool,
        keys: Option<&Value>,
        offset: usize,
        num: usize,
    ) -> Value {
        Value::Array(
            self.entries
                .iter()
                .filter(|e| keep(e))
                .skip(offset)
                .take(num)
                .map(|e| keep_keys(status(e), keys))
                .collect(),
        )
    }

    fn entry(&self, gid: Option<&Value>) -> Result<&Entry, RpcFailure> {
        let gid = parse_gid(gid)?;
        self.entries
            .iter()
            .find(|e| e.gid == gid)
            .ok_or_else(|| RpcFailure(format!("GID {} is not found", gid_text(gid))))
    }

    fn entry_mut(&mut self, gid: Option<&Value>) -> Result<&mut Entry, RpcFailure> {
        let gid = parse_gid(gid)?;
        self.entries
            .iter_mut()
            .find(|e| e.gid == gid)
            .ok_or_else(|| RpcFailure(format!("GID {} is not found", gid_text(gid))))
    }
}

/// Submits a paused entry again: it resumes from its `.part` as a new run (a new job id).
fn unpause(entry: &mut Entry, engine: &dyn Engine) -> Result<(), RpcFailure> {
    if entry.status != Status::Paused || entry.removed {
        return fail(format!(
            "GID {} cannot be unpaused now",
            gid_text(entry.gid)
        ));
    }
    let id = engine.next_id();
    engine.send(Command::Submit {
        id,
        source: entry.source.clone(),
        sha256: entry.checksum,
        dest: Some(entry.dest.clone()),
        options: Box::new(entry.options.clone()),
    });
    entry.id = id;
    entry.status = Status::Queued;
    entry.error = None;
    Ok(())
}

fn parse_gid(gid: Option<&Value>) -> Result<u64, RpcFailure> {
    let text = gid.and_then(Value::as_str).unwrap_or_default();
    u64::from_str_radix(text, 16)
        .ok()
        .filter(|_| text.len() == 16)
        .ok_or_else(|| RpcFailure(format!("'{text}' is not a GID (16 hex digits)")))
}

/// `tellWaiting`/`tellStopped`'s offset and count (a negative offset counts from the end in
/// aria2; Haul takes it as 0).
fn window(params: &[Value]) -> Result<(usize, usize), RpcFailure> {
    let number = |v: Option<&Value>| v.and_then(Value::as_i64);
    match (number(params.first()), number(params.get(1))) {
        (Some(offset), Some(num)) if num >= 0 => Ok((offset.max(0) as usize, num as usize)),
        _ => fail("expected an offset and a number of downloads"),
    }
}

pub fn gid_text(gid: u64) -> String {
    format!("{gid:016x}")
}

fn is_active(e: &Entry) -> bool {
    !e.removed && matches!(e.status, Status::Connecting | Status::Running)
}

fn is_waiting(e: &Entry) -> bool {
    !e.removed && e.status == Status::Queued
}

/// aria2's status word.
fn word(e: &Entry) -> &'static str {
    if e.removed {
        return "removed";
    }
    match e.status {
        Status::Queued => "waiting",
        Status::Connecting | Status::Running => "active",
        Status::Paused => "paused",
        Status::Done | Status::Skipped => "complete",
        Status::Failed | Status::TimedOut => "error",
        Status::Cancelled => "removed",
    }
}

/// A download's status object with every key.
fn status(e: &Entry) -> Value {
    let total = e.total.unwrap_or(0);
    let path = e
        .path
        .clone()
        .or_else(|| e.name.as_ref().map(|n| e.dest.join(n)))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let mut value = json!({
        "gid": gid_text(e.gid),
        "status": word(e),
        "totalLength": total.to_string(),
        "completedLength": e.done.to_string(),
        "uploadLength": "0",
        "downloadSpeed": e.speed.to_string(),
        "uploadSpeed": "0",
        "connections": if is_active(e) { "1" } else { "0" },
        "numPieces": "1",
        "pieceLength": total.max(1).to_string(),
        "dir": e.dest.display().to_string(),
        "files": [{
            "index": "1",
            "path": path,
            "length": total.to_string(),
            "completedLength": e.done.to_string(),
            "selected": "true",
            "uris": [{ "uri": crate::protocol::redact(&e.uri), "status": "used" }],
        }],
    });
    if let Some(error) = &e.error
        && word(e) == "error"
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[derive(Default)]
    struct Fake {
        next: RefCell<u64>,
        sent: RefCell<Vec<Command>>,
    }

    impl Engine for Fake {
        fn next_id(&self) -> JobId {
            *self.next.borrow_mut() += 1;
            JobId(*self.next.borrow())
        }
        fn send(&self, command: Command) {
            self.sent.borrow_mut().push(command);
        }
    }

    #[test]
    fn add_uri_answers_a_gid_and_tell_status_speaks_aria2() {
        let fake = Fake::default();
        let mut table = Table::new(PathBuf::from("/dl"), Limits::default());
        let options = json!({"dir": "/dl/videos", "out": "a.mp4", "header": ["X-A: 1", "X-B: 2"], "split": "2"});
        let gid = table
            .call("aria2.addUri", &[json!(["https://h/a"]), options], &fake)
            .expect("added");
        let gid = gid.as_str().expect("a string").to_owned();
        assert_eq!(gid.len(), 16);
        let Command::Submit { dest, options, .. } = &fake.sent.borrow()[0] else {
            panic!("submitted");
        };
        assert_eq!(dest.as_deref(), Some(Path::new("/dl/videos")));
        assert_eq!(
            (options.out.as_deref(), options.split),
            (Some("a.mp4"), Some(2))
        );
        assert_eq!(options.request.headers.len(), 2);
        let status = table
            .call(
                "aria2.tellStatus",
                &[json!(gid), json!(["gid", "status", "totalLength"])],
                &fake,
            )
            .expect("status");
        assert_eq!(
            status,
            json!({"gid": gid, "status": "waiting", "totalLength": "0"})
        );
        table.apply(
            &Event::Finished {
                id: JobId(1),
                elapsed: std::time::Duration::ZERO,
                bytes: 5,
                outcome: Outcome::Done {
                    path: "/dl/videos/a.mp4".into(),
                    sha256: Checksum([0; 32]),
                },
            },
            Instant::now(),
        );
        let status = table
            .call("aria2.tellStatus", &[json!(gid)], &fake)
            .expect("status");
        assert_eq!(status["status"], "complete");
        assert_eq!(status["completedLength"], "5");
        assert_eq!(status["files"][0]["path"], "/dl/videos/a.mp4");
        let stopped = table
            .call("aria2.tellStopped", &[json!(0), json!(10)], &fake)
            .expect("list");
        assert_eq!(stopped.as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn bad_gids_and_options_are_aria2_errors() {
        let fake = Fake::default();
        let mut table = Table::new(PathBuf::from("/dl"), Limits::default());
        assert!(
            table
                .call("aria2.tellStatus", &[json!("nothex")], &fake)
                .is_err()
        );
        assert!(
            table
                .call("aria2.tellStatus", &[json!("0123456789abcdef")], &fake)
                .is_err()
        );
        let err = table
            .call(
                "aria2.addUri",
                &[
                    json!(["https://h/a"]),
                    json!({"max-connection-per-server": "4"}),
                ],
                &fake,
            )
            .expect_err("unknown option");
        assert!(err.0.contains("unknown option"), "{err:?}");
        assert!(fake.sent.borrow().is_empty(), "nothing submitted");
    }
}
