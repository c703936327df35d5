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
    }
}
