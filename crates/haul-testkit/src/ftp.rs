//! A real FTP server for the tests: pyftpdlib (PyPI; pyOpenSSL for FTPS), from the venv of
//! `HAUL_PYTHON` beside aria2p (`.ci/run` installs them and sets it; without it the tests that
//! need it are skipped, and fail under `HAUL_REQUIRE_ARIA2P=1`).
//!
//! Owns: starting, feeding and reading the log of one server. Must not touch: Haul.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools::{free_port, tool_from_env};

/// The server: a user `haul` with password `s3cret` and anonymous, both read-only in `root`;
/// FTPS (AUTH TLS required on control and data) when given a PEM with certificate and key;
/// sending at most `rate` bytes/s when not 0; without `EPSV` when `epsv` is `no`. Logs
/// every command and transfer.
const SERVER: &str = r#"
import logging, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler, ThrottledDTPHandler
from pyftpdlib.servers import FTPServer

root, port, log, pem, rate, epsv = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6]
logging.basicConfig(filename=log, level=logging.DEBUG, format="%(message)s")
auth = DummyAuthorizer()
auth.add_user("haul", "s3cret", root, perm="elr")
auth.add_anonymous(root)
handler = FTPHandler
if pem != "-":
    handler = TLS_FTPHandler
    handler.certfile = pem
    handler.tls_control_required = True
    handler.tls_data_required = True
if rate > 0:
    dtp = ThrottledDTPHandler
    dtp.write_limit = rate
    handler.dtp_handler = dtp
handler.authorizer = auth
if epsv == "no":
    handler.proto_cmds = {k: v for k, v in handler.proto_cmds.items() if k != "EPSV"}
server = FTPServer(("127.0.0.1", port), handler)
server.serve_forever()
"#;

/// A running pyftpdlib; killed and reaped on drop.
pub struct Ftp {
    child: Child,
    pub port: u16,
    /// The files it serves.
    pub root: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Ftp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Ftp {
    /// Starts one (plain FTP, or FTPS with `pem`), or `None` when no Python with pyftpdlib is
    /// given (the test is skipped).
    pub fn start(pem: Option<&Path>, rate: u64) -> Option<Ftp> {
        Ftp::start_with(pem, rate, true)
    }

    /// Like [`Ftp::start`], with or without `EPSV` (RFC 2428).
    pub fn start_with(pem: Option<&Path>, rate: u64, epsv: bool) -> Option<Ftp> {
        let python = tool_from_env(
            "HAUL_PYTHON",
            "HAUL_REQUIRE_ARIA2P",
            "a venv with pyftpdlib",
        )?;
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("子目录")).expect("root");
        let script = dir.path().join("server.py");
        std::fs::write(&script, SERVER).expect("script");
        let log = dir.path().join("ftp.log");
        let port = free_port();
        let stderr = std::fs::File::create(dir.path().join("stderr")).expect("stderr");
        let child = Command::new(python)
            .arg(&script)
            .arg(&root)
            .arg(port.to_string())
            .arg(&log)
            .arg(pem.map_or_else(|| "-".into(), |p| p.as_os_str().to_owned()))
            .arg(rate.to_string())
            .arg(if epsv { "yes" } else { "no" })
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start pyftpdlib");
        let ftp = Ftp {
            child,
            port,
            root,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "pyftpdlib did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
        Some(ftp)
    }

    /// Puts a file on the server.
    pub fn put(&self, path: &str, bytes: &[u8]) {
        std::fs::write(self.root.join(path), bytes).expect("put");
    }

    /// `scheme://[login@]127.0.0.1:port/path` (`path` as written in a URL).
    pub fn url(&self, scheme: &str, login: &str, path: &str) -> String {
        format!("{scheme}://{login}127.0.0.1:{}/{path}", self.port)
    }

    /// What it logged: commands (`<- REST 123`) and transfers (`RETR … bytes=N`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The bytes each finished or broken `RETR` sent, in order.
    pub fn sent(&self) -> Vec<u64> {
        self.log()
            .lines()
            .filter(|l| l.contains(" RETR ") && l.contains(" bytes="))
            .filter_map(|l| l.split(" bytes=").nth(1)?.split(' ').next()?.parse().ok())
            .collect()
    }
}
