//! Adding sources: lines typed, pasted or imported, local files picked or dropped, and what a
//! later launch hands over.
//!
//! Owns: turning lines into rows. URLs are queued at once; lines that name a local path go
//! through the desktop's folder walk (off the UI thread), each carried whole with its
//! checksum; a line without a scheme that names no file but starts with a host is read as a
//! web address (and the row says so). A source already in the list is flagged, not fetched
//! again as `name (1)`: it is selected and shown, and a failed or paused one goes on. A paste
//! onto the window (not into the box) adds quietly: lines that are neither web addresses nor
//! files are skipped and counted; the add box and imported lists say why each line fails.
//! Must not touch: drawing, the disk.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::HaulApp;
use super::i18n::T;
use super::model::NewEntry;
use crate::desktop::{AddContext, Candidate, LocalFile};
use crate::options::{Finished, Given, Place};
use crate::protocol::{FetchError, ItemOptions, Source, SourceError};
use crate::sources::{self, Entry};

impl HaulApp {
    /// Adds each line of `text` (`origin` labels them: `pasted`, `urls.txt`).
    pub(super) fn add_text(&mut self, text: &str, origin: &str, quiet: bool) {
        // One line at a time, into rows made room for at once: 100,000 pasted lines are
        // never all held as entries besides their rows.
        self.model.reserve(text.lines().count());
        let cwd = self.cwd.clone();
        self.add_entries(sources::list(text, origin, &cwd), quiet);
    }

    /// Adds entries whole: URLs are queued at once; local paths (which may be folders, or
    /// web addresses without a scheme) go through the desktop's folder walk first.
    pub(super) fn add_entries(&mut self, entries: impl IntoIterator<Item = Entry>, quiet: bool) {
        let context = AddContext {
            quiet,
            ..AddContext::default()
        };
        self.add_batch(entries, context);
    }

    /// Like [`HaulApp::add_entries`], as `context` says: quietly or not, and into its own
    /// folder (a later launch's `--dest`) or the Save-to folder.
    pub(super) fn add_batch(
        &mut self,
        entries: impl IntoIterator<Item = Entry>,
        mut context: AddContext,
    ) {
        let now = Instant::now();
        let mut local = Vec::new();
        let entries = entries.into_iter();
        self.model.reserve(entries.size_hint().0);
        for entry in entries {
            if matches!(entry.parsed, Err(SourceError::TooLong(_))) {
                // Not a row: one would keep megabytes and slow every frame (issue 28, 14).
                context.too_long += 1;
                continue;
            }
            if let Some(error) = entry
                .rejection()
                .filter(|_| !entry.option_errors.is_empty())
            {
                // A list line with an option that is unknown or not valid: not fetched
                // without it.
                let error = FetchError::Request(error);
                self.add_failed(&entry.text, error, &entry.origin, now);
                context.added += 1;
                continue;
            }
            match entry.parsed {
                Ok(Source::File(path)) => local.push(Candidate {
                    guess: sources::guess_url(&entry.text),
                    text: entry.text,
                    origin: entry.origin,
                    path,
                    sha256: entry.checksum,
                    given: entry.given,
                }),
                Ok(source) => {
                    match self.finish(entry.given, &context, PathBuf::new(), entry.checksum) {
                        Ok(f) => {
                            let (sha256, dest, options) = (f.checksum, f.dest, f.options);
                            self.add_source(&entry.text, source, sha256, false, dest, options, now);
                        }
                        Err(error) => self.add_failed(&entry.text, error, &entry.origin, now),
                    }
                    context.added += 1;
                }
                // `example.org:8080/x` and `localhost:8080/x` look like a scheme and a path to
                // the URL parser: unless such a path exists, they are web addresses.
                Err(_) if sources::guess_url(&entry.text).is_some() => local.push(Candidate {
                    guess: sources::guess_url(&entry.text),
                    path: self.cwd.join(&entry.text),
                    text: entry.text,
                    origin: entry.origin,
                    sha256: entry.checksum,
                    given: entry.given,
                }),
                Err(_) if context.quiet => context.skipped += 1,
                Err(reason) => {
                    let error = FetchError::InvalidSource {
                        input: entry.text.clone(),
                        reason,
                    };
                    self.add_failed(&entry.text, error, &entry.origin, now);
                    context.added += 1;
                }
            }
        }
        if local.is_empty() {
            self.tell_added(context);
        } else {
            self.desktop.expand(local, context);
        }
    }

