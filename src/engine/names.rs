//! File names: where an item's name comes from and how it is made safe.
//!
//! Owns: the sanitiser (every name, from a server or a URL, passes through [`sanitize`]),
//! naming from a URL path or a `Content-Disposition` header, the `name (1).ext` variants, and
//! [`Names`], the set of final paths this engine has handed out.
//! Must not touch: the disk. Pure functions and one in-memory set; `output` decides which
//! name is free on disk.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use percent_encoding::percent_decode_str;
use url::Url;

/// Used when nothing usable is left of a name.
pub const FALLBACK_NAME: &str = "download";

/// Longest name we produce, in bytes, leaving room for ` (999)` and `.part` under the
/// common 255-byte limit of file systems.
const MAX_NAME_BYTES: usize = 200;

/// Windows device names, reserved with or without an extension on every Windows file system.
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "COM0", "COM1", "COM2", "COM3", "COM4",
    "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2", "LPT3",
    "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
];

/// Turns any untrusted name into a safe basename for every desktop OS:
/// only the last path component survives (`/`, `\`), `..` and drive colons cannot escape,
/// control, bidi-override and Windows-forbidden characters are replaced, leading and trailing
/// dots and spaces go, Windows device names get a `_` prefix, and the result is at most
/// 200 bytes with its extension kept. Never returns an empty name.
pub fn sanitize(raw: &str) -> String {
    let last = raw
        .split(['/', '\\'])
        .rev()
        .find(|part| !part.trim().is_empty())
        .unwrap_or("");
    let name: String = last
        .chars()
        .filter(|c| !is_invisible_format(*c))
        .map(|c| {
            if c.is_control() || matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*') {
                '_'
            } else {
                c
            }
        })
        .collect();
    // Truncate first, then tidy: every later step sees the final length, so a cut can't
    // leave a trailing dot, only underscores or a device name behind (and a second pass
    // changes nothing).
    let mut name = trim_ends(&truncate_keeping_extension(
        trim_ends(&name),
        MAX_NAME_BYTES,
    ))
    .to_owned();
    if name.chars().all(|c| c == '_') {
        // Nothing meaningful survived (e.g. only control characters).
        return FALLBACK_NAME.to_owned();
    }
    let stem = name.split('.').next().unwrap_or("").trim_end();
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        name.insert(0, '_');
        if name.len() > MAX_NAME_BYTES {
            name = trim_ends(&truncate_keeping_extension(&name, MAX_NAME_BYTES)).to_owned();
        }
    }
    name
}

/// Leading and trailing dots and spaces go (Windows drops them, and `..` is not a name).
fn trim_ends(name: &str) -> &str {
    name.trim_matches(|c: char| c == '.' || c.is_whitespace())
}

/// Bidirectional overrides and zero-width characters can disguise an extension
/// (`evil\u{202E}txt.exe`); they are dropped.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let (stem, ext) = match split_extension(name) {
        (stem, ext) if ext.len() <= 16 => (stem, ext),
        // Not an extension worth keeping: cut the whole name instead.
        _ => (name, ""),
    };
    let mut cut = max - ext.len();
    while !stem.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{}", stem[..cut].trim_end(), ext)
}

/// Splits `a.tar.gz` into (`a`, `.tar.gz`) and `a.txt` into (`a`, `.txt`); a name without a
/// dot (or with only a leading one) has no extension.
pub fn split_extension(name: &str) -> (&str, &str) {
    let Some(dot) = name.rfind('.').filter(|&i| i > 0) else {
        return (name, "");
    };
    let stem = &name[..dot];
    match stem.rfind('.') {
        Some(inner) if inner > 0 && stem[inner..].eq_ignore_ascii_case(".tar") => {
            (&name[..inner], &name[inner..])
        }
        _ => (stem, &name[dot..]),
    }
}

/// The `n`-th candidate for a name: `n == 0` is the name itself, then `name (1).ext`, ….
pub fn variant(name: &str, n: u32) -> String {
    if n == 0 {
        return name.to_owned();
    }
    let (stem, ext) = split_extension(name);
    format!("{stem} ({n}){ext}")
}

/// The name a URL suggests: its last non-empty path segment, percent-decoded (UTF-8,
/// lossy), sanitised. `None` when the path has no usable segment.
pub fn from_url(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    let decoded = percent_decode_str(segment).decode_utf8_lossy();
    let name = sanitize(&decoded);
    (name != FALLBACK_NAME || decoded.trim() == FALLBACK_NAME).then_some(name)
}

/// The file name in a `Content-Disposition` header value, preferring RFC 6266 / 5987
/// `filename*=UTF-8''…` over `filename=`. Returned raw: the caller sanitises.
pub fn from_content_disposition(value: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(value);
    let mut plain = None;
    let mut extended = None;
    for (key, val) in parameters(&text) {
        if key.eq_ignore_ascii_case("filename*") {
            extended = decode_ext_value(&val);
        } else if key.eq_ignore_ascii_case("filename") {
            plain = Some(val);
        }
    }
    extended.or(plain).filter(|n| !n.trim().is_empty())
}

