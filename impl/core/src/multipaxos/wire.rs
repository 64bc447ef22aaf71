//! The binary encoding of what a replica sends ([`Message`]) and keeps: its [`HardState`], each
//! vote it casts (a slot and a [`Vote`], as [`super::Ready::votes`] lists them) and the
//! [`SnapshotHeader`] of a snapshot of its state machine.
//!
//! An encoding is one byte of [`FORMAT_VERSION`] followed by the item in postcard's format
//! (<https://postcard.jamesmunns.com/wire-format>): integers (a ballot's round, a slot) as
//! little-endian base-128 varints, a [`NodeId`](crate::group::NodeId) as one raw byte, an
//! `Option` as a 0/1 tag, an enum as its variant's index, a list or a map as its length and then
//! its items (a map's in increasing key order), and a [`Command`] as its length and then its
//! bytes.
//!
//! Decoding is Colony's strict decoding ([`crate::codec`]): an unknown version, a truncated or
//! malformed body, trailing bytes and a non-canonical encoding (a padded varint, a map whose keys
//! are repeated or out of order) are refused, and so is every item the core would refuse or
//! never sends, with the error naming the bound:
//!
//! - a command longer than [`COMMAND_BYTES_MAX`], an entry of more than [`ENTRY_COMMANDS_MAX`]
//!   commands or [`ENTRY_BYTES_MAX`] command bytes, and a batch of no commands (a leader packs at
//!   least one; a slot with nothing to decide holds `NoOp`);
//! - a catch-up reply of more than [`CATCH_UP_ENTRIES_MAX`] entries, and a catch-up reply or a
//!   promise of more than [`MESSAGE_BYTES_MAX`] command bytes;
//! - a promise of more than [`LOG_SLOTS_MAX`] votes (what an acceptor holds at most), or one
//!   reporting a vote in a slot it says it compacted;
//! - a slot 0 where a slot is meant (slots start at [`Slot::FIRST`]; only a heartbeat's
//!   `decided_through` may be 0, an empty decided prefix), and a slot whose next slot does not
//!   exist (above [`SLOT_LAST`]), so that no decoded message can make the core count past the
//!   end of the log;
//! - a promise reporting a vote of a ballot not below the one it promises (an acceptor votes only
//!   in ballots it promised, and promises only ballots above its votes);
//! - a snapshot whose state is longer than [`SNAPSHOT_BYTES_MAX`].
//!
//! Encoding checks the same, so that nothing is written that decoding would refuse. Decoding never
//! panics, whatever the input. The caller frames the bytes itself: postcard's encoding does not
//! carry its own length.

#[cfg(doc)]
use super::log::Command;
use super::log::{Entry, Slot, Vote};
use super::message::Message;
use super::ready::HardState;
use super::snapshot::SnapshotHeader;
use super::{
    CATCH_UP_ENTRIES_MAX, COMMAND_BYTES_MAX, ENTRY_BYTES_MAX, ENTRY_COMMANDS_MAX, LOG_SLOTS_MAX,
    MESSAGE_BYTES_MAX, SNAPSHOT_BYTES_MAX,
};
use crate::codec::{self, CodecError};

/// The version byte that starts every encoding of this module. Any change to the encoding of
/// [`Message`], [`HardState`], a vote or [`SnapshotHeader`] (a field, a variant, their order)
/// must increase it, so that a replica reading bytes written by another version of Colony
/// refuses them instead of misreading them.
pub const FORMAT_VERSION: u8 = 2;

/// The highest slot an encoding may hold: the last whose next slot exists, since the core steps
/// from a slot to the next one ([`Slot::next`]) and a log never gets near 2^64 slots.
pub const SLOT_LAST: Slot = Slot(u64::MAX - 1);

