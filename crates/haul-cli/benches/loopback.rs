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

    /// Compare haul-cli with curl, aria2c and cp on loopback.
    #[derive(Debug, Parser)]
    #[command(name = "loopback")]
    struct Args {
        /// Rounds per workload (tools alternate within each round); medians are reported.
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Workloads to run (W1 … W8), comma-separated; W2S1 is W2 with Haul on one stream
        /// (`--split 1`), W2 with its defaults. W5–W8 are limited by the network:
        /// W5 per-connection throttling (nginx), W6 uneven connections, W7 --limit-rate, W8 a
        /// 100 Mbit/s link (a network namespace with tc tbf: needs root, else skipped).
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "W1,W2,W2S1,W3,W4,W5,W5B,W6,W7,W8"
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
        let mut all_met = true;
        let mut link = None;
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
                other => bail!("unknown workload {other} (W1 … W8)"),
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
            all_met &= report.met();
            results.push(report);
        }
        if args.serve {
            eprintln!("serving; Ctrl+C stops");
            loop {
                std::thread::park();
            }
        }
        server.own.stop();
        drop(server.nginx.take());
        drop(link);
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

    struct Sizes {
        small_count: usize,
        small_len: usize,
        big_len: usize,
        local_count: usize,
        local_len: usize,
        slow_count: usize,
        slow_len: usize,
        latency: Duration,
        /// W5 and W6: the file split over several connections.
        split_len: usize,
        /// W7: the file fetched under a speed limit.
        limit_len: usize,
        /// W8: files over the shaped link.
        shaped_count: usize,
    }

    impl Sizes {
        const FULL: Sizes = Sizes {
            small_count: 2000,
            small_len: 16 * 1024,
            big_len: 1 << 30,
            local_count: 500,
            local_len: 4 << 20,
            slow_count: 64,
            slow_len: 64 * 1024,
            latency: Duration::from_millis(200),
            split_len: 64 << 20,
            limit_len: 32 << 20,
            shaped_count: 200,
        };
        const SMOKE: Sizes = Sizes {
            small_count: 40,
            small_len: 16 * 1024,
            big_len: 8 << 20,
            local_count: 10,
            local_len: 256 * 1024,
            slow_count: 8,
            slow_len: 4 * 1024,
            latency: Duration::from_millis(200),
            split_len: 4 << 20,
            limit_len: 2 << 20,
            shaped_count: 12,
        };
    }

    // ---- workloads ----

    fn w1(
        server: &mut Servers,
        haul: &Path,
        sizes: &Sizes,
        work: &Path,
    ) -> anyhow::Result<Workload> {
        let jobs = 16;
        let items: Vec<(String, Content)> = (0..sizes.small_count)
            .map(|i| {
                (
                    format!("f{i:04}.bin"),
                    Content::whole(seeded(i as u64 + 1, sizes.small_len)),
                )
            })
            .collect();
        let urls = server.publish_static("w1", &items)?;
        Ok(Workload {
            name: "W1",
            what: format!(
                "{} × {} KiB over HTTP, {jobs} at once",
                sizes.small_count,
                sizes.small_len / 1024
            ),
            expected: expected(&items),
            tools: http_tools(haul, &urls, jobs, work, "w1")?,
            wall_target: (Versus::BestPeer, 0.8),
            cpu_target: None,
            more_targets: Vec::new(),
            after: Vec::new(),
        })
    }

    fn w2(
        server: &mut Servers,
        haul: &Path,
        sizes: &Sizes,
        work: &Path,
        one_stream: bool,
    ) -> anyhow::Result<Workload> {
        let block = seeded(0xB16, 1 << 20);
        let count = sizes.big_len / block.len();
        let items = vec![(
            "big.bin".to_owned(),
            Content::Repeated {
                block: Bytes::from(block),
                count,
            },
        )];
        let urls = server.publish_static("w2", &items)?;
        let mut tools = http_tools(haul, &urls, 1, work, "w2")?;
        // One item: `--per-host` is left at its default (4), so the defaults may split it.
        let list = work.join("w2-lists/urls.txt");
        let (haul_bin, split) = (haul.to_path_buf(), if one_stream { "1" } else { "4" });
        tools[0] = Tool {
            name: "haul",
            command: Box::new(move |dest| {
                let mut c = Command::new(&haul_bin);
                c.args(["-q", "-j", "1", "--split", split])
                    .arg("--dest")
                    .arg(dest)
                    .arg("-i")
                    .arg(&list);
                c
            }),
        };
        Ok(Workload {
            name: if one_stream { "W2S1" } else { "W2" },
            what: format!(
                "one {} MiB file over HTTP{}",
                sizes.big_len >> 20,
                if one_stream {
                    " (Haul on one stream: --split 1)"
                } else {
                    " (Haul's defaults: up to 4 connections)"
                }
            ),
            expected: expected(&items),
            tools,
            wall_target: (Versus::Tool("curl"), 1.0),
            cpu_target: Some((Versus::Tool("curl"), 1.5)),
            more_targets: Vec::new(),
            after: Vec::new(),
        })
    }

    fn w3(haul: &Path, sizes: &Sizes, work: &Path) -> anyhow::Result<Workload> {
        let src = work.join("w3-src");
        fs::create_dir_all(&src)?;
        let mut items = Vec::new();
        let mut list = String::new();
        let mut sums = String::new();
        for i in 0..sizes.local_count {
            let name = format!("local{i:03}.dat");
            let data = seeded(0x10CA1 + i as u64, sizes.local_len);
            let path = src.join(&name);
            fs::write(&path, &data)?;
            writeln!(list, "{}", path.display())?;
            writeln!(sums, "{}  {name}", haul_core::protocol::hex(&sha(&data)))?;
            items.push((name, Content::whole(data)));
        }
        // The list with a SHA256SUMS beside it: Haul verifies every copy.
        let lists = work.join("w3-list");
        fs::create_dir_all(&lists)?;
        let list_path = lists.join("sources.txt");
        fs::write(&list_path, list)?;
        fs::write(lists.join("SHA256SUMS"), sums)?;
        let jobs = 4;
        let (src_cp, src_sum) = (src.clone(), src);
        Ok(Workload {
            name: "W3",
            what: format!(
                "{} local files × {} MiB copied with SHA-256",
                sizes.local_count,
                sizes.local_len >> 20
            ),
            expected: expected(&items),
            tools: vec![
                haul_tool(haul, list_path, jobs),
                Tool {
                    name: "cp -r",
                    command: Box::new(move |dest| {
                        let mut c = Command::new("cp");
                        c.arg("-r").arg(&src_cp).arg(dest);
                        c
                    }),
                },
                Tool {
                    name: "cp -r + sha256sum",
                    command: Box::new(move |dest| {
                        let mut c = Command::new("sh");
                        c.args([
                            "-c",
                            r#"cp -r "$1" "$2" && cd "$2" && sha256sum -- * > /dev/null"#,
                            "sh",
                        ])
                        .arg(&src_sum)
                        .arg(dest);
                        c
                    }),
                },
            ],
            wall_target: (Versus::Tool("cp -r"), 1.5),
            cpu_target: None,
            more_targets: Vec::new(),
            after: Vec::new(),
        })
    }

    fn w4(
        server: &mut Servers,
        haul: &Path,
        sizes: &Sizes,
        work: &Path,
    ) -> anyhow::Result<Workload> {
        let jobs = sizes.slow_count;
        let items: Vec<(String, Content)> = (0..sizes.slow_count)
            .map(|i| {
                (
                    format!("s{i:02}.bin"),
                    Content::whole(seeded(0x5_0000 + i as u64, sizes.slow_len)),
                )
            })
            .collect();
        let urls = server.own.publish("w4", items.clone(), sizes.latency);
        Ok(Workload {
            name: "W4",
            what: format!(
                "{} × {} KiB, each {} ms late, {jobs} at once",
                sizes.slow_count,
                sizes.slow_len / 1024,
                sizes.latency.as_millis()
            ),
            expected: expected(&items),
            tools: http_tools(haul, &urls, jobs, work, "w4")?,
            wall_target: (Versus::BestPeer, 1.1),
            cpu_target: None,
            more_targets: Vec::new(),
            after: Vec::new(),
        })
    }

    /// haul-cli, `curl --parallel` and `aria2c -j` on the same URLs, `jobs` at once.
    fn http_tools(
        haul: &Path,
        urls: &[(String, String)],
        jobs: usize,
        work: &Path,
        tag: &str,
    ) -> anyhow::Result<Vec<Tool>> {
        let lists = work.join(format!("{tag}-lists"));
        fs::create_dir_all(&lists)?;
        let list_path = lists.join("urls.txt");
        let list: String = urls.iter().map(|(url, _)| format!("{url}\n")).collect();
        fs::write(&list_path, &list)?;
        let haul = haul_tool(haul, list_path.clone(), jobs);
        let jobs = jobs.to_string();

        let curl_urls = urls.to_vec();
        let curl_config = lists.join("curl.cfg");
        let curl_jobs = jobs.clone();
        let (aria_list, aria_jobs) = (list_path, jobs);
        Ok(vec![
            haul,
            Tool {
                name: "curl",
                command: Box::new(move |dest| {
                    // curl writes where each `output` says; the config names every file.
                    let mut config = String::new();
                    for (url, name) in &curl_urls {
                        let _ = writeln!(
                            config,
                            "url = \"{url}\"\noutput = \"{}\"",
                            dest.join(name).display()
                        );
                    }
                    let _ = fs::write(&curl_config, config);
                    let mut c = Command::new("curl");
                    c.args(["-s", "-S", "--fail", "--create-dirs", "--parallel"])
                        .args(["--parallel-max", &curl_jobs])
                        .arg("-K")
                        .arg(&curl_config);
                    c
                }),
            },
            Tool {
                name: "aria2c",
                command: Box::new(move |dest| {
                    let mut c = Command::new("aria2c");
                    c.args(["-q", "-j", &aria_jobs, "--file-allocation=none"])
                        .args(["--allow-overwrite=true", "--auto-file-renaming=false"])
                        .arg("-d")
                        .arg(dest)
                        .arg("-i")
                        .arg(&aria_list);
                    c
                }),
            },
        ])
    }

    /// haul-cli on the sources listed in `list`, `jobs` at once (also per host).
    fn haul_tool(haul: &Path, list: PathBuf, jobs: usize) -> Tool {
        haul_tool_with(haul, list, jobs, &[])
    }

    /// haul-cli on `list` with more flags.
    fn haul_tool_with(haul: &Path, list: PathBuf, jobs: usize, flags: &[&str]) -> Tool {
        let (haul, jobs) = (haul.to_path_buf(), jobs.to_string());
        let flags: Vec<String> = flags.iter().map(|f| (*f).to_owned()).collect();
        Tool {
            name: "haul",
            command: Box::new(move |dest| {
                let mut c = Command::new(&haul);
                c.args(["-q", "-j", &jobs, "--per-host", &jobs])
                    .args(&flags)
                    .arg("--dest")
                    .arg(dest)
                    .arg("-i")
                    .arg(&list);
                c
            }),
        }
    }

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
                verify(&dest, &workload.expected)
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

    struct Report {
        name: &'static str,
        what: String,
        tools: Vec<(&'static str, Vec<Measured>)>,
        wall_target: (Versus, f64),
        cpu_target: Option<(Versus, f64)>,
        more_targets: Vec<(Versus, f64)>,
        extra: Vec<(&'static str, f64, String, f64, bool)>,
    }

    impl Report {
        fn new(workload: &Workload, runs: Vec<Vec<Measured>>) -> Report {
            Report {
                name: workload.name,
                what: workload.what.clone(),
                tools: workload.tools.iter().map(|t| t.name).zip(runs).collect(),
                wall_target: workload.wall_target,
                cpu_target: workload.cpu_target,
                more_targets: workload.more_targets.clone(),
                extra: Vec::new(),
            }
        }

        fn median(&self, tool: &str, pick: fn(&Measured) -> f64) -> Option<f64> {
            let (_, runs) = self.tools.iter().find(|(name, _)| *name == tool)?;
            median(runs.iter().map(pick).collect())
        }

        /// Haul's median over the reference's (the best peer's, or one tool's).
        fn ratio(&self, versus: Versus, pick: fn(&Measured) -> f64) -> Option<(f64, String)> {
            let haul = self.median("haul", pick)?;
            let (name, reference) = match versus {
                Versus::Tool(name) => (name.to_owned(), self.median(name, pick)?),
                Versus::Seconds(limit) => (format!("the limit ({limit:.2} s)"), limit),
                Versus::BestPeer => self
                    .tools
                    .iter()
                    .filter(|(name, _)| *name != "haul")
                    .filter_map(|(name, _)| Some(((*name).to_owned(), self.median(name, pick)?)))
                    .min_by(|a, b| a.1.total_cmp(&b.1))?,
            };
            Some((haul / reference, name))
        }

        fn checks(&self) -> Vec<(&'static str, f64, String, f64, bool)> {
            let mut checks = Vec::new();
            let (versus, target) = self.wall_target;
            if let Some((ratio, name)) = self.ratio(versus, |m| m.wall) {
                checks.push(("wall", ratio, name, target, ratio <= target));
            }
            if let Some((versus, target)) = self.cpu_target
                && let Some((ratio, name)) = self.ratio(versus, |m| m.cpu)
            {
                checks.push(("CPU", ratio, name, target, ratio <= target));
            }
            for &(versus, target) in &self.more_targets {
                if let Some((ratio, name)) = self.ratio(versus, |m| m.wall) {
                    checks.push(("wall", ratio, name, target, ratio <= target));
                }
            }
            checks.extend(self.extra.iter().cloned());
            checks
        }

        fn met(&self) -> bool {
            self.checks().iter().all(|check| check.4)
        }
    }

    fn median(mut values: Vec<f64>) -> Option<f64> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let mid = values.len() / 2;
        Some(if values.len() % 2 == 1 {
            values[mid]
        } else {
            (values[mid - 1] + values[mid]) / 2.0
        })
    }

    fn table(results: &[Report]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\n| workload | tool | wall (median) | CPU (median) | peak RSS (median) | Haul ÷ this (wall) |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|---:|");
        for report in results {
            let haul = report.median("haul", |m| m.wall);
            for (tool, _) in &report.tools {
                let wall = report.median(tool, |m| m.wall).unwrap_or(f64::NAN);
                let cpu = report.median(tool, |m| m.cpu).unwrap_or(f64::NAN);
                let rss = report
                    .median(tool, |m| m.rss_kib as f64)
                    .unwrap_or(f64::NAN)
                    / 1024.0;
                let ratio = match haul {
                    Some(haul) if *tool != "haul" => format!("{:.2}", haul / wall),
                    _ => "—".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "| {} {} | {tool} | {wall:.3} s | {cpu:.3} s | {rss:.1} MiB | {ratio} |",
                    report.name, report.what
                );
            }
        }
        let _ = writeln!(out);
        for report in results {
            for (what, ratio, name, target, met) in report.checks() {
                let _ = writeln!(
                    out,
                    "{} {what}: Haul ÷ {name} = {ratio:.2} (target ≤ {target:.2}) {}",
                    report.name,
                    if met { "met" } else { "MISSED" }
                );
            }
        }
        out
    }

    fn json(results: &[Report], args: &Args, haul: &Path) -> serde_json::Value {
        let workloads: Vec<_> = results
            .iter()
            .map(|report| {
                let tools: Vec<_> = report
                    .tools
                    .iter()
                    .map(|(tool, runs)| {
                        serde_json::json!({
                            "tool": tool,
                            "wall_s": runs.iter().map(|m| m.wall).collect::<Vec<_>>(),
                            "cpu_s": runs.iter().map(|m| m.cpu).collect::<Vec<_>>(),
                            "rss_kib": runs.iter().map(|m| m.rss_kib).collect::<Vec<_>>(),
                            "wall_median_s": report.median(tool, |m| m.wall),
                            "cpu_median_s": report.median(tool, |m| m.cpu),
                            "rss_median_kib": report.median(tool, |m| m.rss_kib as f64),
                        })
                    })
                    .collect();
                let checks: Vec<_> = report
                    .checks()
                    .into_iter()
                    .map(|(what, ratio, name, target, met)| {
                        serde_json::json!({
                            "measure": what, "versus": name, "ratio": ratio,
                            "target": target, "met": met,
                        })
                    })
                    .collect();
                serde_json::json!({
                    "workload": report.name,
                    "what": report.what,
                    "tools": tools,
                    "checks": checks,
                })
            })
            .collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        serde_json::json!({
            "unix_time": now,
            "rounds": args.rounds,
            "smoke": args.smoke,
            "server_w1_w2": args.server,
            "machine": {
                "cpu": cpu_model(),
                "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
                "kernel": fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim(),
            },
            "versions": {
                "haul": version_line(Command::new(haul).arg("--version")),
                "curl": version_of("curl"),
                "aria2c": version_of("aria2c"),
                "cp": version_of("cp"),
                "nginx": (args.server == "nginx").then(nginx_version).flatten(),
            },
            "workloads": workloads,
        })
    }

    fn cpu_model() -> String {
        fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find_map(|line| line.strip_prefix("model name"))
            .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
            .unwrap_or_default()
    }

    fn version_of(tool: &str) -> Option<String> {
        let flag = if tool == "aria2c" { "-v" } else { "--version" };
        version_line(Command::new(tool).arg(flag))
    }

    /// Debian installs nginx outside a normal user's PATH.
    fn nginx_program() -> &'static str {
        if Path::new("/usr/sbin/nginx").is_file() {
            "/usr/sbin/nginx"
        } else {
            "nginx"
        }
    }

    /// `nginx -v` answers on stderr.
    fn nginx_version() -> Option<String> {
        let output = Command::new(nginx_program()).arg("-v").output().ok()?;
        let text = String::from_utf8_lossy(&output.stderr);
        text.lines().next().map(str::to_owned)
    }

    fn version_line(command: &mut Command) -> Option<String> {
        let output = command.stderr(Stdio::null()).output().ok()?;
        let text = String::from_utf8_lossy(&output.stdout);
        text.lines().next().map(str::to_owned)
    }

    // ---- content ----

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

    /// What a route serves.
    #[derive(Clone)]
    enum Content {
        Whole(Bytes),
        /// `block` `count` times: a big file without holding it in memory.
        Repeated {
            block: Bytes,
            count: usize,
        },
    }

    impl Content {
        fn whole(data: Vec<u8>) -> Content {
            Content::Whole(Bytes::from(data))
        }

        fn len(&self) -> usize {
            match self {
                Content::Whole(bytes) => bytes.len(),
                Content::Repeated { block, count } => block.len() * count,
            }
        }

        fn sha256(&self) -> [u8; 32] {
            match self {
                Content::Whole(bytes) => sha(bytes),
                Content::Repeated { block, count } => {
                    let mut hasher = Sha256::new();
                    for _ in 0..*count {
                        hasher.update(block);
                    }
                    hasher.finalize().into()
                }
            }
        }

        /// The bytes from `start` to `end` (exclusive), as a few slices.
        fn slices(&self, start: usize, end: usize) -> Vec<Bytes> {
            match self {
                Content::Whole(bytes) => vec![bytes.slice(start..end)],
                Content::Repeated { block, .. } => {
                    let mut out = Vec::new();
                    let mut at = start;
                    while at < end {
                        let offset = at % block.len();
                        let take = (block.len() - offset).min(end - at);
                        out.push(block.slice(offset..offset + take));
                        at += take;
                    }
                    out
                }
            }
        }
    }

    // ---- the server ----

    struct Route {
        content: Content,
        latency: Duration,
        /// Bytes a second for each connection by the order the server accepted it (the
        /// connection numbered k gets `conn_rates[k % len]`); empty: as fast as it goes.
        conn_rates: Vec<u64>,
    }

    type Routes = Arc<HashMap<String, Route>>;

    /// A keep-alive HTTP/1.1 server on 127.0.0.1 with `Range` support. It runs on one thread
    /// of its own (a current-thread runtime): the tools measured get the other core(s), and
    /// the server's own cost per request stays small (no allocation per header, one write
    /// for a small reply).
    struct Server {
        addr: SocketAddr,
        routes: Arc<std::sync::RwLock<Routes>>,
        shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    }

    impl Server {
        fn start(routes: Routes) -> anyhow::Result<Server> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0"))?;
            let addr = listener.local_addr()?;
            let routes = Arc::new(std::sync::RwLock::new(routes));
            let shared = Arc::clone(&routes);
            let (shutdown, mut stopped) = tokio::sync::oneshot::channel::<()>();
            std::thread::Builder::new()
                .name("bench-server".to_owned())
                .spawn(move || {
                    runtime.block_on(async move {
                        let mut accepted_count = 0usize;
                        loop {
                            let (stream, _) = tokio::select! {
                                _ = &mut stopped => return,
                                accepted = listener.accept() => match accepted {
                                    Ok(accepted) => accepted,
                                    Err(_) => return,
                                },
                            };
                            let routes = shared
                                .read()
                                .map(|r| Arc::clone(&r))
                                .unwrap_or_else(|e| Arc::clone(&e.into_inner()));
                            let order = accepted_count;
                            accepted_count += 1;
                            tokio::spawn(async move {
                                let _ = serve(stream, routes, order).await;
                            });
                        }
                    });
                })?;
            Ok(Server {
                addr,
                routes,
                shutdown: Some(shutdown),
            })
        }

        /// Serves `items` under `/{tag}/{name}`; returns (URL, file name) pairs.
        fn publish(
            &mut self,
            tag: &str,
            items: Vec<(String, Content)>,
            latency: Duration,
        ) -> Vec<(String, String)> {
            self.publish_throttled(tag, items, latency, &[])
        }

        /// Like `publish`, each connection sent at a rate by the order it was accepted in.
        fn publish_throttled(
            &mut self,
            tag: &str,
            items: Vec<(String, Content)>,
            latency: Duration,
            conn_rates: &[u64],
        ) -> Vec<(String, String)> {
            let mut urls = Vec::new();
            let mut guard = self
                .routes
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut routes: HashMap<String, Route> = guard
                .iter()
                .map(|(path, route)| {
                    (
                        path.clone(),
                        Route {
                            content: route.content.clone(),
                            latency: route.latency,
                            conn_rates: route.conn_rates.clone(),
                        },
                    )
                })
                .collect();
            for (name, content) in items {
                let path = format!("/{tag}/{name}");
                urls.push((format!("http://{}{path}", self.addr), name));
                routes.insert(
                    path,
                    Route {
                        content,
                        latency,
                        conn_rates: conn_rates.to_vec(),
                    },
                );
            }
            *guard = Arc::new(routes);
            urls
        }

        fn stop(&mut self) {
            if let Some(shutdown) = self.shutdown.take() {
                let _ = shutdown.send(());
            }
        }
    }

    /// The servers of a run: the own fixture (always: W4), and nginx when chosen (W1, W2).
    struct Servers {
        own: Server,
        nginx: Option<Nginx>,
    }

    impl Servers {
        /// Serves plain files (no latency): from nginx when it runs, else from the fixture.
        fn publish_static(
            &mut self,
            tag: &str,
            items: &[(String, Content)],
        ) -> anyhow::Result<Vec<(String, String)>> {
            match &self.nginx {
                Some(nginx) => nginx.publish(tag, items),
                None => Ok(self.own.publish(tag, items.to_vec(), Duration::ZERO)),
            }
        }
    }

    /// nginx from the system's packages, one process (`master_process off`), serving a folder
    /// of this run on a free loopback port; killed when dropped.
    struct Nginx {
        child: std::process::Child,
        host: String,
        port: u16,
        root: PathBuf,
    }

    impl Nginx {
        fn start(work: &Path) -> anyhow::Result<Nginx> {
            Nginx::start_at(work, "nginx", "127.0.0.1", None)
        }

        /// nginx in folder `work/name`, listening on `host` (inside network namespace `netns`
        /// when given). Files under `/w5/` are sent at 4 MiB/s per request (`limit_rate`).
        pub(super) fn start_at(
            work: &Path,
            name: &str,
            host: &str,
            netns: Option<&str>,
        ) -> anyhow::Result<Nginx> {
            let dir = work.join(name);
            let root = dir.join("www");
            fs::create_dir_all(&root)?;
            fs::create_dir_all(dir.join("tmp"))?;
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            let d = dir.display();
            let conf = format!(
                "worker_processes 1;\nmaster_process off;\ndaemon off;\npid {d}/nginx.pid;\n\
                 error_log {d}/error.log warn;\nevents {{ worker_connections 1024; }}\n\
                 http {{\n  access_log off;\n  default_type application/octet-stream;\n\
                 types {{ }}\n  sendfile on;\n  tcp_nopush on;\n  keepalive_requests 1000000;\n\
                 client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n\
                 fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n\
                 server {{ listen {host}:{port}; root {};\n    location /w5/ {{ limit_rate 4m; }} }}\n}}\n",
                root.display()
            );
            let conf_path = dir.join("nginx.conf");
            fs::write(&conf_path, conf)?;
            let log = fs::File::create(dir.join("stderr.log"))?;
            let mut command = match netns {
                Some(ns) => {
                    let mut c = Command::new("ip");
                    c.args(["netns", "exec", ns, nginx_program()]);
                    c
                }
                None => Command::new(nginx_program()),
            };
            let mut child = command
                .arg("-p")
                .arg(&dir)
                .arg("-e")
                .arg(dir.join("error.log"))
                .arg("-c")
                .arg(&conf_path)
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .context("cannot start nginx (bench/run installs it; or pass --server own)")?;
            for _ in 0..250 {
                if std::net::TcpStream::connect((host, port)).is_ok() {
                    return Ok(Nginx {
                        child,
                        host: host.to_owned(),
                        port,
                        root,
                    });
                }
                if let Some(status) = child.try_wait()? {
                    let log = fs::read_to_string(dir.join("stderr.log")).unwrap_or_default();
                    bail!("nginx exited ({status}): {}", log.trim());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            bail!("nginx did not start listening on port {port}")
        }

        /// Writes `items` as files under `/{tag}/`; returns (URL, file name) pairs.
        fn publish(
            &self,
            tag: &str,
            items: &[(String, Content)],
        ) -> anyhow::Result<Vec<(String, String)>> {
            let folder = self.root.join(tag);
            fs::create_dir_all(&folder)?;
            let mut urls = Vec::new();
            for (name, content) in items {
                let mut file = std::io::BufWriter::new(fs::File::create(folder.join(name))?);
                for slice in content.slices(0, content.len()) {
                    std::io::Write::write_all(&mut file, &slice)?;
                }
                std::io::Write::flush(&mut file)?;
                urls.push((
                    format!("http://{}:{}/{tag}/{name}", self.host, self.port),
                    name.clone(),
                ));
            }
            Ok(urls)
        }
    }

    impl Drop for Nginx {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Replies whose body is at most this long go out with their head in one write.
    const ONE_WRITE: usize = 64 * 1024;

    /// One connection: requests one after another until the client closes.
    async fn serve(stream: TcpStream, routes: Routes, order: usize) -> std::io::Result<()> {
        stream.set_nodelay(true)?;
        let (read, mut write) = stream.into_split();
        let mut read = BufReader::new(read);
        let mut line = Vec::with_capacity(256);
        let mut reply = Vec::with_capacity(ONE_WRITE + 512);
        loop {
            line.clear();
            if read.read_until(b'\n', &mut line).await? == 0 {
                return Ok(());
            }
            let (head_only, path) = {
                let mut parts = line.split(|&b| b == b' ');
                let method = parts.next().unwrap_or_default();
                let path = parts.next().unwrap_or_default();
                (
                    method == b"HEAD",
                    String::from_utf8_lossy(path).into_owned(),
                )
            };
            let mut range = None;
            let mut close = false;
            loop {
                line.clear();
                if read.read_until(b'\n', &mut line).await? == 0 {
                    return Ok(());
                }
                let header = line.trim_ascii_end();
                if header.is_empty() {
                    break;
                }
                let Some(colon) = header.iter().position(|&b| b == b':') else {
                    continue;
                };
                let (name, value) = (&header[..colon], header[colon + 1..].trim_ascii());
                if name.eq_ignore_ascii_case(b"range") {
                    range = Some(String::from_utf8_lossy(value).into_owned());
                } else if name.eq_ignore_ascii_case(b"connection")
                    && value.eq_ignore_ascii_case(b"close")
                {
                    close = true;
                }
            }
            let Some(route) = routes.get(&path) else {
                write
                    .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    .await?;
                continue;
            };
            if !route.latency.is_zero() {
                tokio::time::sleep(route.latency).await;
            }
            let len = route.content.len();
            let (status, start, end) = match range.as_deref().and_then(|r| parse_range(r, len)) {
                Some((start, end)) => ("206 Partial Content", start, end),
                None => ("200 OK", 0, len),
            };
            reply.clear();
            {
                use std::io::Write as _;
                write!(
                    reply,
                    "HTTP/1.1 {status}\r\nContent-Type: application/octet-stream\r\n\
                     Accept-Ranges: bytes\r\nETag: \"{len:x}\"\r\nContent-Length: {}\r\n",
                    end - start
                )?;
                if status.starts_with("206") {
                    write!(reply, "Content-Range: bytes {start}-{}/{len}\r\n", end - 1)?;
                }
                reply.extend_from_slice(b"\r\n");
            }
            let slices = if head_only {
                Vec::new()
            } else {
                route.content.slices(start, end)
            };
            if let Some(&rate) = route.conn_rates.get(order % route.conn_rates.len().max(1)) {
                // Paced: this connection's bytes at its rate, 64 KiB at a time.
                write.write_all(&reply).await?;
                let started = Instant::now();
                let mut sent = 0u64;
                for slice in slices {
                    for piece in slice.chunks(64 * 1024) {
                        write.write_all(piece).await?;
                        sent += piece.len() as u64;
                        let due = Duration::from_secs_f64(sent as f64 / rate as f64);
                        if let Some(wait) = due.checked_sub(started.elapsed()) {
                            tokio::time::sleep(wait).await;
                        }
                    }
                }
            } else if end - start <= ONE_WRITE {
                for slice in &slices {
                    reply.extend_from_slice(slice);
                }
                write.write_all(&reply).await?;
            } else {
                write.write_all(&reply).await?;
                for slice in slices {
                    write.write_all(&slice).await?;
                }
            }
            if close {
                return Ok(());
            }
        }
    }

    /// `bytes=A-` or `bytes=A-B` within `len`: (start, end exclusive).
    fn parse_range(value: &str, len: usize) -> Option<(usize, usize)> {
        let spec = value.strip_prefix("bytes=")?;
        let (a, b) = spec.split_once('-')?;
        let start: usize = a.trim().parse().ok()?;
        let end = match b.trim() {
            "" => len,
            b => b.parse::<usize>().ok()?.saturating_add(1).min(len),
        };
        (start < end).then_some((start, end))
    }
}
