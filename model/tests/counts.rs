//! The state counts of every configuration, pinned. The exact figures were observed from TLC
//! (the conformance test re-checks them against TLC itself); breadth- and depth-first search
//! must agree on the distinct and generated counts, and symmetry must shrink the space.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

mod common;

use colony_model::check::{Counts, Search};
use common::{paxos, run};

/// (config, distinct states, states generated, breadth-first depth), as TLC reports them.
const PINNED: [(&str, usize, usize, usize); 2] = [
    ("Paxos_a3_v2_b1.cfg", 3_921, 23_703, 17),
    ("Paxos_a3_v2_b2.cfg", 185_369, 1_368_130, 25),
];

/// (config, distinct states under symmetry of acceptors and values), as the model reports them.
const PINNED_SYMMETRIC: [(&str, usize); 2] = [
    ("Paxos_a3_v2_b1.cfg", SYMMETRIC_B1),
    ("Paxos_a3_v2_b2.cfg", SYMMETRIC_B2),
];
const SYMMETRIC_B1: usize = 443;
const SYMMETRIC_B2: usize = 17_153;

#[test]
fn breadth_first_counts_equal_tlc() {
    for (file, distinct_states, states_generated, depth) in PINNED {
        let outcome = run(paxos(file, None), Search::Bfs, false);
        let expected = Counts {
            distinct_states,
            states_generated,
            depth,
        };
        assert_eq!(outcome.counts, expected, "{file}");
        assert!(
            outcome.violations.is_empty(),
            "{file}: every invariant holds"
        );
    }
}

#[test]
fn depth_first_finds_the_same_states() {
    for (file, distinct_states, states_generated, _) in PINNED {
        let outcome = run(paxos(file, None), Search::Dfs, false);
        assert_eq!(outcome.counts.distinct_states, distinct_states, "{file}");
        assert_eq!(outcome.counts.states_generated, states_generated, "{file}");
        assert!(outcome.violations.is_empty(), "{file}");
    }
}

#[test]
fn symmetry_reduces_to_pinned_classes() {
    for ((file, exact, _, _), (_, symmetric)) in PINNED.into_iter().zip(PINNED_SYMMETRIC) {
        let outcome = run(paxos(file, None), Search::Dfs, true);
        assert_eq!(outcome.counts.distinct_states, symmetric, "{file}");
        assert!(symmetric < exact, "{file}: symmetry must merge states");
        assert!(outcome.violations.is_empty(), "{file}");
    }
}
