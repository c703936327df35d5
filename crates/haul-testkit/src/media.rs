//! Video streams for the tests, made at test time by ffmpeg from its own test sources
//! (`testsrc`, `sine`), and a static file server for them that counts requests.
//!
//! - [`ffmpeg_or_skip`]: whether ffmpeg and ffprobe are there (a skip without them, a failure
//!   under `HAUL_REQUIRE_FFMPEG=1`).
//! - [`source`]: a short H.264 + AAC clip; the `hls_*`/[`dash`] makers segment it with
//!   `-c copy`, so a stream's decoded frames are the source's ([`frame_hashes`]).
//! - [`Files`]: a loopback HTTP/1.1 server for a folder (`Range` honoured, the `Content-Type`
//!   of `.m3u8`, `.mpd` and `.vtt`, or one set for a path, a 404 for a missing file, an
//!   optional rate per reply, a 503 for the next requests of a path when told), logging every
//!   path asked for.
//!
//! Must not touch: Haul itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Whether ffmpeg and ffprobe are on the PATH; without them the test is skipped, and fails
/// under `HAUL_REQUIRE_FFMPEG=1` (as `.ci/run` sets it after installing ffmpeg).
pub fn ffmpeg_or_skip() -> bool {
    let found = ["ffmpeg", "ffprobe"].iter().all(|tool| {
        Command::new(tool)
            .arg("-version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !found {
        assert!(
            std::env::var_os("HAUL_REQUIRE_FFMPEG").is_none(),
            "ffmpeg is not installed"
        );
        eprintln!("skipped: ffmpeg is not installed (apt install ffmpeg)");
    }
    found
}

/// Runs ffmpeg quietly with `args` in `folder` (relative names in what it writes, as a
/// playlist's segments, are then the folder's); panics with what it said when it fails.
pub fn ffmpeg(folder: &Path, args: &[&str]) {
    let output = Command::new("ffmpeg")
        .current_dir(folder)
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("run ffmpeg");
    assert!(
        output.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A clip of `seconds` seconds: 320x240 test pattern at 25 fps (a key frame each second)
/// with a 440 Hz tone, H.264 + AAC in MPEG-TS, as `dir/source.ts`.
pub fn source(dir: &Path, seconds: u32) -> PathBuf {
    let out = dir.join("source.ts");
    let video = format!("testsrc=size=320x240:rate=25:duration={seconds}");
    let audio = format!("sine=frequency=440:duration={seconds}");
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            &video,
            "-f",
            "lavfi",
            "-i",
            &audio,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-keyint_min",
            "25",
            "-sc_threshold",
            "0",
            "-c:a",
            "aac",
            "-shortest",
            &path_str(&out),
        ],
    );
    out
}

fn path_str(path: &Path) -> String {
    path.display().to_string()
}

/// `source` cut into an HLS VOD stream in `dir/name/` with 1-second segments, and `extra`
/// ffmpeg options (fMP4, a key, a single file…); returns the media playlist's path
/// relative to `dir`.
pub fn hls(dir: &Path, source: &Path, name: &str, extra: &[&str]) -> String {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).expect("folder");
    let source = path_str(source);
    let mut args = vec!["-i", &source, "-c", "copy", "-f", "hls", "-hls_time", "1"];
    args.extend(["-hls_playlist_type", "vod", "-hls_list_size", "0"]);
    args.extend(extra);
    args.push("index.m3u8");
    ffmpeg(&folder, &args);
    format!("{name}/index.m3u8")
}

/// An AES-128 key file and ffmpeg's key info file for it (the key's URI is `enc.key`, next
/// to the playlist), in `dir/name/`; returns the key info file's path.
pub fn hls_key(dir: &Path, name: &str) -> PathBuf {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).expect("folder");
    let key: Vec<u8> = (0u8..16)
        .map(|i| i.wrapping_mul(37).wrapping_add(11))
        .collect();
    std::fs::write(folder.join("enc.key"), key).expect("key");
    let info = folder.join("key.info");
    std::fs::write(
        &info,
        format!("enc.key\n{}\n", path_str(&folder.join("enc.key"))),
    )
    .expect("key info");
    info
}

