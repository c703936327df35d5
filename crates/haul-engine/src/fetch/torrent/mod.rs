//! BitTorrent: magnet links (the metadata from the peers, BEP 9) and `.torrent` files, on
//! librqbit (the engine's one session: `client`), written through Haul's own storage
//! (`storage`): every file in a working folder of the destination until every chosen piece
//! is verified, then moved under its final, sanitised name (a free top name: never over what
//! is there); then seeding until the share ratio or the seed time.
//!
//! Owns: one torrent's run: adding it (with its chosen files, peer hints `x.pe`, extra
//! trackers, its speed limit), waiting for the metadata under the stall timeout, its files' list
//! for the row to choose from once the metadata is known, progress and
//! swarm events, publishing the files, seeding, and what a stop leaves (a pause keeps the
//! working folder, whose verified pieces the next run finds; a cancel removes it).
//! Must not touch: retries, outcomes (`job`), the session's set-up (`client`).

mod client;
mod storage;

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use librqbit::limits::LimitsConfig;
use librqbit::storage::StorageFactoryExt;
use librqbit::{AddTorrent, AddTorrentOptions, AddTorrentResponse, ManagedTorrent, Session};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

pub(crate) use client::Client;

use super::{Attempt, Fetcher, Files, PartFile, Stop, Try};
use crate::item::{Job, Shared, blocking, fits, started};
use crate::output::{Committed, tree};
use crate::protocol::{Checksum, Event, FetchError, Ratio, Source, Swarm};

/// The largest `.torrent` file read (real ones are kilobytes to a few megabytes).
const MAX_TORRENT_FILE: u64 = 64 * 1024 * 1024;
/// How often a running torrent's figures are read.
const TICK: Duration = Duration::from_millis(100);
/// Swarm events at most this often.
const SWARM_EVERY: Duration = Duration::from_millis(500);

/// Magnet links.
pub(crate) struct Torrent;

impl Fetcher for Torrent {
    fn attempt<'a>(&'a self, at: &'a Try<'a>, _part: &'a mut Option<PartFile>) -> Attempt<'a> {
        Box::pin(async move {
            let peers = peer_hints(at.url);
            let add = AddTorrent::from_url(at.url.as_str().to_owned());
            let hash = magnet_hash(at.url);
            run(at.job, (add, hash), peers, at.stop, at.shared).await
        })
    }
}

/// Whether a local file is read as a torrent (its name ends in `.torrent`).
pub(crate) fn is_torrent_file(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("torrent"))
}

