//! The list's order as the engine and the saved queue see it.
//!
//! Owns: applying a move (the row menu's Move ▸, Alt+arrow keys, a drag, aria2's
//! `changePosition`) to the rows, then telling the engine the queued rows' order
//! ([`Command::Reorder`]) and the saved queue every row's place ([`SavedOp::Order`]); and
//! after rows are resumed, putting them back in the engine's queue at their place in the list
//! (a resumed row is submitted last, but starts where it stands).
//! Must not touch: drawing; what a move means for the rows (`model::order`).

use super::HaulApp;
use super::model::Move;
use crate::desktop::saved_queue::SavedOp;
use crate::protocol::{Command, JobId};

impl HaulApp {
    /// Moves rows; returns whether the order changed.
    pub(super) fn move_rows(&mut self, ids: &[JobId], to: Move) -> bool {
        if !self.model.move_rows(ids, to) {
            return false;
        }
        self.send_queue_order();
        if let Some(queue) = &self.queue {
            queue.send(SavedOp::Order(self.model.keys_in_order()));
        }
        true
    }

    /// The engine starts the queued rows in the list's order.
    pub(super) fn send_queue_order(&self) {
        let queued = self.model.queued_in_order();
        if queued.len() > 1 {
            self.engine.send(Command::Reorder(queued));
        }
    }
}

impl HaulApp {
    /// Alt+↑/↓ move the selection a row up or down, Alt+Home/End to the top or the bottom.
    pub(super) fn move_keys(
        &self,
        ctx: &eframe::egui::Context,
        selected: Vec<JobId>,
    ) -> Option<super::Action> {
        use eframe::egui::{Key, Modifiers};
        if selected.is_empty() || !self.model.can_reorder() {
            return None;
        }
        let to = ctx.input_mut(|i| {
            [
                (Key::ArrowUp, Move::Up),
                (Key::ArrowDown, Move::Down),
                (Key::Home, Move::Top),
                (Key::End, Move::Bottom),
            ]
            .into_iter()
            .find(|(key, _)| i.consume_key(Modifiers::ALT, *key))
            .map(|(_, to)| to)
        })?;
        Some(super::Action::Move { ids: selected, to })
    }
}
