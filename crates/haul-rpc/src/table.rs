//! The headless list of downloads (`haul-cli --enable-rpc`): the session (`haul_core::session`,
//! the same list the window keeps) and the engine it sends to, acted on by the RPC's methods
//! through [`Downloads`].
//!
//! Owns: sending the session's commands to the engine, and the destination and limits the
//! server was started with. Must not touch: the network, JSON shapes (`methods`), the
//! per-download rules (the session's).

use std::path::PathBuf;
use std::time::Instant;

use super::methods::{Beside, Downloads};
use crate::engine::EngineHandle;
use crate::protocol::{Checksum, Command, Event, ItemOptions, JobId, Limits, Output, Source};
use haul_core::session::{NewEntry, Session};

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

/// The downloads, in the order they were added; stopped ones until their result is removed.
pub struct Table {
    session: Session,
    limits: Limits,
    output: Output,
    engine: Box<dyn Engine>,
}

impl Table {
    /// An empty list over an engine started with `limits` and `output`.
    pub fn new(limits: Limits, output: Output, engine: Box<dyn Engine>) -> Table {
        // Random, as aria2's: a client that remembers a gid from an earlier run never acts
        // on another download by it.
        let mut seed = [0u8; 8];
        let _ = getrandom::getrandom(&mut seed);
        Table {
            session: Session::new(u64::from_le_bytes(seed)),
            limits,
            output,
            engine,
        }
    }

    fn send(&self, command: Option<Command>) {
        if let Some(command) = command {
            self.engine.send(command);
        }
    }

    /// Applies one engine event to the download it belongs to. Returns aria2's notification
    /// for it, with the gid, when it is one (see [`super::methods::notification`]).
    pub fn apply(&mut self, event: Event, now: Instant) -> Option<(&'static str, u64)> {
        let name = super::methods::notification(&event);
        let applied = self.session.apply(event, now)?;
        name.map(|name| (name, applied.gid))
    }
}

impl Downloads for Table {
    fn add(
        &mut self,
        source: Source,
        uri: &str,
        dest: PathBuf,
        checksum: Option<Checksum>,
        options: ItemOptions,
    ) -> u64 {
        let new = NewEntry {
            uri: uri.to_owned(),
            source: Ok(source),
            guessed: false,
            dest,
            checksum,
            options: std::sync::Arc::new(options),
        };
        let (gid, submit) = self.session.add(new, self.engine.next_id());
        self.send(submit);
        gid
    }

    fn session(&self) -> &Session {
        &self.session
    }

    fn pause(&mut self, gid: u64) {
        self.send(self.session.pause(gid));
    }

    fn unpause(&mut self, gid: u64) {
        let submit = self
            .session
            .resubmit(gid, self.engine.next_id(), Instant::now());
        self.send(submit);
        // Submitted last, it starts where it stands in the list.
        self.send(self.session.order());
    }

    fn reposition(&mut self, gid: u64, beside: Beside) {
        let (other, after) = beside.split();
        let order = self.session.reposition(gid, other, after);
        self.send(order);
    }

    fn remove(&mut self, gid: u64) {
        let pause = self.session.remove(gid);
        self.send(pause);
    }

    fn forget(&mut self, gid: u64) {
        self.session.forget(gid);
    }

    fn globals(&self) -> (Limits, Output) {
        (self.limits, self.output.clone())
    }

    fn set_globals(&mut self, limits: Limits, output: Output) {
        if limits != self.limits {
            self.limits = limits;
            self.engine.send(Command::SetLimits(limits));
        }
        if output != self.output {
            self.output = output.clone();
            self.engine.send(Command::SetOutput(output));
        }
    }

