//! Generated tests of the Multi-Paxos core, from the model of `tla/MultiPaxos.tla`.
//!
//! [`follower`]: an acceptor hearing leaders: proposals for slots out of order, duplicated,
//! from an old and a new leader, and a new leader's request for promises. [`leader`]: a new
//! leader hearing promises that report votes in several slots, lost, duplicated, reordered.
//! [`replica`]: a replica hearing votes for several slots and applying them in slot order.
//! [`catch_up`]: a lagging replica hearing heartbeats and a peer's catch-up replies.

pub mod catch_up;
pub mod follower;
pub mod leader;
pub mod promises;
pub mod render;
pub mod replica;
pub mod symmetry;

use crate::{GeneratedFile, Row};
use colony_model::deliveries::COPIES_MAX;
use colony_model::multipaxos::{Constants, MultiPaxosModel};

/// The Multi-Paxos files and their report rows.
pub fn generate() -> (Vec<GeneratedFile>, Vec<Row>) {
    let model = bounded_model();
    let reachable = crate::reachable::all(&model);
    let (mut follower_tables, mut rows) = follower::tables(&model, &reachable);
    let compacting_two_slots = compaction_two_slots_model();
    let folded = crate::reachable::up_to_acceptor_permutation(&compacting_two_slots);
    let (compacted_tables, compacted_rows) =
        follower::compacted_tables(&compacting_two_slots, &folded);
    follower_tables.extend(compacted_tables);
    let (two_slots, leader_row) = leader::tables(&model, &reachable, "two_slots");
    let one_slot = one_slot_model();
    let one_slot_reachable = crate::reachable::all(&one_slot);
    let (mut one_slot_family, one_slot_row) =
        leader::tables(&one_slot, &one_slot_reachable, "one_slot");
    let (earlier_tables, earlier_row) =
        leader::earlier_ballot_tables(&one_slot, &one_slot_reachable, "one_slot_with_b0");
    one_slot_family.tables.extend(earlier_tables);
    let compacting = compaction_model();
    let compacting_reachable = crate::reachable::all(&compacting);
    let (compacting_family, compacting_row) =
        leader::tables(&compacting, &compacting_reachable, "one_slot_compacted");
    rows.extend([leader_row, one_slot_row, earlier_row, compacting_row]);
    rows.extend(compacted_rows);
    let (catch_up_tables, catch_up_rows) = catch_up::tables(&reachable);
    let mut files = vec![crate::file(
        "multipaxos_leader_n3.rs".to_string(),
        render::leader_file(
            3,
            COPIES_MAX,
            &[two_slots, one_slot_family, compacting_family],
        ),
    )];
    for n in [5, 7] {
        let (families, leader_rows) = folded_leader_families(n);
        let copies_max = copies_max(n);
        rows.extend(leader_rows);
        files.push(crate::file(
            format!("multipaxos_leader_n{n}.rs"),
            render::leader_file(n, copies_max, &families),
        ));
    }
    for n in [3, 5, 7] {
        let (mut cases, row) = replica::tables(&model, n, copies_max(n));
        let (after_snapshot, after_snapshot_row) =
            replica::tables_after_snapshot(&compacting_two_slots, n, copies_max(n));
        cases.extend(after_snapshot);
        rows.extend([row, after_snapshot_row]);
        files.push(crate::file(
            format!("multipaxos_replica_n{n}.rs"),
            render::replica_file(n, copies_max(n), &cases),
        ));
    }
    rows.extend(catch_up_rows);
    files.extend([
        crate::file(
            "multipaxos_follower.rs".to_string(),
            render::follower_file(&follower_tables),
        ),
        crate::file(
            "multipaxos_catch_up.rs".to_string(),
            render::catch_up_file(&catch_up_tables),
        ),
    ]);
    (files, rows)
}

/// How many copies of a message the leader and replica cases of a cell of `n` deliver. With
/// duplicates, the leader cases of a cell of 7 have over 9 billion folded combinations (up to
/// 240 million for one promise set whose reports fall in four kinds) and one replica case 6.4
/// billion, too many to walk in a test run; without, they have thousands. Duplicates are
/// walked in cells of 3 and 5.
fn copies_max(n: u8) -> usize {
    if n >= 7 {
        1
    } else {
        COPIES_MAX
    }
}

/// The leader cases of a cell of `n` (5 or 7), folded: the three configurations of a cell of
/// 3, the two without compaction without replicas, and the one with it with its one replica
/// (see [`promises`]).
fn folded_leader_families(n: u8) -> (Vec<leader::Family>, Vec<Row>) {
    let mut families = Vec::new();
    let mut rows = Vec::new();
    for (model, label) in [
        (bounded_model(), "two_slots"),
        (one_slot_model(), "one_slot"),
        (compaction_model(), "one_slot_compacted"),
    ] {
        let model = promises::for_the_search(&model, n);
        let (family, row) = leader::folded_tables(&model, label, copies_max(n));
        families.push(family);
        rows.push(row);
    }
    (families, rows)
}

/// The bounded configuration prior states and expectations come from: 3 acceptors, 1 replica,
/// 1 command (and `NoOp`), ballots `0..1`, slots `1..2`, no compaction
/// (`tla/MultiPaxos_a3_r1_c1_b1_s2.cfg`), no invariant (the generator asks for transitions, not verdicts).
pub(crate) fn bounded_model() -> MultiPaxosModel {
    let constants = Constants {
        num_acceptors: 3,
        num_replicas: 1,
        num_commands: 1,
        max_ballot: 1,
        num_slots: 2,
        max_compaction: 0,
    };
    MultiPaxosModel::new(constants, Vec::new())
}

/// The configuration of the follower cases with compaction: [`bounded_model`]'s, with snapshots of
/// slot 1 (`MaxCompaction = 1`). Its 1,582,743 states are searched up to acceptor permutation.
pub(crate) fn compaction_two_slots_model() -> MultiPaxosModel {
    let constants = Constants {
        max_compaction: 1,
        ..bounded_model().constants
    };
    MultiPaxosModel::new(constants, Vec::new())
}

/// The configuration of the leader cases with compaction: 3 acceptors, 1 replica, 2 commands
/// (and `NoOp`), ballots `0..1`, one slot, snapshots of it
/// (`tla/MultiPaxos_a3_r1_c2_b1_s1_k1.cfg`): the leader of ballot 1 hears promises of acceptors
/// that compacted the slot and of acceptors that voted in it or did not.
pub(crate) fn compaction_model() -> MultiPaxosModel {
    let constants = Constants {
        num_acceptors: 3,
        num_replicas: 1,
        num_commands: 2,
        max_ballot: 1,
        num_slots: 1,
        max_compaction: 1,
    };
    MultiPaxosModel::new(constants, Vec::new())
}

/// The configuration of the second set of leader cases: 3 acceptors, 1 replica, 2 commands
/// (and `NoOp`), ballots `0..2`, one slot: votes of two earlier ballots for different
/// commands reach the leader of ballot 2.
pub(crate) fn one_slot_model() -> MultiPaxosModel {
    let constants = Constants {
        num_acceptors: 3,
        num_replicas: 1,
        num_commands: 2,
        max_ballot: 2,
        num_slots: 1,
        max_compaction: 0,
    };
    MultiPaxosModel::new(constants, Vec::new())
}
