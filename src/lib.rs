//! Haul fetches many files and URLs at once: a desktop window and `haul-cli`, both thin front
//! ends over one engine.
//!
//! # Layout
//! The ground floor, shared by both front ends (builds without any UI toolkit):
//! - [`protocol`]: the only vocabulary the engine and its front ends share: ids, sources,
//!   commands, events, statuses, outcomes, errors, the waker.
//! - [`engine`]: tokio, reqwest and files; never imports a UI toolkit.
//! - [`sources`]: sources as people give them (arguments, pasted text, list files) and the
//!   checksums of a `SHA256SUMS` file.
//! - [`netrc`]: `.netrc` credentials per host (curl's `--netrc`).
//! - [`options`]: the per-item option table (aria2's names), for lists, flags and dialogs.
//! - [`rpc`]: an aria2-compatible JSON-RPC server for browsers and tools.
//! - [`human`]: sizes and durations for people.
//! - [`process`]: what both binaries set up once at start (the open-file limit).
//! - [`version`]: the version and git commit that `--version` and the About box show.
//!
//! The window wing (the `gui` cargo feature, on by default):
//! - [`app`]: the window: egui drawing and the state behind it; never does I/O.
//! - [`desktop`]: chores the window asks for (file dialogs, folder walks, opening files), its
//!   saved queue (SQLite) and its logs.
//!
//! The CLI wing is the `haul-cli` binary (`src/bin/haul-cli/`): flags, the terminal, reports.
//! `cargo build --no-default-features --bin haul-cli` builds it with no egui in the tree.

#[cfg(feature = "gui")]
pub mod app;
#[cfg(feature = "gui")]
pub mod desktop;
pub mod engine;
pub mod human;
pub mod netrc;
pub mod options;
pub mod process;
pub mod protocol;
pub mod rpc;
pub mod sources;
pub mod version;
