//! Real BitTorrent peers on 127.0.0.1 for the tests: torrents made by `transmission-create`,
//! `aria2c` seeding them (its RPC tells the bytes it sent), and a small tracker that
//! introduces them ([`Tracker`]). No DHT, no local discovery, no internet.
//!
//! Owns: finding, starting and stopping these tools, and reading the seeder's upload count.
//! Must not touch: Haul itself.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools::free_port;

/// Whether the peers' tools are installed; without them a test is skipped (and fails under
/// `HAUL_REQUIRE_TORRENT_PEERS=1`, as `.ci/run` sets it).
pub fn have_peers() -> bool {
    let missing: Vec<&str> = ["aria2c", "transmission-create"]
        .into_iter()
        .filter(|program| {
            !Command::new("sh")
                .args(["-c", &format!("command -v {program}")])
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("HAUL_REQUIRE_TORRENT_PEERS").is_none(),
        "not installed: {missing:?}"
    );
    eprintln!(
        "skipped: {} not installed (apt install aria2 transmission-cli)",
        missing.join(", ")
    );
    false
}

/// Test content made into a torrent ([`content`]).
pub struct Content {
    /// The folder the content is in (what a seeder serves).
    pub data: PathBuf,
    /// The `.torrent` file.
    pub torrent: PathBuf,
    /// Its info hash (hex).
    pub hash: String,
}

impl Content {
    /// aria2c seeding it (see [`Seeder::start`]).
    pub fn seed(&self, tracker: Option<&str>, upload_limit: Option<u64>) -> Seeder {
        Seeder::start(&self.torrent, &self.data, tracker, upload_limit)
    }
}

/// Writes `files` (each a path inside the content, `/`-separated, and its bytes) under
/// `dir/data` and makes the torrent of their top (the first path's first component: one
/// file, or a folder of many) as `dir/<top>.torrent`, with 16 KiB pieces, announcing to
/// `tracker` when given.
pub fn content(dir: &Path, files: &[(&str, &[u8])], tracker: Option<&str>) -> Content {
    let data = dir.join("data");
    for (path, bytes) in files {
        let file = data.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).expect("content folder");
        }
        std::fs::write(&file, bytes).expect("content");
    }
    let top = files
        .first()
        .and_then(|(path, _)| path.split('/').next())
        .expect("at least one file");
    let torrent = dir.join(format!("{top}.torrent"));
    let hash = make_torrent(&data.join(top), &torrent, 16, tracker);
    Content {
        data,
        torrent,
        hash,
    }
}

/// A `.torrent` made of `content` (a file or a folder), with 16 KiB pieces unless
/// `piece_kib` says, announcing to `tracker` when given. Returns its info hash (hex).
pub fn make_torrent(content: &Path, out: &Path, piece_kib: u32, tracker: Option<&str>) -> String {
    let mut command = Command::new("transmission-create");
    command
        .arg("-o")
        .arg(out)
        .args(["-s", &piece_kib.to_string()]);
    if let Some(tracker) = tracker {
        command.args(["-t", tracker]);
    }
    let made = command.arg(content).output().expect("transmission-create");
    assert!(made.status.success(), "transmission-create: {made:?}");
    info_hash(out)
}

/// A torrent file's info hash (hex), as aria2c reads it.
pub fn info_hash(torrent: &Path) -> String {
    let shown = Command::new("aria2c")
        .arg("-S")
        .arg(torrent)
        .output()
        .expect("aria2c -S");
    let text = String::from_utf8_lossy(&shown.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("Info Hash: "))
        .unwrap_or_else(|| panic!("no info hash in aria2c -S: {text}"))
        .trim()
        .to_owned()
}

