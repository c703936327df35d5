//! File names: where an item's name comes from and how it is made safe.
//!
//! Owns: the sanitiser (every name, from a server or a URL, passes through [`sanitize`]),
//! naming from a URL path or a reply ([`from_reply`]), the `name (1).ext` variants, and
//! [`Names`], the set of final paths this engine has handed out.
//!
//! Must not touch: the disk. Pure functions and one in-memory set; `output` decides which
//! name is free on disk.
//!
//! # Layout
//! - this file: the sanitiser, URL names, variants, [`Names`].
//! - `disposition`: the name in a `Content-Disposition` header, decoded as browsers do.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use icu_normalizer::ComposingNormalizerBorrowed;
use percent_encoding::percent_decode_str;
use url::Url;

mod disposition;

pub use disposition::from_content_disposition;

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

/// Turns any untrusted name into a safe basename for every desktop OS, in Unicode NFC:
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
    // One form for one name: `ä` as one character, not `a` and a combining mark (macOS
    // hands out decomposed names; Chrome normalises too).
    let last = ComposingNormalizerBorrowed::new_nfc().normalize(last);
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

/// The name a URL suggests: its last non-empty path segment, percent-decoded (as UTF-8 when
/// the bytes are UTF-8, else in `legacy_charset` — windows-1252 when `None`), sanitised.
/// `None` when the path has no usable segment.
pub fn from_url(url: &Url, legacy_charset: Option<&str>) -> Option<String> {
    let segment = url.path_segments()?.rev().find(|s| !s.is_empty())?;
    let bytes: Vec<u8> = percent_decode_str(segment).collect();
    let decoded = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => disposition::decode_legacy(e.as_bytes(), legacy_charset),
    };
    let name = sanitize(&decoded);
    (name != FALLBACK_NAME || decoded.trim() == FALLBACK_NAME).then_some(name)
}

/// The name a reply suggests, as a browser would pick it: the `Content-Disposition` name
/// (when given and `disposition` is wanted), else the last path segment of the URL the reply
/// came from, else of the URL asked for; sanitised. `None` when none of them gives one (the
/// caller falls back on the content type). `legacy_charset` decodes name bytes that are not
/// UTF-8 (see [`from_content_disposition`]).
pub fn from_reply(
    disposition: Option<&[u8]>,
    replied_from: &Url,
    asked: &Url,
    legacy_charset: Option<&str>,
) -> Option<String> {
    disposition
        .and_then(|value| from_content_disposition(value, legacy_charset))
        .map(|raw| sanitize(&raw))
        .or_else(|| from_url(replied_from, legacy_charset))
        .or_else(|| from_url(asked, legacy_charset))
}

/// The legacy encoding a browser in this locale tries for name bytes that are not UTF-8 (the
/// Encoding Standard's locale defaults), as a WHATWG label; `None` for windows-1252, the
/// default everywhere else. `locale` is a BCP-47 tag or a POSIX locale (`zh-CN`, `zh_TW.UTF-8`).
pub fn legacy_charset_for_locale(locale: &str) -> Option<&'static str> {
    let lower = locale.to_ascii_lowercase().replace('_', "-");
    let language = lower.split(['-', '.', '@']).next().unwrap_or("");
    let traditional = ["-tw", "-hk", "-mo", "-hant"]
        .iter()
        .any(|region| lower.contains(region));
    match language {
        "zh" if traditional => Some("Big5"),
        "zh" => Some("GBK"),
        "ja" => Some("Shift_JIS"),
        "ko" => Some("EUC-KR"),
        "ru" | "uk" | "be" | "bg" | "sr" | "mk" => Some("windows-1251"),
        "el" => Some("windows-1253"),
        "tr" | "az" => Some("windows-1254"),
        "he" => Some("windows-1255"),
        "ar" | "fa" | "ur" => Some("windows-1256"),
        "lt" | "lv" | "et" => Some("windows-1257"),
        "vi" => Some("windows-1258"),
        "th" => Some("windows-874"),
        "pl" | "cs" | "sk" | "hu" | "sl" | "hr" | "ro" => Some("windows-1250"),
        _ => None,
    }
}

