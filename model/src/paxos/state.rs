//! The spec's variables, one for one: `maxBal`, `maxVBal`, `maxVal` and `msgs`.
//!
//! The checker builds a state for every successor it generates and hashes every one, so the
//! containers are built for that: the acceptor functions are inline arrays, and `msgs` is a
//! sorted array of messages packed into integers, inline up to `INLINE_KEYS` messages. Building
//! a state then allocates nothing, and hashing it reads a few contiguous bytes. Both containers
//! are canonical: equal spec values are equal Rust values, with equal hashes, ordered exactly as
//! the `Vec`s and `BTreeSet` they replace (so symmetry reduction picks the same representatives).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, DerefMut};

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

/// A message's `type` field: which variant of [`Msg`] it is. Declared in the order of the
/// variants, so that its discriminant orders messages as [`Msg`]'s `Ord` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgType {
    /// `"1a"`.
    M1a,
    /// `"1b"`.
    M1b,
    /// `"2a"`.
    M2a,
    /// `"2b"`.
    M2b,
}

/// A message packed into an integer: the type in bits 32..34, then the fields in declaration
/// order, one byte each, from bit 24 down. Ballots are stored with their sign bit flipped, so
/// comparing keys compares the type first and then the fields in order, exactly as the derived
/// `Ord` of [`Msg`] does; and packing is lossless, so keys are equal exactly when messages are.
type Key = u64;

/// A ballot as a byte that orders like the ballot.
fn ballot_byte(b: Ballot) -> u8 {
    (b as u8) ^ 0x80
}

fn byte_ballot(byte: u8) -> Ballot {
    (byte ^ 0x80) as Ballot
}

fn pack(t: MsgType, fields: [u8; 4]) -> Key {
    (t as Key) << 32 | Key::from(u32::from_be_bytes(fields))
}

impl Msg {
    /// The message's `type`.
    pub fn msg_type(self) -> MsgType {
        match self {
            Msg::M1a { .. } => MsgType::M1a,
            Msg::M1b { .. } => MsgType::M1b,
            Msg::M2a { .. } => MsgType::M2a,
            Msg::M2b { .. } => MsgType::M2b,
        }
    }

    fn key(self) -> Key {
        let t = self.msg_type();
        match self {
            Msg::M1a { bal } => pack(t, [ballot_byte(bal), 0, 0, 0]),
            Msg::M1b {
                acc,
                bal,
                mbal,
                mval,
            } => pack(t, [acc, ballot_byte(bal), ballot_byte(mbal), mval]),
            Msg::M2a { bal, val } => pack(t, [ballot_byte(bal), val, 0, 0]),
            Msg::M2b { acc, bal, val } => pack(t, [acc, ballot_byte(bal), val, 0]),
        }
    }

    fn from_key(key: Key) -> Msg {
        let [f0, f1, f2, f3] = (key as u32).to_be_bytes();
        match key >> 32 {
            0 => Msg::M1a {
                bal: byte_ballot(f0),
            },
            1 => Msg::M1b {
                acc: f0,
                bal: byte_ballot(f1),
                mbal: byte_ballot(f2),
                mval: f3,
            },
            2 => Msg::M2a {
                bal: byte_ballot(f0),
                val: f1,
            },
            _ => Msg::M2b {
                acc: f0,
                bal: byte_ballot(f1),
                val: f2,
            },
        }
    }
}

/// The spec's `msgs`: a set of messages, iterated in the order of [`Msg`]'s `Ord`. The messages
/// of one type are adjacent, so each action and invariant reads only the type it quantifies over.
#[derive(Clone, Default)]
pub struct MsgSet {
    /// Sorted and free of duplicates: the canonical form of the set.
    keys: Keys,
    /// `type_ends[t]`: how many messages have type `t` or a lower one. Derived from `keys` (so
    /// it takes no part in comparing or hashing), it makes finding one type's messages free.
    type_ends: [u32; 4],
}

impl MsgSet {
    /// The empty set.
    pub fn new() -> MsgSet {
        MsgSet::default()
    }

    /// How many messages the set holds.
    pub fn len(&self) -> usize {
        self.keys().len()
    }

    /// True when no message has been sent.
    pub fn is_empty(&self) -> bool {
        self.keys().is_empty()
    }

    /// `m \in msgs`.
    pub fn contains(&self, m: &Msg) -> bool {
        self.keys().binary_search(&m.key()).is_ok()
    }

    /// `msgs \cup {m}`, in place; false when `m` was already sent.
    pub fn insert(&mut self, m: Msg) -> bool {
        let key = m.key();
        match self.keys().binary_search(&key) {
            Ok(_) => false,
            Err(at) => {
                self.keys.insert(at, key);
                self.count(m.msg_type());
                true
            }
        }
    }

