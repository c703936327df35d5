//! The tray icon: Haul's total speed in its tooltip, and Show / Pause all / Resume all / Quit.
//!
//! Owns: on Linux, a StatusNotifierItem (with its dbusmenu) registered with the desktop's
//! StatusNotifierWatcher over the session bus (ksni), kept current from [`TrayState`]s the
//! window sends, and the [`TrayCommand`]s its menu and a click send back (each one wakes the
//! window). Where there is no watcher (GNOME without the AppIndicator extension, a bare X
//! session) or no session bus, or on other platforms for now, [`Tray::status`] says so and the
//! window keeps its close button's usual meaning. Must not touch: egui, what the commands do.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::runtime::Handle;
use tokio::sync::watch;

use crate::protocol::Waker;

/// Whether this build has a tray icon at all (Linux with the `tray` feature). Elsewhere the
/// setting is not offered: Windows and macOS get one with a tray crate of their own later.
pub const BUILT: bool = cfg!(all(target_os = "linux", feature = "tray"));

/// What the tray asks the window for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayCommand {
    Show,
    PauseAll,
    ResumeAll,
    Quit,
}

/// What the tray shows, in the window's language.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrayState {
    pub tooltip: String,
    pub show: String,
    pub pause_all: String,
    pub resume_all: String,
    pub quit: String,
    /// Whether Pause all / Resume all have anything to act on.
    pub can_pause: bool,
    pub can_resume: bool,
}

/// Whether the icon is up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayStatus {
    Starting,
    Shown,
    /// Why there is no icon.
    Unavailable(String),
}

/// The icon's image: width, height and RGBA bytes (row by row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayIcon {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// A running tray icon; dropping it takes the icon away.
pub struct Tray {
    state: watch::Sender<TrayState>,
    commands: mpsc::Receiver<TrayCommand>,
    status: Arc<Mutex<TrayStatus>>,
}

impl Tray {
    /// Puts the icon up (in the background); [`Tray::status`] tells how that went.
    pub fn start(runtime: &Handle, state: TrayState, icon: TrayIcon, waker: Option<Waker>) -> Tray {
        let (state_tx, state_rx) = watch::channel(state);
        let (commands_tx, commands) = mpsc::channel();
        let status = Arc::new(Mutex::new(TrayStatus::Starting));
        let report = Arc::clone(&status);
        runtime.spawn(async move {
            let wake = waker.clone();
            let set = |now: TrayStatus| {
                if let Ok(mut status) = report.lock() {
                    *status = now;
                }
                if let Some(wake) = &wake {
                    wake();
                }
            };
            let ended = sni::run(state_rx, commands_tx, icon, waker, || {
                set(TrayStatus::Shown)
            })
            .await;
            let why = ended
                .err()
                .unwrap_or_else(|| "the tray went away".to_owned());
            tracing::info!(%why, "no tray icon");
            set(TrayStatus::Unavailable(why));
        });
        Tray {
            state: state_tx,
            commands,
            status,
        }
    }

    /// Shows `state` (sent only when it differs from what is shown).
    pub fn set(&self, state: TrayState) {
        self.state.send_if_modified(|shown| {
            let changed = *shown != state;
            if changed {
                *shown = state;
            }
            changed
        });
    }

    pub fn try_command(&self) -> Option<TrayCommand> {
        self.commands.try_recv().ok()
    }

    pub fn status(&self) -> TrayStatus {
        self.status
            .lock()
            .map_or(TrayStatus::Starting, |status| status.clone())
    }
}

#[cfg(all(target_os = "linux", feature = "tray"))]
mod sni {
    use std::sync::mpsc;

    use ksni::TrayMethods as _;
    use tokio::sync::watch;

    use super::{TrayCommand, TrayIcon, TrayState};
    use crate::protocol::Waker;

    struct Item {
        state: TrayState,
        icon: ksni::Icon,
        commands: mpsc::Sender<TrayCommand>,
        waker: Option<Waker>,
    }

    impl Item {
        fn send(&self, command: TrayCommand) {
            if self.commands.send(command).is_ok()
                && let Some(wake) = &self.waker
            {
                wake();
            }
        }
    }

    impl ksni::Tray for Item {
        fn id(&self) -> String {
            "haul".to_owned()
        }

        fn title(&self) -> String {
            "Haul".to_owned()
        }

        fn icon_name(&self) -> String {
            // The installed theme icon (hicolor/…/haul.png) when there is one; else the pixmap.
            "haul".to_owned()
        }

        fn icon_pixmap(&self) -> Vec<ksni::Icon> {
            vec![self.icon.clone()]
        }

        fn tool_tip(&self) -> ksni::ToolTip {
            ksni::ToolTip {
                title: self.state.tooltip.clone(),
                ..Default::default()
            }
        }

        /// A left click shows the window.
        fn activate(&mut self, _x: i32, _y: i32) {
            self.send(TrayCommand::Show);
        }

        fn menu(&self) -> Vec<ksni::MenuItem<Self>> {
            use ksni::menu::StandardItem;
            let item = |label: &str, enabled: bool, command: TrayCommand| {
                StandardItem {
                    label: label.to_owned(),
                    enabled,
                    activate: Box::new(move |this: &mut Item| this.send(command)),
                    ..Default::default()
                }
                .into()
            };
            let s = &self.state;
            vec![
                item(&s.show, true, TrayCommand::Show),
                ksni::MenuItem::Separator,
                item(&s.pause_all, s.can_pause, TrayCommand::PauseAll),
                item(&s.resume_all, s.can_resume, TrayCommand::ResumeAll),
                ksni::MenuItem::Separator,
                item(&s.quit, true, TrayCommand::Quit),
            ]
        }
    }

    /// SNI wants ARGB32 in network byte order.
    fn argb(icon: &TrayIcon) -> ksni::Icon {
        let data = icon
            .rgba
            .chunks_exact(4)
            .flat_map(|p| [p[3], p[0], p[1], p[2]])
            .collect();
        ksni::Icon {
            width: i32::try_from(icon.width).unwrap_or(0),
            height: i32::try_from(icon.height).unwrap_or(0),
            data,
        }
    }

    /// Registers the item, then keeps it current until the window's side is dropped.
    pub(super) async fn run(
        mut state: watch::Receiver<TrayState>,
        commands: mpsc::Sender<TrayCommand>,
        icon: TrayIcon,
        waker: Option<Waker>,
        shown: impl FnOnce(),
    ) -> Result<(), String> {
        let item = Item {
            state: state.borrow_and_update().clone(),
            icon: argb(&icon),
            commands,
            waker: waker.clone(),
        };
        let handle = item.spawn().await.map_err(|e| e.to_string())?;
        shown();
        while state.changed().await.is_ok() {
            let now = state.borrow_and_update().clone();
            if handle.update(|item| item.state = now).await.is_none() {
                break; // the service ended (the bus went away)
            }
        }
        handle.shutdown().await;
        Ok(())
    }
}

#[cfg(not(all(target_os = "linux", feature = "tray")))]
mod sni {
    use std::sync::mpsc;

    use tokio::sync::watch;

    use super::{TrayCommand, TrayIcon, TrayState};
    use crate::protocol::Waker;

    pub(super) async fn run(
        _state: watch::Receiver<TrayState>,
        _commands: mpsc::Sender<TrayCommand>,
        _icon: TrayIcon,
        _waker: Option<Waker>,
        _shown: impl FnOnce(),
    ) -> Result<(), String> {
        Err("the tray icon is not built for this platform yet".to_owned())
    }
}
