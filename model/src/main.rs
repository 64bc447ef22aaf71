//! `colony-model`: model-check a spec's Stateright mirror, browse its state space, or benchmark
//! it against TLC. Exit status: 0 when every invariant holds, 1 when one is violated, 2 for bad
//! arguments or a malformed `.cfg`.

mod commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "colony-model",
    version,
    about = "Model-check Colony's specs with their Stateright mirrors"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check every state the spec can reach against the invariants its .cfg lists.
    Check(commands::check::CheckArgs),
    /// Serve the Stateright Explorer to browse the state space in a web browser.
    Explore(commands::explore::ExploreArgs),
    /// Measure the model's speed and TLC's on the same .cfg, side by side.
    Bench(commands::bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) if error.use_stderr() => {
            eprintln!("{}", one_line(&error.render().to_string()));
            return ExitCode::from(2);
        }
        Err(help_or_version) => help_or_version.exit(),
    };
    let result = match cli.command {
        Command::Check(args) => commands::check::run(&args),
        Command::Explore(args) => commands::explore::run(&args),
        Command::Bench(args) => commands::bench::run(&args),
    };
    match result {
        Ok(status) => status,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// Clap's error message up to its first blank line, on one line: bad input gets one line.
fn one_line(message: &str) -> String {
    let head = message.lines().take_while(|line| !line.trim().is_empty());
    head.map(str::trim).collect::<Vec<_>>().join(" ")
}
