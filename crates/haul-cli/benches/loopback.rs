//! The loopback benchmark: Haul's CLI against the tools people would pick instead, on the same
//! work, in the same run, on loopback.
//!
//! Owns: the benchmark's own HTTP server (keep-alive, `Range`, per-route latency; it runs on
//! this process's threads while the tools run as child processes), the workloads (W1–W4), running
//! each tool alternately for several rounds into a tmpfs folder, checking every output file
//! byte-exact, measuring each run (wall time, CPU time and peak RSS of the child, from `wait4`),
//! and printing one table (medians, Haul ÷ best peer, the targets) plus the same as JSON.
//! Must not touch: the engine (Haul is measured as a user runs it: the `haul-cli` binary).
//! Run: `bench/run` (installs curl, aria2c and nginx if missing, then
//! `cargo bench --bench loopback`), or smoke-sized in the dev profile as `.ci/run` does:
//! `cargo test --bench loopback -- --smoke --rounds 1 --work DIR` (no release build).

#[cfg(not(unix))]
fn main() {
    eprintln!("the loopback benchmark runs on Linux (it measures children with wait4)");
    std::process::exit(2);
}

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    bench::main()
}

#[cfg(unix)]
mod bench {
    use std::collections::HashMap;
    use std::fmt::Write as _;
    use std::fs;
    use std::io::Read as _;
    use std::net::SocketAddr;
    use std::path::{Path, PathBuf};
    use std::process::{Command, ExitCode, Stdio};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use anyhow::{Context as _, bail};
    use bytes::Bytes;
    use clap::Parser;
    use sha2::{Digest, Sha256};
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
    use tokio::net::{TcpListener, TcpStream};

    /// W5–W8: workloads limited by the network (benches/loopback/shaped.rs).
    mod shaped {
        include!("loopback/shaped.rs");
    }

    /// W9, W10: one host's connections shared between downloads (benches/loopback/sharing.rs).
    mod sharing {
        include!("loopback/sharing.rs");
    }

    /// W11: a video stream (HLS) against ffmpeg and yt-dlp (benches/loopback/stream.rs).
    mod stream {
        include!("loopback/stream.rs");
    }

    /// W12: a torrent from three seeders against aria2c (benches/loopback/torrent.rs).
    mod torrent {
        include!("loopback/torrent.rs");
    }

