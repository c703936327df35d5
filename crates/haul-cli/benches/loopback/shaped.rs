// Workloads where the network, not the CPU, is the limit (W5–W8): a server that throttles
// each connection, connections of uneven speed, a speed limit, and a link shaped to
// 100 Mbit/s. Each runs Haul beside the tool people would use, outputs checked byte-exact.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;

use super::{Content, Nginx, Servers, Sizes, Tool, Versus, Workload, expected, http_tools, seeded};

const MIB: usize = 1024 * 1024;

/// A big file as repeated 1 MiB blocks (nothing held in memory beyond one block).
fn big(seed: u64, len: usize) -> Content {
    let block = seeded(seed, MIB);
    Content::Repeated {
        block: Bytes::from(block),
        count: (len / MIB).max(1),
    }
}

/// haul-cli on one URL with extra flags.
fn haul_on(haul: &Path, url: &str, flags: &[&str]) -> Tool {
    let (haul, url) = (haul.to_path_buf(), url.to_owned());
    let flags: Vec<String> = flags.iter().map(|f| (*f).to_owned()).collect();
    Tool {
        name: "haul",
        command: Box::new(move |dest| {
            let mut c = Command::new(&haul);
            c.arg("-q").args(&flags).arg("--dest").arg(dest).arg(&url);
            c
        }),
    }
}

/// aria2c on one URL with extra flags.
fn aria2c_on(url: &str, flags: &[&str]) -> Tool {
    let url = url.to_owned();
    let flags: Vec<String> = flags.iter().map(|f| (*f).to_owned()).collect();
    Tool {
        name: "aria2c",
        command: Box::new(move |dest| {
            let mut c = Command::new("aria2c");
            c.args(["-q", "--no-conf", "--file-allocation=none"])
                .args(["--allow-overwrite=true", "--auto-file-renaming=false"])
                .args(&flags)
                .arg("-d")
                .arg(dest)
                .arg(&url);
            c
        }),
    }
}

/// curl on one URL (one connection) with extra flags.
fn curl_on(url: &str, name: &str, flags: &[&str]) -> Tool {
    let (url, name) = (url.to_owned(), name.to_owned());
    let flags: Vec<String> = flags.iter().map(|f| (*f).to_owned()).collect();
    Tool {
        name: "curl",
        command: Box::new(move |dest| {
            let mut c = Command::new("curl");
            c.args(["-s", "-S", "--fail", "--create-dirs"])
                .args(&flags)
                .arg("-o")
                .arg(dest.join(&name))
                .arg(&url);
            c
        }),
    }
}

/// W5: a file from nginx with `limit_rate 4m` per connection. `haul-cli --split 8 --min-split-size 1M
/// --per-host 8` beside `aria2c -x8 -s8 -k1M` and curl (one connection).
pub(super) fn w5(servers: &mut Servers, haul: &Path, sizes: &Sizes) -> anyhow::Result<Workload> {
    let Some(nginx) = &servers.nginx else {
        anyhow::bail!("W5 needs nginx (its limit_rate): run without --server own");
    };
    let items = vec![("split.bin".to_owned(), big(0x55, sizes.split_len))];
    let urls = nginx.publish("w5", &items)?;
    let url = &urls[0].0;
    let limit = sizes.split_len as f64 / (8.0 * 4.0 * MIB as f64);
    Ok(Workload {
        name: "W5",
        what: format!(
            "one {} MiB file, 4 MiB/s per connection (nginx limit_rate), 8 connections",
            sizes.split_len / MIB
        ),
        expected: expected(&items),
        frames: None,
        tools: vec![
            haul_on(haul, url, &["--split", "8", "--min-split-size", "1M", "--per-host", "8"]),
            aria2c_on(url, &["-x8", "-s8", "-k1M"]),
            curl_on(url, "split.bin", &[]),
        ],
        wall_target: (Versus::Tool("aria2c"), 1.0),
        cpu_target: None,
        more_targets: vec![(Versus::Seconds(limit), 1.1)],
        after: Vec::new(),
    })
}

