//! Renaming the acceptors of a `MultiPaxos.tla` state, for folding its reachable states by
//! acceptor permutation ([`crate::reachable::up_to_acceptor_permutation`]).
//!
//! The spec treats every acceptor alike: quorums are all majorities, and no action names a
//! particular acceptor (`SafeValues` looks at the promises of a quorum, whichever acceptors
//! sent them; `Compact(a)` reads a replica's snapshot, not the acceptor's name). Only `1b` and
//! `2b` messages name their sender; an acceptor's variables are `maxBal`, `votes` and
//! `compacted`, all renamed together.

use crate::reachable::AcceptorSymmetric;
use colony_model::multipaxos::{Ballot, Msg, MultiPaxosState, Slot, Votes};

impl AcceptorSymmetric for MultiPaxosState {
    type Signature = (Ballot, Votes, Slot, Vec<Msg>);

    fn acceptor_count(&self) -> u8 {
        self.max_bal.len() as u8
    }

    fn signature(&self, a: u8) -> Self::Signature {
        let i = usize::from(a) - 1;
        let sent = self
            .msgs
            .iter()
            .filter(|m| sender(m) == Some(a))
            .map(|m| with_sender(m, 0))
            .collect();
        (self.max_bal[i], self.votes[i], self.compacted[i], sent)
    }

    fn rename(&self, order: &[u8]) -> MultiPaxosState {
        assert_eq!(
            order.len(),
            self.max_bal.len(),
            "a permutation of the acceptors"
        );
        let mut renamed = [0u8; 8];
        let mut next = self.clone();
        for (j, &a) in order.iter().enumerate() {
            let i = usize::from(a) - 1;
            renamed[usize::from(a)] = j as u8 + 1;
            next.max_bal[j] = self.max_bal[i];
            next.votes[j] = self.votes[i];
            next.compacted[j] = self.compacted[i];
        }
        next.msgs = self
            .msgs
            .iter()
            .map(|m| match sender(&m) {
                Some(a) => with_sender(m, renamed[usize::from(a)]),
                None => m,
            })
            .collect();
        next
    }
}

/// The acceptor that sent `m`, for the messages that name one.
fn sender(m: &Msg) -> Option<u8> {
    match *m {
        Msg::M1b { acc, .. } | Msg::M2b { acc, .. } => Some(acc),
        Msg::M1a { .. } | Msg::M2a { .. } => None,
    }
}

/// Message `i`'s class: the index of the first message equal to it but for its sender, where
/// both senders send no other message of `messages`. Swapping two such senders renames
/// acceptors without changing anything else, which the spec cannot tell apart; swapping the
/// senders of one message each of two acceptors that send more would not be a renaming.
pub fn classes_up_to_renaming(messages: &[Msg]) -> Vec<u8> {
    let sends_one = |m: Msg| {
        messages
            .iter()
            .filter(|&&o| sender(&o) == sender(&m))
            .count()
            == 1
    };
    crate::tables::classes_by(messages, |m| {
        if sender(&m).is_some() && sends_one(m) {
            with_sender(m, 0)
        } else {
            m
        }
    })
}

/// `m` as sent by acceptor `acc` (unchanged for a message that names no sender).
pub fn with_sender(m: Msg, acc: u8) -> Msg {
    match m {
        Msg::M1b {
            bal,
            votes,
            compacted,
            ..
        } => Msg::M1b {
            acc,
            bal,
            votes,
            compacted,
        },
        Msg::M2b { bal, slot, val, .. } => Msg::M2b {
            acc,
            bal,
            slot,
            val,
        },
        Msg::M1a { .. } | Msg::M2a { .. } => m,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reachable::{all, sort_acceptors, up_to_acceptor_permutation};
    use std::collections::BTreeSet;

    /// Brute force on a cell of 3: the orbits found are exactly the sorted forms of every
    /// reachable state, and every permutation of a state sorts alike.
    #[test]
    fn folding_finds_one_state_per_orbit_of_the_full_space() {
        let model = super::super::bounded_model();
        let full = all(&model);
        let sorted: BTreeSet<MultiPaxosState> = full.iter().cloned().map(sort_acceptors).collect();
        let folded: BTreeSet<MultiPaxosState> =
            up_to_acceptor_permutation(&model).into_iter().collect();
        assert_eq!(folded, sorted);
        assert!(folded.len() < full.len() / 3, "folding folds");
        let orders = [[1, 3, 2], [2, 1, 3], [2, 3, 1], [3, 1, 2], [3, 2, 1]];
        for state in full.iter().step_by(97) {
            let canonical = sort_acceptors(state.clone());
            for order in orders {
                assert_eq!(sort_acceptors(state.rename(&order)), canonical);
            }
        }
    }
}
