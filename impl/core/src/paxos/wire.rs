//! The binary encoding of what the core sends ([`Message`]) and persists ([`HardState`]).
//!
//! An encoding is one byte of [`FORMAT_VERSION`] followed by the item in postcard's format
//! (<https://postcard.jamesmunns.com/wire-format>): integers as little-endian base-128 varints,
//! a [`NodeId`](crate::group::NodeId) as one raw byte, an `Option` as a 0/1 tag, an enum as its
//! variant's index, and a [`Value`] as its length and then its bytes.
//!
//! Decoding is Colony's strict decoding ([`crate::codec`]), so that every item has exactly one
//! encoding and bytes that are not one are refused rather than guessed at: an unknown version, a
//! truncated or malformed body, trailing bytes, a value longer than [`VALUE_BYTES_MAX`] and a
//! non-canonical encoding (an integer or a length written with more bytes than it needs, which
//! postcard alone accepts) are all errors. Decoding never panics, whatever the input.
//!
//! Encoding does no I/O: the caller writes the bytes to the network or to disk, framing them
//! itself, since postcard's encoding does not carry its own length.

use super::message::{Message, Value, VALUE_BYTES_MAX};
use super::ready::HardState;
use crate::codec::{self, CodecError};

/// The version byte that starts every encoding. Any change to the encoding of [`Message`] or
/// [`HardState`] (a field, a variant, their order) must increase it, so that a node reading
/// bytes written by another version of Colony refuses them instead of misreading them.
pub const FORMAT_VERSION: u8 = 1;

/// Why a message or a hard state could not be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The bytes are not an encoding (see [`CodecError`]).
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A value is longer than [`VALUE_BYTES_MAX`].
    #[error("a value of {bytes} bytes is longer than the bound of {max} bytes (VALUE_BYTES_MAX)")]
    ValueTooLong {
        /// The value's length.
        bytes: usize,
        /// The bound, [`VALUE_BYTES_MAX`].
        max: usize,
    },
}

/// Encodes a message for the network, after checking its value against [`VALUE_BYTES_MAX`].
pub fn encode_message(message: &Message) -> Result<Vec<u8>, WireError> {
    codec::encode(FORMAT_VERSION, message, check_message)
}

/// Decodes a message encoded by [`encode_message`]; see the module doc for what is refused.
pub fn decode_message(bytes: &[u8]) -> Result<Message, WireError> {
    codec::decode(FORMAT_VERSION, bytes, check_message)
}

/// Encodes a node's hard state for disk, after checking its vote's value against
/// [`VALUE_BYTES_MAX`].
pub fn encode_hard_state(hard_state: &HardState) -> Result<Vec<u8>, WireError> {
    codec::encode(FORMAT_VERSION, hard_state, check_hard_state)
}

/// Decodes a hard state encoded by [`encode_hard_state`]; see the module doc for what is refused.
pub fn decode_hard_state(bytes: &[u8]) -> Result<HardState, WireError> {
    codec::decode(FORMAT_VERSION, bytes, check_hard_state)
}

fn check_message(message: &Message) -> Result<(), WireError> {
    match message {
        Message::Prepare { .. } | Message::Promise { vote: None, .. } => Ok(()),
        Message::Promise {
            vote: Some(vote), ..
        } => check_value(&vote.value),
        Message::Accept { value, .. } | Message::Accepted { value, .. } => check_value(value),
    }
}

fn check_hard_state(hard_state: &HardState) -> Result<(), WireError> {
    match &hard_state.vote {
        Some(vote) => check_value(&vote.value),
        None => Ok(()),
    }
}

fn check_value(value: &Value) -> Result<(), WireError> {
    let bytes = value.0.len();
    if bytes > VALUE_BYTES_MAX {
        return Err(WireError::ValueTooLong {
            bytes,
            max: VALUE_BYTES_MAX,
        });
    }
    Ok(())
}
