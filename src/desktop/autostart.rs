//! Starting Haul when the person logs in.
//!
//! Owns: the one entry each platform reads at login, written, read or removed — on Linux (and
//! other freedesktop desktops) `$XDG_CONFIG_HOME/autostart/io.github.haul.Haul.desktop` (the
//! XDG Autostart spec); on macOS `~/Library/LaunchAgents/io.github.haul.Haul.plist` (a
//! launchd agent with `RunAtLoad`); on Windows the `Haul` value under
//! `HKCU\Software\Microsoft\Windows\CurrentVersion\Run`, through `reg.exe` (started without
//! a console window). Each names the running executable. Must not touch: egui, the settings
//! (the window decides when).

use std::path::{Path, PathBuf};

/// The entry's file name (the app id, as the desktop file and the AppStream data use).
const ID: &str = "io.github.haul.Haul";

/// The current user's Run key: what Windows starts at login.
pub const RUN_KEY: &str = r"HKCU\Software\Microsoft\Windows\CurrentVersion\Run";

/// The value's name in a Run key.
const RUN_VALUE: &str = "Haul";

/// Where the login entry lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A file the session reads at login (a desktop entry, a launch agent).
    File(PathBuf),
    /// The `Haul` value in a registry key (Windows; [`RUN_KEY`] unless a test names another).
    RunValue(String),
}

/// Turns starting at login on or off for `exe`, in `entry`. Errors say what could not be done.
pub fn set(enabled: bool, exe: &Path, entry: &Entry) -> Result<(), String> {
    match entry {
        Entry::RunValue(key) => run_value(enabled, exe, key),
        Entry::File(path) => {
            let text = if cfg!(target_os = "macos") {
                if enabled && let Some(why) = in_disk_image(exe) {
                    return Err(why);
                }
                launch_agent(exe)
            } else {
                desktop_entry(exe)
            };
            write_or_remove(path, enabled.then_some(text.as_str()))
        }
    }
}

/// What `entry` holds now: the file's text, or the Run value's data; `None` when absent.
pub fn read(entry: &Entry) -> Option<String> {
    match entry {
        Entry::File(path) => std::fs::read_to_string(path).ok(),
        Entry::RunValue(key) => {
            let mut query = std::process::Command::new("reg");
            query.args(["query", key, "/v", RUN_VALUE]);
            let output = super::system::no_console_window(&mut query).output().ok()?;
            if !output.status.success() {
                return None;
            }
            reg_query_data(&String::from_utf8_lossy(&output.stdout), RUN_VALUE)
        }
    }
}

/// The data of the `REG_SZ` value `name` in `reg query`'s output (`    NAME    REG_SZ    DATA`).
fn reg_query_data(output: &str, name: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let rest = line.trim_start().strip_prefix(name)?;
        let rest = rest.trim_start().strip_prefix("REG_SZ")?;
        Some(rest.trim().to_owned())
    })
}

/// This platform's entry (`None` without a home folder).
pub fn entry() -> Option<Entry> {
    if cfg!(windows) {
        return Some(Entry::RunValue(RUN_KEY.to_owned()));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from);
    if cfg!(target_os = "macos") {
        return Some(Entry::File(
            home?
                .join("Library/LaunchAgents")
                .join(format!("{ID}.plist")),
        ));
    }
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| Some(home?.join(".config")))?;
    Some(Entry::File(
        config.join("autostart").join(format!("{ID}.desktop")),
    ))
}

/// Writes `text` to `path` (making its folder), or removes `path` when `text` is `None`
/// (already gone is fine).
pub fn write_or_remove(path: &Path, text: Option<&str>) -> Result<(), String> {
    let shown = path.display();
    match text {
        Some(text) => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::write(path, text).map_err(|e| format!("{shown}: {e}"))
        }
        None => match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(format!("{shown}: {e}")),
        },
    }
}

/// An XDG autostart entry for `exe`. `Exec` quotes the path as the Desktop Entry spec says
/// (`"` `` ` `` `$` `\` escaped inside double quotes).
pub fn desktop_entry(exe: &Path) -> String {
    let mut quoted = String::from("\"");
    for c in exe.display().to_string().chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    // A backslash is itself escaped once more in a desktop file's string values.
    let exec = quoted.replace('\\', "\\\\");
    format!(
        "[Desktop Entry]\nType=Application\nName=Haul\nComment=Fetch many files and URLs at once\n\
         Exec={exec}\nIcon=haul\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
    )
}

