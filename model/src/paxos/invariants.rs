//! The spec's invariants, under the spec's names. Each is computed from a [`Summary`] of the
//! votes in `msgs`, which is equivalent to the spec's quantifiers over quorums: a set of
//! acceptors contains a quorum exactly when it is a strict majority.

use super::state::{Acceptor, Ballot, Msg, MsgType, PaxosState, Value, NONE, NO_BALLOT};
use super::PaxosModel;
use crate::ModelError;

/// An invariant of `Paxos.tla`.
#[allow(clippy::upper_case_acronyms)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Invariant {
    /// `TypeOK`: every variable holds a value of its type.
    #[allow(non_camel_case_types)]
    TypeOK,
    /// `Agreement`: at most one value is chosen.
    Agreement,
    /// `OneValuePerBallot`: the 2a messages of one ballot carry one value.
    OneValuePerBallot,
    /// `VotesSafe`: every vote is for a value safe at its ballot.
    VotesSafe,
    /// `PromiseAtLeastVote`: `maxVBal[a] <= maxBal[a]`.
    PromiseAtLeastVote,
    /// `VoteRecorded`: `maxVBal` and `maxVal` describe each acceptor's latest vote.
    VoteRecorded,
    /// `PromiseReportsLatestVote`: a 1b message reports the latest vote below its ballot.
    PromiseReportsLatestVote,
}

type Condition = fn(&PaxosModel, &PaxosState) -> bool;

impl Invariant {
    /// Every invariant, in the spec's order.
    pub const ALL: [Invariant; 7] = [
        Invariant::TypeOK,
        Invariant::Agreement,
        Invariant::OneValuePerBallot,
        Invariant::VotesSafe,
        Invariant::PromiseAtLeastVote,
        Invariant::VoteRecorded,
        Invariant::PromiseReportsLatestVote,
    ];

    /// The spec's name.
    pub fn name(self) -> &'static str {
        match self {
            Invariant::TypeOK => "TypeOK",
            Invariant::Agreement => "Agreement",
            Invariant::OneValuePerBallot => "OneValuePerBallot",
            Invariant::VotesSafe => "VotesSafe",
            Invariant::PromiseAtLeastVote => "PromiseAtLeastVote",
            Invariant::VoteRecorded => "VoteRecorded",
            Invariant::PromiseReportsLatestVote => "PromiseReportsLatestVote",
        }
    }

    /// The invariant named `name` in the spec.
    pub fn from_name(name: &str) -> Result<Invariant, ModelError> {
        Invariant::ALL
            .into_iter()
            .find(|i| i.name() == name)
            .ok_or_else(|| ModelError::UnknownInvariant {
                module: "Paxos",
                name: name.to_string(),
                known: Invariant::ALL.map(Invariant::name).join(", "),
            })
    }

    /// The predicate on states.
    pub fn condition(self) -> Condition {
        match self {
            Invariant::TypeOK => type_ok,
            Invariant::Agreement => agreement,
            Invariant::OneValuePerBallot => one_value_per_ballot,
            Invariant::VotesSafe => votes_safe,
            Invariant::PromiseAtLeastVote => promise_at_least_vote,
            Invariant::VoteRecorded => vote_recorded,
            Invariant::PromiseReportsLatestVote => promise_reports_latest_vote,
        }
    }
}

/// Who voted for what: `VotedForIn(a, v, b)` for every acceptor, ballot and value. The checker
/// evaluates four invariants on every state with one of these, so a table for a small
/// configuration lives on the stack, and only a large one allocates.
struct Summary {
    ballot_count: usize,
    /// Bit set of values acceptor `a` voted for in ballot `b`, at `(a - 1) * ballot_count + b`,
    /// in `small` when it fits and in `large` otherwise.
    small: [u16; SMALL_TABLE],
    large: Vec<u16>,
}

/// The table size that needs no allocation: 7 acceptors and 4 ballots, or 3 and 10.
const SMALL_TABLE: usize = 32;

impl Summary {
    fn of(model: &PaxosModel, state: &PaxosState) -> Summary {
        let ballot_count = model.constants.max_ballot as usize + 1;
        let size = ballot_count * usize::from(model.constants.num_acceptors);
        let mut summary = Summary {
            ballot_count,
            small: [0; SMALL_TABLE],
            large: if size > SMALL_TABLE {
                vec![0; size]
            } else {
                Vec::new()
            },
        };
        for m in state.msgs.of_type(MsgType::M2b) {
            if let Msg::M2b { acc, bal, val } = m {
                // Out-of-type messages are TypeOK's to report, not this summary's to index.
                let in_type = (1..=model.constants.num_acceptors).contains(&acc)
                    && (0..=model.constants.max_ballot).contains(&bal)
                    && val <= model.constants.num_values;
                if in_type {
                    summary.table_mut()[(usize::from(acc) - 1) * ballot_count + bal as usize] |=
                        1 << val;
                }
            }
        }
        summary
    }

    fn table(&self) -> &[u16] {
        if self.large.is_empty() {
            &self.small
        } else {
            &self.large
        }
    }

    fn table_mut(&mut self) -> &mut [u16] {
        if self.large.is_empty() {
            &mut self.small
        } else {
            &mut self.large
        }
    }

    /// `\E v \in Value : VotedForIn(a, v, b)` (a vote for `None` is not for a value).
    fn voted_in(&self, a: Acceptor, b: Ballot) -> bool {
        self.voted(a, b) & !(1 << NONE) != 0
    }

