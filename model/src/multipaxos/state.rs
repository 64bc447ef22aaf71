//! The state of `MultiPaxos.tla`: exactly its six variables.

use super::msg_set::MsgSet;
use smallvec::{smallvec, SmallVec};
use std::fmt;
use std::hash::{Hash, Hasher};

/// A ballot; `-1` is the spec's `NoBallot`.
pub type Ballot = i8;
/// A value: `0` is `NoOp`, `1..NumCommands` the commands, `-1` the spec's `None`.
pub type Value = i8;
/// A slot, `1..NumSlots`.
pub type Slot = u8;
/// An acceptor, `1..NumAcceptors`.
pub type Acceptor = u8;
/// A replica, `1..NumReplicas`.
pub type Replica = u8;

/// `NoBallot`.
pub const NO_BALLOT: Ballot = -1;
/// `NoOp`.
pub const NO_OP: Value = 0;
/// `None`: no value.
pub const NONE: Value = -1;
/// The most slots a state holds.
pub const SLOTS_MAX: usize = 4;

/// An acceptor's latest vote in one slot: the spec's `Vote` record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Vote {
    /// `bal`.
    pub bal: Ballot,
    /// `val`.
    pub val: Value,
}

/// `NoVote`.
pub const NO_VOTE: Vote = Vote {
    bal: NO_BALLOT,
    val: NONE,
};

/// The most acceptors (and replicas) a state holds.
pub const ACCEPTORS_MAX: usize = 7;

/// One entry per acceptor or replica, in place. The checker clones a state for every successor
/// it generates, and a state of heap vectors spent a quarter of the search in `malloc` and
/// `free`.
pub type PerNode<T> = SmallVec<[T; ACCEPTORS_MAX]>;

/// A replica's applied log, in place (at most [`SLOTS_MAX`] slots).
pub type Log = SmallVec<[Value; SLOTS_MAX]>;

/// A vote per slot, slot `s` at index `s - 1`; slots past `NumSlots` hold [`NO_VOTE`].
pub type Votes = [Vote; SLOTS_MAX];

/// A message of the spec's `Message` set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Msg {
    /// `[type |-> "1a", bal]`.
    M1a {
        /// `bal`.
        bal: Ballot,
    },
    /// `[type |-> "1b", acc, bal, votes, compacted]`.
    M1b {
        /// `acc`.
        acc: Acceptor,
        /// `bal`.
        bal: Ballot,
        /// `votes`.
        votes: Votes,
        /// `compacted`: the acceptor forgot its votes in slots `1..compacted`.
        compacted: Slot,
    },
    /// `[type |-> "2a", bal, slot, val]`.
    M2a {
        /// `bal`.
        bal: Ballot,
        /// `slot`.
        slot: Slot,
        /// `val`.
        val: Value,
    },
    /// `[type |-> "2b", acc, bal, slot, val]`.
    M2b {
        /// `acc`.
        acc: Acceptor,
        /// `bal`.
        bal: Ballot,
        /// `slot`.
        slot: Slot,
        /// `val`.
        val: Value,
    },
}

/// One state of the spec.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MultiPaxosState {
    /// `maxBal[a]` at index `a - 1`.
    pub max_bal: PerNode<Ballot>,
    /// `votes[a]` at index `a - 1`.
    pub votes: PerNode<Votes>,
    /// `compacted[a]` at index `a - 1`: `a` forgot its votes in slots `1..compacted[a]`.
    pub compacted: PerNode<Slot>,
    /// `msgs`.
    pub msgs: MsgSet,
    /// `applied[r]` at index `r - 1`.
    pub applied: PerNode<Log>,
    /// `snapshot[r]` at index `r - 1`: `r`'s snapshot covers slots `1..snapshot[r]`.
    pub snapshot: PerNode<Slot>,
}

/// The most bytes [`MultiPaxosState`]'s fields other than `msgs` take when hashed: each
/// acceptor's ballot, votes and compaction point, each replica's log and snapshot, and their
/// counts.
const HASHED_BYTES_MAX: usize =
    3 + ACCEPTORS_MAX * (2 + 2 * SLOTS_MAX) + ACCEPTORS_MAX * (2 + SLOTS_MAX);

/// The checker hashes every successor it generates. A derived hash made a hasher call per
/// byte-sized field (two per vote); this makes one of every field but the messages, and one of
/// the messages ([`MsgSet`] hashes its packed keys as one slice). Equal states write equal
/// bytes, so the hash agrees with `Eq`.
impl Hash for MultiPaxosState {
    fn hash<H: Hasher>(&self, hasher: &mut H) {
        let mut bytes = [0u8; HASHED_BYTES_MAX];
        let mut n = 0;
        let mut push = |byte: u8| {
            bytes[n] = byte;
            n += 1;
        };
        push(self.max_bal.len() as u8);
        for a in 0..self.max_bal.len() {
            push(self.max_bal[a] as u8);
            push(self.compacted[a]);
            for vote in &self.votes[a] {
                push(vote.bal as u8);
                push(vote.val as u8);
            }
        }
        push(self.applied.len() as u8);
        for (log, snapshot) in self.applied.iter().zip(&self.snapshot) {
            push(log.len() as u8);
            push(*snapshot);
            for value in log {
                push(*value as u8);
            }
        }
        hasher.write(&bytes[..n]);
        self.msgs.hash(hasher);
    }
}

impl MultiPaxosState {
    /// The spec's `Init`.
    pub fn init(num_acceptors: u8, num_replicas: u8) -> MultiPaxosState {
        MultiPaxosState {
            max_bal: smallvec![NO_BALLOT; usize::from(num_acceptors)],
            votes: smallvec![[NO_VOTE; SLOTS_MAX]; usize::from(num_acceptors)],
            compacted: smallvec![0; usize::from(num_acceptors)],
            msgs: MsgSet::new(),
            applied: smallvec![Log::new(); usize::from(num_replicas)],
            snapshot: smallvec![0; usize::from(num_replicas)],
        }
    }
}

/// A value as the spec prints it.
pub struct ShowValue(pub Value);

impl fmt::Display for ShowValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            NONE => write!(f, "None"),
            NO_OP => write!(f, "NoOp"),
            v => write!(f, "c{v}"),
        }
    }
}

/// A vote as traces show it: `(bal, val)`, or `none` for [`NO_VOTE`].
impl fmt::Display for Vote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == NO_VOTE {
            write!(f, "none")
        } else {
            write!(f, "({}, {})", self.bal, ShowValue(self.val))
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
                votes,
                compacted,
            } => {
                let shown: Vec<String> = (1..)
                    .zip(votes)
                    .filter(|(_, v)| *v != NO_VOTE)
                    .map(|(s, v)| format!("s{s}={v}"))
                    .collect();
                write!(f, "1b(a{acc}, b={bal}, votes=[{}]", shown.join(", "))?;
                // An acceptor that never compacted says nothing of it, so that the traces of
                // configurations without compaction read as they did before it existed.
                if compacted > 0 {
                    write!(f, ", compacted={compacted}")?;
                }
                write!(f, ")")
            }
            Msg::M2a { bal, slot, val } => write!(f, "2a(b={bal}, s={slot}, {})", ShowValue(val)),
            Msg::M2b {
                acc,
                bal,
                slot,
                val,
            } => write!(f, "2b(a{acc}, b={bal}, s={slot}, {})", ShowValue(val)),
        }
    }
}
