//! The sets of promises a new leader can hear in a cell of 5 or 7, from a search that keeps
//! only what decides them.
//!
//! In a cell of 3 the generator takes the promise sets from every reachable state of the model.
//! In larger cells that space is too large (more than a million states for 5 acceptors even
//! folded by acceptor permutation), so [`PromiseSearch`] explores the model with four changes,
//! none of which changes which sets of promises of the highest ballot `B` can be in flight:
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
//!
//! On top of that, states are folded by acceptor permutation. A test checks, for a cell of 3,
//! that the search finds exactly the promise sets of the full model, up to renaming acceptors.

use super::leader::every_promise;
use super::symmetry::with_sender;
use crate::reachable::up_to_acceptor_permutation;
use colony_model::multipaxos::{Action, Ballot, Msg, MultiPaxosModel, MultiPaxosState};
use stateright::Model;
use std::collections::BTreeSet;

/// The model of `tla/MultiPaxos.tla` reduced to what decides the promises of its highest
/// ballot (see the module's documentation).
pub struct PromiseSearch<'a> {
    model: &'a MultiPaxosModel,
}

impl<'a> PromiseSearch<'a> {
    /// The reduced search of `model`, which must have no replicas.
    pub fn new(model: &'a MultiPaxosModel) -> PromiseSearch<'a> {
        assert_eq!(model.constants.num_replicas, 0, "no replicas (see rule 1)");
        PromiseSearch { model }
    }

    fn top(&self) -> Ballot {
        self.model.constants.max_ballot
    }

    /// Rules 1 and 4: drop the votes, and the promises nobody can read any more.
    fn reduce(&self, mut state: MultiPaxosState) -> MultiPaxosState {
        let slots = self.model.constants.num_slots;
        let proposed_everywhere = |msgs: &BTreeSet<Msg>, b: Ballot| {
            (1..=slots).all(|s| {
                msgs.iter()
                    .any(|m| matches!(*m, Msg::M2a { bal, slot, .. } if bal == b && slot == s))
            })
        };
        let dead: BTreeSet<Ballot> = (0..self.top())
            .filter(|&b| proposed_everywhere(&state.msgs, b))
            .collect();
        state.msgs.retain(|m| match *m {
            Msg::M2b { .. } => false,
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

    /// Rule 3: no proposal of the highest ballot; and no `Phase1a`, which rule 2 made a no-op.
    fn actions(&self, state: &MultiPaxosState, actions: &mut Vec<Action>) {
        self.model.actions(state, actions);
        let top = self.top();
        actions.retain(|a| match *a {
            Action::Phase2a { b, .. } => b != top,
            Action::Phase1a { .. } => false,
            _ => true,
        });
    }

    fn next_state(&self, state: &MultiPaxosState, action: Action) -> Option<MultiPaxosState> {
        let next = self.model.next_state(state, action)?;
        Some(self.reduce(next))
    }
}

/// Every set of promises of `model`'s highest ballot, one per acceptor, that can be in flight
/// at once, up to renaming acceptors: each with its acceptors numbered in order of what they
/// report. `model` must have no replicas.
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
    use colony_model::multipaxos::Constants;

    fn without_replicas(model: &MultiPaxosModel) -> MultiPaxosModel {
        let constants = Constants {
            num_replicas: 0,
            ..model.constants
        };
        MultiPaxosModel::new(constants, Vec::new())
    }

    /// For a cell of 3, the reduced search finds exactly the promise sets of the full model, up
    /// to renaming acceptors: in both bounded configurations the leader cases use.
    #[test]
    fn the_reduced_search_finds_every_promise_set_of_the_full_model() {
        for model in [
            super::super::bounded_model(),
            super::super::one_slot_model(),
        ] {
            let full = crate::reachable::all(&model);
            let top = model.constants.max_ballot;
            let expected: BTreeSet<Vec<Msg>> = promise_sets(&full, top)
                .iter()
                .map(|set| numbered_by_report(set))
                .collect();
            let found = promise_sets_up_to_renaming(&without_replicas(&model));
            assert_eq!(found, expected, "{:?}", model.constants);
            assert!(found.len() > 10, "the configuration has promise sets");
        }
    }
}
