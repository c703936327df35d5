//! The browser's way into Haul: the native-messaging host that Haul's extension talks to, the
//! host's install for each browser, and the client side of the window's one-instance hand-off
//! (which the host and a later `haul` launch both use).
//!
//! Owns: the native-messaging wire ([`wire`]: 4-byte length-prefixed JSON), what the
//! extension may ask and how each request is checked ([`message`]), the hand-off's message
//! and its socket ([`handoff`]), a headless `haul-cli --enable-rpc` as the other way in
//! ([`headless`]), where an item goes ([`hand_to_haul`]), and the host manifests and
//! registry keys ([`install`]).
//! Must not touch: the engine (the host hands items over; it fetches nothing), the window.

pub mod handoff;
pub mod headless;
pub mod install;
pub mod message;
pub mod wire;

/// The host's name, as the extension calls it (`chrome.runtime.sendNativeMessage`).
pub const HOST_NAME: &str = "io.github.haul.host";

/// Haul's extension in Chromium browsers: its ID follows from the `key` in
/// `extension/manifest.json` (the first 32 hex digits of the key's SHA-256, spelt a–p), so
/// an unpacked load has it too.
pub const CHROMIUM_EXTENSION_ID: &str = "hfdfagpekomaeldlmgfaocgoonpgnmjf";

/// Haul's extension in Firefox (`browser_specific_settings.gecko.id`).
pub const FIREFOX_EXTENSION_ID: &str = "browser@haul.github.io";

/// The host's executable file name.
pub const HOST_BINARY: &str = if cfg!(windows) {
    "haul-browser-host.exe"
} else {
    "haul-browser-host"
};

/// Whether `caller` — what the browser passes the host: Chromium the extension's origin
/// (`chrome-extension://ID/`), Firefox its add-on ID — is Haul's own extension.
pub fn is_haul_extension(caller: &str) -> bool {
    caller == format!("chrome-extension://{CHROMIUM_EXTENSION_ID}/")
        || caller == FIREFOX_EXTENSION_ID
}

/// Hands one item to Haul: to the window when one runs for `dir`; else to a headless
/// `haul-cli --enable-rpc` that left its note there and answers; else to the window started
/// from `window` (waiting at most `patience` for it).
pub fn hand_to_haul(
    dir: &std::path::Path,
    handoff: &handoff::Handoff,
    window: &std::path::Path,
    patience: std::time::Duration,
) -> Result<(), String> {
    if !handoff::window_runs(dir)
        && !handoff.pick
        && let Some(note) = headless::read_note(dir)
    {
        match headless::add_uri(&note, handoff) {
            Ok(()) => return Ok(()),
            // A note left by a server that is gone: the window takes it instead.
            Err(e) if e.contains("did not answer") => {}
            Err(e) => return Err(e),
        }
    }
    handoff::deliver(dir, handoff, window, patience)
}
