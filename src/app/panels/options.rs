//! "Add with options…" and "Edit options…": one form for the options one item may have —
//! the address(es), file name, folder inside the destination, headers, referer, cookies file,
//! user and password, checksum and connections. Every field is read by the option table
//! (`crate::options`, aria2's names), so the window, lists and the CLI agree on what each
//! value may be; a field that is not valid turns red and says why, and nothing is applied
//! until every field is.

use eframe::egui::{self, RichText, Ui};

use super::super::i18n::{T, Tr};
use super::super::{Action, HaulApp};
use crate::options::{Given, OptionError};
use crate::protocol::{ItemOptions, JobId, Source};

/// What the form is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormFor {
    /// New items: one per address typed.
    New,
    /// A row that is not running: its address may be changed too (an expired link given
    /// anew keeps the bytes when the new server has the same file).
    Row(JobId),
}

/// The form's fields as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionsForm {
    pub target: FormFor,
    pub sources: String,
    pub out: String,
    pub dir: String,
    pub headers: String,
    pub referer: String,
    pub cookies: String,
    pub user: String,
    pub password: String,
    pub checksum: String,
    /// 0: the setting's number.
    pub split: usize,
}

/// What a valid form gives.
#[derive(Debug, Clone, PartialEq)]
pub struct FormResult {
    pub sources: Vec<String>,
    pub given: Given,
}

/// The first problem of each field that has one.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Problems {
    sources: Option<String>,
    out: Option<String>,
    dir: Option<String>,
    headers: Option<String>,
    referer: Option<String>,
    cookies: Option<String>,
    user: Option<String>,
    checksum: Option<String>,
}

impl Problems {
    fn any(&self) -> bool {
        *self != Problems::default()
    }

    /// Each field has one way to be wrong a person needs told: said in the window's
    /// language (the option table's own words are the CLI's English).
    fn in_words(self, tr: Tr) -> Problems {
        let say = |problem: Option<String>, key: T| {
            problem.map(|p| {
                if p.is_empty() {
                    p
                } else {
                    tr.get(key).to_owned()
                }
            })
        };
        Problems {
            sources: say(self.sources, T::OptErrAddress),
            out: say(self.out, T::OptErrName),
            dir: say(self.dir, T::OptErrFolder),
            headers: say(self.headers, T::OptErrHeader),
            referer: say(self.referer, T::OptErrReferer),
            cookies: say(self.cookies, T::OptErrCookies),
            user: say(self.user, T::OptErrUser),
            checksum: say(self.checksum, T::OptErrChecksum),
        }
    }
}

impl OptionsForm {
    /// An empty form for new items.
    pub fn new_items() -> OptionsForm {
        OptionsForm {
            target: FormFor::New,
            sources: String::new(),
            out: String::new(),
            dir: String::new(),
            headers: String::new(),
            referer: String::new(),
            cookies: String::new(),
            user: String::new(),
            password: String::new(),
            checksum: String::new(),
            split: 0,
        }
    }

    /// The form for a row, filled with what it has.
    pub fn for_row(
        id: JobId,
        text: &str,
        options: &ItemOptions,
        dir: Option<&std::path::Path>,
        checksum: Option<crate::protocol::Checksum>,
    ) -> OptionsForm {
        let request = &options.request;
        let (user, password) = request
            .credentials
            .as_ref()
            .map(|c| (c.user.clone(), c.password.clone()))
            .unwrap_or_default();
        OptionsForm {
            target: FormFor::Row(id),
            sources: text.to_owned(),
            out: options.out.clone().unwrap_or_default(),
            dir: dir.map(|d| d.display().to_string()).unwrap_or_default(),
            headers: request
                .headers
                .iter()
                .map(|h| format!("{}: {}", h.name, h.value))
                .collect::<Vec<_>>()
                .join("\n"),
            referer: request.referer.clone().unwrap_or_default(),
            cookies: request
                .cookies_file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            user,
            password,
            checksum: checksum.map(|c| c.to_string()).unwrap_or_default(),
            split: options.split.unwrap_or(0),
        }
    }

    /// The options, or the problem of each field that has one.
    fn read(&self, base: &std::path::Path) -> (Result<FormResult, ()>, Problems) {
        let mut problems = Problems::default();
        let mut given = Given::default();
        let text = |e: OptionError| match e {
            OptionError::Bad { reason, .. } => reason,
            other => other.to_string(),
        };
        let set = |given: &mut Given, name: &str, value: &str| {
            if value.trim().is_empty() {
                Ok(())
            } else {
                given.set(name, value).map_err(text)
            }
        };
        problems.out = set(&mut given, "out", &self.out).err();
        problems.dir = set(&mut given, "dir", &self.dir).err();
        for line in self.headers.lines().filter(|l| !l.trim().is_empty()) {
            if let Err(e) = set(&mut given, "header", line) {
                problems.headers.get_or_insert(e);
            }
        }
        problems.referer = set(&mut given, "referer", &self.referer).err();
        problems.cookies = set(&mut given, "load-cookies", &self.cookies).err();
        problems.user = set(&mut given, "http-user", &self.user)
            .and_then(|()| set(&mut given, "http-passwd", &self.password))
            .err();
        let checksum = self.checksum.trim();
        let tagged = if checksum.contains('=') {
            checksum.to_owned()
        } else {
            format!("sha-256={checksum}")
        };
        if !checksum.is_empty() {
            problems.checksum = set(&mut given, "checksum", &tagged).err();
        }
        if self.split > 0 {
            let _ = set(&mut given, "split", &self.split.to_string());
        }
        let given = match given.finish() {
            Ok(given) => given,
            Err(e) => {
                problems.user.get_or_insert(text(e));
                Given::default()
            }
        };
        let sources: Vec<String> = self
            .sources
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if sources.is_empty() {
            problems.sources = Some(String::new());
        } else if let Some(bad) = sources.iter().find_map(|s| match Source::parse(s, base) {
            Ok(Source::Url(_)) => None,
            Ok(Source::File(_)) => Some(format!("'{s}' is not a web address")),
            Err(e) => Some(format!("'{s}': {e}")),
        }) {
            problems.sources = Some(bad);
        }
        if matches!(self.target, FormFor::Row(_)) && sources.len() > 1 {
            problems.sources = Some("one address for one item".to_owned());
        }
        if problems.any() {
            (Err(()), problems)
        } else {
            (Ok(FormResult { sources, given }), problems)
        }
    }

