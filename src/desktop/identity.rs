//! Who Haul is to the system's notifications. On Windows its AppUserModelID: without one, a
//! desktop notification from a program that no Start-menu shortcut names is shown as
//! "Windows PowerShell" (notify-rust's fallback), and Haul's windows group under no name. On
//! macOS its bundle's identifier: notify-rust otherwise sends as Finder (mac-notification-sys
//! stands in `com.apple.Finder` for the process's bundle id).
//!
//! Owns: registering the id for the current user (`HKCU\Software\Classes\AppUserModelId\<id>`,
//! its `DisplayName` and `IconUri`: how Windows 10 and 11 show an unpackaged app's
//! notifications without an installer's shortcut), writing the icon it names, and giving the
//! process that id. Through `reg.exe`, as the login entry (`autostart`). Elsewhere nothing:
//! freedesktop notifications carry the app's name, and macOS names the bundle.
//! Must not touch: the notifications themselves (`Desktop::notify`), egui.

use std::path::Path;

/// Haul's AppUserModelID on Windows and its bundle identifier on macOS: the app id the
/// desktop file, the login entry and the packager's `identifier` use too.
pub const AUMID: &str = "io.github.haul.Haul";

/// Where Windows looks for an unpackaged app's id, for the current user.
pub const CLASSES_KEY: &str = r"HKCU\Software\Classes\AppUserModelId";

/// The `reg.exe` arguments that register `AUMID` under `classes` with its name and `icon`.
pub fn reg_commands(classes: &str, icon: Option<&Path>) -> Vec<Vec<String>> {
    let key = format!(r"{classes}\{AUMID}");
    let value = |name: &str, data: &str| {
        ["add", &key, "/v", name, "/t", "REG_SZ", "/d", data, "/f"]
            .map(str::to_owned)
            .to_vec()
    };
    let mut commands = vec![value("DisplayName", "Haul")];
    if let Some(icon) = icon {
        commands.push(value("IconUri", &icon.display().to_string()));
    }
    commands
}

/// Registers Haul's id under `classes`, with its icon (written into `data_dir`: `IconUri`
/// names a file). Errors say what could not be done; notifications still show, under
/// Windows' fallback name.
pub fn register(classes: &str, data_dir: Option<&Path>) -> Result<(), String> {
    let icon = data_dir.and_then(|dir| {
        let path = dir.join("haul-256.png");
        match std::fs::write(&path, super::ICON_PNG) {
            Ok(()) => Some(path),
            Err(e) => {
                tracing::info!(error = %e, "no icon for the notifications");
                None
            }
        }
    });
    for args in reg_commands(classes, icon.as_deref()) {
        let mut command = std::process::Command::new("reg");
        command.args(&args);
        let status = super::system::no_console_window(&mut command)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("cannot run reg.exe: {e}"))?;
        if !status.success() {
            return Err(format!("reg.exe exited with {status}"));
        }
    }
    Ok(())
}

/// Gives this process Haul's id, so its windows and notifications are Haul's: before any
/// window shows.
#[cfg(windows)]
pub fn set_process_id() {
    use windows_sys::Win32::UI::Shell::SetCurrentProcessExplicitAppUserModelID;
    let wide: Vec<u16> = AUMID.encode_utf16().chain(std::iter::once(0)).collect();
    // SAFETY: `wide` is a NUL-terminated UTF-16 string that outlives the call, which copies it.
    let result = unsafe { SetCurrentProcessExplicitAppUserModelID(wide.as_ptr()) };
    if result != 0 {
        tracing::info!(result, "the process keeps Windows' own app id");
    }
}

/// Sends notifications as Haul's own bundle (`io.github.haul.Haul`, installed as Haul.app),
/// never as another app's; outside the bundle (a build run in place) notifications go out
/// without one, and Finder's name is never borrowed.
#[cfg(target_os = "macos")]
pub fn set_process_id() {
    if let Err(e) = notify_rust::set_application(AUMID) {
        tracing::info!(error = %e, "notifications without Haul's bundle (not run as Haul.app)");
    }
}

#[cfg(not(any(windows, target_os = "macos")))]
pub fn set_process_id() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_is_registered_with_its_name_and_icon() {
        let commands = reg_commands(CLASSES_KEY, Some(Path::new(r"C:\Users\u\haul-256.png")));
        let key = r"HKCU\Software\Classes\AppUserModelId\io.github.haul.Haul";
        assert_eq!(
            commands[0],
            [
                "add",
                key,
                "/v",
                "DisplayName",
                "/t",
                "REG_SZ",
                "/d",
                "Haul",
                "/f"
            ]
        );
        assert_eq!(commands[1][3], "IconUri");
        assert_eq!(commands[1][7], r"C:\Users\u\haul-256.png");
        assert_eq!(reg_commands(CLASSES_KEY, None).len(), 1);
    }

    /// The id is the bundle's: macOS sends notifications as the bundle cargo-packager builds.
    #[test]
    fn the_id_is_the_bundles_identifier() {
        let manifest = include_str!("../../Cargo.toml");
        assert!(manifest.contains(&format!("identifier = \"{AUMID}\"")));
    }
}
