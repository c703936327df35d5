//! `haul-cli`'s request flags, with curl's names: `-H`, `-e`, `-A`, `-b`, `-u`, `--netrc`,
//! `--netrc-file`, `-x/--proxy`, `--noproxy`, aria2's `--out`, and `--quality` and
//! `--sub-langs` (yt-dlp's name) for video streams. They apply to every source; a list's own
//! option lines (aria2's input-file format) go over them, item by item.
//!
//! Owns: these flags, reading the cookies and `.netrc` files they name, and merging them with
//! each entry's options. Must not touch: the engine's run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use haul_core::netrc::Netrc;
use haul_core::options::{Given, Place};
use haul_core::protocol::{Cookies, Credentials, Header, ManualProxy, ProxyChoice, Source};
use haul_core::sources::Entry;

/// Request options for every source.
#[derive(Debug, Default, clap::Args)]
pub struct RequestArgs {
    /// Send this header with every request, 'Name: value' (repeatable). Authorization and
    /// Cookie headers are not sent on to another host after a redirect.
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'", value_parser = header)]
    headers: Vec<Header>,
    /// Send this Referer.
    #[arg(short = 'e', long = "referer", value_name = "URL")]
    referer: Option<String>,
    /// Send this User-Agent instead of haul/VERSION.
    #[arg(short = 'A', long = "user-agent", value_name = "UA")]
    user_agent: Option<String>,
    /// Cookies from FILE (Netscape cookies.txt, as browser extensions export it; only cookies
    /// whose domain, path, secure flag and expiry match are sent), or 'NAME=VALUE; …' sent as is
    /// to the first host.
    #[arg(short = 'b', long = "cookie", value_name = "FILE|DATA")]
    cookie: Option<String>,
    /// HTTP Basic user and password, USER:PASS (sent only to the source's own host).
    #[arg(short = 'u', long = "user", value_name = "USER:PASS")]
    user: Option<String>,
    /// Take user and password from ~/.netrc (it must not be readable by others).
    #[arg(long = "netrc")]
    netrc: bool,
    /// Take user and password from FILE, in .netrc format.
    #[arg(long = "netrc-file", value_name = "FILE")]
    netrc_file: Option<PathBuf>,
    /// Name the file of the (single) source NAME (-o is the destination folder).
    #[arg(long = "out", value_name = "NAME")]
    out: Option<String>,
    /// A video stream's variant when its playlist offers several: best (the default), worst,
    /// the tallest picture up to a height (720p), or the highest bit rate up to BANDWIDTH
    /// bits/s.
    #[arg(long = "quality", value_name = "best|worst|720p|BANDWIDTH")]
    quality: Option<String>,
    /// A video stream's subtitles to fetch beside it, as NAME.LANG.vtt: these languages,
    /// comma-separated (en also takes en-US), or all; none by default.
    #[arg(long = "sub-langs", value_name = "LANG,…|all")]
    sub_langs: Option<String>,
    /// Record a live stream for SECS seconds (without it: until Ctrl+C, which saves what was
    /// recorded, or until the stream ends).
    #[arg(long = "duration", value_name = "SECS")]
    duration: Option<String>,
    /// Use this proxy: http://, https://, socks5h:// (names resolved by the proxy),
    /// socks5://, socks4:// or socks4a://, with user:password@ if it needs them; a bare
    /// HOST[:PORT] is an HTTP proxy. Default: the environment's (HTTP_PROXY, HTTPS_PROXY,
    /// ALL_PROXY, NO_PROXY).
    #[arg(short = 'x', long = "proxy", value_name = "URL")]
    proxy: Option<String>,
    /// Hosts reached without the proxy, comma-separated ('*': no proxy at all, also none
    /// from the environment).
    #[arg(long = "noproxy", value_name = "LIST")]
    noproxy: Option<String>,
    /// Accept any server certificate: the connection is encrypted, but the server unproven.
    #[arg(short = 'k', long = "insecure")]
    insecure: bool,
    /// aria2's spelling of -k: --check-certificate=false accepts any certificate.
    #[arg(long = "check-certificate", value_name = "BOOL", num_args = 0..=1,
          default_missing_value = "true", require_equals = true,
          value_parser = clap::builder::BoolishValueParser::new())]
    check_certificate: Option<bool>,
    /// Trust the certificate authorities in FILE (PEM) besides the system's: a private
    /// authority, or a self-signed server's own certificate.
    #[arg(long = "cacert", visible_alias = "ca-certificate", value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Trust exactly the certificate with this SHA-256 fingerprint (AB:CD:…, as a refusal
    /// names it), whoever signed it (repeatable).
    #[arg(long = "trust-certificate", value_name = "SHA256")]
    trust_certificate: Vec<String>,
}

fn header(text: &str) -> Result<Header, String> {
    Header::parse(text).map_err(|e| e.to_string())
}

impl RequestArgs {
    /// The proxy the flags choose. Errors (usage): a `-x` value that is not a proxy (`-x8`
    /// points to `--split`), `--noproxy LIST` without `-x` (other than `*`).
    pub fn proxy(&self) -> Result<ProxyChoice, String> {
        let noproxy = self.noproxy.as_deref().unwrap_or("");
        match (&self.proxy, noproxy.trim()) {
            (Some(url), list) => ManualProxy::parse(url, list)
                .map(ProxyChoice::Manual)
                .map_err(|e| format!("-x/--proxy: {e}")),
            (None, "*") => Ok(ProxyChoice::None),
            (None, "") => Ok(ProxyChoice::System),
            (None, _) => Err(
                "--noproxy LIST applies to the -x proxy; for the environment's \
                              proxy set NO_PROXY, or give --noproxy '*' to use none"
                    .to_owned(),
            ),
        }
    }

