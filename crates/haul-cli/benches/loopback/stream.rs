// W11 (issue 26): a video stream, HLS VOD, from nginx with `limit_rate 2m` per connection: a
// master playlist of two variants, the best one `segments` 1-second segments of about 2 MiB
// (16 Mbit/s), made by ffmpeg from its own test source at the start of the run. haul-cli
// (8 connections, as yt-dlp's -N 8) against `ffmpeg -i URL -c copy` (one segment at a time)
// and `yt-dlp -N 8` (its own HLS downloader with 8 concurrent fragments, from PyPI: bench/run
// installs it into a venv of its own and names it in `YT_DLP`). Each tool's file is checked by
// its decoded frames (`ffmpeg -f framemd5`) against the best variant's own. Skipped, saying
// why, without ffmpeg, yt-dlp or nginx.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

use super::{Servers, Sizes, Tool, Versus, Workload};

/// yt-dlp: `YT_DLP`, else `yt-dlp` on the PATH.
fn yt_dlp() -> Option<PathBuf> {
    if let Some(given) = std::env::var_os("YT_DLP") {
        return Some(PathBuf::from(given));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join("yt-dlp"))
        .find(|path| path.is_file())
}

fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The frames' MD5s of a video file's first video stream (timestamps left out).
pub(super) fn frame_hashes(path: &Path) -> anyhow::Result<Vec<String>> {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-map", "0:v:0", "-f", "framemd5", "-"])
        .output()
        .context("cannot run ffmpeg")?;
    anyhow::ensure!(
        output.status.success(),
        "framemd5 of {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_owned()))
        .collect())
}

/// Makes the stream into `folder`: `master.m3u8`, `hi.m3u8` (1280x720, 16 Mbit/s, constant
/// rate) and `lo.m3u8` (320x180, 500 kbit/s), `seconds` 1-second segments each.
fn make(folder: &Path, seconds: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(folder)?;
    let source = format!("testsrc2=size=1280x720:rate=30:duration={seconds}");
    let output = Command::new("ffmpeg")
        .current_dir(folder)
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(["-f", "lavfi", "-i", &source])
        .args(["-map", "0:v", "-map", "0:v", "-c:v", "libx264", "-preset", "ultrafast"])
        .args(["-b:v:0", "16M", "-minrate:v:0", "16M", "-maxrate:v:0", "16M"])
        .args(["-bufsize:v:0", "8M", "-s:v:1", "320x180", "-b:v:1", "500k"])
        .args(["-x264-params", "nal-hrd=cbr:force-cfr=1"])
        .args(["-g", "30", "-keyint_min", "30", "-sc_threshold", "0"])
        .args(["-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod"])
        .args(["-hls_list_size", "0", "-master_pl_name", "master.m3u8"])
        .args(["-var_stream_map", "v:0,name:hi v:1,name:lo"])
        .args(["-hls_segment_filename", "%v_%03d.ts", "%v.m3u8"])
        .output()
        .context("cannot run ffmpeg")?;
    if !output.status.success() {
        bail!("ffmpeg: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// W11, or why it cannot run here.
pub(super) fn w11(
    servers: &mut Servers,
    haul: &Path,
    sizes: &Sizes,
) -> anyhow::Result<Result<Workload, String>> {
    if !runs("ffmpeg") {
        return Ok(Err("ffmpeg is not installed (apt install ffmpeg)".to_owned()));
    }
    let Some(yt_dlp) = yt_dlp() else {
        return Ok(Err(
            "yt-dlp is not installed (bench/run installs it from PyPI and sets YT_DLP)".to_owned(),
        ));
    };
    let Some(nginx) = &servers.nginx else {
        return Ok(Err(
            "W11 needs nginx (limit_rate): run without --server own".to_owned(),
        ));
    };
    let folder = nginx.root.join("w11");
    make(&folder, sizes.stream_segments)?;
    let best: u64 = std::fs::read_dir(&folder)?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("hi_"))
        .filter_map(|e| e.metadata().ok().map(|m| m.len()))
        .sum();
    let frames = frame_hashes(&folder.join("hi.m3u8"))?;
    let url = format!("http://{}:{}/w11/master.m3u8", nginx.host, nginx.port);
    let (haul, u1) = (haul.to_path_buf(), url.clone());
    let (yt, u2, u3) = (yt_dlp, url.clone(), url);
    let tools = vec![
        Tool {
            name: "haul",
            command: Box::new(move |dest| {
                let mut c = Command::new(&haul);
                c.args(["-q", "-s", "8", "--per-host", "8", "--dest"])
                    .arg(dest)
                    .arg(&u1);
                c
            }),
        },
        Tool {
            name: "ffmpeg",
            command: Box::new(move |dest| {
                // ffmpeg makes no folder: the shell does, then runs it.
                let mut c = Command::new("sh");
                c.args([
                    "-c",
                    "mkdir -p \"$1\" && exec ffmpeg -hide_banner -loglevel error -nostdin \
                     -i \"$2\" -c copy \"$1/out.mp4\"",
                    "sh",
                ])
                .arg(dest)
                .arg(&u2);
                c
            }),
        },
        Tool {
            name: "yt-dlp",
            command: Box::new(move |dest| {
                let mut c = Command::new(&yt);
                c.args(["-q", "--no-progress", "-N", "8", "-o"])
                    .arg(dest.join("out.%(ext)s"))
                    .arg(&u3);
                c
            }),
        },
    ];
    Ok(Ok(Workload {
        name: "W11",
        what: format!(
            "an HLS stream of {} 1-second segments, 2 variants ({} MiB the best), nginx at 2 MiB/s \
             per connection; Haul and yt-dlp on 8 connections",
            sizes.stream_segments,
            best >> 20
        ),
        expected: Vec::new(),
        frames: Some(frames),
        tools,
        wall_target: (Versus::Tool("ffmpeg"), 0.3),
        cpu_target: None,
        more_targets: vec![(Versus::Tool("yt-dlp"), 1.0)],
        after: Vec::new(),
    }))
}
