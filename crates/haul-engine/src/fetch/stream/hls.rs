//! HLS playlists (RFC 8216) read with m3u8-rs into a [`Plan`]: from a master playlist the
//! variant the item's quality asks for, the audio rendition it names and the subtitles
//! renditions the item asks for (`--sub-langs`; after the media tracks, a live stream's
//! followed with it); from a media
//! playlist its segments with their byte ranges, init segments (`EXT-X-MAP`, again where it
//! changes) and AES-128 keys (the IV from the tag, else the media sequence number).
//! SAMPLE-AES and any other method (DRM) are refused with a sentence saying so.
//! Must not touch: fetching segments (`segments`), the disk.

use std::sync::Arc;

use m3u8_rs::{
    AlternativeMediaType, KeyMethod, MasterPlaylist, MediaPlaylist, Playlist, VariantStream,
};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::{Key, Live, Plan, Segment, Track, fetch_playlist, resolve};
use crate::fetch::Stop;
use crate::item::Job;
use crate::protocol::{FetchError, Quality, SubLangs, Variant};

fn refused(text: String) -> Stop {
    Stop::Failed(FetchError::Stream(text))
}

/// Reads a playlist's bytes: a master or a media playlist, or a clear refusal of what is not
/// one (an HTML page served as `.m3u8`).
pub(super) fn parse(body: &[u8]) -> Result<Playlist, Stop> {
    let text = String::from_utf8_lossy(body);
    if !text.trim_start_matches('\u{feff}').starts_with("#EXTM3U") {
        let start: String = text.trim_start().chars().take(40).collect();
        let start = start.replace(['\r', '\n'], " ");
        return Err(refused(format!(
            "this is not an HLS playlist: it does not start with #EXTM3U but with '{start}'"
        )));
    }
    m3u8_rs::parse_playlist_res(body)
        .map_err(|_| refused("the HLS playlist cannot be read".to_owned()))
}

/// The plan for the playlist `body` fetched from `base`: a master playlist's chosen variant
/// (and its audio rendition) are fetched here.
pub(super) async fn plan(
    job: &Job,
    base: &Url,
    body: &[u8],
    stop: &CancellationToken,
) -> Result<Plan, Stop> {
    match parse(body)? {
        Playlist::MediaPlaylist(media) => {
            let (track, live) = media_track_of(base, &media)?;
            Ok(Plan {
                tracks: vec![track],
                quality: None,
                live,
                variants: Vec::new(),
            })
        }
        Playlist::MasterPlaylist(master) => {
            let quality = job.options.quality.unwrap_or_default();
            let variant = choose(&master, quality).ok_or_else(|| {
                refused("the master playlist offers no variant to fetch".to_owned())
            })?;
            let shown = describe(variant);
            let url = resolve(base, &variant.uri)?;
            let (video, live) = media_track(job, &url, stop).await?;
            let mut tracks = vec![video];
            let mut live = live;
            if let Some(audio) = audio_of(&master, variant) {
                let url = resolve(base, audio)?;
                let (track, audio_live) = media_track(job, &url, stop).await?;
                tracks.push(track);
                // A live stream's audio rendition is followed with its video.
                live = match (live, audio_live) {
                    (None, None) => None,
                    (Some(mut video), Some(audio)) => {
                        video.urls.extend(audio.urls);
                        video.target = video.target.min(audio.target);
                        Some(video)
                    }
                    _ => {
                        return Err(refused(
                            "the stream's video and its audio rendition are not both live or \
                             both finished"
                                .to_owned(),
                        ));
                    }
                };
            }
            for (lang, uri) in subtitles_of(&master, variant, &job.options.sub_langs) {
                let (mut track, sub_live) = media_track(job, &resolve(base, uri)?, stop).await?;
                // A live stream's subtitles are followed with it, after its media tracks.
                match (live.as_mut(), sub_live) {
                    (None, None) => {}
                    (Some(live), Some(sub)) => {
                        live.urls.extend(sub.urls);
                        live.target = live.target.min(sub.target);
                    }
                    _ => {
                        super::subtitles::refuse(
                            lang,
                            "they are finished while the video is live, or live while it is \
                             finished",
                        );
                        continue;
                    }
                }
                track.subtitles = Some(lang.to_owned());
                tracks.push(track);
            }
            Ok(Plan {
                tracks,
                quality: Some(shown),
                live,
                variants: offered(&master),
            })
        }
    }
}

/// A media playlist named by the master: fetched and read.
async fn media_track(
    job: &Job,
    url: &Url,
    stop: &CancellationToken,
) -> Result<(Track, Option<Live>), Stop> {
    let (base, body) = fetch_playlist(job, url, stop).await?;
    match parse(&body)? {
        Playlist::MediaPlaylist(media) => media_track_of(&base, &media),
        Playlist::MasterPlaylist(_) => Err(refused(
            "a variant of the master playlist is itself a master playlist".to_owned(),
        )),
    }
}

