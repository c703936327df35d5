//! One window per person: the first `haul` holds the instance lock and listens on a local
//! socket; a later `haul` (a double-click, "Open with Haul", `haul URL`) hands its sources to
//! it — the running window adds them and comes to the front — and exits. It never opens the
//! saved queue itself.
//!
//! Owns: the instance lock (`instance.lock` in the data folder: an OS lock the first process
//! holds while it runs), the socket (a Unix socket file `haul.sock` in the data folder,
//! private to its owner; on Windows a named pipe named after the data folder), and the
//! hand-off: one JSON line each way ([`Handoff`], then `ok`). The message, the socket's name
//! and the sending side are `haul_browser::handoff`'s, shared with the browser host.
//! Must not touch: egui, the engine, the saved queue.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use haul_browser::handoff::Handoff;
use haul_browser::handoff::{MAX_MESSAGE, send as hand_off, socket_name};
use interprocess::local_socket::ListenerOptions;
use interprocess::local_socket::prelude::*;

use crate::protocol::Waker;

/// How starting went.
#[derive(Debug)]
pub enum Claim {
    /// This is the one Haul: it holds the lock (and serves the socket once [`Instance::serve`]
    /// is called).
    First(Instance),
    /// The running Haul took the sources; this process is done.
    HandedOff,
    /// A Haul holds the lock but did not answer in time: say so instead of opening a second
    /// window on the same queue.
    NoAnswer(String),
}

/// The running Haul's side: the lock, held until the process ends, and the socket.
#[derive(Debug)]
pub struct Instance {
    _lock: File,
    listener: Option<LocalSocketListener>,
}

