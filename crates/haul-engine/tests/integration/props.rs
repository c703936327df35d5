//! Property tests: the name sanitiser, the whole header → name path, and list parsing over
//! arbitrary input. `cargo test` runs 256 cases of each; for a longer search by hand:
//! `PROPTEST_CASES=200000 cargo test --release --test integration props::`.

use std::path::Path;

use haul_core::names::{from_reply, sanitize};
use haul_core::protocol::Source;
use haul_core::sources::from_list;
use proptest::prelude::*;

/// Longest name `sanitize` may return, in bytes.
const MAX_NAME_BYTES: usize = 200;

/// Windows device names, reserved with or without an extension.
const DEVICES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
        // Shrinking long strings is slow; a bounded search still gets close to minimal.
        max_shrink_iters: 4096,
        // Failures found are kept as the explicit regression tests below, not a seed file.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Whether Windows would open a device for `name`: its part before the first dot, without
/// trailing spaces, is a device name in any case.
fn is_device_name(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("").trim_end_matches(' ');
    DEVICES.iter().any(|d| d.eq_ignore_ascii_case(stem))
}

/// A Windows device name in either case, with or without an extension.
fn device() -> impl Strategy<Value = String> {
    (
        prop::sample::select(DEVICES),
        prop::sample::select(vec!["", ".txt", ".tar.gz", " ", " .log", "."]),
        any::<bool>(),
    )
        .prop_map(|(d, ext, lower)| {
            let d = if lower {
                d.to_lowercase()
            } else {
                d.to_owned()
            };
            format!("{d}{ext}")
        })
}

/// Pieces that hostile names are built from.
fn piece() -> impl Strategy<Value = String> {
    let repeated = (
        prop::sample::select(vec![" ", "x", "_", ".", "名", "a.", "\u{202E}", "/"]),
        0usize..300,
    )
        .prop_map(|(s, n)| s.repeat(n));
    prop_oneof![
        Just("/".to_owned()),
        Just("\\".to_owned()),
        Just("..".to_owned()),
        Just(".".to_owned()),
        Just("\0".to_owned()),
        Just(" ".to_owned()),
        Just("_".to_owned()),
        Just(":".to_owned()),
        (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap_or('\0').to_string()),
        (0x7fu32..0xa0).prop_map(|c| char::from_u32(c).unwrap_or('\0').to_string()),
        prop::sample::select(vec![
            "\u{202E}", "\u{202D}", "\u{2066}", "\u{2069}", "\u{200B}", "\u{200F}", "\u{FEFF}",
        ])
        .prop_map(str::to_owned),
        device(),
        "[a-z0-9]{1,12}",
        "\\.[a-z]{1,20}",
        "[\u{4e00}-\u{9fff}]{1,8}",
        repeated,
        any::<String>(),
    ]
}

/// Names as a hostile server might send them, plus entirely arbitrary strings.
fn hostile_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(piece(), 0..10).prop_map(|parts| parts.concat()),
        1 => any::<String>(),
        // Around the 200-byte limit: something short, padding, and a tail that truncation cuts.
        1 => (
            prop_oneof![device(), "[a-z_.]{1,3}"],
            prop::sample::select(vec![" ", "_", ".", "x"]),
            150usize..260,
            piece(),
        )
            .prop_map(|(head, pad, n, tail)| format!("{head}{}{tail}", pad.repeat(n))),
    ]
}

/// A bare device name, padding that truncation trims away, and a tail past the 200-byte limit.
fn device_then_padding() -> impl Strategy<Value = String> {
    (
        prop::sample::select(DEVICES),
        any::<bool>(),
        190usize..260,
        piece(),
    )
        .prop_map(|(d, lower, n, tail)| {
            let d = if lower {
                d.to_lowercase()
            } else {
                d.to_owned()
            };
            format!("{d}{}{tail}", " ".repeat(n))
        })
}

/// How `out` breaks the contract every output of `sanitize` should keep, if it does.
fn violations(out: &str) -> Vec<&'static str> {
    let mut bad = Vec::new();
    if out.is_empty() {
        bad.push("empty");
    }
    if out.len() > MAX_NAME_BYTES {
        bad.push("longer than 200 bytes");
    }
    if out.contains(['/', '\\']) {
        bad.push("contains a path separator");
    }
    if out.chars().any(char::is_control) {
        bad.push("contains a control character or NUL");
    }
    if out == "." || out == ".." {
        bad.push("is . or ..");
    }
    if is_device_name(out) {
        bad.push("is a Windows device name");
    }
    bad
}

