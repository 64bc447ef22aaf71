//! The spec's actions: which are enabled in a state, and the state each one leads to.

use super::state::{Acceptor, Ballot, Msg, MsgType, Msgs, PaxosState, Value, NONE, NO_BALLOT};
use super::{Bug, PaxosModel};
use std::fmt;

/// A quorum, as a bit set of acceptors (bit `a` for acceptor `a`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quorum(pub u8);

impl Quorum {
    /// The spec's `Quorum` set for `num_acceptors` acceptors: every strict majority, in
    /// increasing order of bit set.
    pub fn all(num_acceptors: u8) -> Vec<Quorum> {
        assert!((1..=7).contains(&num_acceptors));
        let everyone = (1u16 << (num_acceptors + 1)) - 2;
        (0..=everyone)
            .filter(|set| set & !everyone == 0 && 2 * set.count_ones() > u32::from(num_acceptors))
            .map(|set| Quorum(set as u8))
            .collect()
    }

    /// True when acceptor `a` is a member.
    pub fn contains(self, a: Acceptor) -> bool {
        self.0 & (1 << a) != 0
    }

    /// The members, in increasing order.
    pub fn members(self) -> impl Iterator<Item = Acceptor> {
        (1..8).filter(move |&a| self.contains(a))
    }
}

impl fmt::Display for Quorum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.members().map(|a| format!("a{a}")).collect();
        write!(f, "{{{}}}", names.join(","))
    }
}

/// One disjunct of the spec's `Next`, with a value for every `\E` witness: TLC generates one
/// state per witness, so the model has one action per witness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `Phase1a(b)`.
    Phase1a {
        /// The ballot started.
        b: Ballot,
    },
    /// `Phase2a(b, v)` with witness `Q` of `\E Q \in Quorum`.
    Phase2a {
        /// The ballot.
        b: Ballot,
        /// The value proposed.
        v: Value,
        /// The quorum whose promises make `v` safe.
        q: Quorum,
    },
    /// `Phase1b(a)` with witness `m` (a 1a message) of `\E m \in msgs`.
    Phase1b {
        /// The acceptor.
        a: Acceptor,
        /// The 1a message received.
        m: Msg,
    },
    /// `Phase2b(a)` with witness `m` (a 2a message) of `\E m \in msgs`.
    Phase2b {
        /// The acceptor.
        a: Acceptor,
        /// The 2a message received.
        m: Msg,
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
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Action::Phase1a { b } => write!(f, "Phase1a(b={b})"),
            Action::Phase2a { b, v, q } => write!(f, "Phase2a(b={b}, v=v{v}) with Q={q}"),
            Action::Phase1b { a, m } => write!(f, "Phase1b(a={a}) with m={m}"),
            Action::Phase2b { a, m } => write!(f, "Phase2b(a={a}) with m={m}"),
        }
    }
}

/// Bit set of values (bit `v` for value `v`).
type ValueSet = u16;

/// The most quorums there are: the strict majorities of 7 acceptors, the most [`Quorum::all`]
/// accepts.
const MAX_QUORUMS: usize = 64;

fn index(a: Acceptor) -> usize {
    usize::from(a) - 1
}

/// What the 1b messages of one ballot report, acceptor by acceptor: the part of `SafeValues(Q,
/// b)` that does not depend on `Q`, computed once per ballot and combined for every quorum.
struct Promises {
    /// Bit set of the acceptors that sent a 1b message of the ballot.
    from: u8,
    /// Per acceptor (index `a`), the highest vote ballot its 1b messages report.
    top_bal: [Ballot; 8],
    /// Per acceptor, the values its 1b messages report at `top_bal` (none for [`NO_BALLOT`]).
    top_vals: [ValueSet; 8],
}

impl Promises {
    /// The messages of ballot `b` among `m1b`, the 1b messages.
    fn of(m1b: Msgs<'_>, b: Ballot) -> Promises {
        let mut promises = Promises {
            from: 0,
            top_bal: [NO_BALLOT; 8],
            top_vals: [0; 8],
        };
        for m in m1b {
            let Msg::M1b {
                acc,
                bal,
                mbal,
                mval,
            } = m
            else {
                continue;
            };
            // Only members of a quorum (acceptors 1..=7) can matter.
            let a = usize::from(acc);
            if bal != b || a >= 8 {
                continue;
            }
            promises.from |= 1 << acc;
            promises.report(a, mbal, mval);
        }
        promises
    }

