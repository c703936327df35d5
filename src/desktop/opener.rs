//! Opening a finished file, or showing it in its folder, with the platform's own program
//! (`open` on macOS, Explorer on Windows, `xdg-open` elsewhere, then GLib's `gio open` where
//! xdg-utils is not installed, as on some minimal GNOME setups, then the desktop portal's
//! `OpenURI` over D-Bus, which sandboxed and minimal desktops answer with no program at all).
//!
//! Owns: building those commands (Explorer's `/select,"PATH"` argument), the portal call,
//! telling a file that is gone from a program that failed, and reading their exit codes.
//! Must not touch: the window's state (it answers with a [`Reply`]).

use std::path::{Path, PathBuf};

use super::Reply;

pub(super) async fn run_opener(path: PathBuf, reveal: bool) -> Option<Reply> {
    run_first(openers(&path, reveal), path).await
}

/// One way to open a path: a program, or the desktop portal.
enum Opener {
    Program(std::process::Command),
    /// `org.freedesktop.portal.OpenURI` on the session bus (or on the bus at this address).
    #[cfg(all(unix, not(target_os = "macos")))]
    Portal {
        reveal: bool,
        bus: Option<String>,
    },
}

impl Opener {
    /// How the person is told of it.
    fn name(&self) -> String {
        match self {
            Opener::Program(c) => format!("'{}'", c.get_program().to_string_lossy()),
            #[cfg(all(unix, not(target_os = "macos")))]
            Opener::Portal { .. } => "the desktop portal".to_owned(),
        }
    }

    /// Opens `path`: `Ok(None)` when done, `Ok(Some(why))` when it ran and failed, `Err`
    /// when it is not there at all (the next is tried).
    fn run(self, path: &Path) -> Result<Option<String>, ()> {
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        let _ = path;
        match self {
            Opener::Program(mut command) => {
                command
                    .stdin(std::process::Stdio::null())
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null());
                match command.status() {
                    Ok(status) if opener_succeeded(status.code()) => Ok(None),
                    Ok(status) => Ok(Some(format!("exited with {status}"))),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(()),
                    Err(e) => Ok(Some(format!("cannot be run: {e}"))),
                }
            }
            #[cfg(all(unix, not(target_os = "macos")))]
            Opener::Portal { reveal, bus } => portal::open(path, reveal, bus.as_deref()),
        }
    }
}

/// Runs the first of `openers` that is there (the next is tried only when one is not there
/// at all). `None` when it did its work; else why not, for the person.
async fn run_first(openers: Vec<Opener>, path: PathBuf) -> Option<Reply> {
    let names: Vec<String> = openers.iter().map(Opener::name).collect();
    let checked = path.clone();
    let result = tokio::task::spawn_blocking(move || {
        // Gone since it finished (moved, deleted): say so, rather than open something else
        // (Explorer opens Documents for a path it cannot find, and exits as it always does).
        if !checked.exists() {
            return Err(NotRun::Gone);
        }
        for (i, opener) in openers.into_iter().enumerate() {
            match opener.run(&checked) {
                Ok(None) => return Ok(()),
                Ok(Some(why)) => return Err(NotRun::Failed(i, why)),
                Err(()) => {}
            }
        }
        Err(NotRun::NoneInstalled)
    })
    .await;
    let name = |i: usize| names.get(i).cloned().unwrap_or_default();
    let error = match result {
        Ok(Ok(())) => return None,
        Ok(Err(NotRun::Gone)) => return Some(Reply::OpenGone { path }),
        Ok(Err(NotRun::Failed(i, why))) => format!("{} {why}", name(i)),
        Ok(Err(NotRun::NoneInstalled)) => format!(
            "no program to open files with (none of {} is there)",
            names.join(", ")
        ),
        Err(e) => e.to_string(),
    };
    Some(Reply::OpenFailed { path, error })
}

/// Why the opener did not run.
enum NotRun {
    /// The file or folder is not there any more.
    Gone,
    /// The opener (by its place in the list) ran and failed, and why.
    Failed(usize, String),
    /// None of the openers is there.
    NoneInstalled,
}

/// Whether the opener's exit code means it did its work. `explorer.exe` exits with 1 after
/// opening a window, as often as with 0; other codes and a missing code (killed) are failures.
fn opener_succeeded(code: Option<i32>) -> bool {
    code == Some(0) || (cfg!(windows) && code == Some(1))
}

/// Explorer's "select this file" argument, `/select,"C:\dir\a b.txt"`: Explorer parses the
/// text after the comma itself, so the path is quoted alone (quoting the whole argument, as
/// `Command::arg` does for text with spaces, makes Explorer open Documents) and has `\`
/// separators (it does not take `/`). Paths on Windows cannot contain `"`.
fn explorer_select_arg(path: &Path) -> String {
    format!("/select,\"{}\"", path.to_string_lossy().replace('/', "\\"))
}

