//! Haul fetches many files and URLs at once: a desktop window and the `haul-cli` twin, both
//! thin front ends over one engine.
//!
//! # Layout
//! - [`protocol`]: the only vocabulary the engine and its front ends share: ids, sources,
//!   commands, events, outcomes, errors.
//! - [`engine`]: tokio, reqwest and files; never imports a UI toolkit.
//! - [`app`]: the window (egui only; never does I/O).
//! - [`desktop`]: chores the window asks for: file dialogs, folder walks, opening files.
//! - [`logs`]: the window's log file and its recent warnings.
//! - [`queue`]: the window's queue on disk (SQLite), so a crash loses nothing.
//! - [`cli`]: what `haul-cli` needs beyond the engine: reading source lists and reporting.
//! - [`version`]: the version and git commit that `--version` and the About box show.

pub mod app;
pub mod cli;
pub mod desktop;
pub mod engine;
pub mod logs;
pub mod protocol;
pub mod queue;
pub mod version;
