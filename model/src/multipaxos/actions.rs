//! The spec's actions: one per disjunct of `Next` and per witness of every `\E` TLC splits on,
//! which is what makes the model's counts equal TLC's.

use super::state::{
    Acceptor, Ballot, Log, Msg, MultiPaxosState, Replica, Slot, Value, Vote, NO_BALLOT, NO_OP,
};
use super::{Bug, MultiPaxosModel};
use crate::paxos::Quorum;
use std::fmt;

/// One disjunct of `Next`, with a value for every witness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `Phase1a(b)`.
    Phase1a {
        /// The ballot started.
        b: Ballot,
    },
    /// `Phase2a(b, s, v)` with witness `Q` of `\E Q \in Quorum`.
    Phase2a {
        /// The ballot.
        b: Ballot,
        /// The slot.
        s: Slot,
        /// The value proposed.
        v: Value,
        /// The quorum whose promises make `v` safe in `s`.
        q: Quorum,
    },
    /// `Phase1b(a)` with witness `m` (a 1a message).
    Phase1b {
        /// The acceptor.
        a: Acceptor,
        /// The 1a message received.
        m: Msg,
    },
    /// `Phase2b(a)` with witness `m` (a 2a message).
    Phase2b {
        /// The acceptor.
        a: Acceptor,
        /// The 2a message received.
        m: Msg,
    },
    /// `Apply(r)` with witness `v` of `\E v \in ChosenValues(s)`.
    Apply {
        /// The replica.
        r: Replica,
        /// The value applied.
        v: Value,
    },
    /// `CatchUp(r)` with witness `p` of `\E p \in Replica`.
    CatchUp {
        /// The lagging replica.
        r: Replica,
        /// The peer it catches up from.
        p: Replica,
    },
    /// `Compact(a)` with witness `r` of `\E r \in Replica`.
    Compact {
        /// The acceptor forgetting votes.
        a: Acceptor,
        /// The replica whose snapshot covers the slots forgotten.
        r: Replica,
    },
    /// `Snapshot(r)`.
    Snapshot {
        /// The replica taking a snapshot of its applied prefix.
        r: Replica,
    },
    /// `InstallSnapshot(r)` with witness `p` of `\E p \in Replica`.
    InstallSnapshot {
        /// The lagging replica.
        r: Replica,
        /// The peer whose snapshot it installs.
        p: Replica,
    },
}

impl Action {
    /// The spec action's name.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Phase1a { .. } => "Phase1a",
            Action::Phase2a { .. } => "Phase2a",
            Action::Phase1b { .. } => "Phase1b",
            Action::Phase2b { .. } => "Phase2b",
            Action::Apply { .. } => "Apply",
            Action::CatchUp { .. } => "CatchUp",
            Action::Compact { .. } => "Compact",
            Action::Snapshot { .. } => "Snapshot",
            Action::InstallSnapshot { .. } => "InstallSnapshot",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Action::Phase1a { b } => write!(f, "Phase1a(b={b})"),
            Action::Phase2a { b, s, v, q } => write!(
                f,
                "Phase2a(b={b}, s={s}, v={}) with Q={q}",
                super::state::ShowValue(v)
            ),
            Action::Phase1b { a, m } => write!(f, "Phase1b(a={a}) with m={m}"),
            Action::Phase2b { a, m } => write!(f, "Phase2b(a={a}) with m={m}"),
            Action::Apply { r, v } => {
                write!(f, "Apply(r={r}) with v={}", super::state::ShowValue(v))
            }
            Action::CatchUp { r, p } => write!(f, "CatchUp(r={r}) with p={p}"),
            Action::Compact { a, r } => write!(f, "Compact(a={a}) with r={r}"),
            Action::Snapshot { r } => write!(f, "Snapshot(r={r})"),
            Action::InstallSnapshot { r, p } => write!(f, "InstallSnapshot(r={r}) with p={p}"),
        }
    }
}

fn index(n: u8) -> usize {
    usize::from(n) - 1
}

