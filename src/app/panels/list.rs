//! The list: only the rows in view are laid out (100,000 rows scroll smoothly). A header that
//! sorts; per row its status (a person's sentence when it failed), name, progress, sizes,
//! speed, time left, elapsed time, buttons in fixed slots, and where it comes from. A click
//! selects (Ctrl/Cmd adds, Shift selects a range), a double-click opens a finished file, a
//! right-click opens the row menu, which acts on the whole selection.

use std::time::Instant;

use eframe::egui::{self, Color32, RichText, Ui};
use egui_extras::TableBuilder;

use super::super::Action;
use super::super::i18n::{T, Tr};
use super::super::model::{Click, Entry, Model, Move, SortKey, State};
use super::columns::Col;
use super::status::{Around, queued_reason, status_text};
use crate::human::human_bytes;
use crate::protocol::{JobId, Status};

/// The list's own state: how many rows the last frame laid out, a row to scroll into view
/// next frame, and whether the empty list may point at a file dialog.
#[derive(Default)]
pub(in crate::app) struct ListPanel {
    /// Rows laid out in the last frame (the list is virtualised: only visible ones).
    pub(in crate::app) rows_built: usize,
    /// A row (by index) to scroll into view in the next frame.
    pub(in crate::app) scroll_to: Option<usize>,
    /// The desktop said it has no file dialog: the empty list stops pointing at one.
    pub(in crate::app) dialogs_unavailable: bool,
    /// The details strip was shown in the last frame.
    pub(in crate::app) details_shown: bool,
}

/// Height of one list row, in points.
const ROW_HEIGHT: f32 = 24.0;
/// The row buttons' slots: the main action, the second one, and the menu. Fixed widths, so
/// nothing slides under the mouse when a row changes state.
const SLOT_MAIN: f32 = 64.0;
const SLOT_SECOND: f32 = 104.0;
const SLOT_MENU: f32 = 24.0;
/// The bar's fill: not the selection colour, so a selected row's bar stays visible.
pub(super) const BAR_FILL: Color32 = Color32::from_rgb(46, 125, 200);

pub(super) fn status_color(status: Status) -> Color32 {
    match status {
        Status::Queued | Status::Cancelled => Color32::GRAY,
        Status::Paused => Color32::from_rgb(200, 170, 60),
        Status::Connecting => Color32::from_rgb(90, 160, 220),
        Status::Running => Color32::from_rgb(60, 140, 240),
        Status::Done | Status::Skipped => Color32::from_rgb(40, 160, 80),
        Status::Failed => Color32::from_rgb(220, 60, 60),
        Status::TimedOut => Color32::from_rgb(220, 130, 30),
    }
}

/// A small status icon, drawn rather than taken from a font: no font has to carry the
/// glyphs (the emoji fonts would add 0.7 MB to the binary) and it looks the same everywhere.
/// A torrent seeding (`up`) runs with the arrow pointing up: it sends, it fetches nothing.
fn status_icon(ui: &mut Ui, status: Status, up: bool, color: Color32) {
    let size = ui.text_style_height(&egui::TextStyle::Body);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    let painter = ui.painter();
    let c = rect.center();
    let r = size * 0.36;
    let stroke = egui::Stroke::new(1.6, color);
    let p = |x: f32, y: f32| c + egui::vec2(x * r, y * r);
    match status {
        Status::Queued => {
            painter.circle_stroke(c, r, stroke);
            painter.line_segment([c, p(0.0, -0.7)], stroke);
            painter.line_segment([c, p(0.5, 0.0)], stroke);
        }
        Status::Connecting => {
            painter.circle_stroke(c, r, stroke);
            painter.circle_filled(c, r * 0.35, color);
        }
        Status::Running => {
            let y = if up { -1.0 } else { 1.0 };
            painter.line_segment([p(0.0, -y), p(0.0, 0.9 * y)], stroke);
            painter.line_segment([p(-0.7, 0.2 * y), p(0.0, 0.9 * y)], stroke);
            painter.line_segment([p(0.7, 0.2 * y), p(0.0, 0.9 * y)], stroke);
        }
        Status::Done | Status::Skipped => {
            painter.line_segment([p(-0.9, 0.0), p(-0.3, 0.7)], stroke);
            painter.line_segment([p(-0.3, 0.7), p(0.9, -0.7)], stroke);
        }
        Status::Failed => {
            painter.line_segment([p(-0.8, -0.8), p(0.8, 0.8)], stroke);
            painter.line_segment([p(0.8, -0.8), p(-0.8, 0.8)], stroke);
        }
        Status::TimedOut => {
            painter.circle_stroke(c, r, stroke);
            painter.line_segment([c, p(0.0, -0.7)], stroke);
            painter.line_segment([c, p(0.6, 0.3)], stroke);
        }
        Status::Cancelled => {
            painter.circle_stroke(c, r, stroke);
            painter.line_segment([p(-0.7, 0.7), p(0.7, -0.7)], stroke);
        }
        Status::Paused => {
            painter.line_segment([p(-0.4, -0.8), p(-0.4, 0.8)], stroke);
            painter.line_segment([p(0.4, -0.8), p(0.4, 0.8)], stroke);
        }
    }
}

