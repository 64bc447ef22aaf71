//! `colony bench`: a closed-loop write load on a cluster, and what it measured.
//!
//! Each operation is one `put` through the client library, with its exactly-once session and
//! its retries, so that an operation done is a write that the cell's majority has logged and
//! synced. The load itself is `colony-load`'s, the same that the side-by-side bench against
//! etcd runs.

use crate::output::print;
use crate::{ConnArgs, Failure};
use clap::Args;
use colony_core::cell::{KEYS_MAX, VALUE_BYTES_MAX};
use colony_load::colony::{ensure_cells, ColonyTarget};
use colony_load::{millis, partition_names, Progress, Stop, Workload};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// The settings of `colony bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// How many clients write at once, each waiting for its write before the next.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// How long the load runs, in seconds.
    #[arg(long, default_value_t = 10.0)]
    duration_s: f64,
    /// Stop after this many writes in all instead of after a duration.
    #[arg(long, conflicts_with = "duration_s")]
    ops: Option<u64>,
    /// The length of each value written.
    #[arg(long, default_value_t = 100)]
    value_bytes: usize,
    /// How many cells the writes spread over: 1 is the cell `bench`, more are `bench-0` to
    /// `bench-{N-1}`; the missing ones are created first.
    #[arg(long, default_value_t = 1)]
    cells: usize,
    /// How many distinct keys each cell gets written.
    #[arg(long, default_value_t = 1000)]
    keys: u64,
    /// How many nodes hold each cell the bench creates.
    #[arg(long, default_value_t = 3)]
    replicas: usize,
    /// Draw no progress bar (none is drawn when standard error is not a terminal anyway).
    #[arg(long)]
    no_progress: bool,
    #[command(flatten)]
    conn: ConnArgs,
}

impl BenchArgs {
    /// The workload, or why these settings make none.
    fn workload(&self) -> Result<Workload, String> {
        if self.value_bytes > VALUE_BYTES_MAX {
            return Err(format!(
                "--value-bytes {} is above a cell's largest value, {VALUE_BYTES_MAX} bytes",
                self.value_bytes
            ));
        }
        if self.keys > KEYS_MAX as u64 {
            return Err(format!(
                "--keys {} is above the keys a cell holds, {KEYS_MAX}",
                self.keys
            ));
        }
        let stop = match self.ops {
            Some(ops) => Stop::Ops(ops),
            None => Stop::After(
                Duration::try_from_secs_f64(self.duration_s)
                    .map_err(|_| format!("--duration-s {} is not a duration", self.duration_s))?,
            ),
        };
        let workload = Workload {
            clients: self.clients,
            stop,
            value_bytes: self.value_bytes,
            keys: self.keys,
            partitions: self.cells,
            ..Workload::default()
        };
        workload.check().map_err(|e| e.to_string())?;
        Ok(workload)
    }

    fn progress(&self, label: String) -> Progress {
        if self.no_progress {
            Progress::Hidden
        } else {
            Progress::Bar(label)
        }
    }
}

/// Runs the bench and prints its report; fails, after printing it, when any write failed.
pub async fn run(args: BenchArgs) -> Result<(), Failure> {
    let workload = args.workload().map_err(Failure::Usage)?;
    let client = Arc::new(args.conn.client().await?);
    let cells = partition_names("bench", args.cells);
    ensure_cells(
        &client,
        &cells,
        args.replicas,
        &args.progress("creating cells".into()),
    )
    .await?;
    let target = Arc::new(ColonyTarget::new(client, cells));
    let label = format!("{} clients", args.clients);
    let report = colony_load::run(target, &workload, &args.progress(label))
        .await
        .map_err(|e| Failure::Failed(e.to_string()))?;
    let rounded = |x: f64| (x * 1000.0).round() / 1000.0;
    print(
        args.conn.write_out,
        &[
            "CLIENTS",
            "CELLS",
            "OPS",
            "ERRORS",
            "SECONDS",
            "OPS PER S",
            "P50 MS",
            "P99 MS",
            "P999 MS",
            "MAX MS",
        ],
        vec![vec![
            json!(args.clients),
            json!(args.cells),
            json!(report.ops),
            json!(report.errors),
            json!(rounded(report.elapsed.as_secs_f64())),
            json!(rounded(report.ops_per_s)),
            json!(rounded(millis(report.p50))),
            json!(rounded(millis(report.p99))),
            json!(rounded(millis(report.p999))),
            json!(rounded(millis(report.max))),
        ]],
    );
    if report.errors == 0 {
        return Ok(());
    }
    for failed in &report.first_errors {
        eprintln!("failed: {failed}");
    }
    Err(Failure::Failed(format!(
        "{} of {} writes failed (the first {} above)",
        report.errors,
        report.errors + report.ops,
        report.first_errors.len()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cli;
    use clap::Parser;

    fn args(line: &[&str]) -> BenchArgs {
        let mut all = vec!["colony", "bench"];
        all.extend_from_slice(line);
        match Cli::try_parse_from(all).expect("parses").command {
            crate::Command::Bench(args) => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_defaults_are_one_client_one_cell_for_ten_seconds() {
        let workload = args(&[]).workload().expect("valid");
        assert_eq!(workload.clients, 1);
        assert_eq!(workload.partitions, 1);
        assert_eq!(workload.value_bytes, 100);
        assert_eq!(workload.stop, Stop::After(Duration::from_secs(10)));
        let workload = args(&["--ops", "500", "--cells", "4"])
            .workload()
            .expect("valid");
        assert_eq!((workload.stop, workload.partitions), (Stop::Ops(500), 4));
    }

    #[test]
    fn settings_a_cell_would_refuse_are_refused_first() {
        for (line, words) in [
            (&["--keys", "10001"][..], "keys a cell holds"),
            (&["--value-bytes", "70000"][..], "largest value"),
            (&["--clients", "0"][..], "one client"),
            (&["--duration-s=-1"][..], "not a duration"),
        ] {
            let error = args(line).workload().expect_err("refused");
            assert!(error.contains(words), "{line:?}: {error}");
        }
        let both = Cli::try_parse_from(["colony", "bench", "--ops", "1", "--duration-s", "1"]);
        assert!(both.is_err());
    }
}
