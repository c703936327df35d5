//! What Haul's extension may ask the host, and how each request is checked before anything
//! reaches the window — as carefully as the RPC: only Haul's own extension is served, each
//! item is checked on its own (one clear error each, the others go on), a malformed, unknown
//! or oversized message gets an error reply and the host reads on, and a flood is bounded.
//!
//! Requests (JSON, `type` names them):
//! - `{"type":"hello"}` → `{"ok":true,"version":…,"window":true|false}`;
//! - `{"type":"download","items":[{"url","referrer","cookie","userAgent","filename"}],
//!   "pick":false}` → `{"ok":…,"results":[{"ok":true}|{"ok":false,"error":…}]}`: each item
//!   is handed to the window with the options the server needs (the cookies as a `Cookie`
//!   header, which the engine sends to that host only; the Referer; the browser's
//!   User-Agent; the file name, which must be a name, not a path). With `pick`, the addresses
//!   go to the window's add box for the person to choose from.
//!
//! An `id` in a request is echoed in its reply. Cookies are never logged or echoed.
//! Owns: parsing and checking requests, the reply, the flood bound, the serving loop.
//! Must not touch: the wire's framing ([`crate::wire`]), the socket ([`crate::handoff`]).

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use haul_core::options::Given;
use haul_core::protocol::Source;
use haul_core::sources::Entry;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::handoff::Handoff;
use crate::wire::{self, Frame};

/// The most items one request may carry.
pub const MAX_ITEMS: usize = 1000;

/// Requests in a burst before the host answers "slow down", and how many a second it takes
/// after that.
const BURST: f64 = 40.0;
const PER_SECOND: f64 = 20.0;

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
enum Request {
    Hello {},
    Download {
        items: Vec<Item>,
        #[serde(default)]
        pick: bool,
    },
}

/// One download the browser hands over.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Item {
    /// The final URL (after the browser followed redirects).
    pub url: String,
    #[serde(default)]
    pub referrer: Option<String>,
    /// The `Cookie` header's value the browser holds for `url`.
    #[serde(default)]
    pub cookie: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The file name the browser chose (a name, not a path).
    #[serde(default)]
    pub filename: Option<String>,
}

impl Item {
    /// The hand-off for this item alone, or why it cannot be fetched. The URL must be a web
    /// or FTP address, and every option must pass the option table's checks.
    pub fn handoff(&self) -> Result<Handoff, String> {
        let entry = Entry::new("browser".to_owned(), &self.url, std::path::Path::new("/"));
        if let Some(rejection) = entry.rejection() {
            return Err(rejection);
        }
        match entry.parsed {
            Ok(Source::Url(_)) => {}
            _ => return Err(format!("'{}' is not a web or FTP address", entry.text)),
        }
        let mut options = Vec::new();
        let filename = self.filename.as_deref().filter(|f| !f.trim().is_empty());
        let pairs = [
            ("referer", self.referrer.clone()),
            ("user-agent", self.user_agent.clone()),
            ("out", filename.map(str::to_owned)),
            (
                "header",
                self.cookie
                    .as_deref()
                    .filter(|c| !c.trim().is_empty())
                    .map(|c| format!("Cookie: {c}")),
            ),
        ];
        let mut given = Given::default();
        for (name, value) in pairs {
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                continue;
            };
            // The error names the option, never its value (a cookie must not be echoed).
            given.set(name, &value).map_err(|e| match name {
                "header" => "the cookies are not a valid header value".to_owned(),
                _ => e.to_string(),
            })?;
            options.push((name.to_owned(), value));
        }
        Ok(Handoff {
            sources: vec![entry.text],
            options,
            ..Handoff::default()
        })
    }
}

/// Hands one hand-off to the window, or says why it could not.
pub type Deliver = Box<dyn FnMut(&Handoff) -> Result<(), String>>;

