// The benchmark's own HTTP server (included into `bench` in loopback.rs, so it shares that
// module's imports): what a route serves, keep-alive with `Range` and per-route latency on
// this process's threads, the servers of a run, and nginx where a workload wants it.

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
    /// when given). Files under `/w5/`, `/w9/` and `/w10/` are sent at 4 MiB/s per request
    /// (`limit_rate`); `/nginx-status` is its `stub_status` (connections reading, writing).
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
             server {{ listen {host}:{port}; root {};\n    location ~ ^/(w5|w9|w10)/ {{ limit_rate 4m; }}\n    location ~ ^/w11/ {{ limit_rate 2m; sendfile_max_chunk 128k; }}\n    location = /nginx-status {{ stub_status; }} }}\n}}\n",
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
