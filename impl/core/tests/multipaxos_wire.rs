//! The Multi-Paxos wire and disk encoding: every message, hard state, vote and snapshot header
//! survives a round trip, every strict prefix of an encoding is refused, every input decodes
//! without a panic to either an error or the one item whose encoding it is, and an item one past
//! any bound is refused both ways with an error naming the bound. The exact bytes of every
//! message variant and of each other item are pinned, so that a change of format shows here (and
//! must bump `FORMAT_VERSION`). The checks are the ones every encoding passes (`common/mod.rs`).

#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

use colony_core::codec::CodecError;
use colony_core::group::{Ballot, NodeId};
use colony_core::multipaxos::{
    decode_hard_state, decode_message, decode_snapshot_header, decode_vote, encode_hard_state,
    encode_message, encode_snapshot_header, encode_vote, Command, Entry, HardState, Message, Slot,
    SnapshotError, SnapshotHeader, Vote, WireError, CATCH_UP_ENTRIES_MAX, COMMAND_BYTES_MAX,
    ENTRY_BYTES_MAX, ENTRY_COMMANDS_MAX, FORMAT_VERSION, LOG_SLOTS_MAX, MESSAGE_BYTES_MAX,
    SLOT_LAST, SNAPSHOT_BYTES_MAX,
};
use common::{b, ballot, garbage, node_id, pinned, refused, round, round_trip};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use std::collections::BTreeMap;

encoded!(Message, encode_message, decode_message);
encoded!(HardState, encode_hard_state, decode_hard_state);
encoded!(
    (Slot, Vote),
    |(slot, vote): &(Slot, Vote)| encode_vote(*slot, vote),
    decode_vote
);
encoded!(
    SnapshotHeader,
    encode_snapshot_header,
    decode_snapshot_header
);

// ---------------------------------------------------------------------------------------------
// Strategies. Items are small, so that every prefix of their encodings can be decoded; the items
// at each bound are checked one by one below.

/// Slots of every varint length, up to the last one allowed.
fn slot() -> impl Strategy<Value = Slot> {
    prop_oneof![1..4u64, 1..300u64, 1..=SLOT_LAST.0].prop_map(Slot)
}

fn command() -> impl Strategy<Value = Command> {
    vec(any::<u8>(), 0..20).prop_map(Command)
}

fn entry() -> impl Strategy<Value = Entry> {
    prop_oneof![
        1 => Just(Entry::NoOp),
        4 => vec(command(), 1..4).prop_map(Entry::batch),
    ]
}

fn vote() -> impl Strategy<Value = Vote> {
    (ballot(), entry()).prop_map(|(ballot, entry)| Vote { ballot, entry })
}

/// A promise: its ballot, and votes of lower ballots in any slots.
fn promise() -> impl Strategy<Value = Message> {
    (1..=u32::MAX, node_id(), node_id()).prop_flat_map(|(round, proposer, acceptor)| {
        let ballot = Ballot { round, proposer };
        let lower = (0..round, node_id(), entry()).prop_map(|(round, proposer, entry)| Vote {
            ballot: Ballot { round, proposer },
            entry,
        });
        // Compacted through a slot below every vote, as an acceptor reports it.
        btree_map(slot(), lower, 0..4).prop_flat_map(move |votes| {
            let first = votes.keys().next().map_or(SLOT_LAST.0, |slot| slot.0);
            (0..first).prop_map(move |compacted| Message::Promise {
                ballot,
                acceptor,
                votes: votes.clone(),
                compacted: Slot(compacted),
            })
        })
    })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (ballot(), slot()).prop_map(|(ballot, first_slot)| Message::Prepare { ballot, first_slot }),
        promise(),
        (ballot(), slot(), entry()).prop_map(|(ballot, slot, entry)| Message::Accept {
            ballot,
            slot,
            entry
        }),
        (ballot(), node_id(), slot(), entry()).prop_map(|(ballot, acceptor, slot, entry)| {
            Message::Accepted {
                ballot,
                acceptor,
                slot,
                entry,
            }
        }),
        (ballot(), prop_oneof![Just(Slot(0)), slot()]).prop_map(|(ballot, decided_through)| {
            Message::Heartbeat {
                ballot,
                decided_through,
            }
        }),
        slot().prop_map(|first_slot| Message::CatchUpRequest { first_slot }),
        (1..1000u64, vec(entry(), 0..4)).prop_map(|(first_slot, entries)| Message::CatchUp {
            first_slot: Slot(first_slot),
            entries,
        }),
    ]
}