    fn set_options(&mut self, gid: u64, options: ItemOptions) {
        let rate = self.session.set_options(gid, options);
        self.send(rate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::methods::call;
    use crate::protocol::{DoneFile, Outcome};
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

    /// A table over `fake` saving into `/dl`, with the engine's default limits.
    fn new_table(fake: &Fake) -> Table {
        let output = Output {
            dest: PathBuf::from("/dl"),
            ..Output::default()
        };
        Table::new(Limits::default(), output, Box::new(fake.clone()))
    }

    #[test]
    fn add_uri_answers_a_gid_and_tell_status_speaks_aria2() {
        let fake = Fake::default();
        let mut table = new_table(&fake);
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
            // The folder is resolved as the system resolves it (on Windows `\\?\Z:\dl\videos`
            // for `/dl/videos`): its last parts are the ones asked for.
            let dest = dest.as_deref().expect("a folder");
            assert!(dest.ends_with("dl/videos"), "{}", dest.display());
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
            folder: None,
        };
        table.apply(
            Event::Finished {
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

    /// `downloadSpeed` is the window's estimator (recent bytes over the last seconds), not the
    /// last two reports' difference: a download that stalled reads 0, as the window's row.
    #[test]
    fn download_speed_is_the_one_estimator() {
        let fake = Fake::default();
        let mut table = new_table(&fake);
        let gid = call(&mut table, "aria2.addUri", &[json!(["https://h/a"])]).expect("added");
        let Some(t0) = Instant::now().checked_sub(std::time::Duration::from_secs(10)) else {
            return; // a clock too young to look back on
        };
        let started = Event::Started {
            id: JobId(1),
            name: "a".into(),
            total: None,
            done: 0,
            resumable: true,
        };
        table.apply(started, t0);
        for i in 0..=20u64 {
            let progress = Event::Progress {
                id: JobId(1),
                done: i * 100_000,
                total: None,
            };
            table.apply(progress, t0 + std::time::Duration::from_millis(100 * i));
        }
        // Nothing for 8 s since: stalled.
        let status = call(
            &mut table,
            "aria2.tellStatus",
            &[gid, json!(["status", "downloadSpeed"])],
        )
        .expect("status");
        assert_eq!(status, json!({"status": "active", "downloadSpeed": "0"}));
    }

    /// After `remove` the download is `removed` in tellStatus and tellStopped, its bytes kept
    /// (paused, never cancelled), until its result is removed.
    #[test]
    fn removed_until_purged() {
        let fake = Fake::default();
        let mut table = new_table(&fake);
        let gid = call(&mut table, "aria2.addUri", &[json!(["https://h/a"])]).expect("added");
        call(&mut table, "aria2.remove", std::slice::from_ref(&gid)).expect("removed");
        assert!(matches!(
            fake.sent.borrow().last(),
            Some(Command::Pause(JobId(1)))
        ));
        let status = call(
            &mut table,
            "aria2.tellStatus",
            &[gid.clone(), json!(["status"])],
        );
        assert_eq!(status, Ok(json!({"status": "removed"})));
        let stopped = call(
            &mut table,
            "aria2.tellStopped",
            &[json!(0), json!(10), json!(["gid", "status"])],
        );
        assert_eq!(stopped, Ok(json!([{"gid": gid, "status": "removed"}])));
        call(&mut table, "aria2.purgeDownloadResult", &[]).expect("purged");
        assert!(call(&mut table, "aria2.tellStatus", &[gid]).is_err());
    }

    #[test]
    fn bad_gids_and_options_are_aria2_errors() {
        let fake = Fake::default();
        let mut table = new_table(&fake);
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

    /// The options methods read and write through the option table: every global option Haul
    /// has is read, aria2 clients' common ones are changed (max-connection-per-server was
    /// ignored before), an item's own options are read back, and its speed limit changes
    /// while it runs.
    #[test]
    fn options_go_through_the_table() {
        let fake = Fake::default();
        let mut table = new_table(&fake);
        let global = call(&mut table, "aria2.getGlobalOption", &[]).expect("global");
        for spec in crate::options::OPTIONS.iter().filter(|s| s.scope.global()) {
            assert!(global.get(spec.name).is_some(), "{} is not read", spec.name);
        }
        assert_eq!(global["max-connection-per-server"], json!("4"));
        call(
            &mut table,
            "aria2.changeGlobalOption",
            &[json!({"max-connection-per-server": "2", "max-tries": "1", "allow-overwrite": "true"})],
        )
        .expect("changed");
        let sent = fake.sent.borrow().clone();
        assert!(
            sent.iter()
                .any(|c| matches!(c, Command::SetLimits(l) if l.per_host == 2 && l.retries == 0))
        );
        assert!(
            sent.iter()
                .any(|c| matches!(c, Command::SetOutput(o) if o.overwrite))
        );
        assert!(
            call(
                &mut table,
                "aria2.changeGlobalOption",
                &[json!({"dir": "/etc"})]
            )
            .is_err()
        );

        let sum = "ab".repeat(32);
        let gid = call(
            &mut table,
            "aria2.addUri",
            &[
                json!(["https://h/a"]),
                json!({"user-agent": "Agent/9", "checksum": format!("sha-256={sum}"), "header": ["X-A: 1"]}),
            ],
        )
        .expect("added");
        let options =
            call(&mut table, "aria2.getOption", std::slice::from_ref(&gid)).expect("options");
        assert_eq!(options["user-agent"], json!("Agent/9"));
        assert_eq!(options["checksum"], json!(format!("sha-256={sum}")));
        assert_eq!(options["header"], json!(["X-A: 1"]));
        assert_eq!(options["dir"], json!("/dl"));
        call(
            &mut table,
            "aria2.changeOption",
            &[gid.clone(), json!({"max-download-limit": "300K"})],
        )
        .expect("changed");
        assert!(
            fake.sent.borrow().iter().any(
                |c| matches!(c, Command::SetItemRate { rate: Some(r), .. } if *r == 300 * 1024)
            )
        );
        let options = call(&mut table, "aria2.getOption", &[gid]).expect("options");
        assert_eq!(options["max-download-limit"], json!("300K"));
    }
}
