//! The invariants of `MultiPaxos.tla`, under the spec's names.

use super::actions::voted_for_in;
use super::state::{Msg, MultiPaxosState, Slot, Value, NONE, NO_BALLOT};
use super::MultiPaxosModel;
use crate::ModelError;

/// An invariant of `MultiPaxos.tla`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Invariant {
    /// `TypeOK`: every variable holds a value of its type.
    TypeOk,
    /// `Agreement`: at most one value is chosen in each slot.
    Agreement,
    /// `OneValuePerBallot`: a leader proposes at most one value per slot in its ballot.
    OneValuePerBallot,
    /// `VotesSafe`: every vote is for a value safe in its slot at its ballot.
    VotesSafe,
    /// `AppliedChosen`: every value a replica applied was chosen in its slot.
    AppliedChosen,
    /// `SameSequence`: of any two replicas' logs, one is a prefix of the other.
    SameSequence,
    /// `NoChosenValueLost`: a value chosen in a slot is in a replica's snapshot, or every quorum
    /// still holds a vote for it.
    NoChosenValueLost,
}

type Condition = fn(&MultiPaxosModel, &MultiPaxosState) -> bool;

impl Invariant {
    /// Every invariant, in the spec's order.
    pub const ALL: [Invariant; 7] = [
        Invariant::TypeOk,
        Invariant::Agreement,
        Invariant::OneValuePerBallot,
        Invariant::VotesSafe,
        Invariant::AppliedChosen,
        Invariant::SameSequence,
        Invariant::NoChosenValueLost,
    ];

    /// The spec's name.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::TypeOk => "TypeOK",
            Invariant::Agreement => "Agreement",
            Invariant::OneValuePerBallot => "OneValuePerBallot",
            Invariant::VotesSafe => "VotesSafe",
            Invariant::AppliedChosen => "AppliedChosen",
            Invariant::SameSequence => "SameSequence",
            Invariant::NoChosenValueLost => "NoChosenValueLost",
        }
    }

    /// The invariant named `name` in the spec.
    pub fn from_name(name: &str) -> Result<Invariant, ModelError> {
        Invariant::ALL
            .into_iter()
            .find(|i| i.name() == name)
            .ok_or_else(|| ModelError::UnknownInvariant {
                module: "MultiPaxos",
                name: name.to_string(),
                known: Invariant::ALL.map(Invariant::name).join(", "),
            })
    }

    /// The predicate on states.
    pub fn condition(self) -> Condition {
        match self {
            Invariant::TypeOk => type_ok,
            Invariant::Agreement => agreement,
            Invariant::OneValuePerBallot => one_value_per_ballot,
            Invariant::VotesSafe => votes_safe,
            Invariant::AppliedChosen => applied_chosen,
            Invariant::SameSequence => same_sequence,
            Invariant::NoChosenValueLost => no_chosen_value_lost,
        }
    }
}

fn type_ok(model: &MultiPaxosModel, state: &MultiPaxosState) -> bool {
    let ballot = |b: i8| b == NO_BALLOT || model.ballots().any(|c| c == b);
    let value = |v: Value| model.values().any(|w| w == v);
    let slots = usize::from(model.constants.num_slots);
    let votes_ok = state.votes.iter().all(|votes| {
        votes.iter().enumerate().all(|(i, v)| {
            let in_slot = i < slots;
            (ballot(v.bal) && (v.val == NONE || value(v.val)) && in_slot)
                || (!in_slot && v.bal == NO_BALLOT && v.val == NONE)
        })
    });
    let applied_ok = state
        .applied
        .iter()
        .all(|log| log.len() <= slots && log.iter().all(|&v| value(v)));
    let slot = |s: Slot| (1..=model.constants.num_slots).contains(&s);
    let slot_or_0 = |s: Slot| s <= model.constants.num_slots;
    let acceptor = |a: u8| (1..=model.constants.num_acceptors).contains(&a);
    let msgs_ok = state.msgs.iter().all(|m| match m {
        Msg::M1a { bal } => ballot(bal) && bal != NO_BALLOT,
        Msg::M1b {
            acc,
            bal,
            compacted,
            ..
        } => acceptor(acc) && ballot(bal) && bal != NO_BALLOT && slot_or_0(compacted),
        Msg::M2a { bal, slot: s, val } => ballot(bal) && bal != NO_BALLOT && slot(s) && value(val),
        Msg::M2b {
            acc,
            bal,
            slot: s,
            val,
        } => acceptor(acc) && ballot(bal) && bal != NO_BALLOT && slot(s) && value(val),
    });
    state.max_bal.iter().all(|&b| ballot(b))
        && votes_ok
        && state.compacted.iter().all(|&s| slot_or_0(s))
        && applied_ok
        && state.snapshot.iter().all(|&s| slot_or_0(s))
        && msgs_ok
}