fn hard_state() -> impl Strategy<Value = HardState> {
    (option::of(ballot()), option::of(round())).prop_map(|(promised, round_started_max)| {
        HardState {
            promised,
            round_started_max,
        }
    })
}

fn slot_vote() -> impl Strategy<Value = (Slot, Vote)> {
    (slot(), vote())
}

fn snapshot_header() -> impl Strategy<Value = SnapshotHeader> {
    (slot(), 0..=SNAPSHOT_BYTES_MAX, any::<u32>()).prop_map(
        |(last_slot, state_bytes, state_crc32c)| SnapshotHeader {
            last_slot,
            state_bytes,
            state_crc32c,
        },
    )
}

fn any_bytes() -> impl Strategy<Value = Vec<u8>> {
    let encodings = prop_oneof![
        message().prop_map(|m| encode_message(&m).unwrap()),
        hard_state().prop_map(|h| encode_hard_state(&h).unwrap()),
        slot_vote().prop_map(|(s, v)| encode_vote(s, &v).unwrap()),
        snapshot_header().prop_map(|h| encode_snapshot_header(&h).unwrap()),
    ];
    garbage(FORMAT_VERSION, encodings)
}

// ---------------------------------------------------------------------------------------------
// Properties.

properties! {
    message: message();
    hard_state: hard_state();
    vote: slot_vote();
    snapshot_header: snapshot_header();
}

garbage_is_refused_or_canonical!(any_bytes() => Message, HardState, (Slot, Vote), SnapshotHeader);

// ---------------------------------------------------------------------------------------------
// Bounds: every item at a bound is accepted, and one past it refused, naming the bound.

fn batch(commands: usize, bytes_each: usize) -> Entry {
    Entry::batch(vec![Command(vec![7; bytes_each]); commands])
}

fn accept(entry: Entry) -> Message {
    Message::Accept {
        ballot: b(1, 1),
        slot: Slot(1),
        entry,
    }
}

fn catch_up(first_slot: u64, entries: usize) -> Message {
    Message::CatchUp {
        first_slot: Slot(first_slot),
        entries: vec![Entry::NoOp; entries],
    }
}

fn header(last_slot: u64, state_bytes: u64) -> SnapshotHeader {
    SnapshotHeader {
        last_slot: Slot(last_slot),
        state_bytes,
        state_crc32c: 0,
    }
}

#[test]
fn items_at_every_bound_survive_a_round_trip() {
    let messages = [
        accept(batch(1, COMMAND_BYTES_MAX)),
        accept(batch(ENTRY_COMMANDS_MAX, 0)),
        accept(batch(2, ENTRY_BYTES_MAX / 2)),
        catch_up(1, CATCH_UP_ENTRIES_MAX),
        catch_up(SLOT_LAST.0 - 1, 2),
        Message::CatchUpRequest {
            first_slot: SLOT_LAST,
        },
    ];
    for message in &messages {
        round_trip(message).unwrap();
    }
    round_trip(&header(SLOT_LAST.0, SNAPSHOT_BYTES_MAX)).unwrap();
}

