//! The engine's integration tests: one binary, a module per area, each against real servers on
//! 127.0.0.1 that the tests start (the fixture and replays are `haul-testkit`'s).
//!
//! - `engine`: caps, cancel, names, redirects, retries.
//! - `timeouts`: each timeout its own, short bodies and resets, refused connects, statuses,
//!   redirects.
//! - `faults`: servers and disks that misbehave: bad chunks, hostile names, unwritable or
//!   vanishing destinations, full disks.
//! - `fixture`: the fixture server holds the promises the other tests lean on.
//! - `resume`: pause, kill and restart, checksums, kept `.part` files.
//! - `split`: one file over several connections.
//! - `connections`: a host's connections shared by split downloads and the items waiting.
//! - `wild`: replies as real servers send them, replayed byte for byte.
//! - `wild_http`: HTTP as curl and wget2 read it: 416 replies, resuming across broken replies,
//!   trailers, names, two processes racing for one file.
//! - `wild_limit`: `--limit-rate` measured at the server.
//! - `wild_split`: split downloads against replayed servers: coded ranges, mirrors behind one
//!   link, the size limit, a slow connection.
//! - `lifecycle`: engine start, shutdown and the waker.
//! - `tls`: certificates are verified.
//! - `windows`: what only Windows has (the Mark of the Web), run under Wine in CI.
//! - `props`: property tests of the sanitiser and list parsing.

mod connections;
mod engine;
mod faults;
mod fixture;
mod lifecycle;
mod props;
mod resume;
mod split;
mod timeouts;
mod tls;
mod wild;
mod wild_http;
mod wild_limit;
mod wild_split;
#[cfg(windows)]
mod windows;

use haul_testkit as support;