    /// `msgs \cup {m}`, as a new set.
    pub fn with(&self, m: Msg) -> MsgSet {
        let key = m.key();
        match self.keys().binary_search(&key) {
            Ok(_) => self.clone(),
            Err(at) => {
                let mut next = MsgSet {
                    keys: self.keys.with(at, key),
                    type_ends: self.type_ends,
                };
                next.count(m.msg_type());
                next
            }
        }
    }

    /// Every message, in order.
    pub fn iter(&self) -> Msgs<'_> {
        Msgs(self.keys().iter())
    }

    /// The messages of type `t`, in order.
    pub fn of_type(&self, t: MsgType) -> Msgs<'_> {
        let t = t as usize;
        let start = if t == 0 { 0 } else { self.type_ends[t - 1] };
        Msgs(self.keys()[start as usize..self.type_ends[t] as usize].iter())
    }

    /// The messages of `self` not in `other`, in order.
    pub fn difference<'s>(&'s self, other: &'s MsgSet) -> impl Iterator<Item = Msg> + 's {
        self.iter().filter(move |m| !other.contains(m))
    }

    fn keys(&self) -> &[Key] {
        self.keys.as_slice()
    }

    /// Accounts for a new message of type `t`.
    fn count(&mut self, t: MsgType) {
        for end in &mut self.type_ends[t as usize..] {
            *end += 1;
        }
    }
}

// The set's value is its sorted keys, however they are stored.
impl PartialEq for MsgSet {
    fn eq(&self, other: &Self) -> bool {
        self.keys() == other.keys()
    }
}

impl Eq for MsgSet {}

impl Hash for MsgSet {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.keys().hash(state);
    }
}

impl PartialOrd for MsgSet {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MsgSet {
    fn cmp(&self, other: &Self) -> Ordering {
        self.keys().cmp(other.keys())
    }
}

/// How many messages a [`MsgSet`] holds in place: all that three ballots of three acceptors can
/// send (3 1a, 3 2a, and 9 each of 1b and 2b). Larger sets move to the heap.
const INLINE_KEYS: usize = 24;

/// A vector of keys, in place while it is short.
#[derive(Clone)]
enum Keys {
    /// Up to [`INLINE_KEYS`] keys: the first `len` entries of `keys`.
    Inline { len: u8, keys: [Key; INLINE_KEYS] },
    /// More keys than fit in place.
    Spilled(Vec<Key>),
}

impl Default for Keys {
    fn default() -> Keys {
        Keys::Inline {
            len: 0,
            keys: [0; INLINE_KEYS],
        }
    }
}

impl Keys {
    fn as_slice(&self) -> &[Key] {
        match self {
            Keys::Inline { len, keys } => &keys[..usize::from(*len)],
            Keys::Spilled(keys) => keys,
        }
    }

    /// Inserts `key` at index `at`.
    fn insert(&mut self, at: usize, key: Key) {
        match self {
            Keys::Inline { len, keys } if usize::from(*len) < INLINE_KEYS => {
                let n = usize::from(*len);
                keys.copy_within(at..n, at + 1);
                keys[at] = key;
                *len += 1;
            }
            Keys::Inline { .. } => *self = self.with(at, key),
            Keys::Spilled(keys) => keys.insert(at, key),
        }
    }

    /// A copy with `key` inserted at index `at`, allocated at its final size if it must spill.
    fn with(&self, at: usize, key: Key) -> Keys {
        let old = self.as_slice();
        if old.len() < INLINE_KEYS {
            let mut next = self.clone();
            next.insert(at, key);
            return next;
        }
        let mut keys = Vec::with_capacity(old.len() + 1);
        keys.extend_from_slice(&old[..at]);
        keys.push(key);
        keys.extend_from_slice(&old[at..]);
        Keys::Spilled(keys)
    }
}

/// An iterator over messages of a [`MsgSet`], in order.
#[derive(Clone, Debug)]
pub struct Msgs<'s>(std::slice::Iter<'s, Key>);

impl Iterator for Msgs<'_> {
    type Item = Msg;

    fn next(&mut self) -> Option<Msg> {
        self.0.next().map(|&k| Msg::from_key(k))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl DoubleEndedIterator for Msgs<'_> {
    fn next_back(&mut self) -> Option<Msg> {
        self.0.next_back().map(|&k| Msg::from_key(k))
    }
}

impl ExactSizeIterator for Msgs<'_> {}

impl<'s> IntoIterator for &'s MsgSet {
    type Item = Msg;
    type IntoIter = Msgs<'s>;

    fn into_iter(self) -> Msgs<'s> {
        self.iter()
    }
}

impl FromIterator<Msg> for MsgSet {
    fn from_iter<I: IntoIterator<Item = Msg>>(messages: I) -> MsgSet {
        let mut set = MsgSet::new();
        for m in messages {
            set.insert(m);
        }
        set
    }
}

