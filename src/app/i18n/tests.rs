//! Every catalog has every key once, keeps every placeholder, and is really translated.

use std::collections::BTreeSet;

use super::*;

fn keys(catalog: &[(T, &str)]) -> Vec<T> {
    catalog.iter().map(|(k, _)| *k).collect()
}

fn placeholders(text: &str) -> BTreeSet<String> {
    text.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
        .collect()
}

const CATALOGS: [(&str, &[(T, &str)]); 3] = [
    ("en", en::CATALOG),
    ("zh-Hans", zh_hans::CATALOG),
    ("zh-Hant", zh_hant::CATALOG),
];

#[test]
fn every_catalog_has_every_key_once_in_the_same_order() {
    let all: BTreeSet<T> = T::ALL.iter().copied().collect();
    for (name, catalog) in CATALOGS {
        let keys = keys(catalog);
        let set: BTreeSet<T> = keys.iter().copied().collect();
        assert_eq!(set.len(), keys.len(), "{name} has a key twice");
        let missing: Vec<_> = all.difference(&set).collect();
        assert!(missing.is_empty(), "{name} lacks {missing:?}");
        assert_eq!(
            keys,
            self::keys(en::CATALOG),
            "{name}: keys in another order"
        );
    }
}

#[test]
fn translations_are_non_empty_keep_their_placeholders_and_are_translated() {
    for (lang, name) in [(Lang::Zh, "zh-Hans"), (Lang::ZhHant, "zh-Hant")] {
        for (key, en) in en::CATALOG {
            let text = Tr(lang).get(*key);
            assert!(
                !en.is_empty() && !text.is_empty(),
                "{name} {key:?} is empty"
            );
            assert_eq!(placeholders(en), placeholders(text), "{name} {key:?}");
        }
        // Names like "Haul" and "SHA-256" stay as they are.
        let same: Vec<T> = en::CATALOG
            .iter()
            .filter(|(key, en)| Tr(lang).get(*key) == *en)
            .map(|(key, _)| *key)
            .collect();
        assert!(same.len() <= 3, "{name} leaves these in English: {same:?}");
    }
    let differ = zh_hans::CATALOG
        .iter()
        .filter(|(key, text)| Tr(Lang::ZhHant).get(*key) != *text)
        .count();
    assert!(
        differ > zh_hans::CATALOG.len() / 2,
        "繁體 is not a copy of 简体"
    );
}

#[test]
fn language_follows_the_locale_unless_chosen() {
    let system = LanguageChoice::System;
    assert_eq!(system.resolve(Some("zh-CN")), Lang::Zh);
    assert_eq!(system.resolve(Some("zh_CN.UTF-8")), Lang::Zh);
    assert_eq!(system.resolve(Some("zh-Hans-CN")), Lang::Zh);
    assert_eq!(system.resolve(Some("zh-TW")), Lang::ZhHant);
    assert_eq!(system.resolve(Some("zh_HK.UTF-8")), Lang::ZhHant);
    assert_eq!(system.resolve(Some("zh-Hant")), Lang::ZhHant);
    assert_eq!(system.resolve(Some("en-US")), Lang::En);
    assert_eq!(system.resolve(Some("C")), Lang::En);
    assert_eq!(system.resolve(None), Lang::En);
    assert_eq!(LanguageChoice::Chinese.resolve(Some("en-US")), Lang::Zh);
    assert_eq!(
        LanguageChoice::ChineseTraditional.resolve(None),
        Lang::ZhHant
    );
    assert_eq!(LanguageChoice::English.resolve(Some("zh-CN")), Lang::En);
}

