//! `colony-chaos`: real processes, real faults, an external checker.
//!
//! Each run starts three `colony node` processes on loopback (with mutual TLS), creates a few
//! cells, and runs concurrent clients doing list-append transactions through the client
//! library, while a nemesis cycles through the faults: kill -9 and restart of a node, a
//! partition of one node from the others (nftables), and a node restarted under `fiu-run` so
//! that its syncs fail (a node must stop at its first failed sync, and lose nothing it
//! acknowledged). At the end every fault is healed, every key is read through its cell's log,
//! and the history is checked by the simulator's checker and by `adya` for strict
//! serializability.
//!
//! ```text
//! colony-chaos --runs 10 --adya adya      # ten histories, each checked by adya
//! colony-chaos --seed 7                    # the run of seed 7 again
//! colony-chaos --simulated --runs 100      # the same server under turmoil, 100 seeds
//! colony-chaos --simulated --seed 7        # simulated seed 7, exactly as it ran before
//! ```
//!
//! A seed fixes the clients' choices and the nemesis's schedule; the timing of real processes
//! is not reproducible, so a failing run keeps its directory (logs, data, history) for study.
//! Under `--simulated` ([`colony_chaos::simulation`]) a seed fixes everything, and replays a
//! run exactly.
//! Exit status 1 when a run found a violation.

mod cluster;

use clap::Parser;
use cluster::Cluster;
use colony_chaos::simulation;
use colony_chaos::workload::{self, Recorder, Workload};
use colony_client::ClientConfig;
use colony_net::{Security, Tls, TlsFiles};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    name = "colony-chaos",
    about = "Real-process fault tests of a Colony cluster"
)]
struct Args {
    /// How many runs (histories).
    #[arg(long, default_value_t = 10, conflicts_with = "seed")]
    runs: u64,
    /// The first run's seed.
    #[arg(long, default_value_t = 0)]
    first_seed: u64,
    /// Run this one seed.
    #[arg(long)]
    seed: Option<u64>,
    /// The least number of transactions a run records.
    #[arg(long, default_value_t = 1000)]
    ops: usize,
    /// The least time a run lasts, in seconds (faults keep coming until then).
    #[arg(long, default_value_t = 12)]
    seconds: u64,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    clients: usize,
    /// Cells the clients use.
    #[arg(long, default_value_t = 4)]
    cells: usize,
    /// The colony binary (default: the one beside this program).
    #[arg(long)]
    colony: Option<PathBuf>,
    /// adya: a path, or `auto` for the one on PATH if any.
    #[arg(long, default_value = "auto")]
    adya: String,
    /// Fail unless every fault kind can be injected (root, nft, fiu-run): for CI.
    #[arg(long)]
    require_all_faults: bool,
    /// Keep every run's directory (by default only failing runs keep theirs).
    #[arg(long)]
    keep: bool,
    /// Run the server under turmoil's simulation instead of as processes: the seconds are
    /// simulated, a run needs neither root nor the colony binary, and a seed replays it exactly.
    #[arg(long)]
    simulated: bool,
}

impl Args {
    /// The seeds to run: `--seed`, or `--runs` of them from `--first-seed`.
    fn seeds(&self) -> Vec<u64> {
        match self.seed {
            Some(seed) => vec![seed],
            None => (self.first_seed..self.first_seed + self.runs).collect(),
        }
    }
}

