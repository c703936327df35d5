//! Opening a finished file, or showing it in its folder, with the platform's own program
//! (`open` on macOS, Explorer on Windows, `xdg-open` elsewhere).
//!
//! Owns: building those commands (Explorer's `/select,"PATH"` argument), telling a file that
//! is gone from a program that failed, and reading their exit codes. Must not touch: the
//! window's state (it answers with a [`Reply`]).

use std::path::{Path, PathBuf};

use super::Reply;

pub(super) async fn run_opener(path: PathBuf, reveal: bool) -> Option<Reply> {
    let command = opener(&path, reveal);
    let program = command.get_program().to_string_lossy().into_owned();
    let checked = path.clone();
    let result = tokio::task::spawn_blocking(move || {
        // Gone since it finished (moved, deleted): say so, rather than open something else
        // (Explorer opens Documents for a path it cannot find, and exits as it always does).
        if !checked.exists() {
            return Err(NotRun::Gone);
        }
        let mut command = command;
        command
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command.status().map_err(NotRun::Spawn)
    })
    .await;
    let error = match result {
        Ok(Ok(status)) if opener_succeeded(status.code()) => return None,
        Ok(Ok(status)) => format!("'{program}' exited with {status}"),
        Ok(Err(NotRun::Gone)) => return Some(Reply::OpenGone { path }),
        Ok(Err(NotRun::Spawn(e))) if e.kind() == std::io::ErrorKind::NotFound => {
            format!("no program to open files with ('{program}' is not installed)")
        }
        Ok(Err(NotRun::Spawn(e))) => format!("cannot run '{program}': {e}"),
        Err(e) => e.to_string(),
    };
    Some(Reply::OpenFailed { path, error })
}

/// Why the opener did not run.
enum NotRun {
    /// The file or folder is not there any more.
    Gone,
    /// The program could not be started.
    Spawn(std::io::Error),
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

/// The platform's "open this" command. Revealing selects the file where the platform can
/// (macOS, Windows) and opens its folder elsewhere.
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
