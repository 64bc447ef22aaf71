//! What the Multi-Paxos spec leaves to the replica, one behaviour per test: how a leader packs
//! waiting commands into batches and keeps its pipeline bounded, which commands it gives up and
//! when, its timers, and the bounds of catch-up. The spec lets a leader propose any command in
//! any free slot at any time, so the generated tests cannot tell a batch cut one command late or
//! a heartbeat one tick early from the right one; these tests can.

#![allow(clippy::unwrap_used)] // A failed unwrap in a test is a failed test.

mod replica;
use replica::*;

use colony_core::group::NodeId;
use colony_core::multipaxos::{
    Command, Config, Durable, Entry, HardState, Input, Message, Ready, Replica, Slot,
    CATCH_UP_ENTRIES_MAX, ENTRY_BYTES_MAX, IN_FLIGHT_BYTES_MAX, MESSAGE_BYTES_MAX,
};

/// Replica 1 leading a fresh cell with `change` applied to its configuration.
fn leader_with(change: impl FnOnce(&mut Config)) -> Replica {
    let mut config = config(1);
    change(&mut config);
    let mut leader = Replica::new(config, Durable::default()).unwrap();
    let ready = lead_fresh(&mut leader);
    assert!(
        proposals(&ready).is_empty(),
        "nothing reported, nothing waits"
    );
    leader
}

/// Proposes each text as a command and returns the proposals the leader sent at once.
fn propose_all(leader: &mut Replica, texts: &[&str]) -> Vec<(Slot, Entry)> {
    texts
        .iter()
        .flat_map(|text| proposals(&leader.propose(command(text)).unwrap()))
        .collect()
}

#[test]
fn waiting_commands_are_batched_up_to_the_command_and_byte_limits() {
    let mut leader = leader_with(|config| {
        config.slots_in_flight_max = 1;
        config.batch_commands_max = 3;
        config.batch_bytes_max = 10;
    });
    let ballot = leader.leading().unwrap();
    let sent = propose_all(&mut leader, &["first"]);
    assert_eq!(
        sent,
        [(Slot(1), batch("first"))],
        "an empty pipeline: at once"
    );
    let waiting = [
        "a",
        "b",
        "c",
        "dddd",
        "eeeeee",
        "ffff",
        "g",
        "twelve bytes",
        "h",
    ];
    assert!(
        propose_all(&mut leader, &waiting).is_empty(),
        "the pipeline is full"
    );
    assert_eq!(leader.pending_count(), waiting.len());

    // Each decided slot frees the pipeline for the next batch: the most commands that fit.
    let expected = [
        // Three commands: the count bound, though "dddd" would fit the bytes.
        batch_of(&["a", "b", "c"]),
        // Ten bytes exactly: the byte bound is inclusive, and "ffff" would pass it.
        batch_of(&["dddd", "eeeeee"]),
        // Bytes to spare, but the next command would pass them.
        batch_of(&["ffff", "g"]),
        // A command longer than the byte bound goes alone.
        batch("twelve bytes"),
        batch("h"),
    ];
    let mut decided = batch("first");
    for (slot, entry) in (1..).zip(expected) {
        let ready = decide(&mut leader, ballot, Slot(slot), decided);
        assert_eq!(proposals(&ready), [(Slot(slot + 1), entry.clone())]);
        decided = entry;
    }
    assert_eq!(leader.pending_count(), 0);
    let ready = decide(&mut leader, ballot, Slot(6), decided);
    assert!(proposals(&ready).is_empty(), "nothing waits");
    assert_eq!(leader.proposals_in_flight(), 0);
}

#[test]
fn the_pipeline_holds_slots_in_flight_max_slots_from_the_first_undecided_one() {
    let mut leader = leader_with(|config| {
        config.slots_in_flight_max = 2;
        config.batch_commands_max = 1;
    });
    let ballot = leader.leading().unwrap();
    let sent = propose_all(&mut leader, &["1", "2", "3", "4", "5"]);
    assert_eq!(sent, [(Slot(1), batch("1")), (Slot(2), batch("2"))]);
    assert_eq!(leader.pending_count(), 3);
    assert_eq!(leader.proposals_in_flight(), 2);

    let ready = decide(&mut leader, ballot, Slot(2), batch("2"));
    assert!(
        proposals(&ready).is_empty() && ready.decided.is_empty(),
        "slot 2 is decided, but slot 1, the first undecided, still holds the pipeline"
    );
    let ready = decide(&mut leader, ballot, Slot(1), batch("1"));
    assert_eq!(
        ready.decided.len(),
        2,
        "slots 1 and 2 join the decided prefix"
    );
    assert_eq!(
        proposals(&ready),
        [(Slot(3), batch("3")), (Slot(4), batch("4"))],
        "two slots beyond the new first undecided one"
    );
    assert_eq!(leader.pending_count(), 1);
}

