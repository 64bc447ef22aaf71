//! The acceptor: the only role whose state must survive a crash.

use super::message::{Message, Value, Vote};
use crate::group::{Ballot, NodeId};

/// The acceptor's variables, as in the spec.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AcceptorState {
    /// Spec: `maxBal[a]`.
    pub promised: Option<Ballot>,
    /// Spec: `maxVBal[a]` and `maxVal[a]`.
    pub vote: Option<Vote>,
}

/// An acceptor.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Acceptor {
    id: NodeId,
    state: AcceptorState,
}

impl Acceptor {
    /// An acceptor restarted from its durable `state`.
    pub fn new(id: NodeId, state: AcceptorState) -> Acceptor {
        let acceptor = Acceptor { id, state };
        acceptor.assert_invariants();
        acceptor
    }

    /// The acceptor's current variables.
    pub fn state(&self) -> &AcceptorState {
        &self.state
    }

    /// Spec: `Phase1b(a)`. Promises a ballot above every ballot promised before and reports
    /// the latest vote; returns the `1b` reply, or `None` when the spec's guard
    /// `m.bal > maxBal[a]` does not hold (a stale or repeated `1a`, which the spec ignores).
    pub fn on_prepare(&mut self, ballot: Ballot) -> Option<Message> {
        self.assert_invariants();
        if self
            .state
            .promised
            .is_some_and(|promised| ballot <= promised)
        {
            return None;
        }
        self.state.promised = Some(ballot);
        self.assert_invariants();
        Some(Message::Promise {
            ballot,
            acceptor: self.id,
            vote: self.state.vote.clone(),
        })
    }

    /// Spec: `Phase2b(a)`. Votes for a proposal whose ballot is at least the promise; returns
    /// the `2b` vote, or `None` when the guard `m.bal >= maxBal[a]` does not hold. A repeated
    /// `2a` is voted for again (the spec allows it, and it replaces a lost `2b`).
    pub fn on_accept(&mut self, ballot: Ballot, value: Value) -> Option<Message> {
        self.assert_invariants();
        if self
            .state
            .promised
            .is_some_and(|promised| ballot < promised)
        {
            return None;
        }
        self.state.promised = Some(ballot);
        self.state.vote = Some(Vote {
            ballot,
            value: value.clone(),
        });
        self.assert_invariants();
        Some(Message::Accepted {
            ballot,
            acceptor: self.id,
            value,
        })
    }

    /// Spec: `PromiseAtLeastVote`.
    fn assert_invariants(&self) {
        if let Some(vote) = &self.state.vote {
            debug_assert!(
                self.state
                    .promised
                    .is_some_and(|promised| vote.ballot <= promised),
                "PromiseAtLeastVote: {} voted in {} but promised only {:?}",
                self.id,
                vote.ballot,
                self.state.promised
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot(round: u32) -> Ballot {
        Ballot {
            round,
            proposer: NodeId(1),
        }
    }

    #[test]
    fn promises_only_higher_ballots_and_votes_at_or_above_the_promise() {
        let mut acceptor = Acceptor::new(NodeId(2), AcceptorState::default());
        assert!(acceptor.on_prepare(ballot(2)).is_some());
        assert_eq!(
            acceptor.on_prepare(ballot(2)),
            None,
            "Phase1b needs m.bal > maxBal"
        );
        assert_eq!(acceptor.on_prepare(ballot(1)), None);
        assert_eq!(acceptor.on_accept(ballot(1), Value(b"x".to_vec())), None);
        let vote = acceptor.on_accept(ballot(2), Value(b"y".to_vec()));
        assert!(matches!(vote, Some(Message::Accepted { .. })));
        let promise = acceptor.on_prepare(ballot(3)).unwrap();
        let reported = Some(Vote {
            ballot: ballot(2),
            value: Value(b"y".to_vec()),
        });
        assert_eq!(
            promise,
            Message::Promise {
                ballot: ballot(3),
                acceptor: NodeId(2),
                vote: reported
            }
        );
    }
}
