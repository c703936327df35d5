//! The paths an RPC client names, resolved on disk and kept inside the destination: a `dir`
//! (its folders made one by one, never through a link that leads out) and a file-valued option
//! (`load-cookies`: read only when it lies inside). The option table has already refused what
//! leaves the destination by its text (`..`, a root); this is the check by what is on disk,
//! where a symbolic link inside the destination can point anywhere.
//!
//! Owns: resolving those paths. Must not touch: the downloads, the network.

use std::path::{Component, Path, PathBuf};

use super::methods::RpcFailure;

/// The folder `dir` (relative, already clean of `..`) names inside `base`, made when missing.
/// Each part is looked at before the next is made: a missing one is made (a real folder, never
/// through a link), an existing link is followed only when where it leads stays inside `base`.
/// Returns the resolved folder. Errors: a part that leads out, a file in the way, or the
/// folder that cannot be made, each said for the person.
pub(crate) fn folder_inside(base: &Path, dir: &Path) -> Result<PathBuf, RpcFailure> {
    let root = resolved_base(base)?;
    let mut at = root.clone();
    for part in dir.components() {
        let Component::Normal(name) = part else {
            continue; // `dir` was cleaned by the option table: only names are left
        };
        let next = at.join(name);
        match std::fs::symlink_metadata(&next) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // `create_dir` makes this one folder and fails on anything in the way (a
                // link made meanwhile included): nothing is made through a link.
                std::fs::create_dir(&next).map_err(|e| {
                    RpcFailure(format!(
                        "dir '{}': cannot make {}: {e}",
                        dir.display(),
                        next.display()
                    ))
                })?;
                at = next;
            }
            Err(e) => {
                return Err(RpcFailure(format!(
                    "dir '{}': cannot read {}: {e}",
                    dir.display(),
                    next.display()
                )));
            }
            Ok(meta) if meta.file_type().is_symlink() => {
                at = match std::fs::canonicalize(&next) {
                    Ok(target) if target.starts_with(&root) && target.is_dir() => target,
                    Ok(target) if target.starts_with(&root) => {
                        return Err(RpcFailure(format!(
                            "dir '{}': {} is not a folder",
                            dir.display(),
                            next.display()
                        )));
                    }
                    _ => return Err(leads_out("dir", dir, &next, base)),
                };
            }
            Ok(meta) if meta.is_dir() => at = next,
            Ok(_) => {
                return Err(RpcFailure(format!(
                    "dir '{}': {} is a file, not a folder",
                    dir.display(),
                    next.display()
                )));
            }
        }
    }
    Ok(at)
}

/// A file an option names (`load-cookies`), relative to `base` or absolute, resolved through
/// every link: read only when it lies inside `base`. Errors: a file outside (by its text or
/// through a link), or one that cannot be found.
pub(crate) fn file_inside(option: &str, base: &Path, file: &Path) -> Result<PathBuf, RpcFailure> {
    let root = resolved_base(base)?;
    let named = base.join(file);
    match std::fs::canonicalize(&named) {
        Ok(target) if target.starts_with(&root) => Ok(target),
        Ok(_) => Err(leads_out(option, file, &named, base)),
        // Said the same way whether or not it exists outside: the RPC tells nothing about
        // files outside the destination.
        Err(_)
            if !named.starts_with(base) || file.components().any(|c| c == Component::ParentDir) =>
        {
            Err(leads_out(option, file, &named, base))
        }
        Err(e) => Err(RpcFailure(format!(
            "{option} '{}': cannot read it: {e}",
            file.display()
        ))),
    }
}

fn resolved_base(base: &Path) -> Result<PathBuf, RpcFailure> {
    std::fs::create_dir_all(base)
        .and_then(|()| std::fs::canonicalize(base))
        .map_err(|e| {
            RpcFailure(format!(
                "the destination folder {} cannot be used: {e}",
                base.display()
            ))
        })
}

fn leads_out(option: &str, given: &Path, at: &Path, base: &Path) -> RpcFailure {
    RpcFailure(format!(
        "{option} '{}' is outside the destination folder {} ({} leads out of it); over the RPC, \
         paths must stay inside it",
        given.display(),
        base.display(),
        at.display()
    ))
}
