//! The headless list of downloads (`haul-cli --enable-rpc`): kept from the engine's events,
//! acted on by the RPC's methods through [`Downloads`].
//!
//! Owns: gid ↔ the engine's current job id (a new one after each unpause), each download's
//! figures, and the commands its changes send. Must not touch: the network, JSON shapes
//! (`methods`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::methods::{Beside, Downloads, View};
use crate::engine::EngineHandle;
use crate::protocol::{
    Checksum, Command, Event, ItemOptions, JobId, Limits, Outcome, Source, Status,
};

/// What the table sends to: the engine (a fake in tests).
pub trait Engine {
    fn next_id(&self) -> JobId;
    fn send(&self, command: Command);
}

impl Engine for EngineHandle {
    fn next_id(&self) -> JobId {
        EngineHandle::next_id(self)
    }

    fn send(&self, command: Command) {
        EngineHandle::send(self, command);
    }
}

#[derive(Debug, Clone)]
struct Entry {
    id: JobId,
    source: Source,
    checksum: Option<Checksum>,
    options: ItemOptions,
    view: View,
    last: Option<(Instant, u64)>,
}

/// The downloads, in the order they were added; stopped ones until their result is removed.
pub struct Table {
    entries: Vec<Entry>,
    by_id: HashMap<JobId, u64>,
    next_gid: u64,
    dest: PathBuf,
    limits: Limits,
    engine: Box<dyn Engine>,
}

impl Table {
    pub fn new(dest: PathBuf, limits: Limits, engine: Box<dyn Engine>) -> Table {
        Table {
            entries: Vec::new(),
            by_id: HashMap::new(),
            // Random, as aria2's: a client that remembers a gid from an earlier run never
            // acts on another download by it.
            next_gid: {
                let mut seed = [0u8; 8];
                let _ = getrandom::getrandom(&mut seed);
                u64::from_le_bytes(seed) | 1
            },
            dest,
            limits,
            engine,
        }
    }

    /// The engine starts the queued downloads in the list's order.
    fn send_order(&self) {
        let queued: Vec<JobId> = self
            .entries
            .iter()
            .filter(|e| e.view.status == Status::Queued && !e.view.removed)
            .map(|e| e.id)
            .collect();
        if queued.len() > 1 {
            self.engine.send(Command::Reorder(queued));
        }
    }

    fn entry(&mut self, gid: u64) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.view.gid == gid)
    }

    fn submit(&mut self, gid: u64) {
        let id = self.engine.next_id();
        let Some(entry) = self.entries.iter_mut().find(|e| e.view.gid == gid) else {
            return;
        };
        self.engine.send(Command::Submit {
            id,
            source: entry.source.clone(),
            sha256: entry.checksum,
            dest: Some(entry.view.dest.clone()),
            options: Box::new(entry.options.clone()),
        });
        entry.id = id;
        entry.view.status = Status::Queued;
        entry.view.error = None;
        self.by_id.insert(id, gid);
    }

    /// Applies one engine event to the download it belongs to. Returns aria2's notification
    /// for it, with the gid, when it is one (see [`super::methods::notification`]).
    pub fn apply(&mut self, event: &Event, now: Instant) -> Option<(&'static str, u64)> {
        let &gid = self.by_id.get(&event.id())?;
        let note = super::methods::notification(event).map(|name| (name, gid));
        let entry = self.entry(gid)?;
        let view = &mut entry.view;
        match event {
            Event::Connecting { .. } => view.status = Status::Connecting,
            Event::Started { name, total, .. } => {
                view.status = Status::Running;
                view.path = Some(view.dest.join(name));
                view.total = *total;
            }
            Event::Progress { done, total, .. } => {
                view.status = Status::Running;
                if let Some((at, before)) = entry.last {
                    let secs = now.duration_since(at).as_secs_f64();
                    if secs > 0.0 {
                        view.speed = (done.saturating_sub(before) as f64 / secs) as u64;
                    }
                }
                entry.last = Some((now, *done));
                view.done = *done;
                view.total = *total;
            }
            Event::Finished { bytes, outcome, .. } => {
                view.status = outcome.status();
                view.speed = 0;
                entry.last = None;
                view.done = *bytes;
                match outcome {
                    Outcome::Done { .. } | Outcome::Skipped { .. } => {
                        view.path = outcome.path().map(Path::to_path_buf);
                        view.files = outcome.files().to_vec();
                        let total = view.total.unwrap_or(*bytes).max(*bytes);
                        view.total = Some(total);
                        view.done = total;
                    }
                    other => view.error = other.error_text(),
                }
            }
            Event::Retrying { reason, .. } => view.error = Some(reason.clone()),
            Event::Waiting { .. } | Event::Parts { .. } => {}
        }
        note
    }
}

impl Downloads for Table {
    fn dest(&self) -> PathBuf {
        self.dest.clone()
    }

    fn add(
        &mut self,
        source: Source,
        uri: &str,
        dest: PathBuf,
        checksum: Option<Checksum>,
        options: ItemOptions,
    ) -> u64 {
        let gid = self.next_gid;
        self.next_gid = self.next_gid.wrapping_add(0x9e37_79b9_7f4a_7c15) | 1;
        self.entries.push(Entry {
            id: JobId(0),
            source,
            checksum,
            view: View {
                gid,
                status: Status::Queued,
                removed: false,
                uri: uri.to_owned(),
                dest,
                path: None,
                out: options.out.clone(),
                total: None,
                done: 0,
                speed: 0,
                error: None,
                files: Vec::new(),
            },
            options,
            last: None,
        });
        self.submit(gid);
        gid
    }

    fn views(&self) -> Vec<View> {
        self.entries.iter().map(|e| e.view.clone()).collect()
    }

