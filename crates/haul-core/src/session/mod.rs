//! One list of downloads, without I/O: what the headless RPC (`haul-cli --enable-rpc`) and
//! the window's list both keep, so every per-download rule is written once.
//!
//! Owns: each download's stable key (its gid: the engine's [`JobId`] changes with each
//! submission, so the gid ↔ current id map lives here), the list's order, each download's
//! address, folder, options and checksum, its status and figures from the engine's
//! [`Event`]s, what to submit to run it again, removed downloads kept (as aria2 keeps them,
//! `removed`) until their result is dropped, and its speed ([`Speed`], the one estimator).
//! Must not touch: I/O, clocks (time comes in as an argument), tokio, JSON shapes (the RPC's
//! `methods`), drawing.
//!
//! # Layout
//! - this file: [`Session`], [`Entry`], [`Item`] (what a download shows, whichever list
//!   holds it).
//! - `speed`: [`Speed`].

pub mod speed;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub use speed::Speed;

use crate::protocol::{
    Checksum, Command, DoneFile, Event, ItemOptions, JobId, Outcome, Source, Status,
};

/// One download in the list.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its stable key (aria2's gid).
    pub gid: u64,
    /// The engine's id for its current (or last) run.
    pub id: JobId,
    /// The address as it was given.
    pub uri: String,
    pub source: Source,
    /// The folder its file goes to.
    pub dest: PathBuf,
    /// The SHA-256 its file must have, when given.
    pub checksum: Option<Checksum>,
    /// Its name, connections, speed limit and request options; sent with each run.
    pub options: ItemOptions,
    pub status: Status,
    /// Removed (aria2's `remove`): its bytes are kept, it runs no more, and it stays in the
    /// list as `removed` until its result is dropped ([`Session::forget`]).
    pub removed: bool,
    /// Where the file is, once done; else where it will be, once named.
    pub path: Option<PathBuf>,
    pub total: Option<u64>,
    /// Bytes done so far (or in the end).
    pub done: u64,
    /// Why its last run failed (or why it is retrying).
    pub error: Option<String>,
    /// Every file a done download wrote; empty until then.
    pub files: Vec<DoneFile>,
    /// Its recent speed.
    pub speed: Speed,
}

impl Entry {
    /// Bytes a second now (zero until there is enough to tell, and when it is not running).
    pub fn bytes_per_sec(&self, now: Instant) -> u64 {
        if self.removed || !matches!(self.status, Status::Running | Status::Connecting) {
            return 0;
        }
        self.speed.bytes_per_sec(now).unwrap_or(0.0) as u64
    }

    /// What submits it to the engine as job `id`.
    fn submission(&self, id: JobId) -> Command {
        Command::Submit {
            id,
            source: self.source.clone(),
            sha256: self.checksum,
            dest: Some(self.dest.clone()),
            options: Box::new(self.options.clone()),
        }
    }
}

/// What a download shows to those who read it (the RPC's `tellStatus`), whichever list
/// holds it: the session's [`Entry`], or the window's row. Written once, read the same way.
pub trait Item {
    /// Its stable key (aria2's gid).
    fn gid(&self) -> u64;
    fn status(&self) -> Status;
    /// Removed (aria2's `remove`), its result not yet dropped.
    fn removed(&self) -> bool;
    /// The address as it was given.
    fn uri(&self) -> &str;
    /// The folder its file goes to.
    fn dest(&self) -> &Path;
    /// Where its file is, once done; else where it will be, once named.
    fn path(&self) -> Option<PathBuf>;
    fn options(&self) -> &ItemOptions;
    fn checksum(&self) -> Option<Checksum>;
    fn total(&self) -> Option<u64>;
    /// Bytes done so far (or in the end).
    fn done(&self) -> u64;
    /// Bytes a second now ([`Speed`]; zero when it is not running).
    fn bytes_per_sec(&self, now: Instant) -> u64;
    /// Why its last run failed (or why it is retrying).
    fn error(&self) -> Option<String>;
    /// Every file a done download wrote; empty until then.
    fn files(&self) -> &[DoneFile];
}

impl Item for Entry {
    fn gid(&self) -> u64 {
        self.gid
    }
    fn status(&self) -> Status {
        self.status
    }
    fn removed(&self) -> bool {
        self.removed
    }
    fn uri(&self) -> &str {
        &self.uri
    }
    fn dest(&self) -> &Path {
        &self.dest
    }
    fn path(&self) -> Option<PathBuf> {
        self.path.clone()
    }
    fn options(&self) -> &ItemOptions {
        &self.options
    }
    fn checksum(&self) -> Option<Checksum> {
        self.checksum
    }
    fn total(&self) -> Option<u64> {
        self.total
    }
    fn done(&self) -> u64 {
        self.done
    }
    fn bytes_per_sec(&self, now: Instant) -> u64 {
        Entry::bytes_per_sec(self, now)
    }
    fn error(&self) -> Option<String> {
        self.error.clone()
    }
    fn files(&self) -> &[DoneFile] {
        &self.files
    }
}

/// A download about to join the list.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub uri: String,
    pub source: Source,
    pub dest: PathBuf,
    pub checksum: Option<Checksum>,
    pub options: ItemOptions,
}

/// The downloads, in the list's order (the order added, unless moved).
#[derive(Debug, Default)]
pub struct Session {
    entries: Vec<Entry>,
    /// The engine's current id of each download → its gid.
    by_id: HashMap<JobId, u64>,
    next_gid: u64,
}

/// Gids step by this odd number (the golden ratio's): they look random to a client and never
/// repeat within 2^64 downloads.
const GID_STEP: u64 = 0x9e37_79b9_7f4a_7c15;

