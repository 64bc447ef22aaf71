//! `colony-model bench`: the model's speed and TLC's on the same `.cfg`, measured side by side
//! in one run, each on one core (one checker thread, one TLC worker).

use super::{constants_text, thousands, with_model, CliModel, Loaded, ModelArgs};
use clap::Args;
use colony_model::cfg::Config;
use colony_model::check::{check, CheckOptions, Counts, Search, DISTINCT_STATES_MAX_DEFAULT};
use colony_model::{tlc, ModelError};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Flags of `bench`: the `.cfg` alone, with neither `--constant` nor `--bug`, since TLC reads
/// the file as it is and the two must check the same spec.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The TLC configuration: its file name names the spec (`Paxos_*.cfg` is `Paxos.tla`,
    /// `MultiPaxos_*.cfg` is `MultiPaxos.tla`).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// Runs of the model; the median is reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=100))]
    runs: u32,
    /// Runs of TLC; the median is reported.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=20))]
    tlc_runs: u32,
    /// Measure the model only.
    #[arg(long)]
    no_tlc: bool,
}

/// Runs the benchmark and prints a table of figures and the speed ratio.
pub fn run(args: &BenchArgs) -> Result<ExitCode, ModelError> {
    let spec = ModelArgs {
        config: args.config.clone(),
        constants: Vec::new(),
        bug: None,
    };
    let Loaded {
        name,
        config,
        model,
    } = spec.load()?;
    with_model!(model, model => bench_model(args, &name, &config, model))
}

/// `bench` for the model of one spec.
fn bench_model<M: CliModel>(
    args: &BenchArgs,
    name: &str,
    config: &Config,
    model: M,
) -> Result<ExitCode, ModelError> {
    println!("bench {name} ({}), one core each", constants_text(config));
    let options = CheckOptions::<M> {
        search: Search::Bfs,
        symmetry: None,
        threads: 1,
        progress_interval: Duration::from_secs(3600),
        distinct_states_max: DISTINCT_STATES_MAX_DEFAULT,
    };
    let mut model_times = Vec::new();
    let mut model_counts = Counts::default();
    for _ in 0..args.runs {
        let outcome = check(model.clone(), &options, &mut |_, _| {});
        model_counts = outcome.counts;
        model_times.push(outcome.elapsed);
    }
    let model_rate = print_row("model", &model_times, model_counts);
    if args.no_tlc {
        return Ok(ExitCode::SUCCESS);
    }
    let jar = tlc::find_jar().map_err(|e| ModelError::Tlc(e.to_string()))?;
    let spec = spec_path(&args.config, &config.module);
    let mut tlc_times = Vec::new();
    let mut tlc_counts = Counts::default();
    for _ in 0..args.tlc_runs {
        let run =
            tlc::run(&jar, &spec, &args.config).map_err(|e| ModelError::Tlc(e.to_string()))?;
        tlc_counts = run.counts;
        tlc_times.push(run.elapsed);
    }
    let tlc_rate = print_row("TLC", &tlc_times, tlc_counts);
    if tlc_counts != model_counts {
        println!("warning: the counts differ: the model does not mirror this spec exactly");
    }
    println!(
        "ratio: the model explores {:.1}x TLC's distinct states per second (TLC's time includes JVM start-up and parsing)",
        model_rate / tlc_rate
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints one row and returns distinct states per second at the median time.
fn print_row(who: &str, times: &[Duration], counts: Counts) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort();
    let median = sorted[sorted.len() / 2].as_secs_f64();
    let rate = counts.distinct_states as f64 / median.max(1e-9);
    println!(
        "{who:<6} runs {:>2}  median {median:>8.3} s  min {:>8.3} s  max {:>8.3} s  {} distinct, {} generated, depth {}  {:>10} distinct states/s",
        times.len(),
        sorted[0].as_secs_f64(),
        sorted[sorted.len() - 1].as_secs_f64(),
        counts.distinct_states,
        counts.states_generated,
        counts.depth,
        thousands(rate as u64),
    );
    rate
}

/// The spec beside a `.cfg`: `tla/Paxos.tla` for `tla/Paxos_a3_v2_b2.cfg`.
pub fn spec_path(config: &Path, module: &str) -> std::path::PathBuf {
    config.with_file_name(format!("{module}.tla"))
}
