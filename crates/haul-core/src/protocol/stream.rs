//! What a video stream's item asks for beyond its URL: which variant ([`Quality`],
//! `--quality`) and which subtitles ([`SubLangs`], `--sub-langs`), as text is read into them
//! and shown back.
//!
//! Owns: these two types and their text. Must not touch: playlists (the engine's `stream`).

use std::fmt;

/// Which variant of a video stream to fetch when its playlist offers several.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quality {
    /// The highest bit rate.
    #[default]
    Best,
    /// The lowest bit rate.
    Worst,
    /// The tallest picture at most this many lines (`720p`); else the shortest.
    Height(u64),
    /// The highest bit rate at most this many bits/s; else the lowest.
    Bandwidth(u64),
}

impl Quality {
    /// Reads `best`, `worst`, `720p` or a bit rate in bits/s (`2500000`).
    pub fn parse(text: &str) -> Result<Quality, String> {
        let text = text.trim().to_ascii_lowercase();
        let number = |digits: &str| digits.parse::<u64>().ok().filter(|n| *n > 0);
        match text.as_str() {
            "best" => Ok(Quality::Best),
            "worst" => Ok(Quality::Worst),
            _ => {
                if let Some(height) = text.strip_suffix('p').and_then(number) {
                    Ok(Quality::Height(height))
                } else if let Some(bits) = number(&text) {
                    Ok(Quality::Bandwidth(bits))
                } else {
                    Err(format!(
                        "'{text}' is not a quality: give best, worst, a height such as 720p, \
                         or a bit rate in bits/s"
                    ))
                }
            }
        }
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quality::Best => f.write_str("best"),
            Quality::Worst => f.write_str("worst"),
            Quality::Height(h) => write!(f, "{h}p"),
            Quality::Bandwidth(b) => write!(f, "{b}"),
        }
    }
}

/// Which subtitles renditions of a video stream to fetch (`--sub-langs`, yt-dlp's name):
/// none, these languages (BCP 47 tags as playlists give them: `en` also takes `en-US`), or
/// all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubLangs {
    #[default]
    None,
    These(Vec<String>),
    All,
}

impl SubLangs {
    /// Reads `all`, or language tags separated by commas (`en,pt-BR`); empty: none.
    pub fn parse(text: &str) -> Result<SubLangs, String> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("all") {
            return Ok(SubLangs::All);
        }
        let mut langs = Vec::new();
        for lang in text.split(',').map(str::trim).filter(|l| !l.is_empty()) {
            let tag = lang.split('-').all(|part| {
                (1..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric())
            });
            if !tag {
                return Err(format!(
                    "'{lang}' is not a language: give tags such as en,pt-BR, or all"
                ));
            }
            langs.push(lang.to_owned());
        }
        Ok(if langs.is_empty() {
            SubLangs::None
        } else {
            SubLangs::These(langs)
        })
    }

    /// Whether a rendition in `language` (as its playlist names it; `None`: unnamed) is asked
    /// for: a tag takes itself and its subtags (`en` takes `en-US`), case aside.
    pub fn wants(&self, language: Option<&str>) -> bool {
        match self {
            SubLangs::None => false,
            SubLangs::All => true,
            SubLangs::These(langs) => language.is_some_and(|have| {
                let have = have.to_ascii_lowercase();
                langs.iter().any(|want| {
                    let want = want.to_ascii_lowercase();
                    have == want || have.starts_with(&format!("{want}-"))
                })
            }),
        }
    }
}

impl fmt::Display for SubLangs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubLangs::None => Ok(()),
            SubLangs::All => f.write_str("all"),
            SubLangs::These(langs) => f.write_str(&langs.join(",")),
        }
    }
}