    /// What was given for one item, finished by the option table's one rule
    /// ([`Given::finish`]): into `subfolder` (a folder walk's) of the context's folder (a
    /// later launch's `--dest`) or of the Save-to folder, then the line's own `dir`; a
    /// relative cookies file from where the line's relative sources are taken (the context's
    /// base: an imported list's folder, a later launch's working folder, else the window's).
    /// Errors: the option's sentence, for a failed row.
    pub(super) fn finish(
        &self,
        given: Given,
        context: &AddContext,
        subfolder: PathBuf,
        checksum: Option<crate::protocol::Checksum>,
    ) -> Result<Finished, FetchError> {
        let place = Place {
            base: context.base.as_deref().unwrap_or(&self.cwd),
            inside: None,
        };
        let into = context.dest.as_deref().unwrap_or(&self.settings.dest);
        // (Joining an empty path would add a trailing separator to the folder shown.)
        let dest = if subfolder.as_os_str().is_empty() {
            into.to_path_buf()
        } else {
            into.join(subfolder)
        };
        given
            .finish(&dest, place, checksum)
            .map_err(|e| FetchError::Request(e.to_string()))
    }

    /// Local files (picked, dropped, or found in a folder), with their checksums and the
    /// options their line gave, as `context` says where they go (see [`HaulApp::finish`]).
    pub(super) fn add_files(&mut self, files: Vec<LocalFile>, context: &AddContext) {
        let now = Instant::now();
        for file in files {
            let text = file.path.display().to_string();
            match self.finish(file.given, context, file.subfolder, file.sha256) {
                Ok(f) => {
                    let (sha256, dest, options) = (f.checksum, f.dest, f.options);
                    let source = Source::File(file.path);
                    self.add_source(&text, source, sha256, false, dest, options, now);
                }
                Err(error) => self.add_failed(&text, error, "", now),
            }
        }
    }

    /// What the folder walk found, added, with one notice for the whole addition.
    pub(super) fn add_walked(
        &mut self,
        files: Vec<LocalFile>,
        guessed: Vec<(Candidate, Source)>,
        missing: Vec<Candidate>,
        mut context: AddContext,
    ) {
        let now = Instant::now();
        context.added += files.len();
        self.add_files(files, &context);
        for (line, url) in guessed {
            match self.finish(line.given, &context, PathBuf::new(), line.sha256) {
                Ok(f) => {
                    let (sha256, dest, options) = (f.checksum, f.dest, f.options);
                    self.add_source(&line.text, url, sha256, true, dest, options, now);
                }
                Err(error) => self.add_failed(&line.text, error, &line.origin, now),
            }
            context.added += 1;
        }
        for line in missing {
            if context.quiet {
                context.skipped += 1;
            } else {
                let error = FetchError::NotFound(line.path);
                self.add_failed(&line.text, error, &line.origin, now);
                context.added += 1;
            }
        }
        self.tell_added(context);
    }

