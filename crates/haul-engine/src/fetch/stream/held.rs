//! The segments of a stream held on disk, and the sidecar that says which.
//!
//! Owns: a stream's own folder in the destination (`.haul-stream-HASH`, the hash of the
//! item's source alone, so the same stream given again finds it — also in another quality,
//! whose other playlists then clear the first one's segments), its `stream.json` (the source
//! and each track's playlist and segment count: a resume goes on only when they are the
//! same) and its `held` log: one line `TRACK INDEX LENGTH` appended for each segment
//! once its file is complete under its own name (written as `.tmp`, then renamed). A `kill -9`
//! loses at most the segments in flight; a line whose file is missing or of another length is
//! not trusted. The folder is removed once the merged file is committed, or when the item is
//! cancelled; a pause or a failure keeps it.
//! Must not touch: the network, the merged file (`merge`).

use std::collections::HashMap;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::Digest as _;

use super::Plan;
use super::follow::Ready;
use crate::fetch::Stop;
use crate::item::{Job, blocking};
use crate::output::write_error;
use crate::protocol::FetchError;

/// The segments held for one stream.
pub(crate) struct Held {
    folder: PathBuf,
    /// Length of each held segment, by (track, index).
    lengths: HashMap<(usize, usize), u64>,
    /// The first track's segments held, for ffmpeg following the download (`follow`).
    ready: Option<Arc<Ready>>,
}

/// What `stream.json` says.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct About {
    source: String,
    tracks: Vec<(String, usize)>,
}

impl Held {
    /// Opens (or creates) the stream's folder for `plan`; segments held for another plan of
    /// the same source (the playlist changed) are removed first.
    pub(crate) async fn open(job: &Job, key: &str, plan: &Plan) -> Result<Held, Stop> {
        // The folder is the source's whatever the quality: another quality's playlists differ
        // from those in `stream.json`, so the first quality's segments are removed, not left.
        // A live recording's segments are its run's alone: never another run's to resume.
        let run = if plan.live.is_some() {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        } else {
            0
        };
        let hash = sha2::Sha256::digest(format!("{key}\n{run}").as_bytes());
        let hex: String = hash.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let folder = job.output.dest.join(format!(".haul-stream-{hex}"));
        let about = About {
            source: crate::protocol::redact(key).into_owned(),
            tracks: plan
                .tracks
                .iter()
                .map(|t| (t.playlist.clone(), t.segments.len()))
                .collect(),
        };
        blocking(move || Held::open_blocking(folder, &about).map_err(Stop::Failed)).await
    }

    fn open_blocking(folder: PathBuf, about: &About) -> Result<Held, FetchError> {
        let about_path = folder.join("stream.json");
        let same = fs::read(&about_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<About>(&bytes).ok())
            .is_some_and(|kept| kept == *about);
        if !same && folder.exists() {
            tracing::info!(folder = %folder.display(), "the stream changed: its segments start over");
            fs::remove_dir_all(&folder).map_err(|e| write_error(&folder, &e))?;
        }
        fs::create_dir_all(&folder).map_err(|e| write_error(&folder, &e))?;
        if !same {
            let text = serde_json::to_vec(about).unwrap_or_default();
            fs::write(&about_path, text).map_err(|e| write_error(&about_path, &e))?;
        }
        let mut lengths = HashMap::new();
        if let Ok(log) = fs::read_to_string(folder.join("held")) {
            for line in log.lines() {
                let mut words = line.split(' ').map(str::parse::<u64>);
                let (Some(Ok(track)), Some(Ok(index)), Some(Ok(length))) =
                    (words.next(), words.next(), words.next())
                else {
                    continue;
                };
                let (track, index) = (track as usize, index as usize);
                let on_disk = fs::metadata(segment_path(&folder, track, index)).map(|m| m.len());
                if on_disk.is_ok_and(|len| len == length) {
                    lengths.insert((track, index), length);
                }
            }
        }
        if !lengths.is_empty() {
            tracing::info!(held = lengths.len(), "going on from the segments held");
        }
        Ok(Held {
            folder,
            lengths,
            ready: None,
        })
    }

    /// The stream's folder.
    pub(crate) fn folder(&self) -> &Path {
        &self.folder
    }

    /// Whether segment `index` of `track` is held.
    pub(crate) fn has(&self, track: usize, index: usize) -> bool {
        self.lengths.contains_key(&(track, index))
    }

    /// How many segments are held.
    pub(crate) fn count(&self) -> usize {
        self.lengths.len()
    }

    /// The average length of `track`'s segments held so far (none held: None).
    pub(crate) fn average(&self, track: usize) -> Option<u64> {
        let (count, sum) = self
            .lengths
            .iter()
            .filter(|((t, _), _)| *t == track)
            .fold((0u64, 0u64), |(c, s), (_, l)| (c + 1, s + l));
        sum.checked_div(count)
    }

    /// The bytes held.
    pub(crate) fn bytes(&self) -> u64 {
        self.lengths.values().sum()
    }

    /// Which of the first track's `count` segments are held, told as more are.
    pub(crate) fn ready(&mut self, count: usize) -> Arc<Ready> {
        let held = (0..count).map(|i| self.has(0, i)).collect();
        let ready = Ready::new(held);
        self.ready = Some(Arc::clone(&ready));
        ready
    }

    /// Where segment `index` of `track` is kept.
    pub(crate) fn path(&self, track: usize, index: usize) -> PathBuf {
        segment_path(&self.folder, track, index)
    }

    /// Keeps a segment's bytes: its file first, then its line in the log.
    pub(crate) async fn store(
        &mut self,
        track: usize,
        index: usize,
        bytes: Vec<u8>,
    ) -> Result<(), Stop> {
        let (path, log) = (self.path(track, index), self.folder.join("held"));
        let length = bytes.len() as u64;
        blocking(move || {
            let tmp = path.with_extension("tmp");
            fs::write(&tmp, &bytes).map_err(|e| write_error(&tmp, &e))?;
            fs::rename(&tmp, &path).map_err(|e| write_error(&path, &e))?;
            let mut file = fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log)
                .map_err(|e| write_error(&log, &e))?;
            writeln!(file, "{track} {index} {length}").map_err(|e| write_error(&log, &e))?;
            Ok(())
        })
        .await?;
        self.lengths.insert((track, index), length);
        if let (0, Some(ready)) = (track, &self.ready) {
            ready.set(index);
        }
        Ok(())
    }

    /// Removes the folder and everything in it (the stream is committed, or cancelled).
    pub(crate) async fn remove(&self) {
        let folder = self.folder.clone();
        let removed = blocking(move || {
            fs::remove_dir_all(&folder).map_err(|e| Stop::Failed(write_error(&folder, &e)))
        })
        .await;
        if let Err(e) = removed {
            tracing::warn!(error = ?e, "could not remove the stream's segments");
        }
    }
}

fn segment_path(folder: &Path, track: usize, index: usize) -> PathBuf {
    folder.join(format!("{track}-{index:06}.seg"))
}
