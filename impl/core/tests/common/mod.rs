//! The checks every encoding of Colony must pass, written once: the single-decree and Multi-Paxos
//! wire formats and the cell's items (transactions, commands, replies, whole states) each
//! implement [`Encoded`] for their items, and their tests call these helpers on them, so that what
//! is asked of one encoding is asked of all.

// Each test crate includes this module and uses the helpers its encodings need.
#![allow(dead_code)]

use colony_core::codec::CodecError;
use colony_core::group::{Ballot, NodeId};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;
use serde::Serialize;
use std::fmt::{Debug, Display};

/// Implements [`Encoded`] for `$item`, the item that `$encode` and `$decode` write and read, of
/// the module whose `WireError` and `FORMAT_VERSION` are in scope.
macro_rules! encoded {
    ($item:ty, $encode:expr, $decode:expr) => {
        impl common::Encoded for $item {
            type Error = WireError;
            const VERSION: u8 = FORMAT_VERSION;
            fn encode(&self) -> Result<Vec<u8>, WireError> {
                $encode(self)
            }
            fn decode(bytes: &[u8]) -> Result<Self, WireError> {
                $decode(bytes)
            }
        }
    };
}

/// For each `kind: strategy`, the two properties every item of an encoding has, as the tests
/// `kind::survives_a_round_trip` (1,024 cases) and `kind::every_strict_prefix_is_refused` (256
/// cases, as each decodes every prefix).
#[allow(unused_macros)] // The cell's tests check prefixes of small transactions only.
macro_rules! properties {
    ($($kind:ident: $strategy:expr;)+) => {
        $(
            mod $kind {
                use super::*;

                proptest! {
                    #![proptest_config(ProptestConfig::with_cases(1024))]
                    #[test]
                    fn survives_a_round_trip(item in $strategy) {
                        common::round_trip(&item)?;
                    }
                }

                proptest! {
                    #![proptest_config(ProptestConfig::with_cases(256))]
                    #[test]
                    fn every_strict_prefix_is_refused(item in $strategy) {
                        common::prefixes_refused(&item)?;
                    }
                }
            }
        )+
    };
}

/// The property of every decoder: any bytes from `$bytes` (see [`garbage`]) decode without a
/// panic to an error or to the one item whose encoding they are, for each item type given; as
/// the test `any_bytes_decode_to_an_error_or_to_the_item_they_encode` (4,096 cases).
#[allow(unused_macros)] // The cell's tests mix garbage into their own strategies.
macro_rules! garbage_is_refused_or_canonical {
    ($bytes:expr => $($item:ty),+) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]
            #[test]
            fn any_bytes_decode_to_an_error_or_to_the_item_they_encode(bytes in $bytes) {
                $(common::refused_or_canonical::<$item>(&bytes)?;)+
            }
        }
    };
}

/// An item with an encoding: its module's version byte, encoder and decoder.
pub trait Encoded: Sized + Clone + Debug + PartialEq + Serialize {
    /// The module's error, whose first variant is the codec's.
    type Error: Debug + Display + PartialEq + From<CodecError>;
    /// The module's `FORMAT_VERSION`.
    const VERSION: u8;
    /// The module's `encode_<item>`.
    fn encode(&self) -> Result<Vec<u8>, Self::Error>;
    /// The module's `decode_<item>`.
    fn decode(bytes: &[u8]) -> Result<Self, Self::Error>;
}

pub fn node_id() -> impl Strategy<Value = NodeId> {
    any::<u8>().prop_map(NodeId)
}

/// Rounds of every varint length: one byte, two, and up to five.
pub fn round() -> impl Strategy<Value = u32> {
    prop_oneof![0..4u32, 0..300u32, any::<u32>()]
}

pub fn ballot() -> impl Strategy<Value = Ballot> {
    (round(), node_id()).prop_map(|(round, proposer)| Ballot { round, proposer })
}

/// The ballot of `round` owned by node `proposer`.
pub fn b(round: u32, proposer: u8) -> Ballot {
    Ballot {
        round,
        proposer: NodeId(proposer),
    }
}

/// The error a decoder must give for bytes that end before the item does.
pub fn truncated<E: From<CodecError>>() -> E {
    E::from(CodecError::Malformed {
        reason: postcard::Error::DeserializeUnexpectedEnd,
    })
}