/// Why a message, a hard state, a vote or a snapshot header could not be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The bytes are not an encoding (see [`CodecError`]).
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A command is longer than [`COMMAND_BYTES_MAX`].
    #[error(
        "a command of {bytes} bytes is longer than the bound of {max} bytes (COMMAND_BYTES_MAX)"
    )]
    CommandTooLong {
        /// The command's length.
        bytes: usize,
        /// The bound, [`COMMAND_BYTES_MAX`].
        max: usize,
    },
    /// An entry has more than [`ENTRY_COMMANDS_MAX`] commands.
    #[error("an entry of {count} commands is past the bound of {max} (ENTRY_COMMANDS_MAX)")]
    TooManyCommands {
        /// The entry's commands.
        count: usize,
        /// The bound, [`ENTRY_COMMANDS_MAX`].
        max: usize,
    },
    /// An entry's commands are longer together than [`ENTRY_BYTES_MAX`].
    #[error(
        "an entry of {bytes} command bytes is longer than the bound of {max} bytes (ENTRY_BYTES_MAX)"
    )]
    EntryTooLong {
        /// The entry's command bytes.
        bytes: usize,
        /// The bound, [`ENTRY_BYTES_MAX`].
        max: usize,
    },
    /// A batch has no commands.
    #[error("a batch of no commands: a batch has at least one, and an empty slot holds NoOp")]
    EmptyBatch,
    /// A catch-up reply has more than [`CATCH_UP_ENTRIES_MAX`] entries.
    #[error(
        "a catch-up reply of {count} entries is past the bound of {max} (CATCH_UP_ENTRIES_MAX)"
    )]
    TooManyCatchUpEntries {
        /// The reply's entries.
        count: usize,
        /// The bound, [`CATCH_UP_ENTRIES_MAX`].
        max: usize,
    },
    /// A slot is 0 where a slot is meant, or above [`SLOT_LAST`].
    #[error("{field} is slot {slot}, outside slots 1 to {} (Slot::FIRST to SLOT_LAST)", SLOT_LAST.0)]
    SlotOutOfRange {
        /// Where the slot is.
        field: &'static str,
        /// The slot.
        slot: u64,
    },
    /// A message carries more command bytes than [`MESSAGE_BYTES_MAX`].
    #[error("a message of {bytes} command bytes is longer than the bound of {max} bytes (MESSAGE_BYTES_MAX)")]
    MessageTooLong {
        /// The message's command bytes.
        bytes: usize,
        /// The bound, [`MESSAGE_BYTES_MAX`].
        max: usize,
    },
    /// A promise reports more votes than an acceptor holds.
    #[error(
        "a promise of {count} votes reports more than the {max} an acceptor holds (LOG_SLOTS_MAX)"
    )]
    TooManyVotes {
        /// The votes reported.
        count: usize,
        /// The bound, [`LOG_SLOTS_MAX`].
        max: u64,
    },
    /// A promise reports a vote in a slot its acceptor says it compacted.
    #[error("a promise compacted through {compacted} reports a vote in {slot}")]
    VoteCompacted {
        /// The last slot the acceptor compacted.
        compacted: Slot,
        /// The slot of the vote.
        slot: Slot,
    },
    /// A promise reports a vote of a ballot at or above the ballot promised.
    #[error("a promise of ballot {ballot} reports a vote of ballot {vote_ballot} in {slot}, not below it")]
    VoteNotBelowPromise {
        /// The ballot promised.
        ballot: crate::group::Ballot,
        /// The slot of the vote.
        slot: Slot,
        /// The ballot of the vote.
        vote_ballot: crate::group::Ballot,
    },
    /// A snapshot's state is longer than [`SNAPSHOT_BYTES_MAX`].
    #[error(
        "a snapshot of {bytes} bytes is longer than the bound of {max} bytes (SNAPSHOT_BYTES_MAX)"
    )]
    SnapshotTooLong {
        /// The state's length in the header.
        bytes: u64,
        /// The bound, [`SNAPSHOT_BYTES_MAX`].
        max: u64,
    },
}

/// Encodes a message for the network, after checking it against the bounds of the module doc.
pub fn encode_message(message: &Message) -> Result<Vec<u8>, WireError> {
    codec::encode(FORMAT_VERSION, message, check_message)
}

/// Decodes a message encoded by [`encode_message`]; see the module doc for what is refused.
pub fn decode_message(bytes: &[u8]) -> Result<Message, WireError> {
    codec::decode(FORMAT_VERSION, bytes, check_message)
}

/// Encodes a replica's hard state for disk. It has no bound to check: any promise and any round
/// are a replica's to keep.
pub fn encode_hard_state(hard_state: &HardState) -> Result<Vec<u8>, WireError> {
    codec::encode(FORMAT_VERSION, hard_state, |_| Ok(()))
}

/// Decodes a hard state encoded by [`encode_hard_state`]; see the module doc for what is refused.
pub fn decode_hard_state(bytes: &[u8]) -> Result<HardState, WireError> {
    codec::decode(FORMAT_VERSION, bytes, |_| Ok(()))
}

/// Encodes a vote cast in `slot` for disk, after checking the slot and the entry.
pub fn encode_vote(slot: Slot, vote: &Vote) -> Result<Vec<u8>, WireError> {
    codec::encode(FORMAT_VERSION, &(slot, vote), |(slot, vote)| {
        check_vote(slot, vote)
    })
}

/// Decodes a vote encoded by [`encode_vote`], with its slot; see the module doc for what is
/// refused.
pub fn decode_vote(bytes: &[u8]) -> Result<(Slot, Vote), WireError> {
    codec::decode(FORMAT_VERSION, bytes, |(slot, vote)| check_vote(slot, vote))
}

/// Encodes a snapshot header, after checking its slot and the state's length.
pub fn encode_snapshot_header(header: &SnapshotHeader) -> Result<Vec<u8>, WireError> {
    codec::encode(FORMAT_VERSION, header, check_snapshot_header)
}

/// Decodes a snapshot header encoded by [`encode_snapshot_header`]; see the module doc for what
/// is refused. The state itself is checked against the header by [`SnapshotHeader::check`].
pub fn decode_snapshot_header(bytes: &[u8]) -> Result<SnapshotHeader, WireError> {
    codec::decode(FORMAT_VERSION, bytes, check_snapshot_header)
}