/// Becomes the one Haul for `dir` (the data folder), or hands `handoff` to the one running,
/// waiting at most `patience` for it to answer.
pub fn claim(dir: &Path, handoff: &Handoff, patience: Duration) -> Claim {
    if let Err(e) = std::fs::create_dir_all(dir) {
        tracing::warn!(dir = %dir.display(), error = %e, "no data folder; running without the one-window guard");
    }
    let deadline = Instant::now() + patience;
    loop {
        match try_lock(dir) {
            Ok(Some(lock)) => return Claim::First(Instance::listen(lock, dir)),
            Ok(None) => {}
            Err(e) => {
                // Without a lock file there is no way to tell; run rather than refuse.
                tracing::warn!(error = %e, "cannot take the instance lock");
                return Claim::First(Instance {
                    _lock: match tempfile_lock() {
                        Some(file) => file,
                        None => return Claim::NoAnswer(e.to_string()),
                    },
                    listener: None,
                });
            }
        }
        match hand_off(dir, handoff, deadline) {
            Ok(()) => return Claim::HandedOff,
            Err(problem) if Instant::now() >= deadline => return Claim::NoAnswer(problem),
            Err(_) => {}
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A lock on nothing, for the rare case the data folder cannot hold one.
fn tempfile_lock() -> Option<File> {
    File::open(std::env::temp_dir()).ok()
}

/// `Some(lock)` when this process now holds the instance lock; `None` when another does.
fn try_lock(dir: &Path) -> std::io::Result<Option<File>> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("instance.lock"))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

impl Instance {
    fn listen(lock: File, dir: &Path) -> Instance {
        let listener = socket_name(dir).and_then(|name| {
            // A socket file left by a Haul that crashed is replaced.
            let options = ListenerOptions::new().name(name).try_overwrite(true);
            // A named pipe is open to every user by default (and readable by Everyone):
            // this one only to its owner.
            #[cfg(windows)]
            let options = {
                use interprocess::os::windows::local_socket::ListenerOptionsExt as _;
                options.security_descriptor(owner_only()?)
            };
            options.create_sync()
        });
        let listener = match listener {
            Ok(listener) => Some(listener),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other launches; they will say Haul does not answer");
                None
            }
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let _ = std::fs::set_permissions(
                dir.join("haul.sock"),
                std::fs::Permissions::from_mode(0o600),
            );
        }
        Instance {
            _lock: lock,
            listener,
        }
    }

    /// Serves later launches on a thread of its own: each hand-off is sent on `tx`, then `wake`
    /// is called (the window drains it), then the launch is told `ok`. Call it at once: the
    /// socket already accepts, and hand-offs wait in `tx` until the window reads them. The
    /// lock is held as long as the returned value lives. Each launch is served on a thread of
    /// its own and given [`READ_PATIENCE`] to send its line, so one that connects and stays
    /// silent holds up no other.
    pub fn serve(mut self, tx: mpsc::Sender<Handoff>, wake: Option<Waker>) -> InstanceGuard {
        if let Some(listener) = self.listener.take() {
            let spawned = std::thread::Builder::new()
                .name("haul-instance".into())
                .spawn(move || {
                    for conn in listener.incoming().filter_map(Result::ok) {
                        let (tx, wake) = (tx.clone(), wake.clone());
                        let served = std::thread::Builder::new()
                            .name("haul-handoff".into())
                            .spawn(move || serve_one(conn, &tx, wake.as_ref()));
                        if let Err(e) = served {
                            tracing::warn!(error = %e, "cannot serve a launch");
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot serve other launches");
            }
        }
        InstanceGuard { _lock: self._lock }
    }
}

/// How long a launch has to send its hand-off once connected.
const READ_PATIENCE: Duration = Duration::from_secs(5);

/// Reads one launch's hand-off (until [`READ_PATIENCE`] runs out), passes it on and answers
/// `ok`.
fn serve_one(conn: LocalSocketStream, tx: &mpsc::Sender<Handoff>, wake: Option<&Waker>) {
    let line = match read_line_within(&conn, READ_PATIENCE) {
        Ok(line) => line,
        Err(e) => {
            tracing::warn!(error = %e, "a launch connected but sent no hand-off");
            return;
        }
    };
    let Ok(handoff) = serde_json::from_slice::<Handoff>(&line) else {
        tracing::warn!("a launch sent something that is not a hand-off");
        return;
    };
    tracing::info!(
        sources = handoff.sources.len(),
        "sources handed over by another launch"
    );
    if tx.send(handoff).is_err() {
        return; // the window is gone
    }
    if let Some(wake) = wake {
        wake();
    }
    let mut conn = conn;
    let _ = conn.write_all(b"ok\n");
}

/// One line (without its `\n`) from `conn`, read without blocking (named pipes have no read
/// timeouts) until `patience` runs out or [`MAX_MESSAGE`] bytes came without a line end.
/// Leaves `conn` blocking again for the answer.
fn read_line_within(conn: &LocalSocketStream, patience: Duration) -> std::io::Result<Vec<u8>> {
    use std::io::ErrorKind;
    conn.set_nonblocking(true)?;
    let deadline = Instant::now() + patience;
    let mut line = Vec::new();
    let mut chunk = [0u8; 8192];
    let mut reader = conn;
    loop {
        match reader.read(&mut chunk) {
            Ok(0) => return Err(ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                if let Some(end) = chunk[..n].iter().position(|&b| b == b'\n') {
                    line.extend_from_slice(&chunk[..end]);
                    conn.set_nonblocking(false)?;
                    return Ok(line);
                }
                line.extend_from_slice(&chunk[..n]);
                if line.len() as u64 > MAX_MESSAGE {
                    return Err(std::io::Error::new(ErrorKind::InvalidData, "too long"));
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if Instant::now() >= deadline {
                    return Err(ErrorKind::TimedOut.into());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The pipe's security descriptor: its owner, the current user, alone may open it.
#[cfg(windows)]
fn owner_only()
-> std::io::Result<interprocess::os::windows::security_descriptor::SecurityDescriptor> {
    use super::system::{current_user_sid, owner_only_sddl};
    let sddl = owner_only_sddl(&current_user_sid()?);
    let wide = widestring::U16CString::from_str(sddl).map_err(std::io::Error::other)?;
    interprocess::os::windows::security_descriptor::SecurityDescriptor::deserialize(&wide)
}

/// Holds the instance lock until dropped (at the end of the process).
#[derive(Debug)]
pub struct InstanceGuard {
    _lock: File,
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::path::PathBuf;

    fn handoff(sources: &[&str]) -> Handoff {
        Handoff {
            sources: sources.iter().map(|s| (*s).to_owned()).collect(),
            dest: Some(PathBuf::from("/d")),
            cwd: PathBuf::from("/here"),
            ..Handoff::default()
        }
    }

    /// The browser host finds the window's socket in the folder eframe gives the window.
    #[test]
    fn the_hand_off_client_knows_the_windows_data_folder() {
        assert_eq!(
            haul_browser::handoff::data_dir(),
            eframe::storage_dir("haul")
        );
    }

    #[test]
    fn a_second_launch_hands_its_sources_to_the_first_and_a_silent_first_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A Haul that holds the lock but never answers (hung before it listened): a second
        // launch waits, then says so.
        {
            let _hung = try_lock(dir.path()).ok().flatten().expect("the lock");
            let silent = claim(dir.path(), &handoff(&["a"]), Duration::from_millis(300));
            assert!(matches!(silent, Claim::NoAnswer(_)), "{silent:?}");
        }
        let Claim::First(first) = claim(dir.path(), &handoff(&[]), Duration::from_secs(2)) else {
            panic!("the first launch runs");
        };
        let (tx, rx) = mpsc::channel();
        let _guard = first.serve(tx, None);
        // A launch that connects and says nothing holds up no other.
        let _silent = LocalSocketStream::connect(socket_name(dir.path()).expect("name"))
            .expect("a silent client connects");
        let second = claim(
            dir.path(),
            &handoff(&["http://h/a", "b.txt"]),
            Duration::from_secs(3),
        );
        assert!(matches!(second, Claim::HandedOff), "{second:?}");
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).ok(),
            Some(handoff(&["http://h/a", "b.txt"]))
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("haul.sock"))
                .expect("socket")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "only its owner can hand it work");
        }
    }
}
