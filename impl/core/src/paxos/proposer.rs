//! The proposer: starts ballots and proposes, in each, the one value the spec allows.

use super::message::{Value, Vote};
use crate::group::{Ballot, NodeId};
use std::collections::BTreeMap;

/// One ballot this proposer started.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Attempt {
    ballot: Ballot,
    /// The promises received for `ballot`: acceptor to reported vote. At most one entry per
    /// member, so bounded by the cell size.
    promises: BTreeMap<NodeId, Option<Vote>>,
    /// The value proposed in `ballot`, once phase 2 began. Never changes afterwards: the spec
    /// allows one `2a` message per ballot (`OneValuePerBallot`).
    proposed: Option<Value>,
}

/// A proposer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Proposer {
    id: NodeId,
    quorum: usize,
    round_started_max: Option<u32>,
    round_seen_max: u32,
    client_value: Option<Value>,
    attempt: Option<Attempt>,
}

impl Proposer {
    /// A proposer that needs `quorum` promises, restarted knowing the highest round it started.
    pub fn new(id: NodeId, quorum: usize, round_started_max: Option<u32>) -> Proposer {
        assert!(quorum >= 1);
        let round_seen_max = round_started_max.unwrap_or(0);
        Proposer {
            id,
            quorum,
            round_started_max,
            round_seen_max,
            client_value: None,
            attempt: None,
        }
    }

    /// The highest round this proposer has started (part of the hard state).
    pub fn round_started_max(&self) -> Option<u32> {
        self.round_started_max
    }

    /// The ballot being driven, if any.
    pub fn ballot(&self) -> Option<Ballot> {
        self.attempt.as_ref().map(|attempt| attempt.ballot)
    }

    /// True when a value was given and no ballot is running.
    pub fn is_idle(&self) -> bool {
        self.attempt.is_none()
    }

    /// Remembers the client's value, proposed when no vote must be carried over.
    pub fn set_client_value(&mut self, value: Value) {
        self.client_value.get_or_insert(value);
    }

    /// True when the proposer has a value to drive to a decision.
    pub fn has_client_value(&self) -> bool {
        self.client_value.is_some()
    }

    /// Notes a round seen in any message, so that the next ballot started is above it.
    pub fn observe(&mut self, ballot: Ballot) {
        self.round_seen_max = self.round_seen_max.max(ballot.round);
    }

    /// Spec: `Phase1a(b)`. Starts a ballot above every round started or seen; the caller must
    /// persist the new `round_started_max` before sending the `1a` messages.
    pub fn start(&mut self) -> Ballot {
        let ballot = Ballot::next(self.id, self.round_started_max, self.round_seen_max);
        assert!(
            self.ballot().is_none_or(|current| current < ballot),
            "ballots only increase"
        );
        self.round_started_max = Some(ballot.round);
        self.attempt = Some(Attempt {
            ballot,
            promises: BTreeMap::new(),
            proposed: None,
        });
        ballot
    }

    /// Spec: `Phase2a(b, v)`. Records a promise for the running ballot; once a quorum promised,
    /// returns the value to propose: the value of the highest-ballot vote reported, or the
    /// client's value when no member of the quorum voted. Returns `None` before the quorum, for
    /// a promise of another ballot, and after the proposal was made.
    pub fn on_promise(
        &mut self,
        ballot: Ballot,
        acceptor: NodeId,
        vote: Option<Vote>,
    ) -> Option<(Ballot, Value)> {
        let attempt = self.attempt.as_mut().filter(|a| a.ballot == ballot)?;
        if attempt.proposed.is_some() {
            return None;
        }
        debug_assert!(
            vote.as_ref().is_none_or(|v| v.ballot < ballot),
            "a promise reports a vote below its ballot"
        );
        attempt.promises.insert(acceptor, vote);
        if attempt.promises.len() < self.quorum {
            return None;
        }
        let highest_vote = attempt
            .promises
            .values()
            .flatten()
            .max_by_key(|vote| vote.ballot);
        let value = match highest_vote {
            Some(vote) => vote.value.clone(),
            None => self.client_value.clone()?,
        };
        attempt.proposed = Some(value.clone());
        Some((ballot, value))
    }
}
