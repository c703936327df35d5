//! Whether and why to stop: one value per item, and one for the whole engine (mini-redis's
//! `Shutdown` is the model).
//!
//! Owns: [`StopSignal`], a cancellation token that carries the reason it was cancelled. The
//! reason is set once, before the token is cancelled, so whoever sees the token cancelled can
//! read why — and how an item ended becomes a plain `match` on that reason. An item's signal
//! is a child of the engine's: stopping the engine stops every item, and an item with no
//! reason of its own takes the engine's (cancel on shutdown, pause when suspending).
//! Must not touch: what a reason means for the bytes (that is `job`), queueing.

use std::sync::{Arc, OnceLock};

use tokio_util::sync::CancellationToken;

/// Why something was told to stop. The first reason given wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopReason {
    /// Cancelled: the bytes are not wanted.
    Cancel,
    /// Paused (by the person, or by the engine suspending as the window closes): keep the
    /// bytes, so submitting the same source again resumes them.
    Pause,
    /// The item's own deadline passed: keep the bytes, report a timeout.
    Deadline,
}

/// A cancellation token and the reason it was cancelled.
#[derive(Debug, Clone, Default)]
pub(crate) struct StopSignal {
    token: CancellationToken,
    reason: Arc<OnceLock<StopReason>>,
    /// The parent's reason, which applies when this signal has none of its own.
    parent: Option<Arc<OnceLock<StopReason>>>,
}

impl StopSignal {
    /// A signal that stops with this one (and may also stop on its own).
    pub(crate) fn child(&self) -> StopSignal {
        StopSignal {
            token: self.token.child_token(),
            reason: Arc::default(),
            parent: Some(Arc::clone(&self.reason)),
        }
    }

    /// Records `reason` (unless one was recorded already), then cancels.
    pub(crate) fn stop(&self, reason: StopReason) {
        let _ = self.reason.set(reason);
        self.token.cancel();
    }

    /// Why it stopped: its own reason, else its parent's; `None` while it has not stopped.
    pub(crate) fn reason(&self) -> Option<StopReason> {
        if !self.token.is_cancelled() {
            return None;
        }
        self.reason
            .get()
            .or_else(|| self.parent.as_ref().and_then(|p| p.get()))
            .copied()
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once stopped.
    pub(crate) async fn stopped(&self) {
        self.token.cancelled().await;
    }

    /// The token, for fetchers (they only need to know *that* they must stop).
    pub(crate) fn token(&self) -> &CancellationToken {
        &self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_wins_and_children_inherit_their_parents() {
        let engine = StopSignal::default();
        let paused = engine.child();
        let plain = engine.child();
        assert_eq!(paused.reason(), None);
        paused.stop(StopReason::Pause);
        paused.stop(StopReason::Deadline);
        assert_eq!(paused.reason(), Some(StopReason::Pause));
        assert!(!plain.is_stopped(), "a sibling is not stopped");
        engine.stop(StopReason::Cancel);
        assert_eq!(plain.reason(), Some(StopReason::Cancel));
        assert_eq!(
            paused.reason(),
            Some(StopReason::Pause),
            "its own reason stays"
        );
    }
}
