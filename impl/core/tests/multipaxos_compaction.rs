//! Compaction in the Multi-Paxos core, one behaviour per test, through the public API: what a
//! replica forgets once a snapshot is durable, what its promises say, how a leader treats a
//! quorum that compacted, how a replica behind a peer's snapshot gets it, and the bounds that
//! keep a replica's memory and messages finite. The protocol as a whole is checked by the tests
//! generated from the model and the random runs in `generated-tests/`.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

mod replica;
use replica::*;

use colony_core::group::NodeId;
use colony_core::multipaxos::{
    Command, ConfigError, Durable, Entry, Input, Message, Replica, Slot, SnapshotTransfer,
    ENTRY_BYTES_MAX, IN_FLIGHT_BYTES_MAX, LOG_SLOTS_MAX, MESSAGE_BYTES_MAX, READY_BYTES_MAX,
};
use std::collections::BTreeMap;

/// Replica 2 with slots 1-5 decided and voted for, then snapshotted through slot 3.
fn compacted_through_3_of_5() -> Replica {
    let mut replica = replica_with_log(2, 5);
    let _ = replica.step(Input::Snapshotted { last_slot: Slot(3) });
    replica
}

#[test]
fn a_durable_snapshot_forgets_the_votes_and_entries_it_covers() {
    let mut replica = replica_with_log(2, 5);
    let ready = replica.step(Input::Snapshotted { last_slot: Slot(3) });
    assert_eq!(ready.compacted, Some(Slot(3)), "storage may drop slots 1-3");
    assert_eq!(replica.snapshot_slot(), Slot(3));
    assert_eq!(replica.compacted(), Slot(3));
    assert_eq!(replica.decided_through(), Slot(5));
    assert_eq!(replica.decided(), [batch("4"), batch("5")]);
    let voted: Vec<Slot> = replica.votes().keys().copied().collect();
    assert_eq!(voted, [Slot(4), Slot(5)]);
    let again = replica.step(Input::Snapshotted { last_slot: Slot(2) });
    assert!(again.is_empty(), "an older snapshot changes nothing");
}

#[test]
fn a_promise_says_how_far_its_acceptor_compacted_and_reports_only_the_votes_above() {
    let mut replica = compacted_through_3_of_5();
    let ready = deliver(
        &mut replica,
        3,
        Message::Prepare {
            ballot: ballot(2, 3),
            first_slot: Slot(1),
        },
    );
    let Message::Promise {
        votes, compacted, ..
    } = &ready.messages[0].message
    else {
        panic!("a promise: {:?}", ready.messages);
    };
    assert_eq!(*compacted, Slot(3));
    assert_eq!(
        votes.keys().copied().collect::<Vec<_>>(),
        [Slot(4), Slot(5)]
    );
}

#[test]
fn an_acceptor_refuses_a_proposal_in_a_slot_it_compacted_and_sends_its_snapshot_once_a_tick() {
    let mut replica = compacted_through_3_of_5();
    let stale = |slot| Message::Accept {
        ballot: ballot(2, 1),
        slot: Slot(slot),
        entry: batch("x"),
    };
    let ready = deliver(&mut replica, 1, stale(2));
    assert!(
        ready.votes.is_empty() && ready.messages.is_empty(),
        "no vote"
    );
    let transfer = SnapshotTransfer {
        to: NodeId(1),
        last_slot: Slot(3),
    };
    assert_eq!(ready.snapshots, [transfer], "the leader lags behind it");
    let ready = deliver(&mut replica, 1, stale(3));
    assert!(ready.snapshots.is_empty(), "once between two ticks");
    let _ = replica.step(Input::Tick);
    let ready = deliver(&mut replica, 1, stale(1));
    assert_eq!(ready.snapshots, [transfer], "again after a tick");
}

#[test]
fn a_catch_up_request_below_the_snapshot_is_answered_with_the_snapshot() {
    let mut replica = compacted_through_3_of_5();
    let ready = deliver(
        &mut replica,
        3,
        Message::CatchUpRequest {
            first_slot: Slot(2),
        },
    );
    let transfer = SnapshotTransfer {
        to: NodeId(3),
        last_slot: Slot(3),
    };
    assert_eq!(ready.snapshots, [transfer]);
    assert!(ready.messages.is_empty());
    let ready = deliver(
        &mut replica,
        3,
        Message::CatchUpRequest {
            first_slot: Slot(4),
        },
    );
    let expected = Message::CatchUp {
        first_slot: Slot(4),
        entries: vec![batch("4"), batch("5")],
    };
    assert_eq!(ready.messages[0].message, expected, "above it, entries");
}

