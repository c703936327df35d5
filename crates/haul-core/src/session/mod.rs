//! One list of downloads, without I/O: what the window's list and the headless RPC
//! (`haul-cli --enable-rpc`) both keep, so every per-download rule is written once.
//!
//! Owns: each download's stable key (its gid: the engine's [`JobId`] changes with each
//! submission, so the gid ↔ current id map lives here), the list's order and moves, each
//! download's address, folder, options and checksum, its state from the engine's [`Event`](crate::protocol::Event)s,
//! the count of downloads per status, what to submit to run it again, removed downloads kept
//! (as aria2 keeps them, `removed`) until their result is dropped, and its speed ([`Speed`],
//! the one estimator). O(1) per event; O(downloads) only when some are removed or moved.
//! Must not touch: I/O, clocks (time comes in as an argument), tokio, JSON shapes (the RPC's
//! `methods`), drawing, selection and views (the window's).
//!
//! # Layout
//! - this file: [`Session`], [`NewEntry`], [`Edit`], [`Applied`].
//! - `apply`: [`Session::apply`], an engine event applied to its download.
//! - `entry`: [`Entry`] and its [`State`].
//! - `speed`: [`Speed`].

mod apply;
pub mod entry;
pub mod speed;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use entry::{Entry, State, display_name};
pub use speed::Speed;

use crate::protocol::{Checksum, Command, FetchError, ItemOptions, JobId, Source, Status};

/// A download about to join the list.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// The address (or path) as it was given.
    pub uri: String,
    /// The source, or why the text is not one and where the text came from (`urls.txt line
    /// 4`): such an entry joins the list failed, to say so, and is never submitted.
    pub source: Result<Source, (FetchError, String)>,
    /// The text had no scheme and was read as a web address.
    pub guessed: bool,
    pub dest: PathBuf,
    pub checksum: Option<Checksum>,
    pub options: Arc<ItemOptions>,
}

/// New options for a download that is not running ("Edit options…"): maybe a new address
/// (an expired link given anew) and folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub uri: String,
    pub source: Source,
    pub options: ItemOptions,
    pub dest: PathBuf,
    pub checksum: Option<Checksum>,
}

/// Where [`Session::move_entries`] puts downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Top,
    Bottom,
    /// Just before the download with this gid.
    Before(u64),
    /// Just after it.
    After(u64),
}

/// What one event did to the download it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub gid: u64,
    /// Its place in the list.
    pub index: usize,
    /// Its status before and after.
    pub was: Status,
    pub is: Status,
    /// Bytes it received since its last report (what the event added while it was running).
    pub received: u64,
    /// Its name changed (the engine picked one, or it landed under another).
    pub renamed: bool,
}

/// The downloads, in the list's order (the order added, unless moved).
#[derive(Debug, Default)]
pub struct Session {
    entries: Vec<Entry>,
    /// gid → place in `entries`.
    index: HashMap<u64, usize>,
    /// The engine's current id of each download → its gid.
    by_id: HashMap<JobId, u64>,
    counts: HashMap<Status, usize>,
    next_gid: u64,
    /// What the next gid adds: 1 for a list whose gids are its saved keys in the order
    /// added, an odd number that makes them look random otherwise.
    step: u64,
}

/// Random-looking gids step by this odd number (the golden ratio's): they never repeat
/// within 2^64 downloads.
const GID_STEP: u64 = 0x9e37_79b9_7f4a_7c15;

impl Session {
    /// An empty list whose first gid is `seed` (made odd, so never zero), the next ones
    /// looking random. A random seed, as aria2's gids are random: a client that remembers a
    /// gid from an earlier run never acts on another download by it.
    pub fn new(seed: u64) -> Session {
        Session {
            next_gid: seed | 1,
            step: GID_STEP,
            ..Session::default()
        }
    }

    /// An empty list whose gids count 1, 2, 3… in the order added: for a list saved across
    /// restarts (the window's), whose gids are its saved keys and stay the same downloads.
    pub fn sequential() -> Session {
        Session {
            next_gid: 1,
            step: 1,
            ..Session::default()
        }
    }

