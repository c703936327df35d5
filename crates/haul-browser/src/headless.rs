//! The headless way in: a `haul-cli --enable-rpc` serving for this user leaves a note in the
//! window's data folder (`rpc.json`: its port and secret, readable by the user alone) while it
//! runs; when no window runs, the host hands items to it with aria2's `aria2.addUri`, the
//! options in aria2's names (`header`, `referer`, `user-agent`, `out`).
//!
//! Owns: the note (written, read, removed by the one that wrote it) and the one RPC call, made
//! over a plain HTTP/1.1 request to 127.0.0.1 (no HTTP crate: one POST, one reply).
//! Must not touch: the RPC server (`haul-rpc`), the window.

use std::io::{Read as _, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::handoff::Handoff;

/// What a headless `haul-cli --enable-rpc` tells the host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub port: u16,
    pub secret: String,
}

fn note_path(dir: &Path) -> PathBuf {
    dir.join("rpc.json")
}

/// The note while it serves; removed when dropped (unless another server has since written
/// its own).
#[derive(Debug)]
pub struct NoteGuard {
    path: PathBuf,
    note: Note,
}

impl Drop for NoteGuard {
    fn drop(&mut self) {
        if read_note_at(&self.path).as_ref() == Some(&self.note) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Leaves the note in `dir`, readable and writable by its owner only.
pub fn write_note(dir: &Path, note: Note) -> std::io::Result<NoteGuard> {
    std::fs::create_dir_all(dir)?;
    let path = note_path(dir);
    let text = serde_json::to_vec(&note)?;
    let temp = dir.join(format!("rpc.json.{}", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(&temp)?;
    file.write_all(&text)?;
    drop(file);
    std::fs::rename(&temp, &path)?;
    Ok(NoteGuard { path, note })
}

/// The note a headless Haul left in `dir`, if any.
pub fn read_note(dir: &Path) -> Option<Note> {
    read_note_at(&note_path(dir))
}

fn read_note_at(path: &Path) -> Option<Note> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// `handoff`'s options in aria2's shape (`header` as a list).
fn aria2_options(handoff: &Handoff) -> Value {
    let mut options = serde_json::Map::new();
    let mut headers = Vec::new();
    for (name, value) in &handoff.options {
        if name == "header" {
            headers.push(Value::String(value.clone()));
        } else {
            options.insert(name.clone(), Value::String(value.clone()));
        }
    }
    if !headers.is_empty() {
        options.insert("header".to_owned(), Value::Array(headers));
    }
    Value::Object(options)
}

/// Adds each of `handoff`'s sources with `aria2.addUri` to the headless Haul of `note`.
pub fn add_uri(note: &Note, handoff: &Handoff) -> Result<(), String> {
    let options = aria2_options(handoff);
    for source in &handoff.sources {
        let call = json!({
            "jsonrpc": "2.0",
            "id": "haul-browser-host",
            "method": "aria2.addUri",
            "params": [format!("token:{}", note.secret), [source], options],
        });
        let reply = post(
            note.port,
            &serde_json::to_vec(&call).map_err(|e| e.to_string())?,
        )
        .map_err(|e| {
            format!(
                "the headless Haul on port {} did not answer: {e}",
                note.port
            )
        })?;
        if let Some(error) = reply.get("error") {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("refused");
            return Err(format!("the headless Haul refused it: {message}"));
        }
    }
    Ok(())
}

/// One POST to `http://127.0.0.1:PORT/jsonrpc`; the reply's JSON body.
fn post(port: u16, body: &[u8]) -> std::io::Result<Value> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let head = format!(
        "POST /jsonrpc HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    let mut reply = Vec::new();
    stream.take(1024 * 1024).read_to_end(&mut reply)?;
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no HTTP reply"))?;
    let status = String::from_utf8_lossy(&reply[..split]);
    if !status.starts_with("HTTP/1.1 200") && !status.starts_with("HTTP/1.0 200") {
        let line = status.lines().next().unwrap_or_default().to_owned();
        return Err(bad(&line));
    }
    // The body is one JSON object (with a length, or in one chunk: take it between braces).
    let body = &reply[split + 4..];
    let start = body
        .iter()
        .position(|&b| b == b'{')
        .ok_or_else(|| bad("no JSON"))?;
    let end = body
        .iter()
        .rposition(|&b| b == b'}')
        .ok_or_else(|| bad("no JSON"))?;
    serde_json::from_slice(&body[start..=end]).map_err(|e| bad(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_take_aria2s_shape_and_the_note_is_removed_by_its_writer_only() {
        let handoff = Handoff {
            sources: vec!["http://h/x".to_owned()],
            options: vec![
                ("referer".to_owned(), "http://h/".to_owned()),
                ("header".to_owned(), "Cookie: a=b".to_owned()),
            ],
            ..Handoff::default()
        };
        assert_eq!(
            aria2_options(&handoff),
            json!({"referer": "http://h/", "header": ["Cookie: a=b"]})
        );
        let dir = tempfile::tempdir().expect("dir");
        let first = write_note(
            dir.path(),
            Note {
                port: 1,
                secret: "s".into(),
            },
        )
        .expect("note");
        assert_eq!(read_note(dir.path()).map(|n| n.port), Some(1));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(note_path(dir.path()))
                .expect("note")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the secret is its owner's alone");
        }
        let second = write_note(
            dir.path(),
            Note {
                port: 2,
                secret: "t".into(),
            },
        )
        .expect("note");
        drop(first);
        assert_eq!(
            read_note(dir.path()).map(|n| n.port),
            Some(2),
            "not the first's to remove"
        );
        drop(second);
        assert_eq!(read_note(dir.path()), None);
    }
}