/// A local `.torrent` file, fetched as the torrent it describes.
pub(crate) async fn from_file(
    job: &Job,
    path: &Path,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> Result<Files, Stop> {
    let bytes = read_torrent_file(path).await?;
    let hash = librqbit::torrent_from_bytes(&bytes)
        .ok()
        .map(|t| t.info_hash);
    run(
        job,
        (AddTorrent::from_bytes(bytes), hash),
        Vec::new(),
        stop,
        shared,
    )
    .await
}

async fn read_torrent_file(path: &Path) -> Result<Vec<u8>, Stop> {
    let path = path.to_path_buf();
    blocking(move || {
        let read = |e: std::io::Error| FetchError::Read {
            path: path.clone(),
            message: e.to_string(),
        };
        let meta = std::fs::metadata(&path).map_err(read)?;
        if meta.len() > MAX_TORRENT_FILE {
            return Err(Stop::Failed(FetchError::Torrent(format!(
                "{} is too large for a .torrent file ({} bytes)",
                path.display(),
                meta.len()
            ))));
        }
        Ok(std::fs::read(&path).map_err(read)?)
    })
    .await
}

/// Removes the working folder (and so the verified pieces) of a torrent that is not running:
/// a paused row cancelled. The info hash its run reported (`known`; a web link's, whose reply
/// was a `.torrent`), else the magnet's or the `.torrent` file's, names the folder.
/// `false` when `source` is not a torrent, whose kept bytes are then the resume store's.
pub(crate) fn discard(dest: &Path, source: &Source, known: Option<[u8; 20]>) -> bool {
    let hash = match source {
        _ if known.is_some() => known.map(librqbit::dht::Id20::new),
        Source::Url(url) if url.scheme() == "magnet" => magnet_hash(url),
        Source::File(path) if is_torrent_file(path) => std::fs::read(path).ok().and_then(|bytes| {
            librqbit::torrent_from_bytes(&bytes)
                .ok()
                .map(|t| t.info_hash)
        }),
        _ => return false,
    };
    if let Some(hash) = hash {
        let work = storage::work_folder(dest, &hash.as_string());
        match std::fs::remove_dir_all(&work) {
            Ok(()) => tracing::info!(folder = %work.display(), "kept pieces discarded"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!(folder = %work.display(), error = %e, "could not remove"),
        }
    }
    true
}

/// A magnet link's info hash (`xt=urn:btih:`).
fn magnet_hash(url: &url::Url) -> Option<librqbit::dht::Id20> {
    librqbit::Magnet::parse(url.as_str())
        .ok()
        .and_then(|m| m.as_id20())
}

/// The files of a `.torrent` file: each one's path inside the torrent and its length, in the
/// torrent's order (numbered from 1 by `select-file`). Errors: a file that is not a torrent.
pub fn list_files(bytes: &[u8]) -> Result<Vec<(String, u64)>, FetchError> {
    let torrent = librqbit::torrent_from_bytes(bytes).map_err(|e| bad_torrent(&e))?;
    let info = torrent.info.data.validate().map_err(|e| bad_torrent(&e))?;
    let name = info.name().map(|n| n.into_owned()).unwrap_or_default();
    let files = info
        .iter_file_details()
        .map(|fd| {
            let inner = fd.filename.iter_components().collect::<Vec<_>>().join("/");
            (
                if info.info().files.is_some() {
                    format!("{name}/{inner}")
                } else {
                    inner
                },
                fd.len,
            )
        })
        .collect();
    Ok(files)
}

fn bad_torrent(e: &dyn std::fmt::Display) -> FetchError {
    FetchError::Torrent(format!("not a valid .torrent file: {e}"))
}

/// The peers a magnet link names (`x.pe=HOST:PORT`, BEP 9), those given as addresses.
fn peer_hints(url: &url::Url) -> Vec<SocketAddr> {
    url.query_pairs()
        .filter(|(k, _)| k == "x.pe")
        .filter_map(|(_, v)| v.parse().ok())
        .collect()
}

/// One torrent's run, its working folder held (`hash`: its info hash when known before the
/// metadata): one run at a time, in this process or another, writes a torrent's working
/// folder and publishes from it (two at once both fetched it all; one failed half-way, or the
/// last record won). What the hold leaves, an otherwise empty working folder, goes after it.
async fn run(
    job: &Job,
    (add, hash): (AddTorrent<'_>, Option<librqbit::dht::Id20>),
    initial_peers: Vec<SocketAddr>,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> Result<Files, Stop> {
    let held = match hash {
        Some(hash) => Some(storage::Hold::take(&job.output.dest, &hash.as_string()).await?),
        None => None,
    };
    let result = run_held(job, add, initial_peers, stop, shared).await;
    if let Some(held) = held {
        held.release().await;
    }
    result
}

/// One torrent's run: added to the engine's session, fetched, published, seeded.
async fn run_held(
    job: &Job,
    add: AddTorrent<'_>,
    initial_peers: Vec<SocketAddr>,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> Result<Files, Stop> {
    let session = job.torrents.session(&job.limits, &job.output.dest).await?;
    let slot = storage::Slot::default();
    let torrent = &job.options.torrent;
    let rate =
        |r: Option<u64>| r.and_then(|r| NonZeroU32::new(u32::try_from(r).unwrap_or(u32::MAX)));
    let options = AddTorrentOptions {
        only_files: torrent
            .select
            .as_ref()
            .map(|s| s.iter().map(|n| n.saturating_sub(1)).collect()),
        overwrite: true,
        output_folder: Some(job.output.dest.to_string_lossy().into_owned()),
        initial_peers: (!initial_peers.is_empty()).then_some(initial_peers.clone()),
        trackers: (!torrent.trackers.is_empty()).then(|| torrent.trackers.clone()),
        ratelimits: LimitsConfig {
            download_bps: rate(job.options.max_rate),
            upload_bps: None,
        },
        storage_factory: Some(
            storage::Factory {
                dest: job.output.dest.clone(),
                slot: Arc::clone(&slot),
            }
            .boxed(),
        ),
        ..AddTorrentOptions::default()
    };
    let metadata_wait = peer_wait(job);
    // A magnet link's info hash is known before its metadata (aria2 names its files
    // `[METADATA]<hash>` until then).
    let magnet = match &job.source {
        Source::Url(url) if url.scheme() == "magnet" => magnet_hash(url),
        _ => None,
    };
    job.events.send(Event::Swarm {
        id: job.id,
        swarm: Swarm {
            metadata: true,
            info_hash: magnet.map(|h| h.0),
            ..Swarm::default()
        },
    });
    let added = tokio::select! {
        () = stop.cancelled() => return Err(Stop::Stopped),
        () = tokio::time::sleep(metadata_wait) => {
            return Err(Stop::Failed(FetchError::Torrent(format!(
                "no peer sent this torrent's metadata within {} s ({}; DHT {})",
                metadata_wait.as_secs(),
                if initial_peers.is_empty() { "no peer hints".to_owned() } else {
                    format!("peers named: {}", initial_peers.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
                },
                if job.limits.dht { "on" } else { "off" },
            ))));
        }
        added = session.add_torrent(add, Some(options)) => added,
    };
    let handle = match added {
        Ok(AddTorrentResponse::Added(_, handle)) => handle,
        Ok(AddTorrentResponse::AlreadyManaged(..)) => {
            return Err(Stop::Failed(FetchError::Torrent(
                "this torrent is already being fetched".to_owned(),
            )));
        }
        Ok(AddTorrentResponse::ListOnly(_)) => {
            return Err(Stop::Failed(FetchError::Torrent(
                "nothing to fetch".to_owned(),
            )));
        }
        Err(e) => return Err(Stop::Failed(add_error(&e))),
    };
    let result = follow(job, &session, &handle, &slot, stop, shared).await;
    let layout = slot.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let _ = session.delete(handle.id().into(), false).await;
    if let Some(layout) = layout {
        // Done with every file published: nothing is left to add. Done with files left out:
        // it keeps the record of what was published (a later run with more files chosen puts
        // them beside those) and the verified bytes of those left out (a file unticked after
        // it had started, as qBittorrent keeps them: ticked again, it goes on from them).
        // Cancelled: the bytes are not wanted. Nothing verified and nothing published:
        // nothing to keep. Otherwise its verified pieces are kept for the next run.
        // Skipped (every chosen file already there): as done.
        let kept = shared.received.load(Ordering::Relaxed);
        let ended = matches!(result, Ok(_) | Err(Stop::Exists(_)));
        let remove = (ended && layout.all_published())
            || job.cancelled()
            || (kept == 0 && !layout.has_record());
        if remove {
            let work = layout.work.clone();
            let _ = blocking(move || {
                let _ = std::fs::remove_dir_all(&work);
                Ok(())
            })
            .await;
        }
    }
    result
}

/// How long a torrent may go without a peer (for its metadata, or, not yet complete, for
/// its pieces) before it fails: the stall timeout, four times that when the DHT has to find
/// them.
fn peer_wait(job: &Job) -> Duration {
    if job.limits.dht {
        job.limits.stall_timeout * 4
    } else {
        job.limits.stall_timeout
    }
}

/// librqbit's refusal as a sentence.
fn add_error(e: &anyhow::Error) -> FetchError {
    let text = format!("{e:#}");
    if text.contains("no known way to resolve peers") {
        return FetchError::Torrent(
            "this magnet link names no peer (x.pe) and no tracker, and DHT is off: there is \
             nowhere to ask for its metadata"
                .to_owned(),
        );
    }
    if text.contains("no way to discover torrent metainfo") {
        return FetchError::Torrent(format!(
            "no peer sent this torrent's metadata: the peers it names and its trackers did not \
             answer ({text})"
        ));
    }
    // librqbit numbers files from 0; select-file from 1.
    if let Some(id) = text
        .split("file id ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<usize>().ok())
        && text.contains("out of range")
    {
        return FetchError::Torrent(format!(
            "select-file names file {}, which this torrent does not have (--show-files lists \
             its files, numbered from 1)",
            id + 1
        ));
    }
    if text.contains("decoding torrent") || text.contains("path traversal") {
        return FetchError::Torrent(format!("not a valid .torrent file: {text}"));
    }
    FetchError::Torrent(text)
}

/// From the metadata to the end: progress, publishing, seeding.
async fn follow(
    job: &Job,
    session: &Session,
    handle: &Arc<ManagedTorrent>,
    slot: &storage::Slot,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> Result<Files, Stop> {
    let mut announced = false;
    // The files as last listed to the row (with their verified bytes).
    let mut listed: Option<Vec<crate::protocol::TorrentFile>> = None;
    let info_hash = Some(handle.info_hash().0);
    // The metadata is known from here on, and the info hash with it (a web link's torrent
    // is known only now): the row keeps it, so a cancel can find the working folder.
    job.events.send(Event::Swarm {
        id: job.id,
        swarm: Swarm {
            info_hash,
            ..Swarm::default()
        },
    });
    let mut last_swarm = Instant::now() - SWARM_EVERY;
    let mut files: Option<Files> = None;
    let mut seeding_since = Instant::now();
    let mut ticker = tokio::time::interval(TICK);
    let (mut last_progress, mut active) = (u64::MAX, Instant::now());
    let mut overall = None;
    loop {
        tokio::select! {
            () = stop.cancelled() => {
                return files.ok_or(Stop::Stopped);
            }
            _ = ticker.tick() => {}
        }
        // The overall download limit, also when it changes while torrents run (the session's
        // is shared by every torrent; an item's own limit is set when it is added).
        let now = job.rates.global.rate();
        if overall != Some(now) {
            overall = Some(now);
            session.ratelimits.set_download_bps(
                now.and_then(|r| NonZeroU32::new(u32::try_from(r).unwrap_or(u32::MAX))),
            );
        }
        let stats = handle.stats();
        if let Some(error) = &stats.error {
            return Err(Stop::Failed(FetchError::Torrent(error.clone())));
        }
        // The files once the layout is known, then as their verified bytes grow.
        let due = last_swarm.elapsed() >= SWARM_EVERY || (stats.finished && files.is_none());
        if (listed.is_none() || due)
            && let Some(layout) = slot.lock().unwrap_or_else(PoisonError::into_inner).as_ref()
        {
            let now = layout.files(&stats.file_progress);
            if listed.as_ref() != Some(&now) {
                job.events.send(Event::TorrentFiles {
                    id: job.id,
                    files: now.clone(),
                });
                listed = Some(now);
            }
        }
        let live = matches!(stats.state, librqbit::TorrentStatsState::Live);
        if !live {
            continue;
        }
        if !announced {
            announced = true;
            let layout = slot.lock().unwrap_or_else(PoisonError::into_inner).clone();
            if job.output.skip_existing
                && let Some(layout) = &layout
                && let Some(there) = already_there(job, layout, handle.only_files())
            {
                return Err(Stop::Exists(there));
            }
            let (done, total) = chosen_bytes(&stats, layout.as_deref(), handle.only_files());
            // What was there before this run (kept pieces, files in place), not what peers
            // sent since it went live (on loopback, much of a small torrent by now).
            let fetched = stats
                .live
                .as_ref()
                .map_or(0, |l| l.snapshot.downloaded_and_checked_bytes);
            let kept = done.saturating_sub(fetched);
            // The top it publishes into: an earlier run's (`name (1)`), else its own name.
            let name = layout.map_or_else(String::new, |l| {
                l.placed()
                    .and_then(Path::file_name)
                    .map_or_else(|| l.top.clone(), |n| n.to_string_lossy().into_owned())
            });
            shared.received.store(kept, Ordering::Relaxed);
            fits(job, Some(total), kept).await?;
            started(job, shared, (name, Some(total)), true);
        }
        let layout = slot.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let (done, _) = chosen_bytes(&stats, layout.as_deref(), handle.only_files());
        shared.received.store(done, Ordering::Relaxed);
        let live_peers = stats
            .live
            .as_ref()
            .map_or(0, |l| l.snapshot.peer_stats.live);
        if live_peers > 0 || stats.progress_bytes != last_progress || stats.finished {
            (last_progress, active) = (stats.progress_bytes, Instant::now());
        } else if active.elapsed() >= peer_wait(job) {
            return Err(Stop::Failed(FetchError::Torrent(format!(
                "no peer found for this torrent within {} s (DHT {}{})",
                peer_wait(job).as_secs(),
                if job.limits.dht { "on" } else { "off" },
                if handle.shared().trackers.is_empty() {
                    ", no tracker"
                } else {
                    ""
                },
            ))));
        }
        if last_swarm.elapsed() >= SWARM_EVERY {
            last_swarm = Instant::now();
            let peers = stats.live.as_ref().map(|l| &l.snapshot.peer_stats);
            let (pieces, piece_length) = layout.as_deref().map_or((0, 0), storage::Layout::pieces);
            job.events.send(Event::Swarm {
                id: job.id,
                swarm: Swarm {
                    peers: peers.map_or(0, |p| p.live),
                    seeds: peers.map_or(0, |p| p.live_seeders),
                    uploaded: stats.uploaded_bytes,
                    up_speed: stats.live.as_ref().map_or(0, |l| l.upload_speed.as_bytes()),
                    metadata: false,
                    seeding: files.is_some(),
                    pieces,
                    piece_length,
                    info_hash,
                },
            });
        }
        match &files {
            None if stats.finished => {
                let layout = slot.lock().unwrap_or_else(PoisonError::into_inner).clone();
                let Some(layout) = layout else {
                    return Err(Stop::Failed(FetchError::Torrent(
                        "the torrent finished without its files' layout".to_owned(),
                    )));
                };
                let chosen = handle
                    .only_files()
                    .unwrap_or_else(|| (0..layout.entries.len()).collect());
                let (published, folder) = publish(job, layout, chosen).await?;
                job.events.send(Event::Published {
                    id: job.id,
                    files: published.iter().cloned().map(Into::into).collect(),
                    folder: folder.clone(),
                });
                if let Some(folder) = folder {
                    let _ = shared.folder.set(folder);
                }
                files = Some(published);
                seeding_since = Instant::now();
            }
            Some(_) if seeded_enough(job, &stats, seeding_since) => {
                return files.ok_or(Stop::Stopped);
            }
            _ => {}
        }
    }
}

/// The chosen files' verified bytes and their total, as aria2 counts `completedLength` and
/// `totalLength` with `select-file` (librqbit's own figures count whole pieces, which reach
/// into the files beside the chosen ones); padding files are not counted.
fn chosen_bytes(
    stats: &librqbit::TorrentStats,
    layout: Option<&storage::Layout>,
    chosen: Option<Vec<usize>>,
) -> (u64, u64) {
    let Some(layout) = layout else {
        return (stats.progress_bytes, stats.total_bytes);
    };
    let picked = |i: usize| chosen.as_ref().is_none_or(|c| c.contains(&i));
    layout
        .entries
        .iter()
        .enumerate()
        .filter(|&(i, e)| !e.padding && picked(i))
        .fold((0, 0), |(done, total), (i, e)| {
            let have = stats.file_progress.get(i).copied().unwrap_or(0);
            (done + have.min(e.length), total + e.length)
        })
}

/// With `skip_existing` (haul-cli's default): the torrent's top file or folder when every
/// chosen file is already there under its final name, with its size (the same command run
/// again makes no `name (1)` copy).
fn already_there(
    job: &Job,
    layout: &storage::Layout,
    chosen: Option<Vec<usize>>,
) -> Option<std::path::PathBuf> {
    let chosen = chosen.unwrap_or_else(|| (0..layout.entries.len()).collect());
    let complete = chosen.iter().all(|&i| {
        layout.published(i)
            || layout.entries.get(i).is_none_or(|e| {
                e.padding
                    || std::fs::metadata(job.output.dest.join(&e.relative))
                        .is_ok_and(|m| m.is_file() && m.len() == e.length)
            })
    });
    complete.then(|| {
        layout
            .placed()
            .map_or_else(|| job.output.dest.join(&layout.top), Path::to_path_buf)
    })
}

/// Whether seeding is over: the share ratio reached (uploaded ÷ the chosen bytes), or the
/// seed time passed; with neither (`seed-ratio=0` and no `seed-time`), at once.
fn seeded_enough(job: &Job, stats: &librqbit::TorrentStats, since: Instant) -> bool {
    let torrent = &job.options.torrent;
    let ratio = torrent.seed_ratio.unwrap_or(Ratio::DEFAULT);
    if let Some(time) = torrent.seed_time
        && since.elapsed() >= time
    {
        return true;
    }
    if ratio.0 == 0 {
        return torrent.seed_time.is_none();
    }
    let wanted = stats.total_bytes as f64 * ratio.as_f64();
    stats.uploaded_bytes as f64 >= wanted
}

/// Moves the chosen, verified files under their final names and hashes them (SHA-256, as
/// every done file reports); the top folder they are in, for a torrent of many files.
async fn publish(
    job: &Job,
    layout: Arc<storage::Layout>,
    chosen: Vec<usize>,
) -> Result<(Files, Option<PathBuf>), Stop> {
    let (names, dest) = (Arc::clone(&job.names), job.output.dest.clone());
    blocking(move || {
        let chosen: Vec<usize> = chosen
            .into_iter()
            .filter(|&i| layout.entries.get(i).is_some_and(|e| !e.padding))
            .collect();
        // Beside what an earlier run published, else in a free top of its own.
        let (moved, top) = match layout.placed() {
            Some(top) => (layout.publish(&chosen, top)?, top.to_path_buf()),
            None => {
                let top = tree::take_top(&names, &dest, &layout.top, layout.folder)?;
                let moved = layout.publish(&chosen, &top);
                names.release(&top);
                (moved?, top)
            }
        };
        let mut files = Vec::new();
        for (path, i) in moved.into_iter().zip(chosen) {
            let length = layout.entries.get(i).map_or(0, |e| e.length);
            files.push(Committed {
                sha256: sha256_of(&path)?,
                path,
                bytes: length,
            });
        }
        Ok((files, layout.folder.then_some(top)))
    })
    .await
}

fn sha256_of(path: &Path) -> Result<Checksum, FetchError> {
    let read = |e: std::io::Error| FetchError::Read {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let mut file = std::fs::File::open(path).map_err(read)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(read)?;
    Ok(Checksum(hasher.finalize().into()))
}
