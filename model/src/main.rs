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
    about = "Model-check Colony's specs with their Stateright mirrors",
    // Bare `colony-model` shows the usage and the subcommands, not a one-line error.
    arg_required_else_help = true
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
        Err(error)
            if error.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            eprint!("{}", error.render());
            return ExitCode::from(2);
        }
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

/// Clap's error message on one line, its tips ("a similar subcommand exists: 'check'")
/// included, without the usage and the pointer to `--help` that follow: bad input gets one line.
fn one_line(message: &str) -> String {
    let head = message
        .lines()
        .take_while(|line| !line.starts_with("Usage:"))
        .map(str::trim)
        .filter(|line| !line.is_empty());
    head.collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_clap_error_keeps_its_tip_on_one_line() {
        let message = "error: unrecognized subcommand 'chek'\n\n  tip: a similar subcommand exists: 'check'\n\nUsage: colony-model <COMMAND>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(message),
            "error: unrecognized subcommand 'chek'; tip: a similar subcommand exists: 'check'"
        );
    }
}
