//! A torrent's files in the details strip: an indented list by folder, each file with its size
//! and a tick (all ticked unless the row's `select-file` says otherwise). Apply starts the row
//! again with the ticked files as its `select-file` (aria2's numbers, from 1); the verified
//! pieces kept in the torrent's working folder are not fetched again. A magnet's list appears
//! when its metadata arrives. At least one file stays ticked.
//!
//! Owns: drawing this part of the details strip and the ticks not applied yet (egui's memory,
//! per row). Must not touch: the row's options (the action does), the engine.

use std::collections::BTreeSet;

use eframe::egui::{self, RichText, Ui};

use super::super::Action;
use super::super::i18n::{T, Tr};
use super::super::model::Entry;
use crate::human::human_bytes;
use crate::protocol::TorrentFile;

/// Indent of one folder level, in points.
const INDENT: f32 = 16.0;

/// The torrent's files below the details grid: nothing before the metadata names them.
pub(super) fn details(ui: &mut Ui, tr: Tr, row: &Entry, actions: &mut Vec<Action>) {
    let files = &row.torrent_files;
    if files.is_empty() {
        return;
    }
    let applied = applied(row);
    let key = egui::Id::unique(("torrent-files", row.gid));
    let mut ticked: BTreeSet<usize> = ui
        .data(|d| d.get_temp::<BTreeSet<usize>>(key))
        .unwrap_or_else(|| applied.clone());
    let chosen: Vec<&TorrentFile> = files.iter().filter(|f| ticked.contains(&f.index)).collect();
    let bytes: u64 = chosen.iter().map(|f| f.length).sum();
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.strong(tr.get(T::TorrentFiles))
            .on_hover_text(tr.get(T::TorrentFilesHint));
        ui.label(
            RichText::new(tr.fill(
                T::TorrentFilesChosen,
                &[
                    ("n", &chosen.len().to_string()),
                    ("of", &files.len().to_string()),
                    ("size", &human_bytes(bytes)),
                ],
            ))
            .weak(),
        );
        let changed = ticked != applied;
        let apply = ui
            .add_enabled(
                changed && !ticked.is_empty(),
                egui::Button::new(tr.get(T::Apply)),
            )
            .on_hover_text(tr.get(T::TorrentFilesHint));
        if apply.clicked() {
            let select = (ticked.len() < files.len()).then(|| ticked.iter().copied().collect());
            actions.push(Action::ChooseFiles { id: row.id, select });
        }
        if ticked.is_empty() {
            ui.label(RichText::new(tr.get(T::TorrentFilesNone)).color(ui.visuals().warn_fg_color));
        }
    });
    // Drawn after the line above, so its figures are last frame's ticks until the next frame.
    let before = ticked.clone();
    list(ui, files, &mut ticked);
    if ticked != before {
        ui.ctx().request_repaint();
    }
    if ticked == applied {
        ui.data_mut(|d| d.remove::<BTreeSet<usize>>(key));
    } else {
        ui.data_mut(|d| d.insert_temp(key, ticked));
    }
}

/// The files the row fetches now: its `select-file`, or all.
fn applied(row: &Entry) -> BTreeSet<usize> {
    match &row.options.torrent.select {
        Some(select) => row
            .torrent_files
            .iter()
            .map(|f| f.index)
            .filter(|i| select.contains(i))
            .collect(),
        None => row.torrent_files.iter().map(|f| f.index).collect(),
    }
}

/// The lines the list takes: each file, and each folder once where its files begin.
pub(super) fn lines(files: &[TorrentFile]) -> usize {
    let mut open: Vec<&str> = Vec::new();
    let mut lines = 0;
    for file in files {
        let folders: Vec<&str> = file.path.split('/').collect();
        let folders = folders.split_last().map_or(&[][..], |(_, f)| f);
        let same = open.iter().zip(folders).take_while(|(a, b)| a == b).count();
        open.truncate(same);
        lines += 1 + folders.len() - same;
        open.extend_from_slice(&folders[same..]);
    }
    lines
}

/// Each file under its folders (a folder's name once, where its files begin), ticks in `ticked`.
fn list(ui: &mut Ui, files: &[TorrentFile], ticked: &mut BTreeSet<usize>) {
    let mut open: Vec<&str> = Vec::new();
    for file in files {
        let parts: Vec<&str> = file.path.split('/').collect();
        let (name, folders) = parts
            .split_last()
            .map_or((file.path.as_str(), &[][..]), |(n, f)| (*n, f));
        let same = open.iter().zip(folders).take_while(|(a, b)| a == b).count();
        open.truncate(same);
        for folder in &folders[same..] {
            ui.horizontal(|ui| {
                ui.add_space(INDENT * open.len() as f32);
                ui.label(RichText::new(format!("{folder}/")).strong());
            });
            open.push(folder);
        }
        ui.horizontal(|ui| {
            ui.add_space(INDENT * open.len() as f32);
            let mut on = ticked.contains(&file.index);
            if ui.checkbox(&mut on, name).changed() {
                if on {
                    ticked.insert(file.index);
                } else {
                    ticked.remove(&file.index);
                }
            }
            ui.label(RichText::new(human_bytes(file.length)).weak());
        });
    }
}
