//! Catch-up scenarios: replica 1, behind its peer replica 2, hearing the leader's heartbeats and
//! the peer's catch-up replies, lost, duplicated and reordered.
//!
//! The peer's log is every log a replica of [`super::bounded_model`] applies (from its reachable
//! states). The spec's `CatchUp(r1)` (with witness peer 2) applies, one slot at a time, the
//! peer's next entry while replica 1 is behind; a reply carrying the peer's entries from a slot
//! at or below replica 1's next lets it take as many `CatchUp` steps as the reply covers, which
//! the model checks one by one. A heartbeat saying the log is decided past replica 1's is no
//! spec action: replica 1 must answer it with a request for the entries from its next slot.
//!
//! With compaction, the peer snapshotted slot 1 (the model of `MaxCompaction = 1` reaches every
//! such log with the peer's snapshot there): its replies carry only entries above it, and its
//! snapshot may reach replica 1, which installs it (spec: `InstallSnapshot(r1)` with witness
//! peer 2) when it is behind it, and then catches up the rest from entries.

use crate::tables::{transition_case, TableCase};
use crate::Row;
use colony_model::multipaxos::{Action, Constants, MultiPaxosModel, MultiPaxosState, Value};
use stateright::Model;
use std::collections::BTreeSet;

/// A message replica 1 may hear while catching up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CatchUpMsg {
    /// The leader's heartbeat: the log is decided up to this slot.
    Heartbeat {
        /// The last decided slot.
        decided_through: u8,
    },
    /// The peer's reply: its entries from `first_slot` on.
    Reply {
        /// The slot of the first entry.
        first_slot: u8,
        /// The entries (`-1` past the last).
        entries: [Value; 2],
    },
    /// The peer's snapshot, through `last_slot`, which replica 1's runtime installs when the
    /// replica says it moves its log forward.
    Snapshot {
        /// The last slot it covers.
        last_slot: u8,
    },
}

/// Replica 1's variable: the length of its applied log (a prefix of the peer's).
pub type Local = u8;

/// What a step sends: the first slot a catch-up request asks for, if it sends one.
pub type Sent = Option<u8>;

/// A catch-up scenario's table: per applied length and message, the outcome.
pub type Table = TableCase<(Local, CatchUpMsg, Option<(Local, Sent)>), CatchUpMsg>;

/// One catch-up case: the peer's log, the length of replica 1's log before (a prefix of the
/// peer's, which it learned itself), and the table.
pub struct Case {
    /// The peer's applied log.
    pub log: Vec<Value>,
    /// The last slot of the peer's snapshot (0: none).
    pub peer_snapshot: u8,
    /// How much of it replica 1 applied before the scenario.
    pub prior: Local,
    /// The scenario and its table.
    pub table: Table,
}

/// One table per log the peer can have applied and per shorter prefix of it replica 1 has,
/// and the report rows. What a lagging replica does does not depend on the cell's size (it
/// hears the leader and one peer), so the harness walks each table in cells of 3, 5 and 7.
pub fn tables(reachable: &[MultiPaxosState]) -> (Vec<Case>, Vec<Row>) {
    let logs: BTreeSet<Vec<Value>> = reachable
        .iter()
        .map(|state| state.applied[0].to_vec())
        .filter(|log| !log.is_empty())
        .collect();
    let log_count = logs.len();
    let mut cases = Vec::new();
    let mut rows = Vec::new();
    for (peer_snapshot, role) in [(0, "mp catch-up"), (1, "mp catch-up k1")] {
        let model = two_replicas(peer_snapshot);
        let first = cases.len();
        for (index, log) in logs.iter().enumerate() {
            for prior in 0..log.len() as u8 {
                let table = table(&model, index, log, prior, peer_snapshot);
                cases.push(Case {
                    log: log.clone(),
                    peer_snapshot,
                    prior,
                    table,
                });
            }
        }
        let these = &cases[first..];
        let combinations = these.iter().map(|c| c.table.combinations).sum();
        let mut coverage = format!("{log_count} peer logs, every shorter prefix");
        if peer_snapshot > 0 {
            coverage += &format!(", the peer's snapshot through s{peer_snapshot}");
        }
        rows.extend([3, 5, 7].into_iter().map(|n| Row {
            role,
            n,
            combinations,
            tests: these.len() as u64,
            coverage: coverage.clone(),
            uncovered: Vec::new(),
        }));
    }
    (cases, rows)
}