/// The virtualised list: only rows in view are laid out. Returns how many were.
#[allow(clippy::too_many_arguments)]
pub(super) fn list(
    ui: &mut Ui,
    tr: Tr,
    model: &mut Model,
    around: &Around<'_>,
    now: Instant,
    scroll_to: Option<usize>,
    dialogs_unavailable: bool,
    actions: &mut Vec<Action>,
) -> usize {
    if model.is_empty() {
        let hint = if dialogs_unavailable {
            T::EmptyListNoDialog
        } else {
            T::EmptyList
        };
        ui.centered_and_justified(|ui| ui.label(tr.get(hint)));
        return 0;
    }
    let scroll_to = scroll_to.and_then(|index| model.position_in_view(index));
    let view = model.view().to_vec();
    if view.is_empty() {
        let text = if model.search().is_empty() {
            let status = model.filter().map_or("", |s| tr.status(s));
            tr.fill(T::NothingInFilter, &[("status", status)])
        } else {
            tr.fill(T::NothingMatches, &[("search", model.search())])
        };
        ui.centered_and_justified(|ui| ui.label(text));
        return 0;
    }
    let sort = model.sort();
    let can_move = model.can_reorder();
    let model = &*model;
    let mut built = 0;
    let modifiers = ui.input(|i| i.modifiers);
    let how = Click {
        toggle: modifiers.command,
        range: modifiers.shift,
    };
    // A click anywhere on a row selects it; text in the list is not selectable (the details
    // view below has the selectable copy).
    ui.style_mut().interaction.selectable_labels = false;
    // The columns that fit: a narrow window drops the source, the elapsed time and the time
    // left first (the details view below has them), so the buttons stay in view. Below the
    // smallest set's width the list scrolls sideways.
    let buttons = actions_width(ui);
    let (columns, status_extra) = Col::fitting(ui.available_width(), buttons);
    let columns = columns.as_slice();
    egui::ScrollArea::horizontal()
        .id_salt("rows-sideways")
        .show(ui, |ui| {
            let mut table = TableBuilder::new(ui)
                .id_salt(("rows", columns.len()))
                .striped(true)
                .resizable(true)
                // Exactly the room the panel has: egui_extras' defaults (at least 200, at most
                // 800 points) let the table reach under the details strip on a small window,
                // where a row "in view" was hidden, and stop short on a tall one.
                .min_scrolled_height(0.0)
                .max_scroll_height(f32::INFINITY)
                // A drag moves rows, while the list shows its own order.
                .sense(if can_move {
                    egui::Sense::click_and_drag()
                } else {
                    egui::Sense::click()
                })
                .cell_layout(egui::Layout::left_to_right(egui::Align::Center));
            for col in columns {
                table = table.column(col.column(buttons, columns.len(), status_extra));
            }
            if let Some(position) = scroll_to {
                table = table.scroll_to_row(position, None);
            }
            table
                .header(20.0, |mut header| {
                    for col in columns {
                        header.col(|ui| {
                            if let Some(key) = col.title() {
                                sort_header(ui, tr.get(key), col.sorts(), sort, actions);
                            }
                        });
                    }
                })
                .body(|body| {
                    body.rows(ROW_HEIGHT, view.len(), |mut table_row| {
                        let Some(&index) = view.get(table_row.index()) else {
                            return;
                        };
                        let Some(row) = model.row_at(index) else {
                            return;
                        };
                        built += 1;
                        table_row.set_selected(model.is_selected(row));
                        let ctx = (model as &Model, around);
                        row_cells(&mut table_row, columns, tr, row, now, ctx, actions);
                        let response = table_row.response();
                        if response.double_clicked() {
                            actions.push(Action::Activate(index));
                        } else if response.clicked() {
                            actions.push(Action::Click { index, how });
                        }
                        if response.secondary_clicked() {
                            actions.push(Action::ContextClick(index));
                        }
                        if can_move {
                            drag_rows(&response, model, row, actions);
                        }
                        response.context_menu(|ui| {
                            super::row_menu::row_menu(ui, tr, model, row, actions)
                        });
                    });
                });
        });
    built
}

