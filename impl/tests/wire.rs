//! The wire and disk encoding: every message and hard state survives a round trip, every input
//! decodes without a panic to either an error or the one item whose encoding it is, a truncated
//! encoding is refused, and values past the bound are refused both ways. The exact bytes of one
//! item of each kind are pinned, so that a change of format shows here (and must bump
//! `FORMAT_VERSION`).

#![allow(clippy::unwrap_used)]

use colony::codec::CodecError;
use colony::group::{Ballot, NodeId};
use colony::paxos::{
    decode_hard_state, decode_message, encode_hard_state, encode_message, HardState, Message,
    Value, Vote, WireError, FORMAT_VERSION, VALUE_BYTES_MAX,
};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

fn node_id() -> impl Strategy<Value = NodeId> {
    any::<u8>().prop_map(NodeId)
}

/// Rounds of every varint length: one byte, two, and up to five.
fn round() -> impl Strategy<Value = u32> {
    prop_oneof![0..4u32, 0..300u32, any::<u32>()]
}

fn ballot() -> impl Strategy<Value = Ballot> {
    (round(), node_id()).prop_map(|(round, proposer)| Ballot { round, proposer })
}

/// Mostly short values, now and then one of exactly the longest length allowed.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        20 => vec(any::<u8>(), 0..300).prop_map(Value),
        1 => any::<u8>().prop_map(|fill| Value(vec![fill; VALUE_BYTES_MAX])),
    ]
}

fn vote() -> impl Strategy<Value = Vote> {
    (ballot(), value()).prop_map(|(ballot, value)| Vote { ballot, value })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        ballot().prop_map(|ballot| Message::Prepare { ballot }),
        (ballot(), node_id(), option::of(vote())).prop_map(|(ballot, acceptor, vote)| {
            Message::Promise {
                ballot,
                acceptor,
                vote,
            }
        }),
        (ballot(), value()).prop_map(|(ballot, value)| Message::Accept { ballot, value }),
        (ballot(), node_id(), value()).prop_map(|(ballot, acceptor, value)| {
            Message::Accepted {
                ballot,
                acceptor,
                value,
            }
        }),
    ]
}

fn hard_state() -> impl Strategy<Value = HardState> {
    (
        option::of(ballot()),
        option::of(vote()),
        option::of(round()),
    )
        .prop_map(|(promised, vote, round_started_max)| HardState {
            promised,
            vote,
            round_started_max,
        })
}

/// Bytes that look like an encoding: the right version, then bytes near the edges of postcard's
/// cases (small tags, varint continuation bits).
fn plausible_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![0..4u8, Just(0x80), Just(0xff), any::<u8>()];
    vec(byte, 0..40).prop_map(|mut body| {
        body.insert(0, FORMAT_VERSION);
        body
    })
}

/// A valid encoding with one byte replaced, inserted or removed.
fn mutated_encoding() -> impl Strategy<Value = Vec<u8>> {
    let encoding = prop_oneof![
        message().prop_map(|m| encode_message(&m).unwrap()),
        hard_state().prop_map(|h| encode_hard_state(&h).unwrap()),
    ];
    (encoding, any::<usize>(), any::<u8>(), 0..3u8).prop_map(|(mut bytes, at, byte, how)| {
        let at = at % bytes.len();
        match how {
            0 => bytes[at] = byte,
            1 => bytes.insert(at, byte),
            _ => {
                bytes.remove(at);
            }
        }
        bytes
    })
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..64),
        plausible_bytes(),
        mutated_encoding()
    ]
}

fn value_too_long() -> impl Strategy<Value = Value> {
    any::<u8>().prop_map(|fill| Value(vec![fill; VALUE_BYTES_MAX + 1]))
}

fn vote_too_long() -> impl Strategy<Value = Vote> {
    (ballot(), value_too_long()).prop_map(|(ballot, value)| Vote { ballot, value })
}