/// `Content-Disposition` values as servers (and hostile ones) send them: the pieces of the
/// grammar, encoded words, percent sequences, quotes and escapes, raw high bytes, paths.
fn disposition() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            "attachment",
            "inline",
            ";",
            " ",
            "=",
            "\"",
            "\\",
            "'",
            "filename",
            "filename*",
            "filename=",
            "filename*=",
            "UTF-8''",
            "utf-8''",
            "GBK''",
            "iso-8859-1''",
            "=?",
            "?=",
            "?B?",
            "?Q?",
            "=?UTF-8?B?",
            "=?GBK?Q?",
            "%",
            "%E6%8A%A5",
            "%C3",
            "%zz",
            "/",
            "\\",
            "..",
            ".",
            "CON",
            "a.txt",
            "_",
            "=E4",
            "5oql5ZGK",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..8),
        prop::collection::vec(0x80u8..=0xff, 1..6),
        "[a-z0-9.]{1,12}".prop_map(String::into_bytes),
    ];
    prop_oneof![
        4 => prop::collection::vec(piece, 0..16).prop_map(|parts| parts.concat()),
        1 => prop::collection::vec(any::<u8>(), 0..300),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Any header bytes, any legacy charset: the name that comes out is a safe, non-empty
    /// basename (and nothing panics on the way). The device-name rule is left to the
    /// sanitiser's own tests, where truncation is the only way past it.
    #[test]
    fn any_disposition_header_gives_a_safe_non_empty_name(
        value in disposition(),
        legacy in prop::sample::select(vec![None, Some("GBK"), Some("Big5"), Some("Shift_JIS"), Some("nonsense")]),
    ) {
        let url = url::Url::parse("http://h/dir/fallback.bin").expect("url");
        let name = from_reply(Some(&value), &url, &url, legacy);
        prop_assert!(name.is_some(), "no name for {value:?}");
        let name = name.unwrap_or_default();
        let bad: Vec<&str> = violations(&name)
            .into_iter()
            .filter(|v| *v != "is a Windows device name")
            .collect();
        prop_assert!(bad.is_empty(), "{value:?} → {name:?}: {bad:?}");
    }

    /// Everything except the device-name rule, which truncation can break (see
    /// `sanitize_never_yields_a_device_name`).
    #[test]
    fn sanitize_yields_a_safe_bounded_basename(raw in hostile_name()) {
        let out = sanitize(&raw);
        let bad: Vec<&str> = violations(&out)
            .into_iter()
            .filter(|v| *v != "is a Windows device name")
            .collect();
        prop_assert!(bad.is_empty(), "sanitize({raw:?}) = {out:?}: {bad:?}");
    }

    #[test]
    fn sanitize_never_yields_a_device_name_without_truncation(raw in hostile_name()) {
        // Inputs short enough that no truncation happens (a `_` prefix adds one byte).
        prop_assume!(raw.len() < MAX_NAME_BYTES);
        let out = sanitize(&raw);
        prop_assert!(!is_device_name(&out), "sanitize({raw:?}) = {out:?}");
    }

    #[test]
    fn sanitize_keeps_a_short_extension_of_a_long_name(
        stem in "[a-z\u{4e00}-\u{9fff}]{150,400}",
        ext in "\\.[a-z]{1,8}",
    ) {
        let out = sanitize(&format!("{stem}{ext}"));
        prop_assert!(out.len() <= MAX_NAME_BYTES, "{} bytes", out.len());
        prop_assert!(out.ends_with(&ext), "{out:?} lost {ext:?}");
    }

    #[test]
    fn sanitize_is_idempotent_for_names_that_need_no_truncation(raw in hostile_name()) {
        prop_assume!(raw.len() < MAX_NAME_BYTES);
        let once = sanitize(&raw);
        prop_assert_eq!(sanitize(&once), once.clone(), "input {:?}", raw);
    }
}

proptest! {
    // These two once failed; the regression tests below pin the smallest inputs found.
    #![proptest_config(config())]

    #[test]
    fn sanitize_never_yields_a_device_name(
        raw in prop_oneof![hostile_name(), device_then_padding()],
    ) {
        let out = sanitize(&raw);
        prop_assert!(!is_device_name(&out), "sanitize({raw:?}) = {out:?}");
    }

    #[test]
    fn sanitize_is_idempotent(raw in hostile_name()) {
        let once = sanitize(&raw);
        prop_assert_eq!(sanitize(&once), once.clone(), "input {:?}", raw);
    }
}

