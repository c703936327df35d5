//! The disk side of a split download: many connections writing byte ranges of one `.part`.
//!
//! Owns: a [`PartFile`] turned into a [`Segments`] for the time connections write into it at
//! their offsets, through its one locked handle (Windows locks are per handle); which ranges
//! are done; checkpoints that record them in the sidecar; and the SHA-256 of the whole file,
//! computed as the contiguous prefix grows — a piece written right at the prefix's end is
//! hashed from memory, and only bytes other connections wrote ahead of it are read back (from
//! the page cache) when the prefix reaches them.
//! Must not touch: the network, which ranges to ask for (that is `engine::split`).

use std::fs::File;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::sys::{Gather, read_exact_at, write_all_at};
use super::{CHECKPOINT_BYTES, CHECKPOINT_EVERY, Committed, PartFile, closed_error, write_error};
use crate::protocol::FetchError;
use crate::resume;

/// Bytes read back at once when the hash catches up over ranges other connections wrote.
const READ_BACK: usize = 1024 * 1024;

/// Disjoint, sorted byte ranges `[start, end)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ranges(Vec<(u64, u64)>);

impl Ranges {
    pub fn from_sorted(ranges: Vec<(u64, u64)>) -> Ranges {
        let mut all = Ranges::default();
        for (start, end) in ranges {
            all.insert(start, end);
        }
        all
    }

    /// Adds `[start, end)`, merging with neighbours it touches.
    pub fn insert(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (mut start, mut end) = (start, end);
        let mut kept = Vec::with_capacity(self.0.len() + 1);
        for &(s, e) in &self.0 {
            if e < start || s > end {
                kept.push((s, e));
            } else {
                start = start.min(s);
                end = end.max(e);
            }
        }
        let at = kept.partition_point(|&(s, _)| s < start);
        kept.insert(at, (start, end));
        self.0 = kept;
    }

    /// Where the range that holds `from` ends (`from` itself when none does).
    pub fn end_of_run(&self, from: u64) -> u64 {
        self.0
            .iter()
            .find(|&&(s, e)| s <= from && from < e)
            .map_or(from, |&(_, e)| e)
    }

    /// Bytes covered.
    pub fn len(&self) -> u64 {
        self.0.iter().map(|(s, e)| e - s).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The parts of `[0, total)` not covered, in order.
    pub fn missing(&self, total: u64) -> Vec<(u64, u64)> {
        let mut gaps = Vec::new();
        let mut at = 0;
        for &(s, e) in &self.0 {
            if s > at {
                gaps.push((at, s.min(total)));
            }
            at = at.max(e);
        }
        if at < total {
            gaps.push((at, total));
        }
        gaps
    }

    pub fn as_slice(&self) -> &[(u64, u64)] {
        &self.0
    }
}

struct State {
    part: PartFile,
    done: Ranges,
    /// The SHA-256 of `[0, hashed)`.
    hasher: Sha256,
    hashed: u64,
    /// Bytes hashed by reading them back (the rest was hashed from memory as it came): the
    /// cost of hashing a split download, logged when it is committed.
    read_back: u64,
    /// Bytes written since the last checkpoint, and when it was.
    unsaved: u64,
    checkpointed: Instant,
}

/// A `.part` being written at many offsets at once. Shared by the connections of one item
/// (`Arc`); [`Segments::finish`] or [`Segments::keep`] hands the [`PartFile`] back.
pub struct Segments {
    file: File,
    total: u64,
    state: Mutex<State>,
}

impl std::fmt::Debug for Segments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segments")
            .field("total", &self.total)
            .finish()
    }
}