impl Session {
    /// An empty list whose first gid is `seed` (made odd, so never zero). A random seed, as
    /// aria2's gids are random: a client that remembers a gid from an earlier run never acts
    /// on another download by it.
    pub fn new(seed: u64) -> Session {
        Session {
            next_gid: seed | 1,
            ..Session::default()
        }
    }

    /// Every download, in the list's order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn entry(&self, gid: u64) -> Option<&Entry> {
        self.entries.iter().find(|e| e.gid == gid)
    }

    fn entry_mut(&mut self, gid: u64) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.gid == gid)
    }

    /// The download the engine's job `id` runs.
    pub fn gid_of(&self, id: JobId) -> Option<u64> {
        self.by_id.get(&id).copied()
    }

    /// Adds a download and submits it as job `id`: its gid, and the command to send.
    pub fn add(&mut self, new: NewEntry, id: JobId) -> (u64, Command) {
        let gid = self.next_gid;
        self.next_gid = self.next_gid.wrapping_add(GID_STEP) | 1;
        let entry = Entry {
            gid,
            id,
            uri: new.uri,
            source: new.source,
            path: None,
            dest: new.dest,
            checksum: new.checksum,
            options: new.options,
            status: Status::Queued,
            removed: false,
            total: None,
            done: 0,
            error: None,
            files: Vec::new(),
            speed: Speed::default(),
        };
        let command = entry.submission(id);
        self.by_id.insert(id, gid);
        self.entries.push(entry);
        (gid, command)
    }

    /// Runs a download again (unpause, retry) as job `id`: it is queued anew and keeps its
    /// gid; the command to send (`None` for an unknown gid).
    pub fn resubmit(&mut self, gid: u64, id: JobId) -> Option<Command> {
        let entry = self.entry_mut(gid)?;
        let old = entry.id;
        entry.id = id;
        entry.status = Status::Queued;
        entry.error = None;
        entry.removed = false;
        entry.speed.clear();
        let command = entry.submission(id);
        self.by_id.remove(&old);
        self.by_id.insert(id, gid);
        Some(command)
    }

    /// What pauses a download (its bytes kept).
    pub fn pause(&self, gid: u64) -> Option<Command> {
        self.entry(gid).map(|e| Command::Pause(e.id))
    }

    /// Gives a download new options of its own (the RPC's `changeOption`): kept for its next
    /// run; its speed limit applies at once, so the command that says so when it changed.
    pub fn set_options(&mut self, gid: u64, options: ItemOptions) -> Option<Command> {
        let entry = self.entry_mut(gid)?;
        let rate = options.max_rate;
        let changed = entry.options.max_rate != rate;
        entry.options = options;
        changed.then_some(Command::SetItemRate { id: entry.id, rate })
    }

    /// Removes a download as aria2 does: it stays in the list as `removed` (until
    /// [`Session::forget`]) and its bytes stay on disk (a running one is paused, never
    /// deleted on a remote call). The command to send, if any.
    pub fn remove(&mut self, gid: u64) -> Option<Command> {
        let entry = self.entry_mut(gid)?;
        entry.removed = true;
        let running = entry.status.is_active();
        running.then_some(Command::Pause(entry.id))
    }

    /// Drops a download from the list.
    pub fn forget(&mut self, gid: u64) {
        self.entries.retain(|e| e.gid != gid);
        self.by_id.retain(|_, g| *g != gid);
    }

    /// Moves a download to just before (or, `after`, just after) the download `other`; the
    /// order the engine starts queued ones in, if it changed what waits.
    pub fn reposition(&mut self, gid: u64, other: u64, after: bool) -> Option<Command> {
        let from = self.entries.iter().position(|e| e.gid == gid)?;
        let entry = self.entries.remove(from);
        let at = self
            .entries
            .iter()
            .position(|e| e.gid == other)
            .map_or(self.entries.len(), |at| at + usize::from(after));
        self.entries.insert(at, entry);
        self.order()
    }

    /// The engine's [`Command::Reorder`] for the queued downloads in the list's order, when
    /// more than one waits.
    pub fn order(&self) -> Option<Command> {
        let queued: Vec<JobId> = self
            .entries
            .iter()
            .filter(|e| e.status == Status::Queued && !e.removed)
            .map(|e| e.id)
            .collect();
        (queued.len() > 1).then_some(Command::Reorder(queued))
    }

    /// Applies one engine event to the download it belongs to; its gid, when it is one of
    /// the list's (events of ids no longer in the list are ignored).
    pub fn apply(&mut self, event: &Event, now: Instant) -> Option<u64> {
        let gid = self.gid_of(event.id())?;
        let entry = self.entry_mut(gid)?;
        match event {
            Event::Connecting { .. } => entry.status = Status::Connecting,
            Event::Started { name, total, .. } => {
                entry.status = Status::Running;
                entry.path = Some(entry.dest.join(name));
                entry.total = *total;
                entry.speed.clear();
            }
            Event::Progress { done, total, .. } => {
                entry.status = Status::Running;
                entry.speed.update(*done, now);
                entry.done = *done;
                entry.total = *total;
            }
            Event::Finished { bytes, outcome, .. } => {
                entry.status = outcome.status();
                entry.speed.clear();
                entry.done = *bytes;
                match outcome {
                    Outcome::Done { .. } | Outcome::Skipped { .. } => {
                        entry.path = outcome.path().map(Path::to_path_buf);
                        entry.files = outcome.files().to_vec();
                        let total = entry.total.unwrap_or(*bytes).max(*bytes);
                        entry.total = Some(total);
                        entry.done = total;
                    }
                    other => entry.error = other.error_text(),
                }
            }
            Event::Retrying { reason, .. } => entry.error = Some(reason.clone()),
            Event::Waiting { .. } | Event::Parts { .. } => {}
        }
        Some(gid)
    }
}

#[cfg(test)]
mod tests;
