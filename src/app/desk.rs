//! The desktop comforts at work in the window: the schedule (run hours, a speed limit by the
//! clock), what happens when the queue is done (quit, sleep or shut down, after a
//! 60-second countdown that can be cancelled), and the offer to add links copied to the
//! clipboard (never added without a click).
//!
//! Owns: [`Desk`], the state these need between frames — the hours last seen, the rows the
//! schedule paused (by key, so a resumed row's new id does not lose them), the countdown —
//! and the pass that applies them each frame, waking an idle window only when the schedule
//! next changes. Must not touch: drawing (`panels::desk`), the schedule's arithmetic
//! (`schedule`), running power commands (`desktop::power`).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui;

use super::HaulApp;
use super::i18n::T;
use super::schedule::{Clock, WhenDone};
use crate::desktop::power::PowerAction;
use crate::protocol::{Command, Limits, Status};

/// How long "when the queue is done" waits, and can be cancelled, before it acts.
pub const COUNTDOWN: Duration = Duration::from_secs(60);

/// The local time of day (tests set their own).
pub type ClockSource = Arc<dyn Fn() -> Clock + Send + Sync>;

/// The comforts' state between frames.
pub struct Desk {
    pub(super) clock: ClockSource,
    /// The schedule held the queue at the last pass (or at start).
    pub(super) held: bool,
    /// The timed speed limit in force at the last pass (bytes/s).
    pub(super) rate: Option<u64>,
    /// Rows (by key) the schedule paused: they go on when the run hours come round.
    paused_by_schedule: HashSet<u64>,
    /// "When the queue is done", counting down.
    pub(super) countdown: Option<Countdown>,
    /// The timed speed limit's field as typed (`1M`).
    pub(super) rate_text: String,
    /// The clipboard watch, while "offer to add links I copy" is on.
    watch: Option<crate::desktop::clipboard::Watch>,
    /// Copied links waiting for "Add it" or "No".
    offer: Option<Vec<String>>,
    /// The list's length when the offer was last checked against it.
    offer_seen: usize,
    /// The tray icon, while "keep Haul in the tray" is on.
    pub(super) tray: Option<crate::desktop::tray::Tray>,
    /// Quit was chosen in the tray: the next close is not hidden to it.
    pub(super) quitting: bool,
    /// The window is hidden in the tray.
    pub(super) hidden: bool,
    /// Starting at login as last applied (`None`: not yet this session).
    autostart: Option<bool>,
    /// Minimise the window at the first pass ("start minimised", and nothing was handed in).
    pub(super) minimise: bool,
}

impl Default for Desk {
    fn default() -> Self {
        Desk {
            clock: Arc::new(Clock::now),
            held: false,
            rate: None,
            paused_by_schedule: HashSet::new(),
            countdown: None,
            rate_text: String::new(),
            watch: None,
            offer: None,
            offer_seen: 0,
            tray: None,
            quitting: false,
            hidden: false,
            autostart: None,
            minimise: false,
        }
    }
}

/// A "when the queue is done" action waiting for its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Countdown {
    pub action: WhenDone,
    pub ends: Instant,
}

/// The eframe storage key of the rows the schedule paused (kept across restarts: a row the
/// schedule paused came back as paused by hand and never went on).
pub(super) const PAUSED_KEY: &str = "paused_by_schedule";

impl Desk {
    /// The rows (by gid) the schedule paused, to go on when the run hours come round.
    pub(super) fn paused_by_schedule(&self) -> &HashSet<u64> {
        &self.paused_by_schedule
    }

    /// The rows the schedule had paused when Haul last saved (at its last start).
    pub(super) fn restore_paused(&mut self, gids: HashSet<u64>) {
        self.paused_by_schedule = gids;
    }

    /// Row `gid` is run again by hand: the schedule no longer speaks for it.
    pub(super) fn resumed_by_hand(&mut self, gid: u64) {
        self.paused_by_schedule.remove(&gid);
    }
}

impl Countdown {
    /// Whole seconds left, rounded up (60 … 1, then 0).
    pub fn seconds_left(&self, now: Instant) -> u64 {
        let left = self.ends.saturating_duration_since(now);
        left.as_secs() + u64::from(left.subsec_nanos() > 0)
    }
}

impl HaulApp {
    /// Uses `clock` for the time of day instead of the system's (tests).
    pub fn set_clock(&mut self, clock: ClockSource) {
        self.desk.clock = clock;
    }