    /// The values `a` voted for in `b` (none for a ballot outside `Ballot`).
    fn voted(&self, a: Acceptor, b: Ballot) -> u16 {
        if b < 0 || b as usize >= self.ballot_count {
            return 0;
        }
        self.table()[(usize::from(a) - 1) * self.ballot_count + b as usize]
    }

    /// `VotedForIn(a, v, b)`.
    fn voted_for_in(&self, a: Acceptor, v: Value, b: Ballot) -> bool {
        self.voted(a, b) & (1 << v) != 0
    }
}

fn type_ok(model: &PaxosModel, state: &PaxosState) -> bool {
    let c = model.constants;
    let ballot = |b: Ballot| (0..=c.max_ballot).contains(&b);
    let ballot_or_none = |b: Ballot| b == NO_BALLOT || ballot(b);
    let value = |v: Value| (1..=c.num_values).contains(&v);
    let value_or_none = |v: Value| v == NONE || value(v);
    let acceptor = |a: Acceptor| (1..=c.num_acceptors).contains(&a);
    let n = usize::from(c.num_acceptors);
    let variables_ok = state.max_bal.len() == n
        && state.max_vbal.len() == n
        && state.max_val.len() == n
        && state.max_bal.iter().all(|&b| ballot_or_none(b))
        && state.max_vbal.iter().all(|&b| ballot_or_none(b))
        && state.max_val.iter().all(|&v| value_or_none(v));
    variables_ok
        && state.msgs.iter().all(|m| match m {
            Msg::M1a { bal } => ballot(bal),
            Msg::M1b {
                acc,
                bal,
                mbal,
                mval,
            } => acceptor(acc) && ballot(bal) && ballot_or_none(mbal) && value_or_none(mval),
            Msg::M2a { bal, val } => ballot(bal) && value(val),
            Msg::M2b { acc, bal, val } => acceptor(acc) && ballot(bal) && value(val),
        })
}

fn agreement(model: &PaxosModel, state: &PaxosState) -> bool {
    chosen_set(model, state).count_ones() <= 1
}

/// The spec's `Chosen`: the values `v` for which a quorum voted for `v` in one ballot.
pub fn chosen(model: &PaxosModel, state: &PaxosState) -> Vec<Value> {
    let set = chosen_set(model, state);
    model.values().filter(|&v| set & (1 << v) != 0).collect()
}

/// [`chosen`] as a bit set of values.
fn chosen_set(model: &PaxosModel, state: &PaxosState) -> u16 {
    let summary = Summary::of(model, state);
    let mut chosen = 0u16;
    for b in model.ballots() {
        for v in model.values() {
            let voters = state
                .acceptors()
                .filter(|&a| summary.voted_for_in(a, v, b))
                .count();
            if model.is_quorum_size(voters as u32) {
                chosen |= 1 << v;
            }
        }
    }
    chosen
}

fn one_value_per_ballot(_: &PaxosModel, state: &PaxosState) -> bool {
    // The 2a messages come sorted by ballot and are distinct, so two of one ballot are adjacent
    // and carry different values.
    let ballots = state.msgs.of_type(MsgType::M2a).filter_map(|m| match m {
        Msg::M2a { bal, .. } => Some(bal),
        _ => None,
    });
    ballots
        .clone()
        .zip(ballots.skip(1))
        .all(|(b1, b2)| b1 != b2)
}

fn votes_safe(model: &PaxosModel, state: &PaxosState) -> bool {
    let summary = Summary::of(model, state);
    state.msgs.of_type(MsgType::M2b).all(|m| match m {
        Msg::M2b { bal, val, .. } => safe_at(model, state, &summary, val, bal),
        _ => true,
    })
}

/// `SafeAt(v, b)`: in every ballot below `b`, a quorum voted for `v` or will never vote.
fn safe_at(model: &PaxosModel, state: &PaxosState, summary: &Summary, v: Value, b: Ballot) -> bool {
    (0..b).all(|c| {
        let wont_vote_in =
            |a: Acceptor| !summary.voted_in(a, c) && state.max_bal[usize::from(a) - 1] > c;
        let count = state
            .acceptors()
            .filter(|&a| summary.voted_for_in(a, v, c) || wont_vote_in(a))
            .count();
        model.is_quorum_size(count as u32)
    })
}

fn promise_at_least_vote(_: &PaxosModel, state: &PaxosState) -> bool {
    state
        .max_vbal
        .iter()
        .zip(&state.max_bal)
        .all(|(vbal, bal)| vbal <= bal)
}

fn vote_recorded(model: &PaxosModel, state: &PaxosState) -> bool {
    let summary = Summary::of(model, state);
    state.acceptors().all(|a| {
        let i = usize::from(a) - 1;
        let (vbal, val) = (state.max_vbal[i], state.max_val[i]);
        (vbal == NO_BALLOT) == (val == NONE)
            && (vbal == NO_BALLOT || summary.voted_for_in(a, val, vbal))
            && model
                .ballots()
                .filter(|&c| c > vbal)
                .all(|c| !summary.voted_in(a, c))
    })
}

fn promise_reports_latest_vote(model: &PaxosModel, state: &PaxosState) -> bool {
    let summary = Summary::of(model, state);
    state.msgs.of_type(MsgType::M1b).all(|m| match m {
        Msg::M1b {
            acc,
            bal,
            mbal,
            mval,
        } => {
            bal <= state.max_bal[usize::from(acc) - 1]
                && (mbal == NO_BALLOT || summary.voted_for_in(acc, mval, mbal))
                && (mbal + 1..bal).all(|c| !summary.voted_in(acc, c))
        }
        _ => true,
    })
}
