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