    /// The countdown of "when the queue is done", while it runs.
    pub fn countdown(&self) -> Option<Countdown> {
        self.desk.countdown
    }

    /// The limits the engine runs under: the settings', with the schedule's speed limit when
    /// it is in force and lower.
    pub fn limits(&self) -> Limits {
        let mut limits = self.settings.limits();
        if let Some(rate) = self.desk.rate {
            limits.max_rate = Some(limits.max_rate.map_or(rate, |own| own.min(rate)));
        }
        limits
    }

    /// The time the schedule lets downloads start again, while it holds the queue, and
    /// whether that is tomorrow (the time of day has passed today).
    pub fn held_until(&self) -> Option<(Clock, bool)> {
        let schedule = &self.settings.schedule;
        let from = schedule.run_hours.from;
        (self.desk.held && schedule.run).then(|| (from, (self.desk.clock)() > from))
    }

    /// When the run hours end, while downloads run in them.
    pub fn running_until(&self) -> Option<Clock> {
        let schedule = &self.settings.schedule;
        (schedule.run && !self.desk.held).then_some(schedule.run_hours.to)
    }

    /// The schedule's speed limit in force (bytes/s) and when it ends.
    pub fn timed_limit(&self) -> Option<(u64, Clock)> {
        let rate = self.desk.rate?;
        Some((rate, self.settings.schedule.limit_hours.to))
    }

    /// Applies the schedule at this time of day: holds or releases the queue (pausing what
    /// runs when the hours end, resuming it when they begin), sets the timed speed limit, and
    /// asks for a pass when the schedule next changes. Then runs the countdown.
    pub(super) fn desk_pass(&mut self, ctx: &egui::Context) {
        let now = (self.desk.clock)();
        let schedule = self.settings.schedule.clone();
        let held = schedule.holds(now);
        if held != self.desk.held {
            self.desk.held = held;
            if held {
                self.engine.send(Command::SetPaused(true));
                self.pause_for_schedule();
            } else {
                // What the schedule paused goes back in the queue at its place in the list
                // before the queue starts again (else the next waiting row would start first).
                self.resume_after_schedule();
                self.engine.send(Command::SetPaused(false));
            }
        }
        let rate = schedule.rate_at(now);
        if rate != self.desk.rate {
            self.desk.rate = rate;
            self.engine.send(Command::SetLimits(self.limits()));
        }
        // Rows the schedule paused before a restart, when the hours have come round since
        // (no change is seen: the queue was never held in this session).
        if !held && !self.desk.paused_by_schedule.is_empty() {
            self.resume_after_schedule();
        }
        if let Some(minutes) = schedule.next_change(now) {
            // The clock is read in whole minutes: wake a minute early, then every few seconds.
            let wait = match minutes {
                0 | 1 => Duration::from_secs(5),
                n => Duration::from_secs(u64::from(n - 1) * 60),
            };
            ctx.request_repaint_after(wait);
        }
        self.countdown_pass(ctx);
        self.clipboard_pass();
        self.tray_pass(ctx);
        self.login_pass(ctx);
    }

    /// Keeps the login entry as the setting says: written (with this executable's path, so a
    /// moved or updated Haul is the one started) when it is on, removed when it is off — at
    /// start too, so an entry left by a Haul that was killed before its settings were saved
    /// never starts Haul while the box says it will not. And "start minimised" at the first
    /// pass.
    fn login_pass(&mut self, ctx: &egui::Context) {
        let wanted = self.settings.start_at_login;
        let apply = match self.desk.autostart {
            None => wanted || self.desktop.autostart_present(),
            Some(applied) => applied != wanted,
        };
        if apply {
            self.desktop.autostart(wanted);
        }
        self.desk.autostart = Some(wanted);
        if std::mem::take(&mut self.desk.minimise) {
            ctx.send_viewport_cmd(egui::ViewportCommand::Minimized(true));
        }
    }

    fn pause_for_schedule(&mut self) {
        let working: Vec<_> = self
            .model
            .rows()
            .iter()
            .filter(|r| matches!(r.status(), Status::Connecting | Status::Running))
            .map(|r| (r.id, r.gid))
            .collect();
        if working.is_empty() {
            return;
        }
        for (id, key) in &working {
            self.engine.pause(*id);
            self.desk.paused_by_schedule.insert(*key);
        }
        let tr = self.tr();
        let time = self.settings.schedule.run_hours.from.to_string();
        let text = tr.fill(
            T::ActSchedulePaused,
            &[("time", &time), ("items", &tr.items(working.len()))],
        );
        self.log_activity(text, false);
    }

