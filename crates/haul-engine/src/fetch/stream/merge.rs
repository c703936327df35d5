//! A stream's held segments made into one playable file under its final name.
//!
//! Owns: finding ffmpeg (`HAUL_FFMPEG`, else `ffmpeg` on the PATH), the file's name and
//! extension, and the merge. With ffmpeg, each track's segments are read in order as one
//! input (ffmpeg's `concatf:` protocol over a list of the segment files, so nothing is copied
//! first) and remuxed losslessly (`-c copy`) into the container the file's name says
//! (`.mkv`, `.mov`, `.ts`; else MP4, an `out` of another extension then renamed `.mp4`, with
//! a warning) in the stream's folder, with a
//! separate audio rendition as its audio; that file is then moved over the item's `.part`
//! (created exclusively first: `PartFile::take_file`), hashed where it lies, and committed —
//! not copied. Without ffmpeg the video track's segments are concatenated straight into
//! the `.part`: MPEG-TS segments make a playable `.ts`, fMP4 segments after their init
//! segment a playable `.mp4` (a separate audio rendition cannot be merged then, and is left
//! out with a warning). Nothing is under the final name until the merge succeeded: a merge
//! that fails keeps the segments and says why.
//! Must not touch: the network, which segments are held (`held`).

use std::ffi::OsString;
use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio_util::sync::CancellationToken;

use super::Plan;
use super::held::Held;
use crate::fetch::Stop;
use crate::item::{Job, blocking, part_args};
use crate::output::{Committed, PartFile, write_error};
use crate::protocol::FetchError;

/// The ffmpeg to remux with: `HAUL_FFMPEG` when set (empty or `none`: none), else `ffmpeg`
/// found on the PATH.
pub(crate) fn ffmpeg() -> Option<PathBuf> {
    if let Some(given) = std::env::var_os("HAUL_FFMPEG") {
        if given.is_empty() || given == "none" {
            return None;
        }
        return Some(PathBuf::from(given));
    }
    let exe = if cfg!(windows) {
        "ffmpeg.exe"
    } else {
        "ffmpeg"
    };
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(exe))
        .find(|path| path.is_file())
}

/// The extensions ffmpeg remuxes into with `-c copy`, and its format for each.
const CONTAINERS: [(&str, &str); 5] = [
    ("mp4", "mp4"),
    ("m4v", "mp4"),
    ("mkv", "matroska"),
    ("mov", "mov"),
    ("ts", "mpegts"),
];

/// The container (ffmpeg's `-f`) a remux into the file `name` writes: its extension's, else
/// MP4.
pub(crate) fn container(name: &str) -> &'static str {
    let ext = Path::new(name)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    CONTAINERS
        .iter()
        .find(|(e, _)| ext.as_deref() == Some(*e))
        .map_or("mp4", |(_, format)| *format)
}

/// The file's name: the item's `out` (when ffmpeg remuxes and cannot write its extension's
/// container, the same name as `.mp4`, said in a warning), else the playlist's name with the
/// extension of what will be written (`.mp4` when remuxed or fMP4, `.ts` for concatenated
/// MPEG-TS).
pub(crate) fn file_name(job: &Job, playlist_name: &str, plan: &Plan, remux: bool) -> String {
    if let Some(out) = &job.options.out {
        let path = Path::new(out);
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        return match ext {
            Some(ext) if remux && !CONTAINERS.iter().any(|(e, _)| *e == ext) => {
                let mp4 = path.with_extension("mp4").to_string_lossy().into_owned();
                tracing::warn!(
                    "ffmpeg cannot copy a stream into a .{ext} file: it is saved as MP4, {mp4}"
                );
                mp4
            }
            _ => out.clone(),
        };
    }
    let stem = Path::new(playlist_name)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "stream".to_owned());
    let fmp4 = plan.tracks.first().is_some_and(|t| t.fmp4);
    let ext = if remux || fmp4 { "mp4" } else { "ts" };
    format!("{stem}.{ext}")
}

