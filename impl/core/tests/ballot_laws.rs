//! Ballots order totally, and exactly as (round, proposer) lexicographically: the safety of
//! Paxos leans on every node comparing ballots the same way.

use colony_core::group::{Ballot, NodeId};
use proptest::prelude::*;
use std::cmp::Ordering;

fn ballot() -> impl Strategy<Value = Ballot> {
    (0..4u32, 1..8u8).prop_map(|(round, proposer)| Ballot {
        round,
        proposer: NodeId(proposer),
    })
}

proptest! {
    #[test]
    fn the_order_is_lexicographic_on_round_then_proposer(a in ballot(), b in ballot()) {
        prop_assert_eq!(a.cmp(&b), (a.round, a.proposer.0).cmp(&(b.round, b.proposer.0)));
    }

    #[test]
    fn the_order_is_total_and_antisymmetric(a in ballot(), b in ballot()) {
        prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
    }

    #[test]
    fn the_order_is_transitive(a in ballot(), b in ballot(), c in ballot()) {
        if a <= b && b <= c {
            prop_assert!(a <= c);
        }
    }

    #[test]
    fn a_higher_round_beats_any_proposer(round in 0..1000u32, p in 1..8u8, q in 1..8u8) {
        let low = Ballot { round, proposer: NodeId(p) };
        let high = Ballot { round: round + 1, proposer: NodeId(q) };
        prop_assert!(low < high);
    }
}
