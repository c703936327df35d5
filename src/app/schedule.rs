//! The window's schedule, as plain data: the hours the queue runs in (it starts at the first
//! and pauses at the second), a speed limit for part of the day, and what happens when the
//! queue is done.
//!
//! Owns: times of day ([`Clock`], minutes after local midnight) and spans of them ([`Hours`],
//! also over midnight), whether the queue is held at a given time, the speed limit in force,
//! and when the next change is due (so an idle window sleeps until then). A machine that
//! slept through a start or a pause is simply where the clock says when it wakes.
//! Must not touch: the clock itself (time comes in as an argument, so tests set it), egui,
//! the engine, the power commands (`desktop::power`).

use serde::{Deserialize, Serialize};

/// Minutes in a day.
const DAY: u16 = 24 * 60;

/// A time of day: minutes after local midnight (0 ..= 1439).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Clock(u16);

impl Clock {
    /// `None` past 23:59.
    pub fn new(hour: u16, minute: u16) -> Option<Clock> {
        (hour < 24 && minute < 60).then_some(Clock(hour * 60 + minute))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }

    /// The local time of day now (midnight if the system cannot say).
    pub fn now() -> Clock {
        let (hour, minute) = local_hour_minute().unwrap_or((0, 0));
        Clock::new(hour, minute).unwrap_or(Clock(0))
    }

    /// Minutes from `self` forward to `later`, over midnight if need be (0 ..= 1439).
    fn until(self, later: Clock) -> u16 {
        (later.0 + DAY - self.0) % DAY
    }
}

impl std::fmt::Display for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// The local hour and minute from the C library (which reads `TZ` and the zone files).
/// A crate was weighed: chrono's `Local` added over 100 KB to the window for these two
/// numbers, and `time` refuses the local offset in a multi-threaded process on Unix.
#[cfg(unix)]
fn local_hour_minute() -> Option<(u16, u16)> {
    // SAFETY: `time` with a null pointer only returns the time; `localtime_r` (the re-entrant
    // one) writes into our own zeroed `tm` and returns null on failure.
    unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&now, &mut tm).is_null() {
            return None;
        }
        Some((
            u16::try_from(tm.tm_hour).ok()?,
            u16::try_from(tm.tm_min).ok()?,
        ))
    }
}

/// The local hour and minute from Windows (`GetLocalTime`).
#[cfg(windows)]
fn local_hour_minute() -> Option<(u16, u16)> {
    /// Win32's `SYSTEMTIME` (Windows writes every field; two are read).
    #[repr(C)]
    #[derive(Default)]
    #[allow(dead_code)]
    struct SystemTime {
        year: u16,
        month: u16,
        day_of_week: u16,
        day: u16,
        hour: u16,
        minute: u16,
        second: u16,
        milliseconds: u16,
    }
    // kernel32 is always linked on Windows.
    unsafe extern "system" {
        fn GetLocalTime(time: *mut SystemTime);
    }
    let mut now = SystemTime::default();
    // SAFETY: GetLocalTime fills the struct it is given and cannot fail.
    unsafe { GetLocalTime(&mut now) };
    Some((now.hour, now.minute))
}

#[cfg(not(any(unix, windows)))]
fn local_hour_minute() -> Option<(u16, u16)> {
    None
}

/// A span of each day, from `from` up to (not including) `to`; over midnight when `to` comes
/// first. Empty when they are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hours {
    pub from: Clock,
    pub to: Clock,
}

impl Hours {
    pub fn contains(self, now: Clock) -> bool {
        self.from.until(now) < self.from.until(self.to)
    }
}

/// What Haul does once every download has ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum WhenDone {
    #[default]
    Nothing,
    Quit,
    Sleep,
    ShutDown,
}

impl WhenDone {
    pub const ALL: [WhenDone; 4] = [
        WhenDone::Nothing,
        WhenDone::Quit,
        WhenDone::Sleep,
        WhenDone::ShutDown,
    ];
}

/// The schedule as saved with the settings. Off parts keep their times, so turning one on
/// again brings back what was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Schedule {
    /// The queue runs only in these hours: outside them nothing starts, and what runs is
    /// paused (keeping its bytes) until they come round again.
    pub run: bool,
    pub run_hours: Hours,
    /// The speed limit of all downloads together in these hours (the lower of it and the
    /// window's own limit holds).
    pub limit: bool,
    pub limit_hours: Hours,
    /// Bytes/s.
    pub limit_rate: u64,
    /// For this session only: a shut-down chosen last week must not surprise anyone today.
    #[serde(skip)]
    pub when_done: WhenDone,
}

