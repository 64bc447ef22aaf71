//! The Multi-Paxos mirror reproduces TLC's counts without running TLC: the figures are TLC's for
//! the same `.cfg` (`cargo xtask tlc tla/MultiPaxos_a3_r1_c1_b1_s2.cfg`, recorded in
//! `tla/README.md`); `tlc_conformance` compares the two live on every configuration.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

mod common;

use colony_model::check::Counts;

#[test]
fn the_mirror_reproduces_tlcs_counts() {
    let outcome = common::run_multipaxos("MultiPaxos_a3_r1_c1_b1_s2.cfg");
    assert!(outcome.violations.is_empty(), "every invariant holds");
    let tlc = Counts {
        distinct_states: 245_937,
        states_generated: 2_256_561,
        depth: 27,
    };
    assert_eq!(outcome.counts, tlc);
}

/// Each deliberate bug is caught by the invariant it targets, so that no invariant of the
/// Multi-Paxos spec is one that nothing could violate.
#[test]
fn every_bug_is_caught_by_its_invariant() {
    use colony_model::cfg::Config;
    use colony_model::multipaxos::{Bug, MultiPaxosModel};
    use stateright::{Checker, Model};
    for bug in Bug::ALL {
        // Two replicas only where the bug needs them: catching up needs a peer.
        let file = match bug {
            Bug::CatchUpWrongEntry => "MultiPaxos_a3_r2_c1_b1_s2.cfg",
            _ => "MultiPaxos_a3_r1_c1_b1_s2.cfg",
        };
        let config = Config::load(&common::tla(file)).unwrap();
        let mut model = MultiPaxosModel::from_config(&config).unwrap().with_bug(bug);
        model.invariants = vec![bug.target()];
        let checker = model.checker().threads(1).spawn_bfs().join();
        let target = bug.target().name();
        let found = checker.discovery(target);
        assert!(found.is_some(), "{bug:?} is not caught by {target}");
        eprintln!(
            "{bug:?}: {target} violated after {} steps",
            found.unwrap().into_actions().len()
        );
    }
}
