//! Timeouts and failures, each its own: a stalled body or slow headers, the deadline, a short
//! body or a reset that keeps what arrived, a refused or unanswered connect, error statuses
//! whose body is never saved, redirects followed within bounds.

use crate::support::harness::{Harness, assert_done_with, limits};
use crate::support::{Server, body};
use haul_core::protocol::{FetchError, JobId, Limits, Outcome, TimeoutKind};
use std::time::Duration;

/// Runs one URL that must fail in some way; checks that nothing stands under a final name.
/// Returns the outcome and the bytes kept in a `.part` for resuming, if any (a kept `.part`
/// always has its sidecar, and nothing else is left).
async fn expect_not_done(server: &Server, path: &str, lim: Limits) -> (Outcome, Option<Vec<u8>>) {
    let mut h = Harness::new(lim);
    let id = h.submit(&server.url(path));
    let done = h.finish(&[id]).await;
    let names = h.listing();
    let parts: Vec<&String> = names.iter().filter(|n| n.ends_with(".part")).collect();
    let kept = match parts.as_slice() {
        [] => {
            assert!(names.is_empty(), "{path}: left behind {names:?}");
            None
        }
        [part] => {
            let sidecar = format!("{part}.haul");
            assert_eq!(names.len(), 2, "{path}: left behind {names:?}");
            assert!(names.contains(&sidecar), "{path}: no sidecar in {names:?}");
            std::fs::read(h.out.join(part)).ok()
        }
        _ => panic!("{path}: left behind {names:?}"),
    };
    (done[&id].outcome.clone(), kept)
}

fn short_stall() -> Limits {
    Limits {
        stall_timeout: Duration::from_millis(400),
        ..limits()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_times_out_as_a_stall() {
    let server = Server::start().await;
    let (outcome, kept) = expect_not_done(
        &server,
        "/bytes/100000/s.bin?stall_after=5000",
        short_stall(),
    )
    .await;
    assert_eq!(outcome, Outcome::TimedOut(TimeoutKind::Stall));
    // What arrived is kept, byte-exact, to be resumed.
    assert_eq!(kept.as_deref(), Some(&body(100_000)[..5000]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_time_out_as_a_stall() {
    let server = Server::start().await;
    let (outcome, kept) = expect_not_done(
        &server,
        "/bytes/10/h.bin?delay_headers_ms=3000",
        short_stall(),
    )
    .await;
    assert_eq!(outcome, Outcome::TimedOut(TimeoutKind::Stall));
    assert_eq!(kept, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_drip_within_the_stall_timeout_succeeds() {
    let server = Server::start().await;
    let mut h = Harness::new(short_stall());
    let id = h.submit(&server.url("/bytes/8192/drip.bin?drip_ms=100"));
    let done = h.finish(&[id]).await;
    assert_done_with(&done[&id], &body(8192));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_is_its_own_timeout() {
    let server = Server::start().await;
    let (outcome, kept) = expect_not_done(
        &server,
        "/bytes/100000/d.bin?drip_ms=50",
        Limits {
            deadline: Some(Duration::from_millis(500)),
            ..limits()
        },
    )
    .await;
    assert_eq!(outcome, Outcome::TimedOut(TimeoutKind::Deadline));
    let kept = kept.expect("a timed-out item keeps its bytes");
    assert!(!kept.is_empty() && body(100_000).starts_with(&kept));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_body_fails_and_keeps_what_arrived() {
    let server = Server::start().await;
    let (outcome, kept) =
        expect_not_done(&server, "/bytes/5000/short.bin?short=1000", limits()).await;
    assert_eq!(
        outcome,
        Outcome::Failed(FetchError::ShortBody {
            expected: 5000,
            received: 1000
        })
    );
    assert_eq!(kept.as_deref(), Some(&body(5000)[..1000]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_fails_and_keeps_what_arrived() {
    let server = Server::start().await;
    let (outcome, kept) =
        expect_not_done(&server, "/bytes/100000/r.bin?reset_after=1000", limits()).await;
    let Outcome::Failed(FetchError::Body(message)) = &outcome else {
        panic!("expected a broken transfer, got {outcome:?}");
    };
    assert!(message.contains("after 1000 bytes"), "{message}");
    assert_eq!(kept.as_deref(), Some(&body(100_000)[..1000]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_a_clear_failure() {
    let server = Server::start().await;
    let url = server.url("/bytes/1/x");
    drop(server);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed = listener.local_addr().expect("addr");
    drop(listener);
    let mut h = Harness::new(limits());
    let id = h.submit(&format!("http://{closed}/x"));
    let done = h.finish(&[id]).await;
    let Outcome::Failed(FetchError::Connect {
        detail: message,
        problem,
    }) = &done[&id].outcome
    else {
        panic!(
            "expected a connect failure, got {:?} for {url}",
            done[&id].outcome
        );
    };
    assert!(message.to_lowercase().contains("refused"), "{message}");
    assert_eq!(*problem, haul_core::protocol::ConnectProblem::Refused);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_connect_times_out_as_connect() {
    let Some((addr, _listener, _fillers)) = crate::support::unresponsive() else {
        eprintln!("skipped: this kernel completes handshakes past a full accept queue");
        return;
    };
    let mut h = Harness::new(Limits {
        connect_timeout: Duration::from_millis(300),
        ..limits()
    });
    let id = h.submit(&format!("http://{addr}/x"));
    let done = h.finish(&[id]).await;
    assert_eq!(done[&id].outcome, Outcome::TimedOut(TimeoutKind::Connect));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_statuses_fail_and_their_body_is_never_saved() {
    let server = Server::start().await;
    for status in [404, 500, 403] {
        let (outcome, kept) = expect_not_done(
            &server,
            &format!("/bytes/10/e.bin?status={status}"),
            limits(),
        )
        .await;
        assert_eq!(kept, None);
        assert_eq!(
            outcome,
            Outcome::Failed(FetchError::HttpStatus {
                status,
                reason: http_reason(status).into()
            })
        );
    }
}

fn http_reason(status: u16) -> &'static str {
    match status {
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Forbidden",
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirects_are_followed_within_bounds() {
    let server = Server::start().await;
    let mut h = Harness::new(limits());
    let chain = h.submit(&server.url("/redirect/3"));
    let ten = h.submit(&server.url("/redirect/10"));
    let too_long = h.submit(&server.url("/redirect/11"));
    let looped = h.submit(&server.url("/loop/a"));
    let to_file = h.submit(&server.url("/to?location=file:///etc/passwd"));
    let done = h.finish(&[chain, ten, too_long, looped, to_file]).await;
    let mut paths = vec![
        assert_done_with(&done[&chain], &body(64)),
        assert_done_with(&done[&ten], &body(64)),
    ];
    paths.sort();
    assert_eq!(
        paths,
        [h.out.join("end (1).bin"), h.out.join("end.bin")],
        "named after the final URL"
    );
    let redirect_error = |id: JobId| match &done[&id].outcome {
        Outcome::Failed(FetchError::Redirect(message)) => message.clone(),
        other => panic!("expected a refused redirect, got {other:?}"),
    };
    assert!(redirect_error(too_long).contains("more than 10"));
    assert!(redirect_error(looped).contains("loop"));
    assert!(redirect_error(to_file).contains("'file'"));
    assert_eq!(h.listing(), ["end (1).bin", "end.bin"]);
}
