//! A stream's subtitles renditions (`--sub-langs`), each saved beside its file as
//! `NAME.LANG.vtt`: the rendition's WebVTT segments, held like any other (`held`), joined in
//! order into one WebVTT file — the first segment's header (`WEBVTT`, with its
//! `X-TIMESTAMP-MAP` when given) once, then every segment's cues — through a `.part` created
//! exclusively and committed as every file is. HLS's renditions and DASH's text adaptation
//! sets come here alike. A rendition that is not WebVTT — known so from its manifest (TTML,
//! WebVTT in MP4: not fetched), or found so in its bytes (a segment that does not start with
//! `WEBVTT`: not saved) — is refused with one sentence ([`refuse`]); the video is saved
//! without it and the item completes. A live recording starts in the middle of its stream:
//! its subtitles are timed from its first frame (the first video segment's earliest MPEG-TS
//! PTS, each segment's cues moved by its `X-TIMESTAMP-MAP`, RFC 8216 §3.5), so they play with
//! the file; when its video is not MPEG-TS they cannot be, and are refused.
//! Must not touch: the network, the merged file (`merge`).

use std::path::Path;

use super::Plan;
use super::held::Held;
use crate::fetch::Stop;
use crate::item::{Job, blocking, part_args};
use crate::output::{Committed, PartFile};
use crate::protocol::FetchError;

