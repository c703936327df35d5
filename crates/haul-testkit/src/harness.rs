//! The engine as the tests drive it: started on the current runtime with a destination
//! folder, sources submitted by text (`URL#sha256=HEX` included), events waited for and kept
//! in a log, outcomes collected (each item must finish exactly once).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use haul_core::protocol::{
    Checksum, DoneFile, Event, FetchError, JobId, Limits, Outcome, Output, Source,
};
use haul_engine::{Engine, EngineConfig, Events};
use sha2::{Digest, Sha256};

/// Roomy caps, 5 s timeouts and one try: for tests about how each outcome is reported
/// (retries have tests of their own).
pub fn limits() -> Limits {
    Limits {
        jobs: 8,
        per_host: 8,
        connect_timeout: Duration::from_secs(5),
        stall_timeout: Duration::from_secs(5),
        deadline: None,
        retries: 0,
        ..Limits::default()
    }
}

/// [`limits`] with splitting on: `split` connections (and as many per host) for files of
/// `min_split_size` bytes and up.
pub fn split_limits(split: usize, min_split_size: u64) -> Limits {
    Limits {
        split,
        per_host: split,
        min_split_size,
        ..limits()
    }
}

pub fn sha(data: &[u8]) -> Checksum {
    Checksum(Sha256::digest(data).into())
}

/// The SHA-256 of `data` in lowercase hex, as `sha256sum` prints it.
pub fn hex_sha(data: &[u8]) -> String {
    sha(data).to_string()
}

/// The error an item failed with; panics (failing the test) on any other outcome.
pub fn failed(outcome: &Outcome) -> FetchError {
    match outcome {
        Outcome::Failed(e) => e.clone(),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// The item is done, its file byte-exact with the digest reported, and its path returned.
pub fn assert_done_with(finished: &Finished, expected: &[u8]) -> PathBuf {
    let Outcome::Done { files, .. } = &finished.outcome else {
        panic!("expected done, got {:?}", finished.outcome);
    };
    let [
        DoneFile {
            path,
            length,
            sha256,
        },
    ] = files.as_slice()
    else {
        panic!("expected one file, got {files:?}");
    };
    assert_eq!(*length, expected.len() as u64);
    let on_disk = std::fs::read(path).expect("read result");
    assert_eq!(on_disk.len(), expected.len(), "{}", path.display());
    assert!(on_disk == expected, "{} differs", path.display());
    assert_eq!(*sha256, sha(expected));
    assert_eq!(finished.bytes, expected.len() as u64);
    path.clone()
}

/// How one item ended, and when the test saw it.
#[derive(Debug, Clone)]
pub struct Finished {
    pub bytes: u64,
    pub outcome: Outcome,
    pub at: Instant,
}

pub struct Harness {
    pub engine: Engine,
    pub events: Events,
    /// Where the engine writes.
    pub out: PathBuf,
    /// Every event seen so far.
    pub log: Vec<Event>,
    /// Keeps the temporary folder alive, when the harness made it.
    _root: Option<tempfile::TempDir>,
}

impl Harness {
    /// An engine writing into `out/` under a fresh temporary folder.
    pub fn new(limits: Limits) -> Harness {
        Harness::with_output(limits, |_| {})
    }

    /// Like [`Harness::new`], with the output settings adjusted.
    pub fn with_output(limits: Limits, tweak: impl FnOnce(&mut Output)) -> Harness {
        let root = tempfile::tempdir().expect("tempdir");
        let mut h = Harness::at_with(root.path().join("out"), limits, tweak);
        h._root = Some(root);
        h
    }

    /// An engine writing into `out`, a folder the caller owns (and keeps until after the harness).
    pub fn at(out: PathBuf, limits: Limits) -> Harness {
        Harness::at_with(out, limits, |_| {})
    }

    fn at_with(out: PathBuf, limits: Limits, tweak: impl FnOnce(&mut Output)) -> Harness {
        let mut output = Output {
            dest: out.clone(),
            ..Output::default()
        };
        tweak(&mut output);
        let config = EngineConfig {
            limits,
            output,
            proxy: Default::default(),
            host_pins: Vec::new(),
            waker: None,
        };
        let (engine, events) =
            Engine::start(&tokio::runtime::Handle::current(), config).expect("engine starts");
        Harness {
            engine,
            events,
            out,
            log: Vec::new(),
            _root: None,
        }
    }

    /// Submits a source given as text (a `#sha256=` fragment becomes its checksum).
    pub fn submit(&self, text: &str) -> JobId {
        let (source, sha256) =
            Source::parse_with_checksum(text, Path::new("/")).expect("valid source");
        self.engine.submit_checked(source, sha256)
    }

    pub async fn next(&mut self) -> Event {
        let event = tokio::time::timeout(Duration::from_secs(30), self.events.recv())
            .await
            .expect("an event within 30 s")
            .expect("engine still running");
        self.log.push(event.clone());
        event
    }

    /// Waits for the next event of `id` matching `pred`.
    pub async fn wait_for(&mut self, id: JobId, pred: impl Fn(&Event) -> bool) -> Event {
        loop {
            let event = self.next().await;
            if event.id() == id && pred(&event) {
                return event;
            }
        }
    }

    /// Waits until each of `ids` has finished, failing if any finishes twice.
    pub async fn finish(&mut self, ids: &[JobId]) -> HashMap<JobId, Finished> {
        let mut done = HashMap::new();
        for event in &self.log {
            if let Event::Finished {
                id, bytes, outcome, ..
            } = event
            {
                let finished = Finished {
                    bytes: *bytes,
                    outcome: outcome.clone(),
                    at: Instant::now(),
                };
                assert!(done.insert(*id, finished).is_none(), "{id} finished twice");
            }
        }
        while ids.iter().any(|id| !done.contains_key(id)) {
            if let Event::Finished {
                id, bytes, outcome, ..
            } = self.next().await
            {
                let finished = Finished {
                    bytes,
                    outcome,
                    at: Instant::now(),
                };
                assert!(done.insert(id, finished).is_none(), "{id} finished twice");
            }
        }
        done
    }

    /// Fetches `url` to done with `expected` as its bytes, and says the name it was saved
    /// under.
    pub async fn saved_name(&mut self, url: &str, expected: &[u8]) -> String {
        let id = self.submit(url);
        let saved = assert_done_with(&self.finish_one(id).await, expected);
        saved
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Waits until `id` has finished.
    pub async fn finish_one(&mut self, id: JobId) -> Finished {
        let mut done = self.finish(&[id]).await;
        done.remove(&id).expect("finished")
    }

    /// After a short wait, no further `Finished` has arrived for any item already finished.
    pub async fn assert_no_second_finish(&mut self, finished: &[JobId]) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        while let Ok(event) = self.events.try_recv() {
            if let Event::Finished { id, .. } = &event {
                assert!(!finished.contains(id), "{id} finished twice");
            }
            self.log.push(event);
        }
    }

    /// Names in the destination folder, sorted; empty if it does not exist.
    pub fn listing(&self) -> Vec<String> {
        listing(&self.out)
    }
}

/// Names in `dir`, sorted; empty if it does not exist.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
