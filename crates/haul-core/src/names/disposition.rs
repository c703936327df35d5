//! The file name in a `Content-Disposition` header, decided as Chrome and Firefox decide it.
//!
//! Owns: reading the header's raw bytes (RFC 6266, with its Appendix C practice) and decoding
//! the name:
//! 1. `filename*` (RFC 8187 ext-value: `charset'lang'percent-encoded`) when it decodes in a
//!    charset the Encoding Standard knows; one that does not is ignored (RFC 6266 §4.3);
//! 2. else the first `filename`: backslash escapes inside quotes undone; RFC 2047 encoded
//!    words (`=?UTF-8?B?…?=`, `=?GBK?Q?…?=`) decoded, as both browsers do; bytes that are
//!    UTF-8 taken as UTF-8 — and then `%XX` sequences decoded when that gives UTF-8 (Chrome);
//!    other bytes decoded in the legacy encoding given (GBK for Chinese…, windows-1252 when
//!    none), as a browser tries its locale's;
//! 3. a header without a disposition type (`filename=report.txt; charset=funny`) still names
//!    the file, as curl's tests, Chrome and Firefox expect.
//!
//! The result is NFC-normalised by the sanitiser, which the caller applies.
//! Charsets come from `encoding_rs` (the Encoding Standard's tables, as browsers use them);
//! the encoded-word syntax is four `?`-separated fields, read here.
//! Must not touch: the disk; making the name safe (that is `sanitize`).

use std::borrow::Cow;

use base64::Engine as _;
use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use percent_encoding::percent_decode;

/// The file name a `Content-Disposition` value gives, decoded but not yet sanitised.
/// `legacy_charset` (a WHATWG label) decodes name bytes that are not UTF-8; unknown or
/// `None` means windows-1252.
pub fn from_content_disposition(value: &[u8], legacy_charset: Option<&str>) -> Option<String> {
    let params = parameters(value);
    let find = |key: &[u8]| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    };
    let legacy = legacy_encoding(legacy_charset);
    let usable = |name: &String| !name.trim().is_empty();
    find(b"filename*")
        .and_then(decode_ext_value)
        .filter(usable)
        .or_else(|| {
            find(b"filename")
                .map(|v| decode_plain(v, legacy))
                .filter(usable)
        })
}

/// The encoding for a legacy-charset label; unknown or `None` is windows-1252.
fn legacy_encoding(label: Option<&str>) -> &'static Encoding {
    label
        .and_then(|label| Encoding::for_label(label.as_bytes()))
        .unwrap_or(WINDOWS_1252)
}

