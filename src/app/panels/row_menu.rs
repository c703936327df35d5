//! A row's right-click menu: pause, resume, retry, open, copy its address, edit its options,
//! its own speed limit, cancel, remove — acting on the selection when the row is in it.

use eframe::egui::{self, Ui};

use super::super::Action;
use super::super::i18n::{T, Tr};
use super::super::model::{Entry, Model, Move};
use crate::protocol::{Status, redact};

/// The right-click menu: acts on the selection (which the right-click made include this row).
pub(super) fn row_menu(ui: &mut Ui, tr: Tr, model: &Model, row: &Entry, actions: &mut Vec<Action>) {
    let mut rows: Vec<Entry> = model.selected_rows().cloned().collect();
    if !rows.iter().any(|r| r.id == row.id) {
        rows = vec![row.clone()];
    }
    menu_items(ui, tr, &rows, model, actions);
}

pub(super) fn menu_items(
    ui: &mut Ui,
    tr: Tr,
    rows: &[Entry],
    model: &Model,
    actions: &mut Vec<Action>,
) {
    // A refused certificate: trusting it comes first (it is what the row waits for).
    if let [one] = rows {
        super::trust::menu_entries(ui, tr, one, actions);
    }
    let ids = |keep: &dyn Fn(&Entry) -> bool| -> Vec<_> {
        rows.iter().filter(|r| keep(r)).map(|r| r.id).collect()
    };
    let mut item = |ui: &mut Ui, key: T, action: Action, enabled: bool| {
        if ui
            .add_enabled(enabled, egui::Button::new(tr.get(key)))
            .clicked()
        {
            actions.push(action);
            ui.close();
        }
    };
    let active = ids(&|r| r.status().is_active());
    let paused = ids(&|r| r.status() == Status::Paused);
    let retry = ids(&|r| {
        matches!(
            r.status(),
            Status::Failed | Status::TimedOut | Status::Cancelled
        ) && r.source.is_some()
    });
    item(
        ui,
        T::Pause,
        Action::Pause(active.clone()),
        !active.is_empty(),
    );
    item(
        ui,
        T::Resume,
        Action::Resume(paused.clone()),
        !paused.is_empty(),
    );
    item(
        ui,
        T::Retry,
        Action::Resume(retry.clone()),
        !retry.is_empty(),
    );
    ui.separator();
    if let [one] = rows {
        if let Some(path) = one.state.path() {
            item(ui, T::Open, Action::Open(path.to_path_buf()), true);
            item(
                ui,
                T::ShowInFolder,
                Action::Reveal(path.to_path_buf()),
                true,
            );
        }
        item(
            ui,
            T::CopyAddress,
            Action::Copy(redact(&one.uri).into_owned()),
            true,
        );
        // Not while it runs: its name, folder, headers or address (a link given anew).
        let editable = !matches!(
            one.status(),
            Status::Connecting | Status::Running | Status::Done | Status::Skipped
        ) && matches!(one.source, Some(crate::protocol::Source::Url(_)));
        item(
            ui,
            T::EditOptions,
            Action::OpenOptions(Some(one.id)),
            editable,
        );
        ui.separator();
    }
    let mut picked = Vec::new();
    move_menu(ui, tr, rows, model, &mut picked);
    rate_menu(ui, tr, rows, &mut picked);
    ui.separator();
    // (Not a seeding torrent: its files are done; Stop ends it.)
    let cancellable =
        ids(&|r| (r.status().is_active() && !r.is_seeding()) || r.status() == Status::Paused);
    item(
        ui,
        T::Cancel,
        Action::Cancel(cancellable.clone()),
        !cancellable.is_empty(),
    );
    item(ui, T::Remove, Action::Remove(ids(&|_| true)), true);
    actions.extend(picked);
}