/// A master playlist with two video variants (320x240 at 400 kbit/s and 160x120 at 30
/// kbit/s, each encoded again) sharing one separate audio rendition, in `dir/name/` (as
/// `hi.m3u8`, `lo.m3u8`, `audio.m3u8`); returns the master's path relative to `dir`.
pub fn hls_master(dir: &Path, source: &Path, name: &str) -> String {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).expect("folder");
    let source = path_str(source);
    let mut args = vec!["-i", &source, "-map", "0:v", "-map", "0:v", "-map", "0:a"];
    args.extend(["-c:v", "libx264", "-preset", "ultrafast", "-b:v:0", "400k"]);
    args.extend([
        "-s:v:1",
        "160x120",
        "-b:v:1",
        "30k",
        "-g",
        "25",
        "-keyint_min",
        "25",
    ]);
    args.extend([
        "-sc_threshold",
        "0",
        "-c:a",
        "copy",
        "-f",
        "hls",
        "-hls_time",
        "1",
    ]);
    args.extend(["-hls_playlist_type", "vod", "-hls_list_size", "0"]);
    args.extend(["-master_pl_name", "master.m3u8", "-var_stream_map"]);
    args.push("v:0,agroup:aud,name:hi v:1,agroup:aud,name:lo a:0,agroup:aud,name:audio");
    args.extend(["-hls_segment_filename", "%v_%03d.ts", "%v.m3u8"]);
    ffmpeg(&folder, &args);
    format!("{name}/master.m3u8")
}

/// `source` as a static DASH stream in `dir/name/` (ffmpeg's `-f dash`: one adaptation set for
/// the video and one for the audio, `SegmentTemplate` with a `SegmentTimeline`, 1-second
/// fMP4 segments); returns the manifest's path relative to `dir`.
pub fn dash(dir: &Path, source: &Path, name: &str) -> String {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).expect("folder");
    let source = path_str(source);
    let mut args = vec!["-i", &source, "-map", "0:v", "-map", "0:a", "-c", "copy"];
    args.extend([
        "-tag:v",
        "avc1",
        "-tag:a",
        "mp4a",
        "-bsf:a",
        "aac_adtstoasc",
    ]);
    args.extend(["-f", "dash", "-seg_duration", "1", "-use_template", "1"]);
    args.extend(["-use_timeline", "1", "-adaptation_sets"]);
    args.extend(["id=0,streams=v id=1,streams=a", "manifest.mpd"]);
    ffmpeg(&folder, &args);
    format!("{name}/manifest.mpd")
}

/// The MD5 of each decoded frame of `path`'s stream `which` (`v` or `a`), in order
/// (`ffmpeg -f framemd5`; every frame as decoded, none dropped or doubled for its timestamp,
/// and timestamps left out, so a remux that shifts them compares equal).
pub fn frame_hashes(path: &Path, which: &str) -> Vec<String> {
    let output = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-map", &format!("0:{which}"), "-fps_mode", "passthrough"])
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(
        output.status.success(),
        "framemd5 of {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_owned()))
        .collect()
}

/// The duration in seconds ffprobe reads from `path`'s container.
pub fn duration(path: &Path) -> f64 {
    format_seconds(path, "duration")
}

/// A time in seconds of `path`'s container as ffprobe reads it: its `format=ENTRY`
/// (`duration`, `start_time`: when its first frame is shown).
pub fn format_seconds(path: &Path, entry: &str) -> f64 {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-show_entries"])
        .arg(format!("format={entry}"))
        .args(["-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no {entry} for {}: {output:?}", path.display()))
}

/// A static file server on 127.0.0.1 for a folder.
pub struct Files {
    pub port: u16,
    log: Arc<Mutex<Vec<String>>>,
    rate: Arc<AtomicU64>,
    /// Paths (by their ending) answered `503` for as many more requests as counted.
    failing: Failing,
    types: Types,
    task: tokio::task::JoinHandle<()>,
}

/// `Content-Type`s set for paths, over the one their extension gives.
type Types = Arc<Mutex<Vec<(String, String)>>>;

impl Drop for Files {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Files {
    pub async fn start(root: &Path) -> Files {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let rate = Arc::new(AtomicU64::new(0));
        let failing = Failing::default();
        let types = Types::default();
        let (root, task_log, task_rate) = (root.to_path_buf(), Arc::clone(&log), Arc::clone(&rate));
        let (task_failing, task_types) = (Arc::clone(&failing), Arc::clone(&types));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (root, log, rate) =
                    (root.clone(), Arc::clone(&task_log), Arc::clone(&task_rate));
                let (failing, types) = (Arc::clone(&task_failing), Arc::clone(&task_types));
                tokio::spawn(async move {
                    let _ = serve(stream, &root, &log, &rate, (&failing, &types)).await;
                });
            }
        });
        Files {
            port,
            log,
            rate,
            failing,
            types,
            task,
        }
    }

    /// Each later reply for `path` (`/get`, its query aside) says `content_type`, as a web
    /// app that serves downloads by id names their type but not their file.
    pub fn set_type(&self, path: &str, content_type: &str) {
        self.types
            .lock()
            .expect("types")
            .push((path.to_owned(), content_type.to_owned()));
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    /// Every path asked for so far, in order.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// How many requests asked for a path ending in `suffix`.
    pub fn asked(&self, suffix: &str) -> usize {
        self.log().iter().filter(|p| p.ends_with(suffix)).count()
    }

    /// Answers the next `times` requests for a path ending in `suffix` with
    /// `503 Service Unavailable` (a server busy for a moment).
    pub fn fail(&self, suffix: &str, times: usize) {
        self.failing
            .lock()
            .expect("failing")
            .push((suffix.to_owned(), times));
    }

    /// Each reply's body at about `bytes` a second from now on (0: as fast as it goes).
    pub fn set_rate(&self, bytes: u64) {
        self.rate.store(bytes, Ordering::SeqCst);
    }
}

