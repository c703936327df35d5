//! An engine event applied to the download it belongs to: the one state machine of a
//! download's life, for the window and the headless RPC.
//!
//! Owns: [`Session::apply`]. Must not touch: I/O, clocks (time comes in as an argument).

use std::time::Instant;

use super::{Applied, Session, Speed, State, entry};
use crate::protocol::{Event, Outcome};

impl Session {
    /// Applies one engine event to the download it belongs to; what it did, when it is one
    /// of the list's (events of ids no longer in the list are ignored).
    pub fn apply(&mut self, event: Event, now: Instant) -> Option<Applied> {
        let gid = self.gid_of(event.id())?;
        let i = self.position(gid)?;
        let entry = &mut self.entries[i];
        let was = entry.status();
        let mut applied = Applied {
            gid,
            index: i,
            was,
            is: was,
            received: 0,
            renamed: false,
        };
        let (done, total) = (entry.state.bytes(), entry.state.total());
        let (attempt, of) = match &entry.state {
            State::Connecting { attempt, of, .. } | State::Retrying { attempt, of, .. } => {
                (*attempt, *of)
            }
            State::Running { attempt, of, .. } => (*attempt, *of),
            _ => (0, 0),
        };
        let since = entry::since_of(&entry.state, now);
        let new_state = match event {
            Event::Parts { done, .. } => {
                entry.parts = done;
                return Some(applied);
            }
            Event::Connections { speeds, .. } => {
                entry.connections = speeds;
                return Some(applied);
            }
            Event::Stream { info, .. } => {
                entry.stream = Some(info);
                return Some(applied);
            }
            Event::Swarm { mut swarm, .. } => {
                // The info hash, once learned, stays (a new run learns it again only later).
                swarm.info_hash = swarm.info_hash.or(entry.swarm.and_then(|s| s.info_hash));
                entry.swarm = Some(swarm);
                return Some(applied);
            }
            Event::TorrentFiles { files, .. } => {
                entry.torrent_files = files;
                return Some(applied);
            }
            Event::Published { files, folder, .. } => {
                entry.published = files;
                entry.published_folder = folder;
                return Some(applied);
            }
            Event::Progress { done, total, .. } => {
                if let State::Running {
                    done: d,
                    total: t,
                    speed,
                    ..
                } = &mut entry.state
                {
                    applied.received = done.saturating_sub(*d);
                    *d = done;
                    *t = total;
                    speed.update(done, now);
                }
                return Some(applied);
            }
            Event::Connecting { .. } => {
                entry.connections.clear();
                entry.published.clear();
                entry.published_folder = None;
                State::Connecting {
                    since,
                    waiting: None,
                    attempt,
                    of,
                    done,
                    total,
                }
            }
            Event::Waiting { reason, .. } => State::Connecting {
                since,
                waiting: Some(reason),
                attempt,
                of,
                done,
                total,
            },
            Event::Started {
                name,
                total,
                done,
                resumable,
                ..
            } => {
                entry.parts.clear();
                entry.connections.clear();
                entry.resumable = resumable;
                if name != entry.name {
                    entry.name = name;
                    applied.renamed = true;
                }
                State::Running {
                    since,
                    done,
                    total,
                    speed: Speed::default(),
                    attempt,
                    of,
                }
            }
            Event::Retrying {
                attempt,
                of,
                delay,
                reason,
                cause,
                ..
            } => State::Retrying {
                since,
                done,
                total,
                attempt,
                of,
                at: now + delay,
                cause: Box::new(cause),
                reason,
            },
            Event::Finished {
                elapsed,
                bytes,
                outcome,
                ..
            } => {
                entry.parts.clear();
                entry.connections.clear();
                // What arrived after the last progress report (all of a small file).
                if matches!(entry.state, State::Running { .. }) {
                    applied.received = bytes.saturating_sub(done);
                }
                // The name it landed under (another item or program may have taken the one
                // first reported).
                if let Some(name) = outcome.path().and_then(|p| p.file_name()) {
                    let name = name.to_string_lossy();
                    if name != entry.name {
                        entry.name = name.into_owned();
                        applied.renamed = true;
                    }
                }
                match outcome {
                    Outcome::Done { files, folder } => State::Done {
                        files,
                        folder,
                        bytes,
                        elapsed,
                    },
                    Outcome::Failed(error) => State::Failed {
                        error: Box::new(error),
                        origin: None,
                        bytes,
                        elapsed,
                    },
                    Outcome::TimedOut(kind) => State::TimedOut {
                        kind,
                        bytes,
                        elapsed,
                    },
                    Outcome::Cancelled => State::Cancelled { bytes, elapsed },
                    Outcome::Skipped { path } => State::Skipped { path },
                    Outcome::Paused => State::Paused {
                        bytes,
                        total,
                        elapsed,
                    },
                }
            }
        };
        self.set_state(i, new_state);
        applied.is = self.entries[i].status();
        Some(applied)
    }
}
