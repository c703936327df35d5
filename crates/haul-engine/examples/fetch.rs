//! The engine on its own, in thirty lines: start it, submit sources, print what it reports.
//!
//! `cargo run --example fetch -- [--dest DIR] URL_OR_PATH...` fetches each into DIR (default:
//! the current folder), prints every event, and fails if any item is not done.

use haul_core::protocol::{Event, Output, Source, Status};
use haul_engine::{Engine, EngineConfig};

fn main() -> anyhow::Result<()> {
    let cwd = std::env::current_dir()?;
    let mut args = std::env::args().skip(1).peekable();
    let mut output = Output {
        dest: cwd.clone(),
        ..Output::default()
    };
    if args.next_if_eq("--dest").is_some() {
        output.dest = cwd.join(args.next().unwrap_or_default());
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let config = EngineConfig {
        output,
        ..EngineConfig::default()
    };
    let (engine, mut events) = Engine::start(runtime.handle(), config)?;
    let mut left = 0;
    for arg in args {
        engine.submit(Source::parse(&arg, &cwd)?);
        left += 1;
    }
    let mut all_done = true;
    while left > 0 {
        let Some(event) = events.blocking_recv() else {
            break;
        };
        println!("{event:?}");
        if let Event::Finished { outcome, .. } = event {
            all_done &= outcome.status() == Status::Done;
            left -= 1;
        }
    }
    anyhow::ensure!(all_done, "some items were not done");
    Ok(())
}
