//! The spec's variables, one for one: `maxBal`, `maxVBal`, `maxVal` and `msgs`.
//!
//! The checker builds and hashes a state for every successor it generates, so the containers
//! allocate nothing: the acceptor functions are inline arrays and `msgs` is a [`MsgSet`].

pub use super::msg_set::{MsgSet, MsgType, Msgs};
use arrayvec::ArrayVec;
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

/// The most acceptors a state can hold (a cell has at most 7 nodes).
pub const MAX_ACCEPTORS: usize = 7;

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

/// A function from acceptors to `T`, the spec's `[Acceptor -> T]`: `T` of acceptor `a` at index
/// `a - 1`, stored in place so that cloning a state allocates nothing.
pub type PerAcceptor<T> = ArrayVec<T, MAX_ACCEPTORS>;

/// `[a \in 1..n |-> value]`.
fn filled<T: Copy>(n: usize, value: T) -> PerAcceptor<T> {
    assert!(n <= MAX_ACCEPTORS, "at most {MAX_ACCEPTORS} acceptors");
    (0..n).map(|_| value).collect()
}

/// One state of the spec: exactly its four variables, in canonical containers so that hashing
/// and ordering are deterministic.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PaxosState {
    /// `maxBal[a]` at index `a - 1`: the highest ballot acceptor `a` promised.
    pub max_bal: PerAcceptor<Ballot>,
    /// `maxVBal[a]` at index `a - 1`: the highest ballot acceptor `a` voted in.
    pub max_vbal: PerAcceptor<Ballot>,
    /// `maxVal[a]` at index `a - 1`: the value acceptor `a` voted for in `maxVBal[a]`.
    pub max_val: PerAcceptor<Value>,
    /// `msgs`: every message ever sent.
    pub msgs: MsgSet,
}

impl PaxosState {
    /// The spec's `Init`.
    pub fn init(num_acceptors: usize) -> PaxosState {
        PaxosState {
            max_bal: filled(num_acceptors, NO_BALLOT),
            max_vbal: filled(num_acceptors, NO_BALLOT),
            max_val: filled(num_acceptors, NONE),
            msgs: MsgSet::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_acceptor_values_compare_as_slices() {
        let mut left = filled(3, NO_BALLOT);
        let right = filled(3, NO_BALLOT);
        assert_eq!(left, right);
        left[2] = 1;
        assert!(left > right);
        assert_eq!(&*left, &[NO_BALLOT, NO_BALLOT, 1]);
        assert_eq!(format!("{left:?}"), "[-1, -1, 1]");
    }
}
