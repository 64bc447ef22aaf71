//! The storage contract as checks that every [`Storage`] must pass: the file store, memory and
//! the simulated disk run the same ones (`tests/storage_conformance.rs`), so that the simulator
//! tests the node on a storage that behaves as the real one does.
//!
//! A storage under test is a [`Subject`]: the storage and a way to crash and restart the node
//! on it. [`crate::storage_conformance!`] writes one `#[test]` per check.

use super::{Corruption, Recovered, Storage, StorageError, Write};
use crate::CellId;
use colony_core::group::{Ballot, NodeId};
use colony_core::multipaxos::{Command, Entry, HardState, Slot, Vote};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A storage under test.
pub trait Subject {
    /// The storage.
    type Storage: Storage;
    /// The storage, to append to, sync and recover.
    fn storage(&mut self) -> &mut Self::Storage;
    /// The node crashes and starts again on what its storage kept. What was appended and not
    /// synced may be lost; the caller recovers next.
    fn restart(&mut self);
}

/// One `#[test]` per check of the suite, each on a fresh subject made by `$make`.
#[macro_export]
macro_rules! storage_conformance {
    ($make:expr) => {
        $crate::storage_conformance!(@checks $make;
            an_empty_storage_recovers_nothing,
            a_synced_batch_is_recovered,
            later_writes_replace_earlier_ones,
            an_unsynced_batch_is_recovered_whole_or_not_at_all,
            a_snapshot_compacts_what_it_covers,
            the_decided_log_stops_at_its_first_gap,
            writes_continue_after_each_recovery,
            a_bad_batch_is_refused_whole,
            a_write_without_its_cell_is_reported,
            many_cells_across_restarts_keep_their_latest_writes
        );
    };
    (@checks $make:expr; $($check:ident),*) => {
        $(
            #[test]
            fn $check() {
                $crate::storage::conformance::$check($make);
            }
        )*
    };
}

fn recover<S: Subject>(subject: &mut S) -> Recovered {
    match subject.storage().recover() {
        Ok(recovered) => recovered,
        Err(e) => panic!("recovery failed: {e}"),
    }
}

fn commit<S: Subject>(subject: &mut S, batch: &[Write]) {
    if let Err(e) = subject.storage().append(batch) {
        panic!("append failed: {e}");
    }
    if let Err(e) = subject.storage().sync() {
        panic!("sync failed: {e}");
    }
}

fn restart<S: Subject>(subject: &mut S) -> Recovered {
    subject.restart();
    recover(subject)
}

/// A cell of three, this node being 1.
pub fn create(cell: u64) -> Write {
    Write::Cell {
        cell: CellId(cell),
        members: vec![NodeId(1), NodeId(2), NodeId(3)],
    }
}

/// A hard state promising round `round` of node 2.
pub fn promise(cell: u64, round: u32) -> Write {
    Write::HardState {
        cell: CellId(cell),
        hard_state: HardState {
            promised: Some(Ballot {
                round,
                proposer: NodeId(2),
            }),
            round_started_max: None,
        },
    }
}

/// A vote in `slot` in round `round` for a batch holding `command`.
pub fn vote(cell: u64, slot: u64, round: u32, command: &str) -> Write {
    Write::Vote {
        cell: CellId(cell),
        slot: Slot(slot),
        vote: Vote {
            ballot: Ballot {
                round,
                proposer: NodeId(2),
            },
            entry: entry(command),
        },
    }
}

/// `slot` decided for a batch holding `command`.
pub fn decided(cell: u64, slot: u64, command: &str) -> Write {
    Write::Decided {
        cell: CellId(cell),
        slot: Slot(slot),
        entry: entry(command),
    }
}

fn entry(command: &str) -> Entry {
    Entry::batch(vec![Command(command.as_bytes().to_vec())])
}

fn image(recovered: &Recovered, cell: u64) -> &super::CellImage {
    recovered
        .cells
        .get(&CellId(cell))
        .unwrap_or_else(|| panic!("cell {cell} is not recovered: {recovered:?}"))
}

fn promised_round(recovered: &Recovered, cell: u64) -> Option<u32> {
    image(recovered, cell).hard_state.promised.map(|b| b.round)
}

fn vote_rounds(recovered: &Recovered, cell: u64) -> BTreeMap<u64, u32> {
    image(recovered, cell)
        .votes
        .iter()
        .map(|(slot, vote)| (slot.0, vote.ballot.round))
        .collect()
}

/// A new storage holds no cell and cuts nothing off.
pub fn an_empty_storage_recovers_nothing<S: Subject>(mut subject: S) {
    assert_eq!(recover(&mut subject), Recovered::default());
    assert_eq!(restart(&mut subject), Recovered::default());
}

