//! Keeping the window on a screen: a window brought back at the place it had on a larger (or
//! since unplugged) screen is moved onto the screen it overlaps most, whole when it fits.
//!
//! eframe brings the last position back and checks it against the monitors on Windows
//! (clamped) and macOS (dropped when off every monitor), not on Linux: at 640×360 a window
//! last closed at (600, 350) on a 1366×768 screen came back with only a corner showing
//! (issue 28, item 24). On X11 the monitors are read from RandR here, on the display's own
//! connection library (x11rb on libxcb, already in the tree through winit); Wayland does not
//! let a program place its window, so there is nothing to correct.
//!
//! Owns: reading the monitors' rectangles (physical pixels) and where a window must go to be
//! on one. Must not touch: egui (the window sends the move), the saved settings.

/// A rectangle in physical pixels: a monitor, or the window's outer frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

impl Area {
    fn overlap(&self, other: &Area) -> i64 {
        let w = (self.x + self.w).min(other.x + other.w) - self.x.max(other.x);
        let h = (self.y + self.h).min(other.y + other.h) - self.y.max(other.y);
        i64::from(w.max(0)) * i64::from(h.max(0))
    }
}

/// The monitors, the primary first; empty where they are not known (not X11) or not needed.
pub fn monitors() -> Vec<Area> {
    #[cfg(all(unix, not(target_os = "macos")))]
    if std::env::var_os("DISPLAY").is_some() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        return x11::monitors().unwrap_or_else(|e| {
            tracing::debug!("monitors not read from the X server: {e}");
            Vec::new()
        });
    }
    Vec::new()
}

/// Where the window's top-left corner must go so that it is on a monitor: `None` when it
/// already is on the screens (each corner on one: a window across two monitors side by side
/// stays where its person put it), or no monitor is known. Else the monitor is the one the
/// window overlaps most, or the first (the primary); a window larger than it keeps its
/// top-left corner on it, so the title bar and the menu stay reachable.
pub fn fit(window: Area, monitors: &[Area]) -> Option<(i32, i32)> {
    let on_one = |x: i32, y: i32| {
        monitors
            .iter()
            .any(|m| x >= m.x && x < m.x + m.w && y >= m.y && y < m.y + m.h)
    };
    let (right, bottom) = (window.x + window.w - 1, window.y + window.h - 1);
    if on_one(window.x, window.y)
        && on_one(right, window.y)
        && on_one(window.x, bottom)
        && on_one(right, bottom)
    {
        return None;
    }
    let best = monitors
        .iter()
        .filter(|m| m.overlap(&window) > 0)
        .max_by_key(|m| m.overlap(&window))
        .or_else(|| monitors.first())?;
    let x = window.x.min(best.x + best.w - window.w).max(best.x);
    let y = window.y.min(best.y + best.h - window.h).max(best.y);
    ((x, y) != (window.x, window.y)).then_some((x, y))
}

#[cfg(all(unix, not(target_os = "macos")))]
mod x11 {
    use x11rb::connection::Connection as _;
    use x11rb::protocol::randr::ConnectionExt as _;
    use x11rb::xcb_ffi::XCBConnection;

    use super::Area;

    pub(super) fn monitors() -> Result<Vec<Area>, Box<dyn std::error::Error>> {
        let (conn, screen) = XCBConnection::connect(None)?;
        let root = conn.setup().roots.get(screen).ok_or("no such X screen")?;
        let whole = Area {
            x: 0,
            y: 0,
            w: i32::from(root.width_in_pixels),
            h: i32::from(root.height_in_pixels),
        };
        let mut found: Vec<(bool, Area)> = match conn
            .randr_get_monitors(root.root, true)
            .map_err(Box::<dyn std::error::Error>::from)
            .and_then(|c| c.reply().map_err(Into::into))
        {
            Ok(reply) => reply
                .monitors
                .iter()
                .map(|m| {
                    let area = Area {
                        x: i32::from(m.x),
                        y: i32::from(m.y),
                        w: i32::from(m.width),
                        h: i32::from(m.height),
                    };
                    (m.primary, area)
                })
                .filter(|(_, a)| a.w > 0 && a.h > 0)
                .collect(),
            // An X server without RandR 1.5: the screen as one monitor.
            Err(_) => Vec::new(),
        };
        found.sort_by_key(|(primary, _)| !primary);
        let mut areas: Vec<Area> = found.into_iter().map(|(_, a)| a).collect();
        if areas.is_empty() {
            areas.push(whole);
        }
        Ok(areas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(x: i32, y: i32, w: i32, h: i32) -> Area {
        Area { x, y, w, h }
    }

    /// Issue 28, item 24: closed at (600, 350) on a 1366×768 screen, brought back on a
    /// 640×360 one at its smallest (640×360): it goes to the corner, whole.
    #[test]
    fn a_window_left_off_a_smaller_screen_comes_back_onto_it() {
        let small = [area(0, 0, 640, 360)];
        assert_eq!(fit(area(600, 350, 640, 360), &small), Some((0, 0)));
        // Partly off: moved just enough.
        assert_eq!(
            fit(area(300, 100, 400, 200), &[area(0, 0, 640, 360)]),
            Some((240, 100))
        );
        // Wholly off every monitor (an unplugged one): onto the primary.
        let two = [area(1920, 0, 1280, 1024), area(0, 0, 1920, 1080)];
        assert_eq!(fit(area(-3000, 200, 800, 600), &two), Some((1920, 200)));
    }

    #[test]
    fn a_window_on_a_monitor_stays_where_it_is() {
        let two = [area(0, 0, 1920, 1080), area(1920, 0, 1280, 1024)];
        assert_eq!(fit(area(2000, 100, 800, 600), &two), None);
        assert_eq!(fit(area(0, 0, 1920, 1080), &two), None);
        // Across the seam of two monitors side by side: where its person put it.
        assert_eq!(fit(area(1500, 100, 800, 600), &two), None);
        // Partly below the shorter one: onto the one it overlaps most.
        assert_eq!(fit(area(2000, 800, 800, 600), &two), Some((2000, 424)));
        // No monitor known: nothing to do.
        assert_eq!(fit(area(5000, 5000, 800, 600), &[]), None);
    }

    /// Larger than its monitor: the top-left corner stays on it.
    #[test]
    fn a_window_larger_than_its_monitor_keeps_its_corner_on_it() {
        assert_eq!(
            fit(area(100, 100, 1180, 680), &[area(0, 0, 640, 360)]),
            Some((0, 0))
        );
    }
}
