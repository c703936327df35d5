//! The option table: every option a person can set — for one item or for the whole engine —
//! as one list of rows, as aria2's option handler table and ripgrep's flag definitions are.
//! Each row says its aria2 name (and aliases), what its value must look like ([`Kind`], with
//! bounds), whether it is per item, global or both ([`Scope`]), where it may be given
//! ([`Places`]: a list line, `haul-cli`, the RPC, the window's options form, the window's
//! settings), the `haul-cli` flag that sets it, and its help.
//!
//! Owns: the rows and the lookup by name. Must not touch: what a value does (the readers in
//! [`super`] turn values into [`crate::protocol`] types), I/O.
//!
//! Defaults live in one place, [`crate::protocol::Limits::default`] and
//! [`crate::protocol::Output::default`]: [`super::global_value`] reads them, so a default is
//! never typed twice (the table's `default` column is computed, not written).

/// Where an option may be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Places(u8);

impl Places {
    /// An indented `name=value` line under a source in a list (aria2's input-file format).
    pub const LIST: Places = Places(1);
    /// A `haul-cli` flag (see [`Spec::cli`]).
    pub const CLI: Places = Places(2);
    /// The RPC: `addUri`'s options and `changeOption` for per-item options,
    /// `changeGlobalOption` for global ones (every global option can be read with
    /// `getGlobalOption`).
    pub const RPC: Places = Places(4);
    /// A field of the window's "Add with options…" / "Edit options…" form.
    pub const FORM: Places = Places(8);
    /// A field of the window's Settings (global) or the row's menu (per item).
    pub const SETTINGS: Places = Places(16);

    /// Both sets of places.
    pub const fn and(self, other: Places) -> Places {
        Places(self.0 | other.0)
    }

    /// Whether `place` is among these.
    pub const fn has(self, place: Places) -> bool {
        self.0 & place.0 == place.0
    }
}

const LIST: Places = Places::LIST;
const CLI: Places = Places::CLI;
const RPC: Places = Places::RPC;
const FORM: Places = Places::FORM;
const SETTINGS: Places = Places::SETTINGS;

/// Whether an option is set for one item, for the whole engine, or both (aria2's `split` is
/// both: a global default and an item's own number).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Item,
    Global,
    Both,
}

impl Scope {
    pub fn item(self) -> bool {
        matches!(self, Scope::Item | Scope::Both)
    }

    pub fn global(self) -> bool {
        matches!(self, Scope::Global | Scope::Both)
    }
}

/// What a value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A file name (no folders), sanitised as a server's name would be.
    FileName,
    /// A folder: per item, relative and inside the destination; globally, the destination.
    Folder,
    /// `Name: value`; repeatable (each value adds one).
    Header,
    /// One line of text (no control characters).
    Text,
    /// One line of text that is a secret: never shown in logs or `getOption`.
    Secret,
    /// `sha-256=HEX` (also `sha256=HEX`, `sha256:HEX`): the SHA-256 the file must have.
    Checksum,
    /// A whole number from `min` to `max`.
    Count { min: u64, max: u64 },
    /// Bytes a second, as people type sizes (`500K`, `2M`; 1024-based); 0: no limit.
    Rate,
    /// Bytes, as people type sizes (`8M`); 0: none, where the option allows none.
    Size,
    /// Seconds, decimals allowed; 0: none, where the option allows none.
    Seconds,
    /// `true` or `false`.
    Switch,
    /// A file to read (a path; see [`super`] for where a relative one is taken from).
    File,
    /// A certificate's SHA-256 fingerprint: 64 hex digits, colons allowed (`AB:CD:…`).
    Fingerprint,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// aria2's name (Haul's own where aria2 has none: then curl's, as `max-filesize`).
    pub name: &'static str,
    /// Other names read as this one.
    pub aliases: &'static [&'static str],
    pub scope: Scope,
    pub kind: Kind,
    pub places: Places,
    /// The `haul-cli` flag(s) that set it, as `--help` shows them (curl's names where curl
    /// has the option).
    pub cli: Option<&'static str>,
    /// One sentence for people (the README's table and `--help` agree with it).
    pub help: &'static str,
}

