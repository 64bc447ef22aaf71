//! The server under turmoil: a few seeds of the nemesis against the real server and client
//! code, each history checked as the simulator checks its own, and one seed run twice to show
//! that a seed replays its run.
//!
//! `COLONY_TURMOIL_SEEDS=first..end` picks other seeds (`COLONY_TURMOIL_SEEDS=7` for one).

use colony_chaos::simulation::{self, Options, Report};
use colony_sim::history::{Completion, MicroOp};
use std::ops::Range;
use std::time::Duration;

/// The seeds of an ordinary test run: a few, since each is some seconds of simulation.
const SEEDS: Range<u64> = 0..3;

fn seeds() -> Range<u64> {
    let Ok(text) = std::env::var("COLONY_TURMOIL_SEEDS") else {
        return SEEDS;
    };
    let parse = |s: &str| {
        s.trim()
            .parse::<u64>()
            .unwrap_or_else(|e| panic!("COLONY_TURMOIL_SEEDS={text:?}: {s:?} is not a seed: {e}"))
    };
    match text.split_once("..") {
        Some((first, end)) => parse(first)..parse(end),
        None => parse(&text)..parse(&text) + 1,
    }
}

fn run(options: &Options) -> Report {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let adya = colony_sim::adya::binary(&Some("auto".into())).expect("adya's path");
    let report = simulation::run(options, dir.path(), adya.as_deref()).unwrap_or_else(|e| {
        panic!(
            "seed {}: {e}\nreplay: COLONY_TURMOIL_SEEDS={} cargo test -p colony-chaos --test simulation",
            options.seed, options.seed
        )
    });
    println!("{}", report.summary());
    if !report.violations.is_empty() {
        let kept = dir.keep();
        panic!(
            "seed {}: {} violations:\n{}\nhistory kept in {}\nreplay: COLONY_TURMOIL_SEEDS={} cargo test -p colony-chaos --test simulation",
            options.seed,
            report.violations.len(),
            report.violations.join("\n"),
            kept.display(),
            options.seed
        );
    }
    report
}

#[test]
fn the_server_under_crashes_partitions_and_failed_syncs_stays_strictly_serializable() {
    for seed in seeds() {
        let report = run(&Options::new(seed));
        assert!(
            report.transactions >= Options::new(seed).transactions_min,
            "seed {seed}: only {} transactions",
            report.transactions
        );
        assert!(
            report.faults.crashes
                + report.faults.held_partitions
                + report.faults.dropped_partitions
                > 0,
            "seed {seed}: no fault was injected: {:?}",
            report.faults
        );
    }
}

#[test]
fn a_seed_replays_its_run_exactly() {
    let options = Options {
        duration: Duration::from_secs(8),
        transactions_min: 200,
        ..Options::new(42)
    };
    let first = run(&options);
    let second = run(&options);
    assert_eq!(
        (first.history_hash, first.transactions, first.faults),
        (second.history_hash, second.transactions, second.faults),
        "two runs of seed {} differ",
        options.seed
    );
    let other = run(&Options {
        seed: 43,
        ..options.clone()
    });
    assert_ne!(
        first.history_hash, other.history_hash,
        "seeds 42 and 43 gave the same run: the seed does not reach the simulation"
    );
}

/// The checks can fail: the history of a real run, with one read's list put out of order, is
/// refused by the simulator's checker and by adya (when it is installed).
#[test]
fn a_run_s_history_with_one_read_out_of_order_is_refused() {
    let report = run(&Options {
        duration: Duration::from_secs(3),
        transactions_min: 100,
        faults: false,
        ..Options::new(7)
    });
    let mut history = report.history.clone();
    let tampered = history
        .transactions
        .iter_mut()
        .filter(|t| t.completion == Completion::Ok)
        .flat_map(|t| t.ops.iter_mut())
        .find_map(|op| match op {
            MicroOp::Read {
                list: Some(list), ..
            } if list.len() >= 2 && list[0] != list[1] => Some(list),
            _ => None,
        })
        .expect("a committed read of at least two elements");
    tampered.swap(0, 1);
    let found = history.check(&report.finals);
    assert!(
        !found.is_empty(),
        "the checker passed a history with a read out of order"
    );
    if let Some(adya) = colony_sim::adya::binary(&Some("auto".into())).expect("adya's path") {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let file = dir.path().join("tampered.jsonl");
        std::fs::write(&file, history.to_jsonl()).expect("the history written");
        let found = colony_sim::adya::check(&adya, &file);
        assert!(
            !found.is_empty(),
            "adya passed a history with a read out of order"
        );
    }
}