    /// Folds in one reported vote of acceptor `a`, keeping the highest.
    fn report(&mut self, a: usize, mbal: Ballot, mval: Value) {
        if mbal > self.top_bal[a] {
            self.top_bal[a] = mbal;
            self.top_vals[a] = 0;
        }
        if mbal == self.top_bal[a] && mbal != NO_BALLOT {
            self.top_vals[a] |= 1 << mval;
        }
    }

    /// Of the promises from members of `q`: which members sent one, the highest vote ballot
    /// they report, and the values reported at that ballot.
    fn of_quorum(&self, q: Quorum) -> (u8, Ballot, ValueSet) {
        let mut top_bal = NO_BALLOT;
        let mut top_vals: ValueSet = 0;
        for a in q.members().map(usize::from) {
            if self.top_bal[a] > top_bal {
                top_bal = self.top_bal[a];
                top_vals = 0;
            }
            if self.top_bal[a] == top_bal {
                top_vals |= self.top_vals[a];
            }
        }
        (self.from & q.0, top_bal, top_vals)
    }
}

impl PaxosModel {
    /// Lists every enabled action of `state`, in the order of `Next`'s disjuncts and witnesses.
    pub(super) fn enabled_actions(&self, state: &PaxosState, actions: &mut Vec<Action>) {
        let (m1a, m1b, m2a) = (
            state.msgs.of_type(MsgType::M1a),
            state.msgs.of_type(MsgType::M1b),
            state.msgs.of_type(MsgType::M2a),
        );
        for b in self.ballots() {
            actions.push(Action::Phase1a { b });
            if self.may_propose_in(m2a.clone(), b) {
                self.push_proposals(Promises::of(m1b.clone(), b), b, actions);
            }
        }
        for a in state.acceptors() {
            for m in m1a.clone() {
                if let Msg::M1a { bal } = m {
                    if bal > state.max_bal[index(a)] {
                        actions.push(Action::Phase1b { a, m });
                    }
                }
            }
            for m in m2a.clone() {
                if let Msg::M2a { bal, .. } = m {
                    if self.may_vote(state, a, bal) {
                        actions.push(Action::Phase2b { a, m });
                    }
                }
            }
        }
    }

    /// The `Phase2a(b, v)` actions with witness `Q`, values outermost as in `Next`.
    fn push_proposals(&self, promises: Promises, b: Ballot, actions: &mut Vec<Action>) {
        let mut safe = [0 as ValueSet; MAX_QUORUMS];
        for (values, &q) in safe.iter_mut().zip(&self.quorums) {
            *values = self.safe_values(&promises, q);
        }
        for v in self.values() {
            for (&q, &values) in self.quorums.iter().zip(&safe) {
                if values & (1 << v) != 0 {
                    actions.push(Action::Phase2a { b, v, q });
                }
            }
        }
    }

    /// The state `action` leads to, or `None` when it is not enabled in `state`.
    pub(super) fn apply(&self, state: &PaxosState, action: Action) -> Option<PaxosState> {
        match action {
            Action::Phase1a { b } => Some(send(state, Msg::M1a { bal: b })),
            Action::Phase2a { b, v, q } => {
                let promises = Promises::of(state.msgs.of_type(MsgType::M1b), b);
                let enabled = self.may_propose_in(state.msgs.of_type(MsgType::M2a), b)
                    && self.safe_values(&promises, q) & (1 << v) != 0;
                if !enabled {
                    return None;
                }
                let val = self.proposed_value(&promises, q, v);
                Some(send(state, Msg::M2a { bal: b, val }))
            }
            Action::Phase1b {
                a,
                m: m @ Msg::M1a { bal },
            } => {
                let i = index(a);
                if !state.msgs.contains(&m) || bal <= state.max_bal[i] {
                    return None;
                }
                let (mbal, mval) = match self.bug {
                    Some(Bug::ForgetVoteInPromise) => (NO_BALLOT, NONE),
                    _ => (state.max_vbal[i], state.max_val[i]),
                };
                let promise = Msg::M1b {
                    acc: a,
                    bal,
                    mbal,
                    mval,
                };
                let mut next = send(state, promise);
                next.max_bal[i] = bal;
                Some(next)
            }
            Action::Phase2b {
                a,
                m: m @ Msg::M2a { bal, val },
            } => {
                if !state.msgs.contains(&m) || !self.may_vote(state, a, bal) {
                    return None;
                }
                let mut next = send(state, Msg::M2b { acc: a, bal, val });
                self.record_vote(&mut next, index(a), bal, val);
                Some(next)
            }
            Action::Phase1b { .. } | Action::Phase2b { .. } => None,
        }
    }

