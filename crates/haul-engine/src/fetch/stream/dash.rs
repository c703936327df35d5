//! DASH manifests (static, on-demand) read with dash-mpd's parser (`dash-mpd-core`) into a
//! [`Plan`]: the video representation the item's quality asks for and the best audio one,
//! each as its segments in play order (its init segment first): `SegmentTemplate` with
//! `$Number$` or `$Time$` (with or without a `SegmentTimeline`), `SegmentList`, and
//! `SegmentBase` (the whole file as one segment). `BaseURL`s are followed from the manifest
//! down to the representation. The text adaptation sets asked for (`--sub-langs`, by their
//! `lang`) become subtitles tracks, after the media: a WebVTT file (`text/vtt`) by its
//! `BaseURL`, or WebVTT segments by `SegmentTemplate`/`SegmentList`; TTML (`stpp`) and WebVTT
//! in fMP4 (`wvtt`) are refused with a sentence and not fetched. A manifest with
//! `ContentProtection` on what would be fetched is refused (DRM), and so is a live one
//! (`type="dynamic"`).
//! Must not touch: fetching (`segments`), the disk.

use dash_mpd_core::{AdaptationSet, Period, Representation, SegmentTemplate};
use url::Url;

use super::{Plan, Segment, Track, resolve, subtitles};
use crate::fetch::Stop;
use crate::protocol::{FetchError, Quality, SubLangs, Variant};

fn refused(text: String) -> Stop {
    Stop::Failed(FetchError::Stream(text))
}

/// The plan for the manifest `body` fetched from `base`, with the subtitles `asked` for.
pub(super) fn plan(
    base: &Url,
    body: &[u8],
    quality: Quality,
    asked: &SubLangs,
) -> Result<Plan, Stop> {
    let text = String::from_utf8_lossy(body);
    let mpd = dash_mpd_core::parse(&text)
        .map_err(|e| refused(format!("this is not a DASH manifest that can be read: {e}")))?;
    if mpd.mpdtype.as_deref() == Some("dynamic") {
        return Err(refused(
            "this is a live DASH stream (type=\"dynamic\"); recording live streams is not \
             supported yet"
                .to_owned(),
        ));
    }
    if !mpd.ContentProtection.is_empty() {
        return Err(drm());
    }
    let root = join_bases(base, mpd.base_url.iter().map(|b| b.base.as_str()))?;
    let mut video = Track::default();
    let mut audio = Track::default();
    let mut texts: Vec<Track> = Vec::new();
    let mut refused_langs: Vec<String> = Vec::new();
    let mut shown = None;
    for period in &mpd.periods {
        let duration = period.duration.or(mpd.mediaPresentationDuration);
        let base = join_bases(&root, period.BaseURL.iter().map(|b| b.base.as_str()))?;
        let pick = |kind: &str, q: Quality| choose(period, kind, q);
        if let Some((set, rep)) = pick("video", quality) {
            shown.get_or_insert_with(|| describe(rep));
            add(&mut video, &base, period, set, rep, duration)?;
        }
        let audio_quality = if quality == Quality::Worst {
            Quality::Worst
        } else {
            Quality::Best
        };
        if let Some((set, rep)) = pick("audio", audio_quality) {
            add(&mut audio, &base, period, set, rep, duration)?;
        }
        for (lang, set, rep) in texts_of(period, asked) {
            if let Some(form) = not_webvtt(set, rep) {
                if !refused_langs.contains(&lang) {
                    subtitles::refuse(
                        &lang,
                        &format!("they are {form}, and Haul saves WebVTT text only"),
                    );
                    refused_langs.push(lang);
                }
                continue;
            }
            let at = match texts
                .iter()
                .position(|t| t.subtitles.as_ref() == Some(&lang))
            {
                Some(at) => at,
                None => {
                    texts.push(Track {
                        subtitles: Some(lang),
                        ..Track::default()
                    });
                    texts.len() - 1
                }
            };
            add(&mut texts[at], &base, period, set, rep, duration)?;
            texts[at].fmp4 = false;
        }
    }
    let mut tracks: Vec<Track> = [video, audio]
        .into_iter()
        .filter(|t| !t.segments.is_empty())
        .collect();
    if tracks.is_empty() {
        return Err(refused(
            "the DASH manifest offers no video or audio to fetch".to_owned(),
        ));
    }
    tracks.extend(texts.into_iter().filter(|t| !t.segments.is_empty()));
    for track in &mut tracks {
        track.playlist = base.to_string() + "#" + &track.playlist;
    }
    let mut reps: Vec<&Representation> = mpd
        .periods
        .first()
        .into_iter()
        .flat_map(|p| &p.adaptations)
        .flat_map(|set| set.representations.iter().map(move |rep| (set, rep)))
        .filter(|(set, rep)| is_kind(set, rep, "video"))
        .map(|(_, rep)| rep)
        .collect();
    reps.sort_by_key(|rep| std::cmp::Reverse(rep.bandwidth));
    let variants = reps
        .into_iter()
        .filter_map(|rep| {
            Some(Variant {
                label: describe(rep),
                quality: Quality::Bandwidth(rep.bandwidth?),
            })
        })
        .collect();
    Ok(Plan {
        tracks,
        quality: shown,
        live: None,
        variants,
    })
}

