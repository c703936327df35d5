//! How to ask for one item beyond its URL, and what it is called and how it is fetched:
//! [`ItemOptions`] (aria2's per-item options as the engine takes them), [`Request`] (curl's
//! `-H`, `-e`, `-A`, `-b`, `-u`), [`Credentials`], [`Header`] and [`Cookies`] (a Netscape
//! `cookies.txt`, as browser extensions export it and `curl -b` reads it).
//!
//! Owns: these types, parsing a header line and a cookies file's text, and which cookies and
//! credentials go to which URL (RFC 6265 §5.1.3 domain match, §5.1.4 path match; curl's rule
//! that credentials stay with the first host). Must not touch: I/O (callers read files).

use std::fmt;
use std::sync::Arc;

use url::Url;

/// Per-item options the engine takes with [`super::Command::Submit`]. Everything is optional:
/// the default is what the engine does for any item. Serialised (the window keeps them with
/// its saved queue) without the parsed cookies: `cookies_file` is read again.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ItemOptions {
    /// The file's name (aria2's `out`, `haul-cli --out`), already sanitised; `None`: from the
    /// server or the URL.
    pub out: Option<String>,
    /// Connections for this file (aria2's `split`); `None`: the engine's `Limits::split`.
    pub split: Option<usize>,
    /// This item's own speed limit in bytes/s (aria2's `max-download-limit`).
    pub max_rate: Option<u64>,
    /// Headers, referer, user agent, credentials and cookies to send.
    pub request: Request,
    /// Certificates trusted beyond the system's (`-k`, `--cacert`, a pinned fingerprint).
    pub trust: super::Trust,
    /// A torrent's files to fetch and its seeding (ignored for other sources).
    pub torrent: super::TorrentOptions,
    /// A video stream's variant (`--quality`): `best` (`None`), `worst`, a height (`720p`)
    /// or a bit rate in bits/s; checked by [`Quality::parse`](super::Quality::parse).
    pub quality: Option<super::Quality>,
    /// How long to record a live stream (`--duration`); `None`: until it is stopped or ends.
    pub duration: Option<std::time::Duration>,
    /// A video stream's subtitles to fetch beside it (`--sub-langs`); none by default.
    pub sub_langs: super::SubLangs,
}

/// What is sent with an item's requests besides the engine's own headers.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Request {
    /// Extra headers (`-H`, aria2's `header`), sent on every request of the item — except
    /// `Authorization` and `Cookie`, which only go to the first host (see [`Request::sends_secrets`]).
    pub headers: Vec<Header>,
    /// `Referer` (`-e`, aria2's `referer`).
    pub referer: Option<String>,
    /// `User-Agent` instead of `haul/VERSION` (`-A`, aria2's `user-agent`).
    pub user_agent: Option<String>,
    /// HTTP Basic credentials (`-u`, `.netrc`, aria2's `http-user`/`http-passwd`), sent only
    /// to the item's own scheme, host and port.
    pub credentials: Option<Credentials>,
    /// Cookies to choose from for each request (`-b FILE`, aria2's `load-cookies`).
    #[serde(skip)]
    pub cookies: Option<Arc<Cookies>>,
    /// A Netscape cookies file the engine reads when the item starts, when `cookies` is not
    /// given already (the window names the file; `haul-cli` reads it itself to report a bad
    /// one before the batch starts).
    pub cookies_file: Option<std::path::PathBuf>,
}

impl Request {
    /// Whether credentials and the caller's `Authorization`/`Cookie` headers may go to `to`
    /// on the way to `first` (the item's URL): only when scheme, host and port are the same,
    /// as curl does since CVE-2018-1000007 (and CVE-2022-27776 for the port).
    pub fn sends_secrets(first: &Url, to: &Url) -> bool {
        first.scheme() == to.scheme()
            && first.host_str() == to.host_str()
            && first.port_or_known_default() == to.port_or_known_default()
    }

    /// The headers to send to `to` on the way to `first`, in order: the caller's headers
    /// (secret ones only to the first host), `Referer`, `User-Agent`, `Authorization` (Basic)
    /// and `Cookie` (the cookies that match `to` at `now`, in seconds since 1970).
    pub fn headers_for(&self, first: &Url, to: &Url, now: u64) -> Vec<(String, String)> {
        let same = Request::sends_secrets(first, to);
        let mut out: Vec<(String, String)> = self
            .headers
            .iter()
            .filter(|h| same || !h.is_secret())
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect();
        // A header given as such replaces the one an option makes (as curl's -H replaces its
        // own): one Authorization, one User-Agent, never two.
        let given = |name: &str| {
            self.headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case(name))
        };
        let mut add = |name: &str, value: Option<String>| {
            if let Some(value) = value.filter(|_| !given(name)) {
                out.push((name.to_owned(), value));
            }
        };
        add("Referer", self.referer.clone());
        add("User-Agent", self.user_agent.clone());
        add(
            "Authorization",
            self.credentials
                .as_ref()
                .filter(|_| same)
                .map(Credentials::basic),
        );
        add(
            "Cookie",
            self.cookies.as_ref().and_then(|c| c.header_for(to, now)),
        );
        out
    }
}

