//! `haul-browser-host`: Haul's native-messaging host. The browser starts it when Haul's
//! extension calls it, with the caller as its argument (Chromium: `chrome-extension://ID/`;
//! Firefox: the manifest's path, then the add-on's ID), and talks to it over stdin/stdout.
//!
//! Owns: reading who called, and wiring stdio to [`haul_browser::message::Host`], whose
//! hand-offs go to the running window, else a headless `haul-cli --enable-rpc`, else the
//! window started for them ([`haul_browser::hand_to_haul`]).
//! Must not touch: what a request means (the library's), stdout for anything but replies.

use std::time::Duration;

use haul_browser::handoff;
use haul_browser::message::{Host, window_program};

/// How long an item waits for a window that is starting.
const PATIENCE: Duration = Duration::from_secs(30);

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Chromium passes the origin first (and on Windows `--parent-window=N` after it);
    // Firefox the manifest's path, then the add-on's ID.
    let trusted_caller = args.iter().any(|a| haul_browser::is_haul_extension(a));
    if !trusted_caller {
        // Never the caller's arguments in full: only that it is not Haul's.
        eprintln!(
            "haul-browser-host: started by a caller that is not Haul's extension; every request is refused"
        );
    }
    let dir = handoff::data_dir();
    let window = window_program();
    let deliver_dir = dir.clone();
    let mut host = Host {
        trusted_caller,
        deliver: Box::new(move |h| {
            let dir = deliver_dir
                .as_deref()
                .ok_or("no data folder: cannot find Haul")?;
            let window = window
                .as_deref()
                .ok_or("cannot tell where Haul is installed")?;
            haul_browser::hand_to_haul(dir, h, window, PATIENCE)
        }),
        window: Box::new(move || dir.as_deref().is_some_and(handoff::window_runs)),
    };
    let (mut input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
    match host.serve(&mut input, &mut output) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("haul-browser-host: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
