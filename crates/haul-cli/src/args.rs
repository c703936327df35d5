//! `haul-cli`'s flags, parsed once into the batch's whole configuration (ripgrep's low-level →
//! high-level args are the model): the sources with their checksums, the engine's
//! [`EngineConfig`] (every default from [`Limits::default`] and [`Output::default`]), and how
//! to report.
//!
//! Owns: the flag names (curl's and wget's where they exist), their value parsers and help,
//! reading `-i` lists (and a `SHA256SUMS` beside each), and usage errors.
//! Must not touch: the engine's run, the terminal beyond reading stdin for `-i -`.

use std::ffi::OsString;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use clap::Parser;
use haul_core::names::legacy_charset_for_locale;
use haul_core::protocol::{Checksum, Limits, Output};
use haul_core::sources::{self, Entry};
use haul_engine::EngineConfig;

use crate::request::RequestArgs;
use crate::torrent::TorrentArgs;

/// Fetch many files and URLs at once.
#[derive(Debug, Parser)]
#[command(name = "haul-cli", version = haul_core::version::LONG, about)]
pub struct Args {
    /// URLs (http, https, ftp, ftps, magnet, file) or local paths (a .torrent file is
    /// fetched as the torrent it describes).
    #[arg(value_name = "SOURCES")]
    sources: Vec<OsString>,
    /// Read more sources from FILE, one per line ('-' = stdin); blank lines and '#' comments skipped.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    input: Vec<PathBuf>,
    /// Destination folder (default: current directory; created if missing).
    #[arg(short = 'o', long = "dest", value_name = "DIR")]
    dest: Option<PathBuf>,
    /// Max items at once.
    #[arg(short = 'j', long = "jobs", value_name = "N", default_value_t = Limits::default().jobs,
          value_parser = at_least_one)]
    jobs: usize,
    /// Max connections at once per host (a split file uses one per part).
    #[arg(long = "per-host", value_name = "N", default_value_t = Limits::default().per_host,
          value_parser = at_least_one)]
    per_host: usize,
    /// Connections per file, when its server honours ranges (never more than --per-host;
    /// 1 turns splitting off).
    #[arg(short = 's', long = "split", value_name = "N", default_value_t = Limits::default().split,
          value_parser = at_least_one)]
    split: usize,
    /// Split only files of at least twice SIZE (K, M, G suffixes, 1024-based).
    #[arg(long = "min-split-size", value_name = "SIZE",
          default_value_t = Size(Limits::default().min_split_size))]
    min_split_size: Size,
    /// Connect timeout in seconds (decimals allowed, e.g. 0.5).
    #[arg(long = "connect-timeout", value_name = "SECS",
          default_value_t = Secs(Limits::default().connect_timeout))]
    connect_timeout: Secs,
    /// Fail an item when no byte arrives for this many seconds.
    #[arg(long = "stall-timeout", value_name = "SECS",
          default_value_t = Secs(Limits::default().stall_timeout))]
    stall_timeout: Secs,
    /// Whole-item deadline in seconds (default: none).
    #[arg(long = "timeout", value_name = "SECS")]
    timeout: Option<Secs>,
    /// Extra tries after a failure worth retrying (connect errors, resets, stalls, short
    /// bodies, 5xx, 408, 429); each resumes from the bytes already written.
    #[arg(long = "retries", value_name = "N", default_value_t = Limits::default().retries)]
    retries: u32,
    /// The SHA-256 the (single) source must have: sha-256=HEX (aria2's spelling) or sha256:HEX.
    /// Lists take `URL#sha256=HEX`, a `checksum=` option line, or a SHA256SUMS file beside it.
    #[arg(long = "checksum", value_name = "sha-256=HEX", value_parser = checksum)]
    checksum: Option<Checksum>,
    /// Fail items larger than SIZE (bytes, or with K, M, G suffix: 1024-based).
    #[arg(long = "max-size", value_name = "SIZE", value_parser = size)]
    max_size: Option<u64>,
    /// Limit the download speed of all items together to RATE bytes per second (K, M, G
    /// suffixes, 1024-based, as curl reads them), e.g. 500K or 2M.
    #[arg(long = "limit-rate", value_name = "RATE", value_parser = size)]
    limit_rate: Option<u64>,
    /// Replace existing files instead of picking a new name (and instead of skipping
    /// complete ones).
    #[arg(long, conflicts_with = "skip_existing")]
    overwrite: bool,
    /// Skip a source whose file is already there and complete (the size the server reports,
    /// and the checksum when one is given): the default, so running the same command again
    /// (after Ctrl+C, a crash or kill -9) resumes what is partial, skips what is done, and
    /// makes no 'name (1).ext' copies. A file of another size is kept and the new one gets a
    /// new name.
    #[arg(long = "skip-existing", visible_alias = "no-clobber")]
    skip_existing: bool,
    /// Fetch a source again even when its file is already there and complete, under a new
    /// name ('name (1).ext').
    #[arg(long = "no-skip-existing", conflicts_with = "skip_existing")]
    no_skip_existing: bool,
    /// Name files from the URL only.
    #[arg(long = "no-content-disposition")]
    no_content_disposition: bool,
    /// One JSON object per finished item on stdout, then one summary line.
    #[arg(long)]
    json: bool,
    /// No progress display.
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    request: RequestArgs,
    #[command(flatten)]
    torrent: TorrentArgs,
    /// Serve aria2's JSON-RPC at http://127.0.0.1:PORT/jsonrpc until Ctrl+C, so browser
    /// extensions, AriaNg and aria2p can add downloads (into -o DIR).
    #[arg(long = "enable-rpc")]
    enable_rpc: bool,
    /// The RPC's port.
    #[arg(long = "rpc-listen-port", value_name = "PORT", default_value_t = haul_rpc::DEFAULT_PORT)]
    rpc_listen_port: u16,
    /// The secret every RPC call must give (as token:SECRET); without it one is made and
    /// printed at start.
    #[arg(long = "rpc-secret", value_name = "SECRET")]
    rpc_secret: Option<String>,
    /// Listen on every interface, not only 127.0.0.1 (a phone, another computer): then the
    /// secret is the only key.
    #[arg(long = "rpc-listen-all")]
    rpc_listen_all: bool,
    /// Let any web page's origin call the RPC (extensions are always let in).
    #[arg(long = "rpc-allow-origin-all")]
    rpc_allow_origin_all: bool,
    /// Let this web page's origin call the RPC (repeatable), e.g. https://ariang.example.
    #[arg(long = "rpc-allow-origin", value_name = "ORIGIN")]
    rpc_allow_origin: Vec<String>,
    /// Let the browsers found (Chrome, Chromium, Edge, Brave, Vivaldi, Firefox) start Haul's
    /// browser host for Haul's extension, then exit: writes each one's host manifest (and on
    /// Windows its registry key) for this user, and says what it wrote.
    #[arg(
        long = "install-browser-host",
        conflicts_with = "uninstall_browser_host"
    )]
    install_browser_host: bool,
    /// Remove what --install-browser-host wrote, then exit.
    #[arg(long = "uninstall-browser-host")]
    uninstall_browser_host: bool,
}