/// `item` encodes, its encoding starts with the version byte, and it decodes back to `item`.
pub fn round_trip<T: Encoded>(item: &T) -> TestCaseResult {
    let bytes = item
        .encode()
        .map_err(|e| TestCaseError::fail(format!("{item:?} was refused: {e}")))?;
    prop_assert_eq!(bytes[0], T::VERSION);
    prop_assert_eq!(T::decode(&bytes), Ok(item.clone()));
    Ok(())
}

/// Every strict prefix of `item`'s encoding, the empty one included, is refused as truncated.
/// Decoding a prefix parses what comes before the cut, so keep `item` small.
pub fn prefixes_refused<T: Encoded>(item: &T) -> TestCaseResult {
    let bytes = item
        .encode()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    for len in 0..bytes.len() {
        prop_assert_eq!(
            T::decode(&bytes[..len]),
            Err(truncated()),
            "prefix of {}",
            len
        );
    }
    Ok(())
}

/// `bytes` decode without a panic to an error or to the one item whose encoding they are.
pub fn refused_or_canonical<T: Encoded>(bytes: &[u8]) -> TestCaseResult {
    if let Ok(item) = T::decode(bytes) {
        prop_assert_eq!(
            item.encode()
                .map_err(|e| TestCaseError::fail(e.to_string()))?,
            bytes
        );
    }
    Ok(())
}

/// Bytes to feed a decoder: any bytes; bytes after the right version byte near the edges of
/// postcard's cases (small tags, varint continuation bits); and a valid encoding (from
/// `encodings`) with one byte replaced, inserted or removed.
pub fn garbage(
    version: u8,
    encodings: impl Strategy<Value = Vec<u8>>,
) -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![0..4u8, Just(0x80), Just(0xff), any::<u8>()];
    let plausible = vec(byte, 0..40).prop_map(move |mut body| {
        body.insert(0, version);
        body
    });
    let mutated =
        (encodings, any::<usize>(), any::<u8>(), 0..3u8).prop_map(|(mut bytes, at, byte, how)| {
            let at = at % bytes.len();
            match how {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => {
                    bytes.remove(at);
                }
            }
            bytes
        });
    prop_oneof![vec(any::<u8>(), 0..64), plausible, mutated]
}

/// `item` encodes to exactly `bytes` and decodes from them: a change of format shows here and
/// must increase the module's `FORMAT_VERSION`.
pub fn pinned<T: Encoded>(item: &T, bytes: &[u8]) {
    assert_eq!(item.encode().as_deref(), Ok(bytes), "{item:?}");
    assert_eq!(T::decode(bytes), Ok(item.clone()));
}

/// `item` is past a bound: encoding refuses it with `error`, and so does decoding the bytes a
/// writer that checks nothing would produce; the message names the bound (`bound` is in it).
pub fn refused<T: Encoded>(item: &T, error: &T::Error, bound: &str) {
    assert_eq!(item.encode().as_ref(), Err(error), "{item:?}");
    let unchecked = postcard::to_extend(item, vec![T::VERSION]).expect("postcard writes to a Vec");
    assert_eq!(T::decode(&unchecked).as_ref(), Err(error), "{item:?}");
    let message = error.to_string();
    assert!(message.contains(bound), "{message} does not name {bound}");
}

/// The strictness every decoder shares, shown on `item`'s encoding: an unknown version is refused
/// by number, trailing bytes are counted, and empty input is truncated.
pub fn strict<T: Encoded>(item: &T) {
    let bytes = item.encode().expect("a valid item");
    let mut other_version = bytes.clone();
    other_version[0] = T::VERSION.wrapping_add(1);
    let unknown = T::Error::from(CodecError::UnknownVersion {
        found: T::VERSION.wrapping_add(1),
        expected: T::VERSION,
    });
    assert_eq!(T::decode(&other_version), Err(unknown));
    assert_eq!(
        T::decode(&other_version).unwrap_err().to_string(),
        format!(
            "unknown format version {} (this build reads version {})",
            T::VERSION + 1,
            T::VERSION
        )
    );
    let mut trailing = bytes;
    trailing.extend([9, 9]);
    let error = T::decode(&trailing).unwrap_err();
    assert_eq!(
        error,
        T::Error::from(CodecError::TrailingBytes { count: 2 })
    );
    assert_eq!(
        error.to_string(),
        "2 trailing byte(s) after a complete encoding"
    );
    assert_eq!(T::decode(&[]), Err(truncated()));
}