    /// A pasted line too long to be a source never enters a text field, the add box included
    /// (laying out a 5 MB line each frame made every click take seconds; issue 28, item 14):
    /// it is taken out of the paste, and a notice says so, as Add would.
    pub(super) fn refuse_long_pastes(&mut self, ctx: &eframe::egui::Context) {
        let long = |line: &str| line.len() > sources::MAX_SOURCE_LEN;
        let refused = ctx.input_mut(|i| {
            let mut refused = 0;
            for event in &mut i.events {
                if let eframe::egui::Event::Paste(text) = event
                    && text.lines().any(long)
                {
                    refused += text.lines().filter(|l| long(l)).count();
                    let kept: Vec<&str> = text.lines().filter(|l| !long(l)).collect();
                    *text = kept.join("\n");
                }
            }
            refused
        });
        if refused > 0 {
            let context = AddContext {
                too_long: refused,
                ..AddContext::default()
            };
            self.tell_added(context);
        }
    }

    /// After a quiet paste: say what was added, or why nothing was (a source already in the
    /// list counts as added: its row was shown, and said so).
    fn tell_added(&mut self, context: AddContext) {
        let tr = self.tr();
        if context.too_long > 0 && !(context.quiet && context.added > 0) {
            let limit = crate::human::human_bytes(sources::MAX_SOURCE_LEN as u64);
            let said = tr.fill(
                T::LinesTooLong,
                &[("lines", &context.too_long.to_string()), ("limit", &limit)],
            );
            if context.added == 0 {
                self.error_notice(said);
            } else {
                self.info_notice(said);
            }
            return;
        }
        if !context.quiet {
            return;
        }
        let skipped = context.skipped + context.too_long;
        if context.added == 0 {
            self.error_notice(tr.get(T::PasteNothing).to_owned());
        } else if skipped > 0 {
            self.info_notice(tr.fill(
                T::PasteSkipped,
                &[
                    ("items", &tr.items(context.added)),
                    ("skipped", &skipped.to_string()),
                ],
            ));
        }
    }

    /// Queues `source` in the destination folder, unless it is in the list already: then
    /// its row is shown (and a failed or paused one goes on).
    /// Returns the row's key (its stable id: the RPC's gid), also for a row already there.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn add_source(
        &mut self,
        text: &str,
        source: Source,
        sha256: Option<crate::protocol::Checksum>,
        guessed: bool,
        dest: PathBuf,
        options: ItemOptions,
        now: Instant,
    ) -> u64 {
        if let Some(existing) = self.model.find_source(&source) {
            let (id, name, again, key) = (
                existing.id,
                existing.name.clone(),
                existing.status().is_retryable(),
                existing.gid,
            );
            let tr = self.tr();
            if again {
                self.resume_rows(&[id]);
                self.info_notice(tr.fill(T::AlreadyResumed, &[("name", &name)]));
            } else {
                self.info_notice(tr.fill(T::AlreadyInList, &[("name", &name)]));
            }
            self.show_row(id);
            return key;
        }
        let id = self.engine.next_id();
        let (index, submit) = self.model.push(
            id,
            NewEntry {
                uri: text.to_owned(),
                source: Ok(source),
                checksum: sha256,
                dest,
                guessed,
                options: Arc::new(options),
            },
            now,
        );
        self.save(id);
        if let Some(submit) = submit {
            self.engine.send(submit);
        }
        self.list.scroll_to = Some(index);
        self.model.row(id).map_or(0, |row| row.gid)
    }

    /// A row for a line that is not a source, saying why.
    fn add_failed(&mut self, text: &str, error: FetchError, origin: &str, now: Instant) {
        let id = self.engine.next_id();
        let (index, _) = self.model.push(
            id,
            NewEntry {
                uri: text.to_owned(),
                source: Err((error, origin.to_owned())),
                checksum: None,
                dest: self.settings.dest.clone(),
                guessed: false,
                options: Arc::default(),
            },
            now,
        );
        self.save(id);
        self.list.scroll_to = Some(index);
    }

    /// Selects row `id` alone and scrolls it into view.
    pub(super) fn show_row(&mut self, id: crate::protocol::JobId) {
        if let Some(index) = self.model.rows().iter().position(|r| r.id == id) {
            self.model.click(index, super::model::Click::default());
            self.list.scroll_to = Some(index);
        }
    }
}