/// A media playlist's track; a live one (no `#EXT-X-ENDLIST`) from its live edge, with where
/// to look for more.
fn media_track_of(base: &Url, media: &MediaPlaylist) -> Result<(Track, Option<Live>), Stop> {
    let mut track = track(base, media)?;
    if !is_live(media) {
        return Ok((track, None));
    }
    super::live::from_edge(&mut track);
    let live = Live {
        urls: vec![base.clone()],
        target: std::time::Duration::from_secs(media.target_duration.clamp(1, 60)),
    };
    Ok((track, Some(live)))
}

/// Whether a media playlist is live: segments are still to come (no `#EXT-X-ENDLIST`).
pub(super) fn is_live(media: &MediaPlaylist) -> bool {
    !media.end_list && media.playlist_type != Some(m3u8_rs::MediaPlaylistType::Vod)
}

/// The variant `quality` asks for. I-frame-only variants are never chosen, nor audio-only
/// ones (their codecs all audio) when there is video.
pub(super) fn choose(master: &MasterPlaylist, quality: Quality) -> Option<&VariantStream> {
    let mut variants: Vec<&VariantStream> = master
        .variants
        .iter()
        .filter(|v| !v.is_i_frame && !v.uri.is_empty())
        .collect();
    if variants.iter().any(|v| !audio_only(v)) {
        variants.retain(|v| !audio_only(v));
    }
    let by_rate = |v: &&VariantStream| v.bandwidth;
    let height = |v: &VariantStream| v.resolution.map_or(0, |r| r.height);
    match quality {
        Quality::Best => variants.into_iter().max_by_key(by_rate),
        Quality::Worst => variants.into_iter().min_by_key(by_rate),
        Quality::Height(most) => {
            let under = variants
                .iter()
                .filter(|v| height(v) <= most)
                .max_by_key(|v| (height(v), v.bandwidth));
            under
                .or_else(|| variants.iter().min_by_key(|v| (height(v), v.bandwidth)))
                .copied()
        }
        Quality::Bandwidth(most) => {
            let under = variants
                .iter()
                .filter(|v| v.bandwidth <= most)
                .max_by_key(|v| v.bandwidth);
            under
                .or_else(|| variants.iter().min_by_key(|v| v.bandwidth))
                .copied()
        }
    }
}

/// The variants a master playlist offers, best first, each with the quality that chooses it
/// (its bit rate: [`choose`] takes the highest up to it).
fn offered(master: &MasterPlaylist) -> Vec<Variant> {
    let mut variants: Vec<&VariantStream> = master
        .variants
        .iter()
        .filter(|v| !v.is_i_frame && !v.uri.is_empty() && !audio_only(v))
        .collect();
    variants.sort_by_key(|v| std::cmp::Reverse(v.bandwidth));
    variants
        .into_iter()
        .map(|v| Variant {
            label: describe(v),
            quality: Quality::Bandwidth(v.bandwidth),
        })
        .collect()
}

/// Whether a variant's codecs are all audio ones (`mp4a`, `ac-3`, `ec-3`, `opus`, `flac`,
/// `mp3`); a variant that names none may hold video.
fn audio_only(variant: &VariantStream) -> bool {
    const AUDIO: [&str; 6] = ["mp4a", "ac-3", "ec-3", "opus", "flac", "mp3"];
    variant.codecs.as_deref().is_some_and(|codecs| {
        codecs.split(',').all(|c| {
            AUDIO
                .iter()
                .any(|a| c.trim().to_ascii_lowercase().starts_with(a))
        })
    })
}

/// A variant as people read it: "1280x720, 2.1 Mbit/s, avc1.64001f,mp4a.40.2".
pub(super) fn describe(variant: &VariantStream) -> String {
    let mut parts = Vec::new();
    if let Some(resolution) = variant.resolution {
        parts.push(resolution.to_string());
    }
    parts.push(format!("{:.1} Mbit/s", variant.bandwidth as f64 / 1e6));
    if let Some(codecs) = &variant.codecs {
        parts.push(codecs.clone());
    }
    parts.join(", ")
}

/// The URI of the audio rendition a variant plays with, when it is a separate playlist: the
/// group's default, else its first.
fn audio_of<'a>(master: &'a MasterPlaylist, variant: &VariantStream) -> Option<&'a str> {
    let group = variant.audio.as_deref()?;
    let renditions: Vec<_> = master
        .alternatives
        .iter()
        .filter(|m| m.media_type == AlternativeMediaType::Audio && m.group_id == group)
        .filter(|m| m.uri.is_some())
        .collect();
    renditions
        .iter()
        .find(|m| m.default)
        .or(renditions.first())
        .and_then(|m| m.uri.as_deref())
}

