//! `colony-vs-etcd`: the same closed-loop write load on a local three-node Colony cluster and
//! a local three-node etcd cluster, one after the other in one run, and one table of what each
//! did and of the ratios between them.
//!
//! It installs nothing: it runs the `colony` binary it is given (`colony dev --nodes 3
//! --insecure`) and the `etcd` on the PATH. Each case runs for the same duration with the same
//! seed on both systems: one cell (etcd: one key prefix) or a thousand cells (etcd: a thousand
//! prefixes, still one raft group), each with one and with many clients. Every process it
//! starts is stopped at the end, also on an error and on Ctrl-C.

#![deny(missing_docs)]

mod clusters;
mod etcd;
mod process;

use clap::Parser;
use colony_client::{Client, ClientConfig};
use colony_load::colony::{ensure_cells, ColonyTarget};
use colony_load::{millis, partition_names, Progress, Report, Stop, Workload};
use colony_net::Security;
use comfy_table::{presets::ASCII_FULL, Table};
use process::Process;
use serde_json::{json, Value as Json};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};

/// The settings of a run.
#[derive(Parser, Debug)]
#[command(
    name = "colony-vs-etcd",
    about = "Run the same write load on a local 3-node Colony cluster and a local 3-node etcd cluster, and compare."
)]
struct Args {
    /// The colony binary (build it with `cargo build --release -p colony`).
    #[arg(long, default_value = "target/release/colony")]
    colony: PathBuf,
    /// The etcd binary (Debian's package etcd-server installs it).
    #[arg(long, default_value = "etcd")]
    etcd: PathBuf,
    /// How long each case runs on each system, in seconds.
    #[arg(long, default_value_t = 10.0)]
    duration_s: f64,
    /// The length of each value written.
    #[arg(long, default_value_t = 100)]
    value_bytes: usize,
    /// How many distinct keys each cell (etcd: each prefix) gets written.
    #[arg(long, default_value_t = 1000)]
    keys: u64,
    /// The counts of concurrent clients to run, each a case.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 64])]
    clients: Vec<usize>,
    /// The counts of cells (etcd: key prefixes) to spread the writes over, each a case with
    /// every count of clients.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 1000])]
    cells: Vec<usize>,
    /// Colony node N listens on BASE+N-1 (and serves metrics on BASE+100+N-1).
    #[arg(long, default_value_t = 17001)]
    colony_base_port: u16,
    /// etcd member N serves clients on BASE+N-1 and peers on BASE+100+N-1.
    #[arg(long, default_value_t = 12379)]
    etcd_base_port: u16,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Keep the clusters' data and logs here (default: a new temporary directory, removed at
    /// the end).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Draw no progress bars (none are drawn when standard error is not a terminal anyway).
    #[arg(long)]
    no_progress: bool,
}

/// One case, measured on both systems.
struct Case {
    name: String,
    clients: usize,
    cells: usize,
    colony: Report,
    etcd: Report,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("colony-vs-etcd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("colony-vs-etcd: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    // Listen for signals before starting anything, so that an interrupt at any point ends in
    // the teardown below rather than in the default action (which would leave the clusters
    // running). Tokio keeps its handlers once installed, so a second interrupt during the
    // teardown does not cut it short either.
    let listen = |kind| signal(kind).map_err(|e| format!("listening for signals: {e}"));
    let mut interrupt = listen(SignalKind::interrupt())?;
    let mut terminate = listen(SignalKind::terminate())?;
    let duration = Duration::try_from_secs_f64(args.duration_s)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or(format!(
            "--duration-s {} is not a duration above 0",
            args.duration_s
        ))?;
    if !args.colony.is_file() {
        return Err(format!(
            "no colony binary at {}: build it with `cargo build --release -p colony`, or pass --colony PATH",
            args.colony.display()
        ));
    }
    let etcd_version = etcd_version(&args.etcd)?;
    let temporary;
    let dir = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            dir.clone()
        }
        None => {
            temporary = tempfile::Builder::new()
                .prefix("colony-vs-etcd-")
                .tempdir()
                .map_err(|e| format!("a temporary directory: {e}"))?;
            temporary.path().to_path_buf()
        }
    };
    let dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;

    let mut processes = Vec::new();
    let outcome = tokio::select! {
        outcome = bench(&args, duration, &dir, &mut processes) => outcome,
        _ = interrupt.recv() => Err("interrupted".to_string()),
        _ = terminate.recv() => Err("terminated".to_string()),
    };
    eprintln!("stopping both clusters");
    process::stop_all(&mut processes);
    let cases = outcome?;

    let settings = json!({
        "duration_s": duration.as_secs_f64(),
        "value_bytes": args.value_bytes,
        "keys_per_partition": args.keys,
        "etcd_version": etcd_version,
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
    });
    let rows = rows(&cases);
    print_table(&rows);
    if let Some(path) = &args.json {
        let document = json!({"settings": settings, "results": rows});
        let text = serde_json::to_string_pretty(&document).map_err(|e| e.to_string())?;
        std::fs::write(path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let failed: u64 = cases.iter().map(|c| c.colony.errors + c.etcd.errors).sum();
    if failed > 0 {
        for case in &cases {
            for (system, report) in [("colony", &case.colony), ("etcd", &case.etcd)] {
                for error in &report.first_errors {
                    eprintln!("{}, {system}: {error}", case.name);
                }
            }
        }
        return Err(format!(
            "{failed} writes failed (the first of each run above)"
        ));
    }
    Ok(())
}

/// The first line of `etcd --version`, which also shows that the binary runs.
fn etcd_version(etcd: &Path) -> Result<String, String> {
    let output = Command::new(etcd).arg("--version").output().map_err(|e| {
        format!(
            "cannot run {}: {e}; install etcd 3.4 (Debian: apt-get install etcd-server) or pass --etcd PATH",
            etcd.display()
        )
    })?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text.lines().next().unwrap_or("unknown").trim().to_string())
}