/// The platform's "open this" commands, in the order to try them. Revealing selects the file
/// where the platform can (macOS, Windows) and opens its folder elsewhere.
fn openers(path: &Path, reveal: bool) -> Vec<Opener> {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let target = if reveal {
            path.parent().unwrap_or(path)
        } else {
            path
        };
        let mut gio = std::process::Command::new("gio");
        gio.arg("open").arg(target);
        vec![
            Opener::Program(opener(path, reveal)),
            Opener::Program(gio),
            Opener::Portal { reveal, bus: None },
        ]
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    vec![Opener::Program(opener(path, reveal))]
}

/// The platform's own "open this" command.
fn opener(path: &Path, reveal: bool) -> std::process::Command {
    if cfg!(target_os = "macos") {
        let mut c = std::process::Command::new("open");
        if reveal {
            c.arg("-R");
        }
        c.arg(path);
        c
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("explorer");
        if reveal {
            raw_arg(&mut c, &explorer_select_arg(path));
        } else {
            c.arg(path);
        }
        c
    } else {
        let mut c = std::process::Command::new("xdg-open");
        let target = if reveal {
            path.parent().unwrap_or(path)
        } else {
            path
        };
        c.arg(target);
        c
    }
}

/// Passes `arg` to the program as written, without the quoting `Command::arg` adds.
#[cfg(windows)]
fn raw_arg(command: &mut std::process::Command, arg: &str) {
    use std::os::windows::process::CommandExt as _;
    command.raw_arg(arg);
}

#[cfg(not(windows))]
fn raw_arg(command: &mut std::process::Command, arg: &str) {
    command.arg(arg);
}

/// The desktop portal's `OpenURI` (xdg-desktop-portal), for desktops with neither xdg-utils
/// nor GLib's tools: `OpenFile` opens the file (or folder) with its default program,
/// `OpenDirectory` shows the folder a file is in. The path goes as an open file descriptor,
/// as the portal asks of local files.
#[cfg(all(unix, not(target_os = "macos")))]
mod portal {
    use std::collections::HashMap;
    use std::path::Path;

    use zbus::zvariant::{Fd, Value};

    const DESTINATION: &str = "org.freedesktop.portal.Desktop";
    const OBJECT: &str = "/org/freedesktop/portal/desktop";
    const INTERFACE: &str = "org.freedesktop.portal.OpenURI";

