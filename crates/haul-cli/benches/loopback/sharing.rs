// Workloads about one host's connections shared between downloads (W9, W10; issue 28): Haul
// runs as `haul-cli --enable-rpc` with its defaults (4 connections per host, 4 per file) and
// is driven as a browser extension or AriaNg drives it, over aria2's JSON-RPC, against nginx
// with `limit_rate 4m` per connection; nginx's own `stub_status` counts the connections it is
// writing to. These measure a moment (how soon connections are taken up, how soon small files
// get through), not a whole transfer: no other tool takes part, and the big files are not
// fetched to the end.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::{AfterCheck, Content, Servers, Sizes, Versus, Workload, seeded};

const MIB: usize = 1024 * 1024;
/// nginx's `limit_rate` for `/w9/` and `/w10/`, per connection.
const PER_CONNECTION: f64 = 4.0 * MIB as f64;
const SECRET: &str = "bench-secret";

/// A big file as repeated 1 MiB blocks (nothing held in memory beyond one block).
fn big(seed: u64, len: usize) -> Content {
    Content::Repeated {
        block: bytes::Bytes::from(seeded(seed, MIB)),
        count: (len / MIB).max(1),
    }
}

/// `haul-cli --enable-rpc` with its defaults, saving into `dest`; killed on drop.
struct Rpc {
    child: Child,
    port: u16,
}

impl Drop for Rpc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Rpc {
    fn start(haul: &Path, dest: &Path) -> anyhow::Result<Rpc> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let _ = std::fs::remove_dir_all(dest);
        std::fs::create_dir_all(dest)?;
        let child = Command::new(haul)
            .args(["--enable-rpc", "--rpc-listen-port", &port.to_string()])
            .args(["--rpc-secret", SECRET, "-o"])
            .arg(dest)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start haul-cli --enable-rpc")?;
        let rpc = Rpc { child, port };
        for _ in 0..250 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(rpc);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("haul-cli --enable-rpc did not listen on {port}")
    }

    /// Calls `method` with the secret and `params`; its result.
    fn call(&self, method: &str, params: Value) -> anyhow::Result<Value> {
        let mut all = vec![json!(format!("token:{SECRET}"))];
        all.extend(params.as_array().cloned().unwrap_or_default());
        let body =
            json!({ "jsonrpc": "2.0", "id": "bench", "method": method, "params": all }).to_string();
        let text = http(self.port, "POST", "/jsonrpc", &body)?;
        let reply: Value = serde_json::from_str(&text).with_context(|| text.clone())?;
        match reply.get("result") {
            Some(result) => Ok(result.clone()),
            None => bail!("{method}: {reply}"),
        }
    }

    fn add(&self, url: &str) -> anyhow::Result<String> {
        let gid = self.call("aria2.addUri", json!([[url]]))?;
        gid.as_str()
            .map(str::to_owned)
            .context("addUri answered no gid")
    }

    /// (status, completed bytes, connections) of `gid`.
    fn status(&self, gid: &str) -> anyhow::Result<(String, u64, usize)> {
        let s = self.call(
            "aria2.tellStatus",
            json!([gid, ["status", "completedLength", "connections"]]),
        )?;
        let number = |key: &str| s[key].as_str().and_then(|n| n.parse().ok()).unwrap_or(0);
        Ok((
            s["status"].as_str().unwrap_or_default().to_owned(),
            number("completedLength"),
            number("connections") as usize,
        ))
    }
}

/// One HTTP/1.1 request on a fresh connection; the reply's body.
fn http(port: u16, method: &str, path: &str, body: &str) -> anyhow::Result<String> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    match reply.split_once("\r\n\r\n") {
        Some((_, body)) => Ok(body.to_owned()),
        None => bail!("no reply from 127.0.0.1:{port}{path}"),
    }
}

/// Connections nginx (on `port`) is writing a reply to now (its `stub_status` "Writing", less
/// the status request itself).
fn writing(port: u16) -> anyhow::Result<usize> {
    let text = http(port, "GET", "/nginx-status", "")?;
    let writing = text
        .split_whitespace()
        .skip_while(|word| *word != "Writing:")
        .nth(1)
        .and_then(|n| n.parse::<usize>().ok())
        .context("no Writing: in nginx's stub_status")?;
    Ok(writing.saturating_sub(1))
}