impl MultiPaxosModel {
    /// Every action whose guard holds in `state`, in a fixed order.
    pub(super) fn enabled_actions(&self, state: &MultiPaxosState, actions: &mut Vec<Action>) {
        for b in self.ballots() {
            actions.push(Action::Phase1a { b });
            for s in self.slots() {
                if proposed_in(state, b, s) && self.bug != Some(Bug::SecondProposalInSlot) {
                    continue;
                }
                for &q in &self.quorums {
                    for v in self.safe_values(state, q, b, s) {
                        actions.push(Action::Phase2a { b, s, v, q });
                    }
                }
            }
        }
        for a in self.acceptors() {
            for m in &state.msgs {
                match m {
                    Msg::M1a { bal } if bal > state.max_bal[index(a)] => {
                        actions.push(Action::Phase1b { a, m });
                    }
                    Msg::M2a { bal, slot, .. }
                        if (bal >= state.max_bal[index(a)]
                            || self.bug == Some(Bug::VoteBelowPromise))
                            && slot > state.compacted[index(a)] =>
                    {
                        actions.push(Action::Phase2b { a, m });
                    }
                    _ => {}
                }
            }
            for r in self.replicas() {
                if self.compact_to(state, r) > state.compacted[index(a)] {
                    actions.push(Action::Compact { a, r });
                }
            }
        }
        for r in self.replicas() {
            let next = state.applied[index(r)].len() + 1;
            if next <= usize::from(self.constants.num_slots) {
                let values = match self.bug {
                    Some(Bug::ApplyUnchosen) => self.values().collect(),
                    _ => self.chosen_values(state, next as Slot),
                };
                for v in values {
                    actions.push(Action::Apply { r, v });
                }
            }
            let applied = state.applied[index(r)].len();
            for p in self.replicas() {
                if state.applied[index(p)].len() > applied
                    && applied >= usize::from(state.snapshot[index(p)])
                {
                    actions.push(Action::CatchUp { r, p });
                }
            }
            if usize::from(state.snapshot[index(r)]) < applied
                && applied <= usize::from(self.constants.max_compaction)
            {
                actions.push(Action::Snapshot { r });
            }
            for p in self.replicas() {
                if usize::from(state.snapshot[index(p)]) > applied {
                    actions.push(Action::InstallSnapshot { r, p });
                }
            }
        }
    }

    /// The state `action` leads to. Every action [`Self::enabled_actions`] lists is enabled.
    pub(super) fn apply(&self, state: &MultiPaxosState, action: Action) -> MultiPaxosState {
        let mut next = state.clone();
        match action {
            Action::Phase1a { b } => {
                next.msgs.insert(Msg::M1a { bal: b });
            }
            Action::Phase2a { b, s, v, .. } => {
                next.msgs.insert(Msg::M2a {
                    bal: b,
                    slot: s,
                    val: v,
                });
            }
            Action::Phase1b { a, m } => {
                let Msg::M1a { bal } = m else {
                    unreachable!("Phase1b receives a 1a")
                };
                next.max_bal[index(a)] = bal;
                next.msgs.insert(Msg::M1b {
                    acc: a,
                    bal,
                    votes: state.votes[index(a)],
                    compacted: state.compacted[index(a)],
                });
            }
            Action::Phase2b { a, m } => {
                let Msg::M2a { bal, slot, val } = m else {
                    unreachable!("Phase2b receives a 2a")
                };
                next.max_bal[index(a)] = bal;
                next.votes[index(a)][index(slot)] = Vote { bal, val };
                next.msgs.insert(Msg::M2b {
                    acc: a,
                    bal,
                    slot,
                    val,
                });
            }
            Action::Apply { r, v } => next.applied[index(r)].push(v),
            Action::CatchUp { r, p } => {
                let peer = &state.applied[index(p)];
                let entry = match self.bug {
                    Some(Bug::CatchUpWrongEntry) => peer.len() - 1,
                    _ => state.applied[index(r)].len(),
                };
                next.applied[index(r)].push(peer[entry]);
            }
            Action::Compact { a, r } => {
                let to = self.compact_to(state, r);
                next.compacted[index(a)] = to;
                for vote in &mut next.votes[index(a)][..usize::from(to)] {
                    *vote = super::state::NO_VOTE;
                }
            }
            Action::Snapshot { r } => {
                next.snapshot[index(r)] = state.applied[index(r)].len() as Slot;
            }
            Action::InstallSnapshot { r, p } => {
                let slot = state.snapshot[index(p)];
                next.applied[index(r)] = self.snapshot_log(state, p);
                next.snapshot[index(r)] = slot;
            }
        }
        next
    }

