//! The engine from outside its runtime, as a UI thread uses it: the waker, and dropping the
//! engine mid-transfer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::Server;
use haul_core::protocol::Waker;
use haul_core::protocol::{Event, Outcome, Output, Source};
use haul_engine::{Engine, EngineConfig};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn the_waker_is_called_for_events_and_drop_waits_for_cleanup() {
    let rt = runtime();
    let server = rt.block_on(Server::start());
    let dest = tempfile::tempdir().expect("tempdir");
    let wakes = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&wakes);
    let waker: Waker = Arc::new(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let config = EngineConfig {
        output: Output {
            dest: dest.path().to_path_buf(),
            ..Output::default()
        },
        waker: Some(waker),
        ..EngineConfig::default()
    };
    // Started from a plain thread, like the window's main thread.
    let (engine, mut events) = Engine::start(rt.handle(), config).expect("engine");
    let url = server.url("/bytes/1000000/held.bin?stall_after=10000");
    let id = engine.submit(Source::parse(&url, std::path::Path::new("/")).expect("url"));
    let mut seen = 0;
    loop {
        let event = events.blocking_recv().expect("event");
        seen += 1;
        if matches!(event, Event::Progress { .. }) {
            break;
        }
    }
    // The sink sends, then wakes: the last wake may land just after its event is read.
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    while wakes.load(Ordering::SeqCst) < seen && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(
        wakes.load(Ordering::SeqCst) >= seen,
        "one wake per event at least"
    );
    assert!(dest.path().join("held.bin.part").exists());

    drop(engine); // must cancel and wait for cleanup before returning

    assert!(
        !dest.path().join("held.bin.part").exists(),
        "cleaned up by the time drop returns"
    );
    let mut outcome = None;
    while let Ok(event) = events.try_recv() {
        if let Event::Finished {
            id: done,
            outcome: o,
            ..
        } = event
            && done == id
        {
            outcome = Some(o);
        }
    }
    assert_eq!(outcome, Some(Outcome::Cancelled));
    assert!(
        rt.block_on(server.closed_at(
            "/bytes/1000000/held.bin?stall_after=10000",
            Duration::from_secs(2)
        ))
        .is_some()
    );
}
