//! The option table and its readers agree row by row; bad values say why.

use super::*;

/// A value each per-item row accepts (the reader and the table must agree on every row).
fn sample(name: &str) -> String {
    match name {
        "out" => "a.bin".to_owned(),
        "dir" => "sub/dir".to_owned(),
        "header" => "X-A: 1".to_owned(),
        "referer" => "https://r/".to_owned(),
        "user-agent" => "Mozilla/5.0".to_owned(),
        "checksum" => format!("sha-256={}", "ab".repeat(32)),
        "split" => "8".to_owned(),
        "max-download-limit" => "500K".to_owned(),
        "quality" => "720p".to_owned(),
        "duration" => "90".to_owned(),
        "sub-langs" => "en,pt-BR".to_owned(),
        "http-user" => "me".to_owned(),
        "http-passwd" => "pw".to_owned(),
        "load-cookies" => "c.txt".to_owned(),
        "check-certificate" => "false".to_owned(),
        "ca-certificate" => "ca.pem".to_owned(),
        "trust-certificate" => "cd".repeat(32),
        "select-file" => "1,3-5".to_owned(),
        "seed-ratio" => "1.5".to_owned(),
        "seed-time" => "0".to_owned(),
        "bt-tracker" => "http://127.0.0.1:6969/announce".to_owned(),
        "follow-torrent" => "false".to_owned(),
        other => panic!("the per-item row '{other}' has no sample here"),
    }
}

#[test]
fn every_per_item_row_is_read_and_read_back() {
    let mut given = Given::default();
    for spec in table::item_options() {
        let value = sample(spec.name);
        given
            .set(spec.name, &value)
            .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
    }
    let values = given.values();
    for spec in table::item_options().filter(|s| s.kind != Kind::Secret) {
        let shown = values
            .iter()
            .find(|(name, _)| *name == spec.name)
            .unwrap_or_else(|| panic!("{} is not read back", spec.name));
        let mut again = Given::default();
        again
            .set(spec.name, &shown.1)
            .unwrap_or_else(|e| panic!("{} read back as {:?}: {e}", spec.name, shown.1));
    }
    let dest = Path::new("/d");
    let place = Place {
        base: Path::new("/base"),
        inside: None,
    };
    let finished = given.finish(dest, place, None).expect("complete");
    assert_eq!(finished.dest, Path::new("/d/sub/dir"));
    assert_eq!(finished.options.out.as_deref(), Some("a.bin"));
    assert_eq!(finished.options.split, Some(8));
    assert_eq!(finished.options.torrent.select, Some(vec![1, 3, 4, 5]));
    assert_eq!(finished.options.torrent.seed_time, Some(Duration::ZERO));
    assert_eq!(finished.options.max_rate, Some(500 * 1024));
    assert_eq!(finished.options.request.headers.len(), 1);
    assert_eq!(
        finished.options.request.cookies_file.as_deref(),
        Some(Path::new("/base/c.txt"))
    );
    assert!(finished.options.trust.insecure);
    assert_eq!(
        finished.options.trust.ca_file.as_deref(),
        Some(Path::new("/base/ca.pem"))
    );
    assert_eq!(finished.options.trust.pinned.len(), 1);
    let credentials = finished.options.request.credentials.expect("credentials");
    assert_eq!(
        (credentials.user.as_str(), credentials.password.as_str()),
        ("me", "pw")
    );
    assert!(finished.checksum.is_some());
}

