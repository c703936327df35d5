//! A row's progress bar: the parts of the file written (one span from the start, or a split
//! download's ranges where they lie in the file), over a track that shows in both themes,
//! with the percentage readable wherever it falls: light on the filled part, dark on the
//! track (issue 28, item 23: in the light theme the empty track was white on white and the
//! percentage grey on blue).
//! Must not touch: what the row is (its state and parts are the list's to read).

use eframe::egui::{self, Color32, Stroke, Ui, Visuals};

/// The bar's colours under a theme.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct BarColors {
    pub track: Color32,
    pub border: Stroke,
    pub text_on_fill: Color32,
    pub text_on_track: Color32,
}

/// What the bar is drawn with under `visuals` (the fill is the row's own).
pub(super) fn colors(visuals: &Visuals) -> BarColors {
    if visuals.dark_mode {
        BarColors {
            track: visuals.extreme_bg_color,
            border: Stroke::new(1.0, Color32::from_gray(70)),
            text_on_fill: Color32::WHITE,
            text_on_track: visuals.strong_text_color(),
        }
    } else {
        BarColors {
            track: Color32::from_gray(218),
            border: Stroke::new(1.0, Color32::from_gray(160)),
            text_on_fill: Color32::WHITE,
            text_on_track: Color32::from_gray(25),
        }
    }
}

/// Draws the bar at the width available: `spans` (fractions of the file, `[start, end)`)
/// filled with `fill`, and `fraction` as a percentage, which a screen reader reads too.
pub(super) fn bar(ui: &mut Ui, height: f32, spans: &[(f32, f32)], fraction: f32, fill: Color32) {
    let size = egui::vec2(ui.available_width(), height);
    let (rect, response) = ui.allocate_exact_size(size, egui::Sense::hover());
    let colors = colors(ui.visuals());
    let painter = ui.painter();
    let radius = rect.height() / 2.0;
    painter.rect_filled(rect, radius, colors.track);
    let x = |at: f32| rect.left() + rect.width() * at.clamp(0.0, 1.0);
    let filled: Vec<egui::Rect> = spans
        .iter()
        .map(|&(start, end)| {
            egui::Rect::from_x_y_ranges(x(start)..=x(end).max(x(start) + 1.0), rect.y_range())
        })
        .collect();
    for span in &filled {
        painter.rect_filled(*span, radius.min(span.width() / 2.0), fill);
    }
    painter.rect_stroke(rect, radius, colors.border, egui::StrokeKind::Inside);
    let text = format!("{:.0}%", fraction * 100.0);
    let font = egui::TextStyle::Button.resolve(ui.style());
    let at = rect.left_center() + egui::vec2(6.0, 0.0);
    // Dark over the track, then light over each filled span, clipped to it.
    painter.text(
        at,
        egui::Align2::LEFT_CENTER,
        &text,
        font.clone(),
        colors.text_on_track,
    );
    for span in &filled {
        painter.with_clip_rect(span.intersect(rect)).text(
            at,
            egui::Align2::LEFT_CENTER,
            &text,
            font.clone(),
            colors.text_on_fill,
        );
    }
    // What a screen reader says, like egui's own bar.
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::ProgressIndicator, true, &text));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// WCAG's contrast ratio of two colours (1 to 21).
    fn contrast(a: Color32, b: Color32) -> f32 {
        let luminance = |c: Color32| {
            let lin = |v: u8| {
                let v = f32::from(v) / 255.0;
                if v <= 0.039_28 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
        };
        let (x, y) = (luminance(a), luminance(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    /// In both themes the empty track stands out from the row behind it (it was white on
    /// white in the light theme: egui's `extreme_bg_color`), and the percentage reads at
    /// least 3:1 (WCAG's large-text minimum) over the fill and over the track (egui's bar
    /// drew it in the text colour, grey on blue: 2.6:1).
    #[test]
    fn the_track_shows_and_the_percentage_reads_in_both_themes() {
        let fill = super::super::list::BAR_FILL;
        for visuals in [Visuals::light(), Visuals::dark()] {
            let c = colors(&visuals);
            for behind in [
                visuals.panel_fill,
                visuals.faint_bg_color,
                visuals.extreme_bg_color,
            ] {
                let edge = contrast(c.track, behind).max(contrast(c.border.color, behind));
                assert!(edge >= 1.4, "track on {behind:?}: {edge}");
            }
            assert!(contrast(c.text_on_fill, fill) >= 3.0);
            assert!(contrast(c.text_on_track, c.track) >= 4.5);
        }
        let light = Visuals::light();
        assert!(
            contrast(light.extreme_bg_color, light.panel_fill) < 1.4
                || contrast(light.text_color(), fill) < 3.0,
            "what egui's own bar drew was hard to see"
        );
    }
}