/// One header line as given (`Name: value`). `Debug` shows a secret one's value as `***`.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.is_secret() { "***" } else { &self.value };
        write!(f, "Header({}: {value})", self.name)
    }
}

/// Why a header line was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("'{0}' is not a header: expected 'Name: value'")]
    NoColon(String),
    #[error("'{0}' is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)")]
    BadName(String),
    #[error("the value of header '{0}' has a line break or a control character")]
    BadValue(String),
}

impl Header {
    /// Parses `Name: value` (RFC 9110 §5.1 token name; the value without CR, LF or NUL,
    /// trimmed). Errors: [`HeaderError`].
    pub fn parse(line: &str) -> Result<Header, HeaderError> {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| HeaderError::NoColon(line.to_owned()))?;
        let name = name.trim();
        let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(token) {
            return Err(HeaderError::BadName(name.to_owned()));
        }
        let value = value.trim();
        if value.chars().any(|c| c.is_control() && c != '\t') {
            return Err(HeaderError::BadValue(name.to_owned()));
        }
        Ok(Header {
            name: name.to_owned(),
            value: value.to_owned(),
        })
    }

    /// `Authorization`, `Cookie` and `Proxy-Authorization`: what must not follow a redirect
    /// to another host.
    pub fn is_secret(&self) -> bool {
        ["authorization", "cookie", "proxy-authorization"]
            .iter()
            .any(|s| self.name.eq_ignore_ascii_case(s))
    }
}

/// A user and password for HTTP Basic (RFC 7617). `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Credentials {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}:***)", self.user)
    }
}

impl Credentials {
    /// `USER:PASS` as curl's `-u` takes it (the password may contain colons; without one
    /// the password is empty).
    pub fn parse(text: &str) -> Credentials {
        let (user, password) = text.split_once(':').unwrap_or((text, ""));
        Credentials {
            user: user.to_owned(),
            password: password.to_owned(),
        }
    }

    /// The `Authorization` value: `Basic base64(user:password)` (UTF-8, RFC 7617 §2.1).
    pub fn basic(&self) -> String {
        use base64::Engine as _;
        let pair = format!("{}:{}", self.user, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// One cookie of a Netscape `cookies.txt` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    /// Lower-case, without a leading dot.
    pub domain: String,
    /// Also sent to subdomains (the file's second field, `TRUE`).
    pub subdomains: bool,
    pub path: String,
    /// Only over HTTPS.
    pub secure: bool,
    /// Seconds since 1970; 0: a session cookie (never expires here).
    pub expires: u64,
    pub name: String,
    pub value: String,
}

/// The cookies of one `cookies.txt` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cookies {
    pub cookies: Vec<Cookie>,
}

/// Why a cookies file could not be read, naming its line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "line {line}: {reason} (a cookies file has 7 fields separated by tabs: domain, include subdomains TRUE/FALSE, path, secure TRUE/FALSE, expiry, name, value — the Netscape format that curl -b and wget --load-cookies read)"
)]
pub struct CookiesError {
    pub line: usize,
    pub reason: String,
}

