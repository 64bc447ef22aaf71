//! The sets of promises a new leader can hear in a cell of 5 or 7, from a search that keeps
//! only what decides them.
//!
//! In a cell of 3 the generator takes the promise sets from every reachable state of the model.
//! In larger cells that space is too large (more than a million states for 5 acceptors even
//! folded by acceptor permutation), so [`PromiseSearch`] explores the model with the changes
//! below, none of which changes which sets of promises of the highest ballot `B` can be in
//! flight. Without compaction (`MaxCompaction = 0`):
//!
//! 1. No replicas, and no `2b` messages: with no replica, only `Apply` and the invariants read
//!    votes as messages, and the generator checks no invariant.
//! 2. Every `1a` message is sent in the initial state: sending one earlier only enables more,
//!    and `Phase1a` changes nothing else.
//! 3. No `Phase2a(B, s, v)`: an acceptor's promise for `B` reports its votes before it hears
//!    of `B` (a vote in `B` raises its `maxBal` to `B`, after which it cannot promise `B`), and
//!    nothing in a lower ballot reads a vote or proposal of `B`.
//! 4. The promises of a lower ballot `b` are dropped once `b`'s leader proposed in every slot:
//!    only `Phase2a(b, ...)` reads them, and it is then disabled for good.
//! 5. A state in which every acceptor promised `B` has no successor: an acceptor promises `B`
//!    at most once (`Phase1b` needs `B > maxBal` and sets `maxBal` to `B`), so the promises of
//!    `B` in flight never change after it, and the search has recorded them.
//! 6. A state in which an acceptor's `maxBal` is `B` but it sent no promise of `B` has no
//!    successor: `maxBal` never decreases, so that acceptor never promises `B`, and no state
//!    after it has a promise of `B` from every acceptor.
//!
//! **With compaction** (`MaxCompaction = NumSlots`, one replica; [`PromiseSearch::new`] checks
//! both), a promise also says how far its acceptor compacted, and `Compact(a)` is enabled only
//! once the replica snapshotted, that is once a value was chosen and applied in every slot. So
//! what the replica applies, and when, decides promises, and the rules change:
//!
//! - Rule 1 becomes: the replica is kept, and so are the `2b` messages, until the replica has
//!   applied every slot; then they are dropped, since only `Apply` reads them and it is
//!   disabled for good. The values of the replica's applied log are replaced by `NoOp`: with
//!   one replica nothing that acts reads them (`Apply` and `Snapshot` read the log's length,
//!   `Compact` the snapshot's last slot; `CatchUp` and `InstallSnapshot` need a second replica).
//! - Rule 3 is dropped: a quorum that promised `B` can vote in `B` and choose the slot, the
//!   replica applies and snapshots it, and an acceptor that has not promised `B` yet compacts
//!   and then promises `B` with `compacted = 1`. In a cell of 3 the set of two promises
//!   reporting no vote and one that compacted arises only so: a choice in ballot 0 needs two
//!   votes of ballot 0, and an acceptor that voted in ballot 0 reports that vote in its promise
//!   of `B` unless it compacted (it cannot vote in ballot 0 after promising `B`). Keeping rule
//!   3 with compaction loses that set (15 of the 16 sets up to renaming).
//! - Rule 7 joins them: no `Compact(a)` by an acceptor that promised `B`. It changes only that
//!   acceptor's `compacted` and `votes`, which only its own actions read. Its `Phase1b` is disabled for
//!   good (`maxBal` is `B`, the highest ballot), and its `Phase2b` only sends a `2b` and
//!   changes its own vote; `Compact` is enabled only after every slot was applied, when no
//!   `2b` is read any more.
//!
//! Rules 2, 4, 5 and 6 hold as they are: none of their arguments reads a vote as a message
//! or the replica. On top of that, states are folded by acceptor permutation (the replica's
//! variables name no acceptor). A test checks, for a cell of 3, that the search finds exactly
//! the promise sets of the full model, up to renaming acceptors, in the three configurations
//! the leader cases use, compaction included.

use super::leader::every_promise;
use super::symmetry::with_sender;
use crate::reachable::up_to_acceptor_permutation;
use colony_model::multipaxos::{
    Action, Ballot, Constants, Msg, MsgSet, MultiPaxosModel, MultiPaxosState, NO_OP,
};
use stateright::Model;
use std::collections::BTreeSet;

/// The model of `tla/MultiPaxos.tla` reduced to what decides the promises of its highest
/// ballot (see the module's documentation).
pub struct PromiseSearch<'a> {
    model: &'a MultiPaxosModel,
}

