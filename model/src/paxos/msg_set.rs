//! The spec's `msgs`, stored for speed: the checker builds and hashes a state for every
//! successor it generates, so the set of messages is a sorted array of messages packed into
//! integers, in place up to [`INLINE_KEYS`] messages. Building a state then allocates nothing
//! and hashing it reads a few contiguous bytes. The set is canonical: equal spec values are equal
//! Rust values with equal hashes, ordered exactly as a `BTreeSet<Msg>` would be (so symmetry
//! reduction picks the same representatives).

use super::state::{Ballot, Msg};
use smallvec::SmallVec;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

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
                let mut next = self.clone();
                next.keys.insert(at, key);
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
        &self.keys
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

/// The sorted keys, in place while there are few.
type Keys = SmallVec<[Key; INLINE_KEYS]>;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::paxos::state::NO_BALLOT;
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
}