/// `--install-browser-host` or `--uninstall-browser-host`: instead of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserHost {
    Install,
    Uninstall,
}

/// Everything a batch needs, built once from the flags.
pub struct Config {
    /// In the order given: arguments, then each list's lines.
    pub entries: Vec<Entry>,
    pub engine: EngineConfig,
    /// `--json`: one line per item, then the summary.
    pub json: bool,
    /// No live progress (`--quiet`, and always with `--json`).
    pub quiet: bool,
    /// `--enable-rpc`: serve aria2's JSON-RPC instead of running a batch.
    pub rpc: Option<haul_rpc::RpcConfig>,
    /// `--show-files`: the torrents' file lists, printed instead of fetching.
    pub listing: Option<String>,
}

impl Args {
    /// The browser host's install or removal, when asked for instead of a batch.
    pub fn browser_host(&self) -> Option<BrowserHost> {
        if self.install_browser_host {
            Some(BrowserHost::Install)
        } else if self.uninstall_browser_host {
            Some(BrowserHost::Uninstall)
        } else {
            None
        }
    }

    /// The batch's configuration; relative paths (sources, lists, `-o`) are taken from
    /// `base`. Errors are usage errors, in words for the person who typed the command.
    pub fn into_config(self, base: &Path) -> Result<Config, String> {
        let rpc = self.rpc_config()?;
        let texts = self
            .sources
            .into_iter()
            .map(|arg| sources::arg_text(arg, base))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|arg| format!("'{arg}' is not Unicode and cannot be read as a path"))?;
        let mut entries = sources::from_args(&texts, base);
        for input in &self.input {
            entries.extend(read_list(input, base)?);
        }
        if entries.is_empty() && rpc.is_none() {
            return Err("no sources given".to_owned());
        }
        if let Some(checksum) = self.checksum {
            match entries.as_mut_slice() {
                [only] => only.checksum = Some(checksum),
                _ => {
                    return Err("--checksum needs exactly one source (lists take \
                                URL#sha256=HEX or a SHA256SUMS file)"
                        .to_owned());
                }
            }
        }
        self.request.apply(&mut entries, base)?;
        self.torrent.apply(&mut entries)?;
        let listing = if self.torrent.show_files {
            Some(crate::torrent::show_files(&entries)?)
        } else {
            None
        };
        let proxy = self.request.proxy()?;
        let mut limits = Limits {
            jobs: self.jobs,
            per_host: self.per_host,
            connect_timeout: self.connect_timeout.0,
            stall_timeout: self.stall_timeout.0,
            deadline: self.timeout.map(|t| t.0),
            retries: self.retries,
            max_size: self.max_size,
            max_rate: self.limit_rate,
            split: self.split,
            min_split_size: self.min_split_size.0,
            ..Limits::default()
        };
        self.torrent.limits(&mut limits);
        let output = Output {
            dest: self
                .dest
                .map_or_else(|| base.to_path_buf(), |dir| base.join(dir)),
            overwrite: self.overwrite,
            // haul-cli's default for a batch (the window's and the RPC's, `--enable-rpc`
            // included, is aria2's, off): a batch is made to be run again until it is done.
            skip_existing: self.skip_existing
                || (!self.enable_rpc && !self.no_skip_existing && !self.overwrite),
            content_disposition: !self.no_content_disposition,
            // Name bytes that are not UTF-8 are read as a browser in this locale reads them.
            legacy_charset: posix_locale()
                .as_deref()
                .and_then(legacy_charset_for_locale)
                .map(str::to_owned),
        };
        Ok(Config {
            entries,
            engine: EngineConfig {
                limits,
                output,
                proxy,
                host_pins: Vec::new(),
                waker: None,
            },
            json: self.json,
            quiet: self.quiet || self.json,
            rpc,
            listing,
        })
    }

    /// The RPC server's settings with `--enable-rpc` (a secret made when none is given).
    fn rpc_config(&self) -> Result<Option<haul_rpc::RpcConfig>, String> {
        if !self.enable_rpc {
            return Ok(None);
        }
        let secret = match &self.rpc_secret {
            Some(secret) if secret.is_empty() => {
                return Err("--rpc-secret must not be empty".to_owned());
            }
            Some(secret) => secret.clone(),
            None => haul_rpc::generated_secret()
                .map_err(|e| format!("cannot make an RPC secret: {e}"))?,
        };
        Ok(Some(haul_rpc::RpcConfig {
            port: self.rpc_listen_port,
            secret,
            listen_all: self.rpc_listen_all,
            allow_origins: self.rpc_allow_origin.clone(),
            allow_origin_all: self.rpc_allow_origin_all,
        }))
    }
}

