//! The summary bar: how many items stand where, the download speed now, the batch's wall time
//! against the sum of the items' own times; the buttons that act on every row (Pause all,
//! Resume all, Retry failed, Clear done, Cancel all…), the filter, the search and the speed
//! limit of all items together.

use std::time::{Duration, Instant};

use eframe::egui::{self, Ui};

use super::super::i18n::{T, Tr};
use super::super::model::Model;
use super::super::settings::Settings;
use super::super::{Action, HaulApp};
use super::settings::limit_field;
use crate::protocol::Status;

/// The summary bar's own state: the search and the speed limit of all items as typed.
pub(in crate::app) struct Summary {
    pub(in crate::app) search_text: String,
    pub(in crate::app) max_rate_text: String,
}

impl Summary {
    pub(in crate::app) fn new(settings: &Settings) -> Self {
        Summary {
            search_text: String::new(),
            max_rate_text: settings.max_rate_text("none"),
        }
    }
}

impl HaulApp {
    pub(super) fn summary_bar(&mut self, ui: &mut Ui, tr: Tr, now: Instant) {
        ui.add_space(4.0);
        ui.horizontal_wrapped(|ui| {
            ui.label(summary_counts(tr, &self.model));
            if self.model.working() > 0 {
                ui.separator();
                ui.label(match self.model.current_speed(now) {
                    Some(rate) => tr.fill(T::SummarySpeed, &[("speed", &tr.rate(rate))]),
                    None => tr.get(T::Calculating).to_owned(),
                });
            }
            if let Some(text) = summary_times(tr, &self.model, now) {
                ui.separator();
                ui.label(text);
            }
            if let Some((time, tomorrow)) = self.held_until()
                && (self.model.count(Status::Queued) > 0
                    || !self.desk.paused_by_schedule().is_empty())
            {
                ui.separator();
                let key = if tomorrow {
                    T::HeldByScheduleTomorrow
                } else {
                    T::HeldBySchedule
                };
                let text = tr.fill(key, &[("time", &time.to_string())]);
                ui.label(egui::RichText::new(text).strong());
            } else if let Some(time) = self.running_until()
                && self.model.working() > 0
            {
                ui.separator();
                ui.label(tr.fill(T::RunningUntil, &[("time", &time.to_string())]));
            }
        });
        ui.horizontal_wrapped(|ui| {
            let count = |s| self.model.count(s);
            let buttons = [
                (T::PauseAll, self.model.active() > 0, Action::PauseAll),
                (T::ResumeAll, count(Status::Paused) > 0, Action::ResumeAll),
                (
                    T::RetryFailed,
                    count(Status::Failed) + count(Status::TimedOut) > 0,
                    Action::RetryFailed,
                ),
                (T::ClearDone, count(Status::Done) > 0, Action::ClearDone),
                (
                    T::CancelAll,
                    self.model.active() + self.model.count(Status::Paused) > 0,
                    Action::CancelAll,
                ),
            ];
            for (key, enabled, action) in buttons {
                if ui
                    .add_enabled(enabled, egui::Button::new(tr.get(key)))
                    .clicked()
                {
                    self.actions.push(action);
                }
            }
            ui.separator();
            let label = ui.label(tr.get(T::Filter));
            let current = self.model.filter();
            let shown = current.map_or(tr.get(T::FilterAll), |s| tr.status(s));
            egui::ComboBox::from_id_salt("filter")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    let choices = std::iter::once(None).chain(Status::ALL.into_iter().map(Some));
                    for choice in choices {
                        let text = choice.map_or(tr.get(T::FilterAll), |s| tr.status(s));
                        if ui.selectable_label(current == choice, text).clicked() {
                            self.actions.push(Action::SetFilter(choice));
                        }
                    }
                })
                .response
                .labelled_by(label.id);
            let search = ui.add(
                egui::TextEdit::singleline(&mut self.summary.search_text)
                    .hint_text(tr.get(T::SearchHint))
                    .desired_width(160.0),
            );
            // Its name for a screen reader (the hint is not one).
            ui.ctx().accesskit_node_builder(search.id, |node| {
                node.set_label(tr.get(T::SearchHint));
            });
            if search.changed() {
                self.model.set_search(&self.summary.search_text);
            }
            // The speed limit of all items together, at hand while downloads run.
            ui.separator();
            let label = ui.label(tr.get(T::GlobalRate));
            let none = tr.get(T::NoLimit);
            let valid = self
                .settings
                .clone()
                .set_max_rate_text(&self.summary.max_rate_text, none);
            let example = tr.get(T::RateExample);
            let field = limit_field(
                ui,
                "max-rate",
                &mut self.summary.max_rate_text,
                valid,
                none,
                example,
            )
            .labelled_by(label.id)
            .on_hover_text(tr.get(T::HelpRate));
            // While the field is being typed in, an emptied field is not "no limit": the
            // last valid limit holds until a new one is typed, or the field is left empty
            // (issue 28, item 11: erasing "1.5M" to type another lifted the limit at once).
            let emptied = self.summary.max_rate_text.trim().is_empty();
            let typing = field.changed() && !emptied;
            let left_empty = field.lost_focus() && emptied;
            if (typing || left_empty)
                && self
                    .settings
                    .set_max_rate_text(&self.summary.max_rate_text, none)
            {
                self.actions.push(Action::ApplySettings);
            }
            if let Some((rate, until)) = self.timed_limit() {
                let text = tr.fill(
                    T::SchedLimitNow,
                    &[
                        ("rate", &crate::human::human_bytes(rate)),
                        ("time", &until.to_string()),
                    ],
                );
                ui.label(egui::RichText::new(text).strong());
            }
            let selected = self.model.selected().len();
            if selected > 1 {
                ui.label(tr.fill(T::RowsSelected, &[("n", &selected.to_string())]));
            }
        });
        ui.add_space(2.0);
    }
}

