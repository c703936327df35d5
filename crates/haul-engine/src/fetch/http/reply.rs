//! Checking a reply against its request before a byte of it is trusted.
//!
//! Owns: what a reply's status and headers say its body is ([`Body`]), judged against the
//! request that was sent (RFC 9110 §14 and §15.3.7):
//! - a request for the whole file takes a `200`, or a `206` whose `Content-Range` covers the
//!   whole file; a `206` with less is a [`FetchError::ReplyMismatch`], never a file;
//! - a request for the rest (`Range: bytes=N-`) takes a `206` whose `Content-Range` starts at
//!   N, ends at the last byte, has the total already known, and whose framing length is the
//!   span and that carries no content coding; anything else is [`Body::Mismatch`] (ask again for the whole file), and a `416`
//!   with `Content-Range: bytes */N` (or `*/N`) says nothing is left only when N is both the
//!   bytes held and the total they belong to; a `416` to a request for the whole file (no
//!   range, or `bytes=0-`) is an error;
//! - a transfer coding the client cannot decode fails the item (RFC 9112 §6.1: only
//!   `chunked`, which hyper decodes, may be applied; `identity` is a no-op), as curl does
//!   (its exit 61), instead of saving encoded bytes as the file.
//!
//! Also `Retry-After` (seconds or an HTTP date), where an unfollowed redirect leads (raw
//! non-ASCII bytes in `Location` are percent-encoded byte by byte, as curl and Chrome do),
//! the name for a reply with nothing better, and a torrent's name (a reply of type
//! `application/x-bittorrent` is named `….torrent`, so it is followed as one).
//! Must not touch: the network, the disk.

use std::time::{Duration, SystemTime};

use percent_encoding::{AsciiSet, CONTROLS, percent_encode};
use reqwest::StatusCode;
use reqwest::header::{
    CONTENT_ENCODING, CONTENT_RANGE, CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER,
    TRANSFER_ENCODING,
};
use url::Url;

use super::errors::RedirectRefused;
use super::{Body, RETRY_AFTER_CAP, RangeFrom};
use crate::names;
use crate::protocol::FetchError;

/// A `Content-Range` value (RFC 9110 §14.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ContentRange {
    /// `bytes START-END/TOTAL`, with `START <= END < TOTAL`.
    Span { start: u64, end: u64, total: u64 },
    /// `bytes */TOTAL`, as a `416` carries it.
    Unsatisfied { total: u64 },
}

/// The reply's `Content-Range`, if it has a valid one. As Chrome reads it: the unit is
/// `bytes` in any case, spaces around `-` and `/` are allowed, an unknown total (`*`) or an
/// end at or past the total is invalid.
pub(super) fn content_range(headers: &HeaderMap) -> Option<ContentRange> {
    let value = headers.get(CONTENT_RANGE)?.to_str().ok()?.trim();
    // `*/100` without its unit, as some servers put it on a 416 (curl and wget2 read it).
    if let Some(total) = value.strip_prefix("*/") {
        return Some(ContentRange::Unsatisfied {
            total: total.trim().parse().ok()?,
        });
    }
    let (unit, rest) = value.split_once(' ')?;
    if !unit.eq_ignore_ascii_case("bytes") {
        return None;
    }
    let (span, total) = rest.split_once('/')?;
    let total: u64 = total.trim().parse().ok()?;
    if span.trim() == "*" {
        return Some(ContentRange::Unsatisfied { total });
    }
    let (start, end) = span.split_once('-')?;
    let (start, end): (u64, u64) = (start.trim().parse().ok()?, end.trim().parse().ok()?);
    (start <= end && end < total).then_some(ContentRange::Span { start, end, total })
}

