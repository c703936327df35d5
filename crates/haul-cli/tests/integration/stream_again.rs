//! Video streams run again, tried again and with their subtitles: the same command for a
//! stream already saved skips it (as a file is skipped), a segment that fails for a moment is
//! retried and told as a file's retry is, and subtitles (HLS renditions, DASH text
//! adaptation sets) are saved when asked.
//! Against streams ffmpeg makes at test time and the testkit's file server
//! (`haul_testkit::media`); skipped without ffmpeg, failing under `HAUL_REQUIRE_FFMPEG=1`.

use std::time::Duration;

use haul_core::protocol::{Event, FetchError, Limits, Outcome};
use haul_testkit::media::Files;

use crate::cli::{json_lines, run, s};
use crate::stream::{one_file, only_files, same_as_source, ts_stream};
use crate::support::harness::{Harness, limits};

/// The same command again for a finished stream: skipped, no segment asked again, no
/// `index (1).mp4`, by the file's downloaded-from mark (the stream leaves no record of its
/// own in the destination). Another stream whose file has the same name is not taken for it,
/// and a file removed since is fetched again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_command_again_skips_a_stream_already_saved() {
    let Some((dir, source, ts)) = ts_stream() else {
        return;
    };
    let other = haul_testkit::media::hls(dir.path(), &source, "other", &[]);
    let files = Files::start(dir.path()).await;
    let out = tempfile::tempdir().expect("out");
    let args = |url: &str| {
        vec![
            s("--json"),
            s("-o"),
            out.path().display().to_string(),
            files.url(url),
        ]
    };
    let first = one_file(&run(args(&ts), None).await);
    assert_eq!(first, out.path().join("index.mp4"));
    // Nothing of the stream's own is left beside its file (its folder of segments went).
    assert_eq!(only_files(out.path()), ["index.mp4"]);
    // The file's downloaded-from mark says which stream it is: an extended attribute on
    // Linux, the Mark of the Web's `HostUrl` on Windows (NTFS only: not Wine's folders);
    // macOS's quarantine names no URL, so there the same command fetches it again.
    if !cfg!(all(unix, not(target_os = "macos"))) {
        return;
    }
    let asked = files.asked(".ts");
    let again = run(args(&ts), None).await;
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    let (items, _) = json_lines(&again);
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["status"], "skipped", "{items:?}");
    assert_eq!(files.asked(".ts"), asked, "no segment is fetched again");
    assert_eq!(only_files(out.path()), ["index.mp4"]);
    // Another stream named `index` too: its own file.
    let path = one_file(&run(args(&other), None).await);
    assert_eq!(path, out.path().join("index (1).mp4"));
    same_as_source(&path, &source, true);
    // The first one's file removed: fetched again, under its name.
    std::fs::remove_file(&first).expect("removed");
    let path = one_file(&run(args(&ts), None).await);
    assert_eq!(path, first);
    same_as_source(&path, &source, true);
    assert_eq!(only_files(out.path()), ["index (1).mp4", "index.mp4"]);
}

/// Another quality for a stream stopped midway (the window's Details → Quality, here a
/// killed run then `--quality` again): the first variant's segments held are removed (the
/// stream's folder is the source's, whatever the quality), so the destination holds only the
/// final file, hidden names included.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_quality_midway_leaves_only_the_final_file() {
    if !haul_testkit::media::ffmpeg_or_skip() {
        return;
    }
    let (dir, source) = crate::stream::streams();
    let master = haul_testkit::media::hls_master(dir.path(), &source, "m");
    let files = Files::start(dir.path()).await;
    files.set_rate(20_000);
    let out = tempfile::tempdir().expect("out");
    let args = |quality: &str| {
        vec![
            s("--json"),
            s("--quality"),
            s(quality),
            s("-o"),
            out.path().display().to_string(),
            files.url(&master),
        ]
    };
    let dest = out.path().to_path_buf();
    let ready = move || crate::stream::held_lines(&dest) >= 2;
    crate::cli::run_then_kill(args("worst"), ready, Duration::ZERO).await;
    assert!(
        crate::stream::held_lines(out.path()) >= 2,
        "segments held at the kill"
    );
    files.set_rate(0);
    let path = one_file(&run(args("best"), None).await);
    let hashes = haul_testkit::media::frame_hashes;
    let big = dir.path().join("m").join("hi.m3u8");
    assert_eq!(hashes(&path, "v"), hashes(&big, "v"), "the best variant");
    assert_eq!(hashes(&path, "a"), hashes(&source, "a"));
    assert_eq!(only_files(out.path()), ["master.mp4"]);
}

