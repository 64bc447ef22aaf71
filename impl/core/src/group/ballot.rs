//! Ballots: totally ordered, and each owned by exactly one proposer.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A node of a cell. Every node is an acceptor, a learner and a potential proposer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId(pub u8);

/// A ballot number: a round and the proposer that owns it.
///
/// The spec's ballots are plain numbers, each implicitly owned by one proposer; here the owner
/// is explicit so that two proposers can never start the same ballot. Ballots order by round
/// first, then by proposer: a total order (the field order makes `derive(Ord)` do exactly this).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Ballot {
    /// The round; a proposer moves to a higher round to take over.
    pub round: u32,
    /// The proposer that owns this ballot.
    pub proposer: NodeId,
}

impl Ballot {
    /// The ballot `proposer` starts next: its round is above every round the proposer started
    /// before (`round_started_max`, kept across crashes, so that no ballot is started twice) and
    /// every round it saw in a message (`round_seen_max`, so that the new ballot can win).
    pub fn next(proposer: NodeId, round_started_max: Option<u32>, round_seen_max: u32) -> Ballot {
        let floor = round_started_max.map_or(0, |r| r + 1);
        let ballot = Ballot {
            round: floor.max(round_seen_max + 1),
            proposer,
        };
        assert!(round_started_max.is_none_or(|r| r < ballot.round));
        ballot
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.round, self.proposer.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ballots_order_by_round_then_proposer() {
        let b = |round, proposer| Ballot {
            round,
            proposer: NodeId(proposer),
        };
        assert!(b(1, 9) < b(2, 0));
        assert!(b(2, 1) < b(2, 2));
        assert_eq!(b(3, 3).cmp(&b(3, 3)), std::cmp::Ordering::Equal);
    }
}
