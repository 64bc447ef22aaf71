//! The spec's notation, and its mapping to the implementation's types.

use colony_core::group::{Ballot, NodeId};
use colony_core::paxos::{Envelope, HardState, Message, Value, Vote};

/// A message as the spec writes it (`tla/Paxos.tla`'s `Message` set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecMsg {
    /// `[type |-> "1a", bal |-> bal]`.
    M1a {
        /// `bal`.
        bal: i8,
    },
    /// `[type |-> "1b", acc, bal, mbal, mval]`.
    M1b {
        /// `acc`.
        acc: u8,
        /// `bal`.
        bal: i8,
        /// `mbal` (`-1`: no vote).
        mbal: i8,
        /// `mval` (`0`: `None`).
        mval: u8,
    },
    /// `[type |-> "2a", bal, val]`.
    M2a {
        /// `bal`.
        bal: i8,
        /// `val`.
        val: u8,
    },
    /// `[type |-> "2b", acc, bal, val]`.
    M2b {
        /// `acc`.
        acc: u8,
        /// `bal`.
        bal: i8,
        /// `val`.
        val: u8,
    },
}

/// `[type |-> "1a", bal |-> bal]`.
pub fn m1a(bal: i8) -> SpecMsg {
    SpecMsg::M1a { bal }
}
/// `[type |-> "1b", acc, bal, mbal, mval]`.
pub fn m1b(acc: u8, bal: i8, mbal: i8, mval: u8) -> SpecMsg {
    SpecMsg::M1b {
        acc,
        bal,
        mbal,
        mval,
    }
}
/// `[type |-> "2a", bal, val]`.
pub fn m2a(bal: i8, val: u8) -> SpecMsg {
    SpecMsg::M2a { bal, val }
}
/// `[type |-> "2b", acc, bal, val]`.
pub fn m2b(acc: u8, bal: i8, val: u8) -> SpecMsg {
    SpecMsg::M2b { acc, bal, val }
}

/// An acceptor's variables as the spec writes them: `(maxBal, maxVBal, maxVal)`.
pub type SpecLocal = (i8, i8, u8);

/// The proposer that owns spec ballot `b` in a cell of `n`: ballots are handed out from the
/// highest node down, so that acceptor 1, the node under test, proposes nothing.
pub fn proposer_of(b: i8, n: u8) -> NodeId {
    assert!(b >= 0 && n >= 2);
    NodeId(n - (b as u8 % (n - 1)))
}

/// Spec ballot `b` (`-1` for none) as an implementation ballot: round `b`, owned by
/// [`proposer_of`]`(b)`. The map preserves the order of ballots.
pub fn ballot(b: i8, n: u8) -> Option<Ballot> {
    (b >= 0).then(|| Ballot {
        round: b as u32,
        proposer: proposer_of(b, n),
    })
}

/// Spec value `v` as bytes: `v1` is `"v1"`.
pub fn value(v: u8) -> Value {
    assert!(v >= 1, "None is not a value");
    Value(format!("v{v}").into_bytes())
}

/// The acceptor's durable state for spec variables `local`.
pub fn hard_state(local: SpecLocal, n: u8) -> HardState {
    let (max_bal, max_vbal, max_val) = local;
    let vote = ballot(max_vbal, n).map(|ballot| Vote {
        ballot,
        value: value(max_val),
    });
    HardState {
        promised: ballot(max_bal, n),
        vote,
        round_started_max: None,
    }
}

/// A message the spec's proposer sends, as the implementation's message and its sender.
pub fn from_proposer(m: SpecMsg, n: u8) -> (NodeId, Message) {
    match m {
        SpecMsg::M1a { bal } => (
            proposer_of(bal, n),
            Message::Prepare {
                ballot: spec_ballot(bal, n),
            },
        ),
        SpecMsg::M2a { bal, val } => (
            proposer_of(bal, n),
            Message::Accept {
                ballot: spec_ballot(bal, n),
                value: value(val),
            },
        ),
        SpecMsg::M1b { .. } | SpecMsg::M2b { .. } => panic!("{m:?} is an acceptor's message"),
    }
}

/// What the implementation sends for an acceptor's spec message: a `1b` goes to the proposer of
/// its ballot, a `2b` to every member (each is a learner).
pub fn envelopes(m: SpecMsg, n: u8) -> Vec<Envelope> {
    match m {
        SpecMsg::M1b {
            acc,
            bal,
            mbal,
            mval,
        } => {
            let vote = ballot(mbal, n).map(|ballot| Vote {
                ballot,
                value: value(mval),
            });
            let message = Message::Promise {
                ballot: spec_ballot(bal, n),
                acceptor: NodeId(acc),
                vote,
            };
            vec![Envelope {
                to: proposer_of(bal, n),
                message,
            }]
        }
        SpecMsg::M2b { acc, bal, val } => {
            let message = Message::Accepted {
                ballot: spec_ballot(bal, n),
                acceptor: NodeId(acc),
                value: value(val),
            };
            (1..=n)
                .map(|to| Envelope {
                    to: NodeId(to),
                    message: message.clone(),
                })
                .collect()
        }
        SpecMsg::M1a { .. } | SpecMsg::M2a { .. } => panic!("{m:?} is a proposer's message"),
    }
}

fn spec_ballot(b: i8, n: u8) -> Ballot {
    ballot(b, n).unwrap_or_else(|| panic!("a message carries a ballot, not {b}"))
}

/// A message's label in generated test names, as the generator writes it: `1a_b1`,
/// `1b_a2_b1`, `2a_b0_v1`, `2b_a3_b0_v1`.
pub fn label(m: SpecMsg) -> String {
    match m {
        SpecMsg::M1a { bal } => format!("1a_b{bal}"),
        SpecMsg::M1b { acc, bal, .. } => format!("1b_a{acc}_b{bal}"),
        SpecMsg::M2a { bal, val } => format!("2a_b{bal}_v{val}"),
        SpecMsg::M2b { acc, bal, val } => format!("2b_a{acc}_b{bal}_v{val}"),
    }
}