/// Without `--json`, the table's size for a finished stream is its file's (the segments
/// remuxed), not the bytes received.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_gives_a_finished_streams_file_size() {
    let Some((dir, _, ts)) = ts_stream() else {
        return;
    };
    let files = Files::start(dir.path()).await;
    let out = tempfile::tempdir().expect("out");
    let args = vec![s("-o"), out.path().display().to_string(), files.url(&ts)];
    let output = run(args, None).await;
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let length = std::fs::metadata(out.path().join("index.mp4"))
        .expect("the file")
        .len();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.ends_with("index.mp4"))
        .unwrap_or_else(|| panic!("no line for the file: {stdout}"));
    let size = haul_core::human::human_bytes(length);
    assert!(
        line.contains(&format!(" {size} ")),
        "{line}: the file is {size}"
    );
}

/// `--out film.mkv` (and `.mov`, `.ts`): ffmpeg remuxes into the container the name says, as
/// ffprobe reads it; `--out film.avi`, which `-c copy` cannot write: MP4, named `film.mp4`, and
/// stderr says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_files_extension_chooses_its_container() {
    let Some((dir, source, ts)) = ts_stream() else {
        return;
    };
    let files = Files::start(dir.path()).await;
    let out = tempfile::tempdir().expect("out");
    let format = |path: &std::path::Path| {
        let output = std::process::Command::new("ffprobe")
            .args(["-v", "error", "-show_entries", "format=format_name"])
            .args(["-of", "default=nw=1:nk=1"])
            .arg(path)
            .output()
            .expect("run ffprobe");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    for (name, want, container) in [
        ("film.mkv", "film.mkv", "matroska"),
        ("film.mov", "film.mov", "mov,mp4"),
        ("film.ts", "film.ts", "mpegts"),
        ("film.avi", "film.mp4", "mov,mp4"),
    ] {
        let args = vec![
            s("--json"),
            s("-o"),
            out.path().display().to_string(),
            s("--out"),
            s(name),
            files.url(&ts),
        ];
        let output = run(args, None).await;
        let path = one_file(&output);
        assert_eq!(path, out.path().join(want));
        assert!(
            format(&path).starts_with(container),
            "{name}: {}",
            format(&path)
        );
        same_as_source(&path, &source, true);
        if name != want {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("film.mp4"), "{stderr}");
        }
    }
}

/// The stream's tail in halves: 6 segments on 4 connections start 4 whole; the last 2, fewer
/// than the connections, are each asked for as two byte ranges (their length estimated from
/// the segments held), so no connection sits idle at the end. A half answered 503 gives way
/// to its whole segment. Both files decode to the source's frames.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_segments_are_fetched_in_halves_on_the_idle_connections() {
    let Some((dir, source, ts)) = ts_stream() else {
        return;
    };
    let files = Files::start(dir.path()).await;
    let out = tempfile::tempdir().expect("out");
    let args = |dest: &std::path::Path| {
        vec![
            s("--json"),
            s("-s"),
            s("4"),
            s("--per-host"),
            s("4"),
            s("-o"),
            dest.display().to_string(),
            files.url(&ts),
        ]
    };
    let path = one_file(&run(args(&out.path().join("a")), None).await);
    same_as_source(&path, &source, true);
    let asked: Vec<usize> = (0..6)
        .map(|i| files.asked(&format!("ts/index{i}.ts")))
        .collect();
    assert_eq!(asked, [1, 1, 1, 1, 2, 2], "requests per segment");

    files.fail("ts/index5.ts", 1);
    let path = one_file(&run(args(&out.path().join("b")), None).await);
    same_as_source(&path, &source, true);
    let again = files.asked("ts/index5.ts") - 2;
    assert!(
        (2..=3).contains(&again),
        "{again} requests for the failed half's segment"
    );
}