#[test]
fn a_message_one_past_a_bound_is_refused_naming_it() {
    let slot_out = |field, slot| WireError::SlotOutOfRange { field, slot };
    let cases = [
        (
            accept(batch(1, COMMAND_BYTES_MAX + 1)),
            WireError::CommandTooLong {
                bytes: COMMAND_BYTES_MAX + 1,
                max: COMMAND_BYTES_MAX,
            },
            "COMMAND_BYTES_MAX",
        ),
        (
            accept(batch(ENTRY_COMMANDS_MAX + 1, 0)),
            WireError::TooManyCommands {
                count: ENTRY_COMMANDS_MAX + 1,
                max: ENTRY_COMMANDS_MAX,
            },
            "ENTRY_COMMANDS_MAX",
        ),
        (
            accept(Entry::batch(vec![
                Command(vec![7; ENTRY_BYTES_MAX / 2]),
                Command(vec![7; ENTRY_BYTES_MAX / 2 + 1]),
            ])),
            WireError::EntryTooLong {
                bytes: ENTRY_BYTES_MAX + 1,
                max: ENTRY_BYTES_MAX,
            },
            "ENTRY_BYTES_MAX",
        ),
        (
            accept(Entry::batch(vec![])),
            WireError::EmptyBatch,
            "a batch of no commands",
        ),
        (
            catch_up(1, CATCH_UP_ENTRIES_MAX + 1),
            WireError::TooManyCatchUpEntries {
                count: CATCH_UP_ENTRIES_MAX + 1,
                max: CATCH_UP_ENTRIES_MAX,
            },
            "CATCH_UP_ENTRIES_MAX",
        ),
        (
            catch_up(SLOT_LAST.0, 2),
            slot_out("CatchUp's last slot", u64::MAX),
            "SLOT_LAST",
        ),
        (
            catch_up(0, 1),
            slot_out("CatchUp.first_slot", 0),
            "Slot::FIRST",
        ),
        (
            Message::Prepare {
                ballot: b(1, 1),
                first_slot: Slot(0),
            },
            slot_out("Prepare.first_slot", 0),
            "Prepare.first_slot is slot 0",
        ),
        (
            Message::Accepted {
                ballot: b(1, 1),
                acceptor: NodeId(2),
                slot: Slot(u64::MAX),
                entry: Entry::NoOp,
            },
            slot_out("Accepted.slot", u64::MAX),
            "SLOT_LAST",
        ),
        (
            Message::Heartbeat {
                ballot: b(1, 1),
                decided_through: Slot(u64::MAX),
            },
            slot_out("Heartbeat.decided_through", u64::MAX),
            "SLOT_LAST",
        ),
        (
            Message::CatchUpRequest {
                first_slot: Slot(0),
            },
            slot_out("CatchUpRequest.first_slot", 0),
            "Slot::FIRST",
        ),
        (
            Message::Promise {
                ballot: b(2, 1),
                acceptor: NodeId(3),
                votes: BTreeMap::from([(
                    Slot(4),
                    Vote {
                        ballot: b(2, 1),
                        entry: Entry::NoOp,
                    },
                )]),
                compacted: Slot(0),
            },
            WireError::VoteNotBelowPromise {
                ballot: b(2, 1),
                slot: Slot(4),
                vote_ballot: b(2, 1),
            },
            "not below it",
        ),
    ];
    for (message, error, bound) in &cases {
        refused(message, error, bound);
    }
}

/// The bounds hold inside every message that carries slots and entries, not only at its top.
#[test]
fn a_slot_or_an_entry_past_a_bound_inside_a_message_is_refused() {
    let promise = |slot, entry| Message::Promise {
        ballot: b(2, 1),
        acceptor: NodeId(3),
        votes: BTreeMap::from([(
            Slot(slot),
            Vote {
                ballot: b(1, 1),
                entry,
            },
        )]),
        compacted: Slot(0),
    };
    let empty = || Entry::batch(vec![]);
    let cases = [
        (
            promise(0, Entry::NoOp),
            WireError::SlotOutOfRange {
                field: "a vote's slot",
                slot: 0,
            },
        ),
        (promise(1, empty()), WireError::EmptyBatch),
        (
            Message::Accept {
                ballot: b(1, 1),
                slot: Slot(0),
                entry: Entry::NoOp,
            },
            WireError::SlotOutOfRange {
                field: "Accept.slot",
                slot: 0,
            },
        ),
        (
            Message::Accepted {
                ballot: b(1, 1),
                acceptor: NodeId(1),
                slot: Slot(1),
                entry: empty(),
            },
            WireError::EmptyBatch,
        ),
        (
            Message::CatchUp {
                first_slot: Slot(1),
                entries: vec![Entry::NoOp, empty()],
            },
            WireError::EmptyBatch,
        ),
    ];
    for (message, error) in &cases {
        refused(message, error, "");
    }
}

