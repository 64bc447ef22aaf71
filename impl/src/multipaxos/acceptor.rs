//! The acceptor: one promise for the whole log, one vote per slot.

use super::log::{Entry, Slot, Vote};
use super::message::Message;
use crate::group::{Ballot, NodeId};
use std::collections::BTreeMap;

/// An acceptor. Its promise and votes are the spec's `maxBal[a]` and `votes[a]`, and must be
/// durable before any message that reports them is sent (see [`super::Ready`]).
///
/// The votes are the acceptor's log: one per slot it voted in, kept until the runtime compacts
/// the log below a snapshot (a promise must report every vote at or above the slot a new leader
/// asks from).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Acceptor {
    id: NodeId,
    promised: Option<Ballot>,
    votes: BTreeMap<Slot, Vote>,
}

impl Acceptor {
    /// An acceptor restarted from its durable promise and votes.
    pub fn new(id: NodeId, promised: Option<Ballot>, votes: BTreeMap<Slot, Vote>) -> Acceptor {
        let acceptor = Acceptor {
            id,
            promised,
            votes,
        };
        acceptor.assert_invariants();
        acceptor
    }

    /// Spec: `maxBal[a]`.
    pub fn promised(&self) -> Option<Ballot> {
        self.promised
    }

    /// Spec: `votes[a]`, the slots where the acceptor voted.
    pub fn votes(&self) -> &BTreeMap<Slot, Vote> {
        &self.votes
    }

    /// Spec: `Phase1b(a)`. Promises a ballot above every ballot promised before and reports the
    /// latest vote in every slot from `first_slot` on; returns the `1b` reply, or `None` when the
    /// guard `m.bal > maxBal[a]` does not hold (a stale or repeated `1a`).
    pub fn on_prepare(&mut self, ballot: Ballot, first_slot: Slot) -> Option<Message> {
        self.assert_invariants();
        if self.promised.is_some_and(|promised| ballot <= promised) {
            return None;
        }
        self.promised = Some(ballot);
        self.assert_invariants();
        let votes = self
            .votes
            .range(first_slot..)
            .map(|(slot, vote)| (*slot, vote.clone()))
            .collect();
        Some(Message::Promise {
            ballot,
            acceptor: self.id,
            votes,
        })
    }

    /// Spec: `Phase2b(a)`. Votes for a proposal whose ballot is at least the promise; returns the
    /// `2b` vote and the vote to persist, or `None` when the guard `m.bal >= maxBal[a]` does not
    /// hold. A repeated `2a` is voted for again (the spec allows it; it replaces a lost `2b`).
    pub fn on_accept(&mut self, ballot: Ballot, slot: Slot, entry: Entry) -> Option<Message> {
        self.assert_invariants();
        if self.promised.is_some_and(|promised| ballot < promised) {
            return None;
        }
        self.promised = Some(ballot);
        let vote = Vote {
            ballot,
            entry: entry.clone(),
        };
        let previous = self.votes.insert(slot, vote);
        debug_assert!(
            previous.is_none_or(|p| p.ballot < ballot || p.entry == entry),
            "OneValuePerBallot: two entries proposed for {slot} in {ballot}"
        );
        self.assert_invariants();
        Some(Message::Accepted {
            ballot,
            acceptor: self.id,
            slot,
            entry,
        })
    }

    /// Spec: `PromiseAtLeastVote`, per slot: no vote is above the promise. Checked over the
    /// whole log in debug builds only, as its cost grows with the log.
    fn assert_invariants(&self) {
        if cfg!(debug_assertions) {
            for (slot, vote) in &self.votes {
                assert!(
                    self.promised.is_some_and(|p| vote.ballot <= p),
                    "PromiseAtLeastVote: {} voted in {} at {slot} but promised only {:?}",
                    self.id,
                    vote.ballot,
                    self.promised
                );
            }
        }
    }
}
