//! Haul's pure core: the vocabulary the engine and every front end share, and what turns what
//! a person gives into it. No tokio, no I/O (callers read files), no UI toolkit.
//!
//! # Layout
//! - [`protocol`]: ids, sources, commands, events, statuses, outcomes, errors, the waker.
//! - [`options`]: the per-item option table (aria2's names), for lists, flags and dialogs.
//! - [`sources`]: sources as people give them (arguments, pasted text, list files) and the
//!   checksums of a `SHA256SUMS` file.
//! - [`names`]: the sanitiser, where names come from (URL, `Content-Disposition`), charsets.
//! - [`netrc`]: `.netrc` credentials per host (curl's `--netrc`).
//! - [`human`]: sizes and durations for people.
//! - [`session`]: the one list of downloads (the window's and the headless RPC's), and the
//!   speed estimator.
//! - [`version`]: the version and git commit that `--version` and the About box show.

pub mod human;
pub mod names;
pub mod netrc;
pub mod options;
pub mod protocol;
pub mod session;
pub mod sources;
pub mod version;