/// The model with two replicas: replica 1 under test, replica 2 its peer; with snapshots of
/// slot 1 when the peer snapshotted it.
fn two_replicas(peer_snapshot: u8) -> MultiPaxosModel {
    let constants = Constants {
        num_replicas: 2,
        max_compaction: peer_snapshot,
        ..super::bounded_model().constants
    };
    MultiPaxosModel::new(constants, Vec::new())
}

/// The messages of the scenario of peer log `log`: the heartbeat, the reply to a request from
/// slot 1, and for a log of two slots the reply to a request from slot 2. A peer that
/// snapshotted through `peer_snapshot` has no entries there: it sends its snapshot instead of
/// the replies that would start in it.
fn messages(log: &[Value], peer_snapshot: u8) -> Vec<CatchUpMsg> {
    let entries = |from: usize| {
        let mut entries = [-1; 2];
        for (i, &v) in log[from..].iter().enumerate() {
            entries[i] = v;
        }
        entries
    };
    let decided_through = log.len() as u8;
    let mut messages = vec![
        CatchUpMsg::Heartbeat { decided_through },
        CatchUpMsg::Reply {
            first_slot: 1,
            entries: entries(0),
        },
    ];
    if log.len() > 1 {
        messages.push(CatchUpMsg::Reply {
            first_slot: 2,
            entries: entries(1),
        });
    }
    if peer_snapshot > 0 {
        messages.retain(
            |m| !matches!(m, CatchUpMsg::Reply { first_slot, .. } if *first_slot <= peer_snapshot),
        );
        messages.push(CatchUpMsg::Snapshot {
            last_slot: peer_snapshot,
        });
    }
    messages
}

fn table(
    model: &MultiPaxosModel,
    index: usize,
    log: &[Value],
    prior: Local,
    peer_snapshot: u8,
) -> Table {
    let name = match peer_snapshot {
        0 => format!("mp_catch_up_peer_log_{index}_applied_{prior}"),
        k => format!("mp_catch_up_peer_log_{index}_snapshot_s{k}_applied_{prior}"),
    };
    let messages = messages(log, peer_snapshot);
    transition_case(name, prior, messages, |applied, m| {
        expect(model, log, peer_snapshot, applied, m)
    })
}

/// What replica 1, having applied the first `applied` entries of the peer's `log`, does with
/// `m`: for a reply, the `CatchUp(r1)` steps the model takes while the reply covers the next
/// slot; for the peer's snapshot, `InstallSnapshot(r1)` when the model enables it; for a
/// heartbeat past its log, a request from its next slot.
fn expect(
    model: &MultiPaxosModel,
    log: &[Value],
    peer_snapshot: u8,
    applied: Local,
    m: CatchUpMsg,
) -> Option<(Local, Sent)> {
    let mut state = MultiPaxosState::init(model.constants.num_acceptors, 2);
    state.applied[0] = log[..usize::from(applied)].into();
    state.applied[1] = log.into();
    state.snapshot[1] = peer_snapshot;
    match m {
        CatchUpMsg::Snapshot { .. } => {
            let install = Action::InstallSnapshot { r: 1, p: 2 };
            let mut actions = Vec::new();
            model.actions(&state, &mut actions);
            if !actions.contains(&install) {
                return None;
            }
            let next = model.next_state(&state, install)?;
            Some((next.applied[0].len() as u8, None))
        }
        CatchUpMsg::Heartbeat { decided_through } => {
            (decided_through > applied).then_some((applied, Some(applied + 1)))
        }
        CatchUpMsg::Reply {
            first_slot,
            entries,
        } => {
            let covered = first_slot + entries.iter().filter(|&&v| v >= 0).count() as u8;
            let mut actions = Vec::new();
            while first_slot <= state.applied[0].len() as u8 + 1
                && (state.applied[0].len() as u8 + 1) < covered
            {
                let next_slot = state.applied[0].len() + 1;
                let catch_up = Action::CatchUp { r: 1, p: 2 };
                model.actions(&state, &mut actions);
                assert!(actions.contains(&catch_up), "CatchUp(r1) is enabled");
                actions.clear();
                state = model.next_state(&state, catch_up)?;
                let offset = next_slot - usize::from(first_slot);
                assert_eq!(state.applied[0][next_slot - 1], entries[offset]);
            }
            let now = state.applied[0].len() as u8;
            (now > applied).then_some((now, None))
        }
    }
}