#[test]
fn a_replica_preparing_a_ballot_queues_commands_and_proposes_them_once_it_leads() {
    let mut leader = Replica::new(config(1), Durable::default()).unwrap();
    let ready = leader.propose(command("x")).unwrap();
    let Some(Message::Prepare { ballot, .. }) = ready.messages.first().map(|e| &e.message) else {
        panic!("no leader known: the command starts a ballot, {ready:?}");
    };
    let ballot = *ballot;
    assert!(proposals(&leader.propose(command("y")).unwrap()).is_empty());
    assert_eq!(leader.pending_count(), 2, "waiting for phase 1");
    let promise = |acceptor| Message::Promise {
        ballot,
        acceptor: NodeId(acceptor),
        votes: Default::default(),
        compacted: Slot(0),
    };
    assert!(deliver(&mut leader, 2, promise(2)).messages.is_empty());
    let ready = deliver(&mut leader, 3, promise(3));
    assert_eq!(proposals(&ready), [(Slot(1), batch_of(&["x", "y"]))]);
    assert_eq!(leader.pending_count(), 0);
}

#[test]
fn a_leader_deposed_by_a_higher_ballot_gives_up_its_waiting_commands_only() {
    let mut leader = leader_with(|config| config.slots_in_flight_max = 1);
    let own = leader.leading().unwrap();
    let _ = propose_all(&mut leader, &["in flight", "waits", "waits too"]);

    let lower = ballot(own.round - 1, 3);
    let ready = deliver(
        &mut leader,
        3,
        Message::Prepare {
            ballot: lower,
            first_slot: Slot(1),
        },
    );
    assert!(ready.abandoned.is_empty(), "a lower ballot deposes nobody");
    assert_eq!(leader.leading(), Some(own));

    let higher = ballot(own.round + 1, 2);
    let ready = deliver(
        &mut leader,
        2,
        Message::Prepare {
            ballot: higher,
            first_slot: Slot(1),
        },
    );
    assert_eq!(
        ready.abandoned,
        [command("waits"), command("waits too")],
        "the commands never proposed are given up; the one in flight may still be decided"
    );
    assert_eq!(leader.leading(), None);
    assert_eq!(leader.pending_count(), 0);
    assert_eq!(leader.leader_hint(), Some(NodeId(2)));
    assert_eq!(
        leader.propose(command("late")).unwrap_err().to_string(),
        "replica n2 leads this cell: propose there"
    );
}

#[test]
fn a_proposal_whose_slot_another_entry_won_is_given_up() {
    let mut leader = leader_with(|_| {});
    let own = leader.leading().unwrap();
    let _ = propose_all(&mut leader, &["mine"]);
    let higher = ballot(own.round + 1, 2);
    let ready = decide(&mut leader, higher, Slot(1), batch("theirs"));
    assert_eq!(ready.decided, [(Slot(1), batch("theirs"))]);
    assert_eq!(ready.abandoned, [command("mine")]);

    let _ = propose_all(&mut leader, &["kept"]);
    let ready = decide(&mut leader, own, Slot(2), batch("kept"));
    assert_eq!(ready.decided, [(Slot(2), batch("kept"))]);
    assert!(ready.abandoned.is_empty(), "decided as proposed");
}

#[test]
fn a_follower_starts_a_ballot_after_election_ticks_without_a_sign_of_a_leader() {
    let mut follower = Replica::new(config(2), Durable::default()).unwrap();
    let election_ticks = follower.config().election_ticks;
    for _ in 1..election_ticks {
        assert!(follower.step(Input::Tick).is_empty());
    }
    let ready = follower.step(Input::Tick);
    let prepares: Vec<NodeId> = ready
        .messages
        .iter()
        .filter(|e| matches!(e.message, Message::Prepare { .. }))
        .map(|e| e.to)
        .collect();
    assert_eq!(prepares, [NodeId(1), NodeId(2), NodeId(3)]);
    assert_eq!(
        ready.hard_state.map(|h| h.round_started_max),
        Some(Some(1)),
        "the round started is persisted before the 1a goes out"
    );
}

