//! Sources as people give them: command-line arguments, pasted text and list files, with the
//! checksums a `SHA256SUMS` file beside a list gives.
//!
//! Owns: turning lines into [`Entry`]s (blank lines and `#` comments skipped, each line
//! labelled so an error can name it: `urls.txt line 7`), `#sha256=HEX` fragments, and
//! `sha256sum`-format checksum files, the text encoding of list files, and arguments that
//! are not Unicode. Shared by the window and `haul-cli`.
//! Must not touch: I/O (callers read the files), the engine, any UI toolkit.

use std::ffi::OsString;
use std::path::Path;

use crate::options::Given;
use crate::protocol::{Checksum, FetchError, Source, SourceError};

/// The checksum file looked for beside a source list.
pub const SUMS_FILE: &str = "SHA256SUMS";

/// The longest line read as a source: far beyond any web address a server takes (signed
/// links run to a few KiB) or any path (4 KiB). A longer line (a pasted document, a 5 MB
/// blob) is refused whole, and only [`SHOWN_LEN`] of it is kept to name it.
pub const MAX_SOURCE_LEN: usize = 64 * 1024;

/// How much of a line too long to be a source is kept to show it.
pub const SHOWN_LEN: usize = 120;

/// `text` as a row or a message may keep it: whole up to [`MAX_SOURCE_LEN`], else its first
/// [`SHOWN_LEN`] bytes (on a character boundary) and "…".
pub fn bounded(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MAX_SOURCE_LEN {
        return std::borrow::Cow::Borrowed(text);
    }
    let cut = (0..=SHOWN_LEN)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    std::borrow::Cow::Owned(format!("{}…", &text[..cut]))
}

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
    /// Options from the indented `name=value` lines under it (aria2's input-file format).
    pub given: Given,
    /// Option lines that were refused, each naming its line: the item is not fetched.
    pub option_errors: Vec<String>,
}

impl Entry {
    /// Parses `text`; relative paths are taken from `base`.
    pub fn new(origin: String, text: &str, base: &Path) -> Entry {
        let text = text.trim();
        if text.len() > MAX_SOURCE_LEN {
            return Entry {
                origin,
                text: bounded(text).into_owned(),
                parsed: Err(SourceError::TooLong(text.len())),
                checksum: None,
                given: Given::default(),
                option_errors: Vec::new(),
            };
        }
        let (parsed, checksum) = match Source::parse_with_checksum(text, base) {
            Ok((source, checksum)) => (Ok(source), checksum),
            Err(e) => (Err(e), None),
        };
        Entry {
            origin,
            text: text.to_owned(),
            parsed,
            checksum,
            given: Given::default(),
            option_errors: Vec::new(),
        }
    }

    /// Why this line is not a source, as an item's error (`None` when it is one; a password
    /// in it redacted). The text names the line: `invalid source 'gopher://h/x': unsupported scheme 'gopher' (list line 1)`.
    pub fn rejection(&self) -> Option<String> {
        if !self.option_errors.is_empty() && self.parsed.is_ok() {
            return Some(crate::protocol::redact(&self.option_errors.join("; ")).into_owned());
        }
        let reason = self.parsed.as_ref().err()?;
        let error = FetchError::InvalidSource {
            input: self.text.clone(),
            reason: reason.clone(),
        };
        Some(crate::protocol::redact(&format!("{error} ({})", self.origin)).into_owned())
    }
}

