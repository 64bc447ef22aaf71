//! The spec's `msgs`, stored for speed: a sorted vector of messages packed into integers,
//! without repeats. The checker clones, hashes and drops a state for every successor it
//! generates; a `BTreeSet<Msg>` made each of those a walk over heap nodes and a hash of every
//! field of every message (a profile of `MultiPaxos_a3_r1_c1_b1_s2.cfg` put half the time in the
//! set's hashing, searching, allocation and freeing), where this is one allocation, one
//! contiguous hash and integer comparisons. The set is canonical: equal sets are equal vectors,
//! and iteration and comparison follow `Msg`'s derived order, as a `BTreeSet<Msg>`'s do.

use super::state::{Msg, Vote, SLOTS_MAX};
use std::fmt;

/// A message packed into an integer, most significant byte first: the variant, then the fields
/// in declaration order, one byte each (a 1b's votes slot by slot, ballot then value). Signed
/// fields have their sign bit flipped, so that comparing keys compares messages exactly as the
/// derived `Ord` of [`Msg`] does; packing is lossless, so keys are equal exactly when messages
/// are.
type Key = u128;

/// The most bytes a message packs into: a 1b's variant, acceptor, ballot, votes and compaction.
const KEY_BYTES: usize = 4 + 2 * SLOTS_MAX;
const _: () = assert!(KEY_BYTES <= std::mem::size_of::<Key>());

fn signed(byte: i8) -> u8 {
    (byte as u8) ^ 0x80
}

fn unsigned(byte: u8) -> i8 {
    (byte ^ 0x80) as i8
}

fn key(msg: Msg) -> Key {
    let mut bytes = [0u8; 16];
    match msg {
        Msg::M1a { bal } => bytes[..2].copy_from_slice(&[0, signed(bal)]),
        Msg::M1b {
            acc,
            bal,
            votes,
            compacted,
        } => {
            bytes[..3].copy_from_slice(&[1, acc, signed(bal)]);
            for (i, vote) in votes.iter().enumerate() {
                bytes[3 + 2 * i] = signed(vote.bal);
                bytes[4 + 2 * i] = signed(vote.val);
            }
            bytes[3 + 2 * SLOTS_MAX] = compacted;
        }
        Msg::M2a { bal, slot, val } => {
            bytes[..4].copy_from_slice(&[2, signed(bal), slot, signed(val)]);
        }
        Msg::M2b {
            acc,
            bal,
            slot,
            val,
        } => bytes[..5].copy_from_slice(&[3, acc, signed(bal), slot, signed(val)]),
    }
    Key::from_be_bytes(bytes)
}

fn msg(key: &Key) -> Msg {
    let b = key.to_be_bytes();
    match b[0] {
        0 => Msg::M1a {
            bal: unsigned(b[1]),
        },
        1 => Msg::M1b {
            acc: b[1],
            bal: unsigned(b[2]),
            votes: std::array::from_fn(|i| Vote {
                bal: unsigned(b[3 + 2 * i]),
                val: unsigned(b[4 + 2 * i]),
            }),
            compacted: b[3 + 2 * SLOTS_MAX],
        },
        2 => Msg::M2a {
            bal: unsigned(b[1]),
            slot: b[2],
            val: unsigned(b[3]),
        },
        _ => Msg::M2b {
            acc: b[1],
            bal: unsigned(b[2]),
            slot: b[3],
            val: unsigned(b[4]),
        },
    }
}

/// A set of messages, in `Msg`'s order.
#[derive(Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MsgSet(Vec<Key>);

/// A copy with room for one more message: the checker clones a state for each successor, and
/// most actions then send one message, which would otherwise reallocate the exact-sized copy.
/// (Holding the messages in place instead, 24 of them, made the two-replica configuration 15%
/// faster and the one-replica one 8% slower, for states three times the size.)
impl Clone for MsgSet {
    fn clone(&self) -> MsgSet {
        let mut keys = Vec::with_capacity(self.0.len() + 1);
        keys.extend_from_slice(&self.0);
        MsgSet(keys)
    }
}

