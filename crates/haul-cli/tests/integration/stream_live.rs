//! Live HLS recorded through `haul-cli`: media playlists the tests grow by a segment a second
//! (a sliding window of five, no `#EXT-X-ENDLIST`) over segments ffmpeg made, recorded for
//! `--duration 3` from the live edge; the recording's frames are those of the segments it
//! fetched, in order, none asked twice, and its subtitles are timed from its first frame.
//! Skipped without ffmpeg, failing under `HAUL_REQUIRE_FFMPEG=1`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use haul_testkit::media::{self, Files, frame_hashes};

use crate::cli::{run, s};
use crate::stream::one_file;

/// A live playlist the test grows by a segment a second (a sliding window of five, no
/// `#EXT-X-ENDLIST`): `--duration 3` records from the live edge for three seconds, asks for no
/// segment twice and none from before the edge, and saves one file whose frames are those of
/// the segments it fetched, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_playlist_is_recorded_for_its_duration_from_the_live_edge() {
    if !media::ffmpeg_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let source = media::source(dir.path(), 12);
    let vod = media::hls(dir.path(), &source, "ts", &[]);
    let folder = dir.path().join("ts");
    let live = folder.join("live.m3u8");
    let write = move |newest: usize| write_live(&live, newest, |i| format!("index{i}.ts"));
    let (files, path, _out) = record_live(
        dir.path(),
        write,
        &vod.replace("index.m3u8", "live.m3u8"),
        &[],
    )
    .await;
    let asked = live_edge_on(&files, "/ts/index", ".ts");
    let asked: Vec<PathBuf> = asked
        .iter()
        .map(|n| folder.join(format!("index{n}.ts")))
        .collect();
    recorded_from(&path, "v", &asked, dir.path());
    assert!(media::duration(&path) >= 3.0);
}

/// Records three seconds (`--duration 3`, and the `more` arguments) of the live playlist
/// `playlist` (relative to `root`, served by a new [`Files`]) while `write` grows it:
/// `write(3)` first, then a segment a second up to 10. Returns the server (its log), the
/// recording and its folder.
async fn record_live(
    root: &Path,
    write: impl Fn(usize) + Send + 'static,
    playlist: &str,
    more: &[&str],
) -> (Files, PathBuf, tempfile::TempDir) {
    write(3);
    let grower = tokio::spawn(async move {
        for newest in 4..11 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            write(newest);
        }
    });
    let files = Files::start(root).await;
    let out = tempfile::tempdir().expect("out");
    let mut args = vec![
        s("--json"),
        s("--duration"),
        s("3"),
        s("-o"),
        out.path().display().to_string(),
    ];
    args.extend(more.iter().map(|a| s(*a)));
    args.push(files.url(playlist));
    let output = run(args, None).await;
    grower.abort();
    let path = one_file(&output);
    (files, path, out)
}

/// Writes the live media playlist `path` as it stands when segment `newest` (named by
/// `segment`) is the newest: a sliding window of five one-second segments, no
/// `#EXT-X-ENDLIST`, replaced whole (written beside, then renamed).
fn write_live(path: &Path, newest: usize, segment: impl Fn(usize) -> String) {
    let first = newest.saturating_sub(4);
    let mut text = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:{first}\n"
    );
    for i in first..=newest {
        text.push_str(&format!("#EXTINF:1.000000,\n{}\n", segment(i)));
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).expect("playlist");
    std::fs::rename(&tmp, path).expect("playlist in place");
}

/// The numbers of the live segments asked for (paths `prefix` NUMBER `suffix`), in play order
/// (they are fetched several at once): none asked twice, the first at the live edge as the
/// tests write it (segment 1 of 0 to 3), three seconds' worth at least.
fn live_edge_on(files: &Files, prefix: &str, suffix: &str) -> Vec<usize> {
    let mut asked: Vec<usize> = files
        .log()
        .into_iter()
        .filter_map(|p| p.strip_prefix(prefix)?.strip_suffix(suffix)?.parse().ok())
        .collect();
    asked.sort_unstable();
    let mut unique = asked.clone();
    unique.dedup();
    assert_eq!(unique, asked, "no {prefix} segment asked twice");
    assert_eq!(asked.first(), Some(&1), "from the live edge: {asked:?}");
    assert!(asked.len() >= 4, "three seconds of segments: {asked:?}");
    asked
}

