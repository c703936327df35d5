//! The real `haul-browser-host` process, fed as a browser feeds it (4-byte length-prefixed
//! JSON on stdin): what it answers, that it stays up through bad input and a flood, and
//! that an item reaches the window's socket with the cookie, which never shows in its output.
//! The window's side of the socket is played by a listener here (the real window takes
//! items from a real browser in `extension/tests`).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use haul_browser::handoff::{self, Handoff};
use interprocess::local_socket::ListenerOptions;
use interprocess::local_socket::prelude::*;
use serde_json::{Value, json};

const HAUL_ORIGIN: &str = "chrome-extension://hfdfagpekomaeldlmgfaocgoonpgnmjf/";

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

fn start(data_home: &std::path::Path, caller: &str) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_haul-browser-host"))
        .arg(caller)
        .env("XDG_DATA_HOME", data_home)
        .env("APPDATA", data_home)
        .env("HOME", data_home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the host starts");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    Running {
        child,
        stdin,
        stdout,
    }
}

impl Running {
    fn send_raw(&mut self, body: &[u8]) {
        let len = u32::try_from(body.len()).expect("length");
        self.stdin.write_all(&len.to_ne_bytes()).expect("prefix");
        self.stdin.write_all(body).expect("body");
        self.stdin.flush().expect("flush");
    }

    fn reply(&mut self) -> Value {
        let mut prefix = [0u8; 4];
        self.stdout.read_exact(&mut prefix).expect("a reply");
        let mut body = vec![0u8; u32::from_ne_bytes(prefix) as usize];
        self.stdout.read_exact(&mut body).expect("the reply's body");
        serde_json::from_slice(&body).expect("JSON")
    }

    fn ask(&mut self, message: &Value) -> Value {
        self.send_raw(message.to_string().as_bytes());
        self.reply()
    }

    /// Closes stdin (as the browser does) and returns what the host wrote on stderr.
    fn finish(self) -> String {
        let Running {
            mut child,
            stdin,
            stdout,
        } = self;
        drop(stdin);
        drop(stdout);
        let mut stderr = String::new();
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut stderr);
        }
        let status = child.wait().expect("exit");
        assert!(
            status.success(),
            "the host ends cleanly when the browser closes: {status}"
        );
        stderr
    }
}

#[test]
fn bad_oversized_foreign_and_flooding_messages_get_errors_and_the_host_stays_up() {
    let home = tempfile::tempdir().expect("home");
    let mut host = start(home.path(), HAUL_ORIGIN);
    assert_eq!(host.ask(&json!({"type": "hello"}))["ok"], true);
    assert_eq!(host.ask(&json!({"type": "hello"}))["window"], false);
    host.send_raw(b"{not json");
    assert_eq!(host.reply()["ok"], false);
    host.send_raw(&vec![b' '; 1024 * 1024 + 1]);
    let reply = host.reply();
    assert_eq!(reply["ok"], false);
    assert!(
        reply["error"]
            .as_str()
            .is_some_and(|e| e.contains("1048577")),
        "{reply}"
    );
    assert_eq!(host.ask(&json!({"type": "shutdown"}))["ok"], false);
    // A flood: answered, many with "slow down", at a bounded pace.
    let started = Instant::now();
    for _ in 0..100 {
        host.send_raw(br#"{"type":"hello"}"#);
    }
    let slowed = (0..100)
        .filter(|_| {
            host.reply()["error"]
                .as_str()
                .is_some_and(|e| e.contains("slow down"))
        })
        .count();
    assert!(slowed >= 25, "only {slowed} of 100 were slowed");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        host.ask(&json!({"type": "hello", "id": 3}))["id"],
        3,
        "still up"
    );
    host.finish();

    let mut foreign = start(
        home.path(),
        "chrome-extension://abcdefghijklmnopabcdefghijklmnop/",
    );
    let reply =
        foreign.ask(&json!({"type": "download", "items": [{"url": "http://127.0.0.1:9/x"}]}));
    assert_eq!(reply["ok"], false);
    assert_eq!(
        foreign.ask(&json!({"type": "hello"}))["ok"],
        false,
        "still up, still refusing"
    );
    foreign.finish();
}

#[test]
fn an_item_reaches_the_window_socket_with_its_cookie_which_is_never_logged() {
    let home = tempfile::tempdir().expect("home");
    // The data folder the host finds from the environment `start` gives it.
    let dir = if cfg!(windows) {
        home.path().join("haul").join("data")
    } else if cfg!(target_os = "macos") {
        home.path().join("Library/Application Support/haul")
    } else {
        home.path().join("haul")
    };
    std::fs::create_dir_all(&dir).expect("data folder");
    // The window holds its instance lock while it runs.
    let lock = std::fs::File::create(dir.join("instance.lock")).expect("lock file");
    lock.try_lock().expect("the lock");
    let name = handoff::socket_name(&dir).expect("name");
    let listener = ListenerOptions::new()
        .name(name)
        .create_sync()
        .expect("listen");
    let window = std::thread::spawn(move || {
        let conn = listener
            .incoming()
            .next()
            .expect("a connection")
            .expect("accepted");
        let mut reader = BufReader::new(conn);
        let mut line = String::new();
        reader.read_line(&mut line).expect("a line");
        reader.get_mut().write_all(b"ok\n").expect("answer");
        serde_json::from_str::<Handoff>(&line).expect("a hand-off")
    });
    let mut host = start(home.path(), HAUL_ORIGIN);
    assert_eq!(host.ask(&json!({"type": "hello"}))["window"], true);
    let started = Instant::now();
    let reply = host.ask(&json!({"type": "download", "items": [{
        "url": "http://127.0.0.1:9/big.bin", "cookie": "session=TOPSECRET",
        "referrer": "http://127.0.0.1:9/", "userAgent": "UA/1", "filename": "big.bin"}]}));
    assert_eq!(reply["ok"], true, "{reply}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let got = window.join().expect("the window's side");
    assert_eq!(got.sources, ["http://127.0.0.1:9/big.bin"]);
    assert!(
        got.options
            .contains(&("header".to_owned(), "Cookie: session=TOPSECRET".to_owned()))
    );
    let stderr = host.finish();
    assert!(!stderr.contains("TOPSECRET"), "{stderr}");
}
