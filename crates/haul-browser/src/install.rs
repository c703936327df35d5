//! Installing the host for each browser: its manifest (name, the host program, and only
//! Haul's extension as the allowed caller) where the browser looks for it — per OS, per
//! browser — and, on Windows, the per-user registry key that points at the manifest.
//!
//! Linux: `~/.config/<browser>/NativeMessagingHosts/` (Firefox `~/.mozilla/native-messaging-hosts/`);
//! macOS: `~/Library/Application Support/<browser>/NativeMessagingHosts/` (Firefox
//! `…/Mozilla/NativeMessagingHosts/`); Windows: the manifests in `%LOCALAPPDATA%\haul\browser\`
//! and `HKCU\Software\<browser>\NativeMessagingHosts\io.github.haul.host` naming them
//! (written with `reg.exe`, which every Windows has: no registry crate).
//!
//! Owns: which browsers there are and where each looks; writing and removing.
//! Must not touch: anything but the host's own files and keys.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::{CHROMIUM_EXTENSION_ID, FIREFOX_EXTENSION_ID, HOST_NAME};

/// A browser the host can be installed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Browser {
    pub name: &'static str,
    /// Firefox's manifest says `allowed_extensions`; Chromium's `allowed_origins`.
    pub firefox: bool,
    /// Its configuration folder under `~/.config` (Linux).
    linux: &'static str,
    /// Under `~/Library/Application Support` (macOS).
    macos: &'static str,
    /// Its key under `HKCU\Software` (Windows).
    windows: &'static str,
}

/// Every browser Haul's extension runs in.
pub const BROWSERS: &[Browser] = &[
    Browser {
        name: "Google Chrome",
        firefox: false,
        linux: ".config/google-chrome",
        macos: "Google/Chrome",
        windows: r"Google\Chrome",
    },
    Browser {
        name: "Chromium",
        firefox: false,
        linux: ".config/chromium",
        macos: "Chromium",
        windows: "Chromium",
    },
    Browser {
        name: "Microsoft Edge",
        firefox: false,
        linux: ".config/microsoft-edge",
        macos: "Microsoft Edge",
        windows: r"Microsoft\Edge",
    },
    Browser {
        name: "Brave",
        firefox: false,
        linux: ".config/BraveSoftware/Brave-Browser",
        macos: "BraveSoftware/Brave-Browser",
        windows: r"BraveSoftware\Brave-Browser",
    },
    Browser {
        name: "Vivaldi",
        firefox: false,
        linux: ".config/vivaldi",
        macos: "Vivaldi",
        windows: "Vivaldi",
    },
    Browser {
        name: "Firefox",
        firefox: true,
        linux: ".mozilla",
        macos: "Mozilla",
        windows: "Mozilla",
    },
];

/// Why installing or removing failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("no home folder to install into")]
    NoHome,
    #[error("the host program {0} is missing (it ships beside haul-cli)")]
    NoHost(PathBuf),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {path}: {source}")]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the registry refused {key}: {why}")]
    Registry { key: String, why: String },
}

/// The host's manifest for `browser`, naming `host` (an absolute path).
pub fn manifest(browser: &Browser, host: &Path) -> serde_json::Value {
    let mut manifest = json!({
        "name": HOST_NAME,
        "description": "Haul: takes the downloads the browser hands over",
        "path": host,
        "type": "stdio",
    });
    if browser.firefox {
        manifest["allowed_extensions"] = json!([FIREFOX_EXTENSION_ID]);
    } else {
        manifest["allowed_origins"] =
            json!([format!("chrome-extension://{CHROMIUM_EXTENSION_ID}/")]);
    }
    manifest
}