fn drm() -> Stop {
    refused(
        "this stream is protected (ContentProtection: DRM): Haul saves only streams in the \
         clear, never DRM-protected ones"
            .to_owned(),
    )
}

/// Whether an adaptation set (or its representation) holds `kind` (`video`, `audio`).
fn is_kind(set: &AdaptationSet, rep: &Representation, kind: &str) -> bool {
    let named = |t: Option<&String>| t.is_some_and(|t| t.starts_with(kind));
    named(set.contentType.as_ref())
        || named(set.mimeType.as_ref())
        || named(rep.contentType.as_ref())
        || named(rep.mimeType.as_ref())
}

/// The text adaptation sets of a period (`contentType="text"`, a `text/…` or TTML type, or
/// `stpp`/`wvtt` in MP4) that `asked` wants, by their `lang` (`und` when they name none):
/// each one's language and its first representation; one set for each language.
fn texts_of<'a>(
    period: &'a Period,
    asked: &SubLangs,
) -> Vec<(String, &'a AdaptationSet, &'a Representation)> {
    let mut found: Vec<(String, &AdaptationSet, &Representation)> = Vec::new();
    for set in &period.adaptations {
        let Some(rep) = set.representations.first() else {
            continue;
        };
        let (mime, codecs) = form_of(set, rep);
        let text = is_kind(set, rep, "text")
            || mime.contains("ttml")
            || ["stpp", "wvtt"].iter().any(|c| codecs.starts_with(c));
        if !text || !asked.wants(set.lang.as_deref()) {
            continue;
        }
        let lang = set.lang.clone().unwrap_or_else(|| "und".to_owned());
        if !found.iter().any(|(l, _, _)| *l == lang) {
            found.push((lang, set, rep));
        }
    }
    found
}

/// A representation's MIME type and codecs (its own, else its set's), lower case.
fn form_of(set: &AdaptationSet, rep: &Representation) -> (String, String) {
    let lower = |a: &Option<String>, b: &Option<String>| {
        a.as_ref()
            .or(b.as_ref())
            .map(|t| t.trim().to_ascii_lowercase())
            .unwrap_or_default()
    };
    (
        lower(&rep.mimeType, &set.mimeType),
        lower(&rep.codecs, &set.codecs),
    )
}

/// What a text representation is, for people, when it is not WebVTT in its own files
/// (`text/vtt`, or no type at all: the fetched text is checked for its `WEBVTT` signature).
fn not_webvtt(set: &AdaptationSet, rep: &Representation) -> Option<String> {
    let (mime, codecs) = form_of(set, rep);
    if mime == "text/vtt" || (mime.is_empty() && codecs.is_empty()) {
        return None;
    }
    Some(if codecs.starts_with("stpp") {
        "TTML in MP4 (stpp)".to_owned()
    } else if mime.contains("ttml") {
        "TTML".to_owned()
    } else if codecs.starts_with("wvtt") {
        "WebVTT in MP4 (wvtt)".to_owned()
    } else {
        format!("'{mime}'")
    })
}