    /// Compare haul-cli with curl, aria2c and cp on loopback.
    #[derive(Debug, Parser)]
    #[command(name = "loopback")]
    struct Args {
        /// Rounds per workload (tools alternate within each round); medians are reported.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Workloads to run (W1 … W12), comma-separated; W2S1 is W2 with Haul on one stream
        /// (`--split 1`), W2 with its defaults. W5–W8 are limited by the network:
        /// W5 per-connection throttling (nginx), W6 uneven connections, W7 --limit-rate, W8 a
        /// 100 Mbit/s link (a network namespace with tc tbf: needs root, else skipped). W9 and
        /// W10 share one host's connections between downloads (Haul alone, over its RPC). W11
        /// is a video stream (HLS) against ffmpeg and yt-dlp (skipped without them). W12 is a
        /// torrent from three seeders against aria2c (skipped without aria2c or
        /// transmission-create unless HAUL_REQUIRE_TORRENT_PEERS is set).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "W1,W2,W2S1,W3,W4,W5,W5B,W6,W7,W8,W9,W10,W11,W12"
        )]
        only: Vec<String>,
        /// Scratch folder (a tmpfs) for sources and outputs: each run works in a folder of its
        /// own inside it and removes only that.
        #[arg(long, default_value = "/dev/shm/haul-bench")]
        work: PathBuf,
        /// The haul-cli binary to measure (default: the one cargo built with this benchmark,
        /// in the same profile).
        #[arg(long)]
        haul: Option<PathBuf>,
        /// Passed by `cargo bench`; nothing to do.
        #[arg(long, hide = true)]
        bench: bool,
        /// Where the JSON report goes.
        #[arg(long, default_value = "target/bench/loopback.json")]
        json: PathBuf,
        /// Tiny sizes, to check the harness itself (the numbers mean nothing).
        #[arg(long)]
        smoke: bool,
        /// Which server serves W1 and W2: `nginx` (from the system's packages: sendfile,
        /// keep-alive, Range, as static files are usually served) or `own` (this program's
        /// fixture, which also serves W4: nginx cannot hold a reply back for 200 ms).
        #[arg(long, default_value = "nginx", value_parser = ["nginx", "own"])]
        server: String,
        /// Set up the workloads and serve them until killed, without running any tool (for
        /// profiling one tool by hand: the URL lists are in the work folder).
        #[arg(long)]
        serve: bool,
    }

    /// What a workload's target compares Haul with.
    #[derive(Debug, Clone, Copy)]
    enum Versus {
        /// The fastest other tool.
        BestPeer,
        /// One named tool.
        Tool(&'static str),
        /// A physical limit, in seconds (the size over the link's or the server's rate).
        Seconds(f64),
    }

    struct Workload {
        name: &'static str,
        what: String,
        /// Files each tool must produce, by name: (length, SHA-256).
        expected: Vec<(String, u64, [u8; 32])>,
        /// Or one video file whose decoded frames have these MD5s (each tool muxes its own).
        frames: Option<Vec<String>>,
        tools: Vec<Tool>,
        wall_target: (Versus, f64),
        cpu_target: Option<(Versus, f64)>,
        /// More wall-time targets (a physical limit, a second tool).
        more_targets: Vec<(Versus, f64)>,
        /// A check of its own, run once after the rounds: (what, value, target, met).
        after: Vec<AfterCheck>,
    }

    type AfterCheck = Box<dyn Fn() -> anyhow::Result<(&'static str, f64, String, f64, bool)>>;

    struct Tool {
        name: &'static str,
        /// Builds the command for a run into `dest` (which does not exist yet).
        command: Box<dyn Fn(&Path) -> Command>,
    }

    #[derive(Debug, Clone, Copy)]
    struct Measured {
        wall: f64,
        cpu: f64,
        rss_kib: u64,
    }

    pub fn main() -> ExitCode {
        let argv: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
        if argv.first().is_some_and(|a| a == MEASURE_CHILD) {
            return measure_child(&argv[1..]);
        }
        let args = Args::parse();
        match run(&args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::from(1),
            Err(e) => {
                eprintln!("loopback bench: {e:#}");
                ExitCode::from(2)
            }
        }
    }

    /// Runs every selected workload; true if all targets were met.
    fn run(args: &Args) -> anyhow::Result<bool> {
        let haul = args
            .haul
            .clone()
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_haul-cli")));
        anyhow::ensure!(
            haul.is_file(),
            "{} not found: build it first (cargo build --release)",
            haul.display()
        );
        for tool in ["curl", "aria2c", "cp", "sha256sum"] {
            anyhow::ensure!(
                version_of(tool).is_some(),
                "{tool} is not installed (bench/run installs curl and aria2c)"
            );
        }
        // A folder of this run's own inside --work: only that is ever deleted.
        let work = args.work.join(format!("run-{}", std::process::id()));
        fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;

        let routes = Arc::new(HashMap::new());
        let own = Server::start(routes)?;
        let nginx = match args.server.as_str() {
            "nginx" => Some(Nginx::start(&work)?),
            _ => None,
        };
        let mut server = Servers { own, nginx };
        let sizes = if args.smoke {
            Sizes::SMOKE
        } else {
            Sizes::FULL
        };
        let mut results = Vec::new();
        let mut link = None;
        let mut swarm = None;
        for name in &args.only {
            let workload = match name.to_ascii_uppercase().as_str() {
                "W1" => w1(&mut server, &haul, &sizes, &work)?,
                "W2" => w2(&mut server, &haul, &sizes, &work, false)?,
                "W2S1" => w2(&mut server, &haul, &sizes, &work, true)?,
                "W3" => w3(&haul, &sizes, &work)?,
                "W4" => w4(&mut server, &haul, &sizes, &work)?,
                "W5" => shaped::w5(&mut server, &haul, &sizes)?,
                "W5B" => shaped::w5b(&mut server, &haul, &sizes)?,
                "W6" => shaped::w6(&mut server, &haul, &sizes)?,
                "W7" => shaped::w7(&mut server, &haul, &sizes, &work)?,
                "W9" => sharing::w9(&mut server, &haul, &sizes, &work)?,
                "W10" => sharing::w10(&mut server, &haul, &sizes, &work)?,
                "W11" => match stream::w11(&mut server, &haul, &sizes)? {
                    Ok(workload) => workload,
                    Err(why) => {
                        eprintln!("W11 skipped: {why}");
                        continue;
                    }
                },
                "W12" => match torrent::w12(&haul, &sizes, &work)? {
                    Ok((workload, made)) => {
                        swarm = Some(made);
                        workload
                    }
                    Err(why) => {
                        eprintln!("W12 skipped: {why}");
                        continue;
                    }
                },
                "W8" => {
                    match shaped::ShapedLink::start(&work, 100) {
                        Ok(made) => link = Some(made),
                        Err(e) => {
                            eprintln!(
                                "W8 skipped: no shaped link can be made here ({e:#}; it needs root and `ip`, `tc`)"
                            );
                            continue;
                        }
                    }
                    match &link {
                        Some(made) => shaped::w8(made, &haul, &sizes, &work)?,
                        None => continue,
                    }
                }
                other => bail!("unknown workload {other} (W1 … W12)"),
            };
            eprintln!(
                "{}: {} ({} rounds)",
                workload.name, workload.what, args.rounds
            );
            let runs = measure(&workload, args.rounds, &work)?;
            let mut report = Report::new(&workload, runs);
            for check in &workload.after {
                report.extra.push(check()?);
            }
            results.push(report);
        }
        w2_against_one_stream(&mut results);
        let all_met = results.iter().all(Report::met);
        if args.serve {
            eprintln!("serving; Ctrl+C stops");
            loop {
                std::thread::park();
            }
        }
        server.own.stop();
        drop(server.nginx.take());
        drop(link);
        drop(swarm);
        let _ = fs::remove_dir_all(&work);

        print!("{}", table(&results));
        let json = json(&results, args, &haul);
        if let Some(dir) = args.json.parent() {
            fs::create_dir_all(dir)?;
        }
        fs::write(&args.json, serde_json::to_string_pretty(&json)? + "\n")
            .with_context(|| format!("cannot write {}", args.json.display()))?;
        println!("JSON: {}", args.json.display());
        // In a smoke run only wrong output fails (an error above); the numbers mean nothing.
        Ok(all_met || args.smoke)
    }

    /// Where one connection already fills the link, splitting must not cost: W2 (Haul's
    /// defaults) within 5 % of W2S1 (`--split 1`) of the same run, when both ran.
    fn w2_against_one_stream(results: &mut [Report]) {
        let wall = |name: &str| {
            results
                .iter()
                .find(|r| r.name == name)
                .and_then(|r| r.median("haul", |m| m.wall))
        };
        let (Some(split), Some(one)) = (wall("W2"), wall("W2S1")) else {
            return;
        };
        let ratio = split / one;
        if let Some(w2) = results.iter_mut().find(|r| r.name == "W2") {
            w2.extra.push((
                "wall",
                ratio,
                "W2S1 (--split 1)".to_owned(),
                1.05,
                ratio <= 1.05,
            ));
        }
    }

    // benches/loopback/workloads.rs
    include!("loopback/workloads.rs");

    fn expected(items: &[(String, Content)]) -> Vec<(String, u64, [u8; 32])> {
        items
            .iter()
            .map(|(name, content)| (name.clone(), content.len() as u64, content.sha256()))
            .collect()
    }

    // ---- running and measuring ----

    /// Each round runs every tool once, in an order that rotates from round to round.
    fn measure(
        workload: &Workload,
        rounds: usize,
        work: &Path,
    ) -> anyhow::Result<Vec<Vec<Measured>>> {
        let mut runs = vec![Vec::new(); workload.tools.len()];
        for round in 0..rounds {
            for k in 0..workload.tools.len() {
                let index = (k + round) % workload.tools.len();
                let tool = &workload.tools[index];
                let dest = work.join(format!("out-{}", workload.name));
                let _ = fs::remove_dir_all(&dest);
                let mut command = (tool.command)(&dest);
                let measured = run_child(&mut command, work)
                    .with_context(|| format!("{} {}", workload.name, tool.name))?;
                match &workload.frames {
                    Some(frames) => verify_frames(&dest, frames),
                    None => verify(&dest, &workload.expected),
                }
                .with_context(|| format!("{} {}: wrong output", workload.name, tool.name))?;
                fs::remove_dir_all(&dest)?;
                eprintln!(
                    "  round {}: {:<18} {:>8.3} s wall {:>8.3} s CPU {:>7.1} MiB",
                    round + 1,
                    tool.name,
                    measured.wall,
                    measured.cpu,
                    measured.rss_kib as f64 / 1024.0
                );
                runs[index].push(measured);
            }
        }
        Ok(runs)
    }

    /// Runs a child to its end; its own wall time, CPU time (user + system) and peak RSS.
    ///
    /// The child is started through this program in `--measure-child` mode, a small fresh
    /// process: Linux counts the memory of the process a child was spawned from into the
    /// child's peak RSS, and this harness holds the workloads' data in memory.
    fn run_child(command: &mut Command, work: &Path) -> anyhow::Result<Measured> {
        let log = work.join("child.log");
        let figures = work.join("child.rusage");
        let out = fs::File::create(&log)?;
        let err = out.try_clone()?;
        let _ = fs::remove_file(&figures);
        let mut wrapped = Command::new(std::env::current_exe()?);
        wrapped
            .arg(MEASURE_CHILD)
            .arg(&figures)
            .arg("--")
            .arg(command.get_program())
            .args(command.get_args())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let status = wrapped.status().context("cannot start")?;
        let text = fs::read_to_string(&figures).unwrap_or_default();
        let numbers: Vec<f64> = text
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        if !status.success() || numbers.len() != 3 {
            let mut output = String::new();
            let _ = fs::File::open(&log).and_then(|mut f| f.read_to_string(&mut output));
            bail!("exited with {status}: {}", output.trim());
        }
        Ok(Measured {
            wall: numbers[0],
            cpu: numbers[1],
            rss_kib: numbers[2] as u64,
        })
    }

    /// The first argument that puts this program in its measuring mode.
    pub const MEASURE_CHILD: &str = "--measure-child";

    /// `--measure-child FILE -- PROGRAM ARGS…`: runs PROGRAM, writes "wall_s cpu_s
    /// peak_rss_kib" to FILE and exits with PROGRAM's status.
    pub fn measure_child(argv: &[std::ffi::OsString]) -> ExitCode {
        let [figures, dashes, program, args @ ..] = argv else {
            eprintln!("usage: loopback {MEASURE_CHILD} FILE -- PROGRAM [ARGS…]");
            return ExitCode::from(2);
        };
        if dashes != "--" {
            eprintln!("usage: loopback {MEASURE_CHILD} FILE -- PROGRAM [ARGS…]");
            return ExitCode::from(2);
        }
        let started = Instant::now();
        let child = match Command::new(program).args(args).spawn() {
            Ok(child) => child,
            Err(e) => {
                eprintln!(
                    "loopback bench: cannot start {}: {e}",
                    program.to_string_lossy()
                );
                return ExitCode::from(127);
            }
        };
        let Ok(pid) = libc::pid_t::try_from(child.id()) else {
            return ExitCode::from(2);
        };
        let mut status = 0;
        // SAFETY: all-zero bytes are a valid `rusage` (plain integers).
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        loop {
            // SAFETY: `pid` is our child, not yet reaped (std only reaps on `wait`, never
            // called here); `status` and `usage` are valid for writes.
            let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
            if reaped == pid {
                break;
            }
            if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return ExitCode::from(2);
            }
        }
        let wall = started.elapsed().as_secs_f64();
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        let cpu = seconds(usage.ru_utime) + seconds(usage.ru_stime);
        // Linux reports ru_maxrss in KiB.
        let line = format!("{wall} {cpu} {}\n", usage.ru_maxrss);
        if fs::write(figures, line).is_err() {
            return ExitCode::from(2);
        }
        if libc::WIFEXITED(status) {
            ExitCode::from(u8::try_from(libc::WEXITSTATUS(status)).unwrap_or(1))
        } else {
            ExitCode::from(128 + u8::try_from(libc::WTERMSIG(status)).unwrap_or(0))
        }
    }

    /// Every expected file, byte-exact, and nothing else.
    /// One file in `dest`, a video whose decoded frames are `frames`.
    fn verify_frames(dest: &Path, frames: &[String]) -> anyhow::Result<()> {
        let files: Vec<PathBuf> = fs::read_dir(dest)
            .with_context(|| format!("no output folder {}", dest.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        let [file] = files.as_slice() else {
            bail!("{} entries in the output folder, one expected", files.len());
        };
        let got = stream::frame_hashes(file)?;
        anyhow::ensure!(
            got == frames,
            "{}: {} frames, not the stream's {} (or not the same)",
            file.display(),
            got.len(),
            frames.len()
        );
        Ok(())
    }

    fn verify(dest: &Path, expected: &[(String, u64, [u8; 32])]) -> anyhow::Result<()> {
        let found = fs::read_dir(dest)
            .with_context(|| format!("no output folder {}", dest.display()))?
            .count();
        anyhow::ensure!(
            found == expected.len(),
            "{found} entries in the output folder, {} expected",
            expected.len()
        );
        for (name, len, digest) in expected {
            let path = dest.join(name);
            let data = fs::read(&path).with_context(|| format!("missing {name}"))?;
            anyhow::ensure!(
                data.len() as u64 == *len,
                "{name}: {} bytes, {len} expected",
                data.len()
            );
            anyhow::ensure!(sha(&data) == *digest, "{name}: wrong bytes");
        }
        Ok(())
    }

    // ---- report ----

    // benches/loopback/report.rs
    include!("loopback/report.rs");

    /// Bytes from a xorshift generator: every file different, none compressible.
    fn seeded(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            out.extend_from_slice(&state.to_le_bytes());
        }
        out.truncate(len);
        out
    }

    fn sha(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    // The server (benches/loopback/server.rs).
    include!("loopback/server.rs");
}
