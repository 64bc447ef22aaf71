//! The learner: finds out which value was chosen from the votes it hears.

use super::message::Value;
use crate::group::{Ballot, NodeId};
use std::collections::{BTreeMap, BTreeSet};

/// How many ballots' votes a learner tracks at once; the lowest are dropped first. A value
/// chosen in a dropped ballot is still learned: every higher ballot that gathers a quorum of
/// votes carries the same value (that is what `VotesSafe` guarantees).
const BALLOTS_TRACKED_MAX: usize = 16;

/// A learner.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Learner {
    quorum: usize,
    votes: BTreeMap<Ballot, (Value, BTreeSet<NodeId>)>,
    learned: Option<Value>,
}

impl Learner {
    /// A learner that needs votes from `quorum` acceptors in one ballot.
    pub fn new(quorum: usize) -> Learner {
        assert!(quorum >= 1);
        Learner {
            quorum,
            votes: BTreeMap::new(),
            learned: None,
        }
    }

    /// The chosen value, once learned.
    pub fn learned(&self) -> Option<&Value> {
        self.learned.as_ref()
    }

    /// Spec: `Chosen(v)`, `ChosenIn(v, b)`. Counts a vote; returns the value the first time a
    /// quorum of acceptors has voted for it in one ballot. Votes of different ballots never add
    /// up, even for the same value.
    pub fn on_accepted(&mut self, ballot: Ballot, acceptor: NodeId, value: Value) -> Option<Value> {
        let (ballot_value, voters) = self
            .votes
            .entry(ballot)
            .or_insert_with(|| (value.clone(), BTreeSet::new()));
        if *ballot_value != value {
            debug_assert!(
                false,
                "OneValuePerBallot: ballot {ballot} has votes for two values"
            );
            return None;
        }
        voters.insert(acceptor);
        let chosen = voters.len() >= self.quorum;
        self.forget_lowest_ballots();
        if !chosen {
            return None;
        }
        if let Some(learned) = &self.learned {
            debug_assert_eq!(
                *learned, value,
                "Agreement: two different values were chosen"
            );
            return None;
        }
        self.learned = Some(value.clone());
        Some(value)
    }

    fn forget_lowest_ballots(&mut self) {
        while self.votes.len() > BALLOTS_TRACKED_MAX {
            self.votes.pop_first();
        }
        assert!(self.votes.len() <= BALLOTS_TRACKED_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_only_from_a_quorum_in_one_ballot() {
        let b = |round| Ballot {
            round,
            proposer: NodeId(1),
        };
        let x = || Value(b"x".to_vec());
        let mut learner = Learner::new(2);
        assert_eq!(learner.on_accepted(b(1), NodeId(1), x()), None);
        assert_eq!(
            learner.on_accepted(b(2), NodeId(2), x()),
            None,
            "votes of two ballots"
        );
        assert_eq!(
            learner.on_accepted(b(1), NodeId(1), x()),
            None,
            "a repeated vote"
        );
        assert_eq!(learner.on_accepted(b(2), NodeId(3), x()), Some(x()));
        assert_eq!(
            learner.on_accepted(b(1), NodeId(3), x()),
            None,
            "learned once"
        );
        assert_eq!(learner.learned(), Some(&x()));
    }

    /// Votes `a1` in ballots `0..count`, then `a2` in ballot 0: learned only if ballot 0's first
    /// vote is still remembered.
    fn learns_after_votes_in(count: u32) -> bool {
        let b = |round| Ballot {
            round,
            proposer: NodeId(1),
        };
        let mut learner = Learner::new(2);
        for round in 0..count {
            assert_eq!(
                learner.on_accepted(b(round), NodeId(1), Value(b"x".to_vec())),
                None
            );
        }
        learner
            .on_accepted(b(0), NodeId(2), Value(b"x".to_vec()))
            .is_some()
    }

    #[test]
    fn remembers_exactly_the_highest_ballots_tracked() {
        let tracked = BALLOTS_TRACKED_MAX as u32;
        assert!(
            learns_after_votes_in(tracked),
            "the lowest of {tracked} ballots is kept"
        );
        assert!(
            !learns_after_votes_in(tracked + 1),
            "past {tracked} the lowest is dropped"
        );
    }
}
