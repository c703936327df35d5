//! Fetchers: one module per kind of source.
//!
//! Owns: getting bytes from a source into a `.part` writer. `http` talks to servers, `file`
//! reads local files on the blocking pool. Fetchers take a stop token and a progress counter
//! and return a typed [`Stop`] reason; they know nothing of channels, events or scheduling.

pub mod file;
pub mod http;

use crate::protocol::{FetchError, TimeoutKind};

/// Why a fetch ended early.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The stop token was cancelled (by the user, the deadline, or shutdown); the job layer
    /// knows which.
    Stopped,
    TimedOut(TimeoutKind),
    Failed(FetchError),
    /// The server is busy (429 / 503) and said when to ask again.
    Busy(FetchError, std::time::Duration),
    /// The file is already there and complete (`Output::skip_existing`): nothing to fetch.
    Exists(std::path::PathBuf),
}

impl From<FetchError> for Stop {
    fn from(e: FetchError) -> Self {
        Stop::Failed(e)
    }
}
