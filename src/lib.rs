//! Haul's window: the `haul` desktop program, an egui window over the engine.
//!
//! # Layout
//! - [`app`]: the window: egui drawing and the state behind it; never does I/O.
//! - [`desktop`]: chores the window asks for (file dialogs, folder walks, opening files), its
//!   saved queue (SQLite), its logs, the tray, power and login.
//!
//! The crates below it, re-exported under the names the window uses (the compiler holds the
//! walls: none of them depends on this one):
//! - `haul-core` ([`protocol`], [`options`], [`sources`], [`names`], [`netrc`], [`human`],
//!   [`session`], [`version`]): the vocabulary and the list of downloads, no tokio, no I/O.
//! - `haul-engine` ([`engine`], [`process`]): tokio, files, fetchers.
//! - `haul-rpc` ([`rpc`]): aria2's JSON-RPC.
//!
//! The CLI is its own crate, `haul-cli`. The map of the whole workspace is
//! `docs/ARCHITECTURE.md`.

pub mod app;
pub mod desktop;

pub use haul_core::{human, names, netrc, options, protocol, session, sources, version};
pub use haul_engine as engine;
pub use haul_engine::process;
pub use haul_rpc as rpc;
