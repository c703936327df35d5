//! Opening a finished file, or showing it in its folder, with the platform's own program
//! (`open` on macOS, Explorer on Windows, `xdg-open` elsewhere, then GLib's `gio open` where
//! xdg-utils is not installed, as on some minimal GNOME setups).
//!
//! Owns: building those commands (Explorer's `/select,"PATH"` argument), telling a file that
//! is gone from a program that failed, and reading their exit codes. Must not touch: the
//! window's state (it answers with a [`Reply`]).

use std::path::{Path, PathBuf};

use super::Reply;

pub(super) async fn run_opener(path: PathBuf, reveal: bool) -> Option<Reply> {
    run_first(openers(&path, reveal), path).await
}

/// Runs the first of `commands` that is installed (the next is tried only when a program is
/// not there at all). `None` when it did its work; else why not, for the person.
async fn run_first(commands: Vec<std::process::Command>, path: PathBuf) -> Option<Reply> {
    let programs: Vec<String> = commands
        .iter()
        .map(|c| c.get_program().to_string_lossy().into_owned())
        .collect();
    let checked = path.clone();
    let result = tokio::task::spawn_blocking(move || {
        // Gone since it finished (moved, deleted): say so, rather than open something else
        // (Explorer opens Documents for a path it cannot find, and exits as it always does).
        if !checked.exists() {
            return Err(NotRun::Gone);
        }
        for (i, mut command) in commands.into_iter().enumerate() {
            command
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null());
            match command.status() {
                Ok(status) => return Ok((i, status)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(NotRun::Spawn(i, e)),
            }
        }
        Err(NotRun::NoneInstalled)
    })
    .await;
    let name = |i: usize| programs.get(i).cloned().unwrap_or_default();
    let error = match result {
        Ok(Ok((_, status))) if opener_succeeded(status.code()) => return None,
        Ok(Ok((i, status))) => format!("'{}' exited with {status}", name(i)),
        Ok(Err(NotRun::Gone)) => return Some(Reply::OpenGone { path }),
        Ok(Err(NotRun::NoneInstalled)) => format!(
            "no program to open files with (none of {} is installed)",
            programs
                .iter()
                .map(|p| format!("'{p}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Ok(Err(NotRun::Spawn(i, e))) => format!("cannot run '{}': {e}", name(i)),
        Err(e) => e.to_string(),
    };
    Some(Reply::OpenFailed { path, error })
}

/// Why the opener did not run.
enum NotRun {
    /// The file or folder is not there any more.
    Gone,
    /// The program (by its place in the list) could not be started.
    Spawn(usize, std::io::Error),
    /// None of the programs is installed.
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
fn openers(path: &Path, reveal: bool) -> Vec<std::process::Command> {
    if cfg!(any(target_os = "macos", windows)) {
        return vec![opener(path, reveal)];
    }
    let target = if reveal {
        path.parent().unwrap_or(path)
    } else {
        path
    };
    let mut gio = std::process::Command::new("gio");
    gio.arg("open").arg(target);
    vec![opener(path, reveal), gio]
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
        assert!(run_first(vec![missing, gio], file.clone()).await.is_none());
        let args = std::fs::read_to_string(&seen).expect("the second program ran");
        assert_eq!(args.trim(), format!("open {}", file.display()));

        let none = vec![
            std::process::Command::new(dir.path().join("no-xdg-open")),
            std::process::Command::new(dir.path().join("no-gio")),
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
}