/// The subtitles renditions `asked` for among those the variant plays with (its `SUBTITLES`
/// group; every group when it names none): each one's language (else its name) and URI.
fn subtitles_of<'a>(
    master: &'a MasterPlaylist,
    variant: &VariantStream,
    asked: &SubLangs,
) -> Vec<(&'a str, &'a str)> {
    let group = variant.subtitles.as_deref();
    master
        .alternatives
        .iter()
        .filter(|m| m.media_type == AlternativeMediaType::Subtitles)
        .filter(|m| group.is_none_or(|g| m.group_id == g))
        .filter(|m| asked.wants(m.language.as_deref()))
        .filter_map(|m| {
            let lang = m.language.as_deref().unwrap_or(&m.name);
            Some((lang, m.uri.as_deref()?))
        })
        .collect()
}

/// A media playlist's segments, in order, with the init segments, byte ranges and keys that
/// apply to each (a tag applies until the next of its kind).
pub(super) fn track(base: &Url, media: &MediaPlaylist) -> Result<Track, Stop> {
    let mut out = Track {
        playlist: base.to_string(),
        ..Track::default()
    };
    let mut key: Option<Arc<Key>> = None;
    let mut map: Option<(Url, Option<(u64, u64)>)> = None;
    // Where the last byte range of each URI ended (a range without an offset follows it).
    let mut last_end: Option<(Url, u64)> = None;
    for (i, segment) in media.segments.iter().enumerate() {
        let number = media.media_sequence + i as u64;
        // The init segment is in the clear unless a key before its segment's tags applies.
        let key_before = key.clone();
        if let Some(tag) = &segment.key {
            key = key_of(base, tag)?;
        } else if ends_encryption(segment) {
            key = None;
        }
        if let Some(tag) = &segment.map {
            let url = resolve(base, &tag.uri)?;
            let range = tag
                .byte_range
                .as_ref()
                .map(|r| (r.offset.unwrap_or(0), r.length));
            if map.as_ref() != Some(&(url.clone(), range)) {
                out.fmp4 = true;
                out.segments.push(Segment {
                    url: url.clone(),
                    range,
                    key: key_before,
                    number,
                    init: true,
                });
                map = Some((url, range));
            }
        }
        let url = resolve(base, &segment.uri)?;
        let range = match &segment.byte_range {
            None => None,
            Some(r) => {
                let offset = match (r.offset, &last_end) {
                    (Some(offset), _) => offset,
                    (None, Some((last, end))) if *last == url => *end,
                    (None, _) => {
                        return Err(refused(format!(
                            "segment {number}'s EXT-X-BYTERANGE has no offset and follows no \
                             range of the same URI"
                        )));
                    }
                };
                last_end = Some((url.clone(), offset + r.length));
                Some((offset, r.length))
            }
        };
        out.segments.push(Segment {
            url,
            range,
            key: key.clone(),
            number,
            init: false,
        });
    }
    Ok(out)
}

/// Whether the segment's tags hold `#EXT-X-KEY:METHOD=NONE`: m3u8-rs 6 refuses that tag
/// without an IV (its check is the wrong way round) and keeps it as an unknown tag.
fn ends_encryption(segment: &m3u8_rs::MediaSegment) -> bool {
    segment.unknown_tags.iter().any(|t| {
        t.tag == "X-KEY"
            && t.rest
                .as_deref()
                .is_some_and(|rest| rest.to_ascii_uppercase().contains("METHOD=NONE"))
    })
}

/// An `EXT-X-KEY`: `NONE` ends encryption, `AES-128` names a key; SAMPLE-AES and any other
/// method (a DRM system's) are refused.
fn key_of(base: &Url, tag: &m3u8_rs::Key) -> Result<Option<Arc<Key>>, Stop> {
    match &tag.method {
        KeyMethod::None => Ok(None),
        KeyMethod::AES128 => {
            if let Some(format) = &tag.keyformat
                && format != "identity"
            {
                return Err(drm(&format!("its key format is {format}")));
            }
            let uri = tag
                .uri
                .as_deref()
                .ok_or_else(|| refused("an AES-128 EXT-X-KEY names no key (no URI)".to_owned()))?;
            let iv = match tag.iv.as_deref() {
                None => None,
                Some(iv) => Some(parse_iv(iv).ok_or_else(|| {
                    refused(format!("the EXT-X-KEY's IV '{iv}' is not 32 hex digits"))
                })?),
            };
            Ok(Some(Arc::new(Key {
                url: resolve(base, uri)?,
                iv,
            })))
        }
        KeyMethod::SampleAES => Err(drm("it is encrypted with SAMPLE-AES")),
        KeyMethod::Other(method) => Err(drm(&format!("it is encrypted with {method}"))),
    }
}