/// A promise of `votes` NoOp votes from slot `compacted + 1` on, or of one vote per entry.
fn promise_of(compacted: u64, entries: Vec<Entry>) -> Message {
    let votes = (compacted + 1..)
        .zip(entries)
        .map(|(slot, entry)| {
            let vote = Vote {
                ballot: b(1, 1),
                entry,
            };
            (Slot(slot), vote)
        })
        .collect();
    Message::Promise {
        ballot: b(2, 1),
        acceptor: NodeId(3),
        votes,
        compacted: Slot(compacted),
    }
}

/// What a promise may carry: as many votes as an acceptor holds, as many bytes as a message,
/// and no vote in a slot it says it compacted; a catch-up reply no more bytes than a message.
#[test]
fn a_promise_or_a_catch_up_past_the_log_or_message_bound_is_refused_naming_it() {
    let votes_max = LOG_SLOTS_MAX as usize;
    let full = MESSAGE_BYTES_MAX / ENTRY_BYTES_MAX;
    let large = || batch(1, ENTRY_BYTES_MAX);
    round_trip(&promise_of(0, vec![Entry::NoOp; votes_max])).unwrap();
    round_trip(&promise_of(5, vec![large(); full])).unwrap();
    let catch_up_full = Message::CatchUp {
        first_slot: Slot(1),
        entries: vec![large(); full],
    };
    round_trip(&catch_up_full).unwrap();
    let mut compacted_vote = promise_of(4, vec![Entry::NoOp]);
    if let Message::Promise { compacted, .. } = &mut compacted_vote {
        *compacted = Slot(5);
    }
    let cases = [
        (
            promise_of(0, vec![Entry::NoOp; votes_max + 1]),
            WireError::TooManyVotes {
                count: votes_max + 1,
                max: LOG_SLOTS_MAX,
            },
            "(LOG_SLOTS_MAX)",
        ),
        (
            promise_of(0, vec![large(); full + 1]),
            WireError::MessageTooLong {
                bytes: MESSAGE_BYTES_MAX + ENTRY_BYTES_MAX,
                max: MESSAGE_BYTES_MAX,
            },
            "(MESSAGE_BYTES_MAX)",
        ),
        (
            Message::CatchUp {
                first_slot: Slot(1),
                entries: vec![large(); full + 1],
            },
            WireError::MessageTooLong {
                bytes: MESSAGE_BYTES_MAX + ENTRY_BYTES_MAX,
                max: MESSAGE_BYTES_MAX,
            },
            "(MESSAGE_BYTES_MAX)",
        ),
        (
            compacted_vote,
            WireError::VoteCompacted {
                compacted: Slot(5),
                slot: Slot(5),
            },
            "compacted through s5 reports a vote in s5",
        ),
    ];
    for (message, error, bound) in &cases {
        refused(message, error, bound);
    }
}

