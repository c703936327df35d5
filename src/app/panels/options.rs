//! "Add with options…" and "Edit options…": one form for the options one item may have. Its
//! fields are the option table's rows marked for the form ([`Places::FORM`], in the table's
//! order), each read by the table (`crate::options`, aria2's names), so the window, lists, the
//! RPC and the CLI agree on what each value may be and no option is dropped by an edit; a
//! field that is not valid turns red and says why, and nothing is applied until every field is.
//!
//! Owns: the form's text, its labels and hints, and its problems in the window's language.
//! Must not touch: what the options do (the table and [`Given::finish`]).

use std::collections::BTreeMap;

use eframe::egui::{self, RichText, Ui};

use super::super::i18n::{T, Tr};
use super::super::{Action, HaulApp};
use crate::options::{self, Given, Kind, OptionError, Places};
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
    /// Each option's text, by its name in the table (every row marked for the form; empty:
    /// not set). `header` holds one header a line.
    pub fields: BTreeMap<&'static str, String>,
    /// The cookies file as last looked at: the text typed then, and what is wrong with the
    /// file it names (checked again only when the text changes).
    cookies_file: Option<(String, Option<T>)>,
    /// A row's options the form has no field for (its trusted certificate, `-k`,
    /// `ca-certificate`): kept as they are when the form is applied.
    pub kept: Vec<(&'static str, String)>,
}

/// What a valid form gives.
#[derive(Debug, Clone, PartialEq)]
pub struct FormResult {
    pub sources: Vec<String>,
    pub given: Given,
}

/// How a form field is labelled and hinted, and what its problem says, in the window's
/// language. Every row of the table marked for the form has one (a test holds that).
pub struct FieldWords {
    pub label: T,
    pub problem: T,
    /// A hint in the window's language, or a literal example.
    pub hint: Hint,
}

/// A field's grey hint.
pub enum Hint {
    Words(T),
    Example(&'static str),
}

/// The words of the form's field for option `name`; `None` for an option that is not on the
/// form.
pub fn field_words(name: &str) -> Option<FieldWords> {
    let (label, problem, hint) = match name {
        "out" => (T::OptName, T::OptErrName, Hint::Words(T::OptNameHint)),
        "dir" => (T::OptFolder, T::OptErrFolder, Hint::Words(T::OptFolderHint)),
        "header" => (
            T::OptHeaders,
            T::OptErrHeader,
            Hint::Example("Authorization: Bearer …"),
        ),
        "referer" => (T::OptReferer, T::OptErrReferer, Hint::Example("https://…")),
        "user-agent" => (
            T::OptUserAgent,
            T::OptErrUserAgent,
            Hint::Example("Mozilla/5.0 …"),
        ),
        "http-user" => (T::OptUser, T::OptErrUser, Hint::Example("")),
        "http-passwd" => (T::OptPassword, T::OptErrUser, Hint::Example("")),
        "load-cookies" => (
            T::OptCookies,
            T::OptErrCookies,
            Hint::Example("cookies.txt"),
        ),
        "checksum" => (T::OptChecksum, T::OptErrChecksum, Hint::Example("SHA-256")),
        "split" => (
            T::OptConnections,
            T::OptErrConnections,
            Hint::Words(T::OptConnectionsDefault),
        ),
        "max-download-limit" => (T::ItemRate, T::OptErrRate, Hint::Example("500K, 2M")),
        _ => return None,
    };
    Some(FieldWords {
        label,
        problem,
        hint,
    })
}

/// The table's rows on the form, in its order.
fn form_rows() -> impl Iterator<Item = &'static options::Spec> {
    options::OPTIONS
        .iter()
        .filter(|s| s.scope.item() && s.places.has(Places::FORM))
}

/// The first problem of each field that has one (by option name; `sources` for the
/// addresses), empty when it only needs filling in.
type Problems = BTreeMap<&'static str, String>;

impl OptionsForm {
    /// An empty form for new items.
    pub fn new_items() -> OptionsForm {
        OptionsForm {
            target: FormFor::New,
            sources: String::new(),
            fields: form_rows().map(|s| (s.name, String::new())).collect(),
            cookies_file: None,
            kept: Vec::new(),
        }
    }