/// What the body of a successful (2xx) or `416` reply is, judged against `range` (the rest
/// asked for, or `None` for the whole file). `framing` is the body's length as the HTTP
/// layer frames it (`Content-Length`; `None` when chunked or close-delimited). Returns the
/// body and the whole file's size, when known.
pub(super) fn body_of(
    status: StatusCode,
    headers: &HeaderMap,
    range: Option<&RangeFrom>,
    framing: Option<u64>,
) -> Result<(Body, Option<u64>), FetchError> {
    let cr = content_range(headers);
    // A 416 to a request that asked for no range, or for all of it (`bytes=0-`): the server
    // has nothing to give, which is an error, never an empty file.
    if status == StatusCode::RANGE_NOT_SATISFIABLE && range.is_none_or(|r| r.offset == 0) {
        return Err(FetchError::HttpStatus {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or_default().to_owned(),
        });
    }
    let Some(range) = range else {
        if status != StatusCode::PARTIAL_CONTENT {
            return Ok((Body::Full, framing));
        }
        return match cr {
            // A 206 that holds the whole file is the whole file.
            Some(ContentRange::Span { start: 0, end, total })
                if end + 1 == total && framing.is_none_or(|len| len == total) =>
            {
                Ok((Body::Full, Some(total)))
            }
            Some(ContentRange::Span { start, end, total }) => Err(FetchError::ReplyMismatch(
                format!("the server sent bytes {start}-{end} of {total} when the whole file was asked for"),
            )),
            _ => Err(FetchError::ReplyMismatch(
                "the server sent 206 Partial Content without a usable Content-Range when the whole file was asked for".to_owned(),
            )),
        };
    };
    let body = match (status, cr) {
        // Done only when the bytes held are exactly the total it names, and that total is the
        // one the kept bytes belong to (a 416 naming a shorter file is another file).
        (StatusCode::RANGE_NOT_SATISFIABLE, Some(ContentRange::Unsatisfied { total }))
            if total == range.offset && range.total.is_none_or(|t| t == total) =>
        {
            (Body::Complete, Some(total))
        }
        (StatusCode::RANGE_NOT_SATISFIABLE, _) => (Body::Mismatch, None),
        // A part of the file is the file's bytes only when no content coding was applied to
        // it (a compression layer may code a range reply even when the first reply was
        // plain); the `bytes=0-` that a new item starts with is the whole body, as a 200 is.
        (StatusCode::PARTIAL_CONTENT, Some(ContentRange::Span { .. }))
            if (range.offset > 0 || range.end.is_some()) && content_coded(headers) =>
        {
            (Body::Mismatch, None)
        }
        (StatusCode::PARTIAL_CONTENT, Some(ContentRange::Span { start, end, total }))
            if start == range.offset
                && Some(end) == range.end.or(total.checked_sub(1))
                && range.total.is_none_or(|t| t == total)
                && framing.is_none_or(|len| len == end - start + 1) =>
        {
            (Body::Rest, Some(total))
        }
        (StatusCode::PARTIAL_CONTENT, _) => (Body::Mismatch, None),
        // The server ignored the range (or the file changed): the whole file, from the start.
        _ => (Body::Full, framing),
    };
    Ok(body)
}

/// Whether the reply's body carries a content coding (`Content-Encoding` other than
/// `identity`): its bytes are not the file's as stored.
pub(crate) fn content_coded(headers: &HeaderMap) -> bool {
    headers.get_all(CONTENT_ENCODING).iter().any(|value| {
        String::from_utf8_lossy(value.as_bytes())
            .split(',')
            .map(str::trim)
            .any(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("identity"))
    })
}

/// Fails a reply whose transfer codings the client cannot undo: hyper decodes a final
/// `chunked` and nothing else, so `gzip, chunked` would hand over gzip bytes and `identityx`
/// raw bytes up to the close, both to be saved as the file.
pub(super) fn check_transfer_coding(headers: &HeaderMap) -> Result<(), FetchError> {
    let values: Vec<String> = headers
        .get_all(TRANSFER_ENCODING)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    if values.is_empty() {
        return Ok(());
    }
    let codings: Vec<String> = values
        .iter()
        .flat_map(|v| v.split(','))
        .map(|c| c.trim().to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    // `chunked` named twice (two header lines) is decoded once by hyper and by curl alike.
    let understood = codings.iter().all(|c| c == "chunked" || c == "identity")
        && codings
            .last()
            .is_none_or(|last| last == "chunked" || codings.iter().all(|c| c == "identity"));
    if understood {
        Ok(())
    } else {
        Err(FetchError::TransferCoding(values.join(", ")))
    }
}

/// `Retry-After` as seconds or an HTTP date, capped at [`RETRY_AFTER_CAP`].
pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = match value.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let at = httpdate::parse_http_date(value).ok()?;
            at.duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        }
    };
    Some(wait.min(RETRY_AFTER_CAP))
}