/// The locale of the environment, as POSIX programs read it: `LC_ALL`, else `LC_CTYPE`, else
/// `LANG` (the first that is set and not empty).
fn posix_locale() -> Option<String> {
    ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
}

/// One `-i` list ('-' is stdin), with the checksums of a `SHA256SUMS` file beside it.
fn read_list(input: &Path, base: &Path) -> Result<Vec<Entry>, String> {
    if input.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        let legacy = posix_locale()
            .as_deref()
            .and_then(legacy_charset_for_locale);
        let text =
            sources::decode_text(&bytes, legacy).map_err(|e| format!("cannot read stdin: {e}"))?;
        return Ok(sources::from_list(&text, "stdin", base));
    }
    let bytes =
        std::fs::read(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let legacy = posix_locale()
        .as_deref()
        .and_then(legacy_charset_for_locale);
    let text = sources::decode_text(&bytes, legacy)
        .map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    let mut listed = sources::from_list(&text, &input.display().to_string(), base);
    let sums_path = base
        .join(input)
        .parent()
        .map(|dir| dir.join(sources::SUMS_FILE));
    if let Some(sums_path) = sums_path
        && let Ok(bytes) = std::fs::read(&sums_path)
        && let Ok(sums) = sources::decode_text(&bytes, None)
    {
        let applied = sources::apply_sums(&mut listed, &sources::parse_sums(&sums));
        tracing::info!(applied, file = %sums_path.display(), "checksums from SHA256SUMS");
    }
    Ok(listed)
}

/// A count of at least one.
fn at_least_one(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!("'{text}' is not a number of at least 1")),
    }
}

fn checksum(text: &str) -> Result<Checksum, String> {
    Checksum::parse_tagged(text.trim()).map_err(|e| e.to_string())
}

/// `1500`, `64K`, `1.5M`, `2G` (1024-based).
fn size(text: &str) -> Result<u64, String> {
    haul_core::human::parse_size(text)
}

/// A positive number of seconds, decimals allowed; shown as clap's default as the seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Secs(Duration);

impl FromStr for Secs {
    type Err = String;