impl Cookies {
    /// Parses a Netscape cookies file: one cookie a line as 7 tab-separated fields; `#`
    /// comments and blank lines skipped, except the `#HttpOnly_` prefix curl writes before a
    /// domain. Errors: the first line that is not a cookie ([`CookiesError`]); a file with no
    /// cookie at all is refused too (it is most likely another format).
    pub fn parse_netscape(text: &str) -> Result<Cookies, CookiesError> {
        let mut cookies = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r');
            let line = line.strip_prefix("#HttpOnly_").unwrap_or(line);
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let bad = |reason: &str| CookiesError {
                line: i + 1,
                reason: reason.to_owned(),
            };
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != 7 {
                return Err(bad(&format!("{} fields", fields.len())));
            }
            let flag = |text: &str| match text {
                "TRUE" => Ok(true),
                "FALSE" => Ok(false),
                other => Err(bad(&format!("'{other}' is not TRUE or FALSE"))),
            };
            let expires = fields[4]
                .parse::<u64>()
                .map_err(|_| bad(&format!("'{}' is not an expiry time", fields[4])))?;
            let domain = fields[0].trim_start_matches('.').to_ascii_lowercase();
            if domain.is_empty() {
                return Err(bad("no domain"));
            }
            cookies.push(Cookie {
                domain,
                subdomains: flag(fields[1])?,
                path: fields[2].to_owned(),
                secure: flag(fields[3])?,
                expires,
                name: fields[5].to_owned(),
                value: fields[6].to_owned(),
            });
        }
        if cookies.is_empty() {
            return Err(CookiesError {
                line: 1,
                reason: "no cookie in the file".to_owned(),
            });
        }
        Ok(Cookies { cookies })
    }

    /// The `Cookie` header value for a request to `url` at `now` (seconds since 1970): the
    /// cookies whose domain matches (exactly, or as a parent when `subdomains`), whose path is
    /// a prefix of the URL's path at a `/`, that are not `secure` unless the URL is HTTPS, and
    /// not expired; longer paths first (RFC 6265 §5.4). `None` when none match.
    pub fn header_for(&self, url: &Url, now: u64) -> Option<String> {
        let host = url.host_str()?.to_ascii_lowercase();
        let path = url.path();
        let mut matching: Vec<&Cookie> = self
            .cookies
            .iter()
            .filter(|c| {
                let domain =
                    host == c.domain || (c.subdomains && host.ends_with(&format!(".{}", c.domain)));
                let path_ok = path == c.path
                    || (path.starts_with(&c.path)
                        && (c.path.ends_with('/') || path[c.path.len()..].starts_with('/')));
                let secure = !c.secure || url.scheme() == "https";
                let fresh = c.expires == 0 || c.expires > now;
                domain && path_ok && secure && fresh
            })
            .collect();
        matching.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
        let pairs: Vec<String> = matching
            .iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }
}

/// Which proxy the engine's connections go through (its HTTP client is rebuilt when this
/// changes).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyChoice {
    /// Straight to every server; proxy variables in the environment are ignored (curl's
    /// `--noproxy '*'`).
    None,
    /// The system's proxy: `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` from the
    /// environment on Linux; the system settings on Windows and macOS (reqwest's
    /// `system-proxy`).
    #[default]
    System,
    /// One proxy for every server except those `no_proxy` names.
    Manual(ManualProxy),
}

/// A proxy the person named: `http://`, `https://`, `socks5h://` (names resolved by the
/// proxy), `socks5://` (resolved here), `socks4://` or `socks4a://`, with an optional
/// `user:password@`.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManualProxy {
    /// The proxy's URL (with its scheme; credentials in it are never shown).
    pub url: String,
    /// Hosts that are reached directly, as curl's `--noproxy` and `NO_PROXY` take them:
    /// comma-separated names (a leading dot or none: the name and its subdomains), IP
    /// addresses, CIDR blocks, or `*` for all.
    pub no_proxy: String,
}

impl fmt::Debug for ManualProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ManualProxy({}, no_proxy: {:?})",
            super::redact(&self.url),
            self.no_proxy
        )
    }
}

/// The proxy schemes Haul speaks.
pub const PROXY_SCHEMES: [&str; 6] = ["http", "https", "socks5h", "socks5", "socks4a", "socks4"];

