//! Helpers shared by the model's integration tests.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.
#![allow(dead_code)]

use colony_model::cfg::Config;
use colony_model::check::{check, CheckOptions, Counterexample, Outcome, Search};
use colony_model::multipaxos::MultiPaxosModel;
use colony_model::paxos::{representative, Bug, PaxosModel};
use std::path::PathBuf;
use std::time::Duration;

/// The path of a file in `tla/`.
pub fn tla(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tla")
        .join(file)
}

/// Every `.cfg` in `tla/`, sorted.
pub fn all_configs() -> Vec<PathBuf> {
    let mut configs: Vec<PathBuf> = std::fs::read_dir(tla(""))
        .expect("tla/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "cfg"))
        .collect();
    configs.sort();
    configs
}

/// The model a `.cfg` in `tla/` describes, optionally with a bug.
pub fn paxos(file: &str, bug: Option<Bug>) -> PaxosModel {
    let config = Config::load(&tla(file)).expect("the .cfg parses");
    PaxosModel::from_config(&config, bug).expect("the .cfg describes a Paxos model")
}

/// Checks `model` to completion with one thread.
pub fn run(model: PaxosModel, search: Search, symmetry: bool) -> Outcome<PaxosModel> {
    let options = CheckOptions::<PaxosModel> {
        search,
        symmetry: symmetry.then_some(representative as fn(&_) -> _),
        threads: 1,
        progress_interval: Duration::from_secs(3600),
    };
    check(model, &options, &mut |_, _| {})
}

/// The model of `Paxos_a3_v2_b1.cfg` with `bug`, and the first counterexample the breadth-first
/// search finds to the invariant the bug targets.
pub fn counterexample(bug: Bug) -> (PaxosModel, Counterexample<PaxosModel>) {
    let model = paxos("Paxos_a3_v2_b1.cfg", Some(bug));
    let outcome = run(model.clone(), Search::Bfs, false);
    let target = bug.target().name();
    let found = outcome
        .violations
        .into_iter()
        .find(|(name, _)| *name == target);
    let (_, path) = found.unwrap_or_else(|| panic!("{bug:?} was not caught by {target}"));
    (model, path)
}

/// The Multi-Paxos model a `.cfg` in `tla/` describes, checked to completion breadth-first with
/// one thread.
pub fn run_multipaxos(file: &str) -> Outcome<MultiPaxosModel> {
    let config = Config::load(&tla(file)).expect("the .cfg parses");
    let model = MultiPaxosModel::from_config(&config).expect("the .cfg describes Multi-Paxos");
    let options = CheckOptions::<MultiPaxosModel> {
        search: Search::Bfs,
        symmetry: None,
        threads: 1,
        progress_interval: Duration::from_secs(3600),
    };
    check(model, &options, &mut |_, _| {})
}