    fn from_str(text: &str) -> Result<Secs, String> {
        let value: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("'{text}' is not a number of seconds"))?;
        if !value.is_finite() || value <= 0.0 {
            return Err(format!("'{text}' must be a positive number of seconds"));
        }
        Duration::try_from_secs_f64(value)
            .map(Secs)
            .map_err(|e| e.to_string())
    }
}

impl fmt::Display for Secs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

/// A size as people type it (`8M`), shown as clap's default the same way: the default is
/// the engine's ([`Limits::default`]), not a second copy of it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Size(u64);

impl FromStr for Size {
    type Err = String;

    fn from_str(text: &str) -> Result<Size, String> {
        size(text).map(Size)
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&haul_core::human::size_for_field(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(words: &[&str]) -> Result<Config, String> {
        let args = Args::try_parse_from(std::iter::once("haul-cli").chain(words.iter().copied()))
            .map_err(|e| e.to_string())?;
        args.into_config(Path::new("/base"))
    }

    /// The option table says which flag sets each option (`cli`): every flag it names exists,
    /// and every flag that sets an option is in the table (the others are listed here: they
    /// are about the run, not about what is fetched or how).
    #[test]
    fn the_option_tables_flags_are_the_clis() {
        use clap::CommandFactory as _;
        let command = Args::command();
        let longs: Vec<String> = command
            .get_arguments()
            .flat_map(|a| {
                a.get_long_and_visible_aliases()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|l| format!("--{l}"))
            })
            .collect();
        let mut in_table = Vec::new();
        for spec in haul_core::options::OPTIONS {
            let Some(cli) = spec.cli else { continue };
            let flags: Vec<&str> = cli
                .split([',', ' '])
                .filter(|w| w.starts_with("--"))
                .collect();
            assert!(
                !flags.is_empty(),
                "{}: '{cli}' names no long flag",
                spec.name
            );
            for flag in flags {
                assert!(
                    longs.iter().any(|l| l == flag),
                    "{}: {flag} is not a flag",
                    spec.name
                );
                in_table.push(flag.to_owned());
            }
        }
        let about_the_run = [
            "--input",
            "--json",
            "--quiet",
            "--netrc",
            "--netrc-file",
            "--proxy",
            "--noproxy",
            "--enable-rpc",
            "--rpc-listen-port",
            "--rpc-secret",
            "--rpc-listen-all",
            "--rpc-allow-origin-all",
            "--rpc-allow-origin",
            "--install-browser-host",
            "--uninstall-browser-host",
            "--show-files",
            "--help",
            "--version",
        ];
        for long in &longs {
            assert!(
                in_table.contains(long) || about_the_run.contains(&long.as_str()),
                "{long} sets something the option table does not list"
            );
        }
    }

    #[test]
    fn defaults_are_the_engines() -> Result<(), String> {
        let config = config(&["http://h/a"])?;
        assert_eq!(config.engine.limits, Limits::default());
        assert_eq!(config.engine.output.dest, PathBuf::from("/base"));
        assert!(config.engine.output.content_disposition && !config.engine.output.overwrite);
        assert!(!config.json && !config.quiet);
        Ok(())
    }

    #[test]
    fn flags_reach_the_engine_config() -> Result<(), String> {
        let config = config(&[
            "-j",
            "3",
            "--per-host",
            "2",
            "--connect-timeout",
            "0.5",
            "--timeout",
            "9",
            "--retries",
            "0",
            "--max-size",
            "1.5M",
            "--limit-rate",
            "2M",
            "-s",
            "8",
            "--min-split-size",
            "1M",
            "-o",
            "out",
            "--json",
            "http://h/a",
        ])?;
        let limits = config.engine.limits;
        assert_eq!((limits.jobs, limits.per_host, limits.retries), (3, 2, 0));
        assert_eq!(limits.connect_timeout, Duration::from_millis(500));
        assert_eq!(limits.deadline, Some(Duration::from_secs(9)));
        assert_eq!(limits.max_size, Some(1_572_864));
        assert_eq!(limits.max_rate, Some(2 * 1024 * 1024));
        assert_eq!((limits.split, limits.min_split_size), (8, 1024 * 1024));
        assert_eq!(config.engine.output.dest, PathBuf::from("/base/out"));
        assert!(
            config.json && config.quiet,
            "--json implies no live display"
        );
        Ok(())
    }

    #[test]
    fn bad_values_are_usage_errors() {
        for words in [
            &["-j", "0", "x"][..],
            &["--stall-timeout", "-1", "x"],
            &["--max-size", "lots", "x"],
            &["--checksum", "md5:00", "x"],
            &[],
            &[
                "--checksum",
                &format!("sha256:{}", "0".repeat(64)),
                "a",
                "b",
            ],
        ] {
            assert!(config(words).is_err(), "{words:?}");
        }
    }
}
