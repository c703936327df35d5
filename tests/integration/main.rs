//! Haul's integration tests: one binary (as ripgrep keeps one), a module per area, each
//! against real servers on 127.0.0.1 that the tests start.
//!
//! - `engine`: caps, timeouts, cancel, names, redirects, statuses, retries.
//! - `faults`: servers that misbehave: resets, stalls, short bodies, changed files, full disks.
//! - `resume`: pause, kill and restart, checksums, kept `.part` files.
//! - `lifecycle`: engine start, shutdown and the waker.
//! - `tls`: certificates are verified.
//! - `ftp`: FTP and FTPS against pyftpdlib, through the engine, the CLI, the RPC and the window.
//! - `cli`: the `haul-cli` binary as scripts run it.
//! - `rpc`: `haul-cli --enable-rpc` with aria2p and every refused way in.
//! - `request`: headers, cookies, credentials, aria2 lists and real proxies, through `haul-cli`.
//! - `props`: property tests of the sanitiser and list parsing.
//! - `window`: the real window, headless (egui_kittest), with the `gui` feature.
//! - `window_desk`: the desktop comforts (issue 16): the queue's order, the scheduler, the
//!   clipboard offer, the tray.
//! - `window_options`: "Add with options…" and "Edit options…" (issue 15).
//! - `window_trust`: what a person needs to trust it: true numbers, controls that stay put
//!   and in view, nothing deleted without asking, errors in their language.
//! - `windows`: what only Windows has (the Mark of the Web), run under Wine in CI.
//! - `wild_http`: HTTP as curl and wget2 read it: 416 replies, resuming across broken replies,
//!   trailers, names, two processes racing for one file.
//! - `wild_rpc`: hostile RPC clients: links and files outside the destination, requests that
//!   never finish, hoarded connections.
//! - `wild_split`: split downloads against replayed servers: coded ranges, mirrors behind one
//!   link, the size limit, a slow connection.
//! - `support`: the misbehaving-on-demand fixture server and the engine harness.

mod cli;
mod engine;
mod faults;
mod ftp;
mod lifecycle;
mod props;
mod request;
mod resume;
mod rpc;
mod split;
mod support;
mod tls;
mod wild;
mod wild_http;
mod wild_rpc;
mod wild_split;
#[cfg(feature = "gui")]
mod window;
#[cfg(feature = "gui")]
mod window_desk;
#[cfg(feature = "gui")]
mod window_options;
#[cfg(feature = "gui")]
mod window_trust;
#[cfg(windows)]
mod windows;