#[test]
fn a_ballot_that_gathers_no_quorum_is_retried_higher_after_election_ticks() {
    let mut replica = Replica::new(config(2), Durable::default()).unwrap();
    let first = tick_until_prepare(&mut replica);
    let second = tick_until_prepare(&mut replica);
    assert!(second > first, "{second} after {first}");
}

#[test]
fn a_live_leaders_heartbeat_holds_off_the_election_and_a_deposed_ones_does_not() {
    let heartbeat = |round| Message::Heartbeat {
        ballot: ballot(round, 1),
        decided_through: Slot(0),
    };
    // A follower that promised ballot 1.1 hears its leader just before its timer runs out.
    let mut follower = restarted(2, Vec::new(), false);
    let election_ticks = follower.config().election_ticks;
    for _ in 1..election_ticks {
        assert!(follower.step(Input::Tick).is_empty());
    }
    assert!(deliver(&mut follower, 1, heartbeat(1)).is_empty());
    for _ in 1..election_ticks {
        assert!(follower.step(Input::Tick).is_empty(), "the timer restarted");
    }
    assert!(
        !follower.step(Input::Tick).messages.is_empty(),
        "and ran out"
    );

    // The heartbeat of a ballot below the follower's promise does not hold it off: a quorum may
    // have abandoned that leader.
    let durable = Durable {
        hard_state: HardState {
            promised: Some(ballot(5, 3)),
            round_started_max: None,
        },
        ..Durable::default()
    };
    let mut follower = Replica::new(config(2), durable).unwrap();
    for _ in 1..election_ticks {
        assert!(follower.step(Input::Tick).is_empty());
    }
    assert!(deliver(&mut follower, 1, heartbeat(1)).is_empty());
    let ready = follower.step(Input::Tick);
    assert!(
        matches!(ready.messages.first().map(|e| &e.message), Some(Message::Prepare { ballot, .. }) if ballot.round == 6),
        "{ready:?}"
    );
}

#[test]
fn a_leader_heartbeats_every_heartbeat_ticks_and_resends_what_is_undecided() {
    let mut leader = leader_with(|_| {});
    let own = leader.leading().unwrap();
    let heartbeat_ticks = leader.config().heartbeat_ticks;
    let tick_to_heartbeat = |leader: &mut Replica| {
        for _ in 1..heartbeat_ticks {
            assert!(leader.step(Input::Tick).is_empty(), "between heartbeats");
        }
        leader.step(Input::Tick)
    };
    let _ = propose_all(&mut leader, &["x"]);
    let ready = tick_to_heartbeat(&mut leader);
    let heartbeats: Vec<(NodeId, Slot)> = ready
        .messages
        .iter()
        .filter_map(|e| match e.message {
            Message::Heartbeat {
                ballot,
                decided_through,
            } if ballot == own => Some((e.to, decided_through)),
            _ => None,
        })
        .collect();
    assert_eq!(
        heartbeats,
        [NodeId(1), NodeId(2), NodeId(3)].map(|to| (to, Slot(0)))
    );
    assert_eq!(proposals(&ready), [(Slot(1), batch("x"))], "resent");

    let _ = decide(&mut leader, own, Slot(1), batch("x"));
    let ready = tick_to_heartbeat(&mut leader);
    assert!(proposals(&ready).is_empty(), "nothing undecided");
    assert!(ready.messages.iter().all(|e| matches!(
        e.message,
        Message::Heartbeat {
            decided_through: Slot(1),
            ..
        }
    )));
    assert_eq!(ready.messages.len(), 3);
}