/// Starts both clusters, then runs every case on Colony and then on etcd.
async fn bench(
    args: &Args,
    duration: Duration,
    dir: &Path,
    processes: &mut Vec<Process>,
) -> Result<Vec<Case>, String> {
    eprintln!(
        "starting Colony (3 nodes) and etcd (3 members) on loopback, data in {}",
        dir.display()
    );
    let (dev, endpoints) = clusters::start_colony(&args.colony, dir, args.colony_base_port)?;
    processes.push(dev);
    let etcd = clusters::start_etcd(&args.etcd, dir, args.etcd_base_port).await?;
    processes.extend(etcd.processes);
    let client = Client::connect(ClientConfig::new(endpoints, Security::Insecure))
        .await
        .map_err(|e| format!("connecting to Colony: {e}"))?;
    let client = Arc::new(client);
    let progress = |label: String| {
        if args.no_progress {
            Progress::Hidden
        } else {
            Progress::Bar(label)
        }
    };
    let mut cases = Vec::new();
    for &cells in &args.cells {
        let names = partition_names("bench", cells);
        let created = ensure_cells(&client, &names, 3, &progress("creating cells".into()))
            .await
            .map_err(|e| format!("creating Colony's cells: {e}"))?;
        eprintln!("created {created} Colony cells of 3 replicas");
        for &clients in &args.clients {
            let name = format!("{}, {}", plural(cells, "cell"), plural(clients, "client"));
            let workload = Workload {
                clients,
                stop: Stop::After(duration),
                value_bytes: args.value_bytes,
                keys: args.keys,
                partitions: cells,
                seed: 0,
            };
            let target = Arc::new(ColonyTarget::new(client.clone(), names.clone()));
            let colony = colony_load::run(target, &workload, &progress(format!("{name}: colony")))
                .await
                .map_err(|e| e.to_string())?;
            summary(&name, "colony", &colony);
            let target = etcd::EtcdTarget::connect(&etcd.leader, clients, names.clone()).await?;
            let etcd = colony_load::run(
                Arc::new(target),
                &workload,
                &progress(format!("{name}: etcd")),
            )
            .await
            .map_err(|e| e.to_string())?;
            summary(&name, "etcd", &etcd);
            for process in processes.iter_mut() {
                if let Some(status) = process.exited() {
                    return Err(process.died(status));
                }
            }
            cases.push(Case {
                name,
                clients,
                cells,
                colony,
                etcd,
            });
        }
    }
    Ok(cases)
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// One line a run, as it ends, so that a log shows progress too.
fn summary(case: &str, system: &str, report: &Report) {
    eprintln!(
        "{case}, {system}: {:.0} ops/s, p50 {:.2} ms, p99 {:.2} ms, {} errors",
        report.ops_per_s,
        millis(report.p50),
        millis(report.p99),
        report.errors
    );
}

/// Rounds to three decimals, for printing.
fn rounded(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A row for each system in each case; the Colony row holds the ratios Colony/etcd of
/// throughput (higher is better for Colony) and of median latency (lower is better).
fn rows(cases: &[Case]) -> Vec<Json> {
    let mut rows = Vec::new();
    for case in cases {
        let ratio = |a: f64, b: f64| {
            if b > 0.0 {
                json!(rounded(a / b))
            } else {
                Json::Null
            }
        };
        let throughput = ratio(case.colony.ops_per_s, case.etcd.ops_per_s);
        let p50 = ratio(millis(case.colony.p50), millis(case.etcd.p50));
        for (system, report, ratios) in [
            ("colony", &case.colony, Some((throughput, p50))),
            ("etcd", &case.etcd, None),
        ] {
            let (throughput, p50) = ratios.unwrap_or((Json::Null, Json::Null));
            rows.push(json!({
                "case": case.name,
                "system": system,
                "clients": case.clients,
                "cells": case.cells,
                "ops": report.ops,
                "errors": report.errors,
                "seconds": rounded(report.elapsed.as_secs_f64()),
                "ops_per_s": rounded(report.ops_per_s),
                "p50_ms": rounded(millis(report.p50)),
                "p99_ms": rounded(millis(report.p99)),
                "p999_ms": rounded(millis(report.p999)),
                "max_ms": rounded(millis(report.max)),
                "colony_over_etcd_ops_per_s": throughput,
                "colony_over_etcd_p50": p50,
                "first_errors": report.first_errors.iter().map(ToString::to_string).collect::<Vec<_>>(),
            }));
        }
    }
    rows
}

fn print_table(rows: &[Json]) {
    let mut table = Table::new();
    table.load_preset(ASCII_FULL).set_header(vec![
        "CASE",
        "SYSTEM",
        "OPS/S",
        "P50 MS",
        "P99 MS",
        "ERRORS",
        "OPS/S COLONY/ETCD",
        "P50 COLONY/ETCD",
    ]);
    let text = |row: &Json, key: &str| match &row[key] {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        Json::Number(n) => match n.as_f64() {
            Some(x) if key.starts_with("ops_per_s") => format!("{x:.0}"),
            Some(x) if key.starts_with("colony_over") => format!("{x:.2}x"),
            Some(x) if key.ends_with("_ms") => format!("{x:.2}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    };
    for row in rows {
        table.add_row(
            [
                "case",
                "system",
                "ops_per_s",
                "p50_ms",
                "p99_ms",
                "errors",
                "colony_over_etcd_ops_per_s",
                "colony_over_etcd_p50",
            ]
            .map(|key| text(row, key)),
        );
    }
    println!("{table}");
}
