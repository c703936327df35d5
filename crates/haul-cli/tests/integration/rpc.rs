//! `haul-cli --enable-rpc` against real clients nobody here wrote: `aria2p` (PyPI) adds,
//! polls, pauses, resumes and removes; raw requests try every way in that must be refused.
//! The Python with aria2p is `HAUL_PYTHON` (`.ci/run` makes a venv and sets it, with
//! `HAUL_REQUIRE_ARIA2P=1`); without it the aria2p test says so and passes.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::cli::BIN;
use crate::support::{Server, body};
use haul_testkit::tools::{
    aria2_node_modules, aria2p, aria2p_python, call, free_port, node, stdout_of,
};

pub(crate) const SECRET: &str = "s3cret-token";

/// `haul-cli --enable-rpc` on a free port, saving into `dest`; killed on drop. Its data
/// folder (where it leaves the browser host its note) is its own.
pub(crate) struct Rpc {
    child: Child,
    pub(crate) port: u16,
    // Read by the browser host's headless test, which macOS does not run (its data folder is
    // under HOME); held by every test so the folder lives as long as the server.
    #[cfg_attr(target_os = "macos", expect(dead_code))]
    pub(crate) data: tempfile::TempDir,
}

impl Drop for Rpc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn start(dest: &Path) -> Rpc {
    let port = free_port();
    let data = tempfile::tempdir().expect("data folder");
    let child = Command::new(BIN)
        .args(["--enable-rpc", "--rpc-listen-port", &port.to_string()])
        .args(["--rpc-secret", SECRET, "-o"])
        .arg(dest)
        .env_remove("NO_PROXY")
        .env("XDG_DATA_HOME", data.path())
        .env("APPDATA", data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start haul-cli --enable-rpc");
    let rpc = Rpc { child, port, data }; // killed and reaped on drop, also if this panics
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return rpc;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the RPC server did not listen on {port}");
}

/// POSTs `body` to the server with extra headers; returns the status and the JSON reply.
pub(crate) async fn post(port: u16, body: String, headers: &[(&str, &str)]) -> (u16, Value) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let mut request = client
        .post(format!("http://127.0.0.1:{port}/jsonrpc"))
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("a reply");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Runs a client against the headless server, off the runtime; its stdout.
async fn run_client(mut command: Command) -> String {
    let output = tokio::task::spawn_blocking(move || command.output().expect("run the client"))
        .await
        .expect("join");
    stdout_of(output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_way_in_that_must_be_refused_is_refused_and_nothing_is_written() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let rpc = start(&dest).await;
    let url = server.url("/bytes/100/x.bin");
    let token = format!("token:{SECRET}");
    let error_of = |reply: &Value| {
        reply["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };

    // No token, a wrong token.
    let (_, reply) = post(rpc.port, call("aria2.addUri", json!([[url]])), &[]).await;
    assert_eq!(error_of(&reply), "Unauthorized");
    let (_, reply) = post(
        rpc.port,
        call("aria2.addUri", json!(["token:nope", [url]])),
        &[],
    )
    .await;
    assert_eq!(error_of(&reply), "Unauthorized");
    // A web page's Origin, a foreign Host (DNS rebinding).
    let good = call("aria2.getVersion", json!([token]));
    let (status, _) = post(
        rpc.port,
        good.clone(),
        &[("Origin", "https://evil.example")],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(rpc.port, good.clone(), &[("Host", "evil.example:6800")]).await;
    assert_eq!(status, 403);
    // An extension's Origin is let in.
    let (status, reply) = post(rpc.port, good.clone(), &[("Origin", "moz-extension://abc")]).await;
    assert_eq!(status, 200, "{reply}");
    assert!(reply["result"]["version"].is_string());
    // dir naming a system folder, out climbing out, a 10 MB body.
    for (options, says) in [
        (json!({"dir": "/etc"}), "outside the destination"),
        (json!({"out": "../../x"}), "only a file name"),
        (json!({"dir": "../up"}), "leaves the destination"),
    ] {
        let addition = call("aria2.addUri", json!([token, [url], options]));
        let (_, reply) = post(rpc.port, addition, &[]).await;
        assert!(error_of(&reply).contains(says), "{options}: {reply}");
    }
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(10 * 1024 * 1024));
    let (status, _) = post(rpc.port, big, &[]).await;
    assert_eq!(status, 413);
    // An unknown method says so, in aria2's error shape.
    let (_, reply) = post(
        rpc.port,
        call("aria2.addMetalink", json!([token, "x"])),
        &[],
    )
    .await;
    assert_eq!(reply["error"]["code"], 1);
    assert!(error_of(&reply).contains("No such method"), "{reply}");
    // system.multicall: each call carries its own token; a bad one fails alone.
    let calls = json!([[
        {"methodName": "aria2.getVersion", "params": [token]},
        {"methodName": "aria2.getGlobalStat", "params": ["token:nope"]},
        {"methodName": "system.listMethods"},
    ]]);
    let (_, reply) = post(rpc.port, call("system.multicall", calls), &[]).await;
    let results = reply["result"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), 3, "{reply}");
    assert!(results[0][0]["version"].is_string(), "{reply}");
    assert_eq!(results[1]["message"], "Unauthorized", "{reply}");
    assert!(
        results[2][0]
            .as_array()
            .is_some_and(|m| m.contains(&json!("aria2.addUri")))
    );
    // A batch of two answers twice, in order.
    let batch = format!(
        "[{},{}]",
        call("aria2.getVersion", json!([token])),
        call("aria2.tellActive", json!([token]))
    );
    let (_, reply) = post(rpc.port, batch, &[]).await;
    assert_eq!(reply.as_array().map(Vec::len), Some(2), "{reply}");
    assert_eq!(reply[1]["result"], json!([]));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.requests(), 0, "nothing refused reached the server");
    assert!(
        std::fs::read_dir(&dest).expect("dest").next().is_none(),
        "nothing written"
    );
    assert!(!dir.path().join("x").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aria2p_adds_polls_pauses_resumes_and_removes() {
    let Some(python) = aria2p_python() else {
        return;
    };
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let rpc = start(&dest).await;
    let quick = server.url("/bytes/300000/quick.bin");
    let slow = server.url("/bytes/3000000/slow.bin?range=1&etag=s&drip_ms=2");
    let script = format!(
        r#"
import sys, time, aria2p
api = aria2p.API(aria2p.Client(host="http://127.0.0.1", port={port}, secret="{secret}"))
def wait(gid, pred, what, limit=30):
    end = time.time() + limit
    while time.time() < end:
        d = api.get_download(gid)
        if pred(d):
            return d
        time.sleep(0.1)
    sys.exit(f"timed out waiting for {{what}}: {{d.status}}")
quick = api.add_uris(["{quick}"], options={{"out": "renamed.bin", "dir": "sub"}})
d = wait(quick.gid, lambda d: d.is_complete, "quick complete")
print("quick", d.status, d.total_length, d.completed_length, d.files[0].path)
slow = api.add_uris(["{slow}"])
wait(slow.gid, lambda d: d.completed_length > 100000, "slow bytes")
api.pause([slow])
d = wait(slow.gid, lambda d: d.is_paused, "paused")
kept = d.completed_length
print("paused", kept)
api.resume([slow])
d = wait(slow.gid, lambda d: d.is_complete, "slow complete", 60)
print("slow", d.status, d.total_length)
stats = api.get_stats()
print("stats", stats.num_active, stats.num_stopped)
names = sorted(x.gid for x in api.get_downloads())
print("listed", len(names))
third = api.add_uris(["{slow}&again=1"])
wait(third.gid, lambda d: d.completed_length > 0, "third bytes")
print("removed", api.remove([third]))
print("after", [x.gid for x in api.get_downloads()].count(third.gid))
fourth = api.add_uris(["{slow}&again=1"])
d = wait(fourth.gid, lambda d: d.is_complete, "fourth complete", 60)
print("fourth", d.files[0].path.name)
"#,
        port = rpc.port,
        secret = SECRET,
        quick = quick,
        slow = slow,
    );
    let stdout = run_client(aria2p(python, &script)).await;
    assert!(stdout.contains("quick complete 300000 300000"), "{stdout}");
    assert_eq!(
        std::fs::read(dest.join("sub/renamed.bin")).expect("out and dir"),
        body(300_000)
    );
    assert!(stdout.contains("slow complete 3000000"), "{stdout}");
    assert_eq!(
        std::fs::read(dest.join("slow.bin")).expect("slow"),
        body(3_000_000)
    );
    // The download added again below resumes too (its target holds "again").
    assert!(
        server.resumes("slow.bin").len() > server.resumes("again").len(),
        "unpause resumed from the kept bytes"
    );
    assert!(stdout.contains("removed [True]"), "{stdout}");
    assert!(stdout.contains("after 0"), "{stdout}");
    // Added again after its removal, the same download goes on from the bytes the removal
    // kept, under its own name (it became 'slow (2).bin', its '.part' left behind).
    assert!(stdout.contains("fourth slow (1).bin"), "{stdout}");
    let again = server.resumes("again");
    assert!(!again.is_empty(), "added again, it resumed");
    let names = std::fs::read_dir(&dest)
        .expect("dest")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part"))
        .collect::<Vec<_>>();
    assert!(names.is_empty(), "nothing left behind: {names:?}");
}

/// aria2p's queue moves (`changePosition` with POS_SET, POS_CUR and POS_END) reorder the
/// waiting downloads, and the engine starts them in the new order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aria2p_moves_waiting_downloads_and_they_start_in_that_order() {
    let Some(python) = aria2p_python() else {
        return;
    };
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let rpc = start(dir.path()).await;
    let url = |name: &str, delay: u32| server.url(&format!("/bytes/1000/{name}?delay_ms={delay}"));
    let script = format!(
        r#"
import sys, time, aria2p
from aria2p.client import ClientException
api = aria2p.API(aria2p.Client(host="http://127.0.0.1", port={port}, secret="{secret}"))
api.set_global_options({{"max-concurrent-downloads": "1"}})
a = api.add_uris(["{a}"])
b, c, d = (api.add_uris([u]) for u in ["{b}", "{c}", "{d}"])
names = {{a.gid: "a", b.gid: "b", c.gid: "c", d.gid: "d"}}
def waiting():
    return "".join(names[x["gid"]] for x in api.client.tell_waiting(0, 10, keys=["gid"]))
print("before", waiting())
print("set", api.client.change_position(d.gid, 0, "POS_SET"), waiting())
print("end", api.client.change_position(b.gid, 0, "POS_END"), waiting())
print("cur", api.client.change_position(d.gid, 1, "POS_CUR"), waiting())
print("far", api.client.change_position(b.gid, -10, "POS_CUR"), waiting())
print("top", api.client.change_position(d.gid, -3, "POS_END"), waiting())
try:
    api.client.change_position(a.gid, 0, "POS_SET")
except ClientException as e:
    print("active:", e.message)
# addUri's position, a client's 2.0, and a download added paused.
e = api.client.add_uri(["{e}"], {{}}, 1)
names[e] = "e"
print("inserted", waiting())
print("float", api.client.change_position(e, 2.0, "POS_SET"), waiting())
p = api.client.add_uri(["{p}"], {{"pause": "true"}})
names[p] = "p"
time.sleep(0.3)
print("added paused", api.get_download(p).status, waiting())
api.client.force_remove(p)
del names[p]
end = time.time() + 30
while time.time() < end and not all(api.get_download(g).is_complete for g in names):
    time.sleep(0.05)
print("done", all(api.get_download(g).is_complete for g in names))
"#,
        port = rpc.port,
        secret = SECRET,
        a = url("a", 1500),
        b = url("b", 0),
        c = url("c", 0),
        d = url("d", 0),
        e = url("e", 0),
        p = url("p", 0),
    );
    let stdout = run_client(aria2p(python, &script)).await;
    for line in [
        "before bcd",
        "set 0 dbc",
        "end 2 dcb",
        "cur 1 cdb",
        "far 0 bcd",
        "top 0 dbc",
        "active: GID",
        "inserted debc",
        "float 2 dbec",
        "added paused paused dbecp",
        "done True",
    ] {
        assert!(stdout.contains(line), "{line:?} in:\n{stdout}");
    }
    let started: String = server
        .request_log()
        .iter()
        .filter_map(|l| {
            l.target
                .split('?')
                .next()?
                .rsplit('/')
                .next()?
                .chars()
                .next()
        })
        .collect();
    assert_eq!(
        started, "adbec",
        "the engine started them in the queue's order"
    );
}

/// The `aria2` npm client over WebSocket: adds a download and hears `onDownloadComplete`.
/// `HAUL_NODE_PATH` is a `node_modules` with `aria2` and `ws` (`.ci/run` installs them, with
/// `HAUL_REQUIRE_NODE=1`); without it the test says so and passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_npm_aria2_client_over_websocket_adds_and_hears_complete() {
    let Some(node_path) = aria2_node_modules() else {
        return;
    };
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("dest");
    std::fs::create_dir_all(&dest).expect("dest");
    let rpc = start(&dest).await;
    let url = server.url("/bytes/150000/over-ws.bin");
    let script = format!(
        r#"
const Aria2 = require("aria2");
(async () => {{
  const aria2 = new Aria2({{ host: "127.0.0.1", port: {port}, secure: false, secret: "{secret}", path: "/jsonrpc" }});
  await aria2.open();
  const heard = new Promise((resolve) => aria2.on("onDownloadComplete", ([event]) => resolve(event.gid)));
  const gid = await aria2.call("addUri", ["{url}"], {{ out: "ws.bin" }});
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("no onDownloadComplete")), 20000));
  const got = await Promise.race([heard, timeout]);
  const status = await aria2.call("tellStatus", gid, ["status", "completedLength"]);
  console.log("same-gid", gid === got, status.status, status.completedLength);
  await aria2.close();
  process.exit(0); // the timeout's timer would keep node alive
}})().catch((e) => {{ console.error(e); process.exit(1); }});
"#,
        port = rpc.port,
        secret = SECRET,
    );
    let stdout = run_client(node(node_path, &script)).await;
    assert!(stdout.contains("same-gid true complete 150000"), "{stdout}");
    assert_eq!(
        std::fs::read(dest.join("ws.bin")).expect("file"),
        body(150_000)
    );
}