#[test]
fn a_catch_up_reply_starts_at_the_slot_asked_and_stops_at_the_entry_bound() {
    let decided = CATCH_UP_ENTRIES_MAX as u64 + 6;
    let mut peer = replica_with_log(2, decided);
    let ask = |first_slot| Message::CatchUpRequest {
        first_slot: Slot(first_slot),
    };
    let reply = |ready: Ready| match ready.messages.as_slice() {
        [envelope] if envelope.to == NodeId(1) => match &envelope.message {
            Message::CatchUp {
                first_slot,
                entries,
            } => Some((*first_slot, entries.clone())),
            other => panic!("{other:?} is no catch-up reply"),
        },
        [] => None,
        other => panic!("{other:?}"),
    };
    let entries = |from: u64, to: u64| (from..=to).map(|s| batch(&s.to_string())).collect();
    let full = reply(deliver(&mut peer, 1, ask(3)));
    let last = 3 + CATCH_UP_ENTRIES_MAX as u64 - 1;
    assert_eq!(full, Some((Slot(3), entries(3, last))));
    assert_eq!(
        reply(deliver(&mut peer, 1, ask(decided))),
        Some((Slot(decided), entries(decided, decided)))
    );
    assert_eq!(reply(deliver(&mut peer, 1, ask(decided + 1))), None);
    assert_eq!(reply(deliver(&mut peer, 1, ask(0))), None, "no slot 0");

    // The asker takes a full reply as a sign that the peer has more, and asks again from where
    // the reply ended; a shorter one ends the catch-up.
    let mut asker = Replica::new(config(1), Durable::default()).unwrap();
    let (_, first) = reply(deliver(&mut peer, 1, ask(1))).unwrap();
    let ready = deliver(
        &mut asker,
        2,
        Message::CatchUp {
            first_slot: Slot(1),
            entries: first,
        },
    );
    assert_eq!(ready.decided.len(), CATCH_UP_ENTRIES_MAX);
    let again = Message::CatchUpRequest {
        first_slot: Slot(CATCH_UP_ENTRIES_MAX as u64 + 1),
    };
    assert_eq!(
        ready
            .messages
            .iter()
            .map(|e| (e.to, &e.message))
            .collect::<Vec<_>>(),
        [(NodeId(2), &again)]
    );
    let (first_slot, rest) = reply(deliver(&mut peer, 1, again)).unwrap();
    let ready = deliver(
        &mut asker,
        2,
        Message::CatchUp {
            first_slot,
            entries: rest,
        },
    );
    assert_eq!(asker.decided_through(), Slot(decided));
    assert!(ready.messages.is_empty(), "caught up");
    assert_eq!(ready.decided.len(), 6);
}

#[test]
fn a_command_too_long_or_a_full_queue_is_refused_and_nothing_is_queued() {
    let mut leader = leader_with(|config| {
        config.slots_in_flight_max = 1;
        config.pending_commands_max = 2;
    });
    let _ = propose_all(&mut leader, &["in flight", "1", "2"]);
    assert_eq!(leader.pending_count(), 2);
    let error = leader.propose(command("3")).unwrap_err();
    assert_eq!(
        error.to_string(),
        "2 commands are waiting for a slot already (pending_commands_max)"
    );
    assert_eq!(leader.pending_count(), 2);
    let too_long = Command(vec![0; colony_core::multipaxos::COMMAND_BYTES_MAX + 1]);
    assert!(leader.propose(too_long).is_err());
    assert_eq!(leader.pending_count(), 2);
}

#[test]
fn a_batch_fills_only_the_room_the_pipelines_byte_bound_leaves() {
    let mut leader = leader_with(|_| {});
    let ballot = leader.leading().unwrap();
    let kib = |n: usize| Command(vec![0; n * 1024]);
    let mib = 1024;
    // In flight: 512 KiB in slot 1, then three of 1 MiB and two of 256 KiB, as each arrives:
    // 4 MiB, the bound, exactly.
    for size in [mib / 2, mib, mib, mib, mib / 4, mib / 4] {
        let ready = leader.propose(kib(size)).unwrap();
        assert_eq!(proposals(&ready).len(), 1, "room for {size} KiB");
    }
    assert_eq!(leader.proposals_in_flight(), 6);
    for _ in 0..4 {
        assert!(proposals(&leader.propose(kib(mib / 4)).unwrap()).is_empty());
    }
    // Slot 1 decided frees 512 KiB: the next batch takes two of the four waiting commands, which
    // is less than `batch_bytes_max` (1 MiB) allows, and fills the room exactly.
    let ready = decide(
        &mut leader,
        ballot,
        Slot(1),
        Entry::batch(vec![kib(mib / 2)]),
    );
    assert_eq!(
        proposals(&ready),
        [(Slot(7), Entry::batch(vec![kib(mib / 4), kib(mib / 4)]))]
    );
    assert_eq!(leader.pending_count(), 2);
    assert_eq!(
        IN_FLIGHT_BYTES_MAX,
        4 * mib * 1024,
        "the room this test fills"
    );
}

