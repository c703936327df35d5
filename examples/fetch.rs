//! The engine on its own: start it, submit sources, print what it reports.
//!
//! `cargo run --example fetch -- URL_OR_PATH... [--dest DIR]` fetches each into DIR (default:
//! the current folder) and prints every event; it exits non-zero if any item is not done.

use haul::engine::{Engine, EngineConfig};
use haul::protocol::{Event, Output, Source};

fn main() -> anyhow::Result<()> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let cwd = std::env::current_dir()?;
    let dest = match args.iter().position(|a| a == "--dest") {
        Some(i) if i + 1 < args.len() => cwd.join(args.drain(i..=i + 1).nth(1).unwrap_or_default()),
        _ => cwd.clone(),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let output = Output {
        dest,
        ..Output::default()
    };
    let config = EngineConfig {
        output,
        ..EngineConfig::default()
    };
    let (engine, mut events) = Engine::start(runtime.handle(), config)?;
    let mut left = 0;
    for arg in &args {
        engine.submit(Source::parse(arg, &cwd)?);
        left += 1;
    }
    let mut all_done = true;
    while left > 0 {
        let Some(event) = events.blocking_recv() else {
            break;
        };
        println!("{event:?}");
        if let Event::Finished { outcome, .. } = event {
            all_done &= outcome.status() == haul::protocol::Status::Done;
            left -= 1;
        }
    }
    anyhow::ensure!(all_done, "some items were not done");
    Ok(())
}
