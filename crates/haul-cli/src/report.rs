//! What `haul-cli` reports: one [`ItemReport`] per item (a `--json` line, or a row of the table
//! printed at the end) and the batch's [`Summary`].
//!
//! Owns: the `--json` shapes (keys in the documented order; `status` is the engine's
//! [`Status`] word), the table, and the summary line for people.
//! Must not touch: the engine, live progress (that is `display`).

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::time::Duration;

use haul_core::human::{human_bytes, human_duration, millis};
#[cfg(test)]
use haul_core::protocol::DoneFile;
use haul_core::protocol::{Checksum, FetchError, Outcome, Status, redact};
use haul_core::sources::Entry;
use serde::Serialize;

/// How one item ended, in the shape of a `--json` line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemReport {
    pub source: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub bytes: u64,
    /// The length of the file written (a video stream's merged file differs from the bytes
    /// received); a torrent folder's files together.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Checksum>,
    /// Every file of an item that wrote more than one (a torrent, a video's renditions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileReport>,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ItemReport {
    /// The report of an item the engine ran.
    pub fn finished(source: String, elapsed: Duration, bytes: u64, outcome: &Outcome) -> Self {
        let path = outcome.path().map(|p| p.display().to_string());
        // A torrent of many files: `path` is its folder, without a `sha256`; each file is
        // listed, also when only one was chosen.
        let folder = matches!(
            outcome,
            Outcome::Done {
                folder: Some(_),
                ..
            }
        );
        let sha256 = outcome
            .files()
            .first()
            .filter(|_| !folder)
            .map(|f| f.sha256);
        // An item of many files lists each; `path` and `sha256` are its main file's.
        let files = if folder || outcome.files().len() > 1 {
            outcome
                .files()
                .iter()
                .map(|f| FileReport {
                    path: f.path.display().to_string(),
                    bytes: f.length,
                    sha256: f.sha256,
                })
                .collect()
        } else {
            Vec::new()
        };
        ItemReport {
            source,
            status: outcome.status(),
            path,
            bytes,
            // The file at `path`: a torrent's folder holds all its files.
            size: if folder {
                haul_core::protocol::written(outcome.files())
            } else {
                outcome.files().first().map(|f| f.length)
            },
            sha256,
            files,
            elapsed_ms: millis(elapsed),
            error: outcome.error_text().map(|text| match outcome {
                Outcome::Failed(FetchError::Untrusted { fingerprint, .. }) => format!(
                    "{text}. To trust this certificate: --trust-certificate {fingerprint}; its \
                     authority: --cacert FILE; any certificate: -k"
                ),
                _ => text,
            }),
        }
    }

    /// The report of a line that never became a source; the error names the line (and both
    /// show a password in it as `***`).
    pub fn rejected(entry: &Entry, error: String) -> Self {
        ItemReport {
            source: redact(&entry.text).into_owned(),
            status: Status::Failed,
            path: None,
            bytes: 0,
            size: None,
            sha256: None,
            files: Vec::new(),
            elapsed_ms: 0,
            error: Some(error),
        }
    }

    /// The size of what it wrote (its files together; a video stream's merged file is not
    /// the bytes received), when it wrote something.
    pub fn written(&self) -> Option<u64> {
        match &self.files[..] {
            [] => self.size,
            files => Some(files.iter().map(|f| f.bytes).sum()),
        }
    }

    /// Done, or skipped because it was already there: nothing is missing.
    pub fn is_done(&self) -> bool {
        matches!(self.status, Status::Done | Status::Skipped)
    }
}

/// One file of an item of many, in a `--json` line's `files`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    pub path: String,
    pub bytes: u64,
    pub sha256: Checksum,
}

/// Counts and totals over a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub done: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub cancelled: u64,
    pub paused: u64,
    /// Already there and complete (`--skip-existing`): not fetched again.
    pub skipped: u64,
    pub bytes: u64,
    /// Wall time of the whole batch.
    pub elapsed_ms: u64,
    /// The items' own times added up: what the batch would take one after another.
    pub sum_item_ms: u64,
    /// Of `bytes`, those already on disk when the run began (kept `.part` files): the text
    /// line speaks of what this run fetched.
    #[serde(skip)]
    pub kept: u64,
    /// A total speed limit held: the items shared it, and no speed-up is claimed.
    #[serde(skip)]
    pub capped: bool,
}

impl Summary {
    pub fn add(&mut self, item: &ItemReport) {
        match item.status {
            Status::Done => self.done += 1,
            Status::Skipped => self.skipped += 1,
            Status::TimedOut => self.timed_out += 1,
            Status::Cancelled => self.cancelled += 1,
            Status::Paused => self.paused += 1,
            _ => self.failed += 1,
        }
        self.bytes += item.bytes;
        // A file already there took only the look that found it: it is no item time (a
        // rerun that skipped everything claimed "3.6× faster").
        if item.status != Status::Skipped {
            self.sum_item_ms += item.elapsed_ms;
        }
    }

    pub fn total(&self) -> u64 {
        self.done + self.skipped + self.failed + self.timed_out + self.cancelled + self.paused
    }

    /// Every item is done or was already there.
    pub fn all_done(&self) -> bool {
        self.done + self.skipped == self.total()
    }

