//! Sizes and durations for people: `1.5 MiB`, `850 ms`, `3 m 05 s`.
//!
//! Owns: the English, unit-suffixed forms that `haul-cli` prints and the window shows.
//! Sizes are 1024-based (KiB, MiB, …), as curl and wget print them.
//! Must not touch: I/O, the engine, any UI toolkit. Pure functions only.

use std::time::Duration;

/// `512 B`, `1.5 KiB`, `3.0 GiB`: one decimal from KiB on.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `850 ms`, `2.1 s`, `3 m 05 s`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        let s = d.as_secs();
        format!("{} m {:02} s", s / 60, s % 60)
    }
}

/// A size as people type it: `1500`, `64K`, `1.5M`, `2G`, `2 GiB` (1024-based, as curl reads
/// `--limit-rate` and `--max-filesize`). Errors say what was wrong, in English.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let factor: f64 = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches("IB")
        .trim_end_matches('B')
    {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("'{text}' is not a size (e.g. 500M)")),
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 500M)"))?;
    if !value.is_finite() || value <= 0.0 {
        return Err(format!("'{text}' must be a positive size"));
    }
    Ok((value * factor) as u64)
}

/// A size as [`parse_size`] reads it back, short: `2M`, `1.5K`, `750` (1024-based, at most
/// two decimals, trailing zeros dropped).
pub fn size_for_field(bytes: u64) -> String {
    let units = [
        ("T", 1u64 << 40),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
    ];
    for (suffix, factor) in units {
        if bytes >= factor {
            let value = bytes as f64 / factor as f64;
            let text = format!("{value:.2}");
            let text = text.trim_end_matches('0').trim_end_matches('.');
            return format!("{text}{suffix}");
        }
    }
    bytes.to_string()
}

/// Whole milliseconds, saturating (as `--json` and the saved queue store durations).
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(human_duration(Duration::from_millis(850)), "850 ms");
        assert_eq!(human_duration(Duration::from_millis(2100)), "2.1 s");
        assert_eq!(human_duration(Duration::from_secs(185)), "3 m 05 s");
        assert_eq!(millis(Duration::MAX), u64::MAX);
        assert_eq!(parse_size("1.5M"), Ok(1_572_864));
        assert_eq!(parse_size("2 GiB"), Ok(2 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("500"), Ok(500));
        assert!(
            parse_size("lots").is_err() && parse_size("-1K").is_err() && parse_size("0").is_err()
        );
        for (bytes, text) in [
            (2 << 20, "2M"),
            (1536, "1.5K"),
            (750, "750"),
            (1 << 30, "1G"),
        ] {
            assert_eq!(size_for_field(bytes), text);
            assert_eq!(parse_size(text), Ok(bytes), "reads back");
        }
    }
}