impl ManualProxy {
    /// Reads what a person typed for a proxy (curl's `-x`): a URL with one of
    /// [`PROXY_SCHEMES`], or `host[:port]` (then `http://`). Errors, for a person: a bare
    /// number (`-x8` is aria2's habit for connections, which is `--split` here), another
    /// scheme, no host.
    pub fn parse(text: &str, no_proxy: &str) -> Result<ManualProxy, String> {
        let text = text.trim();
        if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!(
                "'{text}' is not a proxy (a URL such as socks5h://127.0.0.1:1080 or a host); \
                 for {text} connections per file use -s {text} (--split {text})"
            ));
        }
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            format!("http://{text}")
        };
        let url = Url::parse(&with_scheme)
            .map_err(|e| format!("'{}' is not a proxy URL: {e}", super::redact(text)))?;
        if !PROXY_SCHEMES.contains(&url.scheme()) {
            return Err(format!(
                "'{}' proxies are not supported (use {})",
                url.scheme(),
                PROXY_SCHEMES.join(", ")
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("'{}' names no proxy host", super::redact(text)));
        }
        Ok(ManualProxy {
            url: url.as_str().trim_end_matches('/').to_owned(),
            no_proxy: no_proxy.trim().to_owned(),
        })
    }

    /// The proxy for people and logs: its URL with any password as `***`.
    pub fn shown(&self) -> String {
        super::redact(&self.url).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("url")
    }

    #[test]
    fn proxies_are_urls_or_hosts_and_a_bare_number_points_to_split() {
        let p = ManualProxy::parse("127.0.0.1:3128", "").expect("host:port");
        assert_eq!(p.url, "http://127.0.0.1:3128");
        let p = ManualProxy::parse("socks5h://u:secret@h:1080", "localhost").expect("socks");
        assert_eq!(p.shown(), "socks5h://u:***@h:1080");
        assert!(!format!("{p:?}").contains("secret"));
        let err = ManualProxy::parse("8", "").expect_err("-x8");
        assert!(err.contains("--split 8"), "{err}");
        assert!(
            ManualProxy::parse("ftp://h:21", "")
                .expect_err("scheme")
                .contains("not supported")
        );
    }

    #[test]
    fn header_lines_need_a_token_name_and_a_clean_value() {
        let h = Header::parse("X-Token:  abc def ").expect("ok");
        assert_eq!((h.name.as_str(), h.value.as_str()), ("X-Token", "abc def"));
        assert!(matches!(
            Header::parse("NoColon"),
            Err(HeaderError::NoColon(_))
        ));
        assert!(matches!(
            Header::parse("Bad Name: x"),
            Err(HeaderError::BadName(_))
        ));
        assert!(matches!(Header::parse(": x"), Err(HeaderError::BadName(_))));
        assert!(matches!(
            Header::parse("A: b\r\nC: d"),
            Err(HeaderError::BadValue(_))
        ));
    }

    #[test]
    fn secrets_stay_with_the_first_scheme_host_and_port() {
        let request = Request {
            headers: vec![
                Header::parse("Authorization: Bearer t").expect("h"),
                Header::parse("X-Api: k").expect("h"),
            ],
            credentials: Some(Credentials::parse("u:p:q")),
            referer: Some("https://r/".to_owned()),
            ..Request::default()
        };
        let first = url("https://a.example/x");
        let names = |to: &str| -> Vec<String> {
            request
                .headers_for(&first, &url(to), 0)
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        // The given Authorization header wins over the credentials: one, not two.
        assert_eq!(
            names("https://a.example/y"),
            ["Authorization", "X-Api", "Referer"]
        );
        assert_eq!(names("https://b.example/y"), ["X-Api", "Referer"]);
        let basic_only = Request {
            credentials: Some(Credentials::parse("u:p")),
            ..Request::default()
        };
        assert_eq!(
            basic_only.headers_for(&first, &url("https://a.example/z"), 0),
            [("Authorization".to_owned(), "Basic dTpw".to_owned())]
        );
        assert_eq!(names("http://a.example/y"), ["X-Api", "Referer"]);
        assert_eq!(names("https://a.example:8443/y"), ["X-Api", "Referer"]);
        assert_eq!(
            Credentials::parse("u:p:q").basic(),
            "Basic dTpwOnE=" // u:p:q
        );
        assert_eq!(
            format!("{:?}", Credentials::parse("u:secret")),
            "Credentials(u:***)"
        );
        let bearer = Header::parse("Authorization: Bearer secret").expect("h");
        assert!(!format!("{bearer:?}").contains("secret"));
    }

    #[test]
    fn cookies_match_domain_path_secure_and_expiry() {
        let text = "# Netscape HTTP Cookie File\n\
            .example.com\tTRUE\t/\tFALSE\t0\tall\t1\n\
            #HttpOnly_www.example.com\tFALSE\t/dl\tTRUE\t4102444800\tdl\t2\n\
            example.com\tFALSE\t/\tFALSE\t1000\told\t3\n\
            other.org\tFALSE\t/\tFALSE\t0\tx\t4\n";
        let jar = Cookies::parse_netscape(text).expect("parses");
        assert_eq!(jar.cookies.len(), 4);
        let now = 2000;
        assert_eq!(
            jar.header_for(&url("https://www.example.com/dl/f.zip"), now)
                .as_deref(),
            Some("dl=2; all=1")
        );
        // Not secure: the secure cookie stays home; /dlx is not under /dl.
        assert_eq!(
            jar.header_for(&url("http://www.example.com/dl/f"), now)
                .as_deref(),
            Some("all=1")
        );
        assert_eq!(
            jar.header_for(&url("https://www.example.com/dlx"), now)
                .as_deref(),
            Some("all=1")
        );
        // Expired at 1000; a host-only cookie is not sent to a subdomain.
        assert_eq!(
            jar.header_for(&url("http://example.com/"), now).as_deref(),
            Some("all=1")
        );
        assert_eq!(
            jar.header_for(&url("http://example.com/"), 10).as_deref(),
            Some("all=1; old=3")
        );
        assert_eq!(jar.header_for(&url("http://notexample.com/"), now), None);
    }

    #[test]
    fn a_file_that_is_not_netscape_cookies_names_its_line() {
        let err = Cookies::parse_netscape("# c\n\nname=value; Path=/\n").expect_err("not netscape");
        assert_eq!(err.line, 3);
        assert!(err.to_string().contains("line 3"), "{err}");
        let err = Cookies::parse_netscape("a\tMAYBE\t/\tFALSE\t0\tn\tv").expect_err("flag");
        assert!(err.to_string().contains("'MAYBE'"), "{err}");
        assert!(Cookies::parse_netscape("# only comments\n").is_err());
    }
}