/// Final paths handed out by this engine, so two items never get the same name even when
/// overwriting is allowed or the first has not reached the disk yet.
///
/// Paths are compared as a case-insensitive, normalising file system compares them (NTFS,
/// APFS and HFS+ by default, exFAT and NTFS mounted on Linux): `Report.pdf`, `report.pdf` and
/// `re\u{301}sume\u{301}.pdf` / `résumé.pdf` are one file there, so they are one name here, on
/// every platform. Too many names counted as one only costs a `name (1).ext`; too few could
/// let overwrite mode replace a file from the same batch.
#[derive(Debug, Default)]
pub struct Names {
    taken: Mutex<HashSet<String>>,
}

/// The key a path is reserved under: NFC, then lower case (full Unicode case mapping).
fn name_key(path: &Path) -> String {
    let text = path.to_string_lossy();
    ComposingNormalizerBorrowed::new_nfc()
        .normalize(&text)
        .to_lowercase()
}

impl Names {
    /// Reserves `path`; false if another item holds it (or a path that differs only in case
    /// or Unicode normalisation).
    pub fn try_take(&self, path: &Path) -> bool {
        self.taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(name_key(path))
    }

    /// Frees `path` for other items.
    pub fn release(&self, path: &Path) {
        self.taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&name_key(path));
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
        assert_eq!(sanitize("foo-a\u{308}.html"), "foo-\u{e4}.html", "NFC");
    }

    /// On NTFS and APFS `Report.pdf` and `report.pdf` are one file: overwrite mode replaced
    /// a file from the same batch when the table told them apart.
    #[test]
    fn names_differing_only_in_case_or_normalisation_are_one_name() {
        let names = Names::default();
        assert!(names.try_take(Path::new("/d/Report.PDF")));
        assert!(!names.try_take(Path::new("/d/report.pdf")));
        assert!(names.try_take(Path::new("/d/re\u{301}sume\u{301}.pdf")));
        assert!(!names.try_take(Path::new("/d/RÉSUMÉ.pdf")));
        assert!(names.try_take(Path::new("/d/报告.pdf")));
        assert!(!names.try_take(Path::new("/d/报告.pdf")));
        names.release(Path::new("/d/REPORT.pdf"));
        assert!(
            names.try_take(Path::new("/d/report.pdf")),
            "released under any spelling"
        );
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
    fn locales_pick_their_browsers_legacy_encoding() {
        assert_eq!(legacy_charset_for_locale("zh_CN.UTF-8"), Some("GBK"));
        assert_eq!(legacy_charset_for_locale("zh-Hans-CN"), Some("GBK"));
        assert_eq!(legacy_charset_for_locale("zh_TW.UTF-8"), Some("Big5"));
        assert_eq!(legacy_charset_for_locale("zh-HK"), Some("Big5"));
        assert_eq!(legacy_charset_for_locale("ja_JP"), Some("Shift_JIS"));
        assert_eq!(legacy_charset_for_locale("en_US.UTF-8"), None);
        assert_eq!(legacy_charset_for_locale("C"), None);
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
            from_url(&url("http://h/a/b.bin?x=1"), None).as_deref(),
            Some("b.bin")
        );
        assert_eq!(
            from_url(&url("http://h/%E4%B8%AD%E6%96%87.txt"), None).as_deref(),
            Some("中文.txt")
        );
        assert_eq!(
            from_url(&url("http://h/dir/"), None).as_deref(),
            Some("dir")
        );
        assert_eq!(from_url(&url("http://h/"), None), None);
        assert_eq!(
            from_url(&url("http://h/..%2F..%2Fetc%2Fpasswd"), None).as_deref(),
            Some("passwd")
        );
    }
}