impl Default for Schedule {
    fn default() -> Self {
        let at = |h: u16| Clock(h * 60);
        Schedule {
            run: false,
            // Night hours, when a line is free.
            run_hours: Hours {
                from: at(1),
                to: at(7),
            },
            limit: false,
            // Working hours.
            limit_hours: Hours {
                from: at(9),
                to: at(18),
            },
            limit_rate: 1024 * 1024,
            when_done: WhenDone::Nothing,
        }
    }
}

impl Schedule {
    /// Outside the run hours the queue waits (a download added then starts at their start).
    pub fn holds(&self, now: Clock) -> bool {
        self.run && !self.run_hours.contains(now)
    }

    /// The timed speed limit in force at `now` (bytes/s), if any.
    pub fn rate_at(&self, now: Clock) -> Option<u64> {
        (self.limit && self.limit_rate > 0 && self.limit_hours.contains(now))
            .then_some(self.limit_rate)
    }

    /// Minutes from `now` to the next time something changes (the run hours' or the limit's
    /// start or end), or `None` when nothing is scheduled.
    pub fn next_change(&self, now: Clock) -> Option<u16> {
        let hours = [
            self.run.then_some(self.run_hours),
            self.limit.then_some(self.limit_hours),
        ];
        hours
            .into_iter()
            .flatten()
            .flat_map(|h| [h.from, h.to])
            .map(|at| match now.until(at) {
                0 => DAY,
                n => n,
            })
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u16, m: u16) -> Clock {
        Clock::new(h, m).expect("a time")
    }

    #[cfg(unix)]
    #[test]
    fn the_clock_reads_the_local_time_as_date_does() {
        let date = || {
            let out = std::process::Command::new("date")
                .arg("+%H:%M")
                .output()
                .expect("date");
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        let before = date();
        let ours = Clock::now().to_string();
        let after = date();
        assert!(
            ours == before || ours == after,
            "{ours} vs {before}/{after}"
        );
    }

    #[test]
    fn run_hours_over_midnight_hold_the_queue_by_day_and_release_it_at_night() {
        let night = Schedule {
            run: true,
            run_hours: Hours {
                from: at(23, 0),
                to: at(7, 0),
            },
            ..Schedule::default()
        };
        assert!(night.holds(at(12, 0)));
        assert!(night.holds(at(7, 0)), "the pause time itself is outside");
        assert!(night.holds(at(22, 59)));
        assert!(!night.holds(at(23, 0)));
        assert!(!night.holds(at(3, 0)));
        assert!(!night.holds(at(6, 59)));
        let off = Schedule {
            run: false,
            ..night.clone()
        };
        assert!(!off.holds(at(12, 0)), "off: nothing is held");
        assert_eq!(at(7, 5).to_string(), "07:05");
        assert_eq!(Clock::new(24, 0), None);
        assert_eq!(Clock::new(1, 60), None);
    }

    #[test]
    fn the_timed_limit_holds_inside_its_hours_and_the_next_change_is_known() {
        let s = Schedule {
            limit: true,
            limit_hours: Hours {
                from: at(9, 0),
                to: at(18, 0),
            },
            limit_rate: 1024,
            ..Schedule::default()
        };
        assert_eq!(s.rate_at(at(8, 59)), None);
        assert_eq!(s.rate_at(at(9, 0)), Some(1024));
        assert_eq!(s.rate_at(at(17, 59)), Some(1024));
        assert_eq!(s.rate_at(at(18, 0)), None);
        assert_eq!(s.next_change(at(8, 0)), Some(60));
        assert_eq!(s.next_change(at(9, 0)), Some(9 * 60));
        assert_eq!(s.next_change(at(20, 0)), Some(13 * 60));
        assert_eq!(Schedule::default().next_change(at(20, 0)), None);
        let both = Schedule {
            run: true,
            ..s.clone()
        };
        assert_eq!(
            both.next_change(at(0, 30)),
            Some(30),
            "the run hours start at 01:00"
        );
    }
}