    /// Looks at the cookies file the field names (relative to `base`, as the download will)
    /// when its text changed: a missing file, or one that is not a Netscape cookies file, is
    /// the field's problem, in red like the others, before Add (issue 28, item 12).
    fn look_at_cookies_file(&mut self, base: &std::path::Path) {
        let text = self.fields.get("load-cookies").map_or("", |t| t.trim());
        if self
            .cookies_file
            .as_ref()
            .is_some_and(|(seen, _)| seen == text)
        {
            return;
        }
        let problem = (!text.is_empty()).then(|| cookies_problem(&base.join(text)));
        self.cookies_file = Some((text.to_owned(), problem.flatten()));
    }

    /// The form for a row, filled with every option it has (the table reads them back).
    pub fn for_row(
        id: JobId,
        text: &str,
        options: &ItemOptions,
        dir: Option<&std::path::Path>,
        checksum: Option<crate::protocol::Checksum>,
    ) -> OptionsForm {
        let mut form = OptionsForm::new_items();
        form.target = FormFor::Row(id);
        form.sources = text.to_owned();
        let dir = dir.filter(|d| !d.as_os_str().is_empty()).map(Into::into);
        let given = Given::from_finished(options.clone(), dir, checksum);
        for (name, value) in given.values() {
            match form.fields.get_mut(name) {
                Some(field) => {
                    if !field.is_empty() {
                        field.push('\n'); // repeatable (headers): one a line
                    }
                    field.push_str(&value);
                }
                None => form.kept.push((name, value)),
            }
        }
        if let Some(credentials) = &options.request.credentials {
            form.fields
                .insert("http-passwd", credentials.password.clone());
        }
        form
    }

    /// The options, or the problem of each field that has one.
    fn read(&self, base: &std::path::Path) -> (Result<FormResult, ()>, Problems) {
        let mut problems = Problems::new();
        let mut given = Given::default();
        let text = |e: OptionError| match e {
            OptionError::Bad { reason, .. } => reason,
            other => other.to_string(),
        };
        for spec in form_rows() {
            let value = self.fields.get(spec.name).map_or("", String::as_str);
            let values: Vec<&str> = match spec.kind {
                Kind::Header => value.lines().filter(|l| !l.trim().is_empty()).collect(),
                _ if value.trim().is_empty() => Vec::new(),
                _ => vec![value],
            };
            for value in values {
                // A bare SHA-256 is taken as one (the field says SHA-256).
                let value = match spec.kind {
                    Kind::Checksum if !value.contains(['=', ':']) => {
                        format!("sha-256={}", value.trim())
                    }
                    _ => value.to_owned(),
                };
                if let Err(e) = given.set(spec.name, &value) {
                    problems.entry(spec.name).or_insert(text(e));
                }
            }
        }
        for (name, value) in &self.kept {
            if let Err(e) = given.set(name, value) {
                problems.entry(name).or_insert(text(e));
            }
        }
        if let Err(e) = given.check() {
            problems.entry("http-user").or_insert(text(e));
        }
        if let Some((_, Some(_))) = &self.cookies_file {
            problems
                .entry("load-cookies")
                .or_insert_with(|| "no cookies file there".to_owned());
        }
        let sources: Vec<String> = self
            .sources
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        if sources.is_empty() {
            problems.insert("sources", String::new());
        } else if let Some(bad) = sources.iter().find_map(|s| match Source::parse(s, base) {
            Ok(Source::Url(_)) => None,
            Ok(Source::File(_)) => Some(format!("'{s}' is not a web address")),
            Err(e) => Some(format!("'{s}': {e}")),
        }) {
            problems.insert("sources", bad);
        }
        if matches!(self.target, FormFor::Row(_)) && sources.len() > 1 {
            problems.insert("sources", "one address for one item".to_owned());
        }
        if problems.is_empty() {
            (Ok(FormResult { sources, given }), problems)
        } else {
            (Err(()), problems)
        }
    }

    /// The valid result (what Add or Apply takes), if the form is valid.
    pub fn result(&self, base: &std::path::Path) -> Option<FormResult> {
        self.read(base).0.ok()
    }
}