/// The representation of `kind` that `quality` asks for.
fn choose<'a>(
    period: &'a Period,
    kind: &str,
    quality: Quality,
) -> Option<(&'a AdaptationSet, &'a Representation)> {
    let all: Vec<(&AdaptationSet, &Representation)> = period
        .adaptations
        .iter()
        .flat_map(|set| set.representations.iter().map(move |rep| (set, rep)))
        .filter(|(set, rep)| is_kind(set, rep, kind))
        .collect();
    let rate = |(_, rep): &&(&AdaptationSet, &Representation)| rep.bandwidth.unwrap_or(0);
    let height = |rep: &Representation| rep.height.unwrap_or(0);
    let found = match quality {
        Quality::Best => all.iter().max_by_key(rate),
        Quality::Worst => all.iter().min_by_key(rate),
        Quality::Height(most) => all
            .iter()
            .filter(|(_, rep)| height(rep) <= most)
            .max_by_key(|(_, rep)| (height(rep), rep.bandwidth))
            .or_else(|| {
                all.iter()
                    .min_by_key(|(_, rep)| (height(rep), rep.bandwidth))
            }),
        Quality::Bandwidth(most) => all
            .iter()
            .filter(|(_, rep)| rep.bandwidth.unwrap_or(0) <= most)
            .max_by_key(rate)
            .or_else(|| all.iter().min_by_key(rate)),
    };
    found.copied()
}

/// A representation as people read it: "1280x720, 2.1 Mbit/s, avc1.64001f".
fn describe(rep: &Representation) -> String {
    let mut parts = Vec::new();
    if let (Some(w), Some(h)) = (rep.width, rep.height) {
        parts.push(format!("{w}x{h}"));
    }
    if let Some(bandwidth) = rep.bandwidth {
        parts.push(format!("{:.1} Mbit/s", bandwidth as f64 / 1e6));
    }
    if let Some(codecs) = &rep.codecs {
        parts.push(codecs.clone());
    }
    parts.join(", ")
}

/// Joins nested `BaseURL`s (the first of each level) onto `base`.
fn join_bases<'a>(base: &Url, bases: impl Iterator<Item = &'a str>) -> Result<Url, Stop> {
    let mut bases = bases;
    match bases.next() {
        Some(next) if !next.trim().is_empty() => resolve(base, next),
        _ => Ok(base.clone()),
    }
}

/// A `SegmentTemplate` with what it inherits from the levels above it.
#[derive(Default)]
struct Template<'a> {
    media: Option<&'a str>,
    init: Option<&'a str>,
    start: Option<u64>,
    timescale: Option<u64>,
    duration: Option<f64>,
    timeline: Option<&'a dash_mpd_core::SegmentTimeline>,
}

impl<'a> Template<'a> {
    fn over(mut self, t: Option<&'a SegmentTemplate>) -> Self {
        if let Some(t) = t {
            self.media = t.media.as_deref().or(self.media);
            self.init = t.initialization.as_deref().or(self.init);
            self.start = t.startNumber.or(self.start);
            self.timescale = t.timescale.or(self.timescale);
            self.duration = t.duration.or(self.duration);
            self.timeline = t.SegmentTimeline.as_ref().or(self.timeline);
        }
        self
    }
}