/// An item with a value one byte past the bound, in every place a value can be: a message
/// (`Ok`) or a hard state (`Err`).
fn too_long() -> impl Strategy<Value = Result<Message, HardState>> {
    prop_oneof![
        (ballot(), node_id(), vote_too_long()).prop_map(|(ballot, acceptor, vote)| {
            Ok(Message::Promise {
                ballot,
                acceptor,
                vote: Some(vote),
            })
        }),
        (ballot(), value_too_long())
            .prop_map(|(ballot, value)| Ok(Message::Accept { ballot, value })),
        (ballot(), node_id(), value_too_long()).prop_map(|(ballot, acceptor, value)| {
            Ok(Message::Accepted {
                ballot,
                acceptor,
                value,
            })
        }),
        vote_too_long().prop_map(|vote| Err(HardState {
            vote: Some(vote),
            ..HardState::default()
        })),
    ]
}

fn truncated() -> WireError {
    WireError::Codec(CodecError::Malformed {
        reason: postcard::Error::DeserializeUnexpectedEnd,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn a_message_survives_a_round_trip(m in message()) {
        prop_assert_eq!(decode_message(&encode_message(&m).unwrap()), Ok(m));
    }

    #[test]
    fn a_hard_state_survives_a_round_trip(h in hard_state()) {
        prop_assert_eq!(decode_hard_state(&encode_hard_state(&h).unwrap()), Ok(h));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn any_bytes_decode_to_an_error_or_to_the_item_they_encode(bytes in any_bytes()) {
        if let Ok(m) = decode_message(&bytes) {
            prop_assert_eq!(encode_message(&m).unwrap(), bytes.clone());
        }
        if let Ok(h) = decode_hard_state(&bytes) {
            prop_assert_eq!(encode_hard_state(&h).unwrap(), bytes);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_strict_prefix_of_a_message_is_refused_as_truncated(m in message()) {
        let bytes = encode_message(&m).unwrap();
        for len in 0..bytes.len() {
            prop_assert_eq!(decode_message(&bytes[..len]), Err(truncated()), "prefix of {}", len);
        }
    }

    #[test]
    fn every_strict_prefix_of_a_hard_state_is_refused_as_truncated(h in hard_state()) {
        let bytes = encode_hard_state(&h).unwrap();
        for len in 0..bytes.len() {
            prop_assert_eq!(decode_hard_state(&bytes[..len]), Err(truncated()), "prefix of {}", len);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_value_past_the_bound_is_refused_on_encode(item in too_long()) {
        let refused = match item {
            Ok(m) => encode_message(&m),
            Err(h) => encode_hard_state(&h),
        };
        let error = refused.unwrap_err();
        prop_assert_eq!(
            &error,
            &WireError::ValueTooLong { len: VALUE_BYTES_MAX + 1, max: VALUE_BYTES_MAX }
        );
        prop_assert!(error.to_string().contains("bound of 65536 bytes"), "{}", error);
    }
}

fn b(round: u32, proposer: u8) -> Ballot {
    Ballot {
        round,
        proposer: NodeId(proposer),
    }
}

/// Asserts `message` encodes to exactly `bytes`, and back.
fn pin_message(message: Message, bytes: &[u8]) {
    assert_eq!(encode_message(&message).unwrap(), bytes, "{message}");
    assert_eq!(decode_message(bytes), Ok(message));
}

#[test]
fn a_prepare_encodes_as_version_variant_and_ballot() {
    // Round 300 is the two-byte varint 0xac 0x02 (low seven bits first, high bit = more).
    pin_message(
        Message::Prepare { ballot: b(300, 2) },
        &[1, 0, 0xac, 0x02, 2],
    );
}

#[test]
fn a_promise_encodes_its_vote_behind_an_option_tag() {
    let vote = Vote {
        ballot: b(4, 2),
        value: Value(b"ab".to_vec()),
    };
    let promise = |vote| Message::Promise {
        ballot: b(5, 3),
        acceptor: NodeId(1),
        vote,
    };
    pin_message(promise(None), &[1, 1, 5, 3, 1, 0]);
    pin_message(
        promise(Some(vote)),
        &[1, 1, 5, 3, 1, 1, 4, 2, 2, b'a', b'b'],
    );
}

#[test]
fn an_accept_encodes_its_value_as_a_varint_length_and_the_bytes() {
    let accept = Message::Accept {
        ballot: b(0, 1),
        value: Value(vec![0xff; 130]),
    };
    let mut bytes = vec![1, 2, 0, 1, 0x82, 0x01];
    bytes.extend([0xff; 130]);
    pin_message(accept, &bytes);
}

#[test]
fn an_accepted_encodes_as_version_variant_ballot_acceptor_and_value() {
    let accepted = Message::Accepted {
        ballot: b(7, 7),
        acceptor: NodeId(3),
        value: Value(b"x".to_vec()),
    };
    pin_message(accepted, &[1, 3, 7, 7, 3, 1, b'x']);
}

#[test]
fn a_hard_state_encodes_as_three_options() {
    let pin = |hard_state: HardState, bytes: &[u8]| {
        assert_eq!(encode_hard_state(&hard_state).unwrap(), bytes);
        assert_eq!(decode_hard_state(bytes), Ok(hard_state));
    };
    pin(HardState::default(), &[1, 0, 0, 0]);
    let full = HardState {
        promised: Some(b(2, 1)),
        vote: Some(Vote {
            ballot: b(1, 1),
            value: Value(b"v".to_vec()),
        }),
        round_started_max: Some(u32::MAX),
    };
    let bytes = [
        1, 1, 2, 1, 1, 1, 1, 1, b'v', 1, 0xff, 0xff, 0xff, 0xff, 0x0f,
    ];
    pin(full, &bytes);
}

#[test]
fn an_unknown_version_is_refused_by_number() {
    let error = decode_message(&[2, 0, 0, 1]).unwrap_err();
    let unknown = |found| {
        WireError::Codec(CodecError::UnknownVersion {
            found,
            expected: FORMAT_VERSION,
        })
    };
    assert_eq!(error, unknown(2));
    assert_eq!(
        error.to_string(),
        "unknown format version 2 (this build reads version 1)"
    );
    assert_eq!(decode_hard_state(&[0, 0, 0, 0]), Err(unknown(0)));
}

#[test]
fn empty_input_is_truncated() {
    assert_eq!(decode_message(&[]), Err(truncated()));
    assert_eq!(decode_hard_state(&[]), Err(truncated()));
}

#[test]
fn trailing_bytes_are_counted() {
    let error = decode_message(&[1, 0, 0, 1, 9, 9]).unwrap_err();
    assert_eq!(
        error,
        WireError::Codec(CodecError::TrailingBytes { count: 2 })
    );
    assert_eq!(
        error.to_string(),
        "2 trailing byte(s) after a complete encoding"
    );
}

#[test]
fn a_padded_varint_is_refused_as_non_canonical() {
    // 0x80 0x00 is round 0 written in two bytes: postcard reads it, the one encoding is 0x00.
    assert_eq!(
        decode_message(&[1, 0, 0x80, 0x00, 1]),
        Err(WireError::Codec(CodecError::NonCanonical))
    );
    assert_eq!(
        decode_message(&[1, 0, 0, 1]),
        Ok(Message::Prepare { ballot: b(0, 1) })
    );
}

#[test]
fn a_value_past_the_bound_is_refused_on_decode() {
    // An accept of ballot 0.1 whose value is 65,537 bytes long: the varint 0x81 0x80 0x04.
    let mut bytes = vec![1, 2, 0, 1, 0x81, 0x80, 0x04];
    bytes.resize(bytes.len() + VALUE_BYTES_MAX + 1, 7);
    let error = decode_message(&bytes).unwrap_err();
    assert_eq!(
        error,
        WireError::ValueTooLong {
            len: VALUE_BYTES_MAX + 1,
            max: VALUE_BYTES_MAX
        }
    );
    assert_eq!(
        error.to_string(),
        "a value of 65537 bytes is longer than the bound of 65536 bytes (VALUE_BYTES_MAX)"
    );
}

#[test]
fn an_unknown_variant_is_malformed() {
    let error = decode_message(&[1, 4, 0, 1]).unwrap_err();
    assert!(
        matches!(error, WireError::Codec(CodecError::Malformed { .. })),
        "{error}"
    );
}