    /// Gives every entry these options under its own (a list's option lines win; headers
    /// add up), reading the cookies files named (`base` for relative paths) and the `.netrc`.
    /// Errors (usage): `--out` with more than one source, a cookies file or `.netrc` that
    /// cannot be read. A list line's own cookies file that cannot be read fails that item.
    pub fn apply(&self, entries: &mut [Entry], base: &Path) -> Result<(), String> {
        if self.out.is_some() && entries.len() != 1 {
            return Err(
                "--out names the file of exactly one source; a list names each \
                        file with an indented out=NAME line under its URL"
                    .to_owned(),
            );
        }
        let mut flags = Given::default();
        let request = &mut flags.options.request;
        request.headers.clone_from(&self.headers);
        request.referer.clone_from(&self.referer);
        request.user_agent.clone_from(&self.user_agent);
        request.credentials = self.user.as_deref().map(Credentials::parse);
        if let Some(out) = &self.out {
            flags.set("out", out).map_err(|e| format!("--out: {e}"))?;
        }
        if let Some(quality) = &self.quality {
            flags
                .set("quality", quality)
                .map_err(|e| format!("--quality: {e}"))?;
        }
        if let Some(langs) = &self.sub_langs {
            flags
                .set("sub-langs", langs)
                .map_err(|e| format!("--sub-langs: {e}"))?;
        }
        if let Some(duration) = &self.duration {
            flags
                .set("duration", duration)
                .map_err(|e| format!("--duration: {e}"))?;
        }
        if self.insecure || self.check_certificate == Some(false) {
            flags
                .set("check-certificate", "false")
                .map_err(|e| e.to_string())?;
        }
        if let Some(file) = &self.cacert {
            // Read now, so a missing file is said before the batch starts.
            std::fs::metadata(base.join(file))
                .map_err(|e| format!("--cacert: cannot read {}: {e}", file.display()))?;
            flags
                .set("ca-certificate", &file.display().to_string())
                .map_err(|e| format!("--cacert: {e}"))?;
        }
        for fingerprint in &self.trust_certificate {
            flags
                .set("trust-certificate", fingerprint)
                .map_err(|e| format!("--trust-certificate: {e}"))?;
        }
        let mut cookie_files: HashMap<PathBuf, Result<Arc<Cookies>, String>> = HashMap::new();
        match self.cookie.as_deref() {
            Some(data) if data.contains('=') => flags
                .options
                .request
                .headers
                .push(header(&format!("Cookie: {data}")).map_err(|e| format!("-b: {e}"))?),
            Some(file) => {
                let path = base.join(file);
                let cookies = read_cookies(&path)?;
                cookie_files.insert(path, Ok(Arc::clone(&cookies)));
                flags.options.request.cookies = Some(cookies);
            }
            None => {}
        }
        let netrc = self.read_netrc()?;
        let place = Place { base, inside: None };
        for entry in entries.iter_mut() {
            let mut given = flags.clone();
            given.over(std::mem::take(&mut entry.given));
            // Read now, so a bad file is said before the batch starts (the path by the one
            // rule, as the item's finish takes it).
            if let Some(file) = &given.load_cookies {
                let path = place
                    .path("load-cookies", file)
                    .map_err(|e| e.to_string())?;
                let read = cookie_files
                    .entry(path.clone())
                    .or_insert_with(|| read_cookies(&path));
                match read {
                    Ok(cookies) => given.options.request.cookies = Some(Arc::clone(cookies)),
                    Err(e) => entry.option_errors.push(format!("{e} ({})", entry.origin)),
                }
            }
            if given.options.request.credentials.is_none()
                && let (Some(netrc), Ok(Source::Url(url))) = (&netrc, &entry.parsed)
                && url.username().is_empty()
                && let Some(host) = url.host_str()
            {
                given.options.request.credentials = netrc.for_host(host).cloned();
            }
            entry.given = given;
        }
        Ok(())
    }

    /// The `.netrc` asked for: `--netrc-file FILE`, or with `--netrc` the one in the home
    /// folder (`.netrc`, or `_netrc` on Windows as curl looks for it).
    fn read_netrc(&self) -> Result<Option<Netrc>, String> {
        let path = match (&self.netrc_file, self.netrc) {
            (Some(file), _) => file.clone(),
            (None, true) => home_netrc().ok_or("--netrc: no .netrc in the home folder")?,
            (None, false) => return Ok(None),
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        check_private(&path)?;
        Netrc::parse(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

fn read_cookies(path: &Path) -> Result<Arc<Cookies>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read cookies file {}: {e}", path.display()))?;
    Cookies::parse_netscape(&text)
        .map(Arc::new)
        .map_err(|e| format!("{} is not a cookies file: {e}", path.display()))
}

fn home_netrc() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"))?;
    let home = PathBuf::from(home);
    [".netrc", "_netrc"]
        .iter()
        .map(|name| home.join(name))
        .find(|path| path.is_file())
}

/// A `.netrc` holds passwords: refused when others may read or write it (aria2 refuses it
/// too; curl and wget read it anyway).
#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} can be read by other users (mode {:o}); it holds passwords: run chmod 600 {}",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), String> {
    Ok(())
}
