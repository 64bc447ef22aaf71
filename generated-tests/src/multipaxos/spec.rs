//! `MultiPaxos.tla`'s notation, and its mapping to the implementation's types.
//!
//! Ballots map as for single-decree Paxos ([`crate::spec::ballot`]: round `b`, owned by a node
//! other than node 1, the one under test). Values: `NoOp` (0) is [`Entry::NoOp`], command `c`
//! is an entry holding the one command `"c{c}"`. Slots map to themselves.

use crate::spec::{ballot, proposer_of};
use crate::walk::Label;
use colony_core::group::{Ballot, NodeId};
use colony_core::multipaxos::{
    Command, Config, Durable, Entry, Envelope, HardState, Input, Message, Ready, Replica, Slot,
    Vote,
};
use std::collections::BTreeMap;

/// The cell sizes the follower and catch-up cases run in: what those nodes do with a message
/// is the same in each (they hear leaders and one peer), what they broadcast is not.
pub const CELL_SIZES: [u8; 3] = [3, 5, 7];
/// The slots of the generated cases: `1..NumSlots` with `NumSlots = 2`.
pub const SLOTS: usize = 2;

/// A vote as the spec writes it: `(bal, val)`, `(-1, -1)` for `NoVote`.
pub type SpecVote = (i8, i8);

/// An acceptor's variables as the spec writes them: `(maxBal, votes)`.
pub type SpecLocal = (i8, [SpecVote; SLOTS]);

/// A message as the spec writes it (`tla/MultiPaxos.tla`'s `Message` set).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MpMsg {
    /// `[type |-> "1a", bal]`.
    M1a {
        /// `bal`.
        bal: i8,
    },
    /// `[type |-> "1b", acc, bal, votes, compacted]`.
    M1b {
        /// `acc`.
        acc: u8,
        /// `bal`.
        bal: i8,
        /// `votes`, slot 1 first.
        votes: [SpecVote; SLOTS],
        /// `compacted`: the acceptor forgot its votes in slots `1..compacted`.
        compacted: u8,
    },
    /// `[type |-> "2a", bal, slot, val]`.
    M2a {
        /// `bal`.
        bal: i8,
        /// `slot`.
        slot: u8,
        /// `val`.
        val: i8,
    },
    /// `[type |-> "2b", acc, bal, slot, val]`.
    M2b {
        /// `acc`.
        acc: u8,
        /// `bal`.
        bal: i8,
        /// `slot`.
        slot: u8,
        /// `val`.
        val: i8,
    },
}

/// `[type |-> "1a", bal]`.
pub fn m1a(bal: i8) -> MpMsg {
    MpMsg::M1a { bal }
}
/// `[type |-> "1b", acc, bal, votes, compacted |-> 0]`: a promise of an acceptor that never
/// compacted.
pub fn m1b(acc: u8, bal: i8, votes: [SpecVote; SLOTS]) -> MpMsg {
    m1bc(acc, bal, votes, 0)
}
/// `[type |-> "1b", acc, bal, votes, compacted]`.
pub fn m1bc(acc: u8, bal: i8, votes: [SpecVote; SLOTS], compacted: u8) -> MpMsg {
    MpMsg::M1b {
        acc,
        bal,
        votes,
        compacted,
    }
}
/// `[type |-> "2a", bal, slot, val]`.
pub fn m2a(bal: i8, slot: u8, val: i8) -> MpMsg {
    MpMsg::M2a { bal, slot, val }
}
/// `[type |-> "2b", acc, bal, slot, val]`.
pub fn m2b(acc: u8, bal: i8, slot: u8, val: i8) -> MpMsg {
    MpMsg::M2b {
        acc,
        bal,
        slot,
        val,
    }
}

impl Label for MpMsg {
    /// `1a_b1`, `1b_a2_b1`, `1b_a2_b1_k1` (compacted through slot 1), `2a_b0_s1_c1`,
    /// `2b_a3_b0_s2_noop`.
    fn label(self) -> String {
        let value = |v: i8| match v {
            0 => "noop".to_string(),
            v => format!("c{v}"),
        };
        match self {
            MpMsg::M1a { bal } => format!("1a_b{bal}"),
            MpMsg::M1b {
                acc,
                bal,
                compacted: 0,
                ..
            } => format!("1b_a{acc}_b{bal}"),
            MpMsg::M1b {
                acc,
                bal,
                compacted,
                ..
            } => format!("1b_a{acc}_b{bal}_k{compacted}"),
            MpMsg::M2a { bal, slot, val } => format!("2a_b{bal}_s{slot}_{}", value(val)),
            MpMsg::M2b {
                acc,
                bal,
                slot,
                val,
            } => format!("2b_a{acc}_b{bal}_s{slot}_{}", value(val)),
        }
    }
}

/// Spec message `1b(acc, bal, votes, compacted)` as the implementation's promise.
pub fn promise(acc: u8, bal: i8, v: [SpecVote; SLOTS], compacted: u8, n: u8) -> Message {
    Message::Promise {
        ballot: ballot_of(bal, n),
        acceptor: NodeId(acc),
        votes: votes(v, n),
        compacted: Slot(u64::from(compacted)),
    }
}

