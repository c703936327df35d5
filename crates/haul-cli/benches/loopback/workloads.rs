// The workloads W1–W4 (included into `bench` in loopback.rs, sharing its imports): their
// sizes, the files each serves, and the tools each runs (Haul and its peers).

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
    /// W9 and W10: the big files sharing a host's connections.
    sharing_len: usize,
    /// W10: the small files added beside the big one.
    sharing_small: usize,
    /// W11: the stream's 1-second segments.
    stream_segments: usize,
    /// W12: the torrent's one file.
    torrent_len: usize,
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
        sharing_len: 1 << 30,
        sharing_small: 20,
        stream_segments: 60,
        torrent_len: 256 << 20,
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
        sharing_len: 64 << 20,
        sharing_small: 4,
        stream_segments: 4,
        torrent_len: 4 << 20,
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
        frames: None,
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
        frames: None,
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
        frames: None,
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
        frames: None,
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