/// W5B: the same file, throttled per TCP connection by the benchmark's own server (4 MiB/s
/// each, however many requests a connection carries). nginx's limit_rate is per request and
/// lets each request send its first second's worth at once (it allows rate × (elapsed + 1 s)),
/// so a client that asks piece by piece is hardly throttled there; here nothing is free.
pub(super) fn w5b(servers: &mut Servers, haul: &Path, sizes: &Sizes) -> anyhow::Result<Workload> {
    let items = vec![("split.bin".to_owned(), big(0x55, sizes.split_len))];
    let urls = servers.own.publish_throttled(
        "w5b",
        items.clone(),
        Duration::ZERO,
        &[4 * MIB as u64],
    );
    let url = &urls[0].0;
    let limit = sizes.split_len as f64 / (8.0 * 4.0 * MIB as f64);
    Ok(Workload {
        name: "W5B",
        what: format!(
            "one {} MiB file, 4 MiB/s per TCP connection (own server), 8 connections",
            sizes.split_len / MIB
        ),
        expected: expected(&items),
        frames: None,
        tools: vec![
            haul_on(haul, url, &["--split", "8", "--min-split-size", "1M", "--per-host", "8"]),
            aria2c_on(url, &["-x8", "-s8", "-k1M"]),
        ],
        wall_target: (Versus::Tool("aria2c"), 1.0),
        cpu_target: None,
        more_targets: vec![(Versus::Seconds(limit), 1.1)],
        after: Vec::new(),
    })
}

/// W6: connections of uneven speed — the benchmark's server sends each connection at 1, 2, 4
/// or 8 MiB/s by the order it accepted it. With dynamic splitting Haul's 4 connections should
/// come close to 15 MiB/s; a static split waits for its slowest connection.
pub(super) fn w6(servers: &mut Servers, haul: &Path, sizes: &Sizes) -> anyhow::Result<Workload> {
    let items = vec![("uneven.bin".to_owned(), big(0x66, sizes.split_len))];
    let rates: Vec<u64> = [1, 2, 4, 8].iter().map(|m| m * MIB as u64).collect();
    let urls = servers
        .own
        .publish_throttled("w6", items.clone(), Duration::ZERO, &rates);
    let url = &urls[0].0;
    let limit = sizes.split_len as f64 / (15.0 * MIB as f64);
    Ok(Workload {
        name: "W6",
        what: format!(
            "one {} MiB file, 4 connections at 1, 2, 4, 8 MiB/s",
            sizes.split_len / MIB
        ),
        expected: expected(&items),
        frames: None,
        tools: vec![
            haul_on(haul, url, &["--split", "4", "--min-split-size", "1M", "--per-host", "4"]),
            aria2c_on(url, &["-x4", "-s4", "-k1M"]),
        ],
        wall_target: (Versus::Seconds(limit), 1.15),
        cpu_target: None,
        more_targets: Vec::new(),
        after: Vec::new(),
    })
}

/// W7: `--limit-rate 4M` over a file from an unthrottled server: the wall time within 5 % of
/// size ÷ 4 MiB/s; curl `--limit-rate 4M` beside it.
pub(super) fn w7(
    servers: &mut Servers,
    haul: &Path,
    sizes: &Sizes,
    work: &Path,
) -> anyhow::Result<Workload> {
    let items = vec![("limited.bin".to_owned(), big(0x77, sizes.limit_len))];
    let urls = servers.publish_static("w7", &items)?;
    let url = &urls[0].0;
    let limit = sizes.limit_len as f64 / (4.0 * MIB as f64);
    Ok(Workload {
        name: "W7",
        what: format!("one {} MiB file, --limit-rate 4M", sizes.limit_len / MIB),
        expected: expected(&items),
        frames: None,
        tools: vec![
            haul_on(haul, url, &["--limit-rate", "4M"]),
            curl_on(url, "limited.bin", &["--limit-rate", "4M"]),
        ],
        wall_target: (Versus::Seconds(limit), 1.05),
        cpu_target: None,
        more_targets: Vec::new(),
        after: vec![steady_rate_check(haul, url, work), wire_check(haul, work)],
    })
}

/// W7's second target: after the first second, each second's rate within 10 % of 4 MiB/s.
/// One more haul-cli run, its output folder's size read every 50 ms.
fn steady_rate_check(haul: &Path, url: &str, work: &Path) -> super::AfterCheck {
    let (haul, url, dest) = (haul.to_path_buf(), url.to_owned(), work.join("w7-steady"));
    Box::new(move || {
        let _ = std::fs::remove_dir_all(&dest);
        let mut child = Command::new(&haul)
            // One stream: a split download's .part has its full length from the start.
            .args(["-q", "--split", "1", "--limit-rate", "4M", "--dest"])
            .arg(&dest)
            .arg(&url)
            .spawn()?;
        let started = std::time::Instant::now();
        let mut samples = vec![(0.0, 0u64)];
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let size: u64 = std::fs::read_dir(&dest)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .filter_map(|e| e.metadata().ok())
                        .filter(|m| m.is_file())
                        .map(|m| m.len())
                        .sum()
                })
                .unwrap_or(0);
            samples.push((started.elapsed().as_secs_f64(), size));
            if child.try_wait()?.is_some() {
                break;
            }
        }
        let _ = std::fs::remove_dir_all(&dest);
        // The bytes at each whole second, by interpolating between samples.
        let at = |t: f64| -> f64 {
            let i = samples.partition_point(|&(s, _)| s < t).max(1).min(samples.len() - 1);
            let ((t0, b0), (t1, b1)) = (samples[i - 1], samples[i]);
            b0 as f64 + (b1 as f64 - b0 as f64) * ((t - t0) / (t1 - t0).max(1e-9)).clamp(0.0, 1.0)
        };
        let end = samples.last().map_or(0.0, |s| s.0).floor();
        let rate = 4.0 * MIB as f64;
        let worst = (1..end as usize)
            .map(|s| ((at(s as f64 + 1.0) - at(s as f64)) / rate - 1.0).abs())
            .fold(0.0, f64::max);
        let seconds = (end as usize).saturating_sub(1);
        eprintln!("  W7 per-second rates over {seconds} whole seconds: worst {:.1} % off", worst * 100.0);
        Ok((
            "per-second rate off by",
            worst,
            "4 MiB/s".to_owned(),
            0.10,
            worst <= 0.10,
        ))
    })
}