#[test]
fn a_vote_or_a_header_one_past_a_bound_is_refused_naming_it() {
    let vote = |slot, entry| {
        (
            Slot(slot),
            Vote {
                ballot: b(1, 1),
                entry,
            },
        )
    };
    refused(
        &vote(0, Entry::NoOp),
        &WireError::SlotOutOfRange {
            field: "a vote's slot",
            slot: 0,
        },
        "a vote's slot is slot 0, outside slots 1 to 18446744073709551614",
    );
    refused(
        &vote(1, batch(ENTRY_COMMANDS_MAX + 1, 0)),
        &WireError::TooManyCommands {
            count: ENTRY_COMMANDS_MAX + 1,
            max: ENTRY_COMMANDS_MAX,
        },
        "an entry of 1025 commands is past the bound of 1024 (ENTRY_COMMANDS_MAX)",
    );
    refused(
        &header(1, SNAPSHOT_BYTES_MAX + 1),
        &WireError::SnapshotTooLong {
            bytes: SNAPSHOT_BYTES_MAX + 1,
            max: SNAPSHOT_BYTES_MAX,
        },
        "longer than the bound of 1073741824 bytes (SNAPSHOT_BYTES_MAX)",
    );
    refused(
        &header(0, 0),
        &WireError::SlotOutOfRange {
            field: "SnapshotHeader.last_slot",
            slot: 0,
        },
        "Slot::FIRST",
    );
}

// ---------------------------------------------------------------------------------------------
// The exact bytes, one item per message variant and per other kind.

#[test]
fn a_prepare_encodes_as_version_variant_ballot_and_first_slot() {
    // Round 300 is the two-byte varint 0xac 0x02 (low seven bits first, high bit = more).
    let prepare = Message::Prepare {
        ballot: b(300, 2),
        first_slot: Slot(5),
    };
    pinned(&prepare, &[2, 0, 0xac, 0x02, 2, 5]);
}

#[test]
fn a_promise_encodes_its_votes_as_a_count_then_slot_and_vote_in_slot_order_then_compacted() {
    let votes = BTreeMap::from([
        (
            Slot(2),
            Vote {
                ballot: b(1, 2),
                entry: Entry::NoOp,
            },
        ),
        (
            Slot(3),
            Vote {
                ballot: b(0, 1),
                entry: Entry::batch(vec![Command(b"ab".to_vec())]),
            },
        ),
    ]);
    let promise = Message::Promise {
        ballot: b(4, 3),
        acceptor: NodeId(1),
        votes,
        compacted: Slot(1),
    };
    #[rustfmt::skip]
    let bytes = [
        2, 1, 4, 3, 1,           // version, Promise, ballot 4.3, acceptor 1
        2,                       // two votes
        2, 1, 2, 0,              // slot 2: ballot 1.2, NoOp
        3, 0, 1, 1, 1, 2, b'a', b'b', // slot 3: ballot 0.1, Batch of one command "ab"
        1,                       // compacted through slot 1
    ];
    pinned(&promise, &bytes);
}

#[test]
fn an_accept_encodes_its_entry_as_a_variant_then_its_commands() {
    let accept = Message::Accept {
        ballot: b(0, 1),
        slot: Slot(130),
        entry: Entry::batch(vec![Command(vec![]), Command(vec![0xff])]),
    };
    // Slot 130 is the varint 0x82 0x01; the batch holds two commands, of 0 and 1 bytes.
    pinned(&accept, &[2, 2, 0, 1, 0x82, 0x01, 1, 2, 0, 1, 0xff]);
}

#[test]
fn an_accepted_encodes_as_version_variant_ballot_acceptor_slot_and_entry() {
    let accepted = Message::Accepted {
        ballot: b(7, 7),
        acceptor: NodeId(3),
        slot: Slot(1),
        entry: Entry::NoOp,
    };
    pinned(&accepted, &[2, 3, 7, 7, 3, 1, 0]);
}

#[test]
fn a_heartbeat_encodes_as_version_variant_ballot_and_decided_through() {
    let heartbeat = Message::Heartbeat {
        ballot: b(2, 1),
        decided_through: Slot(0),
    };
    pinned(&heartbeat, &[2, 4, 2, 1, 0]);
}

#[test]
fn a_catch_up_request_encodes_as_version_variant_and_first_slot() {
    let request = Message::CatchUpRequest {
        first_slot: Slot(9),
    };
    pinned(&request, &[2, 5, 9]);
}

