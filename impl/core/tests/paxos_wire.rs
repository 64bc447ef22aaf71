//! The single-decree wire and disk encoding: every message and hard state survives a round trip,
//! every strict prefix of an encoding is refused, every input decodes without a panic to either
//! an error or the one item whose encoding it is, and values past the bound are refused both
//! ways. The exact bytes of one item of each kind are pinned, so that a change of format shows
//! here (and must bump `FORMAT_VERSION`). The checks are the ones every encoding passes
//! (`common/mod.rs`).

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use colony_core::codec::CodecError;
use colony_core::group::NodeId;
use colony_core::paxos::{
    decode_hard_state, decode_message, encode_hard_state, encode_message, HardState, Message,
    Value, Vote, WireError, FORMAT_VERSION, VALUE_BYTES_MAX,
};
use common::{b, ballot, garbage, node_id, pinned, refused, round};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

encoded!(Message, encode_message, decode_message);
encoded!(HardState, encode_hard_state, decode_hard_state);

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

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    let encodings = prop_oneof![
        message().prop_map(|m| encode_message(&m).unwrap()),
        hard_state().prop_map(|h| encode_hard_state(&h).unwrap()),
    ];
    garbage(FORMAT_VERSION, encodings)
}

properties! {
    message: message();
    hard_state: hard_state();
}

garbage_is_refused_or_canonical!(any_bytes() => Message, HardState);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_value_past_the_bound_is_refused_both_ways(item in too_long()) {
        let error = WireError::ValueTooLong { bytes: VALUE_BYTES_MAX + 1, max: VALUE_BYTES_MAX };
        let bound = "longer than the bound of 65536 bytes (VALUE_BYTES_MAX)";
        match item {
            Ok(m) => refused(&m, &error, bound),
            Err(h) => refused(&h, &error, bound),
        }
    }
}

#[test]
fn a_prepare_encodes_as_version_variant_and_ballot() {
    // Round 300 is the two-byte varint 0xac 0x02 (low seven bits first, high bit = more).
    pinned(
        &Message::Prepare { ballot: b(300, 2) },
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
    pinned(&promise(None), &[1, 1, 5, 3, 1, 0]);
    pinned(
        &promise(Some(vote)),
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
    pinned(&accept, &bytes);
}

#[test]
fn an_accepted_encodes_as_version_variant_ballot_acceptor_and_value() {
    let accepted = Message::Accepted {
        ballot: b(7, 7),
        acceptor: NodeId(3),
        value: Value(b"x".to_vec()),
    };
    pinned(&accepted, &[1, 3, 7, 7, 3, 1, b'x']);
}

#[test]
fn a_hard_state_encodes_as_three_options() {
    pinned(&HardState::default(), &[1, 0, 0, 0]);
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
    pinned(&full, &bytes);
}

#[test]
fn decoding_is_strict_about_version_length_and_end() {
    common::strict(&Message::Prepare { ballot: b(0, 1) });
    common::strict(&HardState::default());
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