/// Splits `attachment; a=b; c="d;e"` into (key, value) pairs, unquoting quoted values.
fn parameters(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    // Skip the disposition type.
    match rest.find(';') {
        Some(i) => rest = &rest[i + 1..],
        None => return out,
    }
    loop {
        rest = rest.trim_start_matches([' ', '\t', ';']);
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().to_owned();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut val = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, next)) = chars.next() {
                            val.push(next);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    _ => val.push(c),
                }
            }
            value = val;
            rest = &quoted[end.min(quoted.len())..];
            rest = rest.find(';').map_or("", |i| &rest[i..]);
        } else {
            let end = rest.find(';').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        out.push((key, value));
    }
    out
}

/// Decodes an RFC 5987 ext-value: `charset'lang'percent-encoded`. UTF-8 and ISO-8859-1 only.
fn decode_ext_value(value: &str) -> Option<String> {
    let mut parts = value.splitn(3, '\'');
    let charset = parts.next()?.trim();
    let _language = parts.next()?;
    let encoded = parts.next()?;
    let bytes: Vec<u8> = percent_decode_str(encoded).collect();
    if charset.eq_ignore_ascii_case("utf-8") {
        Some(String::from_utf8_lossy(&bytes).into_owned())
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Some(bytes.iter().map(|&b| char::from(b)).collect())
    } else {
        None
    }
}

/// Final paths handed out by this engine, so two items never get the same name even when
/// overwriting is allowed or the first has not reached the disk yet.
#[derive(Debug, Default)]
pub struct Names {
    taken: Mutex<HashSet<PathBuf>>,
}

