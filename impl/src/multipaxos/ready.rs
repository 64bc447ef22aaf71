//! What a step asks of the caller, with the order of its duties written on the type, and what a
//! replica keeps across crashes.

use super::log::{Command, Entry, Slot, Vote};
use super::message::Message;
use crate::group::Ballot;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The small part of what a replica must keep across crashes, rewritten whole when it changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HardState {
    /// Spec: `maxBal[a]`, the highest ballot promised (`None` is the spec's `-1`).
    pub promised: Option<Ballot>,
    /// The highest round this replica started as a leader: after a restart it must never start
    /// a ballot it started before, or it could propose two entries in one slot of one ballot.
    pub round_started_max: Option<u32>,
}

/// Everything a replica restarts from: what it persisted, step by step, from its [`Ready`]s.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Durable {
    /// The last hard state persisted.
    pub hard_state: HardState,
    /// Spec: `votes[a]`. The latest vote persisted per slot.
    pub votes: BTreeMap<Slot, Vote>,
    /// The decided log, slot 1 first, as far as it was persisted. It may lag behind what was
    /// decided: the replica learns the rest again from its peers.
    pub decided: Vec<Entry>,
}

/// A Multi-Paxos message and the replica it is for.
pub type Envelope = crate::group::Envelope<Message>;

/// Everything the caller must do after one step, **in this order**:
///
/// 1. Write `hard_state` (when `Some`) and every vote in `votes` (replacing the vote persisted
///    for the same slot) to durable storage, and wait until they are durable (fsync). Only then:
/// 2. send every message in `messages`. A promise or a vote sent before it is durable could be
///    forgotten in a crash, and the restarted replica could then promise or vote against it,
///    which breaks `VotesSafe` and with it `Agreement`. The network may lose, duplicate or
///    reorder the messages; the protocol tolerates all three.
/// 3. Apply the entries of `decided` to the state machine, in the order given: they are the
///    slots that joined the decided prefix of the log, each exactly once, in slot order, with no
///    gap after the slots decided before. Persisting them (the decided log) may lag: a replica
///    that restarts with a shorter decided log learns the rest from its peers.
/// 4. Tell the clients of the commands in `abandoned` to try again, with the leader if one is
///    known: this replica accepted them and will never propose them (it lost its leadership, or
///    their slot was decided for another entry).
#[must_use = "the caller must persist, then send, what a step returns"]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ready {
    /// The hard state to make durable before sending, when the step changed it.
    pub hard_state: Option<HardState>,
    /// The votes this step cast, to make durable before sending.
    pub votes: Vec<(Slot, Vote)>,
    /// The messages to send, after the hard state and votes are durable.
    pub messages: Vec<Envelope>,
    /// The entries that joined the decided prefix, to apply in this order.
    pub decided: Vec<(Slot, Entry)>,
    /// Client commands this replica will not propose.
    pub abandoned: Vec<Command>,
}

impl Ready {
    /// True when the caller has nothing to do.
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.votes.is_empty()
            && self.messages.is_empty()
            && self.decided.is_empty()
            && self.abandoned.is_empty()
    }
}