/// Why Haul cannot start at login from where it is, when it runs from a mounted disk image
/// (`/Volumes/…`, the `.dmg` it was downloaded as): the image is gone after a restart, so the
/// agent would point at nothing. `None` when it runs from a lasting place.
pub fn in_disk_image(exe: &Path) -> Option<String> {
    exe.starts_with("/Volumes").then(|| {
        format!(
            "Haul runs from a disk image ({}); move it to Applications, open it from there, and \
             turn this on again",
            exe.display()
        )
    })
}

/// A launchd agent that starts `exe` at login, as an app the person uses (`ProcessType`
/// `Interactive`: launchd does not throttle it as a background job).
pub fn launch_agent(exe: &Path) -> String {
    let escaped = exe
        .display()
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n\
         <plist version=\"1.0\">\n<dict>\n\
         \t<key>Label</key>\n\t<string>{ID}</string>\n\
         \t<key>ProgramArguments</key>\n\t<array>\n\t\t<string>{escaped}</string>\n\t</array>\n\
         \t<key>RunAtLoad</key>\n\t<true/>\n\
         \t<key>ProcessType</key>\n\t<string>Interactive</string>\n\
         </dict>\n</plist>\n"
    )
}

/// `reg add` / `reg delete` of the `Haul` value in `key`.
fn run_value(enabled: bool, exe: &Path, key: &str) -> Result<(), String> {
    let mut command = std::process::Command::new("reg");
    if enabled {
        let value = format!("\"{}\"", exe.display());
        command.args([
            "add", key, "/v", RUN_VALUE, "/t", "REG_SZ", "/d", &value, "/f",
        ]);
    } else {
        command.args(["delete", key, "/v", RUN_VALUE, "/f"]);
    }
    let status = super::system::no_console_window(&mut command)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("cannot run reg.exe: {e}"))?;
    // Deleting a value that is not there fails; that is the wanted state.
    if status.success() || !enabled {
        Ok(())
    } else {
        Err(format!("reg.exe exited with {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_desktop_entry_quotes_the_path_and_the_file_comes_and_goes() {
        let entry = desktop_entry(Path::new("/opt/My Apps/haul$1"));
        assert!(
            entry.contains("Exec=\"/opt/My Apps/haul\\\\$1\"\n"),
            "{entry}"
        );
        assert!(entry.starts_with("[Desktop Entry]\nType=Application\n"));
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("autostart").join("x.desktop");
        write_or_remove(&path, Some(&entry)).expect("written");
        assert_eq!(std::fs::read_to_string(&path).ok(), Some(entry));
        write_or_remove(&path, None).expect("removed");
        assert!(!path.exists());
        write_or_remove(&path, None).expect("already gone is fine");
    }

    #[test]
    fn reg_query_output_gives_the_values_data() {
        let output = "\r\nHKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\r\n    \
                      Haul    REG_SZ    \"C:\\Program Files\\Haul\\haul.exe\"\r\n\r\n";
        assert_eq!(
            reg_query_data(output, "Haul").as_deref(),
            Some(r#""C:\Program Files\Haul\haul.exe""#)
        );
        assert_eq!(reg_query_data(output, "Other"), None);
    }

    #[test]
    fn the_launch_agent_runs_the_executable_at_load() {
        let plist = launch_agent(Path::new("/Applications/Haul & Co.app/Contents/MacOS/haul"));
        assert!(plist.contains("<string>io.github.haul.Haul</string>"));
        assert!(
            plist.contains("<string>/Applications/Haul &amp; Co.app/Contents/MacOS/haul</string>")
        );
        assert!(plist.contains("<key>RunAtLoad</key>\n\t<true/>"));
        assert!(plist.contains("<key>ProcessType</key>\n\t<string>Interactive</string>"));
        assert!(in_disk_image(Path::new("/Applications/Haul.app/Contents/MacOS/haul")).is_none());
        let why = in_disk_image(Path::new("/Volumes/Haul/Haul.app/Contents/MacOS/haul"));
        assert!(why.is_some_and(|w| w.contains("move it to Applications")));
    }
}