/// Adds a representation's segments (in one period) to `track`.
fn add(
    track: &mut Track,
    base: &Url,
    period: &Period,
    set: &AdaptationSet,
    rep: &Representation,
    duration: Option<std::time::Duration>,
) -> Result<(), Stop> {
    if !set.ContentProtection.is_empty()
        || !rep.ContentProtection.is_empty()
        || !period.ContentProtection.is_empty()
    {
        return Err(drm());
    }
    let base = join_bases(base, set.BaseURL.iter().map(|b| b.base.as_str()))?;
    let base = join_bases(&base, rep.BaseURL.iter().map(|b| b.base.as_str()))?;
    if track.playlist.is_empty() {
        track.playlist = rep.id.clone().unwrap_or_default();
    }
    track.fmp4 = true;
    let id = rep.id.as_deref().unwrap_or_default();
    let bandwidth = rep.bandwidth.unwrap_or(0);
    let template = Template::default()
        .over(period.SegmentTemplate.as_ref())
        .over(set.SegmentTemplate.as_ref())
        .over(rep.SegmentTemplate.as_ref());
    let mut push = |url: Url, range: Option<(u64, u64)>| {
        let number = track.segments.len() as u64;
        track.segments.push(Segment {
            url,
            range,
            key: None,
            number,
            init: false,
        });
    };
    if let Some(media) = template.media {
        if let Some(init) = template.init {
            push(resolve(&base, &fill(init, id, 0, 0, bandwidth))?, None);
        }
        let start = template.start.unwrap_or(1);
        let timescale = template.timescale.unwrap_or(1).max(1);
        if let Some(timeline) = template.timeline {
            let end = duration.map(|d| (d.as_secs_f64() * timescale as f64) as u64);
            let (mut time, mut number) = (0u64, start);
            for s in &timeline.segments {
                if let Some(t) = s.t {
                    time = t;
                }
                let repeat = match s.r {
                    Some(r) if r < 0 => match end {
                        Some(end) if s.d > 0 => end.saturating_sub(time).div_ceil(s.d),
                        _ => 1,
                    },
                    Some(r) => r as u64 + 1,
                    None => 1,
                };
                for _ in 0..repeat {
                    push(
                        resolve(&base, &fill(media, id, number, time, bandwidth))?,
                        None,
                    );
                    time += s.d;
                    number += 1;
                }
            }
        } else {
            let (Some(each), Some(total)) = (template.duration, duration) else {
                return Err(refused(
                    "the DASH manifest's SegmentTemplate has neither a SegmentTimeline nor a \
                     duration to count its segments by"
                        .to_owned(),
                ));
            };
            let count = (total.as_secs_f64() * timescale as f64 / each).ceil() as u64;
            for i in 0..count {
                let number = start + i;
                let time = (i as f64 * each) as u64;
                push(
                    resolve(&base, &fill(media, id, number, time, bandwidth))?,
                    None,
                );
            }
        }
        return Ok(());
    }
    let list = rep
        .SegmentList
        .as_ref()
        .or(set.SegmentList.as_ref())
        .or(period.SegmentList.as_ref());
    if let Some(list) = list {
        if let Some(init) = &list.Initialization {
            let url = match &init.sourceURL {
                Some(source) => resolve(&base, source)?,
                None => base.clone(),
            };
            push(url, init.range.as_deref().and_then(range));
        }
        for segment in &list.segment_urls {
            let url = match &segment.media {
                Some(media) => resolve(&base, media)?,
                None => base.clone(),
            };
            push(url, segment.mediaRange.as_deref().and_then(range));
        }
        return Ok(());
    }
    // SegmentBase, or nothing: the representation is one file.
    push(base, None);
    Ok(())
}

/// `A-B` as (offset, length).
fn range(text: &str) -> Option<(u64, u64)> {
    let (a, b) = text.trim().split_once('-')?;
    let (a, b): (u64, u64) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
    (b >= a).then_some((a, b - a + 1))
}

