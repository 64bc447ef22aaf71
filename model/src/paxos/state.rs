//! The spec's variables, one for one: `maxBal`, `maxVBal`, `maxVal` and `msgs`.

use std::collections::BTreeSet;
use std::fmt;

/// A ballot number, `0..MaxBallot` in the spec; [`NO_BALLOT`] stands for the spec's `-1`.
pub type Ballot = i8;
/// A proposed value, `1..NumValues` in the spec; [`NONE`] stands for the spec's `None`.
pub type Value = u8;
/// An acceptor, `1..NumAcceptors` in the spec.
pub type Acceptor = u8;

/// The spec's `NoBallot == -1`: below every ballot.
pub const NO_BALLOT: Ballot = -1;
/// The spec's `None == 0`: not a value.
pub const NONE: Value = 0;

/// A message of the spec's `Message` set. Field names are the spec's record fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Msg {
    /// `[type |-> "1a", bal |-> bal]`: a proposer asks for promises in ballot `bal`.
    M1a {
        /// The ballot being started.
        bal: Ballot,
    },
    /// `[type |-> "1b", ...]`: acceptor `acc` promises `bal` and reports its latest vote.
    M1b {
        /// The acceptor promising.
        acc: Acceptor,
        /// The ballot promised.
        bal: Ballot,
        /// The ballot of its latest vote, or [`NO_BALLOT`].
        mbal: Ballot,
        /// The value of its latest vote, or [`NONE`].
        mval: Value,
    },
    /// `[type |-> "2a", bal |-> bal, val |-> val]`: the proposal of ballot `bal`.
    M2a {
        /// The ballot of the proposal.
        bal: Ballot,
        /// The value proposed.
        val: Value,
    },
    /// `[type |-> "2b", ...]`: acceptor `acc` votes for `val` in ballot `bal`.
    M2b {
        /// The acceptor voting.
        acc: Acceptor,
        /// The ballot of the vote.
        bal: Ballot,
        /// The value voted for.
        val: Value,
    },
}

/// One state of the spec: exactly its four variables, in ordered containers so that hashing and
/// ordering are deterministic.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaxosState {
    /// `maxBal[a]` at index `a - 1`: the highest ballot acceptor `a` promised.
    pub max_bal: Vec<Ballot>,
    /// `maxVBal[a]` at index `a - 1`: the highest ballot acceptor `a` voted in.
    pub max_vbal: Vec<Ballot>,
    /// `maxVal[a]` at index `a - 1`: the value acceptor `a` voted for in `maxVBal[a]`.
    pub max_val: Vec<Value>,
    /// `msgs`: every message ever sent.
    pub msgs: BTreeSet<Msg>,
}

impl PaxosState {
    /// The spec's `Init`.
    pub fn init(num_acceptors: usize) -> PaxosState {
        PaxosState {
            max_bal: vec![NO_BALLOT; num_acceptors],
            max_vbal: vec![NO_BALLOT; num_acceptors],
            max_val: vec![NONE; num_acceptors],
            msgs: BTreeSet::new(),
        }
    }

    /// The acceptors `1..=NumAcceptors`.
    pub fn acceptors(&self) -> impl Iterator<Item = Acceptor> {
        (1..=self.max_bal.len()).map(|a| a as Acceptor)
    }
}

/// Spec notation for a ballot: `-1` for [`NO_BALLOT`].
pub struct ShowBallot(pub Ballot);
/// Spec notation for a value: `v1`, `v2`, ... or `None`.
pub struct ShowValue(pub Value);

impl fmt::Display for ShowBallot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for ShowValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == NONE {
            write!(f, "None")
        } else {
            write!(f, "v{}", self.0)
        }
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Msg::M1a { bal } => write!(f, "1a(b={bal})"),
            Msg::M1b {
                acc,
                bal,
                mbal,
                mval,
            } => {
                if mbal == NO_BALLOT && mval == NONE {
                    write!(f, "1b(a{acc}, b={bal}, vote=none)")
                } else {
                    write!(f, "1b(a{acc}, b={bal}, vote=({mbal}, {}))", ShowValue(mval))
                }
            }
            Msg::M2a { bal, val } => write!(f, "2a(b={bal}, {})", ShowValue(val)),
            Msg::M2b { acc, bal, val } => write!(f, "2b(a{acc}, b={bal}, {})", ShowValue(val)),
        }
    }
}
