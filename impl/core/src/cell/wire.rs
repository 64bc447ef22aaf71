//! The binary encoding of a [`Transaction`], the command a cell's log holds.
//!
//! An encoding is one byte of [`FORMAT_VERSION`] followed by the transaction in
//! postcard's format (<https://postcard.jamesmunns.com/wire-format>): a list as its length and
//! then its items, an enum as its variant's index, a key or bytes as their length and then the
//! bytes, and an integer as num-bigint's serde form (its sign as -1, 0 or 1, then its magnitude as
//! a list of 32-bit digits, least significant first, each a varint).
//!
//! Decoding is Colony's strict decoding ([`crate::codec`]), so that every transaction has exactly
//! one encoding: an unknown version, a truncated or malformed body, trailing bytes and a
//! non-canonical encoding (a varint padded with extra bytes, an integer with a leading zero digit
//! or a sign that disagrees with its magnitude) are refused, and so is a transaction past any
//! bound of [`Transaction::validate`]. Decoding never panics, whatever the input.

use super::transaction::{Transaction, TransactionError};
use crate::codec::{self, CodecError};

/// The version byte that starts every encoded transaction. Any change to the encoding of
/// [`Transaction`] (a field, a variant, their order) must increase it, so that a replica reading
/// a log written by another version of Colony refuses it instead of misreading it.
pub const FORMAT_VERSION: u8 = 1;

/// Why a transaction could not be encoded or decoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The bytes are not an encoding (see [`CodecError`]).
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The transaction is past a bound.
    #[error("invalid transaction: {0}")]
    Invalid(#[from] TransactionError),
}

/// Encodes a transaction for the log, after checking it with [`Transaction::validate`].
pub fn encode_transaction(transaction: &Transaction) -> Result<Vec<u8>, WireError> {
    codec::encode(FORMAT_VERSION, transaction, check_transaction)
}

/// Decodes a transaction encoded by [`encode_transaction`]; see the module doc for what is
/// refused. num-bigint drops leading zero digits and reconciles a sign with a zero magnitude, so
/// it reads several spellings of one integer; the codec's canonical check refuses all but one.
pub fn decode_transaction(bytes: &[u8]) -> Result<Transaction, WireError> {
    codec::decode(FORMAT_VERSION, bytes, check_transaction)
}

fn check_transaction(transaction: &Transaction) -> Result<(), WireError> {
    Ok(transaction.validate()?)
}
