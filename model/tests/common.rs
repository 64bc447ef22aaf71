//! Helpers shared by the model's integration tests.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.
#![allow(dead_code)]

use colony_model::cfg::Config;
use colony_model::check::{
    check, CheckOptions, Counterexample, Outcome, Representative, Search,
    DISTINCT_STATES_MAX_DEFAULT,
};
use colony_model::multipaxos::{self, MultiPaxosModel};
use colony_model::paxos::{representative, Bug, PaxosModel};
use stateright::Model;
use std::fmt::Debug;
use std::hash::Hash;
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

/// Checks the Paxos `model` to completion with one thread.
pub fn run(model: PaxosModel, search: Search, symmetry: bool) -> Outcome<PaxosModel> {
    run_any(
        model,
        search,
        symmetry.then_some(representative as fn(&_) -> _),
    )
}

/// Checks `model` to completion with one thread (or until every invariant has failed).
pub fn run_any<M>(model: M, search: Search, symmetry: Option<Representative<M>>) -> Outcome<M>
where
    M: Model + Send + Sync + 'static,
    M::State: Debug + Hash + Send + Sync + Clone + PartialEq + 'static,
    M::Action: Debug + Clone + PartialEq,
{
    let options = CheckOptions::<M> {
        search,
        symmetry,
        threads: 1,
        progress_interval: Duration::from_secs(3600),
        distinct_states_max: DISTINCT_STATES_MAX_DEFAULT,
    };
    let outcome = check(model, &options, &mut |_, _| {});
    assert!(
        !outcome.stopped_at_bound,
        "a test's search must explore its whole space"
    );
    outcome
}

/// The model of `Paxos_a3_v2_b1.cfg` with `bug`, and the first counterexample the breadth-first
/// search finds to the invariant the bug targets.
pub fn counterexample(bug: Bug) -> (PaxosModel, Counterexample<PaxosModel>) {
    let model = paxos("Paxos_a3_v2_b1.cfg", Some(bug));
    let path = first_counterexample(model.clone(), bug.target().name(), &format!("{bug:?}"));
    (model, path)
}

/// The first counterexample to `target` that a one-thread breadth-first search of `model` finds:
/// a shortest one. `bug` names what should have been caught, for the failure message.
pub fn first_counterexample<M>(model: M, target: &str, bug: &str) -> Counterexample<M>
where
    M: Model + Send + Sync + 'static,
    M::State: Debug + Hash + Send + Sync + Clone + PartialEq + 'static,
    M::Action: Debug + Clone + PartialEq,
{
    let outcome = run_any(model, Search::Bfs, None);
    let found = outcome
        .violations
        .into_iter()
        .find(|(name, _)| *name == target);
    let (_, path) = found.unwrap_or_else(|| panic!("{bug} was not caught by {target}"));
    path
}

/// The Multi-Paxos model a `.cfg` in `tla/` describes.
pub fn multipaxos(file: &str) -> MultiPaxosModel {
    let config = Config::load(&tla(file)).expect("the .cfg parses");
    MultiPaxosModel::from_config(&config).expect("the .cfg describes Multi-Paxos")
}

/// The Multi-Paxos model a `.cfg` in `tla/` describes, checked to completion breadth-first with
/// one thread.
pub fn run_multipaxos(file: &str) -> Outcome<MultiPaxosModel> {
    run_any(multipaxos(file), Search::Bfs, None)
}

/// The Multi-Paxos model with `bug`, checking only the invariant the bug targets (so that the
/// search stops at its first violation), and that first, shortest counterexample. The model is
/// that of the bug's own `.cfg` for the bugs written in TLA+ too (`MultiPaxosBugs_<bug>.cfg`),
/// and otherwise `MultiPaxos_a3_r1_c1_b1_s2.cfg`'s, with a second replica where the bug needs a
/// peer to catch up from.
pub fn multipaxos_counterexample(
    bug: multipaxos::Bug,
) -> (MultiPaxosModel, Counterexample<MultiPaxosModel>) {
    let model = match bug {
        _ if bug.tla_override().is_some() => multipaxos(&multipaxos_bug_config(bug)),
        multipaxos::Bug::CatchUpWrongEntry => {
            multipaxos("MultiPaxos_a3_r2_c1_b1_s2.cfg").with_bug(bug)
        }
        _ => multipaxos("MultiPaxos_a3_r1_c1_b1_s2.cfg").with_bug(bug),
    };
    assert_eq!(model.bug, Some(bug), "the model runs with {bug:?}");
    let mut model = model;
    model.invariants = vec![bug.target()];
    let path = first_counterexample(model.clone(), bug.target().name(), &format!("{bug:?}"));
    (model, path)
}

/// The `.cfg` that puts `bug` into `MultiPaxos.tla` for TLC and the model alike:
/// `MultiPaxosBugs_<bug>.cfg`, named as `--bug` names it.
pub fn multipaxos_bug_config(bug: multipaxos::Bug) -> String {
    use clap::ValueEnum;
    let value = bug.to_possible_value().expect("every bug has a name");
    format!("MultiPaxosBugs_{}.cfg", value.get_name())
}
