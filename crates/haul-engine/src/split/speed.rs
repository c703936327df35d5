//! How fast each connection of a split download receives, and when one that has run out of
//! work takes over the range of one much slower than itself: a slow connection never decides
//! the end (one at 16 KiB/s among fast ones would otherwise hold the last piece for seconds).
//!
//! Owns: the connections' speeds, what each open connection received lately (for the item's
//! `Connections` event), and the rule for taking over. Must not touch: the ranges themselves
//! (`plan` moves them), the network, the disk.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A connection is judged only after it has been watched this long.
const WATCHED: Duration = Duration::from_millis(500);
/// A range is taken over only when its owner would need this much longer than the taker
/// (counting a new request's round trip), and at least [`SAVED`] more.
const SLOWER: f64 = 2.0;
const SAVED: Duration = Duration::from_millis(500);
/// The window each connection's reported speed is taken over.
const RECENT: Duration = Duration::from_secs(2);
/// What a new request costs before its first byte, as the taker pays it.
const NEW_REQUEST: Duration = Duration::from_millis(100);

/// What a split download's connections received: in all (the item's progress) and each.
#[derive(Debug, Default)]
pub(crate) struct Meters {
    pub(crate) received: AtomicU64,
    pub(crate) speeds: Speeds,
}

/// Bytes received by each open connection since it started.
#[derive(Debug, Default)]
pub(crate) struct Speeds {
    meters: Mutex<HashMap<usize, Meter>>,
    /// Each open connection's (time, bytes) when [`Speeds::recent`] looked, over the last
    /// [`RECENT`].
    looked: Mutex<BTreeMap<usize, VecDeque<(Instant, u64)>>>,
}

#[derive(Debug, Clone, Copy)]
struct Meter {
    since: Instant,
    bytes: u64,
}

impl Speeds {
    fn meters(&self) -> std::sync::MutexGuard<'_, HashMap<usize, Meter>> {
        self.meters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Connection `conn` starts (its clock starts now).
    pub(super) fn start(&self, conn: usize) {
        self.meters().insert(
            conn,
            Meter {
                since: Instant::now(),
                bytes: 0,
            },
        );
    }

    /// Connection `conn` ended: it is no longer counted.
    pub(super) fn end(&self, conn: usize) {
        self.meters().remove(&conn);
    }

    /// Each open connection's speed in bytes a second over about the last [`RECENT`] (since
    /// it started, at first), in the order they started. A server that throttles in bursts
    /// (nginx's `limit_rate` sends a few MiB, then nothing) reads steady over that window.
    pub(crate) fn recent(&self) -> Vec<u64> {
        let now = Instant::now();
        let mut meters: Vec<(usize, Meter)> = self.meters().iter().map(|(c, m)| (*c, *m)).collect();
        meters.sort_unstable_by_key(|(conn, _)| *conn);
        let mut looked = self.looked.lock().unwrap_or_else(PoisonError::into_inner);
        looked.retain(|conn, _| meters.iter().any(|(c, _)| c == conn));
        meters
            .into_iter()
            .map(|(conn, meter)| {
                let seen = looked
                    .entry(conn)
                    .or_insert_with(|| VecDeque::from([(meter.since, 0)]));
                seen.push_back((now, meter.bytes));
                while seen.len() > 2
                    && seen
                        .get(1)
                        .is_some_and(|(at, _)| now.duration_since(*at) >= RECENT)
                {
                    seen.pop_front();
                }
                let (Some(&(from, first)), Some(&(to, last))) = (seen.front(), seen.back()) else {
                    return 0;
                };
                let secs = to.duration_since(from).as_secs_f64().max(1e-3);
                (last.saturating_sub(first) as f64 / secs) as u64
            })
            .collect()
    }

    /// How many connections are open.
    pub(crate) fn open(&self) -> usize {
        self.meters().len()
    }

    /// Connection `conn` received `n` more bytes.
    pub(super) fn add(&self, conn: usize, n: u64) {
        if let Some(meter) = self.meters().get_mut(&conn) {
            meter.bytes += n;
        }
    }