/// Bytes that are not UTF-8, decoded in the legacy encoding `label` names (see
/// [`from_content_disposition`]); never fails.
pub(super) fn decode_legacy(bytes: &[u8], label: Option<&str>) -> String {
    legacy_encoding(label)
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

/// `attachment; a=b; c="d;e"` → (key, value) pairs, quoted values unquoted (backslash
/// escapes undone; an unterminated quote runs to the end; a single quote that opens a token
/// and never closes is dropped). The disposition type is skipped
/// when there is one: a first segment with `=` in it is already a parameter.
fn parameters(value: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut rest = value;
    let first_end = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
    if !rest[..first_end].contains(&b'=') {
        rest = &rest[first_end..];
    }
    let mut out = Vec::new();
    loop {
        rest = trim_start(rest, b" \t;");
        if rest.is_empty() {
            break;
        }
        let Some(eq) = rest.iter().position(|&b| b == b'=' || b == b';') else {
            break; // a last word without a value
        };
        if rest[eq] == b';' {
            rest = &rest[eq..]; // a parameter without a value: skipped
            continue;
        }
        let key = trim(&rest[..eq]).to_vec();
        rest = trim_start(&rest[eq + 1..], b" \t");
        let value = if let Some(quoted) = rest.strip_prefix(b"\"") {
            let mut value = Vec::new();
            let mut i = 0;
            while i < quoted.len() {
                match quoted[i] {
                    b'\\' if i + 1 < quoted.len() => {
                        value.push(quoted[i + 1]);
                        i += 2;
                    }
                    b'"' => break,
                    b => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
            let after = &quoted[(i + 1).min(quoted.len())..];
            rest = after
                .iter()
                .position(|&b| b == b';')
                .map_or(&[][..], |semi| &after[semi..]);
            value
        } else {
            let end = rest.iter().position(|&b| b == b';').unwrap_or(rest.len());
            let mut value = trim(&rest[..end]);
            rest = &rest[end..];
            // `filename='foo.txt` with no closing quote: the stray quote is dropped, as curl
            // drops it (a balanced `'foo.txt'` stays as browsers keep it, RFC 6266's tc2231).
            if let Some(unquoted) = value.strip_prefix(b"'")
                && !unquoted.contains(&b'\'')
            {
                value = unquoted;
            }
            value.to_vec()
        };
        out.push((key, value));
    }
    out
}

fn trim_start<'a>(bytes: &'a [u8], set: &[u8]) -> &'a [u8] {
    let start = bytes
        .iter()
        .position(|b| !set.contains(b))
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    &bytes[start..end.max(start)]
}

/// Decodes bytes in `encoding`, or `None` if they are not valid in it.
fn decode_strict(bytes: &[u8], encoding: &'static Encoding) -> Option<String> {
    encoding
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(Cow::into_owned)
}

/// An RFC 8187 ext-value: `charset'language'percent-encoded`, in any charset the Encoding
/// Standard has a label for (UTF-8 and ISO-8859-1 are the ones RFC 8187 requires).
fn decode_ext_value(value: &[u8]) -> Option<String> {
    let mut parts = value.splitn(3, |&b| b == b'\'');
    let charset = trim(parts.next()?);
    let _language = parts.next()?;
    let encoded = parts.next()?;
    let encoding = Encoding::for_label(charset)?;
    let bytes: Vec<u8> = percent_decode(encoded).collect();
    decode_strict(&bytes, encoding)
}

/// A plain `filename` value: encoded words, else UTF-8 (with `%XX` decoded when that is
/// UTF-8 too), else the legacy encoding.
fn decode_plain(value: &[u8], legacy: &'static Encoding) -> String {
    if let Some(decoded) = decode_encoded_words(value) {
        return decoded;
    }
    match std::str::from_utf8(value) {
        Ok(text) => {
            if text.contains('%')
                && let Some(decoded) =
                    decode_strict(&percent_decode(value).collect::<Vec<u8>>(), UTF_8)
            {
                return decoded;
            }
            text.to_owned()
        }
        Err(_) => legacy.decode_without_bom_handling(value).0.into_owned(),
    }
}

/// Text holding RFC 2047 encoded words (`=?charset?B|Q?text?=`), decoded: whitespace between
/// two adjacent words is dropped, text around them is kept. `None` when there is no encoded
/// word, or one of them cannot be decoded (then the value is taken as it stands).
fn decode_encoded_words(value: &[u8]) -> Option<String> {
    let mut out = String::new();
    let mut rest = value;
    let mut found = false;
    let mut pending_space: &[u8] = &[];
    while !rest.is_empty() {
        if rest.starts_with(b"=?")
            && let Some((word, after)) = encoded_word(rest)
        {
            let decoded = decode_word(word)?;
            if !found || !pending_space.iter().all(u8::is_ascii_whitespace) {
                out.push_str(std::str::from_utf8(pending_space).ok()?);
            }
            out.push_str(&decoded);
            found = true;
            pending_space = &[];
            rest = after;
            continue;
        }
        // Literal text up to the next possible word.
        let next = rest[1..]
            .windows(2)
            .position(|w| w == b"=?")
            .map_or(rest.len(), |i| i + 1);
        out.push_str(std::str::from_utf8(pending_space).ok()?);
        pending_space = &rest[..next];
        rest = &rest[next..];
    }
    out.push_str(std::str::from_utf8(pending_space).ok()?);
    found.then_some(out)
}

/// One encoded word's fields: charset, encoding (`B` or `Q`), encoded text.
type Word<'a> = (&'a [u8], &'a [u8], &'a [u8]);

/// The fields of one encoded word at the start of `text`, and the text after it.
fn encoded_word(text: &[u8]) -> Option<(Word<'_>, &[u8])> {
    let inner = text.strip_prefix(b"=?")?;
    let mut fields = inner.splitn(3, |&b| b == b'?');
    let charset = fields.next()?;
    let encoding = fields.next()?;
    let tail = fields.next()?;
    let end = tail.windows(2).position(|w| w == b"?=")?;
    let payload = &tail[..end];
    if payload
        .iter()
        .any(|b| b.is_ascii_whitespace() || *b == b'?')
    {
        return None;
    }
    Some(((charset, encoding, payload), &tail[end + 2..]))
}