/// The web address a line without a scheme names, if it starts with a host — a name with a
/// dot and a top-level part of letters, `localhost`, or an IP address — followed by `:port`
/// or `/`: `example.org/x.zip` → `https://example.org/x.zip`, `127.0.0.1:8000/a` →
/// `http://127.0.0.1:8000/a` (plain HTTP when a port other than 443 is given). The window
/// reads such a line this way only when no file or folder has that name; `haul-cli` never
/// guesses.
pub fn guess_url(text: &str) -> Option<Source> {
    let text = text.trim();
    if text.contains("://") || text.chars().any(char::is_whitespace) {
        return None;
    }
    let host_end = text.find(['/', ':'])?;
    let host = &text[..host_end];
    let port = text[host_end..]
        .strip_prefix(':')
        .map(|rest| rest.split('/').next().unwrap_or(""));
    if let Some(port) = port
        && (port.is_empty() || port.parse::<u16>().is_err())
    {
        return None;
    }
    let is_ip = host.parse::<std::net::Ipv4Addr>().is_ok();
    let is_name = {
        let labels: Vec<&str> = host.split('.').collect();
        labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_alphabetic()))
    };
    if !(is_ip || is_name || host.eq_ignore_ascii_case("localhost")) {
        return None;
    }
    let scheme = match port {
        Some(port) if port != "443" => "http",
        _ => "https",
    };
    match Source::parse(&format!("{scheme}://{text}"), Path::new("/")) {
        Ok(source @ Source::Url(_)) => Some(source),
        _ => None,
    }
}

/// A list file's bytes that are not text in any encoding Haul reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not text in UTF-8{}", .legacy.map(|l| format!(" or {l}")).unwrap_or_default())]
pub struct NotText {
    /// The legacy charset also tried, when one was.
    pub legacy: Option<&'static str>,
}

