//! Free final names in the destination: the first `name (N).ext` that neither this engine has
//! handed out nor anything on disk holds, and the `.part` name beside it.
//!
//! Owns: choosing among a name's variants. Must not touch: what names are made of (that is
//! `names`), the files' contents.

use std::path::{Path, PathBuf};

use super::sys::exists;
use crate::names::{self, Names};
use crate::protocol::{DiskProblem, FetchError};

/// How far `name (N).ext` goes before giving up on a folder.
const MAX_VARIANTS: u32 = 10_000;
/// Takes the first variant of `base` (`base`, `base (1)`, …), counting from `from`, that this
/// engine has not handed out and, unless `overwrite`, that nothing on disk stands at.
/// Returns its number and path, now reserved in `names`.
pub(super) fn take_free(
    names: &Names,
    dest: &Path,
    base: &str,
    from: u32,
    overwrite: bool,
) -> Result<(u32, PathBuf), FetchError> {
    for n in from..MAX_VARIANTS {
        let candidate = dest.join(names::variant(base, n));
        if (overwrite || !exists(&candidate)) && names.try_take(&candidate) {
            return Ok((n, candidate));
        }
    }
    Err(FetchError::Write {
        path: dest.join(base),
        message: format!("no free name after {MAX_VARIANTS} tries"),
        problem: DiskProblem::InUse,
    })
}

/// `dir/name.ext` → `dir/name.ext.part`.
pub(super) fn with_part_suffix(target: &Path) -> PathBuf {
    let mut part = target.as_os_str().to_owned();
    part.push(".part");
    PathBuf::from(part)
}