/// Saves each subtitles track of `plan` beside `video` (the committed file).
pub(crate) async fn save(
    job: &Job,
    plan: &Plan,
    held: &Held,
    video: &Path,
) -> Result<Vec<Committed>, Stop> {
    let stem = video
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    // A live recording's first video segment: its subtitles are timed from it.
    let first = plan.live.as_ref().and_then(|_| {
        let video = plan.tracks.first()?;
        let i = (0..video.segments.len()).find(|&i| !video.segments[i].init && held.has(0, i))?;
        Some(held.path(0, i))
    });
    let mut saved = Vec::new();
    for (t, track) in plan.tracks.iter().enumerate() {
        let Some(lang) = &track.subtitles else {
            continue;
        };
        let segments: Vec<_> = (0..track.segments.len())
            .filter(|&i| held.has(t, i))
            .map(|i| held.path(t, i))
            .collect();
        let (names, dest, overwrite) = part_args(job);
        let name = format!("{stem}.{lang}.vtt");
        let lang = lang.clone();
        let first = first.clone();
        let live = plan.live.is_some();
        let committed = blocking(move || {
            let mut texts: Vec<String> = Vec::with_capacity(segments.len());
            for path in &segments {
                let bytes = std::fs::read(path).map_err(|e| FetchError::Read {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                texts.push(String::from_utf8_lossy(&bytes).into_owned());
            }
            if live {
                let start = match &first {
                    Some(path) => std::fs::read(path)
                        .map_err(|e| FetchError::Read {
                            path: path.clone(),
                            message: e.to_string(),
                        })
                        .map(|bytes| ts_start(&bytes))?,
                    None => None,
                };
                let Some(start) = start else {
                    refuse(
                        &lang,
                        "the recording's video is not MPEG-TS, so they cannot be timed to it",
                    );
                    return Ok(None);
                };
                texts = texts.iter().map(|text| retime(text, start)).collect();
            }
            let Some(joined) = join(&texts) else {
                refuse(&lang, "they are not WebVTT");
                return Ok(None);
            };
            let mut part = PartFile::create(&names, &dest, &name, overwrite)?;
            part.write(joined.as_bytes())?;
            Ok(Some(part.commit(None)?))
        })
        .await?;
        saved.extend(committed);
    }
    Ok(saved)
}

/// Says that the subtitles in `lang` are not saved, and `why`.
pub(super) fn refuse(lang: &str, why: &str) {
    tracing::warn!("the '{lang}' subtitles are not saved: {why}; the video is saved without them");
}

/// The earliest PTS (90 kHz) of the PES packets in MPEG-TS bytes (ISO/IEC 13818-1 §2.4.3.6);
/// `None` when they are not MPEG-TS or carry none.
fn ts_start(bytes: &[u8]) -> Option<u64> {
    const PACKET: usize = 188;
    if bytes.len() < PACKET || bytes[0] != 0x47 {
        return None;
    }
    let mut earliest: Option<u64> = None;
    for packet in bytes.chunks_exact(PACKET) {
        if packet[0] != 0x47 {
            return None;
        }
        let unit_start = packet[1] & 0x40 != 0;
        let control = (packet[3] >> 4) & 0x3;
        if !unit_start || control & 0x1 == 0 {
            continue;
        }
        let at = if control & 0x2 != 0 {
            5 + usize::from(packet[4])
        } else {
            4
        };
        let Some(pes) = packet.get(at..at + 14) else {
            continue;
        };
        // A PES packet's start code, with a PTS (its flags' first bit).
        if pes[..3] != [0, 0, 1] || pes[7] & 0x80 == 0 {
            continue;
        }
        let p: Vec<u64> = pes[9..14].iter().map(|&b| u64::from(b)).collect();
        let pts =
            ((p[0] >> 1) & 0x7) << 30 | p[1] << 22 | (p[2] >> 1) << 15 | p[3] << 7 | p[4] >> 1;
        earliest = Some(earliest.map_or(pts, |e| e.min(pts)));
    }
    earliest
}

/// A live WebVTT segment timed from `start` (the recording's first PTS): each cue moved by
/// the segment's `X-TIMESTAMP-MAP` (none: WebVTT time 0 is PTS 0), the map left out, the
/// cues that ended before the recording began left out.
fn retime(text: &str, start: u64) -> String {
    let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
    let (header, cues) = text.split_once("\n\n").unwrap_or((&text, ""));
    let (mut mpegts, mut local) = (0i64, 0i64);
    let mut kept: Vec<&str> = Vec::new();
    for line in header.lines() {
        let Some(map) = line.strip_prefix("X-TIMESTAMP-MAP=") else {
            kept.push(line);
            continue;
        };
        for part in map.split(',') {
            if let Some(value) = part.trim().strip_prefix("MPEGTS:") {
                mpegts = value.trim().parse().unwrap_or(0);
            } else if let Some(value) = part.trim().strip_prefix("LOCAL:") {
                local = millis(value).unwrap_or(0);
            }
        }
    }
    // PTS are 33 bits and wrap: the nearer way round.
    const WRAP: i64 = 1 << 33;
    let ticks = (mpegts - start as i64).rem_euclid(WRAP);
    let ticks = if ticks >= WRAP / 2 {
        ticks - WRAP
    } else {
        ticks
    };
    let shift = ticks.div_euclid(90) - local;
    let mut out = kept.join("\n");
    for block in cues.split("\n\n") {
        let block = block.trim_matches('\n');
        if block.is_empty() {
            continue;
        }
        let mut lines: Vec<String> = block.lines().map(str::to_owned).collect();
        if let Some(timing) = lines.iter_mut().find(|l| l.contains("-->")) {
            let Some(moved) = moved(timing, shift) else {
                continue;
            };
            *timing = moved;
        }
        out.push_str("\n\n");
        out.push_str(&lines.join("\n"));
    }
    out.push('\n');
    out
}

/// A cue's timing line (`START --> END settings`) moved by `shift` milliseconds; `None` when
/// the cue ends before 0 (or the line cannot be read).
fn moved(timing: &str, shift: i64) -> Option<String> {
    let (from, rest) = timing.split_once("-->")?;
    let rest = rest.trim_start();
    let (to, settings) = rest.split_once([' ', '\t']).unwrap_or((rest, ""));
    let (from, to) = (millis(from)? + shift, millis(to)? + shift);
    if to <= 0 {
        return None;
    }
    let settings = if settings.is_empty() {
        String::new()
    } else {
        format!(" {}", settings.trim())
    };
    Some(format!(
        "{} --> {}{settings}",
        stamp(from.max(0)),
        stamp(to)
    ))
}

/// A WebVTT timestamp (`hh:mm:ss.ttt` or `mm:ss.ttt`) in milliseconds.
fn millis(text: &str) -> Option<i64> {
    let (clock, fraction) = text.trim().split_once('.')?;
    let parts: Vec<i64> = clock
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    if !(2..=3).contains(&parts.len()) || fraction.len() != 3 {
        return None;
    }
    let seconds = parts.iter().fold(0, |all, p| all * 60 + p);
    Some(seconds * 1000 + fraction.parse::<i64>().ok()?)
}

/// Milliseconds as a WebVTT timestamp, `hh:mm:ss.ttt`.
fn stamp(ms: i64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// WebVTT segments joined into one file: the first one whole, the cues of the others (their
/// header block, up to the first blank line, left out). `None` when one is not WebVTT.
fn join(segments: &[String]) -> Option<String> {
    let mut out = String::new();
    for (i, text) in segments.iter().enumerate() {
        let text = text.trim_start_matches('\u{feff}').replace("\r\n", "\n");
        // The signature: `WEBVTT`, alone on its line or followed by a space or a tab.
        let signed = text
            .strip_prefix("WEBVTT")
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\n']));
        if !signed {
            return None;
        }
        let body = if i == 0 {
            text.as_str()
        } else {
            text.split_once("\n\n").map_or("", |(_, cues)| cues)
        };
        let body = body.trim_matches('\n');
        if body.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(body);
    }
    out.push('\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn segments_join_under_one_header() {
        let a = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n\
                 00:00:00.000 --> 00:00:01.000\nOne\n";
        let b = "\u{feff}WEBVTT\r\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\r\n\r\n\
                 00:00:01.000 --> 00:00:02.000\r\nTwo\r\n\r\n00:00:02.000 --> 00:00:03.000\r\nThree\r\n";
        let empty = "WEBVTT\n";
        let joined = join(&[a.into(), empty.into(), b.into()]).expect("WebVTT");
        assert_eq!(
            joined,
            "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n\
             00:00:00.000 --> 00:00:01.000\nOne\n\n\
             00:00:01.000 --> 00:00:02.000\nTwo\n\n00:00:02.000 --> 00:00:03.000\nThree\n"
        );
        assert_eq!(join(&[a.into(), "<tt xmlns=\"ttml\"/>".into()]), None);
    }

    #[test]
    fn a_live_segment_is_timed_from_the_recordings_start() {
        // The recording starts at PTS 900000 (10 s); this segment's 0 is PTS 990000 (11 s).
        let segment = "WEBVTT\nX-TIMESTAMP-MAP=LOCAL:00:00:00.000,MPEGTS:990000\n\n\
                       00:00.000 --> 00:00.500 line:0\nOne\n\nNOTE kept\n\n\
                       01:00:00.000 --> 01:00:01.000\nTwo\n";
        assert_eq!(
            super::retime(segment, 900_000),
            "WEBVTT\n\n00:00:01.000 --> 00:00:01.500 line:0\nOne\n\nNOTE kept\n\n\
             01:00:01.000 --> 01:00:02.000\nTwo\n"
        );
        // Cues over before the start are left out; one that runs over it starts at 0.
        let early = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:810000,LOCAL:00:00:00.000\n\n\
                     00:00:00.000 --> 00:00:00.500\nGone\n\n00:00:00.500 --> 00:00:01.500\nHalf\n";
        assert_eq!(
            super::retime(early, 900_000),
            "WEBVTT\n\n00:00:00.000 --> 00:00:00.500\nHalf\n"
        );
        assert_eq!(super::ts_start(b"WEBVTT"), None);
    }
}