/// `tellStatus` says how many connections a download uses (issue 28, item 18): a 64 MiB file
/// from a server that gives each connection 1 MiB/s is split over the defaults' 4, which the
/// server counts too; paused, it uses none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tell_status_counts_the_connections_of_a_split_download() {
    let server = Server::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let rpc = start(dir.path()).await;
    let token = format!("token:{SECRET}");
    let url = server.url("/bytes/67108864/split.bin?range=1&etag=c&rate=1048576");
    let (_, added) = post(rpc.port, call("aria2.addUri", json!([token, [url]])), &[]).await;
    let gid = added["result"].as_str().expect("a gid").to_owned();
    let status = || {
        call(
            "aria2.tellStatus",
            json!([token, gid, ["connections", "status"]]),
        )
    };
    let mut seen = Vec::new();
    let mut four = false;
    for _ in 0..100 {
        let (_, reply) = post(rpc.port, status(), &[]).await;
        let connections = reply["result"]["connections"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        if connections == "4" && server.in_flight() == 4 {
            four = true;
            break;
        }
        seen.push(connections);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        four,
        "tellStatus said {seen:?}; {} at the server",
        server.in_flight()
    );
    post(rpc.port, call("aria2.pause", json!([token, gid])), &[]).await;
    for _ in 0..100 {
        let (_, reply) = post(rpc.port, status(), &[]).await;
        if reply["result"]["status"] == "paused" {
            assert_eq!(reply["result"]["connections"], "0", "{reply}");
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("never paused");
}

/// Issue 28 (the probe): a busy port ended in "Address already in use (os error 98)" said
/// twice, with no way out named. Once, and the flag to choose another.
#[test]
fn a_busy_port_is_said_once_with_the_flag_to_choose_another() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port to hold");
    let port = taken.local_addr().expect("its address").port();
    let dest = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args(["--enable-rpc", "--rpc-listen-port", &port.to_string(), "-o"])
        .arg(dest.path())
        .output()
        .expect("run haul-cli");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert_eq!(stderr.matches("os error").count(), 1, "{stderr}");
    assert!(stderr.contains("--rpc-listen-port"), "{stderr}");
}