/// The most connections one item may ask for (aria2's bound for `split` is 16 too… per
/// server; Haul's per-host cap holds it below this).
pub const SPLIT_MAX: u64 = 16;
/// The most items at once the settings allow.
pub const JOBS_MAX: u64 = 256;
/// The most extra tries.
pub const RETRIES_MAX: u64 = 20;

/// Every option, per item first, in the order people meet them.
pub const OPTIONS: &[Spec] = &[
    Spec {
        name: "out",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::FileName,
        places: LIST.and(CLI).and(RPC).and(FORM),
        cli: Some("--out NAME"),
        help: "The file's name (sanitised as a server's would be).",
    },
    Spec {
        name: "dir",
        aliases: &[],
        scope: Scope::Both,
        kind: Kind::Folder,
        places: LIST.and(CLI).and(RPC).and(FORM).and(SETTINGS),
        cli: Some("-o, --dest DIR"),
        help: "Per item: a folder inside the destination (never outside it). Globally: the \
               destination (the RPC can read it, not change it).",
    },
    Spec {
        name: "header",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Header,
        places: LIST.and(CLI).and(RPC).and(FORM),
        cli: Some("-H, --header 'NAME: VALUE'"),
        help: "One more request header (repeatable); Authorization and Cookie headers are not \
               sent on to another host.",
    },
    Spec {
        name: "referer",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Text,
        places: LIST.and(CLI).and(RPC).and(FORM),
        cli: Some("-e, --referer URL"),
        help: "The Referer sent.",
    },
    Spec {
        name: "user-agent",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Text,
        places: LIST.and(CLI).and(RPC).and(FORM),
        cli: Some("-A, --user-agent UA"),
        help: "The User-Agent sent instead of haul/VERSION.",
    },
    Spec {
        name: "http-user",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Text,
        places: LIST.and(CLI).and(RPC).and(FORM),
        cli: Some("-u, --user USER:PASS"),
        help: "The user for HTTP Basic (sent only to the source's own host).",
    },
    Spec {
        name: "http-passwd",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Secret,
        places: LIST.and(CLI).and(RPC).and(FORM),
        cli: Some("-u, --user USER:PASS"),
        help: "The password for HTTP Basic (needs http-user).",
    },
    Spec {
        name: "load-cookies",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::File,
        places: LIST.and(CLI).and(RPC).and(FORM),
        cli: Some("-b, --cookie FILE"),
        help: "A Netscape cookies file (cookies.txt); only cookies that match each request are \
               sent. Over the RPC, only a file inside the destination.",
    },
    Spec {
        name: "check-certificate",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Switch,
        places: LIST.and(CLI).and(RPC),
        cli: Some("-k, --insecure (false), --check-certificate BOOL"),
        help: "Whether a server's certificate must be vouched for by a trusted authority \
               (false: any certificate is accepted: encrypted, but the server unproven).",
    },
    Spec {
        name: "ca-certificate",
        aliases: &["cacert"],
        scope: Scope::Item,
        kind: Kind::File,
        places: LIST.and(CLI).and(RPC),
        cli: Some("--cacert FILE, --ca-certificate FILE"),
        help: "Certificate authorities in a PEM file, trusted besides the system's (a private \
               authority, or a self-signed server's own certificate). Over the RPC, only a \
               file inside the destination.",
    },
    Spec {
        name: "trust-certificate",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Fingerprint,
        places: LIST.and(CLI).and(RPC),
        cli: Some("--trust-certificate SHA256"),
        help: "Trust exactly the certificate with this SHA-256 fingerprint (AB:CD:…, as a \
               refusal names it), whoever signed it; any other certificate is still checked.",
    },
    Spec {
        name: "checksum",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Checksum,
        places: LIST.and(CLI).and(RPC).and(FORM),
        cli: Some("--checksum sha-256=HEX"),
        help: "The SHA-256 the file must have; it keeps its .part name until it does.",
    },
    Spec {
        name: "select-file",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Text,
        places: LIST.and(CLI).and(RPC),
        cli: Some("--select-file LIST"),
        help: "A torrent's files to fetch, numbered from 1 as --show-files lists them \
               (1,3-5); the others are not written.",
    },
    Spec {
        name: "seed-ratio",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Text,
        places: LIST.and(CLI).and(RPC),
        cli: Some("--seed-ratio RATIO"),
        help: "A finished torrent seeds until it has sent this many times its size (1.0 \
               unless given; 0: no ratio).",
    },
    Spec {
        name: "seed-time",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Text,
        places: LIST.and(CLI).and(RPC),
        cli: Some("--seed-time MINUTES"),
        help: "A finished torrent seeds for at most this many minutes (0: it ends as soon \
               as its files are verified); with a ratio, whichever comes first.",
    },
    Spec {
        name: "bt-tracker",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Text,
        places: LIST.and(CLI).and(RPC),
        cli: Some("--bt-tracker URL,…"),
        help: "Trackers a torrent announces to besides its own (comma-separated).",
    },
    Spec {
        name: "follow-torrent",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Switch,
        places: LIST.and(CLI).and(RPC),
        cli: Some("--follow-torrent BOOL"),
        help: "A .torrent file (given, or sent by a web link) is fetched as its torrent; \
               false keeps the .torrent file itself.",
    },
    Spec {
        name: "split",
        aliases: &[],
        scope: Scope::Both,
        kind: Kind::Count {
            min: 1,
            max: SPLIT_MAX,
        },
        places: LIST.and(CLI).and(RPC).and(FORM).and(SETTINGS),
        cli: Some("-s, --split N"),
        help: "Connections per file when its server honours ranges (never more than \
               max-connection-per-server; 1 turns splitting off).",
    },
    Spec {
        name: "quality",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Text,
        places: LIST.and(CLI).and(RPC),
        cli: Some("--quality best|worst|720p|BANDWIDTH"),
        help: "A video stream's variant when its playlist offers several: the best (the \
               default), the worst, the tallest picture up to a height (720p), or the highest \
               bit rate up to this many bits/s.",
    },
    Spec {
        name: "sub-langs",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Text,
        places: LIST.and(CLI).and(RPC),
        cli: Some("--sub-langs LANG,…|all"),
        help: "A video stream's subtitles to fetch beside it, as NAME.LANG.vtt: these \
               languages (en also takes en-US), or all; none by default. WebVTT: HLS \
               renditions, DASH text adaptation sets.",
    },
    Spec {
        name: "duration",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Seconds,
        places: LIST.and(CLI).and(RPC),
        cli: Some("--duration SECS"),
        help: "How long to record a live stream, in seconds; without it, until it is stopped \
               (then what was recorded is saved) or the stream ends.",
    },
    Spec {
        name: "max-download-limit",
        aliases: &[],
        scope: Scope::Item,
        kind: Kind::Rate,
        places: LIST.and(RPC).and(FORM).and(SETTINGS),
        cli: None,
        help: "This item's own speed limit in bytes a second (500K, 2M; 0: none); the overall \
               limit still holds. Changes at once, also while it runs.",
    },
    Spec {
        name: "max-concurrent-downloads",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Count {
            min: 1,
            max: JOBS_MAX,
        },
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("-j, --jobs N"),
        help: "Items running at once.",
    },
    Spec {
        name: "max-connection-per-server",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Count {
            min: 1,
            max: SPLIT_MAX,
        },
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--per-host N"),
        help: "Connections at once to one host (a split file uses one per part).",
    },
    Spec {
        name: "min-split-size",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Size,
        places: CLI.and(RPC),
        cli: Some("--min-split-size SIZE"),
        help: "A file is split only when it is at least twice this size.",
    },
    Spec {
        name: "max-overall-download-limit",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Rate,
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--limit-rate RATE"),
        help: "The speed of all items together in bytes a second (500K, 2M; 0: none).",
    },
    Spec {
        name: "connect-timeout",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Seconds,
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--connect-timeout SECS"),
        help: "Seconds allowed to open a connection.",
    },
    Spec {
        name: "timeout",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Seconds,
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--stall-timeout SECS"),
        help: "Seconds without a byte before an attempt fails (aria2's timeout).",
    },
    Spec {
        name: "max-time",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Seconds,
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--timeout SECS"),
        help: "Seconds one item may take in all, from leaving the queue (curl's --max-time; \
               0: no limit).",
    },
    Spec {
        name: "max-tries",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Count {
            min: 1,
            max: RETRIES_MAX + 1,
        },
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--retries N (N + 1 tries)"),
        help: "Tries in all after failures worth retrying (connect errors, resets, stalls, \
               short bodies, 5xx, 408, 429); each resumes from the bytes written.",
    },
    Spec {
        name: "retry-wait",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Seconds,
        places: RPC,
        cli: None,
        help: "Seconds before the first retry (each next one waits about twice as long).",
    },
    Spec {
        name: "max-filesize",
        aliases: &["max-file-size"],
        scope: Scope::Global,
        kind: Kind::Size,
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--max-size SIZE"),
        help: "Items larger than this fail before their bytes are written (curl's \
               --max-filesize; 0: no limit).",
    },
    Spec {
        name: "allow-overwrite",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Switch,
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--overwrite"),
        help: "Replace a file of the same name instead of naming the new one 'name (1).ext'.",
    },
    Spec {
        name: "skip-existing",
        aliases: &["no-clobber"],
        scope: Scope::Global,
        kind: Kind::Switch,
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--skip-existing, --no-clobber, --no-skip-existing (false)"),
        help: "Skip a source whose file is already there and complete (its size, and its \
               checksum when one is given). On by default in haul-cli, so the same command \
               run again finishes a batch without copies; off by default in the window and \
               the RPC.",
    },
    Spec {
        name: "content-disposition",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Switch,
        places: CLI.and(RPC),
        cli: Some("--no-content-disposition (false)"),
        help: "Name files from the server's Content-Disposition when it gives one.",
    },
    Spec {
        name: "max-overall-upload-limit",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Rate,
        places: CLI.and(RPC),
        cli: Some("--max-overall-upload-limit RATE"),
        help: "What torrents send to peers, all together, in bytes a second (500K; 0: none).",
    },
    Spec {
        name: "listen-port",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Count { min: 0, max: 65535 },
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--listen-port PORT"),
        help: "The port BitTorrent peers connect to (0: any free port). Taken when the first \
               torrent starts.",
    },
    Spec {
        name: "enable-dht",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Switch,
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--enable-dht BOOL"),
        help: "Find BitTorrent peers through the DHT as well as trackers and peer hints. Taken \
               when the first torrent starts.",
    },
    Spec {
        name: "bt-enable-trackers",
        aliases: &[],
        scope: Scope::Global,
        kind: Kind::Switch,
        places: CLI.and(RPC).and(SETTINGS),
        cli: Some("--bt-enable-trackers BOOL"),
        help: "Ask trackers (a torrent's own and --bt-tracker's) for BitTorrent peers; false: \
               peers only from the DHT and a magnet's peer hints. Taken when the first \
               torrent starts. (aria2 has no such switch; there is no switch for peer \
               exchange, which is always on.)",
    },
];

/// The row for `name` or one of its aliases.
pub fn spec(name: &str) -> Option<&'static Spec> {
    OPTIONS
        .iter()
        .find(|s| s.name == name || s.aliases.contains(&name))
}

/// The per-item options, in table order.
pub fn item_options() -> impl Iterator<Item = &'static Spec> {
    OPTIONS.iter().filter(|s| s.scope.item())
}

/// The global options, in table order.
pub fn global_options() -> impl Iterator<Item = &'static Spec> {
    OPTIONS.iter().filter(|s| s.scope.global())
}