/// The kinds of fault, and how many of each a run injected.
#[derive(Clone, Copy, Debug, Default)]
struct Faults {
    kills: u64,
    partitions: u64,
    sync_failures: u64,
    sync_runs: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let adya = match colony_sim::adya::binary(&Some(args.adya.clone())) {
        Ok(adya) => adya,
        Err(e) => {
            eprintln!("colony-chaos: {e}");
            return ExitCode::from(2);
        }
    };
    if args.simulated {
        return simulated(&args, adya.as_deref());
    }
    let colony = match &args.colony {
        Some(path) => path.clone(),
        None => match std::env::current_exe() {
            Ok(exe) => exe.with_file_name("colony"),
            Err(e) => {
                eprintln!("colony-chaos: this program's path: {e}");
                return ExitCode::from(2);
            }
        },
    };
    if !colony.exists() {
        eprintln!(
            "colony-chaos: {} does not exist: build it (cargo build --release -p colony) or pass --colony",
            colony.display()
        );
        return ExitCode::from(2);
    }
    let partitions = cluster::nft_works();
    let sync_faults = cluster::fiu_works();
    if !partitions || !sync_faults {
        let missing = [
            (!partitions, "partitions (nft, as root)"),
            (!sync_faults, "fsync errors (fiu-run)"),
        ]
        .iter()
        .filter(|(m, _)| *m)
        .map(|(_, name)| *name)
        .collect::<Vec<_>>()
        .join(" and ");
        if args.require_all_faults {
            eprintln!("colony-chaos: cannot inject {missing}");
            return ExitCode::from(2);
        }
        eprintln!("colony-chaos: without {missing}: those faults are skipped");
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("colony-chaos: {e}");
            return ExitCode::from(2);
        }
    };
    let seeds = args.seeds();
    let mut failed = 0;
    let mut totals = Faults::default();
    let mut transactions = 0;
    let mut adya_checks = 0;
    let started = Instant::now();
    for seed in &seeds {
        let options = RunOptions {
            seed: *seed,
            colony: &colony,
            partitions,
            sync_faults,
            args: &args,
        };
        match runtime.block_on(run(&options, adya.as_deref())) {
            Ok(report) => {
                transactions += report.transactions;
                adya_checks += u64::from(report.adya_checked);
                totals.kills += report.faults.kills;
                totals.partitions += report.faults.partitions;
                totals.sync_failures += report.faults.sync_failures;
                totals.sync_runs += report.faults.sync_runs;
                let (ok, fail, info) = report.counts;
                println!(
                    "run {seed}: {} transactions (ok {ok}, fail {fail}, info {info}) in {:.1} s; {} kills, {} partitions, {} nodes failed a sync (of {} run with failing syncs); {}",
                    report.transactions,
                    report.elapsed.as_secs_f64(),
                    report.faults.kills,
                    report.faults.partitions,
                    report.faults.sync_failures,
                    report.faults.sync_runs,
                    if report.violations.is_empty() {
                        if report.adya_checked { "adya: strict serializable".to_string() } else { "checked by the simulator's checker".to_string() }
                    } else {
                        format!("{} VIOLATIONS", report.violations.len())
                    }
                );
                if !report.violations.is_empty() {
                    failed += 1;
                    for violation in report.violations.iter().take(20) {
                        println!("  {violation}");
                    }
                    println!(
                        "  kept {}; run again with: colony-chaos --seed {seed}",
                        report.dir.display()
                    );
                }
            }
            Err(e) => {
                failed += 1;
                println!("run {seed}: could not run: {e}");
            }
        }
    }
    println!(
        "colony-chaos: {} runs, {transactions} transactions, {} kills, {} partitions, {} sync failures, {adya_checks} histories checked by adya, {:.0} s; failed runs: {failed}",
        seeds.len(),
        totals.kills,
        totals.partitions,
        totals.sync_failures,
        started.elapsed().as_secs_f64()
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The runs of `--simulated`: each seed one simulation, checked as the real runs are.
fn simulated(args: &Args, adya: Option<&Path>) -> ExitCode {
    let seeds = args.seeds();
    let started = Instant::now();
    let mut faults = simulation::Faults::default();
    let (mut transactions, mut simulated_s, mut failed) = (0, 0.0, 0);
    for seed in &seeds {
        let options = simulation::Options {
            cells: args.cells,
            clients: args.clients,
            duration: Duration::from_secs(args.seconds),
            transactions_min: args.ops,
            ..simulation::Options::new(*seed)
        };
        let dir = match tempfile::Builder::new()
            .prefix(&format!("colony-chaos-simulated-{seed}-"))
            .tempdir()
        {
            Ok(dir) => dir,
            Err(e) => {
                eprintln!("colony-chaos: a temporary directory: {e}");
                return ExitCode::from(2);
            }
        };
        match simulation::run(&options, dir.path(), adya) {
            Ok(report) => {
                println!("{}", report.summary());
                transactions += report.transactions;
                simulated_s += report.simulated.as_secs_f64();
                faults.add(&report.faults);
                if !report.violations.is_empty() || args.keep {
                    for violation in report.violations.iter().take(20) {
                        println!("  {violation}");
                    }
                    println!("  kept {}", dir.keep().display());
                }
                if !report.violations.is_empty() {
                    failed += 1;
                    println!("  run again with: colony-chaos --simulated --seed {seed}");
                }
            }
            Err(e) => {
                failed += 1;
                println!(
                    "seed {seed}: {e}\n  run again with: colony-chaos --simulated --seed {seed}"
                );
            }
        }
    }
    println!(
        "colony-chaos --simulated: {} runs, {transactions} transactions, {simulated_s:.0} simulated s in {:.0} s; \
         {} crashes, {} partitions, {} failed syncs; failed runs: {failed}",
        seeds.len(),
        started.elapsed().as_secs_f64(),
        faults.crashes,
        faults.held_partitions + faults.dropped_partitions,
        faults.sync_failures,
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

struct RunOptions<'a> {
    seed: u64,
    colony: &'a Path,
    partitions: bool,
    sync_faults: bool,
    args: &'a Args,
}

struct RunReport {
    transactions: usize,
    counts: (u64, u64, u64),
    faults: Faults,
    violations: Vec<String>,
    adya_checked: bool,
    elapsed: Duration,
    dir: PathBuf,
}

/// A free port on every node address (the same number on each, as the cluster uses).
fn free_port(rng: &mut ChaCha8Rng, nodes: u8) -> Result<u16, String> {
    for _ in 0..100 {
        let port = rng.random_range(20_000..60_000);
        if (1..=nodes)
            .all(|id| std::net::TcpListener::bind((cluster::node_ip(id).as_str(), port)).is_ok())
        {
            return Ok(port);
        }
    }
    Err("no free port found".into())
}

async fn run(options: &RunOptions<'_>, adya: Option<&Path>) -> Result<RunReport, String> {
    let args = options.args;
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let dir = tempfile::Builder::new()
        .prefix(&format!("colony-chaos-{}-", options.seed))
        .tempdir()
        .map_err(|e| e.to_string())?;
    let nodes = 3u8;
    let port = free_port(&mut rng, nodes)?;
    let mut cluster = Cluster::start(dir.path(), options.colony, nodes, port)?;
    let security = Security::Tls(Arc::new(
        Tls::load(&TlsFiles::in_dir(&cluster.certs, "client")).map_err(|e| e.to_string())?,
    ));
    let endpoints: Vec<String> = cluster.nodes.iter().map(|n| n.addr.clone()).collect();
    let mut config = ClientConfig::new(endpoints, security);
    // Clients connect from an address of their own, so that a partition between nodes does
    // not cut them off.
    config.source = Some("127.0.0.100".parse().map_err(|e| format!("{e}"))?);
    let client = workload::connect(&config, Duration::from_secs(20)).await?;
    let workload = Arc::new(Workload {
        cells: (0..args.cells).map(|i| format!("chaos-{i}")).collect(),
        keys_per_cell: 4,
        clients: args.clients,
    });
    workload::create_cells(&client, &workload, Duration::from_secs(20)).await?;

    let recorder = Arc::new(Recorder::new());
    let stop = Arc::new(AtomicBool::new(false));
    let tasks = workload::start_clients(&client, &workload, &recorder, &stop, options.seed);

    // The nemesis: faults in turn until the run has lasted long enough and recorded enough.
    let mut faults = Faults::default();
    let run_started = Instant::now();
    let mut kinds: Vec<u8> = vec![0];
    if options.partitions {
        kinds.push(1);
    }
    if options.sync_faults {
        kinds.push(2);
    }
    let mut turn = rng.random_range(0..kinds.len());
    while run_started.elapsed() < Duration::from_secs(args.seconds)
        || recorder.recorded() < args.ops
    {
        tokio::time::sleep(Duration::from_millis(rng.random_range(300..1200))).await;
        let index = rng.random_range(0..cluster.nodes.len());
        let hold = Duration::from_millis(rng.random_range(500..2000));
        match kinds[turn % kinds.len()] {
            0 => {
                cluster.kill(index);
                faults.kills += 1;
                tokio::time::sleep(hold).await;
                cluster.launch(index, None)?;
            }
            1 => {
                cluster::partition(cluster.nodes[index].id, nodes)?;
                faults.partitions += 1;
                tokio::time::sleep(hold).await;
                cluster::heal()?;
            }
            _ => {
                cluster.stop(index);
                cluster.launch(index, Some(0.05))?;
                faults.sync_runs += 1;
                let deadline = Instant::now() + hold * 2;
                while Instant::now() < deadline && cluster.is_running(index) {
                    if let Some(status) = cluster.reap(index) {
                        if !status.success() {
                            faults.sync_failures += 1;
                        }
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                cluster.stop(index);
                cluster.launch(index, None)?;
            }
        }
        turn += 1;
        // A node that stopped on its own (it should not, outside a sync fault) is a finding.
        for i in 0..cluster.nodes.len() {
            if let Some(status) = cluster.reap(i) {
                return Err(format!(
                    "node {} exited ({status}):\n{}",
                    i + 1,
                    cluster.log_tail(i, 20)
                ));
            }
        }
        if run_started.elapsed() > Duration::from_secs(args.seconds * 10) {
            break;
        }
    }
    stop.store(true, Ordering::SeqCst);
    for task in tasks {
        let _ = task.await;
    }
    cluster::heal()?;

    // Every key, read through its cell's log once every fault is healed.
    let finals = workload::final_reads(&client, &workload, Duration::from_secs(60)).await?;
    cluster.shutdown();

    let file = dir.path().join("history.jsonl");
    let workload::Checked {
        history,
        violations,
        adya_checked,
    } = workload::check(&recorder, &finals, &file, adya)?;
    let keep = !violations.is_empty() || args.keep;
    let path = if keep {
        dir.keep()
    } else {
        dir.path().to_path_buf()
    };
    Ok(RunReport {
        transactions: history.transactions.len(),
        counts: history.counts(),
        faults,
        violations,
        adya_checked,
        elapsed: run_started.elapsed(),
        dir: path,
    })
}
