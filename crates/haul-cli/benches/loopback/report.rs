// The benchmark's report (included into `bench` in loopback.rs, sharing its imports): each
// tool's runs reduced to medians, the table with Haul ÷ the best peer against the targets,
// the same as JSON with the machine and the tools' versions.

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