    /// As [`super::Opener::run`]: `Err` when there is no bus or no portal on it.
    pub(super) fn open(path: &Path, reveal: bool, bus: Option<&str>) -> Result<Option<String>, ()> {
        let connection = match bus {
            None => zbus::blocking::Connection::session(),
            Some(address) => {
                zbus::blocking::connection::Builder::address(address).and_then(|b| b.build())
            }
        }
        .map_err(|_| ())?;
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) => return Ok(Some(format!("could not be given the file: {e}"))),
        };
        let method = if reveal { "OpenDirectory" } else { "OpenFile" };
        let options: HashMap<&str, Value<'_>> = HashMap::new();
        match connection.call_method(
            Some(DESTINATION),
            OBJECT,
            Some(INTERFACE),
            method,
            &("", Fd::from(&file), options),
        ) {
            Ok(_) => Ok(None),
            Err(zbus::Error::MethodError(name, _, _))
                if name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown" =>
            {
                Err(())
            }
            Err(e) => Ok(Some(format!("refused: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Explorer opened Documents for a path with a space or a comma: the whole
    /// `/select,PATH` was quoted as one argument.
    #[test]
    fn explorer_gets_the_path_quoted_after_the_comma_with_backslashes() {
        assert_eq!(
            explorer_select_arg(Path::new(r"C:\Users\li\Downloads\a b, c.pdf")),
            r#"/select,"C:\Users\li\Downloads\a b, c.pdf""#
        );
        assert_eq!(
            explorer_select_arg(Path::new("C:/Users/li/Downloads/报告.pdf")),
            r#"/select,"C:\Users\li\Downloads\报告.pdf""#
        );
        assert!(opener_succeeded(Some(0)));
        assert_eq!(opener_succeeded(Some(1)), cfg!(windows));
        assert!(!opener_succeeded(Some(2)));
        assert!(!opener_succeeded(None));
    }

    /// 'xdg-open' is not installed on some desktops that have GLib's `gio`: the next program
    /// is tried (issue 28, item 26), and when none is there the sentence names them all.
    #[cfg(unix)]
    #[tokio::test]
    async fn the_next_opener_is_tried_when_one_is_not_installed() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a.txt");
        std::fs::write(&file, "x").expect("file");
        let seen = dir.path().join("seen");
        let fake = dir.path().join("fake-gio");
        std::fs::write(
            &fake,
            format!("#!/bin/sh\necho \"$@\" > '{}'\n", seen.display()),
        )
        .expect("script");
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("mode");
        let missing = std::process::Command::new(dir.path().join("no-xdg-open"));
        let mut gio = std::process::Command::new(&fake);
        gio.arg("open").arg(&file);
        let tried = vec![Opener::Program(missing), Opener::Program(gio)];
        assert!(run_first(tried, file.clone()).await.is_none());
        let args = std::fs::read_to_string(&seen).expect("the second program ran");
        assert_eq!(args.trim(), format!("open {}", file.display()));

        let none = vec![
            Opener::Program(std::process::Command::new(dir.path().join("no-xdg-open"))),
            Opener::Program(std::process::Command::new(dir.path().join("no-gio"))),
        ];
        match run_first(none, file).await {
            Some(Reply::OpenFailed { error, .. }) => {
                assert!(
                    error.contains("no-xdg-open") && error.contains("no-gio"),
                    "{error}"
                );
            }
            _ => panic!("nothing could open it, and that must be said"),
        }
    }

    #[tokio::test]
    async fn opening_a_file_that_is_gone_says_so() {
        let gone = std::env::temp_dir().join("haul-no-such-file-8d1f.bin");
        let reply = run_opener(gone.clone(), true).await;
        match reply {
            Some(Reply::OpenGone { path }) => assert_eq!(path, gone),
            _ => panic!("opened a file that is not there"),
        }
    }

    /// Neither 'xdg-open' nor 'gio' there: the desktop portal opens the file (`OpenFile`) or
    /// shows its folder (`OpenDirectory`), given as a file descriptor (issue 28, item 26). On a
    /// bus of the test's own (dbus-daemon), with a portal that records what it was handed;
    /// with no portal on the bus, the sentence names all three.
    #[cfg(all(unix, not(target_os = "macos")))]
    #[tokio::test]
    async fn the_desktop_portal_opens_what_no_program_can() {
        use std::sync::{Arc, Mutex};
        let Some(bus) = haul_testkit::tools::SessionBus::start() else {
            return;
        };
        let address = bus.address.clone();
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("报告 1.txt");
        std::fs::write(&file, "x").expect("file");
        let missing =
            |name: &str| Opener::Program(std::process::Command::new(dir.path().join(name)));
        let tried = |reveal| {
            vec![
                missing("no-xdg-open"),
                missing("no-gio"),
                Opener::Portal {
                    reveal,
                    bus: Some(address.clone()),
                },
            ]
        };

        // No portal on the bus yet.
        match run_first(tried(false), file.clone()).await {
            Some(Reply::OpenFailed { error, .. }) => assert!(
                error.contains("no-gio") && error.contains("the desktop portal"),
                "{error}"
            ),
            _ => panic!("nothing could open it, and that must be said"),
        }

        let calls: Arc<Mutex<Vec<(String, PathBuf)>>> = Arc::default();
        let portal = FakePortal {
            calls: Arc::clone(&calls),
        };
        let _served = zbus::connection::Builder::address(address.as_str())
            .and_then(|b| b.name("org.freedesktop.portal.Desktop"))
            .and_then(|b| b.serve_at("/org/freedesktop/portal/desktop", portal))
            .expect("the portal's connection")
            .build()
            .await
            .expect("the portal on the test's bus");
        assert!(run_first(tried(false), file.clone()).await.is_none());
        assert!(run_first(tried(true), file.clone()).await.is_none());
        drop(bus);
        assert_eq!(
            *calls.lock().expect("lock"),
            vec![
                ("OpenFile".to_owned(), file.clone()),
                ("OpenDirectory".to_owned(), file)
            ]
        );
    }

    /// The portal's side of `OpenURI`: records each call and the path behind its descriptor.
    #[cfg(all(unix, not(target_os = "macos")))]
    struct FakePortal {
        calls: std::sync::Arc<std::sync::Mutex<Vec<(String, PathBuf)>>>,
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    impl FakePortal {
        fn record(&self, method: &str, fd: &zbus::zvariant::Fd<'_>) {
            use std::os::fd::AsRawFd as _;
            let path =
                std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).unwrap_or_default();
            self.calls
                .lock()
                .expect("lock")
                .push((method.to_owned(), path));
        }
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[zbus::interface(name = "org.freedesktop.portal.OpenURI")]
    impl FakePortal {
        fn open_file(
            &self,
            _parent_window: &str,
            fd: zbus::zvariant::Fd<'_>,
            _options: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        ) -> zbus::zvariant::OwnedObjectPath {
            self.record("OpenFile", &fd);
            zbus::zvariant::OwnedObjectPath::try_from("/org/freedesktop/portal/desktop/request/1")
                .unwrap_or_default()
        }

        fn open_directory(
            &self,
            _parent_window: &str,
            fd: zbus::zvariant::Fd<'_>,
            _options: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
        ) -> zbus::zvariant::OwnedObjectPath {
            self.record("OpenDirectory", &fd);
            zbus::zvariant::OwnedObjectPath::try_from("/org/freedesktop/portal/desktop/request/2")
                .unwrap_or_default()
        }
    }
}
