//! Real tools the tests start or find: proxies from the system's packages (microsocks,
//! tinyproxy), clients of the RPC nobody here wrote (aria2p from PyPI, the `aria2` npm
//! package), and the switches that make a missing tool a skip or, in CI, a failure.
//!
//! Owns: finding, starting and stopping these tools. Must not touch: Haul itself.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A proxy from the system's packages, on a free port of 127.0.0.1; killed on drop.
pub struct Proxy {
    child: Child,
    pub port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Proxy {
    /// Kills its whole process group: proxy.py serves from worker processes that outlived
    /// their parent's kill (orphans left listening after the tests).
    fn drop(&mut self) {
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether `program` is installed; without it the test is skipped (and fails under
/// `HAUL_REQUIRE_PROXIES=1`).
pub fn have(program: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("HAUL_REQUIRE_PROXIES").is_none(),
            "{program} is not installed"
        );
        eprintln!("skipped: {program} is not installed (apt install microsocks tinyproxy-bin)");
    }
    found
}

/// A tool the tests find through the environment variable `var` (a venv's Python, a
/// `node_modules`); without it the test is skipped with `hint`, and fails instead when
/// `require` is set (as `.ci/run` sets it after installing the tool).
pub fn tool_from_env(var: &str, require: &str, hint: &str) -> Option<std::ffi::OsString> {
    let found = std::env::var_os(var);
    if found.is_none() {
        assert!(std::env::var_os(require).is_none(), "{var} is not set");
        eprintln!("skipped: set {var} to {hint}");
    }
    found
}

/// A Python with aria2p (`HAUL_PYTHON`; required under `HAUL_REQUIRE_ARIA2P`).
pub fn aria2p_python() -> Option<std::ffi::OsString> {
    tool_from_env("HAUL_PYTHON", "HAUL_REQUIRE_ARIA2P", "a Python with aria2p")
}

/// A `node_modules` with the `aria2` npm client and `ws` (`HAUL_NODE_PATH`; required under
/// `HAUL_REQUIRE_NODE`).
pub fn aria2_node_modules() -> Option<std::ffi::OsString> {
    tool_from_env(
        "HAUL_NODE_PATH",
        "HAUL_REQUIRE_NODE",
        "a node_modules with aria2 and ws",
    )
}

pub async fn wait_listening(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    panic!("the proxy did not listen on {port}");
}

/// Starts `program` on a free port of 127.0.0.1 with the arguments `args` makes from the port
/// and a fresh folder (where it may write a config), its stderr kept in the folder, and waits
/// until it listens. `log` names the file in the folder that tells what it carried.
pub async fn start_proxy(
    program: &Path,
    log: &str,
    args: impl FnOnce(u16, &Path) -> Vec<String>,
) -> Proxy {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stderr =
        std::fs::File::create(dir.path().join(format!("{name}.stderr"))).expect("stderr file");
    let mut command = Command::new(program);
    command
        .args(args(port, dir.path()))
        .stdout(Stdio::null())
        .stderr(stderr);
    // A group of its own, so that dropping it ends its workers too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    // Killed and reaped on drop, also if it never listens.
    let proxy = Proxy {
        child,
        port,
        log: dir.path().join(log),
        _dir: dir,
    };
    wait_listening(port).await;
    proxy
}

/// microsocks (SOCKS5) asking for `user` and `password`; it logs each connection to stderr.
pub async fn microsocks(user: &str, password: &str) -> Proxy {
    let (user, password) = (user.to_owned(), password.to_owned());
    start_proxy(
        Path::new("microsocks"),
        "microsocks.stderr",
        move |port, _| {
            let port = port.to_string();
            ["-i", "127.0.0.1", "-p", &port, "-u", &user, "-P", &password]
                .map(str::to_owned)
                .to_vec()
        },
    )
    .await
}

/// tinyproxy (HTTP) asking for `user` and `password` (Basic), logging to its LogFile.
pub async fn tinyproxy(user: &str, password: &str) -> Proxy {
    let (user, password) = (user.to_owned(), password.to_owned());
    start_proxy(Path::new("tinyproxy"), "tinyproxy.log", move |port, dir| {
        let conf = dir.join("tinyproxy.conf");
        std::fs::write(
            &conf,
            format!(
                "Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{}\"\nLogLevel Info\n\
                 MaxClients 20\nAllow 127.0.0.1\nBasicAuth {user} {password}\n",
                dir.join("tinyproxy.log").display()
            ),
        )
        .expect("write tinyproxy.conf");
        vec!["-d".to_owned(), "-c".to_owned(), conf.display().to_string()]
    })
    .await
}

/// `python -c SCRIPT` with the Python that has aria2p, no proxy in its way.
pub fn aria2p(python: std::ffi::OsString, script: &str) -> Command {
    let mut command = Command::new(python);
    command
        .args(["-c", script])
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    command
}

/// `node -e SCRIPT` with the `node_modules` (aria2, ws) at `node_path`.
pub fn node(node_path: std::ffi::OsString, script: &str) -> Command {
    let mut command = Command::new("node");
    command.args(["-e", script]).env("NODE_PATH", node_path);
    command
}

/// The client's stdout, once it exited well (else its output is the failure).
pub fn stdout_of(output: std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// A JSON-RPC 2.0 call of `method` with `params`, as text.
pub fn call(method: &str, params: serde_json::Value) -> String {
    serde_json::json!({ "jsonrpc": "2.0", "id": "t", "method": method, "params": params })
        .to_string()
}

/// A D-Bus session bus of a test's own (`dbus-daemon`), killed and reaped on drop; `None`
/// (after saying "skipped: …") where dbus-daemon is not installed, unless `HAUL_REQUIRE_DBUS`
/// is set, as `.ci/run` sets it.
pub struct SessionBus {
    child: Child,
    /// Its address, for a client or a child process (`DBUS_SESSION_BUS_ADDRESS`).
    pub address: String,
}

impl SessionBus {
    pub fn start() -> Option<SessionBus> {
        use std::io::BufRead as _;
        let daemon = Path::new("/usr/bin/dbus-daemon");
        if !daemon.exists() {
            assert!(
                std::env::var_os("HAUL_REQUIRE_DBUS").is_none(),
                "no /usr/bin/dbus-daemon"
            );
            eprintln!("skipped: no /usr/bin/dbus-daemon (apt install dbus-daemon)");
            return None;
        }
        let mut child = Command::new(daemon)
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        let mut address = String::new();
        if let Some(out) = child.stdout.take() {
            std::io::BufReader::new(out)
                .read_line(&mut address)
                .expect("the bus address");
        }
        let address = address.trim().to_owned();
        Some(SessionBus { child, address })
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
