//! The documentation against the tree it describes: the guide's option table is the option
//! table (`options::OPTIONS`), every relative link in `README.md`, `BENCHMARKS.md` and
//! `docs/*.md` leads to a file (and a `#heading` to a heading), and every path the developer
//! map (`docs/ARCHITECTURE.md`) names exists while every module of every crate is on it.
//!
//! `UPDATE_DOCS=1 cargo test -p haul-core --test docs` rewrites the guide's option table from
//! the option table; without it, a difference fails with the table as it should read.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use haul_core::options::{OPTIONS, Places, Scope};

/// The workspace's root (this crate is `crates/haul-core`). The path the crate was built at,
/// or else the working directory cargo runs tests in (the crate's folder): a test built on
/// Linux and run under Wine sees the built path only if its drive maps it.
fn root() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR"));
    let krate = if built.is_dir() {
        built.to_path_buf()
    } else {
        std::env::current_dir().expect("a working directory")
    };
    krate
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const TABLE_START: &str = "<!-- options table: made from crates/haul-core/src/options/table.rs by `UPDATE_DOCS=1 cargo test -p haul-core --test docs`; do not edit by hand -->";
const TABLE_END: &str = "<!-- end of the options table -->";

/// The guide's option table, one row per row of `OPTIONS`, in its order.
fn options_table() -> String {
    let mut out = String::from(
        "| Option (aria2's name) | For | Where | `haul-cli` flag | What it does |\n\
         |---|---|---|---|---|\n",
    );
    for spec in OPTIONS {
        let mut name = format!("`{}`", spec.name);
        if !spec.aliases.is_empty() {
            let aliases: Vec<String> = spec.aliases.iter().map(|a| format!("`{a}`")).collect();
            name.push_str(&format!(" (also {})", aliases.join(", ")));
        }
        let scope = match spec.scope {
            Scope::Item => "an item",
            Scope::Global => "all",
            Scope::Both => "both",
        };
        let places: Vec<&str> = [
            (Places::LIST, "list"),
            (Places::CLI, "CLI"),
            (Places::RPC, "RPC"),
            (Places::FORM, "form"),
            (Places::SETTINGS, "settings"),
        ]
        .iter()
        .filter(|(place, _)| spec.places.has(*place))
        .map(|(_, word)| *word)
        .collect();
        let flag = spec
            .cli
            .map_or_else(|| "—".to_owned(), |f| format!("`{f}`"));
        let help = spec.help.replace('|', "\\|");
        out.push_str(&format!(
            "| {name} | {scope} | {} | {flag} | {help} |\n",
            places.join(", ")
        ));
    }
    out
}

#[test]
fn the_guides_option_table_is_the_option_table() {
    let path = root().join("docs/GUIDE.md");
    // A checkout with CRLF line ends (git's autocrlf on Windows) reads as the same text.
    let guide = read(&path).replace("\r\n", "\n");
    let start = guide
        .find(TABLE_START)
        .expect("docs/GUIDE.md has the options table's start marker")
        + TABLE_START.len();
    let end = guide[start..]
        .find(TABLE_END)
        .map(|at| start + at)
        .expect("docs/GUIDE.md has the options table's end marker");
    let want = format!("\n{}", options_table());
    if guide[start..end] == want {
        return;
    }
    if std::env::var_os("UPDATE_DOCS").is_some() {
        let updated = format!("{}{want}{}", &guide[..start], &guide[end..]);
        fs::write(&path, updated).expect("docs/GUIDE.md can be written");
        return;
    }
    panic!(
        "docs/GUIDE.md's option table differs from options::OPTIONS; run \
         `UPDATE_DOCS=1 cargo test -p haul-core --test docs`. It should read:\n{want}"
    );
}

/// The Markdown files people read: the README, BENCHMARKS.md and everything in docs/.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut docs = vec![root.join("README.md"), root.join("BENCHMARKS.md")];
    let mut more: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    more.sort();
    docs.extend(more);
    docs
}

/// `](target)` links outside code blocks and code spans.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Drop code spans, so `a](b)` inside backticks is not read as a link.
        let mut prose = String::new();
        for (i, piece) in line.split('`').enumerate() {
            if i % 2 == 0 {
                prose.push_str(piece);
            }
        }
        let mut rest = prose.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            if let Some(close) = rest.find(')') {
                found.push(rest[..close].to_owned());
                rest = &rest[close..];
            }
        }
    }
    found
}

/// A heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut fenced = false;
    let mut set = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            set.insert(anchor(line.trim_start_matches('#')));
        }
    }
    set
}

#[test]
fn every_relative_link_leads_to_a_file_and_heading() {
    let mut broken = Vec::new();
    for doc in documents() {
        let text = read(&doc);
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (path, heading) = link.split_once('#').unwrap_or((link.as_str(), ""));
            let target = if path.is_empty() {
                doc.clone()
            } else {
                doc.parent().expect("a document has a folder").join(path)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", doc.display()));
            } else if !heading.is_empty()
                && target.extension().is_some_and(|x| x == "md")
                && !anchors(&read(&target)).contains(heading)
            {
                broken.push(format!("{}: {link} (no such heading)", doc.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Every `path` in backticks in the developer map that names a place in the tree (it starts
/// with one of the tree's top folders).
fn map_paths(text: &str) -> Vec<String> {
    const TOP: &[&str] = &[
        "crates/", "src/", "tests/", "benches/", "bench/", ".ci/", ".github/", "docs/", "assets/",
    ];
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| TOP.iter().any(|top| span.starts_with(top)))
        .filter(|span| !span.contains(char::is_whitespace) && !span.contains(['*', '<', '{']))
        .map(str::to_owned)
        .collect()
}

/// Every `.rs` file under the workspace's `src/` folders, relative to the root.
fn modules(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let rel = path.strip_prefix(root).expect("under the root");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root.join("src"), root, &mut out);
    let crates = fs::read_dir(root.join("crates")).expect("crates/ exists");
    for krate in crates.flatten() {
        walk(&krate.path().join("src"), root, &mut out);
    }
    out.sort();
    out
}

#[test]
fn the_developer_map_matches_the_tree() {
    let root = root();
    let map = read(&root.join("docs/ARCHITECTURE.md"));
    let named = map_paths(&map);
    let missing: Vec<&String> = named
        .iter()
        .filter(|p| !root.join(p.trim_end_matches('/')).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "docs/ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
    // Each module is on the map by its own path or its folder's (`…/fetch/ftp/` covers the
    // files in that folder, not the folders under it; a crate's `src/` covers nothing).
    let named: BTreeSet<&str> = named.iter().map(String::as_str).collect();
    let unmapped: Vec<String> = modules(&root)
        .into_iter()
        .filter(|module| {
            let folder = match module.rsplit_once('/') {
                Some((dir, _)) => format!("{dir}/"),
                None => String::new(),
            };
            let by_folder = !folder.ends_with("src/") && named.contains(folder.as_str());
            !named.contains(module.as_str()) && !by_folder
        })
        .collect();
    assert!(
        unmapped.is_empty(),
        "modules missing from docs/ARCHITECTURE.md: {unmapped:?}"
    );
}