/// A BitTorrent tracker on 127.0.0.1 (BEP 3's HTTP announce with BEP 23's compact peer
/// list): it remembers every peer that announces a torrent and gives each the others. Not
/// Debian's opentracker: its whitelist (it refuses any torrent not on it) is read by one of
/// its threads and answered "not authorized" for every other request or so. Stops on drop.
pub struct Tracker {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Tracker {
    pub fn start() -> Tracker {
        use std::collections::HashMap;
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("tracker port");
        let port = listener.local_addr().expect("address").port();
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let swarms: Arc<Mutex<HashMap<Vec<u8>, Vec<u16>>>> = Arc::default();
        let stopped = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let target = head
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned();
                let query = target.split_once('?').map(|(_, q)| q).unwrap_or_default();
                let param = |name: &str| {
                    query
                        .split('&')
                        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                        .unwrap_or_default()
                        .to_owned()
                };
                // The info-hash as bytes: clients percent-encode it differently (aria2
                // escapes every byte, Transmission leaves unreserved ones as they are), and
                // they must meet in one swarm.
                let hash: Vec<u8> =
                    percent_encoding::percent_decode_str(&param("info_hash")).collect();
                let (hash, peer) = (hash, param("port").parse::<u16>().unwrap_or(0));
                let mut swarms = swarms
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let swarm = swarms.entry(hash).or_default();
                let mut peers = Vec::new();
                for other in swarm.iter().filter(|p| **p != peer) {
                    peers.extend([127, 0, 0, 1]);
                    peers.extend(other.to_be_bytes());
                }
                if param("event") == "stopped" {
                    swarm.retain(|p| *p != peer);
                } else if peer != 0 && !swarm.contains(&peer) {
                    swarm.push(peer);
                }
                drop(swarms);
                let mut body =
                    format!("d8:intervali2e12:min intervali1e5:peers{}:", peers.len()).into_bytes();
                body.extend(peers);
                body.push(b'e');
                let mut reply = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                reply.extend(body);
                let _ = stream.write_all(&reply);
            }
        });
        Tracker { port, stop }
    }

    pub fn announce(&self) -> String {
        format!("http://127.0.0.1:{}/announce", self.port)
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// `aria2c` seeding one torrent from `data` (the folder holding its content) on a free port,
/// its RPC on another; killed on drop.
pub struct Seeder {
    child: Child,
    /// The port peers connect to.
    pub port: u16,
    rpc: u16,
}

impl Seeder {
    /// Starts seeding (after checking the data: `-V`), announcing to `tracker` when given,
    /// sending at most `upload_limit` bytes a second when given.
    pub fn start(
        torrent: &Path,
        data: &Path,
        tracker: Option<&str>,
        upload_limit: Option<u64>,
    ) -> Seeder {
        Seeder::spawn(torrent, data, tracker, upload_limit, "-V")
    }

    /// Starts seeding the data as it is, its pieces not checked (`--bt-seed-unverified`):
    /// with bytes changed, a peer that sends corrupt pieces of the torrent.
    pub fn start_unverified(torrent: &Path, data: &Path, tracker: Option<&str>) -> Seeder {
        Seeder::spawn(torrent, data, tracker, None, "--bt-seed-unverified=true")
    }

    fn spawn(
        torrent: &Path,
        data: &Path,
        tracker: Option<&str>,
        upload_limit: Option<u64>,
        check: &str,
    ) -> Seeder {
        let (port, rpc) = (free_port(), free_port());
        let mut command = Command::new("aria2c");
        command
            .args([
                "--seed-ratio=0",
                "--seed-time=60",
                check,
                "--enable-dht=false",
                "--enable-dht6=false",
                "--bt-enable-lpd=false",
                "--enable-peer-exchange=false",
                "--summary-interval=0",
                "--enable-rpc",
                "--rpc-listen-all=false",
                "--quiet",
            ])
            .arg(format!("--listen-port={port}"))
            .arg(format!("--rpc-listen-port={rpc}"))
            .arg(format!("--dir={}", data.display()));
        if let Some(tracker) = tracker {
            command.arg(format!("--bt-tracker={tracker}"));
        }
        if let Some(limit) = upload_limit {
            command.arg(format!("--max-upload-limit={limit}"));
        }
        let child = command
            .arg(torrent)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aria2c");
        wait_for_port(rpc);
        let seeder = Seeder { child, port, rpc };
        // Seeding once the check is done and the peer port is open.
        wait_for_port(port);
        seeder
    }

    /// A magnet link for `hash` naming this seeder as its peer (`x.pe`).
    pub fn magnet(&self, hash: &str) -> String {
        format!("magnet:?xt=urn:btih:{hash}&x.pe=127.0.0.1:{}", self.port)
    }

    /// The bytes it has sent to peers (aria2's `uploadLength`).
    pub fn uploaded(&self) -> u64 {
        let body =
            r#"{"jsonrpc":"2.0","id":"t","method":"aria2.tellActive","params":[["uploadLength"]]}"#;
        let reply = post(self.rpc, body);
        let value: serde_json::Value = serde_json::from_str(&reply).unwrap_or_default();
        value["result"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["uploadLength"].as_str()?.parse::<u64>().ok())
                    .sum()
            })
            .unwrap_or(0)
    }
}

impl Drop for Seeder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post(port: u16, body: &str) -> String {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "POST /jsonrpc HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(request.as_bytes());
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The files under `dir` a person sees as fetched: [`files_under`] without Haul's own hidden
/// folders (a torrent's working folder `.haul-torrent-<hash>`, kept while files are left out,
/// and the RPC's `.haul-torrents`).
pub fn landed(dir: &Path) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|f| !f.starts_with(".haul-torrent"))
        .collect()
}

/// Every file under `dir`, as paths relative to it with `/`, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path: PathBuf = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else if let Ok(rel) = path.strip_prefix(root) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}