/// The `which` frames ("v" or "a") of the recording `path` are those of the `asked` segments
/// one after another; the last may have been in flight as the duration ran out (asked, not
/// kept). `scratch`: a folder for the joined segments.
fn recorded_from(path: &Path, which: &str, asked: &[PathBuf], scratch: &Path) {
    let joined = |segments: &[PathBuf]| {
        let mut bytes = Vec::new();
        for segment in segments {
            bytes.extend(std::fs::read(segment).expect("segment"));
        }
        let path = scratch.join(format!("expected-{which}.ts"));
        std::fs::write(&path, bytes).expect("expected");
        frame_hashes(&path, which)
    };
    let got = frame_hashes(path, which);
    assert!(
        got == joined(asked) || got == joined(&asked[..asked.len() - 1]),
        "the {which} frames are those of the segments fetched: {asked:?}"
    );
}

/// A live master playlist (written here) whose variant has its audio in a separate rendition
/// and English WebVTT subtitles (each segment's cue at its start, its `X-TIMESTAMP-MAP` giving
/// the PTS of the video segment of its number), the three media playlists growing by a
/// segment a second: `--duration 3 --sub-langs en` follows them from their live edge, asks for
/// no segment twice, and saves one file with the video of the video segments fetched and the
/// audio of the audio segments fetched, in order, and beside it `live.en.vtt` with the cues
/// of the subtitles segments fetched, timed from the recording's first frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_with_separate_audio_is_recorded_with_its_audio_and_subtitles() {
    if !media::ffmpeg_or_skip() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_path_buf();
    let source = media::source(&root, 12);
    media::hls_master(&root, &source, "m");
    let folder = root.join("m");
    for name in ["hi_010.ts", "audio_010.ts"] {
        assert!(folder.join(name).exists(), "{name}");
    }
    // Each video segment's first PTS (90 kHz), as ffprobe reads it.
    let pts = |i: usize| {
        (media::format_seconds(&folder.join(format!("hi_{i:03}.ts")), "start_time") * 90_000.0)
            .round()
    };
    let pts: Vec<i64> = (0..11).map(|i| pts(i) as i64).collect();
    for (i, at) in pts.iter().enumerate() {
        let segment = format!(
            "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{at},LOCAL:00:00:00.000\n\n\
             00:00:00.000 --> 00:00:00.500\nline {i}\n"
        );
        std::fs::write(folder.join(format!("en_{i:03}.vtt")), segment).expect("vtt");
    }
    let write = {
        let folder = folder.clone();
        move |newest: usize| {
            for (name, ext) in [("hi", "ts"), ("audio", "ts"), ("en", "vtt")] {
                let path = folder.join(format!("live_{name}.m3u8"));
                write_live(&path, newest, |i| format!("{name}_{i:03}.{ext}"));
            }
        }
    };
    std::fs::write(
        folder.join("live.m3u8"),
        "#EXTM3U\n#EXT-X-VERSION:3\n\
         #EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"audio\",DEFAULT=YES,URI=\"live_audio.m3u8\"\n\
         #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",URI=\"live_en.m3u8\"\n\
         #EXT-X-STREAM-INF:BANDWIDTH=500000,RESOLUTION=320x240,AUDIO=\"aud\",SUBTITLES=\"subs\"\nlive_hi.m3u8\n",
    )
    .expect("master");
    let (files, path, out) = record_live(&root, write, "m/live.m3u8", &["--sub-langs", "en"]).await;
    // The cues of the subtitles segments fetched (the last may have been in flight as the
    // duration ran out), each at its video segment's time in the recording.
    let asked = live_edge_on(&files, "/m/en_", ".vtt");
    let cues = |numbers: &[usize]| {
        let mut text = String::from("WEBVTT\n");
        for &i in numbers {
            let ms = (pts[i] - pts[asked[0]]).div_euclid(90);
            let stamp = |ms: i64| format!("00:00:{:02}.{:03}", ms / 1000, ms % 1000);
            text.push_str(&format!(
                "\n{} --> {}\nline {i}\n",
                stamp(ms),
                stamp(ms + 500)
            ));
        }
        text
    };
    let vtt = std::fs::read_to_string(out.path().join("live.en.vtt")).expect("vtt");
    assert!(
        vtt == cues(&asked) || vtt == cues(&asked[..asked.len() - 1]),
        "{vtt}\n{asked:?}"
    );
    for (name, which) in [("hi", "v"), ("audio", "a")] {
        let asked = live_edge_on(&files, &format!("/m/{name}_"), ".ts");
        let asked: Vec<PathBuf> = asked
            .iter()
            .map(|n| folder.join(format!("{name}_{n:03}.ts")))
            .collect();
        recorded_from(&path, which, &asked, &root);
    }
    assert!(media::duration(&path) >= 3.0);
}