    /// The valid result (what Add or Apply takes), if the form is valid.
    pub fn result(&self, base: &std::path::Path) -> Option<FormResult> {
        self.read(base).0.ok()
    }
}

/// A multi-line or single-line field under its label, red with its problem under it.
fn field(
    ui: &mut Ui,
    tr: Tr,
    label: T,
    text: &mut String,
    problem: Option<&String>,
    lines: usize,
    hint: &str,
) {
    let l = ui.label(tr.get(label));
    ui.vertical(|ui| {
        let mut edit = if lines > 1 {
            egui::TextEdit::multiline(text).desired_rows(lines)
        } else {
            egui::TextEdit::singleline(text)
        }
        .hint_text(hint)
        .desired_width(340.0);
        if problem.is_some_and(|p| !p.is_empty()) {
            edit = edit.text_color(ui.visuals().error_fg_color);
        }
        ui.add(edit).labelled_by(l.id);
        if let Some(problem) = problem.filter(|p| !p.is_empty()) {
            let color = ui.visuals().error_fg_color;
            ui.label(RichText::new(problem).color(color));
        }
    });
    ui.end_row();
}

impl HaulApp {
    /// The form, when open. Add/Apply pushes [`Action::ApplyOptions`]; Cancel or Esc closes it.
    pub(super) fn options_window(&mut self, ctx: &egui::Context, tr: Tr) {
        let base = self.settings.dest.clone();
        let Some(form) = &mut self.options_form else {
            return;
        };
        let (valid, problems) = form.read(&base);
        let problems = problems.in_words(tr);
        let mut close = false;
        let title = match form.target {
            FormFor::New => tr.get(T::AddWithOptions),
            FormFor::Row(_) => tr.get(T::EditOptions),
        };
        let modal = egui::Modal::new(egui::Id::unique("options-form")).show(ctx, |ui| {
            ui.set_max_width(520.0);
            ui.heading(title);
            ui.add_space(4.0);
            egui::ScrollArea::vertical()
                .max_height(ctx.content_rect().height() - 140.0)
                .show(ui, |ui| {
                    egui::Grid::new("options-grid")
                        .num_columns(2)
                        .spacing([8.0, 6.0])
                        .show(ui, |ui| {
                            let lines = if form.target == FormFor::New { 3 } else { 1 };
                            field(
                                ui,
                                tr,
                                T::OptAddresses,
                                &mut form.sources,
                                problems.sources.as_ref(),
                                lines,
                                "https://…",
                            );
                            field(
                                ui,
                                tr,
                                T::OptName,
                                &mut form.out,
                                problems.out.as_ref(),
                                1,
                                tr.get(T::OptNameHint),
                            );
                            field(
                                ui,
                                tr,
                                T::OptFolder,
                                &mut form.dir,
                                problems.dir.as_ref(),
                                1,
                                tr.get(T::OptFolderHint),
                            );
                            field(
                                ui,
                                tr,
                                T::OptHeaders,
                                &mut form.headers,
                                problems.headers.as_ref(),
                                2,
                                "Authorization: Bearer …",
                            );
                            field(
                                ui,
                                tr,
                                T::OptReferer,
                                &mut form.referer,
                                problems.referer.as_ref(),
                                1,
                                "https://…",
                            );
                            field(
                                ui,
                                tr,
                                T::OptCookies,
                                &mut form.cookies,
                                problems.cookies.as_ref(),
                                1,
                                "cookies.txt",
                            );
                            field(
                                ui,
                                tr,
                                T::OptUser,
                                &mut form.user,
                                problems.user.as_ref(),
                                1,
                                "",
                            );
                            let l = ui.label(tr.get(T::OptPassword));
                            ui.add(
                                egui::TextEdit::singleline(&mut form.password)
                                    .password(true)
                                    .desired_width(340.0),
                            )
                            .labelled_by(l.id);
                            ui.end_row();
                            field(
                                ui,
                                tr,
                                T::OptChecksum,
                                &mut form.checksum,
                                problems.checksum.as_ref(),
                                1,
                                "SHA-256",
                            );
                            let l = ui.label(tr.get(T::OptConnections));
                            ui.horizontal(|ui| {
                                ui.add(
                                    egui::DragValue::new(&mut form.split)
                                        .range(0..=crate::options::SPLIT_MAX),
                                )
                                .labelled_by(l.id);
                                if form.split == 0 {
                                    ui.label(tr.get(T::OptConnectionsDefault));
                                }
                            });
                            ui.end_row();
                        });
                });
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                let confirm = match form.target {
                    FormFor::New => tr.get(T::Add),
                    FormFor::Row(_) => tr.get(T::Apply),
                };
                if ui
                    .add_enabled(valid.is_ok(), egui::Button::new(confirm))
                    .clicked()
                {
                    self.actions.push(Action::ApplyOptions);
                }
                if ui.button(tr.get(T::FormCancel)).clicked() {
                    close = true;
                }
            });
        });
        if close || modal.should_close() {
            self.options_form = None;
        }
    }
}