/// The text of a list file or a `SHA256SUMS` file, as Windows editors save them: UTF-8,
/// UTF-16LE or UTF-16BE when the bytes start with that byte-order mark (the mark is dropped;
/// Notepad writes one), UTF-8 without a mark, and failing that the `legacy` charset when one
/// is given (a WHATWG encoding label such as `GBK`: what the locale's older programs wrote).
/// Errors: [`NotText`] when the bytes are none of these (malformed UTF-16 after its mark too).
pub fn decode_text(bytes: &[u8], legacy: Option<&'static str>) -> Result<String, NotText> {
    let not_text = NotText { legacy };
    if let Some((encoding, mark)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding
            .decode_without_bom_handling_and_without_replacement(&bytes[mark..])
            .map(std::borrow::Cow::into_owned)
            .ok_or(not_text);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    legacy
        .and_then(|label| encoding_rs::Encoding::for_label(label.as_bytes()))
        .and_then(|encoding| encoding.decode_without_bom_handling_and_without_replacement(bytes))
        .map(std::borrow::Cow::into_owned)
        .ok_or(not_text)
}

/// One command-line argument as source text. An argument that is not Unicode (possible on
/// Linux and macOS, where arguments are bytes, and on Windows with unpaired surrogates) can
/// only be a local path: it becomes a `file://` URL of its absolute path with the bytes
/// percent-encoded, which [`Source::parse`] turns back into the same path — nothing is lost
/// or replaced. Errors: the argument, shown lossily, when even that is impossible (a path the
/// platform's URL form cannot hold).
pub fn arg_text(arg: OsString, base: &Path) -> Result<String, String> {
    match arg.into_string() {
        Ok(text) => Ok(text),
        Err(raw) => url::Url::from_file_path(base.join(&raw))
            .map(String::from)
            .map_err(|()| raw.to_string_lossy().into_owned()),
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
/// `name` labels the lines (`urls.txt line 3`). aria2's input-file format is read too: an
/// indented `name=value` line under a source sets an option of that source (see
/// [`crate::options`]; a refused one is kept in [`Entry::option_errors`], naming its line),
/// and a source line may list mirrors separated by tabs (the first is used).
pub fn from_list(text: &str, name: &str, base: &Path) -> Vec<Entry> {
    list(text, name, base).collect()
}

/// The sources of a list one at a time, as [`from_list`] reads them: a front end that adds
/// 100,000 pasted lines never holds them all as entries at once.
pub fn list<'a>(text: &'a str, name: &'a str, base: &'a Path) -> impl Iterator<Item = Entry> + 'a {
    // A byte-order mark left by a caller that read the file as UTF-8 is not part of line 1.
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .enumerate()
        .map(move |(i, line)| (format!("{name} line {}", i + 1), line))
        .filter(|(_, line)| {
            let trimmed = line.trim();
            !trimmed.is_empty() && !trimmed.starts_with('#')
        })
        .peekable();
    let is_option =
        |line: &str| line.starts_with([' ', '\t']) && crate::options::option_line(line).is_some();
    std::iter::from_fn(move || {
        let (origin, line) = lines.next()?;
        let trimmed = line.trim();
        if is_option(line) {
            let mut entry = Entry::new(origin.clone(), trimmed, base);
            entry.parsed = Err(SourceError::InvalidUrl(format!(
                "an option line with no source above it ({origin})"
            )));
            close_options(&mut entry);
            return Some(entry);
        }
        let first = trimmed.split('\t').next().unwrap_or(trimmed);
        let mut entry = Entry::new(origin, first, base);
        // The indented option lines under it are its own.
        while let Some((origin, line)) = lines.next_if(|(_, line)| is_option(line)) {
            if let Some((option, value)) = crate::options::option_line(line)
                && let Err(e) = entry.given.set(option, value)
            {
                entry.option_errors.push(format!("{e} ({origin})"));
            }
        }
        close_options(&mut entry);
        Some(entry)
    })
}

/// An entry's options are complete: checked as a whole (a password needs a user), a
/// `checksum=` option applied.
fn close_options(entry: &mut Entry) {
    if let Err(e) = entry.given.check() {
        entry.option_errors.push(format!("{e} ({})", entry.origin));
    }
    if let Some(sum) = entry.given.checksum {
        entry.checksum = Some(sum);
    }
}

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
            Ok(Source::Url(url)) => crate::names::from_url(url, None),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Source;
    use std::path::PathBuf;

    fn parse(s: &str) -> Result<Source, SourceError> {
        Source::parse(s, Path::new("/base"))
    }

    #[test]
    fn a_line_too_long_to_be_a_source_is_refused_and_kept_short() {
        let blob = format!("https://h/{}", "é".repeat(MAX_SOURCE_LEN));
        let entries: Vec<Entry> =
            list(&format!("{blob}\nhttps://h/ok"), "pasted", Path::new("/")).collect();
        assert_eq!(entries[0].parsed, Err(SourceError::TooLong(blob.len())));
        assert!(
            entries[0].text.len() <= SHOWN_LEN + "…".len(),
            "{}",
            entries[0].text.len()
        );
        assert!(entries[0].rejection().is_some_and(|r| r.len() < 400));
        assert!(entries[1].parsed.is_ok());
        let longest = format!("https://h/{}", "a".repeat(MAX_SOURCE_LEN - 10));
        assert!(
            Entry::new("x".into(), &longest, Path::new("/"))
                .parsed
                .is_ok()
        );
    }

    #[test]
    fn list_text_follows_its_byte_order_mark_then_utf8_then_the_legacy_charset() {
        assert_eq!(
            decode_text(b"\xef\xbb\xbfa\nb", None).as_deref(),
            Ok("a\nb")
        );
        assert_eq!(
            decode_text(b"\xff\xfea\x00\n\x00", None).as_deref(),
            Ok("a\n")
        );
        assert_eq!(decode_text(b"\xfe\xff\x00a", None).as_deref(), Ok("a"));
        assert_eq!(
            decode_text("报告".as_bytes(), Some("GBK")).as_deref(),
            Ok("报告")
        );
        // 报告 in GBK: not UTF-8, read in the locale's charset when there is one.
        let gbk = b"\xb1\xa8\xb8\xe6.pdf";
        assert_eq!(decode_text(gbk, Some("GBK")).as_deref(), Ok("报告.pdf"));
        let refused = decode_text(gbk, None).expect_err("not UTF-8");
        assert_eq!(refused.to_string(), "not text in UTF-8");
        let odd_utf16 = decode_text(b"\xff\xfea", None).expect_err("half a code unit");
        assert_eq!(odd_utf16, NotText { legacy: None });
        // A mark left in text read elsewhere is not part of the first line.
        let entries = from_list("\u{feff}https://h/a\n", "list", Path::new("/"));
        assert!(entries[0].parsed.is_ok(), "{entries:?}");
    }

    #[cfg(unix)]
    #[test]
    fn an_argument_that_is_not_unicode_becomes_a_file_url_of_the_same_bytes() {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let raw = OsString::from_vec(b"dir/caf\xe9 100%.txt".to_vec());
        let text = arg_text(raw, Path::new("/base")).expect("a file URL");
        assert_eq!(text, "file:///base/dir/caf%E9%20100%25.txt");
        let Ok(Source::File(path)) = parse(&text) else {
            panic!("{text}");
        };
        assert_eq!(path.as_os_str().as_bytes(), b"/base/dir/caf\xe9 100%.txt");
        assert_eq!(
            arg_text("plain".into(), Path::new("/b")).as_deref(),
            Ok("plain")
        );
    }

    #[test]
    fn parses_urls_paths_and_rejects_other_schemes() {
        assert!(matches!(
            parse("https://example.org/a.bin"),
            Ok(Source::Url(_))
        ));
        assert!(matches!(
            parse("  HTTP://example.org/ "),
            Ok(Source::Url(_))
        ));
        #[cfg(not(windows))]
        assert_eq!(
            parse("file:///tmp/x.txt"),
            Ok(Source::File(PathBuf::from("/tmp/x.txt")))
        );
        #[cfg(windows)]
        assert_eq!(
            parse("file:///C:/tmp/x.txt"),
            Ok(Source::File(PathBuf::from(r"C:\tmp\x.txt")))
        );
        assert_eq!(
            parse("rel/x.txt"),
            Ok(Source::File(PathBuf::from("/base/rel/x.txt")))
        );
        assert_eq!(
            parse("/abs/中文.txt"),
            Ok(Source::File(PathBuf::from("/abs/中文.txt")))
        );
        assert_eq!(
            parse("gopher://h/x"),
            Err(SourceError::UnsupportedScheme("gopher".into()))
        );
        // Every scheme of the one table is a URL to fetch.
        for url in ["ftp://h/x", "FTPS://u:p@h:2121/d/x.iso", "http://h/x"] {
            assert!(matches!(parse(url), Ok(Source::Url(_))), "{url}");
        }
        assert_eq!(
            parse("ftps://h/x").map(|s| s.host_key()),
            Ok(Some("h:21".to_owned()))
        );
        assert_eq!(parse("ftps:///x"), Err(SourceError::NoHost));
        assert_eq!(parse("   "), Err(SourceError::Empty));
        assert!(matches!(parse("http://"), Err(SourceError::InvalidUrl(_))));
        assert!(matches!(
            parse("http://exa mple.org/"),
            Err(SourceError::InvalidUrl(_))
        ));
    }

    /// What a desktop passes for "Open with" (`Exec=haul %U`): percent-encoded file URLs.
    #[test]
    fn file_urls_are_decoded_into_paths() {
        #[cfg(not(windows))]
        assert_eq!(
            parse("file:///tmp/a%20b%20%E6%8A%A5%E5%91%8A.txt"),
            Ok(Source::File(PathBuf::from("/tmp/a b 报告.txt")))
        );
        #[cfg(windows)]
        assert_eq!(
            parse("file:///C:/Users/a%20b/%E6%8A%A5%E5%91%8A.txt"),
            Ok(Source::File(PathBuf::from(r"C:\Users\a b\报告.txt")))
        );
        // A remote host is not a local file; on Windows a host and a share are a UNC path.
        assert_eq!(parse("file://server/x"), Err(SourceError::BadFileUrl));
        #[cfg(not(windows))]
        assert_eq!(parse("file://server/share/x"), Err(SourceError::BadFileUrl));
        #[cfg(windows)]
        assert_eq!(
            parse("file://server/share/a%20b.txt"),
            Ok(Source::File(PathBuf::from(r"\\server\share\a b.txt")))
        );
    }

    #[test]
    fn a_drive_letter_is_a_path_not_a_scheme() {
        assert!(matches!(parse(r"C:\Users\x.txt"), Ok(Source::File(_))));
    }

    #[test]
    fn lines_that_start_with_a_host_are_read_as_web_addresses() {
        let guess = |t: &str| guess_url(t).map(|s| s.to_string());
        assert_eq!(
            guess("example.org/x.zip").as_deref(),
            Some("https://example.org/x.zip")
        );
        assert_eq!(
            guess("127.0.0.1:8000/small1.txt").as_deref(),
            Some("http://127.0.0.1:8000/small1.txt")
        );
        assert_eq!(
            guess("localhost:8080/a").as_deref(),
            Some("http://localhost:8080/a")
        );
        assert_eq!(
            guess("files.example.com:443/a").as_deref(),
            Some("https://files.example.com/a")
        );
        assert_eq!(
            guess("下载.中国/文件.zip").as_deref(),
            Some("https://xn--ghq880n.xn--fiqs8s/%E6%96%87%E4%BB%B6.zip")
        );
        for not in [
            "Hi team,",
            "notes.txt",
            "dir.v2/readme",
            "thanks!",
            "a b.com/x",
            "/abs/path",
            "ftp://h/x",
            "C:\\x",
            "example.org:port/x",
            "x/y",
        ] {
            assert_eq!(guess(not), None, "{not}");
        }
    }

    #[test]
    fn passwords_in_urls_are_shown_as_stars() {
        use crate::protocol::redact;
        assert_eq!(redact("https://ann:s3cret@h/x"), "https://ann:***@h/x");
        assert_eq!(
            redact("could not connect: http://a:b@h:8080/x and ftp://c:d@e"),
            "could not connect: http://a:***@h:8080/x and ftp://c:***@e"
        );
        assert_eq!(redact("https://ann@h/x"), "https://ann@h/x", "no password");
        assert_eq!(
            redact("https://h/a@b:c"),
            "https://h/a@b:c",
            "an @ in the path"
        );
        assert_eq!(redact("https://a:p@ss@h/"), "https://a:***@h/");
        let source = parse("https://ann:s3cret@h/x").expect("valid");
        assert_eq!(source.to_string(), "https://ann:***@h/x");
        let rejected = from_list("https://ann:s3cret@/x\n", "l", Path::new("/"));
        assert!(
            !rejected[0]
                .rejection()
                .unwrap_or_default()
                .contains("s3cret")
        );
    }

    #[test]
    fn host_key_includes_the_port() {
        let a = parse("http://h:8080/a").ok().and_then(|s| s.host_key());
        let b = parse("https://h/a").ok().and_then(|s| s.host_key());
        assert_eq!(a.as_deref(), Some("h:8080"));
        assert_eq!(b.as_deref(), Some("h:443"));
        assert_eq!(parse("/x").ok().and_then(|s| s.host_key()), None);
    }

    #[test]
    fn lists_skip_blanks_and_comments_and_label_lines() {
        let text =
            "# urls\nhttp://h/a\n\n  \ngopher://h/b\n  # indented comment\nhttp://h/c#frag\n";
        let entries = from_list(text, "urls.txt", Path::new("/"));
        let labels: Vec<&str> = entries.iter().map(|e| e.origin.as_str()).collect();
        assert_eq!(
            labels,
            ["urls.txt line 2", "urls.txt line 5", "urls.txt line 7"]
        );
        assert_eq!(entries[2].text, "http://h/c#frag");
        assert_eq!(
            entries[1].parsed,
            Err(SourceError::UnsupportedScheme("gopher".into()))
        );
    }

    #[test]
    fn a_rejected_line_names_itself() {
        let entries = from_list("gopher://h/x\n", "list", Path::new("/"));
        assert_eq!(
            entries[0].rejection().as_deref(),
            Some("invalid source 'gopher://h/x': unsupported scheme 'gopher' (list line 1)")
        );
        assert_eq!(
            from_args(&["/x".into()], Path::new("/"))[0].rejection(),
            None
        );
    }

    #[test]
    fn sums_apply_by_file_name_to_urls_and_local_paths() {
        let a = "a".repeat(64);
        let b = "b".repeat(64);
        let sums = parse_sums(&format!("{a}  a.bin\n{b} *dir/b.txt\nnot a line\n"));
        assert_eq!(sums.len(), 2);
        let mut entries = from_list(
            "http://h/x/a.bin\n/local/b.txt\n/local/c.txt\n",
            "l",
            Path::new("/"),
        );
        assert_eq!(apply_sums(&mut entries, &sums), 2);
        assert_eq!(entries[0].checksum, Checksum::from_hex(&a));
        assert_eq!(entries[1].checksum, Checksum::from_hex(&b));
        assert_eq!(entries[2].checksum, None);
    }
}