    fn resume_after_schedule(&mut self) {
        let keys = std::mem::take(&mut self.desk.paused_by_schedule);
        let ids: Vec<_> = self
            .model
            .rows()
            .iter()
            .filter(|r| keys.contains(&r.gid) && r.status() == Status::Paused)
            .map(|r| r.id)
            .collect();
        if ids.is_empty() {
            return;
        }
        let tr = self.tr();
        let text = tr.fill(T::ActScheduleResumed, &[("items", &tr.items(ids.len()))]);
        self.log_activity(text, false);
        self.resume_rows(&ids);
    }

    /// The queue ended: with "when the queue is done" set, and nothing paused or waiting
    /// (a person who paused something is not done), the countdown starts.
    pub(super) fn queue_done(&mut self) {
        let action = self.settings.schedule.when_done;
        let waiting = self.model.count(Status::Paused) + self.model.count(Status::Queued);
        if action != WhenDone::Nothing && waiting == 0 && self.desk.countdown.is_none() {
            self.desk.countdown = Some(Countdown {
                action,
                ends: Instant::now() + COUNTDOWN,
            });
        }
    }

    fn countdown_pass(&mut self, ctx: &egui::Context) {
        let Some(countdown) = self.desk.countdown else {
            return;
        };
        if self.model.active() > 0 {
            // Something new started: the queue is not done after all.
            self.desk.countdown = None;
            return;
        }
        let now = Instant::now();
        if now >= countdown.ends {
            self.when_done_now(ctx);
        } else {
            // The dialog counts whole seconds.
            let left = countdown.ends - now;
            let to_next = Duration::from_nanos(u64::from(left.subsec_nanos()));
            ctx.request_repaint_after(if to_next.is_zero() {
                Duration::from_secs(1)
            } else {
                to_next
            });
        }
    }

    /// The countdown's end, or its "Now" button.
    pub(super) fn when_done_now(&mut self, ctx: &egui::Context) {
        let Some(countdown) = self.desk.countdown.take() else {
            return;
        };
        let tr = self.tr();
        let power = match countdown.action {
            WhenDone::Nothing => return,
            WhenDone::Quit => {
                self.quit_confirmed = true;
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                return;
            }
            WhenDone::Sleep => (PowerAction::Sleep, T::PowerSleepWord),
            WhenDone::ShutDown => (PowerAction::ShutDown, T::PowerShutDownWord),
        };
        let text = tr.fill(T::ActPower, &[("what", tr.get(power.1))]);
        self.log_activity(text, false);
        self.desktop.power(power.0);
    }

    pub(super) fn cancel_countdown(&mut self) {
        self.desk.countdown = None;
    }
}

/// Whether `link` is a source the list has no row for yet.
fn is_new(model: &super::model::Model, link: &str) -> bool {
    crate::protocol::Source::parse(link, std::path::Path::new("/"))
        .is_ok_and(|source| model.find_source(&source).is_none())
}

/// Copied text longer than this is not looked at (a copied document, not links).
const CLIPBOARD_MAX: usize = 1024 * 1024;
/// A link longer than this is not offered (browsers stop at a few KB; this is no address).
const LINK_MAX: usize = 8 * 1024;

/// The links in copied `text` that look like downloads: lines that are `http`, `https` or
/// `ftp` URLs of at most 8 KiB whose last path segment ends in `.TYPE` for one of `types` (a
/// space- or comma-separated list, any case). Text over 1 MiB offers nothing.
pub fn offered_links(text: &str, types: &str) -> Vec<String> {
    if text.len() > CLIPBOARD_MAX {
        return Vec::new();
    }
    let types: HashSet<String> = types
        .split([' ', ',', ';', '\n'])
        .map(|t| t.trim().trim_start_matches('.').to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    text.lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty() && line.len() <= LINK_MAX && !line.contains(char::is_whitespace)
        })
        .filter(|line| {
            let Ok(url) = url::Url::parse(line) else {
                return false;
            };
            // Only what the engine can fetch (the one table of schemes).
            if crate::protocol::scheme(url.scheme()).is_none() {
                return false;
            }
            let last = url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .unwrap_or_default();
            last.rsplit_once('.').is_some_and(|(stem, ext)| {
                !stem.is_empty() && types.contains(&ext.to_ascii_lowercase())
            })
        })
        .map(str::to_owned)
        .collect()
}