/// `42 items: 30 done, 2 active, …`
fn summary_counts(tr: Tr, model: &Model) -> String {
    let n = |s| model.count(s).to_string();
    let failed = (model.count(Status::Failed) + model.count(Status::TimedOut)).to_string();
    let counts = tr.fill(
        T::SummaryCounts,
        &[
            ("done", &n(Status::Done)),
            ("running", &model.working().to_string()),
            ("queued", &n(Status::Queued)),
            ("paused", &n(Status::Paused)),
            ("failed", &failed),
        ],
    );
    // Cancelled rows are named only when there are some (the line stays short).
    let cancelled = model.count(Status::Cancelled);
    let counts = if cancelled > 0 {
        counts + &tr.fill(T::SummaryCancelled, &[("n", &cancelled.to_string())])
    } else {
        counts
    };
    let skipped = model.count(Status::Skipped);
    let counts = if skipped > 0 {
        counts + &tr.fill(T::SummarySkipped, &[("n", &skipped.to_string())])
    } else {
        counts
    };
    tr.fill(
        T::SummaryLine,
        &[("items", &tr.items(model.len())), ("counts", &counts)],
    )
}

/// Wall time against the sum of item times — said of finished items only: while the batch
/// runs, its time so far (issue 28, item 8: "361 ms for items that took 2.7 s one after
/// another" was said before anything had finished); and not of a batch that shared a total
/// speed limit (the probe: "4.0 times as fast" under a 1M limit, where one after another
/// would have taken as long).
fn summary_times(tr: Tr, model: &Model, now: Instant) -> Option<String> {
    let batch = model.batch();
    let wall = batch.wall(now)?;
    if wall.is_zero() {
        // Nothing has run (the schedule holds the queue), or nothing had to (every file was
        // already there): no time to speak of ("0 ms in all").
        return None;
    }
    let sum_items = model.batch_time(now);
    let wall_text = tr.duration(wall);
    Some(
        if !batch.is_running() && !batch.capped && wall > Duration::ZERO && sum_items > wall {
            let ratio = sum_items.as_secs_f64() / wall.as_secs_f64();
            tr.fill(
                T::SummaryFaster,
                &[
                    ("wall", &wall_text),
                    ("sum", &tr.duration(sum_items)),
                    ("ratio", &format!("{ratio:.1}")),
                ],
            )
        } else if batch.is_running() {
            tr.fill(T::SummaryWall, &[("wall", &wall_text)])
        } else {
            tr.fill(T::SummaryTook, &[("wall", &wall_text)])
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{JobId, Outcome, Source};
    use crate::session::NewEntry;

    /// Row `i` of a test batch, `http://h/{i}.bin` into `/d`, added at `t0`.
    fn push_row(model: &mut Model, i: u64, t0: Instant) {
        let uri = format!("http://h/{i}.bin");
        let new = NewEntry {
            source: Ok(Source::parse(&uri, std::path::Path::new("/")).expect("a URL")),
            uri,
            guessed: false,
            dest: "/d".into(),
            checksum: None,
            options: std::sync::Arc::default(),
        };
        model.push(JobId(i), new, t0);
    }

    /// A batch whose every file was already there ran nothing: the summary claims no time
    /// and no speed-up ("0 ms in all" after three items ended).
    #[test]
    fn a_batch_of_files_already_there_claims_no_item_time() {
        let t0 = Instant::now();
        let mut model = Model::default();
        for i in 0..3u64 {
            push_row(&mut model, i, t0);
            let skipped = crate::protocol::Event::Finished {
                id: JobId(i),
                elapsed: Duration::from_millis(40),
                bytes: 0,
                outcome: Outcome::Skipped {
                    path: format!("/d/{i}.bin").into(),
                },
            };
            model.apply(skipped, t0 + Duration::from_millis(5));
        }
        assert!(!model.batch().is_running());
        assert_eq!(model.batch().sum_items, Duration::ZERO);
        assert_eq!(
            summary_times(Tr(crate::app::i18n::Lang::En), &model, t0),
            None
        );
    }

    /// Two items that ran side by side for 2 s each: "2 s … 4 s one after another (2.0 times
    /// as fast)"; the same under a total speed limit claims no speed-up.
    #[test]
    fn a_batch_under_a_total_speed_limit_claims_no_speed_up() {
        for capped in [false, true] {
            let t0 = Instant::now();
            let mut model = Model::default();
            for i in 0..2u64 {
                push_row(&mut model, i, t0);
                let started = crate::protocol::Event::Started {
                    id: JobId(i),
                    name: format!("{i}.bin"),
                    total: Some(1000),
                    done: 0,
                    resumable: true,
                };
                model.apply(started, t0);
            }
            if capped {
                model.batch_capped();
            }
            let t1 = t0 + Duration::from_secs(2);
            for i in 0..2u64 {
                let done = crate::protocol::Event::Finished {
                    id: JobId(i),
                    elapsed: Duration::from_secs(2),
                    bytes: 1000,
                    outcome: Outcome::Done {
                        files: vec![crate::protocol::DoneFile {
                            path: format!("/d/{i}.bin").into(),
                            length: 1000,
                            sha256: crate::protocol::Checksum([0; 32]),
                        }],
                        folder: None,
                    },
                };
                model.apply(done, t1);
            }
            let text = summary_times(Tr(crate::app::i18n::Lang::En), &model, t1)
                .expect("a finished batch's time");
            assert_eq!(text.contains("times as fast"), !capped, "{text}");
        }
    }
}