    /// The `{"summary":{…}}` line, keys in the documented order.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Line<'a> {
            summary: &'a Summary,
        }
        serde_json::to_string(&Line { summary: self }).unwrap_or_default()
    }

    /// One line for people: counts, bytes, wall time against the sum of item times.
    pub fn to_text(&self) -> String {
        let mut line = format!(
            "{} done, {} failed, {} timed out, {} cancelled",
            self.done, self.failed, self.timed_out, self.cancelled,
        );
        if self.skipped > 0 {
            let _ = write!(line, ", {} skipped (already there)", self.skipped);
        }
        if self.paused > 0 {
            let _ = write!(line, ", {} paused (run again to resume)", self.paused);
        }
        let _ = write!(
            line,
            " · {} in {}",
            human_bytes(self.bytes.saturating_sub(self.kept)),
            human_duration(Duration::from_millis(self.elapsed_ms)),
        );
        if self.kept > 0 {
            let _ = write!(line, " ({} were already on disk)", human_bytes(self.kept));
        }
        if !self.capped && self.elapsed_ms > 0 && self.sum_item_ms > self.elapsed_ms {
            let _ = write!(
                line,
                " for items that took {} one after another ({:.1}× faster)",
                human_duration(Duration::from_millis(self.sum_item_ms)),
                self.sum_item_ms as f64 / self.elapsed_ms as f64
            );
        }
        line
    }
}

/// One `--json` line for an item, written at once so scripts can stream.
pub fn print_json_item(report: &ItemReport) {
    if let Ok(line) = serde_json::to_string(report) {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// The end of a batch on stdout: the summary line (`--json`), or the table and the summary.
pub fn print_end(summary: &Summary, reports: &[ItemReport], json: bool) {
    let mut out = io::stdout().lock();
    if json {
        let _ = writeln!(out, "{}", summary.to_json());
        return;
    }
    for r in reports {
        let size = if let Some(written) = r.written() {
            human_bytes(written)
        } else if r.bytes > 0 || r.is_done() {
            human_bytes(r.bytes)
        } else {
            "-".to_owned()
        };
        let what = match (&r.path, &r.error) {
            (Some(path), _) => path.clone(),
            (None, Some(error)) => format!("{}: {error}", r.source),
            (None, None) => r.source.clone(),
        };
        let _ = writeln!(
            out,
            "{:<9} {:>10} {:>9}  {}",
            r.status,
            size,
            human_duration(Duration::from_millis(r.elapsed_ms)),
            what
        );
    }
    let _ = writeln!(out, "{}", summary.to_text());
}

#[cfg(test)]
mod tests {
    use super::*;
    use haul_core::protocol::TimeoutKind;
    use std::path::PathBuf;

    #[test]
    fn json_shapes_match_the_documented_interface() {
        let done = ItemReport::finished(
            "http://h/a".into(),
            Duration::from_millis(1500),
            3,
            &Outcome::Done {
                files: vec![DoneFile {
                    path: PathBuf::from("/d/a"),
                    length: 3,
                    sha256: Checksum([0xab; 32]),
                }],
                folder: None,
            },
        );
        let value = serde_json::to_value(&done).expect("serialise");
        assert_eq!(value["status"], "done");
        assert_eq!(value["path"], "/d/a");
        assert_eq!(value["elapsed_ms"], 1500);
        assert_eq!(value["sha256"], "ab".repeat(32));
        assert!(value.get("error").is_none());

        let slow = ItemReport::finished(
            "http://h/b".into(),
            Duration::from_millis(500),
            0,
            &Outcome::TimedOut(TimeoutKind::Stall),
        );
        assert_eq!(
            serde_json::to_value(&slow).expect("serialise")["status"],
            "timed_out"
        );
        let mut summary = Summary::default();
        summary.add(&done);
        summary.add(&slow);
        summary.elapsed_ms = 800;
        let json = summary.to_json();
        assert!(
            json.starts_with(r#"{"summary":{"done":1,"failed":0,"timed_out":1,"#),
            "{json}"
        );
        let line: serde_json::Value = serde_json::from_str(&json).expect("summary parses");
        assert_eq!(line["summary"]["done"], 1);
        assert_eq!(line["summary"]["timed_out"], 1);
        assert_eq!(line["summary"]["sum_item_ms"], 2000);
        assert!(!summary.all_done());
        assert!(
            summary.to_text().contains("2.5× faster"),
            "{}",
            summary.to_text()
        );
    }

    /// Files already there are no item time: a batch that skipped everything claims no
    /// speed-up.
    #[test]
    fn skipped_files_claim_no_speed_up() {
        let skipped = ItemReport {
            source: "https://h/a".into(),
            status: Status::Skipped,
            path: None,
            bytes: 0,
            size: None,
            sha256: None,
            files: Vec::new(),
            elapsed_ms: 40,
            error: None,
        };
        let mut summary = Summary::default();
        for _ in 0..3 {
            summary.add(&skipped);
        }
        summary.elapsed_ms = 35;
        assert_eq!(summary.sum_item_ms, 0);
        assert!(
            !summary.to_text().contains("faster"),
            "{}",
            summary.to_text()
        );
    }

    /// Kept bytes are not what a run fetched; under a total speed limit the items shared it,
    /// so their times added up claim no speed-up (the probe: "4.0× faster" under 1M/s).
    #[test]
    fn the_line_speaks_of_what_this_run_fetched_and_claims_no_speed_up_under_a_limit() {
        let mut summary = Summary {
            done: 2,
            bytes: 3 * 1024 * 1024,
            kept: 1024 * 1024,
            elapsed_ms: 1000,
            sum_item_ms: 2000,
            ..Summary::default()
        };
        let line = summary.to_text();
        assert!(
            line.contains("2.0 MiB in 1.0 s (1.0 MiB were already on disk)"),
            "{line}"
        );
        assert!(line.contains("2.0× faster"), "{line}");
        summary.capped = true;
        assert!(
            !summary.to_text().contains("faster"),
            "{}",
            summary.to_text()
        );
    }

    #[test]
    fn the_table_pads_the_status_word() {
        assert_eq!(format!("{:<9}|", Status::TimedOut), "timed_out|");
        assert_eq!(format!("{:<9}|", Status::Done), "done     |");
    }
}
