//! The one-instance hand-off's message and its client: how a later `haul` launch or the
//! browser host gives sources to the running window. The window's side (the lock, the
//! listener) is `src/desktop/instance.rs`.
//!
//! Owns: [`Handoff`] (one JSON line each way: the hand-off, then `ok`), the socket's name
//! for a data folder (a Unix socket file `haul.sock` in it; on Windows a named pipe named
//! after it), sending, the window's data folder, and starting the window.
//! Must not touch: the window, the engine.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use interprocess::local_socket::Name;
use interprocess::local_socket::prelude::*;
use serde::{Deserialize, Serialize};

/// What a later `haul` (or the browser host) hands to the running one: sources, where they
/// go, where relative paths are taken from, and the options for each of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    pub sources: Vec<String>,
    pub dest: Option<PathBuf>,
    pub cwd: PathBuf,
    /// Per-item options (the option table's names: `header`, `referer`, `user-agent`,
    /// `out`) for every source, as an input list's indented lines give them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<(String, String)>,
    /// Show the sources in the add box for the person to pick from, instead of adding them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pick: bool,
}

/// The longest a hand-off message may be (a few thousand paths fit).
pub const MAX_MESSAGE: u64 = 4 * 1024 * 1024;

/// The window's data folder (where its lock and socket are), as eframe names it for the app
/// id `haul`: `$XDG_DATA_HOME/haul` or `~/.local/share/haul`, `~/Library/Application
/// Support/haul`, `%APPDATA%\haul\data`. The window's tests hold the two to the same answer.
pub fn data_dir() -> Option<PathBuf> {
    let home = std::env::home_dir();
    if cfg!(windows) {
        std::env::var_os("APPDATA").map(|d| PathBuf::from(d).join("haul").join("data"))
    } else if cfg!(target_os = "macos") {
        home.map(|h| h.join("Library").join("Application Support").join("haul"))
    } else {
        std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| home.map(|h| h.join(".local").join("share")))
            .map(|d| d.join("haul"))
    }
}

/// The socket's name for `dir`.
pub fn socket_name(dir: &Path) -> std::io::Result<Name<'static>> {
    #[cfg(unix)]
    {
        use interprocess::local_socket::GenericFilePath;
        dir.join("haul.sock").to_fs_name::<GenericFilePath>()
    }
    #[cfg(not(unix))]
    {
        use interprocess::local_socket::GenericNamespaced;
        use sha2::{Digest as _, Sha256};
        let digest = Sha256::digest(dir.as_os_str().as_encoded_bytes());
        let tag: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("haul-{tag}").to_ns_name::<GenericNamespaced>()
    }
}

/// Sends `handoff` to the Haul running for `dir` and waits for its `ok`, until `deadline`.
pub fn send(dir: &Path, handoff: &Handoff, deadline: Instant) -> Result<(), String> {
    let name = socket_name(dir).map_err(|e| e.to_string())?;
    let mut line = serde_json::to_vec(handoff).map_err(|e| e.to_string())?;
    line.push(b'\n');
    // The exchange runs on its own thread so a Haul that accepts but never answers cannot
    // hold this one past the deadline.
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = (|| {
            let mut stream = LocalSocketStream::connect(name)?;
            stream.write_all(&line)?;
            stream.flush()?;
            let mut reply = String::new();
            BufReader::new(stream).read_line(&mut reply)?;
            Ok::<_, std::io::Error>(reply)
        })();
        let _ = tx.send(result);
    });
    let wait = deadline.saturating_duration_since(Instant::now());
    match rx.recv_timeout(wait.max(Duration::from_millis(50))) {
        Ok(Ok(reply)) if reply.trim() == "ok" => Ok(()),
        Ok(Ok(reply)) => Err(format!("it answered {:?}", reply.trim())),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("it did not answer".to_owned()),
    }
}

/// Whether a Haul window runs for `dir`: one holds its instance lock. Asked without
/// connecting, so the window logs no empty launch.
pub fn window_runs(dir: &Path) -> bool {
    let Ok(file) = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("instance.lock"))
    else {
        return false;
    };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

/// Hands `handoff` to the window for `dir`; when none answers, starts `window` (the `haul`
/// program) once and keeps trying until `patience` runs out.
pub fn deliver(
    dir: &Path,
    handoff: &Handoff,
    window: &Path,
    patience: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + patience;
    let mut started = false;
    loop {
        let attempt = Instant::now() + Duration::from_secs(5);
        match send(dir, handoff, attempt.min(deadline)) {
            Ok(()) => return Ok(()),
            Err(why) if Instant::now() >= deadline => {
                return Err(format!("Haul did not take it ({why})"));
            }
            Err(_) => {}
        }
        if !started {
            start_window(window)
                .map_err(|e| format!("cannot start Haul ({}): {e}", window.display()))?;
            started = true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Starts the window, detached from the browser's host: its own process group (the browser
/// may end the host's), no console, stdio closed.
pub fn start_window(window: &Path) -> std::io::Result<()> {
    use std::process::{Command, Stdio};
    let mut command = Command::new(window);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        command.process_group(0);
    }
    #[cfg(windows)]
    {
        use std::os::windows::process::CommandExt as _;
        use windows_sys::Win32::System::Threading::{
            CREATE_BREAKAWAY_FROM_JOB, CREATE_NEW_PROCESS_GROUP, DETACHED_PROCESS,
        };
        // Out of the browser's job when it allows that, so closing the browser leaves Haul.
        command.creation_flags(
            DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | CREATE_BREAKAWAY_FROM_JOB,
        );
        if command.spawn().is_ok() {
            return Ok(());
        }
        command.creation_flags(DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP);
    }
    command.spawn().map(drop)
}