fn check_message(message: &Message) -> Result<(), WireError> {
    match message {
        Message::Prepare { first_slot, .. } => check_slot("Prepare.first_slot", *first_slot),
        Message::Promise {
            ballot,
            votes,
            compacted,
            ..
        } => {
            if *compacted != Slot(0) {
                check_slot("Promise.compacted", *compacted)?;
            }
            if votes.len() as u64 > LOG_SLOTS_MAX {
                return Err(WireError::TooManyVotes {
                    count: votes.len(),
                    max: LOG_SLOTS_MAX,
                });
            }
            check_message_bytes(votes.values().map(|vote| &vote.entry))?;
            for (slot, vote) in votes {
                check_vote(slot, vote)?;
                if slot <= compacted {
                    return Err(WireError::VoteCompacted {
                        compacted: *compacted,
                        slot: *slot,
                    });
                }
                if vote.ballot >= *ballot {
                    return Err(WireError::VoteNotBelowPromise {
                        ballot: *ballot,
                        slot: *slot,
                        vote_ballot: vote.ballot,
                    });
                }
                check_vote(slot, vote)?;
            }
            Ok(())
        }
        Message::Accept { slot, entry, .. } => {
            check_slot("Accept.slot", *slot)?;
            check_entry(entry)
        }
        Message::Accepted { slot, entry, .. } => {
            check_slot("Accepted.slot", *slot)?;
            check_entry(entry)
        }
        Message::Heartbeat {
            decided_through, ..
        } => {
            // 0 is an empty decided prefix, not a slot.
            if *decided_through == Slot(0) {
                return Ok(());
            }
            check_slot("Heartbeat.decided_through", *decided_through)
        }
        Message::CatchUpRequest { first_slot } => {
            check_slot("CatchUpRequest.first_slot", *first_slot)
        }
        Message::CatchUp {
            first_slot,
            entries,
        } => {
            if entries.len() > CATCH_UP_ENTRIES_MAX {
                return Err(WireError::TooManyCatchUpEntries {
                    count: entries.len(),
                    max: CATCH_UP_ENTRIES_MAX,
                });
            }
            check_slot("CatchUp.first_slot", *first_slot)?;
            // The entries fill the slots from `first_slot` on: the last of them is a slot too.
            let last = first_slot
                .0
                .saturating_add((entries.len() as u64).saturating_sub(1));
            check_slot("CatchUp's last slot", Slot(last))?;
            entries.iter().try_for_each(check_entry)?;
            check_message_bytes(entries.iter())
        }
    }
}

/// Refuses entries whose command bytes together pass [`MESSAGE_BYTES_MAX`].
fn check_message_bytes<'a>(entries: impl Iterator<Item = &'a Entry>) -> Result<(), WireError> {
    let bytes: usize = entries.map(Entry::bytes).sum();
    if bytes > MESSAGE_BYTES_MAX {
        return Err(WireError::MessageTooLong {
            bytes,
            max: MESSAGE_BYTES_MAX,
        });
    }
    Ok(())
}

fn check_vote(slot: &Slot, vote: &Vote) -> Result<(), WireError> {
    check_slot("a vote's slot", *slot)?;
    check_entry(&vote.entry)
}

fn check_snapshot_header(header: &SnapshotHeader) -> Result<(), WireError> {
    check_slot("SnapshotHeader.last_slot", header.last_slot)?;
    if header.state_bytes > SNAPSHOT_BYTES_MAX {
        return Err(WireError::SnapshotTooLong {
            bytes: header.state_bytes,
            max: SNAPSHOT_BYTES_MAX,
        });
    }
    Ok(())
}

fn check_slot(field: &'static str, slot: Slot) -> Result<(), WireError> {
    if slot < Slot::FIRST || slot > SLOT_LAST {
        return Err(WireError::SlotOutOfRange {
            field,
            slot: slot.0,
        });
    }
    Ok(())
}

fn check_entry(entry: &Entry) -> Result<(), WireError> {
    let Entry::Batch(commands) = entry else {
        return Ok(());
    };
    if commands.is_empty() {
        return Err(WireError::EmptyBatch);
    }
    if commands.len() > ENTRY_COMMANDS_MAX {
        return Err(WireError::TooManyCommands {
            count: commands.len(),
            max: ENTRY_COMMANDS_MAX,
        });
    }
    let mut bytes = 0;
    for command in commands.iter() {
        if command.0.len() > COMMAND_BYTES_MAX {
            return Err(WireError::CommandTooLong {
                bytes: command.0.len(),
                max: COMMAND_BYTES_MAX,
            });
        }
        bytes += command.0.len();
    }
    if bytes > ENTRY_BYTES_MAX {
        return Err(WireError::EntryTooLong {
            bytes,
            max: ENTRY_BYTES_MAX,
        });
    }
    Ok(())
}
