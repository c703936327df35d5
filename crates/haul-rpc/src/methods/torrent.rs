//! aria2's `addTorrent`: a `.torrent` file sent in base64, kept in the destination's
//! `.haul-torrents` folder (the download's source, also after a restart) and added as
//! `addUri` adds a link, with the same options (`select-file`, `seed-ratio`…) and position.
//! aria2's second parameter (web seeds) is not taken: a torrent's peers are its swarm's.
//! Also a torrent's `files` (every file, chosen or not) and every download's `numPieces` and
//! `pieceLength`, as aria2 gives them.
//!
//! Owns: decoding and keeping the file; those shapes. Must not touch: what a torrent is (the
//! engine reads it; a bad one fails as its download, saying why).

use base64::Engine as _;
use serde_json::{Value, json};

use super::{Downloads, Reply, View, fail, options};
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

/// aria2's piece length for a download that is not a torrent (its `--piece-length`).
const WEB_PIECE: u64 = 1024 * 1024;

/// `numPieces` and `pieceLength`: a torrent's own once its metadata is known; for any other
/// download aria2's 1 MiB pieces, as many as its length needs (none while it is unknown).
pub(super) fn pieces(v: &View) -> (u64, u64) {
    match v.swarm {
        Some(swarm) if swarm.piece_length > 0 => {
            (u64::from(swarm.pieces), u64::from(swarm.piece_length))
        }
        _ => (v.total.unwrap_or(0).div_ceil(WEB_PIECE), WEB_PIECE),
    }
}

/// A torrent's `files` as aria2 gives them: every file in the torrent's order, numbered from
/// 1, each with its verified bytes and whether `select-file` chose it; no `uris` (its peers are
/// the swarm's). A chosen file's path is where it was put once done (a free top name may
/// differ from the torrent's), else where it will be. While a magnet link's metadata is
/// fetched, one file `[METADATA]<info hash>` of no length, as aria2 shows it. `None` when its
/// files are not known (not a torrent, or one from an earlier run of the window).
pub(super) fn files(v: &View) -> Option<Value> {
    if v.torrent_files.is_empty() {
        let swarm = v.swarm.filter(|s| s.metadata)?;
        let hash = swarm
            .info_hash
            .map(|h| crate::protocol::hex(&h))
            .unwrap_or_default();
        return Some(json!([{
            "index": "1",
            "path": format!("[METADATA]{hash}"),
            "length": "0",
            "completedLength": "0",
            "selected": "true",
            "uris": [],
        }]));
    }
    let select = v.options.torrent.select.as_deref();
    let chosen = |index: usize| select.is_none_or(|s| s.contains(&index));
    let mut done = v.files.iter();
    let all_done = v.files.len() == v.torrent_files.iter().filter(|f| chosen(f.index)).count();
    let listed: Vec<Value> = v
        .torrent_files
        .iter()
        .map(|file| {
            let picked = chosen(file.index);
            let put = if picked && all_done {
                done.next()
            } else {
                None
            };
            let path = put.map_or_else(|| v.dest.join(&file.path), |f| f.path.clone());
            json!({
                "index": file.index.to_string(),
                "path": path.display().to_string(),
                "length": file.length.to_string(),
                "completedLength": file.done.to_string(),
                "selected": picked.to_string(),
                "uris": [],
            })
        })
        .collect();
    Some(listed.into())
}
