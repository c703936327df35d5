//! Video streams run again and tried again: the same command for a stream already saved
//! skips it (as a file is skipped), and a segment that fails for a moment is retried and told
//! as a file's retry is. Against streams ffmpeg makes at test time and the testkit's file
//! server (`haul_testkit::media`); skipped without ffmpeg, failing under
//! `HAUL_REQUIRE_FFMPEG=1`.

use std::time::Duration;

use haul_core::protocol::{Event, FetchError, Limits, Outcome};
use haul_testkit::media::Files;

use crate::cli::{json_lines, run, s};
use crate::stream::{one_file, only_files, same_as_source, ts_stream};
use crate::support::harness::{Harness, limits};

/// The same command again for a finished stream: skipped, no segment asked again, no
/// `index (1).mp4`. Another stream whose file has the same name is not taken for it, and a
/// file removed since is fetched again.
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
    let Outcome::Done { files: saved } = &done.outcome else {
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
