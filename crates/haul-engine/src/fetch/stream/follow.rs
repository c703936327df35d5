//! Remuxing as the segments arrive: for a stream of one track with ffmpeg there, ffmpeg is
//! started with the download and fed the held segments in play order through its standard
//! input as each becomes the next one held (`pipe:0`, `-c copy` into `merged.mp4` in the
//! stream's folder), so the merge overlaps the download and only its tail is left at the end.
//! The segments still go to disk first (`held`): a pause, a failure or `kill -9` loses nothing,
//! and the next attempt feeds a new ffmpeg from the first segment again. When following fails
//! (ffmpeg cannot read the stream from a pipe), the merge afterwards reads the held segments
//! itself (`merge`).
//! Must not touch: fetching (`segments`), committing the file (`merge`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::AsyncWriteExt as _;
use tokio::sync::Notify;

use crate::fetch::Stop;
use crate::protocol::FetchError;

/// Which segments of the followed track are held, and a wake-up when one more is.
pub(crate) struct Ready {
    held: Mutex<Vec<bool>>,
    changed: Notify,
}

impl Ready {
    pub(crate) fn new(held: Vec<bool>) -> Arc<Ready> {
        Arc::new(Ready {
            held: Mutex::new(held),
            changed: Notify::new(),
        })
    }

    /// Segment `index` is held now.
    pub(crate) fn set(&self, index: usize) {
        if let Some(bit) = self
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_mut(index)
        {
            *bit = true;
        }
        self.changed.notify_one();
    }

    fn has(&self, index: usize) -> bool {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(index)
            .copied()
            .unwrap_or(false)
    }

    async fn wait(&self, index: usize) {
        while !self.has(index) {
            self.changed.notified().await;
        }
    }
}

/// ffmpeg following a download; stopped (and ffmpeg killed) when dropped.
pub(crate) struct Follow {
    task: tokio::task::JoinHandle<Result<PathBuf, Stop>>,
}

impl Drop for Follow {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Follow {
    /// Starts ffmpeg on `segments` (in play order), fed as `ready` says they are held,
    /// writing the container `format` (ffmpeg's `-f`: the file name's, `merge::container`).
    pub(crate) fn start(
        ffmpeg: &Path,
        folder: &Path,
        segments: Vec<PathBuf>,
        ready: Arc<Ready>,
        format: &'static str,
    ) -> Follow {
        let (ffmpeg, merged) = (ffmpeg.to_path_buf(), folder.join("merged.mp4"));
        let task = tokio::spawn(async move {
            let failed = |why: String| Stop::Failed(FetchError::Stream(why));
            let mut child = tokio::process::Command::new(&ffmpeg)
                .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
                .args(["-i", "pipe:0", "-map", "0:v?", "-map", "0:a?"])
                .args(["-c", "copy", "-f", format])
                .arg(&merged)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| failed(format!("ffmpeg could not be started: {e}")))?;
            let mut stdin = child
                .stdin
                .take()
                .ok_or_else(|| failed("ffmpeg's input could not be opened".to_owned()))?;
            for (index, segment) in segments.iter().enumerate() {
                ready.wait(index).await;
                let bytes = tokio::fs::read(segment)
                    .await
                    .map_err(|e| failed(format!("{}: {e}", segment.display())))?;
                if stdin.write_all(&bytes).await.is_err() {
                    break; // ffmpeg has ended: its status says why
                }
            }
            drop(stdin);
            let output = child
                .wait_with_output()
                .await
                .map_err(|e| failed(format!("ffmpeg did not finish: {e}")))?;
            if !output.status.success() {
                let said = String::from_utf8_lossy(&output.stderr);
                let last = said.lines().rev().find(|l| !l.trim().is_empty());
                return Err(failed(format!(
                    "ffmpeg could not remux the segments as they came ({}: {})",
                    output.status,
                    last.unwrap_or("")
                )));
            }
            Ok(merged)
        });
        Follow { task }
    }

    /// The merged file, once every segment was fed and ffmpeg has finished.
    pub(crate) async fn finish(mut self) -> Result<PathBuf, Stop> {
        match (&mut self.task).await {
            Ok(result) => result,
            Err(e) => Err(Stop::Failed(crate::item::internal(&e))),
        }
    }
}