/// What is wrong with the cookies file at `path`, if anything: none there, or not a Netscape
/// cookies file (what the download would fail with).
fn cookies_problem(path: &std::path::Path) -> Option<T> {
    match std::fs::read_to_string(path) {
        Ok(text) => crate::protocol::Cookies::parse_netscape(&text)
            .err()
            .map(|_| T::OptErrNotCookies),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(T::OptErrNoFile),
        Err(_) => Some(T::OptErrNotCookies),
    }
}

/// Each problem in the window's language (the option table's own words are the CLI's English);
/// an empty one (a field that only needs filling in) stays empty.
fn in_words(problems: Problems, tr: Tr) -> Problems {
    problems
        .into_iter()
        .map(|(name, problem)| {
            let key = match name {
                "sources" => Some(T::OptErrAddress),
                other => field_words(other).map(|w| w.problem),
            };
            let said = match key {
                Some(key) if !problem.is_empty() => tr.get(key).to_owned(),
                _ => problem,
            };
            (name, said)
        })
        .collect()
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
        form.look_at_cookies_file(&self.cwd);
        let (valid, problems) = form.read(&base);
        let mut problems = in_words(problems, tr);
        if let Some((_, Some(key))) = form.cookies_file {
            problems.insert("load-cookies", tr.get(key).to_owned());
        }
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
                                problems.get("sources"),
                                lines,
                                "https://…",
                            );
                            for spec in form_rows() {
                                let Some(words) = field_words(spec.name) else {
                                    continue;
                                };
                                let Some(text) = form.fields.get_mut(spec.name) else {
                                    continue;
                                };
                                let hint = match words.hint {
                                    Hint::Words(key) => tr.get(key),
                                    Hint::Example(example) => example,
                                };
                                let problem = problems.get(spec.name);
                                match spec.kind {
                                    Kind::Secret => {
                                        let l = ui.label(tr.get(words.label));
                                        ui.add(
                                            egui::TextEdit::singleline(text)
                                                .password(true)
                                                .desired_width(340.0),
                                        )
                                        .labelled_by(l.id);
                                        ui.end_row();
                                    }
                                    Kind::Count { max, .. } => {
                                        let l = ui.label(tr.get(words.label));
                                        let mut n: u64 = text.trim().parse().unwrap_or(0);
                                        ui.horizontal(|ui| {
                                            ui.add(egui::DragValue::new(&mut n).range(0..=max))
                                                .labelled_by(l.id);
                                            if n == 0 {
                                                ui.label(hint);
                                            }
                                        });
                                        *text = if n == 0 { String::new() } else { n.to_string() };
                                        ui.end_row();
                                    }
                                    Kind::Header => {
                                        field(ui, tr, words.label, text, problem, 2, hint);
                                    }
                                    _ => field(ui, tr, words.label, text, problem, 1, hint),
                                }
                            }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every option the table marks for the form has a field with words in every language:
    /// an option added to the table for the form cannot be missing from it.
    #[test]
    fn every_option_marked_for_the_form_has_a_field() {
        let form = OptionsForm::new_items();
        for spec in options::OPTIONS
            .iter()
            .filter(|s| s.places.has(Places::FORM) && s.scope.item())
        {
            assert!(
                field_words(spec.name).is_some(),
                "{} has no words on the form",
                spec.name
            );
            assert!(
                form.fields.contains_key(spec.name),
                "{} has no field",
                spec.name
            );
        }
    }

    /// An edit shows every option the row has, so Apply gives them all back (a row added by a
    /// list with its own agent and limit kept them through an edit of its address).
    #[test]
    fn a_rows_options_survive_the_form_unchanged() {
        let mut given = Given::default();
        for (name, value) in [
            ("out", "a.bin"),
            ("header", "X-A: 1"),
            ("header", "X-B: 2"),
            ("referer", "https://r/"),
            ("user-agent", "Agent/1"),
            ("http-user", "me"),
            ("http-passwd", "pw"),
            ("split", "3"),
            ("max-download-limit", "500K"),
        ] {
            given.set(name, value).expect(name);
        }
        let base = std::path::Path::new("/");
        let place = options::Place { base, inside: None };
        let finished = given.finish(base, place, None).expect("finish");
        let form = OptionsForm::for_row(JobId(1), "https://h/x", &finished.options, None, None);
        let result = form.result(base).expect("valid");
        let again = result.given.finish(base, place, None).expect("finish");
        assert_eq!(again.options, finished.options);
    }
}