/// The port of the nginx serving the run (W9 and W10 need its limit_rate and stub_status).
fn nginx_port(servers: &Servers, name: &str) -> anyhow::Result<u16> {
    match &servers.nginx {
        Some(nginx) => Ok(nginx.port),
        None => bail!("{name} needs nginx (limit_rate, stub_status): run without --server own"),
    }
}

/// A workload of after-checks only: no tool is timed against another.
fn checks_only(name: &'static str, what: String, after: Vec<AfterCheck>) -> Workload {
    Workload {
        name,
        what,
        expected: Vec::new(),
        frames: None,
        tools: Vec::new(),
        wall_target: (Versus::BestPeer, 1.0),
        cpu_target: None,
        more_targets: Vec::new(),
        after,
    }
}

/// W9: two big files from one nginx (4 MiB/s per connection), Haul's defaults (4 per host, 4
/// per file) share the host's 4 connections between them; one is paused: the other must be on
/// 4 connections (counted by nginx) within 1 s, and then receive at least 0.9 × 4 × 4 MiB/s.
pub(super) fn w9(
    servers: &mut Servers,
    haul: &Path,
    sizes: &Sizes,
    work: &Path,
) -> anyhow::Result<Workload> {
    let port = nginx_port(servers, "W9")?;
    let items = vec![
        ("a.bin".to_owned(), big(0x9A, sizes.sharing_len)),
        ("b.bin".to_owned(), big(0x9B, sizes.sharing_len)),
    ];
    let urls = servers.publish_static("w9", &items)?;
    let (a, b) = (urls[0].0.clone(), urls[1].0.clone());
    let (haul, dest) = (haul.to_path_buf(), work.join("w9-out"));
    // The first check runs the scenario and leaves the rate for the second.
    let measured = std::sync::Arc::new(std::sync::Mutex::new(None));
    let left = std::sync::Arc::clone(&measured);
    let taken: AfterCheck = Box::new(move || {
        let (took, rate) = w9_once(&haul, &dest, port, &a, &b)?;
        if let Ok(mut slot) = left.lock() {
            *slot = Some(rate);
        }
        eprintln!(
            "  W9: 4 connections {took:.3} s after the pause; then {:.2} MiB/s",
            rate / MIB as f64
        );
        Ok((
            "seconds to 4 connections after the pause",
            took,
            "1 s".to_owned(),
            1.0,
            took <= 1.0,
        ))
    });
    let rate: AfterCheck = Box::new(move || {
        let rate = measured
            .lock()
            .ok()
            .and_then(|slot| *slot)
            .context("W9 did not run")?;
        let short = 0.9 * 4.0 * PER_CONNECTION / rate.max(1.0);
        Ok((
            "0.9 × 4 × 4 MiB/s ÷ the rate after the pause",
            short,
            "its rate".to_owned(),
            1.0,
            short <= 1.0,
        ))
    });
    Ok(checks_only(
        "W9",
        format!(
            "two {} MiB files, one nginx at 4 MiB/s per connection, 4 per host, 4 per file; one paused",
            sizes.sharing_len / MIB
        ),
        vec![taken, rate],
    ))
}

