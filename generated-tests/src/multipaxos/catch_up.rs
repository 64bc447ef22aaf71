//! The replay harness for Multi-Paxos catch-up cases: replica 1, behind its peer, hearing the
//! leader's heartbeats and the peer's catch-up replies.

use super::spec::{ballot_of, entry, CELL_SIZES};
use crate::walk::{self, ensure_eq, walk, Label, Receiver, Scenario, TableWalker};
use colony_core::group::NodeId;
use colony_core::multipaxos::{Config, Durable, Envelope, Input, Message, Ready, Replica, Slot};

/// A message replica 1 may hear while catching up, as the generator writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CatchUpMsg {
    /// The leader's heartbeat: the log is decided up to this slot.
    Heartbeat {
        /// The last decided slot.
        decided_through: u8,
    },
    /// The peer's reply: its entries from `first_slot` on (`-1` past the last).
    Reply {
        /// The slot of the first entry.
        first_slot: u8,
        /// The entries, spec values.
        entries: [i8; 2],
    },
    /// The peer's snapshot through `last_slot`, which replica 1's runtime installs (and then
    /// tells the replica) when the replica wants it.
    Snapshot {
        /// The last slot it covers.
        last_slot: u8,
    },
}

/// The peer's snapshot.
pub fn snapshot(last_slot: u8) -> CatchUpMsg {
    CatchUpMsg::Snapshot { last_slot }
}

/// The leader's heartbeat.
pub fn heartbeat(decided_through: u8) -> CatchUpMsg {
    CatchUpMsg::Heartbeat { decided_through }
}

/// The peer's reply.
pub fn reply(first_slot: u8, entries: [i8; 2]) -> CatchUpMsg {
    CatchUpMsg::Reply {
        first_slot,
        entries,
    }
}

impl Label for CatchUpMsg {
    /// `heartbeat_s2`, `catch_up_from_s1`.
    fn label(self) -> String {
        match self {
            CatchUpMsg::Heartbeat { decided_through } => format!("heartbeat_s{decided_through}"),
            CatchUpMsg::Reply { first_slot, .. } => format!("catch_up_from_s{first_slot}"),
            CatchUpMsg::Snapshot { last_slot } => format!("snapshot_s{last_slot}"),
        }
    }
}

/// One row of the catch-up table: from this applied length, this message gives this outcome
/// (the new length and the first slot of the request sent, if any).
pub type Transition = walk::Transition<Lagging>;

/// The spec ballot of the leader whose heartbeats replica 1 hears.
const LEADER_BALLOT: i8 = 0;
/// The peer that answers replica 1's requests.
const PEER: NodeId = NodeId(2);

/// Restarts replica 1 of cells of 3, 5 and 7 with the first `applied` entries of `log`, the
/// peer's, as its decided log, and walks every combination of `scenario`'s messages, checking
/// each step against `transitions`.
pub fn check_all(
    log: &[i8],
    applied: u8,
    scenario: &Scenario<'_, CatchUpMsg>,
    transitions: &[Transition],
    combinations: u64,
) {
    for n in CELL_SIZES {
        let members = (1..=n).map(NodeId).collect();
        let durable = Durable {
            decided: log[..usize::from(applied)]
                .iter()
                .map(|&v| entry(v))
                .collect(),
            ..Durable::default()
        };
        let replica = Replica::new(Config::new(NodeId(1), members), durable);
        let start = TableWalker {
            node: Lagging {
                replica: replica.expect("a valid configuration"),
                n,
                applied,
                log: log.to_vec(),
            },
            messages: scenario.messages,
            transitions,
        };
        walk(scenario, start, combinations);
    }
}

/// Replica 1 of a cell of `n`, and how much of the peer's log it applied.
#[derive(Clone)]
pub struct Lagging {
    replica: Replica,
    n: u8,
    applied: u8,
    log: Vec<i8>,
}

impl Receiver for Lagging {
    type Local = u8;
    type Msg = CatchUpMsg;
    type Sent = Option<u8>;

    fn local(&self) -> u8 {
        self.applied
    }

    fn receive(
        &mut self,
        deliver: CatchUpMsg,
        outcome: Option<(u8, Option<u8>)>,
    ) -> Result<(), String> {
        if let CatchUpMsg::Snapshot { last_slot } = deliver {
            return self.install(last_slot, outcome);
        }
        let (from, message) = match deliver {
            CatchUpMsg::Heartbeat { decided_through } => {
                let ballot = ballot_of(LEADER_BALLOT, self.n);
                let message = Message::Heartbeat {
                    ballot,
                    decided_through: Slot(decided_through.into()),
                };
                (ballot.proposer, message)
            }
            CatchUpMsg::Reply {
                first_slot,
                entries,
            } => {
                let entries = entries
                    .iter()
                    .filter(|&&v| v >= 0)
                    .map(|&v| entry(v))
                    .collect();
                let first_slot = Slot(first_slot.into());
                (
                    PEER,
                    Message::CatchUp {
                        first_slot,
                        entries,
                    },
                )
            }
            CatchUpMsg::Snapshot { .. } => unreachable!("installed above"),
        };
        let ready = self.replica.step(Input::Message { from, message });
        let (applied, request) = outcome.unwrap_or((self.applied, None));
        let decided = (self.applied..applied)
            .map(|i| (Slot(u64::from(i) + 1), entry(self.log[usize::from(i)])))
            .collect();
        let messages = request
            .map(|first_slot| Envelope {
                to: from,
                message: Message::CatchUpRequest {
                    first_slot: Slot(first_slot.into()),
                },
            })
            .into_iter()
            .collect();
        let expected = Ready {
            messages,
            decided,
            ..Ready::default()
        };
        ensure_eq(
            ready,
            expected,
            format_args!("what {deliver:?} makes replica 1 do"),
        )?;
        self.applied = applied;
        Ok(())
    }
}

impl Lagging {
    /// The runtime received the peer's snapshot through `last_slot`: it installs it, and tells
    /// the replica, only if the replica wants it; the replica's log then resumes after it, and
    /// storage may drop what the snapshot covers.
    fn install(&mut self, last_slot: u8, outcome: Option<(u8, Option<u8>)>) -> Result<(), String> {
        let slot = Slot(last_slot.into());
        let wanted = self.replica.wants_snapshot(slot);
        ensure_eq(
            wanted,
            outcome.is_some(),
            format_args!("whether replica 1 wants the snapshot through {slot}"),
        )?;
        let Some((applied, _)) = outcome else {
            return Ok(());
        };
        let ready = self.replica.step(Input::Snapshotted { last_slot: slot });
        let expected = Ready {
            compacted: Some(slot),
            ..Ready::default()
        };
        ensure_eq(
            ready,
            expected,
            "what installing the snapshot makes replica 1 do",
        )?;
        ensure_eq(
            self.replica.decided_through(),
            Slot(applied.into()),
            "the log after installing the snapshot",
        )?;
        self.applied = applied;
        Ok(())
    }
}
