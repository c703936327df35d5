//! Build script: records the git commit the binaries are built from, for `--version` and the
//! window's About box (`HAUL_GIT_HASH`, `HAUL_GIT_DATE`, `HAUL_BUILD`; see `src/version.rs`).
//! This crate sits two folders below the workspace root, whose repository is the one asked.
//!
//! Without git or a `.git` (a crate tarball, a source archive) the hash is `unknown`, unless
//! the builder sets `HAUL_GIT_HASH` (and optionally `HAUL_GIT_DATE`) in the environment.
//! It reruns only when the checked-out commit changes, not on every build.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=HAUL_GIT_HASH");
    println!("cargo:rerun-if-env-changed=HAUL_GIT_DATE");

    let (hash, date) = match std::env::var("HAUL_GIT_HASH") {
        Ok(hash) if !hash.trim().is_empty() => (
            hash.trim().to_owned(),
            std::env::var("HAUL_GIT_DATE").unwrap_or_default(),
        ),
        _ => from_git().unwrap_or_else(|| ("unknown".to_owned(), String::new())),
    };
    let build = if date.trim().is_empty() {
        hash.clone()
    } else {
        format!("{hash} {}", date.trim())
    };
    println!("cargo:rustc-env=HAUL_GIT_HASH={hash}");
    println!("cargo:rustc-env=HAUL_GIT_DATE={}", date.trim());
    println!("cargo:rustc-env=HAUL_BUILD={build}");
}

/// The short hash and the commit date (YYYY-MM-DD) of HEAD, and the files to watch so a new
/// commit or a checkout reruns this script.
fn from_git() -> Option<(String, String)> {
    // Only this package's own repository counts, not one it happens to be unpacked inside.
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let here = std::env::var("CARGO_MANIFEST_DIR").ok()?;
    let root = Path::new(&here).join("../..");
    if Path::new(&top).canonicalize().ok()? != root.canonicalize().ok()? {
        return None;
    }
    let hash = git(&["rev-parse", "--short=7", "HEAD"])?;
    let date = git(&["log", "-1", "--format=%cs", "HEAD"]).unwrap_or_default();
    // HEAD names the branch (or a commit); the branch's ref file (or packed-refs) moves on each
    // commit. Asking git for their paths also works in worktrees, where `.git` is a file.
    let mut watch = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch.push(branch);
    }
    for name in watch {
        if let Some(path) = git(&["rev-parse", "--git-path", &name])
            // A watched path that does not exist would rerun the script on every build.
            && Path::new(&path).exists()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some((hash, date))
}

/// Runs git and returns its trimmed output, or `None` when git is missing or fails.
fn git(args: &[&str]) -> Option<String> {
    let output = Command::new("git").args(args).output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}
