//! The messages of the protocol: the spec's four message types, and three that carry no spec
//! state (a leader's heartbeat and the two halves of catch-up).

use super::log::{Entry, Slot, Vote};
use crate::group::{Ballot, NodeId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A protocol message.
///
/// The first four are the spec's message types. The other three change no spec variable: a
/// `Heartbeat` keeps followers from starting an election and tells them how far the log is
/// decided, and a `CatchUpRequest` and its `CatchUp` reply carry decided entries to a lagging
/// replica (the spec's `CatchUp(r)`, which reads the peer's log directly).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Message {
    /// Spec: a `1a` message. The leader of `ballot` asks for promises for the log from
    /// `first_slot` on: every slot below it is decided as far as the leader knows, so the votes
    /// there need not be reported (the spec reports every slot; see `tla/MultiPaxos.tla`).
    Prepare {
        /// The ballot started.
        ballot: Ballot,
        /// The first slot the leader does not know to be decided.
        first_slot: Slot,
    },
    /// Spec: a `1b` message. `acceptor` promises `ballot`, reports its latest vote in every
    /// slot from the `Prepare`'s `first_slot` on where it voted, and says how far it compacted:
    /// it forgot its votes in slots up to `compacted`, which are decided and in a snapshot.
    Promise {
        /// The ballot promised.
        ballot: Ballot,
        /// The acceptor promising.
        acceptor: NodeId,
        /// Its latest vote per slot, from the requested first slot on (all above `compacted`).
        votes: BTreeMap<Slot, Vote>,
        /// Spec: `compacted`, the last slot whose vote it forgot (`Slot(0)`: none).
        compacted: Slot,
    },
    /// Spec: a `2a` message. The leader of `ballot` proposes `entry` in `slot`.
    Accept {
        /// The ballot of the proposal.
        ballot: Ballot,
        /// The slot.
        slot: Slot,
        /// The entry proposed.
        entry: Entry,
    },
    /// Spec: a `2b` message, sent to every replica. `acceptor` votes for `entry` in `slot`.
    Accepted {
        /// The ballot of the vote.
        ballot: Ballot,
        /// The acceptor voting.
        acceptor: NodeId,
        /// The slot.
        slot: Slot,
        /// The entry voted for.
        entry: Entry,
    },
    /// No spec action (a stutter). The leader of `ballot` is alive, and knows every slot up to
    /// `decided_through` to be decided.
    Heartbeat {
        /// The leader's ballot.
        ballot: Ballot,
        /// The last slot of the decided prefix of the leader's log (`Slot(0)` when empty).
        decided_through: Slot,
    },
    /// No spec action. A lagging replica asks a peer for the decided entries from `first_slot`;
    /// a peer that compacted past `first_slot` answers with its snapshot instead (see
    /// [`super::Ready::snapshots`]).
    CatchUpRequest {
        /// The first slot the asker has not applied.
        first_slot: Slot,
    },
    /// Spec: `CatchUp(r)`, once per entry. Decided entries of consecutive slots from
    /// `first_slot`, at most [`super::CATCH_UP_ENTRIES_MAX`] of them.
    CatchUp {
        /// The slot of the first entry.
        first_slot: Slot,
        /// The entries, of slots `first_slot`, `first_slot + 1`, ...
        entries: Vec<Entry>,
    },
}

impl Message {
    /// The entries the message carries: its proposal's, its vote's, a promise's votes', a
    /// catch-up reply's.
    pub fn entries(&self) -> Vec<&Entry> {
        match self {
            Message::Accept { entry, .. } | Message::Accepted { entry, .. } => vec![entry],
            Message::Promise { votes, .. } => votes.values().map(|vote| &vote.entry).collect(),
            Message::CatchUp { entries, .. } => entries.iter().collect(),
            Message::Prepare { .. }
            | Message::Heartbeat { .. }
            | Message::CatchUpRequest { .. } => Vec::new(),
        }
    }

    /// The ballot the message speaks for, if it is a leader's (`Prepare`, `Accept`,
    /// `Heartbeat`): receiving one tells a replica that the ballot's proposer wants to lead.
    pub fn leader_ballot(&self) -> Option<Ballot> {
        match self {
            Message::Prepare { ballot, .. }
            | Message::Accept { ballot, .. }
            | Message::Heartbeat { ballot, .. } => Some(*ballot),
            _ => None,
        }
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Prepare { ballot, first_slot } => {
                write!(f, "1a(b={ballot}, from {first_slot})")
            }
            Message::Promise {
                ballot,
                acceptor,
                votes,
                compacted,
            } => {
                write!(f, "1b(b={ballot}, {acceptor}, votes={{")?;
                for (i, (slot, vote)) in votes.iter().enumerate() {
                    let separator = if i == 0 { "" } else { ", " };
                    write!(f, "{separator}{slot}: {vote}")?;
                }
                write!(f, "}}")?;
                // Said only when the acceptor compacted, as the spec's traces do, so that the
                // stories of cells that never compact read as they did.
                if *compacted > Slot(0) {
                    write!(f, ", compacted through {compacted}")?;
                }
                write!(f, ")")
            }
            Message::Accept {
                ballot,
                slot,
                entry,
            } => write!(f, "2a(b={ballot}, {slot}, {entry})"),
            Message::Accepted {
                ballot,
                acceptor,
                slot,
                entry,
            } => write!(f, "2b(b={ballot}, {acceptor}, {slot}, {entry})"),
            Message::Heartbeat {
                ballot,
                decided_through,
            } => write!(
                f,
                "heartbeat(b={ballot}, decided through {decided_through})"
            ),
            Message::CatchUpRequest { first_slot } => write!(f, "catch-up?(from {first_slot})"),
            Message::CatchUp {
                first_slot,
                entries,
            } => {
                write!(f, "catch-up(from {first_slot}: ")?;
                for (i, entry) in entries.iter().enumerate() {
                    let separator = if i == 0 { "" } else { ", " };
                    write!(f, "{separator}{entry}")?;
                }
                write!(f, ")")
            }
        }
    }
}
