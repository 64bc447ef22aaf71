//! Helpers for the hand-written tests of the Multi-Paxos replica: a cell of three replicas
//! `1`, `2` and `3`, driven one input at a time through the public API, so that each test reads
//! as the trace of what one replica heard and did.

// Each test crate includes this module and uses the helpers its tests need.
#![allow(dead_code)]

use colony_core::group::{Ballot, NodeId};
use colony_core::multipaxos::{
    Command, Config, Durable, Entry, HardState, Input, Message, Ready, Replica, Slot, Vote,
};
use std::collections::BTreeMap;

/// The members of the cell.
pub const MEMBERS: [u8; 3] = [1, 2, 3];

/// Replica `id`'s configuration, with the default timers and limits.
pub fn config(id: u8) -> Config {
    Config::new(NodeId(id), MEMBERS.iter().map(|&m| NodeId(m)).collect())
}

pub fn ballot(round: u32, proposer: u8) -> Ballot {
    Ballot {
        round,
        proposer: NodeId(proposer),
    }
}

pub fn command(text: &str) -> Command {
    Command(text.as_bytes().to_vec())
}

/// An entry of one command per text, in order.
pub fn batch_of(texts: &[&str]) -> Entry {
    Entry::batch(texts.iter().map(|t| command(t)).collect())
}

/// An entry of one command.
pub fn batch(text: &str) -> Entry {
    batch_of(&[text])
}

/// A vote of replica 1's ballot `round`.
pub fn vote(round: u32, entry: Entry) -> Vote {
    Vote {
        ballot: ballot(round, 1),
        entry,
    }
}

pub fn deliver(replica: &mut Replica, from: u8, message: Message) -> Ready {
    replica.step(Input::Message {
        from: NodeId(from),
        message,
    })
}

/// Replica `id` restarted having promised ballot 1 and voted in it for `entries` in slots 1, 2,
/// ..., and having decided them too when `decided`.
pub fn restarted(id: u8, entries: Vec<Entry>, decided: bool) -> Replica {
    let votes = (1..)
        .zip(&entries)
        .map(|(s, entry)| (Slot(s), vote(1, entry.clone())))
        .collect();
    let durable = Durable {
        hard_state: HardState {
            promised: Some(ballot(1, 1)),
            round_started_max: None,
        },
        votes,
        snapshot_slot: Slot(0),
        decided: if decided { entries } else { Vec::new() },
    };
    Replica::new(config(id), durable).expect("a valid configuration")
}

/// A replica that decided slots 1..=`decided` (entries "1", "2", ...) and voted for each in
/// ballot 1.
pub fn replica_with_log(id: u8, decided: u64) -> Replica {
    let entries = (1..=decided).map(|s| batch(&s.to_string())).collect();
    restarted(id, entries, true)
}

/// Ticks `replica` until it starts a ballot (at most `election_ticks` times) and returns the
/// ballot.
pub fn tick_until_prepare(replica: &mut Replica) -> Ballot {
    for _ in 0..replica.config().election_ticks {
        let ready = replica.step(Input::Tick);
        if let Some(Message::Prepare { ballot, .. }) = ready.messages.first().map(|e| &e.message) {
            return *ballot;
        }
        assert!(ready.messages.is_empty(), "only a 1a starts: {ready:?}");
    }
    panic!("replica {} never started a ballot", replica.config().id);
}

/// Replica 1 starts a ballot when its election timer runs out and hears the promises of 2 and
/// 3, reporting these compaction points and votes; returns what the last promise made it do.
pub fn lead(leader: &mut Replica, reports: [(Slot, BTreeMap<Slot, Vote>); 2]) -> Ready {
    let ballot = tick_until_prepare(leader);
    let mut last = Ready::default();
    for (acceptor, (compacted, votes)) in (2..).zip(reports) {
        last = deliver(
            leader,
            acceptor,
            Message::Promise {
                ballot,
                acceptor: NodeId(acceptor),
                votes,
                compacted,
            },
        );
    }
    assert!(leader.leading().is_some(), "a quorum promised");
    last
}

/// Replica 1 leads a cell where nobody voted or compacted.
pub fn lead_fresh(leader: &mut Replica) -> Ready {
    let nothing = || (Slot(0), BTreeMap::new());
    lead(leader, [nothing(), nothing()])
}

/// The proposals `ready` sends to replica 1, in order: one per slot, as every proposal goes to
/// every member.
pub fn proposals(ready: &Ready) -> Vec<(Slot, Entry)> {
    ready
        .messages
        .iter()
        .filter(|e| e.to == NodeId(1))
        .filter_map(|e| match &e.message {
            Message::Accept { slot, entry, .. } => Some((*slot, entry.clone())),
            _ => None,
        })
        .collect()
}

/// Replicas 2 and 3, a quorum, tell `replica` they voted for `entry` in `slot` in `ballot`;
/// returns what the second vote made it do.
pub fn decide(replica: &mut Replica, ballot: Ballot, slot: Slot, entry: Entry) -> Ready {
    let mut last = Ready::default();
    for acceptor in [2, 3] {
        last = deliver(
            replica,
            acceptor,
            Message::Accepted {
                ballot,
                acceptor: NodeId(acceptor),
                slot,
                entry: entry.clone(),
            },
        );
    }
    last
}
