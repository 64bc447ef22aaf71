//! The Multi-Paxos mirror reproduces TLC's counts without running TLC: the figures are TLC's for
//! the same `.cfg` (`cargo xtask tlc tla/<file>.cfg`, recorded in `tla/README.md`);
//! `tlc_conformance` compares the two live on every configuration.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

mod common;

use colony_model::check::{Counts, Search};
use colony_model::multipaxos::{Bug, Invariant};

#[test]
fn the_mirror_reproduces_tlcs_counts() {
    let pinned = [
        ("MultiPaxos_a3_r1_c1_b1_s2.cfg", 245_937, 2_256_561, 27),
        ("MultiPaxos_a3_r1_c2_b1_s1.cfg", 6_353, 40_179, 18),
        ("MultiPaxos_a3_r2_c1_b0_s2_k1.cfg", 13_541, 122_548, 21),
        ("MultiPaxos_a3_r1_c2_b1_s1_k1.cfg", 30_989, 176_933, 22),
    ];
    for (file, distinct_states, states_generated, depth) in pinned {
        let outcome = common::run_multipaxos(file);
        assert!(
            outcome.violations.is_empty(),
            "{file}: every invariant holds"
        );
        let tlc = Counts {
            distinct_states,
            states_generated,
            depth,
        };
        assert_eq!(outcome.counts, tlc, "{file}");
    }
}

/// What `MultiPaxos_a3_r1_c2_b1_s1.cfg` is for: with two commands, two leaders can propose
/// different commands in one free slot, so these bugs break `Agreement` within one slot; with
/// one command they cannot, and need a second slot and a hole.
#[test]
fn two_commands_break_agreement_in_one_slot_where_one_command_cannot() {
    for bug in [Bug::SecondProposalInSlot, Bug::VoteBelowPromise] {
        let caught = |num_commands: u8| {
            let mut model = common::multipaxos("MultiPaxos_a3_r1_c2_b1_s1.cfg").with_bug(bug);
            model.constants.num_commands = num_commands;
            model.invariants = vec![Invariant::Agreement];
            let outcome = common::run_any(model, Search::Bfs, None);
            !outcome.violations.is_empty()
        };
        assert!(caught(2), "{bug:?} breaks Agreement with two commands");
        assert!(!caught(1), "{bug:?} keeps Agreement with one command");
    }
}

/// Each deliberate bug is caught by the invariant it targets, so that no invariant of the
/// Multi-Paxos spec is one that nothing could violate; the counterexample is a real path of the
/// broken model that ends in a state violating that invariant.
#[test]
fn every_bug_is_caught_by_its_invariant() {
    for bug in Bug::ALL {
        let (model, path) = common::multipaxos_counterexample(bug);
        let states = path.clone().into_states();
        let holds = bug.target().condition();
        assert!(holds(&model, &states[0]), "{bug:?}: Init satisfies it");
        assert!(
            !holds(&model, states.last().unwrap()),
            "{bug:?}: the last state violates {}",
            bug.target().name()
        );
        let replayed =
            stateright::Path::from_actions(&model, states[0].clone(), &path.into_actions());
        assert!(replayed.is_some(), "{bug:?}: the counterexample is a path");
    }
}