impl HaulApp {
    /// Starts or stops the clipboard watch to follow its setting, and drops from the offer
    /// what was added meanwhile by other means (a Ctrl+V of the same link).
    fn clipboard_pass(&mut self) {
        match (self.settings.clipboard_watch, self.desk.watch.is_some()) {
            (true, false) => self.desk.watch = Some(self.desktop.watch_clipboard()),
            (false, true) => {
                self.desk.watch = None;
                self.desk.offer = None;
            }
            _ => {}
        }
        // Rows come only with a longer list: look again only then.
        if let Some(links) = &mut self.desk.offer
            && std::mem::replace(&mut self.desk.offer_seen, self.model.len()) != self.model.len()
        {
            let model = &self.model;
            links.retain(|link| is_new(model, link));
            if links.is_empty() {
                self.desk.offer = None;
            }
        }
    }

    /// New clipboard text: links in it that look like downloads and are not in the list yet
    /// are offered (the window asks for attention); nothing is added until the person says so.
    pub(super) fn copied(&mut self, ctx: &egui::Context, text: &str) {
        // Whatever was offered before, the person has copied something else since.
        self.desk.offer = None;
        if !self.settings.clipboard_watch {
            return;
        }
        let links: Vec<String> = offered_links(text, &self.settings.clipboard_types)
            .into_iter()
            .filter(|link| is_new(&self.model, link))
            .collect();
        if links.is_empty() {
            return;
        }
        self.desk.offer = Some(links);
        ctx.send_viewport_cmd(egui::ViewportCommand::RequestUserAttention(
            egui::UserAttentionType::Informational,
        ));
    }

    /// The links on offer, while the offer stands.
    pub fn clipboard_offer(&self) -> Option<&[String]> {
        self.desk.offer.as_deref()
    }

    /// The offer's "Add it" (true) or "No".
    pub(super) fn answer_offer(&mut self, add: bool) {
        if let Some(links) = self.desk.offer.take()
            && add
        {
            self.add_text(&links.join("\n"), "clipboard", true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_links_to_files_of_the_listed_types_are_offered() {
        let types = "zip, .ISO mp4";
        let offered = |text: &str| offered_links(text, types);
        assert_eq!(
            offered("https://example.org/files/game.ZIP"),
            ["https://example.org/files/game.ZIP"]
        );
        assert_eq!(
            offered("  https://h/a.iso\nhttp://h/page.html\nftp://h/b.mp4\nftps://h/c.zip\n"),
            ["https://h/a.iso", "ftp://h/b.mp4", "ftps://h/c.zip"]
        );
        for not in [
            "https://h/",
            "https://h/zip",
            "https://h/.zip",
            "https://h/a.zip.html",
            "file:///home/me/a.zip",
            "gopher://h/a.zip",
            "javascript:alert(1)//a.zip",
            "read https://h/a.zip now",
            "a.zip",
            "",
        ] {
            assert!(offered(not).is_empty(), "{not:?}");
        }
        // A query after the name does not hide it.
        assert_eq!(
            offered("https://h/d/a.zip?sig=1"),
            ["https://h/d/a.zip?sig=1"]
        );
        // No address is 9 KB long, and a copied document is not a list of links.
        let long = format!("https://h/{}.zip", "y".repeat(9000));
        assert!(offered(&long).is_empty());
        let document = format!("{}\nhttps://h/a.zip", "word ".repeat(300_000));
        assert!(offered(&document).is_empty());
        // Many links are all offered.
        let many: String = (0..5000).map(|i| format!("https://h/{i}.zip\n")).collect();
        assert_eq!(offered(&many).len(), 5000);
    }

    #[test]
    fn the_countdown_shows_whole_seconds_rounded_up() {
        let now = Instant::now();
        let countdown = Countdown {
            action: WhenDone::Sleep,
            ends: now + COUNTDOWN,
        };
        assert_eq!(countdown.seconds_left(now), 60);
        assert_eq!(countdown.seconds_left(now + Duration::from_millis(500)), 60);
        assert_eq!(countdown.seconds_left(now + Duration::from_secs(59)), 1);
        assert_eq!(countdown.seconds_left(now + COUNTDOWN), 0);
    }
}