/// The smallest inputs found when these properties failed, checked one by one.
#[test]
fn regression_truncation_yields_a_device_name() {
    let raw = format!("CON{}x.txt", " ".repeat(193));
    let out = sanitize(&raw);
    assert!(!is_device_name(&out), "sanitize({raw:?}) = {out:?}");
}

#[test]
fn regression_truncation_leaves_a_trailing_dot() {
    let raw = format!("{}.y.{}", "x".repeat(199), "z".repeat(20));
    let once = sanitize(&raw);
    assert_eq!(sanitize(&once), once, "input {raw:?}");
}

#[test]
fn regression_a_long_extension_collapses_the_name() {
    // 201 bytes: the "extension" after the second dot is over 16 bytes, so it is dropped and
    // only the stem `_.` is left; a second pass turns that into `download`.
    let raw = format!("_..{}", "x".repeat(198));
    let once = sanitize(&raw);
    assert_eq!(sanitize(&once), once, "input {raw:?}");
}

#[test]
fn regression_truncation_leaves_only_underscores() {
    let raw = format!("{}a", "_".repeat(200));
    let once = sanitize(&raw);
    assert_eq!(sanitize(&once), once, "input {raw:?}");
}

/// One line of a source list, of any kind the parser must handle.
fn list_line() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[ \t]{1,4}",
        "#[^\n]{0,20}",
        "[ \t]{0,3}#[^\n]{0,20}",
        "https?://[a-z]{1,8}(\\.[a-z]{2,3})?(:[0-9]{1,5})?/[a-z0-9/._%-]{0,20}",
        "[ \t]{0,2}(ftp|file|mailto|HTTP|hTtPs)://[^\n ]{0,15}[ \t]{0,2}",
        "/[a-z0-9/ ._-]{0,20}",
        "[a-z0-9._-]{1,12}(/[a-z0-9._-]{1,8}){0,3}",
        "[A-Za-z]:\\\\[a-z]{1,8}",
        "http://[^\n]{0,20}",
        // aria2's input-file format: options under a source, known or not, and mirrors.
        "[ \t]{1,3}(out|dir|split|header|max-conn)=[a-z0-9 :./]{0,8}",
        "https?://[a-z]{1,8}/[a-z]{1,5}\t(https?://[a-z]{1,8}/[a-z]{1,5})?",
        any::<String>().prop_map(|s| s.replace('\n', " ")),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn from_list_yields_one_entry_per_source_line_in_order(
        lines in prop::collection::vec(list_line(), 0..20),
        crlf in any::<bool>(),
        trailing_newline in any::<bool>(),
        name in "[a-zA-Z0-9 ._-]{1,12}",
        base in prop::sample::select(vec!["/", "/base", "/home/u/downloads"]),
    ) {
        let separator = if crlf { "\r\n" } else { "\n" };
        let mut text = lines.join(separator);
        if trailing_newline {
            text.push_str(separator);
        }
        let base = Path::new(base);
        let entries = from_list(&text, &name, base);

        // The model: a line counts unless it is blank or starts with `#` once trimmed, or
        // is an indented `name=value` under a source (an option of that source, aria2's
        // input-file format); a source line's first tab-separated field is the source.
        let mut seen_source = false;
        let expected: Vec<(usize, &str)> = lines
            .iter()
            .enumerate()
            .filter(|(_, line)| {
                let trimmed = line.trim();
                if trimmed.is_empty() || trimmed.starts_with('#') {
                    return false;
                }
                let option = line.starts_with([' ', '\t'])
                    && haul_core::options::option_line(line).is_some();
                let counts = !option || !seen_source;
                seen_source |= !option;
                counts
            })
            .map(|(i, line)| {
                let trimmed = line.trim();
                (i + 1, trimmed.split('\t').next().unwrap_or(trimmed))
            })
            .collect();
        prop_assert_eq!(entries.len(), expected.len(), "text {:?}", text);
        for (entry, (k, line)) in entries.iter().zip(expected) {
            prop_assert_eq!(&entry.origin, &format!("{name} line {k}"));
            prop_assert_eq!(entry.text.as_str(), line.trim());
            if haul_core::options::option_line(line).is_some() && entry.parsed.is_err() {
                continue; // an option line with no source above it: refused, naming its line
            }
            let direct = Source::parse(line, base);
            prop_assert_eq!(entry.parsed.is_ok(), direct.is_ok(), "line {:?}", line);
            prop_assert_eq!(&entry.parsed, &direct, "line {:?}", line);
        }
    }
}