    /// Bytes a second of `conn` and how long it has been watched.
    fn rate(&self, conn: usize) -> Option<(f64, Duration)> {
        let meter = *self.meters().get(&conn)?;
        let watched = meter.since.elapsed();
        Some((
            meter.bytes as f64 / watched.as_secs_f64().max(1e-3),
            watched,
        ))
    }

    /// Of the ranges `owned` (task, owner, bytes left), the one connection `taker` should take
    /// over: the one whose owner, watched long enough, would finish it latest and at least
    /// [`SLOWER`] times (and [`SAVED`]) later than `taker` at its own speed.
    pub(super) fn to_take_over(
        &self,
        taker: usize,
        owned: &[(usize, usize, u64)],
    ) -> Option<usize> {
        let (mine, _) = self.rate(taker).filter(|(rate, _)| *rate > 0.0)?;
        let mut worst: Option<(usize, f64)> = None;
        for &(task, owner, left) in owned {
            if owner == taker || left == 0 {
                continue;
            }
            let Some((theirs, watched)) = self.rate(owner) else {
                continue;
            };
            if watched < WATCHED {
                continue;
            }
            let theirs_secs = if theirs > 0.0 {
                left as f64 / theirs
            } else {
                f64::INFINITY
            };
            let mine_secs = left as f64 / mine + NEW_REQUEST.as_secs_f64();
            let worth =
                theirs_secs > SLOWER * mine_secs && theirs_secs - mine_secs > SAVED.as_secs_f64();
            if worth && worst.is_none_or(|(_, secs)| theirs_secs > secs) {
                worst = Some((task, theirs_secs));
            }
        }
        worst.map(|(task, _)| task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(conn: usize, bytes: u64, ago: Duration) -> (usize, Meter) {
        let since = Instant::now().checked_sub(ago).expect("a past instant");
        (conn, Meter { since, bytes })
    }

    #[test]
    fn a_connections_speed_is_taken_over_the_last_two_seconds() {
        let ago = |ms: u64| {
            Instant::now()
                .checked_sub(Duration::from_millis(ms))
                .expect("a past instant")
        };
        let speeds = Speeds {
            meters: Mutex::new(HashMap::from([
                (
                    0,
                    Meter {
                        since: ago(5000),
                        bytes: 4_000_000,
                    },
                ),
                (
                    1,
                    Meter {
                        since: ago(1000),
                        bytes: 500_000,
                    },
                ),
            ])),
            looked: Mutex::new(BTreeMap::from([(
                0,
                VecDeque::from([
                    (ago(5000), 0),
                    (ago(2500), 1_000_000),
                    (ago(1000), 2_000_000),
                ]),
            )])),
        };
        let rates = speeds.recent();
        // Connection 0: 3 MB in the last 2.5 s (its first 2.5 s are forgotten), not 4 MB in 5 s.
        assert!((1_150_000..1_250_000).contains(&rates[0]), "{rates:?}");
        // Connection 1, looked at for the first time: since it started.
        assert!((450_000..550_000).contains(&rates[1]), "{rates:?}");
    }

    #[test]
    fn only_a_much_slower_connection_watched_long_enough_is_taken_over() {
        let secs = Duration::from_secs;
        let speeds = Speeds {
            meters: Mutex::new(HashMap::from([
                at(0, 50_000_000, secs(1)),           // 50 MB/s: the taker
                at(1, 16_000, secs(1)),               // 16 kB/s
                at(2, 40_000_000, secs(1)),           // nearly as fast
                at(3, 0, Duration::from_millis(100)), // too new to judge
            ])),
            looked: Mutex::default(),
        };
        let owned = [(7, 1, 200_000), (8, 2, 200_000), (9, 3, 200_000)];
        assert_eq!(speeds.to_take_over(0, &owned), Some(7));
        assert_eq!(speeds.to_take_over(0, &owned[1..]), None);
        // Too little left to be worth a new request.
        assert_eq!(speeds.to_take_over(0, &[(7, 1, 1_000)]), None);
        // A taker that has received nothing takes nothing.
        assert_eq!(speeds.to_take_over(3, &owned), None);
    }
}
