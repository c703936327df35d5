//! A stream's subtitles renditions (`--sub-langs`), each saved beside its file as
//! `NAME.LANG.vtt`: the rendition's WebVTT segments, held like any other (`held`), joined in
//! order into one WebVTT file — the first segment's header (`WEBVTT`, with its
//! `X-TIMESTAMP-MAP` when given) once, then every segment's cues — through a `.part` created
//! exclusively and committed as every file is. HLS's renditions and DASH's text adaptation
//! sets come here alike. A rendition that is not WebVTT — known so from its manifest (TTML,
//! WebVTT in MP4: not fetched), or found so in its bytes (a segment that does not start with
//! `WEBVTT`: not saved) — is refused with one sentence ([`refuse`]); the video is saved
//! without it and the item completes.
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
        let committed = blocking(move || {
            let mut texts = Vec::with_capacity(segments.len());
            for path in &segments {
                let bytes = std::fs::read(path).map_err(|e| FetchError::Read {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                texts.push(String::from_utf8_lossy(&bytes).into_owned());
            }
            let Some(joined) = join(&texts) else {
                refuse(&lang, "not WebVTT");
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

/// Says that the subtitles in `lang` are `form` (not WebVTT), so they are not saved.
pub(super) fn refuse(lang: &str, form: &str) {
    tracing::warn!(
        "the '{lang}' subtitles are {form}, which Haul does not save (only WebVTT): the video \
         is saved without them"
    );
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
}
