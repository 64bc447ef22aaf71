//! The one binary encoding of everything Colony sends or keeps: a version byte, then the item in
//! postcard's format (<https://postcard.jamesmunns.com/wire-format>), decoded strictly.
//!
//! Decoding refuses an unknown version, a truncated or malformed body, trailing bytes, an item
//! its caller's check refuses (a bound), and a non-canonical encoding (a varint padded with
//! extra bytes, which postcard alone accepts, or any other second spelling of one item), so that
//! every item has exactly one encoding and bytes that are not one are refused rather than
//! guessed at. Decoding never panics, whatever the input.
//!
//! Three modules encode with it, each with its own `FORMAT_VERSION`, its own `WireError` (whose
//! first variant is this module's [`CodecError`], and whose others name the bound an item
//! exceeds) and one `encode_<item>` / `decode_<item>` pair per item: [`crate::paxos`] (its
//! messages and hard state), [`crate::multipaxos`] (its messages, hard state, votes and snapshot
//! headers) and [`crate::cell`] (its transactions, commands, replies and whole states). A module's version byte must increase with any
//! change to the encoding of any of its items, so that a node reading bytes written by another
//! version of Colony refuses them instead of misreading them. The node's storage records
//! (`colony-node`) use the same two functions, so that what a node keeps on disk is held to the
//! same strictness as what it sends.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why bytes could not be encoded or decoded, whatever the item.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The first byte is not the version this build reads.
    #[error("unknown format version {found} (this build reads version {expected})")]
    UnknownVersion {
        /// The version byte found.
        found: u8,
        /// The version this build reads.
        expected: u8,
    },
    /// The bytes end too early or are not an encoding of the expected type.
    #[error("malformed or truncated input: {reason}")]
    Malformed {
        /// postcard's reason.
        reason: postcard::Error,
    },
    /// Bytes remain after a complete encoding.
    #[error("{count} trailing byte(s) after a complete encoding")]
    TrailingBytes {
        /// How many bytes remain.
        count: usize,
    },
    /// The bytes decode, but are not the one encoding of what they decode to.
    #[error("non-canonical encoding: the bytes are not the one encoding of what they decode to")]
    NonCanonical,
    /// postcard could not encode the item. Writing into a growable buffer cannot fail; this
    /// variant exists so that a failure is reported, not a panic.
    #[error("cannot encode: {reason}")]
    Encode {
        /// postcard's reason.
        reason: postcard::Error,
    },
}

/// `version`, then `item`, once `check` accepts the item (its bounds), so that nothing is
/// written that [`decode`] would refuse.
pub fn encode<T, E>(
    version: u8,
    item: &T,
    check: impl Fn(&T) -> Result<(), E>,
) -> Result<Vec<u8>, E>
where
    T: Serialize + ?Sized,
    E: From<CodecError>,
{
    check(item)?;
    Ok(write(version, item)?)
}

/// As [`encode`], into `scratch`, whose contents are replaced and whose capacity is reused: for
/// a caller that encodes many items in a row (the node's write-ahead log frames a batch of
/// thousands), so that each item costs no allocation. After an error `scratch` is empty.
pub fn encode_reusing<T, E>(
    version: u8,
    item: &T,
    check: impl Fn(&T) -> Result<(), E>,
    scratch: &mut Vec<u8>,
) -> Result<(), E>
where
    T: Serialize + ?Sized,
    E: From<CodecError>,
{
    check(item)?;
    let mut buffer = std::mem::take(scratch);
    buffer.clear();
    buffer.push(version);
    *scratch = postcard::to_extend(item, buffer).map_err(|reason| CodecError::Encode { reason })?;
    Ok(())
}

/// `version`, then `item`, unchecked.
fn write<T: Serialize + ?Sized>(version: u8, item: &T) -> Result<Vec<u8>, CodecError> {
    postcard::to_extend(item, vec![version]).map_err(|reason| CodecError::Encode { reason })
}

/// Decodes an item written by [`encode`] with `version`, and refuses it unless `check` accepts
/// it and `bytes` are its one encoding.
pub fn decode<T, E>(version: u8, bytes: &[u8], check: impl Fn(&T) -> Result<(), E>) -> Result<T, E>
where
    T: Serialize + DeserializeOwned,
    E: From<CodecError>,
{
    let malformed = |reason| CodecError::Malformed { reason };
    let (found, body) = postcard::take_from_bytes::<u8>(bytes).map_err(malformed)?;
    if found != version {
        return Err(CodecError::UnknownVersion {
            found,
            expected: version,
        }
        .into());
    }
    let (item, rest) = postcard::take_from_bytes::<T>(body).map_err(malformed)?;
    if !rest.is_empty() {
        return Err(CodecError::TrailingBytes { count: rest.len() }.into());
    }
    check(&item)?;
    // Encoding is deterministic and shortest, so comparing with it refuses every spelling of the
    // item but the one. The item passed its check, so it is bounded and this costs little.
    if write(version, &item)? != bytes {
        return Err(CodecError::NonCanonical.into());
    }
    Ok(item)
}