/// Bytes of a `Location` that are percent-encoded before it is resolved: controls, space and
/// (always, in `percent_encode`) every byte outside ASCII — curl's and Chrome's way with raw
/// UTF-8, GBK or Latin-1 bytes; `%` itself stays, so encoded locations are left as they are.
const LOCATION_ESCAPES: &AsciiSet = &CONTROLS.add(b' ');

/// Where a redirect that the HTTP layer handed back goes. reqwest follows every redirect
/// whose `Location` is UTF-8 and resolves; what reaches here is a `Location` with raw bytes
/// (followed once percent-encoded), one that cannot be resolved, a redirect without a
/// `Location`, or a 3xx that is not a redirect to follow (`300`, `304`): each with its reason.
pub(super) fn redirect_target(
    status: StatusCode,
    headers: &HeaderMap,
    from: &Url,
) -> Result<Url, RedirectRefused> {
    let followable = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
    if !followable {
        return Err(RedirectRefused::NotFollowable(status.to_string()));
    }
    let Some(location) = headers.get(LOCATION) else {
        return Err(RedirectRefused::NoLocation(status.to_string()));
    };
    let text = percent_encode(location.as_bytes(), LOCATION_ESCAPES).to_string();
    let next = from
        .join(text.trim())
        .map_err(|_| RedirectRefused::BadLocation(text.clone()))?;
    if !matches!(next.scheme(), "http" | "https") {
        return Err(RedirectRefused::Scheme(next.scheme().to_owned()));
    }
    Ok(next)
}

/// The name for a reply that suggests none and whose URL has no usable path segment.
pub(super) fn fallback_name(headers: &HeaderMap) -> String {
    let html = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html {
        "index.html".to_owned()
    } else {
        names::FALLBACK_NAME.to_owned()
    }
}

