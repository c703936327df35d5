//! Sleeping or shutting down the computer when the queue is done (the schedule's "when the
//! queue is done").
//!
//! Owns: the command each platform runs for each action — on Linux `systemctl suspend` and
//! `systemctl poweroff` (logind, which asks polkit: an active local session may, others are
//! refused), on macOS `pmset sleepnow` and System Events' `shut down` (the same as the Apple
//! menu's, which lets apps save), on Windows `rundll32 powrprof.dll,SetSuspendState` and
//! `shutdown /s /t 0` — and running it off the UI thread through a [`PowerRunner`] that tests
//! replace, so no test ever sleeps or stops the machine. Must not touch: egui, the countdown
//! (the window's), the engine.

use std::sync::Arc;

/// What to do to the computer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerAction {
    Sleep,
    ShutDown,
}

/// A program and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerCommand {
    pub program: &'static str,
    pub args: Vec<&'static str>,
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
        ("windows", PowerAction::Sleep) => {
            ("rundll32.exe", &["powrprof.dll,SetSuspendState", "0,1,0"])
        }
        ("windows", PowerAction::ShutDown) => ("shutdown.exe", &["/s", "/t", "0"]),
        (_, PowerAction::Sleep) => ("systemctl", &["suspend"]),
        (_, PowerAction::ShutDown) => ("systemctl", &["poweroff"]),
    };
    PowerCommand {
        program,
        args: args.to_vec(),
    }
}

/// The runner that really runs the command (and waits for it: `systemctl` returns once
/// logind has the request, or with polkit's refusal).
pub fn system_runner() -> PowerRunner {
    Arc::new(|command: &PowerCommand| {
        let status = std::process::Command::new(command.program)
            .args(&command.args)
            .stdin(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("cannot run '{}': {e}", command.program))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("'{}' exited with {status}", command.program))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_platform_has_its_own_command() {
        let line = |os, action| {
            let c = command_for(os, action);
            std::iter::once(c.program)
                .chain(c.args)
                .collect::<Vec<_>>()
                .join(" ")
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
            "rundll32.exe powrprof.dll,SetSuspendState 0,1,0"
        );
        assert_eq!(
            line("windows", PowerAction::ShutDown),
            "shutdown.exe /s /t 0"
        );
    }
}