/// The rows a drag carries: the selection when the dragged row is in it, else that row.
struct DraggedRows(Vec<JobId>);

/// A row as a drag's source and target: dragging it carries it (or the selection it is in);
/// while rows are dragged over it, a line shows where they would land (above it on its upper
/// half, below it on its lower half), and releasing there moves them.
fn drag_rows(response: &egui::Response, model: &Model, row: &Entry, actions: &mut Vec<Action>) {
    if response.drag_started() {
        let ids = if model.is_selected(row) {
            model.selected()
        } else {
            vec![row.id]
        };
        egui::DragAndDrop::set_payload(&response.ctx, DraggedRows(ids));
    }
    // The part of the row on screen (the table may reach beyond the panel, scrolled sideways).
    let rect = response.interact_rect;
    let ctx = &response.ctx;
    if response.dragged()
        && let Some(dragged) = egui::DragAndDrop::payload::<DraggedRows>(ctx)
        && let Some(pointer) = ctx.pointer_interact_pos()
    {
        // What is being carried follows the pointer.
        let text = match dragged.0.len() {
            1 => row.name.clone(),
            n => format!("{} (+{})", row.name, n - 1),
        };
        egui::Area::new(egui::Id::unique("dragged-rows"))
            .order(egui::Order::Tooltip)
            .fixed_pos(pointer + egui::vec2(14.0, 6.0))
            .interactable(false)
            .show(ctx, |ui| {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.add(egui::Label::new(text).truncate());
                });
            });
    }
    let below = ctx
        .input(|i| i.pointer.interact_pos())
        .is_some_and(|p| p.y > rect.center().y);
    if response.dnd_hover_payload::<DraggedRows>().is_some() {
        ctx.set_cursor_icon(egui::CursorIcon::Grabbing);
        let y = if below { rect.bottom() } else { rect.top() };
        let color = ctx.global_style().visuals.selection.stroke.color;
        ctx.layer_painter(response.layer_id).hline(
            rect.x_range(),
            y,
            egui::Stroke::new(2.0, color),
        );
    }
    if let Some(dragged) = response.dnd_release_payload::<DraggedRows>() {
        let to = if below {
            Move::After(row.id)
        } else {
            Move::Before(row.id)
        };
        actions.push(Action::Move {
            ids: dragged.0.clone(),
            to,
        });
    }
}

/// A header cell; a sortable one sorts by its column when clicked, and the current sort's
/// column shows which way it goes.
fn sort_header(
    ui: &mut Ui,
    text: &str,
    sorts: Option<SortKey>,
    current: (SortKey, bool),
    actions: &mut Vec<Action>,
) {
    let Some(key) = sorts else {
        ui.strong(text);
        return;
    };
    let response =
        ui.add(egui::Label::new(RichText::new(text).strong()).sense(egui::Sense::click()));
    let descending = match current {
        (k, descending) if k == key => Some(descending),
        _ => None,
    };
    if let Some(descending) = descending {
        sort_marker(ui, descending);
    }
    if response.clicked() {
        actions.push(Action::SetSort(key));
    }
}

/// The sort's direction as a small triangle, drawn: egui's own font has no ▴ ▾, and a
/// window must not depend on the system's fonts for its controls.
fn sort_marker(ui: &mut Ui, descending: bool) {
    let size = ui.text_style_height(&egui::TextStyle::Body);
    let (rect, _) = ui.allocate_exact_size(egui::vec2(size * 0.6, size), egui::Sense::hover());
    let c = rect.center();
    let (w, h) = (size * 0.22, size * 0.16);
    let points = if descending {
        vec![
            c + egui::vec2(-w, -h),
            c + egui::vec2(w, -h),
            c + egui::vec2(0.0, h),
        ]
    } else {
        vec![
            c + egui::vec2(-w, h),
            c + egui::vec2(w, h),
            c + egui::vec2(0.0, -h),
        ]
    };
    let color = ui.visuals().strong_text_color();
    ui.painter().add(egui::Shape::convex_polygon(
        points,
        color,
        egui::Stroke::NONE,
    ));
}