/// W7's third target, on the wire: `--limit-rate 1M` over one 48 MiB file (split as Haul
/// splits it), stopped after 9 s; the most a counting server handed to the network in any 8 s
/// (its send buffer kept at 4 KiB, so what it hands over is what crosses the link) within 10 %
/// of 8 MiB. aria2c `--max-overall-download-limit=1M -x4 -s4 -k1M` is measured beside it.
fn wire_check(haul: &Path, work: &Path) -> super::AfterCheck {
    let (haul, dest) = (haul.to_path_buf(), work.join("w7-wire"));
    Box::new(move || {
        let mut haul_cmd = Command::new(&haul);
        haul_cmd.args(["-q", "--limit-rate", "1M", "--dest"]).arg(&dest);
        let haul_worst = worst_8s_at_server(haul_cmd, &dest)?;
        let mut aria2c = Command::new("aria2c");
        aria2c
            .args(["-q", "--no-conf", "--file-allocation=none", "--allow-overwrite=true"])
            .args(["--max-overall-download-limit=1M", "-x4", "-s4", "-k1M", "-d"])
            .arg(&dest);
        let aria2c_worst = worst_8s_at_server(aria2c, &dest).ok();
        let mib = |b: u64| b as f64 / MIB as f64;
        let beside = aria2c_worst.map_or("8 MiB; aria2c not run".to_owned(), |b| {
            format!("8 MiB; aria2c sent {:.2} MiB", mib(b))
        });
        eprintln!(
            "  W7 on the wire, worst 8 s at the server under 1 MiB/s: haul {:.2} MiB (limit {beside})",
            mib(haul_worst)
        );
        let over = mib(haul_worst) / 8.0 - 1.0;
        Ok(("worst 8 s at the server over 8 MiB by", over, beside, 0.10, over <= 0.10))
    })
}

/// Runs `command` (its URL appended) against a counting server for 9 s, then kills it; the most
/// bytes the server sent over any 8 s.
fn worst_8s_at_server(mut command: Command, dest: &Path) -> anyhow::Result<u64> {
    use std::io::{Read as _, Write as _};
    use std::sync::{Arc, Mutex};
    let _ = std::fs::remove_dir_all(dest);
    let data = Arc::new(big(0x57, 48 * MIB).slices(0, 48 * MIB).concat());
    let sent: Arc<Mutex<Vec<(std::time::Instant, u64)>>> = Arc::default();
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.set_send_buffer_size(4 * 1024)?;
    socket.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
    socket.listen(64)?;
    let listener: std::net::TcpListener = socket.into();
    let addr = listener.local_addr()?;
    let (log, body) = (Arc::clone(&sent), Arc::clone(&data));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (log, body) = (Arc::clone(&log), Arc::clone(&body));
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                loop {
                    head.clear();
                    while !head.ends_with(b"\r\n\r\n") {
                        if !matches!(stream.read(&mut byte), Ok(1)) {
                            return;
                        }
                        head.push(byte[0]);
                    }
                    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
                    let total = body.len();
                    let range = text.lines().find_map(|l| l.strip_prefix("range: bytes=")).and_then(|r| {
                        let (a, b) = r.trim().split_once('-')?;
                        Some((a.parse::<usize>().ok()?, b.parse::<usize>().ok()))
                    });
                    let (status, from, to) = match range {
                        Some((from, last)) => {
                            let to = last.map_or(total, |l| (l + 1).min(total));
                            (format!("206 Partial Content\r\nContent-Range: bytes {from}-{}/{total}", to - 1), from, to)
                        }
                        None => ("200 OK".to_owned(), 0, total),
                    };
                    let reply = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\n\r\n", to - from);
                    if stream.write_all(reply.as_bytes()).is_err() {
                        return;
                    }
                    for piece in body[from..to].chunks(16 * 1024) {
                        if stream.write_all(piece).is_err() {
                            return;
                        }
                        let mut log = log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        let so_far = log.last().map_or(0, |&(_, n)| n) + piece.len() as u64;
                        log.push((std::time::Instant::now(), so_far));
                    }
                }
            });
        }
    });
    let mut child = command.arg(format!("http://{addr}/wire.bin")).spawn()?;
    std::thread::sleep(Duration::from_secs(9));
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(dest);
    let log = sent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let (mut most, mut start) = (0, 0);
    for &(at, total) in &log {
        while at.duration_since(log[start].0) > Duration::from_secs(8) {
            start += 1;
        }
        let before = if start == 0 { 0 } else { log[start - 1].1 };
        most = most.max(total - before);
    }
    Ok(most)
}