/// The name of a reply whose type says it is a torrent (`application/x-bittorrent`) ends in
/// `.torrent` (`get` from `/get?id=3` becomes `get.torrent`), as browsers give a typed reply
/// its extension: the job then follows it as a torrent (unless `follow-torrent=false`), and
/// the file kept is one the system opens as a torrent. Any other reply's name is as it was.
pub(super) fn torrent_name(name: String, headers: &HeaderMap) -> String {
    let torrent = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/x-bittorrent"));
    if torrent && !name.to_ascii_lowercase().ends_with(".torrent") {
        names::sanitize(&format!("{name}.torrent"))
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn a_reply_typed_as_a_torrent_is_named_as_one() {
        let typed = headers(&[("content-type", b"Application/X-BitTorrent; charset=binary")]);
        assert_eq!(torrent_name("get".to_owned(), &typed), "get.torrent");
        assert_eq!(torrent_name("a.TORRENT".to_owned(), &typed), "a.TORRENT");
        let other = headers(&[("content-type", b"application/octet-stream")]);
        assert_eq!(torrent_name("get".to_owned(), &other), "get");
        assert_eq!(torrent_name("get".to_owned(), &HeaderMap::new()), "get");
    }

    fn headers(pairs: &[(&'static str, &[u8])]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_bytes(value).expect("header value"));
        }
        map
    }

    fn rest(offset: u64, total: Option<u64>) -> RangeFrom {
        RangeFrom {
            end: None,
            offset,
            validator: None,
            total,
        }
    }

    #[test]
    fn content_ranges_are_read_as_chrome_reads_them() {
        let cr = |v: &'static str| content_range(&headers(&[("content-range", v.as_bytes())]));
        let span = |start, end, total| Some(ContentRange::Span { start, end, total });
        assert_eq!(cr("bytes 0-99/100"), span(0, 99, 100));
        assert_eq!(cr("Bytes 0 - 50 / 51"), span(0, 50, 51));
        assert_eq!(
            cr("bytes */87"),
            Some(ContentRange::Unsatisfied { total: 87 })
        );
        assert_eq!(cr("*/100"), Some(ContentRange::Unsatisfied { total: 100 }));
        for bad in [
            "bytes 0-50/10",
            "bytes 50-0/51",
            "bytes 0-50/*",
            "0-50/51",
            "bytes=0-50/51",
            "bytes 0-100/100",
            "*/x",
            "bytes 1-/100",
        ] {
            assert_eq!(cr(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_partial_reply_to_a_request_for_the_whole_file_is_never_the_file() {
        let part = headers(&[("content-range", b"bytes 0-99/1000")]);
        let error = body_of(StatusCode::PARTIAL_CONTENT, &part, None, Some(100));
        assert!(
            matches!(error, Err(FetchError::ReplyMismatch(ref m)) if m.contains("0-99 of 1000")),
            "{error:?}"
        );
        let bare = body_of(
            StatusCode::PARTIAL_CONTENT,
            &HeaderMap::new(),
            None,
            Some(100),
        );
        assert!(matches!(bare, Err(FetchError::ReplyMismatch(_))));
        let whole = headers(&[("content-range", b"bytes 0-999/1000")]);
        assert_eq!(
            body_of(StatusCode::PARTIAL_CONTENT, &whole, None, Some(1000)),
            Ok((Body::Full, Some(1000)))
        );
        assert_eq!(
            body_of(StatusCode::PARTIAL_CONTENT, &whole, None, Some(10)).ok(),
            None,
            "framing shorter than the range"
        );
        assert_eq!(
            body_of(StatusCode::OK, &part, None, Some(5)),
            Ok((Body::Full, Some(5))),
            "Content-Range means nothing on a 200"
        );
    }

    #[test]
    fn the_rest_must_be_exactly_the_rest() {
        let reply = |v: &'static str| headers(&[("content-range", v.as_bytes())]);
        let ok = body_of(
            StatusCode::PARTIAL_CONTENT,
            &reply("bytes 40-99/100"),
            Some(&rest(40, Some(100))),
            Some(60),
        );
        assert_eq!(ok, Ok((Body::Rest, Some(100))));
        for (cr, framing, known) in [
            ("bytes 0-99/100", Some(100), Some(100)), // starts before the offset (a cache's block)
            ("bytes 41-99/100", Some(59), Some(100)), // starts after it
            ("bytes 40-59/100", Some(20), Some(100)), // stops short of the end
            ("bytes 40-100/101", Some(61), Some(100)), // another total: another file
            ("bytes 40-99/100", Some(50), Some(100)), // framing disagrees with the span
        ] {
            let got = body_of(
                StatusCode::PARTIAL_CONTENT,
                &reply(cr),
                Some(&rest(40, known)),
                framing,
            );
            assert_eq!(got, Ok((Body::Mismatch, None)), "{cr} framed {framing:?}");
        }
        let done = body_of(
            StatusCode::RANGE_NOT_SATISFIABLE,
            &reply("bytes */40"),
            Some(&rest(40, None)),
            Some(0),
        );
        assert_eq!(done, Ok((Body::Complete, Some(40))));
        for (cr, known) in [
            ("bytes */2", None),
            ("bytes 0-1/40", None),
            ("*/40", Some(100)),
        ] {
            let got = body_of(
                StatusCode::RANGE_NOT_SATISFIABLE,
                &reply(cr),
                Some(&rest(40, known)),
                Some(0),
            );
            assert_eq!(got, Ok((Body::Mismatch, None)), "{cr}");
        }
        let unitless = body_of(
            StatusCode::RANGE_NOT_SATISFIABLE,
            &reply("*/40"),
            Some(&rest(40, Some(40))),
            Some(0),
        );
        assert_eq!(unitless, Ok((Body::Complete, Some(40))));
        for range in [None, Some(rest(0, None))] {
            let got = body_of(
                StatusCode::RANGE_NOT_SATISFIABLE,
                &reply("bytes */0"),
                range.as_ref(),
                Some(0),
            );
            assert!(
                matches!(got, Err(FetchError::HttpStatus { status: 416, .. })),
                "{range:?}: {got:?}"
            );
        }
        let ignored = body_of(
            StatusCode::OK,
            &HeaderMap::new(),
            Some(&rest(40, Some(100))),
            Some(100),
        );
        assert_eq!(ignored, Ok((Body::Full, Some(100))));
    }

    /// A split download's segment asks for a bounded range; only that range is the rest.
    #[test]
    fn a_segment_must_be_exactly_the_range_asked_for() {
        let reply = |v: &'static str| headers(&[("content-range", v.as_bytes())]);
        let segment = RangeFrom {
            end: Some(59),
            ..rest(40, Some(100))
        };
        let ok = body_of(
            StatusCode::PARTIAL_CONTENT,
            &reply("bytes 40-59/100"),
            Some(&segment),
            Some(20),
        );
        assert_eq!(ok, Ok((Body::Rest, Some(100))));
        for (cr, framing) in [
            ("bytes 40-99/100", Some(60)), // the rest of the file, not the segment
            ("bytes 40-58/100", Some(19)), // one byte short
            ("bytes 40-59/101", Some(20)), // another file
        ] {
            let got = body_of(
                StatusCode::PARTIAL_CONTENT,
                &reply(cr),
                Some(&segment),
                framing,
            );
            assert_eq!(got, Ok((Body::Mismatch, None)), "{cr}");
        }
    }

    #[test]
    fn only_chunked_transfer_coding_is_accepted() {
        let te = |values: &[&'static str]| {
            let mut map = HeaderMap::new();
            for v in values {
                map.append(TRANSFER_ENCODING, HeaderValue::from_static(v));
            }
            check_transfer_coding(&map)
        };
        assert_eq!(te(&[]), Ok(()));
        for good in [
            &["chunked"][..],
            &["Chunked"],
            &["identity, chunked"],
            &["identity"],
            &["chunked", "chunked"],
        ] {
            assert_eq!(te(good), Ok(()), "{good:?}");
        }
        for bad in [
            &["identityx"][..],
            &["gzip, chunked"],
            &["chunked, gzip"],
            &["chunked, identity"],
            &["chunked, another"],
            &["gzip"],
        ] {
            assert!(
                matches!(te(bad), Err(FetchError::TransferCoding(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn redirects_the_http_layer_left_are_resolved_or_explained() {
        let from = Url::parse("http://h/we/are/all/twits/1138").expect("url");
        let loc = |v: &[u8]| headers(&[("location", v)]);
        let next = redirect_target(StatusCode::FOUND, &loc(b"/d/\xB1\xA8\xB8\xE6.txt"), &from);
        assert_eq!(
            next.map(|u| u.to_string()).ok().as_deref(),
            Some("http://h/d/%B1%A8%B8%E6.txt")
        );
        let next = redirect_target(
            StatusCode::FOUND,
            &loc("../moo.html/?name=آغا".as_bytes()),
            &from,
        );
        assert_eq!(
            next.map(|u| u.to_string()).ok().as_deref(),
            Some("http://h/we/are/all/moo.html/?name=%D8%A2%D8%BA%D8%A7")
        );
        let next = redirect_target(StatusCode::SEE_OTHER, &loc(b"/a b/c d.txt"), &from);
        assert_eq!(
            next.map(|u| u.to_string()).ok().as_deref(),
            Some("http://h/a%20b/c%20d.txt")
        );
        assert!(matches!(
            redirect_target(StatusCode::FOUND, &HeaderMap::new(), &from),
            Err(RedirectRefused::NoLocation(_))
        ));
        assert!(matches!(
            redirect_target(StatusCode::MULTIPLE_CHOICES, &loc(b"/x"), &from),
            Err(RedirectRefused::NotFollowable(_))
        ));
        assert!(matches!(
            redirect_target(StatusCode::FOUND, &loc(b"ftp://h/x"), &from),
            Err(RedirectRefused::Scheme(_))
        ));
        let text = RedirectRefused::NoLocation(StatusCode::FOUND.to_string()).to_string();
        assert_eq!(
            text,
            "the server replied 302 Found without a Location to follow"
        );
    }
}