/// What one synced batch holds is recovered exactly.
pub fn a_synced_batch_is_recovered<S: Subject>(mut subject: S) {
    recover(&mut subject);
    commit(
        &mut subject,
        &[
            create(7),
            promise(7, 3),
            vote(7, 1, 3, "x"),
            vote(7, 2, 3, "y"),
            decided(7, 1, "x"),
        ],
    );
    let recovered = restart(&mut subject);
    assert!(recovered.corrupt.is_empty(), "{recovered:?}");
    let cell = image(&recovered, 7);
    assert_eq!(cell.members, vec![NodeId(1), NodeId(2), NodeId(3)]);
    assert_eq!(promised_round(&recovered, 7), Some(3));
    assert_eq!(vote_rounds(&recovered, 7), BTreeMap::from([(1, 3), (2, 3)]));
    assert_eq!(cell.durable().decided, vec![entry("x")]);
    assert_eq!(cell.snapshot_slot, Slot(0));
}

/// The latest hard state, and the latest vote in each slot, win, within a batch and across
/// batches.
pub fn later_writes_replace_earlier_ones<S: Subject>(mut subject: S) {
    recover(&mut subject);
    commit(
        &mut subject,
        &[create(1), promise(1, 1), vote(1, 1, 1, "a")],
    );
    commit(
        &mut subject,
        &[promise(1, 2), vote(1, 1, 2, "b"), promise(1, 4)],
    );
    let recovered = restart(&mut subject);
    assert_eq!(promised_round(&recovered, 1), Some(4));
    let votes = &image(&recovered, 1).votes;
    assert_eq!(votes.len(), 1);
    assert_eq!(votes[&Slot(1)].entry, entry("b"));
}

/// A batch appended but not synced when the node crashes is recovered whole or not at all.
pub fn an_unsynced_batch_is_recovered_whole_or_not_at_all<S: Subject>(mut subject: S) {
    recover(&mut subject);
    commit(&mut subject, &[create(1), promise(1, 1)]);
    if let Err(e) = subject
        .storage()
        .append(&[promise(1, 2), vote(1, 1, 2, "a"), create(2)])
    {
        panic!("append failed: {e}");
    }
    let recovered = restart(&mut subject);
    assert!(recovered.corrupt.is_empty(), "{recovered:?}");
    match promised_round(&recovered, 1) {
        Some(1) => {
            assert!(image(&recovered, 1).votes.is_empty());
            assert!(!recovered.cells.contains_key(&CellId(2)));
        }
        Some(2) => {
            assert_eq!(vote_rounds(&recovered, 1), BTreeMap::from([(1, 2)]));
            assert!(recovered.cells.contains_key(&CellId(2)));
        }
        other => panic!("recovered a promise of round {other:?}, neither batch's"),
    }
}

/// A snapshot replaces the one before, and the votes and decided entries it covers go; those
/// above it stay.
pub fn a_snapshot_compacts_what_it_covers<S: Subject>(mut subject: S) {
    recover(&mut subject);
    let mut batch = vec![create(3)];
    batch.extend((1..=5).map(|slot| vote(3, slot, 1, "v")));
    batch.extend((1..=4).map(|slot| decided(3, slot, "v")));
    commit(&mut subject, &batch);
    let snapshot = |last_slot: u64, state: &[u8]| Write::Snapshot {
        cell: CellId(3),
        last_slot: Slot(last_slot),
        state: Arc::from(state),
    };
    commit(&mut subject, &[snapshot(2, b"two")]);
    commit(&mut subject, &[snapshot(3, b"three"), vote(3, 6, 1, "w")]);
    let recovered = restart(&mut subject);
    let cell = image(&recovered, 3);
    assert_eq!(cell.snapshot_slot, Slot(3));
    assert_eq!(cell.snapshot_state.as_deref(), Some(&b"three"[..]));
    assert_eq!(
        vote_rounds(&recovered, 3),
        BTreeMap::from([(4, 1), (5, 1), (6, 1)])
    );
    let durable = cell.durable();
    assert_eq!(durable.snapshot_slot, Slot(3));
    assert_eq!(durable.decided, vec![entry("v")], "slot 4 only");
}

/// The decided log a replica restarts from runs from the slot after the snapshot to the first
/// slot missing.
pub fn the_decided_log_stops_at_its_first_gap<S: Subject>(mut subject: S) {
    recover(&mut subject);
    commit(
        &mut subject,
        &[
            create(4),
            decided(4, 1, "a"),
            decided(4, 2, "b"),
            decided(4, 4, "d"),
        ],
    );
    let recovered = restart(&mut subject);
    assert_eq!(
        image(&recovered, 4).durable().decided,
        vec![entry("a"), entry("b")]
    );
}

