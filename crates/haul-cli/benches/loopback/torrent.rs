// W12 (issue 27): one single-file torrent (256 MiB, 256 KiB pieces, made by
// transmission-create) served by three aria2c seeders on 127.0.0.1, introduced by the testkit's
// loopback tracker. haul-cli against aria2c and transmission-cli as the downloader, each on a
// listening port of its own, with no DHT, no local peer discovery and no peer exchange; each
// ends as soon as the file is verified (`--seed-time 0`; transmission-cli's torrent-done
// script interrupts it, which it takes as a clean exit). Every tool's file is checked by length
// and SHA-256. Skipped, saying why, without aria2c, transmission-create or transmission-cli (an
// error instead under `HAUL_REQUIRE_TORRENT_PEERS=1`, as `.ci/run` sets it).

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
    let missing: Vec<&str> = ["aria2c", "transmission-create", "transmission-cli"]
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

    // transmission-cli seeds until stopped: its torrent-done script (run as its child)
    // interrupts it, and it exits 0 on SIGINT.
    let done = work.join("w12-done.sh");
    std::fs::write(&done, "#!/bin/sh\nkill -INT \"$PPID\"\n")?;
    std::fs::set_permissions(&done, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
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
                // A fresh settings folder per run (its resume data would skip the next round's
                // download), beside DEST (not in it): no DHT, LPD, PEX, uTP or port mapping,
                // on 127.0.0.1, as the others run.
                let conf = dest.with_extension("transmission");
                let settings = r#"{"dht-enabled": false, "lpd-enabled": false, "pex-enabled": false, "utp-enabled": false, "port-forwarding-enabled": false, "bind-address-ipv4": "127.0.0.1"}"#;
                let mut c = Command::new("sh");
                c.arg("-c")
                    .arg(
                        "rm -rf \"$1\" && mkdir -p \"$1\" \"$2\" && printf '%s' \"$3\" > \"$1/settings.json\" && \
                         exec transmission-cli -g \"$1\" -w \"$2\" -p \"$4\" -f \"$5\" -M -D -U \"$6\" > /dev/null",
                    )
                    .arg("w12")
                    .arg(&conf)
                    .arg(dest)
                    .arg(settings)
                    .arg(free_port().to_string())
                    .arg(&done)
                    .arg(&t3);
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