fn agreement(model: &MultiPaxosModel, state: &MultiPaxosState) -> bool {
    model
        .slots()
        .all(|s| model.chosen_values(state, s).len() <= 1)
}

fn one_value_per_ballot(_: &MultiPaxosModel, state: &MultiPaxosState) -> bool {
    let proposals: Vec<(i8, Slot, Value)> = state
        .msgs
        .iter()
        .filter_map(|m| match m {
            Msg::M2a { bal, slot, val } => Some((bal, slot, val)),
            _ => None,
        })
        .collect();
    proposals
        .windows(2)
        .all(|w| (w[0].0, w[0].1) != (w[1].0, w[1].1))
}

/// `WontVoteIn(a, s, b)`.
fn wont_vote_in(model: &MultiPaxosModel, state: &MultiPaxosState, a: u8, s: Slot, b: i8) -> bool {
    model.values().all(|v| !voted_for_in(state, a, s, v, b))
        && state.max_bal[usize::from(a) - 1] > b
}

/// `SafeAt(s, v, b)`: in every ballot below `b`, a quorum voted for `v` in `s` or never will
/// vote in `s` there. A set of acceptors holds a quorum exactly when it is a strict majority.
fn safe_at(model: &MultiPaxosModel, state: &MultiPaxosState, s: Slot, v: Value, b: i8) -> bool {
    (0..b).all(|c| {
        let willing = model
            .acceptors()
            .filter(|&a| voted_for_in(state, a, s, v, c) || wont_vote_in(model, state, a, s, c))
            .count() as u32;
        2 * willing > u32::from(model.constants.num_acceptors)
    })
}

fn votes_safe(model: &MultiPaxosModel, state: &MultiPaxosState) -> bool {
    state.msgs.iter().all(|m| match m {
        Msg::M2b { bal, slot, val, .. } => safe_at(model, state, slot, val, bal),
        _ => true,
    })
}

fn applied_chosen(model: &MultiPaxosModel, state: &MultiPaxosState) -> bool {
    state.applied.iter().all(|log| {
        (1..)
            .zip(log)
            .all(|(s, &v)| model.chosen_values(state, s).contains(&v))
    })
}

fn same_sequence(_: &MultiPaxosModel, state: &MultiPaxosState) -> bool {
    let is_prefix = |a: &[Value], b: &[Value]| a.len() <= b.len() && b[..a.len()] == *a;
    state.applied.iter().all(|r1| {
        state
            .applied
            .iter()
            .all(|r2| is_prefix(r1, r2) || is_prefix(r2, r1))
    })
}

/// `NoChosenValueLost`. Agreement makes the chosen value of a slot unique, so a vote for it is
/// any vote for that value in that slot.
fn no_chosen_value_lost(model: &MultiPaxosModel, state: &MultiPaxosState) -> bool {
    model.slots().all(|s| {
        let in_snapshot = state.snapshot.iter().any(|&covered| covered >= s);
        in_snapshot
            || model.chosen_values(state, s).into_iter().all(|v| {
                // Every quorum holds a vote for `v` exactly when the acceptors without one are
                // too few to make a quorum among themselves.
                let without = state
                    .votes
                    .iter()
                    .filter(|votes| votes[usize::from(s) - 1].val != v)
                    .count() as u32;
                2 * without <= u32::from(model.constants.num_acceptors)
            })
    })
}