/// Where the host's items go, and who called it.
pub struct Host {
    /// Whether the browser started the host for Haul's own extension.
    pub trusted_caller: bool,
    /// Hands one hand-off to the window (the real one starts it when none runs).
    pub deliver: Deliver,
    /// Whether a window answers now.
    pub window: Box<dyn Fn() -> bool>,
}

/// A token bucket: [`BURST`] requests at once, then [`PER_SECOND`].
struct Bucket {
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * PER_SECOND;
        self.tokens = (self.tokens + refill).min(BURST);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

fn error(message: impl Into<String>) -> Value {
    json!({ "ok": false, "error": message.into() })
}

impl Host {
    /// The reply to one message's bytes.
    pub fn answer(&mut self, bytes: &[u8]) -> Value {
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(value) => value,
            Err(e) => return error(format!("not JSON: {e}")),
        };
        let id = value.get("id").cloned();
        let mut reply = self.answer_value(value);
        if let (Some(id), Some(map)) = (id, reply.as_object_mut()) {
            map.insert("id".to_owned(), id);
        }
        reply
    }

    fn answer_value(&mut self, mut value: Value) -> Value {
        if !self.trusted_caller {
            return error("this host serves only Haul's own extension");
        }
        if let Some(map) = value.as_object_mut() {
            map.remove("id");
        }
        let request = match serde_json::from_value::<Request>(value) {
            Ok(request) => request,
            // serde's message names the field or the unknown type, never a value.
            Err(e) => return error(format!("not a request Haul knows: {e}")),
        };
        match request {
            Request::Hello {} => json!({
                "ok": true,
                "version": haul_core::version::VERSION,
                "window": (self.window)(),
            }),
            Request::Download { items, pick } => self.download(&items, pick),
        }
    }

    fn download(&mut self, items: &[Item], pick: bool) -> Value {
        if items.is_empty() {
            return error("no items");
        }
        if items.len() > MAX_ITEMS {
            return error(format!(
                "{} items; at most {MAX_ITEMS} at once",
                items.len()
            ));
        }
        if pick {
            let mut sources = Vec::new();
            let mut results = Vec::new();
            for item in items {
                match item.handoff() {
                    Ok(handoff) => {
                        sources.extend(handoff.sources);
                        results.push(json!({ "ok": true }));
                    }
                    Err(e) => results.push(error(e)),
                }
            }
            let handoff = Handoff {
                sources,
                pick: true,
                ..Handoff::default()
            };
            if let Err(e) = (self.deliver)(&handoff) {
                return error(e);
            }
            return json!({ "ok": true, "results": results });
        }
        let results: Vec<Value> = items
            .iter()
            .map(
                |item| match item.handoff().and_then(|h| (self.deliver)(&h)) {
                    Ok(()) => json!({ "ok": true }),
                    Err(e) => error(e),
                },
            )
            .collect();
        let all = results.iter().all(|r| r["ok"] == true);
        json!({ "ok": all, "results": results })
    }

    /// Serves messages from `input` until the browser closes it, each answered on `output`.
    pub fn serve(&mut self, input: &mut impl Read, output: &mut impl Write) -> io::Result<()> {
        let mut bucket = Bucket {
            tokens: BURST,
            last: Instant::now(),
        };
        loop {
            let reply = match wire::read_frame(input)? {
                Frame::End => return Ok(()),
                Frame::TooLong(len) => error(format!(
                    "a message of {len} bytes; at most {} are taken",
                    wire::MAX_MESSAGE
                )),
                Frame::Message(_) if !bucket.take() => {
                    // Bounded: a flood is answered, slowly, without touching the window.
                    std::thread::sleep(Duration::from_millis(50));
                    error("too many requests at once; slow down")
                }
                Frame::Message(bytes) => self.answer(&bytes),
            };
            wire::write_message(output, &reply)?;
        }
    }
}

/// The window program the host starts: `haul` beside the host.
pub fn window_program() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let name = if cfg!(windows) { "haul.exe" } else { "haul" };
    Some(exe.parent()?.join(name))
}

#[cfg(test)]
mod tests;
