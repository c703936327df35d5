//! Settings → Browser integration's chore: installing or removing Haul's browser host for
//! this user, off the UI thread — the same code as `haul-cli --install-browser-host`
//! (`haul_browser::install`), with the host program beside the window's.
//! Must not touch: egui, the engine.

use std::path::PathBuf;

use super::{Desktop, Reply};

impl Desktop {
    /// Where the host is installed from and into, when a test names them (else the home
    /// folder, and `haul-browser-host` beside this executable).
    pub fn set_browser_places(&mut self, home: PathBuf, host: PathBuf) {
        self.browser_places = Some((home, host));
    }

    /// Installs (or removes) the browser host; what was written comes back as
    /// [`Reply::BrowserHost`].
    pub fn browser_host(&self, install: bool) {
        let places = self.browser_places.clone();
        self.spawn(async move {
            let done = tokio::task::spawn_blocking(move || {
                let (home, host) = match places {
                    Some(places) => places,
                    None => {
                        let home = std::env::home_dir().ok_or("no home folder")?;
                        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
                        let dir = exe.parent().ok_or("Haul is in no folder")?;
                        (home, dir.join(haul_browser::HOST_BINARY))
                    }
                };
                let done = if install {
                    haul_browser::install::install(&home, &host)
                } else {
                    haul_browser::install::uninstall(&home)
                };
                done.map_err(|e| e.to_string())
            })
            .await;
            let result = done.unwrap_or_else(|e| Err(e.to_string()));
            Some(Reply::BrowserHost { install, result })
        });
    }
}
