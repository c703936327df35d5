//! Where events go: the front end's channel, then its waker.
//!
//! Owns: [`EventSink`], which every part of the engine that reports uses; sending never blocks.
//! Must not touch: what events mean.

use tokio::sync::mpsc;

use crate::protocol::{Event, Waker};

/// The stream of events from one engine. Ends after the engine has shut down.
pub type Events = mpsc::UnboundedReceiver<Event>;

/// The sending side of [`Events`], with the waker called after each event.
#[derive(Clone)]
pub(crate) struct EventSink {
    tx: mpsc::UnboundedSender<Event>,
    waker: Option<Waker>,
}

impl EventSink {
    /// A sink and the stream it feeds.
    pub(crate) fn new(waker: Option<Waker>) -> (EventSink, Events) {
        let (tx, rx) = mpsc::unbounded_channel();
        (EventSink { tx, waker }, rx)
    }

    /// Sends `event` and wakes the front end; a front end that has gone is no error.
    pub(crate) fn send(&self, event: Event) {
        if self.tx.send(event).is_ok()
            && let Some(wake) = &self.waker
        {
            wake();
        }
    }
}
