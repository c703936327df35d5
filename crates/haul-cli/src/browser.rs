//! `--install-browser-host` and `--uninstall-browser-host`: the browser host
//! (`haul-browser-host`, shipped beside `haul-cli`) made known to the browsers for this user,
//! or forgotten by them, saying what was written or removed.
//!
//! Owns: finding the host program and printing the result.
//! Must not touch: where each browser looks (`haul_browser::install`'s).

use std::process::ExitCode;

use anyhow::Context as _;
use haul_browser::install;

use crate::args::BrowserHost;

pub fn run(job: BrowserHost) -> anyhow::Result<ExitCode> {
    let home = std::env::home_dir().context("no home folder")?;
    let done = match job {
        BrowserHost::Install => {
            let exe = std::env::current_exe().context("cannot tell where haul-cli is")?;
            let host = exe
                .parent()
                .context("haul-cli is in no folder")?
                .join(haul_browser::HOST_BINARY);
            let done = install::install(&home, &host)?;
            println!("Haul's browser host ({}) is installed for:", host.display());
            done
        }
        BrowserHost::Uninstall => {
            let done = install::uninstall(&home)?;
            if done.is_empty() {
                println!("Haul's browser host was not installed; nothing to remove.");
            }
            done
        }
    };
    for line in done {
        println!("  {line}");
    }
    Ok(ExitCode::SUCCESS)
}