/// The messages of a set, in order.
pub type Iter<'a> = std::iter::Map<std::slice::Iter<'a, Key>, fn(&Key) -> Msg>;

impl MsgSet {
    /// The empty set.
    pub fn new() -> MsgSet {
        MsgSet(Vec::new())
    }

    /// Adds `msg`; returns whether it was new.
    pub fn insert(&mut self, msg: Msg) -> bool {
        let key = key(msg);
        match self.0.binary_search(&key) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, key);
                true
            }
        }
    }

    /// Whether `msg` is in the set.
    pub fn contains(&self, msg: &Msg) -> bool {
        self.0.binary_search(&key(*msg)).is_ok()
    }

    /// The messages, in order.
    pub fn iter(&self) -> Iter<'_> {
        self.0.iter().map(msg as fn(&Key) -> Msg)
    }

    /// How many messages.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The messages of `self` that `other` lacks, in order.
    pub fn difference<'a>(&'a self, other: &'a MsgSet) -> impl Iterator<Item = Msg> + 'a {
        self.0
            .iter()
            .filter(move |k| other.0.binary_search(k).is_err())
            .map(msg)
    }

    /// Whether every message of `self` is in `other`.
    pub fn is_subset(&self, other: &MsgSet) -> bool {
        self.0.iter().all(|k| other.0.binary_search(k).is_ok())
    }

    /// Keeps the messages `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&Msg) -> bool) {
        self.0.retain(|k| keep(&msg(k)));
    }
}

impl fmt::Debug for MsgSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Msg> for MsgSet {
    fn from_iter<I: IntoIterator<Item = Msg>>(iter: I) -> MsgSet {
        let mut keys: Vec<Key> = iter.into_iter().map(key).collect();
        keys.sort_unstable();
        keys.dedup();
        MsgSet(keys)
    }
}

impl Extend<Msg> for MsgSet {
    fn extend<I: IntoIterator<Item = Msg>>(&mut self, iter: I) {
        for msg in iter {
            self.insert(msg);
        }
    }
}

impl<'a> IntoIterator for &'a MsgSet {
    type Item = Msg;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use std::hash::{DefaultHasher, Hash, Hasher};

    fn hash(value: &impl Hash) -> u64 {
        let mut hasher = DefaultHasher::new();
        value.hash(&mut hasher);
        hasher.finish()
    }

    #[test]
    fn the_set_is_a_btree_set_in_order_and_comparison() {
        let msgs = [
            Msg::M2a {
                bal: 1,
                slot: 1,
                val: 2,
            },
            Msg::M1a { bal: 0 },
            Msg::M1a { bal: -1 },
            Msg::M2b {
                acc: 2,
                bal: 0,
                slot: 2,
                val: 0,
            },
            Msg::M1a { bal: 0 },
        ];
        let mut ours = MsgSet::new();
        let mut theirs = BTreeSet::new();
        for (i, msg) in msgs.into_iter().enumerate() {
            assert_eq!(ours.insert(msg), theirs.insert(msg), "insert {i}");
            assert_eq!(
                ours.iter().collect::<Vec<_>>(),
                theirs.iter().copied().collect::<Vec<_>>()
            );
        }
        assert!(ours.contains(&Msg::M1a { bal: -1 }));
        assert!(!ours.contains(&Msg::M1a { bal: 1 }));
        assert_eq!(ours.len(), 4);
        let fewer: MsgSet = msgs[..2].iter().copied().collect();
        let fewer_theirs: BTreeSet<Msg> = msgs[..2].iter().copied().collect();
        assert_eq!(
            fewer.cmp(&ours),
            fewer_theirs.cmp(&theirs),
            "ordered as BTreeSets are"
        );
        assert_eq!(
            ours.difference(&fewer).collect::<Vec<_>>(),
            theirs
                .difference(&fewer_theirs)
                .copied()
                .collect::<Vec<_>>()
        );
        assert_eq!(hash(&ours), hash(&ours.clone()), "equal sets hash equal");
    }
}
