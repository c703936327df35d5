//! What Haul's tests share, in one crate (a dev-dependency of every crate with tests), so no
//! helper is written twice:
//! - [`server`]: a misbehaving-on-demand HTTP/1.1 server on 127.0.0.1 ([`Server`]);
//! - [`harness`]: an engine with a destination and the events of each item;
//! - [`replay`]: byte-exact replies from a raw socket server;
//! - [`tools`]: real tools the tests start or find (proxies, aria2p, node);
//! - [`media`]: video streams made by ffmpeg, and a file server for them ([`media::Files`]);
//! - [`torrent`]: BitTorrent peers (aria2c seeding, a loopback tracker) and torrents to seed;
//! - [`tls`]: an HTTPS server with a self-signed certificate ([`tls::TlsServer`]).
//!
//! Must not touch: Haul's front ends (the window's own test world lives with its tests).

pub mod ftp;
pub mod harness;
pub mod media;
pub mod replay;
pub mod server;
pub mod tls;
pub mod tools;
pub mod torrent;

pub use server::*;