/// Spec value `v` as an entry.
pub fn entry(v: i8) -> Entry {
    match v {
        0 => Entry::NoOp,
        v if v > 0 => Entry::batch(vec![command(v)]),
        _ => panic!("None is not a value"),
    }
}

/// Spec command `c` as the client's command: the bytes `"c{c}"`.
pub fn command(c: i8) -> Command {
    assert!(c > 0, "NoOp and None are no client's command");
    Command(format!("c{c}").into_bytes())
}

/// Spec ballot `b` of a message as an implementation ballot.
pub fn ballot_of(b: i8, n: u8) -> Ballot {
    ballot(b, n).unwrap_or_else(|| panic!("a message carries a ballot, not {b}"))
}

/// An acceptor's votes, as the implementation keeps them: the slots with a vote.
pub fn votes(spec: [SpecVote; SLOTS], n: u8) -> BTreeMap<Slot, Vote> {
    (1..)
        .zip(spec)
        .filter_map(|(slot, (bal, val))| {
            let vote = Vote {
                ballot: ballot(bal, n)?,
                entry: entry(val),
            };
            Some((Slot(slot), vote))
        })
        .collect()
}

/// The acceptor's hard state for spec variables `local` (it never led, so it started nothing).
pub fn hard_state(local: SpecLocal, n: u8) -> HardState {
    HardState {
        promised: ballot(local.0, n),
        round_started_max: None,
    }
}

/// Replica `config` restarted from `durable` with `entries` decided in slots 1, 2, ... (and,
/// when it promised a ballot, its vote of that ballot in each), which then takes the durable
/// snapshot of that prefix: the spec's `Snapshot(r)` and `Compact(a)` carried out through the
/// real `Input::Snapshotted`, rather than a restart from the compacted state, so that the
/// generated cases run the compaction code of the acceptor and the learner too. With no
/// entries, the replica as restarted.
pub fn compacted_after_restart(
    config: Config,
    mut durable: Durable,
    entries: Vec<Entry>,
) -> Replica {
    let last_slot = Slot(entries.len() as u64);
    if let Some(promised) = durable.hard_state.promised {
        for (slot, entry) in (1..).zip(&entries) {
            let vote = Vote {
                ballot: promised,
                entry: entry.clone(),
            };
            assert!(
                durable.votes.insert(Slot(slot), vote).is_none(),
                "a compacted slot has no vote"
            );
        }
    }
    durable.decided = entries;
    let mut replica = Replica::new(config, durable).expect("a valid configuration");
    if last_slot > Slot(0) {
        let ready = replica.step(Input::Snapshotted { last_slot });
        let forgets = Ready {
            compacted: Some(last_slot),
            ..Ready::default()
        };
        assert_eq!(
            ready, forgets,
            "a durable snapshot: storage may drop what it covers"
        );
        assert_eq!(
            replica.compacted(),
            last_slot,
            "the acceptor forgot its votes"
        );
        assert_eq!(
            replica.snapshot_slot(),
            last_slot,
            "the log starts after it"
        );
        assert!(replica.decided().is_empty(), "and holds no entry it covers");
    }
    replica
}

/// A message a spec leader sends, as the implementation's message and its sender. A `1a` asks
/// about every slot (`first_slot` 1), as the spec's does.
pub fn from_leader(m: MpMsg, n: u8) -> (NodeId, Message) {
    match m {
        MpMsg::M1a { bal } => {
            let ballot = ballot_of(bal, n);
            let first_slot = Slot::FIRST;
            (proposer_of(bal, n), Message::Prepare { ballot, first_slot })
        }
        MpMsg::M2a { bal, slot, val } => {
            let message = Message::Accept {
                ballot: ballot_of(bal, n),
                slot: Slot(slot.into()),
                entry: entry(val),
            };
            (proposer_of(bal, n), message)
        }
        MpMsg::M1b { .. } | MpMsg::M2b { .. } => panic!("{m:?} is an acceptor's message"),
    }
}

/// What the implementation sends for an acceptor's spec message: a `1b` goes to the leader of its
/// ballot, a `2b` to every member (each is a replica).
pub fn envelopes(m: MpMsg, n: u8) -> Vec<Envelope> {
    match m {
        MpMsg::M1b {
            acc,
            bal,
            votes: v,
            compacted,
        } => {
            let message = promise(acc, bal, v, compacted, n);
            let to = proposer_of(bal, n);
            vec![Envelope { to, message }]
        }
        MpMsg::M2b {
            acc,
            bal,
            slot,
            val,
        } => {
            let message = Message::Accepted {
                ballot: ballot_of(bal, n),
                acceptor: NodeId(acc),
                slot: Slot(slot.into()),
                entry: entry(val),
            };
            (1..=n)
                .map(|to| Envelope {
                    to: NodeId(to),
                    message: message.clone(),
                })
                .collect()
        }
        MpMsg::M1a { .. } | MpMsg::M2a { .. } => panic!("{m:?} is a leader's message"),
    }
}