#[test]
fn an_installed_snapshot_moves_the_log_past_it_and_applies_what_was_chosen_beyond() {
    let mut replica = Replica::new(config(3), Durable::default()).unwrap();
    assert!(replica.wants_snapshot(Slot(4)));
    // Slot 5 is chosen while slots 1-4 are missing: it waits.
    for acceptor in [1, 2] {
        let ready = deliver(
            &mut replica,
            acceptor,
            Message::Accepted {
                ballot: ballot(1, 1),
                acceptor: NodeId(acceptor),
                slot: Slot(5),
                entry: batch("5"),
            },
        );
        assert!(ready.decided.is_empty());
    }
    let ready = replica.step(Input::Snapshotted { last_slot: Slot(4) });
    assert_eq!(ready.decided, [(Slot(5), batch("5"))]);
    assert_eq!(ready.compacted, Some(Slot(4)));
    assert_eq!(replica.decided_through(), Slot(5));
    assert_eq!(replica.snapshot_slot(), Slot(4));
    assert!(!replica.wants_snapshot(Slot(5)), "it has decided as much");
}

#[test]
fn a_new_leader_proposes_in_no_slot_its_quorum_compacted_and_catches_up_from_the_furthest() {
    let mut leader = Replica::new(config(1), Durable::default()).unwrap();
    let above = BTreeMap::from([(Slot(5), vote(0, batch("5")))]);
    let ready = lead(&mut leader, [(Slot(2), BTreeMap::new()), (Slot(4), above)]);
    let proposed: Vec<(Slot, Entry)> = ready
        .messages
        .iter()
        .filter_map(|e| match &e.message {
            Message::Accept { slot, entry, .. } => Some((*slot, entry.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        proposed,
        vec![(Slot(5), batch("5")); 3],
        "slots 1-4 are compacted by a quorum member: only slot 5 is proposed, to every member"
    );
    let asked: Vec<&Message> = ready
        .messages
        .iter()
        .filter(|e| e.to == NodeId(3))
        .map(|e| &e.message)
        .filter(|m| matches!(m, Message::CatchUpRequest { .. }))
        .collect();
    assert_eq!(
        asked,
        [&Message::CatchUpRequest {
            first_slot: Slot(1)
        }],
        "it asks the member that compacted furthest"
    );
}

#[test]
fn a_follower_ahead_of_its_leader_sends_it_what_it_misses() {
    let mut replica = compacted_through_3_of_5();
    let heartbeat = |decided_through| Message::Heartbeat {
        ballot: ballot(1, 1),
        decided_through: Slot(decided_through),
    };
    let ready = deliver(&mut replica, 1, heartbeat(4));
    let expected = Message::CatchUp {
        first_slot: Slot(5),
        entries: vec![batch("5")],
    };
    assert_eq!(ready.messages[0].message, expected);
    let ready = deliver(&mut replica, 1, heartbeat(1));
    assert_eq!(
        ready.snapshots,
        [SnapshotTransfer {
            to: NodeId(1),
            last_slot: Slot(3)
        }],
        "behind the snapshot, the snapshot"
    );
    assert!(
        deliver(&mut replica, 1, heartbeat(5)).is_empty(),
        "level: nothing"
    );
}

#[test]
fn a_replica_asks_for_a_snapshot_every_interval_of_decided_slots() {
    let mut config = config(3);
    config.snapshot_interval_slots = 2;
    let mut replica = Replica::new(config, Durable::default()).unwrap();
    let mut wanted = Vec::new();
    for slot in 1..=5 {
        let reply = Message::CatchUp {
            first_slot: Slot(slot),
            entries: vec![batch(&slot.to_string())],
        };
        let ready = deliver(&mut replica, 1, reply);
        if let Some(at) = ready.snapshot_wanted {
            wanted.push(at);
            let _ = replica.step(Input::Snapshotted { last_slot: at });
        }
    }
    assert_eq!(wanted, [Slot(2), Slot(4)]);
}

#[test]
fn an_acceptor_holds_no_vote_past_the_log_bound_above_its_snapshot() {
    let mut replica = Replica::new(config(2), Durable::default()).unwrap();
    let accept = |slot| Message::Accept {
        ballot: ballot(1, 1),
        slot: Slot(slot),
        entry: Entry::NoOp,
    };
    assert!(!deliver(&mut replica, 1, accept(LOG_SLOTS_MAX))
        .votes
        .is_empty());
    assert!(deliver(&mut replica, 1, accept(LOG_SLOTS_MAX + 1))
        .votes
        .is_empty());
}

#[test]
fn an_acceptor_whose_votes_would_pass_the_message_bound_does_not_promise() {
    let large = Entry::batch(vec![Command(vec![1; ENTRY_BYTES_MAX])]);
    let count = MESSAGE_BYTES_MAX / ENTRY_BYTES_MAX;
    let mut replica = restarted(2, vec![large; count + 1], false);
    let prepare = |first_slot| Message::Prepare {
        ballot: ballot(2, 3),
        first_slot: Slot(first_slot),
    };
    let refused = deliver(&mut replica, 3, prepare(1));
    assert!(refused.messages.is_empty() && refused.hard_state.is_none());
    let promised = deliver(&mut replica, 3, prepare(2));
    assert!(matches!(
        promised.messages[0].message,
        Message::Promise { .. }
    ));
}

#[test]
fn a_leader_keeps_its_bytes_in_flight_within_the_bound() {
    let mut config = config(1);
    config.batch_commands_max = 1;
    let mut leader = Replica::new(config, Durable::default()).unwrap();
    let _ = lead(
        &mut leader,
        [(Slot(0), BTreeMap::new()), (Slot(0), BTreeMap::new())],
    );
    assert!(leader.leading().is_some());
    let mut proposed_bytes = 0;
    for _ in 0..IN_FLIGHT_BYTES_MAX / ENTRY_BYTES_MAX + 2 {
        let ready = leader.propose(Command(vec![0; ENTRY_BYTES_MAX])).unwrap();
        proposed_bytes += ready
            .messages
            .iter()
            .filter(|e| e.to == NodeId(1))
            .filter_map(|e| match &e.message {
                Message::Accept { entry, .. } => Some(entry.bytes()),
                _ => None,
            })
            .sum::<usize>();
    }
    assert_eq!(proposed_bytes, IN_FLIGHT_BYTES_MAX);
    assert_eq!(leader.pending_count(), 2, "the rest waits for room");
}

/// A proposal goes to every member, and a heartbeat resends every one in flight, but the
/// members' copies share one batch: the step's distinct payload is the bytes in flight once.
#[test]
fn a_batch_sent_to_every_member_is_shared_not_copied() {
    let mut leader = Replica::new(config(1), Durable::default()).unwrap();
    let _ = lead(
        &mut leader,
        [(Slot(0), BTreeMap::new()), (Slot(0), BTreeMap::new())],
    );
    let ready = leader.propose(Command(vec![0; ENTRY_BYTES_MAX])).unwrap();
    let accepts = ready
        .messages
        .iter()
        .filter(|e| matches!(e.message, Message::Accept { .. }))
        .count();
    assert_eq!(accepts, MEMBERS.len(), "one proposal per member");
    assert_eq!(ready.payload_bytes(), ENTRY_BYTES_MAX, "counted once");
    let mut resent = None;
    for _ in 0..config(1).heartbeat_ticks {
        let ready = leader.step(Input::Tick);
        if !ready.messages.is_empty() {
            resent = Some(ready);
        }
    }
    let resent = resent.expect("a heartbeat within heartbeat_ticks");
    assert!(
        resent.messages.len() > MEMBERS.len(),
        "heartbeats and resends"
    );
    assert_eq!(resent.payload_bytes(), ENTRY_BYTES_MAX);
    assert!(resent.payload_bytes() <= READY_BYTES_MAX);
}

#[test]
fn a_durable_state_past_the_log_bound_is_refused_with_the_reason() {
    let durable = Durable {
        decided: vec![Entry::NoOp; LOG_SLOTS_MAX as usize + 1],
        ..Durable::default()
    };
    let error = Replica::new(config(1), durable).unwrap_err();
    assert!(matches!(error, ConfigError::Durable(_)), "{error}");
    let durable = Durable {
        votes: BTreeMap::from([(Slot(LOG_SLOTS_MAX + 8), vote(0, Entry::NoOp))]),
        snapshot_slot: Slot(7),
        ..Durable::default()
    };
    let error = Replica::new(config(1), durable).unwrap_err().to_string();
    assert!(
        error.contains("past the snapshot's s7 + LOG_SLOTS_MAX"),
        "{error}"
    );
    let durable = Durable {
        votes: BTreeMap::from([(Slot(3), vote(0, Entry::NoOp))]),
        snapshot_slot: Slot(3),
        ..Durable::default()
    };
    let replica = Replica::new(config(1), durable).unwrap();
    assert!(
        replica.votes().is_empty(),
        "a vote the snapshot covers is dropped"
    );
}