#[test]
fn a_catch_up_encodes_as_version_variant_first_slot_and_entries() {
    let reply = Message::CatchUp {
        first_slot: Slot(3),
        entries: vec![Entry::NoOp, Entry::batch(vec![Command(b"x".to_vec())])],
    };
    pinned(&reply, &[2, 6, 3, 2, 0, 1, 1, 1, b'x']);
}

#[test]
fn a_hard_state_encodes_as_two_options() {
    pinned(&HardState::default(), &[2, 0, 0]);
    let full = HardState {
        promised: Some(b(2, 1)),
        round_started_max: Some(u32::MAX),
    };
    pinned(&full, &[2, 1, 2, 1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f]);
}

#[test]
fn a_vote_encodes_as_its_slot_then_ballot_and_entry() {
    let vote = Vote {
        ballot: b(1, 2),
        entry: Entry::batch(vec![Command(b"v".to_vec())]),
    };
    pinned(&(Slot(4), vote), &[2, 4, 1, 2, 1, 1, 1, b'v']);
}

#[test]
fn a_snapshot_header_encodes_as_slot_length_and_checksum() {
    // The CRC-32C of "123456789" is 0xe3069283, the standard check value of the Castagnoli
    // polynomial; as a varint, low seven bits first: 0x83 0xa5 0x9a 0x98 0x0e.
    let header = SnapshotHeader::new(Slot(7), b"123456789");
    assert_eq!(header.state_crc32c, 0xe306_9283);
    pinned(&header, &[2, 7, 9, 0x83, 0xa5, 0x9a, 0x98, 0x0e]);
}

// ---------------------------------------------------------------------------------------------
// Strictness beyond the bounds.

#[test]
fn decoding_is_strict_about_version_length_and_end() {
    common::strict(&Message::CatchUpRequest {
        first_slot: Slot(1),
    });
    common::strict(&HardState::default());
    common::strict(&(
        Slot(1),
        Vote {
            ballot: b(0, 1),
            entry: Entry::NoOp,
        },
    ));
    common::strict(&header(1, 0));
}

#[test]
fn a_promise_whose_votes_are_out_of_slot_order_or_repeated_is_refused_as_non_canonical() {
    // A promise of ballot 4.3 by acceptor 1 with two NoOp votes of ballot 1.2, compacted
    // nowhere: in slots 3 then 2, and twice in slot 2. postcard reads both into a map; only
    // slots 2 then 3 is the one encoding.
    let out_of_order = [2, 1, 4, 3, 1, 2, 3, 1, 2, 0, 2, 1, 2, 0, 0];
    let repeated = [2, 1, 4, 3, 1, 2, 2, 1, 2, 0, 2, 1, 2, 0, 0];
    for bytes in [out_of_order, repeated] {
        assert_eq!(
            decode_message(&bytes),
            Err(WireError::Codec(CodecError::NonCanonical)),
            "{bytes:?}"
        );
    }
}

#[test]
fn an_unknown_variant_is_malformed() {
    let error = decode_message(&[2, 7, 1]).unwrap_err();
    assert!(
        matches!(error, WireError::Codec(CodecError::Malformed { .. })),
        "{error}"
    );
}

#[test]
fn a_snapshot_state_is_checked_against_its_header() {
    let state = b"the state machine's bytes";
    let header = SnapshotHeader::new(Slot(12), state);
    assert_eq!(header.check(state), Ok(()));
    assert_eq!(
        header.check(&state[..4]),
        Err(SnapshotError::Length {
            expected: state.len() as u64,
            found: 4
        })
    );
    let mut damaged = state.to_vec();
    damaged[0] ^= 1;
    let error = header.check(&damaged).unwrap_err();
    assert!(
        matches!(error, SnapshotError::Checksum { expected, .. } if expected == header.state_crc32c),
        "{error}"
    );
}
