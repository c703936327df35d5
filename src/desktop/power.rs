//! Sleeping or shutting down the computer when the queue is done (the schedule's "when the
//! queue is done").
//!
//! Owns: what each platform does for each action — on Linux `systemctl suspend` and
//! `systemctl poweroff` (logind, which asks polkit: an active local session may, others are
//! refused), on macOS `pmset sleepnow` and System Events' `shut down` (the same as the Apple
//! menu's, which lets apps save), on Windows powrprof's `SetSuspendState(FALSE, FALSE, FALSE)`
//! called directly (`rundll32 powrprof.dll,SetSuspendState 0,1,0` hibernates where
//! hibernation is on: rundll32 passes no real arguments) and `shutdown /s /t 0` — and running
//! it off the UI thread through a [`PowerRunner`] that tests replace, so no test ever sleeps
//! or stops the machine. Must not touch: egui, the countdown (the window's), the engine.

use std::sync::Arc;

/// What to do to the computer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    Sleep,
    ShutDown,
}

/// How an action is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PowerCommand {
    /// A program and its arguments.
    Run {
        program: &'static str,
        args: Vec<&'static str>,
    },
    /// Windows' Sleep: `SetSuspendState(FALSE, FALSE, FALSE)` — suspend, not hibernate,
    /// not forced, wake events left on.
    Suspend,
}

/// Runs a power command; returns why it could not, if it could not. Tests record instead.
pub type PowerRunner = Arc<dyn Fn(&PowerCommand) -> Result<(), String> + Send + Sync>;

/// The command for `action` on this platform.
pub fn command(action: PowerAction) -> PowerCommand {
    command_for(std::env::consts::OS, action)
}

/// The command for `action` on `os` (as `std::env::consts::OS` names it).
pub fn command_for(os: &str, action: PowerAction) -> PowerCommand {
    let (program, args): (&'static str, &[&'static str]) = match (os, action) {
        ("macos", PowerAction::Sleep) => ("pmset", &["sleepnow"]),
        ("macos", PowerAction::ShutDown) => (
            "osascript",
            &["-e", "tell application \"System Events\" to shut down"],
        ),
        ("windows", PowerAction::Sleep) => return PowerCommand::Suspend,
        ("windows", PowerAction::ShutDown) => ("shutdown.exe", &["/s", "/t", "0"]),
        (_, PowerAction::Sleep) => ("systemctl", &["suspend"]),
        (_, PowerAction::ShutDown) => ("systemctl", &["poweroff"]),
    };
    PowerCommand::Run {
        program,
        args: args.to_vec(),
    }
}

/// The runner that really does it (and waits for a program: `systemctl` returns once logind
/// has the request, or with polkit's refusal). Programs start without a console window.
pub fn system_runner() -> PowerRunner {
    Arc::new(|command: &PowerCommand| match command {
        PowerCommand::Run { program, args } => {
            let mut run = std::process::Command::new(program);
            run.args(args).stdin(std::process::Stdio::null());
            let status = super::system::no_console_window(&mut run)
                .status()
                .map_err(|e| format!("cannot run '{program}': {e}"))?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("'{program}' exited with {status}"))
            }
        }
        PowerCommand::Suspend => super::system::suspend(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_platform_has_its_own_command() {
        let line = |os, action| match command_for(os, action) {
            PowerCommand::Run { program, args } => std::iter::once(program)
                .chain(args)
                .collect::<Vec<_>>()
                .join(" "),
            PowerCommand::Suspend => "SetSuspendState(FALSE, FALSE, FALSE)".to_owned(),
        };
        assert_eq!(line("linux", PowerAction::Sleep), "systemctl suspend");
        assert_eq!(line("linux", PowerAction::ShutDown), "systemctl poweroff");
        assert_eq!(line("freebsd", PowerAction::ShutDown), "systemctl poweroff");
        assert_eq!(line("macos", PowerAction::Sleep), "pmset sleepnow");
        assert_eq!(
            line("macos", PowerAction::ShutDown),
            "osascript -e tell application \"System Events\" to shut down"
        );
        assert_eq!(
            line("windows", PowerAction::Sleep),
            "SetSuspendState(FALSE, FALSE, FALSE)"
        );
        assert_eq!(
            line("windows", PowerAction::ShutDown),
            "shutdown.exe /s /t 0"
        );
    }

    /// macOS shuts down through System Events (an Apple Event): the bundle cargo-packager
    /// builds carries the hardened runtime's Apple Events entitlement and the usage
    /// description macOS shows when it asks the person, or the shutdown is refused.
    #[test]
    fn the_mac_bundle_may_send_the_shutdown_apple_event() {
        let manifest = include_str!("../../Cargo.toml");
        let macos = manifest
            .split("[package.metadata.packager.macos]")
            .nth(1)
            .and_then(|rest| rest.split("\n[").next())
            .unwrap_or_default();
        assert!(
            macos.contains(r#"entitlements = "assets/macos/Haul.entitlements""#),
            "{macos}"
        );
        assert!(
            macos.contains(r#"info-plist-path = "assets/macos/Info.plist""#),
            "{macos}"
        );
        let entitlements = include_str!("../../assets/macos/Haul.entitlements");
        assert!(
            entitlements
                .contains("<key>com.apple.security.automation.apple-events</key>\n\t<true/>")
        );
        let info = include_str!("../../assets/macos/Info.plist");
        assert!(info.contains("<key>NSAppleEventsUsageDescription</key>\n\t<string>Haul"));
    }
}
