//! aria2's option methods over the option table (`crate::options`): `addUri`'s options,
//! `getOption`/`changeOption` for one download, `getGlobalOption`/`changeGlobalOption`, so
//! lists, the CLI, the window and the RPC read every option the same way. Paths a client names
//! are finished by the table's one rule (inside the destination), then resolved on disk
//! (`crate::paths`).
//!
//! Owns: the option methods' shapes. Must not touch: the network, the list's bookkeeping.

use std::path::Path;

use serde_json::{Value, json};

use super::{Downloads, Reply, RpcFailure, View, change_position, fail, find, gid_text, integer};
use crate::options::{self, Given, OptionError, Place, Places};
use crate::protocol::{ItemOptions, Source};

/// `getGlobalOption`: every global option of the table, as text.
pub(super) fn global_options(downloads: &dyn Downloads) -> Value {
    let (limits, output) = downloads.globals();
    let mut all = serde_json::Map::new();
    for spec in options::OPTIONS.iter().filter(|s| s.scope.global()) {
        if let Some(value) = options::global_value(&limits, &output, spec.name) {
            all.insert(spec.name.to_owned(), json!(value));
        }
    }
    Value::Object(all)
}

pub(super) fn add_uri(downloads: &mut dyn Downloads, params: &[Value]) -> Reply {
    let Some(Value::Array(uris)) = params.first() else {
        return fail("addUri takes a list of URIs first");
    };
    let Some(uri) = uris.first().and_then(Value::as_str) else {
        return fail("addUri takes at least one URI");
    };
    let source = match Source::parse(uri, Path::new("/")) {
        Ok(source @ Source::Url(_)) => source,
        Ok(Source::File(_)) => {
            return fail(format!(
                "'{uri}' is not a URI of a scheme Haul fetches ({})",
                crate::protocol::scheme_names()
            ));
        }
        Err(e) => return fail(format!("'{uri}': {e}")),
    };
    add_source(downloads, source, uri, params.get(1), params.get(2))
}

/// Adds `source` (shown as `uri`) with an `addUri`-style options object and queue position
/// (also `addTorrent`'s).
pub(super) fn add_source(
    downloads: &mut dyn Downloads,
    source: Source,
    uri: &str,
    given_options: Option<&Value>,
    position: Option<&Value>,
) -> Reply {
    let base = downloads.dest();
    let finished = given(&base, given_options)?
        .finish(
            &base,
            Place {
                base: &base,
                inside: Some(&base),
            },
            None,
        )
        .map_err(|e| RpcFailure(e.to_string()))?;
    // aria2's third parameter: where in the waiting queue the download goes.
    let position = match position {
        None | Some(Value::Null) => None,
        Some(value) => match integer(value) {
            Some(n) if n >= 0 => Some(n),
            _ => {
                return fail(format!(
                    "position must be a number of 0 or more, not {value}"
                ));
            }
        },
    };
    // aria2's `pause` option: added paused, to be unpaused later.
    let paused = given_options
        .and_then(|o| o.get("pause"))
        .is_some_and(|p| p == "true" || p == &Value::Bool(true));
    // Over the RPC a client may name only paths inside the destination: the option table
    // refused them by their text; here they are resolved on disk (folders made), so a link
    // inside the destination cannot lead out, and a cookies file elsewhere (`/home/me/.ssh/…`)
    // is never read and sent to a server.
    let mut options = finished.options;
    files_inside(&mut options, &base, |_| true)?;
    let dest = match finished.dest.strip_prefix(&base) {
        Ok(dir) if !dir.as_os_str().is_empty() => crate::paths::folder_inside(&base, dir)?,
        _ => base.clone(),
    };
    let gid = downloads.add(source, uri, dest, finished.checksum, options);
    if paused {
        downloads.pause(gid);
    }
    if let Some(position) = position {
        change_position(
            downloads,
            &[json!(gid_text(gid)), json!(position), json!("POS_SET")],
        )?;
    }
    Ok(json!(gid_text(gid)))
}