/// A network namespace with nginx inside, reached through a veth pair whose namespace end is
/// shaped with `tc tbf` (netem is not available here; tbf is). Removed on drop.
pub(super) struct ShapedLink {
    netns: String,
    pub(super) nginx: Option<Nginx>,
}

impl ShapedLink {
    /// Needs root (network namespaces); the error says why it could not be made.
    pub(super) fn start(work: &Path, mbit: u32) -> anyhow::Result<ShapedLink> {
        let id = std::process::id() % 10_000;
        let netns = format!("haulbench{id}");
        let (host_end, ns_end) = (format!("hb{id}h"), format!("hb{id}n"));
        let sh = |args: &[&str]| -> anyhow::Result<()> {
            let status = Command::new("ip").args(args).status()?;
            anyhow::ensure!(status.success(), "ip {} failed ({status})", args.join(" "));
            Ok(())
        };
        sh(&["netns", "add", &netns])?;
        let mut link = ShapedLink {
            netns: netns.clone(),
            nginx: None,
        };
        sh(&["link", "add", &host_end, "type", "veth", "peer", "name", &ns_end])?;
        sh(&["link", "set", &ns_end, "netns", &netns])?;
        sh(&["addr", "add", "10.214.0.1/30", "dev", &host_end])?;
        sh(&["link", "set", &host_end, "up"])?;
        sh(&["-n", &netns, "addr", "add", "10.214.0.2/30", "dev", &ns_end])?;
        sh(&["-n", &netns, "link", "set", &ns_end, "up"])?;
        sh(&["-n", &netns, "link", "set", "lo", "up"])?;
        let rate = format!("{mbit}mbit");
        let status = Command::new("ip")
            .args(["netns", "exec", &netns, "tc", "qdisc", "add", "dev", &ns_end])
            .args(["root", "tbf", "rate", &rate, "burst", "32kbit", "latency", "400ms"])
            .status()?;
        anyhow::ensure!(status.success(), "tc tbf failed ({status})");
        link.nginx = Some(Nginx::start_at(work, "nginx-w8", "10.214.0.2", Some(&netns))?);
        Ok(link)
    }
}

impl Drop for ShapedLink {
    fn drop(&mut self) {
        drop(self.nginx.take());
        // Deleting the namespace removes both ends of the veth pair.
        let _ = Command::new("ip")
            .args(["netns", "del", &self.netns])
            .status();
    }
}

/// W8: mixed sizes over a link shaped to 100 Mbit/s: Haul, curl --parallel and aria2c -j,
/// each within 10 % of the link's limit.
pub(super) fn w8(
    link: &ShapedLink,
    haul: &Path,
    sizes: &Sizes,
    work: &Path,
) -> anyhow::Result<Workload> {
    let Some(nginx) = &link.nginx else {
        anyhow::bail!("the shaped link has no server");
    };
    let lens = [8 * 1024, 64 * 1024, 256 * 1024, MIB];
    let items: Vec<(String, Content)> = (0..sizes.shaped_count)
        .map(|i| {
            (
                format!("m{i:03}.bin"),
                Content::whole(seeded(0x8000 + i as u64, lens[i % lens.len()])),
            )
        })
        .collect();
    let total: usize = items.iter().map(|(_, c)| c.len()).sum();
    let urls = nginx.publish("w8", &items)?;
    let jobs = 16;
    let limit = total as f64 * 8.0 / 100e6;
    Ok(Workload {
        name: "W8",
        what: format!(
            "{} files of 8 KiB–1 MiB ({:.1} MB) over a 100 Mbit/s link (tc tbf), {jobs} at once",
            sizes.shaped_count,
            total as f64 / 1e6
        ),
        expected: expected(&items),
        frames: None,
        tools: http_tools(haul, &urls, jobs, work, "w8")?,
        wall_target: (Versus::Seconds(limit), 1.1),
        cpu_target: None,
        more_targets: Vec::new(),
        after: Vec::new(),
    })
}
