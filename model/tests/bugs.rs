//! Every invariant can fail: each deliberately broken protocol is caught with a counterexample to
//! the invariant it targets, and the counterexample is a real path of the broken model that ends
//! in a state violating that invariant.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

mod common;

use colony_model::check::Search;
use colony_model::paxos::{Bug, Invariant};
use common::{counterexample, paxos, run};
use stateright::Model;

#[test]
fn every_bug_is_caught_by_its_target_invariant() {
    for bug in Bug::ALL {
        let (model, path) = counterexample(bug);
        let target = bug.target().name();
        let states = path.clone().into_states();
        let last = states.last().unwrap();
        assert!(
            !(bug.target().condition())(&model, last),
            "{bug:?}: the last state violates {target}"
        );
        assert!(
            (bug.target().condition())(&model, &states[0]),
            "{bug:?}: Init satisfies {target}"
        );
        let replayed =
            stateright::Path::from_actions(&model, states[0].clone(), &path.clone().into_actions());
        assert!(
            replayed.is_some(),
            "{bug:?}: the counterexample is a path of the model"
        );
    }
}

#[test]
fn every_invariant_is_the_target_of_some_bug() {
    for invariant in Invariant::ALL {
        assert!(
            Bug::ALL.iter().any(|bug| bug.target() == invariant),
            "{invariant:?} is never shown able to fail"
        );
    }
}

#[test]
fn the_spec_itself_violates_nothing_a_bug_violates() {
    let model = paxos("Paxos_a3_v2_b1.cfg", None);
    assert_eq!(model.properties().len(), Invariant::ALL.len());
    assert!(run(model, Search::Bfs, false).violations.is_empty());
}