/// The refusal of a protected stream.
fn drm(why: &str) -> Stop {
    refused(format!(
        "this stream is protected ({why}): Haul saves only streams in the clear or with \
         AES-128 keys, never DRM-protected ones"
    ))
}

/// An IV as written in a playlist: `0x` and 32 hex digits.
fn parse_iv(text: &str) -> Option<[u8; 16]> {
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    if hex.len() != 32 {
        return None;
    }
    let mut iv = [0u8; 16];
    for (i, byte) in iv.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(iv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn master(text: &str) -> MasterPlaylist {
        match m3u8_rs::parse_playlist_res(text.as_bytes()) {
            Ok(Playlist::MasterPlaylist(m)) => m,
            other => panic!("not a master: {other:?}"),
        }
    }

    const MASTER: &str = "#EXTM3U\n\
        #EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\nlow.m3u8\n\
        #EXT-X-STREAM-INF:BANDWIDTH=2500000,RESOLUTION=1280x720\nmid.m3u8\n\
        #EXT-X-STREAM-INF:BANDWIDTH=5000000,RESOLUTION=1920x1080\nhigh.m3u8\n\
        #EXT-X-STREAM-INF:BANDWIDTH=9000000,CODECS=\"mp4a.40.2\"\naudio.m3u8\n";

    #[test]
    fn quality_chooses_the_variant() {
        let m = master(MASTER);
        let pick = |q| choose(&m, q).map(|v| v.uri.clone()).unwrap_or_default();
        assert_eq!(pick(Quality::Best), "high.m3u8");
        assert_eq!(pick(Quality::Worst), "low.m3u8");
        assert_eq!(pick(Quality::Height(720)), "mid.m3u8");
        assert_eq!(pick(Quality::Height(1000)), "mid.m3u8");
        assert_eq!(
            pick(Quality::Height(240)),
            "low.m3u8",
            "none under: the smallest"
        );
        assert_eq!(pick(Quality::Bandwidth(3_000_000)), "mid.m3u8");
        assert_eq!(pick(Quality::Bandwidth(1)), "low.m3u8");
    }

    /// A segment as the test compares it: path, range, encrypted, number.
    type Shown = (String, Option<(u64, u64)>, bool, u64);

    #[test]
    fn keys_ranges_and_maps_carry_over() -> Result<(), String> {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n\
            #EXT-X-MAP:URI=\"init.mp4\"\n\
            #EXT-X-KEY:METHOD=AES-128,URI=\"k.bin\"\n\
            #EXTINF:2,\n#EXT-X-BYTERANGE:100@0\nall.mp4\n\
            #EXTINF:2,\n#EXT-X-BYTERANGE:50\nall.mp4\n\
            #EXT-X-KEY:METHOD=NONE\n\
            #EXTINF:2,\nc.mp4\n#EXT-X-ENDLIST\n";
        let Ok(Playlist::MediaPlaylist(media)) = m3u8_rs::parse_playlist_res(text.as_bytes())
        else {
            return Err("not a media playlist".into());
        };
        let base = Url::parse("http://h/v/index.m3u8").map_err(|e| e.to_string())?;
        let track = track(&base, &media).map_err(|e| format!("{e:?}"))?;
        let shown: Vec<Shown> = track
            .segments
            .iter()
            .map(|s| (s.url.path().to_owned(), s.range, s.key.is_some(), s.number))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("/v/init.mp4".into(), None, false, 7),
                ("/v/all.mp4".into(), Some((0, 100)), true, 7),
                ("/v/all.mp4".into(), Some((100, 50)), true, 8),
                ("/v/c.mp4".into(), None, false, 9),
            ]
        );
        assert!(track.fmp4);
        Ok(())
    }

    #[test]
    fn drm_and_pages_are_refused_with_a_sentence() {
        let text = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n\
            #EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://x\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n\
            #EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n";
        let Ok(Playlist::MediaPlaylist(media)) = m3u8_rs::parse_playlist_res(text.as_bytes())
        else {
            panic!("not a media playlist");
        };
        let base = Url::parse("http://h/index.m3u8").expect("a URL");
        let error = format!("{:?}", track(&base, &media).err());
        assert!(
            error.contains("protected") && error.contains("SAMPLE-AES"),
            "{error}"
        );
        let page = format!("{:?}", parse(b"<!DOCTYPE html><html>hello</html>").err());
        assert!(page.contains("not an HLS playlist"), "{page}");
        assert_eq!(
            parse_iv("0x000102030405060708090a0b0c0d0e0f"),
            Some(core::array::from_fn(|i| i as u8))
        );
    }
}
