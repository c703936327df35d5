//! Which proxy a request goes through, and telling its failures from the server's.
//!
//! Owns: the `NO_PROXY`-style exception list as curl reads it, the environment's proxy
//! variables (to name the system's proxy on Linux), and reading reqwest's proxy errors —
//! whose types are private, so their text is matched (hyper-util's "tunnel error: …" for an
//! HTTP proxy's CONNECT, "SOCKS error: …" for SOCKS). Must not touch: building the client.

use super::errors::{chain, classify};
use crate::fetch::Stop;
use crate::protocol::{FetchError, ProxyProblem, redact};

/// Whether `host` is reached directly under `list` (curl's `--noproxy`, `NO_PROXY`):
/// comma- or space-separated entries; `*` matches every host; a name matches itself and its
/// subdomains (a leading dot is optional); an IP address matches itself. CIDR blocks are
/// left to reqwest, which does the routing; here they only decide how a failure is named.
pub(super) fn bypassed(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    list.split([',', ' '])
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            let entry = entry.trim_start_matches('.').to_ascii_lowercase();
            entry == "*" || host == entry || host.ends_with(&format!(".{entry}"))
        })
}

/// The proxy the environment sets for `scheme` (`https_proxy`, `http_proxy`, `ftp_proxy`, then
/// `all_proxy`, lower case first, as curl reads them), unless `NO_PROXY` exempts `host`.
pub(super) fn from_env(scheme: &str, host: &str) -> Option<String> {
    let var = |name: &str| {
        std::env::var(name.to_ascii_lowercase())
            .or_else(|_| std::env::var(name.to_ascii_uppercase()))
            .ok()
            .filter(|v| !v.trim().is_empty())
    };
    if var("no_proxy").is_some_and(|list| bypassed(&list, host)) {
        return None;
    }
    let own = match scheme {
        "https" => "https_proxy",
        "ftp" | "ftps" => "ftp_proxy",
        _ => "http_proxy",
    };
    var(own)
        .or_else(|| var("all_proxy"))
        .map(|p| redact(&p).into_owned())
}

/// A request that failed on its way through `proxy`: the proxy's own failure when it is
/// one (refused credentials, nothing listening, an upstream it could not reach), else
/// `None` (the caller classifies it as the server's).
pub(super) fn failure(e: &reqwest::Error, proxy: String) -> Option<Stop> {
    if e.is_timeout() {
        return None;
    }
    let text = chain(e);
    let lower = text.to_ascii_lowercase();
    let problem = if lower.contains("proxy authorization required")
        || lower.contains("credentials not accepted")
        || (lower.contains("socks error") && lower.contains("auth"))
    {
        ProxyProblem::Auth
    } else if lower.contains("failed to create underlying connection") {
        // hyper-util's SOCKS client could not open its connection to the proxy.
        ProxyProblem::Unreachable
    } else if lower.contains("tunnel error") || lower.contains("socks error") {
        // The proxy answered: the CONNECT or SOCKS reply says the server could not be reached.
        ProxyProblem::Upstream
    } else if e.is_connect() {
        ProxyProblem::Unreachable
    } else {
        return None;
    };
    let detail = match classify(e) {
        Stop::Failed(error) => error.to_string(),
        _ => text,
    };
    Some(Stop::Failed(FetchError::Proxy {
        proxy,
        problem,
        detail: redact(&detail).into_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceptions_match_names_subdomains_and_all() {
        assert!(bypassed("localhost, .example.com", "dl.example.com"));
        assert!(bypassed("example.com", "example.com"));
        assert!(!bypassed("example.com", "notexample.com"));
        assert!(bypassed("*", "anything"));
        assert!(bypassed("127.0.0.1 ::1", "[::1]"));
        assert!(!bypassed("", "h"));
    }
}
