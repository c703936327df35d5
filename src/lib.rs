//! Haul fetches many files and URLs at once: a desktop window and the `haul-cli` twin, both
//! thin front ends over one engine.
//!
//! # Layout
//! - [`protocol`]: the only vocabulary the engine and its front ends share: ids, sources,
//!   commands, events, outcomes, errors.
//! - [`engine`]: tokio, reqwest and files; never imports a UI toolkit.
//! - [`cli`]: what `haul-cli` needs beyond the engine: reading source lists and reporting.

pub mod cli;
pub mod engine;
pub mod protocol;
