//! `colony-sim`: runs the simulator on one seed or a campaign of seeds.
//!
//! ```text
//! colony-sim --seeds 200                # seeds 0..200, a progress bar, one summary line
//! colony-sim --seed 17                  # one seed, its trace hash
//! colony-sim --seeds 50 --adya auto     # and check each history with adya, when installed
//! ```
//!
//! Exit status 1 when any run found a violation; each failing seed prints the one command that
//! replays it.

use clap::Parser;
use colony_sim::{FaultCounts, Options};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "colony-sim",
    about = "Deterministic simulation of whole Colony nodes"
)]
struct Args {
    /// Run seeds `first-seed .. first-seed + N`.
    #[arg(long, conflicts_with = "seed")]
    seeds: Option<u64>,
    /// The first seed of a campaign.
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Run this one seed and print its trace hash.
    #[arg(long)]
    seed: Option<u64>,
    /// Transactions per seed.
    #[arg(long, default_value_t = Options::default().transactions)]
    transactions: u64,
    /// Nodes in the cluster (cells have three members each).
    #[arg(long, default_value_t = Options::default().nodes)]
    nodes: u8,
    /// Cells.
    #[arg(long, default_value_t = Options::default().cells)]
    cells: u64,
    /// Clients running transactions at once.
    #[arg(long, default_value_t = Options::default().clients)]
    clients: usize,
    /// Run without faults.
    #[arg(long)]
    no_faults: bool,
    /// Check each history with adya too: `auto` uses `adya` from PATH when it is there and
    /// says so when it is not; a path uses that binary and fails when it cannot run it.
    #[arg(long)]
    adya: Option<String>,
    /// Where to write each seed's history in Elle's format (a folder), for adya or for a
    /// reader. Failing seeds' histories are always written to `target/sim/`.
    #[arg(long)]
    histories: Option<PathBuf>,
}

/// Prints a line to standard output, and says nothing more when it is closed (a reader such as
/// `head` went away): the run's status is in the exit code.
fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout(), "{line}");
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        nodes: args.nodes,
        cells: args.cells,
        clients: args.clients,
        transactions: args.transactions,
        faults: !args.no_faults,
        ..Options::default()
    };
    if options.nodes < 3 || options.cells == 0 || options.clients == 0 {
        eprintln!("colony-sim: need at least 3 nodes, 1 cell and 1 client");
        return ExitCode::from(2);
    }
    let adya = match colony_sim::adya::binary(&args.adya) {
        Ok(adya) => adya,
        Err(e) => {
            eprintln!("colony-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let seeds: Vec<u64> = match (args.seed, args.seeds) {
        (Some(seed), _) => vec![seed],
        (None, Some(n)) => (args.first_seed..args.first_seed + n).collect(),
        (None, None) => (args.first_seed..args.first_seed + 10).collect(),
    };
    let progress = indicatif::ProgressBar::new(seeds.len() as u64);
    if args.seed.is_some() {
        progress.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    progress.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} seeds, {elapsed} elapsed, about {eta} left {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut totals = FaultCounts::default();
    let (mut transactions, mut committed, mut failed, mut unknown) = (0u64, 0u64, 0u64, 0u64);
    let mut simulated_ms = 0u64;
    let mut violations = 0u64;
    let mut failing = Vec::new();
    let mut lagging = 0u64;
    let adya_runs = std::cell::Cell::new(0u64);
    for &seed in &seeds {
        let report = colony_sim::run(seed, &options);
        let mut found = report.violations.clone();
        let history = report.history.to_jsonl();
        let folder = args
            .histories
            .clone()
            .unwrap_or_else(|| PathBuf::from("target/sim"));
        let file = folder.join(format!("seed-{seed}.jsonl"));
        if args.histories.is_some() || adya.is_some() {
            if let Err(e) =
                std::fs::create_dir_all(&folder).and_then(|()| std::fs::write(&file, &history))
            {
                eprintln!("colony-sim: cannot write {}: {e}", file.display());
                return ExitCode::from(2);
            }
        }
        if let Some(adya) = &adya {
            found.extend(colony_sim::adya::check(adya, &file));
            adya_runs.set(adya_runs.get() + 1);
            if args.histories.is_none() && found.is_empty() {
                // Written only for adya to read: a passing seed's history is not kept (a
                // campaign would leave hundreds of megabytes behind).
                let _ = std::fs::remove_file(&file);
            }
        }
        let (ok, fail, info) = report.history.counts();
        transactions += ok + fail + info;
        committed += ok;
        failed += fail;
        unknown += info;
        simulated_ms += report.simulated_ms;
        lagging += report.lagging_replicas;
        totals.add(&report.faults);
        if args.seed.is_some() {
            say(format_args!(
                "seed {seed}: trace hash {:016x}",
                report.trace_hash
            ));
        }
        if !found.is_empty() {
            violations += found.len() as u64;
            failing.push(seed);
            let _ = std::fs::create_dir_all("target/sim")
                .and_then(|()| std::fs::write(format!("target/sim/seed-{seed}.jsonl"), &history));
            progress.suspend(|| {
                eprintln!("seed {seed}: {} violation(s):", found.len());
                for v in found.iter().take(10) {
                    eprintln!("  {v}");
                }
                eprintln!(
                    "  history: target/sim/seed-{seed}.jsonl; replay: cargo run --release -p colony-sim -- --seed {seed}{}",
                    if options.faults { "" } else { " --no-faults" }
                );
            });
        }
        progress.set_message(format!("{violations} violation(s)"));
        progress.inc(1);
    }
    progress.finish_and_clear();
    let f = totals;
    say(format_args!(
        "seeds: {} ({}..{}), transactions: {transactions} (committed {committed}, failed {failed}, \
         unknown {unknown}), simulated time: {:.1} s, faults: lost frames {}, duplicated {}, \
         partitioned {} in {} partitions, crashes {} (lost writes {}, torn {}), bit flips {}, \
         sync failures {}, corrupt cells {}, refused restarts {}; snapshots taken {}, installed \
         from a peer {}; lagging replicas at the end: {lagging}; adya: {}; violations: \
         {violations}",
        seeds.len(),
        seeds.first().copied().unwrap_or(0),
        seeds.last().map_or(0, |s| s + 1),
        simulated_ms as f64 / 1000.0,
        f.lost_frames,
        f.duplicated_frames,
        f.partitioned_frames,
        f.partitions,
        f.crashes,
        f.lost_writes,
        f.torn_writes,
        f.bit_flips,
        f.sync_failures,
        f.corrupt_cells,
        f.refused_restarts,
        f.snapshots_taken,
        f.snapshots_installed,
        if adya.is_some() {
            format!("{} histories checked", adya_runs.get())
        } else {
            "not run".to_string()
        },
    ));
    if !failing.is_empty() {
        say(format_args!("failing seeds: {failing:?}"));
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
