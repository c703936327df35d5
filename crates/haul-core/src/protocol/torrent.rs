//! A torrent's own options as the engine takes them ([`TorrentOptions`]: which files, how long
//! to seed, extra trackers) and what a running torrent reports ([`Swarm`]), in aria2's terms
//! (`select-file`, `seed-ratio`, `seed-time`, `bt-tracker`; `numSeeders`, `uploadLength`), and
//! its files as its row lists them ([`TorrentFile`]).
//!
//! Owns: these types and reading their values as aria2 writes them (`1,3-5`, `1.0`, minutes).
//! Must not touch: I/O, the BitTorrent engine (the engine's `fetch::torrent` uses these).

use std::time::Duration;

/// A share ratio (uploaded ÷ the bytes of the chosen files), kept in thousandths so the
/// options stay comparable (`1.0` is `Ratio(1000)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ratio(pub u32);

impl Ratio {
    /// aria2's default `seed-ratio`.
    pub const DEFAULT: Ratio = Ratio(1000);

    /// Reads `1`, `1.5`, `0.25` (0: no ratio; then only `seed-time` ends seeding, or, without
    /// it, seeding ends at once as aria2's `--seed-ratio=0.0` with no time would not).
    pub fn parse(text: &str) -> Result<Ratio, String> {
        let value: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("'{text}' is not a ratio (e.g. 1.0)"))?;
        if !value.is_finite() || !(0.0..=1000.0).contains(&value) {
            return Err(format!("'{text}' is not a ratio from 0 to 1000"));
        }
        Ok(Ratio((value * 1000.0).round() as u32))
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 1000.0
    }
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1}", self.as_f64())
    }
}

/// What a torrent item fetches and how long it seeds afterwards. Serialised with the item's
/// options (the window's saved queue).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct TorrentOptions {
    /// The files to fetch, numbered from 1 as aria2's `select-file` and `--show-files` number
    /// them, sorted and without repeats; `None`: all.
    pub select: Option<Vec<usize>>,
    /// Stop seeding at this share ratio (`None`: aria2's default, 1.0).
    pub seed_ratio: Option<Ratio>,
    /// Stop seeding after this long (aria2's `seed-time`, in minutes; zero: end as soon as
    /// the files are verified). With a ratio too, whichever comes first ends it.
    pub seed_time: Option<Duration>,
    /// Trackers to announce to besides the torrent's own (aria2's `bt-tracker`).
    pub trackers: Vec<String>,
    /// Keep a `.torrent` file (a local one, or one a web link sent) as a file instead of
    /// fetching the torrent it describes (aria2's `follow-torrent=false`).
    pub no_follow: bool,
}

/// Reads aria2's `select-file` list: `1,3-5` (numbers from 1). Errors name the bad part.
pub fn parse_select(text: &str) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let number = |t: &str| match t.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(format!(
                "'{part}' is not a file number (from 1) or a range like 3-5"
            )),
        };
        let (from, to) = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(part)?, number(part)?),
        };
        if to < from || to - from > 1_000_000 {
            return Err(format!("'{part}' is not a range from low to high"));
        }
        out.extend(from..=to);
    }
    if out.is_empty() {
        return Err("no file numbers (e.g. 1,3-5)".to_owned());
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// `1,3-5` back from a sorted list (ranges of three or more are written as ranges).
pub fn select_text(select: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < select.len() {
        let mut j = i;
        while j + 1 < select.len() && select[j + 1] == select[j] + 1 {
            j += 1;
        }
        if j >= i + 2 {
            parts.push(format!("{}-{}", select[i], select[j]));
        } else {
            parts.extend(select[i..=j].iter().map(usize::to_string));
        }
        i = j + 1;
    }
    parts.join(",")
}

/// Reads aria2's `seed-time`: minutes, decimals allowed.
pub fn parse_seed_time(text: &str) -> Result<Duration, String> {
    let minutes: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a number of minutes"))?;
    if !minutes.is_finite() || !(0.0..=10_000_000.0).contains(&minutes) {
        return Err(format!("'{text}' is not a number of minutes from 0"));
    }
    Ok(Duration::from_secs_f64(minutes * 60.0))
}

/// A running torrent's swarm, as its row and aria2's `tellStatus` show it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swarm {
    /// Connected peers (seeders among them).
    pub peers: u32,
    /// Connected peers that have every piece (aria2's `numSeeders`).
    pub seeds: u32,
    /// Bytes sent to peers this run (aria2's `uploadLength`).
    pub uploaded: u64,
    /// Upload speed, bytes a second.
    pub up_speed: u64,
    /// Still asking the peers for the torrent's metadata (a magnet link).
    pub metadata: bool,
    /// Every chosen piece is verified: it is seeding now.
    pub seeding: bool,
    /// The torrent's pieces (aria2's `numPieces`) and their length in bytes (`pieceLength`);
    /// 0 while its metadata is not known.
    pub pieces: u32,
    pub piece_length: u32,
    /// Its info hash once known (a web link's torrent is known only once its `.torrent` is
    /// fetched): it names the working folder a cancel deletes.
    pub info_hash: Option<[u8; 20]>,
}

/// One file of a torrent, as its row lists it for choosing
/// ([`Event::TorrentFiles`](super::Event::TorrentFiles)).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TorrentFile {
    /// Its number in `select-file` (from 1, in the torrent's order, as aria2 numbers them).
    pub index: usize,
    /// Its path inside the destination as it is saved (every component sanitised), `/` between
    /// folders: `top/sub/name.ext`, or `name.ext` for a one-file torrent.
    pub path: String,
    pub length: u64,
    /// Its bytes verified so far (aria2's `completedLength` for a file), as the engine last
    /// reported them.
    pub done: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn select_reads_and_writes_aria2_lists() {
        assert_eq!(parse_select("1,3-5"), Ok(vec![1, 3, 4, 5]));
        assert_eq!(parse_select(" 5, 1 ,1"), Ok(vec![1, 5]));
        assert!(parse_select("0").is_err());
        assert!(parse_select("4-2").is_err());
        assert!(parse_select("a").is_err());
        assert!(parse_select("").is_err());
        assert_eq!(select_text(&[1, 3, 4, 5]), "1,3-5");
        assert_eq!(select_text(&[1, 2]), "1,2");
    }

    #[test]
    fn ratios_and_minutes() {
        assert_eq!(Ratio::parse("1.0"), Ok(Ratio::DEFAULT));
        assert_eq!(Ratio::parse("0"), Ok(Ratio(0)));
        assert!(Ratio::parse("-1").is_err());
        assert!(Ratio::parse("x").is_err());
        assert_eq!(parse_seed_time("0"), Ok(Duration::ZERO));
        assert_eq!(parse_seed_time("1.5"), Ok(Duration::from_secs(90)));
        assert!(parse_seed_time("-2").is_err());
    }
}