/// A segment answered 503 once is tried again: the item says `Retrying` (naming the segment
/// and why) as a file would, runs again, and ends with the whole stream; a segment answered
/// 503 every time fails its item with its number and the reason once the retries are spent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segment_that_fails_is_retried_and_told_as_a_files_retry_is() {
    let Some((dir, source, ts)) = ts_stream() else {
        return;
    };
    let files = Files::start(dir.path()).await;
    files.fail("ts/index2.ts", 1);
    let mut h = Harness::new(Limits {
        retries: 2,
        retry_base: Duration::from_millis(50),
        ..limits()
    });
    let id = h.submit(&files.url(&ts));
    let done = h.finish(&[id]).await.remove(&id).expect("finished");
    let Outcome::Done { files: saved, .. } = &done.outcome else {
        panic!("{:?}", done.outcome);
    };
    same_as_source(&saved[0].path, &source, true);
    let retried: Vec<usize> = h
        .log
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Event::Retrying { .. }))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(retried.len(), 1, "{:?}", h.log);
    let Event::Retrying {
        attempt,
        of,
        reason,
        ..
    } = &h.log[retried[0]]
    else {
        unreachable!()
    };
    assert_eq!((*attempt, *of), (1, 2));
    assert!(
        reason.contains("segment 2") && reason.contains("503"),
        "{reason}"
    );
    assert!(
        h.log[retried[0]..]
            .iter()
            .any(|e| matches!(e, Event::Started { .. })),
        "the row runs again after the retry: {:?}",
        h.log
    );
    assert_eq!(files.asked("ts/index2.ts"), 2);

    // Busy every time: the item fails with the segment's number and why.
    files.fail("ts/index4.ts", 100);
    let out = tempfile::tempdir().expect("out");
    let mut h = Harness::at(
        out.path().to_path_buf(),
        Limits {
            retries: 1,
            retry_base: Duration::from_millis(50),
            ..limits()
        },
    );
    let id = h.submit(&files.url(&ts));
    let done = h.finish(&[id]).await.remove(&id).expect("finished");
    match &done.outcome {
        Outcome::Failed(FetchError::Segment { number, reason, .. }) => {
            assert_eq!(*number, 4);
            assert!(reason.contains("503"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let retries = h
        .log
        .iter()
        .filter(|e| matches!(e, Event::Retrying { .. }))
        .count();
    assert_eq!(retries, 1, "{:?}", h.log);
}

/// A master playlist (written here) whose subtitles group has an English and a French WebVTT
/// rendition of three segments each: none is fetched unless asked; `--sub-langs fr` saves the
/// French (`fr-FR`) one beside the video as `master.fr-FR.vtt` — its segments' cues in order
/// under one header, a file ffmpeg reads — and `all` saves both, listed with the video.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subtitles_renditions_are_saved_beside_the_video_when_asked() {
    let Some((dir, source, ts)) = ts_stream() else {
        return;
    };
    let root = dir.path();
    let subs = root.join("subs");
    std::fs::create_dir(&subs).expect("subs");
    let cue = |lang: &str, i: usize| {
        format!(
            "00:00:{:02}.000 --> 00:00:{:02}.500\n{lang} line {i}\n",
            2 * i,
            2 * i + 1
        )
    };
    let header = "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n";
    for (lang, file) in [("English", "en"), ("French", "fr")] {
        let mut playlist = String::from(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n",
        );
        for i in 0..3 {
            let segment = format!("{header}{}", cue(lang, i));
            std::fs::write(subs.join(format!("{file}{i}.vtt")), segment).expect("segment");
            playlist.push_str(&format!("#EXTINF:2.0,\n{file}{i}.vtt\n"));
        }
        playlist.push_str("#EXT-X-ENDLIST\n");
        std::fs::write(subs.join(format!("{file}.m3u8")), playlist).expect("playlist");
    }
    let master = format!(
        "#EXTM3U\n\
         #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,URI=\"subs/en.m3u8\"\n\
         #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Français\",LANGUAGE=\"fr-FR\",URI=\"subs/fr.m3u8\"\n\
         #EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=320x240,SUBTITLES=\"subs\"\n{ts}\n"
    );
    std::fs::write(root.join("master.m3u8"), master).expect("master");
    let files = Files::start(root).await;
    let fetch = |langs: Option<&str>| {
        let out = tempfile::tempdir().expect("out");
        let mut args = vec![s("--json"), s("-o"), out.path().display().to_string()];
        if let Some(langs) = langs {
            args.extend([s("--sub-langs"), s(langs)]);
        }
        args.push(files.url("master.m3u8"));
        (out, args)
    };
    let joined = |lang: &str| {
        format!(
            "{header}{}\n{}\n{}",
            cue(lang, 0),
            cue(lang, 1),
            cue(lang, 2)
        )
    };

    let (out, args) = fetch(None);
    let video = one_file(&run(args, None).await);
    same_as_source(&video, &source, true);
    assert_eq!(only_files(out.path()), ["master.mp4"]);
    assert_eq!(files.asked(".vtt"), 0, "no subtitles unless asked");

    let (out, args) = fetch(Some("fr"));
    let output = run(args, None).await;
    let video = one_file(&output);
    same_as_source(&video, &source, true);
    assert_eq!(only_files(out.path()), ["master.fr-FR.vtt", "master.mp4"]);
    let vtt = out.path().join("master.fr-FR.vtt");
    assert_eq!(
        std::fs::read_to_string(&vtt).expect("vtt"),
        joined("French")
    );
    assert_eq!(files.asked("en0.vtt"), 0, "only the language asked");
    let (items, _) = json_lines(&output);
    let listed: Vec<&str> = items[0]["files"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["path"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(listed.len(), 2, "{items:?}");
    assert!(listed[1].ends_with("master.fr-FR.vtt"), "{listed:?}");
    // ffmpeg reads it as the three cues.
    haul_testkit::media::ffmpeg(out.path(), &["-i", "master.fr-FR.vtt", "fr.srt"]);
    let srt = std::fs::read_to_string(out.path().join("fr.srt")).expect("srt");
    for i in 0..3 {
        assert!(srt.contains(&format!("French line {i}")), "{srt}");
    }
    assert!(srt.contains("00:00:04,000 --> 00:00:05,500"), "{srt}");

    let (out, args) = fetch(Some("all"));
    one_file(&run(args, None).await);
    assert_eq!(
        only_files(out.path()),
        ["master.en.vtt", "master.fr-FR.vtt", "master.mp4"]
    );
    assert_eq!(
        std::fs::read_to_string(out.path().join("master.en.vtt")).expect("vtt"),
        joined("English")
    );

    let bad = run(
        vec![s("--sub-langs"), s("en;fr"), files.url("master.m3u8")],
        None,
    )
    .await;
    assert_eq!(bad.status.code(), Some(2), "{bad:?}");
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a language"));
}

/// A DASH manifest ffmpeg writes, with the text adaptation sets real manifests carry added
/// here: French as one WebVTT file by its `BaseURL`, English as WebVTT segments by a
/// `SegmentTemplate`, German as TTML in MP4 (`stpp`) and Spanish as WebVTT in MP4 (`wvtt`).
/// None is fetched unless asked; `--sub-langs fr` saves `manifest.fr-FR.vtt` as the file is;
/// `all` saves the English segments' cues under one header too, and refuses the German and
/// Spanish with a sentence each, without fetching them, and the Italian set of no type once
/// its bytes show TTML, the video done.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dash_text_adaptation_sets_are_saved_beside_the_video_when_asked() {
    if !haul_testkit::media::ffmpeg_or_skip() {
        return;
    }
    let (dir, source) = crate::stream::streams();
    let root = dir.path();
    let mpd = haul_testkit::media::dash(root, &source, "dash");
    let subs = root.join("dash").join("subs");
    std::fs::create_dir(&subs).expect("subs");
    let cue = |lang: &str, i: usize| {
        format!(
            "00:00:{:02}.000 --> 00:00:{:02}.500\n{lang} line {i}\n",
            2 * i,
            2 * i + 1
        )
    };
    let french = format!(
        "WEBVTT\n\n{}\n{}\n{}",
        cue("French", 0),
        cue("French", 1),
        cue("French", 2)
    );
    std::fs::write(subs.join("fr.vtt"), &french).expect("fr");
    let ttml = "<?xml version=\"1.0\"?><tt xmlns=\"http://www.w3.org/ns/ttml\"><body/></tt>";
    std::fs::write(subs.join("it.ttml"), ttml).expect("it");
    for i in 0..3 {
        let segment = format!("WEBVTT\n\n{}", cue("English", i));
        std::fs::write(subs.join(format!("en-{}.vtt", i + 1)), segment).expect("en");
    }
    let sets = "<AdaptationSet contentType=\"text\" mimeType=\"text/vtt\" lang=\"fr-FR\">\
          <Representation id=\"fr\" bandwidth=\"256\"><BaseURL>subs/fr.vtt</BaseURL></Representation>\
        </AdaptationSet>\
        <AdaptationSet contentType=\"text\" mimeType=\"text/vtt\" lang=\"en\">\
          <SegmentTemplate timescale=\"1\" media=\"subs/en-$Number$.vtt\" startNumber=\"1\">\
            <SegmentTimeline><S t=\"0\" d=\"2\" r=\"2\"/></SegmentTimeline>\
          </SegmentTemplate>\
          <Representation id=\"en\" bandwidth=\"256\"/>\
        </AdaptationSet>\
        <AdaptationSet contentType=\"text\" mimeType=\"application/mp4\" codecs=\"stpp\" lang=\"de\">\
          <Representation id=\"de\" bandwidth=\"256\"><BaseURL>subs/de.mp4</BaseURL></Representation>\
        </AdaptationSet>\
        <AdaptationSet contentType=\"text\" mimeType=\"application/mp4\" codecs=\"wvtt\" lang=\"es\">\
          <Representation id=\"es\" bandwidth=\"256\"><BaseURL>subs/es.mp4</BaseURL></Representation>\
        </AdaptationSet>\
        <AdaptationSet contentType=\"text\" lang=\"it\">\
          <Representation id=\"it\" bandwidth=\"256\"><BaseURL>subs/it.ttml</BaseURL></Representation>\
        </AdaptationSet></Period>";
    let manifest = root.join(&mpd);
    let text = std::fs::read_to_string(&manifest).expect("manifest");
    assert_eq!(text.matches("</Period>").count(), 1, "{text}");
    std::fs::write(&manifest, text.replace("</Period>", sets)).expect("manifest");
    let files = Files::start(root).await;
    let fetch = |langs: Option<&str>| {
        let out = tempfile::tempdir().expect("out");
        let mut args = vec![s("--json"), s("-o"), out.path().display().to_string()];
        if let Some(langs) = langs {
            args.extend([s("--sub-langs"), s(langs)]);
        }
        args.push(files.url(&mpd));
        (out, args)
    };

    let (out, args) = fetch(None);
    let video = one_file(&run(args, None).await);
    same_as_source(&video, &source, true);
    assert_eq!(only_files(out.path()), ["manifest.mp4"]);
    assert_eq!(files.asked(".vtt"), 0, "no subtitles unless asked");

    let (out, args) = fetch(Some("fr"));
    let output = run(args, None).await;
    one_file(&output);
    assert_eq!(
        only_files(out.path()),
        ["manifest.fr-FR.vtt", "manifest.mp4"]
    );
    let read = |out: &tempfile::TempDir, name: &str| {
        std::fs::read_to_string(out.path().join(name)).expect("vtt")
    };
    assert_eq!(read(&out, "manifest.fr-FR.vtt"), french);
    assert_eq!(files.asked(".vtt"), 1, "only the language asked");
    let (items, _) = json_lines(&output);
    assert_eq!(
        items[0]["files"].as_array().map(Vec::len),
        Some(2),
        "{items:?}"
    );

    let (out, args) = fetch(Some("all"));
    let output = run(args, None).await;
    one_file(&output);
    assert_eq!(
        only_files(out.path()),
        ["manifest.en.vtt", "manifest.fr-FR.vtt", "manifest.mp4"]
    );
    assert_eq!(
        read(&out, "manifest.en.vtt"),
        format!(
            "WEBVTT\n\n{}\n{}\n{}",
            cue("English", 0),
            cue("English", 1),
            cue("English", 2)
        )
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    for sentence in [
        "the 'de' subtitles are not saved: they are TTML in MP4 (stpp), and Haul saves \
         WebVTT text only; the video is saved without them",
        "the 'es' subtitles are not saved: they are WebVTT in MP4 (wvtt), and Haul saves",
        "the 'it' subtitles are not saved: they are not WebVTT",
    ] {
        assert!(stderr.contains(sentence), "{stderr}");
    }
    assert_eq!(files.asked("de.mp4") + files.asked("es.mp4"), 0);
    assert_eq!(files.asked("it.ttml"), 1);
}
