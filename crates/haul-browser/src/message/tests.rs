use std::cell::RefCell;
use std::rc::Rc;

use super::*;

/// A host whose hand-offs are kept in `got`.
fn host(trusted: bool) -> (Host, Rc<RefCell<Vec<Handoff>>>) {
    let got = Rc::new(RefCell::new(Vec::new()));
    let kept = Rc::clone(&got);
    let host = Host {
        trusted_caller: trusted,
        deliver: Box::new(move |h| {
            kept.borrow_mut().push(h.clone());
            Ok(())
        }),
        window: Box::new(|| true),
    };
    (host, got)
}

#[test]
fn a_download_becomes_a_handoff_with_what_the_server_needs() {
    let (mut host, got) = host(true);
    let reply = host.answer(
        br#"{"id":7,"type":"download","items":[{"url":"http://127.0.0.1:9/big.bin",
            "referrer":"http://127.0.0.1:9/page.html","cookie":"session=s3cret",
            "userAgent":"Mozilla/5.0 test","filename":"big.bin"}]}"#,
    );
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["id"], 7);
    let got = got.borrow();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].sources, ["http://127.0.0.1:9/big.bin"]);
    let options: Vec<(&str, &str)> = got[0]
        .options
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        options,
        [
            ("referer", "http://127.0.0.1:9/page.html"),
            ("user-agent", "Mozilla/5.0 test"),
            ("out", "big.bin"),
            ("header", "Cookie: session=s3cret"),
        ]
    );
}

#[test]
fn each_bad_item_gets_its_own_error_and_the_others_go_on() {
    let (mut host, got) = host(true);
    let reply = host.answer(
        br#"{"type":"download","items":[
            {"url":"file:///etc/passwd"},
            {"url":"http://127.0.0.1:9/a.bin","filename":"../../.bashrc"},
            {"url":"http://127.0.0.1:9/b.bin","cookie":"a=b\r\nX-Evil: 1"},
            {"url":"gopher://h/x"},
            {"url":"http://127.0.0.1:9/ok.bin"}]}"#,
    );
    assert_eq!(reply["ok"], false);
    let results = reply["results"].as_array().expect("results");
    assert_eq!(results.len(), 5);
    assert!(results[..4].iter().all(|r| r["ok"] == false), "{reply}");
    assert!(
        results[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("path")),
        "{reply}"
    );
    assert_eq!(results[4]["ok"], true);
    // A refused cookie is not echoed.
    assert!(!reply.to_string().contains("X-Evil"), "{reply}");
    assert_eq!(
        got.borrow().len(),
        1,
        "only the good item reached the window"
    );
}

#[test]
fn malformed_unknown_and_foreign_messages_get_errors() {
    let (mut host, got) = host(true);
    for bad in [
        &b"not json"[..],
        br#"{"type":"format-disk"}"#,
        br#"[1,2]"#,
        br#"{"type":"download","items":[]}"#,
        br#"{"type":"download","items":[{"url":"http://h/x","evil":1}]}"#,
    ] {
        let reply = host.answer(bad);
        assert_eq!(reply["ok"], false, "{reply}");
        assert!(reply["error"].is_string(), "{reply}");
    }
    let too_many = json!({
        "type": "download",
        "items": vec![json!({"url": "http://h/x"}); MAX_ITEMS + 1],
    });
    let reply = host.answer(too_many.to_string().as_bytes());
    assert_eq!(reply["ok"], false);
    assert!(got.borrow().is_empty());

    let (mut foreign, got) = super::tests::host(false);
    let reply = foreign.answer(br#"{"type":"download","items":[{"url":"http://h/x"}]}"#);
    assert_eq!(reply["ok"], false);
    assert!(got.borrow().is_empty());
}

#[test]
fn pick_hands_the_addresses_over_in_one_list() {
    let (mut host, got) = host(true);
    let reply = host.answer(
        br#"{"type":"download","pick":true,"items":[{"url":"http://h/a"},{"url":"ftp://h/b"},{"url":"javascript:x"}]}"#,
    );
    assert_eq!(reply["ok"], true, "{reply}");
    assert_eq!(reply["results"][2]["ok"], false);
    let got = got.borrow();
    assert_eq!(got.len(), 1);
    assert!(got[0].pick);
    assert_eq!(got[0].sources, ["http://h/a", "ftp://h/b"]);
}