/// After each recovery, new batches follow what was recovered, and all of them come back.
pub fn writes_continue_after_each_recovery<S: Subject>(mut subject: S) {
    recover(&mut subject);
    commit(&mut subject, &[create(5)]);
    for round in 1..=5 {
        let recovered = restart(&mut subject);
        assert_eq!(
            promised_round(&recovered, 5),
            (round > 1).then_some(round - 1)
        );
        commit(
            &mut subject,
            &[promise(5, round), vote(5, u64::from(round), round, "c")],
        );
    }
    let recovered = restart(&mut subject);
    assert_eq!(promised_round(&recovered, 5), Some(5));
    assert_eq!(image(&recovered, 5).votes.len(), 5);
}

/// A batch holding a write that cannot be kept is refused whole, naming the write, and the
/// storage goes on.
pub fn a_bad_batch_is_refused_whole<S: Subject>(mut subject: S) {
    recover(&mut subject);
    commit(&mut subject, &[create(1)]);
    let reserved = Write::Cell {
        cell: CellId::RESERVED,
        members: vec![NodeId(1)],
    };
    let too_many = Write::Cell {
        cell: CellId(2),
        members: (1..=8).map(NodeId).collect(),
    };
    for bad in [reserved, too_many] {
        match subject.storage().append(&[promise(1, 9), bad.clone()]) {
            Err(StorageError::BadWrite { index: 1, .. }) => {}
            other => panic!("a batch holding {bad:?} was not refused at write 1: {other:?}"),
        }
    }
    commit(&mut subject, &[promise(1, 2)]);
    let recovered = restart(&mut subject);
    assert_eq!(promised_round(&recovered, 1), Some(2));
    assert!(!recovered.cells.contains_key(&CellId(2)));
}

/// Writes of a cell whose creation the storage never saw are reported, not dropped.
pub fn a_write_without_its_cell_is_reported<S: Subject>(mut subject: S) {
    recover(&mut subject);
    commit(&mut subject, &[create(1), vote(9, 1, 1, "lost?")]);
    let recovered = restart(&mut subject);
    assert!(recovered.cells.contains_key(&CellId(1)));
    assert_eq!(
        recovered.corrupt.get(&CellId(9)),
        Some(&Corruption::Orphan { cell: CellId(9) })
    );
}

/// Many cells written in interleaved batches, with restarts between them, each keep exactly
/// their latest hard state and latest vote per slot. The expected state is kept here by plain
/// maps, apart from the storage's own folding.
pub fn many_cells_across_restarts_keep_their_latest_writes<S: Subject>(mut subject: S) {
    const CELLS: u64 = 64;
    const BATCHES: u64 = 120;
    recover(&mut subject);
    let mut promised: BTreeMap<u64, u32> = BTreeMap::new();
    let mut votes: BTreeMap<u64, BTreeMap<u64, u32>> = BTreeMap::new();
    commit(&mut subject, &(0..CELLS).map(create).collect::<Vec<_>>());
    for batch_number in 0..BATCHES {
        let mut batch = Vec::new();
        for i in 0..16 {
            // A spread of cells, slots and rounds that revisits each often.
            let cell = (batch_number * 7 + i * 13) % CELLS;
            let round = u32::try_from(batch_number * 16 + i).unwrap_or(u32::MAX);
            let slot = (batch_number + i) % 5 + 1;
            batch.push(promise(cell, round));
            batch.push(vote(cell, slot, round, &"p".repeat((i as usize) * 40)));
            promised.insert(cell, round);
            votes.entry(cell).or_default().insert(slot, round);
        }
        commit(&mut subject, &batch);
        if batch_number % 25 == 24 {
            let recovered = restart(&mut subject);
            check_latest(&recovered, &promised, &votes);
        }
    }
    let recovered = restart(&mut subject);
    assert_eq!(recovered.cells.len() as u64, CELLS);
    check_latest(&recovered, &promised, &votes);
}

fn check_latest(
    recovered: &Recovered,
    promised: &BTreeMap<u64, u32>,
    votes: &BTreeMap<u64, BTreeMap<u64, u32>>,
) {
    assert!(recovered.corrupt.is_empty(), "{:?}", recovered.corrupt);
    for (&cell, &round) in promised {
        assert_eq!(promised_round(recovered, cell), Some(round), "cell {cell}");
        assert_eq!(&vote_rounds(recovered, cell), &votes[&cell], "cell {cell}");
    }
}
