//! What the log holds: slots, the client commands batched into entries, and votes.

use crate::group::Ballot;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A position in the log. Slots start at [`Slot::FIRST`], as the spec's `1..NumSlots`;
/// `Slot(0)`, the default, is the position before the first, which bounds what covers nothing
/// (nothing decided, no snapshot, no vote compacted).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Slot(pub u64);

impl Slot {
    /// The first slot of every log.
    pub const FIRST: Slot = Slot(1);

    /// The slot after this one.
    pub fn next(self) -> Slot {
        Slot(self.0.checked_add(1).expect("a log of 2^64 slots"))
    }
}

/// One client command: opaque bytes to the protocol (in a cell, an encoded transaction), at most
/// [`super::COMMAND_BYTES_MAX`] of them.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Command(#[serde(with = "serde_bytes")] pub Vec<u8>);

/// The value decided in one slot: the spec's `Value`, which is `NoOp` or a command. Here a
/// command is a batch: the leader packs the client commands waiting for a slot into one entry,
/// so that one round of phase 2 decides all of them.
///
/// A batch is shared, not copied: the same entry goes in a proposal to every member, in every
/// vote, in the learner's log and in a heartbeat's resends, and cloning an `Entry` copies a
/// pointer, so that a `Ready` broadcasting a 1 MiB entry to 7 members holds it once.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Entry {
    /// Spec: `NoOp`, which a new leader proposes in a hole of the log.
    NoOp,
    /// Spec: a `Command`. One or more client commands, applied in this order.
    Batch(Arc<[Command]>),
}

impl Entry {
    /// The commands of the entry, in the order they apply (none for a `NoOp`).
    pub fn commands(&self) -> &[Command] {
        match self {
            Entry::NoOp => &[],
            Entry::Batch(commands) => commands,
        }
    }

    /// A batch of `commands`, in this order.
    pub fn batch(commands: Vec<Command>) -> Entry {
        Entry::Batch(commands.into())
    }

    /// The command bytes of the entry: what the byte bounds of messages and pipelines count.
    pub fn bytes(&self) -> usize {
        self.commands().iter().map(|command| command.0.len()).sum()
    }
}

/// An acceptor's latest vote in one slot: the spec's `votes[a][s]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Vote {
    /// The ballot voted in.
    pub ballot: Ballot,
    /// The entry voted for.
    pub entry: Entry,
}

impl fmt::Display for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({self})")
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(text) if text.chars().all(|c| c.is_ascii_graphic()) => write!(f, "{text:?}"),
            _ => {
                write!(f, "0x")?;
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::NoOp => write!(f, "NoOp"),
            Entry::Batch(commands) => {
                write!(f, "[")?;
                for (i, command) in commands.iter().enumerate() {
                    let separator = if i == 0 { "" } else { ", " };
                    write!(f, "{separator}{command}")?;
                }
                write!(f, "]")
            }
        }
    }
}

impl fmt::Display for Vote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.ballot, self.entry)
    }
}