/// A template's identifiers filled in (ISO 23009-1 §5.3.9.4.4): `$RepresentationID$`,
/// `$Number$`, `$Time$`, `$Bandwidth$`, each with an optional `%0Nd` width, and `$$`.
fn fill(template: &str, id: &str, number: u64, time: u64, bandwidth: u64) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(end) = after.find('$') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let name = &after[..end];
        let (word, width) = match name.split_once("%0") {
            Some((word, format)) => (
                word,
                format.trim_end_matches('d').parse::<usize>().unwrap_or(0),
            ),
            None => (name, 0),
        };
        match word {
            "" => out.push('$'),
            "RepresentationID" => out.push_str(id),
            "Number" => out.push_str(&format!("{number:0width$}")),
            "Time" => out.push_str(&format!("{time:0width$}")),
            "Bandwidth" => out.push_str(&format!("{bandwidth:0width$}")),
            _ => {
                out.push('$');
                out.push_str(name);
                out.push('$');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_their_identifiers() {
        assert_eq!(
            fill("chunk-$RepresentationID$-$Number%05d$.m4s", "0", 7, 0, 0),
            "chunk-0-00007.m4s"
        );
        assert_eq!(
            fill("t/$Time$_$Bandwidth$$$.mp4", "a", 1, 9000, 128),
            "t/9000_128$.mp4"
        );
        assert_eq!(range("100-199"), Some((100, 100)));
    }

    const MPD_TEXT: &str = r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT4S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <Period id="0" start="PT0S">
    <AdaptationSet contentType="video" mimeType="video/mp4">
      <SegmentTemplate timescale="1000" initialization="init-$RepresentationID$.m4s" media="v-$RepresentationID$-$Number%03d$.m4s" startNumber="1">
        <SegmentTimeline><S t="0" d="1000" r="3"/></SegmentTimeline>
      </SegmentTemplate>
      <Representation id="lo" bandwidth="100000" width="160" height="120"/>
      <Representation id="hi" bandwidth="900000" width="640" height="480"/>
    </AdaptationSet>
    <AdaptationSet contentType="audio" mimeType="audio/mp4">
      <Representation id="a" bandwidth="64000">
        <SegmentTemplate timescale="48000" duration="96000" initialization="a-init.m4s" media="a-$Time$.m4s"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet contentType="text" mimeType="text/vtt" lang="en-GB">
      <Representation id="en" bandwidth="256"><BaseURL>subs/en.vtt</BaseURL></Representation>
    </AdaptationSet>
    <AdaptationSet contentType="text" mimeType="application/mp4" codecs="stpp" lang="de">
      <Representation id="de" bandwidth="256"><BaseURL>de.mp4</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>"#;

    fn langs(text: &str) -> SubLangs {
        SubLangs::parse(text).unwrap_or_default()
    }

    #[test]
    fn a_manifest_gives_the_chosen_video_and_the_audio() -> Result<(), String> {
        let base = Url::parse("http://h/d/manifest.mpd").map_err(|e| e.to_string())?;
        let plan = plan(
            &base,
            MPD_TEXT.as_bytes(),
            Quality::Height(200),
            &langs("en,de"),
        )
        .map_err(|e| format!("{e:?}"))?;
        let paths = |t: usize| -> Vec<String> {
            plan.tracks[t]
                .segments
                .iter()
                .map(|s| s.url.path().to_owned())
                .collect()
        };
        assert_eq!(
            paths(0),
            [
                "/d/init-lo.m4s",
                "/d/v-lo-001.m4s",
                "/d/v-lo-002.m4s",
                "/d/v-lo-003.m4s",
                "/d/v-lo-004.m4s"
            ]
        );
        assert_eq!(paths(1), ["/d/a-init.m4s", "/d/a-0.m4s", "/d/a-96000.m4s"]);
        // The WebVTT file asked for (`en` takes `en-GB`), after the media; TTML is not.
        assert_eq!(plan.tracks.len(), 3);
        assert_eq!(paths(2), ["/d/subs/en.vtt"]);
        assert_eq!(plan.tracks[2].subtitles.as_deref(), Some("en-GB"));
        assert_eq!(plan.media().len(), 2);
        let best = super::plan(&base, MPD_TEXT.as_bytes(), Quality::Best, &SubLangs::None)
            .map_err(|e| format!("{e:?}"))?;
        assert_eq!(best.tracks.len(), 2, "no subtitles unless asked");
        assert!(best.tracks[0].segments[1].url.path().contains("hi"));
        let protected = MPD_TEXT.replace(
            "<Representation id=\"hi\"",
            "<ContentProtection schemeIdUri=\"urn:mpeg:dash:mp4protection:2011\" value=\"cenc\"/><Representation id=\"hi\"",
        );
        let refused = format!(
            "{:?}",
            super::plan(&base, protected.as_bytes(), Quality::Best, &SubLangs::None).err()
        );
        assert!(refused.contains("DRM"), "{refused}");
        Ok(())
    }
}