    fn pause(&mut self, gid: u64) {
        if let Some(entry) = self.entries.iter().find(|e| e.view.gid == gid) {
            self.engine.send(Command::Pause(entry.id));
        }
    }

    fn unpause(&mut self, gid: u64) {
        self.submit(gid);
        // Submitted last, it starts where it stands in the list.
        self.send_order();
    }

    fn reposition(&mut self, gid: u64, beside: Beside) {
        let Some(from) = self.entries.iter().position(|e| e.view.gid == gid) else {
            return;
        };
        let entry = self.entries.remove(from);
        let (other, after) = beside.split();
        let at = self
            .entries
            .iter()
            .position(|e| e.view.gid == other)
            .map_or(self.entries.len(), |at| at + usize::from(after));
        self.entries.insert(at, entry);
        self.send_order();
    }

    fn remove(&mut self, gid: u64) {
        let Some(entry) = self.entry(gid) else {
            return;
        };
        let (id, running) = (entry.id, entry.view.status != Status::Paused);
        entry.view.removed = true;
        // As aria2's remove, the bytes stay on disk: the run is paused, never deleted on a
        // remote call.
        if running {
            self.engine.send(Command::Pause(id));
        }
    }

    fn forget(&mut self, gid: u64) {
        self.entries.retain(|e| e.view.gid != gid);
        self.by_id.retain(|_, g| *g != gid);
    }

    fn limits(&self) -> Limits {
        self.limits
    }

    fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        self.engine.send(Command::SetLimits(limits));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::call;
    use crate::protocol::DoneFile;
    use serde_json::json;
    use std::cell::RefCell;
    use std::rc::Rc;

    #[derive(Default, Clone)]
    struct Fake {
        next: Rc<RefCell<u64>>,
        sent: Rc<RefCell<Vec<Command>>>,
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
        let mut table = Table::new(
            PathBuf::from("/dl"),
            Limits::default(),
            Box::new(fake.clone()),
        );
        let options = json!({"dir": "/dl/videos", "out": "a.mp4", "header": ["X-A: 1", "X-B: 2"], "split": "2"});
        let gid = call(
            &mut table,
            "aria2.addUri",
            &[json!(["https://h/a"]), options],
        )
        .expect("added");
        let gid = gid.as_str().expect("a string").to_owned();
        assert_eq!(gid.len(), 16);
        {
            let sent = fake.sent.borrow();
            let Command::Submit { dest, options, .. } = &sent[0] else {
                panic!("submitted");
            };
            assert_eq!(dest.as_deref(), Some(Path::new("/dl/videos")));
            assert_eq!(
                (options.out.as_deref(), options.split),
                (Some("a.mp4"), Some(2))
            );
            assert_eq!(options.request.headers.len(), 2);
        }
        let status = call(
            &mut table,
            "aria2.tellStatus",
            &[json!(gid), json!(["gid", "status", "totalLength"])],
        )
        .expect("status");
        assert_eq!(
            status,
            json!({"gid": gid, "status": "waiting", "totalLength": "0"})
        );
        let done = Outcome::Done {
            files: vec![
                DoneFile {
                    path: "/dl/videos/a.mp4".into(),
                    length: 5,
                    sha256: Checksum([0; 32]),
                },
                DoneFile {
                    path: "/dl/videos/a.en.vtt".into(),
                    length: 3,
                    sha256: Checksum([1; 32]),
                },
            ],
        };
        table.apply(
            &Event::Finished {
                id: JobId(1),
                elapsed: std::time::Duration::ZERO,
                bytes: 5,
                outcome: done,
            },
            Instant::now(),
        );
        let status = call(&mut table, "aria2.tellStatus", &[json!(gid)]).expect("status");
        assert_eq!(status["status"], "complete");
        assert_eq!(status["completedLength"], "5");
        assert_eq!(status["files"][0]["path"], "/dl/videos/a.mp4");
        // An item of many files (a video and its subtitles) lists each.
        assert_eq!(status["files"][1]["index"], "2");
        assert_eq!(status["files"][1]["path"], "/dl/videos/a.en.vtt");
        assert_eq!(status["files"][1]["length"], "3");
        let stopped = call(&mut table, "aria2.tellStopped", &[json!(0), json!(10)]).expect("list");
        assert_eq!(stopped.as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn bad_gids_and_options_are_aria2_errors() {
        let fake = Fake::default();
        let mut table = Table::new(
            PathBuf::from("/dl"),
            Limits::default(),
            Box::new(fake.clone()),
        );
        assert!(call(&mut table, "aria2.tellStatus", &[json!("nothex")]).is_err());
        assert!(call(&mut table, "aria2.tellStatus", &[json!("0123456789abcdef")]).is_err());
        // A known option with a bad value refuses the download; aria2's options Haul does
        // not use (AriaNg sends them with every add) are ignored.
        let err = call(
            &mut table,
            "aria2.addUri",
            &[json!(["https://h/a"]), json!({"split": "99"})],
        )
        .expect_err("a bad value");
        assert!(err.0.contains("split"), "{err:?}");
        assert!(fake.sent.borrow().is_empty(), "nothing submitted");
        let added = call(
            &mut table,
            "aria2.addUri",
            &[
                json!(["https://h/a"]),
                json!({"max-connection-per-server": "4", "continue": "true"}),
            ],
        );
        assert!(added.is_ok(), "{added:?}");
        // Negative offsets count from the end, newest first.
        let b = call(&mut table, "aria2.addUri", &[json!(["https://h/b"])]).expect("b");
        let newest = call(
            &mut table,
            "aria2.tellWaiting",
            &[json!(-1), json!(1), json!(["gid"])],
        )
        .expect("list");
        assert_eq!(newest, json!([{ "gid": b }]));
    }
}