/// Paths answered 503, by their ending, with how many more times.
type Failing = Arc<Mutex<Vec<(String, usize)>>>;

async fn serve(
    mut stream: TcpStream,
    root: &Path,
    log: &Mutex<Vec<String>>,
    rate: &AtomicU64,
    (failing, types): (&Failing, &Types),
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 || head.len() > 65536 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let target = head.split(' ').nth(1).unwrap_or("/").to_owned();
    let path = target.split('?').next().unwrap_or("/").to_owned();
    log.lock().expect("log").push(path.clone());
    let busy = failing
        .lock()
        .expect("failing")
        .iter_mut()
        .find(|(suffix, left)| *left > 0 && path.ends_with(suffix.as_str()))
        .map(|(_, left)| *left -= 1)
        .is_some();
    if busy {
        let reply =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        return stream.write_all(reply.as_bytes()).await;
    }
    let file = root.join(path.trim_start_matches('/'));
    let Ok(bytes) = std::fs::read(&file)
        .map_err(|_| ())
        .and_then(|b| if path.contains("..") { Err(()) } else { Ok(b) })
    else {
        let page = b"<html><body>404 Not Found</body></html>";
        let reply = format!(
            "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            page.len()
        );
        stream.write_all(reply.as_bytes()).await?;
        return stream.write_all(page).await;
    };
    let set = types
        .lock()
        .expect("types")
        .iter()
        .rev()
        .find(|(p, _)| *p == path)
        .map(|(_, t)| t.clone());
    let content_type = set.unwrap_or_else(|| {
        match file.extension().and_then(|e| e.to_str()) {
            Some("m3u8") => "application/vnd.apple.mpegurl",
            Some("mpd") => "application/dash+xml",
            Some("ts") => "video/mp2t",
            Some("mp4" | "m4s") => "video/mp4",
            Some("vtt") => "text/vtt",
            _ => "application/octet-stream",
        }
        .to_owned()
    });
    let range = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("range")
                .then(|| value.trim().to_owned())
        })
        .and_then(|v| {
            let (a, b) = v.strip_prefix("bytes=")?.split_once('-')?;
            let a: usize = a.parse().ok()?;
            let b: usize = if b.is_empty() {
                bytes.len().checked_sub(1)?
            } else {
                b.parse().ok()?
            };
            (a <= b && b < bytes.len()).then_some((a, b))
        });
    let (status, body, extra) = match range {
        Some((a, b)) => (
            "206 Partial Content",
            &bytes[a..=b],
            format!("Content-Range: bytes {a}-{b}/{}\r\n", bytes.len()),
        ),
        None => ("200 OK", &bytes[..], String::new()),
    };
    let reply = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(reply.as_bytes()).await?;
    let limit = rate.load(Ordering::SeqCst);
    if limit == 0 {
        return stream.write_all(body).await;
    }
    let piece = (limit / 10).max(1) as usize;
    for chunk in body.chunks(piece) {
        stream.write_all(chunk).await?;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}
