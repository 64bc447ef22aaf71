//! The states the model reaches in a bounded configuration: every one of them for a cell of 3,
//! and one per orbit under permutations of the acceptors for cells of 5 and 7, where the full
//! state space is too large to enumerate (about 700 thousand states for 5 acceptors, and more
//! than 45 million for 7, with 2 values and ballots `0..1`).
//!
//! Folding by acceptor permutation is sound because the spec treats every acceptor alike:
//! quorums are all majorities and no action names a particular acceptor, so permuting the
//! acceptors of a reachable state gives a reachable state, and the successors of a permuted state
//! are the permuted successors. Everything the generator asks of these states is itself
//! invariant under that permutation: which local variables *some* acceptor can hold, which
//! transitions *some* acceptor can take, and which multisets of promises can be in flight.

use colony_model::paxos::{Msg, PaxosState};
use stateright::Model;
use std::collections::{HashSet, VecDeque};
use std::hash::Hash;

/// More states than any configuration the generator uses reaches; a bound on the search.
const STATES_MAX: usize = 1_000_000;

/// Every state the model reaches, breadth-first: of `Paxos.tla`'s model, or of any other.
pub fn all<M: Model>(model: &M) -> Vec<M::State>
where
    M::State: Hash + Eq + Clone,
{
    search(model, |state| state)
}

/// One state per orbit of the reachable states under permutations of the acceptors: the one
/// whose acceptors are sorted by their [`AcceptorSymmetric::signature`].
pub fn up_to_acceptor_permutation<M: Model>(model: &M) -> Vec<M::State>
where
    M::State: AcceptorSymmetric + Hash + Eq + Clone,
{
    search(model, sort_acceptors)
}

/// A state of a spec that treats every acceptor alike, so that renaming acceptors maps
/// reachable states to reachable states.
pub trait AcceptorSymmetric: Sized {
    /// What distinguishes one acceptor: its variables and the messages it sent, with its own
    /// name left out.
    type Signature: Ord;
    /// How many acceptors the state has.
    fn acceptor_count(&self) -> u8;
    /// Acceptor `a`'s signature.
    fn signature(&self, a: u8) -> Self::Signature;
    /// The state with acceptor `order[j]` renamed `j + 1`.
    fn rename(&self, order: &[u8]) -> Self;
}

/// `state` with its acceptors renamed in order of their signatures. Two acceptors with equal
/// signatures are interchangeable (swapping them gives back the same state), so the result is
/// the same for every state of an orbit.
pub fn sort_acceptors<S: AcceptorSymmetric>(state: S) -> S {
    let mut signed: Vec<(S::Signature, u8)> = (1..=state.acceptor_count())
        .map(|a| (state.signature(a), a))
        .collect();
    signed.sort();
    let order: Vec<u8> = signed.into_iter().map(|(_, a)| a).collect();
    state.rename(&order)
}

fn search<M: Model>(model: &M, canonical: impl Fn(M::State) -> M::State) -> Vec<M::State>
where
    M::State: Hash + Eq + Clone,
{
    let mut seen: HashSet<M::State> = model.init_states().into_iter().map(&canonical).collect();
    let mut queue: VecDeque<M::State> = seen.iter().cloned().collect();
    let mut all = Vec::new();
    let mut actions = Vec::new();
    while let Some(state) = queue.pop_front() {
        assert!(
            all.len() < STATES_MAX,
            "the bounded configuration is too large to enumerate"
        );
        model.actions(&state, &mut actions);
        for action in actions.drain(..) {
            if let Some(next) = model.next_state(&state, action) {
                let next = canonical(next);
                if seen.insert(next.clone()) {
                    queue.push_back(next);
                }
            }
        }
        all.push(state);
    }
    all
}

impl AcceptorSymmetric for PaxosState {
    type Signature = (i8, i8, u8, Vec<Msg>);

    fn acceptor_count(&self) -> u8 {
        self.max_bal.len() as u8
    }

    fn signature(&self, a: u8) -> Self::Signature {
        let i = usize::from(a) - 1;
        let sent = self
            .msgs
            .iter()
            .filter_map(|m| match m {
                Msg::M1b {
                    acc,
                    bal,
                    mbal,
                    mval,
                } if acc == a => Some(Msg::M1b {
                    acc: 0,
                    bal,
                    mbal,
                    mval,
                }),
                Msg::M2b { acc, bal, val } if acc == a => Some(Msg::M2b { acc: 0, bal, val }),
                _ => None,
            })
            .collect();
        (self.max_bal[i], self.max_vbal[i], self.max_val[i], sent)
    }

    fn rename(&self, order: &[u8]) -> PaxosState {
        assert_eq!(
            order.len(),
            self.max_bal.len(),
            "a permutation of the acceptors"
        );
        // `permute` takes the new name of each acceptor, in order of the old names.
        let mut new_names = vec![0; order.len()];
        for (j, &a) in order.iter().enumerate() {
            new_names[usize::from(a) - 1] = j;
        }
        colony_model::paxos::permute(self, &new_names, |v| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bounded_model;
    use std::collections::BTreeSet;

    /// Brute force on a cell of 3: the orbits found are exactly the sorted forms of every
    /// reachable state.
    #[test]
    fn folding_finds_one_state_per_orbit_of_the_full_space() {
        let model = bounded_model(3);
        let full = all(&model);
        let sorted: BTreeSet<PaxosState> = full.iter().cloned().map(sort_acceptors).collect();
        let folded: BTreeSet<PaxosState> = up_to_acceptor_permutation(&model).into_iter().collect();
        assert_eq!(folded, sorted);
        assert!(folded.len() < full.len() / 3, "folding folds");
    }

    /// Every permutation of a state sorts to the same state, so sorting names one state per
    /// orbit.
    #[test]
    fn every_permutation_of_a_state_sorts_alike() {
        let orders = [
            [1, 2, 3],
            [1, 3, 2],
            [2, 1, 3],
            [2, 3, 1],
            [3, 1, 2],
            [3, 2, 1],
        ];
        for state in all(&bounded_model(3)) {
            let sorted = sort_acceptors(state.clone());
            for order in orders {
                assert_eq!(sort_acceptors(state.rename(&order)), sorted, "{state:?}");
            }
        }
    }
}