/// Where `browser` looks for the host's manifest, under `home` (Linux and macOS).
pub fn manifest_path(browser: &Browser, home: &Path) -> PathBuf {
    if cfg!(target_os = "macos") {
        // Firefox's folder there has Chromium's name too.
        home.join("Library/Application Support")
            .join(browser.macos)
            .join("NativeMessagingHosts")
    } else if browser.firefox {
        home.join(browser.linux).join("native-messaging-hosts")
    } else {
        home.join(browser.linux).join("NativeMessagingHosts")
    }
    .join(format!("{HOST_NAME}.json"))
}

/// The folder holding `browser`'s settings: a browser is "found" when it exists.
fn browser_folder(browser: &Browser, home: &Path) -> PathBuf {
    if cfg!(target_os = "macos") {
        home.join("Library/Application Support").join(browser.macos)
    } else {
        home.join(browser.linux)
    }
}

/// One thing written or removed, in words.
pub type Done = Vec<String>;

/// Installs the host `host` for every browser found under `home` (for all of them when none
/// is found: a browser installed later then finds it). Returns what was written.
pub fn install(home: &Path, host: &Path) -> Result<Done, InstallError> {
    if !host.is_file() {
        return Err(InstallError::NoHost(host.to_owned()));
    }
    let host = std::path::absolute(host).unwrap_or_else(|_| host.to_owned());
    if cfg!(windows) {
        return windows::install(&host);
    }
    let found: Vec<&Browser> = BROWSERS
        .iter()
        .filter(|b| browser_folder(b, home).is_dir())
        .collect();
    let targets = if found.is_empty() {
        BROWSERS.iter().collect()
    } else {
        found
    };
    let mut done = Vec::new();
    for browser in targets {
        let path = manifest_path(browser, home);
        write_manifest(&path, &manifest(browser, &host))?;
        done.push(format!("{}: {}", browser.name, path.display()));
    }
    Ok(done)
}

