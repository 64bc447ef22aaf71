//! The acceptor: one promise for the whole log, one vote per slot.

use super::log::{Entry, Slot, Vote};
use super::message::Message;
use super::{LOG_SLOTS_MAX, MESSAGE_BYTES_MAX};
use crate::group::{Ballot, NodeId};
use std::collections::BTreeMap;

/// An acceptor. Its promise and votes are the spec's `maxBal[a]` and `votes[a]`, and must be
/// durable before any message that reports them is sent (see [`super::Ready`]).
///
/// The votes are the acceptor's log: one per slot it voted in above `compacted`, the last slot of
/// the durable snapshot it compacted to (the spec's `compacted[a]`). Below it the slots are
/// decided and a snapshot holds them, so their votes are forgotten and a promise says how far
/// instead; above it the acceptor holds votes in at most [`LOG_SLOTS_MAX`] slots, so that its
/// memory and every promise it sends stay bounded whatever the runtime does.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Acceptor {
    id: NodeId,
    promised: Option<Ballot>,
    compacted: Slot,
    votes: BTreeMap<Slot, Vote>,
}

impl Acceptor {
    /// An acceptor restarted from its durable promise and votes, compacted up to the durable
    /// snapshot's last slot `compacted` (`Slot(0)`: none): votes at or below it that storage
    /// still holds are dropped.
    pub fn new(
        id: NodeId,
        promised: Option<Ballot>,
        compacted: Slot,
        mut votes: BTreeMap<Slot, Vote>,
    ) -> Acceptor {
        votes.retain(|slot, _| *slot > compacted);
        let acceptor = Acceptor {
            id,
            promised,
            compacted,
            votes,
        };
        acceptor.assert_invariants();
        acceptor
    }

    /// Spec: `compacted[a]`, the last slot whose vote this acceptor forgot.
    pub fn compacted(&self) -> Slot {
        self.compacted
    }

    /// Spec: `Compact(a)`. Forgets the votes in every slot up to `slot`, which a durable snapshot
    /// covers (the caller's duty: only slots decided and applied); a slot at or below the
    /// current compaction point changes nothing.
    pub fn compact(&mut self, slot: Slot) {
        self.assert_invariants();
        if slot <= self.compacted {
            return;
        }
        self.compacted = slot;
        self.votes = self.votes.split_off(&slot.next());
        self.assert_invariants();
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
    /// latest vote in every slot from `first_slot` on, and how far it compacted; returns the `1b`
    /// reply, or `None` when the guard `m.bal > maxBal[a]` does not hold (a stale or repeated
    /// `1a`), or when the votes to report would pass [`MESSAGE_BYTES_MAX`].
    pub fn on_prepare(&mut self, ballot: Ballot, first_slot: Slot) -> Option<Message> {
        self.assert_invariants();
        if self.promised.is_some_and(|promised| ballot <= promised) {
            return None;
        }
        let votes: BTreeMap<Slot, Vote> = self
            .votes
            .range(first_slot..)
            .map(|(slot, vote)| (*slot, vote.clone()))
            .collect();
        let bytes: usize = votes.values().map(|vote| vote.entry.bytes()).sum();
        if bytes > MESSAGE_BYTES_MAX {
            // A promise cannot leave out a vote: refusing to promise is safe (the spec need not
            // take `Phase1b`), and the leader, this far behind, catches up before it leads.
            return None;
        }
        self.promised = Some(ballot);
        self.assert_invariants();
        Some(Message::Promise {
            ballot,
            acceptor: self.id,
            votes,
            compacted: self.compacted,
        })
    }

    /// Spec: `Phase2b(a)`. Votes for a proposal whose ballot is at least the promise, in a slot
    /// above the compaction point; returns the `2b` vote and the vote to persist, or `None` when
    /// the guard `m.bal >= maxBal[a] /\ m.slot > compacted[a]` does not hold. A repeated `2a` is
    /// voted for again (the spec allows it; it replaces a lost `2b`).
    ///
    /// A slot [`LOG_SLOTS_MAX`] or more past the compaction point is refused too, which the spec
    /// does not do: refusing to vote is always safe, and it bounds what the acceptor holds until
    /// the runtime snapshots (the leader's pipeline never reaches so far ahead of a live cell).
    pub fn on_accept(&mut self, ballot: Ballot, slot: Slot, entry: Entry) -> Option<Message> {
        self.assert_invariants();
        if self.promised.is_some_and(|promised| ballot < promised)
            || slot <= self.compacted
            || slot.0 - self.compacted.0 > LOG_SLOTS_MAX
        {
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

    /// Spec: `PromiseAtLeastVote`, per slot: no vote is above the promise; and every vote held is
    /// above the compaction point, within [`LOG_SLOTS_MAX`] slots of it. Checked over the whole
    /// log in debug builds only, as its cost grows with the log.
    fn assert_invariants(&self) {
        assert!(self.votes.len() as u64 <= LOG_SLOTS_MAX);
        if cfg!(debug_assertions) {
            assert!(
                self.votes.keys().all(
                    |slot| *slot > self.compacted && slot.0 - self.compacted.0 <= LOG_SLOTS_MAX
                ),
                "{} holds a vote outside ({}, {} + LOG_SLOTS_MAX]",
                self.id,
                self.compacted,
                self.compacted
            );
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