/// A reply to `first_slot` of `entries`, from replica 2.
fn catch_up(asker: &mut Replica, first_slot: u64, entries: Vec<Entry>) -> Ready {
    deliver(
        asker,
        2,
        Message::CatchUp {
            first_slot: Slot(first_slot),
            entries,
        },
    )
}

#[test]
fn a_catch_up_reply_stops_at_the_message_byte_bound_and_the_asker_asks_for_the_rest() {
    let largest = |slot: u64| Entry::batch(vec![Command(vec![slot as u8; ENTRY_BYTES_MAX])]);
    let per_message = MESSAGE_BYTES_MAX / ENTRY_BYTES_MAX;
    let decided = per_message as u64 + 1;
    let mut peer = restarted(2, (1..=decided).map(largest).collect(), true);
    let ready = deliver(
        &mut peer,
        1,
        Message::CatchUpRequest {
            first_slot: Slot(1),
        },
    );
    let Some(Message::CatchUp { entries, .. }) = ready.messages.first().map(|e| &e.message) else {
        panic!("no reply: {ready:?}");
    };
    assert_eq!(
        entries.len(),
        per_message,
        "16 entries of 1 MiB fill MESSAGE_BYTES_MAX exactly; the 17th would pass it"
    );

    // A reply with no room for one more entry of the largest size may have been cut: the asker
    // asks again from where it ended, though it holds fewer than CATCH_UP_ENTRIES_MAX entries.
    let mut asker = Replica::new(config(1), Durable::default()).unwrap();
    let ready = catch_up(&mut asker, 1, entries.clone());
    assert_eq!(ready.decided.len(), per_message);
    let again = Message::CatchUpRequest {
        first_slot: Slot(decided),
    };
    assert_eq!(
        ready
            .messages
            .iter()
            .map(|e| &e.message)
            .collect::<Vec<_>>(),
        [&again]
    );

    // One entry of the largest size less leaves room for another: the peer had no more.
    let mut asker = Replica::new(config(1), Durable::default()).unwrap();
    let ready = catch_up(&mut asker, 1, entries[1..].to_vec());
    assert_eq!(ready.decided.len(), per_message - 1);
    assert!(ready.messages.is_empty(), "{:?}", ready.messages);
}

#[test]
fn a_malformed_catch_up_reply_is_ignored() {
    let mut asker = Replica::new(config(1), Durable::default()).unwrap();
    assert!(
        catch_up(&mut asker, 0, vec![batch("x")]).is_empty(),
        "no slot 0"
    );
    let too_many = vec![batch("x"); CATCH_UP_ENTRIES_MAX + 1];
    assert!(
        catch_up(&mut asker, 1, too_many).is_empty(),
        "past the bound"
    );
    assert_eq!(asker.decided_through(), Slot(0));
}

#[test]
fn a_promise_holds_off_neither_the_retry_of_a_ballot_nor_the_leaders_heartbeat() {
    // A promise short of a quorum: the ballot is still retried when the timer runs out.
    let mut replica = Replica::new(config(1), Durable::default()).unwrap();
    let ballot = tick_until_prepare(&mut replica);
    let promise = |acceptor| Message::Promise {
        ballot,
        acceptor: NodeId(acceptor),
        votes: Default::default(),
        compacted: Slot(0),
    };
    let election_ticks = replica.config().election_ticks;
    for _ in 1..election_ticks {
        assert!(replica.step(Input::Tick).is_empty());
    }
    assert!(deliver(&mut replica, 2, promise(2)).is_empty());
    let ready = replica.step(Input::Tick);
    assert!(
        matches!(ready.messages.first().map(|e| &e.message), Some(Message::Prepare { ballot: b, .. }) if *b > ballot),
        "{ready:?}"
    );

    // A promise arriving after phase 1 ended: the heartbeat still goes out on time.
    let mut leader = leader_with(|_| {});
    let ballot = leader.leading().unwrap();
    let heartbeat_ticks = leader.config().heartbeat_ticks;
    for _ in 1..heartbeat_ticks {
        assert!(leader.step(Input::Tick).is_empty());
    }
    let late = Message::Promise {
        ballot,
        acceptor: NodeId(1),
        votes: Default::default(),
        compacted: Slot(0),
    };
    assert!(deliver(&mut leader, 1, late).is_empty());
    let ready = leader.step(Input::Tick);
    assert!(
        matches!(
            ready.messages.first().map(|e| &e.message),
            Some(Message::Heartbeat { .. })
        ),
        "{ready:?}"
    );
}
