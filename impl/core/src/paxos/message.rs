//! The messages of the protocol: exactly the spec's four message types.

use crate::group::{Ballot, NodeId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest [`Value`] the wire and disk encodings accept, in bytes: 64 KiB.
///
/// The bound caps what one message or one hard state can make a node read, allocate and write,
/// so that a transport and a store can size their buffers and refuse anything larger. The core
/// itself does not check it:
/// a runtime must refuse a longer client value before proposing it, because a proposal that
/// cannot be encoded cannot be sent (see [`super::encode_message`]).
pub const VALUE_BYTES_MAX: usize = 64 * 1024;

/// A proposed value: opaque bytes, at most [`VALUE_BYTES_MAX`] of them on the wire and on disk.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
// Serialized as bytes, not as a sequence of numbers: postcard writes both alike (a length, then
// the bytes), but reading bytes checks the length against the input before taking them, where
// a sequence would let serde reserve room on the word of a few bytes of garbage.
pub struct Value(#[serde(with = "serde_bytes")] pub Vec<u8>);

/// An acceptor's vote: the value it accepted in a ballot (the spec's `maxVBal`, `maxVal`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Vote {
    /// The ballot voted in.
    pub ballot: Ballot,
    /// The value voted for.
    pub value: Value,
}

/// A protocol message. Each variant is one of the spec's message types; no other message
/// exists, so everything the core sends is something the spec allows to be sent.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Message {
    /// Spec: a `1a` message. The proposer of `ballot` asks for promises.
    Prepare {
        /// The ballot started.
        ballot: Ballot,
    },
    /// Spec: a `1b` message. `acceptor` promises `ballot` and reports its latest vote.
    Promise {
        /// The ballot promised.
        ballot: Ballot,
        /// The acceptor promising.
        acceptor: NodeId,
        /// Its latest vote (the spec's `mbal`, `mval`), if any.
        vote: Option<Vote>,
    },
    /// Spec: a `2a` message. The proposal of `ballot`.
    Accept {
        /// The ballot of the proposal.
        ballot: Ballot,
        /// The value proposed.
        value: Value,
    },
    /// Spec: a `2b` message. `acceptor` votes for `value` in `ballot`.
    Accepted {
        /// The ballot of the vote.
        ballot: Ballot,
        /// The acceptor voting.
        acceptor: NodeId,
        /// The value voted for.
        value: Value,
    },
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match std::str::from_utf8(&self.0) {
            Ok(text) if text.chars().all(|c| c.is_ascii_graphic()) => write!(f, "{text:?}"),
            _ => write!(
                f,
                "0x{}",
                self.0
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>()
            ),
        }
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Prepare { ballot } => write!(f, "1a(b={ballot})"),
            Message::Promise {
                ballot,
                acceptor,
                vote: None,
            } => {
                write!(f, "1b(b={ballot}, {acceptor}, vote=none)")
            }
            Message::Promise {
                ballot,
                acceptor,
                vote: Some(vote),
            } => {
                write!(
                    f,
                    "1b(b={ballot}, {acceptor}, vote=({}, {}))",
                    vote.ballot, vote.value
                )
            }
            Message::Accept { ballot, value } => write!(f, "2a(b={ballot}, {value})"),
            Message::Accepted {
                ballot,
                acceptor,
                value,
            } => {
                write!(f, "2b(b={ballot}, {acceptor}, {value})")
            }
        }
    }
}
