//! aria2's `addTorrent`: a `.torrent` file sent in base64, kept in the destination's
//! `.haul-torrents` folder (the download's source, also after a restart) and added as
//! `addUri` adds a link, with the same options (`select-file`, `seed-ratio`…) and position.
//! aria2's second parameter (web seeds) is not taken: a torrent's peers are its swarm's.
//!
//! Owns: decoding and keeping the file. Must not touch: what a torrent is (the engine reads
//! it; a bad one fails as its download, saying why).

use base64::Engine as _;
use serde_json::Value;

use super::{Downloads, Reply, fail, options};
use crate::protocol::Source;

/// The largest `.torrent` file taken (real ones are kilobytes to a few megabytes).
const MAX_TORRENT: usize = 16 * 1024 * 1024;

pub(super) fn add_torrent(downloads: &mut dyn Downloads, params: &[Value]) -> Reply {
    let Some(text) = params.first().and_then(Value::as_str) else {
        return fail("addTorrent takes a .torrent file in base64 first");
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(text.trim()) else {
        return fail("addTorrent's first parameter is not base64");
    };
    if bytes.is_empty() || bytes.len() > MAX_TORRENT {
        return fail(format!(
            "a .torrent file of {} bytes is not taken (at most {MAX_TORRENT})",
            bytes.len()
        ));
    }
    let folder = downloads.dest().join(".haul-torrents");
    let mut name = [0u8; 8];
    if getrandom::getrandom(&mut name).is_err() {
        return fail("cannot name the .torrent file");
    }
    let name: String = name.iter().map(|b| format!("{b:02x}")).collect();
    let path = folder.join(format!("{name}.torrent"));
    if let Err(e) = std::fs::create_dir_all(&folder).and_then(|()| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .and_then(|mut f| std::io::Write::write_all(&mut f, &bytes))
    }) {
        return fail(format!(
            "cannot keep the .torrent file in {}: {e}",
            folder.display()
        ));
    }
    let uri = path.display().to_string();
    options::add_source(
        downloads,
        Source::File(path),
        &uri,
        params.get(2),
        params.get(3),
    )
}
