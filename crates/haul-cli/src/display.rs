//! Live progress on stderr: one bar for the batch and one per running item (up to a few),
//! retries and failures as they happen.
//!
//! Owns: the terminal while a batch runs (indicatif).
//! Must not touch: stdout (that is `report`), the engine.

use std::collections::HashMap;
use std::time::Duration;

use haul_core::human::human_duration;
use haul_core::protocol::{Event, JobId, Status, Waiting};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::report::ItemReport;

/// Running items shown with their own bar; the rest count in the total.
const MAX_ITEM_BARS: usize = 8;

/// Live progress on stderr: one bar for the batch and one per running item (up to a few).
pub struct Display {
    multi: Option<MultiProgress>,
    total: ProgressBar,
    items: HashMap<JobId, ProgressBar>,
    item_style: ProgressStyle,
    spinner_style: ProgressStyle,
}

impl Display {
    pub fn new(visible: bool, count: u64) -> Display {
        let multi = visible.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let total = ProgressBar::with_draw_target(Some(count), ProgressDrawTarget::hidden());
        total.set_style(
            ProgressStyle::with_template("{pos}/{len} items [{bar:30}] {elapsed} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        let total = match &multi {
            Some(multi) => multi.add(total),
            None => total,
        };
        Display {
            multi,
            total,
            items: HashMap::new(),
            item_style: ProgressStyle::with_template(
                "  {bar:20} {bytes:>10}/{total_bytes:<10} {bytes_per_sec:>12} {eta:>4} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
            spinner_style: ProgressStyle::with_template(
                "  {spinner} {bytes:>10} {bytes_per_sec:>12} {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        }
    }

    pub fn update(&mut self, event: &Event, source: Option<&String>) {
        let Some(multi) = &self.multi else { return };
        match event {
            Event::Started { id, total, .. } if self.items.contains_key(id) => {
                // A retry or a restart: same bar, maybe a new length.
                if let (Some(bar), Some(len)) = (self.items.get(id), total) {
                    bar.set_length(*len);
                }
            }
            Event::Retrying {
                attempt,
                of,
                delay,
                reason,
                ..
            } => {
                let label = source.map_or("item", |s| s.as_str());
                let _ = multi.println(format!(
                    "{label}: retry {attempt}/{of} in {} ({reason})",
                    human_duration(*delay)
                ));
            }
            Event::Waiting {
                reason: Waiting::PartInUse { part },
                ..
            } => {
                let label = source.map_or("item", |s| s.as_str());
                let _ = multi.println(format!(
                    "{label}: waiting: another download is writing {}",
                    part.display()
                ));
            }
            Event::Started {
                id,
                name,
                total,
                done,
                ..
            } if self.items.len() < MAX_ITEM_BARS => {
                // Attach before touching it: a detached bar draws on its own. A resumed
                // download's bar starts at its kept bytes, so its speed counts only what
                // arrives now.
                let bar = match total {
                    Some(len) => multi.add(ProgressBar::new(*len).with_position(*done)),
                    None => multi.add(ProgressBar::no_length().with_position(*done)),
                };
                bar.set_style(match total {
                    Some(_) => self.item_style.clone(),
                    None => self.spinner_style.clone(),
                });
                if total.is_none() {
                    bar.enable_steady_tick(Duration::from_millis(120));
                }
                let label = source.map_or(name.as_str(), |s| s.as_str());
                bar.set_message(label.to_owned());
                self.items.insert(*id, bar);
            }
            Event::Progress { id, done, .. } => {
                if let Some(bar) = self.items.get(id) {
                    bar.set_position(*done);
                }
            }
            _ => {}
        }
    }

    pub fn forget(&mut self, id: JobId) {
        if let Some(bar) = self.items.remove(&id) {
            bar.finish_and_clear();
            if let Some(multi) = &self.multi {
                multi.remove(&bar);
            }
        }
    }

    pub fn item_finished(&mut self, report: &ItemReport) {
        self.total.inc(1);
        // Failures show as they happen; cancelling and pausing are the user's own doing.
        if !matches!(
            report.status,
            Status::Done | Status::Skipped | Status::Cancelled | Status::Paused
        ) && let (Some(multi), Some(error)) = (&self.multi, &report.error)
        {
            let _ = multi.println(format!("{}: {error}", report.source));
        }
    }

    pub fn note(&self, text: &str) {
        match &self.multi {
            Some(multi) => {
                let _ = multi.println(text);
            }
            None => eprintln!("haul-cli: {text}"),
        }
    }

    pub fn clear(&mut self) {
        for (_, bar) in self.items.drain() {
            bar.finish_and_clear();
        }
        self.total.finish_and_clear();
        if let Some(multi) = &self.multi {
            let _ = multi.clear();
        }
    }
}