impl Segments {
    /// Blocking. Turns `part` into a split download of `total` bytes: the file takes its full
    /// length at once (sparse where the file system allows), and the ranges its sidecar
    /// records as done (a resumed split download), plus the prefix already hashed, count as
    /// done. Errors: the file could not be sized, or the part is closed.
    pub fn begin(mut part: PartFile, total: u64) -> Result<Segments, FetchError> {
        let file = part.file.take().ok_or_else(|| closed_error(&part.part))?;
        let file = match into_file(file) {
            Ok(file) => file,
            Err(e) => return Err(write_error(&part.part, &e)),
        };
        file.set_len(total)
            .map_err(|e| write_error(&part.part, &e))?;
        let mut done = Ranges::from_sorted(
            part.sidecar
                .as_ref()
                .map(|s| s.segments.clone())
                .unwrap_or_default(),
        );
        done.insert(0, part.written.min(total));
        if let Some(sidecar) = &mut part.sidecar {
            sidecar.total = Some(total);
        }
        let state = State {
            hasher: std::mem::take(&mut part.hasher),
            hashed: part.written.min(total),
            part,
            done,
            read_back: 0,
            unsaved: 0,
            checkpointed: Instant::now(),
        };
        Ok(Segments {
            file,
            total,
            state: Mutex::new(state),
        })
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    /// The ranges done so far.
    pub fn done(&self) -> Ranges {
        self.lock().done.clone()
    }

    /// The ranges still to fetch.
    pub fn missing(&self) -> Vec<(u64, u64)> {
        self.lock().done.missing(self.total)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Blocking. Writes `bytes` at `offset`, records them as done, hashes what it can, and
    /// checkpoints about once a second. Errors: the write (a full disk) or the checkpoint.
    pub fn write_at(&self, offset: u64, bytes: &[u8]) -> Result<(), FetchError> {
        let end = offset + bytes.len() as u64;
        if end > self.total {
            return Err(FetchError::LongBody {
                expected: self.total,
            });
        }
        let path = || self.lock().part.part.clone();
        write_all_at(&self.file, bytes, offset).map_err(|e| write_error(&path(), &e))?;
        let mut state = self.lock();
        state.done.insert(offset, end);
        if offset == state.hashed {
            state.hasher.update(bytes); // from memory: no read-back
            state.hashed = end;
        }
        catch_up(&self.file, &mut state).map_err(|e| write_error(&state.part.part, &e))?;
        state.unsaved += bytes.len() as u64;
        if state.unsaved >= CHECKPOINT_BYTES && state.checkpointed.elapsed() >= CHECKPOINT_EVERY {
            self.checkpoint(&mut state)?;
        }
        Ok(())
    }

    /// Fsyncs, then records the done ranges in the sidecar.
    fn checkpoint(&self, state: &mut State) -> Result<(), FetchError> {
        let path = state.part.part.clone();
        self.file.sync_data().map_err(|e| write_error(&path, &e))?;
        let prefix = state.done.end_of_run(0);
        let segments = state.done.as_slice().to_vec();
        if let Some(sidecar) = &mut state.part.sidecar {
            sidecar.written = prefix;
            sidecar.segments = segments;
            resume::write_checkpoint(&path, sidecar).map_err(|e| write_error(&path, &e))?;
        }
        state.unsaved = 0;
        state.checkpointed = Instant::now();
        Ok(())
    }

    /// Blocking. Every range done: hashes the rest, and commits the file as [`PartFile::commit`]
    /// does (length and checksum verified, fsync, the no-clobber move). Errors: ranges still
    /// missing ([`FetchError::ShortBody`]), or the commit's own.
    pub fn finish(self) -> Result<Committed, FetchError> {
        let (done, total) = (self.lock().done.len(), self.total);
        if done < total {
            // Never committed short: the ranges done stay on disk for a retry.
            self.keep()?.keep()?;
            return Err(FetchError::ShortBody {
                expected: total,
                received: done,
            });
        }
        let Segments { file, state, .. } = self;
        let mut state = state.into_inner().unwrap_or_else(PoisonError::into_inner);
        catch_up(&file, &mut state).map_err(|e| write_error(&state.part.part, &e))?;
        tracing::info!(
            total,
            read_back = state.read_back,
            "split download hashed ({} % of it read back)",
            state.read_back * 100 / total.max(1)
        );
        let mut part = restore(state, file)?;
        part.written = total;
        if let Some(sidecar) = &mut part.sidecar {
            sidecar.segments.clear();
        }
        part.commit(Some(total))
    }

    /// Blocking. Checkpoints the ranges done and hands the part back, to be kept for resuming
    /// (or dropped, which removes it).
    pub fn keep(self) -> Result<PartFile, FetchError> {
        let Segments { file, state, .. } = self;
        let mut state = state.into_inner().unwrap_or_else(PoisonError::into_inner);
        let path = state.part.part.clone();
        file.sync_data().map_err(|e| write_error(&path, &e))?;
        let prefix = state.done.end_of_run(0);
        let segments = state.done.as_slice().to_vec();
        if let Some(sidecar) = &mut state.part.sidecar {
            sidecar.written = prefix;
            sidecar.segments = segments;
        }
        let mut part = restore(state, file)?;
        part.written = prefix;
        Ok(part)
    }
}

/// Hashes, by reading back, the bytes other connections wrote right after the prefix.
fn catch_up(file: &File, state: &mut State) -> io::Result<()> {
    let run_end = state.done.end_of_run(state.hashed);
    let mut buf = vec![0u8; READ_BACK.min((run_end - state.hashed) as usize)];
    while state.hashed < run_end {
        let n = READ_BACK.min((run_end - state.hashed) as usize);
        read_exact_at(file, &mut buf[..n], state.hashed)?;
        state.hasher.update(&buf[..n]);
        state.hashed += n as u64;
        state.read_back += n as u64;
    }
    Ok(())
}

/// The part with its file back, and the hash of its prefix.
fn restore(mut state: State, file: File) -> Result<PartFile, FetchError> {
    catch_up(&file, &mut state).map_err(|e| write_error(&state.part.part, &e))?;
    let mut part = state.part;
    part.hasher = state.hasher;
    part.file = Some(Gather::new(file));
    Ok(part)
}

/// The gathered writer's file, with nothing left pending.
fn into_file(mut gather: Gather) -> io::Result<File> {
    gather.flush()?;
    Ok(gather.file)
}

/// Shares one [`Segments`] among an item's connections.
pub type Shared = Arc<Segments>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_say_what_is_missing() {
        let mut r = Ranges::default();
        r.insert(10, 20);
        r.insert(30, 40);
        r.insert(20, 25);
        assert_eq!(r.as_slice(), &[(10, 25), (30, 40)]);
        assert_eq!(r.missing(50), vec![(0, 10), (25, 30), (40, 50)]);
        r.insert(0, 35);
        assert_eq!(r.as_slice(), &[(0, 40)]);
        assert_eq!(r.end_of_run(0), 40);
        assert_eq!(r.end_of_run(45), 45);
        assert_eq!(r.len(), 40);
    }
}