    /// `CompactTo(r)`: the last slot whose vote an acceptor forgets when it compacts up to `r`'s
    /// snapshot.
    fn compact_to(&self, state: &MultiPaxosState, r: Replica) -> Slot {
        let snapshot = state.snapshot[index(r)];
        match self.bug {
            // `CompactPastSnapshot` in `MultiPaxosBugs.tla`.
            Some(Bug::ForgetUnchosen) if snapshot < self.constants.num_slots => snapshot + 1,
            _ => snapshot,
        }
    }

    /// `SnapshotLog(p)`: the log whose state `p`'s snapshot holds.
    fn snapshot_log(&self, state: &MultiPaxosState, p: Replica) -> Log {
        let slot = usize::from(state.snapshot[index(p)]);
        let mut log = Log::from_slice(&state.applied[index(p)][..slot]);
        if self.bug == Some(Bug::WrongSnapshotSlot) {
            // `SnapshotLogOneSlotLate` in `MultiPaxosBugs.tla`.
            log.push(NO_OP);
        }
        log
    }

    /// `SafeValues(Q, b, s)`.
    fn safe_values(&self, state: &MultiPaxosState, q: Quorum, b: Ballot, s: Slot) -> Vec<Value> {
        let mut compacted_in_s = false;
        let promises: Vec<(Acceptor, [Vote; super::state::SLOTS_MAX])> = state
            .msgs
            .iter()
            .filter_map(|m| match m {
                Msg::M1b {
                    acc,
                    bal,
                    votes,
                    compacted,
                } if bal == b && q.contains(acc) => {
                    compacted_in_s |= compacted >= s;
                    Some((acc, votes))
                }
                _ => None,
            })
            .collect();
        if !q
            .members()
            .all(|a| promises.iter().any(|&(acc, _)| acc == a))
        {
            return Vec::new();
        }
        // `CompactedIn(Q1b, s)`, which `IgnoreCompacted` in `MultiPaxosBugs.tla` replaces by FALSE.
        if compacted_in_s && self.bug != Some(Bug::ProposeInCompacted) {
            return Vec::new();
        }
        let voted_in = |t: Slot| {
            promises
                .iter()
                .filter(move |(_, v)| v[index(t)].bal != NO_BALLOT)
        };
        let top = voted_in(s).map(|(_, v)| v[index(s)].bal).max();
        if top.is_some() && self.bug == Some(Bug::IgnoreReportedVotes) {
            return self.values().collect();
        }
        if let Some(top) = top {
            let mut values: Vec<Value> = voted_in(s)
                .filter(|(_, v)| v[index(s)].bal == top)
                .map(|(_, v)| v[index(s)].val)
                .collect();
            values.sort_unstable();
            values.dedup();
            return values;
        }
        let hole = (s + 1..=self.constants.num_slots).any(|t| voted_in(t).next().is_some());
        if hole {
            vec![NO_OP]
        } else if self.bug == Some(Bug::ProposeNoneWhenFree) {
            vec![super::state::NONE]
        } else {
            self.commands().collect()
        }
    }

    /// `ChosenValues(s)`.
    pub(super) fn chosen_values(&self, state: &MultiPaxosState, s: Slot) -> Vec<Value> {
        self.values()
            .filter(|&v| self.ballots().any(|b| self.chosen_in(state, s, v, b)))
            .collect()
    }

    /// `ChosenIn(s, v, b)`: a quorum voted for `v` in `s` in `b`.
    pub(super) fn chosen_in(&self, state: &MultiPaxosState, s: Slot, v: Value, b: Ballot) -> bool {
        let voters = self
            .acceptors()
            .filter(|&a| voted_for_in(state, a, s, v, b))
            .count() as u32;
        2 * voters > u32::from(self.constants.num_acceptors)
    }
}

/// `\E m \in msgs : m.type = "2a" /\ m.bal = b /\ m.slot = s`.
fn proposed_in(state: &MultiPaxosState, b: Ballot, s: Slot) -> bool {
    state
        .msgs
        .iter()
        .any(|m| matches!(m, Msg::M2a { bal, slot, .. } if bal == b && slot == s))
}

/// `VotedForIn(a, s, v, b)`.
pub(super) fn voted_for_in(
    state: &MultiPaxosState,
    a: Acceptor,
    s: Slot,
    v: Value,
    b: Ballot,
) -> bool {
    state.msgs.contains(&Msg::M2b {
        acc: a,
        bal: b,
        slot: s,
        val: v,
    })
}