    /// `~ \E m \in msgs : m.type = "2a" /\ m.bal = b`, given `m2a`, the 2a messages.
    fn may_propose_in(&self, mut m2a: Msgs<'_>, b: Ballot) -> bool {
        self.bug == Some(Bug::SecondProposalInBallot)
            || !m2a.any(|m| matches!(m, Msg::M2a { bal, .. } if bal == b))
    }

    /// `m.bal >= maxBal[a]`, the guard of `Phase2b(a)`.
    fn may_vote(&self, state: &PaxosState, a: Acceptor, bal: Ballot) -> bool {
        self.bug == Some(Bug::VoteBelowPromise) || bal >= state.max_bal[index(a)]
    }

    /// The effect of `Phase2b` on acceptor `i`'s variables.
    fn record_vote(&self, next: &mut PaxosState, i: usize, bal: Ballot, val: Value) {
        match self.bug {
            Some(Bug::VoteWithoutPromise) => {}
            Some(Bug::VoteBelowPromise) => next.max_bal[i] = next.max_bal[i].max(bal),
            _ => next.max_bal[i] = bal,
        }
        if self.bug != Some(Bug::VoteNotRecorded) {
            next.max_vbal[i] = bal;
            next.max_val[i] = val;
        }
    }

    /// The value the 2a message of `Phase2a(b, v)` carries: `v`, except under the bug that
    /// sends `None` when the quorum reported no vote.
    fn proposed_value(&self, promises: &Promises, q: Quorum, v: Value) -> Value {
        let free = promises.of_quorum(q).1 == NO_BALLOT;
        if self.bug == Some(Bug::ProposeNoneWhenFree) && free {
            NONE
        } else {
            v
        }
    }

    /// The spec's `SafeValues(Q, b)` as a bit set of values, from the promises of ballot `b`.
    fn safe_values(&self, promises: &Promises, q: Quorum) -> ValueSet {
        let (covered, top_bal, top_vals) = promises.of_quorum(q);
        let all_values: ValueSet = self.values().map(|v| 1 << v).sum();
        if covered != q.0 {
            0
        } else if top_bal == NO_BALLOT || self.bug == Some(Bug::IgnoreReportedVotes) {
            all_values
        } else {
            top_vals
        }
    }
}

/// The spec's `Send(m)`: `state` with `msgs' = msgs \cup {m}` and the acceptors' variables
/// unchanged, for the caller to change. The new message set is built in one pass from the old
/// one, which is cheaper than cloning the whole state and then inserting.
fn send(state: &PaxosState, m: Msg) -> PaxosState {
    PaxosState {
        max_bal: state.max_bal.clone(),
        max_vbal: state.max_vbal.clone(),
        max_val: state.max_val.clone(),
        msgs: state.msgs.with(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorums_are_the_strict_majorities() {
        let shown: Vec<String> = Quorum::all(3).iter().map(|q| q.to_string()).collect();
        assert_eq!(shown, ["{a1,a2}", "{a1,a3}", "{a2,a3}", "{a1,a2,a3}"]);
        assert_eq!(Quorum::all(5).len(), 16);
        assert_eq!(Quorum::all(7).len(), 64);
        assert_eq!(Quorum::all(1).len(), 1);
    }
}
