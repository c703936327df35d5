//! The engine's one BitTorrent client: a librqbit session started on the first torrent, with
//! the engine's listening port and DHT and trackers switches (librqbit honours trackers off
//! only for the whole session, and has no peer exchange switch), no local peer discovery, no UPnP, no session
//! files of its own (Haul keeps its list; a torrent's verified pieces are found again by
//! checking its working folder).
//!
//! Owns: starting the session and what its failure says. Must not touch: single torrents
//! (`super`), their files (`storage`).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use librqbit::limits::LimitsConfig;
use librqbit::{DhtSessionConfig, ListenerMode, ListenerOptions, Session, SessionOptions};
use tokio::sync::OnceCell;

use crate::protocol::{FetchError, Limits};

/// The session, once started (the first torrent's limits choose its port and DHT; changing
/// them applies from the next start of Haul).
#[derive(Default)]
pub(crate) struct Client {
    session: OnceCell<Arc<Session>>,
}

impl Client {
    /// The running session, started now if this is the first torrent.
    pub(crate) async fn session(
        &self,
        limits: &Limits,
        dest: &std::path::Path,
    ) -> Result<Arc<Session>, FetchError> {
        self.session
            .get_or_try_init(|| start(limits, dest))
            .await
            .cloned()
    }
}

async fn start(limits: &Limits, dest: &std::path::Path) -> Result<Arc<Session>, FetchError> {
    // Both stacks where the system has IPv6, else IPv4 alone.
    let mut last = None;
    for ip in [
        SocketAddr::from((Ipv6Addr::UNSPECIFIED, limits.listen_port)),
        SocketAddr::from((Ipv4Addr::UNSPECIFIED, limits.listen_port)),
    ] {
        let options = SessionOptions {
            dht: limits.dht.then_some(DhtSessionConfig {
                bootstrap_addrs: None,
                port: None,
                persistence: None,
            }),
            fastresume: false,
            persistence: None,
            listen: Some(ListenerOptions {
                mode: ListenerMode::TcpOnly,
                listen_addr: ip,
                enable_upnp_port_forwarding: false,
                ipv4_only: ip.is_ipv4(),
                ..ListenerOptions::default()
            }),
            disable_local_service_discovery: true,
            disable_trackers: !limits.trackers,
            ipv4_only: ip.is_ipv4(),
            ratelimits: LimitsConfig {
                download_bps: limits
                    .max_rate
                    .and_then(|r| NonZeroU32::new(u32::try_from(r).unwrap_or(u32::MAX))),
                upload_bps: limits
                    .max_upload_rate
                    .and_then(|r| NonZeroU32::new(u32::try_from(r).unwrap_or(u32::MAX))),
            },
            client_name_and_version: Some(format!("Haul {}", env!("CARGO_PKG_VERSION"))),
            ..SessionOptions::default()
        };
        match Session::new_with_opts(dest.to_path_buf(), options).await {
            Ok(session) => return Ok(session),
            Err(e) => last = Some(format!("{e:#}")),
        }
    }
    Err(FetchError::Torrent(format!(
        "cannot start BitTorrent on port {}: {}",
        limits.listen_port,
        last.unwrap_or_default()
    )))
}