impl Names {
    /// Reserves `path`; false if another item holds it.
    pub(crate) fn try_take(&self, path: &Path) -> bool {
        self.taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.to_path_buf())
    }

    /// Frees `path` for other items.
    pub(crate) fn release(&self, path: &Path) {
        self.taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_keeps_only_a_safe_basename() {
        assert_eq!(sanitize("../../x"), "x");
        assert_eq!(sanitize("/etc/passwd"), "passwd");
        assert_eq!(sanitize(r"..\..\x"), "x");
        assert_eq!(sanitize(r"C:\Windows\evil.dll"), "evil.dll");
        assert_eq!(sanitize("C:evil.txt"), "C_evil.txt");
        assert_eq!(sanitize(".."), FALLBACK_NAME);
        assert_eq!(sanitize(""), FALLBACK_NAME);
        assert_eq!(sanitize("a\0b\nc\u{7f}.txt"), "a_b_c_.txt");
        assert_eq!(sanitize("\u{1}\u{2}"), FALLBACK_NAME);
        assert_eq!(sanitize(" .hidden. "), "hidden");
        assert_eq!(sanitize("a<b>c|d?e*.txt"), "a_b_c_d_e_.txt");
        assert_eq!(sanitize("evil\u{202E}txt.exe"), "eviltxt.exe");
        assert_eq!(sanitize("中文 名字.pdf"), "中文 名字.pdf");
    }

    #[test]
    fn sanitize_prefixes_windows_device_names() {
        assert_eq!(sanitize("CON"), "_CON");
        assert_eq!(sanitize("aux.txt"), "_aux.txt");
        assert_eq!(sanitize("Lpt1.tar.gz"), "_Lpt1.tar.gz");
        assert_eq!(sanitize("console.txt"), "console.txt");
    }

    #[test]
    fn sanitize_bounds_length_and_keeps_extension() {
        let long = format!("{}.txt", "名".repeat(400));
        let out = sanitize(&long);
        assert!(out.len() <= MAX_NAME_BYTES, "{} bytes", out.len());
        assert!(out.ends_with(".txt"));
        assert!(out.starts_with('名'));
    }

    /// Windows' rules, checked on every platform: a file saved on Linux or macOS may be
    /// copied to a Windows disk, and the Windows build must never fail on a server's name.
    #[test]
    fn windows_rules_hold_on_every_platform() {
        // Device names, with or without extensions, in any case, with trailing dots/spaces.
        for (raw, safe) in [
            ("COM1.txt", "_COM1.txt"),
            ("com9", "_com9"),
            ("LPT3.tar.gz", "_LPT3.tar.gz"),
            ("nul", "_nul"),
            ("PRN.", "_PRN"),
            ("Con .log", "_Con .log"),
            ("CONIN$", "_CONIN$"),
            ("conout$.txt", "_conout$.txt"),
            ("COM¹.dat", "_COM¹.dat"),
            // Not device names: longer stems, digits past 9, a device name inside a word.
            ("COM10.txt", "COM10.txt"),
            ("COM1x.txt", "COM1x.txt"),
            ("my CON.txt", "my CON.txt"),
        ] {
            assert_eq!(sanitize(raw), safe, "{raw:?}");
        }
        // Every character Windows forbids in a name.
        assert_eq!(sanitize(r#"a<b>c:d"e|f?g*h.txt"#), "a_b_c_d_e_f_g_h.txt");
        assert_eq!(sanitize(r"dir\sub/报告.pdf"), "报告.pdf");
        // Windows drops trailing dots and spaces (and `name.` would open `name`).
        assert_eq!(sanitize("report.pdf."), "report.pdf");
        assert_eq!(sanitize("report.pdf . "), "report.pdf");
        assert_eq!(sanitize("  notes.txt"), "notes.txt");
        assert_eq!(sanitize("..."), FALLBACK_NAME);
        for raw in ["COM1.txt", "a:b", "x. ", "名字 .", r"\\server\share\f.txt"] {
            let name = sanitize(raw);
            assert!(is_windows_safe(&name), "{raw:?} became {name:?}");
        }
    }

    /// What Windows accepts as a file name (NTFS, exFAT, FAT32 long names).
    fn is_windows_safe(name: &str) -> bool {
        let stem = name.split('.').next().unwrap_or("").trim_end();
        !name.is_empty()
            && !name
                .chars()
                .any(|c| c.is_control() || r#"<>:"/\|?*"#.contains(c))
            && !name.ends_with(['.', ' '])
            && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem))
            && name.encode_utf16().count() <= 255
    }

    /// File systems limit a name to 255 bytes (ext4, APFS counts UTF-8) or 255 UTF-16 units
    /// (NTFS). A name is cut to 200 bytes so that `name (999).ext.part.haul`, the longest
    /// file Haul makes for it, still fits everywhere, also in Chinese or emoji.
    #[test]
    fn long_cjk_and_emoji_names_fit_every_file_system_with_their_suffixes() {
        for raw in [
            format!("{}.pdf", "报告".repeat(300)),
            format!("{}.tar.gz", "a".repeat(1000)),
            "😀".repeat(300),
            format!("{}.txt", "é".repeat(300)),
            format!("COM1.{}", "名".repeat(100)),
        ] {
            let name = sanitize(&raw);
            let longest = format!("{}.part.haul", variant(&name, 999));
            assert!(name.len() <= MAX_NAME_BYTES, "{} bytes", name.len());
            assert!(longest.len() <= 255, "{longest:?}: {} bytes", longest.len());
            assert!(longest.encode_utf16().count() <= 255, "{longest:?}");
            assert!(is_windows_safe(&name), "{name:?}");
            // Cut on a character boundary, extension kept when it is one.
            let (_, ext) = split_extension(&raw);
            if ext.len() <= 16 {
                assert!(name.ends_with(ext), "{name:?} lost {ext:?}");
            }
            assert_eq!(sanitize(&name), name, "stable");
        }
    }

    #[test]
    fn variants_look_like_a_browser() {
        assert_eq!(variant("a.txt", 0), "a.txt");
        assert_eq!(variant("a.txt", 1), "a (1).txt");
        assert_eq!(variant("a.tar.gz", 2), "a (2).tar.gz");
        assert_eq!(variant("README", 1), "README (1)");
        assert_eq!(variant(".env", 1), ".env (1)");
    }

    #[test]
    fn names_from_urls_are_decoded_and_safe() {
        let url = |s: &str| Url::parse(s).expect("test URL");
        assert_eq!(
            from_url(&url("http://h/a/b.bin?x=1")).as_deref(),
            Some("b.bin")
        );
        assert_eq!(
            from_url(&url("http://h/%E4%B8%AD%E6%96%87.txt")).as_deref(),
            Some("中文.txt")
        );
        assert_eq!(from_url(&url("http://h/dir/")).as_deref(), Some("dir"));
        assert_eq!(from_url(&url("http://h/")), None);
        assert_eq!(
            from_url(&url("http://h/..%2F..%2Fetc%2Fpasswd")).as_deref(),
            Some("passwd")
        );
    }

    #[test]
    fn content_disposition_prefers_the_extended_name() {
        let cd = |s: &str| from_content_disposition(s.as_bytes());
        assert_eq!(
            cd("attachment; filename=\"a b.txt\"").as_deref(),
            Some("a b.txt")
        );
        assert_eq!(
            cd("attachment; filename=plain.txt").as_deref(),
            Some("plain.txt")
        );
        assert_eq!(
            cd("attachment; filename=\"fallback.txt\"; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf")
                .as_deref(),
            Some("报告.pdf")
        );
        assert_eq!(
            cd("attachment; filename=\"semi;colon.txt\"; size=3").as_deref(),
            Some("semi;colon.txt")
        );
        assert_eq!(
            cd("attachment; filename=\"q\\\"uote.txt\"").as_deref(),
            Some("q\"uote.txt")
        );
        assert_eq!(cd("inline"), None);
        assert_eq!(cd("attachment; filename=\"\""), None);
    }
}
