//! `haul-cli`'s integration tests: the built binary as scripts run it, against real servers,
//! proxies and RPC clients on 127.0.0.1 that the tests start.
//!
//! - `cli`: flags, exit codes, reports, checksums, retries and limits.
//! - `certificates`: a self-signed HTTPS server refused, then trusted (`--cacert`, `-k`,
//!   `--trust-certificate`).
//! - `interrupted`: Ctrl+C, kill -9 and the same command again; two processes on one folder;
//!   a low open-file limit.
//! - `ftp`: FTP and FTPS against pyftpdlib, through the engine, the CLI and the RPC.
//! - `request`: headers, cookies, credentials, aria2 lists, skipping and re-signed links.
//! - `proxy`: real proxies (SOCKS5, HTTP with a password) and their failures.
//! - `wild_race`: two processes on one folder racing for one file.
//! - `wild_rpc`: hostile RPC clients: links and files outside the destination, requests that
//!   never finish, hoarded connections.
//! - `stream`: video streams (HLS) made by ffmpeg: each kind of playlist, a variant chosen,
//!   kill -9 resumed by segment, clear failures, and the RPC.
//! - `stream_again`: a finished stream skipped when the same command runs again; a segment
//!   retried and told as a file's retry is; subtitles renditions saved when asked.
//! - `stream_live`: live HLS recorded from the live edge, also with its audio in a separate
//!   rendition.
//! - `torrent`: BitTorrent against aria2c seeders and the testkit's tracker: magnets,
//!   `.torrent` files, file selection, kill -9, files left out, seeding to the ratio, hostile
//!   names, failures.
//! - `torrent_rpc`: a torrent over the RPC: added in base64 with `select-file`, every file
//!   with its index, progress and choice, its pieces, paused and resumed, the overall limit.
//! - `torrent_again`: a torrent run again into its folder: files a killed run moved taken
//!   where they are; a link in its folder leads no write out of the destination; two runs at
//!   once.
//! - `torrent_web`: web links to torrents (by name, by type), a peer sending corrupt pieces,
//!   and Haul itself as the seeder.
//! - `rpc`: `haul-cli --enable-rpc` with aria2p, the npm client, and every refused way in.
//! - `browser_host`: `--install-browser-host` and `--uninstall-browser-host` in a fresh home.

mod browser_host;
mod certificates;
mod cli;
mod ftp;
mod interrupted;
mod proxy;
mod request;
mod rpc;
mod stream;
mod stream_again;
mod stream_live;
mod torrent;
mod torrent_again;
mod torrent_rpc;
mod torrent_web;
mod wild_race;
mod wild_rpc;

use haul_testkit as support;