/// An `addUri` options object through the option table. `dir` may be absolute only when it
/// lies inside the destination `base` (web front ends send absolute folders).
fn given(base: &Path, options: Option<&Value>) -> Result<Given, RpcFailure> {
    let mut given = Given::default();
    let Some(Value::Object(map)) = options else {
        return Ok(given);
    };
    for (name, value) in map {
        let values: Vec<String> = match value {
            Value::String(text) => vec![text.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Value::Number(n) => vec![n.to_string()],
            Value::Bool(b) => vec![b.to_string()],
            _ => return fail(format!("option '{name}' must be a string")),
        };
        if name == "pause" {
            continue; // addUri's own (added paused)
        }
        for mut value in values {
            if name == "dir" {
                let path = Path::new(&value);
                // On Windows `\etc` (rooted, no drive) and `D:x` (a drive, no root) are not
                // absolute, yet name places outside any folder: treated as absolute here.
                let rooted = path.has_root()
                    || matches!(
                        path.components().next(),
                        Some(std::path::Component::Prefix(_))
                    );
                if path.is_absolute() || rooted {
                    match path.strip_prefix(base) {
                        Ok(inside) if inside.as_os_str().is_empty() => continue,
                        Ok(inside) => value = inside.display().to_string(),
                        Err(_) => {
                            return fail(format!(
                                "dir '{}' is outside the destination folder {}",
                                path.display(),
                                base.display()
                            ));
                        }
                    }
                }
            }
            match given.set(name, &value) {
                Ok(()) => {}
                // aria2's other options (continue, …) and global ones
                // (max-connection-per-server), which AriaNg and extensions send with every
                // add: not an item's in Haul, so not applied, and said in the log rather than
                // refusing the download.
                Err(OptionError::Unknown(name) | OptionError::NotPerItem { name, .. }) => {
                    tracing::warn!(option = %name, "an RPC option Haul does not use per download was ignored");
                }
                Err(e) => return fail(e.to_string()),
            }
        }
    }
    Ok(given)
}

/// `changeGlobalOption`: every global option the table lets the RPC change; `dir` is the
/// destination Haul was started with (a client may not move it), and options Haul does not
/// have are logged and left alone, as aria2 clients send many.
pub(super) fn change_global(downloads: &mut dyn Downloads, options: Option<&Value>) -> Reply {
    let Some(Value::Object(map)) = options else {
        return fail("changeGlobalOption takes an options object");
    };
    let (mut limits, mut output) = downloads.globals();
    for (name, value) in map {
        let text = value
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| value.to_string());
        match options::spec(name) {
            // The destination is the one Haul was started with: a client names folders
            // inside it per download, never another destination.
            Some(spec) if spec.name == "dir" => {
                return fail(
                    "dir is the destination Haul was started with; give dir per download inside it",
                );
            }
            Some(spec) if spec.scope.global() && spec.places.has(Places::RPC) => {
                options::set_global(&mut limits, &mut output, name, &text)
                    .map_err(|e| RpcFailure(e.to_string()))?;
            }
            Some(spec) if spec.scope.global() => {
                return fail(format!(
                    "{name} cannot be changed over the RPC ({})",
                    spec.help
                ));
            }
            _ => {
                tracing::warn!(option = %name, "a global RPC option Haul does not use was ignored");
            }
        }
    }
    downloads.set_globals(limits, output);
    Ok(json!("OK"))
}

/// A download's own options as `getOption` answers them (aria2's names, values as text; the
/// password never).
pub(super) fn item_options(view: &View) -> Value {
    let given = Given::from_finished(view.options.clone(), None, view.checksum);
    let mut out = serde_json::Map::new();
    out.insert("dir".to_owned(), json!(view.dest.display().to_string()));
    for (name, value) in given.values() {
        match out.get_mut(name) {
            // `header` is repeatable: a list, as aria2 gives it.
            Some(Value::Array(list)) => list.push(json!(value)),
            Some(_) if name == "dir" => {}
            Some(first) => *first = json!([first.clone(), value]),
            None if name == "header" => {
                out.insert(name.to_owned(), json!([value]));
            }
            None => {
                out.insert(name.to_owned(), json!(value));
            }
        }
    }
    Value::Object(out)
}

/// `changeOption(gid, options)`: a download's own options through the table. While it runs
/// only its speed limit may change (it applies at once), as aria2 allows; waiting, paused or
/// stopped, any of its options but `dir`.
pub(super) fn change_option(downloads: &mut dyn Downloads, params: &[Value]) -> Reply {
    let view = find(&downloads.views(), params.first())?;
    let Some(Value::Object(map)) = params.get(1) else {
        return fail("changeOption takes a GID and an options object");
    };
    let mut given = Given::from_finished(view.options.clone(), None, None);
    if map.contains_key("header") {
        given.options.request.headers.clear(); // the headers given replace the old ones
    }
    for (name, value) in map {
        if name == "dir" {
            return fail("dir cannot change for a download; add it again into another folder");
        }
        if view.active() && name != "max-download-limit" {
            return fail(format!(
                "{name} cannot change while GID {} runs; only max-download-limit can",
                gid_text(view.gid)
            ));
        }
        let values: Vec<String> = match value {
            Value::Array(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Value::String(text) => vec![text.clone()],
            other => vec![other.to_string()],
        };
        for value in values {
            given
                .set(name, &value)
                .map_err(|e| RpcFailure(e.to_string()))?;
        }
    }
    let base = downloads.dest();
    let place = Place {
        base: &base,
        inside: Some(&base),
    };
    let finished = given
        .finish(&view.dest, place, view.checksum)
        .map_err(|e| RpcFailure(e.to_string()))?;
    let mut options = finished.options;
    // Only the files this call names (the others were resolved when they were given).
    files_inside(&mut options, &base, |name| map.contains_key(name))?;
    downloads.set_options(view.gid, options);
    Ok(json!("OK"))
}

/// The files a download's options name (`load-cookies`, `ca-certificate`), those that `named`
/// says this call gave, resolved on disk through every link: only a file inside the
/// destination `base` is read. Errors: one outside, or one that cannot be found.
fn files_inside(
    options: &mut ItemOptions,
    base: &Path,
    named: impl Fn(&str) -> bool,
) -> Result<(), RpcFailure> {
    if let Some(file) = &options.request.cookies_file
        && named("load-cookies")
    {
        options.request.cookies_file = Some(crate::paths::file_inside("load-cookies", base, file)?);
    }
    if let Some(file) = &options.trust.ca_file
        && named("ca-certificate")
    {
        options.trust.ca_file = Some(crate::paths::file_inside("ca-certificate", base, file)?);
    }
    Ok(())
}
