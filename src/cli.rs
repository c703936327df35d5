//! What `haul-cli` needs beyond the engine: source lists in, reports out.
//!
//! Owns: reading sources from arguments and list files (blank lines and `#` comments skipped,
//! each line labelled so an error can name it), the per-item report and the batch summary in
//! their `--json` shape, and human-readable sizes and durations.
//! Must not touch: the terminal, the engine's internals. The binary does the printing.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use crate::protocol::{Checksum, FetchError, Outcome, Source, SourceError, hex};

/// One source as given, with where it came from and what it parsed to.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// `argument 2`, `urls.txt line 7`, `stdin line 1`.
    pub origin: String,
    /// The text as given (trimmed).
    pub text: String,
    pub parsed: Result<Source, SourceError>,
    /// From a `#sha256=HEX` fragment, or set later (`--checksum`, a SHA256SUMS file).
    pub checksum: Option<Checksum>,
}

impl Entry {
    fn new(origin: String, text: &str, base: &Path) -> Entry {
        let (parsed, checksum) = match Source::parse_with_checksum(text, base) {
            Ok((source, checksum)) => (Ok(source), checksum),
            Err(e) => (Err(e), None),
        };
        Entry {
            origin,
            text: text.trim().to_owned(),
            parsed,
            checksum,
        }
    }
}

/// Sources given as command-line arguments.
pub fn from_args(args: &[String], base: &Path) -> Vec<Entry> {
    args.iter()
        .enumerate()
        .map(|(i, arg)| Entry::new(format!("argument {}", i + 1), arg, base))
        .collect()
}

/// Sources in a list: one per line; blank lines and lines starting with `#` are skipped.
/// `name` labels the lines (`urls.txt line 3`).
pub fn from_list(text: &str, name: &str, base: &Path) -> Vec<Entry> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let line = line.trim();
            !line.is_empty() && !line.starts_with('#')
        })
        .map(|(i, line)| Entry::new(format!("{name} line {}", i + 1), line, base))
        .collect()
}

/// The checksum file looked for beside a source list.
pub const SUMS_FILE: &str = "SHA256SUMS";

/// `sha256sum` output: `HEX  name` or `HEX *name` per line → (name, checksum). Lines that
/// are not of that shape are skipped.
pub fn parse_sums(text: &str) -> Vec<(String, Checksum)> {
    text.lines()
        .filter_map(|line| {
            let (hex, rest) = line.trim().split_once(char::is_whitespace)?;
            let checksum = Checksum::from_hex(hex)?;
            let name = rest.trim_start().trim_start_matches('*').trim();
            (!name.is_empty()).then(|| (name.to_owned(), checksum))
        })
        .collect()
}

/// Gives each entry without a checksum the one `sums` lists for its file name (the last
/// path segment of its URL, or the file's name). Returns how many got one.
pub fn apply_sums(entries: &mut [Entry], sums: &[(String, Checksum)]) -> usize {
    let mut applied = 0;
    for entry in entries.iter_mut().filter(|e| e.checksum.is_none()) {
        let name = match &entry.parsed {
            Ok(Source::Url(url)) => crate::engine::names::from_url(url),
            Ok(Source::File(path)) => path.file_name().map(|n| n.to_string_lossy().into_owned()),
            Err(_) => None,
        };
        let found = name.and_then(|name| {
            sums.iter()
                .find(|(listed, _)| listed.rsplit('/').next() == Some(name.as_str()))
        });
        if let Some((_, checksum)) = found {
            entry.checksum = Some(*checksum);
            applied += 1;
        }
    }
    applied
}

/// How one item ended, in the shape of a `--json` line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemReport {
    pub source: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    pub bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    pub elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ItemReport {
    /// The report of an item the engine ran.
    pub fn finished(source: String, elapsed: Duration, bytes: u64, outcome: &Outcome) -> Self {
        let (path, sha256) = match outcome {
            Outcome::Done { path, sha256 } => (Some(path.display().to_string()), Some(hex(sha256))),
            _ => (None, None),
        };
        ItemReport {
            source,
            status: outcome.status(),
            path,
            bytes,
            sha256,
            elapsed_ms: millis(elapsed),
            error: outcome.error_text(),
        }
    }

    /// The report of a line that never became a source; the error names the line.
    pub fn rejected(entry: &Entry, reason: &SourceError) -> Self {
        let error = FetchError::InvalidSource {
            input: entry.text.clone(),
            reason: reason.clone(),
        };
        ItemReport {
            source: entry.text.clone(),
            status: "failed",
            path: None,
            bytes: 0,
            sha256: None,
            elapsed_ms: 0,
            error: Some(format!("{} ({})", error, entry.origin)),
        }
    }

    pub fn is_done(&self) -> bool {
        self.status == "done"
    }
}