    /// Every download, in the list's order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many downloads have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.counts.get(&status).copied().unwrap_or(0)
    }

    /// Where download `gid` stands in the list.
    pub fn position(&self, gid: u64) -> Option<usize> {
        self.index.get(&gid).copied()
    }

    pub fn entry(&self, gid: u64) -> Option<&Entry> {
        self.position(gid).map(|i| &self.entries[i])
    }

    fn entry_mut(&mut self, gid: u64) -> Option<&mut Entry> {
        let i = self.position(gid)?;
        Some(&mut self.entries[i])
    }

    /// The download the engine's job `id` runs.
    pub fn gid_of(&self, id: JobId) -> Option<u64> {
        self.by_id.get(&id).copied()
    }

    /// The download the engine's job `id` runs.
    pub fn by_job(&self, id: JobId) -> Option<&Entry> {
        self.gid_of(id).and_then(|gid| self.entry(gid))
    }

    /// Adds a download as job `id`: its gid, and the command that submits it (none for a
    /// text that is not a source: it joins the list failed, saying why).
    pub fn add(&mut self, new: NewEntry, id: JobId) -> (u64, Option<Command>) {
        let gid = self.next_gid;
        let (source, state) = match new.source {
            Ok(source) => (
                Some(source),
                State::Queued {
                    done: 0,
                    total: None,
                },
            ),
            Err((error, origin)) => (
                None,
                State::Failed {
                    error: Box::new(error),
                    origin: Some(origin),
                    bytes: 0,
                    elapsed: Duration::ZERO,
                },
            ),
        };
        let entry = Entry {
            gid,
            id,
            name: display_name(&new.uri, source.as_ref()),
            uri: new.uri,
            source,
            guessed: new.guessed,
            dest: new.dest,
            checksum: new.checksum,
            options: shared(new.options),
            state,
            elapsed_before: Duration::ZERO,
            removed: false,
            parts: Vec::new(),
            connections: Vec::new(),
            stream: None,
            swarm: None,
            torrent_files: Vec::new(),
            published: Vec::new(),
            published_folder: None,
            resumable: true,
        };
        let command = submission(&entry);
        self.insert(entry);
        (gid, command)
    }

    /// Puts back a download as it was (the window's saved queue), its gid kept.
    pub fn restore(&mut self, mut entry: Entry) {
        entry.options = shared(entry.options);
        self.insert(entry);
    }

    /// Makes room for `additional` more downloads at once (a big paste), so the list does
    /// not double past what it holds.
    pub fn reserve(&mut self, additional: usize) {
        self.entries.reserve(additional);
        self.index.reserve(additional);
        self.by_id.reserve(additional);
    }

    fn insert(&mut self, entry: Entry) {
        if self.step == 1 {
            self.next_gid = self.next_gid.max(entry.gid.saturating_add(1));
        } else {
            self.next_gid = self.next_gid.wrapping_add(self.step) | 1;
        }
        *self.counts.entry(entry.status()).or_default() += 1;
        self.index.insert(entry.gid, self.entries.len());
        self.by_id.insert(entry.id, entry.gid);
        self.entries.push(entry);
    }

    /// What submits download `gid` to the engine as its current job (none for a text that
    /// is not a source).
    pub fn submission(&self, gid: u64) -> Option<Command> {
        submission(self.entry(gid)?)
    }

    /// Runs a stopped download again (unpause, retry) as job `id`: it is queued anew, keeps
    /// its gid, its time so far and its bytes (it resumes from them). The command to send:
    /// `None` for an unknown gid, one that is not stopped, or a text that is not a source.
    pub fn resubmit(&mut self, gid: u64, id: JobId, now: Instant) -> Option<Command> {
        self.run_again(gid, id, now, false)
    }

    /// As [`resubmit`](Self::resubmit), a done download too: one whose options now ask for
    /// more (a torrent with more files chosen; what it published is taken where it is).
    pub fn rerun(&mut self, gid: u64, id: JobId, now: Instant) -> Option<Command> {
        self.run_again(gid, id, now, true)
    }

    fn run_again(&mut self, gid: u64, id: JobId, now: Instant, done: bool) -> Option<Command> {
        let i = self.position(gid)?;
        let entry = &mut self.entries[i];
        let again = entry.status().is_retryable() || (done && entry.status() == Status::Done);
        if !again || entry.source.is_none() {
            return None;
        }
        entry.elapsed_before += entry.state.elapsed(now).unwrap_or_default();
        entry.removed = false;
        let old = std::mem::replace(&mut entry.id, id);
        let command = submission(entry);
        self.by_id.remove(&old);
        self.by_id.insert(id, gid);
        // It waits with the bytes it kept (they show until it runs again).
        let kept = State::Queued {
            done: self.entries[i].state.kept_bytes(),
            total: self.entries[i].state.total(),
        };
        self.set_state(i, kept);
        command
    }

    /// What pauses a download (its bytes kept).
    pub fn pause(&self, gid: u64) -> Option<Command> {
        self.entry(gid).map(|e| Command::Pause(e.id))
    }

    /// Marks a paused download cancelled (its kept bytes are being discarded); true if it
    /// was paused.
    pub fn cancel_paused(&mut self, gid: u64) -> bool {
        let Some(i) = self.position(gid) else {
            return false;
        };
        let State::Paused { bytes, elapsed, .. } = self.entries[i].state else {
            return false;
        };
        self.set_state(i, State::Cancelled { bytes, elapsed });
        true
    }

    /// Gives a download new options of its own (the RPC's `changeOption`): kept for its next
    /// run, its name follows a new `out`; its speed limit applies at once, so the command
    /// that says so when it changed.
    pub fn set_options(&mut self, gid: u64, options: ItemOptions) -> Option<Command> {
        let entry = self.entry_mut(gid)?;
        let rate = options.max_rate;
        let changed = entry.options.max_rate != rate;
        if let Some(out) = &options.out {
            entry.name.clone_from(out);
        }
        entry.options = Arc::new(options);
        changed.then_some(Command::SetItemRate { id: entry.id, rate })
    }

    /// Sets a download's own speed limit (bytes/s, its `max-download-limit`): the command
    /// that applies it at once.
    pub fn set_rate(&mut self, gid: u64, rate: Option<u64>) -> Option<Command> {
        let entry = self.entry_mut(gid)?;
        Arc::make_mut(&mut entry.options).max_rate = rate;
        Some(Command::SetItemRate { id: entry.id, rate })
    }

    /// Gives a download that is not running new options, and maybe a new address and folder
    /// (see [`Edit`]); its name follows a new address or `out`. False for an unknown gid.
    pub fn edit(&mut self, gid: u64, edit: Edit) -> bool {
        let Some(entry) = self.entry_mut(gid) else {
            return false;
        };
        if entry.uri != edit.uri {
            entry.name = display_name(&edit.uri, Some(&edit.source));
        }
        if let Some(out) = &edit.options.out {
            entry.name.clone_from(out);
        }
        entry.uri = edit.uri;
        entry.source = Some(edit.source);
        entry.options = Arc::new(edit.options);
        entry.dest = edit.dest;
        entry.checksum = edit.checksum;
        true
    }

    /// Removes a download as aria2 does: it stays in the list as `removed` (until
    /// [`Session::forget`]) and its bytes stay on disk (a running one is paused, never
    /// deleted on a remote call). The command to send, if any.
    pub fn remove(&mut self, gid: u64) -> Option<Command> {
        let entry = self.entry_mut(gid)?;
        entry.removed = true;
        let running = entry.status().is_active();
        running.then_some(Command::Pause(entry.id))
    }

    /// Drops a download from the list.
    pub fn forget(&mut self, gid: u64) {
        self.forget_where(|e| e.gid == gid);
    }

    /// Drops every download `doomed` picks; returns them, in the list's order.
    pub fn forget_where(&mut self, doomed: impl Fn(&Entry) -> bool) -> Vec<Entry> {
        let (gone, kept): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(doomed);
        self.entries = kept;
        if !gone.is_empty() {
            self.reindex();
        }
        gone
    }

    /// Moves the downloads `gids` (keeping their order among themselves, gathered together)
    /// to `to`. False when nothing moved (no such downloads, already there, or dropped onto
    /// one of themselves).
    pub fn move_entries(&mut self, gids: &HashSet<u64>, to: Place) -> bool {
        if let Place::Before(g) | Place::After(g) = to
            && gids.contains(&g)
        {
            return false;
        }
        let before: Vec<u64> = self.entries.iter().map(|e| e.gid).collect();
        let (moved, mut rest): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|e| gids.contains(&e.gid));
        let beside = |gid: u64, after: bool, rest: &[Entry]| {
            rest.iter()
                .position(|e| e.gid == gid)
                .map_or(rest.len(), |at| at + usize::from(after))
        };
        let at = match to {
            Place::Top => 0,
            Place::Bottom => rest.len(),
            Place::Before(gid) => beside(gid, false, &rest),
            Place::After(gid) => beside(gid, true, &rest),
        };
        let tail = rest.split_off(at);
        rest.extend(moved);
        rest.extend(tail);
        self.entries = rest;
        let changed = self.entries.iter().map(|e| e.gid).ne(before);
        self.reindex();
        changed
    }

    /// Moves a download to just before (or, `after`, just after) the download `other`; the
    /// order the engine starts queued ones in, if it changed what waits.
    pub fn reposition(&mut self, gid: u64, other: u64, after: bool) -> Option<Command> {
        let to = if after {
            Place::After(other)
        } else {
            Place::Before(other)
        };
        self.move_entries(&HashSet::from([gid]), to);
        self.order()
    }

    /// The queued downloads' job ids in the list's order: the order the engine should start
    /// them in.
    pub fn queued_in_order(&self) -> Vec<JobId> {
        self.entries
            .iter()
            .filter(|e| e.status() == Status::Queued && !e.removed)
            .map(|e| e.id)
            .collect()
    }

    /// The engine's [`Command::Reorder`] for the queued downloads in the list's order, when
    /// more than one waits.
    pub fn order(&self) -> Option<Command> {
        let queued = self.queued_in_order();
        (queued.len() > 1).then_some(Command::Reorder(queued))
    }

    fn reindex(&mut self) {
        self.index.clear();
        self.by_id.clear();
        self.counts.clear();
        for (i, entry) in self.entries.iter().enumerate() {
            self.index.insert(entry.gid, i);
            self.by_id.insert(entry.id, entry.gid);
            *self.counts.entry(entry.status()).or_default() += 1;
        }
    }

    fn set_state(&mut self, i: usize, state: State) {
        let entry = &mut self.entries[i];
        let (old, new) = (entry.status(), state.status());
        entry.state = state;
        if old != new {
            if let Some(n) = self.counts.get_mut(&old) {
                *n = n.saturating_sub(1);
            }
            *self.counts.entry(new).or_default() += 1;
        }
    }
}

/// `options`, or the one shared default when they are the default: most downloads have no
/// options of their own, and 100,000 copies of none cost 22 MB.
fn shared(options: Arc<ItemOptions>) -> Arc<ItemOptions> {
    static DEFAULT: std::sync::OnceLock<Arc<ItemOptions>> = std::sync::OnceLock::new();
    if *options == ItemOptions::default() {
        Arc::clone(DEFAULT.get_or_init(Arc::default))
    } else {
        options
    }
}

/// What submits a download to the engine as its current job (none for a text that is not a
/// source).
fn submission(entry: &Entry) -> Option<Command> {
    Some(Command::Submit {
        id: entry.id,
        source: entry.source.clone()?,
        sha256: entry.checksum,
        dest: Some(entry.dest.clone()),
        options: Arc::clone(&entry.options),
    })
}

#[cfg(test)]
mod tests;