impl fmt::Debug for MsgSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// A function from acceptors to `T`, the spec's `[Acceptor -> T]`: `T` of acceptor `a` at index
/// `a - 1`. It is a slice to read and write, stored inline so that cloning a state allocates
/// nothing; only the first `len` entries are part of its value.
#[derive(Clone, Copy)]
pub struct PerAcceptor<T> {
    len: u8,
    entries: [T; MAX_ACCEPTORS],
}

impl<T: Copy> PerAcceptor<T> {
    /// `[a \in 1..n |-> value]`.
    pub fn filled(n: usize, value: T) -> PerAcceptor<T> {
        assert!(n <= MAX_ACCEPTORS, "at most {MAX_ACCEPTORS} acceptors");
        PerAcceptor {
            len: n as u8,
            entries: [value; MAX_ACCEPTORS],
        }
    }
}

impl<T> Deref for PerAcceptor<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.entries[..usize::from(self.len)]
    }
}

impl<T> DerefMut for PerAcceptor<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.entries[..usize::from(self.len)]
    }
}

impl<'s, T> IntoIterator for &'s PerAcceptor<T> {
    type Item = &'s T;
    type IntoIter = std::slice::Iter<'s, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: PartialEq> PartialEq for PerAcceptor<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for PerAcceptor<T> {}

impl<T: Hash> Hash for PerAcceptor<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state);
    }
}

impl<T: PartialOrd> PartialOrd for PerAcceptor<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        (**self).partial_cmp(&**other)
    }
}

impl<T: Ord> Ord for PerAcceptor<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl<T: fmt::Debug> fmt::Debug for PerAcceptor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
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
            max_bal: PerAcceptor::filled(num_acceptors, NO_BALLOT),
            max_vbal: PerAcceptor::filled(num_acceptors, NO_BALLOT),
            max_val: PerAcceptor::filled(num_acceptors, NONE),
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
    use std::collections::BTreeSet;

    /// Every message with fields drawn from a range wide enough to cross every byte boundary
    /// that matters (negative ballots, `None`, values and acceptors above 1).
    fn sample() -> Vec<Msg> {
        let ballots = [i8::MIN, -2, NO_BALLOT, 0, 1, 2, 100, i8::MAX];
        let small = [0u8, 1, 2, 7, 255];
        let mut all = Vec::new();
        for &bal in &ballots {
            all.push(Msg::M1a { bal });
            for &x in &small {
                all.push(Msg::M2a { bal, val: x });
                for &y in &small {
                    all.push(Msg::M2b {
                        acc: x,
                        bal,
                        val: y,
                    });
                    for &mbal in &ballots {
                        all.push(Msg::M1b {
                            acc: x,
                            bal,
                            mbal,
                            mval: y,
                        });
                    }
                }
            }
        }
        all
    }

    #[test]
    fn keys_order_messages_as_msg_does() {
        let mut by_msg = sample();
        by_msg.sort();
        let mut by_key = sample();
        by_key.sort_by_key(|m| m.key());
        assert_eq!(by_msg, by_key);
        assert!(sample().iter().all(|&m| Msg::from_key(m.key()) == m));
    }

    #[test]
    fn msg_set_is_a_set_in_msg_order() {
        let sample = sample();
        let expected: BTreeSet<Msg> = sample.iter().copied().collect();
        let mut inserted = MsgSet::new();
        let mut built = MsgSet::new();
        for &m in sample.iter().rev() {
            let fresh = !inserted.contains(&m);
            assert_eq!(inserted.insert(m), fresh);
            built = built.with(m);
        }
        assert_eq!(inserted.len(), expected.len());
        let collected: MsgSet = sample.iter().copied().chain(sample.clone()).collect();
        for set in [&inserted, &built, &collected] {
            assert!(set.iter().eq(expected.iter().copied()));
        }
        assert_eq!(inserted, collected);
        assert_eq!(built, collected);
        let small = MsgSet::new()
            .with(Msg::M2b {
                acc: 1,
                bal: 0,
                val: 1,
            })
            .with(Msg::M1a { bal: 0 });
        let types = [MsgType::M1a, MsgType::M1b, MsgType::M2a, MsgType::M2b];
        for set in [&inserted, &built, &collected, &small] {
            for t in types {
                let of_type = set.iter().filter(|m| m.msg_type() == t);
                assert!(set.of_type(t).eq(of_type), "{t:?}");
            }
        }
    }

    #[test]
    fn per_acceptor_values_compare_as_slices() {
        let mut left = PerAcceptor::filled(3, NO_BALLOT);
        let right = PerAcceptor::filled(3, NO_BALLOT);
        assert_eq!(left, right);
        left[2] = 1;
        assert!(left > right);
        assert_eq!(&*left, &[NO_BALLOT, NO_BALLOT, 1]);
        assert_eq!(format!("{left:?}"), "[-1, -1, 1]");
    }
}