/// Merges the held segments of `plan` into the file `name` and commits it (`merged`: the file
/// ffmpeg already remuxed them into as they came).
pub(crate) async fn merge(
    job: &Job,
    plan: &Plan,
    held: &Held,
    (name, merged): (&str, Option<PathBuf>),
    ffmpeg: Option<PathBuf>,
    stop: &CancellationToken,
) -> Result<Committed, Stop> {
    let (names, dest, overwrite) = part_args(job);
    let format = container(name);
    let name = name.to_owned();
    let url = match &job.source {
        crate::protocol::Source::Url(url) => Some(url.clone()),
        crate::protocol::Source::File(_) => None,
    };
    let expect = job.sha256;
    let create = move || -> Result<PartFile, Stop> {
        let mut part = PartFile::create(&names, &dest, &name, overwrite)?;
        part.expect(expect);
        if let Some(url) = &url {
            part.mark_downloaded_from(url);
        }
        Ok(part)
    };
    let tracks: Vec<Vec<PathBuf>> = plan
        .media()
        .iter()
        .enumerate()
        .map(|(t, track)| {
            // Every segment of a finished stream; those a live recording got before its stop.
            (0..track.segments.len())
                .filter(|&i| held.has(t, i))
                .map(|i| held.path(t, i))
                .collect()
        })
        .collect();
    match ffmpeg {
        Some(ffmpeg) => {
            // Remuxed already as the segments came (`follow`), else now.
            let merged = match merged {
                Some(merged) => merged,
                None => remux(&ffmpeg, held.folder(), &tracks, format, stop).await?,
            };
            let stop = stop.clone();
            blocking(move || {
                if stop.is_cancelled() {
                    return Err(Stop::Stopped);
                }
                let mut part = create()?;
                part.take_file(&merged)?;
                part.commit(None).map_err(Stop::Failed)
            })
            .await
        }
        None => {
            if tracks.len() > 1 {
                tracing::warn!(
                    "ffmpeg is not there: the separate audio rendition cannot be merged and is \
                     left out"
                );
            }
            let segments = tracks.into_iter().next().unwrap_or_default();
            let stop = stop.clone();
            blocking(move || {
                let mut part = create()?;
                for segment in &segments {
                    append(&mut part, segment, &stop)?;
                }
                part.commit(None).map_err(Stop::Failed)
            })
            .await
        }
    }
}

/// Appends a file's bytes to the part (hashed on the way).
fn append(part: &mut PartFile, path: &Path, stop: &CancellationToken) -> Result<(), Stop> {
    if stop.is_cancelled() {
        return Err(Stop::Stopped);
    }
    let mut file = fs::File::open(path).map_err(|e| {
        Stop::Failed(FetchError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    })?;
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = file.read(&mut buffer).map_err(|e| {
            Stop::Failed(FetchError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            })
        })?;
        if n == 0 {
            return Ok(());
        }
        part.write(&buffer[..n])?;
    }
}

/// Runs `ffmpeg -c copy` over the tracks' segments into `merged.mp4` in `folder`, in the
/// container `format` (ffmpeg's `-f`).
async fn remux(
    ffmpeg: &Path,
    folder: &Path,
    tracks: &[Vec<PathBuf>],
    format: &str,
    stop: &CancellationToken,
) -> Result<PathBuf, Stop> {
    let merged = folder.join("merged.mp4");
    let mut args: Vec<OsString> = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        .map(OsString::from)
        .to_vec();
    for (t, segments) in tracks.iter().enumerate() {
        let list = folder.join(format!("{t}.list"));
        let lines = segments.clone();
        let path = list.clone();
        blocking(move || {
            let mut file = fs::File::create(&path).map_err(|e| write_error(&path, &e))?;
            for line in &lines {
                writeln!(file, "{}", line.display()).map_err(|e| write_error(&path, &e))?;
            }
            Ok(())
        })
        .await?;
        args.push("-i".into());
        let mut input = OsString::from("concatf:");
        input.push(list.as_os_str());
        args.push(input);
    }
    // The first track's video (and its audio when it has no separate one), then each
    // separate rendition's audio.
    for map in ["0:v?", if tracks.len() > 1 { "1:a?" } else { "0:a?" }] {
        args.push("-map".into());
        args.push(map.into());
    }
    for more in ["-c", "copy", "-f", format] {
        args.push(more.into());
    }
    args.push(merged.clone().into_os_string());
    let child = tokio::process::Command::new(ffmpeg)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            Stop::Failed(FetchError::Stream(format!(
                "ffmpeg ({}) could not be started: {e}",
                ffmpeg.display()
            )))
        })?;
    let output = tokio::select! {
        () = stop.cancelled() => return Err(Stop::Stopped),
        output = child.wait_with_output() => output,
    };
    let output = output
        .map_err(|e| Stop::Failed(FetchError::Stream(format!("ffmpeg did not finish: {e}"))))?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        let last = said
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        return Err(Stop::Failed(FetchError::Stream(format!(
            "ffmpeg could not merge the segments ({}: {last}); they are kept in {}",
            output.status,
            folder.display()
        ))));
    }
    Ok(merged)
}