/// "Move ▸": to the top, up, down, to the bottom (the engine starts queued rows in the
/// list's order); a step the rows cannot take (up from the top) is greyed out. All of it is
/// greyed out, saying why, while the list is sorted by a column.
fn move_menu(ui: &mut Ui, tr: Tr, rows: &[Entry], model: &Model, actions: &mut Vec<Action>) {
    let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
    let can_move = model.can_reorder();
    let (up, down) = model.move_room(&ids);
    let response = ui
        .add_enabled_ui(can_move, |ui| {
            ui.menu_button(tr.get(T::MoveMenu), |ui| {
                for (key, to, possible) in [
                    (T::MoveTop, Move::Top, up),
                    (T::MoveUp, Move::Up, up),
                    (T::MoveDown, Move::Down, down),
                    (T::MoveBottom, Move::Bottom, down),
                ] {
                    if ui
                        .add_enabled(possible, egui::Button::new(tr.get(key)))
                        .clicked()
                    {
                        actions.push(Action::Move {
                            ids: ids.clone(),
                            to,
                        });
                        ui.close();
                    }
                }
            });
        })
        .response;
    if !can_move {
        response.on_disabled_hover_text(tr.get(T::MoveSorted));
    }
}

/// Each row's own speed limit, on top of the window's: a few steps a person picks from.
const ITEM_RATES: [Option<u64>; 5] = [
    None,
    Some(256 * 1024),
    Some(1024 * 1024),
    Some(4 * 1024 * 1024),
    Some(16 * 1024 * 1024),
];

/// "Speed limit ▸" with its steps; the current one (the rows' `max-download-limit` option,
/// however it was set) is marked when all rows share it, and listed when it is not a step.
fn rate_menu(ui: &mut Ui, tr: Tr, rows: &[Entry], actions: &mut Vec<Action>) {
    let unfinished: Vec<_> = rows
        .iter()
        .filter(|r| r.status() != Status::Done)
        .map(|r| r.id)
        .collect();
    let shared = rows
        .first()
        .map(|r| r.options.max_rate)
        .filter(|first| rows.iter().all(|r| r.options.max_rate == *first));
    let mut rates = ITEM_RATES.to_vec();
    if let Some(rate) = shared.filter(|rate| !rates.contains(rate)) {
        rates.push(rate);
        rates.sort_by_key(|r| r.unwrap_or(0));
    }
    ui.add_enabled_ui(!unfinished.is_empty(), |ui| {
        ui.menu_button(tr.get(T::ItemRate), |ui| {
            for rate in rates {
                let text = match rate {
                    Some(rate) => tr.rate(rate as f64),
                    None => tr.get(T::NoLimit).to_owned(),
                };
                if ui.selectable_label(shared == Some(rate), text).clicked() {
                    actions.push(Action::SetItemRate {
                        ids: unfinished.clone(),
                        rate,
                    });
                    ui.close();
                }
            }
            if let Some(rate) = typed_rate(ui, tr) {
                actions.push(Action::SetItemRate {
                    ids: unfinished.clone(),
                    rate,
                });
                ui.close();
            }
        });
    });
}

/// Any other limit, typed (issue 28, item 20): a field under the steps, red with an example
/// while what is typed is not a speed; Enter sets it. The text lives in egui's memory while
/// the menu is open.
fn typed_rate(ui: &mut Ui, tr: Tr) -> Option<Option<u64>> {
    ui.separator();
    let id = ui.make_persistent_id("row-rate-typed");
    let mut text: String = ui.data_mut(|d| d.get_temp(id)).unwrap_or_default();
    let none = tr.get(T::NoLimit);
    let rate = crate::app::settings::rate_from_text(&text, none);
    let valid = rate.is_some() || text.trim().is_empty();
    let label = ui.label(tr.get(T::ItemRateOther));
    let field = super::settings::limit_field(
        ui,
        "row-rate-typed",
        &mut text,
        valid,
        none,
        tr.get(T::RateExample),
    )
    .labelled_by(label.id);
    let entered = field.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    ui.data_mut(|d| d.insert_temp(id, text.clone()));
    if entered && !text.trim().is_empty() {
        ui.data_mut(|d| d.remove_temp::<String>(id));
        return rate;
    }
    None
}
