//! The replay harness for Multi-Paxos replica cases: replica 1 hearing votes for both slots.

pub use super::spec::m2b;
use super::spec::{ballot_of, compacted_after_restart, entry, MpMsg};
use crate::walk::{bit, ensure_eq, walk_with_copies, Replay, Scenario};
use colony_core::group::NodeId;
use colony_core::multipaxos::{Config, Durable, Input, Message, Ready, Replica, Slot};

/// Starts replica 1 of a cell of `n` with an empty log and walks every combination of the votes
/// in `scenario` that delivers each at most `copies_max` times. `applied` lists, for every set
/// of votes (a bit per message) after which the model's `Apply` has applied something, the log
/// applied (slot 1 first); after any other set, nothing. At each step the replica must report
/// exactly the slots that joined that log, in order, and persist and send nothing.
pub fn check_all(
    n: u8,
    copies_max: usize,
    scenario: &Scenario<'_, MpMsg>,
    applied: &[(u8, &[i8])],
    combinations: u64,
) {
    check_all_after_snapshot(n, copies_max, &[], scenario, applied, combinations);
}

/// [`check_all`] for replica 1 restarted from a durable snapshot of the log `snapshot` (slot 1
/// first), with nothing decided after it: the model's logs in `applied` start with it, and
/// after a set of votes with no row the log is the snapshot's. The replica must report only the
/// slots after the snapshot, and a vote for a slot the snapshot covers must change nothing.
pub fn check_all_after_snapshot(
    n: u8,
    copies_max: usize,
    snapshot: &[i8],
    scenario: &Scenario<'_, MpMsg>,
    applied: &[(u8, &[i8])],
    combinations: u64,
) {
    let members = (1..=n).map(NodeId).collect();
    let decided = snapshot.iter().map(|&v| entry(v)).collect();
    let config = Config::new(NodeId(1), members);
    let replica = compacted_after_restart(config, Durable::default(), decided);
    let start = Walker {
        replica,
        n,
        heard: 0,
        messages: scenario.messages,
        snapshot,
        applied,
    };
    walk_with_copies(scenario, copies_max, start, combinations);
}

#[derive(Clone)]
struct Walker<'a> {
    replica: Replica,
    n: u8,
    heard: u8,
    messages: &'a [MpMsg],
    snapshot: &'a [i8],
    applied: &'a [(u8, &'a [i8])],
}

impl Walker<'_> {
    fn applied_after(&self, set: u8) -> &[i8] {
        let row = self.applied.iter().find(|(s, _)| *s == set);
        row.map_or(self.snapshot, |(_, log)| log)
    }
}

impl Replay for Walker<'_> {
    fn deliver(&mut self, index: usize) -> Result<(), String> {
        let MpMsg::M2b {
            acc,
            bal,
            slot,
            val,
        } = self.messages[index]
        else {
            return Err(format!("{:?} is not a vote", self.messages[index]));
        };
        let message = Message::Accepted {
            ballot: ballot_of(bal, self.n),
            acceptor: NodeId(acc),
            slot: Slot(slot.into()),
            entry: entry(val),
        };
        let ready = self.replica.step(Input::Message {
            from: NodeId(acc),
            message,
        });
        let before = self.applied_after(self.heard).len();
        self.heard |= bit(index);
        let after = self.applied_after(self.heard);
        let decided = (before..after.len())
            .map(|i| (Slot(i as u64 + 1), entry(after[i])))
            .collect();
        let expected = Ready {
            decided,
            ..Ready::default()
        };
        ensure_eq(ready, expected, "the slots applied (spec: Apply(r1))")
    }
}