fn row_cells(
    table_row: &mut egui_extras::TableRow<'_, '_>,
    columns: &[Col],
    tr: Tr,
    row: &Entry,
    now: Instant,
    (model, around): (&Model, &Around<'_>),
    actions: &mut Vec<Action>,
) {
    let (speed, eta) = match &row.state {
        // Seeding: what it sends (nothing is left to fetch).
        State::Running { .. } if row.is_seeding() => (
            format!("↑ {}", tr.rate(row.swarm.map_or(0, |s| s.up_speed) as f64)),
            String::new(),
        ),
        State::Running { speed, .. } => match speed.bytes_per_sec(now) {
            Some(rate) => (
                tr.rate(rate),
                row.eta(now).map(|d| tr.duration(d)).unwrap_or_default(),
            ),
            None => (tr.get(T::Calculating).to_owned(), String::new()),
        },
        _ => (String::new(), String::new()),
    };
    for col in columns {
        table_row.col(|ui| match col {
            Col::Status => {
                let status = row.status();
                let color = status_color(status);
                status_icon(ui, status, row.is_seeding(), color);
                let text = status_text(tr, row, now, model, around);
                let label = egui::Label::new(RichText::new(&text).color(color)).truncate();
                // The whole sentence (the column may cut it) and, for a failure, the technical
                // text under it: one tooltip (egui's own for cut text stacked a second one).
                match row.state.error() {
                    Some(technical) => {
                        ui.add(label.show_tooltip_when_elided(false))
                            .on_hover_text(format!("{text}\n{technical}"));
                    }
                    None if row.cannot_resume() => {
                        ui.add(label).on_hover_text(tr.get(T::CantResumeHint));
                    }
                    // What a queued row waits for, in full.
                    None if let Some((_, long)) = (row.status() == Status::Queued)
                        .then(|| queued_reason(tr, row, model, &around.caps))
                        .flatten() =>
                    {
                        ui.add(label.show_tooltip_when_elided(false))
                            .on_hover_text(long);
                    }
                    // "on 4 connections" fits the column; the sentence is on hover.
                    None if matches!(row.state, State::Running { .. }) && row.connections() > 1 => {
                        let n = row.connections().to_string();
                        ui.add(label.show_tooltip_when_elided(false))
                            .on_hover_text(tr.fill(T::RunningOverLong, &[("n", &n)]));
                    }
                    None => {
                        ui.add(label);
                    }
                }
            }
            // A cut name shows in full on hover (egui's own tooltip for truncated text).
            Col::Name => {
                ui.add(egui::Label::new(&row.name).truncate());
            }
            Col::Progress => progress(ui, row),
            Col::Size => {
                ui.label(size_text(&row.state));
            }
            Col::Speed => {
                ui.label(&speed);
            }
            Col::Eta => {
                ui.label(&eta);
            }
            Col::Elapsed => {
                if let Some(elapsed) = row.elapsed(now) {
                    ui.label(tr.duration(elapsed));
                }
            }
            Col::Actions => row_buttons(ui, tr, row, true, model, actions),
            Col::Source => {
                ui.add(egui::Label::new(RichText::new(row.origin_label()).weak()).truncate());
            }
        });
    }
}

/// The buttons column's width: three slots and the room between them.
fn actions_width(ui: &Ui) -> f32 {
    SLOT_MAIN + SLOT_SECOND + SLOT_MENU + 2.0 * ui.spacing().item_spacing.x + 4.0
}

fn progress(ui: &mut Ui, row: &Entry) {
    let fraction = match (&row.state, row.state.total()) {
        (State::Done { .. } | State::Skipped { .. }, _) => Some(1.0),
        (state, Some(total)) if total > 0 => Some(state.bytes() as f64 / total as f64),
        // A video stream's size is known only at its end: its segments say how far it is.
        _ => row
            .stream
            .as_ref()
            .and_then(|s| Some(s.done as f64 / s.total.filter(|&t| t > 0)? as f64)),
    };
    let waiting = !matches!(row.state, State::Running { .. } | State::Connecting { .. });
    if fraction.is_none() && waiting {
        return; // waiting or ended without a file: no bar
    }
    let fill = if row.status() == Status::Paused {
        status_color(Status::Paused).gamma_multiply(0.8)
    } else {
        BAR_FILL
    };
    let height = ROW_HEIGHT - 8.0;
    let Some(fraction) = fraction else {
        // Size unknown: an animated bar that says only "working". It fills its column (egui
        // would make it at least 96 points wide, past the window at the smallest size).
        let working = egui::ProgressBar::new(0.0).animate(true).fill(fill);
        ui.add(
            working
                .desired_width(ui.available_width())
                .desired_height(height),
        );
        return;
    };
    // A split download's ranges where they lie in the file, as IDM and Motrix show them.
    let spans: Vec<(f32, f32)> = match row.state.total() {
        Some(total) if !row.parts.is_empty() && matches!(row.state, State::Running { .. }) => {
            let at = |b: u64| (b as f64 / total.max(1) as f64) as f32;
            row.parts.iter().map(|&(s, e)| (at(s), at(e))).collect()
        }
        _ => vec![(0.0, fraction as f32)],
    };
    super::bar::bar(ui, height, &spans, fraction as f32, fill);
}

fn size_text(state: &State) -> String {
    match (state, state.total()) {
        // Nothing waiting, or nothing kept (a cancelled item's bytes were deleted).
        (State::Queued { done: 0, .. } | State::Cancelled { .. }, _) => String::new(),
        (State::Done { bytes, .. }, total) => human_bytes(total.unwrap_or(*bytes)),
        (_, Some(total)) => format!("{} / {}", human_bytes(state.bytes()), human_bytes(total)),
        (State::Connecting { done: 0, .. }, None) => String::new(),
        (other, None) => human_bytes(other.bytes()),
    }
}

/// The row's buttons in three fixed slots: the main action (Pause, Resume, Retry, Open), the
/// second (Cancel…, Show in folder) and the menu. In the list an empty slot keeps its room
/// (`fixed`), so nothing moves under the mouse when a row changes state.
pub(super) fn row_buttons(
    ui: &mut Ui,
    tr: Tr,
    row: &Entry,
    fixed: bool,
    model: &Model,
    actions: &mut Vec<Action>,
) {
    let status = row.status();
    let ids = vec![row.id];
    // A torrent seeding from its files in place: they are complete, so its buttons are
    // "Stop seeding" (it ends done; a pause would say it can go on) and "Show in folder"
    // (Cancel would offer to delete what stays).
    let seeding = row
        .is_seeding()
        .then(|| crate::protocol::item_path(&row.published, row.published_folder.as_deref()))
        .flatten();
    let main = match (row.state.path(), status) {
        (Some(path), _) => Some((T::Open, Action::Open(path.to_path_buf()))),
        _ if seeding.is_some() => Some((T::StopSeeding, Action::Pause(ids.clone()))),
        (_, s) if s.is_active() => Some((T::Pause, Action::Pause(ids.clone()))),
        (_, Status::Paused) => Some((T::Resume, Action::Resume(ids.clone()))),
        (_, s) if s.is_retryable() && row.source.is_some() => {
            Some((T::Retry, Action::Resume(ids.clone())))
        }
        _ => None,
    };
    let second = match (row.state.path().or(seeding), status) {
        (Some(path), _) => Some((T::ShowInFolder, Action::Reveal(path.to_path_buf()))),
        (_, s) if s.is_active() || s == Status::Paused => {
            Some((T::Cancel, Action::Cancel(ids.clone())))
        }
        _ => None,
    };
    if fixed || main.is_some() {
        slot(ui, tr, SLOT_MAIN, main, actions);
    }
    if fixed || second.is_some() {
        slot(ui, tr, SLOT_SECOND, second, actions);
    }
    let menu = ui
        .add_sized(
            [SLOT_MENU, ROW_HEIGHT - 6.0],
            // "…": in egui's own font (⋯ needed a system font: tofu, or a panic in tests).
            egui::Button::new("…").small(),
        )
        .on_hover_text(tr.get(T::RowMenu));
    // The menu belongs to the row's download, not to the place in the list it was opened at:
    // a row that moves while the menu is open (another client's changePosition, a download
    // that finished) takes its menu along, and no other row inherits it.
    egui::Popup::menu(&menu)
        .id(egui::Id::unique(("row-menu", row.gid, fixed)))
        .show(|ui| {
            super::row_menu::menu_items(ui, tr, std::slice::from_ref(row), model, actions);
        });
}

fn slot(ui: &mut Ui, tr: Tr, width: f32, button: Option<(T, Action)>, actions: &mut Vec<Action>) {
    let size = [width, ROW_HEIGHT - 6.0];
    match button {
        Some((key, action)) => {
            let mut button = ui.add_sized(size, egui::Button::new(tr.get(key)).small().truncate());
            // A short word that needs its sentence.
            if key == T::StopSeeding {
                button = button.on_hover_text(tr.get(T::StopSeedingHint));
            }
            if button.clicked() {
                actions.push(action);
            }
        }
        None => {
            ui.allocate_exact_size(size.into(), egui::Sense::hover());
        }
    }
}
