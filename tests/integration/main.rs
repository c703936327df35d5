//! The window's integration tests: one binary, a module per area, the real window headless
//! (egui_kittest) against real servers on 127.0.0.1 that the tests start. The engine's and
//! the CLI's tests live in their crates.
//!
//! - `window`: the real window, headless (egui_kittest), with the `gui` feature.
//! - `window_bridge`: the browser bridge's settings: a port in use, the WebSocket address,
//!   web pages let in, a new secret (issue 28, item 17).
//! - `window_browser`: what the browser host hands the window, and Settings → Browser
//!   integration's install button (issue 25).
//! - `window_certificates`: a self-signed server refused, then its certificate trusted for a
//!   row or for its host (issue 28, item 19).
//! - `window_connections`: a split download's connections on its row and in its details.
//! - `window_desk`: the desktop comforts (issue 16): the queue's order, the scheduler, the
//!   when the queue is done.
//! - `window_launch`: across launches: settings and the saved queue after a restart or a
//!   crash, a hidden window, the command line and hand-offs, the About window.
//! - `window_layout`: controls that stay put and in view, at every size.
//! - `window_limits`: the size and speed limits as typed, "no limit" in each language.
//! - `window_lists`: lists imported: from a typed path, with a `SHA256SUMS` beside them, their
//!   relative paths from their own folder.
//! - `window_loss`: what could cost the bytes downloaded: a pause its server cannot resume.
//! - `window_ftp`: an `ftp://` row against pyftpdlib.
//! - `window_options`: "Add with options…" and "Edit options…" (issue 15).
//! - `window_room`: the list keeps its room: the lowest row's menu, notices, columns with
//!   Settings open.
//! - `window_rpc`: the window's RPC driven by aria2p and the npm client.
//! - `window_session`: the window's list as the one list of downloads (issue 22).
//! - `window_torrent`: a magnet link's row against an aria2c seeder; choosing its files.
//! - `window_stream`: a video stream's row, its segments, its variants and choosing one
//!   (issue 26).
//! - `window_tray`: the tray icon, the login entry and the clipboard offer.
//! - `window_trust`: what a person needs to trust it: true numbers, nothing deleted without
//!   asking, errors in their language.
//! - `world`: the window's test world (engine, server, harness) and a person's steps.

mod window;
mod window_bridge;
mod window_browser;
mod window_certificates;
mod window_connections;
mod window_desk;
mod window_ftp;
mod window_launch;
mod window_layout;
mod window_limits;
mod window_lists;
mod window_loss;
mod window_options;
mod window_room;
mod window_rpc;
mod window_session;
mod window_stream;
mod window_torrent;
mod window_tray;
mod window_trust;
mod world;

use haul_testkit as support;
