//! Which Haul this is: the package version and the git commit it was built from, as
//! `haul --version`, `haul-cli --version` and the window's About box show them.
//!
//! The commit comes from `build.rs`; a build outside a git checkout says `unknown`.

/// The package version, from `Cargo.toml`: `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The short hash of the commit built (`abc1234`), or `unknown`.
pub const GIT_HASH: &str = env!("HAUL_GIT_HASH");

/// The date of that commit (`2026-11-26`), empty when unknown.
pub const GIT_DATE: &str = env!("HAUL_GIT_DATE");

/// The version with its commit: `0.1.0 (abc1234 2026-11-26)`, or `0.1.0 (unknown)`.
pub const LONG: &str = concat!(env!("CARGO_PKG_VERSION"), " (", env!("HAUL_BUILD"), ")");

/// The licence Haul is offered under, from `Cargo.toml`.
pub const LICENSE: &str = env!("CARGO_PKG_LICENSE");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_long_version_names_the_version_and_the_commit() {
        assert!(LONG.starts_with(&format!("{VERSION} (")), "{LONG}");
        assert!(LONG.ends_with(')'), "{LONG}");
        assert!(LONG.contains(GIT_HASH), "{LONG}");
        assert!(!GIT_HASH.is_empty());
        assert!(!GIT_HASH.contains(char::is_whitespace), "{GIT_HASH}");
        assert_eq!(LICENSE, "MIT OR Apache-2.0");
    }
}