/// Removes the host's manifests (and on Windows its keys) for every browser. Returns what
/// was removed; nothing there is not an error.
pub fn uninstall(home: &Path) -> Result<Done, InstallError> {
    if cfg!(windows) {
        return windows::uninstall();
    }
    let mut done = Vec::new();
    for browser in BROWSERS {
        let path = manifest_path(browser, home);
        match std::fs::remove_file(&path) {
            Ok(()) => done.push(format!("{}: removed {}", browser.name, path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(InstallError::Remove { path, source }),
        }
    }
    Ok(done)
}

fn write_manifest(path: &Path, manifest: &serde_json::Value) -> Result<(), InstallError> {
    let write = || {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let text = serde_json::to_string_pretty(manifest).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")
    };
    write().map_err(|source| InstallError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Windows: manifests in `%LOCALAPPDATA%\haul\browser`, one registry key per browser.
mod windows {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use super::{BROWSERS, Browser, Done, InstallError, manifest, write_manifest};
    use crate::HOST_NAME;

    fn folder() -> Option<PathBuf> {
        std::env::var_os("LOCALAPPDATA").map(|d| PathBuf::from(d).join("haul").join("browser"))
    }

    fn key(browser: &Browser) -> String {
        format!(
            r"HKCU\Software\{}\NativeMessagingHosts\{HOST_NAME}",
            browser.windows
        )
    }

    fn reg(args: &[&str], key: &str) -> Result<(), InstallError> {
        let out = Command::new("reg")
            .args(args)
            .output()
            .map_err(|e| InstallError::Registry {
                key: key.to_owned(),
                why: e.to_string(),
            })?;
        if out.status.success() {
            Ok(())
        } else {
            Err(InstallError::Registry {
                key: key.to_owned(),
                why: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            })
        }
    }

    pub(super) fn install(host: &Path) -> Result<Done, InstallError> {
        let folder = folder().ok_or(InstallError::NoHome)?;
        let mut done = Vec::new();
        for browser in BROWSERS {
            let kind = if browser.firefox {
                "firefox"
            } else {
                "chromium"
            };
            let path = folder.join(format!("{HOST_NAME}.{kind}.json"));
            write_manifest(&path, &manifest(browser, host))?;
            let key = key(browser);
            let value = path.to_string_lossy();
            reg(
                &["add", &key, "/ve", "/t", "REG_SZ", "/d", &value, "/f"],
                &key,
            )?;
            done.push(format!("{}: {key} → {}", browser.name, path.display()));
        }
        Ok(done)
    }

    pub(super) fn uninstall() -> Result<Done, InstallError> {
        let mut done = Vec::new();
        for browser in BROWSERS {
            let key = key(browser);
            // A key that is not there: `reg query` fails, nothing to remove.
            if reg(&["query", &key], &key).is_ok() {
                reg(&["delete", &key, "/f"], &key)?;
                done.push(format!("{}: removed {key}", browser.name));
            }
        }
        if let Some(folder) = folder() {
            for kind in ["chromium", "firefox"] {
                let path = folder.join(format!("{HOST_NAME}.{kind}.json"));
                match std::fs::remove_file(&path) {
                    Ok(()) => done.push(format!("removed {}", path.display())),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(source) => return Err(InstallError::Remove { path, source }),
                }
            }
        }
        Ok(done)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn install_writes_a_manifest_for_each_browser_found_and_uninstall_removes_them() {
        let home = tempfile::tempdir().expect("home");
        let host = home.path().join("haul-browser-host");
        assert!(matches!(
            install(home.path(), &host),
            Err(InstallError::NoHost(_))
        ));
        std::fs::write(&host, b"#!/bin/sh\n").expect("host");
        std::fs::create_dir_all(home.path().join(".config/chromium")).expect("chromium");
        std::fs::create_dir_all(home.path().join(".mozilla")).expect("firefox");
        let done = install(home.path(), &host).expect("install");
        assert_eq!(done.len(), 2, "{done:?}");
        let chromium = home
            .path()
            .join(".config/chromium/NativeMessagingHosts/io.github.haul.host.json");
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&chromium).expect("chromium's manifest"))
                .expect("json");
        assert_eq!(manifest["path"], host.to_string_lossy().as_ref());
        assert_eq!(manifest["type"], "stdio");
        assert_eq!(
            manifest["allowed_origins"],
            json!(["chrome-extension://hfdfagpekomaeldlmgfaocgoonpgnmjf/"])
        );
        let firefox = home
            .path()
            .join(".mozilla/native-messaging-hosts/io.github.haul.host.json");
        let manifest: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&firefox).expect("firefox's manifest"))
                .expect("json");
        assert_eq!(
            manifest["allowed_extensions"],
            json!([FIREFOX_EXTENSION_ID])
        );
        assert!(
            !home.path().join(".config/google-chrome").exists(),
            "a browser not found is left alone"
        );

        let removed = uninstall(home.path()).expect("uninstall");
        assert_eq!(removed.len(), 2, "{removed:?}");
        assert!(!chromium.exists() && !firefox.exists());
        assert!(uninstall(home.path()).expect("again").is_empty());
    }
}

/// The `.deb`'s system-wide manifests (`assets/browser/`, see the root `Cargo.toml`) are the
/// ones `install` writes, for the host the package puts in `/usr/bin`.
#[cfg(test)]
mod packaged {
    use super::*;

    #[test]
    fn the_debs_manifests_are_the_hosts_own() {
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/browser");
        let host = Path::new("/usr/bin/haul-browser-host");
        for (file, firefox) in [
            ("chrome.json", false),
            ("chromium.json", false),
            ("edge.json", false),
            ("firefox.json", true),
        ] {
            let browser = BROWSERS
                .iter()
                .find(|b| b.firefox == firefox)
                .expect("a browser of that kind");
            let shipped: serde_json::Value =
                serde_json::from_slice(&std::fs::read(assets.join(file)).expect(file))
                    .expect("JSON");
            assert_eq!(shipped, manifest(browser, host), "{file}");
        }
    }
}