/// One W9 run: seconds from the pause until the download left running is on 4 connections
/// (as Haul reports it, and nginx counts them 1 s after the pause), and its bytes a second
/// over the 5 s after that.
fn w9_once(haul: &Path, dest: &Path, port: u16, a: &str, b: &str) -> anyhow::Result<(f64, f64)> {
    let rpc = Rpc::start(haul, dest)?;
    let ga = rpc.add(a)?;
    let gb = rpc.add(b)?;
    // Both run, sharing the host's connections.
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        let (sa, _, ca) = rpc.status(&ga)?;
        let (sb, _, cb) = rpc.status(&gb)?;
        if sa == "active" && sb == "active" && ca + cb >= 4 && writing(port)? >= 4 {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(2));
    let (_, _, ca) = rpc.status(&ga)?;
    let (_, _, cb) = rpc.status(&gb)?;
    eprintln!("  W9 before the pause: {ca} + {cb} connections");
    rpc.call("aria2.pause", json!([gb]))?;
    let paused = Instant::now();
    // When Haul says the one left runs on 4 connections; nginx confirms it 1 s after the
    // pause, once the paused one's connections are surely gone (nginx cannot tell whose
    // connection it writes to).
    let mut took = None;
    while paused.elapsed() < Duration::from_secs(1) {
        if took.is_none() && rpc.status(&ga)?.2 >= 4 {
            took = Some(paused.elapsed().as_secs_f64());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut at_server = 0;
    for _ in 0..20 {
        at_server = at_server.max(writing(port)?);
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("  W9 1 s after the pause: nginx writes to {at_server} connections");
    let took = match took {
        Some(took) if at_server >= 4 => took,
        _ => f64::INFINITY,
    };
    // Its rate over the next 5 s, from what it reports done.
    let (_, start, _) = rpc.status(&ga)?;
    let from = Instant::now();
    std::thread::sleep(Duration::from_secs(5));
    let (_, end, connections) = rpc.status(&ga)?;
    let rate = end.saturating_sub(start) as f64 / from.elapsed().as_secs_f64();
    eprintln!("  W9 after the pause: {connections} connections (tellStatus)");
    drop(rpc);
    let _ = std::fs::remove_dir_all(dest);
    Ok((took, rate))
}

/// W10: one big file (split over 4 connections) and then 20 × 256 KiB from the same nginx
/// (4 MiB/s per connection): every small file must be done within 2 s of being added, byte
/// for byte.
pub(super) fn w10(
    servers: &mut Servers,
    haul: &Path,
    sizes: &Sizes,
    work: &Path,
) -> anyhow::Result<Workload> {
    let port = nginx_port(servers, "W10")?;
    let mut items = vec![("big.bin".to_owned(), big(0x10B, sizes.sharing_len))];
    for i in 0..sizes.sharing_small {
        items.push((
            format!("small{i:02}.bin"),
            Content::whole(seeded(0x1000 + i as u64, 256 * 1024)),
        ));
    }
    let urls = servers.publish_static("w10", &items)?;
    let expected: Vec<(String, Vec<u8>)> = items[1..]
        .iter()
        .map(|(name, content)| (name.clone(), content.slices(0, content.len()).concat()))
        .collect();
    let (haul, dest) = (haul.to_path_buf(), work.join("w10-out"));
    let small_urls: Vec<String> = urls[1..].iter().map(|(url, _)| url.clone()).collect();
    let big_url = urls[0].0.clone();
    let count = sizes.sharing_small;
    let check: AfterCheck = Box::new(move || {
        let rpc = Rpc::start(&haul, &dest)?;
        let gbig = rpc.add(&big_url)?;
        let until = Instant::now() + Duration::from_secs(20);
        while Instant::now() < until {
            let (_, _, c) = rpc.status(&gbig)?;
            if c >= 4 && writing(port)? >= 4 {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_secs(1));
        let added = Instant::now();
        let gids = small_urls
            .iter()
            .map(|url| rpc.add(url))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut last = None;
        while added.elapsed() < Duration::from_secs(60) {
            let mut done = 0;
            for gid in &gids {
                if rpc.status(gid)?.0 == "complete" {
                    done += 1;
                }
            }
            if done == gids.len() {
                last = Some(added.elapsed().as_secs_f64());
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let (_, big_done, big_connections) = rpc.status(&gbig)?;
        drop(rpc);
        for (name, bytes) in &expected {
            let got = std::fs::read(dest.join(name)).with_context(|| format!("W10 {name}"))?;
            anyhow::ensure!(got == *bytes, "W10 {name}: wrong bytes");
        }
        let _ = std::fs::remove_dir_all(&dest);
        let took = last.unwrap_or(f64::INFINITY);
        eprintln!(
            "  W10: {count} small files done {took:.3} s after being added; the big one at {} MiB, {big_connections} connections",
            big_done / MIB as u64
        );
        Ok(("seconds until every small file is done", took, "2 s".to_owned(), 2.0, took <= 2.0))
    });
    Ok(checks_only(
        "W10",
        format!(
            "one {} MiB file split over 4 connections, then {} × 256 KiB from the same nginx (4 MiB/s per connection)",
            sizes.sharing_len / MIB,
            sizes.sharing_small
        ),
        vec![check],
    ))
}
