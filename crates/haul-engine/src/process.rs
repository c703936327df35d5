//! Process-wide set-up that both binaries do once at start.
//!
//! Owns: the open-file limit. Must not touch: the engine's state, any UI toolkit.

/// The soft limit on open files asked for: each running item holds a socket or a source file,
/// its `.part` and a sidecar, and the window allows up to 256 items at once.
pub const OPEN_FILES_WANTED: u64 = 4096;

/// Raises this process's soft limit on open files (`RLIMIT_NOFILE`) towards
/// [`OPEN_FILES_WANTED`], as far as the hard limit (and on macOS `kern.maxfilesperproc`)
/// allows. Defaults are low for a downloader: 256 on macOS (items failed with "Too many open
/// files" beyond about 80 at once), often 1024 on Linux. Returns the soft limit now in force,
/// `None` where there is no such limit (Windows) or it could not be read; a failure to raise
/// it is logged, never fatal. Uses the `rlimit` crate, which knows macOS's extra ceiling.
pub fn raise_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        match rlimit::increase_nofile_limit(OPEN_FILES_WANTED) {
            Ok(limit) => {
                tracing::debug!(limit, "open-file limit");
                Some(limit)
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not raise the open-file limit");
                rlimit::Resource::NOFILE.get().ok().map(|(soft, _)| soft)
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}