/// Counts and totals over a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub done: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub cancelled: u64,
    pub paused: u64,
    pub bytes: u64,
    /// Wall time of the whole batch.
    pub elapsed_ms: u64,
    /// The items' own times added up: what the batch would take one after another.
    pub sum_item_ms: u64,
}

impl Summary {
    pub fn add(&mut self, item: &ItemReport) {
        match item.status {
            "done" => self.done += 1,
            "timed_out" => self.timed_out += 1,
            "cancelled" => self.cancelled += 1,
            "paused" => self.paused += 1,
            _ => self.failed += 1,
        }
        self.bytes += item.bytes;
        self.sum_item_ms += item.elapsed_ms;
    }

    pub fn total(&self) -> u64 {
        self.done + self.failed + self.timed_out + self.cancelled + self.paused
    }

    pub fn all_done(&self) -> bool {
        self.done == self.total()
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
        if self.paused > 0 {
            let _ = write!(line, ", {} paused (run again to resume)", self.paused);
        }
        let _ = write!(
            line,
            " · {} in {}",
            human_bytes(self.bytes),
            human_duration(Duration::from_millis(self.elapsed_ms)),
        );
        if self.elapsed_ms > 0 && self.sum_item_ms > self.elapsed_ms {
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

/// `1.5 MiB`, `512 B`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `850 ms`, `2.1 s`, `3 m 05 s`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        let s = d.as_secs();
        format!("{} m {:02} s", s / 60, s % 60)
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::TimeoutKind;
    use std::path::PathBuf;

    #[test]
    fn lists_skip_blanks_and_comments_and_label_lines() {
        let text = "# urls\nhttp://h/a\n\n  \nftp://h/b\n  # indented comment\nhttp://h/c#frag\n";
        let entries = from_list(text, "urls.txt", Path::new("/"));
        let labels: Vec<&str> = entries.iter().map(|e| e.origin.as_str()).collect();
        assert_eq!(
            labels,
            ["urls.txt line 2", "urls.txt line 5", "urls.txt line 7"]
        );
        assert_eq!(entries[2].text, "http://h/c#frag");
        assert_eq!(
            entries[1].parsed,
            Err(SourceError::UnsupportedScheme("ftp".into()))
        );
    }

    #[test]
    fn a_rejected_line_names_itself() {
        let entries = from_list("ftp://h/x\n", "list", Path::new("/"));
        let Err(reason) = &entries[0].parsed else {
            panic!("ftp must be rejected")
        };
        let report = ItemReport::rejected(&entries[0], reason);
        assert_eq!(report.status, "failed");
        assert_eq!(
            report.error.as_deref(),
            Some("invalid source 'ftp://h/x': unsupported scheme 'ftp' (list line 1)")
        );
    }

    #[test]
    fn json_shapes_match_the_documented_interface() {
        let done = ItemReport::finished(
            "http://h/a".into(),
            Duration::from_millis(1500),
            3,
            &Outcome::Done {
                path: PathBuf::from("/d/a"),
                sha256: [0xab; 32],
            },
        );
        let value = serde_json::to_value(&done).expect("serialise");
        assert_eq!(value["status"], "done");
        assert_eq!(value["path"], "/d/a");
        assert_eq!(value["elapsed_ms"], 1500);
        assert_eq!(value["sha256"].as_str().map(str::len), Some(64));
        assert!(value.get("error").is_none());

        let slow = ItemReport::finished(
            "http://h/b".into(),
            Duration::from_millis(500),
            0,
            &Outcome::TimedOut(TimeoutKind::Stall),
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

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(human_duration(Duration::from_millis(850)), "850 ms");
        assert_eq!(human_duration(Duration::from_millis(2100)), "2.1 s");
        assert_eq!(human_duration(Duration::from_secs(185)), "3 m 05 s");
    }
}
