// W12 (issue 27): one single-file torrent (256 MiB, 256 KiB pieces, made by
// transmission-create) served by three aria2c seeders on 127.0.0.1, introduced by the testkit's
// loopback tracker. haul-cli against aria2c and transmission-cli as the downloader, each on a
// listening port of its own, with no DHT, no local peer discovery, no peer exchange and no
// UPnP/NAT-PMP. Each tool ends as soon as the file is verified: Haul and aria2c by
// `--seed-time 0`; transmission-cli never ends by itself, so its torrent-done script (run once
// every piece is verified and the file renamed from `.part`) kills it, and the shell around it
// checks the file is there. Every tool's file is checked by length and SHA-256. Skipped, saying
// why, without aria2c, transmission-cli or transmission-create (an error instead under
// `HAUL_REQUIRE_TORRENT_PEERS=1`, as `.ci/run` sets it).

use std::path::Path;
use std::process::Command;

use anyhow::{Context as _, bail};
use haul_testkit::tools::free_port;
use haul_testkit::torrent::{Seeder, Tracker, make_torrent};

use super::{Sizes, Tool, Versus, Workload, seeded, sha};

/// The swarm W12's tools download from: kept alive while the workload runs, stopped on drop.
pub(super) struct Swarm {
    _seeders: Vec<Seeder>,
    _tracker: Tracker,
}

/// transmission-cli's settings for a run: peers on loopback only, TCP only, nothing found or
/// announced beyond the torrent's own tracker, no limits.
const TRANSMISSION_SETTINGS: &str = r#"{
  "bind-address-ipv4": "127.0.0.1",
  "bind-address-ipv6": "::1",
  "blocklist-enabled": false,
  "dht-enabled": false,
  "lpd-enabled": false,
  "pex-enabled": false,
  "utp-enabled": false,
  "port-forwarding-enabled": false,
  "encryption": 0,
  "speed-limit-down-enabled": false,
  "speed-limit-up-enabled": false,
  "ratio-limit-enabled": false,
  "idle-seeding-limit-enabled": false,
  "incomplete-dir-enabled": false,
  "message-level": 1
}"#;

/// transmission-cli in a shell: a fresh config folder beside `dest` ($1), the done script that
/// kills it (its parent) once the torrent is verified, then the file must be there.
const TRANSMISSION_RUN: &str = r#"
dest="$1"; conf="$1.transmission"; port="$2"; torrent="$3"; name="$4"; size="$5"
rm -rf "$conf" && mkdir -p "$dest" "$conf" || exit 1
printf '%s\n' "$6" >"$conf/settings.json"
printf '#!/bin/sh\nkill -9 "$PPID"\n' >"$conf/done" && chmod +x "$conf/done" || exit 1
transmission-cli -g "$conf" -w "$dest" -p "$port" -f "$conf/done" -M -D -U "$torrent" >"$conf/log" 2>&1 &
wait $!
got="$(stat -c %s "$dest/$name" 2>/dev/null)"
if [ "$got" != "$size" ]; then
    echo "transmission-cli ended without $name of $size bytes (got: ${got:-none}):"
    tail -n 20 "$conf/log"
    exit 1
fi
rm -rf "$conf"
"#;

fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// W12 with its swarm, or why it cannot run here.
pub(super) fn w12(
    haul: &Path,
    sizes: &Sizes,
    work: &Path,
) -> anyhow::Result<Result<(Workload, Swarm), String>> {
    let missing: Vec<&str> = ["aria2c", "transmission-cli", "transmission-create"]
        .into_iter()
        .filter(|p| !installed(p))
        .collect();
    if !missing.is_empty() {
        let why = format!(
            "{} not installed (apt install aria2 transmission-cli)",
            missing.join(", ")
        );
        if std::env::var_os("HAUL_REQUIRE_TORRENT_PEERS").is_some() {
            bail!("W12: {why}");
        }
        return Ok(Err(why));
    }
    let data = work.join("w12-data");
    std::fs::create_dir_all(&data)?;
    let name = "w12.bin";
    let body = seeded(12, sizes.torrent_len);
    let (len, digest) = (body.len() as u64, sha(&body));
    std::fs::write(data.join(name), &body)
        .with_context(|| format!("cannot write {}", data.display()))?;
    drop(body);
    let tracker = Tracker::start();
    let torrent = work.join("w12.torrent");
    make_torrent(&data.join(name), &torrent, 256, Some(&tracker.announce()));
    let seeders: Vec<Seeder> = (0..3)
        .map(|_| Seeder::start(&torrent, &data, Some(&tracker.announce()), None))
        .collect();

    let (haul, t1, t2, t3) = (
        haul.to_path_buf(),
        torrent.clone(),
        torrent.clone(),
        torrent,
    );
    let tools = vec![
        Tool {
            name: "haul",
            command: Box::new(move |dest| {
                let mut c = Command::new(&haul);
                c.args(["-q", "--enable-dht", "false", "--seed-time", "0"])
                    .args(["--listen-port", &free_port().to_string(), "--dest"])
                    .arg(dest)
                    .arg(&t1);
                c
            }),
        },
        Tool {
            name: "aria2c",
            command: Box::new(move |dest| {
                let mut c = Command::new("aria2c");
                c.args([
                    "-q",
                    "--seed-time=0",
                    "--enable-dht=false",
                    "--enable-dht6=false",
                ])
                .args(["--bt-enable-lpd=false", "--enable-peer-exchange=false"])
                .arg(format!("--listen-port={}", free_port()))
                .arg(format!("--dir={}", dest.display()))
                .arg(&t2);
                c
            }),
        },
        Tool {
            name: "transmission-cli",
            command: Box::new(move |dest| {
                let mut c = Command::new("sh");
                c.args(["-c", TRANSMISSION_RUN, "sh"])
                    .arg(dest)
                    .arg(free_port().to_string())
                    .arg(&t3)
                    .arg(name)
                    .arg(len.to_string())
                    .arg(TRANSMISSION_SETTINGS);
                c
            }),
        },
    ];
    let workload = Workload {
        name: "W12",
        what: format!(
            "a {} MiB single-file torrent (256 KiB pieces) from 3 aria2c seeders and a tracker \
             on loopback; no DHT, LPD or PEX",
            len >> 20
        ),
        expected: vec![(name.to_owned(), len, digest)],
        frames: None,
        tools,
        wall_target: (Versus::Tool("aria2c"), 1.0),
        cpu_target: None,
        more_targets: vec![(Versus::Tool("transmission-cli"), 1.1)],
        after: Vec::new(),
    };
    Ok(Ok((
        workload,
        Swarm {
            _seeders: seeders,
            _tracker: tracker,
        },
    )))
}