#[test]
fn durations_counts_and_speed_ups_read_right_in_each_language() {
    let (en, zh, hant) = (Tr(Lang::En), Tr(Lang::Zh), Tr(Lang::ZhHant));
    let d = Duration::from_secs(122);
    assert_eq!(en.duration(d), "2 min 02 s");
    assert_eq!(zh.duration(d), "2 分 02 秒");
    assert_eq!(hant.duration(Duration::from_secs(3700)), "1 小時 01 分");
    assert_eq!(zh.duration(Duration::from_millis(850)), "850 毫秒");
    assert_eq!(en.items(1), "1 item");
    assert_eq!(en.items(3), "3 items");
    assert_eq!(zh.items(3), "3 项");
    let faster = zh.fill(
        T::SummaryFaster,
        &[("wall", "1 分"), ("sum", "3 分"), ("ratio", "2.4")],
    );
    assert!(
        faster.contains("速度是逐个下载的 2.4 倍") && !faster.contains("快"),
        "{faster}"
    );
    assert!(
        en.fill(T::SummaryFaster, &[("ratio", "2.4")])
            .contains("2.4 times as fast")
    );
}

#[test]
fn every_failure_has_a_sentence_in_every_language() {
    use std::path::PathBuf;
    let errors = [
        FetchError::Connect {
            problem: ConnectProblem::Refused,
            detail: "x".into(),
        },
        FetchError::Connect {
            problem: ConnectProblem::NameNotResolved,
            detail: "x".into(),
        },
        FetchError::HttpStatus {
            status: 404,
            reason: "Not Found".into(),
        },
        FetchError::HttpStatus {
            status: 503,
            reason: String::new(),
        },
        FetchError::Write {
            path: PathBuf::from("/x"),
            message: "m".into(),
            problem: DiskProblem::Full,
        },
        FetchError::InvalidSource {
            input: "htp://x".into(),
            reason: SourceError::UnsupportedScheme("htp".into()),
        },
        FetchError::TooLarge { limit: 1024 },
        FetchError::NoSpace {
            folder: PathBuf::from("/x"),
            needed: 20 * 1024 * 1024,
            free: 512 * 1024,
        },
        FetchError::Torrent(
            "no peer sent this torrent's metadata within 120 s (no peer hints; DHT on)".into(),
        ),
    ];
    for tr in [Tr(Lang::En), Tr(Lang::Zh), Tr(Lang::ZhHant)] {
        for error in &errors {
            let text = tr.failure(error);
            assert!(!text.is_empty() && !text.contains('{'), "{text}");
            assert!(!text.contains("os error"), "no developer text: {text}");
        }
    }
    assert_eq!(
        Tr(Lang::En).failure(&errors[0]),
        "The server refused the connection"
    );
    assert_eq!(Tr(Lang::Zh).failure(&errors[4]), "磁盘空间不足");
    assert_eq!(
        Tr(Lang::En).failure(&errors[7]),
        "Not enough space on the disk: 20.0 MiB more needed, 512.0 KiB free"
    );
    assert_eq!(
        Tr(Lang::Zh).failure(&errors[7]),
        "磁盘空间不足：还需 20.0 MiB，可用 512.0 KiB"
    );
    assert_eq!(
        Tr(Lang::En).failure(&errors[5]),
        "Haul cannot download htp: addresses"
    );
    // A torrent's own English sentence is its technical text, under the person's sentence.
    assert_eq!(Tr(Lang::Zh).failure(&errors[8]), "无法获取该种子");
    assert_eq!(Tr(Lang::ZhHant).failure(&errors[8]), "無法取得該種子");
}

/// The add box and the empty list said "Ctrl+Enter" and "Ctrl+V" on a Mac, where the keys
/// are Command.
#[test]
fn shortcuts_name_the_command_key_on_a_mac() {
    let hint = en::CATALOG
        .iter()
        .find(|(k, _)| *k == T::AddBoxHint)
        .map(|(_, text)| *text)
        .unwrap_or_default();
    assert!(hint.contains("Ctrl+Enter"), "{hint}");
    assert!(for_this_keyboard(hint, true).contains("(⌘Enter adds)"));
    assert_eq!(for_this_keyboard(hint, false), hint);
    let zh = zh_hans::CATALOG.iter().find(|(k, _)| *k == T::EmptyList);
    let zh = zh
        .map(|(_, text)| for_this_keyboard(text, true))
        .unwrap_or_default();
    assert!(zh.contains("按 ⌘V") && !zh.contains("Ctrl"), "{zh}");
}