/// One encoded word's text, decoded (B: base64; Q: `_` for space and `=XX` for a byte).
fn decode_word((charset, encoding, payload): Word<'_>) -> Option<String> {
    // RFC 2231 lets a language follow the charset: `UTF-8*en`.
    let charset = charset.split(|&b| b == b'*').next()?;
    let charset = Encoding::for_label(charset)?;
    let bytes = match encoding {
        b"B" | b"b" => base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(
                payload
                    .strip_suffix(b"==")
                    .or_else(|| payload.strip_suffix(b"="))
                    .unwrap_or(payload),
            )
            .ok()?,
        b"Q" | b"q" => {
            let mut out = Vec::with_capacity(payload.len());
            let mut i = 0;
            while i < payload.len() {
                match payload[i] {
                    b'_' => out.push(b' '),
                    b'=' => {
                        let hex = std::str::from_utf8(payload.get(i + 1..i + 3)?).ok()?;
                        out.push(u8::from_str_radix(hex, 16).ok()?);
                        i += 2;
                    }
                    b => out.push(b),
                }
                i += 1;
            }
            out
        }
        _ => return None,
    };
    decode_strict(&bytes, charset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(value: &[u8]) -> Option<String> {
        from_content_disposition(value, None)
    }

    fn text(value: &str) -> Option<String> {
        name(value.as_bytes())
    }

    /// Rows of greenbytes' tc2231 and the browsers' own tests, with what Chrome and Firefox
    /// show (where the two differ, the note says whose result this is).
    #[test]
    fn names_are_what_browsers_show() {
        for (value, expected) in [
            ("attachment; filename=\"foo.html\"", Some("foo.html")),
            (
                "inline; filename=\"name1312;weird\"",
                Some("name1312;weird"),
            ),
            // No disposition type (curl test 1311): still a name.
            (
                "filename=name1311; charset=funny; option=strange",
                Some("name1311"),
            ),
            ("filename=report.txt; charset=funny", Some("report.txt")),
            (
                "attachment; filename=\"foo.html\"; filename=\"bar.html\"",
                Some("foo.html"),
            ),
            (
                "attachment; filename=\"foo-ae.html\"; filename*=UTF-8''foo-%c3%a4.html",
                Some("foo-ä.html"),
            ),
            (
                "attachment; filename*=UTF-8''foo-%c3%a4.html; filename=\"foo-ae.html\"",
                Some("foo-ä.html"),
            ),
            (
                "attachment; filename*=UTF-8''foo-%c3%a4-%e2%82%ac.html",
                Some("foo-ä-€.html"),
            ),
            (
                "attachment; filename*=iso-8859-1''foo-%E4.html",
                Some("foo-ä.html"),
            ),
            // An ext-value that does not decode is ignored in favour of `filename`.
            (
                "attachment; filename*=UTF-8''A%e4B; filename=fallback",
                Some("fallback"),
            ),
            (
                "attachment; filename*=bogus_charset''foo.html; filename=plain.html",
                Some("plain.html"),
            ),
            ("attachment; filename*=''foo.html", None),
            ("attachment; filename *=UTF-8''foo-%c3%a4.html", None),
            // RFC 2047 encoded words, decoded by both browsers.
            (
                "attachment; filename=\"=?ISO-8859-1?Q?foo-=E4.html?=\"",
                Some("foo-ä.html"),
            ),
            (
                "attachment; filename=\"=?UTF-8?B?5paH5Lu2LnR4dA==?=\"",
                Some("文件.txt"),
            ),
            (
                "attachment; filename=\"=?UTF-8?B?5oql5ZGKLmNzdg==?=\"",
                Some("报告.csv"),
            ),
            (
                "attachment; filename=\"=?GBK?Q?=CE=C4=BC=FE.txt?=\"",
                Some("文件.txt"),
            ),
            (
                "attachment; filename=\"=?UTF-8?Q?a?= =?UTF-8?Q?b.txt?=\"",
                Some("ab.txt"),
            ),
            (
                "attachment; filename=\"=?ISO-8859-1?Q?foo-=E4.html?=\"; filename*=UTF-8''5987",
                Some("5987"),
            ),
            // Percent sequences: decoded when that gives UTF-8 (Chrome).
            ("attachment; filename=\"foo-%41.html\"", Some("foo-A.html")),
            (
                "attachment; filename=\"%EC%98%88%EC%88%A0.jpg\"",
                Some("예술.jpg"),
            ),
            ("attachment; filename=\"50%.html\"", Some("50%.html")),
            // Quoting.
            ("attachment; filename=\"f\\oo.html\"", Some("foo.html")),
            (
                "attachment; filename=\"\\\"quoting\\\" tested.html\"",
                Some("\"quoting\" tested.html"),
            ),
            (
                "attachment; filename=\"Here's a semicolon;.html\"",
                Some("Here's a semicolon;.html"),
            ),
            ("attachment; filename=foo bar.html", Some("foo bar.html")),
            ("attachment; filename=\"bar", Some("bar")),
            ("attachment; name=\"foo.html\"", None),
            ("inline", None),
            ("attachment; filename=\"\"", None),
        ] {
            assert_eq!(text(value).as_deref(), expected, "{value}");
        }
    }

    #[test]
    fn raw_bytes_are_utf8_or_the_legacy_encoding() {
        assert_eq!(
            name(b"attachment; filename=\"foo-\xC3\xA4.html\"").as_deref(),
            Some("foo-ä.html")
        );
        // GBK for 报告: the Chinese window's (and LANG=zh_CN's) legacy encoding.
        let gbk = b"attachment; filename=\"\xB1\xA8\xB8\xE6.txt\"";
        assert_eq!(
            from_content_disposition(gbk, Some("GBK")).as_deref(),
            Some("报告.txt")
        );
        assert_eq!(
            from_content_disposition(gbk, Some("gb18030")).as_deref(),
            Some("报告.txt")
        );
        // Elsewhere windows-1252, as the WHATWG fallback: never a failure.
        assert_eq!(
            name(b"attachment; filename=caf\xe5.png").as_deref(),
            Some("cafå.png")
        );
        assert_eq!(
            from_content_disposition(b"attachment; filename=caf\xe5.png", Some("nonsense"))
                .as_deref(),
            Some("cafå.png")
        );
    }
}
