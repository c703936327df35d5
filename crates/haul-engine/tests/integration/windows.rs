//! What only Windows has, run under Wine in CI (`.ci/windows`) and on Windows itself: the
//! Mark of the Web where the volume keeps named streams and nothing stray where it does not.
//! Must not touch: what every platform shares (the other modules test it everywhere).

use crate::support::Server;
use crate::support::harness::{Harness, limits};

/// The mark is a `Zone.Identifier` stream, written only where the volume keeps named streams:
/// on FAT, exFAT and under Wine it is left out, and nothing stray appears beside the download
/// (Wine wrote a regular file `small.bin:Zone.Identifier` there).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mark_of_the_web_is_a_stream_where_the_volume_keeps_them_and_nothing_elsewhere() {
    let server = Server::start().await;
    let mut h = Harness::new(limits());
    std::fs::create_dir_all(&h.out).expect("out");
    // Whether this volume keeps streams, found as a person would: a stream written to a probe
    // leaves the folder listing the probe alone.
    std::fs::write(h.out.join("probe"), b"").expect("probe");
    let wrote = std::fs::write(h.out.join("probe:s"), b"1").is_ok();
    let streams = wrote && h.listing() == ["probe"];
    for name in h.listing() {
        std::fs::remove_file(h.out.join(name)).expect("remove the probe");
    }
    let url = server.url("/bytes/300/small.bin");
    let id = h.submit(&url);
    let done = h.finish(&[id]).await;
    let Some(path) = done[&id].outcome.path() else {
        panic!("not done: {:?}", done[&id]);
    };
    assert_eq!(h.listing(), ["small.bin"], "nothing beside the download");
    let mut stream = path.as_os_str().to_owned();
    stream.push(":Zone.Identifier");
    let mark = std::fs::read_to_string(stream).ok();
    if streams {
        assert_eq!(
            mark,
            Some(format!("[ZoneTransfer]\r\nZoneId=3\r\nHostUrl={url}\r\n"))
        );
    } else {
        assert_eq!(mark, None, "no streams here, so no mark");
    }
}