impl<'a> PromiseSearch<'a> {
    /// The reduced search of `model`, which must have no replicas without compaction, and one
    /// replica that may snapshot every slot with it (see the module's documentation).
    pub fn new(model: &'a MultiPaxosModel) -> PromiseSearch<'a> {
        let constants = model.constants;
        if constants.max_compaction == 0 {
            assert_eq!(constants.num_replicas, 0, "no replicas (see rule 1)");
        } else {
            assert_eq!(constants.num_replicas, 1, "one replica (see rule 1)");
            assert_eq!(
                constants.max_compaction, constants.num_slots,
                "a snapshot covers every slot (see rule 7)"
            );
        }
        PromiseSearch { model }
    }

    fn compacting(&self) -> bool {
        self.model.constants.max_compaction > 0
    }

    fn every_promise_sent(&self, state: &MultiPaxosState) -> bool {
        every_promise(state, self.top()).is_some()
    }

    fn promised_top(&self, state: &MultiPaxosState, a: u8) -> bool {
        let top = self.top();
        state
            .msgs
            .iter()
            .any(|m| matches!(m, Msg::M1b { acc, bal, .. } if acc == a && bal == top))
    }

    /// Some acceptor reached the highest ballot without promising it: it never will.
    fn lost_a_promise(&self, state: &MultiPaxosState) -> bool {
        let top = self.top();
        (1..=state.max_bal.len() as u8)
            .any(|a| state.max_bal[usize::from(a) - 1] == top && !self.promised_top(state, a))
    }

    fn top(&self) -> Ballot {
        self.model.constants.max_ballot
    }

    /// Rules 1 and 4: drops the votes once nothing reads them (at once without a replica) and
    /// the applied values, and the promises nobody can read any more.
    fn reduce(&self, mut state: MultiPaxosState) -> MultiPaxosState {
        let slots = self.model.constants.num_slots;
        let proposed_everywhere = |msgs: &MsgSet, b: Ballot| {
            (1..=slots).all(|s| {
                msgs.iter()
                    .any(|m| matches!(m, Msg::M2a { bal, slot, .. } if bal == b && slot == s))
            })
        };
        let dead: BTreeSet<Ballot> = (0..self.top())
            .filter(|&b| proposed_everywhere(&state.msgs, b))
            .collect();
        let applied_everything = state
            .applied
            .iter()
            .all(|log| log.len() == usize::from(slots));
        for log in &mut state.applied {
            log.fill(NO_OP);
        }
        state.msgs.retain(|m| match *m {
            Msg::M2b { .. } => !applied_everything,
            Msg::M1b { bal, .. } => !dead.contains(&bal),
            Msg::M1a { .. } | Msg::M2a { .. } => true,
        });
        state
    }
}

impl Model for PromiseSearch<'_> {
    type State = MultiPaxosState;
    type Action = Action;

    /// Rule 2: every `1a` message is in flight from the start.
    fn init_states(&self) -> Vec<MultiPaxosState> {
        let mut states = self.model.init_states();
        for state in &mut states {
            state
                .msgs
                .extend((0..=self.top()).map(|bal| Msg::M1a { bal }));
        }
        states
    }

    /// Rules 5 and 6: nothing from a state whose promises of the highest ballot are all sent or
    /// never will be. Rule 3 without compaction: no proposal of the highest ballot. Rule 7 with
    /// it: no compaction by an acceptor that promised the highest ballot. And no `Phase1a`,
    /// which rule 2 made a no-op.
    fn actions(&self, state: &MultiPaxosState, actions: &mut Vec<Action>) {
        if self.every_promise_sent(state) || self.lost_a_promise(state) {
            return;
        }
        self.model.actions(state, actions);
        let top = self.top();
        let compacting = self.compacting();
        actions.retain(|a| match *a {
            Action::Phase2a { b, .. } => b != top || compacting,
            Action::Compact { a, .. } => !self.promised_top(state, a),
            Action::Phase1a { .. } => false,
            _ => true,
        });
    }

    fn next_state(&self, state: &MultiPaxosState, action: Action) -> Option<MultiPaxosState> {
        let next = self.model.next_state(state, action)?;
        Some(self.reduce(next))
    }
}

/// `model` with `n` acceptors, as [`PromiseSearch`] takes it: without replicas when it does not
/// compact (rule 1), and with its one replica when it does.
pub fn for_the_search(model: &MultiPaxosModel, n: u8) -> MultiPaxosModel {
    let constants = Constants {
        num_acceptors: n,
        num_replicas: if model.constants.max_compaction == 0 {
            0
        } else {
            model.constants.num_replicas
        },
        ..model.constants
    };
    MultiPaxosModel::new(constants, Vec::new())
}

/// Every set of promises of `model`'s highest ballot, one per acceptor, that can be in flight
/// at once, up to renaming acceptors: each with its acceptors numbered in order of what they
/// report. `model` must have no replicas, or one with compaction ([`PromiseSearch::new`]).
pub fn promise_sets_up_to_renaming(model: &MultiPaxosModel) -> BTreeSet<Vec<Msg>> {
    let search = PromiseSearch::new(model);
    let top = model.constants.max_ballot;
    up_to_acceptor_permutation(&search)
        .iter()
        .filter_map(|state| every_promise(state, top))
        .map(|promises| numbered_by_report(&promises))
        .collect()
}

/// `promises` with their senders renamed `1..n` in order of what they report: the same list
/// for every renaming of the acceptors.
pub fn numbered_by_report(promises: &[Msg]) -> Vec<Msg> {
    let mut anonymous: Vec<Msg> = promises.iter().map(|&m| with_sender(m, 0)).collect();
    anonymous.sort();
    anonymous
        .into_iter()
        .zip(1..)
        .map(|(m, acc)| with_sender(m, acc))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::multipaxos::leader::promise_sets;

    /// For a cell of 3, the reduced search finds exactly the promise sets of the full model, up
    /// to renaming acceptors: in both bounded configurations the leader cases use.
    #[test]
    fn the_reduced_search_finds_every_promise_set_of_the_full_model() {
        for model in [
            super::super::bounded_model(),
            super::super::one_slot_model(),
            super::super::compaction_model(),
        ] {
            let full = crate::reachable::all(&model);
            let top = model.constants.max_ballot;
            let expected: BTreeSet<Vec<Msg>> = promise_sets(&full, top)
                .iter()
                .map(|set| numbered_by_report(set))
                .collect();
            let found = promise_sets_up_to_renaming(&for_the_search(&model, 3));
            assert_eq!(found, expected, "{:?}", model.constants);
            assert!(found.len() > 10, "the configuration has promise sets");
        }
    }
}