#[test]
fn every_global_row_is_read_and_read_back_and_defaults_are_the_engines() {
    let (limits, output) = (Limits::default(), Output::default());
    for spec in table::global_options() {
        let value = global_value(&limits, &output, spec.name)
            .unwrap_or_else(|| panic!("{} has no value", spec.name));
        let (mut l, mut o) = (limits, output.clone());
        set_global(&mut l, &mut o, spec.name, &value)
            .unwrap_or_else(|e| panic!("{} = {value:?}: {e}", spec.name));
        assert_eq!((l, o), (limits, output.clone()), "{} round trip", spec.name);
    }
    let (mut l, mut o) = (limits, output);
    set_global(&mut l, &mut o, "max-tries", "1").expect("set");
    assert_eq!(l.retries, 0);
    set_global(&mut l, &mut o, "max-overall-download-limit", "2M").expect("set");
    assert_eq!(l.max_rate, Some(2 << 20));
    set_global(&mut l, &mut o, "max-time", "0").expect("set");
    assert_eq!(l.deadline, None);
    assert!(set_global(&mut l, &mut o, "split", "17").is_err());
    assert!(set_global(&mut l, &mut o, "out", "x").is_err());
}

#[test]
fn names_are_unique_and_cli_rows_name_a_flag() {
    let mut seen = std::collections::HashSet::new();
    for spec in OPTIONS {
        for name in std::iter::once(&spec.name).chain(spec.aliases) {
            assert!(seen.insert(*name), "{name} twice");
        }
        assert_eq!(
            spec.places.has(Places::CLI),
            spec.cli.is_some(),
            "{}",
            spec.name
        );
        assert!(!spec.help.is_empty());
    }
}

#[test]
fn bad_values_say_why() {
    let mut given = Given::default();
    let err =
        |given: &mut Given, name, value| given.set(name, value).expect_err("refused").to_string();
    assert!(err(&mut given, "dir", "../up").contains("leaves the destination"));
    assert!(err(&mut given, "dir", "/etc").contains("leaves the destination"));
    assert!(err(&mut given, "dir", "a/..\\..\\b").contains("leaves the destination"));
    assert!(err(&mut given, "header", "no colon").contains("Name: value"));
    assert!(err(&mut given, "checksum", "md5=abc").contains("sha256"));
    assert!(err(&mut given, "split", "99").contains("1 to 16"));
    assert!(err(&mut given, "out", "a/b").contains("only a file name"));
    assert!(err(&mut given, "max-conn", "2").starts_with("unknown option 'max-conn'"));
    assert!(err(&mut given, "max-concurrent-downloads", "2").contains("for all downloads"));
    let mut lone = Given::default();
    lone.set("http-passwd", "x").expect("set");
    let place = Place {
        base: Path::new("/"),
        inside: None,
    };
    assert!(lone.finish(Path::new("/d"), place, None).is_err());
}

#[test]
fn aria2s_checksum_spelling_and_curls_are_one() {
    let hex = "ab".repeat(32);
    for text in [
        format!("sha-256={hex}"),
        format!("sha256={hex}"),
        format!("sha256:{hex}"),
        format!("SHA-256={hex}"),
    ] {
        let mut given = Given::default();
        given
            .set("checksum", &text)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
    }
}

#[test]
fn over_the_rpc_a_cookies_file_stays_inside_the_destination() {
    let dest = Path::new("/dl");
    let rpc = Place {
        base: dest,
        inside: Some(dest),
    };
    for outside in ["/etc/passwd", "../secret.txt", "a/../../x"] {
        let mut given = Given::default();
        given.set("load-cookies", outside).expect("set");
        let error = given
            .finish(dest, rpc, None)
            .expect_err(outside)
            .to_string();
        assert!(error.contains("outside the destination"), "{error}");
    }
    let mut given = Given::default();
    given.set("load-cookies", "c/cookies.txt").expect("set");
    let finished = given.finish(dest, rpc, None).expect("inside");
    assert_eq!(
        finished.options.request.cookies_file.as_deref(),
        Some(Path::new("/dl/c/cookies.txt"))
    );
}

#[test]
fn only_name_equals_value_is_an_option_line() {
    assert_eq!(option_line("  out=a.bin"), Some(("out", "a.bin")));
    assert_eq!(option_line("\theader=X: a=b"), Some(("header", "X: a=b")));
    assert_eq!(option_line("  https://h/x?a=b"), None);
    assert_eq!(option_line("  C:\\x=y"), None);
}
