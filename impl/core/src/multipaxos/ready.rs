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

/// Everything a replica restarts from: what it persisted, step by step, from its [`Ready`]s, and
/// the snapshot of its state machine that the runtime holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Durable {
    /// The last hard state persisted.
    pub hard_state: HardState,
    /// Spec: `votes[a]`. The latest vote persisted per slot. Votes at or below `snapshot_slot`
    /// may be left over (their deletion may lag): the replica drops them.
    pub votes: BTreeMap<Slot, Vote>,
    /// Spec: `snapshot[r]`. The last slot the durable snapshot of the state machine covers
    /// (`Slot(0)`: no snapshot). The replica's acceptor is compacted up to it.
    pub snapshot_slot: Slot,
    /// The decided log after the snapshot, slot `snapshot_slot + 1` first, as far as it was
    /// persisted; at most [`super::LOG_SLOTS_MAX`] entries. It may lag behind what was decided:
    /// the replica learns the rest again from its peers.
    pub decided: Vec<Entry>,
}

/// A snapshot to send: the runtime sends `to` its durable snapshot of the state machine, the one
/// through `last_slot`, with its [`super::SnapshotHeader`], over the connection it keeps for bulk
/// transfers (so that votes never wait behind it). The receiver's runtime checks the header,
/// installs the state, makes it durable, and then gives its replica
/// [`super::Input::Snapshotted`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SnapshotTransfer {
    /// The replica that lags behind this one's snapshot.
    pub to: crate::group::NodeId,
    /// The last slot of the snapshot to send.
    pub last_slot: Slot,
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
/// 5. Send each snapshot of `snapshots` (see [`SnapshotTransfer`]); like `messages`, only after
///    step 1. A snapshot in flight may be lost: the peer asks again.
///
/// Two fields are not duties of this step but what the runtime may, or should, do next:
///
/// - `compacted`: the votes and the decided log up to this slot may now be deleted from
///   storage, at any time: a durable snapshot covers them (the runtime said so with
///   [`super::Input::Snapshotted`]). Deleting is never required for safety; keeping them only
///   costs disk.
/// - `snapshot_wanted`: the log beyond the last snapshot has reached `snapshot_interval_slots`:
///   once the entries of `decided` are applied, the runtime should snapshot the state machine
///   through this slot, make the snapshot durable, then give [`super::Input::Snapshotted`]. A
///   runtime that never does stalls its replica at [`super::LOG_SLOTS_MAX`] slots, and nothing
///   is lost.
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
    /// Snapshots to send to replicas that lag behind this one's, after the writes are durable.
    pub snapshots: Vec<SnapshotTransfer>,
    /// The votes and decided log up to this slot may be deleted from storage.
    pub compacted: Option<Slot>,
    /// The runtime should snapshot the state machine through this slot.
    pub snapshot_wanted: Option<Slot>,
}

impl Ready {
    /// The distinct command bytes the messages carry: a batch sent to several members, or in
    /// several messages, counts once, since every copy shares it. At most
    /// [`super::READY_BYTES_MAX`].
    pub fn payload_bytes(&self) -> usize {
        let mut seen = std::collections::BTreeSet::new();
        self.messages
            .iter()
            .flat_map(|envelope| envelope.message.entries())
            .filter_map(|entry| match entry {
                Entry::Batch(commands) => Some(commands),
                Entry::NoOp => None,
            })
            .filter(|commands| seen.insert(std::sync::Arc::as_ptr(commands).cast::<u8>() as usize))
            .map(|commands| commands.iter().map(|c| c.0.len()).sum::<usize>())
            .sum()
    }

    /// Carries the step out through `runtime`, in the order the type states: what a snapshot
    /// covers may go first (it is never needed again), then the writes, then the messages, the
    /// decided entries in slot order, the abandoned commands, the snapshots to send, and last
    /// the snapshot the replica asks for. Every runtime (the node's host, and the test
    /// harnesses that run replicas) goes through here, so that the order is written once.
    pub fn carry_out(self, runtime: &mut impl Runtime) {
        if let Some(through) = self.compacted {
            runtime.compacted(through);
        }
        runtime.persist(self.hard_state, self.votes);
        for envelope in self.messages {
            runtime.send(envelope);
        }
        for (slot, entry) in self.decided {
            runtime.apply(slot, entry);
        }
        for command in self.abandoned {
            runtime.abandoned(command);
        }
        for transfer in self.snapshots {
            runtime.send_snapshot(transfer);
        }
        if let Some(slot) = self.snapshot_wanted {
            runtime.snapshot_wanted(slot);
        }
    }

    /// True when the caller has nothing to do.
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.votes.is_empty()
            && self.messages.is_empty()
            && self.decided.is_empty()
            && self.abandoned.is_empty()
            && self.snapshots.is_empty()
            && self.compacted.is_none()
            && self.snapshot_wanted.is_none()
    }
}

/// What carrying out a [`Ready`] asks of a runtime, one method a duty; [`Ready::carry_out`]
/// calls them in the order [`Ready`] states.
pub trait Runtime {
    /// The votes and the decided log up to `through` may be deleted: a durable snapshot covers
    /// them. Deleting is never required; by default nothing is.
    fn compacted(&mut self, through: Slot) {
        let _ = through;
    }
    /// Makes the hard state (when the step changed it) and the votes durable, replacing the
    /// vote kept for the same slot, before anything the step sends goes out.
    fn persist(&mut self, hard_state: Option<HardState>, votes: Vec<(Slot, Vote)>);
    /// Sends a message, once what the step persisted is durable.
    fn send(&mut self, envelope: Envelope);
    /// Applies the entry of `slot` to the state machine: slots come in order, each once.
    fn apply(&mut self, slot: Slot, entry: Entry);
    /// Tells the client of `command` to try again: this replica will never propose it.
    fn abandoned(&mut self, command: Command);
    /// Sends the durable snapshot to a replica that lags behind it.
    fn send_snapshot(&mut self, transfer: SnapshotTransfer);
    /// Snapshots the state machine through `slot` (applied by now), then tells the replica
    /// with [`super::Input::Snapshotted`] once it is durable. By default no snapshot is taken,
    /// and the replica stalls at [`super::LOG_SLOTS_MAX`] slots.
    fn snapshot_wanted(&mut self, slot: Slot) {
        let _ = slot;
    }
}
