//! aria2's BitTorrent flags: the per-item ones (`--select-file`, `--seed-ratio`,
//! `--seed-time`, `--bt-tracker`, `--follow-torrent`) set through the option table under each list line's own,
//! the engine's (`--max-overall-upload-limit`, `--listen-port`, `--enable-dht`, `--bt-enable-trackers`), and `--show-files`, which lists a
//! `.torrent` file's contents instead of fetching it.
//!
//! Owns: those flags. Must not touch: the request flags (`request`), the batch (`main`).

use clap::Args;
use haul_core::options::Given;
use haul_core::protocol::{Limits, Source};
use haul_core::sources::Entry;

#[derive(Debug, Args)]
pub struct TorrentArgs {
    /// A torrent's files to fetch, numbered from 1 as --show-files lists them (1,3-5).
    #[arg(long = "select-file", value_name = "LIST")]
    select_file: Option<String>,
    /// Seed a finished torrent until it has sent RATIO times its size (default 1.0; 0: no
    /// ratio).
    #[arg(long = "seed-ratio", value_name = "RATIO")]
    seed_ratio: Option<String>,
    /// Seed a finished torrent for at most MINUTES (0: end as soon as its files are verified).
    #[arg(long = "seed-time", value_name = "MINUTES")]
    seed_time: Option<String>,
    /// A .torrent file (given, or sent by a web link) is fetched as its torrent; false keeps
    /// the .torrent file itself.
    #[arg(long = "follow-torrent", value_name = "BOOL")]
    follow_torrent: Option<String>,
    /// Trackers to announce to besides the torrent's own (comma-separated).
    #[arg(long = "bt-tracker", value_name = "URL,…")]
    bt_tracker: Option<String>,
    /// What torrents send to peers, all together, in bytes a second (K, M suffixes), e.g. 500K.
    #[arg(long = "max-overall-upload-limit", value_name = "RATE",
          value_parser = haul_core::human::parse_size)]
    max_overall_upload_limit: Option<u64>,
    /// The port BitTorrent peers connect to (default: any free port).
    #[arg(long = "listen-port", value_name = "PORT")]
    listen_port: Option<u16>,
    /// Find BitTorrent peers through the DHT (true or false; default true).
    #[arg(long = "enable-dht", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true", value_parser = clap::value_parser!(bool))]
    enable_dht: Option<bool>,
    /// Ask trackers for BitTorrent peers (true or false; default true); false: peers only
    /// from the DHT and a magnet's peer hints.
    #[arg(long = "bt-enable-trackers", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true", value_parser = clap::value_parser!(bool))]
    bt_enable_trackers: Option<bool>,
    /// List the files of each .torrent source (numbered for --select-file) and exit.
    #[arg(long = "show-files")]
    pub show_files: bool,
}

impl TorrentArgs {
    /// Sets the per-item flags on every entry, under the options its own list lines give.
    pub fn apply(&self, entries: &mut [Entry]) -> Result<(), String> {
        let mut flags = Given::default();
        for (name, value) in [
            ("select-file", &self.select_file),
            ("seed-ratio", &self.seed_ratio),
            ("seed-time", &self.seed_time),
            ("bt-tracker", &self.bt_tracker),
            ("follow-torrent", &self.follow_torrent),
        ] {
            if let Some(value) = value {
                flags.set(name, value).map_err(|e| format!("--{e}"))?;
            }
        }
        for entry in entries.iter_mut() {
            let mut given = flags.clone();
            given.over(std::mem::take(&mut entry.given));
            entry.given = given;
        }
        Ok(())
    }

    /// The engine's BitTorrent settings from the flags.
    pub fn limits(&self, limits: &mut Limits) {
        if let Some(rate) = self.max_overall_upload_limit {
            limits.max_upload_rate = (rate > 0).then_some(rate);
        }
        if let Some(port) = self.listen_port {
            limits.listen_port = port;
        }
        if let Some(dht) = self.enable_dht {
            limits.dht = dht;
        }
        if let Some(trackers) = self.bt_enable_trackers {
            limits.trackers = trackers;
        }
    }
}

/// `--show-files`: each `.torrent` source's files, numbered from 1, with their sizes.
pub fn show_files(entries: &[Entry]) -> Result<String, String> {
    let mut out = String::new();
    for entry in entries {
        let path = match &entry.parsed {
            Ok(Source::File(path)) => path,
            _ => {
                return Err(format!(
                    "--show-files reads .torrent files; {} is not one (a magnet link's files \
                     are known only once its peers send the metadata)",
                    entry.text
                ));
            }
        };
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let files = list(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        out.push_str(&format!("{}:\n", path.display()));
        for (i, (name, length)) in files.iter().enumerate() {
            out.push_str(&format!(
                "{:>4}  {:>10}  {name}\n",
                i + 1,
                haul_core::human::human_bytes(*length)
            ));
        }
    }
    Ok(out)
}

#[cfg(feature = "torrent")]
fn list(bytes: &[u8]) -> Result<Vec<(String, u64)>, String> {
    haul_engine::list_files(bytes).map_err(|e| e.to_string())
}

#[cfg(not(feature = "torrent"))]
fn list(_bytes: &[u8]) -> Result<Vec<(String, u64)>, String> {
    Err("this haul-cli was built without BitTorrent (the `torrent` feature)".to_owned())
}
